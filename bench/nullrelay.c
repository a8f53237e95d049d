/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * nullrelay.c: the least a TCP relay in user space does for a connection,
 * as the floor of bench/conn.sh's connection rate.  Each of N threads has
 * its own listener (SO_REUSEPORT) and epoll loop; a connection is accepted,
 * the server dialled without blocking (TCP_NODELAY, as every relay sets),
 * and once the dial is up the bytes are copied both ways with read() and
 * write() through one buffer per direction; an end's EOF is passed on
 * with shutdown(), and both sockets are closed when both ways are over.
 * No journal, no map, no policy, no splice, no timeouts: only what no
 * relay can leave out.
 *
 * usage: nullrelay listen-addr port server-addr port [threads]
 */

#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NR_BUF		16384
#define NR_EVENTS	64
#define NR_THREADS_MAX	64

struct nr_conn;

/* One direction: bytes read from fd, waiting to be written to the peer. */
struct nr_half {
	struct nr_conn	*conn;
	int		 fd;
	int		 eof;		/* read 0: the peer was shut down */
	uint32_t	 events;	/* what epoll waits for on fd */
	size_t		 off, len;
	char		 buf[NR_BUF];
};

struct nr_conn {
	struct nr_half	 h[2];		/* 0: client, 1: server */
	int		 up;		/* the dial is connected */
	struct nr_conn	*next_dead;	/* on the dead, then the free list */
	int		 dead;
};

/*
 * A batch of events may hold more than one for a connection closed by the
 * first: closed connections are put on the free list when the batch is
 * done, and taken again for new ones (no calloc() and no fresh pages of
 * 32 kB a connection, which cost more than the rest of the relay).
 */
static __thread struct nr_conn	*nr_dead, *nr_free;

static struct sockaddr_in	nr_listen, nr_server;

static void	*nr_loop(void *);
static void	 nr_accept(int, int);
static void	 nr_event(int, struct nr_half *, uint32_t);
static int	 nr_flush(struct nr_half *, struct nr_half *);
static void	 nr_interest(int, struct nr_conn *);
static void	 nr_close(struct nr_conn *);
static void	 nr_addr(struct sockaddr_in *, const char *, const char *);

static void
nr_addr(struct sockaddr_in *sin, const char *addr, const char *port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		errx(1, "%s: not an IPv4 address", addr);
}

static void
nr_close(struct nr_conn *c)
{
	close(c->h[0].fd);
	close(c->h[1].fd);
	c->dead = 1;
	c->next_dead = nr_dead;
	nr_dead = c;
}

/*
 * Which events each socket waits for: to read while its buffer is empty
 * and it has not ended, to write while the other way's buffer holds bytes
 * (and the dial's completion, before it is up).
 */
static void
nr_interest(int ep, struct nr_conn *c)
{
	struct epoll_event	 ev;
	struct nr_half		*h, *o;
	int			 i;

	for (i = 0; i < 2; i++) {
		h = &c->h[i];
		o = &c->h[!i];
		memset(&ev, 0, sizeof(ev));
		ev.data.ptr = h;
		if (!c->up) {
			ev.events = i == 1 ? EPOLLOUT : 0;
		} else {
			if (!h->eof && h->len == 0)
				ev.events |= EPOLLIN;
			if (o->len > 0)
				ev.events |= EPOLLOUT;
		}
		if (ev.events == h->events)
			continue;
		h->events = ev.events;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, h->fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
}

/* Write what h holds to o's socket; -1 on an error of the socket. */
static int
nr_flush(struct nr_half *h, struct nr_half *o)
{
	ssize_t	n;

	while (h->len > 0) {
		n = write(o->fd, h->buf + h->off, h->len);
		if (n == -1)
			return (errno == EAGAIN ? 0 : -1);
		h->off += n;
		h->len -= n;
	}
	h->off = 0;
	if (h->eof)
		shutdown(o->fd, SHUT_WR);
	return (0);
}

static void
nr_event(int ep, struct nr_half *h, uint32_t events)
{
	struct nr_conn	*c = h->conn;
	struct nr_half	*o = &c->h[h == &c->h[0]];
	ssize_t		 n;
	int		 e;
	socklen_t	 elen = sizeof(e);

	if (c->dead)
		return;
	if (!c->up) {
		/* The client's socket reports only a hang-up or an error. */
		if (h == &c->h[0] || getsockopt(h->fd, SOL_SOCKET, SO_ERROR,
		    &e, &elen) == -1 || e != 0) {
			nr_close(c);
			return;
		}
		c->up = 1;
		nr_interest(ep, c);
		return;
	}
	if (events & EPOLLOUT) {
		/* o's bytes, waiting for room on h's socket. */
		if (nr_flush(o, h) == -1) {
			nr_close(c);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) && !h->eof &&
	    h->len == 0) {
		n = read(h->fd, h->buf, sizeof(h->buf));
		if (n == -1 && errno != EAGAIN) {
			nr_close(c);
			return;
		}
		if (n == 0)
			h->eof = 1;
		if (n > 0)
			h->len = n;
		if (nr_flush(h, o) == -1) {
			nr_close(c);
			return;
		}
	}
	if (h->eof && o->eof && h->len == 0 && o->len == 0) {
		nr_close(c);
		return;
	}
	nr_interest(ep, c);
}

static void
nr_accept(int ep, int lfd)
{
	struct epoll_event	 ev;
	struct nr_conn		*c;
	int			 cfd, sfd, i, one = 1;

	while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		if ((sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) ==
		    -1 || setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) == -1) {
			if (sfd != -1)
				close(sfd);
			close(cfd);
			continue;
		}
		if (connect(sfd, (struct sockaddr *)&nr_server,
		    sizeof(nr_server)) == -1 && errno != EINPROGRESS) {
			close(cfd);
			close(sfd);
			continue;
		}
		if ((c = nr_free) != NULL)
			nr_free = c->next_dead;
		else if ((c = malloc(sizeof(*c))) == NULL)
			err(1, NULL);
		c->up = c->dead = 0;
		for (i = 0; i < 2; i++) {
			c->h[i].eof = 0;
			c->h[i].off = c->h[i].len = 0;
		}
		c->h[0].fd = cfd;
		c->h[1].fd = sfd;
		for (i = 0; i < 2; i++) {
			c->h[i].conn = c;
			memset(&ev, 0, sizeof(ev));
			ev.data.ptr = &c->h[i];
			ev.events = c->h[i].events = i == 1 ? EPOLLOUT : 0;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, c->h[i].fd, &ev) ==
			    -1)
				err(1, "epoll_ctl");
		}
	}
}

static void *
nr_loop(void *arg)
{
	struct epoll_event	 ev, evs[NR_EVENTS];
	struct nr_conn		*c;
	int			 ep, lfd, one = 1, n, i;

	(void)arg;
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ==
	    -1 ||
	    setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ==
	    -1 ||
	    bind(lfd, (struct sockaddr *)&nr_listen, sizeof(nr_listen)) ==
	    -1 || listen(lfd, 8192) == -1)
		err(1, "listener");
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		err(1, "epoll_ctl");
	for (;;) {
		if ((n = epoll_wait(ep, evs, NR_EVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				nr_accept(ep, lfd);
			else
				nr_event(ep, evs[i].data.ptr, evs[i].events);
		}
		while ((c = nr_dead) != NULL) {
			nr_dead = c->next_dead;
			c->next_dead = nr_free;
			nr_free = c;
		}
	}
	return (NULL);
}

int
main(int argc, char *argv[])
{
	pthread_t	tids[NR_THREADS_MAX];
	int		threads = 1, i;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: nullrelay listen-addr port "
		    "server-addr port [threads]\n");
		return (1);
	}
	/* A write to a connection the peer reset fails; it must not kill. */
	signal(SIGPIPE, SIG_IGN);
	nr_addr(&nr_listen, argv[1], argv[2]);
	nr_addr(&nr_server, argv[3], argv[4]);
	if (argc == 6 && ((threads = atoi(argv[5])) < 1 ||
	    threads > NR_THREADS_MAX))
		errx(1, "%s: threads out of range", argv[5]);
	for (i = 1; i < threads; i++)
		if ((errno = pthread_create(&tids[i], NULL, nr_loop, NULL)) !=
		    0)
			err(1, "pthread_create");
	nr_loop(NULL);
	return (0);
}
