/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstream_tls.c: DNS over TLS to the upstreams that speak it (RFC 7858),
 * for upstream.c.  It belongs to the dns process alone and owns the TLS
 * context (its trusted certificates, loaded before the chroot) and one
 * connection per TLS upstream with the queries on it.
 *
 * A connection is made when a query needs it, kept open and reused:
 * queries are written as soon as the handshake is over, each after its
 * two bytes of length (RFC 7766), without waiting for the answers before
 * them, and answers are matched by id in whatever order they come.  The
 * ids on one connection differ.  After UPSTREAM_TLS_IDLE without a query
 * the connection is closed; a handshake that takes longer than a try is a
 * failure.  The certificate chain must lead to a trusted certificate and
 * carry the configured name (or the upstream's address when none is
 * given); TLS 1.2 at least.  A failed handshake, a refused certificate, an
 * error or the upstream closing the connection fails every query on it,
 * and upstream.c moves each to the next upstream; but when a connection
 * that has carried answers ends, as an upstream may close one it finds
 * idle just as a query leaves, its queries are written once more on a
 * new connection first (RFC 7766, 6.2.1).  Nothing here ever
 * sends a query in clear text.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dns44.h"
#include "log.h"
#include "upstream.h"
#include "upstream_local.h"
#include "wire.h"

#define UPSTREAM_TLS_IDLE	10	/* s without a query: closed */
#define UPSTREAM_TLS_QUEUE	256	/* queries on one connection */

TAILQ_HEAD(upstream_tls_queries, upstream_tls_query);

/* One TLS upstream's connection, open or not. */
struct upstream_tls_conn {
	int				 used;		/* slot taken */
	struct conf_upstream		 up;
	struct bufferevent		*bev;		/* NULL: closed */
	SSL				*ssl;		/* the bev's */
	int				 ready;		/* handshake over */
	int				 failing;	/* its queries fail */
	uint64_t			 answered;	/* on this connection */
	struct event			 ev_timer;	/* handshake; idle */
	struct upstream_tls_queries	 queries;	/* waiting or sent */
	size_t				 nqueries;
	int64_t				 last;		/* ms: last used */
	struct log_rate			 rl;
};

static SSL_CTX			*upstream_tls_ctx;
static char			 upstream_tls_ca[PATH_MAX];	/* loaded */
static struct upstream_tls_conn	 upstream_tls_conns[UPSTREAM_HEALTH_MAX];
static struct timeval		 upstream_tls_handshake = { 2, 0 };
static uint8_t			 upstream_tls_buf[65535];

static struct upstream_tls_conn *upstream_tls_conn(
		    const struct conf_upstream *);
static int	upstream_tls_connect(struct upstream_tls_conn *);
static void	upstream_tls_close(struct upstream_tls_conn *);
static void	upstream_tls_fail(struct upstream_tls_conn *, const char *);
static int	upstream_tls_again(struct upstream_tls_conn *, const char *);
static void	upstream_tls_write(struct upstream_tls_conn *,
		    struct upstream_tls_query *);
static void	upstream_tls_idle(struct upstream_tls_conn *);
static void	upstream_tls_read(struct bufferevent *, void *);
static void	upstream_tls_event(struct bufferevent *, short, void *);
static void	upstream_tls_timer(int, short, void *);
static const char *upstream_tls_why(struct upstream_tls_conn *, short,
		    char *, size_t);

/*
 * The TLS context and the certificates it trusts: those of ca, or the
 * system's bundle when ca is "".  Called once, before the chroot, whether
 * an upstream speaks TLS or not, so that a reload may add one.  -1 with
 * err set when ca cannot be loaded; the system's bundle missing is only
 * logged, and every certificate is then refused.
 */
int
upstream_tls_load(const char *ca, char *err, size_t errlen)
{
	const char	*file, *env;

	if (upstream_tls_ctx != NULL)
		return (0);
	if ((upstream_tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "cannot make a TLS context");
		return (-1);
	}
	if (SSL_CTX_set_min_proto_version(upstream_tls_ctx,
	    TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "cannot require TLS 1.2");
		return (-1);
	}
	SSL_CTX_set_verify(upstream_tls_ctx, SSL_VERIFY_PEER, NULL);
	/* An idle connection keeps no buffers. */
	SSL_CTX_set_mode(upstream_tls_ctx, SSL_MODE_RELEASE_BUFFERS);
	if (ca != NULL && *ca != '\0') {
		if (SSL_CTX_load_verify_locations(upstream_tls_ctx, ca,
		    NULL) != 1) {
			snprintf(err, errlen, "%s: cannot load the "
			    "certificates: %s", ca, ERR_reason_error_string(
			    ERR_peek_last_error()));
			ERR_clear_error();
			return (-1);
		}
		strlcpy(upstream_tls_ca, ca, sizeof(upstream_tls_ca));
		return (0);
	}
	/* The bundle file alone: a directory is read lazily, in the chroot. */
	if ((env = getenv(X509_get_default_cert_file_env())) != NULL &&
	    *env != '\0')
		file = env;
	else
		file = X509_get_default_cert_file();
	if (SSL_CTX_load_verify_locations(upstream_tls_ctx, file, NULL) != 1) {
		log_warnx("%s: cannot load the system's certificates, no "
		    "TLS upstream will be trusted", file);
		ERR_clear_error();
	}
	return (0);
}

/* Whether the certificates of ca ("": the system's) are those loaded. */
int
upstream_tls_loaded(const char *ca)
{
	return (upstream_tls_ctx == NULL || strcmp(ca, upstream_tls_ca) == 0);
}

/* The handshake may take as long as one try. */
void
upstream_tls_timeout(const struct timeval *tv)
{
	upstream_tls_handshake = *tv;
}

/* Every connection closed; the queries on them are upstream.c's to free. */
void
upstream_tls_shutdown(void)
{
	struct upstream_tls_conn	*c;
	int				 i;

	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		c = &upstream_tls_conns[i];
		if (!c->used)
			continue;
		upstream_tls_close(c);
		evtimer_del(&c->ev_timer);
		c->used = 0;
	}
}

/*
 * The connection of an upstream, a closed one when it has none.  When
 * every slot is taken, a closed one with no query makes room; NULL when
 * none is.
 */
static struct upstream_tls_conn *
upstream_tls_conn(const struct conf_upstream *u)
{
	struct upstream_tls_conn	*c, *old = NULL;
	int				 i;

	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		c = &upstream_tls_conns[i];
		if (c->used && conf_upstream_same(&c->up, u))
			return (c);
	}
	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		c = &upstream_tls_conns[i];
		if (!c->used) {
			old = c;
			break;
		}
		if (c->bev == NULL && c->nqueries == 0 && !c->failing &&
		    (old == NULL || c->last < old->last))
			old = c;
	}
	if (old == NULL)
		return (NULL);
	if (old->used)
		evtimer_del(&old->ev_timer);
	memset(old, 0, sizeof(*old));
	old->used = 1;
	old->up = *u;
	TAILQ_INIT(&old->queries);
	evtimer_set(&old->ev_timer, upstream_tls_timer, old);
	return (old);
}

/*
 * The query goes on the upstream's connection, made if need be; its id
 * (in q->wire) may change to differ from the others there.  -1 when it
 * cannot: no context, too many queries or connections, no socket.
 */
int
upstream_tls_send(struct upstream_tls_query *q, const struct conf_upstream *u)
{
	struct upstream_tls_conn	*c;
	struct upstream_tls_query	*o;
	uint16_t			 id;
	int				 again;

	if (upstream_tls_ctx == NULL) {
		errno = ENOPROTOOPT;
		return (-1);
	}
	if ((c = upstream_tls_conn(u)) == NULL ||
	    c->nqueries >= UPSTREAM_TLS_QUEUE) {
		errno = ENOBUFS;
		return (-1);
	}
	if (c->bev == NULL && upstream_tls_connect(c) == -1)
		return (-1);
	do {
		id = wire_get16(q->wire + 2);
		again = 0;
		TAILQ_FOREACH(o, &c->queries, entry)
			if (wire_get16(o->wire + 2) == id) {
				wire_put16(q->wire + 2, arc4random() & 0xffff);
				again = 1;
				break;
			}
	} while (again);
	q->conn = c;
	q->sent_us = 0;
	q->again = 0;
	TAILQ_INSERT_TAIL(&c->queries, q, entry);
	c->nqueries++;
	c->last = upstream_now_us() / 1000;
	if (c->ready) {
		evtimer_del(&c->ev_timer);
		upstream_tls_write(c, q);
	}
	return (0);
}

/* The query leaves its connection: answered, timed out or cancelled. */
void
upstream_tls_drop(struct upstream_tls_query *q)
{
	struct upstream_tls_conn	*c = q->conn;

	if (c == NULL)
		return;
	TAILQ_REMOVE(&c->queries, q, entry);
	c->nqueries--;
	q->conn = NULL;
	if (c->nqueries == 0 && c->ready)
		upstream_tls_idle(c);
}

static int
upstream_tls_connect(struct upstream_tls_conn *c)
{
	X509_VERIFY_PARAM	*param;
	SSL			*ssl;
	char			 buf[CONF_UPSTREAM_STRLEN];

	if ((ssl = SSL_new(upstream_tls_ctx)) == NULL)
		goto sslfail;
	if (c->up.tls_name[0] != '\0') {
		if (SSL_set_tlsext_host_name(ssl, c->up.tls_name) != 1 ||
		    SSL_set1_host(ssl, c->up.tls_name) != 1)
			goto sslfail;
		/* A wildcard only as a whole leftmost label (RFC 6125). */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	} else {
		param = SSL_get0_param(ssl);
		if ((c->up.addr.sa.sa_family == AF_INET6 ?
		    X509_VERIFY_PARAM_set1_ip(param,
		    (unsigned char *)&c->up.addr.sin6.sin6_addr, 16) :
		    X509_VERIFY_PARAM_set1_ip(param,
		    (unsigned char *)&c->up.addr.sin.sin_addr, 4)) != 1)
			goto sslfail;
	}
	/* Freed with the bufferevent, or here when it could not be made. */
	c->bev = bufferevent_openssl_socket_new(event_get_base(&c->ev_timer),
	    -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		SSL_free(ssl);
		log_warnx("upstream %s: cannot make a TLS connection",
		    conf_fmt_upstream(&c->up, buf, sizeof(buf)));
		errno = ENOMEM;
		return (-1);
	}
	c->ssl = ssl;
	c->answered = 0;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, upstream_tls_read, NULL, upstream_tls_event,
	    c);
	if (bufferevent_socket_connect(c->bev, &c->up.addr.sa,
	    conf_addr_len(&c->up.addr)) == -1) {
		log_debug("upstream %s: connect: %s", conf_fmt_upstream(&c->up,
		    buf, sizeof(buf)), strerror(errno));
		upstream_tls_close(c);
		errno = ECONNREFUSED;
		return (-1);
	}
	if (bufferevent_enable(c->bev, EV_READ) == -1)
		fatalx("%s: bufferevent_enable", __func__);
	c->ready = 0;
	if (evtimer_add(&c->ev_timer, &upstream_tls_handshake) == -1)
		fatal("%s: evtimer_add", __func__);
	log_debug("upstream %s: connecting", conf_fmt_upstream(&c->up, buf,
	    sizeof(buf)));
	return (0);

 sslfail:
	SSL_free(ssl);
	log_warnx("upstream %s: cannot set up TLS: %s", conf_fmt_upstream(
	    &c->up, buf, sizeof(buf)), ERR_reason_error_string(
	    ERR_peek_last_error()));
	ERR_clear_error();
	errno = EINVAL;
	return (-1);
}

/*
 * A connection that carried answers ended: its queries, none of them
 * written twice yet, go on a new one.  1 when they do, or when there
 * were none; 0 when they are to fail.
 */
static int
upstream_tls_again(struct upstream_tls_conn *c, const char *why)
{
	struct upstream_tls_query	*q;
	char				 buf[CONF_UPSTREAM_STRLEN];

	if (!c->ready || c->answered == 0)
		return (0);
	TAILQ_FOREACH(q, &c->queries, entry)
		if (q->again)
			return (0);
	upstream_tls_close(c);
	if (c->nqueries == 0) {
		log_debug("upstream %s: %s", conf_fmt_upstream(&c->up, buf,
		    sizeof(buf)), why);
		return (1);
	}
	if (upstream_tls_connect(c) == -1)
		return (0);
	log_debug("upstream %s: %s, the queries left on it (%zu) asked "
	    "again on a new connection", conf_fmt_upstream(&c->up, buf,
	    sizeof(buf)), why, c->nqueries);
	TAILQ_FOREACH(q, &c->queries, entry) {
		q->again = 1;
		q->sent_us = 0;
	}
	return (1);
}

/* The connection goes; its queries stay for the caller to deal with. */
static void
upstream_tls_close(struct upstream_tls_conn *c)
{
	evtimer_del(&c->ev_timer);
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->ssl = NULL;
	}
	c->ready = 0;
	ERR_clear_error();
}

/*
 * The connection failed: it is closed, and each query on it fails, which
 * may start tries on other connections but never on this one.
 */
static void
upstream_tls_fail(struct upstream_tls_conn *c, const char *why)
{
	struct upstream_tls_query	*q;
	char				 buf[CONF_UPSTREAM_STRLEN];

	upstream_tls_close(c);
	if (c->nqueries == 0) {
		log_debug("upstream %s: %s", conf_fmt_upstream(&c->up, buf,
		    sizeof(buf)), why);
		return;
	}
	log_rate(&c->rl, LOG_WARNING, "upstream %s: %s", conf_fmt_upstream(
	    &c->up, buf, sizeof(buf)), why);
	c->failing = 1;
	while ((q = TAILQ_FIRST(&c->queries)) != NULL) {
		TAILQ_REMOVE(&c->queries, q, entry);
		c->nqueries--;
		q->conn = NULL;
		upstream_tls_failed(q->req);
	}
	c->failing = 0;
}

static void
upstream_tls_write(struct upstream_tls_conn *c, struct upstream_tls_query *q)
{
	if (bufferevent_write(c->bev, q->wire, q->len) == -1)
		fatalx("%s: bufferevent_write", __func__);
	q->sent_us = upstream_now_us();
}

static void
upstream_tls_idle(struct upstream_tls_conn *c)
{
	struct timeval	tv = { UPSTREAM_TLS_IDLE, 0 };

	if (evtimer_add(&c->ev_timer, &tv) == -1)
		fatal("%s: evtimer_add", __func__);
}

/*
 * Messages come as a length and that many bytes.  An answer goes to the
 * query of its id, which may leave the connection for good; one that
 * fails upstream.c's checks, or whose query is gone, is skipped.
 */
static void
upstream_tls_read(struct bufferevent *bev, void *arg)
{
	struct upstream_tls_conn	*c = arg;
	struct upstream_tls_query	*q;
	struct evbuffer			*in;
	uint8_t				 lenbuf[2];
	size_t				 len;
	uint16_t			 id;

	in = bufferevent_get_input(bev);
	while (c->bev == bev && evbuffer_get_length(in) >= 2) {
		if (evbuffer_copyout(in, lenbuf, 2) != 2)
			fatalx("%s: evbuffer_copyout", __func__);
		len = wire_get16(lenbuf);
		if (evbuffer_get_length(in) < 2 + len)
			return;
		if (evbuffer_drain(in, 2) == -1 ||
		    evbuffer_remove(in, upstream_tls_buf, len) != (int)len)
			fatalx("%s: evbuffer_remove", __func__);
		if (len < 2)
			continue;
		id = wire_get16(upstream_tls_buf);
		TAILQ_FOREACH(q, &c->queries, entry)
			if (q->sent_us != 0 && wire_get16(q->wire + 2) == id)
				break;
		if (q == NULL) {
			upstream_tls_answer(NULL, upstream_tls_buf, len, 0);
			continue;
		}
		c->answered++;
		upstream_tls_answer(q->req, upstream_tls_buf, len,
		    upstream_now_us() - q->sent_us);
	}
}

static void
upstream_tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct upstream_tls_conn	*c = arg;
	struct upstream_tls_query	*q;
	char				 buf[CONF_UPSTREAM_STRLEN], why[256];

	if (c->bev != bev)
		return;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		evtimer_del(&c->ev_timer);
		c->ready = 1;
		log_debug("upstream %s: %s connected", conf_fmt_upstream(&c->up,
		    buf, sizeof(buf)), SSL_get_version(c->ssl));
		TAILQ_FOREACH(q, &c->queries, entry)
			upstream_tls_write(c, q);
		if (c->nqueries == 0)
			upstream_tls_idle(c);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == 0)
		return;
	upstream_tls_why(c, what, why, sizeof(why));
	if (!upstream_tls_again(c, why))
		upstream_tls_fail(c, why);
}

/* The handshake took too long, or the connection was idle long enough. */
static void
upstream_tls_timer(int fd, short ev, void *arg)
{
	struct upstream_tls_conn	*c = arg;
	char				 buf[CONF_UPSTREAM_STRLEN];

	(void)fd;
	(void)ev;
	if (c->bev == NULL)
		return;
	if (!c->ready) {
		upstream_tls_fail(c, "TLS handshake timed out");
		return;
	}
	if (c->nqueries > 0)
		return;
	log_debug("upstream %s: idle, closed", conf_fmt_upstream(&c->up, buf,
	    sizeof(buf)));
	upstream_tls_close(c);
}

/* Why the connection ended, for the journal. */
static const char *
upstream_tls_why(struct upstream_tls_conn *c, short what, char *buf,
    size_t len)
{
	unsigned long	 e, last = 0;
	long		 vr;
	int		 err;

	err = EVUTIL_SOCKET_ERROR();
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		last = e;
	vr = SSL_get_verify_result(c->ssl);
	if (!c->ready && vr != X509_V_OK)
		snprintf(buf, len, "certificate refused: %s",
		    X509_verify_cert_error_string(vr));
	else if (last != 0)
		snprintf(buf, len, "TLS %s: %s", c->ready ? "error" :
		    "handshake failed", ERR_reason_error_string(last) != NULL ?
		    ERR_reason_error_string(last) : "unknown error");
	else if ((what & BEV_EVENT_EOF) != 0)
		snprintf(buf, len, "%s", c->ready ? "connection closed by the "
		    "upstream" : "closed by the upstream during the TLS "
		    "handshake");
	else
		snprintf(buf, len, "%s%s", c->ready ? "" : "TLS connect: ",
		    err != 0 ? strerror(err) : "connection failed");
	return (buf);
}
