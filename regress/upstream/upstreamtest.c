/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstreamtest.c: the queries to the upstream resolvers (src/upstream.c)
 * and the lookups of real addresses made with them (src/resolve.c).
 * The upstreams are fakes in this process, on 127.0.0.1 and the same event
 * loop, each answering as its test scripts it: normally, not at all, with
 * replies to ignore before the real one, truncated over UDP and whole over
 * TCP, with SERVFAIL or NXDOMAIN, or late.  A port just closed stands for
 * an upstream whose host refuses.  The health of each upstream (back-off,
 * probes, round-trip order) is tested with the clock moved on by hand.
 * No root needed, nothing leaves the host.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <event.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns44.h"
#include "resolve.h"
#include "rules.h"
#include "upstream.h"
#include "wire.h"
#include "../lib/test.h"

#define TIMEOUT_MS	200		/* per try */
#define FAKE_SEEN_MAX	64

enum fake_mode {
	FAKE_ANSWER,		/* the answer, with the rcode asked */
	FAKE_SILENT,
	FAKE_WRONG_ID,		/* junk, a wrong id, the query; the answer */
	FAKE_WRONG_QUESTION,	/* other name, type, class; the answer */
	FAKE_TRUNCATE,		/* TC over UDP, the answer over TCP */
	FAKE_SLOW,		/* the answer, after delay_ms */
};

/* An answer a slow fake sends later. */
struct fake_late {
	struct event		 ev;
	int			 fd;
	struct sockaddr_in	 to;
	uint8_t			*wire;
	size_t			 len;
};

struct fake_conn {
	TAILQ_ENTRY(fake_conn)	 entry;
	struct fake		*f;
	int			 fd;
	struct event		 ev;
	uint8_t			 buf[1024];
	size_t			 len;
};

struct fake {
	int			 udp;
	int			 tcp;
	struct sockaddr_in	 sin;
	struct event		 ev_udp;
	struct event		 ev_tcp;
	TAILQ_HEAD(, fake_conn)	 conns;

	/* The script. */
	enum fake_mode		 mode;
	int			 rcode;
	int			 naddrs;	/* A records for the name */
	uint32_t		 ttl;
	const char *const	*extra;		/* more answers, NULL ended */
	int			 delay_ms;	/* FAKE_SLOW */
	const char *const	*auth;		/* authority, NULL ended */
	int			 silent_aaaa;	/* AAAA queries unanswered */
	int			 refuse_a;	/* A queries REFUSED */

	/* What it saw. */
	int			 nudp;
	int			 ntcp;
	uint16_t		 ids[FAKE_SEEN_MAX];
	uint16_t		 ports[FAKE_SEEN_MAX];
	int			 nseen;
	int			 last_do;
	int			 last_cd;
	int			 last_rd;
	int			 last_size;
	int			 last_qtype;
};

/* What a query callback got. */
struct result {
	int			 called;
	int			 rcode;		/* -1: no answer */
	int			 na;		/* A records */
	uint32_t		 first;		/* the first, host order */
	int			 tc;
	int64_t			 start;
	int64_t			 ms;		/* from start to callback */
	int			 action;	/* what the callback does */
	struct upstream_req	*req;
};

/* What a resolve callback got. */
struct addrs {
	int			 called;
	int			 rcode;
	size_t			 n;
	uint32_t		 a[8];		/* host order */
	uint32_t		 ttl;		/* seconds left */
	size_t			 n6;
	int			 action;
	int64_t			 at;		/* ms, when called */
};

enum action {
	ACT_NONE,
	ACT_CANCEL_SELF,
	ACT_SHUTDOWN,
	ACT_QUERY_AGAIN,
};

static struct event		 tick;
static int			 ncalls;	/* callbacks of any kind */
static uint32_t			 try_ms = TIMEOUT_MS;
static int			 ev_warnings;	/* libevent's complaints */
static struct result		 again;		/* of ACT_QUERY_AGAIN */
static const uint8_t		 junk[] = "\x12\x34 not dns at all";

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
fd_count(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static void
ev_log(int severity, const char *msg)
{
	fprintf(stderr, "libevent: %s\n", msg);
	if (severity >= EVENT_LOG_WARN)
		ev_warnings++;
}

static void
tick_cb(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
}

/* Runs the loop until *flag reaches want or ms pass. */
static void
run_until(const int *flag, int want, int64_t ms)
{
	struct timeval	tv = { 0, 5000 };
	int64_t		end = now_ms() + ms;

	while ((flag == NULL || *flag < want) && now_ms() < end) {
		evtimer_add(&tick, &tv);
		event_loop(EVLOOP_ONCE);
	}
	evtimer_del(&tick);
}

static void
run_for(int64_t ms)
{
	run_until(NULL, 0, ms);
}

static char *
fake_owner(const ldns_pkt *q)
{
	return (ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(q), 0))));
}

static void
fake_push(ldns_pkt *a, ldns_pkt_section sec, const char *text)
{
	ldns_rr		*rr;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
		fprintf(stderr, "bad record %s\n", text);
		abort();
	}
	ldns_pkt_push_rr(a, sec, rr);
}

static void
fake_set_question(ldns_pkt *a, const char *text)
{
	ldns_rr		*rr;

	rr = ldns_rr_list_pop_rr(ldns_pkt_question(a));
	ldns_rr_free(rr);
	if (ldns_rr_new_question_frm_str(&rr, text, NULL, NULL) !=
	    LDNS_STATUS_OK)
		abort();
	ldns_rr_list_push_rr(ldns_pkt_question(a), rr);
}

static ldns_pkt *
fake_answer(struct fake *f, const ldns_pkt *q, int tcp)
{
	ldns_pkt	*a;
	char		 line[512], *owner;
	int		 i;

	a = ldns_pkt_new();
	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, 1);
	ldns_pkt_set_rd(a, ldns_pkt_rd(q));
	ldns_pkt_set_ra(a, 1);
	ldns_pkt_set_rcode(a, f->rcode);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION,
	    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
	if (f->refuse_a && ldns_rr_get_type(ldns_rr_list_rr(
	    ldns_pkt_question(q), 0)) == LDNS_RR_TYPE_A) {
		ldns_pkt_set_rcode(a, LDNS_RCODE_REFUSED);
		return (a);
	}
	if (f->mode == FAKE_TRUNCATE && !tcp) {
		ldns_pkt_set_tc(a, 1);
		return (a);
	}
	owner = fake_owner(q);
	for (i = 0; i < f->naddrs; i++) {
		snprintf(line, sizeof(line), "%s %u IN A 192.0.2.%d", owner,
		    f->ttl, i + 1);
		fake_push(a, LDNS_SECTION_ANSWER, line);
	}
	free(owner);
	for (i = 0; f->extra != NULL && f->extra[i] != NULL; i++)
		fake_push(a, LDNS_SECTION_ANSWER, f->extra[i]);
	for (i = 0; f->auth != NULL && f->auth[i] != NULL; i++)
		fake_push(a, LDNS_SECTION_AUTHORITY, f->auth[i]);
	return (a);
}

static void
fake_send(int fd, const struct sockaddr_in *to, const void *p, size_t len)
{
	if (sendto(fd, p, len, 0, (const struct sockaddr *)to,
	    sizeof(*to)) == -1)
		perror("fake sendto");
}

static void
fake_send_pkt(int fd, const struct sockaddr_in *to, ldns_pkt *a)
{
	uint8_t		*wire;
	size_t		 len;

	if (ldns_pkt2wire(&wire, a, &len) != LDNS_STATUS_OK)
		abort();
	fake_send(fd, to, wire, len);
	free(wire);
}

static void
fake_seen(struct fake *f, const ldns_pkt *q, uint16_t port)
{
	if (f->nseen < FAKE_SEEN_MAX) {
		f->ids[f->nseen] = ldns_pkt_id(q);
		f->ports[f->nseen] = port;
		f->nseen++;
	}
	f->last_do = ldns_pkt_edns_do(q);
	f->last_cd = ldns_pkt_cd(q);
	f->last_rd = ldns_pkt_rd(q);
	f->last_size = ldns_pkt_edns_udp_size(q);
	f->last_qtype = ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(q),
	    0));
}

static void
fake_late_send(int fd, short ev, void *arg)
{
	struct fake_late	*l = arg;

	(void)fd;
	(void)ev;
	fake_send(l->fd, &l->to, l->wire, l->len);
	free(l->wire);
	free(l);
}

static void
fake_udp(int fd, short ev, void *arg)
{
	struct fake		*f = arg;
	struct fake_late	*l;
	struct sockaddr_in	 from;
	struct timeval		 tv;
	socklen_t		 fromlen = sizeof(from);
	uint8_t			 buf[4096];
	ldns_pkt		*q, *a, *d;
	char			 line[512], *owner, *p;
	ssize_t			 n;
	int			 keep;

	(void)ev;
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
	    &fromlen);
	if (n == -1 || ldns_wire2pkt(&q, buf, n) != LDNS_STATUS_OK)
		return;
	f->nudp++;
	fake_seen(f, q, ntohs(from.sin_port));
	if (f->mode == FAKE_SILENT ||
	    (f->silent_aaaa && f->last_qtype == LDNS_RR_TYPE_AAAA)) {
		ldns_pkt_free(q);
		return;
	}
	a = fake_answer(f, q, 0);
	if (f->mode == FAKE_SLOW) {
		if ((l = calloc(1, sizeof(*l))) == NULL ||
		    ldns_pkt2wire(&l->wire, a, &l->len) != LDNS_STATUS_OK)
			abort();
		l->fd = fd;
		l->to = from;
		tv.tv_sec = f->delay_ms / 1000;
		tv.tv_usec = (f->delay_ms % 1000) * 1000;
		evtimer_set(&l->ev, fake_late_send, l);
		evtimer_add(&l->ev, &tv);
		ldns_pkt_free(a);
		ldns_pkt_free(q);
		return;
	}

	/* Decoys hold one record, the answer more. */
	keep = f->naddrs;
	f->naddrs = 1;
	d = fake_answer(f, q, 0);
	f->naddrs = keep;
	switch (f->mode) {
	case FAKE_WRONG_ID:
		fake_send(fd, &from, junk, sizeof(junk));
		ldns_pkt_set_id(d, ldns_pkt_id(q) ^ 0x0101);
		fake_send_pkt(fd, &from, d);
		fake_send_pkt(fd, &from, q);
		break;
	case FAKE_WRONG_QUESTION:
		owner = fake_owner(q);
		fake_set_question(d, "other.example. IN A");
		fake_send_pkt(fd, &from, d);
		snprintf(line, sizeof(line), "%s IN AAAA", owner);
		fake_set_question(d, line);
		fake_send_pkt(fd, &from, d);
		snprintf(line, sizeof(line), "%s CH A", owner);
		fake_set_question(d, line);
		fake_send_pkt(fd, &from, d);
		/* Names match whatever their case. */
		for (p = owner; *p != '\0'; p++)
			*p = toupper((unsigned char)*p);
		snprintf(line, sizeof(line), "%s IN A", owner);
		fake_set_question(a, line);
		free(owner);
		break;
	default:
		break;
	}
	fake_send_pkt(fd, &from, a);
	ldns_pkt_free(d);
	ldns_pkt_free(a);
	ldns_pkt_free(q);
}

static void
fake_conn_close(struct fake_conn *c)
{
	TAILQ_REMOVE(&c->f->conns, c, entry);
	event_del(&c->ev);
	close(c->fd);
	free(c);
}

static void
fake_conn_read(int fd, short ev, void *arg)
{
	struct fake_conn	*c = arg;
	ldns_pkt		*q, *a;
	uint8_t			*wire, out[65537];
	size_t			 need, len;
	ssize_t			 n;

	(void)ev;
	n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		fake_conn_close(c);
		return;
	}
	c->len += n;
	if (c->len < 2)
		return;
	need = 2 + (c->buf[0] << 8 | c->buf[1]);
	if (c->len < need)
		return;
	if (ldns_wire2pkt(&q, c->buf + 2, need - 2) != LDNS_STATUS_OK) {
		fake_conn_close(c);
		return;
	}
	c->f->ntcp++;
	fake_seen(c->f, q, 0);
	a = fake_answer(c->f, q, 1);
	if (ldns_pkt2wire(&wire, a, &len) != LDNS_STATUS_OK || len > 65535)
		abort();
	out[0] = len >> 8;
	out[1] = len & 0xff;
	memcpy(out + 2, wire, len);
	if (write(fd, out, len + 2) != (ssize_t)(len + 2))
		perror("fake write");
	free(wire);
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	fake_conn_close(c);
}

static void
fake_accept(int fd, short ev, void *arg)
{
	struct fake		*f = arg;
	struct fake_conn	*c;
	int			 s;

	(void)ev;
	if ((s = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->f = f;
	c->fd = s;
	TAILQ_INSERT_TAIL(&f->conns, c, entry);
	event_set(&c->ev, s, EV_READ | EV_PERSIST, fake_conn_read, c);
	event_add(&c->ev, NULL);
}

/* A fake upstream on 127.0.0.1, UDP and TCP on one free port. */
static void
fake_start(struct fake *f, enum fake_mode mode)
{
	socklen_t	len;
	int		i, on = 1;

	memset(f, 0, sizeof(*f));
	TAILQ_INIT(&f->conns);
	f->mode = mode;
	f->rcode = LDNS_RCODE_NOERROR;
	f->naddrs = 3;
	f->ttl = 300;
	for (i = 0; i < 20; i++) {
		memset(&f->sin, 0, sizeof(f->sin));
		f->sin.sin_family = AF_INET;
		f->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		f->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (f->udp == -1 || f->tcp == -1)
			abort();
		len = sizeof(f->sin);
		setsockopt(f->tcp, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(f->udp, (struct sockaddr *)&f->sin,
		    sizeof(f->sin)) == 0 &&
		    getsockname(f->udp, (struct sockaddr *)&f->sin,
		    &len) == 0 &&
		    bind(f->tcp, (struct sockaddr *)&f->sin,
		    sizeof(f->sin)) == 0 &&
		    listen(f->tcp, 16) == 0)
			break;
		close(f->udp);
		close(f->tcp);
	}
	if (i == 20)
		abort();
	event_set(&f->ev_udp, f->udp, EV_READ | EV_PERSIST, fake_udp, f);
	event_add(&f->ev_udp, NULL);
	event_set(&f->ev_tcp, f->tcp, EV_READ | EV_PERSIST, fake_accept, f);
	event_add(&f->ev_tcp, NULL);
}

static void
fake_stop(struct fake *f)
{
	while (!TAILQ_EMPTY(&f->conns))
		fake_conn_close(TAILQ_FIRST(&f->conns));
	event_del(&f->ev_udp);
	event_del(&f->ev_tcp);
	close(f->udp);
	close(f->tcp);
}

/* An address where nothing listens: the kernel answers port unreachable. */
static struct sockaddr_in
closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		abort();
	close(s);
	return (sin);
}

/* As the dns process stops. */
static void
shutdown_all(void)
{
	resolve_shutdown();
	upstream_shutdown();
}

static void
use(const struct sockaddr_in *a, const struct sockaddr_in *b,
    const struct sockaddr_in *c)
{
	static struct dns44_conf	uc;

	memset(&uc, 0, sizeof(uc));
	if (a != NULL)
		uc.upstream[uc.upstream_count++].addr.sin = *a;
	if (b != NULL)
		uc.upstream[uc.upstream_count++].addr.sin = *b;
	if (c != NULL)
		uc.upstream[uc.upstream_count++].addr.sin = *c;
	uc.upstream_ms = try_ms;
	if (upstream_init(&uc))
		resolve_flush();
}

static void
query_cb(ldns_pkt *pkt, void *arg)
{
	struct result	*r = arg;
	ldns_rr_list	*an;
	ldns_rr		*rr;
	size_t		 i;
	uint32_t	 a;

	r->called++;
	ncalls++;
	r->ms = now_ms() - r->start;
	if (pkt == NULL)
		r->rcode = -1;
	else {
		r->rcode = ldns_pkt_get_rcode(pkt);
		r->tc = ldns_pkt_tc(pkt);
		an = ldns_pkt_answer(pkt);
		for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A)
				continue;
			if (r->na++ == 0) {
				memcpy(&a, ldns_rdf_data(ldns_rr_rdf(rr, 0)),
				    4);
				r->first = ntohl(a);
			}
		}
	}
	switch (r->action) {
	case ACT_CANCEL_SELF:
		upstream_cancel(r->req);
		break;
	case ACT_SHUTDOWN:
		shutdown_all();
		break;
	case ACT_QUERY_AGAIN:
		r->action = ACT_NONE;
		memset(&again, 0, sizeof(again));
		again.start = now_ms();
		if (pkt != NULL)
			again.req = upstream_query(ldns_rr_owner(
			    ldns_rr_list_rr(ldns_pkt_question(pkt), 0)),
			    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, NULL, query_cb,
			    &again);
		break;
	default:
		break;
	}
}

static struct upstream_req *
ask(const char *name, ldns_rr_type type, int flags, struct result *r)
{
	ldns_rdf	*dname;

	memset(r, 0, sizeof(*r));
	r->start = now_ms();
	dname = ldns_dname_new_frm_str(name);
	r->req = upstream_query(dname, type, LDNS_RR_CLASS_IN, flags, NULL,
	    query_cb, r);
	ldns_rdf_deep_free(dname);
	return (r->req);
}

static void
addr_cb(const struct resolve_result *res, void *arg)
{
	struct addrs	*r = arg;
	size_t		 i;

	r->called++;
	ncalls++;
	r->rcode = res->rcode;
	r->n = res->naddrs;
	r->ttl = res->ttl;
	r->n6 = res->naddrs6;
	r->at = now_ms();
	for (i = 0; i < res->naddrs && i < 8; i++)
		r->a[i] = ntohl(res->addrs[i]);
	if (r->action == ACT_SHUTDOWN)
		shutdown_all();
}

static struct resolve_req *
resolve(const char *name, struct addrs *r)
{
	memset(r, 0, sizeof(*r));
	return (resolve_name(name, NULL, addr_cb, r));
}

static void
test_answer(void)
{
	struct fake	f;
	struct result	r;

	fake_start(&f, FAKE_ANSWER);
	use(&f.sin, NULL, NULL);

	CHECK(ask("www.example.com", LDNS_RR_TYPE_A, UPSTREAM_DO, &r) !=
	    NULL);
	CHECK_EQ(r.called, 0);			/* never from the call */
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, LDNS_RCODE_NOERROR);
	CHECK_EQ(r.na, 3);
	CHECK_EQ(r.first, 0xc0000201);
	CHECK_EQ(f.nudp, 1);
	CHECK_EQ(f.last_rd, 1);
	CHECK_EQ(f.last_do, 1);
	CHECK_EQ(f.last_cd, 0);
	CHECK_EQ(f.last_size, WIRE_EDNS_SIZE);

	CHECK(ask("www.example.com", LDNS_RR_TYPE_A, 0, &r) != NULL);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.na, 3);
	CHECK_EQ(f.last_do, 0);
	CHECK_EQ(f.last_size, WIRE_EDNS_SIZE);

	/* A client that validates itself asks with CD: so do we. */
	CHECK(ask("www.example.com", LDNS_RR_TYPE_A, UPSTREAM_CD, &r) !=
	    NULL);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.na, 3);
	CHECK_EQ(f.last_cd, 1);
	CHECK_EQ(f.last_do, 0);

	/* A query that is not for an A record is relayed too. */
	f.naddrs = 0;
	CHECK(ask("example.com", LDNS_RR_TYPE_MX, 0, &r) != NULL);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, LDNS_RCODE_NOERROR);
	CHECK_EQ(f.nudp, 4);
	fake_stop(&f);
}

static void
test_failover(void)
{
	struct fake			 s, f;
	struct result			 r;
	struct upstream_stats		 st = *upstream_stats();

	fake_start(&s, FAKE_SILENT);
	fake_start(&f, FAKE_ANSWER);
	use(&s.sin, &f.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms >= TIMEOUT_MS - 20 && r.ms < TIMEOUT_MS + 150);
	CHECK_EQ(s.nudp, 1);
	CHECK_EQ(f.nudp, 1);
	CHECK_EQ(upstream_stats()->timeouts, st.timeouts + 1);
	CHECK_EQ(upstream_stats()->failovers, st.failovers + 1);

	/* Both silent: no answer, after a timeout each. */
	use(&s.sin, &s.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, -1);
	CHECK(r.ms >= 2 * TIMEOUT_MS - 20 && r.ms < 2 * TIMEOUT_MS + 200);
	CHECK_EQ(s.nudp, 3);
	fake_stop(&s);
	fake_stop(&f);
}

static void
test_refused(void)
{
	struct fake		 f;
	struct result		 r;
	struct sockaddr_in	 closed = closed_port(), bcast;

	fake_start(&f, FAKE_ANSWER);
	use(&closed, &f.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms < TIMEOUT_MS / 2);
	CHECK_EQ(f.nudp, 1);

	use(&closed, NULL, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, -1);
	CHECK(r.ms < TIMEOUT_MS / 2);

	/* A local error: a broadcast address cannot be connected to. */
	memset(&bcast, 0, sizeof(bcast));
	bcast.sin_family = AF_INET;
	bcast.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	bcast.sin_port = htons(53);
	use(&bcast, &f.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	CHECK_EQ(r.called, 0);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms < TIMEOUT_MS / 2);
	CHECK_EQ(f.nudp, 2);
	fake_stop(&f);
}

static void
test_mismatch(void)
{
	struct fake		 f;
	struct result		 r;
	uint64_t		 before;

	fake_start(&f, FAKE_WRONG_ID);
	use(&f.sin, NULL, NULL);
	before = upstream_stats()->mismatched;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, LDNS_RCODE_NOERROR);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms < TIMEOUT_MS / 2);
	CHECK_EQ(upstream_stats()->mismatched, before + 3);

	f.mode = FAKE_WRONG_QUESTION;
	before = upstream_stats()->mismatched;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms < TIMEOUT_MS / 2);
	CHECK_EQ(upstream_stats()->mismatched, before + 3);
	CHECK_EQ(f.nudp, 2);
	fake_stop(&f);
}

static void
test_tcp(void)
{
	struct fake	f;
	struct result	r;
	uint64_t	before = upstream_stats()->tcp_retries;

	fake_start(&f, FAKE_TRUNCATE);
	f.naddrs = 40;
	use(&f.sin, NULL, NULL);
	ask("big.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, LDNS_RCODE_NOERROR);
	CHECK_EQ(r.tc, 0);
	CHECK_EQ(r.na, 40);
	CHECK_EQ(f.nudp, 1);
	CHECK_EQ(f.ntcp, 1);
	CHECK_EQ(f.nseen, 2);
	CHECK_EQ(upstream_stats()->tcp_retries, before + 1);
	fake_stop(&f);
}

static void
test_rcodes(void)
{
	struct fake	 bad, good;
	struct result	 r;

	fake_start(&bad, FAKE_ANSWER);
	fake_start(&good, FAKE_ANSWER);
	bad.rcode = LDNS_RCODE_SERVFAIL;
	bad.naddrs = 0;

	/* SERVFAIL: the next one is asked. */
	use(&bad.sin, &good.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, LDNS_RCODE_NOERROR);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms < TIMEOUT_MS / 2);
	CHECK(bad.nudp == 1 && good.nudp == 1);

	/* REFUSED too. */
	bad.rcode = LDNS_RCODE_REFUSED;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, LDNS_RCODE_NOERROR);
	CHECK(bad.nudp == 2 && good.nudp == 2);

	/* From the last upstream, it is the answer. */
	bad.rcode = LDNS_RCODE_SERVFAIL;
	use(&good.sin, &bad.sin, NULL);
	good.mode = FAKE_SILENT;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, LDNS_RCODE_SERVFAIL);

	/* Kept when the upstreams after it say nothing. */
	use(&bad.sin, &good.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, LDNS_RCODE_SERVFAIL);
	CHECK(r.ms >= TIMEOUT_MS - 20);

	/* NXDOMAIN is final. */
	good.mode = FAKE_ANSWER;
	bad.rcode = LDNS_RCODE_NXDOMAIN;
	good.nudp = 0;
	ask("nx.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, LDNS_RCODE_NXDOMAIN);
	CHECK_EQ(good.nudp, 0);
	fake_stop(&bad);
	fake_stop(&good);
}

static void
test_no_upstream(void)
{
	struct result	r;

	use(NULL, NULL, NULL);
	CHECK(ask("www.example.com", LDNS_RR_TYPE_A, 0, &r) != NULL);
	CHECK_EQ(r.called, 0);
	run_until(&r.called, 1, 1000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.rcode, -1);
}

static void
test_random(void)
{
	struct fake	 f;
	struct result	 r[50];
	int		 i, j, ids, ports, done;

	/* All at once, with time for a slow fake to answer them all. */
	fake_start(&f, FAKE_ANSWER);
	try_ms = 3000;
	use(&f.sin, NULL, NULL);
	try_ms = TIMEOUT_MS;
	ncalls = 0;
	for (i = 0; i < 50; i++)
		ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[i]);
	run_until(&ncalls, 50, 3000);
	for (done = i = 0; i < 50; i++)
		done += r[i].called == 1 && r[i].na == 3;
	CHECK_EQ(done, 50);
	CHECK_EQ(f.nseen, 50);
	for (ids = ports = i = 0; i < f.nseen; i++) {
		for (j = 0; j < i && f.ids[j] != f.ids[i]; j++)
			;
		ids += j == i;
		for (j = 0; j < i && f.ports[j] != f.ports[i]; j++)
			;
		ports += j == i;
	}
	CHECK(ids >= 45);
	CHECK(ports >= 45);
	fake_stop(&f);
}

static const char *const chain[] = {
	"www.example.com. 60 IN CNAME a.example.net.",
	"decoy.example. 300 IN A 192.0.2.99",
	"a.example.net. 1 IN CNAME B.Example.ORG.",
	"b.example.org. 300 IN A 192.0.2.10",
	"b.example.org. 300 IN A 192.0.2.11",
	NULL
};

static const char *const longttl[] = {
	"long.example. 999999 IN A 192.0.2.20",
	NULL
};

static void
test_resolve(void)
{
	struct fake	 f;
	struct addrs	 a;
	uint64_t	 hits = resolve_stats()->cache_hits;

	fake_start(&f, FAKE_ANSWER);
	f.naddrs = 0;
	f.extra = chain;
	use(&f.sin, NULL, NULL);

	/* A and AAAA at once; the answer comes when both have come. */
	CHECK(resolve("www.example.com", &a) != NULL);
	CHECK_EQ(a.called, 0);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.called, 1);
	CHECK_EQ(a.rcode, LDNS_RCODE_NOERROR);
	CHECK_EQ(a.n, 2);
	CHECK_EQ(a.a[0], 0xc000020a);
	CHECK_EQ(a.a[1], 0xc000020b);
	CHECK_EQ(a.ttl, RESOLVE_TTL_MIN);	/* the CNAME's 1, raised */
	CHECK_EQ(f.nudp, 2);

	/* From the cache, still from the loop; TTL 1 counts as the least. */
	CHECK(resolve("www.example.com", &a) != NULL);
	CHECK_EQ(a.called, 0);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.called, 1);
	CHECK_EQ(a.n, 2);
	CHECK_EQ(a.a[1], 0xc000020b);
	CHECK_EQ(f.nudp, 2);
	CHECK_EQ(resolve_stats()->cache_hits, hits + 1);

	resolve_clock_advance(RESOLVE_TTL_MIN * 1000 - 1000);
	resolve("www.example.com", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.n, 2);
	CHECK_EQ(f.nudp, 2);
	resolve_clock_advance(1500);
	resolve("www.example.com", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.n, 2);
	CHECK_EQ(f.nudp, 4);

	/* A day at most. */
	f.extra = longttl;
	resolve("long.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.n, 1);
	CHECK_EQ(a.a[0], 0xc0000214);
	CHECK_EQ(a.ttl, RESOLVE_TTL_MAX);
	resolve_clock_advance(RESOLVE_TTL_MAX * 1000 - 1000);
	resolve("long.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(f.nudp, 6);
	resolve_clock_advance(1500);
	resolve("long.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.n, 1);
	CHECK_EQ(f.nudp, 8);

	/*
	 * NODATA and NXDOMAIN without an SOA: cached for RESOLVE_TTL_NEG.
	 * Every lookup asks for A and AAAA records at once: two queries.
	 */
	f.extra = NULL;
	resolve("nodata.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.rcode == LDNS_RCODE_NOERROR && a.n == 0);
	CHECK_EQ(a.ttl, RESOLVE_TTL_NEG);
	CHECK_EQ(f.nudp, 10);
	CHECK_EQ(f.last_qtype, LDNS_RR_TYPE_AAAA);
	f.rcode = LDNS_RCODE_NXDOMAIN;
	resolve("nx.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.rcode == LDNS_RCODE_NXDOMAIN && a.n == 0);
	CHECK_EQ(a.ttl, RESOLVE_TTL_NEG);
	CHECK_EQ(f.nudp, 12);
	CHECK_EQ(f.last_qtype, LDNS_RR_TYPE_AAAA);
	resolve_clock_advance(RESOLVE_TTL_NEG * 1000 - 1000);
	resolve("nx.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.rcode == LDNS_RCODE_NXDOMAIN && a.n == 0);
	CHECK(a.ttl <= 1);			/* a second left at most */
	resolve("nodata.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.rcode == LDNS_RCODE_NOERROR && a.n == 0);
	CHECK_EQ(f.nudp, 12);
	resolve_clock_advance(1500);
	resolve("nx.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(f.nudp, 14);

	/* SERVFAIL and no answer at all are not cached. */
	f.rcode = LDNS_RCODE_SERVFAIL;
	resolve("fail.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.rcode, LDNS_RCODE_SERVFAIL);
	CHECK_EQ(a.ttl, 0);
	resolve("fail.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(f.nudp, 18);
	f.mode = FAKE_SILENT;
	resolve("silent.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.called == 1 && a.rcode == -1 && a.n == 0 && a.ttl == 0);
	resolve("silent.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.rcode, -1);
	CHECK_EQ(f.nudp, 22);

	/* Bad names. */
	CHECK(resolve_name("", NULL, addr_cb, &a) == NULL && errno == EINVAL);
	fake_stop(&f);
	shutdown_all();
}

/*
 * The TTL given with the addresses: the answer's own when fresh, what is
 * left of it when from the cache, in whole seconds rounded down.
 */
/* What a verify callback got. */
struct verdict {
	int			 called;
	int			 rcode;
	size_t			 n;
	int			 aaaa;
	size_t			 n6;
	unsigned char		 six[16];	/* the first IPv6 address */
	int			 soa;		/* an SOA came with it */
	uint32_t		 soa_min;	/* its MINIMUM */
	uint32_t		 ttl;
};

static void
verify_cb(const struct resolve_result *r, void *arg)
{
	struct verdict	*v = arg;

	v->called++;
	ncalls++;
	v->rcode = r->rcode;
	v->n = r->naddrs;
	v->aaaa = r->aaaa;
	v->n6 = r->naddrs6;
	if (r->naddrs6 > 0)
		memcpy(v->six, &r->addrs6[0], sizeof(v->six));
	v->soa = r->soa != NULL;
	v->soa_min = r->soa != NULL ?
	    ldns_rdf2native_int32(ldns_rr_rdf(r->soa, 6)) : 0;
	v->ttl = r->ttl;
}

static struct resolve_req *
verify_type(const char *name, ldns_rr_type qtype, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	return (resolve_verify(name, qtype, NULL, verify_cb, v));
}

/* A client's A query. */
static struct resolve_req *
verify(const char *name, struct verdict *v)
{
	return (verify_type(name, LDNS_RR_TYPE_A, v));
}

/*
 * Whether a name exists: NXDOMAIN and NODATA come with the upstream's SOA
 * and are kept for its negative TTL; a name with AAAA records only is not
 * NODATA; one lookup for all who ask at once; AAAA is asked only when A
 * has nothing, when the client asked for AAAA, or when the proxy needs it.
 */
/*
 * A chain of RESOLVE_CNAME_MAX CNAMEs is followed to its address; one more
 * is not, and a loop of CNAMEs ends with no address, as a chain that leads
 * nowhere does.
 */
static void
test_resolve_cnames(void)
{
	static char		 rrs[RESOLVE_CNAME_MAX + 3][64];
	static const char	*links[RESOLVE_CNAME_MAX + 3];
	static const char *const loop[] = {
		"loop1.example. 60 IN CNAME loop2.example.",
		"loop2.example. 60 IN CNAME loop1.example.",
		NULL };
	struct fake	 f;
	struct addrs	 a;
	int		 i, n;

	fake_start(&f, FAKE_ANSWER);
	f.naddrs = 0;
	use(&f.sin, NULL, NULL);

	/* c0 -> c1 -> ... -> cN, and cN's address: N CNAMEs. */
	for (n = RESOLVE_CNAME_MAX; n <= RESOLVE_CNAME_MAX + 1; n++) {
		for (i = 0; i < n; i++) {
			snprintf(rrs[i], sizeof(rrs[i]),
			    "c%d.n%d.example. 60 IN CNAME c%d.n%d.example.",
			    i, n, i + 1, n);
			links[i] = rrs[i];
		}
		snprintf(rrs[n], sizeof(rrs[n]),
		    "c%d.n%d.example. 60 IN A 192.0.2.40", n, n);
		links[n] = rrs[n];
		links[n + 1] = NULL;
		f.extra = links;
		snprintf(rrs[n + 1], sizeof(rrs[n + 1]), "c0.n%d.example", n);
		resolve(rrs[n + 1], &a);
		run_until(&a.called, 1, 2000);
		CHECK_EQ(a.called, 1);
		CHECK_EQ(a.n, n == RESOLVE_CNAME_MAX ? 1 : 0);
		if (n == RESOLVE_CNAME_MAX)
			CHECK_EQ(a.a[0], 0xc0000228);
	}

	f.extra = loop;
	resolve("loop1.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.called, 1);
	CHECK_EQ(a.n, 0);
	fake_stop(&f);
	shutdown_all();
}

static void
test_resolve_verify(void)
{
	static const char *const soa[] = {
		"example. 600 IN SOA ns.example. h.example. 1 2 3 4 60", NULL };
	static const char *const soa_long[] = {
		"example. 90000 IN SOA ns.example. h.example. 1 2 3 4 90000",
		NULL };
	static const char *const six[] = {
		"six.example. 120 IN AAAA 2001:db8::1", NULL };
	static const char *const six2[] = {
		"six2.example. 120 IN AAAA 2001:db8::2", NULL };
	struct fake	 f;
	struct verdict	 v, w;
	struct addrs	 a;

	fake_start(&f, FAKE_ANSWER);
	use(&f.sin, NULL, NULL);

	/* NXDOMAIN: the SOA's MINIMUM, 60, is less than its TTL. */
	f.naddrs = 0;
	f.rcode = LDNS_RCODE_NXDOMAIN;
	f.auth = soa;
	CHECK(verify("nope.example", &v) != NULL);
	CHECK(verify("nope.example", &w) != NULL);
	run_until(&w.called, 1, 2000);
	CHECK_EQ(v.called, 1);
	CHECK_EQ(f.nudp, 1);			/* one A query for both */
	CHECK_EQ(f.last_qtype, LDNS_RR_TYPE_A);
	CHECK(v.rcode == LDNS_RCODE_NXDOMAIN && v.n == 0 && !v.aaaa);
	CHECK(v.soa && v.soa_min == 60 && v.ttl == 60);
	/* The proxy's lookup and a second verification: from the cache. */
	resolve("nope.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.rcode, LDNS_RCODE_NXDOMAIN);
	verify("nope.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.rcode == LDNS_RCODE_NXDOMAIN && v.soa);
	CHECK_EQ(f.nudp, 1);
	resolve_clock_advance(61 * 1000);
	verify("nope.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK_EQ(f.nudp, 2);

	/* NODATA: no A, then no AAAA; the SOA of the AAAA answer. */
	f.rcode = LDNS_RCODE_NOERROR;
	verify("empty.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.rcode == LDNS_RCODE_NOERROR && v.n == 0 && !v.aaaa);
	CHECK(v.soa && v.ttl == 60);
	CHECK_EQ(f.nudp, 4);
	CHECK_EQ(f.last_qtype, LDNS_RR_TYPE_AAAA);

	/* IPv6 only: it exists, and its addresses come with it. */
	f.auth = NULL;
	f.extra = six;
	verify("six.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.rcode == LDNS_RCODE_NOERROR && v.n == 0 && v.aaaa);
	CHECK(v.n6 == 1 && v.six[15] == 1 && v.six[0] == 0x20);
	CHECK(!v.soa && v.ttl == 120);
	CHECK_EQ(f.nudp, 6);
	verify("six.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.aaaa && f.nudp == 6);
	/* The proxy's lookup: both families known, nothing more to ask. */
	resolve("six.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 0 && a.n6 == 1 && f.nudp == 6);
	/* A refused (dnsmasq, IPv6 only): AAAA decides all the same. */
	f.refuse_a = 1;
	f.extra = six2;
	verify("six2.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.rcode == LDNS_RCODE_NOERROR && v.n == 0 && v.n6 == 1);
	CHECK_EQ(f.nudp, 8);
	f.refuse_a = 0;
	f.extra = six;
	f.nudp -= 2;

	/* An address: one query, for A. */
	f.extra = NULL;
	f.naddrs = 1;
	verify("four.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.rcode == LDNS_RCODE_NOERROR && v.n == 1 && !v.aaaa);
	CHECK_EQ(f.nudp, 7);
	CHECK_EQ(f.last_qtype, LDNS_RR_TYPE_A);
	/* Verified again: from the cache, AAAA still unasked. */
	verify("four.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.n == 1 && f.nudp == 7);
	/* The proxy asks AAAA alone, once, and gets the A records with it. */
	f.extra = six;
	resolve("four.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.rcode == LDNS_RCODE_NOERROR && a.n == 1 && a.a[0] ==
	    0xc0000201);
	CHECK_EQ(f.nudp, 8);
	CHECK_EQ(f.last_qtype, LDNS_RR_TYPE_AAAA);
	resolve("four.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 1 && f.nudp == 8);
	f.extra = NULL;

	/* A client that asks AAAA will dial it: both asked at once. */
	verify_type("both.example", LDNS_RR_TYPE_AAAA, &v);
	run_until(&v.called, 1, 2000);
	CHECK(v.rcode == LDNS_RCODE_NOERROR && v.n == 1);
	run_for(50);
	CHECK_EQ(f.nudp, 10);
	resolve("both.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 1 && f.nudp == 10);

	/* A long negative TTL is cut to RESOLVE_NEG_TTL_MAX. */
	f.naddrs = 0;
	f.rcode = LDNS_RCODE_NXDOMAIN;
	f.auth = soa_long;
	verify("long.example", &v);
	run_until(&v.called, 1, 2000);
	CHECK_EQ(v.ttl, RESOLVE_NEG_TTL_MAX);

	/* No upstream: not cached. */
	f.mode = FAKE_SILENT;
	verify("quiet.example", &v);
	run_until(&v.called, 1, 4000);
	CHECK(v.called == 1 && v.rcode == -1 && !v.soa);

	CHECK(resolve_verify("", LDNS_RR_TYPE_A, NULL, verify_cb, &v) == NULL &&
	    errno == EINVAL);
	fake_stop(&f);
	shutdown_all();
}

/*
 * RFC 8305's resolution delay: the proxy waits RESOLVE_DELAY_MS for AAAA
 * records once the A records are in, not for the AAAA query's timeout;
 * the lookup goes on and caches what the AAAA query ends with.  A
 * shutdown from the callback of such an early delivery frees all.
 */
static void
test_resolve_delay(void)
{
	struct fake	 f;
	struct addrs	 a, b;
	int64_t		 t0;

	fake_start(&f, FAKE_ANSWER);		/* 3 A records */
	f.silent_aaaa = 1;
	use(&f.sin, NULL, NULL);

	t0 = now_ms();
	resolve("lost6.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.called == 1 && a.n == 3 && a.n6 == 0);
	CHECK(a.at - t0 >= RESOLVE_DELAY_MS - 5);
	CHECK(a.at - t0 < TIMEOUT_MS);
	CHECK_EQ(f.nudp, 2);
	/* One that comes later still waits for the same deadline only. */
	resolve("lost6.example", &b);
	run_until(&b.called, 1, 2000);
	CHECK(b.n == 3 && b.at - t0 < TIMEOUT_MS);
	CHECK_EQ(f.nudp, 2);
	/* The AAAA query times out: A alone is cached, AAAA not asked again. */
	run_for(TIMEOUT_MS + 100);
	resolve("lost6.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 3 && f.nudp == 2);

	/* A verification is told as soon as the A records are in. */
	t0 = now_ms();
	{
		struct verdict	v;

		verify_type("v6.example", LDNS_RR_TYPE_AAAA, &v);
		run_until(&v.called, 1, 2000);
		CHECK(v.called == 1 && v.n == 3);
		CHECK(now_ms() - t0 < RESOLVE_DELAY_MS);
	}
	CHECK_EQ(f.nudp, 4);

	/* Shut down from an early delivery's callback, the AAAA query out. */
	resolve("gone.example", &a);
	a.action = ACT_SHUTDOWN;
	resolve("gone.example", &b);
	run_until(&a.called, 1, 2000);
	run_for(TIMEOUT_MS + 100);
	CHECK(a.called == 1 && b.called == 0);
	fake_stop(&f);
	shutdown_all();
}

static void
test_resolve_ttl(void)
{
	struct fake	 f;
	struct addrs	 a, b;

	fake_start(&f, FAKE_ANSWER);		/* 3 A records, TTL 300 */
	use(&f.sin, NULL, NULL);

	resolve("ttl.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 3 && a.ttl == 300);
	CHECK_EQ(f.nudp, 2);

	/* Cached: less than 300 s left, by however many ms went by. */
	resolve("ttl.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 3 && (a.ttl == 299 || a.ttl == 300));
	resolve_clock_advance(100500);
	resolve("ttl.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.n, 3);
	CHECK_EQ(a.ttl, 199);
	resolve_clock_advance(199000);
	resolve("ttl.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.n, 3);
	CHECK_EQ(a.ttl, 0);			/* still there, not for 1 s */
	CHECK_EQ(f.nudp, 2);

	/* Expired: asked again, the whole TTL once more. */
	resolve_clock_advance(1000);
	resolve("ttl.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 3 && a.ttl == 300);
	CHECK_EQ(f.nudp, 4);

	/* The least of the records; one too short counts as the bound. */
	f.ttl = 42;
	resolve("ttl42.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK_EQ(a.ttl, 42);
	resolve_clock_advance(2000);
	resolve("ttl42.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.ttl == 39 || a.ttl == 40);
	f.ttl = 0;
	resolve("ttl0.example", &a);
	run_until(&a.called, 1, 2000);
	CHECK(a.n == 3 && a.ttl == RESOLVE_TTL_MIN);
	CHECK_EQ(f.nudp, 8);

	/* Every waiter of one query hears the same. */
	f.ttl = 77;
	resolve("w.example", &a);
	resolve("w.example", &b);
	run_until(&b.called, 1, 2000);
	run_until(&a.called, 1, 2000);
	CHECK(a.ttl == 77 && b.ttl == 77);
	CHECK_EQ(f.nudp, 10);
	fake_stop(&f);
	shutdown_all();
}

static void
test_concurrent(void)
{
	struct fake	 f;
	struct addrs	 a[5];
	int		 i;

	fake_start(&f, FAKE_ANSWER);
	use(&f.sin, NULL, NULL);
	ncalls = 0;
	for (i = 0; i < 5; i++)
		CHECK(resolve("same.example", &a[i]) != NULL);
	run_until(&ncalls, 5, 2000);
	run_for(20);
	CHECK_EQ(ncalls, 5);
	CHECK_EQ(f.nudp, 2);
	for (i = 0; i < 5; i++) {
		CHECK_EQ(a[i].called, 1);
		CHECK_EQ(a[i].n, 3);
		CHECK_EQ(a[i].a[2], 0xc0000203);
	}
	fake_stop(&f);
	shutdown_all();
}

static void
test_cancel(void)
{
	struct fake		 f, s;
	struct result		 r, r2;
	struct addrs		 a, b, c;
	struct resolve_req	*req;
	int			 fds = fd_count();

	fake_start(&f, FAKE_ANSWER);
	fake_start(&s, FAKE_SILENT);
	fds += 4;

	/* At once, then while the try waits. */
	use(&f.sin, NULL, NULL);
	upstream_cancel(ask("www.example.com", LDNS_RR_TYPE_A, 0, &r));
	use(&s.sin, NULL, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r2);
	run_for(TIMEOUT_MS / 2);
	CHECK_EQ(fd_count(), fds + 1);
	upstream_cancel(r2.req);
	CHECK_EQ(fd_count(), fds);
	run_for(TIMEOUT_MS + 50);
	CHECK_EQ(r.called, 0);
	CHECK_EQ(r2.called, 0);

	/* One of two resolves. */
	use(&f.sin, NULL, NULL);
	req = resolve("c.example", &a);
	resolve("c.example", &b);
	resolve_cancel(req);
	run_until(&b.called, 1, 2000);
	CHECK_EQ(b.called, 1);
	CHECK_EQ(b.n, 3);
	CHECK_EQ(a.called, 0);

	/* A cache hit. */
	resolve_cancel(resolve("c.example", &a));
	run_for(20);
	CHECK_EQ(a.called, 0);

	/* All of them: the query goes on and fills the cache. */
	resolve_cancel(resolve("d.example", &a));
	run_for(50);
	CHECK_EQ(a.called, 0);
	CHECK_EQ(f.nudp, 5);		/* the first cancel had sent */
	resolve("d.example", &c);
	run_until(&c.called, 1, 2000);
	CHECK_EQ(c.n, 3);
	CHECK_EQ(f.nudp, 5);

	/* From its own callback it does nothing. */
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	r.action = ACT_CANCEL_SELF;
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);

	fake_stop(&f);
	fake_stop(&s);
	shutdown_all();
}

static void
test_reentry(void)
{
	struct fake	 f, s;
	struct result	 r, r2;
	struct addrs	 a[3];
	int		 i;

	fake_start(&f, FAKE_ANSWER);
	fake_start(&s, FAKE_SILENT);
	use(&f.sin, NULL, NULL);

	/* A new query from a callback. */
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	r.action = ACT_QUERY_AGAIN;
	run_until(&again.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(again.called, 1);
	CHECK_EQ(again.na, 3);

	/* Shut down from a callback: the others are not called. */
	for (i = 0; i < 3; i++)
		resolve("r.example", &a[i]);
	a[0].action = ACT_SHUTDOWN;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	r.action = ACT_SHUTDOWN;
	use(&s.sin, NULL, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r2);
	run_for(TIMEOUT_MS + 50);
	CHECK_EQ(a[0].called + r.called, 1);
	CHECK_EQ(a[1].called + a[2].called + r2.called, 0);
	fake_stop(&f);
	fake_stop(&s);
}

static void
test_shutdown(int base_fds)
{
	struct fake	 s, f;
	struct result	 r[3];
	struct addrs	 a[3];

	fake_start(&s, FAKE_SILENT);
	fake_start(&f, FAKE_TRUNCATE);
	f.naddrs = 40;
	use(&f.sin, NULL, NULL);
	resolve("x.example", &a[0]);
	run_until(&a[0].called, 1, 2000);

	use(&s.sin, NULL, NULL);	/* a new list empties the cache */
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
	resolve("x.example", &a[0]);
	resolve("y.example", &a[1]);
	use(&s.sin, NULL, NULL);
	resolve("x.example", &a[2]);
	run_for(20);
	CHECK_EQ(a[0].called + a[1].called + a[2].called, 0);
	CHECK_EQ(s.nudp, 5);
	use(&f.sin, NULL, NULL);
	ask("tcp.example", LDNS_RR_TYPE_A, 0, &r[1]);	/* in TCP at once */
	run_until(&f.ntcp, 2, 1000);
	CHECK_EQ(f.ntcp, 2);
	shutdown_all();
	CHECK_EQ(fd_count(), base_fds + 4);
	run_for(TIMEOUT_MS + 50);
	CHECK_EQ(r[0].called + r[1].called, 0);
	CHECK_EQ(a[0].called + a[1].called + a[2].called, 0);

	/* It goes on after. */
	use(&f.sin, NULL, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[2]);
	run_until(&r[2].called, 1, 2000);
	CHECK_EQ(r[2].na, 40);
	fake_stop(&s);
	fake_stop(&f);
}

/* What upstream.c knows of an upstream; 0 when nothing. */
static int
health_of(const struct sockaddr_in *sin, struct upstream_info *hi)
{
	struct upstream_info	info[UPSTREAM_HEALTH_MAX];
	size_t			n, i;

	n = upstream_list(info, UPSTREAM_HEALTH_MAX);
	for (i = 0; i < n; i++)
		if (info[i].addr.addr.sin.sin_addr.s_addr ==
		    sin->sin_addr.s_addr &&
		    info[i].addr.addr.sin.sin_port == sin->sin_port) {
			*hi = info[i];
			return (1);
		}
	return (0);
}

/*
 * A silent first upstream costs one timeout, then is passed over until
 * its back-off runs out; then one query probes it, and a failed probe
 * doubles the back-off.  An answer brings it back, first again.
 */
static void
test_backoff(void)
{
	struct fake		 s, f;
	struct result		 r[3];
	struct upstream_info	 hi;
	struct rule_upstream	 split;
	ldns_rdf		*dname;
	int			 i, fast;

	fake_start(&s, FAKE_SILENT);
	fake_start(&f, FAKE_ANSWER);
	use(&s.sin, &f.sin, NULL);
	CHECK(health_of(&s.sin, &hi) && hi.state == UPSTREAM_NEW);

	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
	run_until(&r[0].called, 1, 2000);
	CHECK_EQ(r[0].na, 3);
	CHECK(r[0].ms >= TIMEOUT_MS - 20);
	for (fast = i = 0; i < 10; i++) {
		ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
		run_until(&r[0].called, 1, 2000);
		fast += r[0].na == 3 && r[0].ms < TIMEOUT_MS / 2;
	}
	CHECK_EQ(fast, 10);
	CHECK_EQ(s.nudp, 1);
	CHECK_EQ(f.nudp, 11);
	CHECK(health_of(&s.sin, &hi));
	CHECK_EQ(hi.state, UPSTREAM_DOWN);
	CHECK_EQ(hi.timeouts, 1);
	CHECK_EQ(hi.answers, 0);
	CHECK(hi.backoff_left_ms > 0 && hi.backoff_left_ms <= 1000);
	CHECK(health_of(&f.sin, &hi));
	CHECK_EQ(hi.state, UPSTREAM_UP);
	CHECK_EQ(hi.answers, 11);
	CHECK_EQ(hi.timeouts, 0);
	CHECK(hi.srtt_us > 0 && hi.srtt_us < TIMEOUT_MS * 1000);

	/* Split DNS sets share what is known of an upstream. */
	memset(&split, 0, sizeof(split));
	split.count = 2;
	split.upstream[0].addr.sin = s.sin;
	split.upstream[1].addr.sin = f.sin;
	memset(&r[0], 0, sizeof(r[0]));
	r[0].start = now_ms();
	dname = ldns_dname_new_frm_str("split.example");
	upstream_query(dname, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, &split,
	    query_cb, &r[0]);
	ldns_rdf_deep_free(dname);
	run_until(&r[0].called, 1, 2000);
	CHECK(r[0].na == 3 && r[0].ms < TIMEOUT_MS / 2);
	CHECK_EQ(s.nudp, 1);

	/* Its back-off over: one query of three probes it. */
	upstream_clock_advance(1000);
	ncalls = 0;
	for (i = 0; i < 3; i++)
		ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[i]);
	run_until(&ncalls, 3, 2000);
	CHECK_EQ(s.nudp, 2);
	CHECK(r[0].na == 3 && r[0].ms >= TIMEOUT_MS - 20);
	CHECK(r[1].na == 3 && r[1].ms < TIMEOUT_MS / 2);
	CHECK(r[2].na == 3 && r[2].ms < TIMEOUT_MS / 2);
	CHECK(health_of(&s.sin, &hi));
	CHECK_EQ(hi.state, UPSTREAM_DOWN);
	CHECK(hi.backoff_left_ms > 1000 && hi.backoff_left_ms <= 2000);

	/* Failed: left alone twice as long. */
	upstream_clock_advance(1000);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
	run_until(&r[0].called, 1, 2000);
	CHECK(r[0].na == 3 && r[0].ms < TIMEOUT_MS / 2);
	CHECK_EQ(s.nudp, 2);
	upstream_clock_advance(1000);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
	run_until(&r[0].called, 1, 2000);
	CHECK(r[0].na == 3 && r[0].ms >= TIMEOUT_MS - 20);
	CHECK_EQ(s.nudp, 3);

	/* An answer to the probe brings it back, first in the list again. */
	s.mode = FAKE_ANSWER;
	upstream_clock_advance(4000);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
	run_until(&r[0].called, 1, 2000);
	CHECK(r[0].na == 3 && r[0].ms < TIMEOUT_MS / 2);
	CHECK_EQ(s.nudp, 4);
	CHECK(health_of(&s.sin, &hi));
	CHECK_EQ(hi.state, UPSTREAM_UP);
	CHECK_EQ(hi.fails, 0);
	CHECK_EQ(hi.backoff_left_ms, 0);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[0]);
	run_until(&r[0].called, 1, 2000);
	CHECK_EQ(s.nudp, 5);
	CHECK_EQ(f.nudp, 17);
	fake_stop(&s);
	fake_stop(&f);
}

/* Of two upstreams, the faster is asked once both are known. */
static void
test_rtt_order(void)
{
	struct fake		 slow, quick;
	struct result		 r;
	struct upstream_info	 hi;
	int			 i, fast;

	fake_start(&slow, FAKE_SLOW);
	slow.delay_ms = 300;
	fake_start(&quick, FAKE_ANSWER);
	try_ms = 1000;
	use(&slow.sin, &quick.sin, NULL);
	try_ms = TIMEOUT_MS;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK(r.na == 3 && r.ms >= 280);
	for (fast = i = 0; i < 5; i++) {
		ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
		run_until(&r.called, 1, 2000);
		fast += r.na == 3 && r.ms < 150;
	}
	CHECK_EQ(fast, 5);
	CHECK_EQ(slow.nudp, 1);
	CHECK_EQ(quick.nudp, 5);
	CHECK(health_of(&slow.sin, &hi) && hi.state == UPSTREAM_UP);
	CHECK(hi.srtt_us >= 280 * 1000);
	CHECK(health_of(&quick.sin, &hi) && hi.state == UPSTREAM_UP);
	CHECK(hi.srtt_us < 150 * 1000);
	fake_stop(&slow);
	fake_stop(&quick);
}

/*
 * A TLS upstream is never asked in clear text: one whose port speaks
 * plain DNS fails its handshake within a try, over TLS only, and the
 * query fails over to the next upstream; it then counts as down.
 */
static void
test_tls_no_cleartext(void)
{
	static struct dns44_conf	 uc;
	struct fake			 plain, f;
	struct result			 r;
	struct upstream_info		 info[UPSTREAM_HEALTH_MAX];
	char				 err[256];
	size_t				 i, n;
	int				 found = 0;

	CHECK_EQ(upstream_tls_load("", err, sizeof(err)), 0);
	fake_start(&plain, FAKE_ANSWER);
	fake_start(&f, FAKE_ANSWER);
	memset(&uc, 0, sizeof(uc));
	uc.upstream[0].addr.sin = plain.sin;
	uc.upstream[0].tls = 1;
	strlcpy(uc.upstream[0].tls_name, "upstream.test",
	    sizeof(uc.upstream[0].tls_name));
	uc.upstream[1].addr.sin = f.sin;
	uc.upstream_count = 2;
	uc.upstream_ms = try_ms;
	if (upstream_init(&uc))
		resolve_flush();
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.called, 1);
	CHECK_EQ(r.na, 3);
	CHECK(r.ms < TIMEOUT_MS + 150);
	CHECK_EQ(plain.nudp, 0);
	CHECK_EQ(plain.ntcp, 0);
	CHECK_EQ(f.nudp, 1);
	n = upstream_list(info, UPSTREAM_HEALTH_MAX);
	for (i = 0; i < n; i++)
		if (info[i].addr.tls) {
			found++;
			CHECK_EQ(info[i].state, UPSTREAM_DOWN);
		}
	CHECK_EQ(found, 1);
	/* Down now: the next query goes to the plain one at once. */
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK(r.na == 3 && r.ms < 100);
	CHECK_EQ(plain.nudp + plain.ntcp, 0);
	fake_stop(&plain);
	fake_stop(&f);
}

/* Every upstream down: they are asked all the same, not given up on. */
static void
test_all_down(void)
{
	struct fake	 a, b;
	struct result	 r;

	fake_start(&a, FAKE_SILENT);
	fake_start(&b, FAKE_SILENT);
	use(&a.sin, &b.sin, NULL);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, -1);
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK_EQ(r.rcode, -1);
	CHECK(r.ms >= 2 * TIMEOUT_MS - 20);
	CHECK(a.nudp == 2 && b.nudp == 2);

	/* The first back: it answers at once. */
	a.mode = FAKE_ANSWER;
	ask("www.example.com", LDNS_RR_TYPE_A, 0, &r);
	run_until(&r.called, 1, 2000);
	CHECK(r.na == 3 && r.ms < TIMEOUT_MS / 2);
	CHECK(a.nudp == 3 && b.nudp == 2);
	fake_stop(&a);
	fake_stop(&b);
}

/*
 * With no upstream a query fails at once but waits for the loop to say so,
 * so the bounds fill up without a socket each.
 */
static void
test_bounds(void)
{
	static struct result	 r[UPSTREAM_MAX_PENDING + 1];
	static struct addrs	 a[RESOLVE_MAX_WAITING + 1];
	int			 i, ok;

	use(NULL, NULL, NULL);
	ncalls = 0;
	for (ok = i = 0; i < RESOLVE_MAX_WAITING; i++)
		ok += resolve("same.example", &a[i]) != NULL;
	CHECK_EQ(ok, RESOLVE_MAX_WAITING);
	errno = 0;
	CHECK(resolve("same.example", &a[i]) == NULL);
	CHECK_EQ(errno, ENOBUFS);
	/* They made one query of each type. */
	for (ok = i = 0; i < UPSTREAM_MAX_PENDING - 2; i++)
		ok += ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[i]) != NULL;
	CHECK_EQ(ok, UPSTREAM_MAX_PENDING - 2);
	errno = 0;
	CHECK(ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[i]) == NULL);
	CHECK_EQ(errno, ENOBUFS);
	shutdown_all();
	run_for(20);
	CHECK_EQ(ncalls, 0);

	/* Room again; the answers come, none from the cache. */
	for (ok = i = 0; i < UPSTREAM_MAX_PENDING - 2; i++)
		ok += ask("www.example.com", LDNS_RR_TYPE_A, 0, &r[i]) != NULL;
	CHECK_EQ(ok, UPSTREAM_MAX_PENDING - 2);
	for (ok = i = 0; i < 10; i++)
		ok += resolve("same.example", &a[i]) != NULL;
	CHECK_EQ(ok, 10);
	run_until(&ncalls, UPSTREAM_MAX_PENDING - 2 + 10, 2000);
	CHECK_EQ(ncalls, UPSTREAM_MAX_PENDING - 2 + 10);
	CHECK(r[0].rcode == -1 && a[9].rcode == -1);
}

int
main(void)
{
	struct event_base	*base;
	int64_t			 start = now_ms();
	int			 fds;

	base = event_init();
	event_set_log_callback(ev_log);
	evtimer_set(&tick, tick_cb, NULL);
	fds = fd_count();
	CHECK(fds > 0);

	test_answer();
	test_failover();
	test_refused();
	test_mismatch();
	test_tcp();
	test_rcodes();
	test_no_upstream();
	test_random();
	test_resolve();
	test_resolve_cnames();
	test_resolve_verify();
	test_resolve_delay();
	test_resolve_ttl();
	test_concurrent();
	test_cancel();
	test_reentry();
	test_shutdown(fds);
	test_bounds();
	test_backoff();
	test_rtt_order();
	test_all_down();
	test_tls_no_cleartext();

	shutdown_all();
	CHECK_EQ(fd_count(), fds);
	CHECK_EQ(ev_warnings, 0);
	CHECK(now_ms() - start < 10000);
	printf("upstream: %lld ms\n", (long long)(now_ms() - start));
	event_base_free(base);
	return (test_done("upstream"));
}
