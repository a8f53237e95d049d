/*
 * upstream.c: the queries the dns process sends to the upstream resolvers.
 * It belongs to the dns process alone.  This file owns every query in
 * flight (its sockets, timers and buffers), the checks an answer passes
 * before it is believed, the failover from one upstream to the next, and
 * the cache of the real addresses of names that the proxy asks for.
 *
 * A query goes to the upstreams in the configured order, one try at a
 * time.  Each try has a fresh id and a fresh connected UDP socket, hence a
 * fresh source port; a truncated answer is asked again over TCP from the
 * same upstream.  The try timer also delivers the result: results always
 * reach the caller from the event loop, never from inside a call.
 *
 * upstream_resolve() waits on a lookup, one per name in flight, which owns
 * one query for the A records of the name; the answer is cached and given
 * to every waiter.  A cache hit makes a waiter whose timer fires at once.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "upstream.h"
#include "wire.h"

#define UPSTREAM_WIRE_MAX	(2 + WIRE_HDR_SIZE + WIRE_NAME_MAX + 4 + \
				    WIRE_OPT_SIZE)
#define UPSTREAM_READS		16	/* reads per event, against floods */

/* RB_*_STATIC want __unused, which libbsd leaves undefined on Linux. */
#define UPSTREAM_RB_ATTR	__attribute__((__unused__)) static

enum upstream_kind {
	UPSTREAM_QUERY,
	UPSTREAM_RESOLVE,
};

enum upstream_state {
	UPSTREAM_ST_IDLE,		/* between tries */
	UPSTREAM_ST_UDP,		/* query sent, waiting */
	UPSTREAM_ST_CONNECT,		/* TCP: connecting */
	UPSTREAM_ST_WRITE,		/* TCP: sending the query */
	UPSTREAM_ST_READ,		/* TCP: reading the answer */
	UPSTREAM_ST_WAIT,		/* resolve: on its lookup */
	UPSTREAM_ST_DONE,		/* result due from the timer */
	UPSTREAM_ST_CALLING,		/* callback running */
};

struct upstream_lookup;

struct upstream_req {
	enum upstream_kind	 kind;
	enum upstream_state	 state;
	TAILQ_ENTRY(upstream_req) entry;	/* queries, ready or waiters */
	struct event		 ev_timer;	/* try timeout; delivery */
	void			*arg;

	/* A query. */
	upstream_cb		 cb;
	ldns_rdf		*qname;
	ldns_rr_type		 qtype;
	ldns_rr_class		 qclass;
	int			 server;	/* upstream of this try */
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

	/* A resolve. */
	upstream_addr_cb	 acb;
	struct upstream_lookup	*lookup;
	uint32_t		*addrs;
	size_t			 naddrs;
	int			 rcode;
	int64_t			 expires;	/* ms: of the cache entry used */
};

TAILQ_HEAD(upstream_reqs, upstream_req);

/* The resolves of one name waiting for the one query about it. */
struct upstream_lookup {
	RB_ENTRY(upstream_lookup) node;
	struct upstream_reqs	 waiters;
	const char		*name;		/* stored after the struct */
};

/* What the upstreams said about a name, until it expires. */
struct upstream_cache {
	RB_ENTRY(upstream_cache) node;
	TAILQ_ENTRY(upstream_cache) lru;	/* last used first */
	int64_t			 expires;	/* ms, upstream_now() */
	int			 rcode;
	size_t			 naddrs;
	uint32_t		*addrs;
	const char		*name;		/* stored after the struct */
};

RB_HEAD(upstream_lookups, upstream_lookup);
RB_HEAD(upstream_caches, upstream_cache);
TAILQ_HEAD(upstream_lru, upstream_cache);

static struct sockaddr_in	 upstream_servers[CONF_MAX_UPSTREAM];
static int			 upstream_count;
static struct timeval		 upstream_timeout;
static struct upstream_stats	 upstream_st;
static struct upstream_reqs	 upstream_queries =
				    TAILQ_HEAD_INITIALIZER(upstream_queries);
static struct upstream_reqs	 upstream_ready =
				    TAILQ_HEAD_INITIALIZER(upstream_ready);
static size_t			 upstream_npending;	/* queries */
static size_t			 upstream_nwaiting;	/* resolves */
static size_t			 upstream_ntcp;
static struct upstream_lookups	 upstream_lookups =
				    RB_INITIALIZER(&upstream_lookups);
static struct upstream_lookup	*upstream_delivering;
static struct upstream_caches	 upstream_cache =
				    RB_INITIALIZER(&upstream_cache);
static struct upstream_lru	 upstream_lru =
				    TAILQ_HEAD_INITIALIZER(upstream_lru);
static size_t			 upstream_ncache;
static int64_t			 upstream_skew;		/* ms, regress */
static uint8_t			 upstream_buf[65536];	/* UDP receive */

static int	upstream_lookup_cmp(struct upstream_lookup *,
		    struct upstream_lookup *);
static int	upstream_cache_cmp(struct upstream_cache *,
		    struct upstream_cache *);
RB_PROTOTYPE_INTERNAL(upstream_lookups, upstream_lookup, node,
    upstream_lookup_cmp, UPSTREAM_RB_ATTR)
RB_PROTOTYPE_INTERNAL(upstream_caches, upstream_cache, node,
    upstream_cache_cmp, UPSTREAM_RB_ATTR)

static int64_t	upstream_now(void);
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
static void	upstream_lookup_done(ldns_pkt *, void *);
static void	upstream_lookup_free(struct upstream_lookup *);
static uint32_t	upstream_ttl_left(int64_t);
static struct upstream_cache *upstream_cache_get(const char *);
static void	upstream_cache_put(const char *, int, const uint32_t *,
		    size_t, uint32_t);
static void	upstream_cache_remove(struct upstream_cache *);
static void	upstream_cache_flush(void);

RB_GENERATE_INTERNAL(upstream_lookups, upstream_lookup, node,
    upstream_lookup_cmp, UPSTREAM_RB_ATTR)
RB_GENERATE_INTERNAL(upstream_caches, upstream_cache, node,
    upstream_cache_cmp, UPSTREAM_RB_ATTR)

static int
upstream_lookup_cmp(struct upstream_lookup *a, struct upstream_lookup *b)
{
	return (strcmp(a->name, b->name));
}

static int
upstream_cache_cmp(struct upstream_cache *a, struct upstream_cache *b)
{
	return (strcmp(a->name, b->name));
}

void
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
	upstream_timeout.tv_sec = ms / 1000;
	upstream_timeout.tv_usec = (ms % 1000) * 1000;

	/* Other upstreams may know other addresses. */
	if (changed)
		upstream_cache_flush();
}

void
upstream_shutdown(void)
{
	struct upstream_lookup	*lk;
	struct upstream_req	*req;

	while ((lk = RB_ROOT(&upstream_lookups)) != NULL) {
		RB_REMOVE(upstream_lookups, &upstream_lookups, lk);
		upstream_lookup_free(lk);
	}
	/* Its callbacks are running: the waiters left are not called. */
	if (upstream_delivering != NULL) {
		while ((req = TAILQ_FIRST(&upstream_delivering->waiters)) !=
		    NULL) {
			TAILQ_REMOVE(&upstream_delivering->waiters, req,
			    entry);
			upstream_nwaiting--;
			upstream_req_free(req);
		}
	}
	while ((req = TAILQ_FIRST(&upstream_ready)) != NULL) {
		TAILQ_REMOVE(&upstream_ready, req, entry);
		upstream_nwaiting--;
		upstream_req_free(req);
	}
	while ((req = TAILQ_FIRST(&upstream_queries)) != NULL) {
		TAILQ_REMOVE(&upstream_queries, req, entry);
		upstream_npending--;
		upstream_req_free(req);
	}
	upstream_cache_flush();
}

struct upstream_req *
upstream_query(const ldns_rdf *name, ldns_rr_type type, ldns_rr_class class,
    int dnssec_ok, upstream_cb cb, void *arg)
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
	req->kind = UPSTREAM_QUERY;
	req->state = UPSTREAM_ST_IDLE;
	req->cb = cb;
	req->arg = arg;
	req->qtype = type;
	req->qclass = class;
	req->fd = -1;
	req->server = -1;
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

struct upstream_req *
upstream_resolve(const char *name, upstream_addr_cb cb, void *arg)
{
	static const struct timeval	 at_once;
	struct upstream_req		*req, *q;
	struct upstream_lookup		*lk, key;
	struct upstream_cache		*ce;
	ldns_rdf			*dname;
	size_t				 len;
	int				 saved_errno;

	len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > UPSTREAM_NAME_MAX || cb == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if (upstream_nwaiting >= UPSTREAM_MAX_WAITING) {
		errno = ENOBUFS;
		return (NULL);
	}
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->kind = UPSTREAM_RESOLVE;
	req->acb = cb;
	req->arg = arg;
	req->fd = -1;
	evtimer_set(&req->ev_timer, upstream_timer, req);

	if ((ce = upstream_cache_get(name)) != NULL) {
		if (ce->naddrs > 0) {
			req->addrs = reallocarray(NULL, ce->naddrs,
			    sizeof(*req->addrs));
			if (req->addrs == NULL) {
				free(req);
				return (NULL);
			}
			memcpy(req->addrs, ce->addrs,
			    ce->naddrs * sizeof(*req->addrs));
		}
		req->naddrs = ce->naddrs;
		req->rcode = ce->rcode;
		req->expires = ce->expires;
		req->state = UPSTREAM_ST_DONE;
		TAILQ_INSERT_TAIL(&upstream_ready, req, entry);
		upstream_nwaiting++;
		upstream_st.cache_hits++;
		if (evtimer_add(&req->ev_timer, &at_once) == -1)
			fatal("%s: evtimer_add", __func__);
		return (req);
	}

	key.name = name;
	lk = RB_FIND(upstream_lookups, &upstream_lookups, &key);
	if (lk == NULL) {
		if ((lk = malloc(sizeof(*lk) + len + 1)) == NULL) {
			free(req);
			return (NULL);
		}
		memcpy(lk + 1, name, len + 1);
		lk->name = (const char *)(lk + 1);
		TAILQ_INIT(&lk->waiters);
		if ((dname = ldns_dname_new_frm_str(name)) == NULL) {
			free(lk);
			free(req);
			errno = EINVAL;
			return (NULL);
		}
		q = upstream_query(dname, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0,
		    upstream_lookup_done, lk);
		saved_errno = errno;
		ldns_rdf_deep_free(dname);
		if (q == NULL) {
			free(lk);
			free(req);
			errno = saved_errno;
			return (NULL);
		}
		RB_INSERT(upstream_lookups, &upstream_lookups, lk);
	}
	req->state = UPSTREAM_ST_WAIT;
	req->lookup = lk;
	TAILQ_INSERT_TAIL(&lk->waiters, req, entry);
	upstream_nwaiting++;
	upstream_st.cache_misses++;
	return (req);
}

void
upstream_cancel(struct upstream_req *req)
{
	if (req == NULL || req->state == UPSTREAM_ST_CALLING)
		return;
	if (req->kind == UPSTREAM_QUERY) {
		TAILQ_REMOVE(&upstream_queries, req, entry);
		upstream_npending--;
	} else {
		if (req->state == UPSTREAM_ST_WAIT)
			TAILQ_REMOVE(&req->lookup->waiters, req, entry);
		else
			TAILQ_REMOVE(&upstream_ready, req, entry);
		upstream_nwaiting--;
	}
	upstream_req_free(req);
}

const struct upstream_stats *
upstream_stats(void)
{
	return (&upstream_st);
}

void
upstream_clock_advance(uint32_t ms)
{
	upstream_skew += ms;
}

static int64_t
upstream_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    upstream_skew);
}

static const char *
upstream_name(const struct upstream_req *req, char *buf, size_t len)
{
	if (req->server < 0 || req->server >= upstream_count)
		return ("?");
	return (conf_fmt_addr(&upstream_servers[req->server], buf, len));
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
	free(req->addrs);
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
		log_warn("%s: socket", __func__);
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
	    connect(req->fd, (struct sockaddr *)&upstream_servers[req->server],
	    sizeof(upstream_servers[req->server])) == -1) {
		log_warn("upstream %s", upstream_name(req, buf, sizeof(buf)));
		upstream_close(req);
		return (-1);
	}
	n = send(req->fd, req->wire + 2, req->wirelen - 2, 0);
	if (n != (ssize_t)(req->wirelen - 2)) {
		log_warn("upstream %s: send", upstream_name(req, buf,
		    sizeof(buf)));
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
	if (req->server >= upstream_count) {	/* gone in a reload */
		upstream_next(req);
		return;
	}
	upstream_st.tcp_retries++;
	upstream_new_id(req);
	req->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (req->fd == -1) {
		log_warn("%s: socket", __func__);
		upstream_next(req);
		return;
	}
	event_set(&req->ev_io, req->fd, EV_WRITE | EV_PERSIST,
	    upstream_tcp_io, req);
	req->tcp = 1;
	upstream_ntcp++;
	if (connect(req->fd, (struct sockaddr *)&upstream_servers[req->server],
	    sizeof(upstream_servers[req->server])) == 0)
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
	ldns_pkt_free(req->answer);
	req->answer = pkt;
	rcode = ldns_pkt_get_rcode(pkt);
	if ((rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED) &&
	    req->server + 1 < upstream_count)
		upstream_next(req);
	else
		upstream_finish(req);
}

/* The try is over: on to the next upstream, or the result if none is. */
static void
upstream_next(struct upstream_req *req)
{
	upstream_close(req);
	req->state = UPSTREAM_ST_IDLE;
	while (++req->server < upstream_count) {
		if (req->server > 0)
			upstream_st.failovers++;
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
	upstream_next(req);
}

/* The callback; the request is freed after it, whatever it did. */
static void
upstream_deliver(struct upstream_req *req)
{
	if (req->kind == UPSTREAM_QUERY) {
		TAILQ_REMOVE(&upstream_queries, req, entry);
		upstream_npending--;
		req->state = UPSTREAM_ST_CALLING;
		req->cb(req->answer, req->arg);
	} else {
		TAILQ_REMOVE(&upstream_ready, req, entry);
		upstream_nwaiting--;
		req->state = UPSTREAM_ST_CALLING;
		/* A cache hit: what is left of the TTL when it is given. */
		req->acb(req->addrs, req->naddrs, req->rcode,
		    upstream_ttl_left(req->expires), req->arg);
	}
	upstream_req_free(req);
}

/* Whole seconds until a cache entry expires, rounded down. */
static uint32_t
upstream_ttl_left(int64_t expires)
{
	int64_t	left = expires - upstream_now();

	return (left > 0 ? (uint32_t)(left / 1000) : 0);
}

/* The query of a lookup is answered: to the cache and every waiter. */
static void
upstream_lookup_done(ldns_pkt *pkt, void *arg)
{
	struct upstream_lookup	*lk = arg;
	struct upstream_req	*req;
	uint32_t		 addrs[UPSTREAM_ADDRS_MAX], ttl = 0;
	size_t			 n = 0;
	int			 rcode;

	RB_REMOVE(upstream_lookups, &upstream_lookups, lk);
	if (pkt == NULL)
		rcode = -1;
	else {
		rcode = ldns_pkt_get_rcode(pkt);
		if (rcode == LDNS_RCODE_NOERROR) {
			n = upstream_collect(pkt, addrs, UPSTREAM_ADDRS_MAX,
			    &ttl);
			if (n == 0)
				ttl = UPSTREAM_TTL_NEG;
			else if (ttl < UPSTREAM_TTL_MIN)
				ttl = UPSTREAM_TTL_MIN;
			else if (ttl > UPSTREAM_TTL_MAX)
				ttl = UPSTREAM_TTL_MAX;
			upstream_cache_put(lk->name, rcode, addrs, n, ttl);
		} else if (rcode == LDNS_RCODE_NXDOMAIN) {
			ttl = UPSTREAM_TTL_NEG;
			upstream_cache_put(lk->name, rcode, NULL, 0, ttl);
		}
	}

	/* A callback may cancel the others or shut everything down. */
	upstream_delivering = lk;
	while ((req = TAILQ_FIRST(&lk->waiters)) != NULL) {
		TAILQ_REMOVE(&lk->waiters, req, entry);
		upstream_nwaiting--;
		req->state = UPSTREAM_ST_CALLING;
		req->acb(n > 0 ? addrs : NULL, n, rcode, ttl, req->arg);
		upstream_req_free(req);
	}
	upstream_delivering = NULL;
	free(lk);
}

/* Off the tree; the waiters go uncalled, the query is freed elsewhere. */
static void
upstream_lookup_free(struct upstream_lookup *lk)
{
	struct upstream_req	*req;

	while ((req = TAILQ_FIRST(&lk->waiters)) != NULL) {
		TAILQ_REMOVE(&lk->waiters, req, entry);
		upstream_nwaiting--;
		upstream_req_free(req);
	}
	free(lk);
}

/*
 * The A records of the question's name, following the CNAMEs of the answer
 * section from it, and in *ttl the least TTL of the records followed.
 */
size_t
upstream_collect(ldns_pkt *pkt, uint32_t *addrs, size_t max, uint32_t *ttl)
{
	ldns_rr_list	*an;
	ldns_rr		*rr, *cname;
	ldns_rdf	*cur, *rd;
	uint32_t	 least = UINT32_MAX;
	size_t		 i, count, n;
	int		 hops;

	*ttl = 0;
	if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1)
		return (0);
	an = ldns_pkt_answer(pkt);
	count = an != NULL ? ldns_rr_list_rr_count(an) : 0;
	cur = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0));
	for (hops = 0; hops <= UPSTREAM_CNAME_MAX; hops++) {
		n = 0;
		cname = NULL;
		for (i = 0; i < count; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
				continue;
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A &&
			    ldns_rr_rd_count(rr) == 1 &&
			    (rd = ldns_rr_rdf(rr, 0)) != NULL &&
			    ldns_rdf_size(rd) == 4) {
				if (n == max)
					continue;
				memcpy(&addrs[n++], ldns_rdf_data(rd), 4);
				if (ldns_rr_ttl(rr) < least)
					least = ldns_rr_ttl(rr);
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    cname == NULL && ldns_rr_rd_count(rr) == 1)
				cname = rr;
		}
		if (n > 0) {
			*ttl = least;
			return (n);
		}
		if (cname == NULL ||
		    (rd = ldns_rr_rdf(cname, 0)) == NULL ||
		    ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_DNAME)
			break;
		if (ldns_rr_ttl(cname) < least)
			least = ldns_rr_ttl(cname);
		cur = rd;
	}
	return (0);
}

/* The entry of a name, unless it expired; it becomes the last used. */
static struct upstream_cache *
upstream_cache_get(const char *name)
{
	struct upstream_cache	*ce, key;

	key.name = name;
	if ((ce = RB_FIND(upstream_caches, &upstream_cache, &key)) == NULL)
		return (NULL);
	if (ce->expires <= upstream_now()) {
		upstream_cache_remove(ce);
		return (NULL);
	}
	TAILQ_REMOVE(&upstream_lru, ce, lru);
	TAILQ_INSERT_HEAD(&upstream_lru, ce, lru);
	return (ce);
}

static void
upstream_cache_put(const char *name, int rcode, const uint32_t *addrs,
    size_t n, uint32_t ttl)
{
	struct upstream_cache	*ce, *old;
	size_t			 len;

	len = strlen(name);
	if ((ce = calloc(1, sizeof(*ce) + len + 1)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	memcpy(ce + 1, name, len + 1);
	ce->name = (const char *)(ce + 1);
	if (n > 0) {
		if ((ce->addrs = reallocarray(NULL, n, sizeof(*addrs))) ==
		    NULL) {
			log_warn("%s", __func__);
			free(ce);
			return;
		}
		memcpy(ce->addrs, addrs, n * sizeof(*addrs));
	}
	ce->naddrs = n;
	ce->rcode = rcode;
	ce->expires = upstream_now() + (int64_t)ttl * 1000;

	if ((old = RB_FIND(upstream_caches, &upstream_cache, ce)) != NULL)
		upstream_cache_remove(old);
	while (upstream_ncache >= UPSTREAM_CACHE_MAX)
		upstream_cache_remove(TAILQ_LAST(&upstream_lru,
		    upstream_lru));
	RB_INSERT(upstream_caches, &upstream_cache, ce);
	TAILQ_INSERT_HEAD(&upstream_lru, ce, lru);
	upstream_ncache++;
}

static void
upstream_cache_remove(struct upstream_cache *ce)
{
	RB_REMOVE(upstream_caches, &upstream_cache, ce);
	TAILQ_REMOVE(&upstream_lru, ce, lru);
	upstream_ncache--;
	free(ce->addrs);
	free(ce);
}

static void
upstream_cache_flush(void)
{
	struct upstream_cache	*ce;

	while ((ce = TAILQ_FIRST(&upstream_lru)) != NULL)
		upstream_cache_remove(ce);
}
