/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * wire.h: the DNS wire format as dns44 writes and reads it by hand: the
 * sizes every reader of a message agrees on and the big-endian fields;
 * and a message handed to ldns once checked (wire.c).
 */

#ifndef WIRE_H
#define WIRE_H

#include <stdint.h>

#define WIRE_HDR_SIZE		12	/* the header of a message */
#define WIRE_OPT_SIZE		11	/* an OPT RR at the root, no options */
#define WIRE_EDNS_SIZE		1232	/* UDP unfragmented: DNS flag day */
#define WIRE_UDP_MIN		512	/* a UDP message without EDNS0 */
#define WIRE_UDP_MAX		4096	/* the largest UDP answer dns44 sends */
#define WIRE_EDNS_DO		0x8000	/* the DO bit, in the OPT's TTL */
#define WIRE_RCODE_BADVERS	16	/* header 0, OPT extended rcode 1 */
#define WIRE_NAME_MAX		255	/* a name, its final zero included */
#define WIRE_TEXT_MAX		253	/* a name as text, no final dot */
#define WIRE_LABEL_MAX		63

struct ldns_struct_pkt;

/* wire.c: a message from the network into an ldns packet, or -1. */
int	wire_parse(struct ldns_struct_pkt **, const uint8_t *, size_t);

/* Each put returns the byte after the field it wrote. */
static inline uint8_t *
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return (p + 2);
}

static inline uint8_t *
wire_put32(uint8_t *p, uint32_t v)
{
	p = wire_put16(p, v >> 16);
	return (wire_put16(p, v & 0xffff));
}

static inline uint8_t *
wire_put64(uint8_t *p, uint64_t v)
{
	p = wire_put32(p, v >> 32);
	return (wire_put32(p, v & 0xffffffff));
}

static inline uint16_t
wire_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static inline uint64_t
wire_get64(const uint8_t *p)
{
	return ((uint64_t)wire_get32(p) << 32 | wire_get32(p + 4));
}

#endif /* WIRE_H */
