/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * u32settest.c: the set of numbers (src/u32set.c).  Adding, finding and
 * removing against a plain array of flags, over a small space of numbers
 * so that runs of slots form, wrap over the end of the array and are
 * broken by removals; growing and shrinking; the filter, which must see
 * every number and keep exactly those it is told to.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "u32set.h"
#include "../lib/test.h"

#define SPACE	4096

static int	 seen[SPACE + 1];

/* The set holds exactly the numbers ref marks. */
static int
same(const struct u32set *s, const unsigned char *ref)
{
	size_t		n = 0;
	uint32_t	k;

	for (k = 1; k <= SPACE; k++) {
		if (u32set_has(s, k) != ref[k])
			return (0);
		n += ref[k];
	}
	return (u32set_count(s) == n);
}

static void
test_basic(void)
{
	struct u32set	s;
	uint32_t	k;

	memset(&s, 0, sizeof(s));
	CHECK(!u32set_has(&s, 1));
	CHECK_EQ(u32set_del(&s, 1), -1);
	errno = 0;
	CHECK_EQ(u32set_add(&s, 0), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(!u32set_has(&s, 0));
	CHECK_EQ(u32set_add(&s, 7), 0);
	CHECK_EQ(u32set_add(&s, 7), 0);
	CHECK_EQ(u32set_count(&s), 1);
	CHECK(u32set_has(&s, 7));
	CHECK_EQ(u32set_del(&s, 7), 0);
	CHECK_EQ(u32set_del(&s, 7), -1);
	CHECK_EQ(u32set_count(&s), 0);

	/* Grown past its first array, shrunk back as it empties. */
	for (k = 1; k <= 1000; k++)
		CHECK_EQ(u32set_add(&s, k * 2654435761U), 0);
	CHECK_EQ(u32set_count(&s), 1000);
	CHECK(s.bits >= 11);
	for (k = 1; k <= 1000; k++)
		CHECK(u32set_has(&s, k * 2654435761U));
	CHECK(!u32set_has(&s, 1001 * 2654435761U));
	for (k = 1; k <= 990; k++)
		CHECK_EQ(u32set_del(&s, k * 2654435761U), 0);
	CHECK_EQ(u32set_count(&s), 10);
	CHECK(s.bits < 11);
	for (k = 991; k <= 1000; k++)
		CHECK(u32set_has(&s, k * 2654435761U));
	/* The largest number is one like any other. */
	CHECK_EQ(u32set_add(&s, UINT32_MAX), 0);
	CHECK(u32set_has(&s, UINT32_MAX));
	u32set_clear(&s);
	CHECK_EQ(u32set_count(&s), 0);
	CHECK(!u32set_has(&s, 995 * 2654435761U));
}

/* Random adds and removes, checked against flags after each step. */
static void
test_random(void)
{
	struct u32set	 s;
	unsigned char	 ref[SPACE + 1];
	uint32_t	 k;
	int		 i, bad = 0, space;

	memset(&s, 0, sizeof(s));
	memset(ref, 0, sizeof(ref));
	/* A small space first: long runs in a small array. */
	for (i = 0; i < 200000 && !bad; i++) {
		space = i < 100000 ? 100 : SPACE;
		k = arc4random_uniform(space) + 1;
		if (arc4random_uniform(100) < (i % 20000 < 10000 ? 60 : 40)) {
			if (u32set_add(&s, k) == -1)
				bad = 1;
			ref[k] = 1;
		} else {
			if (u32set_del(&s, k) != (ref[k] ? 0 : -1))
				bad = 1;
			ref[k] = 0;
		}
		if (i % 97 == 0 && !same(&s, ref))
			bad = 1;
	}
	CHECK(!bad);
	CHECK(same(&s, ref));
	u32set_clear(&s);
}

static int
keep_even(uint32_t k, void *arg)
{
	(*(int *)arg)++;
	if (k <= SPACE)
		seen[k]++;
	return (k % 2 == 0);
}

static void
test_filter(void)
{
	struct u32set	 s;
	unsigned char	 ref[SPACE + 1];
	uint32_t	 k;
	int		 calls = 0, missed = 0, twice = 0, round;

	for (round = 0; round < 50; round++) {
		memset(&s, 0, sizeof(s));
		memset(ref, 0, sizeof(ref));
		memset(seen, 0, sizeof(seen));
		for (k = 1; k <= 300; k++) {
			if (arc4random_uniform(2) == 0)
				continue;
			CHECK_EQ(u32set_add(&s, k), 0);
			ref[k] = 1;
		}
		calls = 0;
		u32set_filter(&s, keep_even, &calls);
		for (k = 1; k <= 300; k++) {
			if (ref[k] && seen[k] == 0)
				missed++;
			if (seen[k] > 2)
				twice++;
			ref[k] = ref[k] && k % 2 == 0;
		}
		CHECK(same(&s, ref));
		u32set_clear(&s);
	}
	CHECK_EQ(missed, 0);
	CHECK_EQ(twice, 0);

	/* Nothing kept: empty, and small again. */
	memset(&s, 0, sizeof(s));
	for (k = 1; k <= 1000; k += 2)
		CHECK_EQ(u32set_add(&s, k), 0);
	u32set_filter(&s, keep_even, &calls);
	CHECK_EQ(u32set_count(&s), 0);
	CHECK(s.bits <= 7);
	for (k = 1; k <= 1000; k += 2)
		CHECK(!u32set_has(&s, k));
	u32set_clear(&s);
}

int
main(void)
{
	test_basic();
	test_random();
	test_filter();
	return (test_done("u32set"));
}
