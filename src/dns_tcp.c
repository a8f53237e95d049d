/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns_tcp.c: the dns process's DNS-over-TCP clients.  It owns the TCP
 * listeners, accepts clients within the global and per-host limits,
 * reads whole length-prefixed queries under the per-query deadline and
 * the idle timeout, hands each to dns_handle(), and lets a client go
 * when its answers are out or it misbehaves.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "dns.h"
#include "log.h"
#include "proc.h"
#include "resolve.h"
#include "store.h"
#include "upstream.h"
#include "wire.h"

#define DNS_TCP_OUT_MAX		(256 * 1024)	/* unread answers */

static struct dns_listener	 dns_tcpl[CONF_MAX_DNS_LISTEN];
static int			 dns_ntcpl;
static struct event		 dns_tcp_ev_resume;
static TAILQ_HEAD(, dns_tcp)	 dns_tcp_clients =
    TAILQ_HEAD_INITIALIZER(dns_tcp_clients);
static uint32_t			 dns_ntcp;
static struct log_rate		 dns_rl_tcp_full;
static struct log_rate		 dns_rl_tcp_slow;
static struct log_rate		 dns_rl_tcp_bad;
static time_t			 dns_tcp_warned;

static uint32_t	dns_tcp_count(const struct sockaddr_in *);
static void	dns_tcp_accept(int, short, void *);
static void	dns_tcp_pause(void);
static void	dns_tcp_resume(int, short, void *);
static void	dns_tcp_read(struct bufferevent *, void *);
static void	dns_tcp_write(struct bufferevent *, void *);
static void	dns_tcp_event(struct bufferevent *, short, void *);
static void	dns_tcp_free(struct dns_tcp *);
static void	dns_tcp_deadline(int, short, void *);

/* Listen on the TCP sockets the parent opened. */
void
dns_tcp_init(const int *fds, int nfds)
{
	int	i;

	for (i = 0; i < nfds; i++) {
		dns_tcpl[i].fd = fds[i];
		event_set(&dns_tcpl[i].ev, dns_tcpl[i].fd,
		    EV_READ | EV_PERSIST, dns_tcp_accept, NULL);
		event_add(&dns_tcpl[i].ev, NULL);
	}
	dns_ntcpl = nfds;
	evtimer_set(&dns_tcp_ev_resume, dns_tcp_resume, NULL);
}

/*
 * Out of descriptors or memory: the listeners rest for a second rather
 * than wake the loop for every connection waiting in their queues.
 */
static void
dns_tcp_pause(void)
{
	struct timeval	tv = { 1, 0 };
	int		i;

	if (evtimer_pending(&dns_tcp_ev_resume, NULL))
		return;
	for (i = 0; i < dns_ntcpl; i++)
		event_del(&dns_tcpl[i].ev);
	evtimer_add(&dns_tcp_ev_resume, &tv);
}

static void
dns_tcp_resume(int fd, short ev, void *arg)
{
	int	i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < dns_ntcpl; i++)
		event_add(&dns_tcpl[i].ev, NULL);
}

/* TCP clients open from the address of client. */
static uint32_t
dns_tcp_count(const struct sockaddr_in *client)
{
	struct dns_tcp	*t;
	uint32_t	 n = 0;

	TAILQ_FOREACH(t, &dns_tcp_clients, entry)
		if (t->client.sin_addr.s_addr == client->sin_addr.s_addr)
			n++;
	return (n);
}

static void
dns_tcp_accept(int fd, short ev, void *arg)
{
	struct dns_tcp		*t;
	struct sockaddr_in	 client;
	struct timeval		 tv;
	socklen_t		 len = sizeof(client);
	struct linger		 rst = { 1, 0 };
	time_t			 now;
	char			 from[32];
	int			 s;

	(void)ev;
	(void)arg;
	if ((s = accept4(fd, (struct sockaddr *)&client, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_rate(&dns_rl_tcp_full, LOG_ERR,
			    "DNS: accept: %s", strerror(errno));
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			dns_tcp_pause();
		return;
	}
	if (dns_ntcp >= conf->max_dns_tcp) {
		log_rate(&dns_rl_tcp_full, LOG_DEBUG, "DNS: %u TCP clients "
		    "already, refusing one", dns_ntcp);
		close(s);
		return;
	}
	/* One host may not take all the TCP clients' places. */
	if (dns_tcp_count(&client) >= conf->client_dns_tcp) {
		dns_stats.tcp_client_limit++;
		now = time(NULL);
		if (now - dns_tcp_warned >= DNS_WARN_INTERVAL) {
			log_warnx("DNS: %s has %u TCP connections open, its "
			    "limit; refusing more", inet_ntop(AF_INET,
			    &client.sin_addr, from, sizeof(from)),
			    conf->client_dns_tcp);
			dns_tcp_warned = now;
		}
		/* A reset: the client knows at once, no TIME_WAIT here. */
		(void)setsockopt(s, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		close(s);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->bev = bufferevent_socket_new(dns_base, s,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_rate(&dns_rl_tcp_full, LOG_ERR, "DNS: TCP client: %s",
		    strerror(errno));
		free(t);
		close(s);
		return;
	}
	TAILQ_INIT(&t->queries);
	evtimer_set(&t->ev_query, dns_tcp_deadline, t);
	t->client = client;
	t->refused = !dns_client_allowed(&client);
	tv.tv_sec = conf->dns_tcp_idle_ms / 1000;
	tv.tv_usec = (conf->dns_tcp_idle_ms % 1000) * 1000;
	bufferevent_setcb(t->bev, dns_tcp_read, dns_tcp_write, dns_tcp_event,
	    t);
	bufferevent_set_timeouts(t->bev, &tv, &tv);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&dns_tcp_clients, t, entry);
	dns_ntcp++;
}

/*
 * Whole queries off the connection.  A query has conf->dns_tcp_query_ms
 * from its first byte to its last, however slowly it trickles in; a
 * message too short for a DNS header (a stream of zeros) or one that no
 * resolver sends ends the connection.
 */
static void
dns_tcp_read(struct bufferevent *bev, void *arg)
{
	struct dns_tcp	*t = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct timeval	 tv;
	uint8_t		 prefix[2], *msg;
	size_t		 len;
	char		 from[32];

	for (;;) {
		if (t->closing) {
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    DNS_TCP_OUT_MAX) {
			/* It asks but does not read: wait for it to. */
			bufferevent_disable(bev, EV_READ);
			break;
		}
		if (evbuffer_copyout(in, prefix, 2) != 2)
			break;
		len = wire_get16(prefix);
		if (len < WIRE_HDR_SIZE) {
			log_rate(&dns_rl_tcp_bad, LOG_INFO, "DNS: %s: a TCP "
			    "message of %zu bytes, dropping the client",
			    conf_fmt_addr(&t->client, from, sizeof(from)),
			    len);
			dns_tcp_free(t);
			return;
		}
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		if ((msg = evbuffer_pullup(in, len)) == NULL) {
			dns_tcp_free(t);
			return;
		}
		evtimer_del(&t->ev_query);
		switch (dns_handle(msg, len, t, -1, &t->client)) {
		case DNS_NEXT_READ:
			break;
		case DNS_NEXT_DROP:
			log_rate(&dns_rl_tcp_bad, LOG_INFO, "DNS: %s: not a "
			    "query over TCP, dropping the client",
			    conf_fmt_addr(&t->client, from, sizeof(from)));
			dns_tcp_free(t);
			return;
		case DNS_NEXT_CLOSE:
			/* Its answer goes out first; see dns_tcp_write(). */
			t->closing = 1;
			bufferevent_disable(bev, EV_READ);
			break;
		}
		evbuffer_drain(in, len);
	}
	if (t->closing) {
		dns_tcp_write(bev, t);
		return;
	}
	/* The first bytes of a query: its clock starts. */
	if (evbuffer_get_length(in) > 0 &&
	    !evtimer_pending(&t->ev_query, NULL)) {
		tv.tv_sec = conf->dns_tcp_query_ms / 1000;
		tv.tv_usec = (conf->dns_tcp_query_ms % 1000) * 1000;
		evtimer_add(&t->ev_query, &tv);
	}
}

static void
dns_tcp_write(struct bufferevent *bev, void *arg)
{
	struct dns_tcp	*t = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	/* Told to go, and its last answer is out. */
	if (t->closing) {
		if (TAILQ_EMPTY(&t->queries))
			dns_tcp_free(t);
		return;
	}
	/* Drained: a client we stopped reading from may ask again. */
	bufferevent_enable(bev, EV_READ);
}

/* A query that took too long to arrive: the client goes. */
static void
dns_tcp_deadline(int fd, short ev, void *arg)
{
	struct dns_tcp	*t = arg;
	char		 from[32];

	(void)fd;
	(void)ev;
	log_rate(&dns_rl_tcp_slow, LOG_INFO, "DNS: %s: no whole TCP query "
	    "within %ums, dropping the client", conf_fmt_addr(&t->client,
	    from, sizeof(from)), conf->dns_tcp_query_ms);
	dns_tcp_free(t);
}

static void
dns_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_rate(&dns_rl_tcp_slow, LOG_DEBUG, "DNS: idle TCP client "
		    "dropped");
	dns_tcp_free(arg);
}

static void
dns_tcp_free(struct dns_tcp *t)
{
	struct dns_query	*q;

	while ((q = TAILQ_FIRST(&t->queries)) != NULL) {
		TAILQ_REMOVE(&t->queries, q, entry);
		upstream_cancel(q->req);
		resolve_cancel(q->vreq);
		store_cancel(q->sreq);
		ldns_pkt_free(q->query);
		free(q->ans);
		free(q);
	}
	evtimer_del(&t->ev_query);
	TAILQ_REMOVE(&dns_tcp_clients, t, entry);
	dns_ntcp--;
	bufferevent_free(t->bev);
	free(t);
}
