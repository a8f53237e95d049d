/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * standin.c: a stand-in for a compromised proxy.  The test build of the
 * parent (dns44-regress, see DNS44_STANDIN in src/dns44.c) starts it in
 * the proxy's place; it takes its start-up messages like the proxy, then
 * asks the parent for reply sockets it must not have, and one it may,
 * then for dialling sockets with marks, and prints what it got, one line
 * per request, on standard error:
 *
 *	standin: NAME refused|granted LOCAL for CLIENT, unconnected|failed ERRNO
 *	standin: dial NAME refused|granted PROTO mark MARK|ERRNO
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

struct dns44_conf	*conf;

/* The address a reply socket is asked to be bound to. */
enum standin_virt {
	VIRT_IN_RANGE,		/* the range's second address */
	VIRT_BELOW,		/* just below the range */
	VIRT_ABOVE,		/* just above it */
	VIRT_GATEWAY,		/* the gateway's own 10.9.0.1 */
	VIRT_PORT_0		/* in the range, port 0 */
};

struct standin_case {
	const char		*name;
	sa_family_t		 vfamily;
	sa_family_t		 cfamily;
	const char		*client;
	in_port_t		 cport;
	enum standin_virt	 virt;
};

static const struct standin_case standin_cases[] = {
	{ "virt-not-inet",	AF_INET6, AF_INET, "10.9.0.2",	40000,
	    VIRT_IN_RANGE },
	{ "client-not-inet",	AF_INET, AF_UNIX, "10.9.0.2",	40000,
	    VIRT_IN_RANGE },
	{ "virt-below-range",	AF_INET, AF_INET, "10.9.0.2",	40000,
	    VIRT_BELOW },
	{ "virt-above-range",	AF_INET, AF_INET, "10.9.0.2",	40000,
	    VIRT_ABOVE },
	{ "virt-gateway",	AF_INET, AF_INET, "10.9.0.2",	40000,
	    VIRT_GATEWAY },
	{ "virt-port-0",	AF_INET, AF_INET, "10.9.0.2",	40000,
	    VIRT_PORT_0 },
	{ "loopback",		AF_INET, AF_INET, "127.0.0.1",	40000,
	    VIRT_IN_RANGE },
	{ "any",		AF_INET, AF_INET, "0.0.0.0",	40000,
	    VIRT_IN_RANGE },
	{ "broadcast",		AF_INET, AF_INET, "255.255.255.255", 40000,
	    VIRT_IN_RANGE },
	{ "multicast",		AF_INET, AF_INET, "224.0.0.251", 5353,
	    VIRT_IN_RANGE },
	{ "privileged",		AF_INET, AF_INET, "10.9.0.2",	123,
	    VIRT_IN_RANGE },
	{ "good",		AF_INET, AF_INET, "10.9.0.2",	40000,
	    VIRT_IN_RANGE },
};

struct standin_dial {
	const char	*name;
	uint32_t	 proto;
	uint32_t	 mark;
};

/* Marks 100 and 101 are asked for; a test's configuration may name 100. */
static const struct standin_dial standin_dials[] = {
	{ "mark-100-tcp",	IPPROTO_TCP,	100 },
	{ "mark-100-udp",	IPPROTO_UDP,	100 },
	{ "mark-101",		IPPROTO_TCP,	101 },
	{ "mark-0",		IPPROTO_UDP,	0 },
	{ "mark-max",		IPPROTO_TCP,	0xffffffff },
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
standin_send(struct msg_chan *mc, uint32_t type, uint32_t id,
    const void *data, size_t len)
{
	if (msg_compose(mc, type, id, -1, data, len) == -1)
		exit(1);
	while (msg_pending(mc)) {
		if (msg_flush(mc) == -1)
			exit(1);
		if (msg_pending(mc))
			standin_wait(mc->fd, POLLOUT);
	}
}

static void
standin_ask(struct msg_chan *mc, uint32_t id, const struct standin_case *c)
{
	struct msg_reply_sock	 r;
	struct sockaddr_in	 sin, peer;
	struct msg		 m;
	socklen_t		 len;
	uint32_t		 virt;
	char			 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	switch (c->virt) {
	case VIRT_BELOW:
		virt = conf->range_first - 1;
		break;
	case VIRT_ABOVE:
		virt = conf->range_last + 1;
		break;
	case VIRT_GATEWAY:
		virt = 0x0a090001;
		break;
	default:
		virt = conf->range_first + 1;
		break;
	}
	memset(&r, 0, sizeof(r));
	r.virt.sin_family = c->vfamily;
	r.virt.sin_addr.s_addr = htonl(virt);
	r.virt.sin_port = c->virt == VIRT_PORT_0 ? 0 : htons(53);
	r.client.sin_family = c->cfamily;
	inet_pton(AF_INET, c->client, &r.client.sin_addr);
	r.client.sin_port = htons(c->cport);
	standin_send(mc, MSG_REPLY_SOCK_REQ, id, &r, sizeof(r));
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
	/* Shared by the virtual address's clients: bound, not connected. */
	len = sizeof(peer);
	if (getpeername(m.fd, (struct sockaddr *)&peer, &len) != -1 ||
	    errno != ENOTCONN)
		exit(1);
	inet_ntop(AF_INET, &sin.sin_addr, a, sizeof(a));
	inet_ntop(AF_INET, &r.client.sin_addr, b, sizeof(b));
	fprintf(stderr, "standin: %s granted %s:%u for %s:%u, unconnected\n",
	    c->name, a, ntohs(sin.sin_port), b, ntohs(r.client.sin_port));
	close(m.fd);
}

static void
standin_dial(struct msg_chan *mc, uint32_t id, const struct standin_dial *c)
{
	struct msg_dial_sock	 d;
	struct msg		 m;
	socklen_t		 len;
	uint32_t		 mark;
	int			 type, fl;

	memset(&d, 0, sizeof(d));
	d.proto = c->proto;
	d.mark = c->mark;
	d.family = AF_INET;
	standin_send(mc, MSG_DIAL_SOCK_REQ, id, &d, sizeof(d));
	standin_read(mc, &m);
	if (m.hdr.id != id) {
		fprintf(stderr, "standin: answer %u to request %u\n",
		    m.hdr.id, id);
		exit(1);
	}
	msg_get(&m, &d, sizeof(d));
	if (m.hdr.type == MSG_DIAL_SOCK_FAIL) {
		fprintf(stderr, "standin: dial %s %s\n", c->name,
		    d.error == EPERM ? "refused" : strerror(d.error));
		return;
	}
	len = sizeof(mark);
	if (getsockopt(m.fd, SOL_SOCKET, SO_MARK, &mark, &len) == -1)
		exit(1);
	len = sizeof(type);
	if (getsockopt(m.fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    (fl = fcntl(m.fd, F_GETFL)) == -1)
		exit(1);
	fprintf(stderr, "standin: dial %s granted %s%s mark %u\n", c->name,
	    type == SOCK_STREAM ? "tcp" : type == SOCK_DGRAM ? "udp" : "?",
	    fl & O_NONBLOCK ? "" : " blocking", mark);
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
		standin_ask(&mc, i + 1, &standin_cases[i]);
	for (i = 0; i < sizeof(standin_dials) / sizeof(standin_dials[0]); i++)
		standin_dial(&mc, 100 + i, &standin_dials[i]);
	fprintf(stderr, "standin: done\n");
	/* Until the parent says stop or goes. */
	pfd.fd = mc.fd;
	pfd.events = POLLIN;
	poll(&pfd, 1, -1);
	return (0);
}
