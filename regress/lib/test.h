/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * test.h: the few macros the unit tests share.  A failed CHECK prints its
 * place and goes on; test_done() gives the exit status run-tests reads.
 */

#ifndef TEST_H
#define TEST_H

#include <stdio.h>
#include <stdlib.h>

static int	test_checks;
static int	test_failures;

#define CHECK(cond) do {						\
	test_checks++;							\
	if (!(cond)) {							\
		test_failures++;					\
		fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n",	\
		    __FILE__, __LINE__, __func__, #cond);		\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long test_a_ = (long long)(a), test_b_ = (long long)(b);	\
	test_checks++;							\
	if (test_a_ != test_b_) {					\
		test_failures++;					\
		fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n",\
		    __FILE__, __LINE__, __func__, #a, test_a_, test_b_);\
	}								\
} while (0)

static inline int
test_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, test_checks,
	    test_failures);
	return (test_failures == 0 ? 0 : 1);
}

#endif /* TEST_H */
