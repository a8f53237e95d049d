/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map_assign.c: the choice of an address for a new name.  Its first
 * candidate is a keyed hash of the name (map_place(), the same for the
 * shared store's script), then the next free one; when the range is full
 * an entry is reused, in the order map_client.c's accounts of the
 * clients decide, else the least recently answered one past the hold.
 * A new name is on disk (map_db.c) before it is returned.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "map.h"
#include "map_local.h"
#include "siphash.h"
#include "wire.h"

static uint32_t	map_find_free(const struct map *, uint32_t);
static struct map_entry *map_victim(struct map *, time_t, uint32_t);
static struct map_entry *map_reuse(struct map *, struct map_client *, int,
		    time_t, uint32_t);

/*
 * The key of the hash that picks a new name's first candidate address.  It
 * never changes, so a name lands on the same address again even when the
 * file is lost.  The bytes spell "dns44 map addr 1".
 */
static const uint8_t map_addr_key[SIPHASH_KEY_LEN] = {
	0x64, 0x6e, 0x73, 0x34, 0x34, 0x20, 0x6d, 0x61,
	0x70, 0x20, 0x61, 0x64, 0x64, 0x72, 0x20, 0x31
};

/*
 * The first free index at or after start, wrapping; 64 addresses a step.
 * The caller has made sure one is free; the bits past the end of the range
 * are set, so they are never found.
 */
static uint32_t
map_find_free(const struct map *m, uint32_t start)
{
	uint64_t	word;
	size_t		w, i;

	w = start / 64;
	word = m->used[w] | ((UINT64_C(1) << (start % 64)) - 1);
	if (word != UINT64_MAX)
		return (w * 64 + __builtin_ctzll(~word));
	for (i = 0; i < m->nwords; i++) {
		if (++w == m->nwords)
			w = 0;
		if (m->used[w] != UINT64_MAX)
			return (w * 64 + __builtin_ctzll(~m->used[w]));
	}
	fatalx("%s: no free address in a map that is not full", __func__);
}

/*
 * The least recently answered entry with no connection whose last answer
 * is at least hold_s old.  The list is in answer order, so the walk stops
 * at the first entry too young; it only steps over pinned ones.
 */
static struct map_entry *
map_victim(struct map *m, time_t now, uint32_t hold_s)
{
	struct map_entry	*e;

	TAILQ_FOREACH_REVERSE(e, &m->lru, map_lru, lru) {
		if (now < e->answered || now - e->answered < (time_t)hold_s)
			break;
		if (e->conns == 0)
			return (e);
	}
	return (NULL);
}

/*
 * The entry a new name takes the address of when the range is full, or
 * NULL with errno EAGAIN (the client is at its rate) or ENOSPC (none may
 * be reused yet).  Who holds more than a share pays first: itself, or
 * the heaviest; else the least recently answered entry past hold_s.
 * charged: c paid for this name already.
 */
static struct map_entry *
map_reuse(struct map *m, struct map_client *c, int charged, time_t now,
    uint32_t hold_s)
{
	struct map_entry	*old = NULL;

	if (c != NULL && map_client_over(m, c))
		old = map_client_victim(c);
	if (old == NULL && (old = map_client_heaviest(m)) != NULL &&
	    c != NULL && !charged && now >= old->answered &&
	    now - old->answered < (time_t)hold_s &&
	    !map_client_take(m, c, now)) {
		/* Another's young name: at the rate, so a share's worth takes
		 * time, and a forwarder's names are not swept at once. */
		errno = EAGAIN;
		return (NULL);
	}
	if (old == NULL)
		old = map_victim(m, now, hold_s);
	if (old == NULL)
		errno = ENOSPC;
	return (old);
}

/* map_assign_client for no client in particular. */
struct map_entry *
map_assign(struct map *m, const char *name, time_t now, uint32_t hold_s)
{
	return (map_assign_client(m, name, 0, now, hold_s));
}

/*
 * An entry of the map answered again, to the client of address client
 * (host order; 0 for none): its time and its client's share, as
 * map_assign_client() does for a name it finds.
 */
void
map_answer(struct map *m, struct map_entry *e, uint32_t client, time_t now,
    uint32_t hold_s)
{
	struct map_client	*c = NULL;

	if (client != 0)
		c = map_client_get(m, client, now);
	if (c != NULL)
		map_client_answered(m, e, c, now, hold_s);
	map_touch(m, e, now);
	if (c != NULL)
		map_client_put(m, c);
}

/*
 * The entry of a normalised name, made if new, answered to the client
 * of address client (host order; 0 for none).  A new entry is on disk
 * before it is returned.  When the range is full, an address is reused:
 * a client beyond its share recycles its own least recently answered
 * entry; anyone else gets the least recently answered entry of the
 * client holding the most beyond its share or, when no client is beyond
 * its share (one client alone, a forwarder), the least recently answered
 * entry past hold_s.  Entries with connections are never reused.  NULL
 * with errno: EINVAL for a name that is not normalised-length, EAGAIN
 * when a client beyond its share, or one taking another's name still
 * within hold_s, makes new names faster than its rate,
 * ENOSPC when the range is full and no entry may be reused yet, EIO when
 * the file cannot be written, ENOMEM.
 */
struct map_entry *
map_assign_client(struct map *m, const char *name, uint32_t client,
    time_t now, uint32_t hold_s)
{
	struct map_entry	*e, *old;
	struct map_client	*c = NULL;
	size_t			 len;
	uint32_t		 h, start;
	int			 saved, charged;

	len = strnlen(name, WIRE_TEXT_MAX + 1);
	if (len == 0 || len > WIRE_TEXT_MAX) {
		errno = EINVAL;
		return (NULL);
	}
	h = map_name_hash(m, name, len);
	if ((e = map_find(m, name, h)) != NULL) {
		map_answer(m, e, client, now, hold_s);
		return (e);
	}
	if (client != 0)
		c = map_client_get(m, client, now);
	/* The rate holds a client beyond its share: never one alone. */
	charged = c != NULL && map_client_over(m, c);
	if (charged && !map_client_take(m, c, now)) {
		map_client_put(m, c);
		errno = EAGAIN;
		return (NULL);
	}
	if ((e = map_entry_new(name, len, h)) == NULL)
		goto fail;
	e->answered = map_time(now);

	if (m->count < m->size) {
		start = siphash(map_addr_key, name, len) % m->size;
		e->addr = m->first + map_find_free(m, start);
	} else {
		if ((old = map_reuse(m, c, charged, now, hold_s)) == NULL)
			goto fail;
		/* The old name off the disk first: never two on an address. */
		if (map_db_delete(m, old->name) == -1) {
			map_db_warn_store(m, now, "delete an evicted name");
			errno = EIO;
			goto fail;
		}
		if (m->evict_cb != NULL)
			m->evict_cb(old, m->evict_arg);
		e->addr = old->addr;
		/* c may lose its last entry here: kept while in use. */
		if (c != NULL)
			c->count++;
		map_unlink(m, old);
		free(old);
		if (c != NULL)
			c->count--;
	}
	if (map_db_store(m, e, 1) == -1) {
		map_db_warn_store(m, now, "store a new name");
		errno = EIO;
		goto fail;
	}
	map_insert(m, e);
	m->assigned++;
	if (c != NULL)
		map_client_attach(e, c);
	return (e);

 fail:
	saved = errno;
	free(e);
	if (c != NULL)
		map_client_put(m, c);
	errno = saved;
	return (NULL);
}

/*
 * The first address a new name is offered, as an index into the range:
 * a keyed hash of the name, so that it lands on the same one again
 * whichever map (or store) places it.
 */
uint32_t
map_place(const struct map *m, const char *name)
{
	return (siphash(map_addr_key, name, strnlen(name, WIRE_TEXT_MAX + 1)) %
	    m->size);
}
