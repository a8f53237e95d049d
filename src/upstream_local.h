/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstream_local.h: what upstream.c (the queries in flight) asks of
 * upstream_health.c (what is known of each upstream), and nothing else.
 * Their users see include/upstream.h only.
 */

#ifndef UPSTREAM_LOCAL_H
#define UPSTREAM_LOCAL_H

#include <netinet/in.h>

#include <stdint.h>

/* upstream_health.c */
void		 upstream_health_reset(const struct sockaddr_in *, int,
		    uint32_t);
int		 upstream_health_pick(const struct sockaddr_in *, int,
		    uint32_t, int, int *);
void		 upstream_health_ok(const struct sockaddr_in *, int64_t);
void		 upstream_health_fail(const struct sockaddr_in *, int, int,
		    int);
int64_t		 upstream_now_us(void);

#endif /* UPSTREAM_LOCAL_H */
