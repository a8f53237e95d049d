/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * resolve_cache.c: what the upstreams said about a name, its addresses of
 * both families or that it has none, kept until the answer's TTL runs out
 * (a negative answer's from its SOA), the least recently used going when
 * RESOLVE_CACHE_MAX are kept, and never more than RESOLVE_NEG_MAX negative
 * ones, so that made-up names cannot push the real ones out.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resolve.h"
#include "resolve_local.h"

/* RB_*_STATIC want __unused, which libbsd leaves undefined on Linux. */
#define RESOLVE_RB_ATTR	__attribute__((__unused__)) static

RB_HEAD(resolve_caches, resolve_cache);
TAILQ_HEAD(resolve_lru, resolve_cache);
TAILQ_HEAD(resolve_negs, resolve_cache);

static struct resolve_caches	 resolve_cache =
				    RB_INITIALIZER(&resolve_cache);
static struct resolve_lru	 resolve_lru =
				    TAILQ_HEAD_INITIALIZER(resolve_lru);
static size_t			 resolve_ncache;
static struct resolve_negs	 resolve_negs =
				    TAILQ_HEAD_INITIALIZER(resolve_negs);
static size_t			 resolve_nneg;

static int	resolve_cache_cmp(struct resolve_cache *,
		    struct resolve_cache *);
static void	resolve_cache_remove(struct resolve_cache *);

RB_PROTOTYPE_INTERNAL(resolve_caches, resolve_cache, node,
    resolve_cache_cmp, RESOLVE_RB_ATTR)
RB_GENERATE_INTERNAL(resolve_caches, resolve_cache, node,
    resolve_cache_cmp, RESOLVE_RB_ATTR)

static int
resolve_cache_cmp(struct resolve_cache *a, struct resolve_cache *b)
{
	return (strcmp(a->name, b->name));
}

/* A copy of n elements of size each, or NULL (for none, too). */
void *
resolve_dup(const void *p, size_t n, size_t size)
{
	void	*q;

	if (n == 0)
		return (NULL);
	if ((q = reallocarray(NULL, n, size)) != NULL)
		memcpy(q, p, n * size);
	return (q);
}

/* The entry of a name, unless it expired; it becomes the last used. */
struct resolve_cache *
resolve_cache_get(const char *name)
{
	struct resolve_cache	*ce, key;

	key.name = name;
	if ((ce = RB_FIND(resolve_caches, &resolve_cache, &key)) == NULL)
		return (NULL);
	if (ce->expires <= resolve_now()) {
		resolve_cache_remove(ce);
		return (NULL);
	}
	TAILQ_REMOVE(&resolve_lru, ce, lru);
	TAILQ_INSERT_HEAD(&resolve_lru, ce, lru);
	return (ce);
}

/* partial: the A records alone are known, the AAAA ones never asked. */
void
resolve_cache_put(const char *name, const struct resolve_result *r,
    int partial)
{
	struct resolve_cache	*ce, *old;
	size_t			 len;

	len = strlen(name);
	if ((ce = calloc(1, sizeof(*ce) + len + 1)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	memcpy(ce + 1, name, len + 1);
	ce->name = (const char *)(ce + 1);
	ce->addrs = resolve_dup(r->addrs, r->naddrs, sizeof(*ce->addrs));
	ce->addrs6 = resolve_dup(r->addrs6, r->naddrs6, sizeof(*ce->addrs6));
	if ((r->naddrs > 0 && ce->addrs == NULL) ||
	    (r->naddrs6 > 0 && ce->addrs6 == NULL) ||
	    (r->soa != NULL && (ce->soa = ldns_rr_clone(r->soa)) == NULL)) {
		log_warnx("%s: out of memory", __func__);
		free(ce->addrs);
		free(ce->addrs6);
		free(ce);
		return;
	}
	ce->naddrs = r->naddrs;
	ce->naddrs6 = r->naddrs6;
	ce->rcode = r->rcode;
	ce->negative = r->naddrs == 0 && r->naddrs6 == 0;
	ce->partial = partial && !ce->negative;
	ce->expires = resolve_now() + (int64_t)r->ttl * 1000;

	if ((old = RB_FIND(resolve_caches, &resolve_cache, ce)) != NULL)
		resolve_cache_remove(old);
	while (resolve_ncache >= RESOLVE_CACHE_MAX)
		resolve_cache_remove(TAILQ_LAST(&resolve_lru,
		    resolve_lru));
	/* Made-up names must not push the real ones out. */
	while (ce->negative && resolve_nneg >= RESOLVE_NEG_MAX)
		resolve_cache_remove(TAILQ_FIRST(&resolve_negs));
	RB_INSERT(resolve_caches, &resolve_cache, ce);
	TAILQ_INSERT_HEAD(&resolve_lru, ce, lru);
	if (ce->negative) {
		TAILQ_INSERT_TAIL(&resolve_negs, ce, neg);
		resolve_nneg++;
	}
	resolve_ncache++;
}

static void
resolve_cache_remove(struct resolve_cache *ce)
{
	RB_REMOVE(resolve_caches, &resolve_cache, ce);
	TAILQ_REMOVE(&resolve_lru, ce, lru);
	resolve_ncache--;
	if (ce->negative) {
		TAILQ_REMOVE(&resolve_negs, ce, neg);
		resolve_nneg--;
	}
	if (ce->soa != NULL)
		ldns_rr_free(ce->soa);
	free(ce->addrs);
	free(ce->addrs6);
	free(ce);
}

void
resolve_flush(void)
{
	struct resolve_cache	*ce;

	while ((ce = TAILQ_FIRST(&resolve_lru)) != NULL)
		resolve_cache_remove(ce);
}
