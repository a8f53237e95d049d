/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * prefix.c: tables of IPv4 prefixes with a verdict each.  Rules are added
 * in any order and compiled into sorted disjoint intervals, each holding
 * the rule that wins there: the most specific prefix, at equal length the
 * higher rank (the configuration over what was learnt of the interfaces
 * over the built-in defaults), then the later rule.  A lookup is one
 * binary search.  A table's IPv6 rules, a few dozen at most (the
 * configuration's, the built-in ones, the gateway's addresses), are
 * weighed the same way by a walk of them all.  This file also builds the
 * two tables dns44 uses, the
 * proxy's destinations and the clients of both children, from the
 * configuration and the gateway's addresses; it belongs to no process.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "msg.h"
#include "prefix.h"

struct prefix_table {
	struct prefix_rule	*rules;
	size_t			 nrules;
	size_t			 cap;
	uint32_t		*start;		/* of each interval, sorted */
	int32_t			*win;		/* its rule, or -1 */
	size_t			 nint;
	struct prefix_rule	*rules6;	/* IPv6, in the order added */
	size_t			 nrules6;
	size_t			 cap6;
};

/*
 * Destinations never dialled unless the configuration says otherwise; for
 * IPv6 loopback, unspecified, link-local and multicast.
 */
static const struct {
	const char	*net;
	int		 len;
} prefix_builtin_deny[] = {
	{ "0.0.0.0",		8 },
	{ "127.0.0.0",		8 },
	{ "169.254.0.0",	16 },
	{ "224.0.0.0",		4 },
	{ "240.0.0.0",		4 },
	{ "255.255.255.255",	32 },
	{ "::1",		128 },
	{ "::",			128 },
	{ "fe80::",		10 },
	{ "ff00::",		8 },
};

static uint32_t	prefix_mask(int);
static struct prefix_rule *prefix_rule_new(struct prefix_rule **, size_t *,
		    size_t *, int, int, int, int, const char *);
static int	prefix_match6(const struct in6_addr *, const struct in6_addr *,
		    int);
static int	prefix_cmp_u64(const void *, const void *);
static int	prefix_cmp_rule(const void *, const void *);
static size_t	prefix_find(const uint64_t *, size_t, uint64_t);

static uint32_t
prefix_mask(int len)
{
	return (len == 0 ? 0 : 0xffffffffU << (32 - len));
}

/* The bits of byte i of an IPv6 address that a prefix of len covers. */
uint8_t
prefix_mask6(int len, int i)
{
	if (len >= (i + 1) * 8)
		return (0xff);
	if (len <= i * 8)
		return (0);
	return ((0xff << (8 - len % 8)) & 0xff);
}

struct prefix_table *
prefix_new(void)
{
	return (calloc(1, sizeof(struct prefix_table)));
}

void
prefix_free(struct prefix_table *t)
{
	if (t == NULL)
		return;
	free(t->rules);
	free(t->start);
	free(t->win);
	free(t->rules6);
	free(t);
}

/*
 * One more rule at the end of *rules (*n used, *cap made), its address
 * left for the caller; NULL with errno EINVAL for a length past max, a
 * verdict or a rank that is none.
 */
static struct prefix_rule *
prefix_rule_new(struct prefix_rule **rules, size_t *n, size_t *cap, int max,
    int len, int verdict, int rank, const char *label)
{
	struct prefix_rule	*r;
	size_t			 ncap;

	if (len < 0 || len > max ||
	    (verdict != PREFIX_ALLOW && verdict != PREFIX_DENY) ||
	    rank < PREFIX_BUILTIN || rank > PREFIX_CONF) {
		errno = EINVAL;
		return (NULL);
	}
	if (*n == *cap) {
		ncap = *cap == 0 ? 16 : *cap * 2;
		if ((r = reallocarray(*rules, ncap, sizeof(*r))) == NULL)
			return (NULL);
		*rules = r;
		*cap = ncap;
	}
	r = &(*rules)[*n];
	memset(r, 0, sizeof(*r));
	r->len = len;
	r->verdict = verdict;
	r->rank = rank;
	r->order = (*n)++;
	strlcpy(r->label, label, sizeof(r->label));
	return (r);
}

/*
 * Add addr/len (host order; host bits are cleared) with a verdict, a rank
 * and a label.  The table must be compiled again before the next lookup.
 */
int
prefix_add(struct prefix_table *t, uint32_t addr, int len, int verdict,
    int rank, const char *label)
{
	struct prefix_rule	*r;

	if ((r = prefix_rule_new(&t->rules, &t->nrules, &t->cap, 32, len,
	    verdict, rank, label)) == NULL)
		return (-1);
	r->addr = addr & prefix_mask(len);
	return (0);
}

static int
prefix_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Least specific first, so that the painting below lets the winner last. */
static int
prefix_cmp_rule(const void *a, const void *b)
{
	const struct prefix_rule	*x = a, *y = b;

	if (x->len != y->len)
		return (x->len < y->len ? -1 : 1);
	if (x->rank != y->rank)
		return (x->rank < y->rank ? -1 : 1);
	return (x->order < y->order ? -1 : x->order > y->order);
}

/* The index of v in the sorted, unique array b of n; v is there. */
static size_t
prefix_find(const uint64_t *b, size_t n, uint64_t v)
{
	size_t	lo = 0, hi = n, mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (b[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return (lo);
}

/*
 * Cut the address space at every rule's first address and at the one
 * after its last, give each piece the rule that wins over it, and merge
 * neighbours with the same winner.  O(n log n + n * pieces); n is a few
 * hundred at most.
 */
int
prefix_compile(struct prefix_table *t)
{
	uint64_t		*b;
	uint32_t		*start;
	int32_t			*win;
	uint64_t		 first, end;
	size_t			 nb = 0, i, j, k;

	if ((b = reallocarray(NULL, 2 * t->nrules + 1, sizeof(*b))) == NULL)
		return (-1);
	if (t->nrules > 0)
		qsort(t->rules, t->nrules, sizeof(*t->rules), prefix_cmp_rule);
	b[nb++] = 0;
	for (i = 0; i < t->nrules; i++) {
		first = t->rules[i].addr;
		end = first + ((uint64_t)1 << (32 - t->rules[i].len));
		b[nb++] = first;
		if (end <= 0xffffffffULL)
			b[nb++] = end;
	}
	qsort(b, nb, sizeof(*b), prefix_cmp_u64);
	for (i = 1, j = 1; i < nb; i++)
		if (b[i] != b[j - 1])
			b[j++] = b[i];
	nb = j;

	start = reallocarray(NULL, nb, sizeof(*start));
	win = reallocarray(NULL, nb, sizeof(*win));
	if (start == NULL || win == NULL) {
		free(start);
		free(win);
		free(b);
		return (-1);
	}
	for (i = 0; i < nb; i++)
		win[i] = -1;
	for (i = 0; i < t->nrules; i++) {
		first = t->rules[i].addr;
		end = first + ((uint64_t)1 << (32 - t->rules[i].len));
		for (k = prefix_find(b, nb, first); k < nb && b[k] < end; k++)
			win[k] = (int32_t)i;
	}
	for (i = 0, j = 0; i < nb; i++) {
		if (j > 0 && win[j - 1] == win[i])
			continue;
		start[j] = (uint32_t)b[i];
		win[j] = win[i];
		j++;
	}
	free(b);
	free(t->start);
	free(t->win);
	t->start = start;
	t->win = win;
	t->nint = j;
	return (0);
}

/* The rule that decides for addr (host order), or NULL when none does. */
const struct prefix_rule *
prefix_lookup(const struct prefix_table *t, uint32_t addr)
{
	size_t	lo = 0, hi = t->nint, mid;

	if (t->nint == 0)
		return (NULL);
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (t->start[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return (t->win[lo] == -1 ? NULL : &t->rules[t->win[lo]]);
}

/*
 * Add the IPv6 prefix addr/len (host bits are cleared) with a verdict, a
 * rank and a label; it decides at once, no compiling.
 */
int
prefix_add6(struct prefix_table *t, const struct in6_addr *addr, int len,
    int verdict, int rank, const char *label)
{
	struct prefix_rule	*r;
	int			 i;

	if ((r = prefix_rule_new(&t->rules6, &t->nrules6, &t->cap6, 128, len,
	    verdict, rank, label)) == NULL)
		return (-1);
	for (i = 0; i < 16; i++)
		r->addr6.s6_addr[i] = addr->s6_addr[i] & prefix_mask6(len, i);
	return (0);
}

/* Whether the first len bits of a and b are the same. */
static int
prefix_match6(const struct in6_addr *a, const struct in6_addr *b, int len)
{
	int	i;

	for (i = 0; i < 16 && i * 8 < len; i++)
		if ((a->s6_addr[i] ^ b->s6_addr[i]) & prefix_mask6(len, i))
			return (0);
	return (1);
}

/* The IPv6 rule that decides for addr, or NULL when none does. */
const struct prefix_rule *
prefix_lookup6(const struct prefix_table *t, const struct in6_addr *addr)
{
	const struct prefix_rule	*r, *best = NULL;
	size_t				 i;

	for (i = 0; i < t->nrules6; i++) {
		r = &t->rules6[i];
		if (!prefix_match6(&r->addr6, addr, r->len))
			continue;
		if (best == NULL || r->len > best->len ||
		    (r->len == best->len && r->rank >= best->rank))
			best = r;
	}
	return (best);
}

size_t
prefix_count(const struct prefix_table *t)
{
	return (t->nrules + t->nrules6);
}

/* Pieces of the compiled table; the tests look at how well it merged. */
size_t
prefix_intervals(const struct prefix_table *t)
{
	return (t->nint);
}

/* The rules of one list of the configuration. */
static int
prefix_add_conf(struct prefix_table *t, const struct conf_prefix *p, int n)
{
	int	i, v, rv;

	for (i = 0; i < n; i++) {
		v = p[i].allow ? PREFIX_ALLOW : PREFIX_DENY;
		if (p[i].family == AF_INET6)
			rv = prefix_add6(t, &p[i].addr6, p[i].len, v,
			    PREFIX_CONF, p[i].where);
		else
			rv = prefix_add(t, p[i].addr, p[i].len, v,
			    PREFIX_CONF, p[i].where);
		if (rv == -1)
			return (-1);
	}
	return (0);
}

/*
 * Where the proxy may dial: the built-in denials, every address of the
 * gateway, then the configuration's proxy allow and deny lines, of both
 * families.  The virtual range and dns44's own ports are the proxy's to
 * refuse; no line can allow those.
 */
struct prefix_table *
prefix_dest_table(const struct dns44_conf *c, const struct msg_ifaddrs *ifa)
{
	struct prefix_table	*t;
	struct in_addr		 in;
	struct in6_addr		 in6;
	char			 label[PREFIX_LABEL_MAX];
	size_t			 i;
	int			 rv;

	if ((t = prefix_new()) == NULL)
		return (NULL);
	for (i = 0; i < sizeof(prefix_builtin_deny) /
	    sizeof(prefix_builtin_deny[0]); i++) {
		snprintf(label, sizeof(label), "%s/%d (built-in)",
		    prefix_builtin_deny[i].net, prefix_builtin_deny[i].len);
		if (inet_pton(AF_INET, prefix_builtin_deny[i].net, &in) == 1)
			rv = prefix_add(t, ntohl(in.s_addr),
			    prefix_builtin_deny[i].len, PREFIX_DENY,
			    PREFIX_BUILTIN, label);
		else if (inet_pton(AF_INET6, prefix_builtin_deny[i].net,
		    &in6) == 1)
			rv = prefix_add6(t, &in6, prefix_builtin_deny[i].len,
			    PREFIX_DENY, PREFIX_BUILTIN, label);
		else
			abort();	/* the table above is wrong */
		if (rv == -1)
			goto fail;
	}
	for (i = 0; ifa != NULL && i < ifa->count; i++) {
		/* lo's own is left to the built-in line, which allow opens. */
		if ((ntohl(ifa->addrs[i].local) >> 24) == 127)
			continue;
		if (prefix_add(t, ntohl(ifa->addrs[i].local), 32, PREFIX_DENY,
		    PREFIX_LOCAL, "local address") == -1)
			goto fail;
	}
	for (i = 0; ifa != NULL && i < ifa->count6; i++) {
		if (IN6_IS_ADDR_LOOPBACK(&ifa->addrs6[i].local))
			continue;	/* as lo's IPv4 address above */
		if (prefix_add6(t, &ifa->addrs6[i].local, 128, PREFIX_DENY,
		    PREFIX_LOCAL, "local address") == -1)
			goto fail;
	}
	if (prefix_add_conf(t, c->proxy_rules, c->proxy_rule_count) == -1 ||
	    prefix_compile(t) == -1)
		goto fail;
	return (t);
 fail:
	prefix_free(t);
	return (NULL);
}

/*
 * The clients served: loopback, the gateway's own addresses and the
 * subnets its interfaces connect to, the configuration's allow from
 * lines; or everyone after allow from any.  An address no rule allows is
 * refused.
 */
struct prefix_table *
prefix_client_table(const struct dns44_conf *c, const struct msg_ifaddrs *ifa)
{
	struct prefix_table	*t;
	size_t			 i;

	if ((t = prefix_new()) == NULL)
		return (NULL);
	if (c->client_any && prefix_add(t, 0, 0, PREFIX_ALLOW, PREFIX_CONF,
	    "allow from any") == -1)
		goto fail;
	if (prefix_add(t, INADDR_LOOPBACK, 8, PREFIX_ALLOW, PREFIX_BUILTIN,
	    "loopback") == -1)
		goto fail;
	for (i = 0; ifa != NULL && i < ifa->count; i++)
		if (prefix_add(t, ntohl(ifa->addrs[i].local), 32, PREFIX_ALLOW,
		    PREFIX_LOCAL, "local address") == -1 ||
		    prefix_add(t, ntohl(ifa->addrs[i].peer),
		    ifa->addrs[i].prefixlen, PREFIX_ALLOW, PREFIX_LOCAL,
		    "connected subnet") == -1)
			goto fail;
	if (prefix_add_conf(t, c->client_nets, c->client_net_count) == -1 ||
	    prefix_compile(t) == -1)
		goto fail;
	return (t);
 fail:
	prefix_free(t);
	return (NULL);
}

/* The range as the configuration wrote it, network and broadcast too. */
static void
prefix_range_block(const struct dns44_conf *c, uint32_t *first,
    uint32_t *last, char *buf, size_t len)
{
	char		a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct in_addr	in;

	*first = c->range_first;
	*last = c->range_last;
	if (c->range_prefix >= 0 && c->range_prefix <= 30) {
		(*first)--;
		(*last)++;
	}
	in.s_addr = htonl(*first);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	if (c->range_prefix >= 0)
		snprintf(buf, len, "%s/%d", a, c->range_prefix);
	else {
		in.s_addr = htonl(*last);
		inet_ntop(AF_INET, &in, b, sizeof(b));
		snprintf(buf, len, "%s - %s", a, b);
	}
}

/*
 * A range that covers one of the gateway's own addresses, or a subnet its
 * interfaces connect to, would take those hosts from the clients and the
 * gateway itself: -1 with err saying which.
 */
int
prefix_range_local(const struct dns44_conf *c, const struct msg_ifaddrs *ifa,
    char *err, size_t errlen)
{
	char		 range[48];
	char		 local[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	struct in_addr	 in;
	uint32_t	 first, last, lo, hi, mask, i;

	prefix_range_block(c, &first, &last, range, sizeof(range));
	for (i = 0; ifa != NULL && i < ifa->count; i++) {
		mask = prefix_mask(ifa->addrs[i].prefixlen);
		lo = ntohl(ifa->addrs[i].peer) & mask;
		hi = lo | ~mask;
		in.s_addr = ifa->addrs[i].local;
		inet_ntop(AF_INET, &in, local, sizeof(local));
		if (lo <= last && hi >= first) {
			in.s_addr = htonl(lo);
			inet_ntop(AF_INET, &in, net, sizeof(net));
			snprintf(err, errlen, "range %s overlaps %s/%u, the "
			    "subnet of the gateway's address %s", range, net,
			    ifa->addrs[i].prefixlen, local);
			return (-1);
		}
		/* Point to point: our end lies outside the peer's subnet. */
		in.s_addr = ifa->addrs[i].local;
		if (ntohl(in.s_addr) >= first && ntohl(in.s_addr) <= last) {
			snprintf(err, errlen, "range %s holds %s, an address "
			    "of the gateway's own", range, local);
			return (-1);
		}
	}
	return (0);
}

/*
 * Whether the range reaches into public address space, where it hides
 * real hosts from the clients: 1 with msg naming the first such address,
 * 0 when all of it is private, shared or reserved (RFC 6890).
 */
int
prefix_range_public(const struct dns44_conf *c, char *msg, size_t len)
{
	static const struct {
		uint32_t	net;
		int		len;
	} special[] = {		/* in order */
		{ 0x00000000, 8 },	/* 0.0.0.0/8, this network */
		{ 0x0a000000, 8 },	/* 10.0.0.0/8, RFC 1918 */
		{ 0x64400000, 10 },	/* 100.64.0.0/10, shared, RFC 6598 */
		{ 0x7f000000, 8 },	/* 127.0.0.0/8, loopback */
		{ 0xa9fe0000, 16 },	/* 169.254.0.0/16, link-local */
		{ 0xac100000, 12 },	/* 172.16.0.0/12, RFC 1918 */
		{ 0xc0000000, 24 },	/* 192.0.0.0/24, IETF protocols */
		{ 0xc0000200, 24 },	/* 192.0.2.0/24, TEST-NET-1 */
		{ 0xc0a80000, 16 },	/* 192.168.0.0/16, RFC 1918 */
		{ 0xc6120000, 15 },	/* 198.18.0.0/15, benchmarking */
		{ 0xc6336400, 24 },	/* 198.51.100.0/24, TEST-NET-2 */
		{ 0xcb007100, 24 },	/* 203.0.113.0/24, TEST-NET-3 */
		{ 0xe0000000, 3 },	/* 224.0.0.0/4 and 240.0.0.0/4 */
	};
	char		 range[48], a[INET_ADDRSTRLEN];
	struct in_addr	 in;
	uint64_t	 pos, end;
	uint32_t	 first, last;
	size_t		 i;

	prefix_range_block(c, &first, &last, range, sizeof(range));
	/* Walk the range block by block; the first gap is public. */
	for (pos = first; pos <= last; pos = end + 1) {
		for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
			end = (uint64_t)special[i].net |
			    (~prefix_mask(special[i].len) & 0xffffffffU);
			if (pos >= special[i].net && pos <= end)
				break;
		}
		if (i == sizeof(special) / sizeof(special[0])) {
			in.s_addr = htonl((uint32_t)pos);
			inet_ntop(AF_INET, &in, a, sizeof(a));
			snprintf(msg, len, "range %s reaches into public "
			    "address space (%s is neither private nor "
			    "reserved): clients can no longer reach the real "
			    "hosts there", range, a);
			return (1);
		}
	}
	return (0);
}
