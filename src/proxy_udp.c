/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_udp.c: the proxy process's UDP sessions, one per client address
 * and port and virtual address and port, kept in a keyed hash table.  It
 * owns the transparent UDP listener, which sees every datagram from the
 * clients, the datagrams queued while a session is set up, and the
 * socket connected to the real server; a reply leaves to its client
 * through the reply socket of the session's virtual address and port
 * (proxy_udp_vsock.c), a batch per system call.  A route through a
 * SOCKS5 server adds the control connection of its UDP ASSOCIATE
 * (proxy_udp_via.c), and the server's relay takes the place of the real
 * server, each datagram with its header.
 *
 * A session lives as long as datagrams flow, until the idle sweep of
 * proxy.c, but two kinds end sooner, on their own timer: one whose server
 * never answered, and one that was a single exchange (a datagram each
 * way, as DNS and NTP are).  At a limit, the global one or the client's
 * own, the least recently active session idle for a second or more is
 * closed for the new one, as conntrack's early drop does, rather than
 * the new one refused.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"
#include "proxy_udp.h"

#define PROXY_UDP_BATCH		32	/* datagrams per system call */
#define PROXY_UDP_ROUNDS	4	/* batches per wake-up and socket */
#define PROXY_UDP_QUEUE		32	/* datagrams held while setting up */
#define PROXY_UDP_QUEUED_MAX	(4 * 1024 * 1024) /* all sessions */
#define PROXY_DGRAM_MAX		65535
#define PROXY_UDP_BUCKETS_MIN	256
#define PROXY_UDP_BUCKETS_MAX	65536
/* A session idle this long may be closed to make room for a new one. */
#define PROXY_UDP_RECYCLE_MS	1000
#define PROXY_UDP_EARLY		8	/* sessions looked at for one */

LIST_HEAD(proxy_udp_list, proxy_udp);

static struct event		 proxy_ev_udp;
static struct proxy_udp_list	*proxy_udp_hash;
static uint32_t			 proxy_udp_mask;
static uint64_t			 proxy_udp_key[2];
static uint32_t			 proxy_nudp;
static uint64_t			 proxy_nrecycled;
static size_t			 proxy_udp_queued;	/* bytes */
static int			 proxy_udp_drained;	/* this batch */
/* One batch of datagrams in flight: 2 MB, touched as far as used. */
static unsigned char		 proxy_bufs[PROXY_UDP_BATCH][PROXY_DGRAM_MAX];
static struct iovec		 proxy_iov[PROXY_UDP_BATCH];
static struct mmsghdr		 proxy_mmsg[PROXY_UDP_BATCH];
/* A batch from the clients, with each one's original destination. */
static unsigned char		 proxy_inbufs[PROXY_UDP_BATCH][PROXY_DGRAM_MAX];
static struct iovec		 proxy_iniov[PROXY_UDP_BATCH];
static struct mmsghdr		 proxy_inmmsg[PROXY_UDP_BATCH];
static struct sockaddr_in	 proxy_infrom[PROXY_UDP_BATCH];
static union {
	struct cmsghdr	hdr;
	unsigned char	buf[CMSG_SPACE(sizeof(struct sockaddr_in))];
}				 proxy_incmsg[PROXY_UDP_BATCH];
static struct log_rate	 proxy_rl_udp_miss, proxy_rl_udp_full,
				 proxy_rl_udp_virt, proxy_rl_udp_dial,
				 proxy_rl_udp_err;

static struct proxy_udp *proxy_udp_find(const struct sockaddr_in *,
		    const struct sockaddr_in *);
static void	proxy_udp_read(int, short, void *);
static int	proxy_udp_client_refused(const struct sockaddr_in *);
static void	proxy_udp_in(const struct sockaddr_in *,
		    const struct sockaddr_in *, const void *, size_t);
static void	proxy_udp_forward(struct proxy_udp *, const void *, size_t);
static void	proxy_udp_answer(struct proxy_wait *, const char *,
		    const union conf_addr *, size_t, const struct rule_route *);
static int	proxy_udp_via_strip(struct proxy_udp *, int);
static void	proxy_udp_server_read(int, short, void *);
static void	proxy_udp_brief(int, short, void *);
static void	proxy_udp_brief_arm(struct proxy_udp *, uint32_t);
static int	proxy_udp_recycle(struct proxy_relay *, int, const char *);

/* The session table: sized and keyed once, at start-up. */
void
proxy_udp_init(void)
{
	uint32_t	n, i;

	/* Sized once: a reload may change the limit, not the table. */
	for (n = PROXY_UDP_BUCKETS_MIN; n < conf->max_sessions &&
	    n < PROXY_UDP_BUCKETS_MAX; n <<= 1)
		;
	if ((proxy_udp_hash = calloc(n, sizeof(*proxy_udp_hash))) == NULL)
		fatal(NULL);
	for (i = 0; i < n; i++)
		LIST_INIT(&proxy_udp_hash[i]);
	proxy_udp_mask = n - 1;
	arc4random_buf(proxy_udp_key, sizeof(proxy_udp_key));
	proxy_udp_vsock_init(n);
}

/* Read the transparent listener from now on. */
void
proxy_udp_listen(int fd)
{
	event_set(&proxy_ev_udp, fd, EV_READ | EV_PERSIST, proxy_udp_read,
	    NULL);
	if (event_add(&proxy_ev_udp, NULL) == -1)
		fatal("%s: event_add", __func__);
}

/* Sessions open, relaying or not. */
uint32_t
proxy_udp_count(void)
{
	return (proxy_nudp);
}

/* The descriptors they hold: one each, and the reply sockets they share. */
uint32_t
proxy_udp_fds(void)
{
	return (proxy_nudp * PROXY_UDP_FDS + proxy_udp_vsock_count());
}

/* Keyed, so that clients cannot aim at one chain of the table. */
uint32_t
proxy_udp_hashkey(const struct sockaddr_in *client,
    const struct sockaddr_in *virt)
{
	uint64_t	h;

	h = ((uint64_t)client->sin_addr.s_addr << 32 |
	    virt->sin_addr.s_addr) ^ proxy_udp_key[0];
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= ((uint64_t)client->sin_port << 16 | virt->sin_port) ^
	    proxy_udp_key[1];
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return ((uint32_t)(h >> 32));
}

static struct proxy_udp *
proxy_udp_find(const struct sockaddr_in *client,
    const struct sockaddr_in *virt)
{
	struct proxy_udp	*s;

	LIST_FOREACH(s, &proxy_udp_hash[proxy_udp_hashkey(client, virt) &
	    proxy_udp_mask], hentry)
		if (s->r.client.sin_addr.s_addr == client->sin_addr.s_addr &&
		    s->r.client.sin_port == client->sin_port &&
		    s->r.virt.sin_addr.s_addr == virt->sin_addr.s_addr &&
		    s->r.virt.sin_port == virt->sin_port)
			return (s);
	return (NULL);
}

/* Datagrams on the transparent listener: every client's. */
static void
proxy_udp_read(int fd, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	proxy_udp_recv(fd, NULL);
}

/*
 * A batch of datagrams from clients, a round or more, to their sessions.
 * virt: where they were sent, or NULL: the listener, where each datagram
 * says its original destination.
 */
void
proxy_udp_recv(int fd, const struct sockaddr_in *virt)
{
	struct sockaddr_in	 dst;
	struct cmsghdr		*cm;
	struct msghdr		*mh;
	int			 i, n, round, found;

	for (round = 0; round < PROXY_UDP_ROUNDS; round++) {
		for (i = 0; i < PROXY_UDP_BATCH; i++) {
			mh = &proxy_inmmsg[i].msg_hdr;
			memset(mh, 0, sizeof(*mh));
			proxy_iniov[i].iov_base = proxy_inbufs[i];
			proxy_iniov[i].iov_len = sizeof(proxy_inbufs[i]);
			mh->msg_name = &proxy_infrom[i];
			mh->msg_namelen = sizeof(proxy_infrom[i]);
			mh->msg_iov = &proxy_iniov[i];
			mh->msg_iovlen = 1;
			if (virt == NULL) {
				mh->msg_control = proxy_incmsg[i].buf;
				mh->msg_controllen =
				    sizeof(proxy_incmsg[i].buf);
			}
		}
		if ((n = recvmmsg(fd, proxy_inmmsg, PROXY_UDP_BATCH,
		    MSG_DONTWAIT, NULL)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_rate(&proxy_rl_udp_err, LOG_ERR,
				    "UDP: recvmmsg: %s", strerror(errno));
			return;
		}
		proxy_udp_drained = 0;
		for (i = 0; i < n; i++) {
			mh = &proxy_inmmsg[i].msg_hdr;
			found = virt != NULL;
			if (virt != NULL)
				dst = *virt;
			for (cm = virt != NULL ? NULL : CMSG_FIRSTHDR(mh);
			    cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
				if (cm->cmsg_level != SOL_IP ||
				    cm->cmsg_type != IP_ORIGDSTADDR ||
				    cm->cmsg_len < CMSG_LEN(sizeof(dst)))
					continue;
				memcpy(&dst, CMSG_DATA(cm), sizeof(dst));
				found = 1;
			}
			if (!found || mh->msg_namelen != sizeof(dst) ||
			    proxy_infrom[i].sin_family != AF_INET ||
			    dst.sin_family != AF_INET)
				continue;
			proxy_udp_in(&proxy_infrom[i], &dst, proxy_inbufs[i],
			    proxy_inmmsg[i].msg_len);
		}
		if (n < PROXY_UDP_BATCH)
			return;
	}
}

/*
 * Why no reply may go to client: the parent refuses the same for the
 * first client of a reply socket; the proxy holds every other to it.
 */
static int
proxy_udp_client_refused(const struct sockaddr_in *client)
{
	uint32_t	a = ntohl(client->sin_addr.s_addr);

	return (client->sin_port == 0 || proxy_in_range(client) ||
	    (a >> 24) == 127 || (a >> 24) == 0 || a == INADDR_BROADCAST ||
	    (a >> 28) >= 0xe || (ntohs(client->sin_port) < IPPORT_RESERVED &&
	    !conf->reply_priv_ports));
}

static void
proxy_udp_in(const struct sockaddr_in *client, const struct sockaddr_in *virt,
    const void *data, size_t len)
{
	struct proxy_udp	*s;
	struct proxy_addr	*pa;
	struct proxy_udp_list	*chain;

	if ((s = proxy_udp_find(client, virt)) != NULL) {
		proxy_udp_forward(s, data, len);
		return;
	}
	if (!proxy_in_range(virt) || virt->sin_port == 0) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_NOT_VIRTUAL);
		log_rate(&proxy_rl_udp_virt, LOG_INFO,
		    "%s: not a virtual address; dropped",
		    proxy_flow("UDP", client, NULL, virt));
		return;
	}
	if (!proxy_client_allowed("UDP", client, virt))
		return;
	/* What the parent would make no reply socket to gets no reply. */
	if (proxy_udp_client_refused(client)) {
		log_rate(&proxy_rl_udp_virt, LOG_INFO,
		    "%s: a client no reply may go to; dropped",
		    proxy_flow("UDP", client, NULL, virt));
		return;
	}
	if (proxy_nudp >= conf->max_sessions &&
	    !proxy_udp_recycle(proxy_relay_oldest(IPPROTO_UDP), 0,
	    "the session limit")) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_LIMIT);
		log_rate(&proxy_rl_udp_full, LOG_ERR,
		    "UDP: %u sessions open, dropping datagrams of new ones",
		    proxy_nudp);
		return;
	}
	/* Room for its reply socket too, which it may have to ask for. */
	if (!proxy_fd_room(PROXY_UDP_FDS + 1) &&
	    !proxy_udp_recycle(proxy_relay_oldest(IPPROTO_UDP), 0,
	    "the descriptors")) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_LIMIT);
		log_rate(&proxy_rl_udp_full, LOG_ERR,
		    "UDP: %u connections and %u sessions hold all the "
		    "descriptors; dropping datagrams of new sessions",
		    proxy_tcp_count(), proxy_nudp);
		return;
	}
	if (proxy_client_full(client, IPPROTO_UDP))
		proxy_udp_recycle(proxy_client_lru_first(client), 1,
		    "its client's limit");
	if (!proxy_client_take(client, IPPROTO_UDP))
		return;
	if ((pa = proxy_addr_get(virt->sin_addr.s_addr)) == NULL) {
		log_rate(&proxy_rl_udp_err, LOG_ERR, "UDP: %s",
		    strerror(errno));
		proxy_client_put(client, IPPROTO_UDP);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_rate(&proxy_rl_udp_err, LOG_ERR, "UDP: %s",
		    strerror(errno));
		proxy_addr_put(pa);
		proxy_client_put(client, IPPROTO_UDP);
		return;
	}
	s->r.pa = pa;
	s->r.state = PROXY_LOOKUP;
	s->r.proto = IPPROTO_UDP;
	s->r.client = *client;
	s->r.virt = *virt;
	s->ufd = s->cfd = -1;
	s->r.wait.cb = proxy_udp_answer;
	s->r.wait.arg = s;
	s->r.wait.client = client->sin_addr.s_addr;
	STAILQ_INIT(&s->queue);
	clock_gettime(CLOCK_MONOTONIC, &s->r.start);
	chain = &proxy_udp_hash[proxy_udp_hashkey(client, virt) &
	    proxy_udp_mask];
	LIST_INSERT_HEAD(chain, s, hentry);
	proxy_nudp++;
	proxy_udp_forward(s, data, len);
	/*
	 * As for TCP: an eviction sent before this datagram is heard first,
	 * once a batch: those of the batch's later datagrams were sent
	 * before them too, and so were there when the batch was read.
	 */
	if (!proxy_udp_drained) {
		proxy_peer_drain();
		proxy_udp_drained = 1;
	}
	proxy_addr_wait(pa, &s->r.wait);
}

/* A datagram from the client: to the server, or queued until there is one. */
static void
proxy_udp_forward(struct proxy_udp *s, const void *data, size_t len)
{
	struct proxy_dgram	*d;
	struct msghdr		 mh;
	struct iovec		 iov[2];
	ssize_t			 n;

	if (s->refused) {
		s->dropped++;
		return;
	}
	if (s->r.state != PROXY_RELAY) {
		if (s->nqueued >= PROXY_UDP_QUEUE ||
		    proxy_udp_queued + len > PROXY_UDP_QUEUED_MAX ||
		    (d = malloc(sizeof(*d) + len)) == NULL) {
			s->dropped++;
			return;
		}
		d->len = len;
		memcpy(d->data, data, len);
		STAILQ_INSERT_TAIL(&s->queue, d, entry);
		s->nqueued++;
		proxy_udp_queued += len;
		return;
	}
	if (s->hdr != NULL) {
		/* Through the SOCKS5 relay: its header, then the datagram. */
		memset(&mh, 0, sizeof(mh));
		iov[0].iov_base = s->hdr;
		iov[0].iov_len = s->hdrlen;
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = len;
		mh.msg_iov = iov;
		mh.msg_iovlen = 2;
		n = sendmsg(s->ufd, &mh, 0);
	} else
		n = send(s->ufd, data, len, 0);
	if (n != -1 && s->nout < 2)
		s->nout++;
	if (n == -1) {
		/* A full socket buffer drops, like the network would. */
		s->dropped++;
		if (errno != EAGAIN && errno != ENOBUFS)
			log_rate(&proxy_rl_udp_err, LOG_DEBUG,
			    "%s: send: %s", proxy_relay_flow(&s->r),
			    strerror(errno));
		return;
	}
	s->r.sent += len;
	proxy_relay_touch(&s->r);
}

/* The domain and real addresses of the session's; no domain: a miss. */
static void
proxy_udp_answer(struct proxy_wait *w, const char *domain,
    const union conf_addr *addrs, size_t naddrs,
    const struct rule_route *route)
{
	struct proxy_udp	*s = w->arg;
	union conf_addr		 allowed[PROXY_ADDRS_MAX];

	if (domain == NULL) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_NO_DOMAIN);
		log_rate(&proxy_rl_udp_miss, LOG_INFO,
		    "%s: no domain has this address; dropped",
		    proxy_flow("UDP", &s->r.client, NULL, &s->r.virt));
		proxy_udp_close(s);
		return;
	}
	if ((s->r.domain = strdup(domain)) == NULL ||
	    proxy_relay_route(&s->r, route) == -1) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_INTERNAL);
		log_rate(&proxy_rl_udp_err, LOG_ERR, "UDP: %s",
		    strerror(errno));
		proxy_udp_close(s);
		return;
	}
	if (s->r.route != NULL && s->r.route->action == RULE_BLOCK) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_BLOCKED);
		log_rate(&proxy_rl_udp_miss, LOG_INFO,
		    "%s: blocked by rule %u; dropped",
		    proxy_relay_flow(&s->r), s->r.route->rule);
		proxy_udp_close(s);
		return;
	}
	if (s->r.route != NULL && s->r.route->via != VIA_DIRECT) {
		proxy_udp_via(s);
		return;
	}
	if (naddrs == 0) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_NO_ADDRESS);
		log_rate(&proxy_rl_udp_miss, LOG_INFO,
		    "%s: %s; dropped", proxy_relay_flow(&s->r),
		    proxy_rcode_why(w->rcode));
		proxy_udp_close(s);
		return;
	}
	/*
	 * The first address the destination policy lets it dial, of the
	 * preferred family if it has one: a datagram tells no failure.
	 */
	if (proxy_dest_filter(&s->r, addrs, naddrs, allowed) == 0) {
		proxy_udp_close(s);
		return;
	}
	s->r.real = allowed[0];
	s->dial.dst = s->r.real;
	s->r.state = PROXY_DIAL;
	/* The socket may come now or from the parent: s is not used after. */
	proxy_dial_socket(&s->dial, &s->r, proxy_udp_dial_sock);
}

/*
 * The socket to the real server, or -1: the route failed.  Connected, it
 * needs the reply socket, which only the parent may bind to virt.
 */
void
proxy_udp_dial_sock(struct proxy_dial *d, int fd)
{
	struct proxy_udp	*s = (struct proxy_udp *)d->r;

	if (fd == -1) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_DIAL_ERROR);
		proxy_udp_close(s);
		return;
	}
	s->ufd = fd;
	if (connect(s->ufd, &s->r.real.sa, conf_addr_len(&s->r.real)) == -1) {
		proxy_fail(IPPROTO_UDP, CTL_FAIL_DIAL_ERROR);
		log_rate(&proxy_rl_udp_dial, LOG_INFO,
		    "%s: dial %s: %s", proxy_relay_flow(&s->r),
		    proxy_sa_fmt(&s->r.real), strerror(errno));
		proxy_udp_close(s);
		return;
	}
	s->r.state = PROXY_SOCK;
	proxy_udp_vsock_get(s);
}

/* The session has both its sockets: it relays, its queue goes first. */
void
proxy_udp_start(struct proxy_udp *s)
{
	struct proxy_dgram	*d;

	proxy_relay_open(&s->r);
	evtimer_set(&s->nev, proxy_udp_brief, s);
	proxy_udp_brief_arm(s, conf->unanswered_ms);

	event_set(&s->uev, s->ufd, EV_READ | EV_PERSIST,
	    proxy_udp_server_read, s);
	if (event_add(&s->uev, NULL) == -1 ||
	    (s->cfd != -1 && event_add(&s->cev, NULL) == -1))
		fatal("%s: event_add", __func__);

	while ((d = STAILQ_FIRST(&s->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->queue, entry);
		s->nqueued--;
		proxy_udp_queued -= d->len;
		proxy_udp_forward(s, d->data, d->len);
		free(d);
	}
}

/*
 * From the real server, to the client through the reply socket, a batch
 * per system call.  What the reply socket cannot take is dropped, as the
 * network would.  Errors are ICMP reports, given once: the next read goes
 * on.
 */
static void
proxy_udp_server_read(int fd, short ev, void *arg)
{
	struct proxy_udp	*s = arg;
	int			 i, n, got, off, r, round, moved = 0;

	(void)ev;
	for (round = 0; round < PROXY_UDP_ROUNDS; round++) {
		for (i = 0; i < PROXY_UDP_BATCH; i++) {
			memset(&proxy_mmsg[i], 0, sizeof(proxy_mmsg[i]));
			proxy_iov[i].iov_base = proxy_bufs[i];
			proxy_iov[i].iov_len = sizeof(proxy_bufs[i]);
			proxy_mmsg[i].msg_hdr.msg_iov = &proxy_iov[i];
			proxy_mmsg[i].msg_hdr.msg_iovlen = 1;
		}
		if ((n = recvmmsg(fd, proxy_mmsg, PROXY_UDP_BATCH,
		    MSG_DONTWAIT, NULL)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_rate(&proxy_rl_udp_err, LOG_DEBUG,
				    "%s: %s", proxy_relay_flow(&s->r),
				    strerror(errno));
			break;
		}
		got = n;
		for (i = 0; i < n; i++)
			proxy_iov[i].iov_len = proxy_mmsg[i].msg_len;
		n = proxy_udp_via_strip(s, n);
		for (i = 0; i < n; i++) {
			proxy_mmsg[i].msg_hdr.msg_name = &s->r.client;
			proxy_mmsg[i].msg_hdr.msg_namelen =
			    sizeof(s->r.client);
		}
		for (off = 0; off < n; off += r) {
			r = sendmmsg(s->vs->fd, proxy_mmsg + off, n - off,
			    MSG_DONTWAIT);
			if (r == -1) {
				if (errno == EAGAIN || errno == ENOBUFS) {
					s->dropped += n - off;
					break;
				}
				s->dropped++;
				r = 1;		/* skip the one that failed */
				continue;
			}
			for (i = off; i < off + r; i++)
				s->r.received += proxy_mmsg[i].msg_len;
			moved += r;
		}
		if (got < PROXY_UDP_BATCH)
			break;
	}
	if (moved == 0)
		return;
	proxy_relay_touch(&s->r);
	/* The first answer: a single exchange ends sooner. */
	if (s->nin == 0 && s->nout <= 1)
		proxy_udp_brief_arm(s, conf->answered_ms);
	s->nin = s->nin + moved > 2 ? 2 : s->nin + moved;
}

/*
 * From a SOCKS5 relay: each datagram loses its header, and one whose
 * header is wrong is dropped.  The batch of n datagrams received, and the
 * number left to send.
 */
static int
proxy_udp_via_strip(struct proxy_udp *s, int n)
{
	ssize_t	h;
	int	i, kept = 0;

	if (s->hdr == NULL)
		return (n);
	for (i = 0; i < n; i++) {
		if ((h = proxy_via_udp_strip(proxy_bufs[i],
		    proxy_mmsg[i].msg_len)) == -1) {
			s->bad++;
			continue;
		}
		proxy_iov[kept].iov_base = proxy_bufs[i] + h;
		proxy_iov[kept].iov_len = proxy_mmsg[i].msg_len - h;
		proxy_mmsg[kept].msg_hdr.msg_iov = &proxy_iov[kept];
		kept++;
	}
	return (kept);
}

/* The datagrams a session queued while it was set up, dropped. */
void
proxy_udp_unqueue(struct proxy_udp *s)
{
	struct proxy_dgram	*d;

	while ((d = STAILQ_FIRST(&s->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->queue, entry);
		s->nqueued--;
		proxy_udp_queued -= d->len;
		s->dropped++;
		free(d);
	}
}

void
proxy_udp_close(struct proxy_udp *s)
{
	proxy_dial_cancel(&s->dial);
	LIST_REMOVE(s, hentry);
	if (s->r.state == PROXY_RELAY) {
		event_del(&s->uev);
		evtimer_del(&s->nev);
	} else if (s->vs != NULL)
		TAILQ_REMOVE(&s->vs->waiting, s, wentry);
	if (s->cfd != -1 && (s->r.state == PROXY_DIAL ||
	    s->r.state == PROXY_RELAY))
		event_del(&s->cev);
	if (s->refused)
		evtimer_del(&s->nev);
	proxy_via_cancel(s->via);
	proxy_relay_close(&s->r);
	proxy_udp_unqueue(s);
	if (s->dropped > 0 || s->bad > 0)
		log_debug("%s: %u datagrams dropped, %u bad from the relay",
		    proxy_relay_flow(&s->r), s->dropped, s->bad);
	if (s->ufd != -1)
		close(s->ufd);
	if (s->vs != NULL)
		proxy_udp_vsock_put(s->vs);
	if (s->cfd != -1)
		close(s->cfd);
	free(s->hdr);
	proxy_client_put(&s->r.client, IPPROTO_UDP);
	free(s->r.domain);
	free(s);
	proxy_nudp--;
	proxy_fd_freed();
}

/*
 * How long a session may stay idle before its own timer closes it: a
 * session whose server never answered, conf->unanswered_ms (one datagram
 * each from many ports to a silent server must not hold a session apiece
 * for long); a single exchange, conf->answered_ms; 0 for a stream, which
 * the sweep alone ends.
 */
static uint32_t
proxy_udp_brief_ms(const struct proxy_udp *s)
{
	if (s->nin == 0)
		return (conf->unanswered_ms);
	if (s->nin == 1 && s->nout <= 1)
		return (conf->answered_ms);
	return (0);
}

/* The timer, due ms after the last datagram. */
static void
proxy_udp_brief_arm(struct proxy_udp *s, uint32_t ms)
{
	struct timeval	tv;
	uint64_t	idle = proxy_now() - s->r.last;

	ms = idle < ms ? ms - idle : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(&s->nev, &tv) == -1)
		fatal("%s: evtimer_add", __func__);
}

static void
proxy_udp_brief(int fd, short ev, void *arg)
{
	struct proxy_udp	*s = arg;
	uint32_t		 ms = proxy_udp_brief_ms(s);

	(void)fd;
	(void)ev;
	if (ms == 0)
		return;
	if (proxy_now() - s->r.last < ms) {
		proxy_udp_brief_arm(s, ms);
		return;
	}
	log_debug("%s: %s", proxy_relay_flow(&s->r), s->nin == 0 ?
	    "no answer from the server" : "a single exchange, idle");
	proxy_udp_close(s);
}

/*
 * At a limit: close r, the least recently active session there (on its
 * client's list when ofclient), if it has been idle long enough; else,
 * as conntrack's early drop, the first of the next few that was a single
 * exchange, one datagram answered by one: it is done unless its client
 * speaks again.  Whether one was closed.
 */
static int
proxy_udp_recycle(struct proxy_relay *r, int ofclient, const char *limit)
{
	struct proxy_udp	*s;
	int			 i;

	if (r != NULL && proxy_now() - r->last < PROXY_UDP_RECYCLE_MS) {
		for (i = 0; r != NULL && i < PROXY_UDP_EARLY; i++) {
			s = (struct proxy_udp *)r;
			if (s->nin == 1 && s->nout <= 1)
				break;
			r = ofclient ? TAILQ_NEXT(r, centry) :
			    TAILQ_NEXT(r, entry);
		}
		if (i == PROXY_UDP_EARLY)
			r = NULL;
	}
	if (r == NULL)
		return (0);
	log_debug("%s: %s, closed for a new session at %s",
	    proxy_relay_flow(r), proxy_now() - r->last <
	    PROXY_UDP_RECYCLE_MS ? "a single exchange" : "idle", limit);
	proxy_nrecycled++;
	proxy_udp_close((struct proxy_udp *)r);
	return (1);
}

/* Sessions closed so far to make room for new ones. */
uint64_t
proxy_udp_recycled(void)
{
	return (proxy_nrecycled);
}

/* The sweep found it idle too long. */
void
proxy_udp_idle(struct proxy_relay *r)
{
	proxy_udp_close((struct proxy_udp *)r);
}
