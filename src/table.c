/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * table.c: the arrays of the hash tables (the map's buckets, a name
 * set's slots).  A probe lands anywhere in such an array; with 4 kB pages
 * each probe of a large one would miss the TLB as well as the cache, so
 * an array of a huge page or more is mapped on its own and asks for
 * huge pages (transparent_hugepage "madvise", Debian's default; no
 * matter if they are refused).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "table.h"

#define TABLE_HUGE	(2 * 1024 * 1024)	/* bytes; mapped from here */

/* A zeroed array of n elements of size bytes, or NULL (errno set). */
void *
table_new(size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return (NULL);
	}
	if (n * size < TABLE_HUGE)
		return (calloc(n, size));
	p = mmap(NULL, n * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return (NULL);
	(void)madvise(p, n * size, MADV_HUGEPAGE);
	return (p);
}

/* Free what table_new(n, size) gave; p may be NULL. */
void
table_free(void *p, size_t n, size_t size)
{
	if (p == NULL)
		return;
	if (n * size < TABLE_HUGE)
		free(p);
	else
		(void)munmap(p, n * size);
}
