/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map.h: the map of domain names to virtual addresses, owned by the dns
 * process: one address per name and one name per address, kept in memory
 * and in a tdb file.
 */

#ifndef MAP_H
#define MAP_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wire.h"		/* names are at most WIRE_TEXT_MAX */

#define MAP_RANGE_MAX	(1U << 24)	/* addresses; a /8 */
#define MAP_CLIENTS_MAX	4096		/* clients told apart; the rest share */

/*
 * One mapping.  Callers read addr, conns, answered and name and change
 * nothing; verdict is theirs to keep what they like in (the dns process:
 * the domain rules' word on the name), 0 in a new entry; the other
 * fields are the map's own.  answered is a time_t kept in 32 bits
 * (map_time()) and the client a slot, not a pointer: an entry with a
 * name of up to 18 characters fits a 96-byte malloc chunk.
 */
struct map_entry {
	uint32_t		 addr;		/* host byte order */
	uint32_t		 conns;		/* open connections */
	uint32_t		 answered;	/* last answer giving it */

	/* Private. */
	uint32_t		 name_hash;
	struct map_entry	*name_next;	/* name hash chain */
	struct map_entry	*addr_next;	/* address hash chain */
	TAILQ_ENTRY(map_entry)	 lru;		/* last answered first */
	TAILQ_ENTRY(map_entry)	 clru;		/* its client's, same order */
	uint16_t		 client;	/* its slot; or 0 */
	uint16_t		 verdict;	/* not the map's: see above */
	uint8_t			 flags;

	char			 name[];	/* lowercase, no final dot */
};

struct map;
struct map_client;

/*
 * Called with an entry that is about to be given to another name, while
 * its name and address are still the old ones.  It must not change the
 * map.
 */
typedef void	(*map_evict_cb)(const struct map_entry *, void *);

/*
 * Called when an entry is answered after a quiet of at least the seconds
 * given, before its answered time changes.  It must not change the map.
 */
typedef void	(*map_touch_cb)(const struct map_entry *, time_t);

/* One record of a database file read offline; -1 stops the walk. */
typedef int	(*map_db_walk_cb)(const char *, uint32_t, int64_t, void *);

/* map.c */
struct map	*map_open(const char *, uint32_t, uint32_t, map_evict_cb,
		    void *, char *, size_t);
struct map	*map_open_shared(const char *, uint32_t, uint32_t,
		    map_evict_cb, void *, char *, size_t);
void		 map_close(struct map *);
int		 map_normalize(const char *, char *, size_t);
struct map_entry *map_lookup_name(struct map *, const char *);
struct map_entry *map_lookup_addr(struct map *, uint32_t);
struct map_entry *map_assign(struct map *, const char *, time_t, uint32_t);
struct map_entry *map_assign_client(struct map *, const char *, uint32_t,
		    time_t, uint32_t);
void		 map_answer(struct map *, struct map_entry *, uint32_t, time_t,
		    uint32_t);
uint32_t	 map_place(const struct map *, const char *);
uint32_t	 map_time(time_t);
struct map_entry *map_put(struct map *, const char *, uint32_t, time_t);
int		 map_drop(struct map *, const char *, uint32_t);
int		 map_client_allow(struct map *, uint32_t, time_t);
void		 map_claim(struct map *, uint32_t, uint32_t, time_t);
void		 map_mark_clear(struct map *);
size_t		 map_sweep(struct map *);
void		 map_set_touch(struct map *, map_touch_cb, uint32_t);
void		 map_set_rate(struct map *, uint32_t, uint32_t);
size_t		 map_clients(const struct map *);
uint32_t	 map_client_share(const struct map *);
uint32_t	 map_client_count(struct map *, uint32_t);
void		 map_pin(struct map *, struct map_entry *);
void		 map_unpin(struct map *, struct map_entry *);
int		 map_remove(struct map *, struct map_entry *);
int		 map_sync(struct map *);
int		 map_flush(struct map *);
size_t		 map_count(const struct map *);
size_t		 map_pinned(const struct map *);
uint64_t	 map_answers(const struct map *);
uint64_t	 map_assigned(const struct map *);
uint32_t	 map_size(const struct map *);
int		 map_put_time(const struct map_entry *);
void		 map_hold(struct map_entry *);
int		 map_held(const struct map_entry *);
void		 map_release(struct map *);
struct map_entry *map_first(struct map *);
struct map_entry *map_next(struct map *, struct map_entry *);

/* map_db.c */
int		 map_db_lock(const char *, int);
int		 map_db_walk(const char *, map_db_walk_cb, void *, size_t *,
		    char *, size_t);

#endif /* MAP_H */
