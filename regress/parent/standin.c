/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * standin.c: a stand-in for a compromised proxy.  The test build of the
 * parent (dns44-regress, see DNS44_STANDIN in src/dns44.c) starts it in
 * the proxy's place; it takes its start-up messages like the proxy, then
 * asks the parent for reply sockets it must not have, and one it may, and
 * prints what it got, one line per request, on standard error:
 *
 *	standin: NAME refused|granted LOCAL -> PEER|failed ERRNO
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

struct dns44_conf	*conf;

struct standin_case {
	const char	*name;
	sa_family_t	 vfamily;
	sa_family_t	 cfamily;
	const char	*client;
	in_port_t	 cport;
};

static const struct standin_case standin_cases[] = {
	{ "virt-not-inet",	AF_INET6, AF_INET, "10.9.0.2",	40000 },
	{ "client-not-inet",	AF_INET, AF_UNIX, "10.9.0.2",	40000 },
	{ "loopback",		AF_INET, AF_INET, "127.0.0.1",	40000 },
	{ "any",		AF_INET, AF_INET, "0.0.0.0",	40000 },
	{ "broadcast",		AF_INET, AF_INET, "255.255.255.255", 40000 },
	{ "multicast",		AF_INET, AF_INET, "224.0.0.251", 5353 },
	{ "privileged",		AF_INET, AF_INET, "10.9.0.2",	123 },
	{ "good",		AF_INET, AF_INET, "10.9.0.2",	40000 },
};

static void
standin_wait(int fd, short events)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = events;
	if (poll(&pfd, 1, 5000) != 1) {
		fprintf(stderr, "standin: the parent did not answer\n");
		exit(1);
	}
}

/* The next message from the parent, waiting for it. */
static void
standin_read(struct msg_chan *mc, struct msg *m)
{
	int	n;

	for (;;) {
		n = msg_read(mc, m);
		if (n == 1)
			return;
		if (n == -1 && errno == EAGAIN) {
			standin_wait(mc->fd, POLLIN);
			continue;
		}
		fprintf(stderr, "standin: reading from the parent: %s\n",
		    n == 0 ? "closed" : strerror(errno));
		exit(1);
	}
}

static void
standin_ask(struct msg_chan *mc, uint32_t id, const struct standin_case *c,
    uint32_t virt)
{
	struct msg_reply_sock	 r;
	struct sockaddr_in	 sin, peer;
	struct msg		 m;
	socklen_t		 len;
	char			 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	memset(&r, 0, sizeof(r));
	r.virt.sin_family = c->vfamily;
	r.virt.sin_addr.s_addr = htonl(virt);
	r.virt.sin_port = htons(53);
	r.client.sin_family = c->cfamily;
	inet_pton(AF_INET, c->client, &r.client.sin_addr);
	r.client.sin_port = htons(c->cport);
	if (msg_compose(mc, MSG_REPLY_SOCK_REQ, id, -1, &r, sizeof(r)) == -1)
		exit(1);
	while (msg_pending(mc)) {
		if (msg_flush(mc) == -1)
			exit(1);
		if (msg_pending(mc))
			standin_wait(mc->fd, POLLOUT);
	}
	standin_read(mc, &m);
	if (m.hdr.id != id) {
		fprintf(stderr, "standin: answer %u to request %u\n",
		    m.hdr.id, id);
		exit(1);
	}
	if (m.hdr.type == MSG_REPLY_SOCK_FAIL) {
		msg_get(&m, &r, sizeof(r));
		fprintf(stderr, "standin: %s %s\n", c->name,
		    r.error == EPERM ? "refused" : strerror(r.error));
		return;
	}
	len = sizeof(sin);
	if (getsockname(m.fd, (struct sockaddr *)&sin, &len) == -1)
		exit(1);
	len = sizeof(peer);
	if (getpeername(m.fd, (struct sockaddr *)&peer, &len) == -1)
		exit(1);
	inet_ntop(AF_INET, &sin.sin_addr, a, sizeof(a));
	inet_ntop(AF_INET, &peer.sin_addr, b, sizeof(b));
	fprintf(stderr, "standin: %s granted %s:%u -> %s:%u\n", c->name, a,
	    ntohs(sin.sin_port), b, ntohs(peer.sin_port));
	close(m.fd);
}

int
main(void)
{
	static struct msg_chan	 mc;
	static struct dns44_conf c;
	struct msg		 m;
	struct pollfd		 pfd;
	size_t			 i;

	conf = &c;
	msg_init(&mc, PROC_PARENT_FD, MSG_RX_START);
	for (;;) {
		standin_read(&mc, &m);
		/* The sockets stay open: the dns process needs its peer. */
		if (m.hdr.type == MSG_CONF)
			msg_get(&m, &c, sizeof(c));
		if (m.hdr.type == MSG_SOCK_END)
			break;
	}
	mc.rx = MSG_RX_PROXY_PARENT;
	for (i = 0; i < sizeof(standin_cases) / sizeof(standin_cases[0]); i++)
		standin_ask(&mc, i + 1, &standin_cases[i], c.range_first + 1);
	fprintf(stderr, "standin: done\n");
	/* Until the parent says stop or goes. */
	pfd.fd = mc.fd;
	pfd.events = POLLIN;
	poll(&pfd, 1, -1);
	return (0);
}
