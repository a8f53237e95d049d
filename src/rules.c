/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * rules.c: the ruleset of the domain rules.  The parser fills one; the
 * parent opens the files of its tables and sends it, encoded, with those
 * files to the dns process, which reads the names into a set (names.c) and
 * evaluates it for every name it answers and every lookup of the proxy.
 * The ruleset holds no pointer between its parts, only indexes and offsets
 * into its pool of strings, so that it travels as one byte string.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "rules.h"

#define RULES_MAGIC		0x64343472	/* "d44r" */
#define RULES_POOL_MAX		(64 * 1024 * 1024)

/* The head of an encoded ruleset; the arrays and the pool follow. */
struct rules_wire {
	uint32_t	magic;
	uint32_t	ntables;
	uint32_t	nrules;
	uint32_t	nsources;
	uint32_t	nupstreams;
	uint32_t	poollen;
};

static int	rules_grow(void **, size_t, size_t);
static int	rules_str_ok(const char *, size_t);
static int	rules_upstreams_ok(const struct rule_upstream *);
static int	rules_route_ok(const struct rule_route *);
static void	rules_print_names(FILE *, const struct ruleset *, uint16_t);
static void	rules_print_route(FILE *, const struct rule_route *);
static void	rules_print_rule(FILE *, const struct ruleset *,
		    const struct rule *, int);

struct ruleset *
ruleset_new(void)
{
	return (calloc(1, sizeof(struct ruleset)));
}

void
ruleset_free(struct ruleset *rs)
{
	size_t	i;

	if (rs == NULL)
		return;
	if (rs->fds != NULL) {
		for (i = 0; i < rs->nsources; i++)
			if (rs->fds[i] != -1)
				close(rs->fds[i]);
		free(rs->fds);
	}
	names_free(rs->names);
	free(rs->tables);
	free(rs->rules);
	free(rs->sources);
	free(rs->upstreams);
	free(rs->pool);
	free(rs);
}

/*
 * Room for one more element of size in *p, which holds n: arrays hold 8,
 * then double, so they are full only at 0 and at a power of 2 from 8.
 */
static int
rules_grow(void **p, size_t n, size_t size)
{
	void	*np;
	size_t	 cap;

	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return (0);
	cap = n == 0 ? 8 : n * 2;
	if ((np = reallocarray(*p, cap, size)) == NULL)
		return (-1);
	*p = np;
	return (0);
}

/* A new table; its index, or -1 with errno set. */
int
ruleset_table(struct ruleset *rs, const char *name, const char *where)
{
	struct rule_table	*t;

	if (rs->ntables >= RULE_MAX_TABLES) {
		errno = E2BIG;
		return (-1);
	}
	if (strlen(name) >= sizeof(t->name)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if (name[0] != '\0' && ruleset_find_table(rs, name) != -1) {
		errno = EEXIST;
		return (-1);
	}
	if (rules_grow((void **)&rs->tables, rs->ntables,
	    sizeof(*rs->tables)) == -1)
		return (-1);
	t = &rs->tables[rs->ntables];
	memset(t, 0, sizeof(*t));
	strlcpy(t->name, name, sizeof(t->name));
	strlcpy(t->where, where, sizeof(t->where));
	return (rs->ntables++);
}

int
ruleset_find_table(const struct ruleset *rs, const char *name)
{
	size_t	i;

	for (i = 0; i < rs->ntables; i++)
		if (rs->tables[i].name[0] != '\0' &&
		    strcmp(rs->tables[i].name, name) == 0)
			return (i);
	return (-1);
}

/* A name or a file of names for a table. */
int
ruleset_source(struct ruleset *rs, int table, int kind, const char *text,
    const char *where)
{
	struct rule_source	*s;
	size_t			 len = strlen(text) + 1;
	char			*np;

	if (table < 0 || (size_t)table >= rs->ntables ||
	    rs->nsources >= RULE_MAX_SOURCES) {
		errno = E2BIG;
		return (-1);
	}
	if (rs->poollen + len > RULES_POOL_MAX) {
		errno = E2BIG;
		return (-1);
	}
	if ((np = realloc(rs->pool, rs->poollen + len)) == NULL)
		return (-1);
	rs->pool = np;
	if (rules_grow((void **)&rs->sources, rs->nsources,
	    sizeof(*rs->sources)) == -1)
		return (-1);
	s = &rs->sources[rs->nsources++];
	memset(s, 0, sizeof(*s));
	s->table = table;
	s->kind = kind;
	s->text = rs->poollen;
	strlcpy(s->where, where, sizeof(s->where));
	memcpy(rs->pool + rs->poollen, text, len);
	rs->poollen += len;
	return (0);
}

int
ruleset_rule(struct ruleset *rs, const struct rule *r)
{
	if (rs->nrules >= RULE_MAX_RULES) {
		errno = E2BIG;
		return (-1);
	}
	if (rules_grow((void **)&rs->rules, rs->nrules,
	    sizeof(*rs->rules)) == -1)
		return (-1);
	rs->rules[rs->nrules] = *r;
	rs->rules[rs->nrules].hits = 0;
	rs->nrules++;
	return (0);
}

int
ruleset_upstream(struct ruleset *rs, const struct rule_upstream *u)
{
	if (rs->nupstreams >= RULE_MAX_RULES) {
		errno = E2BIG;
		return (-1);
	}
	if (rules_grow((void **)&rs->upstreams, rs->nupstreams,
	    sizeof(*rs->upstreams)) == -1)
		return (-1);
	rs->upstreams[rs->nupstreams++] = *u;
	return (0);
}

const char *
ruleset_text(const struct ruleset *rs, const struct rule_source *s)
{
	return (rs->pool + s->text);
}

/* Whether a rule names this mark: the parent makes no socket for others. */
int
ruleset_has_mark(const struct ruleset *rs, uint32_t mark)
{
	size_t	i;

	if (rs == NULL || mark == 0)
		return (0);
	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].action == RULE_ROUTE &&
		    rs->rules[i].route.mark == mark)
			return (1);
	return (0);
}

/*
 * The files of the tables opened, by the parent, which may read them;
 * the dns process reads them through the descriptors.  -1 once every
 * file that cannot be opened was logged.
 */
int
ruleset_open_files(struct ruleset *rs)
{
	struct rule_source	*s;
	size_t			 i;
	int			 bad = 0;

	if (rs->nsources == 0)
		return (0);
	if (rs->fds == NULL) {
		if ((rs->fds = reallocarray(NULL, rs->nsources,
		    sizeof(*rs->fds))) == NULL)
			return (-1);
		for (i = 0; i < rs->nsources; i++)
			rs->fds[i] = -1;
	}
	for (i = 0; i < rs->nsources; i++) {
		s = &rs->sources[i];
		if (s->kind != SOURCE_FILE || rs->fds[i] != -1)
			continue;
		if ((rs->fds[i] = open(ruleset_text(rs, s),
		    O_RDONLY | O_CLOEXEC)) == -1) {
			log_warn("%s: table <%s>: %s", s->where,
			    rs->tables[s->table].name, ruleset_text(rs, s));
			bad = 1;
		}
	}
	return (bad ? -1 : 0);
}

/* The files are read: their descriptors go. */
void
ruleset_close_files(struct ruleset *rs)
{
	size_t	i;

	if (rs->fds == NULL)
		return;
	for (i = 0; i < rs->nsources; i++)
		if (rs->fds[i] != -1) {
			close(rs->fds[i]);
			rs->fds[i] = -1;
		}
}

/*
 * The names of every table read into a new set: inline ones, and the
 * files through the descriptors ruleset_open_files() or the parent gave.
 * A bad line of a file is skipped with a warning; a file that cannot be
 * read fails the load.
 */
int
ruleset_load(struct ruleset *rs)
{
	struct rule_source	*s;
	struct names		*n;
	FILE			*fp;
	size_t			 i, added, bad;
	int			 fd;

	if ((n = names_new()) == NULL)
		return (-1);
	for (i = 0; i < rs->ntables; i++)
		rs->tables[i].count = 0;
	for (i = 0; i < rs->nsources; i++) {
		s = &rs->sources[i];
		if (s->kind == SOURCE_NAME) {
			if (names_add(n, ruleset_text(rs, s), s->table) == -1) {
				log_warn("%s: \"%s\"", s->where,
				    ruleset_text(rs, s));
				goto fail;
			}
			rs->tables[s->table].count++;
			continue;
		}
		if (rs->fds == NULL || rs->fds[i] == -1) {
			log_warnx("%s: %s: not opened", s->where,
			    ruleset_text(rs, s));
			goto fail;
		}
		/* Read from the start, also when loaded a second time. */
		if ((fd = dup(rs->fds[i])) == -1 ||
		    lseek(fd, 0, SEEK_SET) == -1 ||
		    (fp = fdopen(fd, "r")) == NULL) {
			log_warn("%s: %s", s->where, ruleset_text(rs, s));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		added = bad = 0;
		if (names_load(n, fp, ruleset_text(rs, s), s->table, &added,
		    &bad) == -1) {
			log_warn("%s", ruleset_text(rs, s));
			fclose(fp);
			goto fail;
		}
		fclose(fp);
		rs->tables[s->table].count += added;
	}
	names_free(rs->names);
	rs->names = n;
	return (0);
 fail:
	names_free(n);
	return (-1);
}

/*
 * What the rules say of a name asked by a client (host order; have_client
 * 0 when no client is known, as for the proxy's lookups, which then see
 * only the rules without a from).  The last matching rule decides, or the
 * first matching quick one; none: the name is routed directly.
 */
void
ruleset_eval(struct ruleset *rs, const char *name, uint32_t client,
    int have_client, struct rule_verdict *v)
{
	uint8_t		 bits[RULE_MAX_TABLES / 8];
	struct rule	*r;
	size_t		 i;
	uint32_t	 mask;

	memset(v, 0, sizeof(*v));
	v->action = RULE_ROUTE;
	v->any_client = 1;
	if (rs == NULL || rs->nrules == 0)
		goto done;
	memset(bits, 0, (rs->ntables + 7) / 8);
	if (rs->names != NULL)
		names_match(rs->names, name, bits, rs->ntables);
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (r->table != RULE_TABLE_ANY &&
		    (bits[r->table / 8] & (1 << (r->table % 8))) == 0)
			continue;
		if (!r->from_any) {
			v->any_client = 0;
			mask = r->from_len == 0 ? 0 :
			    0xffffffffU << (32 - r->from_len);
			if (!have_client || (client & mask) != r->from_addr)
				continue;
		}
		v->rule = r;
		if (r->quick)
			break;
	}
	if (v->rule != NULL) {
		v->action = v->rule->action;
		v->route = v->rule->route;
		v->route.rule = v->rule - rs->rules + 1;
	}
 done:
	v->route.action = v->action;
	v->route.any_client = v->any_client;
}

/* The upstreams for a name when a split DNS line names it, else NULL. */
const struct rule_upstream *
ruleset_split(const struct ruleset *rs, const char *name)
{
	uint8_t				 bits[RULE_MAX_TABLES / 8];
	const struct rule_upstream	*u, *found = NULL;
	size_t				 i;

	if (rs == NULL || rs->nupstreams == 0 || rs->names == NULL)
		return (NULL);
	memset(bits, 0, (rs->ntables + 7) / 8);
	names_match(rs->names, name, bits, rs->ntables);
	for (i = 0; i < rs->nupstreams; i++) {
		u = &rs->upstreams[i];
		if (u->table == RULE_TABLE_ANY ||
		    (bits[u->table / 8] & (1 << (u->table % 8))) != 0)
			found = u;
	}
	return (found);
}

/* "via socks5 192.0.2.1:1080" or "via http [2001:db8::1]:3128". */
const char *
rule_via_fmt(const struct rule_route *rt, char *buf, size_t len)
{
	char	 sa[INET6_ADDRSTRLEN + 8];

	snprintf(buf, len, "via %s %s", rt->via == VIA_HTTP ? "http" :
	    "socks5", conf_fmt_sockaddr(&rt->server, sa, sizeof(sa)));
	return (buf);
}

/* The journal's words for a route; "" for a direct one without options. */
const char *
rule_route_fmt(const struct rule_route *rt, char *buf, size_t len)
{
	char	 a[INET_ADDRSTRLEN], part[64];

	buf[0] = '\0';
	if (rt == NULL)
		return (buf);
	if (rt->via == VIA_SOCKS5 || rt->via == VIA_HTTP)
		strlcat(buf, rule_via_fmt(rt, part, sizeof(part)), len);
	if (rt->mark != 0) {
		snprintf(part, sizeof(part), "%smark 0x%x",
		    buf[0] != '\0' ? " " : "", rt->mark);
		strlcat(buf, part, len);
	}
	if (rt->ifname[0] != '\0') {
		snprintf(part, sizeof(part), "%sinterface %s",
		    buf[0] != '\0' ? " " : "", rt->ifname);
		strlcat(buf, part, len);
	}
	if (rt->source.sin_addr.s_addr != INADDR_ANY) {
		inet_ntop(AF_INET, &rt->source.sin_addr, a, sizeof(a));
		snprintf(part, sizeof(part), "%ssource %s",
		    buf[0] != '\0' ? " " : "", a);
		strlcat(buf, part, len);
	}
	return (buf);
}

/* The names of a table as a rule spells them: <name>, "x" or { ... }. */
static void
rules_print_names(FILE *fp, const struct ruleset *rs, uint16_t table)
{
	const struct rule_source	*s;
	size_t				 i, n = 0;

	if (table == RULE_TABLE_ANY) {
		fprintf(fp, "any");
		return;
	}
	if (rs->tables[table].name[0] != '\0') {
		fprintf(fp, "<%s>", rs->tables[table].name);
		return;
	}
	for (i = 0; i < rs->nsources; i++)
		if (rs->sources[i].table == table)
			n++;
	if (n != 1)
		fprintf(fp, "{");
	for (i = 0; i < rs->nsources; i++) {
		s = &rs->sources[i];
		if (s->table == table)
			fprintf(fp, "%s\"%s\"", n != 1 ? " " : "",
			    ruleset_text(rs, s));
	}
	if (n != 1)
		fprintf(fp, " }");
}

static void
rules_print_route(FILE *fp, const struct rule_route *rt)
{
	char	a[INET6_ADDRSTRLEN];

	if (rt->via == VIA_DIRECT && rt->mark == 0 && rt->ifname[0] == '\0' &&
	    rt->source.sin_addr.s_addr == INADDR_ANY)
		fprintf(fp, " direct");
	if (rt->via != VIA_DIRECT) {
		fprintf(fp, " via %s %s port %u",
		    rt->via == VIA_SOCKS5 ? "socks5" : "http",
		    conf_fmt_host(&rt->server, a, sizeof(a)),
		    conf_port(&rt->server));
		if (rt->user[0] != '\0')
			fprintf(fp, " user \"%s\" password \"%s\"", rt->user,
			    rt->password);
	}
	if (rt->mark != 0)
		fprintf(fp, " mark %u", rt->mark);
	if (rt->ifname[0] != '\0')
		fprintf(fp, " interface %s", rt->ifname);
	if (rt->source.sin_addr.s_addr != INADDR_ANY) {
		inet_ntop(AF_INET, &rt->source.sin_addr, a, sizeof(a));
		fprintf(fp, " source %s", a);
	}
}

/* One rule as the file would spell it; a password only with secrets. */
static void
rules_print_rule(FILE *fp, const struct ruleset *rs, const struct rule *r,
    int secrets)
{
	static const char	*blocks[] = { "nxdomain", "refused", "zero" };
	struct rule_route	 rt;
	struct in_addr		 in;
	char			 a[INET_ADDRSTRLEN];

	switch (r->action) {
	case RULE_PASS:
		fprintf(fp, "pass");
		break;
	case RULE_BLOCK:
		fprintf(fp, "block");
		if (r->block != BLOCK_NXDOMAIN)
			fprintf(fp, " return %s", blocks[r->block]);
		break;
	default:
		fprintf(fp, "route");
		break;
	}
	if (r->quick)
		fprintf(fp, " quick");
	if (!r->from_any) {
		in.s_addr = htonl(r->from_addr);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		fprintf(fp, " from %s/%u", a, r->from_len);
	}
	fprintf(fp, " to ");
	rules_print_names(fp, rs, r->table);
	if (r->action == RULE_ROUTE) {
		rt = r->route;
		if (!secrets && rt.password[0] != '\0')
			strlcpy(rt.password, "*", sizeof(rt.password));
		rules_print_route(fp, &rt);
	}
}

/* One rule's text into buf, as dns44ctl shows it: no password. */
const char *
rule_fmt(const struct ruleset *rs, const struct rule *r, char *buf,
    size_t len)
{
	FILE	*fp;

	buf[0] = '\0';
	if ((fp = fmemopen(buf, len, "w")) == NULL)
		return (buf);
	rules_print_rule(fp, rs, r, 0);
	fclose(fp);
	buf[len - 1] = '\0';
	return (buf);
}

/*
 * Carry the hits of old's rules to the rules of rs that read the same
 * (rule_fmt(): the names in a list and the line a rule stands on may have
 * changed), each old rule to one new one at most, so that a reload goes
 * on counting for the rules it left alone.  Without memory for it, every
 * count starts again, as it did before.
 */
void
ruleset_keep_hits(struct ruleset *rs, const struct ruleset *old)
{
	char	(*otext)[RULE_TEXT_MAX], text[RULE_TEXT_MAX];
	uint8_t	*used;
	size_t	 i, j;

	if (old == NULL || old->nrules == 0 || rs->nrules == 0)
		return;
	otext = calloc(old->nrules, sizeof(*otext));
	used = calloc(old->nrules, sizeof(*used));
	if (otext == NULL || used == NULL)
		goto done;
	for (j = 0; j < old->nrules; j++)
		rule_fmt(old, &old->rules[j], otext[j], sizeof(otext[j]));
	for (i = 0; i < rs->nrules; i++) {
		rule_fmt(rs, &rs->rules[i], text, sizeof(text));
		for (j = 0; j < old->nrules; j++)
			if (!used[j] && strcmp(text, otext[j]) == 0) {
				used[j] = 1;
				rs->rules[i].hits = old->rules[j].hits;
				break;
			}
	}
 done:
	free(otext);
	free(used);
}

/* The tables, rules and split DNS lines as dns44 -n shows them. */
void
ruleset_print(FILE *fp, const struct ruleset *rs)
{
	const struct rule_source *s;
	const struct rule_upstream *u;
	size_t			 i, j, k;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->ntables; i++) {
		if (rs->tables[i].name[0] == '\0')
			continue;
		fprintf(fp, "table <%s>", rs->tables[i].name);
		k = 0;
		for (j = 0; j < rs->nsources; j++) {
			s = &rs->sources[j];
			if (s->table != i || s->kind != SOURCE_NAME)
				continue;
			fprintf(fp, "%s \"%s\"", k++ == 0 ? " {" : "",
			    ruleset_text(rs, s));
		}
		if (k > 0)
			fprintf(fp, " }");
		for (j = 0; j < rs->nsources; j++) {
			s = &rs->sources[j];
			if (s->table == i && s->kind == SOURCE_FILE)
				fprintf(fp, " file \"%s\"",
				    ruleset_text(rs, s));
		}
		fprintf(fp, "\n");
	}
	for (i = 0; i < rs->nrules; i++) {
		rules_print_rule(fp, rs, &rs->rules[i], 1);
		fprintf(fp, "\n");
	}
	for (i = 0; i < rs->nupstreams; i++) {
		u = &rs->upstreams[i];
		for (j = 0; j < u->count; j++) {
			conf_print_upstream(fp, &u->upstream[j]);
			fputs(" for ", fp);
			rules_print_names(fp, rs, u->table);
			fprintf(fp, "\n");
		}
	}
}

/* The ruleset as one byte string, to send; the names set is not in it. */
int
ruleset_encode(const struct ruleset *rs, unsigned char **out, size_t *outlen)
{
	struct rules_wire	 w;
	unsigned char		*buf, *p;
	size_t			 len;

	w.magic = RULES_MAGIC;
	w.ntables = rs->ntables;
	w.nrules = rs->nrules;
	w.nsources = rs->nsources;
	w.nupstreams = rs->nupstreams;
	w.poollen = rs->poollen;
	len = sizeof(w) + rs->ntables * sizeof(*rs->tables) +
	    rs->nrules * sizeof(*rs->rules) +
	    rs->nsources * sizeof(*rs->sources) +
	    rs->nupstreams * sizeof(*rs->upstreams) + rs->poollen;
	if ((buf = p = malloc(len)) == NULL)
		return (-1);
	memcpy(p, &w, sizeof(w));
	p += sizeof(w);
#define RULES_PUT(a, n)	do {						\
	if ((n) > 0)							\
		memcpy(p, (a), (n) * sizeof(*(a)));			\
	p += (n) * sizeof(*(a));					\
} while (0)
	RULES_PUT(rs->tables, rs->ntables);
	RULES_PUT(rs->rules, rs->nrules);
	RULES_PUT(rs->sources, rs->nsources);
	RULES_PUT(rs->upstreams, rs->nupstreams);
	RULES_PUT(rs->pool, rs->poollen);
#undef RULES_PUT
	*out = buf;
	*outlen = len;
	return (0);
}

static int
rules_str_ok(const char *s, size_t size)
{
	return (memchr(s, '\0', size) != NULL);
}

/* Each upstream of a split DNS line of a known family, its name ended. */
static int
rules_upstreams_ok(const struct rule_upstream *u)
{
	size_t	i;

	for (i = 0; i < u->count && i < CONF_MAX_UPSTREAM; i++)
		if ((u->upstream[i].addr.sa.sa_family != AF_INET &&
		    u->upstream[i].addr.sa.sa_family != AF_INET6) ||
		    !rules_str_ok(u->upstream[i].tls_name,
		    sizeof(u->upstream[i].tls_name)))
			return (-1);
	return (0);
}

/*
 * A route's numbers as a peer may send them: a known action and via, and
 * the server of a via of either family.
 */
int
rule_route_ok(const struct rule_route *rt)
{
	return (rt->action <= RULE_BLOCK && rt->via <= VIA_HTTP &&
	    (rt->via == VIA_DIRECT || rt->server.sa.sa_family == AF_INET ||
	    rt->server.sa.sa_family == AF_INET6));
}

static int
rules_route_ok(const struct rule_route *rt)
{
	return (rule_route_ok(rt) &&
	    rules_str_ok(rt->ifname, sizeof(rt->ifname)) &&
	    rules_str_ok(rt->user, sizeof(rt->user)) &&
	    rules_str_ok(rt->password, sizeof(rt->password)));
}

/*
 * A ruleset from the bytes ruleset_encode() made, each index and offset
 * checked; NULL with errno EBADMSG for anything else.  Files are not
 * open: the caller gives their descriptors as they come.
 */
struct ruleset *
ruleset_decode(const unsigned char *buf, size_t len)
{
	struct rules_wire	 w;
	struct ruleset		*rs;
	const unsigned char	*p = buf;
	size_t			 i, need;

	if (len < sizeof(w))
		goto bad;
	memcpy(&w, p, sizeof(w));
	p += sizeof(w);
	if (w.magic != RULES_MAGIC || w.ntables > RULE_MAX_TABLES ||
	    w.nrules > RULE_MAX_RULES || w.nsources > RULE_MAX_SOURCES ||
	    w.nupstreams > RULE_MAX_RULES || w.poollen > RULES_POOL_MAX)
		goto bad;
	need = sizeof(w) + w.ntables * sizeof(struct rule_table) +
	    w.nrules * sizeof(struct rule) +
	    w.nsources * sizeof(struct rule_source) +
	    w.nupstreams * sizeof(struct rule_upstream) + w.poollen;
	if (len != need || (w.poollen > 0 && buf[len - 1] != '\0'))
		goto bad;
	if ((rs = ruleset_new()) == NULL)
		return (NULL);
#define RULES_GET(a, n)	do {						\
	if ((n) > 0) {							\
		if (((a) = calloc((n), sizeof(*(a)))) == NULL)		\
			goto fail;					\
		memcpy((a), p, (n) * sizeof(*(a)));			\
	}								\
	p += (n) * sizeof(*(a));					\
} while (0)
	RULES_GET(rs->tables, w.ntables);
	rs->ntables = w.ntables;
	RULES_GET(rs->rules, w.nrules);
	rs->nrules = w.nrules;
	RULES_GET(rs->sources, w.nsources);
	rs->nsources = w.nsources;
	RULES_GET(rs->upstreams, w.nupstreams);
	rs->nupstreams = w.nupstreams;
	RULES_GET(rs->pool, w.poollen);
	rs->poollen = w.poollen;
#undef RULES_GET
	if (rs->nsources > 0) {
		if ((rs->fds = reallocarray(NULL, rs->nsources,
		    sizeof(*rs->fds))) == NULL)
			goto fail;
		for (i = 0; i < rs->nsources; i++)
			rs->fds[i] = -1;
	}
	for (i = 0; i < rs->ntables; i++)
		if (!rules_str_ok(rs->tables[i].name,
		    sizeof(rs->tables[i].name)) ||
		    !rules_str_ok(rs->tables[i].where,
		    sizeof(rs->tables[i].where)))
			goto badrs;
	for (i = 0; i < rs->nrules; i++) {
		rs->rules[i].hits = 0;
		if ((rs->rules[i].table >= rs->ntables &&
		    rs->rules[i].table != RULE_TABLE_ANY) ||
		    rs->rules[i].action > RULE_BLOCK ||
		    rs->rules[i].block > BLOCK_ZERO ||
		    rs->rules[i].from_len > 32 ||
		    !rules_route_ok(&rs->rules[i].route) ||
		    !rules_str_ok(rs->rules[i].where,
		    sizeof(rs->rules[i].where)))
			goto badrs;
	}
	for (i = 0; i < rs->nsources; i++)
		if (rs->sources[i].table >= rs->ntables ||
		    rs->sources[i].kind > SOURCE_FILE ||
		    rs->sources[i].text >= rs->poollen ||
		    !rules_str_ok(rs->sources[i].where,
		    sizeof(rs->sources[i].where)))
			goto badrs;
	for (i = 0; i < rs->nupstreams; i++)
		if ((rs->upstreams[i].table >= rs->ntables &&
		    rs->upstreams[i].table != RULE_TABLE_ANY) ||
		    rs->upstreams[i].count == 0 ||
		    rs->upstreams[i].count > CONF_MAX_UPSTREAM ||
		    !rules_str_ok(rs->upstreams[i].where,
		    sizeof(rs->upstreams[i].where)) ||
		    rules_upstreams_ok(&rs->upstreams[i]) == -1)
			goto badrs;
	return (rs);
 badrs:
	ruleset_free(rs);
 bad:
	errno = EBADMSG;
	return (NULL);
 fail:
	ruleset_free(rs);
	return (NULL);
}
