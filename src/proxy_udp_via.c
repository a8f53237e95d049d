/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_udp_via.c: a UDP session routed through a SOCKS5 server.  Its
 * control connection is dialled as the route says, UDP ASSOCIATE asks
 * for a relay, and the session's socket to that relay takes the place of
 * the real server's (proxy_udp.c adds and strips each datagram's
 * header); the session lasts as long as the control connection.  A
 * session that cannot be set up so is refused and stays, dropping what
 * its client sends, for the unanswered timeout.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"
#include "proxy_udp.h"

static void	proxy_udp_via_sock(struct proxy_dial *, int);
static void	proxy_udp_via_dialled(int, short, void *);
static void	proxy_udp_associated(void *, const union conf_addr *,
		    const char *);
static void	proxy_udp_via_refused(struct proxy_udp *, const char *);
static void	proxy_udp_refused_end(int, short, void *);
static void	proxy_udp_control(int, short, void *);

static struct log_rate	 proxy_rl_udp_via;

/*
 * A route through a server: HTTP CONNECT carries no UDP; SOCKS5 needs a
 * control connection first, whose UDP ASSOCIATE gives the relay.
 */
void
proxy_udp_via(struct proxy_udp *s)
{
	const struct rule_route	*route = s->r.route;

	if (route->via != VIA_SOCKS5) {
		proxy_udp_via_refused(s, "HTTP CONNECT carries no UDP");
		return;
	}
	if ((s->hdr = malloc(PROXY_VIA_UDP_HDR_MAX)) == NULL ||
	    (s->hdrlen = proxy_via_udp_header(s->hdr, PROXY_VIA_UDP_HDR_MAX,
	    s->r.domain, ntohs(s->r.virt.sin_port))) == 0) {
		proxy_udp_via_refused(s, s->hdr == NULL ? strerror(errno) :
		    "a name the server cannot be sent");
		return;
	}
	s->r.real = route->server;
	s->dial.dst = s->r.real;
	s->r.state = PROXY_DIAL;
	s->dial_end = proxy_now() + conf->dial_ms;
	/* A TCP socket, made as the route says, as the relay's will be. */
	s->dial.proto = IPPROTO_TCP;
	proxy_dial_socket(&s->dial, &s->r, proxy_udp_via_sock);
}

/* The control connection's socket, or -1 (proxy_dial.c said why). */
static void
proxy_udp_via_sock(struct proxy_dial *d, int fd)
{
	struct proxy_udp	*s = (struct proxy_udp *)d->r;
	struct timeval		 tv;

	s->dial.proto = 0;
	if (fd == -1) {
		proxy_udp_via_refused(s, "no socket to dial with");
		return;
	}
	s->cfd = fd;
	if (connect(s->cfd, &s->r.real.sa, conf_addr_len(&s->r.real)) == -1 &&
	    errno != EINPROGRESS) {
		proxy_udp_via_refused(s, strerror(errno));
		return;
	}
	tv.tv_sec = conf->dial_ms / 1000;
	tv.tv_usec = (conf->dial_ms % 1000) * 1000;
	event_set(&s->cev, s->cfd, EV_WRITE, proxy_udp_via_dialled, s);
	if (event_add(&s->cev, &tv) == -1)
		fatal("%s: event_add", __func__);
}

static void
proxy_udp_via_dialled(int fd, short ev, void *arg)
{
	struct proxy_udp	*s = arg;
	const char		*why = NULL;
	socklen_t		 len = sizeof(int);
	uint64_t		 now = proxy_now();
	int			 error = 0;

	if (ev & EV_TIMEOUT)
		why = "timed out";
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		why = strerror(errno);
	else if (error != 0)
		why = strerror(error);
	if (why != NULL) {
		proxy_udp_via_refused(s, why);
		return;
	}
	/* The dial timeout covers the handshake too. */
	if ((s->via = proxy_via_start(s->cfd, PROXY_VIA_ASSOCIATE,
	    s->r.route, s->r.domain, 0, s->dial_end > now ?
	    s->dial_end - now : 1, proxy_udp_associated, s, &why)) == NULL)
		proxy_udp_via_refused(s, why);
}

/*
 * The relay the server gave, or why there is none.  The socket to it is
 * made as the route says, and goes on as the real server's would.
 */
static void
proxy_udp_associated(void *arg, const union conf_addr *relay,
    const char *why)
{
	struct proxy_udp	*s = arg;

	s->via = NULL;
	if (why == NULL)
		why = proxy_dest_relay(relay, &s->r.route->server);
	if (why != NULL) {
		proxy_udp_via_refused(s, why);
		return;
	}
	/* The session lasts as long as the control connection. */
	event_set(&s->cev, s->cfd, EV_READ | EV_PERSIST, proxy_udp_control,
	    s);
	s->r.real = *relay;
	s->dial.dst = s->r.real;
	proxy_dial_socket(&s->dial, &s->r, proxy_udp_dial_sock);
}

/*
 * The session is refused: the journal says through what and why.  It
 * stays for the unanswered timeout, dropping what the client sends, so
 * that each datagram is not a new connection to the server.
 */
static void
proxy_udp_via_refused(struct proxy_udp *s, const char *why)
{
	struct timeval		 tv;

	proxy_fail(IPPROTO_UDP, CTL_FAIL_VIA);
	log_rate(&proxy_rl_udp_via, LOG_INFO, "%s: udp %s refused: %s",
	    proxy_flow("UDP", &s->r.client, s->r.domain, &s->r.virt),
	    proxy_via_fmt(s->r.route), why);
	proxy_via_cancel(s->via);
	s->via = NULL;
	if (s->r.state == PROXY_DIAL && s->cfd != -1)
		event_del(&s->cev);
	s->r.state = PROXY_LOOKUP;
	if (s->cfd != -1)
		close(s->cfd);
	s->cfd = -1;
	proxy_udp_unqueue(s);
	s->refused = 1;
	tv.tv_sec = conf->unanswered_ms / 1000;
	tv.tv_usec = (conf->unanswered_ms % 1000) * 1000;
	evtimer_set(&s->nev, proxy_udp_refused_end, s);
	if (evtimer_add(&s->nev, &tv) == -1)
		fatal("%s: evtimer_add", __func__);
}

static void
proxy_udp_refused_end(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	proxy_udp_close(arg);
}

/* The control connection: nothing is expected on it but its end. */
static void
proxy_udp_control(int fd, short ev, void *arg)
{
	struct proxy_udp	*s = arg;
	unsigned char		 buf[512];
	ssize_t			 n;

	(void)ev;
	if ((n = recv(fd, buf, sizeof(buf), 0)) > 0 ||
	    (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	log_debug("%s: the server closed the control connection",
	    proxy_relay_flow(&s->r));
	proxy_udp_close(s);
}
