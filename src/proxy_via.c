/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_via.c: the client side of the servers a route may reach a name
 * through: SOCKS5 (RFC 1928) CONNECT and UDP ASSOCIATE, with RFC 1929's
 * user and password, and HTTP CONNECT.  Given a socket connected to the
 * server, it runs the handshake without blocking, within a timeout, and
 * tells its caller how it went.  The server is not trusted: every field
 * of its replies is checked, every read bounded, and nothing is read
 * past its reply, for what follows belongs to the tunnel.  It also
 * writes and checks the header of SOCKS5's UDP datagrams.
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

#include <event.h>

#include "rules.h"
#include "proxy.h"

#define VIA_OUT_MAX		2048	/* the longest request, HTTP's */
#define VIA_IN_MAX		(4 + 1 + 255 + 2)	/* SOCKS5's reply */
#define VIA_HTTP_MAX		8192	/* HTTP's response header */
#define VIA_NAME_MAX		255	/* SOCKS5 ATYP 3; also HTTP's */

#define SOCKS5_VER		5
#define SOCKS5_AUTH_VER		1	/* RFC 1929 */
#define SOCKS5_NOAUTH		0x00
#define SOCKS5_USERPASS		0x02
#define SOCKS5_NOMETHOD		0xff
#define SOCKS5_CONNECT		1
#define SOCKS5_ASSOCIATE	3
#define SOCKS5_IPV4		1
#define SOCKS5_NAME		3
#define SOCKS5_IPV6		4

/* What the handshake waits for next. */
enum via_step {
	VIA_METHOD,		/* SOCKS5: the method chosen */
	VIA_AUTH,		/* SOCKS5: the verdict on user and password */
	VIA_REPLY,		/* SOCKS5: the reply to the request */
	VIA_RESPONSE,		/* HTTP: the response header */
};

struct proxy_via {
	int			 fd;
	int			 via;		/* VIA_SOCKS5 or VIA_HTTP */
	int			 cmd;		/* PROXY_VIA_* */
	enum via_step		 step;
	struct event		 ev;
	struct event		 tev;		/* the whole handshake's time */
	short			 watching;	/* what ev waits for, or 0 */
	proxy_via_cb		 cb;
	void			*arg;
	unsigned char		 out[VIA_OUT_MAX];
	size_t			 outlen;
	size_t			 outoff;
	unsigned char		 in[VIA_IN_MAX];
	size_t			 inlen;
	size_t			 need;		/* of the reply, as known */
	uint8_t			 sized;		/* and that is all of it */
	unsigned char		 auth[3 + 255 + 255];	/* RFC 1929 */
	size_t			 authlen;	/* 0: no user */
	unsigned char		 req[VIA_IN_MAX + 2];	/* SOCKS5's request */
	size_t			 reqlen;
	char			 head[13];	/* "HTTP/1.1 200 " */
	char			 tail[2];	/* the header's last two */
};

/* Room for one read of an HTTP response header. */
static char		 via_http[VIA_HTTP_MAX];

static int	proxy_via_name_ok(const char *);
static size_t	proxy_via_socks5_req(unsigned char *, int, const char *,
		    uint16_t, int);
static size_t	proxy_via_http_req(char *, size_t, const struct rule_route *,
		    const char *, uint16_t);
static void	proxy_via_b64(const unsigned char *, size_t, char *);
static void	proxy_via_io(int, short, void *);
static void	proxy_via_timeout(int, short, void *);
static void	proxy_via_run(struct proxy_via *);
static int	proxy_via_send(struct proxy_via *, const char **);
static int	proxy_via_recv(struct proxy_via *, const char **);
static int	proxy_via_step(struct proxy_via *, const char **);
static int	proxy_via_reply(struct proxy_via *, const char **);
static int	proxy_via_http_read(struct proxy_via *, const char **);
static void	proxy_via_watch(struct proxy_via *, short);
static void	proxy_via_done(struct proxy_via *, const char *);
static void	proxy_via_wipe(struct proxy_via *);
static const char *proxy_via_relay(struct proxy_via *, union conf_addr *);
static const char *proxy_via_rep(int);

/*
 * Start the handshake on fd, connected to the route's server, for a
 * tunnel to domain:port (host order), or, for PROXY_VIA_ASSOCIATE, a
 * SOCKS5 UDP relay.  cb hears the outcome within timeout_ms: a NULL
 * reason and, for UDP, the relay's address, or the reason it failed;
 * the handshake is over and freed when cb returns.  What it needs of
 * the route is copied.  NULL and *why: it cannot start.
 */
struct proxy_via *
proxy_via_start(int fd, int cmd, const struct rule_route *route,
    const char *domain, uint16_t port, uint64_t timeout_ms,
    proxy_via_cb cb, void *arg, const char **why)
{
	struct proxy_via	*v;
	struct timeval		 tv;
	size_t			 n, ulen, plen;

	*why = NULL;
	if (route->via != VIA_SOCKS5 && route->via != VIA_HTTP)
		*why = "not a route through a server";
	else if (cmd == PROXY_VIA_ASSOCIATE && route->via != VIA_SOCKS5)
		*why = "HTTP CONNECT carries no UDP";
	else if (cmd == PROXY_VIA_CONNECT && !proxy_via_name_ok(domain))
		*why = "a name the server cannot be sent";
	else if (strnlen(route->user, sizeof(route->user)) > 255 ||
	    strnlen(route->password, sizeof(route->password)) > 255)
		*why = "a user or password longer than 255";
	if (*why != NULL)
		return (NULL);
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		*why = strerror(errno);
		return (NULL);
	}
	v->fd = fd;
	v->via = route->via;
	v->cmd = cmd;
	v->cb = cb;
	v->arg = arg;
	if (v->via == VIA_HTTP) {
		if ((n = proxy_via_http_req((char *)v->out, sizeof(v->out),
		    route, domain, port)) == 0) {
			proxy_via_wipe(v);
			*why = "a request too long";
			return (NULL);
		}
		v->outlen = n;
		v->step = VIA_RESPONSE;
	} else {
		/* The greeting now, the rest once a method is agreed. */
		v->out[0] = SOCKS5_VER;
		if (route->user[0] != '\0') {
			v->out[1] = 2;
			v->out[2] = SOCKS5_NOAUTH;
			v->out[3] = SOCKS5_USERPASS;
			v->outlen = 4;
			ulen = strlen(route->user);
			plen = strlen(route->password);
			v->auth[0] = SOCKS5_AUTH_VER;
			v->auth[1] = ulen;
			memcpy(v->auth + 2, route->user, ulen);
			v->auth[2 + ulen] = plen;
			memcpy(v->auth + 3 + ulen, route->password, plen);
			v->authlen = 3 + ulen + plen;
		} else {
			v->out[1] = 1;
			v->out[2] = SOCKS5_NOAUTH;
			v->outlen = 3;
		}
		v->reqlen = proxy_via_socks5_req(v->req, cmd, domain, port,
		    route->server.sa.sa_family == AF_INET6);
		v->step = VIA_METHOD;
		v->need = 2;
		v->sized = 1;
	}
	/* The first bytes go when the loop next runs, not inside a call. */
	evtimer_set(&v->tev, proxy_via_timeout, v);
	event_set(&v->ev, fd, EV_WRITE | EV_PERSIST, proxy_via_io, v);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (evtimer_add(&v->tev, &tv) == -1 || event_add(&v->ev, NULL) == -1) {
		evtimer_del(&v->tev);
		proxy_via_wipe(v);
		*why = "event_add failed";
		return (NULL);
	}
	v->watching = EV_WRITE;
	return (v);
}

/* Stop a handshake; its callback is not called. */
void
proxy_via_cancel(struct proxy_via *v)
{
	if (v == NULL)
		return;
	if (v->watching != 0)
		event_del(&v->ev);
	evtimer_del(&v->tev);
	proxy_via_wipe(v);
}

/* Free it, the credentials it held wiped first. */
static void
proxy_via_wipe(struct proxy_via *v)
{
	explicit_bzero(v, sizeof(*v));
	free(v);
}

/* "via socks5 H:P" or "via http [H]:P", for the journal. */
const char *
proxy_via_fmt(const struct rule_route *route)
{
	static char	buf[80];

	return (rule_via_fmt(route, buf, sizeof(buf)));
}

/*
 * A name as a server may take it: letters, digits, '-', '_' and dots, so
 * that no byte of it can end an HTTP line or mean something else.
 */
static int
proxy_via_name_ok(const char *name)
{
	size_t	i, len;

	if (name == NULL || (len = strnlen(name, VIA_NAME_MAX + 1)) == 0 ||
	    len > VIA_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '-' || name[i] == '_' || name[i] == '.'))
			return (0);
	return (1);
}

/*
 * The SOCKS5 request: CONNECT to the name (ATYP 3) and port, never an
 * address; UDP ASSOCIATE with 0.0.0.0:0, or [::]:0 to a server reached
 * over IPv6 (inet6), for the relay to take the datagrams of whoever
 * holds this connection.
 */
static size_t
proxy_via_socks5_req(unsigned char *p, int cmd, const char *domain,
    uint16_t port, int inet6)
{
	size_t	len, n;

	p[0] = SOCKS5_VER;
	p[1] = cmd == PROXY_VIA_CONNECT ? SOCKS5_CONNECT : SOCKS5_ASSOCIATE;
	p[2] = 0;
	if (cmd != PROXY_VIA_CONNECT) {
		p[3] = inet6 ? SOCKS5_IPV6 : SOCKS5_IPV4;
		n = inet6 ? 16 : 4;
		memset(p + 4, 0, n + 2);
		return (4 + n + 2);
	}
	len = strlen(domain);
	p[3] = SOCKS5_NAME;
	p[4] = len;
	memcpy(p + 5, domain, len);
	n = 5 + len;
	p[n++] = port >> 8;
	p[n++] = port & 0xff;
	return (n);
}

/* CONNECT name:port, with the route's user if it has one; 0: too long. */
static size_t
proxy_via_http_req(char *buf, size_t size, const struct rule_route *route,
    const char *domain, uint16_t port)
{
	unsigned char	cred[2 * RULE_CRED_MAX];
	char		b64[(sizeof(cred) + 2) / 3 * 4 + 1];
	size_t		clen;
	int		n;

	if (route->user[0] == '\0')
		n = snprintf(buf, size, "CONNECT %s:%u HTTP/1.1\r\n"
		    "Host: %s:%u\r\n\r\n", domain, port, domain, port);
	else {
		clen = (size_t)snprintf((char *)cred, sizeof(cred), "%s:%s",
		    route->user, route->password);
		if (clen >= sizeof(cred))
			return (0);
		proxy_via_b64(cred, clen, b64);
		n = snprintf(buf, size, "CONNECT %s:%u HTTP/1.1\r\n"
		    "Host: %s:%u\r\nProxy-Authorization: Basic %s\r\n\r\n",
		    domain, port, domain, port, b64);
		explicit_bzero(cred, sizeof(cred));
		explicit_bzero(b64, sizeof(b64));
	}
	if (n < 0 || (size_t)n >= size)
		return (0);
	return (n);
}

/* Base64 of len bytes into out, NUL-terminated (RFC 4648). */
static void
proxy_via_b64(const unsigned char *in, size_t len, char *out)
{
	static const char	digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t		w;
	size_t			i;

	for (i = 0; i + 2 < len; i += 3) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = digits[w >> 18];
		*out++ = digits[(w >> 12) & 0x3f];
		*out++ = digits[(w >> 6) & 0x3f];
		*out++ = digits[w & 0x3f];
	}
	if (len - i == 1) {
		w = (uint32_t)in[i] << 16;
		*out++ = digits[w >> 18];
		*out++ = digits[(w >> 12) & 0x3f];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = digits[w >> 18];
		*out++ = digits[(w >> 12) & 0x3f];
		*out++ = digits[(w >> 6) & 0x3f];
		*out++ = '=';
	}
	*out = '\0';
}

static void
proxy_via_io(int fd, short ev, void *arg)
{
	struct proxy_via	*v = arg;

	(void)fd;
	(void)ev;
	proxy_via_run(v);
}

static void
proxy_via_timeout(int fd, short ev, void *arg)
{
	struct proxy_via	*v = arg;

	(void)fd;
	(void)ev;
	proxy_via_done(v, "timed out");
}

/* Send what is pending, read what is needed, until one would block. */
static void
proxy_via_run(struct proxy_via *v)
{
	const char	*why = NULL;
	int		 r;

	for (;;) {
		if (v->outoff < v->outlen) {
			if ((r = proxy_via_send(v, &why)) == -1)
				break;
			if (r == 0) {
				proxy_via_watch(v, EV_WRITE);
				return;
			}
			continue;
		}
		if (v->step == VIA_RESPONSE)
			r = proxy_via_http_read(v, &why);
		else
			r = proxy_via_recv(v, &why);
		if (r == -1)
			break;
		if (r == 0) {
			proxy_via_watch(v, EV_READ);
			return;
		}
		/* A whole answer: what it says, and what comes next. */
		if (v->step != VIA_RESPONSE &&
		    (r = proxy_via_step(v, &why)) == -1)
			break;
		if (v->step == VIA_RESPONSE || r == 2) {
			proxy_via_done(v, NULL);
			return;
		}
	}
	proxy_via_done(v, why);
}

/* 1: all sent, 0: would block, -1: failed. */
static int
proxy_via_send(struct proxy_via *v, const char **why)
{
	ssize_t	n;

	while (v->outoff < v->outlen) {
		n = send(v->fd, v->out + v->outoff, v->outlen - v->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
			*why = strerror(errno);
			return (-1);
		}
		v->outoff += n;
	}
	explicit_bzero(v->out, v->outlen);
	v->outoff = v->outlen = 0;
	return (1);
}

/*
 * Read no more than v->need bytes: the reply's length is learnt as it
 * comes, so nothing past it is taken.  1: v->need bytes are in, 0: would
 * block, -1: failed.
 */
static int
proxy_via_recv(struct proxy_via *v, const char **why)
{
	ssize_t	n;

	while (v->inlen < v->need) {
		n = recv(v->fd, v->in + v->inlen, v->need - v->inlen, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
			*why = strerror(errno);
			return (-1);
		}
		if (n == 0) {
			*why = "the server closed the connection";
			return (-1);
		}
		v->inlen += n;
		/* The reply's fixed part tells the length of the rest. */
		if (v->inlen == v->need && !v->sized &&
		    proxy_via_reply(v, why) == -1)
			return (-1);
	}
	return (1);
}

/*
 * What a whole SOCKS5 answer says: 1: go on, 2: the handshake is done,
 * -1: refused or malformed.
 */
static int
proxy_via_step(struct proxy_via *v, const char **why)
{
	switch (v->step) {
	case VIA_METHOD:
		if (v->in[0] != SOCKS5_VER) {
			*why = "not a SOCKS5 server";
			return (-1);
		}
		if (v->in[1] == SOCKS5_NOMETHOD) {
			*why = v->authlen > 0 ?
			    "no method accepted (user and password, none)" :
			    "no method accepted (none)";
			return (-1);
		}
		if (v->in[1] == SOCKS5_USERPASS && v->authlen > 0) {
			memcpy(v->out, v->auth, v->authlen);
			v->outlen = v->authlen;
			explicit_bzero(v->auth, sizeof(v->auth));
			v->step = VIA_AUTH;
			v->inlen = 0;
			v->need = 2;
			return (1);
		}
		if (v->in[1] != SOCKS5_NOAUTH) {
			*why = "a method that was not offered";
			return (-1);
		}
		break;
	case VIA_AUTH:
		if (v->in[0] != SOCKS5_AUTH_VER) {
			*why = "a bad authentication reply";
			return (-1);
		}
		if (v->in[1] != 0) {
			*why = "user or password refused";
			return (-1);
		}
		break;
	case VIA_REPLY:
		/* proxy_via_reply() checked it as it came. */
		return (2);
	default:
		*why = "a handshake out of step";
		return (-1);
	}
	/* Authenticated, or no need: the request. */
	memcpy(v->out, v->req, v->reqlen);
	v->outlen = v->reqlen;
	v->step = VIA_REPLY;
	v->inlen = 0;
	v->need = 5;		/* up to the first byte of BND.ADDR */
	v->sized = 0;
	return (1);
}

/*
 * The first 5 bytes of a SOCKS5 reply, up to the first of BND.ADDR:
 * every field checked, the length of the rest learnt from the address
 * type.
 */
static int
proxy_via_reply(struct proxy_via *v, const char **why)
{
	if (v->in[0] != SOCKS5_VER) {
		*why = "a bad SOCKS5 reply version";
		return (-1);
	}
	if (v->in[1] != 0) {
		*why = proxy_via_rep(v->in[1]);
		return (-1);
	}
	if (v->in[2] != 0) {
		*why = "a bad reserved byte in the reply";
		return (-1);
	}
	switch (v->in[3]) {
	case SOCKS5_IPV4:
		v->need = 4 + 4 + 2;
		break;
	case SOCKS5_NAME:
		if (v->in[4] == 0) {
			*why = "an empty name in the reply";
			return (-1);
		}
		v->need = 4 + 1 + v->in[4] + 2;
		break;
	case SOCKS5_IPV6:
		v->need = 4 + 16 + 2;
		break;
	default:
		*why = "a bad address type in the reply";
		return (-1);
	}
	v->sized = 1;
	return (0);
}

/* The meaning of a SOCKS5 reply code (RFC 1928, 6). */
static const char *
proxy_via_rep(int rep)
{
	static char	 buf[32];

	switch (rep) {
	case 1:
		return ("general SOCKS server failure");
	case 2:
		return ("connection not allowed by ruleset");
	case 3:
		return ("network unreachable");
	case 4:
		return ("host unreachable");
	case 5:
		return ("connection refused");
	case 6:
		return ("TTL expired");
	case 7:
		return ("command not supported");
	case 8:
		return ("address type not supported");
	default:
		snprintf(buf, sizeof(buf), "reply %d", rep);
		return (buf);
	}
}

/*
 * The HTTP response header, up to and with its blank line: peek at what
 * has come, take only what belongs to the header, so the tunnel's first
 * bytes stay in the socket.  v->need counts what was taken; what is
 * judged of it (the status line's first bytes, the last two for a blank
 * line across reads) is kept in v, since other handshakes use via_http
 * between the reads of this one.  1: the header is in and says 2xx, 0:
 * would block, -1: failed or refused.
 */
static int
proxy_via_http_read(struct proxy_via *v, const char **why)
{
	static char	 buf[64];
	const char	*h = v->head;
	ssize_t		 n;
	size_t		 i, end, k;
	int		 status;
	char		 c1, c2;

	for (;;) {
		n = recv(v->fd, via_http, sizeof(via_http) - v->need,
		    MSG_PEEK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n == -1) {
			*why = strerror(errno);
			return (-1);
		}
		if (n == 0) {
			*why = "the server closed the connection";
			return (-1);
		}
		/*
		 * A blank line, CRLF or a bare LF, may begin before this: c1
		 * and c2 are the two bytes before via_http[i] (zero before
		 * the header's first).
		 */
		end = 0;
		c1 = v->tail[1];
		c2 = v->tail[0];
		for (i = 0; i < (size_t)n; i++) {
			if (via_http[i] == '\n' &&
			    (c1 == '\n' || (c1 == '\r' && c2 == '\n'))) {
				end = i + 1;
				break;
			}
			c2 = c1;
			c1 = via_http[i];
		}
		/* Exactly what was peeked and belongs to the header. */
		i = end != 0 ? end : (size_t)n;
		while ((n = recv(v->fd, via_http, i, 0)) == -1 &&
		    errno == EINTR)
			;
		if (n == -1 || (size_t)n != i) {
			*why = n == -1 ? strerror(errno) :
			    "the response shrank while read";
			return (-1);
		}
		if (v->need < sizeof(v->head)) {
			k = sizeof(v->head) - v->need;
			memcpy(v->head + v->need, via_http, i < k ? i : k);
		}
		v->tail[0] = i >= 2 ? via_http[i - 2] : v->tail[1];
		v->tail[1] = via_http[i - 1];
		v->need += i;
		if (end != 0)
			break;
		if (v->need == sizeof(via_http)) {
			*why = "an HTTP response header too long";
			return (-1);
		}
	}
	/* "HTTP/1.x SSS ...": the status line, checked. */
	if (v->need < sizeof(v->head) || memcmp(h, "HTTP/1.", 7) != 0 ||
	    h[7] < '0' || h[7] > '9' || h[8] != ' ' ||
	    h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' ||
	    h[11] < '0' || h[11] > '9' ||
	    (h[12] != ' ' && h[12] != '\r' && h[12] != '\n')) {
		*why = "not an HTTP response";
		return (-1);
	}
	status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	if (status < 200 || status > 299) {
		snprintf(buf, sizeof(buf), "HTTP status %d", status);
		*why = buf;
		return (-1);
	}
	return (1);
}

/* Wait for what the next step needs. */
static void
proxy_via_watch(struct proxy_via *v, short what)
{
	if (v->watching == what)
		return;
	if (v->watching != 0)
		event_del(&v->ev);
	event_set(&v->ev, v->fd, what | EV_PERSIST, proxy_via_io, v);
	if (event_add(&v->ev, NULL) == -1) {
		v->watching = 0;
		proxy_via_done(v, "event_add failed");
		return;
	}
	v->watching = what;
}

/* The handshake is over: the caller hears it, then it is freed. */
static void
proxy_via_done(struct proxy_via *v, const char *why)
{
	union conf_addr		 relay, *bound = NULL;

	if (v->watching != 0)
		event_del(&v->ev);
	v->watching = 0;
	evtimer_del(&v->tev);
	if (why == NULL && v->cmd == PROXY_VIA_ASSOCIATE)
		why = proxy_via_relay(v, &relay);
	if (why == NULL && v->cmd == PROXY_VIA_ASSOCIATE)
		bound = &relay;
	v->cb(v->arg, bound, why);
	proxy_via_wipe(v);
}

/*
 * The relay of a UDP ASSOCIATE from the reply: an IPv4 or IPv6 address,
 * where 0.0.0.0 or :: means the server's own, as the control connection
 * reached it (of either family), and a port.  NULL, or why not.
 */
static const char *
proxy_via_relay(struct proxy_via *v, union conf_addr *relay)
{
	union conf_addr	 peer;
	socklen_t	 len = sizeof(peer);
	in_port_t	 port;
	int		 any;

	memset(relay, 0, sizeof(*relay));
	if (v->in[3] == SOCKS5_IPV4) {
		relay->sin.sin_family = AF_INET;
		memcpy(&relay->sin.sin_addr, v->in + 4, 4);
		memcpy(&port, v->in + 8, 2);
		relay->sin.sin_port = port;
		any = relay->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	} else if (v->in[3] == SOCKS5_IPV6) {
		relay->sin6.sin6_family = AF_INET6;
		memcpy(&relay->sin6.sin6_addr, v->in + 4, 16);
		memcpy(&port, v->in + 20, 2);
		relay->sin6.sin6_port = port;
		any = IN6_IS_ADDR_UNSPECIFIED(&relay->sin6.sin6_addr);
	} else
		return ("a relay named, not given by its address");
	if (port == 0)
		return ("a relay with port 0");
	if (!any)
		return (NULL);
	memset(&peer, 0, sizeof(peer));
	if (getpeername(v->fd, &peer.sa, &len) == -1)
		return (strerror(errno));
	if (peer.sa.sa_family != AF_INET && peer.sa.sa_family != AF_INET6)
		return ("a server of no address family");
	*relay = peer;
	conf_set_port(relay, ntohs(port));
	return (NULL);
}

/*
 * The SOCKS5 UDP header of a datagram to domain:port (host order) into
 * buf: RSV, FRAG 0, the name (ATYP 3) and the port.  0: it does not fit.
 */
size_t
proxy_via_udp_header(unsigned char *buf, size_t size, const char *domain,
    uint16_t port)
{
	size_t	len;

	if (!proxy_via_name_ok(domain))
		return (0);
	len = strlen(domain);
	if (size < 4 + 1 + len + 2)
		return (0);
	buf[0] = buf[1] = 0;
	buf[2] = 0;
	buf[3] = SOCKS5_NAME;
	buf[4] = len;
	memcpy(buf + 5, domain, len);
	buf[5 + len] = port >> 8;
	buf[6 + len] = port & 0xff;
	return (7 + len);
}

/*
 * The length of the SOCKS5 UDP header of a datagram from the relay, or
 * -1 when it is not one to pass on: a reserved field not 0, a fragment,
 * an unknown address type or a datagram shorter than its header.
 */
ssize_t
proxy_via_udp_strip(const unsigned char *p, size_t len)
{
	size_t	hlen;

	if (len < 4 || p[0] != 0 || p[1] != 0 || p[2] != 0)
		return (-1);
	switch (p[3]) {
	case SOCKS5_IPV4:
		hlen = 4 + 4 + 2;
		break;
	case SOCKS5_NAME:
		if (len < 5 || p[4] == 0)
			return (-1);
		hlen = 4 + 1 + p[4] + 2;
		break;
	case SOCKS5_IPV6:
		hlen = 4 + 16 + 2;
		break;
	default:
		return (-1);
	}
	if (len < hlen)
		return (-1);
	return (hlen);
}
