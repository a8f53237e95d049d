/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * tabletest.c: the hash tables' arrays (src/table.c).  Both kinds come
 * zeroed and whole; a large one is a mapping of its own that asked for
 * huge pages (its VmFlags in /proc/self/smaps have "hg", where the
 * kernel has transparent huge pages), a small one is not; a size that
 * overflows is refused.
 */

#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "../lib/test.h"

#define HUGE	(2 * 1024 * 1024)

/*
 * 1 when the mapping that starts at p asked for huge pages, 0 when it
 * did not, -1 when there is no mapping starting at p.
 */
static int
advised(const void *p)
{
	FILE		*f;
	char		 line[512];
	unsigned long	 lo, hi;
	int		 in = 0, found = -1;

	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = lo == (unsigned long)p;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			found = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return (found);
}

/* Every byte zero. */
static int
zeroed(const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != 0)
			return (0);
	return (1);
}

static void
test_small(void)
{
	uint64_t	*t;
	size_t		 n = HUGE / sizeof(*t) - 1, i;

	CHECK((t = table_new(n, sizeof(*t))) != NULL);
	if (t == NULL)
		return;
	CHECK(zeroed((unsigned char *)t, n * sizeof(*t)));
	for (i = 0; i < n; i++)
		t[i] = i;
	CHECK_EQ(t[n - 1], n - 1);
	/* From malloc: not a mapping of its own that asked for huge pages. */
	CHECK(advised(t) != 1);
	table_free(t, n, sizeof(*t));
}

static void
test_large(int thp)
{
	uint64_t	*t;
	size_t		 n, i;
	int		 round;

	/* 2 MiB exactly, then 8 MiB; again once freed, still zeroed. */
	for (round = 0; round < 3; round++) {
		n = (round == 1 ? 4 * HUGE : HUGE) / sizeof(*t);
		CHECK((t = table_new(n, sizeof(*t))) != NULL);
		if (t == NULL)
			return;
		CHECK((uintptr_t)t % (uintptr_t)sysconf(_SC_PAGESIZE) == 0);
		CHECK(zeroed((unsigned char *)t, n * sizeof(*t)));
		if (thp)
			CHECK_EQ(advised(t), 1);
		else
			CHECK(advised(t) != -1);
		for (i = 0; i < n; i++)
			t[i] = ~(uint64_t)i;
		CHECK_EQ(t[n - 1], ~(uint64_t)(n - 1));
		table_free(t, n, sizeof(*t));
		/* Unmapped: no mapping starts there any more. */
		CHECK_EQ(advised(t), -1);
	}
}

static void
test_bad(void)
{
	errno = 0;
	CHECK(table_new(SIZE_MAX / 4, 8) == NULL);
	CHECK_EQ(errno, ENOMEM);
	table_free(NULL, 0, 8);
	table_free(NULL, HUGE, 8);
}

int
main(void)
{
	int	thp;

	thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) ==
	    0;
	if (!thp)
		printf("table: no transparent huge pages here, "
		    "their advice not checked\n");
	test_small();
	test_large(thp);
	test_bad();
	return (test_done("table"));
}
