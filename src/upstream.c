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
 * An upstream that speaks TLS is asked over its TLS connection only, which
 * upstream_tls.c keeps; no try to it ever goes in clear text.
 * The try timer also delivers the result: results always reach the caller
 * from the event loop, never from inside a call.  Which upstream is the
 * best, and what each try tells of its upstream, is upstream_health.c's.
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
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "rules.h"
#include "upstream.h"
#include "upstream_local.h"
#include "wire.h"

#define UPSTREAM_WIRE_MAX	(2 + WIRE_HDR_SIZE + WIRE_NAME_MAX + 4 + \
				    WIRE_OPT_SIZE)
#define UPSTREAM_READS		16	/* reads per event, against floods */

enum upstream_state {
	UPSTREAM_ST_IDLE,		/* between tries */
	UPSTREAM_ST_UDP,		/* query sent, waiting */
	UPSTREAM_ST_CONNECT,		/* TCP: connecting */
	UPSTREAM_ST_WRITE,		/* TCP: sending the query */
	UPSTREAM_ST_READ,		/* TCP: reading the answer */
	UPSTREAM_ST_TLS,		/* on a TLS connection */
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
	struct upstream_tls_query tq;		/* a try over TLS */
	struct conf_upstream	 servers[];	/* nservers of them */
};

TAILQ_HEAD(upstream_reqs, upstream_req);

static struct conf_upstream	 upstream_servers[CONF_MAX_UPSTREAM];
static int			 upstream_count;
static struct timeval		 upstream_timeout;
static struct upstream_stats	 upstream_st;
static struct upstream_reqs	 upstream_queries =
				    TAILQ_HEAD_INITIALIZER(upstream_queries);
static size_t			 upstream_npending;
static size_t			 upstream_ntcp;
static struct log_rate		 upstream_rl_sock, upstream_rl_send,
				 upstream_rl_tls;
static uint8_t			 upstream_buf[65536];	/* UDP receive */

static const char *upstream_name(const struct upstream_req *, char *,
		    size_t);
static int	upstream_build(struct upstream_req *, const ldns_rdf *, int);
static void	upstream_new_id(struct upstream_req *);
static void	upstream_close(struct upstream_req *);
static void	upstream_req_free(struct upstream_req *);
static void	upstream_io_wait(struct upstream_req *, short,
		    void (*)(int, short, void *));
static int	upstream_try(struct upstream_req *);
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
static void	upstream_ok(struct upstream_req *);
static void	upstream_fail(struct upstream_req *, int);

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
		    !conf_upstream_same(&upstream_servers[i], &c->upstream[i]))
			changed = 1;
		upstream_servers[i] = c->upstream[i];
	}
	upstream_count = n;
	if (!upstream_tls_loaded(c->tls_ca))
		log_warnx("dns tls-ca changed: the certificates loaded at "
		    "start stay trusted until a restart");

	ms = c->upstream_ms != 0 ? c->upstream_ms : DEFAULT_UPSTREAM_MS;
	upstream_timeout.tv_sec = ms / 1000;
	upstream_timeout.tv_usec = (ms % 1000) * 1000;
	upstream_tls_timeout(&upstream_timeout);

	/* Other upstreams: what was learnt of the old ones starts afresh. */
	if (changed)
		upstream_health_reset(upstream_servers, n, ms);
	else
		upstream_health_reset(NULL, 0, ms);
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
	upstream_tls_shutdown();
}

struct upstream_req *
upstream_query(const ldns_rdf *name, ldns_rr_type type, ldns_rr_class class,
    int flags, const struct rule_upstream *split, upstream_cb cb, void *arg)
{
	struct upstream_req		*req;
	const struct conf_upstream	*servers;
	int				 n;

	if (name == NULL || cb == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if (upstream_npending >= UPSTREAM_MAX_PENDING) {
		errno = ENOBUFS;
		return (NULL);
	}
	/* Split DNS: the upstreams for this name, else the plain ones. */
	if (split != NULL && split->count > 0 &&
	    split->count <= CONF_MAX_UPSTREAM) {
		n = split->count;
		servers = split->upstream;
	} else {
		n = upstream_count;
		servers = upstream_servers;
	}
	if ((req = calloc(1, sizeof(*req) + n * sizeof(req->servers[0]))) ==
	    NULL)
		return (NULL);
	req->state = UPSTREAM_ST_IDLE;
	req->cb = cb;
	req->arg = arg;
	req->qtype = type;
	req->qclass = class;
	req->fd = -1;
	req->server = -1;
	req->nservers = n;
	memcpy(req->servers, servers, n * sizeof(req->servers[0]));
	req->tq.req = req;
	req->tq.wire = req->wire;
	evtimer_set(&req->ev_timer, upstream_timer, req);
	if (upstream_build(req, name, flags) == -1) {
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
	return (conf_fmt_upstream(&req->servers[req->server], buf, len));
}

/*
 * The query in wire form, after the two bytes of TCP length: a header with
 * RD and one question, and an OPT record with our buffer size and the DO
 * bit.  Each try only changes the id.
 */
static int
upstream_build(struct upstream_req *req, const ldns_rdf *name, int flags)
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
	if (flags & UPSTREAM_CD)
		p[3] = 0x10;			/* CD */
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
	p = wire_put32(p, flags & UPSTREAM_DO ? WIRE_EDNS_DO : 0);
	p = wire_put16(p, 0);			/* no options */

	req->wirelen = p - req->wire;
	req->tq.len = req->wirelen;
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
	upstream_tls_drop(&req->tq);
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
	const struct conf_upstream	*u = &req->servers[req->server];
	char				 buf[CONF_UPSTREAM_STRLEN];
	ssize_t				 n;

	upstream_new_id(req);
	req->fd = socket(u->addr.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (req->fd == -1) {
		log_rate(&upstream_rl_sock, LOG_ERR, "%s: socket: %s",
		    __func__, strerror(errno));
		return (-1);
	}
	event_set(&req->ev_io, req->fd, EV_READ | EV_PERSIST,
	    upstream_udp_read, req);
	/* connect() binds it to a source port the kernel picks at random. */
	if (connect(req->fd, &u->addr.sa, conf_addr_len(&u->addr)) == -1) {
		log_rate(&upstream_rl_send, LOG_ERR, "upstream %s: %s",
		    upstream_name(req, buf, sizeof(buf)), strerror(errno));
		upstream_fail(req, 0);
		upstream_close(req);
		return (-1);
	}
	req->sent_us = upstream_now_us();
	n = send(req->fd, req->wire + 2, req->wirelen - 2, 0);
	if (n != (ssize_t)(req->wirelen - 2)) {
		log_rate(&upstream_rl_send, LOG_ERR, "upstream %s: send: %s",
		    upstream_name(req, buf, sizeof(buf)), strerror(errno));
		upstream_fail(req, 0);
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
	char			 buf[CONF_UPSTREAM_STRLEN];
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
			upstream_fail(req, 0);
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
	const struct conf_upstream	*u;
	char				 buf[CONF_UPSTREAM_STRLEN];

	upstream_close(req);
	if (req->server >= req->nservers) {
		upstream_next(req);
		return;
	}
	upstream_st.tcp_retries++;
	upstream_new_id(req);
	u = &req->servers[req->server];
	req->fd = socket(u->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
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
	if (connect(req->fd, &u->addr.sa, conf_addr_len(&u->addr)) == 0)
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
	char			 buf[CONF_UPSTREAM_STRLEN];
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
	char	buf[CONF_UPSTREAM_STRLEN];
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
	char		 buf[CONF_UPSTREAM_STRLEN];
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
	if (wire_parse(&pkt, p, len) == -1)
		goto mismatch;
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
	upstream_ok(req);
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
	while ((i = upstream_health_pick(req->servers, req->nservers,
	    req->tried, req->answer != NULL, &req->probe)) != -1) {
		if (req->tried != 0)
			upstream_st.failovers++;
		req->tried |= 1U << i;
		req->server = i;
		if (upstream_try(req) == 0)
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
	char			 buf[CONF_UPSTREAM_STRLEN];

	(void)fd;
	(void)ev;
	if (req->state == UPSTREAM_ST_DONE) {
		upstream_deliver(req);
		return;
	}
	upstream_st.timeouts++;
	log_debug("upstream %s: timeout", upstream_name(req, buf,
	    sizeof(buf)));
	upstream_fail(req, 1);
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

/* An answer that passed the checks; over TCP the handshake is timed too. */
static void
upstream_ok(struct upstream_req *req)
{
	upstream_health_ok(&req->servers[req->server],
	    req->state == UPSTREAM_ST_UDP || req->state == UPSTREAM_ST_TLS ?
	    upstream_now_us() - req->sent_us : -1);
}

/* A try that timed out or failed; a TCP try only counts its timeout. */
static void
upstream_fail(struct upstream_req *req, int timeout)
{
	upstream_health_fail(&req->servers[req->server], timeout, req->probe,
	    req->state == UPSTREAM_ST_CONNECT ||
	    req->state == UPSTREAM_ST_WRITE || req->state == UPSTREAM_ST_READ);
}

/* A try at the chosen upstream: over TLS if it speaks it, else UDP. */
static int
upstream_try(struct upstream_req *req)
{
	char	buf[CONF_UPSTREAM_STRLEN];

	if (!req->servers[req->server].tls)
		return (upstream_udp_start(req));
	upstream_new_id(req);
	if (upstream_tls_send(&req->tq, &req->servers[req->server]) == -1) {
		log_rate(&upstream_rl_tls, LOG_ERR, "upstream %s: %s",
		    upstream_name(req, buf, sizeof(buf)), strerror(errno));
		/* A full queue says nothing of the upstream. */
		if (errno != ENOBUFS) {
			req->state = UPSTREAM_ST_TLS;
			upstream_fail(req, 0);
			req->state = UPSTREAM_ST_IDLE;
		}
		return (-1);
	}
	/* The connection may have given the query another id. */
	req->id = wire_get16(req->wire + 2);
	req->state = UPSTREAM_ST_TLS;
	if (evtimer_add(&req->ev_timer, &upstream_timeout) == -1)
		fatal("%s: evtimer_add", __func__);
	return (0);
}

/*
 * An answer on a TLS connection, rtt after its query was written; req is
 * NULL when no query of that id is waiting there.  One that fails the
 * checks is skipped and the query waits on.
 */
void
upstream_tls_answer(struct upstream_req *req, const uint8_t *p, size_t len,
    int64_t rtt)
{
	ldns_pkt	*pkt;

	if (req == NULL) {
		upstream_st.mismatched++;
		return;
	}
	if (req->state != UPSTREAM_ST_TLS ||
	    (pkt = upstream_check(req, p, len)) == NULL)
		return;
	req->sent_us = upstream_now_us() - rtt;
	upstream_answer(req, pkt);
}

/* The TLS connection of this try failed: on to the next upstream. */
void
upstream_tls_failed(struct upstream_req *req)
{
	upstream_fail(req, 0);
	upstream_next(req);
}
