/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * parse_value.c: what the values of dns44.conf mean and whether they are
 * right: numbers, durations, addresses and prefixes, paths and names, the
 * listeners, upstreams and the store, and the domain rules with their
 * tables and routes, put into the configuration and the rule set the
 * grammar (parse.y) fills.  A bad value is reported at its line and
 * parsing goes on.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "log.h"
#include "prefix.h"
#include "rules.h"
#include "parse_local.h"

static int	 parse_addr(const char *, struct in_addr *);
static int	 parse_sockaddr(const char *, long long, in_port_t,
		    struct sockaddr_in *);
static int	 parse_upstream_addr(const char *, long long, const char *,
		    struct conf_upstream *);
static int	 parse_prefix(const char *, struct conf_prefix *);
static int	 parse_same_names(int, int);
static int	 parse_u32(const char *, const char *, uint32_t *);

struct rule		 prule;
int			 parse_tls;
char			 stmt_where[CONF_WHERE_MAX];
static int		 seen_dns_listen, seen_upstream, seen_proxy;
static int		 plist = -1;	/* table taking names */
static int		 plist_anon;	/* made for this rule */

/* Before a file is read. */
void
parse_value_reset(void)
{
	seen_dns_listen = seen_upstream = seen_proxy = 0;
	parse_rule_reset();
}

int
parse_number(const char *what, const char *s, long long min, long long max,
    long long *n)
{
	const char	*errstr;

	*n = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		parse_error("%s %s out of range (%lld-%lld)", what, s, min,
		    max);
		return (-1);
	}
	return (0);
}

int
parse_yesno(const char *what, const char *s, int *v)
{
	if (strcmp(s, "yes") == 0)
		*v = 1;
	else if (strcmp(s, "no") == 0)
		*v = 0;
	else {
		parse_error("%s: \"%s\" is not yes or no", what, s);
		return (-1);
	}
	return (0);
}

int
parse_duration(const char *what, const char *s, int zero_ok, uint32_t *ms)
{
	char		buf[32];
	uint32_t	v;

	if (conf_parse_duration(s, &v) == -1) {
		if (errno == ERANGE)
			parse_error("%s %s too long (max %s)", what, s,
			    conf_fmt_duration(UINT32_MAX, buf, sizeof(buf)));
		else if (errno == EDOM)
			parse_error("%s: negative duration \"%s\"", what, s);
		else
			parse_error("%s: invalid duration \"%s\"", what, s);
		return (-1);
	}
	if (v == 0 && !zero_ok) {
		parse_error("%s must be greater than 0", what);
		return (-1);
	}
	*ms = v;
	return (0);
}

static int
parse_addr(const char *s, struct in_addr *ina)
{
	if (inet_pton(AF_INET, s, ina) != 1) {
		parse_error("invalid address \"%s\"", s);
		return (-1);
	}
	return (0);
}

/* Fill sin from an address and an optport value; -1 on a bad one. */
static int
parse_sockaddr(const char *addr, long long port, in_port_t defport,
    struct sockaddr_in *sin)
{
	struct in_addr	ina;

	if (parse_addr(addr, &ina) == -1 || port == 0)
		return (-1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = ina;
	sin->sin_port = htons(port == -1 ? defport : (in_port_t)port);
	return (0);
}

void
parse_dns_listen(const char *addr, long long port)
{
	struct sockaddr_in	sin;
	char			buf[32];
	int			i;

	if (parse_sockaddr(addr, port, DEFAULT_DNS_PORT, &sin) == -1)
		return;
	/* The first one in the file replaces the built-in default. */
	if (!seen_dns_listen) {
		seen_dns_listen = 1;
		pconf->dns_listen_count = 0;
	}
	for (i = 0; i < pconf->dns_listen_count; i++) {
		if (pconf->dns_listen[i].sin_addr.s_addr ==
		    sin.sin_addr.s_addr &&
		    pconf->dns_listen[i].sin_port == sin.sin_port) {
			parse_error("duplicate dns listen %s",
			    conf_fmt_addr(&sin, buf, sizeof(buf)));
			return;
		}
	}
	if (pconf->dns_listen_count >= CONF_MAX_DNS_LISTEN) {
		parse_error("too many dns listen addresses (max %d)",
		    CONF_MAX_DNS_LISTEN);
		return;
	}
	pconf->dns_listen[pconf->dns_listen_count++] = sin;
}

/* An upstream line's address and options; -1 after an error. */
static int
parse_upstream_addr(const char *addr, long long port, const char *name,
    struct conf_upstream *u)
{
	if (port == 0)
		return (-1);
	if (name != NULL && name[0] == '\0') {
		parse_error("empty tls name");
		return (-1);
	}
	if (conf_parse_upstream(addr, port, parse_tls, NULL, u) == -1) {
		parse_error("invalid address \"%s\"", addr);
		return (-1);
	}
	if (name != NULL &&
	    conf_parse_upstream(addr, port, parse_tls, name, u) == -1) {
		parse_error("invalid tls name \"%s\"", name);
		return (-1);
	}
	return (0);
}

void
parse_upstream(const char *addr, long long port, const char *name)
{
	struct conf_upstream	u;

	if (parse_upstream_addr(addr, port, name, &u) == -1)
		return;
	if (!seen_upstream) {
		seen_upstream = 1;
		pconf->upstream_count = 0;
	}
	if (pconf->upstream_count >= CONF_MAX_UPSTREAM) {
		parse_error("too many upstreams (max %d)", CONF_MAX_UPSTREAM);
		return;
	}
	pconf->upstream[pconf->upstream_count++] = u;
}

void
parse_proxy_listen(const char *addr, long long port)
{
	struct sockaddr_in	sin;

	if (parse_sockaddr(addr, port, DEFAULT_PROXY_PORT, &sin) == -1)
		return;
	if (seen_proxy) {
		parse_error("proxy listen may be given only once");
		return;
	}
	seen_proxy = 1;
	pconf->proxy_listen = sin;
}

void
parse_metrics_listen(const char *addr, long long port)
{
	struct sockaddr_in	sin;

	if (parse_sockaddr(addr, port, DEFAULT_METRICS_PORT, &sin) == -1)
		return;
	if (pconf->metrics) {
		parse_error("metrics listen may be given only once");
		return;
	}
	pconf->metrics = 1;
	pconf->metrics_listen = sin;
}

/* "range CIDR" (last NULL) or "range FIRST - LAST". */
void
parse_range(const char *first, const char *last)
{
	char		buf[2 * INET_ADDRSTRLEN];
	struct in_addr	ina;

	if (last != NULL) {
		if (parse_addr(first, &ina) == -1 ||
		    parse_addr(last, &ina) == -1)
			return;
		snprintf(buf, sizeof(buf), "%s-%s", first, last);
	} else if (strlcpy(buf, first, sizeof(buf)) >= sizeof(buf)) {
		parse_error("invalid range \"%s\"", first);
		return;
	}
	if (conf_parse_range(buf, pconf) == 0)
		return;
	if (errno == EDOM)
		parse_error("%s: host bits set", first);
	else if (errno == ERANGE && last != NULL)
		parse_error("range %s - %s: first address is above the last",
		    first, last);
	else if (errno == ERANGE)
		parse_error("range %s: first address is above the last", first);
	else
		parse_error("invalid range \"%s\"", first);
}

/*
 * "a.b.c.d/len", "a.b.c.d" (a /32), "x:y::z/len" or "x:y::z" (a /128)
 * into p, with the file and line it came from for the journal; -1 on a
 * bad one, already reported.
 */
static int
parse_prefix(const char *s, struct conf_prefix *p)
{
	char		 buf[INET6_ADDRSTRLEN + 4], *slash;
	const char	*errstr;
	struct in_addr	 ina;
	uint32_t	 mask;
	long long	 len = -1;
	int		 i;

	memset(p, 0, sizeof(*p));
	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		parse_error("invalid prefix \"%s\"", s);
		return (-1);
	}
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		len = strtonum(slash, 0, 128, &errstr);
		if (errstr != NULL || *slash == '\0') {
			parse_error("invalid prefix \"%s\"", s);
			return (-1);
		}
	}
	if (inet_pton(AF_INET, buf, &ina) == 1 && len <= 32) {
		p->family = AF_INET;
		p->addr = ntohl(ina.s_addr);
		p->len = len == -1 ? 32 : len;
		mask = p->len == 0 ? 0 : 0xffffffffU << (32 - p->len);
		if ((p->addr & ~mask) != 0) {
			parse_error("%s: host bits set", s);
			return (-1);
		}
	} else if (inet_pton(AF_INET6, buf, &p->addr6) == 1) {
		p->family = AF_INET6;
		p->len = len == -1 ? 128 : len;
		for (i = 0; i < 16; i++)
			if (p->addr6.s6_addr[i] & ~prefix_mask6(p->len, i)) {
				parse_error("%s: host bits set", s);
				return (-1);
			}
	} else {
		parse_error("invalid prefix \"%s\"", s);
		return (-1);
	}
	parse_where(p->where, sizeof(p->where));
	return (0);
}

/* "proxy allow PREFIX" and "proxy deny PREFIX": where it may dial. */
void
parse_proxy_rule(const char *s, int allow)
{
	struct conf_prefix	p;

	if (parse_prefix(s, &p) == -1)
		return;
	if (pconf->proxy_rule_count >= CONF_MAX_PROXY_RULES) {
		parse_error("too many proxy allow and deny lines (max %d)",
		    CONF_MAX_PROXY_RULES);
		return;
	}
	p.allow = allow;
	pconf->proxy_rules[pconf->proxy_rule_count++] = p;
}

/* "allow from PREFIX" or "allow from any": which clients are served. */
void
parse_client_net(const char *s)
{
	struct conf_prefix	p;

	if (strcmp(s, "any") == 0) {
		pconf->client_any = 1;
		return;
	}
	if (parse_prefix(s, &p) == -1)
		return;
	if (p.family != AF_INET) {
		parse_error("allow from %s: clients are IPv4", s);
		return;
	}
	if (pconf->client_net_count >= CONF_MAX_CLIENT_NETS) {
		parse_error("too many allow from lines (max %d)",
		    CONF_MAX_CLIENT_NETS);
		return;
	}
	p.allow = 1;
	pconf->client_nets[pconf->client_net_count++] = p;
}

void
parse_path(const char *what, const char *s, char *dst, size_t size)
{
	if (s[0] != '/')
		parse_error("%s \"%s\" is not an absolute path", what, s);
	else if (strlen(s) >= size)
		parse_error("%s path too long (max %zu bytes)", what, size - 1);
	else
		strlcpy(dst, s, size);
}

/*
 * The Redis primary holding the shared map, or one of the Sentinels that
 * know which server it is now: one or the other, by address, since the
 * dns process resolves no name but through its upstreams.
 */
void
parse_redis(const char *addr, long long port, int sentinel)
{
	struct sockaddr_in	sin;

	if (parse_sockaddr(addr, port, sentinel ? DEFAULT_SENTINEL_PORT :
	    DEFAULT_REDIS_PORT, &sin) == -1)
		return;
	if (sentinel ? pconf->redis.sin_port != 0 :
	    pconf->sentinel_count > 0) {
		parse_error("database redis and database sentinel exclude "
		    "each other");
		return;
	}
	if (!sentinel) {
		if (pconf->redis.sin_port != 0)
			parse_error("database redis may be given only once");
		else
			pconf->redis = sin;
		return;
	}
	if (pconf->sentinel_count == CONF_MAX_SENTINELS) {
		parse_error("too many database sentinel lines (max %d)",
		    CONF_MAX_SENTINELS);
		return;
	}
	pconf->sentinels[pconf->sentinel_count++] = sin;
}

/* Sent by AUTH; a line break or a space would not survive it whole. */
void
parse_redis_password(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || strlen(s) >= sizeof(pconf->redis_password)) {
		parse_error("database password must be 1 to %zu bytes",
		    sizeof(pconf->redis_password) - 1);
		return;
	}
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] == 0x7f) {
			parse_error("database password holds a control "
			    "character");
			return;
		}
	strlcpy(pconf->redis_password, s, sizeof(pconf->redis_password));
}

void
parse_name(const char *what, const char *s, char *dst, size_t size)
{
	if (s[0] == '\0')
		parse_error("%s name is empty", what);
	else if (strlen(s) >= size)
		parse_error("%s name too long (max %zu bytes)", what, size - 1);
	else
		strlcpy(dst, s, size);
}

void
parse_rule_reset(void)
{
	memset(&prule, 0, sizeof(prule));
	plist = -1;
	plist_anon = 0;
}

/* "table <name> ...": the names that follow go to it. */
void
parse_table(const char *name)
{
	if (prules == NULL)
		return;
	if ((plist = ruleset_table(prules, name, stmt_where)) == -1) {
		if (errno == EEXIST)
			parse_error("table <%s> defined twice", name);
		else if (errno == ENAMETOOLONG)
			parse_error("table name <%s> too long (max %d bytes)",
			    name, RULE_TABLE_NAME_MAX - 1);
		else
			parse_error("table <%s>: %s", name, strerror(errno));
	}
}

/* One name of a list, checked now so that its line is the one blamed. */
void
parse_list_name(const char *name)
{
	if (prules == NULL)
		return;
	if (plist == -1) {
		if ((plist = ruleset_table(prules, "", stmt_where)) == -1) {
			parse_error("too many tables and lists (max %d)",
			    RULE_MAX_TABLES);
			return;
		}
		plist_anon = 1;
	}
	if (names_add(pcheck, name, plist) == -1) {
		if (errno == EINVAL)
			parse_error("invalid name \"%s\"", name);
		else
			parse_error("\"%s\": %s", name, strerror(errno));
		return;
	}
	if (ruleset_source(prules, plist, SOURCE_NAME, name, stmt_where) == -1)
		parse_error("\"%s\": %s", name, strerror(errno));
}

void
parse_list_file(const char *path)
{
	if (prules == NULL || plist == -1)
		return;
	if (path[0] != '/') {
		parse_error("table file \"%s\" is not an absolute path", path);
		return;
	}
	if (ruleset_source(prules, plist, SOURCE_FILE, path, stmt_where) == -1)
		parse_error("\"%s\": %s", path, strerror(errno));
}

/* The inline list just read, as a table of its own. */
int
parse_list_end(void)
{
	int	t = plist;

	plist = -1;
	return (t == -1 ? 0 : t);
}

int
parse_table_ref(const char *name)
{
	int	t;

	if (prules == NULL)
		return (0);
	if ((t = ruleset_find_table(prules, name)) == -1) {
		parse_error("table <%s> is not defined", name);
		return (0);
	}
	return (t);
}

void
parse_rule_from(const char *s)
{
	struct conf_prefix	p;

	if (parse_prefix(s, &p) == -1)
		return;
	if (p.family != AF_INET) {
		parse_error("from %s: clients are IPv4", s);
		return;
	}
	prule.from_any = 0;
	prule.from_addr = p.addr;
	prule.from_len = p.len;
}

void
parse_rule(int action, int quick, int table)
{
	/* A source of one family cannot reach a server of the other. */
	if (action == RULE_ROUTE && prule.route.via != VIA_DIRECT &&
	    prule.route.server.sa.sa_family == AF_INET6 &&
	    prule.route.source.sin_addr.s_addr != INADDR_ANY)
		parse_error("source: an IPv4 address cannot reach the IPv6 "
		    "server of via");
	if (prules == NULL || perrors > 0)
		return;
	prule.action = action;
	prule.quick = quick;
	prule.table = table;
	strlcpy(prule.where, stmt_where, sizeof(prule.where));
	if (action != RULE_ROUTE)
		memset(&prule.route, 0, sizeof(prule.route));
	prule.route.action = action;
	if (ruleset_rule(prules, &prule) == -1)
		parse_error("too many rules (max %d)", RULE_MAX_RULES);
}

/* "via socks5 HOST [port N]" or "via http HOST [port N]". */
void
parse_via(const char *kind, const char *host, long long port)
{
	struct rule_route	*rt = &prule.route;

	if (rt->via != VIA_DIRECT) {
		parse_error("one via per rule");
		return;
	}
	if (strcmp(kind, "socks5") == 0) {
		rt->via = VIA_SOCKS5;
		if (port == -1)
			port = 1080;
	} else if (strcmp(kind, "http") == 0) {
		rt->via = VIA_HTTP;
		if (port == -1)
			port = 3128;
	} else {
		parse_error("via \"%s\": expected socks5 or http", kind);
		return;
	}
	if (port == 0)
		return;
	if (conf_parse_sockaddr(host, port, &rt->server) == -1)
		parse_error("via %s: invalid address \"%s\"", kind, host);
}

void
parse_route_auth(const char *user, const char *password)
{
	struct rule_route	*rt = &prule.route;

	if (user[0] == '\0' || strlen(user) >= sizeof(rt->user) ||
	    strlen(password) >= sizeof(rt->password))
		parse_error("user and password: 1 to %zu bytes each",
		    sizeof(rt->user) - 1);
	else {
		strlcpy(rt->user, user, sizeof(rt->user));
		strlcpy(rt->password, password, sizeof(rt->password));
	}
}

void
parse_route_mark(const char *s)
{
	uint32_t	mark;

	if (parse_u32("mark", s, &mark) == 0)
		prule.route.mark = mark;
}

/* A mark or a routing table: 1 to 2^32-1, in decimal or 0x hex. */
static int
parse_u32(const char *what, const char *s, uint32_t *v)
{
	const char	*errstr;
	char		*end;
	long long	 n;

	n = strtonum(s, 1, UINT32_MAX, &errstr);
	if (errstr != NULL && strncmp(s, "0x", 2) == 0) {
		errno = 0;
		n = strtoll(s + 2, &end, 16);
		if (errno == 0 && *end == '\0' && s[2] != '\0' && n >= 1 &&
		    n <= UINT32_MAX)
			errstr = NULL;
	}
	if (errstr != NULL) {
		parse_error("%s \"%s\": expected 1 to %u", what, s,
		    UINT32_MAX);
		return (-1);
	}
	*v = n;
	return (0);
}

void
parse_tproxy_number(const char *what, const char *s, uint32_t *v)
{
	uint32_t	n;

	if (parse_u32(what, s, &n) == -1)
		return;
	/* The kernel's own tables: local, main and default. */
	if (v == &pconf->tproxy_table && n >= 253 && n <= 255) {
		parse_error("%s %s is one of the kernel's own", what, s);
		return;
	}
	*v = n;
}

void
parse_tproxy_check(const char *s)
{
	if (strcmp(s, "no") == 0)
		pconf->tproxy_check_ms = 0;
	else
		parse_duration("tproxy check", s, 0, &pconf->tproxy_check_ms);
}

void
parse_route_iface(const char *s)
{
	if (s[0] == '\0' || strlen(s) >= sizeof(prule.route.ifname) ||
	    strchr(s, '/') != NULL)
		parse_error("invalid interface name \"%s\"", s);
	else
		strlcpy(prule.route.ifname, s, sizeof(prule.route.ifname));
}

void
parse_route_source(const char *s)
{
	struct in_addr	ina;

	if (parse_addr(s, &ina) == -1 || ina.s_addr == INADDR_ANY) {
		parse_error("invalid source address \"%s\"", s);
		return;
	}
	prule.route.source.sin_family = AF_INET;
	prule.route.source.sin_addr = ina;
}

/* Whether two tables hold the same names, given the same way. */
static int
parse_same_names(int a, int b)
{
	const struct rule_source	*sa, *sb;
	size_t				 i = 0, j = 0;

	for (;;) {
		while (i < prules->nsources && prules->sources[i].table != a)
			i++;
		while (j < prules->nsources && prules->sources[j].table != b)
			j++;
		if (i == prules->nsources || j == prules->nsources)
			return (i == prules->nsources && j == prules->nsources);
		sa = &prules->sources[i++];
		sb = &prules->sources[j++];
		if (sa->kind != sb->kind || strcmp(ruleset_text(prules, sa),
		    ruleset_text(prules, sb)) != 0)
			return (0);
	}
}

/*
 * "dns upstream ADDR [port N] [tls [name H]] for NAMES": lines for the
 * same names, be they a table or the same inline list, make one set of
 * upstreams.
 */
void
parse_split(const char *addr, long long port, const char *name, int table)
{
	struct rule_upstream	 u, *g;
	size_t			 i;

	if (prules == NULL || port == 0 || perrors > 0)
		return;
	memset(&u, 0, sizeof(u));
	if (parse_upstream_addr(addr, port, name, &u.upstream[0]) == -1)
		return;
	for (i = 0; i < prules->nupstreams; i++) {
		g = &prules->upstreams[i];
		if (g->table != table && (table == RULE_TABLE_ANY ||
		    g->table == RULE_TABLE_ANY ||
		    prules->tables[table].name[0] != '\0' ||
		    prules->tables[g->table].name[0] != '\0' ||
		    !parse_same_names(g->table, table)))
			continue;
		if (g->count >= CONF_MAX_UPSTREAM) {
			parse_error("too many upstreams for these names "
			    "(max %d)", CONF_MAX_UPSTREAM);
			return;
		}
		g->upstream[g->count++] = u.upstream[0];
		return;
	}
	u.table = table;
	u.count = 1;
	strlcpy(u.where, stmt_where, sizeof(u.where));
	if (ruleset_upstream(prules, &u) == -1)
		parse_error("too many split DNS lines");
}
