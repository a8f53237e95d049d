/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * prefixtest.c: the prefix tables (src/prefix.c).  Overlapping prefixes,
 * /0 and /32, the first and last address of every range and the one
 * beside it, ranks at equal length, the destination and client tables
 * built from a configuration and a list of interface addresses, and the
 * range's overlaps with those addresses and with public address space;
 * the IPv6 rules beside them, with prefixes that end inside a byte.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "msg.h"
#include "prefix.h"
#include "../lib/test.h"

struct dns44_conf	*conf;

static uint32_t
ip(const char *s)
{
	struct in_addr	in;

	if (inet_pton(AF_INET, s, &in) != 1)
		abort();
	return (ntohl(in.s_addr));
}

/* The verdict for s, 0 when no rule decides. */
static int
verdict(const struct prefix_table *t, const char *s)
{
	const struct prefix_rule	*r;

	r = prefix_lookup(t, ip(s));
	return (r == NULL ? 0 : r->verdict);
}

static const char *
label(const struct prefix_table *t, const char *s)
{
	const struct prefix_rule	*r;

	r = prefix_lookup(t, ip(s));
	return (r == NULL ? "" : r->label);
}

static void
test_empty(void)
{
	struct prefix_table	*t;

	CHECK((t = prefix_new()) != NULL);
	CHECK_EQ(verdict(t, "1.2.3.4"), 0);
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(prefix_intervals(t), 1);
	CHECK_EQ(verdict(t, "0.0.0.0"), 0);
	CHECK_EQ(verdict(t, "255.255.255.255"), 0);
	prefix_free(t);
}

static void
test_edges(void)
{
	struct prefix_table	*t;

	t = prefix_new();
	CHECK_EQ(prefix_add(t, ip("10.0.0.0"), 8, PREFIX_DENY, PREFIX_CONF,
	    "a"), 0);
	CHECK_EQ(prefix_add(t, ip("10.1.2.3"), 32, PREFIX_ALLOW, PREFIX_CONF,
	    "b"), 0);
	/* Host bits are cleared. */
	CHECK_EQ(prefix_add(t, ip("192.168.7.9"), 24, PREFIX_DENY,
	    PREFIX_CONF, "c"), 0);
	CHECK_EQ(prefix_add(t, ip("1.2.3.4"), 33, PREFIX_DENY, PREFIX_CONF,
	    "bad"), -1);
	CHECK_EQ(prefix_add(t, ip("1.2.3.4"), 8, 7, PREFIX_CONF, "bad"), -1);
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(prefix_count(t), 3);

	CHECK_EQ(verdict(t, "9.255.255.255"), 0);
	CHECK_EQ(verdict(t, "10.0.0.0"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "10.1.2.2"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "10.1.2.3"), PREFIX_ALLOW);
	CHECK(strcmp(label(t, "10.1.2.3"), "b") == 0);
	CHECK_EQ(verdict(t, "10.1.2.4"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "10.255.255.255"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "11.0.0.0"), 0);
	CHECK_EQ(verdict(t, "192.168.6.255"), 0);
	CHECK_EQ(verdict(t, "192.168.7.0"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "192.168.7.255"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "192.168.8.0"), 0);
	CHECK_EQ(verdict(t, "0.0.0.0"), 0);
	CHECK_EQ(verdict(t, "255.255.255.255"), 0);
	prefix_free(t);
}

static void
test_whole(void)
{
	struct prefix_table	*t;

	/* /0 and /32 at both ends of the space. */
	t = prefix_new();
	prefix_add(t, 0, 0, PREFIX_ALLOW, PREFIX_CONF, "all");
	prefix_add(t, 0, 32, PREFIX_DENY, PREFIX_BUILTIN, "zero");
	prefix_add(t, 0xffffffffU, 32, PREFIX_DENY, PREFIX_BUILTIN, "bcast");
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(prefix_intervals(t), 3);
	CHECK_EQ(verdict(t, "0.0.0.0"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "0.0.0.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "128.0.0.0"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "255.255.255.254"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "255.255.255.255"), PREFIX_DENY);
	CHECK(strcmp(label(t, "255.255.255.255"), "bcast") == 0);
	prefix_free(t);

	/* A deny of everything, one hole. */
	t = prefix_new();
	prefix_add(t, 0, 0, PREFIX_DENY, PREFIX_CONF, "none");
	prefix_add(t, ip("8.8.8.8"), 32, PREFIX_ALLOW, PREFIX_CONF, "dns");
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(verdict(t, "8.8.8.7"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "8.8.8.8"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "8.8.8.9"), PREFIX_DENY);
	prefix_free(t);
}

static void
test_rank(void)
{
	struct prefix_table	*t;

	t = prefix_new();
	/* The configuration beats the defaults at equal length. */
	prefix_add(t, ip("127.0.0.0"), 8, PREFIX_ALLOW, PREFIX_CONF, "conf");
	prefix_add(t, ip("127.0.0.0"), 8, PREFIX_DENY, PREFIX_BUILTIN,
	    "builtin");
	/* A local address beats a default, loses to the configuration. */
	prefix_add(t, ip("192.0.2.1"), 32, PREFIX_DENY, PREFIX_LOCAL, "local");
	prefix_add(t, ip("192.0.2.1"), 32, PREFIX_ALLOW, PREFIX_BUILTIN, "x");
	prefix_add(t, ip("198.51.100.1"), 32, PREFIX_DENY, PREFIX_LOCAL,
	    "local");
	prefix_add(t, ip("198.51.100.1"), 32, PREFIX_ALLOW, PREFIX_CONF,
	    "conf2");
	/* ... but a longer default wins over a shorter allow. */
	prefix_add(t, ip("198.51.100.0"), 24, PREFIX_ALLOW, PREFIX_CONF,
	    "net");
	prefix_add(t, ip("198.51.100.7"), 32, PREFIX_DENY, PREFIX_LOCAL,
	    "local7");
	/* Same rank and length: the later line wins. */
	prefix_add(t, ip("203.0.113.0"), 24, PREFIX_ALLOW, PREFIX_CONF, "one");
	prefix_add(t, ip("203.0.113.0"), 24, PREFIX_DENY, PREFIX_CONF, "two");
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(verdict(t, "127.0.0.1"), PREFIX_ALLOW);
	CHECK(strcmp(label(t, "127.255.255.255"), "conf") == 0);
	CHECK_EQ(verdict(t, "192.0.2.1"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "198.51.100.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "198.51.100.6"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "198.51.100.7"), PREFIX_DENY);
	CHECK(strcmp(label(t, "198.51.100.7"), "local7") == 0);
	CHECK_EQ(verdict(t, "198.51.100.8"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "203.0.113.9"), PREFIX_DENY);
	CHECK(strcmp(label(t, "203.0.113.9"), "two") == 0);
	/* Compiling twice gives the same. */
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(verdict(t, "198.51.100.7"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "127.0.0.1"), PREFIX_ALLOW);
	prefix_free(t);
}

/* Many nested and neighbouring prefixes against a linear scan. */
static void
test_random(void)
{
	struct prefix_table		*t;
	struct prefix_rule		 rules[200];
	const struct prefix_rule	*got;
	uint32_t			 a, mask;
	int				 i, j, best, bad = 0;

	srandom(44);
	t = prefix_new();
	for (i = 0; i < 200; i++) {
		rules[i].len = random() % 33;
		mask = rules[i].len == 0 ? 0 :
		    0xffffffffU << (32 - rules[i].len);
		/* Clustered, so that they overlap. */
		rules[i].addr = (0x0a000000U | (random() & 0x0003ffff)) & mask;
		rules[i].verdict = random() % 2 ? PREFIX_ALLOW : PREFIX_DENY;
		rules[i].rank = random() % 3;
		prefix_add(t, rules[i].addr, rules[i].len, rules[i].verdict,
		    rules[i].rank, "r");
	}
	CHECK_EQ(prefix_compile(t), 0);
	for (j = 0; j < 20000; j++) {
		a = 0x0a000000U | (random() & 0x0003ffff);
		if (j % 3 == 0)
			a = rules[j % 200].addr;
		best = -1;
		for (i = 0; i < 200; i++) {
			mask = rules[i].len == 0 ? 0 :
			    0xffffffffU << (32 - rules[i].len);
			if ((a & mask) != rules[i].addr)
				continue;
			if (best == -1 || rules[i].len > rules[best].len ||
			    (rules[i].len == rules[best].len &&
			    rules[i].rank >= rules[best].rank))
				best = i;
		}
		got = prefix_lookup(t, a);
		if ((best == -1) != (got == NULL) || (got != NULL &&
		    (got->verdict != rules[best].verdict ||
		    got->len != rules[best].len)))
			bad++;
	}
	CHECK_EQ(bad, 0);
	prefix_free(t);
}

static void
test_tables(void)
{
	struct dns44_conf	 c;
	struct msg_ifaddrs	 ifa;
	struct prefix_table	*t;

	conf_defaults(&c);
	memset(&ifa, 0, sizeof(ifa));
	ifa.count = 3;
	ifa.addrs[2].local = htonl(ip("127.0.0.1"));
	ifa.addrs[2].peer = htonl(ip("127.0.0.1"));
	ifa.addrs[2].prefixlen = 8;
	ifa.addrs[0].local = htonl(ip("192.168.1.1"));
	ifa.addrs[0].peer = htonl(ip("192.168.1.1"));
	ifa.addrs[0].prefixlen = 24;
	ifa.addrs[1].local = htonl(ip("10.9.0.1"));
	ifa.addrs[1].peer = htonl(ip("10.9.0.2"));	/* point to point */
	ifa.addrs[1].prefixlen = 32;

	CHECK((t = prefix_dest_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict(t, "0.1.2.3"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "127.0.0.1"), PREFIX_DENY);
	/* lo's own address is left to the built-in line. */
	CHECK(strcmp(label(t, "127.0.0.1"), "127.0.0.0/8 (built-in)") == 0);
	CHECK_EQ(verdict(t, "128.0.0.1"), 0);
	CHECK_EQ(verdict(t, "169.254.169.254"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "223.255.255.255"), 0);
	CHECK_EQ(verdict(t, "224.0.0.1"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "239.255.255.255"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "240.0.0.0"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "255.255.255.255"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "192.168.1.1"), PREFIX_DENY);
	CHECK(strcmp(label(t, "192.168.1.1"), "local address") == 0);
	CHECK_EQ(verdict(t, "192.168.1.2"), 0);
	CHECK_EQ(verdict(t, "10.9.0.1"), PREFIX_DENY);
	CHECK_EQ(verdict(t, "10.9.0.2"), 0);
	CHECK_EQ(verdict(t, "1.1.1.1"), 0);
	prefix_free(t);

	/* The configuration adds a deny and opens one loopback service. */
	c.proxy_rules[0].family = AF_INET;
	c.proxy_rules[0].addr = ip("10.0.0.0");
	c.proxy_rules[0].len = 8;
	c.proxy_rules[0].allow = 0;
	strlcpy(c.proxy_rules[0].where, "dns44.conf:3",
	    sizeof(c.proxy_rules[0].where));
	c.proxy_rules[1].family = AF_INET;
	c.proxy_rules[1].addr = ip("127.0.0.1");
	c.proxy_rules[1].len = 32;
	c.proxy_rules[1].allow = 1;
	strlcpy(c.proxy_rules[1].where, "dns44.conf:4",
	    sizeof(c.proxy_rules[1].where));
	c.proxy_rule_count = 2;
	CHECK((t = prefix_dest_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict(t, "10.9.0.2"), PREFIX_DENY);
	CHECK(strcmp(label(t, "10.9.0.2"), "dns44.conf:3") == 0);
	CHECK(strcmp(label(t, "10.9.0.1"), "local address") == 0);
	CHECK_EQ(verdict(t, "127.0.0.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "127.0.0.2"), PREFIX_DENY);
	prefix_free(t);

	/* All of loopback allowed: lo's address too. */
	c.proxy_rules[1].addr = ip("127.0.0.0");
	c.proxy_rules[1].len = 8;
	CHECK((t = prefix_dest_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict(t, "127.0.0.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "127.255.0.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "192.168.1.1"), PREFIX_DENY);
	prefix_free(t);

	CHECK((t = prefix_client_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict(t, "127.0.0.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "192.168.1.0"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "192.168.1.255"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "192.168.2.0"), 0);
	CHECK_EQ(verdict(t, "10.9.0.1"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "10.9.0.2"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "10.9.0.3"), 0);
	CHECK_EQ(verdict(t, "8.8.8.8"), 0);
	prefix_free(t);

	c.client_nets[0].family = AF_INET;
	c.client_nets[0].addr = ip("172.16.0.0");
	c.client_nets[0].len = 12;
	c.client_nets[0].allow = 1;
	c.client_net_count = 1;
	CHECK((t = prefix_client_table(&c, NULL)) != NULL);
	CHECK_EQ(verdict(t, "172.31.255.255"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "172.32.0.0"), 0);
	CHECK_EQ(verdict(t, "192.168.1.1"), 0);
	CHECK_EQ(verdict(t, "127.1.2.3"), PREFIX_ALLOW);
	prefix_free(t);

	c.client_any = 1;
	CHECK((t = prefix_client_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict(t, "8.8.8.8"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "0.0.0.0"), PREFIX_ALLOW);
	CHECK_EQ(verdict(t, "255.255.255.255"), PREFIX_ALLOW);
	prefix_free(t);
}

static struct in6_addr
ip6(const char *s)
{
	struct in6_addr	in6;

	if (inet_pton(AF_INET6, s, &in6) != 1)
		abort();
	return (in6);
}

/* The verdict for the IPv6 address s, 0 when no rule decides. */
static int
verdict6(const struct prefix_table *t, const char *s)
{
	const struct prefix_rule	*r;
	struct in6_addr			 a = ip6(s);

	r = prefix_lookup6(t, &a);
	return (r == NULL ? 0 : r->verdict);
}

static const char *
label6(const struct prefix_table *t, const char *s)
{
	const struct prefix_rule	*r;
	struct in6_addr			 a = ip6(s);

	r = prefix_lookup6(t, &a);
	return (r == NULL ? "" : r->label);
}

static int
add6(struct prefix_table *t, const char *s, int len, int verdict, int rank,
    const char *label)
{
	struct in6_addr	a = ip6(s);

	return (prefix_add6(t, &a, len, verdict, rank, label));
}

static void
test_six(void)
{
	struct prefix_table	*t;

	CHECK((t = prefix_new()) != NULL);
	CHECK_EQ(verdict6(t, "::1"), 0);
	CHECK_EQ(add6(t, "fd00::", 8, PREFIX_DENY, PREFIX_CONF, "ula"), 0);
	CHECK_EQ(add6(t, "fd44:2::5", 128, PREFIX_ALLOW, PREFIX_CONF, "one"),
	    0);
	/* Host bits are cleared; the prefix ends inside a byte. */
	CHECK_EQ(add6(t, "2001:db8::1", 33, PREFIX_DENY, PREFIX_CONF, "doc"),
	    0);
	CHECK_EQ(add6(t, "::", 129, PREFIX_DENY, PREFIX_CONF, "x"), -1);
	CHECK_EQ(add6(t, "::", -1, PREFIX_DENY, PREFIX_CONF, "x"), -1);
	CHECK_EQ(add6(t, "::", 0, 0, PREFIX_CONF, "x"), -1);
	CHECK_EQ(prefix_count(t), 3);
	CHECK_EQ(verdict6(t, "fd00::"), PREFIX_DENY);
	CHECK_EQ(verdict6(t, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
	    PREFIX_DENY);
	CHECK_EQ(verdict6(t, "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 0);
	CHECK_EQ(verdict6(t, "fe00::"), 0);
	CHECK_EQ(verdict6(t, "fd44:2::5"), PREFIX_ALLOW);
	CHECK(strcmp(label6(t, "fd44:2::5"), "one") == 0);
	CHECK_EQ(verdict6(t, "fd44:2::4"), PREFIX_DENY);
	CHECK(strcmp(label6(t, "fd44:2::6"), "ula") == 0);
	CHECK_EQ(verdict6(t, "2001:db8::"), PREFIX_DENY);
	CHECK_EQ(verdict6(t, "2001:db8:7fff:ffff::1"), PREFIX_DENY);
	CHECK_EQ(verdict6(t, "2001:db8:8000::"), 0);
	CHECK_EQ(verdict6(t, "2001:db9::"), 0);
	/* IPv4 lookups see none of it. */
	CHECK_EQ(prefix_compile(t), 0);
	CHECK_EQ(verdict(t, "253.0.0.0"), 0);

	/* The same length: the higher rank, then the later rule. */
	CHECK_EQ(add6(t, "2001:db8:8000::", 33, PREFIX_ALLOW, PREFIX_CONF,
	    "late"), 0);
	CHECK_EQ(add6(t, "2001:db8:8000::", 33, PREFIX_DENY, PREFIX_BUILTIN,
	    "low"), 0);
	CHECK(strcmp(label6(t, "2001:db8:8000::1"), "late") == 0);
	CHECK_EQ(add6(t, "2001:db8:8000::", 33, PREFIX_DENY, PREFIX_CONF,
	    "later"), 0);
	CHECK(strcmp(label6(t, "2001:db8:8000::1"), "later") == 0);
	/* /0 takes what nothing longer does. */
	CHECK_EQ(add6(t, "::", 0, PREFIX_ALLOW, PREFIX_BUILTIN, "all"), 0);
	CHECK(strcmp(label6(t, "2001:db9::"), "all") == 0);
	CHECK(strcmp(label6(t, "fd44:2::5"), "one") == 0);
	prefix_free(t);
}

/* One more proxy allow or deny line in c, of either family, line 5 on. */
static void
conf_rule(struct dns44_conf *c, const char *addr, int len, int allow)
{
	struct conf_prefix	*p = &c->proxy_rules[c->proxy_rule_count];

	if (strchr(addr, ':') != NULL) {
		p->family = AF_INET6;
		p->addr6 = ip6(addr);
	} else {
		p->family = AF_INET;
		p->addr = ip(addr);
	}
	p->len = len;
	p->allow = allow;
	snprintf(p->where, sizeof(p->where), "dns44.conf:%d",
	    5 + c->proxy_rule_count++);
}

static void
test_tables6(void)
{
	struct dns44_conf	 c;
	struct msg_ifaddrs	 ifa;
	struct prefix_table	*t;

	conf_defaults(&c);
	memset(&ifa, 0, sizeof(ifa));
	ifa.count6 = 2;
	ifa.addrs6[0].local = ip6("::1");
	ifa.addrs6[1].local = ip6("2001:db8:1::1");
	CHECK((t = prefix_dest_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict6(t, "::1"), PREFIX_DENY);
	/* lo's own is left to the built-in line, which allow opens. */
	CHECK(strcmp(label6(t, "::1"), "::1/128 (built-in)") == 0);
	CHECK(strcmp(label6(t, "::"), "::/128 (built-in)") == 0);
	CHECK(strcmp(label6(t, "fe80::1"), "fe80::/10 (built-in)") == 0);
	CHECK(strcmp(label6(t, "febf:ffff::1"), "fe80::/10 (built-in)") == 0);
	CHECK_EQ(verdict6(t, "fec0::1"), 0);
	CHECK(strcmp(label6(t, "ff02::1"), "ff00::/8 (built-in)") == 0);
	CHECK(strcmp(label6(t, "2001:db8:1::1"), "local address") == 0);
	CHECK_EQ(verdict6(t, "2001:db8:1::2"), 0);
	CHECK_EQ(verdict6(t, "::2"), 0);
	prefix_free(t);

	/* The configuration denies the LAN's ULA and opens two. */
	conf_rule(&c, "fd00::", 8, 0);
	conf_rule(&c, "::1", 128, 1);
	conf_rule(&c, "10.0.0.0", 8, 0);
	conf_rule(&c, "2001:db8:1::1", 128, 1);
	CHECK((t = prefix_dest_table(&c, &ifa)) != NULL);
	CHECK_EQ(verdict6(t, "fd12:3456::1"), PREFIX_DENY);
	CHECK(strcmp(label6(t, "fd12:3456::1"), "dns44.conf:5") == 0);
	CHECK_EQ(verdict6(t, "fc00::1"), 0);
	CHECK_EQ(verdict6(t, "::1"), PREFIX_ALLOW);
	/* A line of the file wins over the gateway's address. */
	CHECK_EQ(verdict6(t, "2001:db8:1::1"), PREFIX_ALLOW);
	/* Each family's lines stay in their own table. */
	CHECK_EQ(verdict(t, "10.1.2.3"), PREFIX_DENY);
	CHECK(strcmp(label(t, "10.1.2.3"), "dns44.conf:7") == 0);
	CHECK_EQ(verdict(t, "0.0.0.1"), PREFIX_DENY);
	CHECK_EQ(verdict6(t, "a00::"), 0);
	prefix_free(t);
}

/* The range c says, as the grammar reads it. */
static void
range(struct dns44_conf *c, const char *s)
{
	CHECK(conf_parse_range(s, c) == 0);
}

static void
test_range_checks(void)
{
	struct dns44_conf	 c;
	struct msg_ifaddrs	 ifa;
	char			 err[256];

	conf_defaults(&c);
	memset(&ifa, 0, sizeof(ifa));
	ifa.count = 3;
	ifa.addrs[0].local = ifa.addrs[0].peer = htonl(ip("127.0.0.1"));
	ifa.addrs[0].prefixlen = 8;
	ifa.addrs[1].local = ifa.addrs[1].peer = htonl(ip("10.46.1.1"));
	ifa.addrs[1].prefixlen = 24;
	ifa.addrs[2].local = htonl(ip("10.9.0.1"));
	ifa.addrs[2].peer = htonl(ip("10.9.0.2"));	/* point to point */
	ifa.addrs[2].prefixlen = 32;

	/* The default range touches none of them. */
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == 0);
	CHECK(prefix_range_local(&c, NULL, err, sizeof(err)) == 0);
	range(&c, "10.46.0.0/16");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == -1);
	CHECK(strcmp(err, "range 10.46.0.0/16 overlaps 10.46.1.0/24, the "
	    "subnet of the gateway's address 10.46.1.1") == 0);
	/* A subnet's network address only: the range's broadcast counts. */
	range(&c, "10.46.0.0/24");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == 0);
	range(&c, "10.46.0.252/30");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == 0);
	range(&c, "10.46.1.0/30");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == -1);
	range(&c, "10.46.1.128 - 10.46.1.200");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == -1);
	CHECK(strcmp(err, "range 10.46.1.128 - 10.46.1.200 overlaps "
	    "10.46.1.0/24, the subnet of the gateway's address 10.46.1.1") ==
	    0);
	range(&c, "10.46.2.0 - 10.46.2.255");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == 0);
	/* Point to point: the peer and our own address, nothing between. */
	range(&c, "10.9.0.2/32");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == -1);
	range(&c, "10.9.0.1/32");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == -1);
	CHECK(strcmp(err, "range 10.9.0.1/32 holds 10.9.0.1, an address of "
	    "the gateway's own") == 0);
	range(&c, "10.9.0.3/32");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == 0);
	range(&c, "127.255.0.0/16");
	CHECK(prefix_range_local(&c, &ifa, err, sizeof(err)) == -1);

	/* Private, shared and reserved space is no warning. */
	range(&c, "172.24.0.0/16");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "10.0.0.0/8");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "100.64.0.0/10");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "198.18.0.0/15");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "192.168.0.0/16");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "172.16.0.0/12");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "203.0.113.0/24");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	range(&c, "240.0.0.0 - 255.255.255.254");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 0);
	/* Public space, or a range running over the edge of private. */
	range(&c, "1.2.3.0/24");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 1);
	CHECK(strcmp(err, "range 1.2.3.0/24 reaches into public address space "
	    "(1.2.3.0 is neither private nor reserved): clients can no "
	    "longer reach the real hosts there") == 0);
	range(&c, "172.31.255.0 - 172.32.0.10");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 1);
	CHECK(strstr(err, "(172.32.0.0 is neither") != NULL);
	range(&c, "100.0.0.0/8");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 1);
	range(&c, "198.16.0.0/14");
	CHECK(prefix_range_public(&c, err, sizeof(err)) == 1);
	CHECK(strstr(err, "(198.16.0.0 is neither") != NULL);
}

int
main(void)
{
	test_empty();
	test_edges();
	test_whole();
	test_rank();
	test_random();
	test_tables();
	test_six();
	test_tables6();
	test_range_checks();
	return (test_done("prefixtest"));
}
