/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstream.c: the queries the dns process sends to the upstream resolvers,
 * for the queries it forwards and for the names resolve.c looks up.  It
 * belongs to the dns process alone.  This file owns every query in flight
 * (its sockets, timers and buffers), the checks an answer passes before it
 * is believed, and the failover from one upstream to the next.
 *
 * A query goes to the upstreams one try at a time, the best first.  Each
 * try has a fresh id and a fresh connected UDP socket, hence a fresh source
 * port; a truncated answer is asked again over TCP from the same upstream.
 * The try timer also delivers the result: results always reach the caller
 * from the event loop, never from inside a call.
 *
 * It also owns what is known of each upstream, keyed by address and port
 * so that the plain upstreams and the split DNS sets share it: a smoothed
 * round-trip time and its variance (RFC 6298's estimator, from UDP answers
 * only), answers, timeouts, consecutive failures, and whether it is up.
 * A try that times out or is refused takes an upstream down; a down one
 * is left out until its back-off (1 s, doubled by each failed probe up to
 * 120 s) runs out, then one query probes it while the others pass it by.
 * Any answer brings it back up.  Among the upstreams up, those whose
 * estimate is within UPSTREAM_RTT_BAND of the best count as equally fast
 * and the first configured of them is asked.  When every upstream left
 * to ask is down, they are asked all the same, best first.  The try
 * timeout stays the configured one: recursive upstreams answer cache
 * misses far slower than hits, and a timeout fitted to the hits would
 * give up on the misses.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "rules.h"
#include "upstream.h"
#include "wire.h"

#define UPSTREAM_WIRE_MAX	(2 + WIRE_HDR_SIZE + WIRE_NAME_MAX + 4 + \
				    WIRE_OPT_SIZE)
#define UPSTREAM_READS		16	/* reads per event, against floods */
#define UPSTREAM_RTT_INIT	(100 * 1000)	/* us: never asked */
#define UPSTREAM_RTT_BAND	(50 * 1000)	/* us: as fast as the best */
#define UPSTREAM_BACKOFF_MIN	1000		/* ms */
#define UPSTREAM_BACKOFF_MAX	(120 * 1000)	/* ms */

/* What is known of one upstream; see the comment at the top. */
struct upstream_health {
	struct sockaddr_in	 addr;
	int			 used;		/* slot taken */
	int			 down;
	int			 measured;	/* srtt holds a sample */
	int64_t			 srtt;		/* us */
	int64_t			 rttvar;	/* us */
	uint64_t		 answers;
	uint64_t		 timeouts;
	uint32_t		 fails;		/* in a row */
	uint32_t		 backoff;	/* ms, while down */
	int64_t			 retry_at;	/* ms: probe from then */
	int64_t			 probe_until;	/* ms: a probe is out */
	int64_t			 last;		/* ms: last asked */
};

enum upstream_state {
	UPSTREAM_ST_IDLE,		/* between tries */
	UPSTREAM_ST_UDP,		/* query sent, waiting */
	UPSTREAM_ST_CONNECT,		/* TCP: connecting */
	UPSTREAM_ST_WRITE,		/* TCP: sending the query */
	UPSTREAM_ST_READ,		/* TCP: reading the answer */
	UPSTREAM_ST_DONE,		/* result due from the timer */
	UPSTREAM_ST_CALLING,		/* callback running */
};

struct upstream_req {
	enum upstream_state	 state;
	TAILQ_ENTRY(upstream_req) entry;	/* upstream_queries */
	struct event		 ev_timer;	/* try timeout; delivery */
	upstream_cb		 cb;
	void			*arg;
	ldns_rdf		*qname;
	ldns_rr_type		 qtype;
	ldns_rr_class		 qclass;
	int			 server;	/* upstream of this try */
	int			 nservers;
	uint32_t		 tried;		/* bit per server */
	int			 probe;		/* this try probes a down one */
	int64_t			 sent_us;	/* this try's query left */
	struct sockaddr_in	 servers[CONF_MAX_UPSTREAM];
	int			 fd;
	int			 tcp;		/* counted in upstream_ntcp */
	struct event		 ev_io;
	uint16_t		 id;
	uint8_t			 wire[UPSTREAM_WIRE_MAX]; /* TCP length first */
	size_t			 wirelen;	/* with the length */
	size_t			 off;		/* TCP: bytes sent or read */
	uint8_t			 lenbuf[2];
	uint8_t			*rbuf;		/* TCP: the answer so far */
	size_t			 rlen;
	ldns_pkt		*answer;	/* result; or SERVFAIL kept */
};

TAILQ_HEAD(upstream_reqs, upstream_req);

static struct sockaddr_in	 upstream_servers[CONF_MAX_UPSTREAM];
static int			 upstream_count;
static struct timeval		 upstream_timeout;
static uint32_t			 upstream_ms;
static struct upstream_health	 upstream_hs[UPSTREAM_HEALTH_MAX];
static int64_t			 upstream_skew;	/* ms; regress only */
static struct upstream_stats	 upstream_st;
static struct upstream_reqs	 upstream_queries =
				    TAILQ_HEAD_INITIALIZER(upstream_queries);
static size_t			 upstream_npending;
static size_t			 upstream_ntcp;
static struct log_rate		 upstream_rl_sock, upstream_rl_send;
static uint8_t			 upstream_buf[65536];	/* UDP receive */

static const char *upstream_name(const struct upstream_req *, char *,
		    size_t);
static int	upstream_build(struct upstream_req *, const ldns_rdf *, int);
static void	upstream_new_id(struct upstream_req *);
static void	upstream_close(struct upstream_req *);
static void	upstream_req_free(struct upstream_req *);
static void	upstream_io_wait(struct upstream_req *, short,
		    void (*)(int, short, void *));
static int	upstream_udp_start(struct upstream_req *);
static void	upstream_udp_read(int, short, void *);
static void	upstream_tcp_start(struct upstream_req *);
static void	upstream_tcp_io(int, short, void *);
static int	upstream_tcp_write(struct upstream_req *);
static void	upstream_tcp_read(struct upstream_req *);
static ldns_pkt	*upstream_check(struct upstream_req *, const uint8_t *,
		    size_t);
static void	upstream_answer(struct upstream_req *, ldns_pkt *);
static void	upstream_next(struct upstream_req *);
static void	upstream_finish(struct upstream_req *);
static void	upstream_timer(int, short, void *);
static void	upstream_deliver(struct upstream_req *);
static int64_t	upstream_now_us(void);
static struct upstream_health *upstream_health_find(
		    const struct sockaddr_in *, int);
static int64_t	upstream_estimate(const struct upstream_health *);
static int	upstream_usable(const struct upstream_health *, int64_t);
static int	upstream_pick(struct upstream_req *);
static void	upstream_health_ok(struct upstream_req *);
static void	upstream_health_fail(struct upstream_req *, int);

/* 1 when the upstreams are not those of the last call, otherwise 0. */
int
upstream_init(const struct dns44_conf *c)
{
	uint32_t	ms;
	int		i, n, changed;

	n = c->upstream_count;
	if (n < 0)
		n = 0;
	if (n > CONF_MAX_UPSTREAM)
		n = CONF_MAX_UPSTREAM;
	changed = n != upstream_count;
	for (i = 0; i < n; i++) {
		if (i < upstream_count &&
		    (upstream_servers[i].sin_addr.s_addr !=
		    c->upstream[i].sin_addr.s_addr ||
		    upstream_servers[i].sin_port != c->upstream[i].sin_port))
			changed = 1;
		upstream_servers[i] = c->upstream[i];
	}
	upstream_count = n;

	ms = c->upstream_ms != 0 ? c->upstream_ms : DEFAULT_UPSTREAM_MS;
	upstream_ms = ms;
	upstream_timeout.tv_sec = ms / 1000;
	upstream_timeout.tv_usec = (ms % 1000) * 1000;

	/* Other upstreams: what was learnt of the old ones starts afresh. */
	if (changed) {
		memset(upstream_hs, 0, sizeof(upstream_hs));
		for (i = 0; i < n; i++)
			(void)upstream_health_find(&upstream_servers[i], 1);
	}
	return (changed);
}

/* Every query in flight goes, uncalled. */
void
upstream_shutdown(void)
{
	struct upstream_req	*req;

	while ((req = TAILQ_FIRST(&upstream_queries)) != NULL) {
		TAILQ_REMOVE(&upstream_queries, req, entry);
		upstream_npending--;
		upstream_req_free(req);
	}
}

struct upstream_req *
upstream_query(const ldns_rdf *name, ldns_rr_type type, ldns_rr_class class,
    int dnssec_ok, const struct rule_upstream *split, upstream_cb cb,
    void *arg)
{
	struct upstream_req	*req;

	if (name == NULL || cb == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if (upstream_npending >= UPSTREAM_MAX_PENDING) {
		errno = ENOBUFS;
		return (NULL);
	}
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->state = UPSTREAM_ST_IDLE;
	req->cb = cb;
	req->arg = arg;
	req->qtype = type;
	req->qclass = class;
	req->fd = -1;
	req->server = -1;
	/* Split DNS: the upstreams for this name, else the plain ones. */
	if (split != NULL && split->count > 0 &&
	    split->count <= CONF_MAX_UPSTREAM) {
		req->nservers = split->count;
		memcpy(req->servers, split->upstream,
		    split->count * sizeof(req->servers[0]));
	} else {
		req->nservers = upstream_count;
		memcpy(req->servers, upstream_servers,
		    upstream_count * sizeof(req->servers[0]));
	}
	evtimer_set(&req->ev_timer, upstream_timer, req);
	if (upstream_build(req, name, dnssec_ok) == -1) {
		free(req);
		errno = EINVAL;
		return (NULL);
	}
	if ((req->qname = ldns_rdf_clone(name)) == NULL) {
		free(req);
		errno = ENOMEM;
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&upstream_queries, req, entry);
	upstream_npending++;
	upstream_st.queries++;
	upstream_next(req);
	return (req);
}

void
upstream_cancel(struct upstream_req *req)
{
	if (req == NULL || req->state == UPSTREAM_ST_CALLING)
		return;
	TAILQ_REMOVE(&upstream_queries, req, entry);
	upstream_npending--;
	upstream_req_free(req);
}

const struct upstream_stats *
upstream_stats(void)
{
	return (&upstream_st);
}

static const char *
upstream_name(const struct upstream_req *req, char *buf, size_t len)
{
	if (req->server < 0 || req->server >= req->nservers)
		return ("?");
	return (conf_fmt_addr(&req->servers[req->server], buf, len));
}

/*
 * The query in wire form, after the two bytes of TCP length: a header with
 * RD and one question, and an OPT record with our buffer size and the DO
 * bit.  Each try only changes the id.
 */
static int
upstream_build(struct upstream_req *req, const ldns_rdf *name, int dnssec_ok)
{
	uint8_t		*p;
	size_t		 nlen;

	nlen = ldns_rdf_size(name);
	if (ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME || nlen == 0 ||
	    nlen > WIRE_NAME_MAX || ldns_rdf_data(name)[nlen - 1] != 0)
		return (-1);

	p = req->wire + 2;
	memset(p, 0, WIRE_HDR_SIZE);
	p[2] = 0x01;				/* RD */
	wire_put16(p + 4, 1);			/* QDCOUNT */
	wire_put16(p + 10, 1);			/* ARCOUNT */
	p += WIRE_HDR_SIZE;
	memcpy(p, ldns_rdf_data(name), nlen);
	p += nlen;
	p = wire_put16(p, req->qtype);
	p = wire_put16(p, req->qclass);

	*p++ = 0;				/* root */
	p = wire_put16(p, LDNS_RR_TYPE_OPT);
	p = wire_put16(p, WIRE_EDNS_SIZE);
	/* The TTL: extended rcode and version 0, the DO bit. */
	p = wire_put32(p, dnssec_ok ? WIRE_EDNS_DO : 0);
	p = wire_put16(p, 0);			/* no options */

	req->wirelen = p - req->wire;
	wire_put16(req->wire, req->wirelen - 2);
	return (0);
}

static void
upstream_new_id(struct upstream_req *req)
{
	req->id = arc4random() & 0xffff;
	wire_put16(req->wire + 2, req->id);
}

/*
 * Ends the try: its socket, events and buffer go, the timer stops.  The
 * I/O event is set as soon as there is a socket, so event_del() is safe.
 */
static void
upstream_close(struct upstream_req *req)
{
	evtimer_del(&req->ev_timer);
	if (req->fd != -1) {
		event_del(&req->ev_io);
		close(req->fd);
		req->fd = -1;
	}
	if (req->tcp) {
		upstream_ntcp--;
		req->tcp = 0;
	}
	free(req->rbuf);
	req->rbuf = NULL;
	req->rlen = 0;
	req->off = 0;
}

/* The request must be off every list. */
static void
upstream_req_free(struct upstream_req *req)
{
	upstream_close(req);
	ldns_pkt_free(req->answer);
	ldns_rdf_deep_free(req->qname);
	free(req);
}

static void
upstream_io_wait(struct upstream_req *req, short what,
    void (*fn)(int, short, void *))
{
	event_del(&req->ev_io);
	event_set(&req->ev_io, req->fd, what | EV_PERSIST, fn, req);
	if (event_add(&req->ev_io, NULL) == -1)
		fatal("%s: event_add", __func__);
}

static int
upstream_udp_start(struct upstream_req *req)
{
	struct sockaddr_in	 any;
	char			 buf[64];
	ssize_t			 n;

	upstream_new_id(req);
	req->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (req->fd == -1) {
		log_rate(&upstream_rl_sock, LOG_ERR, "%s: socket: %s",
		    __func__, strerror(errno));
		return (-1);
	}
	event_set(&req->ev_io, req->fd, EV_READ | EV_PERSIST,
	    upstream_udp_read, req);
	/* Port 0: the kernel picks a random source port. */
	memset(&any, 0, sizeof(any));
	any.sin_family = AF_INET;
	any.sin_addr.s_addr = htonl(INADDR_ANY);
	any.sin_port = 0;
	if (bind(req->fd, (struct sockaddr *)&any, sizeof(any)) == -1 ||
	    connect(req->fd, (struct sockaddr *)&req->servers[req->server],
	    sizeof(req->servers[req->server])) == -1) {
		log_rate(&upstream_rl_send, LOG_ERR, "upstream %s: %s",
		    upstream_name(req, buf, sizeof(buf)), strerror(errno));
		upstream_health_fail(req, 0);
		upstream_close(req);
		return (-1);
	}
	req->sent_us = upstream_now_us();
	n = send(req->fd, req->wire + 2, req->wirelen - 2, 0);
	if (n != (ssize_t)(req->wirelen - 2)) {
		log_rate(&upstream_rl_send, LOG_ERR, "upstream %s: send: %s",
		    upstream_name(req, buf, sizeof(buf)), strerror(errno));
		upstream_health_fail(req, 0);
		upstream_close(req);
		return (-1);
	}
	req->state = UPSTREAM_ST_UDP;
	if (event_add(&req->ev_io, NULL) == -1)
		fatal("%s: event_add", __func__);
	if (evtimer_add(&req->ev_timer, &upstream_timeout) == -1)
		fatal("%s: evtimer_add", __func__);
	return (0);
}

static void
upstream_udp_read(int fd, short ev, void *arg)
{
	struct upstream_req	*req = arg;
	ldns_pkt		*pkt;
	char			 buf[64];
	ssize_t			 n;
	int			 i;

	(void)ev;
	for (i = 0; i < UPSTREAM_READS; i++) {
		n = recv(fd, upstream_buf, sizeof(upstream_buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ECONNREFUSED: the ICMP error of a closed port. */
			log_debug("upstream %s: %s", upstream_name(req, buf,
			    sizeof(buf)), strerror(errno));
			upstream_health_fail(req, 0);
			upstream_next(req);
			return;
		}
		if ((pkt = upstream_check(req, upstream_buf, n)) == NULL)
			continue;
		if (ldns_pkt_tc(pkt) && upstream_ntcp < UPSTREAM_MAX_TCP) {
			ldns_pkt_free(pkt);
			upstream_tcp_start(req);
			return;
		}
		/* Too many over TCP: the client may ask again itself. */
		upstream_answer(req, pkt);
		return;
	}
}

/* The truncated answer is asked again, over TCP, with a new timer. */
static void
upstream_tcp_start(struct upstream_req *req)
{
	char	buf[64];

	upstream_close(req);
	if (req->server >= req->nservers) {
		upstream_next(req);
		return;
	}
	upstream_st.tcp_retries++;
	upstream_new_id(req);
	req->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (req->fd == -1) {
		log_rate(&upstream_rl_sock, LOG_ERR, "%s: socket: %s",
		    __func__, strerror(errno));
		upstream_next(req);
		return;
	}
	event_set(&req->ev_io, req->fd, EV_WRITE | EV_PERSIST,
	    upstream_tcp_io, req);
	req->tcp = 1;
	upstream_ntcp++;
	if (connect(req->fd, (struct sockaddr *)&req->servers[req->server],
	    sizeof(req->servers[req->server])) == 0)
		req->state = UPSTREAM_ST_WRITE;
	else if (errno == EINPROGRESS)
		req->state = UPSTREAM_ST_CONNECT;
	else {
		log_debug("upstream %s: tcp: %s", upstream_name(req, buf,
		    sizeof(buf)), strerror(errno));
		upstream_next(req);
		return;
	}
	if (event_add(&req->ev_io, NULL) == -1)
		fatal("%s: event_add", __func__);
	if (evtimer_add(&req->ev_timer, &upstream_timeout) == -1)
		fatal("%s: evtimer_add", __func__);
}

static void
upstream_tcp_io(int fd, short ev, void *arg)
{
	struct upstream_req	*req = arg;
	char			 buf[64];
	socklen_t		 len;
	int			 err;

	(void)ev;
	switch (req->state) {
	case UPSTREAM_ST_CONNECT:
		err = 0;
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			log_debug("upstream %s: tcp: %s", upstream_name(req,
			    buf, sizeof(buf)), strerror(err));
			upstream_next(req);
			return;
		}
		req->state = UPSTREAM_ST_WRITE;
		/* FALLTHROUGH */
	case UPSTREAM_ST_WRITE:
		if (upstream_tcp_write(req) == 1) {
			req->state = UPSTREAM_ST_READ;
			req->off = 0;
			upstream_io_wait(req, EV_READ, upstream_tcp_io);
		}
		break;
	case UPSTREAM_ST_READ:
		upstream_tcp_read(req);
		break;
	default:
		fatalx("%s: state %d", __func__, req->state);
	}
}

/* 1 when the query is out, 0 to wait, -1 when the try is over. */
static int
upstream_tcp_write(struct upstream_req *req)
{
	char	buf[64];
	ssize_t	n;

	while (req->off < req->wirelen) {
		n = send(req->fd, req->wire + req->off, req->wirelen - req->off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			log_debug("upstream %s: tcp: %s", upstream_name(req,
			    buf, sizeof(buf)), strerror(errno));
			upstream_next(req);
			return (-1);
		}
		req->off += n;
	}
	return (1);
}

/*
 * Messages come as a length and that many bytes; one that fails the
 * checks is skipped and the next one read, until the timer runs out.
 */
static void
upstream_tcp_read(struct upstream_req *req)
{
	ldns_pkt	*pkt;
	char		 buf[64];
	ssize_t		 n;
	int		 i;

	for (i = 0; i < UPSTREAM_READS; i++) {
		if (req->off < 2)
			n = recv(req->fd, req->lenbuf + req->off,
			    2 - req->off, 0);
		else
			n = recv(req->fd, req->rbuf + (req->off - 2),
			    req->rlen - (req->off - 2), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_debug("upstream %s: tcp: %s", upstream_name(req,
			    buf, sizeof(buf)), strerror(errno));
			upstream_next(req);
			return;
		}
		if (n == 0) {
			log_debug("upstream %s: tcp: closed", upstream_name(req,
			    buf, sizeof(buf)));
			upstream_next(req);
			return;
		}
		req->off += n;
		if (req->off == 2) {
			/* At most 65535 by its size. */
			req->rlen = wire_get16(req->lenbuf);
			if (req->rlen == 0) {
				upstream_st.mismatched++;
				req->off = 0;
				continue;
			}
			if ((req->rbuf = malloc(req->rlen)) == NULL) {
				log_warn("%s", __func__);
				upstream_next(req);
				return;
			}
		}
		if (req->off < 2 || req->off - 2 < req->rlen)
			continue;

		pkt = upstream_check(req, req->rbuf, req->rlen);
		free(req->rbuf);
		req->rbuf = NULL;
		req->rlen = 0;
		req->off = 0;
		if (pkt != NULL) {
			upstream_answer(req, pkt);
			return;
		}
	}
}

/* The reply as a packet when it answers our question, otherwise NULL. */
static ldns_pkt *
upstream_check(struct upstream_req *req, const uint8_t *p, size_t len)
{
	ldns_pkt	*pkt = NULL;
	ldns_rr_list	*qs;
	ldns_rr		*q;

	if (len < WIRE_HDR_SIZE || wire_get16(p) != req->id ||
	    (p[2] & 0x80) == 0)
		goto mismatch;
	if (ldns_wire2pkt(&pkt, p, len) != LDNS_STATUS_OK) {
		pkt = NULL;
		goto mismatch;
	}
	qs = ldns_pkt_question(pkt);
	if (!ldns_pkt_qr(pkt) || ldns_pkt_id(pkt) != req->id ||
	    ldns_pkt_qdcount(pkt) != 1 || qs == NULL ||
	    ldns_rr_list_rr_count(qs) != 1)
		goto mismatch;
	q = ldns_rr_list_rr(qs, 0);
	if (ldns_rr_get_type(q) != req->qtype ||
	    ldns_rr_get_class(q) != req->qclass ||
	    ldns_dname_compare(ldns_rr_owner(q), req->qname) != 0)
		goto mismatch;
	return (pkt);

 mismatch:
	upstream_st.mismatched++;
	ldns_pkt_free(pkt);
	return (NULL);
}

/*
 * A checked answer.  SERVFAIL and REFUSED say little about the name, so
 * the next upstream is asked; the answer is kept in case none does better.
 */
static void
upstream_answer(struct upstream_req *req, ldns_pkt *pkt)
{
	ldns_pkt_rcode	rcode;

	upstream_st.answers++;
	upstream_health_ok(req);
	ldns_pkt_free(req->answer);
	req->answer = pkt;
	rcode = ldns_pkt_get_rcode(pkt);
	if (rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED)
		upstream_next(req);
	else
		upstream_finish(req);
}

/* The try is over: on to the next upstream, or the result if none is. */
static void
upstream_next(struct upstream_req *req)
{
	int	i;

	upstream_close(req);
	req->state = UPSTREAM_ST_IDLE;
	while ((i = upstream_pick(req)) != -1) {
		if (req->tried != 0)
			upstream_st.failovers++;
		req->tried |= 1U << i;
		req->server = i;
		if (upstream_udp_start(req) == 0)
			return;
	}
	upstream_finish(req);
}

static void
upstream_finish(struct upstream_req *req)
{
	static const struct timeval	at_once;

	upstream_close(req);
	req->state = UPSTREAM_ST_DONE;
	if (evtimer_add(&req->ev_timer, &at_once) == -1)
		fatal("%s: evtimer_add", __func__);
}

static void
upstream_timer(int fd, short ev, void *arg)
{
	struct upstream_req	*req = arg;
	char			 buf[64];

	(void)fd;
	(void)ev;
	if (req->state == UPSTREAM_ST_DONE) {
		upstream_deliver(req);
		return;
	}
	upstream_st.timeouts++;
	log_debug("upstream %s: timeout", upstream_name(req, buf,
	    sizeof(buf)));
	upstream_health_fail(req, 1);
	upstream_next(req);
}

/* The callback; the request is freed after it, whatever it did. */
static void
upstream_deliver(struct upstream_req *req)
{
	TAILQ_REMOVE(&upstream_queries, req, entry);
	upstream_npending--;
	req->state = UPSTREAM_ST_CALLING;
	req->cb(req->answer, req->arg);
	upstream_req_free(req);
}

void
upstream_clock_advance(uint32_t ms)
{
	upstream_skew += ms;
}

/* Monotonic microseconds, the tests' skew included. */
static int64_t
upstream_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
	    upstream_skew * 1000);
}

/*
 * The upstream's entry, or NULL.  With create, a new one is made for an
 * upstream not yet known; when every slot is taken, that of the upstream
 * asked longest ago which is not one of the plain ones makes room.
 */
static struct upstream_health *
upstream_health_find(const struct sockaddr_in *sin, int create)
{
	struct upstream_health	*h, *old = NULL;
	int			 i, j, plain;

	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		h = &upstream_hs[i];
		if (h->used && h->addr.sin_addr.s_addr ==
		    sin->sin_addr.s_addr && h->addr.sin_port == sin->sin_port)
			return (h);
	}
	if (!create)
		return (NULL);
	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		h = &upstream_hs[i];
		if (!h->used) {
			old = h;
			break;
		}
		for (plain = j = 0; j < upstream_count && !plain; j++)
			plain = upstream_servers[j].sin_addr.s_addr ==
			    h->addr.sin_addr.s_addr &&
			    upstream_servers[j].sin_port == h->addr.sin_port;
		if (!plain && (old == NULL || h->last < old->last))
			old = h;
	}
	if (old == NULL)
		return (NULL);
	memset(old, 0, sizeof(*old));
	old->used = 1;
	old->addr = *sin;
	old->srtt = UPSTREAM_RTT_INIT;
	return (old);
}

/* The round trip expected of it, in us. */
static int64_t
upstream_estimate(const struct upstream_health *h)
{
	return (h == NULL ? UPSTREAM_RTT_INIT : h->srtt);
}

/* Up, or down with its back-off over and no probe out. */
static int
upstream_usable(const struct upstream_health *h, int64_t now)
{
	return (h == NULL || !h->down ||
	    (now >= h->retry_at && now >= h->probe_until));
}

/*
 * The next upstream to ask, or -1.  Among those not asked yet: a down one
 * due for its probe; else the first configured of those up whose estimate
 * is within the band of the best; else, when no answer is kept, the same
 * of those down.
 */
static int
upstream_pick(struct upstream_req *req)
{
	struct upstream_health	*hs[CONF_MAX_UPSTREAM], *h;
	int64_t			 now, best;
	int			 i, pass, pick;

	now = upstream_now_us() / 1000;
	for (i = 0; i < req->nservers; i++)
		hs[i] = (req->tried & (1U << i)) == 0 ?
		    upstream_health_find(&req->servers[i], 1) : NULL;
	/* A down one whose back-off ran out is probed before the rest. */
	for (i = 0; i < req->nservers; i++) {
		if ((h = hs[i]) == NULL || !h->down ||
		    !upstream_usable(h, now))
			continue;
		h->last = now;
		h->probe_until = now + upstream_ms;
		req->probe = 1;
		return (i);
	}
	req->probe = 0;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && req->answer != NULL)
			break;
		best = -1;
		for (i = 0; i < req->nservers; i++) {
			if ((req->tried & (1U << i)) != 0 ||
			    (pass == 0 && !upstream_usable(hs[i], now)))
				continue;
			if (best == -1 || upstream_estimate(hs[i]) < best)
				best = upstream_estimate(hs[i]);
		}
		if (best == -1)
			continue;
		for (pick = -1, i = 0; i < req->nservers && pick == -1; i++)
			if ((req->tried & (1U << i)) == 0 &&
			    (pass == 1 || upstream_usable(hs[i], now)) &&
			    upstream_estimate(hs[i]) <=
			    best + UPSTREAM_RTT_BAND)
				pick = i;
		if (hs[pick] != NULL)
			hs[pick]->last = now;
		return (pick);
	}
	return (-1);
}

/* An answer that passed the checks: the upstream is up. */
static void
upstream_health_ok(struct upstream_req *req)
{
	struct upstream_health	*h;
	char			 buf[64];
	int64_t			 r, d;

	if ((h = upstream_health_find(&req->servers[req->server], 0)) == NULL)
		return;
	h->answers++;
	h->fails = 0;
	if (req->state == UPSTREAM_ST_UDP) {
		/* RFC 6298, 2.2 and 2.3; over TCP the handshake counts. */
		r = upstream_now_us() - req->sent_us;
		if (r < 0)
			r = 0;
		if (!h->measured) {
			h->srtt = r;
			h->rttvar = r / 2;
			h->measured = 1;
		} else {
			d = h->srtt > r ? h->srtt - r : r - h->srtt;
			h->rttvar = (3 * h->rttvar + d) / 4;
			h->srtt = (7 * h->srtt + r) / 8;
		}
	}
	if (h->down) {
		log_info("upstream %s: up again", conf_fmt_addr(&h->addr, buf,
		    sizeof(buf)));
		h->down = 0;
		h->backoff = 0;
		h->retry_at = h->probe_until = 0;
	}
}

/*
 * A try that timed out or was refused.  Up, the upstream goes down for the
 * shortest back-off; down, a failed probe doubles it.  A TCP try only
 * counts its timeout: the upstream answered over UDP.
 */
static void
upstream_health_fail(struct upstream_req *req, int timeout)
{
	struct upstream_health	*h;
	char			 buf[64];
	int64_t			 now;

	if ((h = upstream_health_find(&req->servers[req->server], 0)) == NULL)
		return;
	if (timeout)
		h->timeouts++;
	if (req->state == UPSTREAM_ST_CONNECT ||
	    req->state == UPSTREAM_ST_WRITE || req->state == UPSTREAM_ST_READ)
		return;
	h->fails++;
	now = upstream_now_us() / 1000;
	if (!h->down) {
		h->down = 1;
		h->backoff = UPSTREAM_BACKOFF_MIN;
	} else if (req->probe) {
		h->backoff = h->backoff * 2 > UPSTREAM_BACKOFF_MAX ?
		    UPSTREAM_BACKOFF_MAX : h->backoff * 2;
		h->probe_until = 0;
	} else
		return;
	h->retry_at = now + h->backoff;
	log_info("upstream %s: %s, left alone for %ums", conf_fmt_addr(
	    &h->addr, buf, sizeof(buf)), timeout ? "no answer" : "failed",
	    h->backoff);
}

/* What is known of each upstream, in the order first asked; how many. */
size_t
upstream_list(struct upstream_info *out, size_t max)
{
	const struct upstream_health	*h;
	int64_t				 now;
	size_t				 n = 0;
	int				 i;

	now = upstream_now_us() / 1000;
	for (i = 0; i < UPSTREAM_HEALTH_MAX && n < max; i++) {
		h = &upstream_hs[i];
		if (!h->used)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].addr = h->addr;
		out[n].state = h->down ? UPSTREAM_DOWN : h->measured ||
		    h->answers > 0 ? UPSTREAM_UP : UPSTREAM_NEW;
		out[n].srtt_us = h->measured ? h->srtt : 0;
		out[n].rttvar_us = h->measured ? h->rttvar : 0;
		out[n].answers = h->answers;
		out[n].timeouts = h->timeouts;
		out[n].fails = h->fails;
		if (h->down && h->retry_at > now)
			out[n].backoff_left_ms = h->retry_at - now;
		n++;
	}
	return (n);
}
