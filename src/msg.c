/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * msg.c: framing, sending and receiving of the messages dns44's processes
 * exchange.  It owns the send queue of a channel, the passing of file
 * descriptors and the one table that says what each message type must look
 * like; every message sent or received is checked against that table.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "msg.h"

/* One message waiting to be sent: header and payload, built once. */
struct msg_out {
	TAILQ_ENTRY(msg_out)	 entry;
	int			 fd;		/* -1 when none */
	size_t			 len;		/* header and payload */
	unsigned char		 buf[];
};

/* What a message type must look like. */
struct msg_rule {
	const char	*name;
	size_t		 min;		/* payload length */
	size_t		 max;
	int		 fd;		/* 1: must carry one, 0: must not */
	int		(*check)(const unsigned char *, size_t);
};

/* A received message may bring more fds than allowed; room to close them. */
#define MSG_CMSG_FDS	8

static int	msg_has_nul(const unsigned char *, size_t, size_t);
static int	msg_check_sin(const unsigned char *, size_t);
static int	msg_check_conf(const unsigned char *, size_t);
static int	msg_check_prefixes(const unsigned char *, size_t, int, int,
		    int);
static int	msg_check_answer(const unsigned char *, size_t);
static int	msg_check_string(const unsigned char *, size_t);
static int	msg_check_map(const unsigned char *, size_t);
static int	msg_check_conn(const unsigned char *, size_t);
static int	msg_check_ifaddrs(const unsigned char *, size_t);
static int	msg_check_ctl_rule(const unsigned char *, size_t);
static int	msg_check_test(const unsigned char *, size_t);
static int	msg_check_tested(const unsigned char *, size_t);
static int	msg_check_dial(const unsigned char *, size_t);
static int	msg_check_upstreams(const unsigned char *, size_t);
static int	msg_check_status(const unsigned char *, size_t);
static const struct msg_rule *msg_rule(uint32_t, const void *, size_t, int);
static void	msg_close_fds(int *, size_t);

/* Payload sizes, short so that the table reads as one. */
#define CONF	sizeof(struct dns44_conf)
#define SIN	sizeof(struct sockaddr_in)
#define RSOCK	sizeof(struct msg_reply_sock)
#define LOOKUP	sizeof(struct msg_lookup)
#define ANSWER	sizeof(struct msg_answer)
#define LOG	sizeof(struct msg_log)
#define ANY	MSG_MAX_PAYLOAD
#define MAPENT	sizeof(struct ctl_map_entry)
#define FLUSHED	sizeof(struct ctl_flushed)
#define STATS	sizeof(struct ctl_stats_dns)
#define CONN	sizeof(struct ctl_conn)
#define PSTATS	sizeof(struct ctl_stats_proxy)
#define IFADDRS	sizeof(struct msg_ifaddrs)
#define RFILE	sizeof(struct msg_rules_file)
#define CRULE	sizeof(struct ctl_rule)
#define TEST	sizeof(struct ctl_test)
#define TESTED	sizeof(struct ctl_tested)
#define DSOCK	sizeof(struct msg_dial_sock)
#define UPS	sizeof(struct ctl_upstream)
#define ALIVE	sizeof(struct msg_alive)
#define STATUS	sizeof(struct ctl_status)
#define RULE(type, min, max, fd, check)					\
	[type] = { #type, (min), (max), (fd), (check) }

/* Indexed by type; a type without an entry is unknown. */
static const struct msg_rule msg_rules[MSG_TYPE_MAX] = {
	/*   type			min	max	fd check */
	RULE(MSG_CONF,			CONF,	CONF,	0, msg_check_conf),
	RULE(MSG_SOCK_DNS_UDP,		SIN,	SIN,	1, msg_check_sin),
	RULE(MSG_SOCK_DNS_TCP,		SIN,	SIN,	1, msg_check_sin),
	RULE(MSG_SOCK_PROXY_TCP,	SIN,	SIN,	1, msg_check_sin),
	RULE(MSG_SOCK_PROXY_UDP,	SIN,	SIN,	1, msg_check_sin),
	RULE(MSG_SOCK_CONTROL,		0,	0,	1, NULL),
	RULE(MSG_SOCK_PEER,		0,	0,	1, NULL),
	RULE(MSG_SOCK_END,		0,	0,	0, NULL),
	RULE(MSG_SHUTDOWN,		0,	0,	0, NULL),
	RULE(MSG_REPLY_SOCK_REQ,	RSOCK,	RSOCK,	0, NULL),
	RULE(MSG_REPLY_SOCK,		RSOCK,	RSOCK,	1, NULL),
	RULE(MSG_REPLY_SOCK_FAIL,	RSOCK,	RSOCK,	0, NULL),
	RULE(MSG_LOOKUP,		LOOKUP,	LOOKUP,	0, NULL),
	RULE(MSG_LOOKUP_ANSWER,		ANSWER,	ANSWER,	0, msg_check_answer),
	RULE(MSG_LOOKUP_MISS,		LOOKUP,	LOOKUP,	0, NULL),
	RULE(MSG_IN_USE,		LOOKUP,	LOOKUP,	0, NULL),
	RULE(MSG_RELEASED,		LOOKUP,	LOOKUP,	0, NULL),
	RULE(MSG_EVICTED,		LOOKUP,	LOOKUP,	0, NULL),
	RULE(MSG_CTL_RELOAD,		0,	0,	0, NULL),
	RULE(MSG_CTL_LOG,		LOG,	LOG,	0, NULL),
	RULE(MSG_CTL_OK,		0,	0,	0, NULL),
	RULE(MSG_CTL_FAIL,		1,	ANY,	0, msg_check_string),
	RULE(MSG_CTL_SHOW_MAP,		1,	256,	0, msg_check_string),
	RULE(MSG_CTL_LOOKUP,		1,	256,	0, msg_check_string),
	RULE(MSG_CTL_FLUSH,		1,	256,	0, msg_check_string),
	RULE(MSG_CTL_STATS,		0,	0,	0, NULL),
	RULE(MSG_CTL_MAP,		MAPENT,	MAPENT * CTL_MAP_CHUNK, 0,
	    msg_check_map),
	RULE(MSG_CTL_FLUSHED,		FLUSHED, FLUSHED, 0, NULL),
	RULE(MSG_CTL_STATS_DNS,		STATS,	STATS,	0, NULL),
	RULE(MSG_CTL_END,		0,	0,	0, NULL),
	RULE(MSG_CTL_SHOW_CONN,		0,	0,	0, NULL),
	RULE(MSG_CTL_CONN,		CONN,	CONN * CTL_CONN_CHUNK, 0,
	    msg_check_conn),
	RULE(MSG_CTL_STATS_PROXY,	PSTATS,	PSTATS,	0, NULL),
	RULE(MSG_IFADDRS,		IFADDRS, IFADDRS, 0, msg_check_ifaddrs),
	RULE(MSG_RULES,			1,	ANY,	0, NULL),
	RULE(MSG_RULES_FILE,		RFILE,	RFILE,	1, NULL),
	RULE(MSG_RULES_END,		0,	0,	0, NULL),
	RULE(MSG_CTL_SHOW_RULES,	0,	0,	0, NULL),
	RULE(MSG_CTL_RULE,		CRULE,	CRULE * CTL_RULE_CHUNK, 0,
	    msg_check_ctl_rule),
	RULE(MSG_CTL_TEST,		TEST,	TEST,	0, msg_check_test),
	RULE(MSG_CTL_TESTED,		TESTED,	TESTED,	0, msg_check_tested),
	RULE(MSG_DIAL_SOCK_REQ,		DSOCK,	DSOCK,	0, msg_check_dial),
	RULE(MSG_DIAL_SOCK,		DSOCK,	DSOCK,	1, msg_check_dial),
	RULE(MSG_DIAL_SOCK_FAIL,	DSOCK,	DSOCK,	0, msg_check_dial),
	RULE(MSG_CTL_UPSTREAMS,		UPS,	UPS * CTL_UPSTREAM_CHUNK, 0,
	    msg_check_upstreams),
	RULE(MSG_HEARTBEAT,		0,	0,	0, NULL),
	RULE(MSG_ALIVE,			ALIVE,	ALIVE,	0, NULL),
	RULE(MSG_CTL_STATUS,		0,	0,	0, NULL),
	RULE(MSG_CTL_STATUS_INFO,	STATUS,	STATUS,	0, msg_check_status),
	RULE(MSG_SOCK_METRICS,		SIN,	SIN,	1, msg_check_sin),
	RULE(MSG_CTL_METRICS,		0,	0,	0, NULL),
	RULE(MSG_CTL_METRICS_TEXT,	1,	ANY,	0, NULL),
};

#undef RULE
#undef STATUS
#undef UPS
#undef ALIVE
#undef DSOCK
#undef TESTED
#undef TEST
#undef CRULE
#undef RFILE
#undef IFADDRS
#undef ANY
#undef MAPENT
#undef FLUSHED
#undef STATS
#undef CONN
#undef PSTATS
#undef LOG
#undef ANSWER
#undef LOOKUP
#undef RSOCK
#undef SIN
#undef CONF

/* The checks below read through memcpy: a fuzzer's buffer is unaligned. */

static int
msg_check_sin(const unsigned char *p, size_t len)
{
	sa_family_t	 family;

	(void)len;
	memcpy(&family, p + offsetof(struct sockaddr_in, sin_family),
	    sizeof(family));
	return (family == AF_INET ? 0 : -1);
}

static int
msg_has_nul(const unsigned char *p, size_t off, size_t size)
{
	return (memchr(p + off, '\0', size) != NULL);
}

/* A string member of struct dns44_conf holds its terminating NUL. */
#define CONF_STR_OK(p, f)						\
	msg_has_nul((p), offsetof(struct dns44_conf, f),		\
	    sizeof(((struct dns44_conf *)0)->f))

static int
msg_check_conf(const unsigned char *p, size_t len)
{
	sa_family_t	 family;
	int		 ndns, nup, nrules, nnets, i;
	size_t		 off;

	(void)len;
	memcpy(&ndns, p + offsetof(struct dns44_conf, dns_listen_count),
	    sizeof(ndns));
	memcpy(&nup, p + offsetof(struct dns44_conf, upstream_count),
	    sizeof(nup));
	/* The counts index arrays in the receiver. */
	if (ndns < 0 || ndns > CONF_MAX_DNS_LISTEN ||
	    nup < 0 || nup > CONF_MAX_UPSTREAM)
		return (-1);
	if (!CONF_STR_OK(p, db_dir) || !CONF_STR_OK(p, empty_dir) ||
	    !CONF_STR_OK(p, control_path) || !CONF_STR_OK(p, control_group) ||
	    !CONF_STR_OK(p, user) || !CONF_STR_OK(p, tls_ca))
		return (-1);
	for (i = 0; i < CONF_MAX_UPSTREAM; i++) {
		off = offsetof(struct dns44_conf, upstream) +
		    i * sizeof(struct conf_upstream);
		memcpy(&family, p + off + offsetof(struct conf_upstream,
		    addr.sa.sa_family), sizeof(family));
		if ((i < nup && family != AF_INET && family != AF_INET6) ||
		    !msg_has_nul(p, off + offsetof(struct conf_upstream,
		    tls_name), CONF_TLS_NAME_MAX))
			return (-1);
	}
	memcpy(&nrules, p + offsetof(struct dns44_conf, proxy_rule_count),
	    sizeof(nrules));
	memcpy(&nnets, p + offsetof(struct dns44_conf, client_net_count),
	    sizeof(nnets));
	if (nrules < 0 || nrules > CONF_MAX_PROXY_RULES ||
	    nnets < 0 || nnets > CONF_MAX_CLIENT_NETS)
		return (-1);
	if (msg_check_prefixes(p, offsetof(struct dns44_conf, proxy_rules),
	    CONF_MAX_PROXY_RULES, nrules, 1) == -1 ||
	    msg_check_prefixes(p, offsetof(struct dns44_conf, client_nets),
	    CONF_MAX_CLIENT_NETS, nnets, 0) == -1)
		return (-1);
	return (0);
}

/*
 * The max prefixes of a list at off, n of them used: each of a family,
 * IPv6 only when v6 says so, with a length it has room for; each label
 * ends within its field.
 */
static int
msg_check_prefixes(const unsigned char *p, size_t off, int max, int n, int v6)
{
	sa_family_t	 family;
	size_t		 o;
	int		 i;

	for (i = 0; i < max; i++) {
		o = off + i * sizeof(struct conf_prefix);
		memcpy(&family, p + o + offsetof(struct conf_prefix, family),
		    sizeof(family));
		if (i < n && family != AF_INET && (!v6 || family != AF_INET6))
			return (-1);
		if (p[o + offsetof(struct conf_prefix, len)] >
		    (family == AF_INET6 ? 128 : 32) ||
		    !msg_has_nul(p, o + offsetof(struct conf_prefix, where),
		    CONF_WHERE_MAX))
			return (-1);
	}
	return (0);
}

#undef CONF_STR_OK

static int
msg_check_answer(const unsigned char *p, size_t len)
{
	struct rule_route	 route;
	uint32_t		 naddrs, naddrs6;

	(void)len;
	if (!msg_has_nul(p, offsetof(struct msg_answer, domain),
	    MSG_DOMAIN_MAX))
		return (-1);
	memcpy(&naddrs, p + offsetof(struct msg_answer, naddrs),
	    sizeof(naddrs));
	memcpy(&naddrs6, p + offsetof(struct msg_answer, naddrs6),
	    sizeof(naddrs6));
	if (naddrs > MSG_MAX_ADDRS || naddrs6 > MSG_MAX_ADDRS)
		return (-1);
#define ROUTE_STR_OK(f)							\
	msg_has_nul(p, offsetof(struct msg_answer, route) +		\
	    offsetof(struct rule_route, f),				\
	    sizeof(((struct rule_route *)0)->f))
	if (!ROUTE_STR_OK(ifname) || !ROUTE_STR_OK(user) ||
	    !ROUTE_STR_OK(password))
		return (-1);
#undef ROUTE_STR_OK
	memcpy(&route, p + offsetof(struct msg_answer, route), sizeof(route));
	return (rule_route_ok(&route) ? 0 : -1);
}

/* Whole entries, each string terminated. */
static int
msg_check_ctl_rule(const unsigned char *p, size_t len)
{
	size_t	i;

	if (len % sizeof(struct ctl_rule) != 0)
		return (-1);
	for (i = 0; i < len; i += sizeof(struct ctl_rule))
		if (!msg_has_nul(p + i, offsetof(struct ctl_rule, where),
		    CONF_WHERE_MAX) ||
		    !msg_has_nul(p + i, offsetof(struct ctl_rule, text),
		    sizeof(((struct ctl_rule *)0)->text)))
			return (-1);
	return (0);
}

static int
msg_check_test(const unsigned char *p, size_t len)
{
	(void)len;
	return (msg_has_nul(p, offsetof(struct ctl_test, name),
	    MSG_DOMAIN_MAX) ? 0 : -1);
}

static int
msg_check_tested(const unsigned char *p, size_t len)
{
#define TESTED_STR_OK(f)						\
	msg_has_nul(p, offsetof(struct ctl_tested, f),			\
	    sizeof(((struct ctl_tested *)0)->f))

	(void)len;
	return (TESTED_STR_OK(name) && TESTED_STR_OK(where) &&
	    TESTED_STR_OK(rule) && TESTED_STR_OK(route) &&
	    TESTED_STR_OK(upstreams) ? 0 : -1);
#undef TESTED_STR_OK
}

static int
msg_check_string(const unsigned char *p, size_t len)
{
	return (p[len - 1] == '\0' ? 0 : -1);
}

/* Whole entries, each domain terminated. */
static int
msg_check_conn(const unsigned char *p, size_t len)
{
	uint32_t	family;
	size_t		i;

	if (len % sizeof(struct ctl_conn) != 0)
		return (-1);
	for (i = 0; i < len; i += sizeof(struct ctl_conn)) {
		if (!msg_has_nul(p + i, offsetof(struct ctl_conn, domain),
		    MSG_DOMAIN_MAX))
			return (-1);
		memcpy(&family, p + i + offsetof(struct ctl_conn,
		    real_family), sizeof(family));
		if (family != 0 && family != AF_INET && family != AF_INET6)
			return (-1);
	}
	return (0);
}

/* Counts within bounds, every prefix length one of its family's. */
static int
msg_check_ifaddrs(const unsigned char *p, size_t len)
{
	struct msg_ifaddr	a;
	struct msg_ifaddr6	a6;
	uint32_t		count, i;

	(void)len;
	memcpy(&count, p + offsetof(struct msg_ifaddrs, count),
	    sizeof(count));
	if (count > MSG_MAX_IFADDRS)
		return (-1);
	for (i = 0; i < count; i++) {
		memcpy(&a, p + offsetof(struct msg_ifaddrs, addrs) +
		    i * sizeof(a), sizeof(a));
		if (a.prefixlen > 32)
			return (-1);
	}
	memcpy(&count, p + offsetof(struct msg_ifaddrs, count6),
	    sizeof(count));
	if (count > MSG_MAX_IFADDRS6)
		return (-1);
	for (i = 0; i < count; i++) {
		memcpy(&a6, p + offsetof(struct msg_ifaddrs, addrs6) +
		    i * sizeof(a6), sizeof(a6));
		if (a6.prefixlen > 128)
			return (-1);
	}
	return (0);
}

/* A socket of TCP or UDP, of IPv4 or IPv6, nothing else. */
static int
msg_check_dial(const unsigned char *p, size_t len)
{
	uint32_t	proto, family;

	(void)len;
	memcpy(&proto, p + offsetof(struct msg_dial_sock, proto),
	    sizeof(proto));
	memcpy(&family, p + offsetof(struct msg_dial_sock, family),
	    sizeof(family));
	if (family != AF_INET && family != AF_INET6)
		return (-1);
	return (proto == IPPROTO_TCP || proto == IPPROTO_UDP ? 0 : -1);
}

/* Whole entries, each of a known state. */
static int
msg_check_upstreams(const unsigned char *p, size_t len)
{
	uint16_t	state;
	uint8_t		ipv6;
	size_t		i;

	if (len % sizeof(struct ctl_upstream) != 0)
		return (-1);
	for (i = 0; i < len; i += sizeof(struct ctl_upstream)) {
		memcpy(&state, p + i + offsetof(struct ctl_upstream, state),
		    sizeof(state));
		ipv6 = p[i + offsetof(struct ctl_upstream, ipv6)];
		if (state >= CTL_UPSTREAM_MAX || ipv6 > 1)
			return (-1);
	}
	return (0);
}

/* Both texts terminated, the check's state a known one. */
static int
msg_check_status(const unsigned char *p, size_t len)
{
	uint32_t	check;

	(void)len;
	memcpy(&check, p + offsetof(struct ctl_status, check), sizeof(check));
	if (check >= CTL_CHECK_MAX ||
	    !msg_has_nul(p, offsetof(struct ctl_status, reload_error),
	    CTL_STATUS_TEXT) ||
	    !msg_has_nul(p, offsetof(struct ctl_status, check_text),
	    CTL_STATUS_TEXT))
		return (-1);
	return (0);
}

/* Whole entries, each name terminated. */
static int
msg_check_map(const unsigned char *p, size_t len)
{
	size_t	i;

	if (len % sizeof(struct ctl_map_entry) != 0)
		return (-1);
	for (i = 0; i < len; i += sizeof(struct ctl_map_entry))
		if (!msg_has_nul(p + i, offsetof(struct ctl_map_entry, name),
		    MSG_DOMAIN_MAX))
			return (-1);
	return (0);
}

const char *const ctl_fail_names[CTL_FAIL_MAX] = { "limit", "not_virtual",
    "no_domain", "blocked", "no_address", "dial_refused", "dial_timeout",
    "dial_error", "via", "internal" };

#define T(type)	(1ULL << (type))

/* What each end of a channel may receive, by type; see enum msg_rx. */
static const uint64_t msg_rx_types[MSG_RX_MAX] = {
	[MSG_RX_ANY] = ~0ULL,
	[MSG_RX_START] = T(MSG_CONF) | T(MSG_SOCK_DNS_UDP) |
	    T(MSG_SOCK_DNS_TCP) | T(MSG_SOCK_PROXY_TCP) |
	    T(MSG_SOCK_PROXY_UDP) | T(MSG_SOCK_CONTROL) | T(MSG_SOCK_PEER) |
	    T(MSG_SOCK_METRICS) | T(MSG_SOCK_END) | T(MSG_IFADDRS) |
	    T(MSG_RULES) | T(MSG_RULES_FILE) | T(MSG_RULES_END),
	[MSG_RX_DNS_PARENT] = T(MSG_CONF) | T(MSG_SHUTDOWN) |
	    T(MSG_CTL_LOG) | T(MSG_CTL_OK) | T(MSG_CTL_FAIL) | T(MSG_IFADDRS) |
	    T(MSG_RULES) | T(MSG_RULES_FILE) | T(MSG_RULES_END) |
	    T(MSG_HEARTBEAT) | T(MSG_CTL_STATUS_INFO),
	[MSG_RX_PROXY_PARENT] = T(MSG_CONF) | T(MSG_SHUTDOWN) |
	    T(MSG_CTL_LOG) | T(MSG_REPLY_SOCK) | T(MSG_REPLY_SOCK_FAIL) |
	    T(MSG_IFADDRS) | T(MSG_DIAL_SOCK) | T(MSG_DIAL_SOCK_FAIL) |
	    T(MSG_HEARTBEAT),
	[MSG_RX_PARENT_DNS] = T(MSG_CTL_RELOAD) | T(MSG_CTL_LOG) |
	    T(MSG_ALIVE) | T(MSG_CTL_STATUS),
	[MSG_RX_PARENT_PROXY] = T(MSG_REPLY_SOCK_REQ) | T(MSG_DIAL_SOCK_REQ) |
	    T(MSG_ALIVE),
	[MSG_RX_DNS_PEER] = T(MSG_LOOKUP) | T(MSG_IN_USE) | T(MSG_RELEASED) |
	    T(MSG_CTL_CONN) | T(MSG_CTL_END) | T(MSG_CTL_STATS_PROXY) |
	    T(MSG_CTL_FAIL),
	[MSG_RX_PROXY_PEER] = T(MSG_LOOKUP_ANSWER) | T(MSG_LOOKUP_MISS) |
	    T(MSG_EVICTED) | T(MSG_CTL_SHOW_CONN) | T(MSG_CTL_STATS),
	[MSG_RX_CONTROL] = T(MSG_CTL_RELOAD) | T(MSG_CTL_LOG) |
	    T(MSG_CTL_SHOW_MAP) | T(MSG_CTL_LOOKUP) | T(MSG_CTL_FLUSH) |
	    T(MSG_CTL_STATS) | T(MSG_CTL_SHOW_CONN) | T(MSG_CTL_SHOW_RULES) |
	    T(MSG_CTL_TEST) | T(MSG_CTL_STATUS) | T(MSG_CTL_METRICS),
	[MSG_RX_CTL] = T(MSG_CTL_OK) | T(MSG_CTL_FAIL) | T(MSG_CTL_MAP) |
	    T(MSG_CTL_FLUSHED) | T(MSG_CTL_STATS_DNS) | T(MSG_CTL_END) |
	    T(MSG_CTL_CONN) | T(MSG_CTL_STATS_PROXY) | T(MSG_CTL_RULE) |
	    T(MSG_CTL_TESTED) | T(MSG_CTL_UPSTREAMS) | T(MSG_CTL_STATUS_INFO) |
	    T(MSG_CTL_METRICS_TEXT),
};

#undef T

/* The types fit the masks above. */
_Static_assert(MSG_TYPE_MAX <= 64, "message types outgrew uint64_t");

/*
 * The rule for a message of this type, length and fd presence whose payload
 * passes the type's check, or NULL.
 */
static const struct msg_rule *
msg_rule(uint32_t type, const void *data, size_t len, int hasfd)
{
	const struct msg_rule	*r;

	if (type >= MSG_TYPE_MAX)
		return (NULL);
	r = &msg_rules[type];
	if (r->name == NULL || len < r->min || len > r->max ||
	    r->fd != (hasfd != 0))
		return (NULL);
	if (len > 0 && data == NULL)
		return (NULL);
	if (r->check != NULL && r->check(data, len) == -1)
		return (NULL);
	return (r);
}

const char *
msg_type_name(uint32_t type)
{
	if (type >= MSG_TYPE_MAX || msg_rules[type].name == NULL)
		return ("unknown");
	return (msg_rules[type].name);
}

int
msg_accepts(enum msg_rx rx, uint32_t type)
{
	if ((unsigned)rx >= MSG_RX_MAX || type >= MSG_TYPE_MAX ||
	    msg_rules[type].name == NULL)
		return (0);
	return ((msg_rx_types[rx] & (1ULL << type)) != 0);
}

/*
 * The payload of a message that must be exactly len bytes, copied out.
 * The decoder held it to its type's rule; a payload of another size here
 * means the rule and the struct drifted apart, which must not go unseen.
 */
void
msg_get(const struct msg *m, void *data, size_t len)
{
	if (m->len != len)
		fatalx("%s: %s of %zu bytes, %zu expected", __func__,
		    msg_type_name(m->hdr.type), m->len, len);
	memcpy(data, m->data, len);
}

/* The payload of a message that is one NUL-terminated string. */
const char *
msg_get_str(const struct msg *m)
{
	const char	*p = m->data;

	if (m->len == 0 || p[m->len - 1] != '\0')
		fatalx("%s: %s is not a string", __func__,
		    msg_type_name(m->hdr.type));
	return (p);
}

/* The payload of a message that is whole entries of size bytes, *n of them. */
const void *
msg_get_array(const struct msg *m, size_t size, size_t *n)
{
	if (size == 0 || m->len == 0 || m->len % size != 0)
		fatalx("%s: %s of %zu bytes is not entries of %zu", __func__,
		    msg_type_name(m->hdr.type), m->len, size);
	*n = m->len / size;
	return (m->data);
}

void
msg_init(struct msg_chan *chan, int fd, enum msg_rx rx)
{
	chan->fd = fd;
	chan->rx = rx;
	TAILQ_INIT(&chan->out);
	chan->queued = 0;
}

void
msg_clear(struct msg_chan *chan)
{
	struct msg_out	*o;

	while ((o = TAILQ_FIRST(&chan->out)) != NULL) {
		TAILQ_REMOVE(&chan->out, o, entry);
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	chan->queued = 0;
}

int
msg_pending(const struct msg_chan *chan)
{
	return (!TAILQ_EMPTY(&chan->out));
}

/*
 * Queue a message and try to send it.  The fd is the channel's from here
 * on, whatever happens, unless the arguments are bad (EINVAL).
 */
int
msg_compose(struct msg_chan *chan, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	struct msg_hdr	 hdr;
	struct msg_out	*o;
	size_t		 total;
	int		 saved_errno;

	if (fd < -1 || msg_rule(type, data, len, fd != -1) == NULL) {
		errno = EINVAL;
		return (-1);
	}
	total = MSG_HDR_SIZE + len;
	if (chan->queued + total > MSG_MAX_QUEUE) {
		errno = ENOBUFS;
		goto fail;
	}
	if ((o = malloc(sizeof(*o) + total)) == NULL)
		goto fail;

	hdr.type = type;
	hdr.len = (uint32_t)len;
	hdr.id = id;
	hdr.pid = (uint32_t)getpid();
	memcpy(o->buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(o->buf + MSG_HDR_SIZE, data, len);
	o->len = total;
	o->fd = fd;
	TAILQ_INSERT_TAIL(&chan->out, o, entry);
	chan->queued += total;

	return (msg_flush(chan));

fail:
	if (fd != -1) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
	}
	return (-1);
}

int
msg_flush(struct msg_chan *chan)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct msg_out	*o;
	ssize_t		 n;

	while ((o = TAILQ_FIRST(&chan->out)) != NULL) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = o->buf;
		iov.iov_len = o->len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (o->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			mh.msg_control = cmsgbuf.buf;
			mh.msg_controllen = sizeof(cmsgbuf.buf);
			cmsg = CMSG_FIRSTHDR(&mh);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cmsg), &o->fd, sizeof(int));
		}

		n = sendmsg(chan->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			return (-1);
		}
		/* SOCK_SEQPACKET sends all of it or nothing. */
		if ((size_t)n != o->len) {
			errno = EIO;
			return (-1);
		}

		TAILQ_REMOVE(&chan->out, o, entry);
		chan->queued -= o->len;
		if (o->fd != -1)
			close(o->fd);
		free(o);
	}
	return (0);
}

static void
msg_close_fds(int *fds, size_t nfds)
{
	size_t	 i;
	int	 saved_errno = errno;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
	errno = saved_errno;
}

/*
 * Receive one message.  Whatever fds came with a message that is not
 * returned are closed here.
 */
int
msg_read(struct msg_chan *chan, struct msg *m)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) * MSG_CMSG_FDS)];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;
	ssize_t		 n;
	size_t		 i, nfds = 0, cnt;
	int		 fds[MSG_CMSG_FDS];
	int		 fd;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = chan->rbuf;
	iov.iov_len = sizeof(chan->rbuf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);

	do {
		n = recvmsg(chan->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);

	for (cmsg = CMSG_FIRSTHDR(&mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < cnt && nfds < MSG_CMSG_FDS; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			fds[nfds++] = fd;
		}
	}

	if (n == 0) {
		msg_close_fds(fds, nfds);
		return (0);
	}
	if (mh.msg_flags & MSG_TRUNC) {
		msg_close_fds(fds, nfds);
		errno = EMSGSIZE;
		return (-1);
	}
	if ((mh.msg_flags & MSG_CTRUNC) || nfds > 1 ||
	    msg_decode(chan->rbuf, n, nfds == 1 ? fds[0] : -1, m) == -1 ||
	    !msg_accepts(chan->rx, m->hdr.type)) {
		msg_close_fds(fds, nfds);
		errno = EBADMSG;
		return (-1);
	}
	return (1);
}

/*
 * Check a received message against its type's rule and describe it in *m,
 * which is left alone when the message is bad.  The fd is only recorded.
 */
int
msg_decode(const void *buf, size_t n, int fd, struct msg *m)
{
	const unsigned char	*p = buf;
	struct msg_hdr		 hdr;

	if (buf == NULL || n < MSG_HDR_SIZE)
		goto bad;
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.len != n - MSG_HDR_SIZE)
		goto bad;
	if (msg_rule(hdr.type, p + MSG_HDR_SIZE, hdr.len, fd != -1) == NULL)
		goto bad;

	m->hdr = hdr;
	m->data = (void *)(p + MSG_HDR_SIZE);
	m->len = hdr.len;
	m->fd = fd;
	return (0);

bad:
	errno = EBADMSG;
	return (-1);
}
