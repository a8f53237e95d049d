/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * answer_relay.c: the client's reply to a query the dns process forwarded,
 * made from the upstream's answer, with the real addresses and the SVCB
 * and HTTPS address hints taken out unless the rules pass the name.
 */

#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "answer_local.h"
#include "wire.h"

#define SVC_IPV4HINT	4
#define SVC_IPV6HINT	6

static ldns_rr	*answer_strip_rr(ldns_rr *);
static ldns_rr_list *answer_filter(const ldns_rr_list *);

/*
 * Drop the address hints of SVCB and HTTPS records, so a client learns no
 * real address and cannot go around the map.  The parameters are
 * (key, length, value) triples in key order.
 */
static ldns_rr *
answer_strip_rr(ldns_rr *rr)
{
	ldns_rdf	*params, *np;
	const uint8_t	*p;
	uint8_t		*out;
	size_t		 len, i, olen = 0, vlen;
	uint16_t	 key;

	if (ldns_rr_rd_count(rr) != 3 ||
	    ldns_rdf_get_type(ldns_rr_rdf(rr, 2)) != LDNS_RDF_TYPE_SVCPARAMS)
		return (rr);
	params = ldns_rr_rdf(rr, 2);
	p = ldns_rdf_data(params);
	len = ldns_rdf_size(params);
	if ((out = malloc(len > 0 ? len : 1)) == NULL)
		return (rr);
	for (i = 0; i + 4 <= len; i += 4 + vlen) {
		key = wire_get16(p + i);
		vlen = wire_get16(p + i + 2);
		if (i + 4 + vlen > len)
			break;
		if (key == SVC_IPV4HINT || key == SVC_IPV6HINT)
			continue;
		memcpy(out + olen, p + i, 4 + vlen);
		olen += 4 + vlen;
	}
	if (olen == len) {
		free(out);
		return (rr);
	}
	np = ldns_rdf_new(LDNS_RDF_TYPE_SVCPARAMS, olen, out);
	if (np == NULL) {
		free(out);
		return (rr);
	}
	ldns_rdf_deep_free(ldns_rr_set_rdf(rr, np, 2));
	return (rr);
}

static ldns_rr_list *
answer_filter(const ldns_rr_list *in)
{
	ldns_rr_list	*out;
	ldns_rr		*rr;
	size_t		 i;

	if ((out = ldns_rr_list_new()) == NULL)
		return (NULL);
	for (i = 0; i < ldns_rr_list_rr_count(in); i++) {
		rr = ldns_rr_list_rr(in, i);
		/* Real addresses never reach a client. */
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA)
			continue;
		if ((rr = ldns_rr_clone(rr)) == NULL)
			continue;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SVCB ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_HTTPS)
			rr = answer_strip_rr(rr);
		ldns_rr_list_push_rr(out, rr);
	}
	return (out);
}

void
answer_strip_hints(ldns_pkt *p)
{
	ldns_rr_list	*l;

	if ((l = answer_filter(ldns_pkt_answer(p))) != NULL) {
		ldns_rr_list_deep_free(ldns_pkt_answer(p));
		ldns_pkt_set_answer(p, l);
		ldns_pkt_set_ancount(p, ldns_rr_list_rr_count(l));
	}
	if ((l = answer_filter(ldns_pkt_authority(p))) != NULL) {
		ldns_rr_list_deep_free(ldns_pkt_authority(p));
		ldns_pkt_set_authority(p, l);
		ldns_pkt_set_nscount(p, ldns_rr_list_rr_count(l));
	}
	if ((l = answer_filter(ldns_pkt_additional(p))) != NULL) {
		ldns_rr_list_deep_free(ldns_pkt_additional(p));
		ldns_pkt_set_additional(p, l);
		ldns_pkt_set_arcount(p, ldns_rr_list_rr_count(l));
	}
}

/*
 * The client's reply to a forwarded query: the upstream's rcode and
 * records under the client's id and question, or SERVFAIL when no
 * upstream answered.  Addresses and address hints are removed, but for
 * a name the rules pass, whose answer the client gets as it came.
 */
int
answer_relay(const ldns_pkt *q, const ldns_pkt *up, int pass, size_t limit,
    uint8_t **wire, size_t *len)
{
	ldns_pkt	*r;
	int		 rv;

	if ((r = answer_reply_new(q, up == NULL ? LDNS_RCODE_SERVFAIL :
	    ldns_pkt_get_rcode(up))) == NULL)
		return (-1);
	if (up != NULL) {
		ldns_pkt_set_ad(r, ldns_pkt_ad(up));
		ldns_rr_list_deep_free(ldns_pkt_answer(r));
		ldns_rr_list_deep_free(ldns_pkt_authority(r));
		ldns_rr_list_deep_free(ldns_pkt_additional(r));
		ldns_pkt_set_answer(r, ldns_rr_list_clone(ldns_pkt_answer(up)));
		ldns_pkt_set_authority(r,
		    ldns_rr_list_clone(ldns_pkt_authority(up)));
		ldns_pkt_set_additional(r,
		    ldns_rr_list_clone(ldns_pkt_additional(up)));
		ldns_pkt_set_ancount(r, ldns_rr_list_rr_count(
		    ldns_pkt_answer(r)));
		ldns_pkt_set_nscount(r, ldns_rr_list_rr_count(
		    ldns_pkt_authority(r)));
		ldns_pkt_set_arcount(r, ldns_rr_list_rr_count(
		    ldns_pkt_additional(r)));
		if (!pass)
			answer_strip_hints(r);
	}
	rv = answer_wire(r, limit, wire, len);
	ldns_pkt_free(r);
	return (rv);
}
