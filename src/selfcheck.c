/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * selfcheck.c: the parent's check, at start and every "tproxy check"
 * period, that traffic to the range would reach the proxy, whoever made
 * the plumbing.  It wants three things:
 *
 *  - a TPROXY rule for TCP and one for UDP to the whole range, to the
 *    proxy's address and port, in a chain hooked at prerouting (ip or
 *    inet) or one jumped to from there; read from nftables' ruleset as
 *    JSON (libnftables), which shows iptables-nft's rules too, though
 *    their TPROXY target without its address and port: such a rule is
 *    taken as it is.  Rules of iptables-legacy are not seen at all, and
 *    the order of rules, or a verdict before a TPROXY rule, is not
 *    weighed;
 *  - an ip rule that sends packets to the range there: "to PREFIX", or
 *    "fwmark" for the mark of "tproxy mark", or the built-in "lookup
 *    local";
 *  - local routes covering the range in the table that rule looks up
 *    (the main and default tables are not read: they can be large).
 *
 * What is missing is logged once when it goes missing and once more when
 * it is back, and dns44ctl show status reports it.  The ruleset is the
 * kernel's word but read as untrusted: bounded in size and depth, every
 * value's type checked, anything not understood skipped.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nftables/libnftables.h>

#include "log.h"
#include "proc.h"
#include "plumb.h"

#define SC_RULESET_MAX		(16 * 1024 * 1024)	/* bytes of JSON */
#define SC_MAX_CHAINS		4096
#define SC_MAX_JUMPS		8192
#define SC_MAX_IVALS		64	/* pieces of a covered set */
#define SC_MAX_TABLES		16	/* routing tables looked into */
#define SC_TEXT_MAX		384

/* A set of addresses as sorted, disjoint intervals, host order. */
struct sc_set {
	int		n;
	int		over;		/* did not fit: taken as not covered */
	uint32_t	lo[SC_MAX_IVALS];
	uint32_t	hi[SC_MAX_IVALS];
};

struct sc_chain {
	char		family[8];
	char		table[64];
	char		name[64];
	int		base;		/* hooked at prerouting */
	int		reach;
};

struct sc_jump {
	int		from;
	int		to;
};

/* What the nftables ruleset holds for one protocol. */
struct sc_proto {
	struct sc_set	good;		/* TPROXY to the proxy */
	struct sc_set	xt;		/* iptables' TPROXY, target unknown */
	char		wrong[64];	/* a TPROXY elsewhere, as addr:port */
};

static struct event	 sc_ev;
static struct nft_ctx	*sc_nft;
static int		 sc_state = -1;	/* -1: unchecked, 0: bad, 1: good */
static char		 sc_text[SC_TEXT_MAX];
static int64_t		 sc_when;
static struct sc_chain	*sc_chains;
static int		 sc_nchains;
static struct sc_jump	*sc_jumps;
static int		 sc_njumps;

static void	sc_add(struct sc_set *, uint32_t, uint32_t);
static int	sc_covers(const struct sc_set *, uint32_t, uint32_t);
static const char *sc_str(json_t *, const char *);
static int	sc_addr(const char *, uint32_t *);
static int	sc_chain_find(const char *, const char *, const char *);
static int	sc_daddr(json_t *, struct sc_set *);
static int	sc_l4proto(json_t *, int *);
static void	sc_rule(json_t *, struct sc_proto *, uint32_t *);
static void	sc_nft_msg(char *, size_t, const char *, int, const char *,
		    const char *);
static int	sc_nft_check(char *, size_t, uint32_t *);
static int	sc_route_check(uint32_t, char *, size_t);
static void	sc_route_lookup(uint32_t, char *, size_t);
static void	sc_timer(int, short, void *);
static void	sc_schedule(void);

/* Add [lo, hi] to a set, merging what touches. */
static void
sc_add(struct sc_set *s, uint32_t lo, uint32_t hi)
{
	int	i, j;

	for (i = 0; i < s->n; i++) {
		if ((uint64_t)hi + 1 < s->lo[i] ||
		    (uint64_t)lo > (uint64_t)s->hi[i] + 1)
			continue;
		/* Overlaps or touches: take it out, grow, add again. */
		if (s->lo[i] < lo)
			lo = s->lo[i];
		if (s->hi[i] > hi)
			hi = s->hi[i];
		for (j = i; j < s->n - 1; j++) {
			s->lo[j] = s->lo[j + 1];
			s->hi[j] = s->hi[j + 1];
		}
		s->n--;
		sc_add(s, lo, hi);
		return;
	}
	if (s->n == SC_MAX_IVALS) {
		s->over = 1;
		return;
	}
	s->lo[s->n] = lo;
	s->hi[s->n] = hi;
	s->n++;
}

/* Merged as they are, one interval holds all of [lo, hi] or none does. */
static int
sc_covers(const struct sc_set *s, uint32_t lo, uint32_t hi)
{
	int	i;

	for (i = 0; i < s->n; i++)
		if (s->lo[i] <= lo && s->hi[i] >= hi)
			return (1);
	return (0);
}

static const char *
sc_str(json_t *o, const char *key)
{
	json_t	*v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL ||
	    !json_is_string(v))
		return (NULL);
	return (json_string_value(v));
}

static int
sc_addr(const char *s, uint32_t *a)
{
	struct in_addr	in;

	if (s == NULL || inet_pton(AF_INET, s, &in) != 1)
		return (-1);
	*a = ntohl(in.s_addr);
	return (0);
}

static int
sc_chain_find(const char *family, const char *table, const char *name)
{
	int	i;

	for (i = 0; i < sc_nchains; i++)
		if (strcmp(sc_chains[i].family, family) == 0 &&
		    strcmp(sc_chains[i].table, table) == 0 &&
		    strcmp(sc_chains[i].name, name) == 0)
			return (i);
	return (-1);
}

/* One element of "ip daddr" into set: 0, or -1 if not understood. */
static int
sc_daddr_one(json_t *v, struct sc_set *set)
{
	json_t		*p, *lo, *hi, *len;
	uint32_t	 a, b, mask;
	json_int_t	 l;

	if (json_is_string(v)) {
		if (sc_addr(json_string_value(v), &a) == -1)
			return (-1);
		sc_add(set, a, a);
		return (0);
	}
	if ((p = json_object_get(v, "prefix")) != NULL) {
		len = json_object_get(p, "len");
		if (sc_addr(sc_str(p, "addr"), &a) == -1 ||
		    !json_is_integer(len))
			return (-1);
		l = json_integer_value(len);
		if (l < 0 || l > 32)
			return (-1);
		mask = l == 0 ? 0 : 0xffffffffU << (32 - l);
		sc_add(set, a & mask, (a & mask) | ~mask);
		return (0);
	}
	if ((p = json_object_get(v, "range")) != NULL) {
		if (!json_is_array(p) || json_array_size(p) != 2)
			return (-1);
		lo = json_array_get(p, 0);
		hi = json_array_get(p, 1);
		if (!json_is_string(lo) || !json_is_string(hi) ||
		    sc_addr(json_string_value(lo), &a) == -1 ||
		    sc_addr(json_string_value(hi), &b) == -1 || a > b)
			return (-1);
		sc_add(set, a, b);
		return (0);
	}
	return (-1);
}

/*
 * The right side of a match on "ip daddr": an address, a prefix, a
 * range, or an anonymous set of them.  0, or -1 if not understood.
 */
static int
sc_daddr(json_t *right, struct sc_set *set)
{
	json_t	*s, *e;
	size_t	 i;

	if ((s = json_object_get(right, "set")) == NULL)
		return (sc_daddr_one(right, set));
	if (!json_is_array(s))
		return (-1);
	json_array_foreach(s, i, e)
		if (sc_daddr_one(e, set) == -1)
			return (-1);
	return (0);
}

/* A protocol by name or number into a mask: 1 TCP, 2 UDP. */
static int
sc_proto_bit(json_t *v)
{
	const char	*s;

	if (json_is_integer(v))
		return (json_integer_value(v) == IPPROTO_TCP ? 1 :
		    json_integer_value(v) == IPPROTO_UDP ? 2 : 0);
	if (!json_is_string(v))
		return (-1);
	s = json_string_value(v);
	return (strcmp(s, "tcp") == 0 ? 1 : strcmp(s, "udp") == 0 ? 2 : 0);
}

/* "meta l4proto" or "ip protocol": the protocols it lets through. */
static int
sc_l4proto(json_t *right, int *mask)
{
	json_t	*s, *e;
	size_t	 i;
	int	 b;

	*mask = 0;
	if ((s = json_object_get(right, "set")) != NULL) {
		if (!json_is_array(s))
			return (-1);
		json_array_foreach(s, i, e) {
			if ((b = sc_proto_bit(e)) == -1)
				return (-1);
			*mask |= b;
		}
		return (0);
	}
	if ((b = sc_proto_bit(right)) == -1)
		return (-1);
	*mask = b;
	return (0);
}

/*
 * One rule of a chain reached from prerouting.  Its matches on the
 * destination and the protocol are read, the rest taken as they come;
 * a negated or unknown form of those two makes the rule count for
 * nothing.  The mark a TPROXY rule of the range sets goes to *mark.
 */
static void
sc_rule(json_t *rule, struct sc_proto *pr, uint32_t *mark)
{
	struct sc_set	 dst;
	json_t		*exprs, *e, *m, *left, *right, *t, *v;
	const char	*op, *field, *s;
	size_t		 i;
	uint32_t	 a, want, setmark = 0;
	int		 protos = 3, have_dst = 0, target = 0, p, marks = 0;
	json_int_t	 port = -1;
	char		 wrong[64] = "";

	if ((exprs = json_object_get(rule, "expr")) == NULL ||
	    !json_is_array(exprs))
		return;
	memset(&dst, 0, sizeof(dst));
	json_array_foreach(exprs, i, e) {
		if ((m = json_object_get(e, "match")) != NULL) {
			left = json_object_get(m, "left");
			right = json_object_get(m, "right");
			op = sc_str(m, "op");
			if (left == NULL || right == NULL)
				return;
			if ((t = json_object_get(left, "payload")) != NULL &&
			    (s = sc_str(t, "protocol")) != NULL &&
			    strcmp(s, "ip") == 0 &&
			    (field = sc_str(t, "field")) != NULL) {
				if (strcmp(field, "daddr") == 0) {
					if ((op != NULL && strcmp(op, "==") !=
					    0 && strcmp(op, "in") != 0) ||
					    have_dst ||
					    sc_daddr(right, &dst) == -1)
						return;
					have_dst = 1;
				} else if (strcmp(field, "protocol") == 0) {
					if ((op != NULL && strcmp(op, "==") !=
					    0 && strcmp(op, "in") != 0) ||
					    sc_l4proto(right, &p) == -1)
						return;
					protos &= p;
				}
			} else if ((t = json_object_get(left, "meta")) !=
			    NULL && (s = sc_str(t, "key")) != NULL &&
			    strcmp(s, "l4proto") == 0) {
				if ((op != NULL && strcmp(op, "==") != 0 &&
				    strcmp(op, "in") != 0) ||
				    sc_l4proto(right, &p) == -1)
					return;
				protos &= p;
			}
		} else if ((t = json_object_get(e, "tproxy")) != NULL) {
			if ((s = sc_str(t, "family")) != NULL &&
			    strcmp(s, "ip") != 0)
				return;
			/*
			 * Port and address may be left out; either of
			 * another type makes the rule count for nothing.
			 */
			v = json_object_get(t, "port");
			if (v != NULL && !json_is_integer(v))
				return;
			port = v != NULL ? json_integer_value(v) : -1;
			a = 0;
			s = NULL;
			if ((v = json_object_get(t, "addr")) != NULL &&
			    ((s = json_string_value(v)) == NULL ||
			    sc_addr(s, &a) == -1))
				return;
			want = ntohl(conf->proxy_listen.sin_addr.s_addr);
			if (port == ntohs(conf->proxy_listen.sin_port) &&
			    (want == INADDR_ANY || a == want))
				target = 1;
			else
				snprintf(wrong, sizeof(wrong), "%s:%lld",
				    s != NULL ? s : "", (long long)port);
		} else if ((t = json_object_get(e, "xt")) != NULL) {
			if ((s = sc_str(t, "name")) != NULL &&
			    strcmp(s, "TPROXY") == 0)
				target = 2;
		} else if ((t = json_object_get(e, "mangle")) != NULL) {
			if ((m = json_object_get(t, "key")) != NULL &&
			    (m = json_object_get(m, "meta")) != NULL &&
			    (s = sc_str(m, "key")) != NULL &&
			    strcmp(s, "mark") == 0 &&
			    json_is_integer(v = json_object_get(t, "value"))) {
				setmark = (uint32_t)json_integer_value(v);
				marks = 1;
			}
		}
	}
	if (!have_dst)
		sc_add(&dst, 0, UINT32_MAX);
	if (!sc_covers(&dst, conf->range_first, conf->range_first) &&
	    !sc_covers(&dst, conf->range_last, conf->range_last))
		return;		/* nothing to do with the range */
	/* The mark of a TPROXY rule of the range, for the ip rule. */
	if (target != 0 && marks)
		*mark = setmark;
	for (p = 0; p < 2; p++) {
		if (!(protos & (1 << p)))
			continue;
		if (target == 0 && wrong[0] != '\0') {
			strlcpy(pr[p].wrong, wrong, sizeof(pr[p].wrong));
			continue;
		}
		if (target == 0)
			continue;
		for (i = 0; i < (size_t)dst.n; i++)
			sc_add(target == 1 ? &pr[p].good : &pr[p].xt,
			    dst.lo[i], dst.hi[i]);
	}
}

/* What is wrong with the TPROXY rules of one or both protocols. */
static void
sc_nft_msg(char *text, size_t len, const char *proto, int kind,
    const char *wrong, const char *want)
{
	switch (kind) {
	case 1:
		snprintf(text, len, "the nftables TPROXY rule for %s to the "
		    "range goes to %s, not %s", proto, wrong, want);
		break;
	case 2:
		snprintf(text, len, "the nftables TPROXY rule for %s to %s "
		    "covers only part of the range", proto, want);
		break;
	case 3:
		snprintf(text, len, "no nftables TPROXY rule for %s to the "
		    "range to %s", proto, want);
		break;
	}
}

/*
 * The nftables part: 0 and nothing in text when TPROXY for both
 * protocols is there, else what is missing.  The mark a TPROXY rule of
 * the range sets goes to *mark.  -1 when the ruleset cannot be read.
 */
static int
sc_nft_check(char *text, size_t len, uint32_t *mark)
{
	const char	*out;

	if (nft_run_cmd_from_buffer(sc_nft, "list ruleset") != 0 ||
	    (out = nft_ctx_get_output_buffer(sc_nft)) == NULL) {
		snprintf(text, len, "nftables ruleset unreadable");
		return (-1);
	}
	return (selfcheck_nft(out, strnlen(out, SC_RULESET_MAX + 1), text,
	    len, mark));
}

/*
 * sc_nft_check() of a ruleset as "nft -j list ruleset" writes it: outlen
 * bytes at out.
 */
int
selfcheck_nft(const char *out, size_t outlen, char *text, size_t len,
    uint32_t *mark)
{
	static const char	*pname[2] = { "TCP", "UDP" };
	struct sc_proto		 pr[2];
	json_error_t		 jerr;
	json_t			*root, *list, *item, *o, *t, *exprs, *e;
	const char		*fam, *tab, *name, *s;
	size_t			 i, k;
	int			 p, from, to, changed, n;
	char			 want[40], a[INET_ADDRSTRLEN];
	int			 kind[2];

	text[0] = '\0';
	if (sc_chains == NULL)
		sc_chains = calloc(SC_MAX_CHAINS, sizeof(*sc_chains));
	if (sc_jumps == NULL)
		sc_jumps = calloc(SC_MAX_JUMPS, sizeof(*sc_jumps));
	if (sc_chains == NULL || sc_jumps == NULL) {
		snprintf(text, len, "out of memory");
		return (-1);
	}
	if (outlen > SC_RULESET_MAX) {
		snprintf(text, len, "nftables ruleset too large to check");
		return (-1);
	}
	if ((root = json_loadb(out, outlen, 0, &jerr)) == NULL) {
		snprintf(text, len, "nftables ruleset unreadable: %s",
		    jerr.text);
		return (-1);
	}
	list = json_object_get(root, "nftables");
	if (!json_is_array(list)) {
		json_decref(root);
		snprintf(text, len, "nftables ruleset unreadable");
		return (-1);
	}

	/* The chains, and which of them hook prerouting. */
	sc_nchains = sc_njumps = 0;
	json_array_foreach(list, i, item) {
		if ((o = json_object_get(item, "chain")) == NULL)
			continue;
		fam = sc_str(o, "family");
		tab = sc_str(o, "table");
		name = sc_str(o, "name");
		if (fam == NULL || tab == NULL || name == NULL ||
		    (strcmp(fam, "ip") != 0 && strcmp(fam, "inet") != 0) ||
		    sc_nchains == SC_MAX_CHAINS)
			continue;
		memset(&sc_chains[sc_nchains], 0, sizeof(sc_chains[0]));
		strlcpy(sc_chains[sc_nchains].family, fam,
		    sizeof(sc_chains[0].family));
		strlcpy(sc_chains[sc_nchains].table, tab,
		    sizeof(sc_chains[0].table));
		strlcpy(sc_chains[sc_nchains].name, name,
		    sizeof(sc_chains[0].name));
		s = sc_str(o, "hook");
		sc_chains[sc_nchains].base = sc_chains[sc_nchains].reach =
		    s != NULL && strcmp(s, "prerouting") == 0;
		sc_nchains++;
	}
	/* The jumps and gotos between them. */
	json_array_foreach(list, i, item) {
		if ((o = json_object_get(item, "rule")) == NULL ||
		    (fam = sc_str(o, "family")) == NULL ||
		    (tab = sc_str(o, "table")) == NULL ||
		    (name = sc_str(o, "chain")) == NULL ||
		    (from = sc_chain_find(fam, tab, name)) == -1 ||
		    (exprs = json_object_get(o, "expr")) == NULL ||
		    !json_is_array(exprs))
			continue;
		json_array_foreach(exprs, k, e) {
			if ((t = json_object_get(e, "jump")) == NULL &&
			    (t = json_object_get(e, "goto")) == NULL)
				continue;
			if ((s = sc_str(t, "target")) == NULL ||
			    (to = sc_chain_find(fam, tab, s)) == -1 ||
			    sc_njumps == SC_MAX_JUMPS)
				continue;
			sc_jumps[sc_njumps].from = from;
			sc_jumps[sc_njumps].to = to;
			sc_njumps++;
		}
	}
	do {
		changed = 0;
		for (n = 0; n < sc_njumps; n++)
			if (sc_chains[sc_jumps[n].from].reach &&
			    !sc_chains[sc_jumps[n].to].reach)
				changed = sc_chains[sc_jumps[n].to].reach = 1;
	} while (changed);

	memset(pr, 0, sizeof(pr));
	json_array_foreach(list, i, item) {
		if ((o = json_object_get(item, "rule")) == NULL ||
		    (fam = sc_str(o, "family")) == NULL ||
		    (tab = sc_str(o, "table")) == NULL ||
		    (name = sc_str(o, "chain")) == NULL ||
		    (from = sc_chain_find(fam, tab, name)) == -1 ||
		    !sc_chains[from].reach)
			continue;
		sc_rule(o, pr, mark);
	}
	json_decref(root);

	if (conf->proxy_listen.sin_addr.s_addr == htonl(INADDR_ANY))
		snprintf(want, sizeof(want), "port %u",
		    ntohs(conf->proxy_listen.sin_port));
	else
		snprintf(want, sizeof(want), "%s:%u",
		    inet_ntop(AF_INET, &conf->proxy_listen.sin_addr, a,
		    sizeof(a)), ntohs(conf->proxy_listen.sin_port));
	for (p = 0; p < 2; p++)
		kind[p] = sc_covers(&pr[p].good, conf->range_first,
		    conf->range_last) || sc_covers(&pr[p].xt,
		    conf->range_first, conf->range_last) ? 0 :
		    pr[p].wrong[0] != '\0' ? 1 :
		    pr[p].good.n > 0 || pr[p].xt.n > 0 ? 2 : 3;
	/* Both protocols alike: one sentence. */
	if (kind[0] == kind[1] && strcmp(pr[0].wrong, pr[1].wrong) == 0)
		sc_nft_msg(text, len, "TCP and UDP", kind[0], pr[0].wrong,
		    want);
	else
		for (p = 0; p < 2; p++) {
			if (kind[p] == 0)
				continue;
			if (text[0] != '\0')
				strlcat(text, "; ", len);
			n = strlen(text);
			sc_nft_msg(text + n, len - n, pname[p], kind[p],
			    pr[p].wrong, want);
		}
	return (0);
}

/*
 * What the kernel's own lookup makes of packets to the range's first,
 * middle and last address: a rule earlier than the one that covers the
 * range (a prohibit, a table with a route for the range) or a more
 * specific route in that rule's table takes them elsewhere, which the
 * reading of the rules and routes above does not weigh.
 */
static void
sc_route_lookup(uint32_t mark, char *text, size_t len)
{
	uint32_t	 a[3];
	char		 buf[INET_ADDRSTRLEN];
	struct in_addr	 in;
	int		 i, type, error;

	a[0] = conf->range_first;
	a[1] = conf->range_first + (conf->range_last - conf->range_first) / 2;
	a[2] = conf->range_last;
	for (i = 0; i < 3; i++) {
		if ((type = plumb_nl_route_get(a[i], mark)) == RTN_LOCAL)
			continue;
		error = errno;
		if (type == -1 && error == EACCES)
			type = RTN_PROHIBIT;
		else if (type == -1 && error == EINVAL)
			type = RTN_BLACKHOLE;
		else if (type == -1 && (error == ENETUNREACH ||
		    error == EHOSTUNREACH))
			type = RTN_UNREACHABLE;
		in.s_addr = htonl(a[i]);
		inet_ntop(AF_INET, &in, buf, sizeof(buf));
		if (type == -1)
			snprintf(text, len, "the kernel's route lookup for %s "
			    "(mark 0x%x) failed: %s", buf, mark,
			    strerror(error));
		else
			snprintf(text, len, "the kernel sends packets to %s "
			    "(mark 0x%x) to a%s route, not a local one: an "
			    "earlier ip rule or a longer prefix", buf, mark,
			    type == RTN_UNICAST ? " unicast" :
			    type == RTN_PROHIBIT ? " prohibit" :
			    type == RTN_BLACKHOLE ? " blackhole" :
			    type == RTN_UNREACHABLE ? "n unreachable or no" :
			    "nother");
		return;
	}
}

/*
 * The routing part: an ip rule that sends packets to the range, or
 * marked with mark, to a table with local routes for them.
 */
static int
sc_route_check(uint32_t mark, char *text, size_t len)
{
	struct plumb_rule	*rules;
	struct plumb_route	*routes;
	struct sc_set		 covered, local;
	uint32_t		 tables[SC_MAX_TABLES], lo, hi, l, h, mask;
	uint32_t		 want;
	int			 i, j, k, n, nr, ntables = 0, ours = 0;

	text[0] = '\0';
	if ((rules = calloc(PLUMB_MAX_RULES, sizeof(*rules))) == NULL ||
	    (routes = calloc(PLUMB_MAX_ROUTES, sizeof(*routes))) == NULL) {
		free(rules);
		snprintf(text, len, "out of memory");
		return (-1);
	}
	if ((n = plumb_nl_rules(rules, PLUMB_MAX_RULES)) == -1) {
		snprintf(text, len, "ip rules unreadable: %s",
		    strerror(errno));
		goto done;
	}
	memset(&covered, 0, sizeof(covered));
	for (i = 0; i < n; i++) {
		if (rules[i].action != FR_ACT_TO_TBL || rules[i].other ||
		    rules[i].table == RT_TABLE_MAIN ||
		    rules[i].table == RT_TABLE_DEFAULT)
			continue;
		if (rules[i].has_mark &&
		    (mark & rules[i].mask) != (rules[i].mark & rules[i].mask))
			continue;
		/* What the rule selects of the range. */
		mask = rules[i].dst_len == 0 ? 0 :
		    0xffffffffU << (32 - rules[i].dst_len);
		lo = rules[i].dst & mask;
		hi = lo | ~mask;
		if (hi < conf->range_first || lo > conf->range_last)
			continue;
		if (lo < conf->range_first)
			lo = conf->range_first;
		if (hi > conf->range_last)
			hi = conf->range_last;
		if (rules[i].table != RT_TABLE_LOCAL)
			ours = 1;
		/* Its table's local routes, read once a check. */
		for (k = 0; k < ntables; k++)
			if (tables[k] == rules[i].table)
				break;
		if (k == ntables && ntables == SC_MAX_TABLES)
			continue;
		tables[ntables == k ? ntables++ : k] = rules[i].table;
		if ((nr = plumb_nl_routes(rules[i].table, routes,
		    PLUMB_MAX_ROUTES)) == -1)
			continue;
		memset(&local, 0, sizeof(local));
		for (j = 0; j < nr; j++) {
			if (routes[j].type != RTN_LOCAL)
				continue;
			mask = routes[j].dst_len == 0 ? 0 :
			    0xffffffffU << (32 - routes[j].dst_len);
			sc_add(&local, routes[j].dst & mask,
			    (routes[j].dst & mask) | ~mask);
		}
		/* What both the rule and the routes select. */
		for (j = 0; j < local.n; j++) {
			l = local.lo[j] > lo ? local.lo[j] : lo;
			h = local.hi[j] < hi ? local.hi[j] : hi;
			if (l <= h)
				sc_add(&covered, l, h);
		}
	}
	if (sc_covers(&covered, conf->range_first, conf->range_last)) {
		sc_route_lookup(mark, text, len);
		goto done;
	}
	want = conf->tproxy_table;
	if (covered.n > 0)
		snprintf(text, len, "the local routes for the range cover "
		    "only part of it");
	else if (ours) {
		for (i = 0; i < n; i++)
			if (rules[i].table != RT_TABLE_LOCAL &&
			    rules[i].table != RT_TABLE_MAIN &&
			    rules[i].table != RT_TABLE_DEFAULT &&
			    rules[i].action == FR_ACT_TO_TBL &&
			    !rules[i].other)
				want = rules[i].table;
		snprintf(text, len, "no local route for the range in routing "
		    "table %u", want);
	} else
		snprintf(text, len, "no ip rule sends the range (or mark "
		    "0x%x) to a table with a local route for it", mark);
 done:
	free(rules);
	free(routes);
	return (0);
}

/* Check now; log what changed. */
void
selfcheck_run(void)
{
	char		nft[SC_TEXT_MAX], route[SC_TEXT_MAX], text[SC_TEXT_MAX];
	uint32_t	mark = conf->tproxy_mark;
	int		state;

	sc_nft_check(nft, sizeof(nft), &mark);
	sc_route_check(mark, route, sizeof(route));
	text[0] = '\0';
	if (nft[0] != '\0')
		strlcpy(text, nft, sizeof(text));
	if (route[0] != '\0') {
		if (text[0] != '\0')
			strlcat(text, "; ", sizeof(text));
		strlcat(text, route, sizeof(text));
	}
	state = text[0] == '\0';
	sc_when = time(NULL);
	if (state == sc_state && strcmp(text, sc_text) == 0)
		return;
	if (!state)
		log_warnx("tproxy check: %s; traffic to the range may not "
		    "reach the proxy", text);
	else if (sc_state == 0)
		log_info("tproxy check: fixed, traffic to the range reaches "
		    "the proxy again");
	else
		log_debug("tproxy check: traffic to the range reaches the "
		    "proxy");
	sc_state = state;
	strlcpy(sc_text, text, sizeof(sc_text));
}

static void
sc_schedule(void)
{
	struct timeval	tv;

	evtimer_del(&sc_ev);
	if (conf->tproxy_check_ms == 0)
		return;
	tv.tv_sec = conf->tproxy_check_ms / 1000;
	tv.tv_usec = (conf->tproxy_check_ms % 1000) * 1000;
	evtimer_add(&sc_ev, &tv);
}

static void
sc_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	selfcheck_run();
	sc_schedule();
}

/* The first check, and the timer for the next ones. */
void
selfcheck_init(void)
{
	evtimer_set(&sc_ev, sc_timer, NULL);
	if (conf->tproxy_check_ms == 0)
		return;
	if ((sc_nft = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		fatalx("tproxy check: nft_ctx_new failed");
	/* JSON, set elements left out: they can be many. */
	nft_ctx_output_set_flags(sc_nft, NFT_CTX_OUTPUT_JSON |
	    NFT_CTX_OUTPUT_TERSE);
	if (nft_ctx_buffer_output(sc_nft) == -1 ||
	    nft_ctx_buffer_error(sc_nft) == -1)
		fatalx("tproxy check: cannot buffer nft's output");
	selfcheck_run();
	sc_schedule();
}

/* A reload may change the period, or turn the check on or off. */
void
selfcheck_reload(void)
{
	if (conf->tproxy_check_ms == 0) {
		evtimer_del(&sc_ev);
		sc_state = -1;
		sc_text[0] = '\0';
		return;
	}
	if (sc_nft == NULL) {
		selfcheck_init();
		return;
	}
	selfcheck_run();
	sc_schedule();
}

/*
 * The last result for dns44ctl: 1 good, 0 bad (text says what is
 * missing), -1 not checked; *when the time of the check.
 */
int
selfcheck_result(char *text, size_t len, int64_t *when)
{
	strlcpy(text, sc_text, len);
	*when = sc_when;
	return (sc_state);
}
