/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_names.c: the name sets on any list file.  names_load() reads it
 * into two tables without a crash or a leak, and every line of it is
 * then asked as a name: both tables match it alike.  A line that is a
 * good pattern, added alone to a set of its own, matches what its kind
 * says and no more.
 */

#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

#define FUZZ_LINE_MAX	1100	/* more than a name escaped at its longest */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fnull = -1, fstderr = -1;

static unsigned int
fuzz_match(const struct names *s, const char *name)
{
	uint8_t	b[2] = { 0, 0 };

	names_match(s, name, b, 16);
	return (b[0] | b[1] << 8);
}

/* A line alone: it matches as its kind says. */
static void
fuzz_pattern(const char *line)
{
	struct names	*s;
	char		 below[FUZZ_LINE_MAX + 4];
	const char	*name = line;

	if ((s = names_new()) == NULL)
		abort();
	if (names_add(s, line, 5) == 0) {
		if (names_count(s) != 1)
			abort();
		if (line[0] == '=' || line[0] == '*')
			name = line + (line[0] == '=' ? 1 : 2);
		snprintf(below, sizeof(below), "x.%s", name);
		if (fuzz_match(s, name) != (line[0] == '*' ? 0U : 1U << 5) ||
		    fuzz_match(s, below) != (line[0] == '=' ? 0U : 1U << 5))
			abort();
	}
	names_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct names	*s;
	FILE		*f;
	char		 line[FUZZ_LINE_MAX];
	size_t		 i, j, added[2], bad[2];
	unsigned int	 bits;

	if (fnull == -1 && ((fnull = open("/dev/null", O_WRONLY)) == -1 ||
	    (fstderr = dup(2)) == -1))
		abort();
	if ((s = names_new()) == NULL)
		abort();
	/* Bad lines are expected: keep their warnings off stderr. */
	fflush(stderr);
	dup2(fnull, 2);
	for (i = 0; i < 2; i++) {
		/* fmemopen() may refuse an empty buffer. */
		f = len == 0 ? fopen("/dev/null", "r") :
		    fmemopen((void *)data, len, "r");
		if (f == NULL || names_load(s, f, "fuzz", i == 0 ? 0 : 9,
		    &added[i], &bad[i]) == -1)
			abort();
		fclose(f);
	}
	fflush(stderr);
	dup2(fstderr, 2);
	if (added[0] != added[1] || bad[0] != bad[1] ||
	    names_count(s) % 2 != 0 || names_count(s) > 2 * added[0] ||
	    names_memory(s) < names_count(s) * 16)
		abort();

	for (i = 0; i < len; i = j + 1) {
		for (j = i; j < len && data[j] != '\n'; j++)
			;
		if (j - i >= sizeof(line))
			continue;
		memcpy(line, data + i, j - i);
		line[j - i] = '\0';
		bits = fuzz_match(s, line);
		if ((bits & ~(1U | 1U << 9)) != 0 ||
		    ((bits & 1) != 0) != ((bits & 1U << 9) != 0))
			abort();
		fuzz_pattern(line);
	}
	names_free(s);
	return (0);
}
