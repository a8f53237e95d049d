/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * addrtest.c: what a proxy worker knows of each virtual address
 * (src/proxy_addr.c), with the clock and the channel to the dns process
 * played by the test.  The waiters of one address share one lookup and
 * all hear its answer; an answer is kept for its TTL, a minute at most,
 * and only when it has somewhere to go; an eviction forgets it, also
 * while the lookup is out; an answer the rules made for one client is
 * heard by that client's waiters alone; the answers kept are bounded,
 * the least recently used forgotten first; the dns process hears of an
 * address's first pin and its last release, and a pin lost to an
 * eviction is taken again for connections opened since.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "../../src/proxy.h"
#include "../lib/test.h"

#define CACHE_BOUND	4096	/* proxy_addr.c's PROXY_CACHE_MAX */
#define TTL_CAP		60	/* and PROXY_CACHE_TTL_MAX */
#define SENT_MAX	8

/* The clock, in ms, and what went to the dns process. */
static uint64_t		now_ms = 1000000;
static struct sent {
	uint32_t	type;
	uint32_t	id;
	uint32_t	addr;
	uint32_t	client;
} sent[SENT_MAX];
static int		nsent;

uint64_t
proxy_now(void)
{
	return (now_ms);
}

int
proxy_peer_compose(uint32_t type, uint32_t id, const void *data, size_t len)
{
	struct msg_lookup	ml;

	if (len != sizeof(ml) || nsent == SENT_MAX)
		abort();
	memcpy(&ml, data, sizeof(ml));
	sent[nsent].type = type;
	sent[nsent].id = id;
	sent[nsent].addr = ml.addr;
	sent[nsent].client = ml.client;
	nsent++;
	return (0);
}

/* A connection waiting: what it heard, and how often. */
struct conn {
	struct proxy_wait	w;
	int			heard;
	char			domain[MSG_DOMAIN_MAX];	/* "": none */
	union conf_addr		addrs[PROXY_ADDRS_MAX];
	size_t			naddrs;
};

static void
heard(struct proxy_wait *w, const char *domain, const union conf_addr *a,
    size_t n, const struct rule_route *route)
{
	struct conn	*c = w->arg;

	(void)route;
	c->heard++;
	snprintf(c->domain, sizeof(c->domain), "%s", domain ? domain : "");
	c->naddrs = n;
	if (n > 0)
		memcpy(c->addrs, a, n * sizeof(*a));
}

static void
conn_init(struct conn *c, const char *client)
{
	memset(c, 0, sizeof(*c));
	c->w.cb = heard;
	c->w.arg = c;
	c->w.client = inet_addr(client);
}

static uint32_t
vaddr(uint32_t i)
{
	return (htonl(0xac180000 + i));		/* 172.24.0.0/16 */
}

/* An answer of the dns process: ttl seconds, one IPv4, maybe one IPv6. */
static struct msg_answer *
answer(uint32_t addr, const char *domain, uint32_t ttl, int v6)
{
	static struct msg_answer	ma;

	memset(&ma, 0, sizeof(ma));
	ma.addr = addr;
	snprintf(ma.domain, sizeof(ma.domain), "%s", domain);
	ma.ttl = ttl;
	ma.naddrs = 1;
	ma.addrs[0] = inet_addr("192.0.2.7");
	if (v6) {
		ma.naddrs6 = 1;
		inet_pton(AF_INET6, "2001:db8::7", &ma.addrs6[0]);
	}
	ma.route.action = RULE_PASS;
	ma.route.via = VIA_DIRECT;
	ma.route.any_client = 1;
	return (&ma);
}

/*
 * c waits for addr; the lookup it made, or 0 when it was answered from
 * what was kept (or joined a lookup out).
 */
static uint32_t
wait_for(struct conn *c, uint32_t addr, struct proxy_addr **pap)
{
	struct proxy_addr	*pa;
	int			 n0 = nsent;

	if ((pa = proxy_addr_get(addr)) == NULL)
		abort();
	proxy_addr_wait(pa, &c->w);
	if (pap != NULL)
		*pap = pa;
	if (nsent == n0)
		return (0);
	CHECK_EQ(nsent, n0 + 1);
	CHECK_EQ(sent[n0].type, MSG_LOOKUP);
	CHECK_EQ(sent[n0].addr, addr);
	CHECK_EQ(sent[n0].client, c->w.client);
	return (sent[n0].id);
}

/* A connection that heard and closes. */
static void
done(struct conn *c, struct proxy_addr *pa)
{
	proxy_addr_unwait(pa, &c->w);
	proxy_addr_put(pa);
}

/* A connection that asks, hears the answer and closes. */
static void
ask(struct conn *c, uint32_t addr, const char *domain, uint32_t ttl)
{
	struct proxy_addr	*pa;
	uint32_t		 id;
	int			 heard = c->heard;

	CHECK((id = wait_for(c, addr, &pa)) != 0);
	proxy_addr_answer(id, addr, answer(addr, domain, ttl, 0));
	CHECK_EQ(c->heard, heard + 1);
	done(c, pa);
}

/* Two waiters, one lookup; the answer, IPv4 first; then kept. */
static void
test_shared_lookup(void)
{
	struct proxy_addr	*pa, *pb;
	struct conn		 a, b, c;
	char			 buf[INET6_ADDRSTRLEN];
	uint32_t		 id;

	nsent = 0;
	conn_init(&a, "10.0.0.1");
	conn_init(&b, "10.0.0.2");
	conn_init(&c, "10.0.0.3");
	CHECK((id = wait_for(&a, vaddr(1), &pa)) != 0);
	CHECK_EQ(wait_for(&b, vaddr(1), &pb), 0);
	CHECK(pa == pb);
	CHECK_EQ(a.heard + b.heard, 0);
	proxy_addr_answer(id, vaddr(1), answer(vaddr(1), "one.example",
	    300, 1));
	CHECK_EQ(a.heard, 1);
	CHECK_EQ(b.heard, 1);
	CHECK(strcmp(b.domain, "one.example") == 0);
	CHECK_EQ(b.naddrs, 2);
	CHECK_EQ(b.addrs[0].sin.sin_family, AF_INET);
	CHECK_EQ(b.addrs[0].sin.sin_addr.s_addr, inet_addr("192.0.2.7"));
	CHECK_EQ(b.addrs[1].sin6.sin6_family, AF_INET6);
	inet_ntop(AF_INET6, &b.addrs[1].sin6.sin6_addr, buf, sizeof(buf));
	CHECK(strcmp(buf, "2001:db8::7") == 0);
	/* A late answer to the same request is nobody's. */
	proxy_addr_answer(id, vaddr(1), answer(vaddr(1), "late.example",
	    300, 0));
	CHECK_EQ(a.heard, 1);
	/* The next connection hears at once, with no lookup. */
	CHECK_EQ(wait_for(&c, vaddr(1), &pb), 0);
	CHECK_EQ(c.heard, 1);
	CHECK(strcmp(c.domain, "one.example") == 0);
	done(&a, pa);
	done(&b, pa);
	done(&c, pa);
	proxy_cache_flush();
}

/* Kept for the answer's TTL, and never more than a minute. */
static void
test_ttl(void)
{
	struct proxy_addr	*pa;
	struct msg_answer	*ma;
	struct conn		 a;
	uint64_t		 t0;
	uint32_t		 id;

	nsent = 0;
	conn_init(&a, "10.0.0.1");
	/* TTL 5: kept 5 s. */
	t0 = now_ms;
	ask(&a, vaddr(2), "five.example", 5);
	now_ms = t0 + 4999;
	CHECK_EQ(wait_for(&a, vaddr(2), &pa), 0);
	CHECK_EQ(a.heard, 2);
	done(&a, pa);
	now_ms = t0 + 5000;
	CHECK((id = wait_for(&a, vaddr(2), &pa)) != 0);
	CHECK_EQ(a.heard, 2);
	/* A day's TTL: kept a minute. */
	t0 = now_ms;
	proxy_addr_answer(id, vaddr(2), answer(vaddr(2), "day.example",
	    86400, 0));
	CHECK_EQ(a.heard, 3);
	done(&a, pa);
	now_ms = t0 + TTL_CAP * 1000 - 1;
	CHECK_EQ(wait_for(&a, vaddr(2), &pa), 0);
	CHECK(strcmp(a.domain, "day.example") == 0);
	done(&a, pa);
	now_ms = t0 + TTL_CAP * 1000;
	CHECK((id = wait_for(&a, vaddr(2), &pa)) != 0);
	/* TTL 0, nothing to dial, a miss: heard, never kept. */
	proxy_addr_answer(id, vaddr(2), answer(vaddr(2), "zero.example",
	    0, 0));
	CHECK_EQ(a.heard, 5);
	done(&a, pa);
	CHECK((id = wait_for(&a, vaddr(2), &pa)) != 0);
	ma = answer(vaddr(2), "nx.example", 300, 0);
	ma->naddrs = 0;
	proxy_addr_answer(id, vaddr(2), ma);
	CHECK_EQ(a.heard, 6);
	CHECK_EQ(a.naddrs, 0);
	done(&a, pa);
	CHECK((id = wait_for(&a, vaddr(2), &pa)) != 0);
	proxy_addr_answer(id, vaddr(2), NULL);
	CHECK_EQ(a.heard, 7);
	CHECK_EQ(a.w.rcode, -1);
	CHECK(a.domain[0] == '\0');
	done(&a, pa);
	CHECK(wait_for(&a, vaddr(2), &pa) != 0);
	done(&a, pa);
}

/* An eviction forgets what was kept, and what is on its way. */
static void
test_evicted(void)
{
	struct proxy_addr	*pa;
	struct conn		 a;
	uint32_t		 id;

	nsent = 0;
	conn_init(&a, "10.0.0.1");
	ask(&a, vaddr(4), "old.example", 300);
	proxy_addr_evicted(0, vaddr(4));
	CHECK((id = wait_for(&a, vaddr(4), &pa)) != 0);
	/* Evicted while asking: the answer is heard, not kept. */
	proxy_addr_evicted(0, vaddr(4));
	proxy_addr_answer(id, vaddr(4), answer(vaddr(4), "old.example",
	    300, 0));
	CHECK_EQ(a.heard, 2);
	done(&a, pa);
	ask(&a, vaddr(4), "new.example", 300);
	/* Address 0: every address. */
	CHECK_EQ(wait_for(&a, vaddr(4), &pa), 0);
	done(&a, pa);
	proxy_addr_evicted(0, INADDR_ANY);
	CHECK(wait_for(&a, vaddr(4), &pa) != 0);
	done(&a, pa);
}

/* An answer made for one client is not another client's. */
static void
test_per_client(void)
{
	struct proxy_addr	*pa;
	struct msg_answer	*ma;
	struct conn		 a, b;
	uint32_t		 id, id2;

	nsent = 0;
	conn_init(&a, "10.0.0.1");
	conn_init(&b, "10.0.0.2");
	id = wait_for(&a, vaddr(5), &pa);
	CHECK_EQ(wait_for(&b, vaddr(5), NULL), 0);
	ma = answer(vaddr(5), "mine.example", 300, 0);
	ma->route.any_client = 0;
	proxy_addr_answer(id, vaddr(5), ma);
	CHECK_EQ(a.heard, 1);
	CHECK_EQ(b.heard, 0);
	/* b's own lookup went out, in b's name. */
	CHECK_EQ(nsent, 2);
	CHECK_EQ(sent[1].type, MSG_LOOKUP);
	CHECK_EQ(sent[1].client, b.w.client);
	id2 = sent[1].id;
	CHECK(id2 != id);
	ma = answer(vaddr(5), "mine.example", 300, 0);
	ma->route.any_client = 0;
	proxy_addr_answer(id2, vaddr(5), ma);
	CHECK_EQ(b.heard, 1);
	done(&a, pa);
	done(&b, pa);
	/* Neither was kept. */
	CHECK(wait_for(&a, vaddr(5), &pa) != 0);
	done(&a, pa);
}

/* At the bound the least recently used answer goes first. */
static void
test_bound(void)
{
	struct proxy_addr	*pa;
	struct conn		 a;
	uint32_t		 i;

	conn_init(&a, "10.0.0.1");
	for (i = 0; i < CACHE_BOUND; i++) {
		nsent = 0;
		ask(&a, vaddr(1000 + i), "bound.example", 300);
	}
	/* The first is used again; the second is now the oldest. */
	nsent = 0;
	CHECK_EQ(wait_for(&a, vaddr(1000), &pa), 0);
	done(&a, pa);
	ask(&a, vaddr(999), "more.example", 300);
	nsent = 0;
	CHECK_EQ(wait_for(&a, vaddr(1000), &pa), 0);
	done(&a, pa);
	CHECK_EQ(wait_for(&a, vaddr(1000 + CACHE_BOUND - 1), &pa), 0);
	done(&a, pa);
	CHECK(wait_for(&a, vaddr(1001), &pa) != 0);
	done(&a, pa);
	proxy_cache_flush();
}

/* The first pin and the last release are told; a lost pin is retaken. */
static void
test_pins(void)
{
	struct proxy_addr	*pa;
	uint32_t		 pin;

	nsent = 0;
	pa = proxy_addr_get(vaddr(6));
	proxy_addr_pin(pa);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent[0].type, MSG_IN_USE);
	CHECK_EQ(sent[0].addr, vaddr(6));
	CHECK((pin = sent[0].id) != 0);
	/* The pin found no mapping, and no connection opened since. */
	proxy_addr_evicted(pin, vaddr(6));
	CHECK_EQ(nsent, 1);
	/* The next connection asks again; the one after it does not. */
	proxy_addr_pin(pa);
	CHECK_EQ(nsent, 2);
	CHECK_EQ(sent[1].type, MSG_IN_USE);
	pin = sent[1].id;
	proxy_addr_pin(pa);
	CHECK_EQ(nsent, 2);
	/* Lost with a connection opened since it was asked: asked again. */
	proxy_addr_evicted(pin, vaddr(6));
	CHECK_EQ(nsent, 3);
	CHECK_EQ(sent[2].type, MSG_IN_USE);
	CHECK(sent[2].id != pin);
	/* An eviction of the name (id 0) leaves the pin. */
	proxy_addr_evicted(0, vaddr(6));
	CHECK_EQ(nsent, 3);
	proxy_addr_unpin(pa);
	proxy_addr_unpin(pa);
	CHECK_EQ(nsent, 3);
	proxy_addr_unpin(pa);
	CHECK_EQ(nsent, 4);
	CHECK_EQ(sent[3].type, MSG_RELEASED);
	CHECK_EQ(sent[3].addr, vaddr(6));
	proxy_addr_put(pa);
}

int
main(void)
{
	proxy_addr_init();
	test_shared_lookup();
	test_ttl();
	test_evicted();
	test_per_client();
	test_bound();
	test_pins();
	return (test_done("addrtest"));
}
