/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_answer.c: an answer from an upstream: the real addresses taken
 * from it for the proxy (resolve_collect) and the reply relayed to the
 * client (answer_relay, with hints and addresses stripped) must come out
 * sane whatever the upstream sent.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "resolve.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	ldns_pkt	*up = NULL, *q = NULL, *r = NULL;
	ldns_rr		*rr;
	uint32_t	 addrs[RESOLVE_ADDRS_MAX], ttl;
	uint8_t		*wire;
	size_t		 wlen, n, i, limit;

	/* As upstream_check() reads it. */
	if (wire_parse(&up, data, len) == -1)
		return (0);
	n = resolve_collect(up, addrs, RESOLVE_ADDRS_MAX, &ttl);
	if (n > RESOLVE_ADDRS_MAX)
		abort();
	if (ldns_pkt_query_new_frm_str(&q, "fuzz.test.", LDNS_RR_TYPE_HTTPS,
	    LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK)
		abort();
	limit = len > 0 && (data[len - 1] & 1) ? 65535 : 512;
	if (answer_relay(q, up, 0, limit, &wire, &wlen) == 0) {
		if (wlen > limit)
			abort();
		if (ldns_wire2pkt(&r, wire, wlen) != LDNS_STATUS_OK)
			abort();
		/* No real address and no hint survives. */
		for (i = 0; i < ldns_pkt_ancount(r); i++) {
			rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ||
			    ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA)
				abort();
		}
		ldns_pkt_free(r);
		free(wire);
	}
	ldns_pkt_free(q);
	ldns_pkt_free(up);
	return (0);
}
