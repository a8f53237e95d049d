/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * siphash.c: SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed hash
 * that an outsider who does not know the key cannot steer into one
 * bucket.  The map hashes names with it, for its tables (a random key)
 * and for the first candidate address of a new name (a fixed key).
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

static uint64_t	siphash_le64(const uint8_t *, size_t);

#define SIPHASH_ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPHASH_ROUND(v0, v1, v2, v3) do {				\
	(v0) += (v1); (v1) = SIPHASH_ROTL((v1), 13); (v1) ^= (v0);	\
	(v0) = SIPHASH_ROTL((v0), 32);					\
	(v2) += (v3); (v3) = SIPHASH_ROTL((v3), 16); (v3) ^= (v2);	\
	(v0) += (v3); (v3) = SIPHASH_ROTL((v3), 21); (v3) ^= (v0);	\
	(v2) += (v1); (v1) = SIPHASH_ROTL((v1), 17); (v1) ^= (v2);	\
	(v2) = SIPHASH_ROTL((v2), 32);					\
} while (0)

static uint64_t
siphash_le64(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return (v);
}

uint64_t
siphash(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	const uint8_t	*p = data;
	uint64_t	 k0, k1, v0, v1, v2, v3, m;
	size_t		 i, left;

	k0 = siphash_le64(key, 8);
	k1 = siphash_le64(key + 8, 8);
	v0 = k0 ^ 0x736f6d6570736575ULL;
	v1 = k1 ^ 0x646f72616e646f6dULL;
	v2 = k0 ^ 0x6c7967656e657261ULL;
	v3 = k1 ^ 0x7465646279746573ULL;

	for (i = 0; i + 8 <= len; i += 8) {
		m = siphash_le64(p + i, 8);
		v3 ^= m;
		SIPHASH_ROUND(v0, v1, v2, v3);
		SIPHASH_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	left = len - i;
	m = siphash_le64(p + i, left) | (uint64_t)(len & 0xff) << 56;
	v3 ^= m;
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	v0 ^= m;

	v2 ^= 0xff;
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	SIPHASH_ROUND(v0, v1, v2, v3);
	return (v0 ^ v1 ^ v2 ^ v3);
}
