/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/* resolve_local.h: what resolve.c and resolve_cache.c share. */

#ifndef RESOLVE_LOCAL_H
#define RESOLVE_LOCAL_H

/* What the upstreams said about a name, until it expires. */
struct resolve_cache {
	RB_ENTRY(resolve_cache)	 node;
	TAILQ_ENTRY(resolve_cache) lru;		/* last used first */
	TAILQ_ENTRY(resolve_cache) neg;		/* negative: oldest first */
	int64_t			 expires;	/* ms, resolve_now() */
	int			 rcode;
	int			 negative;	/* NXDOMAIN or NODATA */
	int			 partial;	/* its AAAA never asked */
	ldns_rr			*soa;		/* of a negative answer */
	size_t			 naddrs;
	uint32_t		*addrs;
	size_t			 naddrs6;
	struct in6_addr		*addrs6;
	const char		*name;		/* stored after the struct */
};

/* resolve.c */
int64_t		 resolve_now(void);

/* resolve_cache.c */
struct resolve_cache *resolve_cache_get(const char *);
void		 resolve_cache_put(const char *, const struct resolve_result *,
		    int);
void		*resolve_dup(const void *, size_t, size_t);

#endif /* RESOLVE_LOCAL_H */
