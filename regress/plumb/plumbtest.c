/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * plumbtest.c: the prefixes that the TPROXY rules, ip rules and local
 * routes of a range are made of (plumb_prefixes() in src/plumb.c).  They
 * must cover the range exactly, with no address outside it (it would be
 * taken from its real owner) and none of it left out, each aligned, in
 * order, and as few as can be; a range needing more than there is room
 * for is refused.
 */

#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dns44.h"
#include "plumb.h"
#include "../lib/test.h"

struct dns44_conf	*conf;		/* the daemon's; unused here */

/* p[0..n) covers first..last exactly, aligned and in order. */
static int
covers(const struct plumb_prefix *p, int n, uint32_t first, uint32_t last)
{
	uint64_t	next = first, size;
	int		i;

	for (i = 0; i < n; i++) {
		if (p[i].len > 32)
			return (0);
		size = (uint64_t)1 << (32 - p[i].len);
		if (p[i].addr != next || p[i].addr % size != 0)
			return (0);
		next += size;
	}
	return (n > 0 && next == (uint64_t)last + 1);
}

/* The fewest prefixes that can cover first..last: counted the slow way. */
static int
fewest(uint32_t first, uint32_t last)
{
	uint64_t	a = first, size;
	int		n = 0;

	while (a <= last) {
		for (size = (uint64_t)1 << 32; size > 1; size /= 2)
			if (a % size == 0 && a + size - 1 <= last)
				break;
		a += size;
		n++;
	}
	return (n);
}

static void
check_range(uint32_t first, uint32_t last, int want)
{
	struct plumb_prefix	p[PLUMB_MAX_PREFIXES];
	int			n;

	n = plumb_prefixes(first, last, p, PLUMB_MAX_PREFIXES);
	CHECK(covers(p, n, first, last));
	CHECK_EQ(n, want >= 0 ? want : fewest(first, last));
	if (!covers(p, n, first, last))
		fprintf(stderr, "range %08x - %08x: %d prefixes\n", first,
		    last, n);
}

int
main(void)
{
	struct plumb_prefix	p[PLUMB_MAX_PREFIXES];
	uint32_t		first, last;
	int			i;

	check_range(0xac180000, 0xac18ffff, 1);	/* 172.24.0.0/16 */
	check_range(0x0a000005, 0x0a000005, 1);	/* one address */
	check_range(0xac180001, 0xac180006, 4);	/* .1, .2/31, .4/31, .6 */
	check_range(0xac180000, 0xac180100, 2);	/* a /24 and one more */
	check_range(0xac17ffff, 0xac180000, 2);	/* across a /16's edge */
	check_range(0, 0xffffffff, 1);		/* everything: 0/0 */
	check_range(0xffffffff, 0xffffffff, 1);
	check_range(1, 0xfffffffe, 62);		/* the worst there is */
	/* Room for fewer than it needs: refused, not cut short. */
	CHECK_EQ(plumb_prefixes(0xac180001, 0xac180006, p, 3), -1);
	CHECK_EQ(plumb_prefixes(0xac180001, 0xac180006, p, 4), 4);

	srandom(44);
	for (i = 0; i < 100000; i++) {
		first = (uint32_t)random() << 1 ^ (uint32_t)random();
		last = first + (uint32_t)(random() % (i % 2 ? 70000 : 300));
		if (last < first)
			last = 0xffffffff;
		check_range(first, last, -1);
	}
	return (test_done("plumbtest"));
}
