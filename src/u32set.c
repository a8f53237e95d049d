/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * u32set.c: a set of nonzero 32-bit numbers in one array, by open
 * addressing with linear probing (0 marks a free slot), grown at half
 * full and shrunk at an eighth.  A number's first slot is a
 * multiply-shift hash with a random odd factor: what is put in may come
 * from the network, and a fixed factor would let it be aimed at one run
 * of slots.  A removal moves back what follows it rather than leave a
 * tombstone, so that a set that churns never fills with them.
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "u32set.h"

#define U32SET_MIN_BITS	6

static size_t	u32set_home(const struct u32set *, uint32_t);
static size_t	u32set_find(const struct u32set *, uint32_t);
static int	u32set_resize(struct u32set *, unsigned int);
static void	u32set_del_at(struct u32set *, size_t);
static void	u32set_shrink(struct u32set *);

static size_t
u32set_home(const struct u32set *s, uint32_t k)
{
	return ((uint32_t)(k * s->mul) >> (32 - s->bits));
}

/* Where k is, or the free slot where it would go. */
static size_t
u32set_find(const struct u32set *s, uint32_t k)
{
	size_t	mask = ((size_t)1 << s->bits) - 1, i;

	for (i = u32set_home(s, k); s->slot[i] != 0 && s->slot[i] != k;
	    i = (i + 1) & mask)
		;
	return (i);
}

static int
u32set_resize(struct u32set *s, unsigned int bits)
{
	uint32_t	*old = s->slot, *slot;
	size_t		 i, n = old != NULL ? (size_t)1 << s->bits : 0;

	if ((slot = calloc((size_t)1 << bits, sizeof(*slot))) == NULL)
		return (-1);
	if (s->mul == 0)
		s->mul = arc4random() | 1;
	s->slot = slot;
	s->bits = bits;
	for (i = 0; i < n; i++)
		if (old[i] != 0)
			s->slot[u32set_find(s, old[i])] = old[i];
	free(old);
	return (0);
}

/* k in s: 0, or -1 with errno (EINVAL for 0, ENOMEM). */
int
u32set_add(struct u32set *s, uint32_t k)
{
	size_t	i;

	if (k == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (s->slot == NULL && u32set_resize(s, U32SET_MIN_BITS) == -1)
		return (-1);
	if (s->slot[i = u32set_find(s, k)] == k)
		return (0);
	if (2 * (s->n + 1) > (size_t)1 << s->bits) {
		if (u32set_resize(s, s->bits + 1) == -1)
			return (-1);
		i = u32set_find(s, k);
	}
	s->slot[i] = k;
	s->n++;
	return (0);
}

/* k out of s: 0, or -1 when it was not there. */
int
u32set_del(struct u32set *s, uint32_t k)
{
	size_t	i;

	if (k == 0 || s->slot == NULL || s->slot[i = u32set_find(s, k)] != k)
		return (-1);
	u32set_del_at(s, i);
	u32set_shrink(s);
	return (0);
}

int
u32set_has(const struct u32set *s, uint32_t k)
{
	return (k != 0 && s->slot != NULL && s->slot[u32set_find(s, k)] == k);
}

size_t
u32set_count(const struct u32set *s)
{
	return (s->n);
}

/*
 * Each number to keep(k, arg), kept when it says 1 and taken out when it
 * says 0.  What moves into a slot emptied is looked at next; a number
 * moved back over the end of the array may be looked at twice.
 */
void
u32set_filter(struct u32set *s, int (*keep)(uint32_t, void *), void *arg)
{
	size_t	i;

	for (i = 0; s->slot != NULL && i < (size_t)1 << s->bits;) {
		if (s->slot[i] != 0 && !keep(s->slot[i], arg))
			u32set_del_at(s, i);
		else
			i++;
	}
	u32set_shrink(s);
}

void
u32set_clear(struct u32set *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/*
 * Empty slot i and move back into it what a probe from its first slot
 * would no longer reach: every number after it stays where a probe finds
 * it.
 */
static void
u32set_del_at(struct u32set *s, size_t i)
{
	size_t	mask = ((size_t)1 << s->bits) - 1, j, h;

	for (j = (i + 1) & mask; s->slot[j] != 0; j = (j + 1) & mask) {
		h = u32set_home(s, s->slot[j]);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	s->slot[i] = 0;
	s->n--;
}

/*
 * Under an eighth full: halved until it is not (failing that, the larger
 * array kept).
 */
static void
u32set_shrink(struct u32set *s)
{
	unsigned int	bits = s->bits;

	while (bits > U32SET_MIN_BITS && 8 * s->n < (size_t)1 << bits)
		bits--;
	if (bits != s->bits)
		(void)u32set_resize(s, bits);
}
