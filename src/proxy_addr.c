/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_addr.c: what the proxy process knows of each virtual address.
 * It owns the table of requests waiting for an answer of the dns process
 * or the parent, and one entry per virtual address in use: the lookup in
 * flight and the connections and sessions waiting for it (one lookup for
 * all of them), the dns process's last answer, kept as long as its TTL
 * allows and until the dns process says the address changed hands, and
 * the count of open connections that pin the address.  Waiters hear the
 * answer through their callback; this file knows nothing of TCP or UDP.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"

#define PROXY_REQ_BUCKETS	1024	/* requests waiting for an answer */
#define PROXY_ADDR_BUCKETS	4096	/* virtual addresses known */
#define PROXY_CACHE_MAX		4096	/* answers kept */
#define PROXY_CACHE_TTL_MAX	60	/* seconds an answer is kept at most */

/*
 * One virtual address: the answer kept about it, the lookup in flight and
 * its waiters, the connections and sessions that use it.  It lives while
 * any of them does.
 */
struct proxy_addr {
	LIST_ENTRY(proxy_addr)	 hentry;
	TAILQ_ENTRY(proxy_addr)	 lru;		/* cached: least used first */
	TAILQ_HEAD(, proxy_wait) waiters;
	struct proxy_req	 req;		/* the lookup in flight */
	uint32_t		 addr;		/* network order */
	uint32_t		 refs;		/* connections and sessions */
	uint32_t		 pins;		/* of them, relaying */
	uint32_t		 pin_id;	/* its MSG_IN_USE; 0: none */
	uint32_t		 pin_gen;	/* pins taken, ever */
	uint32_t		 pin_sent;	/* pin_gen when it was sent */
	uint8_t			 cached;	/* the answer below is kept */
	uint8_t			 stale;		/* evicted while asking */
	uint8_t			 naddrs;
	uint32_t		 asked;		/* client of the lookup out */
	uint64_t		 expires;	/* ms */
	char			*domain;
	union conf_addr		 addrs[PROXY_ADDRS_MAX];
	struct rule_route	 route;
};

LIST_HEAD(proxy_req_list, proxy_req);
LIST_HEAD(proxy_addr_list, proxy_addr);

static struct proxy_req_list	 proxy_reqs[PROXY_REQ_BUCKETS];
static uint32_t			 proxy_req_id;
static struct proxy_addr_list	 proxy_addrs[PROXY_ADDR_BUCKETS];
static uint64_t			 proxy_addr_key;
static TAILQ_HEAD(, proxy_addr)	 proxy_cache_lru =
    TAILQ_HEAD_INITIALIZER(proxy_cache_lru);
static uint32_t			 proxy_ncached;
static uint32_t			 proxy_pin_id;

static struct proxy_addr_list *proxy_addr_chain(uint32_t);
static struct proxy_addr *proxy_addr_find(uint32_t);
static void	proxy_addr_gc(struct proxy_addr *);
static void	proxy_addr_pin_send(struct proxy_addr *);
static void	proxy_addr_ask(struct proxy_addr *, uint32_t);
static void	proxy_cache_put(struct proxy_addr *,
		    const struct msg_answer *);
static void	proxy_cache_drop(struct proxy_addr *);
static size_t	proxy_addr_real(const struct msg_answer *, union conf_addr *);

/* Why a lookup gave no real address, for the journal. */
const char *
proxy_rcode_why(int rcode)
{
	switch (rcode) {
	case -1:
		return ("no upstream answered");
	case LDNS_RCODE_NOERROR:
		return ("no real address (NODATA)");
	case LDNS_RCODE_NXDOMAIN:
		return ("the name does not exist (NXDOMAIN)");
	case LDNS_RCODE_SERVFAIL:
		return ("the upstream failed (SERVFAIL)");
	case LDNS_RCODE_REFUSED:
		return ("the upstream refused (REFUSED)");
	default:
		return ("no real address");
	}
}

/* The tables empty and the hash key drawn, once at start-up. */
void
proxy_addr_init(void)
{
	uint32_t	i;

	for (i = 0; i < PROXY_REQ_BUCKETS; i++)
		LIST_INIT(&proxy_reqs[i]);
	for (i = 0; i < PROXY_ADDR_BUCKETS; i++)
		LIST_INIT(&proxy_addrs[i]);
	arc4random_buf(&proxy_addr_key, sizeof(proxy_addr_key));
}

void
proxy_req_add(struct proxy_req *r, uint32_t type, void *obj)
{
	if (++proxy_req_id == 0)
		proxy_req_id = 1;
	r->id = proxy_req_id;
	r->type = type;
	r->obj = obj;
	LIST_INSERT_HEAD(&proxy_reqs[r->id % PROXY_REQ_BUCKETS], r, entry);
}

void
proxy_req_cancel(struct proxy_req *r)
{
	if (r->id == 0)
		return;
	LIST_REMOVE(r, entry);
	r->id = 0;
}

/*
 * The request an answer is for, taken off the table; NULL when its owner
 * went away meanwhile.  An answer of the wrong kind is a broken peer.
 */
struct proxy_req *
proxy_req_take(uint32_t id, uint32_t type)
{
	struct proxy_req	*r;

	LIST_FOREACH(r, &proxy_reqs[id % PROXY_REQ_BUCKETS], entry)
		if (r->id == id)
			break;
	if (r == NULL)
		return (NULL);
	if (r->type != type)
		fatalx("answer to request %u is not for a %s", id,
		    msg_type_name(r->type));
	proxy_req_cancel(r);
	return (r);
}

/* Keyed, so that clients cannot aim at one chain of the table. */
static struct proxy_addr_list *
proxy_addr_chain(uint32_t addr)
{
	uint64_t	h = (addr ^ proxy_addr_key) * 0x9e3779b97f4a7c15ULL;

	return (&proxy_addrs[(h >> 32) & (PROXY_ADDR_BUCKETS - 1)]);
}

static struct proxy_addr *
proxy_addr_find(uint32_t addr)
{
	struct proxy_addr	*pa;

	LIST_FOREACH(pa, proxy_addr_chain(addr), hentry)
		if (pa->addr == addr)
			return (pa);
	return (NULL);
}

/* The entry of a virtual address, made if new, with one more user. */
struct proxy_addr *
proxy_addr_get(uint32_t addr)
{
	struct proxy_addr	*pa;

	if ((pa = proxy_addr_find(addr)) == NULL) {
		if ((pa = calloc(1, sizeof(*pa))) == NULL)
			return (NULL);
		pa->addr = addr;
		TAILQ_INIT(&pa->waiters);
		LIST_INSERT_HEAD(proxy_addr_chain(addr), pa, hentry);
	}
	pa->refs++;
	return (pa);
}

void
proxy_addr_put(struct proxy_addr *pa)
{
	pa->refs--;
	proxy_addr_gc(pa);
}

/* Gone once nothing needs it: no user, no answer kept, no lookup out. */
static void
proxy_addr_gc(struct proxy_addr *pa)
{
	if (pa->refs > 0 || pa->cached || pa->req.id != 0)
		return;
	LIST_REMOVE(pa, hentry);
	free(pa);
}

/*
 * The kept answer, if still good, goes to w's callback at once; else w
 * waits for the lookup, which is asked for unless one is out already.
 */
void
proxy_addr_wait(struct proxy_addr *pa, struct proxy_wait *w)
{
	if (pa->cached) {
		if (proxy_now() < pa->expires) {
			TAILQ_REMOVE(&proxy_cache_lru, pa, lru);
			TAILQ_INSERT_TAIL(&proxy_cache_lru, pa, lru);
			/* Only answers with somewhere to go are kept. */
			w->rcode = LDNS_RCODE_NOERROR;
			w->cb(w, pa->domain, pa->addrs, pa->naddrs,
			    &pa->route);
			return;
		}
		proxy_cache_drop(pa);
	}
	w->waiting = 1;
	TAILQ_INSERT_TAIL(&pa->waiters, w, entry);
	if (pa->req.id != 0)
		return;
	proxy_addr_ask(pa, w->client);
}

/* The lookup, for the rules that look at the client too. */
static void
proxy_addr_ask(struct proxy_addr *pa, uint32_t client)
{
	struct msg_lookup	ml;

	proxy_req_add(&pa->req, MSG_LOOKUP, pa);
	pa->asked = client;
	ml.addr = pa->addr;
	ml.client = client;
	if (proxy_peer_compose(MSG_LOOKUP, pa->req.id, &ml, sizeof(ml)) == -1)
		fatal("asking the dns process");
}

/* A waiter that goes away before the answer came. */
void
proxy_addr_unwait(struct proxy_addr *pa, struct proxy_wait *w)
{
	if (!w->waiting)
		return;
	TAILQ_REMOVE(&pa->waiters, w, entry);
	w->waiting = 0;
}

/* The real addresses of an answer as the relays dial them, IPv4 first. */
static size_t
proxy_addr_real(const struct msg_answer *ma, union conf_addr *out)
{
	size_t	i, n = 0;

	for (i = 0; i < ma->naddrs && i < MSG_MAX_ADDRS; i++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].sin.sin_family = AF_INET;
		out[n++].sin.sin_addr.s_addr = ma->addrs[i];
	}
	for (i = 0; i < ma->naddrs6 && i < MSG_MAX_ADDRS; i++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].sin6.sin6_family = AF_INET6;
		out[n++].sin6.sin6_addr = ma->addrs6[i];
	}
	return (n);
}

/* Keep an answer for its TTL, PROXY_CACHE_TTL_MAX at most. */
static void
proxy_cache_put(struct proxy_addr *pa, const struct msg_answer *ma)
{
	struct proxy_addr	*old;
	char			*domain;
	uint32_t		 ttl;

	if ((domain = strdup(ma->domain)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	if (pa->cached)
		proxy_cache_drop(pa);
	while (proxy_ncached >= PROXY_CACHE_MAX) {
		old = TAILQ_FIRST(&proxy_cache_lru);
		proxy_cache_drop(old);
		proxy_addr_gc(old);
	}
	ttl = ma->ttl < PROXY_CACHE_TTL_MAX ? ma->ttl : PROXY_CACHE_TTL_MAX;
	pa->domain = domain;
	pa->route = ma->route;
	pa->naddrs = proxy_addr_real(ma, pa->addrs);
	pa->expires = proxy_now() + (uint64_t)ttl * 1000;
	pa->cached = 1;
	TAILQ_INSERT_TAIL(&proxy_cache_lru, pa, lru);
	proxy_ncached++;
}

/* Forget the answer kept; the caller frees the entry if unused. */
static void
proxy_cache_drop(struct proxy_addr *pa)
{
	TAILQ_REMOVE(&proxy_cache_lru, pa, lru);
	proxy_ncached--;
	pa->cached = 0;
	free(pa->domain);
	pa->domain = NULL;
}

void
proxy_cache_flush(void)
{
	struct proxy_addr	*pa;

	while ((pa = TAILQ_FIRST(&proxy_cache_lru)) != NULL) {
		proxy_cache_drop(pa);
		proxy_addr_gc(pa);
	}
}

/*
 * A connection or session to the address opens: the mapping is pinned
 * while any is open, so the dns process never gives the address to
 * another name meanwhile.  It hears of the first and of the last only.
 */
void
proxy_addr_pin(struct proxy_addr *pa)
{
	pa->pins++;
	pa->pin_gen++;
	if (pa->pin_id == 0)
		proxy_addr_pin_send(pa);
}

static void
proxy_addr_pin_send(struct proxy_addr *pa)
{
	struct msg_lookup	ml;

	if (++proxy_pin_id == 0)
		proxy_pin_id = 1;
	pa->pin_id = proxy_pin_id;
	pa->pin_sent = pa->pin_gen;
	memset(&ml, 0, sizeof(ml));
	ml.addr = pa->addr;
	if (proxy_peer_compose(MSG_IN_USE, pa->pin_id, &ml, sizeof(ml)) == -1)
		fatal("telling the dns process");
}

void
proxy_addr_unpin(struct proxy_addr *pa)
{
	struct msg_lookup	ml;

	if (--pa->pins > 0 || pa->pin_id == 0)
		return;
	pa->pin_id = 0;
	memset(&ml, 0, sizeof(ml));
	ml.addr = pa->addr;
	if (proxy_peer_compose(MSG_RELEASED, 0, &ml, sizeof(ml)) == -1)
		fatal("telling the dns process");
}

/*
 * The address went to another name or was forgotten (id 0), or our pin of
 * it found no mapping (the id of its MSG_IN_USE): nothing known of it
 * holds.  An answer on its way was made before and is not kept.  A lost
 * pin is taken again when connections opened since it was asked for, as
 * those may be to the address's new name.  Address 0 stands for all.
 */
void
proxy_addr_evicted(uint32_t id, uint32_t addr)
{
	struct proxy_addr	*pa;
	struct in_addr		 in;
	char			 buf[INET_ADDRSTRLEN];
	int			 i;

	in.s_addr = addr;
	log_debug("map: %s %s", inet_ntop(AF_INET, &in, buf, sizeof(buf)),
	    id == 0 ? "evicted" : "not pinned: no mapping");
	if (addr == INADDR_ANY) {
		proxy_cache_flush();
		for (i = 0; i < PROXY_ADDR_BUCKETS; i++)
			LIST_FOREACH(pa, &proxy_addrs[i], hentry)
				if (pa->req.id != 0)
					pa->stale = 1;
		return;
	}
	if ((pa = proxy_addr_find(addr)) == NULL)
		return;
	if (pa->cached)
		proxy_cache_drop(pa);
	if (pa->req.id != 0)
		pa->stale = 1;
	if (id != 0 && id == pa->pin_id) {
		pa->pin_id = 0;
		if (pa->pins > 0 && pa->pin_gen != pa->pin_sent)
			proxy_addr_pin_send(pa);
	}
	proxy_addr_gc(pa);
}

/*
 * The dns process answered a lookup; ma is NULL for a miss.  Every
 * connection and session waiting for it hears the answer, which is kept
 * for the next ones when it has a TTL and something to dial.  An answer
 * that the rules made for its client alone is neither kept nor heard by
 * the waiters of other clients: they ask again, one client at a time.
 */
void
proxy_addr_answer(uint32_t id, uint32_t addr, const struct msg_answer *ma)
{
	TAILQ_HEAD(, proxy_wait) others = TAILQ_HEAD_INITIALIZER(others);
	struct proxy_req	*r;
	struct proxy_addr	*pa;
	struct proxy_wait	*w;
	union conf_addr		 real[PROXY_ADDRS_MAX];
	size_t			 nreal = 0;
	int			 mine;

	if ((r = proxy_req_take(id, MSG_LOOKUP)) == NULL)
		return;
	pa = r->obj;
	if (addr != pa->addr)
		fatalx("lookup answered for the wrong address");
	mine = ma != NULL && !ma->route.any_client;
	if (ma != NULL && !mine && ma->ttl > 0 && !pa->stale &&
	    (ma->naddrs > 0 || ma->naddrs6 > 0 ||
	    ma->route.via != VIA_DIRECT || ma->route.action == RULE_BLOCK))
		proxy_cache_put(pa, ma);
	pa->stale = 0;
	if (ma != NULL)
		nreal = proxy_addr_real(ma, real);
	pa->refs++;		/* while its waiters hear, some closing */
	while ((w = TAILQ_FIRST(&pa->waiters)) != NULL) {
		TAILQ_REMOVE(&pa->waiters, w, entry);
		if (mine && w->client != pa->asked) {
			TAILQ_INSERT_TAIL(&others, w, entry);
			continue;
		}
		w->waiting = 0;
		w->rcode = ma != NULL ? ma->rcode : -1;
		w->cb(w, ma != NULL ? ma->domain : NULL,
		    nreal > 0 ? real : NULL, nreal,
		    ma != NULL ? &ma->route : NULL);
	}
	if ((w = TAILQ_FIRST(&others)) != NULL) {
		TAILQ_CONCAT(&pa->waiters, &others, entry);
		proxy_addr_ask(pa, w->client);
	}
	proxy_addr_put(pa);
}
