/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * answer.h: DNS answers built from packets.  No sockets and no events:
 * bytes of a query in, the bytes of a reply (or a decision to forward or
 * to stay silent) out, so the whole query path can be tested and fuzzed.
 */

#ifndef ANSWER_H
#define ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

#include "dns44.h"
#include "map.h"
#include "wire.h"

#define ANSWER_RAW_MAX	512	/* a query the fast path keeps to verify */

enum answer_action {
	ANSWER_DROP,		/* not a query: no reply at all */
	ANSWER_REPLY,		/* wire holds the reply */
	ANSWER_FORWARD,		/* ask the upstreams; query holds it */
	ANSWER_VERIFY,		/* resolve a->name, then answer_verified();
				 * query or raw holds it; for a PTR, ask
				 * the store, then answer_ptr_asked() */
};

struct answer {
	enum answer_action	 action;
	uint8_t			*wire;		/* ANSWER_REPLY; free() it */
	size_t			 len;
	ldns_pkt		*query;		/* ANSWER_FORWARD; the
						 * caller frees it */
	size_t			 limit;		/* largest reply allowed */
	int			 rcode;
	ldns_rr_type		 qtype;
	int			 full;		/* the range was full */
	int			 limited;	/* over the client's rate */
	uint32_t		 client;	/* host order; 0: none */
	int			 fast;		/* answered without ldns */
	char			 name[WIRE_NAME_MAX + 2];	/* journal */
	char			 result[64];	/* journal: what was answered */
	struct rule		*rule;		/* the rule that decided */
	int			 tcp;		/* raw came over TCP */
	uint32_t		 ptr;		/* ANSWER_VERIFY of a PTR:
						 * its address, host order */
	size_t			 rawlen;
	/* Last, left out of the clearing: ANSWER_VERIFY without a query. */
	uint8_t			 raw[ANSWER_RAW_MAX];
};

struct rule;
struct ruleset;
struct resolve_result;

/* answer.c */
extern int	answer_fastpath_enabled;	/* 1 but in tests */

void	answer_query(struct map *, const struct dns44_conf *,
	    struct ruleset *, const uint8_t *, size_t, int, uint32_t, time_t,
	    struct answer *);
void	answer_verified(struct map *, const struct dns44_conf *,
	    const struct resolve_result *, time_t, struct answer *);
void	answer_ptr_asked(struct map *, const struct dns44_conf *, int,
	    struct answer *);
void	answer_refuse(const struct dns44_conf *, const uint8_t *, size_t, int,
	    struct answer *);
int	answer_relay(const ldns_pkt *, const ldns_pkt *, int, size_t,
	    uint8_t **, size_t *);
void	answer_strip_hints(ldns_pkt *);
int	answer_ptr_addr(const ldns_rdf *, uint32_t *);
const char *answer_type_name(ldns_rr_type, char *, size_t);

#endif /* ANSWER_H */
