/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map_local.h: what map.c (the tables), map_client.c (the clients) and
 * map_db.c (the tdb file) share, and nothing else: the map itself and the
 * calls each makes of the others.
 * The map's users see include/map.h only.
 */

#ifndef MAP_LOCAL_H
#define MAP_LOCAL_H

struct tdb_context;

/* An entry's flags. */
#define MAP_DIRTY	0x01		/* answered not yet on disk */
#define MAP_SEEN	0x02		/* put since map_mark_clear() */
#define MAP_PUT_TIME	0x04		/* answered is the one map_put() had */
#define MAP_HELD	0x08		/* map_hold(): not to be answered yet */

#define MAP_CLIENT_BUCKETS	1024
#define MAP_SLOT_REST		1	/* an entry's client: rest */
#define MAP_SLOTS		(MAP_CLIENTS_MAX + 2)

/*
 * A client of the DNS side, by source address: the mappings last answered
 * to it, least recently answered last, and its allowance of new names.
 * Kept while it holds a mapping, forgotten when it holds none.
 */
struct map_client {
	struct map_client	*next;		/* hash chain */
	TAILQ_HEAD(map_clru, map_entry) lru;
	uint32_t		 addr;		/* host order; 0: the rest */
	uint32_t		 count;		/* mappings it holds */
	uint32_t		 tokens;	/* new names it may make now */
	time_t			 refill;	/* tokens last added */
	uint16_t		 slot;		/* in map's slots */
};

struct map {
	struct tdb_context	*tdb;
	char			*path;
	uint32_t		 first;
	uint32_t		 last;
	uint32_t		 size;		/* addresses in the range */
	uint64_t		*used;		/* one bit per address */
	size_t			 nwords;
	struct map_entry	**by_name;
	struct map_entry	**by_addr;
	size_t			 nbuckets;	/* both tables; a power of 2 */
	unsigned int		 bits;		/* log2(nbuckets) */
	uint8_t			 name_key[16];	/* random, against flooding */
	uint64_t		 addr_mul;	/* random and odd */
	TAILQ_HEAD(map_lru, map_entry) lru;	/* last answered first */
	size_t			 count;
	size_t			 npinned;	/* entries with conns */
	uint64_t		 assigned;	/* new names given an address */
	uint64_t		 answers;	/* answered times moved */
	size_t			 ndirty;
	time_t			 last_warn;
	map_evict_cb		 evict_cb;
	void			*evict_arg;
	map_touch_cb		 touch_cb;	/* an answer after a quiet */
	uint32_t		 touch_quiet;	/* this many seconds */

	/* Clients, bounded; past MAP_CLIENTS_MAX they share "rest". */
	struct map_client	*clients[MAP_CLIENT_BUCKETS];
	struct map_client	 rest;
	size_t			 nclients;	/* in the table */
	/* An entry's client, by slot: 0 none, 1 rest, then the table's. */
	struct map_client	*slots[MAP_SLOTS];
	uint16_t		 free_slots[MAP_CLIENTS_MAX];
	size_t			 nfree_slots;
	size_t			 nslots;	/* ever handed out */
	uint32_t		 rate;		/* new names a second; 0: any */
	uint32_t		 burst;

	/* A shared map's journal (map_journal.c); jbuf NULL: none. */
	uint8_t			*jbuf;		/* records not yet written */
	size_t			 jlen;
	int			 jfd[2];
	int			 jcur;		/* the file written */
	uint32_t		 jgen;		/* its generation */
	uint64_t		 jsize;		/* its bytes */
	uint64_t		 jsnap;		/* of its snapshot */
	int			 jerr;		/* errno of the last failure */
};

/* map.c */
void		 map_err(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
const char	*map_fmt_addr(uint32_t, char *, size_t);
uint32_t	 map_name_hash(const struct map *, const char *, size_t);
struct map_entry *map_find(const struct map *, const char *, uint32_t);
struct map_entry *map_entry_new(const char *, size_t, uint32_t);
void		 map_insert(struct map *, struct map_entry *);
void		 map_unlink(struct map *, struct map_entry *);
void		 map_touch(struct map *, struct map_entry *, time_t);
int		 map_bit_isset(const struct map *, uint32_t);
void		 map_load_add(struct map *, struct map_entry *);
void		 map_load_reset(struct map *);

/* map_client.c */
struct map_client *map_client_get(struct map *, uint32_t, time_t);
struct map_client *map_client_of(struct map *, const struct map_entry *);
void		 map_client_put(struct map *, struct map_client *);
void		 map_client_attach(struct map_entry *, struct map_client *);
void		 map_client_detach(struct map *, struct map_entry *);
void		 map_client_answered(struct map *, struct map_entry *,
		    struct map_client *, time_t, uint32_t);
int		 map_client_take(struct map *, struct map_client *, time_t);
int		 map_client_over(const struct map *, const struct map_client *);
struct map_entry *map_client_victim(struct map_client *);
struct map_entry *map_client_heaviest(struct map *);

/* map_db.c */
int		 map_db_open(struct map *, int, char *, size_t);
void		 map_db_close(struct map *);
const char	*map_db_errstr(struct map *);
int		 map_db_store(struct map *, const struct map_entry *, int);
int		 map_db_delete(struct map *, const char *);
void		 map_db_warn_store(struct map *, time_t, const char *);

/* map_journal.c */
int		 map_journal_walk(const char *, map_db_walk_cb, void *,
		    uint32_t *, uint32_t *, int *, uint32_t *, char *, size_t);
int		 map_journal_remove(const char *);
int		 map_journal_start(struct map *, uint32_t, int, char *, size_t);
void		 map_journal_close(struct map *);
int		 map_journal_put(struct map *, const struct map_entry *);
int		 map_journal_del(struct map *, const char *);
int		 map_journal_flush(struct map *);

#endif /* MAP_LOCAL_H */
