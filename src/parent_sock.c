/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * parent_sock.c: the sockets the parent makes for the proxy while it
 * runs, each checked against what the proxy may have: a UDP socket to
 * reply from a virtual address, and a socket to dial with a firewall mark
 * a rule names.  The proxy is not trusted; its refused requests are
 * logged a few lines a second at most.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "msg.h"
#include "parent.h"
#include "proc.h"
#include "rules.h"

static struct log_rate	 parent_rl_mark, parent_rl_dial;
/* Ten refused reply socket requests a second are logged, the rest counted. */
static struct log_rate	 parent_rl_reply = { .burst = 10 };

static const char *parent_reply_refused(const struct msg_reply_sock *);
static int	parent_reply_open(const struct msg_reply_sock *);

/*
 * Why the proxy may not have a reply socket from virt for client, or
 * NULL.  The proxy is not trusted with IP_TRANSPARENT: virt must lie
 * inside the virtual range, so that whatever it sends through the socket
 * comes from a virtual address and it cannot spoof any other.  The
 * client it asks for must be a unicast host elsewhere, as the proxy
 * itself checks for every client it replies to; the socket, unconnected,
 * does not hold it to that client (a connected one could be connected
 * again just as well).
 */
static const char *
parent_reply_refused(const struct msg_reply_sock *r)
{
	uint32_t	virt, client;

	if (r->virt.sin_family != AF_INET || r->client.sin_family != AF_INET)
		return ("not IPv4");
	virt = ntohl(r->virt.sin_addr.s_addr);
	client = ntohl(r->client.sin_addr.s_addr);
	if (!conf_in_range(conf, virt) || r->virt.sin_port == 0)
		return ("from outside the range");
	if (r->client.sin_port == 0 || conf_in_range(conf, client))
		return ("to the range");
	if ((client >> 24) == 127)
		return ("to loopback");
	if ((client >> 24) == 0)
		return ("to the any address");
	if (client == INADDR_BROADCAST)
		return ("to broadcast");
	if ((client >> 28) >= 0xe)
		return ("to multicast or reserved");
	if (ntohs(r->client.sin_port) < IPPORT_RESERVED &&
	    !conf->reply_priv_ports)
		return ("to a privileged port");
	return (NULL);
}

/* A reply socket, bound where asked and nowhere else. */
static int
parent_reply_open(const struct msg_reply_sock *r)
{
	struct sockaddr_in	name;
	socklen_t		len = sizeof(name);
	int			s;

	if ((s = sock_reply(&r->virt)) == -1)
		return (-1);
	if (getsockname(s, (struct sockaddr *)&name, &len) == -1 ||
	    len != sizeof(name) || name.sin_family != AF_INET ||
	    name.sin_addr.s_addr != r->virt.sin_addr.s_addr ||
	    name.sin_port != r->virt.sin_port) {
		close(s);
		errno = EPERM;
		return (-1);
	}
	return (s);
}

/*
 * A socket for UDP replies from virt, if the request holds.  The proxy
 * shares it among the sessions to virt and asks on behalf of the first
 * one's client, which must be one the parent would reply to.
 */
void
parent_reply_sock(struct chan *ch, struct msg *m)
{
	struct msg_reply_sock	 r;
	const char		*why;
	char			 v[32], c[32];
	int			 s;

	msg_get(m, &r, sizeof(r));
	if ((why = parent_reply_refused(&r)) != NULL) {
		conf_fmt_addr(&r.virt, v, sizeof(v));
		conf_fmt_addr(&r.client, c, sizeof(c));
		log_rate(&parent_rl_reply, LOG_WARNING, "proxy asked for a "
		    "reply socket %s: %s to %s; refused", why,
		    r.virt.sin_family == AF_INET ? v : "?",
		    r.client.sin_family == AF_INET ? c : "?");
		r.error = EPERM;
		s = -1;
	} else if ((s = parent_reply_open(&r)) == -1)
		r.error = errno;
	else
		r.error = 0;
	if (s == -1)
		chan_compose(ch, MSG_REPLY_SOCK_FAIL, m->hdr.id, -1, &r,
		    sizeof(r));
	else if (chan_compose(ch, MSG_REPLY_SOCK, m->hdr.id, s, &r,
	    sizeof(r)) == -1) {
		log_warn("sending a reply socket");
		close(s);
	}
}

/*
 * A socket for the proxy to dial with, marked as asked.  The proxy is not
 * trusted with CAP_NET_ADMIN: it gets a mark that a rule of the running
 * configuration names and no other, so that it cannot steer its traffic
 * into another routing table or firewall class.
 */
void
parent_dial_sock(struct chan *ch, struct msg *m, struct ruleset *rules)
{
	struct msg_dial_sock	 d;
	int			 s, type;

	msg_get(m, &d, sizeof(d));
	s = -1;
	if (!ruleset_has_mark(rules, d.mark)) {
		/* A few lines a second at most: the proxy may be hostile. */
		log_rate(&parent_rl_mark, LOG_WARNING, "proxy asked for a %s "
		    "socket with mark 0x%x, which no rule names; refused",
		    d.proto == IPPROTO_TCP ? "TCP" : "UDP", d.mark);
		d.error = EPERM;
	} else {
		type = d.proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
		/* msg.c let only AF_INET and AF_INET6 through. */
		if ((s = socket(d.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0)) == -1 || setsockopt(s, SOL_SOCKET, SO_MARK, &d.mark,
		    sizeof(d.mark)) == -1) {
			d.error = errno;
			log_rate(&parent_rl_dial, LOG_WARNING, "a socket with "
			    "mark 0x%x: %s", d.mark, strerror(d.error));
			if (s != -1)
				close(s);
			s = -1;
		} else
			d.error = 0;
	}
	if (s == -1)
		chan_compose(ch, MSG_DIAL_SOCK_FAIL, m->hdr.id, -1, &d,
		    sizeof(d));
	else if (chan_compose(ch, MSG_DIAL_SOCK, m->hdr.id, s, &d,
	    sizeof(d)) == -1) {
		log_warn("sending a dialling socket");
		close(s);
	}
}
