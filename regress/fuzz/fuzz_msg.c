/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_msg.c: the message decoder every process runs on what its peers
 * send.  What msg_decode decides is held against this file's own table
 * of what each type carries, written from the structs of msg.h and not
 * from msg.c's rules: the payload's size (a struct's exact size, or the
 * bounds of a string or of an array of entries), whether an fd comes, and
 * what must hold of the bytes.  The decoder must accept exactly what the
 * table allows, so a rule of msg.c that is lost or drifts from its struct
 * aborts the run.  Before the first input, every type is tried at the
 * edges of its sizes, with and without an fd, so that such a drift is
 * found whatever the fuzzer comes up with.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "msg.h"

/* What a message of one type carries. */
struct fuzz_shape {
	const char	*name;
	size_t		 min;		/* payload bytes */
	size_t		 max;
	size_t		 unit;		/* whole ones of these; 0: any */
	int		 fd;		/* 1: comes with one, 0: never */
	int		(*sound)(const unsigned char *, size_t);
};

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static int	fuzz_nul(const unsigned char *, size_t, size_t);
static int	fuzz_sin(const unsigned char *, size_t);
static int	fuzz_conf(const unsigned char *, size_t);
static int	fuzz_answer(const unsigned char *, size_t);
static int	fuzz_rule(const unsigned char *, size_t);
static int	fuzz_test(const unsigned char *, size_t);
static int	fuzz_tested(const unsigned char *, size_t);
static int	fuzz_string(const unsigned char *, size_t);
static int	fuzz_map(const unsigned char *, size_t);
static int	fuzz_conn(const unsigned char *, size_t);
static int	fuzz_dial(const unsigned char *, size_t);
static int	fuzz_upstreams(const unsigned char *, size_t);
static int	fuzz_status(const unsigned char *, size_t);
static int	fuzz_allowed(uint32_t, const unsigned char *, size_t, int);
static void	fuzz_try(uint32_t, const unsigned char *, size_t, int);
static void	fuzz_walk(void);

#define SHAPE(t, min, max, unit, fd, sound)				\
	[t] = { #t, (min), (max), (unit), (fd), (sound) }
#define FIXED(t, type, fd, sound)					\
	SHAPE(t, sizeof(type), sizeof(type), 0, fd, sound)
#define EMPTY(t, fd)		SHAPE(t, 0, 0, 0, fd, NULL)
#define ARRAY(t, type, sound)						\
	SHAPE(t, sizeof(type), MSG_MAX_PAYLOAD, sizeof(type), 0, sound)
#define STRING(t, max)		SHAPE(t, 1, (max), 0, 0, fuzz_string)

/* Each type as msg.h describes it; a type missing here is unknown. */
static const struct fuzz_shape fuzz_shapes[MSG_TYPE_MAX] = {
	FIXED(MSG_CONF,		struct dns44_conf,	0, fuzz_conf),
	FIXED(MSG_SOCK_DNS_UDP,	struct sockaddr_in,	1, fuzz_sin),
	FIXED(MSG_SOCK_DNS_TCP,	struct sockaddr_in,	1, fuzz_sin),
	FIXED(MSG_SOCK_PROXY_TCP, struct sockaddr_in,	1, fuzz_sin),
	FIXED(MSG_SOCK_PROXY_UDP, struct sockaddr_in,	1, fuzz_sin),
	EMPTY(MSG_SOCK_CONTROL,	1),
	EMPTY(MSG_SOCK_PEER,	1),
	EMPTY(MSG_SOCK_END,	0),
	EMPTY(MSG_SHUTDOWN,	0),
	FIXED(MSG_REPLY_SOCK_REQ, struct msg_reply_sock, 0, NULL),
	FIXED(MSG_REPLY_SOCK,	struct msg_reply_sock,	1, NULL),
	FIXED(MSG_REPLY_SOCK_FAIL, struct msg_reply_sock, 0, NULL),
	FIXED(MSG_LOOKUP,	struct msg_lookup,	0, NULL),
	FIXED(MSG_LOOKUP_ANSWER, struct msg_answer,	0, fuzz_answer),
	FIXED(MSG_LOOKUP_MISS,	struct msg_lookup,	0, NULL),
	FIXED(MSG_IN_USE,	struct msg_lookup,	0, NULL),
	FIXED(MSG_RELEASED,	struct msg_lookup,	0, NULL),
	FIXED(MSG_EVICTED,	struct msg_lookup,	0, NULL),
	EMPTY(MSG_CTL_RELOAD,	0),
	FIXED(MSG_CTL_LOG,	struct msg_log,		0, NULL),
	EMPTY(MSG_CTL_OK,	0),
	STRING(MSG_CTL_FAIL,	MSG_MAX_PAYLOAD),
	STRING(MSG_CTL_SHOW_MAP, MSG_DOMAIN_MAX),
	STRING(MSG_CTL_LOOKUP,	MSG_DOMAIN_MAX),
	STRING(MSG_CTL_FLUSH,	MSG_DOMAIN_MAX),
	EMPTY(MSG_CTL_STATS,	0),
	ARRAY(MSG_CTL_MAP,	struct ctl_map_entry,	fuzz_map),
	FIXED(MSG_CTL_FLUSHED,	struct ctl_flushed,	0, NULL),
	FIXED(MSG_CTL_STATS_DNS, struct ctl_stats_dns,	0, NULL),
	EMPTY(MSG_CTL_END,	0),
	EMPTY(MSG_CTL_SHOW_CONN, 0),
	ARRAY(MSG_CTL_CONN,	struct ctl_conn,	fuzz_conn),
	FIXED(MSG_CTL_STATS_PROXY, struct ctl_stats_proxy, 0, NULL),
	SHAPE(MSG_RULES,	1, MSG_MAX_PAYLOAD, 0, 0, NULL),
	FIXED(MSG_RULES_FILE,	struct msg_rules_file,	1, NULL),
	EMPTY(MSG_RULES_END,	0),
	EMPTY(MSG_CTL_SHOW_RULES, 0),
	ARRAY(MSG_CTL_RULE,	struct ctl_rule,	fuzz_rule),
	FIXED(MSG_CTL_TEST,	struct ctl_test,	0, fuzz_test),
	FIXED(MSG_CTL_TESTED,	struct ctl_tested,	0, fuzz_tested),
	FIXED(MSG_DIAL_SOCK_REQ, struct msg_dial_sock,	0, fuzz_dial),
	FIXED(MSG_DIAL_SOCK,	struct msg_dial_sock,	1, fuzz_dial),
	FIXED(MSG_DIAL_SOCK_FAIL, struct msg_dial_sock,	0, fuzz_dial),
	ARRAY(MSG_CTL_UPSTREAMS, struct ctl_upstream,	fuzz_upstreams),
	EMPTY(MSG_HEARTBEAT,	0),
	FIXED(MSG_ALIVE,	struct msg_alive,	0, NULL),
	EMPTY(MSG_CTL_STATUS,	0),
	FIXED(MSG_CTL_STATUS_INFO, struct ctl_status,	0, fuzz_status),
	FIXED(MSG_SOCK_METRICS,	struct sockaddr_in,	1, fuzz_sin),
	EMPTY(MSG_CTL_METRICS,	0),
	SHAPE(MSG_CTL_METRICS_TEXT, 1, MSG_MAX_PAYLOAD, 0, 0, NULL),
};

#undef STRING
#undef ARRAY
#undef EMPTY
#undef FIXED
#undef SHAPE

/* A frame of the largest payload and one byte more. */
static unsigned char	fuzz_frame[MSG_HDR_SIZE + MSG_MAX_PAYLOAD + 1];

/* The bytes are read through memcpy: the fuzzer's buffer is unaligned. */

static int
fuzz_nul(const unsigned char *p, size_t off, size_t size)
{
	return (memchr(p + off, '\0', size) != NULL);
}

static int
fuzz_sin(const unsigned char *p, size_t len)
{
	struct sockaddr_in	sin;

	(void)len;
	memcpy(&sin, p, sizeof(sin));
	return (sin.sin_family == AF_INET);
}

/* Counts that index the arrays, strings that end inside their arrays. */
static int
fuzz_conf(const unsigned char *p, size_t len)
{
	struct dns44_conf	*c;
	int			 ok, i;

	(void)len;
	if ((c = malloc(sizeof(*c))) == NULL)
		abort();
	memcpy(c, p, sizeof(*c));
	ok = c->dns_listen_count >= 0 &&
	    c->dns_listen_count <= CONF_MAX_DNS_LISTEN &&
	    c->upstream_count >= 0 &&
	    c->upstream_count <= CONF_MAX_UPSTREAM &&
	    memchr(c->db_dir, '\0', sizeof(c->db_dir)) != NULL &&
	    memchr(c->empty_dir, '\0', sizeof(c->empty_dir)) != NULL &&
	    memchr(c->control_path, '\0', sizeof(c->control_path)) != NULL &&
	    memchr(c->control_group, '\0', sizeof(c->control_group)) != NULL &&
	    memchr(c->user, '\0', sizeof(c->user)) != NULL &&
	    memchr(c->tls_ca, '\0', sizeof(c->tls_ca)) != NULL;
	for (i = 0; ok && i < CONF_MAX_UPSTREAM; i++)
		ok = memchr(c->upstream[i].tls_name, '\0',
		    sizeof(c->upstream[i].tls_name)) != NULL &&
		    (i >= c->upstream_count ||
		    c->upstream[i].addr.sa.sa_family == AF_INET ||
		    c->upstream[i].addr.sa.sa_family == AF_INET6);
	free(c);
	return (ok);
}

static int
fuzz_answer(const unsigned char *p, size_t len)
{
	struct msg_answer	a;

	(void)len;
	memcpy(&a, p, sizeof(a));
	return (memchr(a.domain, '\0', sizeof(a.domain)) != NULL &&
	    a.naddrs <= MSG_MAX_ADDRS && a.naddrs6 <= MSG_MAX_ADDRS &&
	    memchr(a.route.ifname, '\0', sizeof(a.route.ifname)) != NULL &&
	    memchr(a.route.user, '\0', sizeof(a.route.user)) != NULL &&
	    memchr(a.route.password, '\0',
	    sizeof(a.route.password)) != NULL &&
	    a.route.action <= RULE_BLOCK && a.route.via <= VIA_HTTP &&
	    (a.route.via == VIA_DIRECT ||
	    a.route.server.sa.sa_family == AF_INET ||
	    a.route.server.sa.sa_family == AF_INET6));
}

static int
fuzz_rule(const unsigned char *p, size_t len)
{
	struct ctl_rule	r;
	size_t		i;

	for (i = 0; i < len; i += sizeof(r)) {
		memcpy(&r, p + i, sizeof(r));
		if (memchr(r.where, '\0', sizeof(r.where)) == NULL ||
		    memchr(r.text, '\0', sizeof(r.text)) == NULL)
			return (0);
	}
	return (1);
}

static int
fuzz_test(const unsigned char *p, size_t len)
{
	struct ctl_test	t;

	(void)len;
	memcpy(&t, p, sizeof(t));
	return (memchr(t.name, '\0', sizeof(t.name)) != NULL);
}

static int
fuzz_tested(const unsigned char *p, size_t len)
{
	struct ctl_tested	t;

	(void)len;
	memcpy(&t, p, sizeof(t));
	return (memchr(t.name, '\0', sizeof(t.name)) != NULL &&
	    memchr(t.where, '\0', sizeof(t.where)) != NULL &&
	    memchr(t.rule, '\0', sizeof(t.rule)) != NULL &&
	    memchr(t.route, '\0', sizeof(t.route)) != NULL &&
	    memchr(t.upstreams, '\0', sizeof(t.upstreams)) != NULL);
}

/* A string: its last byte is its NUL. */
static int
fuzz_string(const unsigned char *p, size_t len)
{
	return (p[len - 1] == '\0');
}

static int
fuzz_map(const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i += sizeof(struct ctl_map_entry))
		if (!fuzz_nul(p + i, offsetof(struct ctl_map_entry, name),
		    sizeof(((struct ctl_map_entry *)0)->name)))
			return (0);
	return (1);
}

static int
fuzz_conn(const unsigned char *p, size_t len)
{
	struct ctl_conn	c;
	size_t		i;

	for (i = 0; i < len; i += sizeof(c)) {
		memcpy(&c, p + i, sizeof(c));
		if (memchr(c.domain, '\0', sizeof(c.domain)) == NULL ||
		    (c.real_family != 0 && c.real_family != AF_INET &&
		    c.real_family != AF_INET6))
			return (0);
	}
	return (1);
}

/* Whether the table allows this payload for this type. */
/* A socket of TCP or UDP, of IPv4 or IPv6. */
static int
fuzz_dial(const unsigned char *p, size_t len)
{
	struct msg_dial_sock	d;

	(void)len;
	memcpy(&d, p, sizeof(d));
	return ((d.proto == IPPROTO_TCP || d.proto == IPPROTO_UDP) &&
	    (d.family == AF_INET || d.family == AF_INET6));
}

/* Each upstream in one of its states. */
static int
fuzz_upstreams(const unsigned char *p, size_t len)
{
	struct ctl_upstream	u;
	size_t			i;

	for (i = 0; i < len; i += sizeof(u)) {
		memcpy(&u, p + i, sizeof(u));
		if ((u.state != CTL_UPSTREAM_NEW &&
		    u.state != CTL_UPSTREAM_UP &&
		    u.state != CTL_UPSTREAM_DOWN) ||
		    u.ipv6 > 1)
			return (0);
	}
	return (1);
}

/* Both texts terminated, the check in one of its states. */
static int
fuzz_status(const unsigned char *p, size_t len)
{
	struct ctl_status	st;

	(void)len;
	memcpy(&st, p, sizeof(st));
	return (st.check < CTL_CHECK_MAX &&
	    memchr(st.reload_error, '\0', sizeof(st.reload_error)) != NULL &&
	    memchr(st.check_text, '\0', sizeof(st.check_text)) != NULL);
}

static int
fuzz_allowed(uint32_t type, const unsigned char *p, size_t len, int hasfd)
{
	const struct fuzz_shape	*s;

	if (type >= MSG_TYPE_MAX || fuzz_shapes[type].name == NULL)
		return (0);
	s = &fuzz_shapes[type];
	if (len < s->min || len > s->max || (s->unit != 0 && len % s->unit) ||
	    s->fd != (hasfd != 0))
		return (0);
	return (s->sound == NULL || s->sound(p, len));
}

/*
 * A frame of this type around the payload in fuzz_frame: decoded as the
 * table says, or the run stops here, saying how.
 */
static void
fuzz_try(uint32_t type, const unsigned char *payload, size_t len, int hasfd)
{
	struct msg_hdr	hdr;
	struct msg	m;
	int		got, want;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	memcpy(fuzz_frame, &hdr, sizeof(hdr));
	if (payload != fuzz_frame + MSG_HDR_SIZE)
		memmove(fuzz_frame + MSG_HDR_SIZE, payload, len);
	want = fuzz_allowed(type, fuzz_frame + MSG_HDR_SIZE, len, hasfd);
	got = msg_decode(fuzz_frame, MSG_HDR_SIZE + len, hasfd ? 1000 : -1,
	    &m) == 0;
	if (got != want) {
		fprintf(stderr, "fuzz_msg: ERROR: type %u (%s), %zu bytes, "
		    "%s: msg_decode %s it, the table %s\n", type,
		    type < MSG_TYPE_MAX && fuzz_shapes[type].name != NULL ?
		    fuzz_shapes[type].name : "unknown", len,
		    hasfd ? "an fd" : "no fd", got ? "accepts" : "refuses",
		    want ? "allows it" : "does not");
		abort();
	}
}

/*
 * Every type, the unknown ones too, at the edges of its sizes, with and
 * without an fd; payloads of zeros, with an AF_INET family up front, and
 * with IPPROTO_TCP as a 32-bit protocol number up front.
 * The table must allow each known type at both ends of its sizes, so
 * that the decoder is seen to accept them.
 */
static void
fuzz_walk(void)
{
	const struct fuzz_shape	*s;
	unsigned char		*p = fuzz_frame + MSG_HDR_SIZE;
	sa_family_t		 fam = AF_INET;
	uint32_t		 proto = IPPROTO_TCP, dfam = AF_INET;
	size_t			 lens[12], n, i, top;
	uint32_t		 t;
	int			 fd, fill, lo, hi;

	for (t = 0; t <= MSG_TYPE_MAX; t++) {
		s = t < MSG_TYPE_MAX && fuzz_shapes[t].name != NULL ?
		    &fuzz_shapes[t] : NULL;
		n = 0;
		lens[n++] = 0;
		lens[n++] = 1;
		lens[n++] = sizeof(struct msg_lookup);
		top = 0;
		if (s != NULL) {
			/* The largest size allowed: whole entries. */
			top = s->unit != 0 ? s->max - s->max % s->unit : s->max;
			lens[n++] = s->min;
			lens[n++] = s->min + 1;
			if (s->min > 0)
				lens[n++] = s->min - 1;
			lens[n++] = top;
			lens[n++] = top + 1;
			if (top > 0)
				lens[n++] = top - 1;
			lens[n++] = s->max + 1;
			if (s->unit != 0)
				lens[n++] = 2 * s->unit;
		}
		lo = hi = 0;
		for (i = 0; i < n; i++) {
			if (lens[i] > MSG_MAX_PAYLOAD + 1)
				continue;
			for (fill = 0; fill < 4; fill++) {
				memset(p, 0, lens[i]);
				if (fill == 1 && lens[i] >= sizeof(struct
				    sockaddr_in))
					memcpy(p + offsetof(struct sockaddr_in,
					    sin_family), &fam, sizeof(fam));
				if (fill >= 2 && lens[i] >= sizeof(proto))
					memcpy(p, &proto, sizeof(proto));
				/* A dialling socket also names its family. */
				if (fill == 3 && lens[i] >=
				    sizeof(struct msg_dial_sock))
					memcpy(p + offsetof(struct msg_dial_sock,
					    family), &dfam, sizeof(dfam));
				for (fd = 0; fd < 2; fd++)
					fuzz_try(t, p, lens[i], fd);
				if (s == NULL ||
				    !fuzz_allowed(t, p, lens[i], s->fd))
					continue;
				lo |= lens[i] == s->min;
				hi |= lens[i] == top;
			}
		}
		if (s != NULL && (!lo || !hi)) {
			fprintf(stderr, "fuzz_msg: ERROR: the table allows no "
			    "payload of %s at %zu bytes\n", s->name,
			    lo ? top : s->min);
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int	walked;
	struct msg_hdr	hdr;
	struct msg	m;
	int		hasfd, got;

	if (!walked) {
		fuzz_walk();
		walked = 1;
	}

	/* The first byte says whether an fd came along. */
	if (len == 0)
		return (0);
	hasfd = data[0] & 1;
	data++;
	len--;
	got = msg_decode(data, len, hasfd ? 1000 : -1, &m) == 0;
	if (got) {
		if (m.hdr.type == MSG_NONE || m.hdr.type >= MSG_TYPE_MAX ||
		    m.len != len - MSG_HDR_SIZE ||
		    m.len > MSG_MAX_PAYLOAD)
			abort();
		if (strcmp(msg_type_name(m.hdr.type), "unknown") == 0)
			abort();
	}
	if (len < MSG_HDR_SIZE || len - MSG_HDR_SIZE > MSG_MAX_PAYLOAD) {
		if (got)
			abort();
		return (0);
	}
	memcpy(&hdr, data, sizeof(hdr));
	if (got != (hdr.len == len - MSG_HDR_SIZE &&
	    fuzz_allowed(hdr.type, data + MSG_HDR_SIZE, len - MSG_HDR_SIZE,
	    hasfd))) {
		fprintf(stderr, "fuzz_msg: ERROR: type %u, %zu bytes, header "
		    "says %u: msg_decode %s it\n", hdr.type,
		    len - MSG_HDR_SIZE, hdr.len, got ? "accepts" : "refuses");
		abort();
	}
	/* The same payload, its length in the header right. */
	fuzz_try(hdr.type, data + MSG_HDR_SIZE, len - MSG_HDR_SIZE, hasfd);
	return (0);
}
