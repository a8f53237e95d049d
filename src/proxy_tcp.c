/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_tcp.c: the proxy process's TCP connections.  It owns the
 * transparent TCP listener, accepting in batches and pausing when the
 * descriptors run short, and each connection from accept to close: the
 * wait for what is known of its virtual address, the dial (proxy_dial.c)
 * of the real addresses of both families, or of the SOCKS5 or HTTP server
 * the route names and then its handshake (proxy_via.c), and the relay,
 * half-close included (with its own, shorter idle timeout).
 *
 * Each direction starts a burst of data with recv(2) and send(2) through
 * one buffer shared by all connections: a request or an answer that fits
 * moves in two system calls, with no pipe.  A read that fills the buffer
 * means bulk, and the direction takes a pipe from the pool (proxy_pipe.c)
 * and splices until the source has nothing more, then gives the empty
 * pipe back.  An idle connection so holds two descriptors, its sockets.
 * Bytes a sink did not take are kept, in the pipe or, on the copy path,
 * in a buffer of the direction's own (at most one read's worth), and the
 * source is not read again until they are gone.  Without descriptors for
 * a pipe the copy path carries bulk too.
 *
 * The client's first bytes, when they came during the dial, go to the
 * server with the handshake's last ACK, which the dial asks the kernel
 * to hold (TCP_QUICKACK off, as haproxy's tcp-smart-connect): a packet
 * less for every connection, and a server that wakes for it finds the
 * request there.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"

#define PROXY_SPLICE_ROUNDS	16	/* splices per direction and wake-up */
#define PROXY_SPLICE_MAX	(1024 * 1024)	/* the pipe takes what fits */
#define PROXY_PAUSE_MS		1000	/* accept off after EMFILE */
#define PROXY_COPY_SIZE		16384	/* a read on the copy path */

/* One direction of a TCP connection: source to pipe or buffer to sink. */
struct proxy_dir {
	int			 pipe[2];	/* -1: none held */
	uint8_t			 pipebig;	/* it was grown */
	size_t			 inpipe;	/* read, not written yet */
	unsigned char		*buf;		/* copied, not written yet */
	size_t			 bufoff;
	size_t			 buflen;
	uint64_t		*bytes;		/* in r: written to the sink */
	short			 want;		/* on the source or the sink */
	uint8_t			 bulk;		/* splicing this burst */
	uint8_t			 eof;		/* the source said EOF */
	uint8_t			 shut;		/* and the sink heard of it */
};

struct proxy_tcp {
	struct proxy_relay	 r;		/* first: the lists hold it */
	int			 cfd;		/* client */
	int			 sfd;		/* server, -1 until dialled */
	struct event		 cev;
	struct event		 sev;
	short			 cevents;	/* what cev and sev watch */
	short			 sevents;
	struct proxy_happy	*happy;		/* the dial, while it lasts */
	struct proxy_dir	 up;		/* client to server */
	struct proxy_dir	 down;		/* server to client */
	uint64_t		 dial_end;	/* ms */
	struct proxy_via	*via;		/* the server's handshake */
	struct event		 hcev;		/* idle once half-closed */
	uint8_t			 halfclosed;	/* hcev is set */
};

static struct event		 proxy_ev_tcp;
static struct event		 proxy_ev_resume;
static uint32_t			 proxy_ntcp;
static int			 proxy_tcp_full;	/* accept off */
static unsigned char		 proxy_copy[PROXY_COPY_SIZE];
static struct log_rate	 proxy_rl_tcp_miss, proxy_rl_tcp_full,
				 proxy_rl_tcp_fd, proxy_rl_tcp_virt,
				 proxy_rl_tcp_err, proxy_rl_tcp_via;

static void	proxy_tcp_accept(int, short, void *);
static void	proxy_tcp_new(int, const struct sockaddr_in *);
static void	proxy_tcp_resume(int, short, void *);
static void	proxy_tcp_answer(struct proxy_wait *, const char *,
		    const union conf_addr *, size_t, const struct rule_route *);
static void	proxy_tcp_dialled(struct proxy_relay *, int,
		    const union conf_addr *);
static int	proxy_tcp_via(const struct proxy_tcp *);
static void	proxy_tcp_handshake(struct proxy_tcp *);
static void	proxy_tcp_shaken(void *, const union conf_addr *,
		    const char *);
static void	proxy_tcp_connected(struct proxy_tcp *);
static void	proxy_tcp_io(int, short, void *);
static void	proxy_tcp_failed(struct proxy_tcp *);
static void	proxy_tcp_settle(struct proxy_tcp *, int);
static int	proxy_tcp_pump(struct proxy_tcp *, struct proxy_dir *);
static void	proxy_tcp_watch(struct proxy_tcp *, struct event *, int,
		    short *, short);
static void	proxy_tcp_halfclosed(struct proxy_tcp *);
static void	proxy_tcp_halfidle(int, short, void *);
static void	proxy_tcp_close(struct proxy_tcp *, int);
static void	proxy_tcp_rst(int);
static int	proxy_tcp_copy(struct proxy_dir *, int, int);
static int	proxy_tcp_splice(struct proxy_dir *, int, int);

/* Accept on the transparent listener from now on. */
void
proxy_tcp_listen(int fd)
{
	int	on = 1;

	/*
	 * Segments leave as they came, no delay of the proxy's own: set on
	 * the listener, every connection accepted has it (Linux copies it),
	 * one system call fewer a connection.
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		log_warn("%s: TCP_NODELAY", __func__);
	event_set(&proxy_ev_tcp, fd, EV_READ | EV_PERSIST, proxy_tcp_accept,
	    NULL);
	if (event_add(&proxy_ev_tcp, NULL) == -1)
		fatal("%s: event_add", __func__);
	evtimer_set(&proxy_ev_resume, proxy_tcp_resume, NULL);
}

static void
proxy_tcp_accept(int fd, short ev, void *arg)
{
	struct timeval		 tv = { PROXY_PAUSE_MS / 1000, 0 };
	struct sockaddr_in	 client[PROXY_ACCEPT_BATCH];
	socklen_t		 len;
	int			 i, n = 0, s[PROXY_ACCEPT_BATCH];

	(void)ev;
	(void)arg;
	for (i = 0; i < PROXY_ACCEPT_BATCH; i++) {
		if (!proxy_fd_room(PROXY_TCP_FDS * (n + 1))) {
			log_rate(&proxy_rl_tcp_fd, LOG_ERR,
			    "TCP: %u connections and %u UDP sessions hold "
			    "all the descriptors; accepting again when one "
			    "closes", proxy_ntcp + n, proxy_udp_count());
			event_del(&proxy_ev_tcp);
			proxy_tcp_full = 1;
			break;
		}
		len = sizeof(client[n]);
		if ((s[n] = accept4(fd, (struct sockaddr *)&client[n], &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
			n++;
			continue;
		}
		if (errno == ECONNABORTED || errno == EINTR)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			/* Level-triggered: it would spin until then. */
			log_rate(&proxy_rl_tcp_fd, LOG_ERR,
			    "TCP: accept: %s; pausing for 1s",
			    strerror(errno));
			event_del(&proxy_ev_tcp);
			evtimer_add(&proxy_ev_resume, &tv);
		} else if (errno != EAGAIN)
			log_rate(&proxy_rl_tcp_err, LOG_ERR,
			    "TCP: accept: %s", strerror(errno));
		break;
	}
	if (n == 0)
		return;
	proxy_peer_drain();
	for (i = 0; i < n; i++)
		proxy_tcp_new(s[i], &client[i]);
}

static void
proxy_tcp_new(int s, const struct sockaddr_in *client)
{
	struct sockaddr_in	 virt;
	struct proxy_tcp	*c;
	socklen_t		 len;

	len = sizeof(virt);
	if (getsockname(s, (struct sockaddr *)&virt, &len) == -1 ||
	    virt.sin_family != AF_INET) {
		log_rate(&proxy_rl_tcp_err, LOG_ERR,
		    "TCP: getsockname: %s", strerror(errno));
		close(s);
		return;
	}
	if (!proxy_client_allowed("TCP", client, &virt)) {
		proxy_tcp_rst(s);
		return;
	}
	if (proxy_ntcp >= conf->max_conn) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_LIMIT);
		log_rate(&proxy_rl_tcp_full, LOG_ERR,
		    "TCP: %u connections open, refusing more", proxy_ntcp);
		proxy_tcp_rst(s);
		return;
	}
	if (!proxy_in_range(&virt)) {
		/* Dialled the listener itself, not through TPROXY. */
		proxy_fail(IPPROTO_TCP, CTL_FAIL_NOT_VIRTUAL);
		log_rate(&proxy_rl_tcp_virt, LOG_INFO,
		    "%s: not a virtual address",
		    proxy_flow("TCP", client, NULL, &virt));
		proxy_tcp_rst(s);
		return;
	}
	if (!proxy_client_take(client, IPPROTO_TCP)) {
		proxy_tcp_rst(s);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->r.pa = proxy_addr_get(virt.sin_addr.s_addr)) == NULL) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_INTERNAL);
		log_rate(&proxy_rl_tcp_err, LOG_ERR, "TCP: %s",
		    strerror(errno));
		free(c);
		proxy_client_put(client, IPPROTO_TCP);
		proxy_tcp_rst(s);
		return;
	}
	c->r.state = PROXY_LOOKUP;
	c->r.proto = IPPROTO_TCP;
	c->cfd = s;
	c->sfd = -1;
	c->up.pipe[0] = c->up.pipe[1] = -1;
	c->up.bytes = &c->r.sent;
	c->down.pipe[0] = c->down.pipe[1] = -1;
	c->down.bytes = &c->r.received;
	c->r.client = *client;
	c->r.virt = virt;
	c->r.wait.cb = proxy_tcp_answer;
	c->r.wait.arg = c;
	c->r.wait.client = client->sin_addr.s_addr;
	clock_gettime(CLOCK_MONOTONIC, &c->r.start);
	proxy_ntcp++;
	proxy_addr_wait(c->r.pa, &c->r.wait);
}

static void
proxy_tcp_resume(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (event_add(&proxy_ev_tcp, NULL) == -1)
		fatal("%s: event_add", __func__);
}

/* Whether accepting stopped until a close gives descriptors back. */
int
proxy_tcp_paused(void)
{
	return (proxy_tcp_full);
}

/* A close gave them back: accept again. */
void
proxy_tcp_unpause(void)
{
	proxy_tcp_full = 0;
	if (event_add(&proxy_ev_tcp, NULL) == -1)
		fatal("%s: event_add", __func__);
}

/* Connections open, relaying or not. */
uint32_t
proxy_tcp_count(void)
{
	return (proxy_ntcp);
}

/*
 * The domain, real addresses and route of the connection's; no domain: a
 * miss.
 */
static void
proxy_tcp_answer(struct proxy_wait *w, const char *domain,
    const union conf_addr *addrs, size_t naddrs,
    const struct rule_route *route)
{
	struct proxy_tcp	*c = w->arg;

	if (domain == NULL) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_NO_DOMAIN);
		log_rate(&proxy_rl_tcp_miss, LOG_INFO,
		    "%s: no domain has this address",
		    proxy_flow("TCP", &c->r.client, NULL, &c->r.virt));
		proxy_tcp_close(c, 1);
		return;
	}
	if ((c->r.domain = strdup(domain)) == NULL ||
	    proxy_relay_route(&c->r, route) == -1) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_INTERNAL);
		log_rate(&proxy_rl_tcp_err, LOG_ERR, "TCP: %s",
		    strerror(errno));
		proxy_tcp_close(c, 1);
		return;
	}
	if (c->r.route != NULL && c->r.route->action == RULE_BLOCK) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_BLOCKED);
		log_rate(&proxy_rl_tcp_miss, LOG_INFO,
		    "%s: blocked by rule %u; reset", proxy_relay_flow(&c->r),
		    c->r.route->rule);
		proxy_tcp_close(c, 1);
		return;
	}
	/*
	 * The dial's state (its addresses, its attempts) is most of what a
	 * connection would hold: it is held while the dial lasts.
	 */
	if ((c->happy = calloc(1, sizeof(*c->happy))) == NULL) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_INTERNAL);
		log_rate(&proxy_rl_tcp_err, LOG_ERR, "TCP: %s",
		    strerror(errno));
		proxy_tcp_close(c, 1);
		return;
	}
	if (proxy_tcp_via(c)) {
		/* The server the route names, which resolves the name. */
		c->happy->addrs[0] = c->r.route->server;
		c->happy->naddrs = 1;
	} else if (naddrs == 0) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_NO_ADDRESS);
		log_rate(&proxy_rl_tcp_miss, LOG_INFO,
		    "%s: %s; reset", proxy_relay_flow(&c->r),
		    proxy_rcode_why(w->rcode));
		proxy_tcp_close(c, 1);
		return;
	} else if ((c->happy->naddrs = proxy_dest_filter(&c->r, addrs, naddrs,
	    c->happy->addrs)) == 0) {
		/* Only what the destination policy lets it dial, in order. */
		proxy_tcp_close(c, 1);
		return;
	}
	c->r.state = PROXY_DIAL;
	c->dial_end = proxy_now() + conf->dial_ms;
	/* The callback may close c: it is not used after this. */
	proxy_dial_happy(c->happy, &c->r, c->dial_end, proxy_tcp_dialled);
}

/*
 * The dial is over: connected to the real server, or to the proxy server
 * of the route, whose handshake comes next; or -1, the reason logged.
 */
static void
proxy_tcp_dialled(struct proxy_relay *r, int s, const union conf_addr *sa)
{
	struct proxy_tcp	*c = (struct proxy_tcp *)r;

	if (s == -1) {
		/* Counted and logged with its reason by proxy_dial.c. */
		proxy_tcp_close(c, 1);
		return;
	}
	c->sfd = s;
	c->r.real = *sa;		/* sa is in c->happy */
	free(c->happy);
	c->happy = NULL;
	if (proxy_tcp_via(c))
		proxy_tcp_handshake(c);
	else
		proxy_tcp_connected(c);
}

/* Whether the route goes through a SOCKS5 or HTTP server. */
static int
proxy_tcp_via(const struct proxy_tcp *c)
{
	return (c->r.route != NULL && (c->r.route->via == VIA_SOCKS5 ||
	    c->r.route->via == VIA_HTTP));
}

/* Connected to the server: ask it for the name, in what is left. */
static void
proxy_tcp_handshake(struct proxy_tcp *c)
{
	const char	*why;
	uint64_t	 now = proxy_now();

	c->via = proxy_via_start(c->sfd, PROXY_VIA_CONNECT, c->r.route,
	    c->r.domain, ntohs(c->r.virt.sin_port),
	    c->dial_end > now ? c->dial_end - now : 1, proxy_tcp_shaken, c,
	    &why);
	if (c->via == NULL)
		proxy_tcp_shaken(c, NULL, why);
}

/* The server's answer: a tunnel to relay, or a reset and the reason. */
static void
proxy_tcp_shaken(void *arg, const union conf_addr *bound,
    const char *why)
{
	struct proxy_tcp	*c = arg;

	(void)bound;
	c->via = NULL;
	if (why != NULL) {
		proxy_fail(IPPROTO_TCP, CTL_FAIL_VIA);
		log_rate(&proxy_rl_tcp_via, LOG_INFO, "%s: %s",
		    proxy_relay_flow(&c->r), why);
		proxy_tcp_close(c, 1);
		return;
	}
	proxy_tcp_connected(c);
}

/*
 * Dialled and, through a SOCKS5 or HTTP server, shaken: the relay starts
 * with the client's first bytes, if they came, which carry the
 * handshake's last ACK to the server (the dial asked the kernel to hold
 * it: proxy_happy_sock()), so the server hears the connection and its
 * request in one packet.  With nothing to send the ACK goes now: a server
 * that speaks first must not wait for its delayed-ACK timer.
 */
static void
proxy_tcp_connected(struct proxy_tcp *c)
{
	int	on = 1, n;

	proxy_relay_open(&c->r);

	/* The client's socket has it from the listener. */
	setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->sevents = 0;		/* the dial's one-shot event is over */
	c->down.want = EV_READ;
	if ((n = proxy_tcp_pump(c, &c->up)) == -1) {
		proxy_tcp_failed(c);
		return;
	}
	if (c->r.sent == 0)
		setsockopt(c->sfd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
	proxy_tcp_settle(c, n);
}

static void
proxy_tcp_io(int fd, short ev, void *arg)
{
	struct proxy_tcp	*c = arg;
	struct proxy_dir	*from, *to;
	int			 moved = 0, n;

	/* What reading fd feeds, and what writing to it drains. */
	from = fd == c->cfd ? &c->up : &c->down;
	to = fd == c->cfd ? &c->down : &c->up;
	if (ev & EV_READ) {
		if ((n = proxy_tcp_pump(c, from)) == -1) {
			proxy_tcp_failed(c);
			return;
		}
		moved |= n;
	}
	if (ev & EV_WRITE) {
		if ((n = proxy_tcp_pump(c, to)) == -1) {
			proxy_tcp_failed(c);
			return;
		}
		moved |= n;
	}
	proxy_tcp_settle(c, moved);
}

/* A socket's error, errno: both sides reset. */
static void
proxy_tcp_failed(struct proxy_tcp *c)
{
	log_rate(&proxy_rl_tcp_err, LOG_DEBUG, "%s: %s",
	    proxy_relay_flow(&c->r), strerror(errno));
	proxy_tcp_close(c, 1);
}

/*
 * After a pump: the connection closed when both ways are over, else the
 * half-close timer started at the first EOF and each socket watched for
 * what its directions want.
 */
static void
proxy_tcp_settle(struct proxy_tcp *c, int moved)
{
	if (c->up.shut && c->down.shut) {
		proxy_tcp_close(c, 0);
		return;
	}
	if (moved)
		proxy_relay_touch(&c->r);
	if ((c->up.eof || c->down.eof) && !c->halfclosed)
		proxy_tcp_halfclosed(c);
	proxy_tcp_watch(c, &c->cev, c->cfd, &c->cevents,
	    (c->up.want & EV_READ) | (c->down.want & EV_WRITE));
	proxy_tcp_watch(c, &c->sev, c->sfd, &c->sevents,
	    (c->down.want & EV_READ) | (c->up.want & EV_WRITE));
}

/*
 * One side said EOF: the other has conf->halfclose_ms without a byte
 * moved to finish, not the hours of an open connection's idle timeout,
 * so a peer that never closes does not hold the connection.
 */
static void
proxy_tcp_halfclosed(struct proxy_tcp *c)
{
	struct timeval	tv;

	tv.tv_sec = conf->halfclose_ms / 1000;
	tv.tv_usec = (conf->halfclose_ms % 1000) * 1000;
	evtimer_set(&c->hcev, proxy_tcp_halfidle, c);
	if (evtimer_add(&c->hcev, &tv) == -1)
		fatal("%s: evtimer_add", __func__);
	c->halfclosed = 1;
}

static void
proxy_tcp_halfidle(int fd, short ev, void *arg)
{
	struct proxy_tcp	*c = arg;
	struct timeval		 tv;
	uint64_t		 idle = proxy_now() - c->r.last;

	(void)fd;
	(void)ev;
	if (idle < conf->halfclose_ms) {
		/* Still moving: wait for the rest of its time. */
		tv.tv_sec = (conf->halfclose_ms - idle) / 1000;
		tv.tv_usec = ((conf->halfclose_ms - idle) % 1000) * 1000;
		if (evtimer_add(&c->hcev, &tv) == -1)
			fatal("%s: evtimer_add", __func__);
		return;
	}
	log_debug("%s: idle after half-close", proxy_relay_flow(&c->r));
	proxy_tcp_close(c, 0);
}

/*
 * Move what the source has to the sink until one of them would block, or
 * a short read says the source has given what it had, and say which to
 * wait for in d->want: first what is kept from before, then new bytes by
 * copy or, in a burst, by splice.  The source is read only when nothing
 * is kept, so an EAGAIN from it means it has nothing.  Returns 1 when
 * bytes moved, 0 when none did, -1 on an error of either socket.
 */
static int
proxy_tcp_pump(struct proxy_tcp *c, struct proxy_dir *d)
{
	struct proxy_dir	*other;
	ssize_t			 n;
	int			 src, dst, i, r, moved = 0;

	src = d == &c->up ? c->cfd : c->sfd;
	dst = d == &c->up ? c->sfd : c->cfd;
	d->want = 0;
	if (d->shut)
		return (0);
	for (i = 0; i < PROXY_SPLICE_ROUNDS; i++) {
		if (d->inpipe > 0) {
			n = splice(d->pipe[0], NULL, dst, NULL, d->inpipe,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return (-1);
				d->want = EV_WRITE;
				return (moved);
			}
			d->inpipe -= n;
			*d->bytes += n;
			moved = 1;
			continue;
		}
		if (d->buflen > 0) {
			n = send(dst, d->buf + d->bufoff, d->buflen,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return (-1);
				d->want = EV_WRITE;
				return (moved);
			}
			d->bufoff += n;
			d->buflen -= n;
			*d->bytes += n;
			moved = 1;
			if (d->buflen == 0) {
				free(d->buf);
				d->buf = NULL;
			}
			continue;
		}
		if (d->eof) {
			/*
			 * Drained: pass the EOF on, the other way goes on.
			 * When that way is over too, the close that follows
			 * sends the FIN.
			 */
			proxy_pipe_put(d->pipe, &d->pipebig, 0);
			other = d == &c->up ? &c->down : &c->up;
			if (!other->shut && shutdown(dst, SHUT_WR) == -1 &&
			    errno != ENOTCONN)
				return (-1);
			d->shut = 1;
			return (moved);
		}
		if (d->bulk && d->pipe[0] == -1 &&
		    proxy_pipe_get(d->pipe, &d->pipebig) == -1)
			d->bulk = 0;	/* no descriptors: copy it */
		r = d->bulk ? proxy_tcp_splice(d, src, dst) :
		    proxy_tcp_copy(d, src, dst);
		if (r == -1)
			return (-1);
		if (r == 0)
			return (moved);
		moved = 1;
		if (r == 2)
			return (moved);
	}
	/* Its share of this wake-up is used; the loop calls again. */
	d->want = d->inpipe > 0 || d->buflen > 0 ? EV_WRITE : EV_READ;
	return (moved);
}

/*
 * One read into the shared buffer and one write of it; what the sink did
 * not take is kept.  A full read starts a burst: the next reads splice.
 * Returns 1 when bytes came, 2 when they came short of the buffer and all
 * went on, 0 when the source has none for now, -1 on an error.  With 2
 * and 0 d->want is set.  A short read took what the socket had: a read
 * now would mostly say EAGAIN (a request, an answer), so the loop tells
 * when more comes, the EOF too.
 */
static int
proxy_tcp_copy(struct proxy_dir *d, int src, int dst)
{
	ssize_t	n, w;

	n = recv(src, proxy_copy, sizeof(proxy_copy), MSG_DONTWAIT);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			return (-1);
		d->want = EV_READ;
		return (0);
	}
	if (n == 0) {
		d->eof = 1;
		return (1);
	}
	if ((w = send(dst, proxy_copy, n, MSG_DONTWAIT | MSG_NOSIGNAL)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR)
			return (-1);
		w = 0;
	}
	*d->bytes += w;
	if (w < n) {
		if ((d->buf = malloc(n - w)) == NULL)
			return (-1);
		memcpy(d->buf, proxy_copy + w, n - w);
		d->bufoff = 0;
		d->buflen = n - w;
	}
	if (n == (ssize_t)sizeof(proxy_copy))
		d->bulk = 1;
	else if (w == n) {
		d->want = EV_READ;
		return (2);
	}
	return (1);
}

/*
 * Fill the direction's empty pipe from the source.  When the source has
 * nothing, the burst is over and the empty pipe goes back to the pool.
 * Returns as proxy_tcp_copy().
 */
static int
proxy_tcp_splice(struct proxy_dir *d, int src, int dst)
{
	ssize_t	n;

	(void)dst;
	n = splice(src, NULL, d->pipe[1], NULL, PROXY_SPLICE_MAX,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n == -1) {
		if (errno == EINTR)
			return (1);
		if (errno != EAGAIN)
			return (-1);
		proxy_pipe_put(d->pipe, &d->pipebig, 0);
		d->bulk = 0;
		d->want = EV_READ;
		return (0);
	}
	if (n == 0)
		d->eof = 1;
	else
		d->inpipe += n;
	return (1);
}

/* Watch fd for want, touching the event only when that changes. */
static void
proxy_tcp_watch(struct proxy_tcp *c, struct event *ev, int fd, short *cur,
    short want)
{
	if (*cur == want)
		return;
	if (*cur != 0)
		event_del(ev);
	*cur = want;
	if (want == 0)
		return;
	event_set(ev, fd, want | EV_PERSIST, proxy_tcp_io, c);
	if (event_add(ev, NULL) == -1)
		fatal("%s: event_add", __func__);
}

/* Close a connection; abort resets both sides instead of closing them. */
static void
proxy_tcp_close(struct proxy_tcp *c, int abort)
{
	switch (c->r.state) {
	case PROXY_DIAL:
		if (c->happy != NULL)
			proxy_dial_happy_stop(c->happy);
		proxy_via_cancel(c->via);
		break;
	case PROXY_RELAY:
		if (c->cevents != 0)
			event_del(&c->cev);
		if (c->sevents != 0)
			event_del(&c->sev);
		if (c->halfclosed)
			evtimer_del(&c->hcev);
		break;
	default:
		break;
	}
	proxy_relay_close(&c->r);
	if (abort) {
		proxy_tcp_rst(c->cfd);
		if (c->sfd != -1)
			proxy_tcp_rst(c->sfd);
	} else {
		close(c->cfd);
		if (c->sfd != -1)
			close(c->sfd);
	}
	proxy_pipe_put(c->up.pipe, &c->up.pipebig, c->up.inpipe);
	proxy_pipe_put(c->down.pipe, &c->down.pipebig, c->down.inpipe);
	free(c->up.buf);
	free(c->down.buf);
	proxy_client_put(&c->r.client, IPPROTO_TCP);
	free(c->happy);
	free(c->r.domain);
	free(c);
	proxy_ntcp--;
	proxy_fd_freed();
}

/* The sweep found it idle too long: closed, not reset. */
void
proxy_tcp_idle(struct proxy_relay *r)
{
	proxy_tcp_close((struct proxy_tcp *)r, 0);
}

/* Close with a reset, so the peer knows at once it was refused. */
static void
proxy_tcp_rst(int s)
{
	struct linger	l = { 1, 0 };

	setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(s);
}
