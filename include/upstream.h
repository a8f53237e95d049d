/*
 * upstream.h: the dns process's queries to the upstream resolvers: the
 * queries it forwards and the real addresses of names the proxy asks for,
 * with the cache of those addresses.
 */

#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#define UPSTREAM_MAX_PENDING	4096	/* queries out at once */
#define UPSTREAM_MAX_WAITING	4096	/* resolves waiting at once */
#define UPSTREAM_MAX_TCP	256	/* TCP retries at once */
#define UPSTREAM_CACHE_MAX	16384	/* names in the address cache */
#define UPSTREAM_ADDRS_MAX	64	/* addresses kept per name */
#define UPSTREAM_CNAME_MAX	16	/* CNAMEs followed in an answer */
#define UPSTREAM_TTL_MIN	5	/* seconds; cache lifetime bounds */
#define UPSTREAM_TTL_MAX	86400
#define UPSTREAM_TTL_NEG	30	/* NXDOMAIN and NODATA */
#define UPSTREAM_NAME_MAX	253	/* text form, no final dot */

struct dns44_conf;
struct upstream_req;

/*
 * The answer to upstream_query(), or NULL when no upstream gave one.  A
 * SERVFAIL or REFUSED answer moves on to the next upstream; when none
 * answers better, the last of those answers is given.  The packet is
 * upstream.c's and lives until the callback returns.
 */
typedef void	(*upstream_cb)(ldns_pkt *, void *);

/*
 * The A records of a name, network byte order (NULL when n is 0), the
 * rcode of the answer, or -1 when no upstream answered, and how many more
 * seconds the answer stays good: its TTL, bounded as the cache bounds it,
 * less the time it has spent in the cache (0 for an answer not cached).
 * The array lives until the callback returns.
 */
typedef void	(*upstream_addr_cb)(const uint32_t *, size_t, int, uint32_t,
		    void *);

struct upstream_stats {
	uint64_t	queries;	/* requests to the upstreams */
	uint64_t	answers;	/* answers that passed the checks */
	uint64_t	timeouts;	/* tries that timed out */
	uint64_t	failovers;	/* moves to the next upstream */
	uint64_t	tcp_retries;	/* truncated answers asked again */
	uint64_t	mismatched;	/* replies ignored */
	uint64_t	cache_hits;	/* resolves answered from the cache */
	uint64_t	cache_misses;
};

/*
 * Each callback is called once, from the event loop, unless the request is
 * cancelled first; upstream_cancel() on a request whose callback is
 * running does nothing.  A resolve cancelled while its query is out lets
 * the query go on, so that its answer still reaches the cache.
 */

/* upstream.c */
void		 upstream_init(const struct dns44_conf *);
void		 upstream_shutdown(void);
struct upstream_req *upstream_query(const ldns_rdf *, ldns_rr_type,
		    ldns_rr_class, int, upstream_cb, void *);
struct upstream_req *upstream_resolve(const char *, upstream_addr_cb,
		    void *);
void		 upstream_cancel(struct upstream_req *);
const struct upstream_stats *upstream_stats(void);
void		 upstream_clock_advance(uint32_t);	/* regress only */
size_t		 upstream_collect(ldns_pkt *, uint32_t *, size_t,
		    uint32_t *);

#endif /* UPSTREAM_H */
