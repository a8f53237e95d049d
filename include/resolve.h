/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * resolve.h: the real addresses of the names the proxy asks the dns
 * process about, looked up from the upstreams and cached.
 */

#ifndef RESOLVE_H
#define RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#define RESOLVE_MAX_WAITING	4096	/* requests waiting at once */
#define RESOLVE_CACHE_MAX	16384	/* names in the cache */
#define RESOLVE_ADDRS_MAX	64	/* addresses kept per name */
#define RESOLVE_CNAME_MAX	16	/* CNAMEs followed in an answer */
#define RESOLVE_TTL_MIN		5	/* seconds; cache lifetime bounds */
#define RESOLVE_TTL_MAX		86400
#define RESOLVE_TTL_NEG		30	/* NXDOMAIN and NODATA, no SOA */
#define RESOLVE_NEG_TTL_MAX	3600	/* seconds a negative answer is kept */
#define RESOLVE_NEG_MAX		4096	/* negative answers in the cache */
#define RESOLVE_DELAY_MS	50	/* for AAAA after A (RFC 8305, 3) */

struct in6_addr;
struct resolve_req;
struct rule_upstream;

/*
 * All that is known of a name: its A and AAAA records, network byte order
 * (NULL when there are none), the rcode of the answer, or -1 when no
 * upstream answered, whether it has AAAA records, the SOA of a negative
 * answer (NULL if the upstream gave none) and how many more seconds the
 * answer stays good: its TTL, bounded as the cache bounds it, less the
 * time it has spent in the cache (0 for an answer not cached).  It lives
 * until the callback returns.
 */
struct resolve_result {
	const uint32_t		*addrs;		/* network order */
	size_t			 naddrs;
	int			 rcode;		/* -1: no upstream answered */
	int			 aaaa;		/* naddrs6 > 0 */
	const ldns_rr		*soa;
	uint32_t		 ttl;
	const struct in6_addr	*addrs6;
	size_t			 naddrs6;
};

typedef void	(*resolve_vcb)(const struct resolve_result *, void *);
typedef resolve_vcb resolve_cb;

struct resolve_stats {
	uint64_t	cache_hits;	/* requests answered from the cache */
	uint64_t	cache_misses;
};

/*
 * The callback is called once, from the event loop, unless the request is
 * cancelled first; resolve_cancel() on a request whose callback is running
 * does nothing.  A request cancelled while its query is out lets the query
 * go on, so that its answer still reaches the cache.  The cache is the
 * upstreams': resolve_flush() empties it when they change.
 */

/* resolve.c */
struct resolve_req *resolve_name(const char *,
		    const struct rule_upstream *, resolve_cb, void *);
struct resolve_req *resolve_verify(const char *, ldns_rr_type,
		    const struct rule_upstream *, resolve_vcb, void *);
void		 resolve_cancel(struct resolve_req *);
void		 resolve_flush(void);
void		 resolve_shutdown(void);
const struct resolve_stats *resolve_stats(void);
void		 resolve_clock_advance(uint32_t);	/* regress only */
size_t		 resolve_collect(ldns_pkt *, uint32_t *, size_t,
		    uint32_t *);
size_t		 resolve_collect6(ldns_pkt *, struct in6_addr *, size_t,
		    uint32_t *);

#endif /* RESOLVE_H */
