/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store.h: the map shared by several gateways, kept in Redis.  The dns
 * process's map stays the fast path for answering; the store decides
 * every new name's address and tells every gateway of every change.
 */

#ifndef STORE_H
#define STORE_H

#include <stdint.h>
#include <time.h>

struct event_base;
struct map;
struct store_req;

/* What a request to the store came to. */
enum store_status {
	STORE_OK,		/* the address is in the map */
	STORE_NONE,		/* the store knows no such address */
	STORE_FULL,		/* no address free or reusable yet */
	STORE_DOWN,		/* unreachable, timed out, or refused */
};

/* Called once, from the event loop, unless cancelled first. */
typedef void	(*store_cb)(enum store_status, uint32_t, void *);

struct store_stats {
	uint64_t	assigned;	/* new names given an address */
	uint64_t	failures;	/* requests that came to STORE_DOWN */
	uint64_t	outages;	/* links lost */
	int		up;
};

void		 store_init(struct event_base *, struct map *);
void		 store_shutdown(void);
int		 store_ready(void);
struct store_req *store_assign(const char *, time_t, store_cb, void *);
struct store_req *store_find(uint32_t, store_cb, void *);
void		 store_cancel(struct store_req *);
void		 store_pin(uint32_t, int);
void		 store_remove(const char *, uint32_t);
void		 store_sync(time_t);
void		 store_stats(struct store_stats *);

#endif /* STORE_H */
