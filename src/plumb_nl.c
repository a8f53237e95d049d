/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * plumb_nl.c: the parent's rtnetlink requests for the TPROXY plumbing and
 * its self-check: reading the IPv4 ip rules and the routes of one table,
 * adding and removing a rule "to PREFIX lookup TABLE" and a route "local
 * PREFIX dev lo src 127.0.0.1 table TABLE", both tagged with dns44's own
 * protocol number so that they can be told from anybody else's.  What
 * the kernel says is checked before use (libmnl validates lengths, each
 * attribute its size) and at most so many entries are kept.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "log.h"
#include "plumb.h"
#include "proc.h"

#define PLUMB_NL_TIMEOUT_MS	1000

struct plumb_nl_list {
	void		*items;
	int		 max;
	int		 count;
	int		 over;		/* entries past max */
	uint32_t	 table;		/* routes: the table wanted */
};

static struct mnl_socket *plumb_nl_open(void);
static int	plumb_nl_run(struct nlmsghdr *, mnl_cb_t, void *);
static int	plumb_nl_rule_cb(const struct nlmsghdr *, void *);
static int	plumb_nl_route_cb(const struct nlmsghdr *, void *);
static int	plumb_nl_get_cb(const struct nlmsghdr *, void *);

static unsigned char	plumb_nl_buf[64 * 1024];

/* A socket of its own for one request: a late answer cannot confuse. */
static struct mnl_socket *
plumb_nl_open(void)
{
	struct mnl_socket	*nl;
	struct timeval		 tv;
	int			 one = 1;

	if ((nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL)
		return (NULL);
	tv.tv_sec = PLUMB_NL_TIMEOUT_MS / 1000;
	tv.tv_usec = (PLUMB_NL_TIMEOUT_MS % 1000) * 1000;
	/* The kernel answers at once; never hang the parent on it. */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		mnl_socket_close(nl);
		return (NULL);
	}
	/* Dumps filtered by table, where the kernel can (4.20 and later). */
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK,
	    NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	return (nl);
}

/* Send one request and read its answers to the end: 0, or -1 and errno. */
static int
plumb_nl_run(struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	struct mnl_socket	*nl;
	ssize_t			 n;
	uint32_t		 seq, portid;
	int			 ret, saved;

	if ((nl = plumb_nl_open()) == NULL)
		return (-1);
	seq = (uint32_t)time(NULL) | 1;
	nlh->nlmsg_seq = seq;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1) {
		saved = errno;
		mnl_socket_close(nl);
		errno = saved;
		return (-1);
	}
	ret = MNL_CB_OK;
	while (ret > MNL_CB_STOP) {
		if ((n = mnl_socket_recvfrom(nl, plumb_nl_buf,
		    sizeof(plumb_nl_buf))) == -1) {
			ret = MNL_CB_ERROR;
			break;
		}
		ret = mnl_cb_run(plumb_nl_buf, ifaddr_nl_whole(plumb_nl_buf,
		    n), seq, portid, cb, arg);
	}
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return (ret == MNL_CB_ERROR ? -1 : 0);
}

static int
plumb_nl_rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct plumb_nl_list	*l = arg;
	struct plumb_rule	*r;
	const struct fib_rule_hdr *frh;
	const struct nlattr	*a;

	if (nlh->nlmsg_type != RTM_NEWRULE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*frh))
		return (MNL_CB_OK);
	frh = mnl_nlmsg_get_payload(nlh);
	if (frh->family != AF_INET || frh->dst_len > 32)
		return (MNL_CB_OK);
	if (l->count == l->max) {
		l->over++;
		return (MNL_CB_OK);
	}
	r = (struct plumb_rule *)l->items + l->count;
	memset(r, 0, sizeof(*r));
	r->table = frh->table;
	r->dst_len = frh->dst_len;
	r->action = frh->action;
	r->other = frh->src_len != 0 || frh->tos != 0 ||
	    (frh->flags & FIB_RULE_INVERT) != 0;
	mnl_attr_for_each(a, nlh, sizeof(*frh)) {
		switch (mnl_attr_get_type(a)) {
		case FRA_DST:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			r->dst = ntohl(mnl_attr_get_u32(a));
			break;
		case FRA_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			r->table = mnl_attr_get_u32(a);
			break;
		case FRA_PRIORITY:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			r->prio = mnl_attr_get_u32(a);
			break;
		case FRA_FWMARK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			r->mark = mnl_attr_get_u32(a);
			r->has_mark = 1;
			if (r->mask == 0)
				r->mask = UINT32_MAX;
			break;
		case FRA_FWMASK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			r->mask = mnl_attr_get_u32(a);
			break;
		case FRA_PROTOCOL:
			if (mnl_attr_validate(a, MNL_TYPE_U8) == -1)
				return (MNL_CB_OK);
			r->proto = mnl_attr_get_u8(a);
			break;
		case FRA_SRC:
		case FRA_IIFNAME:
		case FRA_OIFNAME:
		case FRA_L3MDEV:
		case FRA_UID_RANGE:
		case FRA_IP_PROTO:
		case FRA_SPORT_RANGE:
		case FRA_DPORT_RANGE:
			r->other = 1;
			break;
		}
	}
	/* A mark of 0 with a mask matches unmarked packets only. */
	if (r->has_mark && r->mark == 0 && r->mask == 0)
		r->has_mark = 0;
	l->count++;
	return (MNL_CB_OK);
}

/* The IPv4 ip rules, in the kernel's order: their number, or -1. */
int
plumb_nl_rules(struct plumb_rule *rules, int max)
{
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	struct fib_rule_hdr	*frh;
	struct plumb_nl_list	 l;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	memset(&l, 0, sizeof(l));
	l.items = rules;
	l.max = max;
	if (plumb_nl_run(nlh, plumb_nl_rule_cb, &l) == -1)
		return (-1);
	if (l.over > 0)
		log_debug("tproxy: %d ip rules past the first %d not looked at",
		    l.over, max);
	return (l.count);
}

static int
plumb_nl_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct plumb_nl_list	*l = arg;
	struct plumb_route	*r, rt;
	const struct rtmsg	*rtm;
	const struct nlattr	*a;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return (MNL_CB_OK);
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len > 32)
		return (MNL_CB_OK);
	memset(&rt, 0, sizeof(rt));
	rt.table = rtm->rtm_table;
	rt.dst_len = rtm->rtm_dst_len;
	rt.type = rtm->rtm_type;
	rt.proto = rtm->rtm_protocol;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			rt.dst = ntohl(mnl_attr_get_u32(a));
			break;
		case RTA_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == -1)
				return (MNL_CB_OK);
			rt.table = mnl_attr_get_u32(a);
			break;
		}
	}
	/* An older kernel dumps every table. */
	if (rt.table != l->table)
		return (MNL_CB_OK);
	if (l->count == l->max) {
		l->over++;
		return (MNL_CB_OK);
	}
	r = (struct plumb_route *)l->items + l->count++;
	*r = rt;
	return (MNL_CB_OK);
}

/* The IPv4 routes of a table: their number, or -1. */
int
plumb_nl_routes(uint32_t table, struct plumb_route *routes, int max)
{
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;
	struct plumb_nl_list	 l;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	memset(&l, 0, sizeof(l));
	l.items = routes;
	l.max = max;
	l.table = table;
	if (plumb_nl_run(nlh, plumb_nl_route_cb, &l) == -1) {
		/* A table that never held a route. */
		if (errno == ENOENT)
			return (0);
		return (-1);
	}
	if (l.over > 0)
		log_debug("tproxy: %d routes of table %u past the first %d "
		    "not looked at", l.over, table, max);
	return (l.count);
}

static int
plumb_nl_get_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct rtmsg	*rtm;
	int			*type = arg;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return (MNL_CB_OK);
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family == AF_INET)
		*type = rtm->rtm_type;
	return (MNL_CB_OK);
}

/*
 * The kernel's own route lookup for a packet to dst with mark (0: none),
 * the ip rules in their order and the longest prefix in each table: the
 * route's type (RTN_LOCAL, RTN_UNICAST, ...), or -1 and errno (EACCES
 * for a prohibit, EINVAL a blackhole, ENETUNREACH unreachable or no
 * route).
 */
int
plumb_nl_route_get(uint32_t dst, uint32_t mark)
{
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;
	int			 type = -1;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
	if (mark != 0)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	if (plumb_nl_run(nlh, plumb_nl_get_cb, &type) == -1)
		return (-1);
	if (type == -1) {
		errno = EPROTO;
		return (-1);
	}
	return (type);
}

/* Add (RTM_NEWRULE) or remove (RTM_DELRULE) "to p lookup table". */
int
plumb_nl_rule(int type, const struct plumb_prefix *p, uint32_t table)
{
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	struct fib_rule_hdr	*frh;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWRULE)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	frh->dst_len = p->len;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? table : RT_TABLE_UNSPEC;
	if (p->len > 0)
		mnl_attr_put_u32(nlh, FRA_DST, htonl(p->addr));
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, PLUMB_PROTO);
	return (plumb_nl_run(nlh, NULL, NULL));
}

/*
 * Add or remove "local p dev lo src 127.0.0.1 table table".  The source
 * keeps the host's own connections to the range from leaving from an
 * address of the range.
 */
int
plumb_nl_route(int type, const struct plumb_prefix *p, uint32_t table)
{
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;
	unsigned int		 lo;

	if ((lo = if_nametoindex("lo")) == 0)
		return (-1);
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = PLUMB_PROTO;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	if (p->len > 0)
		mnl_attr_put_u32(nlh, RTA_DST, htonl(p->addr));
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, lo);
	mnl_attr_put_u32(nlh, RTA_PREFSRC, htonl(INADDR_LOOPBACK));
	return (plumb_nl_run(nlh, NULL, NULL));
}

/* Remove a rule as it was read, matched by its protocol too. */
int
plumb_nl_del_rule(const struct plumb_rule *r)
{
	struct plumb_prefix	p;

	p.addr = r->dst;
	p.len = r->dst_len;
	return (plumb_nl_rule(RTM_DELRULE, &p, r->table));
}

/* Remove a route as it was read, matched by its protocol too. */
int
plumb_nl_del_route(const struct plumb_route *r)
{
	unsigned char		 req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	struct rtmsg		*rtm;

	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = r->table < 256 ? r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->proto;
	rtm->rtm_scope = RT_SCOPE_NOWHERE;
	rtm->rtm_type = r->type;
	if (r->dst_len > 0)
		mnl_attr_put_u32(nlh, RTA_DST, htonl(r->dst));
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	return (plumb_nl_run(nlh, NULL, NULL));
}
