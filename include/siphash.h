/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * siphash.h: SipHash-2-4, the keyed hash of names for the map's tables and
 * for the first candidate address of a new name.
 */

#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN	16

/* siphash.c */
uint64_t	 siphash(const uint8_t [SIPHASH_KEY_LEN], const void *, size_t);

#endif /* SIPHASH_H */
