/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map_client.c: the map's account of its clients, so that one client's
 * flood of new names recycles its own entries and not another's.  A
 * bounded table of the clients (by source address) that hold entries,
 * each with its count, its own list of entries by last answer and its
 * allowance of new names (a token bucket); a client's share of the
 * range; and which entry a full range gives up first.  map.c asks; the
 * entries themselves are map.c's.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "map.h"
#include "map_local.h"
#include "siphash.h"

_Static_assert(MAP_SLOTS - 1 <= UINT16_MAX, "client slots outgrew uint16_t");

/*
 * The client of an address, made if new and the table has room; past
 * MAP_CLIENTS_MAX every newcomer is counted as "rest", one client for
 * all of them.  A new client may make a burst of names at once.
 */
struct map_client *
map_client_get(struct map *m, uint32_t addr, time_t now)
{
	struct map_client	*c;
	size_t			 b;

	b = siphash(m->name_key, &addr, sizeof(addr)) % MAP_CLIENT_BUCKETS;
	for (c = m->clients[b]; c != NULL; c = c->next)
		if (c->addr == addr)
			return (c);
	if (m->nclients >= MAP_CLIENTS_MAX ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		c = &m->rest;
		if (c->count == 0 && c->refill == 0) {
			c->tokens = m->burst;
			c->refill = now;
		}
		return (c);
	}
	TAILQ_INIT(&c->lru);
	/* nclients < MAP_CLIENTS_MAX: a slot is free. */
	if (m->nfree_slots > 0)
		c->slot = m->free_slots[--m->nfree_slots];
	else
		c->slot = MAP_SLOT_REST + 1 + m->nslots++;
	m->slots[c->slot] = c;
	c->addr = addr;
	c->tokens = m->burst;
	c->refill = now;
	c->next = m->clients[b];
	m->clients[b] = c;
	m->nclients++;
	return (c);
}

/* Forget a client that holds nothing. */
void
map_client_put(struct map *m, struct map_client *c)
{
	struct map_client	**pp;

	if (c->count > 0 || c == &m->rest)
		return;
	pp = &m->clients[siphash(m->name_key, &c->addr, sizeof(c->addr)) %
	    MAP_CLIENT_BUCKETS];
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	m->nclients--;
	m->slots[c->slot] = NULL;
	m->free_slots[m->nfree_slots++] = c->slot;
	free(c);
}

/* The client an entry is charged to; or NULL. */
struct map_client *
map_client_of(struct map *m, const struct map_entry *e)
{
	return (m->slots[e->client]);
}

void
map_client_attach(struct map_entry *e, struct map_client *c)
{
	e->client = c->slot;
	c->count++;
	TAILQ_INSERT_HEAD(&c->lru, e, clru);
}

void
map_client_detach(struct map *m, struct map_entry *e)
{
	struct map_client	*c;

	if ((c = map_client_of(m, e)) == NULL)
		return;
	TAILQ_REMOVE(&c->lru, e, clru);
	c->count--;
	e->client = 0;
	map_client_put(m, c);
}

/*
 * An entry is answered to c.  It is c's when nobody else's answer giving
 * it may still be cached; while another client's may, it belongs to no
 * client, so that neither one's share can make it go young.
 */
void
map_client_answered(struct map *m, struct map_entry *e,
    struct map_client *c, time_t now, uint32_t hold_s)
{
	int	live;

	if (map_client_of(m, e) == c)
		return;
	live = now >= e->answered && now - e->answered < (time_t)hold_s;
	if (e->client == 0 && live && e->answered != 0)
		return;
	map_client_detach(m, e);
	if (!live || e->answered == 0)
		map_client_attach(e, c);
}

/* One new name off c's allowance; 0 when it has none left. */
int
map_client_take(struct map *m, struct map_client *c, time_t now)
{
	uint64_t	t;

	if (m->rate == 0)
		return (1);
	if (now < c->refill)
		c->refill = now;	/* the clock went back */
	if (now > c->refill) {
		t = (uint64_t)c->tokens + (uint64_t)m->rate *
		    (uint64_t)(now - c->refill);
		c->tokens = t > m->burst ? m->burst : (uint32_t)t;
		c->refill = now;
	}
	if (c->tokens == 0)
		return (0);
	c->tokens--;
	return (1);
}

/*
 * A client's share of the range: the range over the clients that hold
 * entries, so one client alone (a forwarder) may use all of it.
 */
uint32_t
map_client_share(const struct map *m)
{
	size_t	n;

	n = m->nclients + (m->rest.count > 0 ? 1 : 0);
	if (n <= 1)
		return (m->size);
	return (m->size / n > 0 ? m->size / n : 1);
}

int
map_client_over(const struct map *m, const struct map_client *c)
{
	return (c->count > map_client_share(m));
}

/* A client's least recently answered entry without a connection. */
struct map_entry *
map_client_victim(struct map_client *c)
{
	struct map_entry	*e;

	TAILQ_FOREACH_REVERSE(e, &c->lru, map_clru, clru)
		if (e->conns == 0)
			return (e);
	return (NULL);
}

/*
 * The least recently answered entry of the client that holds the most
 * beyond its share, however young.  Only when the range is full, so a
 * walk of the table.
 */
struct map_entry *
map_client_heaviest(struct map *m)
{
	struct map_client	*c, *best = NULL;
	size_t			 b;

	if (map_client_over(m, &m->rest))
		best = &m->rest;
	for (b = 0; b < MAP_CLIENT_BUCKETS; b++)
		for (c = m->clients[b]; c != NULL; c = c->next)
			if (map_client_over(m, c) &&
			    (best == NULL || c->count > best->count) &&
			    map_client_victim(c) != NULL)
				best = c;
	return (best != NULL ? map_client_victim(best) : NULL);
}

/* New names a second each client may make, after a burst; 0: no limit. */
void
map_set_rate(struct map *m, uint32_t rate, uint32_t burst)
{
	m->rate = rate;
	m->burst = burst > 0 ? burst : 1;
}

/* Clients holding entries, the rest counted as one. */
size_t
map_clients(const struct map *m)
{
	return (m->nclients + (m->rest.count > 0 ? 1 : 0));
}

/* Entries a client holds. */
uint32_t
map_client_count(struct map *m, uint32_t addr)
{
	struct map_client	*c;
	size_t			 b;

	b = siphash(m->name_key, &addr, sizeof(addr)) % MAP_CLIENT_BUCKETS;
	for (c = m->clients[b]; c != NULL; c = c->next)
		if (c->addr == addr)
			return (c->count);
	return (0);
}
