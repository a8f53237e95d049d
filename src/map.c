/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map.c: the map of domain names to virtual addresses.  It belongs to no
 * process role; the dns process owns the one instance.  This file owns the
 * in-memory tables (name -> entry, address -> entry, a bitmap of the
 * addresses in use and the list of entries by last answer) and the calls
 * of include/map.h but for the choice of an address for a new name and
 * the reuse of old entries when the range is full, which are
 * map_assign.c's.  The tdb file that makes the map outlive the process is
 * map_db.c's: each new name is stored there before map_assign returns it.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "map.h"
#include "map_local.h"
#include "siphash.h"

#define MAP_MIN_BITS	10		/* 1024 buckets at least */
#define MAP_START_BITS	20		/* at most, before any name */

/* An entry and where it goes in answer order. */
struct map_sortkey {
	uint64_t		 key;
	struct map_entry	*e;
};

#define MAP_SORT_TMAX	((UINT64_C(1) << 40) - 1)

static size_t	map_addr_bucket(const struct map *, uint32_t);
static void	map_link(struct map *, struct map_entry *);
static int	map_resize(struct map *, unsigned int);
static void	map_grow(struct map *);
static void	map_bit_set(struct map *, uint32_t);
static void	map_bit_clear(struct map *, uint32_t);
static void	map_answered(struct map *, struct map_entry *, time_t);
static int	map_cmp_sortkey(const void *, const void *);
static int	map_sort(struct map *);
static struct map *map_open_any(const char *, int, uint32_t, uint32_t,
		    map_evict_cb, void *, char *, size_t);
static void	map_free(struct map *);
static void	map_flag_clear(struct map *, uint8_t);

void
map_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
map_fmt_addr(uint32_t addr, char *buf, size_t len)
{
	struct in_addr	ia;

	ia.s_addr = htonl(addr);
	if (inet_ntop(AF_INET, &ia, buf, len) == NULL)
		strlcpy(buf, "?", len);
	return (buf);
}

/*
 * Lowercase, drop one final dot, refuse what cannot be a host name in text
 * form.  Bytes outside printable ASCII are refused too, so a name is safe
 * in a log line.  in and out may be the same buffer.
 */
int
map_normalize(const char *in, char *out, size_t outlen)
{
	size_t	len, i, label;
	char	c;

	len = strnlen(in, WIRE_TEXT_MAX + 2);
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > WIRE_TEXT_MAX || len >= outlen)
		return (-1);
	label = 0;
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c == '.') {
			if (label == 0)
				return (-1);
			label = 0;
		} else {
			if ((unsigned char)c <= ' ' ||
			    (unsigned char)c >= 0x7f)
				return (-1);
			if (++label > WIRE_LABEL_MAX)
				return (-1);
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
		}
		out[i] = c;
	}
	if (label == 0)
		return (-1);
	out[len] = '\0';
	return (0);
}

/* Multiply-shift with a random odd factor: addresses cannot be aimed. */
static size_t
map_addr_bucket(const struct map *m, uint32_t addr)
{
	return ((uint64_t)(addr - m->first) * m->addr_mul >> (64 - m->bits));
}

uint32_t
map_name_hash(const struct map *m, const char *name, size_t len)
{
	return (siphash(m->name_key, name, len));
}

struct map_entry *
map_find(const struct map *m, const char *name, uint32_t h)
{
	struct map_entry	*e;

	for (e = m->by_name[h & (m->nbuckets - 1)]; e != NULL;
	    e = e->name_next)
		if (e->name_hash == h && strcmp(e->name, name) == 0)
			return (e);
	return (NULL);
}

struct map_entry *
map_entry_new(const char *name, size_t len, uint32_t h)
{
	struct map_entry	*e;

	if ((e = malloc(offsetof(struct map_entry, name) + len + 1)) == NULL)
		return (NULL);
	memset(e, 0, offsetof(struct map_entry, name));
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->name_hash = h;
	return (e);
}

static void
map_link(struct map *m, struct map_entry *e)
{
	size_t	b;

	b = e->name_hash & (m->nbuckets - 1);
	e->name_next = m->by_name[b];
	m->by_name[b] = e;
	b = map_addr_bucket(m, e->addr);
	e->addr_next = m->by_addr[b];
	m->by_addr[b] = e;
}

void
map_insert(struct map *m, struct map_entry *e)
{
	map_link(m, e);
	map_bit_set(m, e->addr - m->first);
	TAILQ_INSERT_HEAD(&m->lru, e, lru);
	if (++m->count > m->nbuckets)
		map_grow(m);
}

void
map_unlink(struct map *m, struct map_entry *e)
{
	struct map_entry	**pp;

	pp = &m->by_name[e->name_hash & (m->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->name_next;
	*pp = e->name_next;
	pp = &m->by_addr[map_addr_bucket(m, e->addr)];
	while (*pp != e)
		pp = &(*pp)->addr_next;
	*pp = e->addr_next;
	map_bit_clear(m, e->addr - m->first);
	TAILQ_REMOVE(&m->lru, e, lru);
	map_client_detach(m, e);
	m->count--;
	if (e->conns > 0)
		m->npinned--;
	if (e->flags & MAP_DIRTY)
		m->ndirty--;
}

/* Rebuild both tables with 2^bits buckets each. */
static int
map_resize(struct map *m, unsigned int bits)
{
	struct map_entry	**nt, **at, *e;
	size_t			  n = (size_t)1 << bits;

	nt = calloc(n, sizeof(*nt));
	at = calloc(n, sizeof(*at));
	if (nt == NULL || at == NULL) {
		free(nt);
		free(at);
		return (-1);
	}
	free(m->by_name);
	free(m->by_addr);
	m->by_name = nt;
	m->by_addr = at;
	m->nbuckets = n;
	m->bits = bits;
	TAILQ_FOREACH(e, &m->lru, lru)
		map_link(m, e);
	return (0);
}

/* Double both tables.  Out of memory, keep them: only chains grow. */
static void
map_grow(struct map *m)
{
	(void)map_resize(m, m->bits + 1);
}

int
map_bit_isset(const struct map *m, uint32_t i)
{
	return ((m->used[i / 64] >> (i % 64)) & 1);
}

static void
map_bit_set(struct map *m, uint32_t i)
{
	m->used[i / 64] |= UINT64_C(1) << (i % 64);
}

static void
map_bit_clear(struct map *m, uint32_t i)
{
	m->used[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

void
map_touch(struct map *m, struct map_entry *e, time_t now)
{
	if (m->touch_cb != NULL && (now < e->answered ||
	    now - e->answered >= (time_t)m->touch_quiet))
		m->touch_cb(e, now);
	map_answered(m, e, now);
}

/* An entry answered at now: first in answer order, its time to disk. */
static void
map_answered(struct map *m, struct map_entry *e, time_t now)
{
	struct map_client	*c;

	if (TAILQ_FIRST(&m->lru) != e) {
		TAILQ_REMOVE(&m->lru, e, lru);
		TAILQ_INSERT_HEAD(&m->lru, e, lru);
	}
	if ((c = map_client_of(m, e)) != NULL && TAILQ_FIRST(&c->lru) != e) {
		TAILQ_REMOVE(&c->lru, e, clru);
		TAILQ_INSERT_HEAD(&c->lru, e, clru);
	}
	/* The same second again: the record on disk says so already. */
	if (now == e->answered)
		return;
	e->answered = map_time(now);
	e->flags &= ~MAP_PUT_TIME;
	m->answers++;
	if (!(e->flags & MAP_DIRTY)) {
		e->flags |= MAP_DIRTY;
		m->ndirty++;
	}
}

/* An entry map_db.c read from the file, into the list and the bitmap. */
void
map_load_add(struct map *m, struct map_entry *e)
{
	map_bit_set(m, e->addr - m->first);
	TAILQ_INSERT_TAIL(&m->lru, e, lru);
	m->count++;
}

/* Forget what a failed load put in memory; the rebuild loads again. */
void
map_load_reset(struct map *m)
{
	struct map_entry	*e;
	uint32_t		 i;

	while ((e = TAILQ_FIRST(&m->lru)) != NULL) {
		TAILQ_REMOVE(&m->lru, e, lru);
		free(e);
	}
	m->count = 0;
	memset(m->used, 0, m->nwords * sizeof(*m->used));
	for (i = m->size; i < m->nwords * 64; i++)
		map_bit_set(m, i);
}

static int
map_cmp_sortkey(const void *a, const void *b)
{
	const struct map_sortkey	*ka = a, *kb = b;

	if (ka->key != kb->key)
		return (ka->key > kb->key ? -1 : 1);
	return (0);
}

/*
 * Put the list, loaded in file order, into answer order.  The sort key
 * sits beside the pointer, so comparisons touch no entry: the last answer
 * (clamped to 40 bits) above the address offset (24 bits), which is
 * unique.
 */
static int
map_sort(struct map *m)
{
	struct map_sortkey	*v;
	struct map_entry	*e;
	uint64_t		 t;
	size_t			 i = 0;

	if (m->count == 0)
		return (0);
	if ((v = reallocarray(NULL, m->count, sizeof(*v))) == NULL)
		return (-1);
	TAILQ_FOREACH(e, &m->lru, lru) {
		t = e->answered;
		if (t > MAP_SORT_TMAX)
			t = MAP_SORT_TMAX;
		v[i].key = t << 24 | (e->addr - m->first);
		v[i++].e = e;
	}
	qsort(v, m->count, sizeof(*v), map_cmp_sortkey);
	TAILQ_INIT(&m->lru);
	for (i = 0; i < m->count; i++)
		TAILQ_INSERT_TAIL(&m->lru, v[i].e, lru);
	free(v);
	return (0);
}

/*
 * Open the map of the range first - last (host byte order, both ends
 * handed out) kept in the tdb file path, which is made if missing or
 * empty.  Records that no longer fit are dropped from the file.  On
 * failure NULL, errno, and a message naming the file in err: the file is
 * not a sound tdb file, was made by a newer format, or cannot be read.
 * The file is left as it was; what to do with it is the caller's call.
 */
struct map *
map_open(const char *path, uint32_t first, uint32_t last, map_evict_cb cb,
    void *arg, char *err, size_t errlen)
{
	return (map_open_any(path, 0, first, last, cb, arg, err, errlen));
}

/*
 * The same for a map shared in a store: its copy is kept in a journal
 * beside the file (map_journal.c), written by map_flush().
 */
struct map *
map_open_shared(const char *path, uint32_t first, uint32_t last,
    map_evict_cb cb, void *arg, char *err, size_t errlen)
{
	return (map_open_any(path, 1, first, last, cb, arg, err, errlen));
}

static struct map *
map_open_any(const char *path, int shared, uint32_t first, uint32_t last,
    map_evict_cb cb, void *arg, char *err, size_t errlen)
{
	struct map	*m;
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t	 i;
	unsigned int	 bits;
	int		 saved;

	if (first > last || last - first >= MAP_RANGE_MAX) {
		map_err(err, errlen, "%s: range %s - %s: must hold 1 to %u "
		    "addresses", path, map_fmt_addr(first, a, sizeof(a)),
		    map_fmt_addr(last, b, sizeof(b)), MAP_RANGE_MAX);
		errno = EINVAL;
		return (NULL);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->path = strdup(path)) == NULL)
		goto nomem;
	m->first = first;
	m->last = last;
	m->size = last - first + 1;
	m->nwords = (m->size + 63) / 64;
	m->bits = MAP_MIN_BITS;
	m->nbuckets = (size_t)1 << m->bits;
	if ((m->used = calloc(m->nwords, sizeof(*m->used))) == NULL ||
	    (m->by_name = calloc(m->nbuckets, sizeof(*m->by_name))) == NULL ||
	    (m->by_addr = calloc(m->nbuckets, sizeof(*m->by_addr))) == NULL)
		goto nomem;
	for (i = m->size; i < m->nwords * 64; i++)
		map_bit_set(m, i);
	arc4random_buf(m->name_key, sizeof(m->name_key));
	arc4random_buf(&m->addr_mul, sizeof(m->addr_mul));
	m->addr_mul |= 1;
	TAILQ_INIT(&m->lru);
	TAILQ_INIT(&m->rest.lru);
	m->rest.slot = MAP_SLOT_REST;
	m->slots[MAP_SLOT_REST] = &m->rest;
	m->evict_cb = cb;
	m->evict_arg = arg;

	if (map_db_open(m, shared, err, errlen) == -1)
		goto fail;

	/*
	 * Tables first: the list is still in memory order, cheap to walk.
	 * They are sized for the names loaded and for the range, up to a
	 * million names: growing by doubling while names come in would leave
	 * the old tables behind as holes in the heap.  Buckets no name uses
	 * yet cost nothing, their pages untouched.
	 */
	for (bits = MAP_MIN_BITS; ((size_t)1 << bits) < m->count ||
	    (bits < MAP_START_BITS && ((size_t)1 << bits) < m->size); bits++)
		;
	if (map_resize(m, bits) == -1 || map_sort(m) == -1)
		goto nomem;
	log_debug("%s: %zu names, range %s - %s", path, m->count,
	    map_fmt_addr(first, a, sizeof(a)), map_fmt_addr(last, b,
	    sizeof(b)));
	return (m);

 nomem:
	map_err(err, errlen, "%s: %s", path, strerror(ENOMEM));
	errno = ENOMEM;
 fail:
	saved = errno;
	map_free(m);
	errno = saved;
	return (NULL);
}

static void
map_free(struct map *m)
{
	struct map_entry	*e;

	if (m == NULL)
		return;
	map_db_close(m);
	while ((e = TAILQ_FIRST(&m->lru)) != NULL) {
		TAILQ_REMOVE(&m->lru, e, lru);
		map_client_detach(m, e);
		free(e);
	}
	free(m->by_name);
	free(m->by_addr);
	free(m->used);
	free(m->path);
	free(m);
}

/* Write the answered times not yet on disk, close the file, free all. */
void
map_close(struct map *m)
{
	if (m == NULL)
		return;
	(void)map_sync(m);
	map_free(m);
}

/* The entry of a normalised name, or NULL. */
struct map_entry *
map_lookup_name(struct map *m, const char *name)
{
	size_t	len;

	len = strnlen(name, WIRE_TEXT_MAX + 1);
	if (len == 0 || len > WIRE_TEXT_MAX)
		return (NULL);
	return (map_find(m, name, map_name_hash(m, name, len)));
}

/* The entry of an address (host byte order), or NULL. */
struct map_entry *
map_lookup_addr(struct map *m, uint32_t addr)
{
	struct map_entry	*e;

	if (addr < m->first || addr > m->last ||
	    !map_bit_isset(m, addr - m->first))
		return (NULL);
	for (e = m->by_addr[map_addr_bucket(m, addr)]; e != NULL;
	    e = e->addr_next)
		if (e->addr == addr)
			return (e);
	return (NULL);
}

/* A time as an entry keeps it: 0 before 1970, the end of 2106 after. */
uint32_t
map_time(time_t t)
{
	if (t < 0)
		return (0);
	if ((uint64_t)t > UINT32_MAX)
		return (UINT32_MAX);
	return ((uint32_t)t);
}

/* Forget an entry another map decided on; the proxy is told. */
static void
map_evict(struct map *m, struct map_entry *e)
{
	if (m->evict_cb != NULL)
		m->evict_cb(e, m->evict_arg);
	(void)map_db_delete(m, e->name);
	map_unlink(m, e);
	free(e);
}

/*
 * Make a normalised name's address addr (host order), as a store shared
 * with other gateways decided: entries holding the name or the address
 * otherwise are forgotten first (told to the evict callback), whatever
 * their connections, since the store is the truth.  The entry is marked
 * seen for map_sweep().  NULL with errno: EINVAL for an address outside
 * the range or a name of no valid length, ENOMEM.  The tdb copy is kept
 * as well as it can be: a failed write is warned about, not fatal.
 * answered is when this gateway gave it, now for its own new name; 0 for
 * one it only heard of, which then counts as never answered here.  The
 * store has that time: map_put_time() is true until the entry is
 * answered in another second.
 */
struct map_entry *
map_put(struct map *m, const char *name, uint32_t addr, time_t answered)
{
	struct map_entry	*e, *old;
	size_t			 len;
	uint32_t		 h;

	len = strnlen(name, WIRE_TEXT_MAX + 1);
	if (len == 0 || len > WIRE_TEXT_MAX || addr < m->first ||
	    addr > m->last) {
		errno = EINVAL;
		return (NULL);
	}
	h = map_name_hash(m, name, len);
	if ((e = map_find(m, name, h)) != NULL) {
		if (e->addr == addr) {
			e->flags |= MAP_SEEN;
			e->flags &= ~MAP_HELD;
			/* Heard of first, now ours: the store has its time. */
			if (answered > e->answered) {
				map_answered(m, e, answered);
				e->flags |= MAP_PUT_TIME;
			}
			return (e);
		}
		map_evict(m, e);
	}
	if ((old = map_lookup_addr(m, addr)) != NULL)
		map_evict(m, old);
	if ((e = map_entry_new(name, len, h)) == NULL)
		return (NULL);
	e->addr = addr;
	e->answered = map_time(answered);
	e->flags = MAP_SEEN | (answered != 0 ? MAP_PUT_TIME : 0);
	if (map_db_store(m, e, 1) == -1)
		map_db_warn_store(m, answered, "store a name from the shared "
		    "map");
	if (answered != 0) {
		map_insert(m, e);
		m->assigned++;
		return (e);
	}
	/* Never answered here: last in answer order. */
	map_link(m, e);
	map_bit_set(m, e->addr - m->first);
	TAILQ_INSERT_TAIL(&m->lru, e, lru);
	if (++m->count > m->nbuckets)
		map_grow(m);
	return (e);
}

/*
 * The store forgot a name (flushed, or its address reused elsewhere): so
 * does the map, if it still gives it addr.  0 when it did.
 */
int
map_drop(struct map *m, const char *name, uint32_t addr)
{
	struct map_entry	*e;

	if ((e = map_lookup_name(m, name)) == NULL || e->addr != addr)
		return (-1);
	map_evict(m, e);
	return (0);
}

/*
 * Whether the client of address client (host order; 0 for none) may have
 * a new name placed elsewhere now, held to its rate as map_assign_client
 * holds it: only when it holds more than its share.
 */
int
map_client_allow(struct map *m, uint32_t client, time_t now)
{
	struct map_client	*c;
	int			 ok = 1;

	if (client == 0)
		return (1);
	c = map_client_get(m, client, now);
	if (map_client_over(m, c) && !map_client_take(m, c, now))
		ok = 0;
	map_client_put(m, c);
	return (ok);
}

/*
 * The store placed a new name at the request of client (host order; 0
 * for none), at address addr: the entry is that client's, as one the map
 * placed itself would be, so that its share, and the rate it is held to
 * beyond it, count on a shared map too.  An entry already charged to a
 * client stays so.
 */
void
map_claim(struct map *m, uint32_t addr, uint32_t client, time_t now)
{
	struct map_entry	*e;
	struct map_client	*c;

	if (client == 0 || (e = map_lookup_addr(m, addr)) == NULL ||
	    map_client_of(m, e) != NULL)
		return;
	c = map_client_get(m, client, now);
	map_client_attach(e, c);
}

/* One flag off in every entry. */
static void
map_flag_clear(struct map *m, uint8_t flag)
{
	struct map_entry	*e;

	TAILQ_FOREACH(e, &m->lru, lru)
		e->flags &= ~flag;
}

/* Before a full reading of the store: no entry is seen yet. */
void
map_mark_clear(struct map *m)
{
	map_flag_clear(m, MAP_SEEN);
}

/* After it: what the store did not have is forgotten; how many. */
size_t
map_sweep(struct map *m)
{
	struct map_entry	*e, *next;
	size_t			 n = 0;

	for (e = TAILQ_FIRST(&m->lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (!(e->flags & MAP_SEEN)) {
			map_evict(m, e);
			n++;
		}
	}
	return (n);
}

/* cb told of answers after quiet seconds without one; NULL: none. */
void
map_set_touch(struct map *m, map_touch_cb cb, uint32_t quiet)
{
	m->touch_cb = cb;
	m->touch_quiet = quiet;
}

/* A connection to e begins: counted, and e among the pinned at the first. */
void
map_pin(struct map *m, struct map_entry *e)
{
	if (e->conns == 0)
		m->npinned++;
	if (e->conns < UINT32_MAX)
		e->conns++;
}

void
map_unpin(struct map *m, struct map_entry *e)
{
	if (e->conns == 1)
		m->npinned--;
	if (e->conns > 0)
		e->conns--;
}

/*
 * Forget an entry, in memory and on disk; EBUSY while connections pin it.
 * No evict callback: the caller asked, and knows.
 */
int
map_remove(struct map *m, struct map_entry *e)
{
	if (e->conns > 0) {
		errno = EBUSY;
		return (-1);
	}
	if (map_db_delete(m, e->name) == -1) {
		log_warnx("%s: cannot delete %s: %s", m->path, e->name,
		    map_db_errstr(m));
		errno = EIO;
		return (-1);
	}
	map_unlink(m, e);
	free(e);
	return (0);
}

/*
 * Write the answered times not yet on disk.  Every entry made dirty since
 * the last sync went to the head of the list, so the walk stops as soon as
 * it has seen them all.
 */
int
map_sync(struct map *m)
{
	struct map_entry	*e;
	size_t			 want, seen = 0, failed = 0;

	want = m->ndirty;
	TAILQ_FOREACH(e, &m->lru, lru) {
		if (seen == want)
			break;
		if (!(e->flags & MAP_DIRTY))
			continue;
		seen++;
		if (map_db_store(m, e, 0) == -1) {
			failed++;
			continue;
		}
		e->flags &= ~MAP_DIRTY;
		m->ndirty--;
	}
	(void)map_flush(m);
	if (failed > 0) {
		log_warnx("%s: cannot write %zu answered times: %s", m->path,
		    failed, map_db_errstr(m));
		errno = EIO;
		return (-1);
	}
	return (0);
}

/*
 * A shared map's changes since the last time to its journal: called
 * before an answer that gives one leaves.  A failure is warned about
 * (once a minute), not fatal, as a failed write of the tdb file is.
 * Nothing to do for a map alone, whose changes are in its file already.
 */
int
map_flush(struct map *m)
{
	if (m->jbuf == NULL)
		return (0);
	if (map_journal_flush(m) == -1) {
		map_db_warn_store(m, time(NULL), "write the journal");
		return (-1);
	}
	return (0);
}

size_t
map_count(const struct map *m)
{
	return (m->count);
}

/* Entries with connections, kept as they change: no walk of the map. */
size_t
map_pinned(const struct map *m)
{
	return (m->npinned);
}

/*
 * How many times an entry's answered time has moved, ever: a caller that
 * walks the entries answered since it last looked knows how many to find
 * (at most; an entry answered twice is counted twice).
 */
uint64_t
map_answers(const struct map *m)
{
	return (m->answers);
}

uint64_t
map_assigned(const struct map *m)
{
	return (m->assigned);
}

uint32_t
map_size(const struct map *m)
{
	return (m->size);
}

/*
 * An entry map_put() made that its caller may not answer yet (a shared
 * map's, until the store's replicas have it), until the next
 * map_put() of the same, or map_release().
 */
void
map_hold(struct map_entry *e)
{
	e->flags |= MAP_HELD;
}

int
map_held(const struct map_entry *e)
{
	return ((e->flags & MAP_HELD) != 0);
}

/* Every entry held, let go. */
void
map_release(struct map *m)
{
	map_flag_clear(m, MAP_HELD);
}

/* Whether e's answered time is still the one map_put() was given. */
int
map_put_time(const struct map_entry *e)
{
	return ((e->flags & MAP_PUT_TIME) != 0);
}

/* Walk most recently answered first; fetch the next before a remove. */
struct map_entry *
map_first(struct map *m)
{
	return (TAILQ_FIRST(&m->lru));
}

struct map_entry *
map_next(struct map *m, struct map_entry *e)
{
	(void)m;
	return (TAILQ_NEXT(e, lru));
}
