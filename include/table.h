/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * table.h: zeroed arrays for hash tables, a large one on huge pages.
 */

#ifndef TABLE_H
#define TABLE_H

#include <stddef.h>

void	*table_new(size_t, size_t);
void	 table_free(void *, size_t, size_t);

#endif /* TABLE_H */
