/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * wire.c: a DNS message from the network read with ldns, checked first
 * for what ldns itself mishandles.  ldns 1.8.3's ldns_wire2pkt() takes a
 * TSIG out of the additional section and keeps it as the packet's; a
 * second TSIG replaces the first, which is never freed (73 bytes and more
 * a message, found by regress/fuzz).  A client could so leak the dns
 * process's memory a query at a time, and an upstream an answer at a
 * time.  RFC 8945 allows one TSIG, the last record: a message in which
 * ldns would meet more is refused here as one that does not parse.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "wire.h"

static int	wire_tsig_bytes(const uint8_t *, size_t);
static int	wire_tsigs(const uint8_t *, size_t);

/* Whether the type TSIG (0x00fa) is twice among the bytes past the header. */
static int
wire_tsig_bytes(const uint8_t *p, size_t len)
{
	size_t	i;
	int	n = 0;

	for (i = WIRE_HDR_SIZE; i + 1 < len; i++)
		if (p[i] == 0x00 && p[i + 1] == 0xfa && ++n == 2)
			return (1);
	return (0);
}

/*
 * The TSIG records ldns_wire2pkt() would meet in the additional section:
 * the records read as it reads them, with ldns_wire2rr() (which does not
 * always end a record where its rdlength says), up to the first it cannot
 * read, and the section shortened by one for each TSIG as it does.  Only
 * for a message with two of the type's bytes: the rest cannot have two.
 */
static int
wire_tsigs(const uint8_t *p, size_t len)
{
	static const ldns_pkt_section	 sec[4] = { LDNS_SECTION_QUESTION,
	    LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
	    LDNS_SECTION_ADDITIONAL };
	ldns_rr				*rr;
	size_t				 pos = WIRE_HDR_SIZE, n[4], i, j;
	int				 tsigs = 0;

	if (len < WIRE_HDR_SIZE || !wire_tsig_bytes(p, len))
		return (0);
	for (j = 0; j < 4; j++)
		n[j] = wire_get16(p + 4 + 2 * j);
	for (j = 0; j < 4; j++) {
		for (i = 0; i < n[j]; i++) {
			rr = NULL;
			if (ldns_wire2rr(&rr, p, len, &pos, sec[j]) !=
			    LDNS_STATUS_OK)
				return (tsigs);
			if (j == 3 && ldns_rr_get_type(rr) ==
			    LDNS_RR_TYPE_TSIG) {
				tsigs++;
				n[j]--;
			}
			ldns_rr_free(rr);
		}
	}
	return (tsigs);
}

/* *pktp from the message's len bytes, or -1 (and NULL): it does not parse. */
int
wire_parse(ldns_pkt **pktp, const uint8_t *p, size_t len)
{
	*pktp = NULL;
	if (wire_tsigs(p, len) > 1)
		return (-1);
	if (ldns_wire2pkt(pktp, p, len) != LDNS_STATUS_OK) {
		ldns_pkt_free(*pktp);
		*pktp = NULL;
		return (-1);
	}
	return (0);
}
