/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * ifaddrtest.c: the parent's reading of netlink address messages
 * (src/ifaddr.c).  Good messages give their addresses; short ones, wrong
 * attribute sizes, prefix lengths past 32 and a truncated tail are
 * skipped without harm to their neighbours, a length libmnl would take
 * for a negative one with all after it; other families and types are
 * ignored; an error from the kernel is reported; the list stops at its
 * maximum and sorts without duplicates.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "proc.h"
#include "../lib/test.h"

struct dns44_conf	*conf;

static unsigned char	 buf[64 * 1024];
static size_t		 used;

static uint32_t
ip(const char *s)
{
	struct in_addr	in;

	if (inet_pton(AF_INET, s, &in) != 1)
		abort();
	return (in.s_addr);
}

/* An address message at the end of buf; local or peer 0: left out. */
static struct nlmsghdr *
put_addr(int type, int family, int prefixlen, uint32_t local, uint32_t peer,
    uint32_t seq)
{
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;

	nlh = mnl_nlmsg_put_header(buf + used);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = 2;
	if (peer != 0)
		mnl_attr_put_u32(nlh, IFA_ADDRESS, peer);
	if (local != 0)
		mnl_attr_put_u32(nlh, IFA_LOCAL, local);
	used += nlh->nlmsg_len;
	return (nlh);
}

/* An IPv6 address message, IFA_ADDRESS only as the kernel sends it. */
static struct nlmsghdr *
put_addr6(int type, int prefixlen, const char *addr, uint32_t seq)
{
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	struct in6_addr		 in6;

	if (inet_pton(AF_INET6, addr, &in6) != 1)
		abort();
	nlh = mnl_nlmsg_put_header(buf + used);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = 2;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(in6), &in6);
	used += nlh->nlmsg_len;
	return (nlh);
}

static void
put_done(uint32_t seq)
{
	struct nlmsghdr	*nlh;

	nlh = mnl_nlmsg_put_header(buf + used);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_seq = seq;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	used += nlh->nlmsg_len;
}

static void
test_good(void)
{
	struct msg_ifaddrs	list;
	int			done = 0, seen = 0;

	memset(&list, 0, sizeof(list));
	used = 0;
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("192.168.1.1"),
	    ip("192.168.1.1"), 7);
	put_addr(RTM_NEWADDR, AF_INET, 32, ip("10.9.0.1"), ip("10.9.0.2"), 7);
	/* Only IFA_ADDRESS, as some links have. */
	put_addr(RTM_NEWADDR, AF_INET, 8, 0, ip("127.0.0.1"), 7);
	put_addr(RTM_NEWADDR, AF_INET6, 64, ip("1.2.3.4"), 0, 7);
	/* Another request's answer. */
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("9.9.9.9"), 0, 8);
	put_done(7);
	CHECK_EQ(ifaddr_parse(buf, used, 7, &list, &done, &seen), 0);
	CHECK_EQ(done, 1);
	CHECK_EQ(seen, 1);
	CHECK_EQ(list.count, 3);
	CHECK_EQ(list.addrs[0].local, ip("192.168.1.1"));
	CHECK_EQ(list.addrs[0].prefixlen, 24);
	CHECK_EQ(list.addrs[1].local, ip("10.9.0.1"));
	CHECK_EQ(list.addrs[1].peer, ip("10.9.0.2"));
	CHECK_EQ(list.addrs[2].local, ip("127.0.0.1"));
	CHECK_EQ(list.addrs[2].peer, ip("127.0.0.1"));
	ifaddr_sort(&list);
	CHECK_EQ(list.addrs[0].local, ip("10.9.0.1"));
	CHECK_EQ(list.addrs[2].local, ip("192.168.1.1"));
	/* The IPv6 message with an IPv4-sized address was malformed. */
	CHECK_EQ(list.count6, 0);
}

/* IPv6 addresses: kept apart, sorted, once each; bad ones skipped. */
static void
test_ipv6(void)
{
	struct msg_ifaddrs	list;
	struct in6_addr		in6;
	int			done = 0, seen = 0;

	memset(&list, 0, sizeof(list));
	used = 0;
	put_addr6(RTM_NEWADDR, 64, "2001:db8:1::1", 0);
	put_addr6(RTM_NEWADDR, 64, "fe80::1", 0);
	put_addr6(RTM_NEWADDR, 64, "2001:db8:1::1", 0);
	put_addr6(RTM_NEWADDR, 129, "2001:db8:2::1", 0);
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.5.0.1"), 0, 0);
	CHECK_EQ(ifaddr_parse(buf, used, 0, &list, &done, &seen), 0);
	CHECK_EQ(seen, 1);
	CHECK_EQ(list.count, 1);
	CHECK_EQ(list.count6, 3);
	ifaddr_sort(&list);
	CHECK_EQ(list.count6, 2);
	inet_pton(AF_INET6, "2001:db8:1::1", &in6);
	CHECK(memcmp(&list.addrs6[0].local, &in6, sizeof(in6)) == 0);
	CHECK_EQ(list.addrs6[0].prefixlen, 64);
	inet_pton(AF_INET6, "fe80::1", &in6);
	CHECK(memcmp(&list.addrs6[1].local, &in6, sizeof(in6)) == 0);

	/* An IPv6 event is seen too. */
	seen = 0;
	used = 0;
	put_addr6(RTM_DELADDR, 64, "2001:db8:1::1", 0);
	CHECK_EQ(ifaddr_parse(buf, used, 0, NULL, &done, &seen), 0);
	CHECK_EQ(seen, 1);
}

static void
test_bad(void)
{
	struct msg_ifaddrs	 list;
	struct nlmsghdr		*nlh;
	struct nlattr		*attr;
	int			 done = 0, seen = 0;

	memset(&list, 0, sizeof(list));
	used = 0;
	/* A payload shorter than struct ifaddrmsg. */
	nlh = mnl_nlmsg_put_header(buf + used);
	nlh->nlmsg_type = RTM_NEWADDR;
	mnl_nlmsg_put_extra_header(nlh, 2);
	used += nlh->nlmsg_len;
	/* A prefix length past 32. */
	put_addr(RTM_NEWADDR, AF_INET, 33, ip("10.0.0.1"), 0, 0);
	/* No address at all. */
	put_addr(RTM_NEWADDR, AF_INET, 24, 0, 0, 0);
	/* IFA_LOCAL of two bytes. */
	nlh = mnl_nlmsg_put_header(buf + used);
	nlh->nlmsg_type = RTM_NEWADDR;
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh,
	    sizeof(struct ifaddrmsg)))->ifa_family = AF_INET;
	mnl_attr_put_u16(nlh, IFA_LOCAL, 1);
	used += nlh->nlmsg_len;
	/* An attribute claiming more than the message holds. */
	nlh = put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.0.0.2"), 0, 0);
	attr = (struct nlattr *)((unsigned char *)nlh +
	    NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifaddrmsg)));
	attr->nla_len = 200;
	/* A good one among them. */
	put_addr(RTM_NEWADDR, AF_INET, 16, ip("172.16.0.1"), 0, 0);
	/* Another type. */
	put_addr(RTM_NEWROUTE, AF_INET, 16, ip("172.17.0.1"), 0, 0);
	CHECK_EQ(ifaddr_parse(buf, used, 0, &list, &done, &seen), 0);
	CHECK_EQ(list.count, 1);
	CHECK_EQ(list.addrs[0].local, ip("172.16.0.1"));
	CHECK_EQ(done, 0);

	/* A truncated message at the end is skipped, the rest read. */
	memset(&list, 0, sizeof(list));
	used = 0;
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.1.0.1"), 0, 0);
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.2.0.1"), 0, 0);
	CHECK_EQ(ifaddr_parse(buf, used - 6, 0, &list, &done, &seen), 0);
	CHECK_EQ(list.count, 1);
	/* A header whose length is below a header's. */
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = 4;
	memset(&list, 0, sizeof(list));
	CHECK_EQ(ifaddr_parse(buf, used, 0, &list, &done, &seen), 0);
	CHECK_EQ(list.count, 0);
	/* Fewer bytes than a header. */
	CHECK_EQ(ifaddr_parse(buf, 3, 0, &list, &done, &seen), 0);
	CHECK_EQ(list.count, 0);

	/*
	 * A length of 2^31 or more, which libmnl's check takes for a
	 * negative one: the messages before it read, it and the rest not.
	 */
	memset(&list, 0, sizeof(list));
	used = 0;
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.3.0.1"), 0, 0);
	nlh = put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.4.0.1"), 0, 0);
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.5.0.1"), 0, 0);
	nlh->nlmsg_len = 0xa9a90020;
	CHECK_EQ(ifaddr_nl_whole(buf, used), (unsigned char *)nlh - buf);
	CHECK_EQ(ifaddr_parse(buf, used, 0, &list, &done, &seen), 0);
	CHECK_EQ(list.count, 1);
	CHECK_EQ(list.addrs[0].local, ip("10.3.0.1"));
	/* A last message whose padding is cut off is whole. */
	used = 0;
	put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.6.0.1"), 0, 0);
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len -= 2;
	CHECK_EQ(ifaddr_nl_whole(buf, used - 2), used - 2);
}

static void
test_events(void)
{
	struct msg_ifaddrs	 list;
	struct nlmsghdr		*nlh;
	struct nlmsgerr		*err;
	int			 done = 0, seen = 0;

	/* Events: seen, whether added or deleted, and no list. */
	used = 0;
	put_addr(RTM_DELADDR, AF_INET, 24, ip("10.3.0.1"), 0, 0);
	CHECK_EQ(ifaddr_parse(buf, used, 0, NULL, &done, &seen), 0);
	CHECK_EQ(seen, 1);
	seen = 0;
	used = 0;
	put_addr(RTM_NEWADDR, AF_INET6, 64, ip("10.3.0.1"), 0, 0);
	CHECK_EQ(ifaddr_parse(buf, used, 0, NULL, &done, &seen), 0);
	CHECK_EQ(seen, 0);

	/* The kernel's error. */
	used = 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 5;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -EPERM;
	used = nlh->nlmsg_len;
	memset(&list, 0, sizeof(list));
	errno = 0;
	CHECK_EQ(ifaddr_parse(buf, used, 5, &list, &done, &seen), -1);
	CHECK_EQ(errno, EPERM);
	/* Not a kernel's error number: EPROTO, not its negation. */
	err->error = INT_MIN;
	CHECK_EQ(ifaddr_parse(buf, used, 5, &list, &done, &seen), -1);
	CHECK_EQ(errno, EPROTO);
	err->error = 5;
	CHECK_EQ(ifaddr_parse(buf, used, 5, &list, &done, &seen), -1);
	CHECK_EQ(errno, EPROTO);
	/* Too short to hold one: skipped. */
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;
	CHECK_EQ(ifaddr_parse(buf, nlh->nlmsg_len, 5, &list, &done, &seen), 0);
	/* A dump the kernel cut short. */
	used = 0;
	nlh = put_addr(RTM_NEWADDR, AF_INET, 24, ip("10.4.0.1"), 0, 5);
	nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
	errno = 0;
	CHECK_EQ(ifaddr_parse(buf, used, 5, &list, &done, &seen), -1);
	CHECK_EQ(errno, EINTR);
}

static void
test_full(void)
{
	struct msg_ifaddrs	list;
	int			done = 0, seen = 0, i;

	memset(&list, 0, sizeof(list));
	used = 0;
	/* 300 messages: the first 256 kept, of which 250 differ. */
	for (i = 0; i < 300; i++)
		put_addr(RTM_NEWADDR, AF_INET, 24,
		    htonl(0x0a000001 + ((i % 250) << 8)), 0, 0);
	CHECK_EQ(ifaddr_parse(buf, used, 0, &list, &done, &seen), 0);
	CHECK_EQ(list.count, MSG_MAX_IFADDRS);
	/* Duplicates go. */
	ifaddr_sort(&list);
	CHECK_EQ(list.count, 250);
	CHECK_EQ(list.addrs[249].local, htonl(0x0a000001 + (249 << 8)));
	CHECK_EQ(list.addrs[250].local, 0);
}

int
main(void)
{
	test_good();
	test_bad();
	test_events();
	test_full();
	test_ipv6();
	return (test_done("ifaddrtest"));
}
