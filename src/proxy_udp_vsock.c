/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_udp_vsock.c: the reply sockets of the proxy process's UDP
 * sessions.  A reply must leave from the virtual address and port the
 * client sent to, a socket only the parent may bind there; one socket
 * per virtual address and port serves every session to it.  The first
 * session that needs it asks the parent, those that come before the
 * answer wait in its list and start together when it comes, and the last
 * session to let go closes it.  Its datagrams are clients' too: the
 * kernel delivers there what no TPROXY rule took first.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"
#include "proxy_udp.h"

LIST_HEAD(proxy_vsock_list, proxy_vsock);

static struct proxy_vsock_list	*proxy_vsock_hash;
static uint32_t			 proxy_vsock_mask;
static uint32_t			 proxy_nvsock;	/* open */
static struct log_rate		 proxy_rl_vsock_err, proxy_rl_vsock_full,
				 proxy_rl_vsock_fd;

static struct proxy_vsock_list *proxy_vsock_chain(const struct sockaddr_in *);
static void	proxy_udp_vsock_read(int, short, void *);

/* The table of reply sockets: n chains, a power of two, as the sessions'. */
void
proxy_udp_vsock_init(uint32_t n)
{
	uint32_t	i;

	if ((proxy_vsock_hash = calloc(n, sizeof(*proxy_vsock_hash))) == NULL)
		fatal(NULL);
	for (i = 0; i < n; i++)
		LIST_INIT(&proxy_vsock_hash[i]);
	proxy_vsock_mask = n - 1;
}

/* Reply sockets open. */
uint32_t
proxy_udp_vsock_count(void)
{
	return (proxy_nvsock);
}

static struct proxy_vsock_list *
proxy_vsock_chain(const struct sockaddr_in *virt)
{
	struct sockaddr_in	none;

	memset(&none, 0, sizeof(none));
	return (&proxy_vsock_hash[proxy_udp_hashkey(&none, virt) &
	    proxy_vsock_mask]);
}

/*
 * The reply socket of s's virtual address and port: s starts at once if
 * it is there, else waits for it; the first to wait asks the parent.
 */
void
proxy_udp_vsock_get(struct proxy_udp *s)
{
	struct proxy_vsock_list	*chain = proxy_vsock_chain(&s->r.virt);
	struct proxy_vsock	*vs;
	struct msg_reply_sock	 rs;

	LIST_FOREACH(vs, chain, hentry)
		if (vs->virt.sin_addr.s_addr == s->r.virt.sin_addr.s_addr &&
		    vs->virt.sin_port == s->r.virt.sin_port)
			break;
	if (vs == NULL) {
		if ((vs = calloc(1, sizeof(*vs))) == NULL) {
			proxy_fail(IPPROTO_UDP, CTL_FAIL_INTERNAL);
			log_rate(&proxy_rl_vsock_err, LOG_ERR, "UDP: %s",
			    strerror(errno));
			proxy_udp_close(s);
			return;
		}
		vs->virt = s->r.virt;
		vs->fd = -1;
		TAILQ_INIT(&vs->waiting);
		memset(&rs, 0, sizeof(rs));
		rs.virt = s->r.virt;
		rs.client = s->r.client;
		proxy_req_add(&vs->req, MSG_REPLY_SOCK_REQ, vs);
		if (proxy_parent_compose(MSG_REPLY_SOCK_REQ, vs->req.id, &rs,
		    sizeof(rs)) == -1) {
			/* A flood of new sessions: this one goes, not all. */
			proxy_req_cancel(&vs->req);
			free(vs);
			proxy_fail(IPPROTO_UDP, CTL_FAIL_INTERNAL);
			log_rate(&proxy_rl_vsock_full, LOG_ERR, "%s: asking "
			    "the parent for a reply socket: %s; dropped",
			    proxy_relay_flow(&s->r), strerror(errno));
			proxy_udp_close(s);
			return;
		}
		LIST_INSERT_HEAD(chain, vs, hentry);
	}
	vs->refs++;
	s->vs = vs;
	if (vs->fd == -1)
		TAILQ_INSERT_TAIL(&vs->waiting, s, wentry);
	else
		proxy_udp_start(s);
}

/* A session lets go of its reply socket; the last one closes it. */
void
proxy_udp_vsock_put(struct proxy_vsock *vs)
{
	if (--vs->refs > 0)
		return;
	LIST_REMOVE(vs, hentry);
	proxy_req_cancel(&vs->req);
	if (vs->fd != -1) {
		event_del(&vs->ev);
		close(vs->fd);
		proxy_nvsock--;
	}
	free(vs);
}

/*
 * Datagrams on a reply socket: from its virtual address's clients, which
 * the kernel delivers there and not to the listener when no TPROXY rule
 * took them first.
 */
static void
proxy_udp_vsock_read(int fd, short ev, void *arg)
{
	struct proxy_vsock	*vs = arg;

	(void)ev;
	/* Its last session may close while its datagrams are handled. */
	vs->refs++;
	proxy_udp_recv(fd, &vs->virt);
	proxy_udp_vsock_put(vs);
}

/* The parent answered: fd is the reply socket, or -1 and rs says why not. */
void
proxy_udp_socket(uint32_t id, int fd, const struct msg_reply_sock *rs)
{
	struct proxy_req	*r;
	struct proxy_vsock	*vs;
	struct proxy_udp	*s;

	if ((r = proxy_req_take(id, MSG_REPLY_SOCK_REQ)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	vs = r->obj;
	if (rs->virt.sin_addr.s_addr != vs->virt.sin_addr.s_addr ||
	    rs->virt.sin_port != vs->virt.sin_port)
		fatalx("reply socket for the wrong address");
	/* Held while its sessions start or close: the last may close it. */
	vs->refs++;
	if (fd == -1) {
		while ((s = TAILQ_FIRST(&vs->waiting)) != NULL) {
			proxy_fail(IPPROTO_UDP, CTL_FAIL_INTERNAL);
			log_rate(&proxy_rl_vsock_fd, LOG_ERR,
			    "%s: reply socket: %s", proxy_relay_flow(&s->r),
			    strerror(rs->error));
			proxy_udp_close(s);
		}
		proxy_udp_vsock_put(vs);
		return;
	}
	vs->fd = fd;
	proxy_nvsock++;
	event_set(&vs->ev, vs->fd, EV_READ | EV_PERSIST,
	    proxy_udp_vsock_read, vs);
	if (event_add(&vs->ev, NULL) == -1)
		fatal("%s: event_add", __func__);
	while ((s = TAILQ_FIRST(&vs->waiting)) != NULL) {
		TAILQ_REMOVE(&vs->waiting, s, wentry);
		proxy_udp_start(s);
	}
	proxy_udp_vsock_put(vs);
}
