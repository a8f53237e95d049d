/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * resolve.c: the real addresses of the names behind virtual addresses,
 * which the dns process looks up for the proxy; resolve_cache.c keeps what
 * the upstreams said about them.  It belongs to the dns process alone and
 * asks the upstreams through upstream.c.
 *
 * resolve_name() and resolve_verify() wait on a lookup, one per name in
 * flight, which owns at most two queries: one for the A records of the
 * name and one for its AAAA records.  A verification needs one answer to
 * know that a name exists, so it asks A alone, and AAAA only when there
 * are no A records or when its client asked for AAAA; the proxy, which
 * may dial either family, asks both, and a name the cache knows only the
 * A records of has its AAAA records asked when the proxy first needs it.
 * A verification is told as soon as the name is known to exist or not;
 * the proxy as soon as both families are answered, or RESOLVE_DELAY_MS
 * after the first addresses (RFC 8305's resolution delay), so that a slow
 * or lost AAAA answer costs it no timeout.  When no query is left, the
 * addresses of both families are cached together, for the least TTL of
 * those found.  Negative answers are cached for the SOA's negative TTL
 * (RFC 2308), bounded in time and in number.  A cache hit makes a request
 * whose timer fires at once: results always reach the caller from the
 * event loop, never from inside a call.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "resolve.h"
#include "resolve_local.h"
#include "rules.h"
#include "upstream.h"
#include "wire.h"

/* RB_*_STATIC want __unused, which libbsd leaves undefined on Linux. */
#define RESOLVE_RB_ATTR	__attribute__((__unused__)) static

enum resolve_state {
	RESOLVE_ST_WAIT,		/* on its lookup */
	RESOLVE_ST_DONE,		/* a cache hit, due from the timer */
	RESOLVE_ST_CALLING,		/* callback running */
};

/* What a request waits for. */
enum resolve_need {
	RESOLVE_NEED_VERDICT,		/* whether the name exists */
	RESOLVE_NEED_ADDRS,		/* the addresses of both families */
};

struct resolve_lookup;

struct resolve_req {
	enum resolve_state	 state;
	enum resolve_need	 need;
	TAILQ_ENTRY(resolve_req) entry;		/* waiters or ready */
	struct event		 ev_timer;	/* a cache hit's delivery */
	resolve_vcb		 vcb;
	void			*arg;
	struct resolve_lookup	*lookup;	/* RESOLVE_ST_WAIT */

	/* A cache hit. */
	uint32_t		*addrs;
	size_t			 naddrs;
	struct in6_addr		*addrs6;
	size_t			 naddrs6;
	int			 rcode;
	ldns_rr			*soa;
	int64_t			 expires;	/* ms, of the cache entry */
};

TAILQ_HEAD(resolve_reqs, resolve_req);

struct resolve_lookup;

/* One of a lookup's two queries, and what its answer said. */
struct resolve_query {
	struct resolve_lookup	*lk;
	struct upstream_req	*query;		/* NULL unless in flight */
	int			 asked;		/* sent, or known from cache */
	ldns_rr_type		 qtype;
	int			 rcode;		/* -1: no upstream answered */
	uint32_t		 ttl;		/* least of its addresses' */
	ldns_rr			*soa;		/* of a negative answer */
};

/* The requests for one name waiting for the queries about it. */
struct resolve_lookup {
	RB_ENTRY(resolve_lookup) node;
	struct resolve_reqs	 waiters;
	struct event		 ev_step;	/* delivery from the loop */
	int64_t			 addrs_at;	/* ms, first addresses; or 0 */
	int			 dead;		/* shut down while delivering */
	struct resolve_query	 qa;		/* A */
	struct resolve_query	 q6;		/* AAAA */
	uint32_t		 addrs[RESOLVE_ADDRS_MAX];
	size_t			 naddrs;
	struct in6_addr		 addrs6[RESOLVE_ADDRS_MAX];
	size_t			 naddrs6;
	int			 split;		/* asks the upstreams below */
	struct rule_upstream	 upstreams;
	const char		*name;		/* stored after the struct */
};

RB_HEAD(resolve_lookups, resolve_lookup);

static struct resolve_stats	 resolve_st;
static struct resolve_reqs	 resolve_ready =
				    TAILQ_HEAD_INITIALIZER(resolve_ready);
static size_t			 resolve_nwaiting;
static struct resolve_lookups	 resolve_lookups =
				    RB_INITIALIZER(&resolve_lookups);
static struct resolve_lookup	*resolve_delivering;
static int64_t			 resolve_skew;		/* ms, regress */

static int	resolve_lookup_cmp(struct resolve_lookup *,
		    struct resolve_lookup *);
RB_PROTOTYPE_INTERNAL(resolve_lookups, resolve_lookup, node,
    resolve_lookup_cmp, RESOLVE_RB_ATTR)

static void	resolve_req_free(struct resolve_req *);
static void	resolve_deliver(int, short, void *);
static void	resolve_lookup_done(ldns_pkt *, void *);
static void	resolve_lookup_free(struct resolve_lookup *);
static void	resolve_lookup_drop(struct resolve_lookup *);
static uint32_t	resolve_ttl_left(int64_t);
static struct resolve_req *resolve_start(const char *,
		    const struct rule_upstream *, enum resolve_need, int,
		    resolve_vcb, void *);
static struct resolve_lookup *resolve_lookup_new(const char *, size_t,
		    const struct rule_upstream *);
static void	resolve_prefill(struct resolve_lookup *,
		    const struct resolve_cache *);
static int	resolve_ask(struct resolve_lookup *, struct resolve_query *,
		    ldns_rr_type);
static void	resolve_ask_aaaa(struct resolve_lookup *);
static void	resolve_call(struct resolve_req *,
		    const struct resolve_result *);
static int	resolve_done(const struct resolve_query *);
static int	resolve_idle(const struct resolve_lookup *);
static int	resolve_known(const struct resolve_lookup *);
static int	resolve_satisfied(const struct resolve_lookup *,
		    const struct resolve_req *);
static void	resolve_step(int, short, void *);
static void	resolve_lookup_step(struct resolve_lookup *);
static void	resolve_delay_arm(struct resolve_lookup *);
static int	resolve_result(const struct resolve_lookup *,
		    struct resolve_result *);
static size_t	resolve_chase(ldns_pkt *, ldns_rr_type, void *, size_t,
		    uint32_t *);
static uint32_t	resolve_neg_ttl(const ldns_rr *);
static ldns_rr	*resolve_soa(ldns_pkt *);

RB_GENERATE_INTERNAL(resolve_lookups, resolve_lookup, node,
    resolve_lookup_cmp, RESOLVE_RB_ATTR)

static int
resolve_lookup_cmp(struct resolve_lookup *a, struct resolve_lookup *b)
{
	return (strcmp(a->name, b->name));
}

/* The addresses of a name, of both families, for the proxy to dial. */
struct resolve_req *
resolve_name(const char *name, const struct rule_upstream *split,
    resolve_cb cb, void *arg)
{
	if (cb == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	return (resolve_start(name, split, RESOLVE_NEED_ADDRS, 0, cb, arg));
}

/*
 * Whether a name exists, with the SOA of a negative answer, for a client
 * that asked for records of qtype: one that asks for AAAA records will
 * dial them, so they are asked at once too.
 */
struct resolve_req *
resolve_verify(const char *name, ldns_rr_type qtype,
    const struct rule_upstream *split, resolve_vcb vcb, void *arg)
{
	if (vcb == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	return (resolve_start(name, split, RESOLVE_NEED_VERDICT,
	    qtype == LDNS_RR_TYPE_AAAA, vcb, arg));
}

static struct resolve_req *
resolve_start(const char *name, const struct rule_upstream *split,
    enum resolve_need need, int aaaa, resolve_vcb vcb, void *arg)
{
	static const struct timeval	 at_once;
	struct resolve_req		*req;
	struct resolve_lookup		*lk, key;
	struct resolve_cache		*ce;
	size_t				 len;
	int				 saved_errno;

	len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > WIRE_TEXT_MAX) {
		errno = EINVAL;
		return (NULL);
	}
	if (resolve_nwaiting >= RESOLVE_MAX_WAITING) {
		errno = ENOBUFS;
		return (NULL);
	}
	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->need = need;
	req->vcb = vcb;
	req->arg = arg;
	evtimer_set(&req->ev_timer, resolve_deliver, req);

	/* A verification needs no AAAA records to know the name exists. */
	ce = resolve_cache_get(name);
	if (ce != NULL && (!ce->partial || need == RESOLVE_NEED_VERDICT)) {
		req->addrs = resolve_dup(ce->addrs, ce->naddrs,
		    sizeof(*req->addrs));
		req->addrs6 = resolve_dup(ce->addrs6, ce->naddrs6,
		    sizeof(*req->addrs6));
		if ((ce->naddrs > 0 && req->addrs == NULL) ||
		    (ce->naddrs6 > 0 && req->addrs6 == NULL) ||
		    (ce->soa != NULL &&
		    (req->soa = ldns_rr_clone(ce->soa)) == NULL)) {
			free(req->addrs);
			free(req->addrs6);
			free(req);
			errno = ENOMEM;
			return (NULL);
		}
		req->naddrs = ce->naddrs;
		req->naddrs6 = ce->naddrs6;
		req->rcode = ce->rcode;
		req->expires = ce->expires;
		req->state = RESOLVE_ST_DONE;
		TAILQ_INSERT_TAIL(&resolve_ready, req, entry);
		resolve_nwaiting++;
		resolve_st.cache_hits++;
		if (evtimer_add(&req->ev_timer, &at_once) == -1)
			fatal("%s: evtimer_add", __func__);
		return (req);
	}

	key.name = name;
	lk = RB_FIND(resolve_lookups, &resolve_lookups, &key);
	if (lk == NULL) {
		if ((lk = resolve_lookup_new(name, len, split)) == NULL) {
			free(req);
			return (NULL);
		}
		/* Known but for AAAA: those alone are asked. */
		if (ce != NULL)
			resolve_prefill(lk, ce);
		else if (resolve_ask(lk, &lk->qa, LDNS_RR_TYPE_A) == -1) {
			saved_errno = errno;
			free(lk);
			free(req);
			errno = saved_errno;
			return (NULL);
		}
		RB_INSERT(resolve_lookups, &resolve_lookups, lk);
	}
	if ((need == RESOLVE_NEED_ADDRS || aaaa) && !lk->q6.asked)
		resolve_ask_aaaa(lk);
	req->state = RESOLVE_ST_WAIT;
	req->lookup = lk;
	TAILQ_INSERT_TAIL(&lk->waiters, req, entry);
	resolve_nwaiting++;
	resolve_st.cache_misses++;
	/* Known already, or nothing left to wait for: from the loop. */
	if (resolve_satisfied(lk, req) || resolve_idle(lk)) {
		if (evtimer_add(&lk->ev_step, &at_once) == -1)
			fatal("%s: evtimer_add", __func__);
	} else
		resolve_delay_arm(lk);
	return (req);
}

static struct resolve_lookup *
resolve_lookup_new(const char *name, size_t len,
    const struct rule_upstream *split)
{
	struct resolve_lookup	*lk;

	if ((lk = malloc(sizeof(*lk) + len + 1)) == NULL)
		return (NULL);
	memset(lk, 0, sizeof(*lk));
	memcpy(lk + 1, name, len + 1);
	lk->name = (const char *)(lk + 1);
	TAILQ_INIT(&lk->waiters);
	evtimer_set(&lk->ev_step, resolve_step, lk);
	lk->qa.lk = lk;
	lk->qa.qtype = LDNS_RR_TYPE_A;
	lk->q6.lk = lk;
	lk->q6.qtype = LDNS_RR_TYPE_AAAA;
	if (split != NULL) {
		lk->split = 1;
		lk->upstreams = *split;
	}
	return (lk);
}

/* The A records of a cache entry, as if their query had been answered. */
static void
resolve_prefill(struct resolve_lookup *lk, const struct resolve_cache *ce)
{
	lk->qa.asked = 1;
	lk->qa.rcode = ce->rcode;
	lk->qa.ttl = resolve_ttl_left(ce->expires);
	lk->naddrs = ce->naddrs < RESOLVE_ADDRS_MAX ? ce->naddrs :
	    RESOLVE_ADDRS_MAX;
	if (lk->naddrs > 0) {
		memcpy(lk->addrs, ce->addrs, lk->naddrs * sizeof(*lk->addrs));
		lk->addrs_at = resolve_now();
	}
}

/* The lookup's query of a type, to the upstreams it was given. */
static int
resolve_ask(struct resolve_lookup *lk, struct resolve_query *rq,
    ldns_rr_type qtype)
{
	ldns_rdf		*dname;
	int			 saved_errno;

	if ((dname = ldns_dname_new_frm_str(lk->name)) == NULL) {
		errno = EINVAL;
		return (-1);
	}
	rq->qtype = qtype;
	rq->asked = 1;
	rq->query = upstream_query(dname, qtype, LDNS_RR_CLASS_IN, 0,
	    lk->split ? &lk->upstreams : NULL, resolve_lookup_done, rq);
	saved_errno = errno;
	ldns_rdf_deep_free(dname);
	errno = saved_errno;
	return (rq->query != NULL ? 0 : -1);
}

/* The AAAA query; one that cannot be sent counts as unanswered. */
static void
resolve_ask_aaaa(struct resolve_lookup *lk)
{
	if (resolve_ask(lk, &lk->q6, LDNS_RR_TYPE_AAAA) == -1)
		lk->q6.rcode = -1;
}

void
resolve_cancel(struct resolve_req *req)
{
	if (req == NULL || req->state == RESOLVE_ST_CALLING)
		return;
	if (req->state == RESOLVE_ST_WAIT)
		TAILQ_REMOVE(&req->lookup->waiters, req, entry);
	else
		TAILQ_REMOVE(&resolve_ready, req, entry);
	resolve_nwaiting--;
	resolve_req_free(req);
}

/* Every request goes uncalled; the queries of the lookups are cancelled. */
void
resolve_shutdown(void)
{
	struct resolve_lookup	*lk;
	struct resolve_req	*req;

	while ((lk = RB_ROOT(&resolve_lookups)) != NULL) {
		RB_REMOVE(resolve_lookups, &resolve_lookups, lk);
		if (lk != resolve_delivering)
			resolve_lookup_free(lk);
	}
	/*
	 * Its callbacks are running: the waiters left are not called, and
	 * resolve_lookup_step() frees it when the running one returns.
	 */
	if (resolve_delivering != NULL) {
		resolve_lookup_drop(resolve_delivering);
		resolve_delivering->dead = 1;
	}
	while ((req = TAILQ_FIRST(&resolve_ready)) != NULL) {
		TAILQ_REMOVE(&resolve_ready, req, entry);
		resolve_nwaiting--;
		resolve_req_free(req);
	}
	resolve_flush();
}

const struct resolve_stats *
resolve_stats(void)
{
	return (&resolve_st);
}

void
resolve_clock_advance(uint32_t ms)
{
	resolve_skew += ms;
}

int64_t
resolve_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    resolve_skew);
}

/* The request must be off every list. */
static void
resolve_req_free(struct resolve_req *req)
{
	evtimer_del(&req->ev_timer);
	if (req->soa != NULL)
		ldns_rr_free(req->soa);
	free(req->addrs);
	free(req->addrs6);
	free(req);
}

/* A cache hit's callback; the request is freed after it. */
static void
resolve_deliver(int fd, short ev, void *arg)
{
	struct resolve_req	*req = arg;
	struct resolve_result	 r;

	(void)fd;
	(void)ev;
	TAILQ_REMOVE(&resolve_ready, req, entry);
	resolve_nwaiting--;
	req->state = RESOLVE_ST_CALLING;
	memset(&r, 0, sizeof(r));
	r.addrs = req->addrs;
	r.naddrs = req->naddrs;
	r.addrs6 = req->addrs6;
	r.naddrs6 = req->naddrs6;
	r.rcode = req->rcode;
	r.soa = req->soa;
	/* What is left of the TTL when it is given. */
	r.ttl = resolve_ttl_left(req->expires);
	resolve_call(req, &r);
	resolve_req_free(req);
}

static void
resolve_call(struct resolve_req *req, const struct resolve_result *r)
{
	struct resolve_result	c = *r;

	c.aaaa = c.naddrs6 > 0;
	if (c.naddrs == 0)
		c.addrs = NULL;
	if (c.naddrs6 == 0)
		c.addrs6 = NULL;
	req->vcb(&c, req->arg);
}

/* Whole seconds until a cache entry expires, rounded down. */
static uint32_t
resolve_ttl_left(int64_t expires)
{
	int64_t	left = expires - resolve_now();

	return (left > 0 ? (uint32_t)(left / 1000) : 0);
}

/* One query of a lookup is answered: what it says is kept. */
static void
resolve_lookup_done(ldns_pkt *pkt, void *arg)
{
	struct resolve_query	*rq = arg;
	struct resolve_lookup	*lk = rq->lk;
	size_t			 n;

	rq->query = NULL;
	rq->rcode = pkt != NULL ? (int)ldns_pkt_get_rcode(pkt) : -1;
	if (rq->rcode == LDNS_RCODE_NOERROR) {
		if (rq->qtype == LDNS_RR_TYPE_A)
			n = lk->naddrs = resolve_chase(pkt, LDNS_RR_TYPE_A,
			    lk->addrs, RESOLVE_ADDRS_MAX, &rq->ttl);
		else
			n = lk->naddrs6 = resolve_chase(pkt,
			    LDNS_RR_TYPE_AAAA, lk->addrs6, RESOLVE_ADDRS_MAX,
			    &rq->ttl);
		if (n == 0)
			rq->soa = resolve_soa(pkt);
		else if (lk->addrs_at == 0)
			lk->addrs_at = resolve_now();
	} else if (rq->rcode == LDNS_RCODE_NXDOMAIN)
		rq->soa = resolve_soa(pkt);
	resolve_lookup_step(lk);
}

/* Answered, or known from the cache. */
static int
resolve_done(const struct resolve_query *rq)
{
	return (rq->asked && rq->query == NULL);
}

/* No query of the lookup in flight. */
static int
resolve_idle(const struct resolve_lookup *lk)
{
	return (lk->qa.query == NULL && lk->q6.query == NULL);
}

/* Whether the name is known to exist or not: what a verification needs. */
static int
resolve_known(const struct resolve_lookup *lk)
{
	if (lk->naddrs > 0 || lk->naddrs6 > 0)
		return (1);
	if (!resolve_done(&lk->qa))
		return (0);
	if (lk->qa.rcode == LDNS_RCODE_NXDOMAIN)
		return (1);
	/* No A records, or no good answer: the AAAA query, if out, decides. */
	return (lk->q6.query == NULL);
}

static int
resolve_satisfied(const struct resolve_lookup *lk,
    const struct resolve_req *req)
{
	if (req->need == RESOLVE_NEED_VERDICT)
		return (resolve_known(lk));
	if (resolve_idle(lk))
		return (1);
	return (lk->addrs_at != 0 &&
	    resolve_now() - lk->addrs_at >= RESOLVE_DELAY_MS);
}

static void
resolve_step(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	resolve_lookup_step(arg);
}

/*
 * Something changed: the waiters that have what they wait for are told,
 * and once no query is left, the lookup ends in the cache and tells the
 * rest.
 */
static void
resolve_lookup_step(struct resolve_lookup *lk)
{
	struct resolve_result	 r;
	struct resolve_req	*req;
	int			 end, cache;

	evtimer_del(&lk->ev_step);
	/*
	 * No A records: the name may still have AAAA ones, also where the
	 * upstream refused or failed the A query (as dnsmasq does for a name
	 * it has AAAA records of only).  Where no upstream answered, one
	 * more query would only wait as long again.
	 */
	if (resolve_done(&lk->qa) && lk->naddrs == 0 &&
	    lk->qa.rcode != LDNS_RCODE_NXDOMAIN && lk->qa.rcode != -1 &&
	    !lk->q6.asked)
		resolve_ask_aaaa(lk);
	end = resolve_idle(lk);
	cache = resolve_result(lk, &r);
	if (end) {
		RB_REMOVE(resolve_lookups, &resolve_lookups, lk);
		if (cache && r.ttl > 0)
			resolve_cache_put(lk->name, &r, !lk->q6.asked);
	}

	/* A callback may cancel others, ask again or shut everything down. */
	resolve_delivering = lk;
 again:
	TAILQ_FOREACH(req, &lk->waiters, entry) {
		if (!end && !resolve_satisfied(lk, req))
			continue;
		TAILQ_REMOVE(&lk->waiters, req, entry);
		resolve_nwaiting--;
		req->state = RESOLVE_ST_CALLING;
		resolve_call(req, &r);
		resolve_req_free(req);
		if (lk->dead)
			break;
		goto again;
	}
	resolve_delivering = NULL;
	if (end || lk->dead)
		resolve_lookup_free(lk);
	else
		resolve_delay_arm(lk);
}

/* The proxy's waiters are told RESOLVE_DELAY_MS after the first addresses. */
static void
resolve_delay_arm(struct resolve_lookup *lk)
{
	struct resolve_req	*req;
	struct timeval		 tv;
	int64_t			 left;

	/* Due already, at once or at the same deadline. */
	if (lk->addrs_at == 0 || evtimer_pending(&lk->ev_step, NULL))
		return;
	TAILQ_FOREACH(req, &lk->waiters, entry)
		if (req->need == RESOLVE_NEED_ADDRS)
			break;
	if (req == NULL)
		return;
	left = lk->addrs_at + RESOLVE_DELAY_MS - resolve_now();
	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	if (evtimer_add(&lk->ev_step, &tv) == -1)
		fatal("%s: evtimer_add", __func__);
}

/*
 * What the answers so far say, and 1 if it is to be cached.  Addresses of
 * either family make an answer, kept for the least TTL of the families
 * that have some; NXDOMAIN from either, or NODATA from both, a negative
 * one, kept for its SOA's negative TTL; a query no upstream answered
 * leaves the name unknown (NODATA cannot be told from the other family's
 * addresses), and any other rcode is given as it came, neither cached.
 * A family not asked, or not answered yet, counts as saying what the
 * other said.
 */
static int
resolve_result(const struct resolve_lookup *lk, struct resolve_result *r)
{
	const struct resolve_query	*qa = &lk->qa, *q6 = &lk->q6;
	ldns_rr				*soa;
	uint32_t			 ttl = UINT32_MAX;
	int				 rca, rc6, cache = 0;

	rca = resolve_done(qa) ? qa->rcode : resolve_done(q6) ? q6->rcode : -1;
	rc6 = resolve_done(q6) ? q6->rcode : rca;
	memset(r, 0, sizeof(*r));
	r->addrs = lk->addrs;
	r->naddrs = lk->naddrs;
	r->addrs6 = lk->addrs6;
	r->naddrs6 = lk->naddrs6;
	soa = qa->soa != NULL ? qa->soa : q6->soa;
	if (lk->naddrs > 0 || lk->naddrs6 > 0) {
		r->rcode = LDNS_RCODE_NOERROR;
		if (lk->naddrs > 0)
			ttl = qa->ttl;
		if (lk->naddrs6 > 0 && q6->ttl < ttl)
			ttl = q6->ttl;
		if (ttl < RESOLVE_TTL_MIN)
			ttl = RESOLVE_TTL_MIN;
		else if (ttl > RESOLVE_TTL_MAX)
			ttl = RESOLVE_TTL_MAX;
		cache = 1;
	} else if (rca == LDNS_RCODE_NXDOMAIN || rc6 == LDNS_RCODE_NXDOMAIN) {
		r->rcode = LDNS_RCODE_NXDOMAIN;
		/* The SOA of the NXDOMAIN answer, if it had one. */
		if (rca != LDNS_RCODE_NXDOMAIN || qa->soa == NULL)
			soa = rc6 == LDNS_RCODE_NXDOMAIN && q6->soa != NULL ?
			    q6->soa : soa;
		r->soa = soa;
		ttl = resolve_neg_ttl(soa);
		cache = 1;
	} else if (rca == LDNS_RCODE_NOERROR && rc6 == LDNS_RCODE_NOERROR) {
		r->rcode = LDNS_RCODE_NOERROR;
		r->soa = soa;
		ttl = resolve_neg_ttl(soa);
		cache = 1;
	} else if (rca == -1 || rc6 == -1)
		r->rcode = -1;
	else
		r->rcode = rca != LDNS_RCODE_NOERROR ? rca : rc6;
	r->ttl = cache ? ttl : 0;
	return (cache);
}

/*
 * How long a negative answer is good (RFC 2308, 5): the lesser of its
 * SOA's TTL and MINIMUM, at most RESOLVE_NEG_TTL_MAX; without an SOA,
 * RESOLVE_TTL_NEG.
 */
static uint32_t
resolve_neg_ttl(const ldns_rr *soa)
{
	ldns_rdf	*rd;
	uint32_t	 ttl;

	if (soa == NULL)
		return (RESOLVE_TTL_NEG);
	ttl = ldns_rr_ttl(soa);
	if ((rd = ldns_rr_rdf(soa, 6)) != NULL &&
	    ldns_rdf_size(rd) == 4 && ldns_rdf2native_int32(rd) < ttl)
		ttl = ldns_rdf2native_int32(rd);
	if (ttl > RESOLVE_NEG_TTL_MAX)
		ttl = RESOLVE_NEG_TTL_MAX;
	return (ttl);
}

/* A copy of the first SOA of the authority section, whole, or NULL. */
static ldns_rr *
resolve_soa(ldns_pkt *pkt)
{
	ldns_rr_list	*ns;
	ldns_rr		*rr;
	size_t		 i;

	if (pkt == NULL || (ns = ldns_pkt_authority(pkt)) == NULL)
		return (NULL);
	for (i = 0; i < ldns_rr_list_rr_count(ns); i++) {
		rr = ldns_rr_list_rr(ns, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
		    ldns_rr_rd_count(rr) == 7)
			return (ldns_rr_clone(rr));
	}
	return (NULL);
}

/* Its queries are cancelled, its waiters go uncalled. */
static void
resolve_lookup_drop(struct resolve_lookup *lk)
{
	struct resolve_req	*req;

	upstream_cancel(lk->qa.query);
	lk->qa.query = NULL;
	upstream_cancel(lk->q6.query);
	lk->q6.query = NULL;
	evtimer_del(&lk->ev_step);
	while ((req = TAILQ_FIRST(&lk->waiters)) != NULL) {
		TAILQ_REMOVE(&lk->waiters, req, entry);
		resolve_nwaiting--;
		resolve_req_free(req);
	}
}

/* Off the tree: dropped and freed. */
static void
resolve_lookup_free(struct resolve_lookup *lk)
{
	resolve_lookup_drop(lk);
	if (lk->qa.soa != NULL)
		ldns_rr_free(lk->qa.soa);
	if (lk->q6.soa != NULL)
		ldns_rr_free(lk->q6.soa);
	free(lk);
}

/*
 * The A records of the question's name, following the CNAMEs of the answer
 * section from it, and in *ttl the least TTL of the records followed.
 */
size_t
resolve_collect(ldns_pkt *pkt, uint32_t *addrs, size_t max, uint32_t *ttl)
{
	return (resolve_chase(pkt, LDNS_RR_TYPE_A, addrs, max, ttl));
}

/* The same for AAAA records. */
size_t
resolve_collect6(ldns_pkt *pkt, struct in6_addr *addrs, size_t max,
    uint32_t *ttl)
{
	return (resolve_chase(pkt, LDNS_RR_TYPE_AAAA, addrs, max, ttl));
}

/* The records of type A or AAAA, their data into out, as above. */
static size_t
resolve_chase(ldns_pkt *pkt, ldns_rr_type type, void *out, size_t max,
    uint32_t *ttl)
{
	ldns_rr_list	*an;
	ldns_rr		*rr, *cname;
	ldns_rdf	*cur, *rd;
	uint32_t	 least = UINT32_MAX;
	size_t		 i, count, n, size;
	int		 hops;

	size = type == LDNS_RR_TYPE_A ? 4 : 16;

	*ttl = 0;
	if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1)
		return (0);
	an = ldns_pkt_answer(pkt);
	count = an != NULL ? ldns_rr_list_rr_count(an) : 0;
	cur = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0));
	for (hops = 0; hops <= RESOLVE_CNAME_MAX; hops++) {
		n = 0;
		cname = NULL;
		for (i = 0; i < count; i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
				continue;
			if (ldns_rr_get_type(rr) == type &&
			    ldns_rr_rd_count(rr) == 1 &&
			    (rd = ldns_rr_rdf(rr, 0)) != NULL &&
			    ldns_rdf_size(rd) == size) {
				if (n == max)
					continue;
				memcpy((unsigned char *)out + n++ * size,
				    ldns_rdf_data(rd), size);
				if (ldns_rr_ttl(rr) < least)
					least = ldns_rr_ttl(rr);
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    cname == NULL && ldns_rr_rd_count(rr) == 1)
				cname = rr;
		}
		if (n > 0) {
			*ttl = least;
			return (n);
		}
		if (cname == NULL ||
		    (rd = ldns_rr_rdf(cname, 0)) == NULL ||
		    ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_DNAME)
			break;
		if (ldns_rr_ttl(cname) < least)
			least = ldns_rr_ttl(cname);
		cur = rd;
	}
	return (0);
}
