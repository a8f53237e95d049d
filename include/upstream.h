/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstream.h: the dns process's queries to the upstream resolvers, for the
 * queries it forwards and for the names resolve.c looks up.
 */

#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include <ldns/ldns.h>

#include "dns44.h"

#define UPSTREAM_MAX_PENDING	4096	/* queries out at once */
#define UPSTREAM_MAX_TCP	256	/* TCP retries at once */
#define UPSTREAM_HEALTH_MAX	64	/* upstreams whose health is kept */

struct dns44_conf;
struct upstream_req;
struct rule_upstream;

/*
 * The answer to upstream_query(), or NULL when no upstream gave one.  A
 * SERVFAIL or REFUSED answer moves on to the next upstream; when none
 * answers better, the last of those answers is given.  The packet is
 * upstream.c's and lives until the callback returns.
 */
typedef void	(*upstream_cb)(ldns_pkt *, void *);

/* upstream_query()'s flags: what of the client's query goes upstream. */
#define UPSTREAM_DO	0x01		/* DNSSEC OK, in the OPT */
#define UPSTREAM_CD	0x02		/* checking disabled */

struct upstream_stats {
	uint64_t	queries;	/* requests to the upstreams */
	uint64_t	answers;	/* answers that passed the checks */
	uint64_t	timeouts;	/* tries that timed out */
	uint64_t	failovers;	/* moves to the next upstream */
	uint64_t	tcp_retries;	/* truncated answers asked again */
	uint64_t	mismatched;	/* replies ignored */
};

enum upstream_state_shown {
	UPSTREAM_NEW,			/* never answered nor failed */
	UPSTREAM_UP,
	UPSTREAM_DOWN,			/* until an answer */
};

/* One upstream as upstream_list() tells of it. */
struct upstream_info {
	struct conf_upstream	addr;
	enum upstream_state_shown state;
	int64_t			srtt_us;	/* 0: never measured */
	int64_t			rttvar_us;
	uint64_t		answers;
	uint64_t		timeouts;
	uint32_t		fails;		/* in a row */
	uint32_t		backoff_left_ms; /* before its next probe */
};

/*
 * The callback is called once, from the event loop, unless the query is
 * cancelled first; upstream_cancel() on a query whose callback is running
 * does nothing.  upstream_init() says whether the upstreams changed (1)
 * or not (0); upstream_shutdown() drops every query in flight uncalled,
 * so resolve_shutdown() goes first.
 */

/* upstream.c */
int		 upstream_init(const struct dns44_conf *);
void		 upstream_shutdown(void);
struct upstream_req *upstream_query(const ldns_rdf *, ldns_rr_type,
		    ldns_rr_class, int, const struct rule_upstream *,
		    upstream_cb, void *);
void		 upstream_cancel(struct upstream_req *);
const struct upstream_stats *upstream_stats(void);
size_t		 upstream_list(struct upstream_info *, size_t);
void		 upstream_clock_advance(uint32_t);	/* regress only */

/* upstream_tls.c */
int		 upstream_tls_load(const char *, char *, size_t);

#endif /* UPSTREAM_H */
