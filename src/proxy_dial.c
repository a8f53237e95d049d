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
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"
#include "rules.h"

static struct log_rate	 proxy_rl_dial_sock;

static void	proxy_dial_done(struct proxy_dial *, int, const char *);
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
