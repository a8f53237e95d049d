/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * conf.c: the configuration apart from its grammar: the built-in defaults,
 * the semantic checks run on the combined result of file and command line,
 * the normalised printout of dns44 -n, and the small parsers and
 * formatters for addresses, ranges and durations that the grammar and the
 * command-line flags share.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"

static int	 conf_addr_in_range(const struct dns44_conf *,
		    const struct sockaddr_in *);
static void	 conf_print_string(FILE *, const char *);
static void	 conf_print_sockaddr(FILE *, const char *,
		    const struct sockaddr_in *);
static void	 conf_print_prefix(FILE *, const char *,
		    const struct conf_prefix *);

void
conf_defaults(struct dns44_conf *conf)
{
	memset(conf, 0, sizeof(*conf));

	if (conf_parse_hostport(DEFAULT_DNS_ADDR, DEFAULT_DNS_PORT,
	    &conf->dns_listen[0]) == -1 ||
	    conf_parse_upstream(DEFAULT_UPSTREAM, DEFAULT_UPSTREAM_PORT, 0,
	    NULL, &conf->upstream[0]) == -1 ||
	    conf_parse_hostport(DEFAULT_PROXY_ADDR, DEFAULT_PROXY_PORT,
	    &conf->proxy_listen) == -1 ||
	    conf_parse_range(DEFAULT_RANGE, conf) == -1)
		abort();	/* the built-in defaults are wrong */
	conf->dns_listen_count = 1;
	conf->upstream_count = 1;

	conf->ttl = DEFAULT_TTL;
	conf->grace_ms = DEFAULT_GRACE_MS;
	conf->dial_ms = DEFAULT_DIAL_MS;
	conf->attempt_delay_ms = DEFAULT_ATTEMPT_DELAY_MS;
	conf->prefer_family = AF_INET6;
	conf->tcp_idle_ms = DEFAULT_TCP_IDLE_MS;
	conf->udp_idle_ms = DEFAULT_UDP_IDLE_MS;
	conf->dns_tcp_idle_ms = DEFAULT_DNS_TCP_IDLE_MS;
	conf->upstream_ms = DEFAULT_UPSTREAM_MS;
	conf->max_conn = DEFAULT_MAX_CONN;
	conf->max_sessions = DEFAULT_MAX_SESSIONS;
	conf->proxy_workers = DEFAULT_PROXY_WORKERS;
	conf->max_dns_tcp = DEFAULT_MAX_DNS_TCP;

	/* All four fit: the struct sizes are larger than any default. */
	strlcpy(conf->db_dir, DNS44_DBDIR, sizeof(conf->db_dir));
	strlcpy(conf->empty_dir, DNS44_EMPTY_DIR, sizeof(conf->empty_dir));
	strlcpy(conf->control_path, DNS44_CONTROL,
	    sizeof(conf->control_path));
	strlcpy(conf->user, DNS44_USER, sizeof(conf->user));
	conf->control_group[0] = '\0';
	conf->control_admin_group[0] = '\0';
	strlcpy(conf->redis_master, DEFAULT_REDIS_MASTER,
	    sizeof(conf->redis_master));
	conf->control_gid = conf->control_admin_gid = (gid_t)-1;
	conf->user_set = 0;
	conf->verbose = 0;

	conf->udp_size = DEFAULT_UDP_SIZE;
	conf->dns_tcp_query_ms = DEFAULT_DNS_TCP_QUERY_MS;
	conf->halfclose_ms = DEFAULT_HALFCLOSE_MS;
	conf->unanswered_ms = DEFAULT_UNANSWERED_MS;
	conf->answered_ms = DEFAULT_ANSWERED_MS;
	conf->reply_priv_ports = 0;
	conf->new_names = DEFAULT_NEW_NAMES;
	conf->new_burst = DEFAULT_NEW_BURST;
	conf->client_dns_tcp = DEFAULT_CLIENT_DNS_TCP;
	conf->client_conn = DEFAULT_CLIENT_CONN;
	conf->client_sessions = DEFAULT_CLIENT_SESSIONS;
	conf->dns_ptr = 1;
	conf->dns_verify = 1;
	conf->tproxy_setup = 0;
	conf->tproxy_mark = DEFAULT_TPROXY_MARK;
	conf->tproxy_table = DEFAULT_TPROXY_TABLE;
	conf->tproxy_check_ms = DEFAULT_TPROXY_CHECK_MS;
}

/* Print a string in double quotes, the way the grammar reads it back. */
static void
conf_print_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
conf_print_sockaddr(FILE *fp, const char *what, const struct sockaddr_in *sin)
{
	char	addr[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)) == NULL)
		strlcpy(addr, "?", sizeof(addr));
	fprintf(fp, "%s %s port %u\n", what, addr, ntohs(sin->sin_port));
}

void
conf_print(FILE *fp, const struct dns44_conf *conf)
{
	char		buf[64], first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
	struct in_addr	ina;
	uint32_t	mask;
	int		i;

	for (i = 0; i < conf->dns_listen_count; i++)
		conf_print_sockaddr(fp, "dns listen", &conf->dns_listen[i]);
	for (i = 0; i < conf->upstream_count; i++) {
		conf_print_upstream(fp, &conf->upstream[i]);
		fputc('\n', fp);
	}
	if (conf->tls_ca[0] != '\0') {
		fputs("dns tls-ca ", fp);
		conf_print_string(fp, conf->tls_ca);
		fputc('\n', fp);
	}
	fprintf(fp, "dns ttl %u\n", conf->ttl);
	fprintf(fp, "dns upstream-timeout %s\n",
	    conf_fmt_duration(conf->upstream_ms, buf, sizeof(buf)));
	fprintf(fp, "dns tcp-idle-timeout %s\n",
	    conf_fmt_duration(conf->dns_tcp_idle_ms, buf, sizeof(buf)));
	fprintf(fp, "dns tcp-clients %u\n", conf->max_dns_tcp);
	fprintf(fp, "dns tcp-query-timeout %s\n",
	    conf_fmt_duration(conf->dns_tcp_query_ms, buf, sizeof(buf)));
	fprintf(fp, "dns udp-size %u\n", conf->udp_size);
	fprintf(fp, "dns per-client tcp-clients %u\n", conf->client_dns_tcp);
	fprintf(fp, "dns new-names %u burst %u\n", conf->new_names,
	    conf->new_burst);

	if (conf->range_prefix >= 0) {
		mask = conf->range_prefix == 0 ? 0 :
		    0xffffffffU << (32 - conf->range_prefix);
		ina.s_addr = htonl(conf->range_first & mask);
		inet_ntop(AF_INET, &ina, first, sizeof(first));
		fprintf(fp, "range %s/%d\n", first, conf->range_prefix);
	} else {
		ina.s_addr = htonl(conf->range_first);
		inet_ntop(AF_INET, &ina, first, sizeof(first));
		ina.s_addr = htonl(conf->range_last);
		inet_ntop(AF_INET, &ina, last, sizeof(last));
		fprintf(fp, "range %s - %s\n", first, last);
	}
	fprintf(fp, "reuse-grace %s\n",
	    conf_fmt_duration(conf->grace_ms, buf, sizeof(buf)));
	fputs("database ", fp);
	conf_print_string(fp, conf->db_dir);
	fputc('\n', fp);
	if (conf->redis.sin_port != 0)
		conf_print_sockaddr(fp, "database redis", &conf->redis);
	for (i = 0; i < conf->sentinel_count; i++)
		conf_print_sockaddr(fp, "database sentinel",
		    &conf->sentinels[i]);
	if (conf->sentinel_count > 0) {
		fputs("database master ", fp);
		conf_print_string(fp, conf->redis_master);
		fputc('\n', fp);
	}
	if (CONF_SHARED_MAP(conf)) {
		/* Never the secret itself: this is shown by dns44ctl. */
		if (conf->redis_password[0] != '\0')
			fputs("database password \"(set)\"\n", fp);
		fprintf(fp, "database wait %u\n", conf->redis_wait);
	}
	fputs("user ", fp);
	conf_print_string(fp, conf->user);
	fputc('\n', fp);

	conf_print_sockaddr(fp, "proxy listen", &conf->proxy_listen);
	fprintf(fp, "proxy dial-timeout %s\n",
	    conf_fmt_duration(conf->dial_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy prefer %s\n",
	    conf->prefer_family == AF_INET ? "ipv4" : "ipv6");
	fprintf(fp, "proxy connection-attempt-delay %s\n",
	    conf_fmt_duration(conf->attempt_delay_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy tcp-idle-timeout %s\n",
	    conf_fmt_duration(conf->tcp_idle_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy udp-idle-timeout %s\n",
	    conf_fmt_duration(conf->udp_idle_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy connections %u\n", conf->max_conn);
	fprintf(fp, "proxy sessions %u\n", conf->max_sessions);
	fprintf(fp, "proxy tcp-halfclose-timeout %s\n",
	    conf_fmt_duration(conf->halfclose_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy udp-unanswered-timeout %s\n",
	    conf_fmt_duration(conf->unanswered_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy udp-answered-timeout %s\n",
	    conf_fmt_duration(conf->answered_ms, buf, sizeof(buf)));
	fprintf(fp, "proxy per-client connections %u\n", conf->client_conn);
	fprintf(fp, "proxy per-client sessions %u\n", conf->client_sessions);
	if (conf->proxy_workers == 0)
		fputs("proxy workers auto\n", fp);
	else
		fprintf(fp, "proxy workers %u\n", conf->proxy_workers);
	fputs("proxy chroot ", fp);
	conf_print_string(fp, conf->empty_dir);
	fprintf(fp, "\nproxy reply-privileged-ports %s",
	    conf->reply_priv_ports ? "yes" : "no");

	fputs("\ncontrol socket ", fp);
	conf_print_string(fp, conf->control_path);
	if (conf->control_group[0] != '\0') {
		fputs(" group ", fp);
		conf_print_string(fp, conf->control_group);
	}
	if (conf->control_admin_group[0] != '\0') {
		fputs("\ncontrol admin-group ", fp);
		conf_print_string(fp, conf->control_admin_group);
	}
	fprintf(fp, "\nlog %s\n", conf->verbose ? "verbose" : "brief");
	if (conf->metrics)
		conf_print_sockaddr(fp, "metrics listen",
		    &conf->metrics_listen);

	/* Who is served and where the proxy dials: only what was set. */
	for (i = 0; i < conf->proxy_rule_count; i++)
		conf_print_prefix(fp, conf->proxy_rules[i].allow ?
		    "proxy allow" : "proxy deny", &conf->proxy_rules[i]);
	for (i = 0; i < conf->client_net_count; i++)
		conf_print_prefix(fp, "allow from", &conf->client_nets[i]);
	if (conf->client_any)
		fputs("allow from any\n", fp);
	if (!conf->dns_ptr)
		fputs("dns ptr no\n", fp);
	if (!conf->dns_verify)
		fputs("dns verify no\n", fp);
	/* The TPROXY plumbing: only what differs from the defaults. */
	if (conf->tproxy_setup)
		fputs("tproxy setup yes\n", fp);
	if (conf->tproxy_mark != DEFAULT_TPROXY_MARK)
		fprintf(fp, "tproxy mark %u\n", conf->tproxy_mark);
	if (conf->tproxy_table != DEFAULT_TPROXY_TABLE)
		fprintf(fp, "tproxy table %u\n", conf->tproxy_table);
	if (conf->tproxy_check_ms == 0)
		fputs("tproxy check no\n", fp);
	else if (conf->tproxy_check_ms != DEFAULT_TPROXY_CHECK_MS)
		fprintf(fp, "tproxy check %s\n", conf_fmt_duration(
		    conf->tproxy_check_ms, buf, sizeof(buf)));
}

static void
conf_print_prefix(FILE *fp, const char *what, const struct conf_prefix *p)
{
	char		addr[INET6_ADDRSTRLEN];
	struct in_addr	ina;

	ina.s_addr = htonl(p->addr);
	if ((p->family == AF_INET6 ? inet_ntop(AF_INET6, &p->addr6, addr,
	    sizeof(addr)) : inet_ntop(AF_INET, &ina, addr,
	    sizeof(addr))) == NULL)
		strlcpy(addr, "?", sizeof(addr));
	fprintf(fp, "%s %s/%u\n", what, addr, p->len);
}

/* Whether a (host byte order) is one of the virtual range's addresses. */
int
conf_in_range(const struct dns44_conf *conf, uint32_t a)
{
	return (a >= conf->range_first && a <= conf->range_last);
}

static int
conf_addr_in_range(const struct dns44_conf *conf,
    const struct sockaddr_in *sin)
{
	return (conf_in_range(conf, ntohl(sin->sin_addr.s_addr)));
}

/* The metrics listener shares its TCP port with no other listener. */
static int
conf_check_metrics(const struct dns44_conf *conf, char *err, size_t errlen)
{
	const struct sockaddr_in	*m = &conf->metrics_listen;
	char				 addr[32];
	int				 i, clash = 0;

	if (!conf->metrics)
		return (0);
	conf_fmt_addr(m, addr, sizeof(addr));
	if (conf_addr_in_range(conf, m)) {
		snprintf(err, errlen, "metrics listen %s lies inside the "
		    "virtual range", addr);
		return (-1);
	}
	for (i = 0; i < conf->dns_listen_count; i++)
		if (conf->dns_listen[i].sin_addr.s_addr ==
		    m->sin_addr.s_addr &&
		    conf->dns_listen[i].sin_port == m->sin_port)
			clash = 1;
	if (conf->proxy_listen.sin_addr.s_addr == m->sin_addr.s_addr &&
	    conf->proxy_listen.sin_port == m->sin_port)
		clash = 1;
	if (clash) {
		snprintf(err, errlen, "metrics listen %s is also a dns or "
		    "proxy listen address", addr);
		return (-1);
	}
	return (0);
}

int
conf_check(const struct dns44_conf *conf, char *err, size_t errlen)
{
	char	addr[CONF_UPSTREAM_STRLEN];
	int	i, j;

	if (conf->dns_listen_count < 1) {
		snprintf(err, errlen, "no dns listen address");
		return (-1);
	}
	if (conf->upstream_count < 1) {
		snprintf(err, errlen, "no dns upstream");
		return (-1);
	}
	if (conf->range_first > conf->range_last) {
		snprintf(err, errlen, "the virtual range holds no address");
		return (-1);
	}
	for (i = 0; i < conf->dns_listen_count; i++) {
		conf_fmt_addr(&conf->dns_listen[i], addr, sizeof(addr));
		if (conf_addr_in_range(conf, &conf->dns_listen[i])) {
			snprintf(err, errlen, "dns listen %s lies inside the "
			    "virtual range", addr);
			return (-1);
		}
		for (j = 0; j < i; j++) {
			if (conf->dns_listen[j].sin_addr.s_addr ==
			    conf->dns_listen[i].sin_addr.s_addr &&
			    conf->dns_listen[j].sin_port ==
			    conf->dns_listen[i].sin_port) {
				snprintf(err, errlen, "duplicate dns listen %s",
				    addr);
				return (-1);
			}
		}
		if (conf->dns_listen[i].sin_addr.s_addr ==
		    conf->proxy_listen.sin_addr.s_addr &&
		    conf->dns_listen[i].sin_port ==
		    conf->proxy_listen.sin_port) {
			snprintf(err, errlen, "proxy listen %s is also a dns "
			    "listen address", addr);
			return (-1);
		}
	}
	for (i = 0; i < conf->upstream_count; i++) {
		if (conf->upstream[i].addr.sa.sa_family == AF_INET &&
		    conf_addr_in_range(conf, &conf->upstream[i].addr.sin)) {
			snprintf(err, errlen, "upstream %s lies inside the "
			    "virtual range", conf_fmt_upstream(
			    &conf->upstream[i], addr, sizeof(addr)));
			return (-1);
		}
	}
	for (i = -1; i < conf->sentinel_count; i++) {
		if (i == -1 && conf->redis.sin_port == 0)
			continue;
		if (conf_addr_in_range(conf, i == -1 ? &conf->redis :
		    &conf->sentinels[i])) {
			snprintf(err, errlen, "database %s %s lies inside the "
			    "virtual range", i == -1 ? "redis" : "sentinel",
			    conf_fmt_addr(i == -1 ? &conf->redis :
			    &conf->sentinels[i], addr, sizeof(addr)));
			return (-1);
		}
	}
	if (conf_addr_in_range(conf, &conf->proxy_listen)) {
		snprintf(err, errlen, "proxy listen %s lies inside the "
		    "virtual range", conf_fmt_addr(&conf->proxy_listen,
		    addr, sizeof(addr)));
		return (-1);
	}
	return (conf_check_metrics(conf, err, errlen));
}

/* A dotted quad of len bytes at s (not a string), to host byte order. */
int
conf_parse_addr(const char *s, size_t len, uint32_t *addr)
{
	char		buf[INET_ADDRSTRLEN];
	struct in_addr	ina;

	if (len >= sizeof(buf))
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &ina) != 1)
		return (-1);
	*addr = ntohl(ina.s_addr);
	return (0);
}

/* "1.2.3.4" or "1.2.3.4:53"; the port is defport when not given. */
int
conf_parse_hostport(const char *str, in_port_t defport,
    struct sockaddr_in *sin)
{
	const char	*colon, *errstr;
	uint32_t	 addr;
	long long	 port = defport;

	if ((colon = strchr(str, ':')) == NULL)
		colon = str + strlen(str);
	else {
		port = strtonum(colon + 1, 1, 65535, &errstr);
		if (!isdigit((unsigned char)colon[1]) || errstr != NULL)
			return (-1);
	}
	if (conf_parse_addr(str, colon - str, &addr) == -1)
		return (-1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons((in_port_t)port);
	return (0);
}

/*
 * "a.b.c.d/n" or "a.b.c.d-e.f.g.h" (blanks around the dash allowed).  On
 * failure conf is untouched and errno says why, for the messages of the
 * grammar: EDOM when the CIDR address has host bits set, ERANGE when the
 * first address is above the last, EINVAL for anything else.
 */
int
conf_parse_range(const char *str, struct dns44_conf *conf)
{
	const char	*sep, *end, *errstr;
	uint32_t	 first, last, mask;
	long long	 prefix;

	if ((sep = strchr(str, '/')) != NULL) {
		prefix = strtonum(sep + 1, 0, 32, &errstr);
		if (!isdigit((unsigned char)sep[1]) || errstr != NULL ||
		    conf_parse_addr(str, sep - str, &first) == -1) {
			errno = EINVAL;
			return (-1);
		}
		mask = prefix == 0 ? 0 : 0xffffffffU << (32 - prefix);
		if ((first & ~mask) != 0) {
			errno = EDOM;
			return (-1);
		}
		last = first | ~mask;
		if (prefix <= 30) {
			/* Leave out the network and broadcast addresses. */
			first++;
			last--;
		}
		conf->range_first = first;
		conf->range_last = last;
		conf->range_prefix = (int)prefix;
		return (0);
	}

	if ((sep = strchr(str, '-')) == NULL) {
		errno = EINVAL;
		return (-1);
	}
	for (end = sep; end > str && isblank((unsigned char)end[-1]); end--)
		;
	if (conf_parse_addr(str, end - str, &first) == -1) {
		errno = EINVAL;
		return (-1);
	}
	for (sep++; isblank((unsigned char)*sep); sep++)
		;
	if (conf_parse_addr(sep, strlen(sep), &last) == -1) {
		errno = EINVAL;
		return (-1);
	}
	if (first > last) {
		errno = ERANGE;
		return (-1);
	}
	conf->range_first = first;
	conf->range_last = last;
	conf->range_prefix = -1;
	return (0);
}

/*
 * A duration as Go's time.ParseDuration reads it, into milliseconds: an
 * optional "+", then number+unit groups, each number with an optional
 * fraction ("1.5s", "1h30m", "2h45m30.5s", ".5s"), the units ns, us, µs
 * (U+00B5 or U+03BC), ms, s, m and h; a bare "0".  A bare whole number
 * is seconds, as it has always been here.  The total is rounded up to a
 * whole millisecond, so that "250us" is 1ms and never 0.  errno is
 * EINVAL for anything else, EDOM for a negative duration and ERANGE when
 * the result does not fit 32 bits of milliseconds.
 */
int
conf_parse_duration(const char *str, uint32_t *ms)
{
	static const struct {
		const char	*name;
		uint64_t	 ns;
	} units[] = {
		/* Longest first where one is the other's prefix. */
		{ "ns", 1ULL },
		{ "us", 1000ULL },
		{ "\xc2\xb5s", 1000ULL },		/* U+00B5 micro sign */
		{ "\xce\xbcs", 1000ULL },		/* U+03BC mu */
		{ "ms", 1000ULL * 1000 },
		{ "s", 1000ULL * 1000 * 1000 },
		{ "m", 60ULL * 1000 * 1000 * 1000 },
		{ "h", 3600ULL * 1000 * 1000 * 1000 },
	};
	/* The longest duration that rounds to UINT32_MAX ms or less. */
	const uint64_t	 max = (uint64_t)UINT32_MAX * 1000000;
	const char	*p = str;
	uint64_t	 total = 0, n, frac, unit;
	double		 scale;
	size_t		 i, len;
	int		 digits;

	if (*p == '\0') {
		errno = EINVAL;
		return (-1);
	}
	if (str[strspn(str, "0123456789")] == '\0') {
		/* A bare number: seconds. */
		for (n = 0; *p != '\0'; p++) {
			n = n * 10 + (*p - '0');
			if (n > UINT32_MAX / 1000) {
				errno = ERANGE;
				return (-1);
			}
		}
		*ms = (uint32_t)(n * 1000);
		return (0);
	}
	if (*p == '-') {
		/* Only junk is junk: "-1s" is a duration, if negative. */
		if (conf_parse_duration(p + 1, ms) == 0) {
			if (*ms == 0)
				return (0);
			errno = EDOM;
		} else if (errno == ERANGE)
			errno = EDOM;
		else
			errno = EINVAL;
		return (-1);
	}
	if (*p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return (0);
	}
	if (*p == '\0') {
		errno = EINVAL;
		return (-1);
	}
	while (*p != '\0') {
		/* The whole part, then the fraction: one of them at least. */
		digits = 0;
		for (n = 0; isdigit((unsigned char)*p); p++, digits++) {
			n = n * 10 + (*p - '0');
			if (n > max) {
				errno = ERANGE;
				return (-1);
			}
		}
		frac = 0;
		scale = 1;
		if (*p == '.') {
			for (p++; isdigit((unsigned char)*p); p++, digits++) {
				/* Past 18 digits nothing is left to see. */
				if (scale >= 1e18)
					continue;
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
		}
		if (digits == 0) {
			errno = EINVAL;
			return (-1);
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			len = strlen(units[i].name);
			if (strncmp(p, units[i].name, len) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0])) {
			errno = EINVAL;
			return (-1);
		}
		p += len;
		unit = units[i].ns;
		if (n > max / unit) {
			errno = ERANGE;
			return (-1);
		}
		total += n * unit;
		/* As Go does it: the fraction of a unit, to whole ns. */
		if (frac > 0)
			total += (uint64_t)((double)frac *
			    ((double)unit / scale));
		if (total > max) {
			errno = ERANGE;
			return (-1);
		}
	}
	*ms = (uint32_t)((total + 999999) / 1000000);
	return (0);
}

/* The canonical form: largest units first, "0s" for nothing. */
const char *
conf_fmt_duration(uint32_t ms, char *buf, size_t len)
{
	static const struct {
		const char	*name;
		uint32_t	 ms;
	} units[] = {
		{ "h", 3600 * 1000 },
		{ "m", 60 * 1000 },
		{ "s", 1000 },
		{ "ms", 1 },
	};
	char	part[16];
	size_t	i;

	if (len == 0)
		return (buf);
	buf[0] = '\0';
	if (ms == 0) {
		strlcpy(buf, "0s", len);
		return (buf);
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms < units[i].ms)
			continue;
		snprintf(part, sizeof(part), "%u%s", ms / units[i].ms,
		    units[i].name);
		strlcat(buf, part, len);
		ms %= units[i].ms;
	}
	return (buf);
}

/* "1.2.3.4:53" */
const char *
conf_fmt_addr(const struct sockaddr_in *sin, char *buf, size_t len)
{
	union conf_addr	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin = *sin;
	sa.sin.sin_family = AF_INET;
	return (conf_fmt_sockaddr(&sa, buf, len));
}

/* An IPv4 or IPv6 address and a port (host order) into sa; -1: bad. */
int
conf_parse_sockaddr(const char *addr, in_port_t port, union conf_addr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &sa->sin.sin_addr) == 1) {
		sa->sin.sin_family = AF_INET;
		sa->sin.sin_port = htons(port);
	} else if (inet_pton(AF_INET6, addr, &sa->sin6.sin6_addr) == 1) {
		sa->sin6.sin6_family = AF_INET6;
		sa->sin6.sin6_port = htons(port);
	} else
		return (-1);
	return (0);
}

/* The address alone, of either family, as it is written in the file. */
const char *
conf_fmt_host(const union conf_addr *sa, char *buf, size_t len)
{
	const void	*a = sa->sa.sa_family == AF_INET6 ?
			    (const void *)&sa->sin6.sin6_addr :
			    (const void *)&sa->sin.sin_addr;

	if ((sa->sa.sa_family != AF_INET && sa->sa.sa_family != AF_INET6) ||
	    inet_ntop(sa->sa.sa_family, a, buf, len) == NULL)
		strlcpy(buf, "?", len);
	return (buf);
}

/* The port, in host order, of an address of either family. */
in_port_t
conf_port(const union conf_addr *sa)
{
	return (ntohs(sa->sa.sa_family == AF_INET6 ? sa->sin6.sin6_port :
	    sa->sin.sin_port));
}

/* The port of an address of either family set to port (host order). */
void
conf_set_port(union conf_addr *sa, in_port_t port)
{
	if (sa->sa.sa_family == AF_INET6)
		sa->sin6.sin6_port = htons(port);
	else
		sa->sin.sin_port = htons(port);
}

/* The length of the address, for connect() and bind(). */
socklen_t
conf_addr_len(const union conf_addr *sa)
{
	return (sa->sa.sa_family == AF_INET6 ? sizeof(sa->sin6) :
	    sizeof(sa->sin));
}

/* "192.0.2.1:1080" or "[2001:db8::1]:1080". */
const char *
conf_fmt_sockaddr(const union conf_addr *sa, char *buf, size_t len)
{
	char	addr[INET6_ADDRSTRLEN];

	conf_fmt_host(sa, addr, sizeof(addr));
	snprintf(buf, len, sa->sa.sa_family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", addr, conf_port(sa));
	return (buf);
}

/*
 * An upstream: an IPv4 or IPv6 address, a port (-1: the default for plain
 * DNS or for TLS), whether it speaks TLS, and the name its certificate must
 * carry (NULL or "": its address).  -1 on a bad address or name.
 */
int
conf_parse_upstream(const char *addr, int port, int tls, const char *name,
    struct conf_upstream *u)
{
	in_port_t	p;
	size_t		i, len;

	if (port == -1)
		p = tls ? DEFAULT_TLS_PORT : DEFAULT_UPSTREAM_PORT;
	else if (port < 1 || port > 65535)
		return (-1);
	else
		p = port;
	memset(u, 0, sizeof(*u));
	if (conf_parse_sockaddr(addr, p, &u->addr) == -1)
		return (-1);
	u->tls = tls != 0;
	if (name == NULL || *name == '\0')
		return (0);
	if (!tls || (len = strlen(name)) >= CONF_TLS_NAME_MAX - 2)
		return (-1);
	/* A host name: letters, digits, hyphens and dots; no final dot. */
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '.' && name[i] != '_')
			return (-1);
	if (name[0] == '.' || name[len - 1] == '.' || strstr(name, "..") !=
	    NULL)
		return (-1);
	for (i = 0; i <= len; i++)
		u->tls_name[i] = tolower((unsigned char)name[i]);
	return (0);
}

/* The same upstream: address, port, TLS and the name checked. */
int
conf_upstream_same(const struct conf_upstream *a,
    const struct conf_upstream *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family ||
	    a->tls != b->tls || strcmp(a->tls_name, b->tls_name) != 0)
		return (0);
	if (a->addr.sa.sa_family == AF_INET)
		return (a->addr.sin.sin_addr.s_addr ==
		    b->addr.sin.sin_addr.s_addr &&
		    a->addr.sin.sin_port == b->addr.sin.sin_port);
	if (a->addr.sa.sa_family == AF_INET6)
		return (memcmp(&a->addr.sin6.sin6_addr,
		    &b->addr.sin6.sin6_addr, sizeof(struct in6_addr)) == 0 &&
		    a->addr.sin6.sin6_port == b->addr.sin6.sin6_port);
	return (0);
}

/* "1.2.3.4:53", "[fd44::2]:53", "tls://1.2.3.4:853" */
const char *
conf_fmt_upstream(const struct conf_upstream *u, char *buf, size_t len)
{
	char	sa[INET6_ADDRSTRLEN + 8];

	snprintf(buf, len, "%s%s", u->tls ? "tls://" : "",
	    conf_fmt_sockaddr(&u->addr, sa, sizeof(sa)));
	return (buf);
}

/* "dns upstream ADDR port N [tls [name "host"]]", without a newline. */
void
conf_print_upstream(FILE *fp, const struct conf_upstream *u)
{
	char	addr[INET6_ADDRSTRLEN];

	fprintf(fp, "dns upstream %s port %u", conf_fmt_host(&u->addr, addr,
	    sizeof(addr)), conf_port(&u->addr));
	if (u->tls)
		fputs(" tls", fp);
	if (u->tls_name[0] != '\0') {
		fputs(" name ", fp);
		conf_print_string(fp, u->tls_name);
	}
}
