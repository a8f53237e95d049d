/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * ifaddr.c: the parent's knowledge of the gateway's own IPv4 addresses
 * and the subnets they connect to, and of its own IPv6 addresses, which
 * the children cannot see from their chroots.  It reads them over
 * rtnetlink at start and follows RTM_NEWADDR and RTM_DELADDR events from
 * the parent's event loop; each event batch, or a lost one (ENOBUFS),
 * makes it read the whole list again, which keeps it right without
 * replaying changes one by one.
 * Every netlink message is checked before use; a malformed one is logged
 * and skipped.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "proc.h"

#define IFADDR_BUFSIZE		(64 * 1024)
#define IFADDR_DUMP_TRIES	3	/* a dump the kernel says it cut */
#define IFADDR_DUMP_TIMEOUT_MS	1000

static struct mnl_socket	*ifaddr_mon;
static struct event		 ifaddr_ev;
static struct msg_ifaddrs	 ifaddr_list;
static void			(*ifaddr_changed)(const struct msg_ifaddrs *);
static int			 ifaddr_overflow;	/* warned of it */
static unsigned char		 ifaddr_buf[IFADDR_BUFSIZE];

struct ifaddr_attrs {
	const struct nlattr	*local;
	const struct nlattr	*address;
	size_t			 size;		/* of an address: 4 or 16 */
	int			 bad;
};

static int	ifaddr_attr(const struct nlattr *, void *);
static int	ifaddr_msg(const struct nlmsghdr *, struct msg_ifaddr *,
		    struct msg_ifaddr6 *);
static int	ifaddr_cmp6(const void *, const void *);
static int	ifaddr_dump(struct msg_ifaddrs *);
static int	ifaddr_cmp(const void *, const void *);
static void	ifaddr_read(int, short, void *);
static void	ifaddr_resync(void);

/*
 * An attribute of an address message; the two we use must be of the
 * family's address size.
 */
static int
ifaddr_attr(const struct nlattr *attr, void *arg)
{
	struct ifaddr_attrs	*a = arg;
	int			 type = mnl_attr_get_type(attr);

	if (type != IFA_LOCAL && type != IFA_ADDRESS)
		return (MNL_CB_OK);
	if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, a->size) == -1) {
		a->bad = 1;
		return (MNL_CB_OK);
	}
	if (type == IFA_LOCAL)
		a->local = attr;
	else
		a->address = attr;
	return (MNL_CB_OK);
}

/*
 * One RTM_NEWADDR or RTM_DELADDR into out (IPv4) or out6 (IPv6): AF_INET
 * or AF_INET6, or 0 when it is about another family, or -1 when it is
 * malformed.
 */
static int
ifaddr_msg(const struct nlmsghdr *nlh, struct msg_ifaddr *out,
    struct msg_ifaddr6 *out6)
{
	const struct ifaddrmsg	*ifa;
	struct ifaddr_attrs	 a;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return (-1);
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return (0);
	if (ifa->ifa_prefixlen > (ifa->ifa_family == AF_INET ? 32 : 128))
		return (-1);
	memset(&a, 0, sizeof(a));
	a.size = ifa->ifa_family == AF_INET ? 4 : 16;
	if (mnl_attr_parse(nlh, sizeof(*ifa), ifaddr_attr, &a) ==
	    MNL_CB_ERROR || a.bad || (a.local == NULL && a.address == NULL))
		return (-1);
	if (ifa->ifa_family == AF_INET6) {
		/* IFA_LOCAL, if any, is ours; else IFA_ADDRESS is. */
		memset(out6, 0, sizeof(*out6));
		memcpy(&out6->local, mnl_attr_get_payload(a.local != NULL ?
		    a.local : a.address), sizeof(out6->local));
		out6->prefixlen = ifa->ifa_prefixlen;
		return (AF_INET6);
	}
	memset(out, 0, sizeof(*out));
	/* IFA_LOCAL is ours; IFA_ADDRESS the peer's on a point-to-point. */
	out->local = mnl_attr_get_u32(a.local != NULL ? a.local : a.address);
	out->peer = mnl_attr_get_u32(a.address != NULL ? a.address : a.local);
	out->prefixlen = ifa->ifa_prefixlen;
	return (AF_INET);
}

/*
 * How many of len bytes at buf are whole netlink messages, each with a
 * length its header gives and the buffer holds (the last one's padding
 * may be cut off).  libmnl's mnl_nlmsg_ok() takes a length of 2^31 or
 * more for a negative one, and mnl_nlmsg_next() then steps out of the
 * buffer: its loops, and mnl_cb_run()'s, are given only this much.
 */
size_t
ifaddr_nl_whole(const unsigned char *buf, size_t len)
{
	const struct nlmsghdr	*nlh;
	size_t			 off = 0, step;

	while (len - off >= sizeof(*nlh)) {
		nlh = (const struct nlmsghdr *)(buf + off);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			break;
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		off += step < len - off ? step : len - off;
	}
	return (off);
}

/*
 * The messages of one read.  With list, the addresses of RTM_NEWADDR are
 * added to it; *done says a dump ended, *seen that an address changed.
 * -1 for an error the kernel sent, errno set.  Not static: the tests
 * feed it broken messages.
 */
int
ifaddr_parse(const unsigned char *buf, size_t len, uint32_t seq,
    struct msg_ifaddrs *list, int *done, int *seen)
{
	const struct nlmsghdr	*nlh = (const struct nlmsghdr *)buf;
	const struct nlmsgerr	*err;
	struct msg_ifaddr	 a;
	struct msg_ifaddr6	 a6;
	size_t			 whole = ifaddr_nl_whole(buf, len);
	int			 left = (int)whole, n;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (seq != 0 && nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			errno = EINTR;
			return (-1);
		}
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			*done = 1;
			continue;
		case NLMSG_ERROR:
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err)) {
				log_warnx("netlink: short error message");
				continue;
			}
			err = mnl_nlmsg_get_payload(nlh);
			if (err->error == 0)
				continue;
			/* The kernel's are -errno; anything else is not. */
			errno = err->error < 0 && err->error > -4096 ?
			    -err->error : EPROTO;
			return (-1);
		case RTM_NEWADDR:
		case RTM_DELADDR:
			break;
		default:
			continue;
		}
		if ((n = ifaddr_msg(nlh, &a, &a6)) == -1) {
			log_warnx("netlink: malformed address message of "
			    "%u bytes skipped", nlh->nlmsg_len);
			continue;
		}
		if (n == 0)
			continue;
		*seen = 1;
		if (list == NULL || nlh->nlmsg_type != RTM_NEWADDR)
			continue;
		if (n == AF_INET6) {
			if (list->count6 < MSG_MAX_IFADDRS6) {
				list->addrs6[list->count6++] = a6;
				continue;
			}
			if (!ifaddr_overflow)
				log_warnx("netlink: more than %d IPv6 "
				    "addresses; those past them are not "
				    "refused as destinations",
				    MSG_MAX_IFADDRS6);
			ifaddr_overflow = 1;
			continue;
		}
		if (list->count == MSG_MAX_IFADDRS) {
			if (!ifaddr_overflow)
				log_warnx("netlink: more than %d addresses; "
				    "those past them are neither refused as "
				    "destinations nor served as clients",
				    MSG_MAX_IFADDRS);
			ifaddr_overflow = 1;
			continue;
		}
		list->addrs[list->count++] = a;
	}
	if (whole < len)
		log_warnx("netlink: %zu bytes of a truncated message skipped",
		    len - whole);
	return (0);
}

/* Every address of the gateway, read anew on a socket of its own. */
static int
ifaddr_dump(struct msg_ifaddrs *list)
{
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct rtgenmsg		*rt;
	struct timeval		 tv;
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	ssize_t			 n;
	uint32_t		 seq;
	int			 done, seen, tries, overflow = ifaddr_overflow;

	for (tries = 0; tries < IFADDR_DUMP_TRIES; tries++) {
		if ((nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) ==
		    NULL)
			return (-1);
		tv.tv_sec = IFADDR_DUMP_TIMEOUT_MS / 1000;
		tv.tv_usec = (IFADDR_DUMP_TIMEOUT_MS % 1000) * 1000;
		/* The kernel answers at once; never hang the parent on it. */
		if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO,
		    &tv, sizeof(tv)) == -1 ||
		    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1)
			goto fail;
		seq = (uint32_t)time(NULL) | 1;
		nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_GETADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = seq;
		rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
		rt->rtgen_family = AF_UNSPEC;
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1)
			goto fail;
		memset(list, 0, sizeof(*list));
		ifaddr_overflow = 0;
		done = seen = 0;
		while (!done) {
			if ((n = mnl_socket_recvfrom(nl, ifaddr_buf,
			    sizeof(ifaddr_buf))) == -1)
				break;
			if (ifaddr_parse(ifaddr_buf, n, seq, list, &done,
			    &seen) == -1)
				break;
		}
		mnl_socket_close(nl);
		if (done) {
			if (!ifaddr_overflow && overflow)
				log_info("netlink: all addresses fit again");
			return (0);
		}
		if (errno != EINTR)
			return (-1);
	}
	errno = EINTR;
	return (-1);
 fail:
	mnl_socket_close(nl);
	return (-1);
}

static int
ifaddr_cmp(const void *a, const void *b)
{
	const struct msg_ifaddr	*x = a, *y = b;

	if (x->local != y->local)
		return (ntohl(x->local) < ntohl(y->local) ? -1 : 1);
	if (x->peer != y->peer)
		return (ntohl(x->peer) < ntohl(y->peer) ? -1 : 1);
	return (x->prefixlen < y->prefixlen ? -1 :
	    x->prefixlen > y->prefixlen);
}

static int
ifaddr_cmp6(const void *a, const void *b)
{
	const struct msg_ifaddr6	*x = a, *y = b;
	int				 c;

	if ((c = memcmp(&x->local, &y->local, sizeof(x->local))) != 0)
		return (c);
	return (x->prefixlen < y->prefixlen ? -1 :
	    x->prefixlen > y->prefixlen);
}

/* In order and once each, so that two reads of one state compare equal. */
void
ifaddr_sort(struct msg_ifaddrs *list)
{
	uint32_t	i, j;

	qsort(list->addrs6, list->count6, sizeof(list->addrs6[0]),
	    ifaddr_cmp6);
	for (i = 0, j = 0; i < list->count6; i++)
		if (j == 0 || ifaddr_cmp6(&list->addrs6[j - 1],
		    &list->addrs6[i]) != 0)
			list->addrs6[j++] = list->addrs6[i];
	for (i = j; i < list->count6; i++)
		memset(&list->addrs6[i], 0, sizeof(list->addrs6[i]));
	list->count6 = j;

	qsort(list->addrs, list->count, sizeof(list->addrs[0]), ifaddr_cmp);
	for (i = 0, j = 0; i < list->count; i++)
		if (j == 0 || ifaddr_cmp(&list->addrs[j - 1],
		    &list->addrs[i]) != 0)
			list->addrs[j++] = list->addrs[i];
	for (i = j; i < list->count; i++)
		memset(&list->addrs[i], 0, sizeof(list->addrs[i]));
	list->count = j;
}

/* Read the addresses once, for a look before anything starts. */
int
ifaddr_load(void)
{
	if (ifaddr_dump(&ifaddr_list) == -1)
		return (-1);
	ifaddr_sort(&ifaddr_list);
	return (0);
}

/*
 * Read the addresses and watch for changes from now on; changed hears of
 * every change.  The watch starts before the first read, so that no
 * change falls between them.
 */
void
ifaddr_init(void (*changed)(const struct msg_ifaddrs *))
{
	char		 buf[INET6_ADDRSTRLEN];
	struct in_addr	 in;
	uint32_t	 i;

	if ((ifaddr_mon = mnl_socket_open2(NETLINK_ROUTE,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == NULL)
		fatal("netlink socket");
	if (mnl_socket_bind(ifaddr_mon, RTMGRP_IPV4_IFADDR |
	    RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) == -1)
		fatal("netlink bind");
	if (ifaddr_load() == -1)
		fatal("reading the gateway's addresses");
	for (i = 0; i < ifaddr_list.count; i++) {
		in.s_addr = ifaddr_list.addrs[i].local;
		log_debug("address %s/%u", inet_ntop(AF_INET, &in, buf,
		    sizeof(buf)), ifaddr_list.addrs[i].prefixlen);
	}
	for (i = 0; i < ifaddr_list.count6; i++)
		log_debug("address %s/%u", inet_ntop(AF_INET6,
		    &ifaddr_list.addrs6[i].local, buf, sizeof(buf)),
		    ifaddr_list.addrs6[i].prefixlen);
	ifaddr_changed = changed;
	event_set(&ifaddr_ev, mnl_socket_get_fd(ifaddr_mon),
	    EV_READ | EV_PERSIST, ifaddr_read, NULL);
	if (event_add(&ifaddr_ev, NULL) == -1)
		fatal("%s: event_add", __func__);
}

/* The addresses as last read. */
const struct msg_ifaddrs *
ifaddr_get(void)
{
	return (&ifaddr_list);
}

/* Events: everything pending is read, then the list once, if need be. */
static void
ifaddr_read(int fd, short ev, void *arg)
{
	ssize_t	n;
	int	done = 0, seen = 0, lost = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	for (;;) {
		if ((n = recv(mnl_socket_get_fd(ifaddr_mon), ifaddr_buf,
		    sizeof(ifaddr_buf), 0)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Events were lost: only a new read knows. */
				lost = 1;
				continue;
			}
			if (errno != EAGAIN)
				log_warn("netlink: recv");
			break;
		}
		if (n == 0)
			break;
		if (ifaddr_parse(ifaddr_buf, n, 0, NULL, &done, &seen) == -1)
			log_warn("netlink: event");
	}
	if (seen || lost)
		ifaddr_resync();
}

static void
ifaddr_resync(void)
{
	struct msg_ifaddrs	*list;

	if ((list = calloc(1, sizeof(*list))) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	if (ifaddr_dump(list) == -1) {
		log_warn("netlink: reading the gateway's addresses; keeping "
		    "the %u known", ifaddr_list.count);
		free(list);
		return;
	}
	ifaddr_sort(list);
	if (memcmp(list, &ifaddr_list, sizeof(*list)) != 0) {
		log_info("gateway addresses changed: %u and %u IPv6, were "
		    "%u and %u", list->count, list->count6, ifaddr_list.count,
		    ifaddr_list.count6);
		memcpy(&ifaddr_list, list, sizeof(*list));
		if (ifaddr_changed != NULL)
			ifaddr_changed(&ifaddr_list);
	}
	free(list);
}
