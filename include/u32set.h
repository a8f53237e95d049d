/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * u32set.h: a set of nonzero 32-bit numbers, as small as what it holds.
 */

#ifndef U32SET_H
#define U32SET_H

#include <stddef.h>
#include <stdint.h>

/* All zero is an empty set. */
struct u32set {
	uint32_t	*slot;		/* 0: free */
	unsigned int	 bits;		/* log2 of the slots; 0: none yet */
	size_t		 n;
	uint32_t	 mul;		/* random and odd */
};

int	 u32set_add(struct u32set *, uint32_t);
int	 u32set_del(struct u32set *, uint32_t);
int	 u32set_has(const struct u32set *, uint32_t);
size_t	 u32set_count(const struct u32set *);
void	 u32set_filter(struct u32set *, int (*)(uint32_t, void *), void *);
void	 u32set_clear(struct u32set *);

#endif /* U32SET_H */
