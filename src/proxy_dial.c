/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_dial.c: the socket a TCP connection or UDP session dials with,
 * made as its route says.  A route with a firewall mark gets its socket
 * from the parent, the one process that may set SO_MARK; the proxy makes
 * any other itself.  Either way the route's interface (SO_BINDTODEVICE,
 * which needs no privilege on a socket not yet bound) and source address
 * (bound before connecting) are applied here, so that the relays only
 * connect what they are given, to a real address or a proxy server alike.
 * The socket is of the family of the address it is for; a route's source
 * address is IPv4, so an IPv6 address cannot be dialled from it.
 *
 * A TCP connection dials its addresses here too, as Happy Eyeballs (RFC
 * 8305, 5) has it: the addresses alternate families, the preferred one
 * first (proxy_dest_filter() put them in that order); the next attempt
 * starts when one fails or conf->attempt_delay_ms after the last one
 * started, whichever comes first, and those started go on; the first to
 * connect wins and the others are closed.  Like Go's dialer, which the
 * seed used, the dial timeout covers all addresses, each attempt getting
 * an even share of what is left but no less than 2 s (or what is left, if
 * less).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"
#include "rules.h"

#define PROXY_DIAL_MIN_MS	2000	/* an address's share of the dial */

static struct log_rate	 proxy_rl_dial_sock, proxy_rl_happy,
			 proxy_rl_happy_why;

static void	proxy_dial_done(struct proxy_dial *, int, const char *);
static void	proxy_happy_next(struct proxy_happy *);
static void	proxy_happy_timer(int, short, void *);
static void	proxy_happy_failed(struct proxy_happy *);
static void	proxy_happy_sock(struct proxy_dial *, int);
static void	proxy_happy_dialled(int, short, void *);
static void	proxy_happy_end(struct proxy_attempt *);
static const char *proxy_dial_options(const struct rule_route *, int, int,
		    int);

/*
 * A socket for r to dial d->dst with, for d->cb to connect: at once, or
 * once the parent answered.  The callback may close the relay, so the
 * caller must not touch it after this call.  On failure the callback
 * hears -1, and the line saying why is logged here.
 */
void
proxy_dial_socket(struct proxy_dial *d, struct proxy_relay *r,
    void (*cb)(struct proxy_dial *, int))
{
	const struct rule_route	*route = r->route;
	struct msg_dial_sock	 ds;
	int			 s, type, proto, family;

	d->r = r;
	d->cb = cb;
	proto = d->proto != 0 ? d->proto : r->proto;
	family = d->dst.sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
	if (route != NULL && route->mark != 0) {
		memset(&ds, 0, sizeof(ds));
		ds.proto = proto;
		ds.mark = route->mark;
		ds.family = family;
		proxy_req_add(&d->req, MSG_DIAL_SOCK_REQ, d);
		if (proxy_parent_compose(MSG_DIAL_SOCK_REQ, d->req.id, &ds,
		    sizeof(ds)) == -1) {
			/* A flood of relays: this one goes, not the proxy. */
			proxy_req_cancel(&d->req);
			proxy_dial_done(d, -1, "asking the parent");
		}
		return;
	}
	type = proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	s = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	proxy_dial_done(d, s, NULL);
}

/* A request whose relay closed first: its answer is thrown away. */
void
proxy_dial_cancel(struct proxy_dial *d)
{
	proxy_req_cancel(&d->req);
}

/* The parent answered: fd is the marked socket, or -1 and ds says why. */
void
proxy_dial_answer(uint32_t id, int fd, const struct msg_dial_sock *ds)
{
	const struct rule_route	*route;
	struct proxy_req	*req;
	struct proxy_dial	*d;
	char			 what[32];

	if ((req = proxy_req_take(id, MSG_DIAL_SOCK_REQ)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	d = req->obj;
	route = d->r->route;
	if (route == NULL || ds->mark != route->mark ||
	    ds->proto != (uint32_t)(d->proto != 0 ? d->proto : d->r->proto) ||
	    ds->family != (d->dst.sa.sa_family == AF_INET6 ? AF_INET6 :
	    AF_INET))
		fatalx("dialling socket for another request");
	if (fd == -1)
		errno = ds->error;
	snprintf(what, sizeof(what), "mark 0x%x", ds->mark);
	proxy_dial_done(d, fd, what);
}

/*
 * The socket is made, or not (-1, errno says why, what names the part
 * that failed, if any): the route's options applied, it goes on to the
 * relay.
 */
static void
proxy_dial_done(struct proxy_dial *d, int s, const char *what)
{
	struct proxy_relay	*r = d->r;
	int			 saved_errno;

	if (s != -1 && (what = proxy_dial_options(r->route,
	    d->proto != 0 ? d->proto : r->proto, d->dst.sa.sa_family,
	    s)) != NULL) {
		saved_errno = errno;
		close(s);
		errno = saved_errno;
		s = -1;
	}
	if (s == -1)
		log_rate(&proxy_rl_dial_sock, LOG_ERR, "%s: dial %s: %s%s%s",
		    proxy_relay_flow(r), proxy_sa_fmt(&d->dst),
		    what != NULL ? what : "", what != NULL ? ": " : "",
		    strerror(errno));
	d->cb(d, s);
}

/*
 * The route's interface and source address on socket s of family, or
 * what could not be set, errno saying why.
 */
static const char *
proxy_dial_options(const struct rule_route *route, int proto, int family,
    int s)
{
	static char		 what[IFNAMSIZ + INET_ADDRSTRLEN + 16];
	struct sockaddr_in	 src;
	char			 a[INET_ADDRSTRLEN];
	int			 on = 1, saved_errno;

	if (route == NULL)
		return (NULL);
	if (route->ifname[0] != '\0' && setsockopt(s, SOL_SOCKET,
	    SO_BINDTODEVICE, route->ifname, strnlen(route->ifname,
	    sizeof(route->ifname))) == -1) {
		saved_errno = errno;
		snprintf(what, sizeof(what), "interface %.*s",
		    (int)sizeof(route->ifname), route->ifname);
		errno = saved_errno;
		return (what);
	}
	if (route->source.sin_addr.s_addr == INADDR_ANY)
		return (NULL);
	if (family == AF_INET6) {
		snprintf(what, sizeof(what), "source %s", inet_ntop(AF_INET,
		    &route->source.sin_addr, a, sizeof(a)));
		errno = EAFNOSUPPORT;
		return (what);
	}
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr = route->source.sin_addr;
	/* The port comes at connect: many connections share the address. */
	if (proto == IPPROTO_TCP)
		setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
		    sizeof(on));
	if (bind(s, (struct sockaddr *)&src, sizeof(src)) == -1) {
		saved_errno = errno;
		snprintf(what, sizeof(what), "source %s", inet_ntop(AF_INET,
		    &src.sin_addr, a, sizeof(a)));
		errno = saved_errno;
		return (what);
	}
	return (NULL);
}

/*
 * Dial h->addrs for r within the time that ends at end (ms, proxy_now());
 * cb hears how it went, at once or later.  The callback may close the
 * relay, so the caller must not touch it after this call.
 */
void
proxy_dial_happy(struct proxy_happy *h, struct proxy_relay *r, uint64_t end,
    void (*cb)(struct proxy_relay *, int, const union conf_addr *))
{
	h->r = r;
	h->cb = cb;
	h->end = end;
	evtimer_set(&h->nev, proxy_happy_timer, h);
	h->started = 1;
	proxy_happy_next(h);
}

/*
 * Start an attempt at the next address, with a socket made as the route
 * says; or, with none left or no time left and none in flight, fail.
 */
static void
proxy_happy_next(struct proxy_happy *h)
{
	struct proxy_attempt	*a = NULL;
	struct timeval		 tv;
	int			 i;

	if (h->next >= h->naddrs || proxy_now() >= h->end) {
		/* Those in flight may still connect. */
		if (h->inflight == 0)
			proxy_happy_failed(h);
		return;
	}
	for (i = 0; i < PROXY_ATTEMPTS && a == NULL; i++)
		if (!h->att[i].busy)
			a = &h->att[i];
	/*
	 * A connection is counted as two descriptors: a second attempt
	 * takes one more, so it waits for one to end when they are short.
	 */
	if (a == NULL || (h->inflight > 0 && !proxy_fd_room(1)))
		return;		/* the next starts when one ends */
	memset(a, 0, sizeof(*a));
	a->busy = 1;
	a->h = h;
	a->fd = -1;
	a->dial.dst = h->addrs[h->next++];
	h->inflight++;
	evtimer_del(&h->nev);
	if (h->next < h->naddrs) {
		tv.tv_sec = conf->attempt_delay_ms / 1000;
		tv.tv_usec = (conf->attempt_delay_ms % 1000) * 1000;
		if (evtimer_add(&h->nev, &tv) == -1)
			fatal("%s: evtimer_add", __func__);
	}
	/* The socket may come at once and its callback end it all. */
	proxy_dial_socket(&a->dial, h->r, proxy_happy_sock);
}

/* The last attempt started long enough ago: the next one starts. */
static void
proxy_happy_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	proxy_happy_next(arg);
}

/* Every attempt failed, or the time ran out: the client is reset. */
static void
proxy_happy_failed(struct proxy_happy *h)
{
	if (h->next < h->naddrs || (h->refused < h->naddrs &&
	    h->unreach < h->naddrs && h->timedout > 0))
		proxy_fail(IPPROTO_TCP, CTL_FAIL_DIAL_TIMEOUT);
	else
		proxy_fail(IPPROTO_TCP, h->refused == h->naddrs ?
		    CTL_FAIL_DIAL_REFUSED : CTL_FAIL_DIAL_ERROR);
	/* Its own rate: the lines of each address stay whole. */
	if (h->next < h->naddrs)
		log_rate(&proxy_rl_happy_why, LOG_INFO,
		    "%s: dial timed out, %d address(es) not tried; reset",
		    proxy_relay_flow(h->r), h->naddrs - h->next);
	else
		/* The client learns it as the server would. */
		log_rate(&proxy_rl_happy_why, LOG_INFO, "%s: %s; reset",
		    proxy_relay_flow(h->r), h->refused == h->naddrs ?
		    "every address refused" : h->unreach == h->naddrs ?
		    "every address unreachable" : h->timedout > 0 ?
		    "dial timed out" : "every address failed");
	h->cb(h->r, -1, NULL);
}

/* An attempt's socket, or -1: that attempt failed, the next may not. */
static void
proxy_happy_sock(struct proxy_dial *d, int s)
{
	struct proxy_attempt	*a = (struct proxy_attempt *)d;
	struct proxy_happy	*h = a->h;
	struct timeval		 tv;
	uint64_t		 now, left, share;
	int			 off = 0;

	if (s == -1) {
		proxy_happy_end(a);
		proxy_happy_next(h);
		return;
	}
	/*
	 * The handshake's last ACK is held for the first bytes the relay
	 * sends (proxy_tcp_connected()), as haproxy's tcp-smart-connect.
	 */
	setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof(off));
	if (connect(s, &d->dst.sa, conf_addr_len(&d->dst)) == -1 &&
	    errno != EINPROGRESS) {
		log_rate(&proxy_rl_happy, LOG_INFO, "%s: dial %s: %s",
		    proxy_relay_flow(h->r), proxy_sa_fmt(&d->dst),
		    strerror(errno));
		/* Say, an IPv6 address where the gateway has no route. */
		if (errno == ENETUNREACH || errno == EHOSTUNREACH)
			h->unreach++;
		close(s);
		proxy_happy_end(a);
		proxy_happy_next(h);
		return;
	}
	now = proxy_now();
	left = h->end > now ? h->end - now : 0;
	share = left / (h->naddrs - h->next + 1);
	if (share < PROXY_DIAL_MIN_MS)
		share = left < PROXY_DIAL_MIN_MS ? left : PROXY_DIAL_MIN_MS;
	tv.tv_sec = share / 1000;
	tv.tv_usec = (share % 1000) * 1000;
	a->fd = s;
	event_set(&a->ev, s, EV_WRITE, proxy_happy_dialled, a);
	if (event_add(&a->ev, &tv) == -1)
		fatal("%s: event_add", __func__);
}

/* An attempt connected, failed or timed out. */
static void
proxy_happy_dialled(int fd, short ev, void *arg)
{
	struct proxy_attempt	*a = arg;
	struct proxy_happy	*h = a->h;
	const char		*why = NULL;
	socklen_t		 len = sizeof(int);
	int			 error = 0, s;

	if (ev & EV_TIMEOUT) {
		why = "timed out";
		h->timedout++;
	} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		why = strerror(errno);
	else if (error != 0)
		why = strerror(error);
	if (error == ECONNREFUSED)
		h->refused++;
	if (error == ENETUNREACH || error == EHOSTUNREACH)
		h->unreach++;
	if (why != NULL) {
		log_rate(&proxy_rl_happy, LOG_INFO, "%s: dial %s: %s",
		    proxy_relay_flow(h->r), proxy_sa_fmt(&a->dial.dst), why);
		close(a->fd);
		proxy_happy_end(a);
		proxy_happy_next(h);
		return;
	}
	/* The winner: the others go. */
	s = a->fd;
	a->fd = -1;
	proxy_happy_end(a);
	proxy_dial_happy_stop(h);
	h->cb(h->r, s, &a->dial.dst);
}

/* An attempt over, its socket closed or taken. */
static void
proxy_happy_end(struct proxy_attempt *a)
{
	a->busy = 0;
	a->h->inflight--;
}

/* Every attempt still in flight is given up, and no new one starts. */
void
proxy_dial_happy_stop(struct proxy_happy *h)
{
	struct proxy_attempt	*a;
	int			 i;

	if (!h->started)
		return;
	evtimer_del(&h->nev);
	for (i = 0; i < PROXY_ATTEMPTS; i++) {
		a = &h->att[i];
		if (!a->busy)
			continue;
		proxy_dial_cancel(&a->dial);
		if (a->fd != -1) {
			event_del(&a->ev);
			close(a->fd);
		}
		proxy_happy_end(a);
	}
}
