/*
 * map.c: the map of domain names to virtual addresses.  It belongs to no
 * process role; the dns process owns the one instance.  This file owns the
 * in-memory tables (name -> entry, address -> entry, a bitmap of the
 * addresses in use and the list of entries by last answer), the choice of
 * an address for a new name, the reuse of old entries when the range is
 * full, and the tdb file that makes the map outlive the process.
 *
 * The tdb file holds one record per name and one metadata record:
 *
 *   key   the name: lowercase, no final dot, no NUL
 *   value 16 bytes  [0] MAP_FORMAT  [1-3] zero
 *                   [4-7] address, big endian
 *                   [8-15] last answer, seconds since the epoch,
 *                          signed, big endian
 *
 *   key   "\0meta" (5 bytes; no name starts with a NUL)
 *   value 12 bytes  [0] MAP_FORMAT  [1-3] zero
 *                   [4-7] first address of the range, big endian
 *                   [8-11] last address of the range, big endian
 *
 * A new name is on disk before map_assign returns it, so an answer that
 * left the process survives a crash of the process; last-answer times of
 * known names are written later by map_sync.  No fsync: a crash of the
 * machine is not what the file is for.  A kill in the middle of a store
 * leaves a record tdb_check() does not accept; map_salvage() rebuilds the
 * file from what tdb_rescue() still finds.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tdb.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "siphash.h"

#define MAP_FORMAT	1
#define MAP_REC_LEN	16
#define MAP_META_LEN	12
#define MAP_DIRTY	0x01		/* answered not yet on disk */
#define MAP_MIN_BITS	10		/* 1024 buckets at least */
#define MAP_START_BITS	20		/* at most, before any name */
#define MAP_DROP_LOG	10		/* dropped records logged one by one */
#define MAP_WARN_EVERY	60		/* seconds between store warnings */
#define MAP_TDB_FLAGS	(TDB_NOLOCK | TDB_INCOMPATIBLE_HASH)

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
	size_t			 ndirty;
	time_t			 last_warn;
	map_evict_cb		 evict_cb;
	void			*evict_arg;
};

/* What the load of the file found; it stops on error. */
struct map_load {
	struct map		*m;
	TDB_DATA		*drop;		/* keys to delete afterwards */
	size_t			 ndrop;
	size_t			 dropcap;
	struct map_entry	**found;	/* what tdb_rescue() found */
	size_t			 nfound;
	size_t			 foundcap;
	const char		*error;
	int			 errnum;
};

/* An entry and where it goes in answer order. */
struct map_sortkey {
	uint64_t		 key;
	struct map_entry	*e;
};

#define MAP_SORT_TMAX	((UINT64_C(1) << 40) - 1)

/*
 * The key of the hash that picks a new name's first candidate address.  It
 * never changes, so a name lands on the same address again even when the
 * file is lost.  The bytes spell "dns44 map addr 1".
 */
static const uint8_t map_addr_key[SIPHASH_KEY_LEN] = {
	0x64, 0x6e, 0x73, 0x34, 0x34, 0x20, 0x6d, 0x61,
	0x70, 0x20, 0x61, 0x64, 0x64, 0x72, 0x20, 0x31
};

static const unsigned char map_meta_name[5] = { '\0', 'm', 'e', 't', 'a' };

static void	map_err(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	map_tdb_log(struct tdb_context *, enum tdb_debug_level,
		    const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static const char *map_fmt_addr(uint32_t, char *, size_t);
static void	map_put32(uint8_t *, uint32_t);
static void	map_put64(uint8_t *, uint64_t);
static uint32_t	map_get32(const uint8_t *);
static uint64_t	map_get64(const uint8_t *);
static TDB_DATA	map_key(const char *, size_t);
static int	map_store(struct map *, const struct map_entry *, int);
static int	map_delete(struct map *, const char *);
static void	map_warn_store(struct map *, time_t, const char *);
static size_t	map_addr_bucket(const struct map *, uint32_t);
static uint32_t	map_name_hash(const struct map *, const char *, size_t);
static struct map_entry *map_find(const struct map *, const char *,
		    uint32_t);
static struct map_entry *map_entry_new(const char *, size_t, uint32_t);
static void	map_link(struct map *, struct map_entry *);
static void	map_insert(struct map *, struct map_entry *);
static void	map_unlink(struct map *, struct map_entry *);
static int	map_resize(struct map *, unsigned int);
static void	map_grow(struct map *);
static int	map_bit_isset(const struct map *, uint32_t);
static void	map_bit_set(struct map *, uint32_t);
static void	map_bit_clear(struct map *, uint32_t);
static uint32_t	map_find_free(const struct map *, uint32_t);
static struct map_entry *map_victim(struct map *, time_t, uint32_t);
static void	map_touch(struct map *, struct map_entry *, time_t);
static int	map_tdb_open(struct map *, int *, char *, size_t);
static int	map_tdb_reopen(struct map *, char *, size_t);
static int	map_meta_read(struct map *, int, int *, char *, size_t);
static int	map_meta_write(struct map *);
static uint32_t	map_chains(const struct map *);
static int	map_load_parse(struct map_load *, TDB_DATA, TDB_DATA,
		    struct map_entry **);
static void	map_load_add(struct map *, struct map_entry *);
static int	map_load_record(TDB_DATA, TDB_DATA, void *);
static void	map_rescue_record(TDB_DATA, TDB_DATA, void *);
static int	map_cmp_rescued_name(const void *, const void *);
static int	map_cmp_rescued_addr(const void *, const void *);
static size_t	map_rescued_unique(struct map_entry **, size_t,
		    int (*)(const void *, const void *), int);
static void	map_load_reset(struct map *);
static int	map_salvage(struct map *, struct map_load *, char *, size_t);
static void	map_show(char *, size_t, const unsigned char *, size_t);
static void	map_load_drop(struct map_load *, TDB_DATA, const char *);
static int	map_load(struct map *, char *, size_t);
static int	map_cmp_sortkey(const void *, const void *);
static int	map_sort(struct map *);
static void	map_free(struct map *);

static void
map_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* tdb's own complaints name the exact offset; worth keeping. */
static void
map_tdb_log(struct tdb_context *tdb, enum tdb_debug_level level,
    const char *fmt, ...)
{
	struct map	*m = tdb_get_logging_private(tdb);
	char		 buf[512];
	size_t		 len;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (level <= TDB_DEBUG_ERROR)
		log_warnx("%s: tdb: %s", m->path, buf);
	else
		log_debug("%s: tdb: %s", m->path, buf);
}

static const char *
map_fmt_addr(uint32_t addr, char *buf, size_t len)
{
	struct in_addr	ia;

	ia.s_addr = htonl(addr);
	if (inet_ntop(AF_INET, &ia, buf, len) == NULL)
		strlcpy(buf, "?", len);
	return (buf);
}

static void
map_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
map_put64(uint8_t *p, uint64_t v)
{
	map_put32(p, v >> 32);
	map_put32(p + 4, v);
}

static uint32_t
map_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static uint64_t
map_get64(const uint8_t *p)
{
	return ((uint64_t)map_get32(p) << 32 | map_get32(p + 4));
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

	len = strnlen(in, MAP_NAME_MAX + 2);
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > MAP_NAME_MAX || len >= outlen)
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
			if (++label > MAP_LABEL_MAX)
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

static TDB_DATA
map_key(const char *name, size_t len)
{
	TDB_DATA	key;

	key.dptr = (unsigned char *)(uintptr_t)name;
	key.dsize = len;
	return (key);
}

/*
 * Write an entry's record.  A new name is inserted, which spares tdb one
 * walk of the hash chain; a record left over from an old run is replaced.
 */
static int
map_store(struct map *m, const struct map_entry *e, int isnew)
{
	uint8_t		buf[MAP_REC_LEN];
	TDB_DATA	key, val;

	memset(buf, 0, sizeof(buf));
	buf[0] = MAP_FORMAT;
	map_put32(buf + 4, e->addr);
	map_put64(buf + 8, (uint64_t)(int64_t)e->answered);
	val.dptr = buf;
	val.dsize = sizeof(buf);
	key = map_key(e->name, strlen(e->name));
	if (isnew && tdb_store(m->tdb, key, val, TDB_INSERT) == 0)
		return (0);
	if ((!isnew || tdb_error(m->tdb) == TDB_ERR_EXISTS) &&
	    tdb_store(m->tdb, key, val, TDB_REPLACE) == 0)
		return (0);
	errno = EIO;
	return (-1);
}

static int
map_delete(struct map *m, const char *name)
{
	if (tdb_delete(m->tdb, map_key(name, strlen(name))) == -1 &&
	    tdb_error(m->tdb) != TDB_ERR_NOEXIST) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

/* A broken disk fails every query; say so once a minute, not each time. */
static void
map_warn_store(struct map *m, time_t now, const char *what)
{
	if (m->last_warn != 0 && now >= m->last_warn &&
	    now - m->last_warn < MAP_WARN_EVERY)
		return;
	m->last_warn = now;
	log_warnx("%s: cannot %s: %s", m->path, what,
	    tdb_errorstr(m->tdb));
}

/* Multiply-shift with a random odd factor: addresses cannot be aimed. */
static size_t
map_addr_bucket(const struct map *m, uint32_t addr)
{
	return ((uint64_t)(addr - m->first) * m->addr_mul >> (64 - m->bits));
}

static uint32_t
map_name_hash(const struct map *m, const char *name, size_t len)
{
	return (siphash(m->name_key, name, len));
}

static struct map_entry *
map_find(const struct map *m, const char *name, uint32_t h)
{
	struct map_entry	*e;

	for (e = m->by_name[h & (m->nbuckets - 1)]; e != NULL;
	    e = e->name_next)
		if (e->name_hash == h && strcmp(e->name, name) == 0)
			return (e);
	return (NULL);
}

static struct map_entry *
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

static void
map_insert(struct map *m, struct map_entry *e)
{
	map_link(m, e);
	map_bit_set(m, e->addr - m->first);
	TAILQ_INSERT_HEAD(&m->lru, e, lru);
	if (++m->count > m->nbuckets)
		map_grow(m);
}

static void
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
	m->count--;
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

static int
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

static void
map_touch(struct map *m, struct map_entry *e, time_t now)
{
	e->answered = now;
	if (TAILQ_FIRST(&m->lru) != e) {
		TAILQ_REMOVE(&m->lru, e, lru);
		TAILQ_INSERT_HEAD(&m->lru, e, lru);
	}
	if (!(e->flags & MAP_DIRTY)) {
		e->flags |= MAP_DIRTY;
		m->ndirty++;
	}
}

/* About four names a chain when the range is full; 1 MiB at most. */
static uint32_t
map_chains(const struct map *m)
{
	if (m->size / 4 < 1021)
		return (1021);
	if (m->size / 4 > 262139)
		return (262139);
	return (m->size / 4);
}

/*
 * tdb_open() with O_CREAT makes a new database over any file that is not
 * one, so O_CREAT is only given when there is nothing to lose: no file or
 * an empty one.
 */
static int
map_tdb_open(struct map *m, int *created, char *err, size_t errlen)
{
	struct tdb_logging_context	 logctx;
	struct stat			 st;
	int				 oflags = O_RDWR;

	*created = 0;
	if (stat(m->path, &st) == -1) {
		if (errno != ENOENT) {
			map_err(err, errlen, "%s: %s", m->path,
			    strerror(errno));
			return (-1);
		}
		oflags |= O_CREAT | O_EXCL;
		*created = 1;
	} else if (!S_ISREG(st.st_mode)) {
		map_err(err, errlen, "%s: not a regular file", m->path);
		errno = EINVAL;
		return (-1);
	} else if (st.st_size == 0) {
		oflags |= O_CREAT;
		*created = 1;
	}

	logctx.log_fn = map_tdb_log;
	logctx.log_private = m;
	errno = 0;
	m->tdb = tdb_open_ex(m->path, map_chains(m), MAP_TDB_FLAGS, oflags, 0600,
	    &logctx, NULL);
	if (m->tdb == NULL) {
		if (errno == 0 || errno == EIO || errno == EINVAL) {
			map_err(err, errlen, "%s: not a tdb file, or its "
			    "header is damaged", m->path);
			errno = EINVAL;
		} else
			map_err(err, errlen, "%s: %s", m->path,
			    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Close the file and open it again.  The check read every page of it
 * through tdb's mapping; a fresh mapping lets them go, so the process's
 * RSS is its own memory and later writes bring back only the pages they
 * touch.
 */
static int
map_tdb_reopen(struct map *m, char *err, size_t errlen)
{
	struct tdb_logging_context	logctx;

	if (tdb_close(m->tdb) == -1)
		log_warn("%s: close", m->path);
	logctx.log_fn = map_tdb_log;
	logctx.log_private = m;
	m->tdb = tdb_open_ex(m->path, 0, MAP_TDB_FLAGS, O_RDWR, 0600, &logctx,
	    NULL);
	if (m->tdb == NULL) {
		map_err(err, errlen, "%s: cannot open again: %s", m->path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Check the metadata record.  A file made for another range is kept: the
 * load drops the records that no longer fit.  A newer format is refused
 * rather than rewritten.
 */
static int
map_meta_read(struct map *m, int created, int *rewrite, char *err,
    size_t errlen)
{
	TDB_DATA	 val;
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	char		 c[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	uint32_t	 first, last;

	*rewrite = 0;
	val = tdb_fetch(m->tdb, map_key((const char *)map_meta_name,
	    sizeof(map_meta_name)));
	if (val.dptr == NULL) {
		/* Damage; the load finds it again and rebuilds the file. */
		if (tdb_error(m->tdb) != TDB_ERR_NOEXIST)
			log_warnx("%s: cannot read the metadata record: %s",
			    m->path, tdb_errorstr(m->tdb));
		else if (!created)
			log_warnx("%s: no metadata record; writing one",
			    m->path);
		*rewrite = 1;
		return (0);
	}
	if (val.dsize != MAP_META_LEN) {
		log_warnx("%s: malformed metadata record; writing it again",
		    m->path);
		*rewrite = 1;
	} else if (val.dptr[0] != MAP_FORMAT) {
		map_err(err, errlen, "%s: format version %u, this dns44 "
		    "reads version %u", m->path, val.dptr[0], MAP_FORMAT);
		free(val.dptr);
		errno = EINVAL;
		return (-1);
	} else {
		first = map_get32(val.dptr + 4);
		last = map_get32(val.dptr + 8);
		if (first != m->first || last != m->last) {
			log_warnx("%s: made for the range %s - %s, now %s - %s;"
			    " keeping the names that fit", m->path,
			    map_fmt_addr(first, a, sizeof(a)),
			    map_fmt_addr(last, b, sizeof(b)),
			    map_fmt_addr(m->first, c, sizeof(c)),
			    map_fmt_addr(m->last, d, sizeof(d)));
			*rewrite = 1;
		}
	}
	free(val.dptr);
	return (0);
}

static int
map_meta_write(struct map *m)
{
	uint8_t		buf[MAP_META_LEN];
	TDB_DATA	val;

	memset(buf, 0, sizeof(buf));
	buf[0] = MAP_FORMAT;
	map_put32(buf + 4, m->first);
	map_put32(buf + 8, m->last);
	val.dptr = buf;
	val.dsize = sizeof(buf);
	return (tdb_store(m->tdb, map_key((const char *)map_meta_name,
	    sizeof(map_meta_name)), val, TDB_REPLACE));
}

/* A key from the file fit for a log line: octal escapes, cut short. */
static void
map_show(char *buf, size_t buflen, const unsigned char *p, size_t len)
{
	size_t	i, o = 0;

	for (i = 0; i < len && o + 5 < buflen; i++) {
		if (p[i] > ' ' && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
			buf[o++] = p[i];
		else
			o += snprintf(buf + o, buflen - o, "\\%03o", p[i]);
	}
	if (i < len && o + 4 <= buflen)
		o += strlcpy(buf + o, "...", buflen - o);
	buf[o] = '\0';
}

static void
map_load_drop(struct map_load *ld, TDB_DATA key, const char *why)
{
	TDB_DATA	*nd;
	char		 shown[128];
	size_t		 n;

	if (ld->ndrop < MAP_DROP_LOG) {
		map_show(shown, sizeof(shown), key.dptr, key.dsize);
		log_warnx("%s: dropping \"%s\": %s", ld->m->path, shown,
		    why);
	}
	if (ld->ndrop == ld->dropcap) {
		n = ld->dropcap == 0 ? 64 : ld->dropcap * 2;
		if ((nd = reallocarray(ld->drop, n, sizeof(*nd))) == NULL) {
			ld->error = "out of memory";
			ld->errnum = ENOMEM;
			return;
		}
		ld->drop = nd;
		ld->dropcap = n;
	}
	nd = &ld->drop[ld->ndrop];
	if ((nd->dptr = malloc(key.dsize ? key.dsize : 1)) == NULL) {
		ld->error = "out of memory";
		ld->errnum = ENOMEM;
		return;
	}
	memcpy(nd->dptr, key.dptr, key.dsize);
	nd->dsize = key.dsize;
	ld->ndrop++;
}

/*
 * Check one record of the file and make its entry.  0 with *ep set for a
 * name, 0 with *ep NULL for the metadata record or a record dropped, -1 on
 * a failure that ends the load.
 */
static int
map_load_parse(struct map_load *ld, TDB_DATA key, TDB_DATA val,
    struct map_entry **ep)
{
	struct map		*m = ld->m;
	struct map_entry	*e;
	char			 raw[MAP_NAME_MAX + 1], name[MAP_NAME_MAX + 1];
	uint32_t		 addr;

	*ep = NULL;
	if (key.dsize == sizeof(map_meta_name) &&
	    memcmp(key.dptr, map_meta_name, key.dsize) == 0)
		return (0);

	if (key.dsize == 0 || key.dsize > MAP_NAME_MAX ||
	    memchr(key.dptr, '\0', key.dsize) != NULL) {
		map_load_drop(ld, key, "not a name");
		return (ld->error != NULL ? -1 : 0);
	}
	memcpy(raw, key.dptr, key.dsize);
	raw[key.dsize] = '\0';
	if (map_normalize(raw, name, sizeof(name)) == -1 ||
	    strcmp(raw, name) != 0) {
		map_load_drop(ld, key, "not a name in normal form");
		return (ld->error != NULL ? -1 : 0);
	}
	if (val.dsize != MAP_REC_LEN || val.dptr[0] != MAP_FORMAT) {
		map_load_drop(ld, key, "malformed record");
		return (ld->error != NULL ? -1 : 0);
	}
	addr = map_get32(val.dptr + 4);
	if (addr < m->first || addr > m->last) {
		map_load_drop(ld, key, "address outside the range");
		return (ld->error != NULL ? -1 : 0);
	}
	/* Into the tables once the count is known. */
	if ((e = map_entry_new(name, key.dsize,
	    map_name_hash(m, name, key.dsize))) == NULL) {
		ld->error = "out of memory";
		ld->errnum = ENOMEM;
		return (-1);
	}
	e->addr = addr;
	e->answered = (time_t)(int64_t)map_get64(val.dptr + 8);
	if (e->answered < 0)		/* keeps now - answered defined */
		e->answered = 0;
	*ep = e;
	return (0);
}

/* An entry of the load into the list and the bitmap. */
static void
map_load_add(struct map *m, struct map_entry *e)
{
	map_bit_set(m, e->addr - m->first);
	TAILQ_INSERT_TAIL(&m->lru, e, lru);
	m->count++;
}

/*
 * One live record of the file, from tdb_check() in file order; -1 ends the
 * check and fails the load.  tdb keys are unique, so only an address can
 * be claimed twice.
 */
static int
map_load_record(TDB_DATA key, TDB_DATA val, void *arg)
{
	struct map_load		*ld = arg;
	struct map_entry	*e;

	if (map_load_parse(ld, key, val, &e) == -1)
		return (-1);
	if (e == NULL)
		return (0);
	if (map_bit_isset(ld->m, e->addr - ld->m->first)) {
		free(e);
		map_load_drop(ld, key, "address taken by an earlier record");
		return (ld->error != NULL ? -1 : 0);
	}
	map_load_add(ld->m, e);
	return (0);
}

/*
 * Anything tdb_rescue() finds that looks like a record, whole or not,
 * maybe more than once; map_salvage() sorts it out.
 */
static void
map_rescue_record(TDB_DATA key, TDB_DATA val, void *arg)
{
	struct map_load		*ld = arg;
	struct map_entry	*e, **ne;
	size_t			 n;

	if (ld->error != NULL || map_load_parse(ld, key, val, &e) == -1 ||
	    e == NULL)
		return;
	if (ld->nfound == ld->foundcap) {
		n = ld->foundcap == 0 ? 1024 : ld->foundcap * 2;
		if ((ne = reallocarray(ld->found, n, sizeof(*ne))) == NULL) {
			free(e);
			ld->error = "out of memory";
			ld->errnum = ENOMEM;
			return;
		}
		ld->found = ne;
		ld->foundcap = n;
	}
	ld->found[ld->nfound++] = e;
}

/* By name, then the latest answer first. */
static int
map_cmp_rescued_name(const void *a, const void *b)
{
	const struct map_entry	*ea = *(struct map_entry * const *)a;
	const struct map_entry	*eb = *(struct map_entry * const *)b;
	int			 c;

	if ((c = strcmp(ea->name, eb->name)) != 0)
		return (c);
	return ((eb->answered > ea->answered) - (eb->answered < ea->answered));
}

/* By address, then the latest answer first. */
static int
map_cmp_rescued_addr(const void *a, const void *b)
{
	const struct map_entry	*ea = *(struct map_entry * const *)a;
	const struct map_entry	*eb = *(struct map_entry * const *)b;

	if (ea->addr != eb->addr)
		return ((ea->addr > eb->addr) - (ea->addr < eb->addr));
	return ((eb->answered > ea->answered) - (eb->answered < ea->answered));
}

/*
 * Keep the first of each run of equal keys in a sorted array; the rest are
 * freed.  Returns the new length.
 */
static size_t
map_rescued_unique(struct map_entry **v, size_t n,
    int (*cmp)(const void *, const void *), int byname)
{
	size_t	i, o = 0;

	qsort(v, n, sizeof(*v), cmp);
	for (i = 0; i < n; i++) {
		if (o > 0 && (byname ? strcmp(v[o - 1]->name, v[i]->name) == 0 :
		    v[o - 1]->addr == v[i]->addr)) {
			free(v[i]);
			continue;
		}
		v[o++] = v[i];
	}
	return (o);
}

/* Forget what a failed load put in memory. */
static void
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

/*
 * A file that tdb opens but tdb_check() refuses: a store cut short when
 * the process was killed, or damage.  tdb_rescue() finds what still reads
 * as records; where two claim one name or one address the later answer
 * wins.  They go into a new file that takes the old one's place; the old
 * one stays beside it as PATH.damaged for a look.
 */
static int
map_salvage(struct map *m, struct map_load *ld, char *err, size_t errlen)
{
	struct tdb_logging_context	 logctx;
	struct tdb_context		*old;
	struct map_entry		*e;
	char				 tmp[PATH_MAX], keep[PATH_MAX];
	size_t				 i, n;

	map_load_reset(m);
	ld->error = NULL;
	ld->errnum = 0;
	if (tdb_rescue(m->tdb, map_rescue_record, ld) == -1 ||
	    ld->error != NULL) {
		map_err(err, errlen, "%s: damaged database, and its records "
		    "cannot be read: %s", m->path, ld->error != NULL ?
		    ld->error : tdb_errorstr(m->tdb));
		errno = ld->errnum != 0 ? ld->errnum : EIO;
		return (-1);
	}
	n = map_rescued_unique(ld->found, ld->nfound, map_cmp_rescued_name, 1);
	n = map_rescued_unique(ld->found, n, map_cmp_rescued_addr, 0);
	ld->nfound = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", m->path) >=
	    sizeof(tmp) || (size_t)snprintf(keep, sizeof(keep), "%s.damaged",
	    m->path) >= sizeof(keep)) {
		for (i = 0; i < n; i++)
			free(ld->found[i]);
		map_err(err, errlen, "%s: name too long", m->path);
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (i = 0; i < n; i++)
		map_load_add(m, ld->found[i]);

	old = m->tdb;
	if (unlink(tmp) == -1 && errno != ENOENT) {
		map_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	logctx.log_fn = map_tdb_log;
	logctx.log_private = m;
	if ((m->tdb = tdb_open_ex(tmp, map_chains(m), MAP_TDB_FLAGS,
	    O_RDWR | O_CREAT | O_EXCL, 0600, &logctx, NULL)) == NULL) {
		m->tdb = old;
		map_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	if (map_meta_write(m) == -1)
		goto fail;
	TAILQ_FOREACH(e, &m->lru, lru)
		if (map_store(m, e, 1) == -1)
			goto fail;
	if ((unlink(keep) == -1 && errno != ENOENT) ||
	    link(m->path, keep) == -1 || rename(tmp, m->path) == -1) {
		map_err(err, errlen, "%s: cannot put the rebuilt file in "
		    "place: %s", m->path, strerror(errno));
		tdb_close(m->tdb);
		m->tdb = old;
		unlink(tmp);
		return (-1);
	}
	tdb_close(old);
	log_warnx("%s: rebuilt with the %zu names it still held; the old "
	    "file is %s", m->path, m->count, keep);
	return (0);

 fail:
	map_err(err, errlen, "%s: cannot write: %s", tmp,
	    tdb_errorstr(m->tdb));
	tdb_close(m->tdb);
	m->tdb = old;
	unlink(tmp);
	errno = EIO;
	return (-1);
}

/*
 * Read the file into memory.  tdb_check() walks it once from end to end
 * and proves every record, hash chain and the free list sound, so a cut or
 * damaged file is refused here instead of failing a store later.
 */
static int
map_load(struct map *m, char *err, size_t errlen)
{
	struct map_load	ld;
	size_t		i;
	int		rc = -1;

	memset(&ld, 0, sizeof(ld));
	ld.m = m;
	if (tdb_check(m->tdb, map_load_record, &ld) == -1) {
		if (ld.errnum == ENOMEM) {
			map_err(err, errlen, "%s: %s", m->path, ld.error);
			errno = ENOMEM;
			goto done;
		}
		log_warnx("%s: damaged database: %s; rebuilding it", m->path,
		    ld.error != NULL ? ld.error : tdb_errorstr(m->tdb));
		if (map_salvage(m, &ld, err, errlen) == -1)
			goto done;
	}
	for (i = 0; i < ld.ndrop; i++) {
		if (tdb_delete(m->tdb, ld.drop[i]) == -1 &&
		    tdb_error(m->tdb) != TDB_ERR_NOEXIST) {
			map_err(err, errlen, "%s: cannot delete a dropped "
			    "record: %s", m->path, tdb_errorstr(m->tdb));
			errno = EIO;
			goto done;
		}
	}
	if (ld.ndrop > MAP_DROP_LOG)
		log_warnx("%s: dropped %zu records in all", m->path,
		    ld.ndrop);
	rc = 0;
 done:
	for (i = 0; i < ld.ndrop; i++)
		free(ld.drop[i].dptr);
	free(ld.drop);
	for (i = 0; i < ld.nfound; i++)
		free(ld.found[i]);
	free(ld.found);
	return (rc);
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
		t = e->answered < 0 ? 0 : (uint64_t)e->answered;
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
	struct map	*m;
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t	 i;
	unsigned int	 bits;
	int		 created, rewrite, saved;

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
	m->evict_cb = cb;
	m->evict_arg = arg;

	if (map_tdb_open(m, &created, err, errlen) == -1 ||
	    map_meta_read(m, created, &rewrite, err, errlen) == -1 ||
	    map_load(m, err, errlen) == -1)
		goto fail;
	if (rewrite && map_meta_write(m) == -1) {
		map_err(err, errlen, "%s: cannot write the metadata record: "
		    "%s", path, tdb_errorstr(m->tdb));
		errno = EIO;
		goto fail;
	}
	if (!created && map_tdb_reopen(m, err, errlen) == -1)
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
	if (m->tdb != NULL && tdb_close(m->tdb) == -1)
		log_warn("%s: close", m->path);
	while ((e = TAILQ_FIRST(&m->lru)) != NULL) {
		TAILQ_REMOVE(&m->lru, e, lru);
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

	len = strnlen(name, MAP_NAME_MAX + 1);
	if (len == 0 || len > MAP_NAME_MAX)
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

/*
 * The entry of a normalised name, made if new.  A new entry is on disk
 * before it is returned.  NULL with errno: EINVAL for a name that is not
 * normalised-length, ENOSPC when the range is full and no entry may be
 * reused yet, EIO when the file cannot be written, ENOMEM.
 */
struct map_entry *
map_assign(struct map *m, const char *name, time_t now, uint32_t hold_s)
{
	struct map_entry	*e, *old;
	size_t			 len;
	uint32_t		 h, start;

	len = strnlen(name, MAP_NAME_MAX + 1);
	if (len == 0 || len > MAP_NAME_MAX) {
		errno = EINVAL;
		return (NULL);
	}
	h = map_name_hash(m, name, len);
	if ((e = map_find(m, name, h)) != NULL) {
		map_touch(m, e, now);
		return (e);
	}
	if ((e = map_entry_new(name, len, h)) == NULL)
		return (NULL);
	e->answered = now;

	if (m->count < m->size) {
		start = siphash(map_addr_key, name, len) % m->size;
		e->addr = m->first + map_find_free(m, start);
		if (map_store(m, e, 1) == -1) {
			map_warn_store(m, now, "store a new name");
			free(e);
			errno = EIO;
			return (NULL);
		}
		map_insert(m, e);
		return (e);
	}

	if ((old = map_victim(m, now, hold_s)) == NULL) {
		free(e);
		errno = ENOSPC;
		return (NULL);
	}
	/* Old name off the disk first: two names never share an address. */
	if (map_delete(m, old->name) == -1) {
		map_warn_store(m, now, "delete an evicted name");
		free(e);
		errno = EIO;
		return (NULL);
	}
	if (m->evict_cb != NULL)
		m->evict_cb(old, m->evict_arg);
	e->addr = old->addr;
	map_unlink(m, old);
	free(old);
	if (map_store(m, e, 1) == -1) {
		map_warn_store(m, now, "store a new name");
		free(e);
		errno = EIO;
		return (NULL);
	}
	map_insert(m, e);
	return (e);
}

void
map_pin(struct map *m, struct map_entry *e)
{
	(void)m;
	if (e->conns < UINT32_MAX)
		e->conns++;
}

void
map_unpin(struct map *m, struct map_entry *e)
{
	(void)m;
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
	if (map_delete(m, e->name) == -1) {
		log_warnx("%s: cannot delete %s: %s", m->path, e->name,
		    tdb_errorstr(m->tdb));
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
		if (map_store(m, e, 0) == -1) {
			failed++;
			continue;
		}
		e->flags &= ~MAP_DIRTY;
		m->ndirty--;
	}
	if (failed > 0) {
		log_warnx("%s: cannot write %zu answered times: %s", m->path,
		    failed, tdb_errorstr(m->tdb));
		errno = EIO;
		return (-1);
	}
	return (0);
}

size_t
map_count(const struct map *m)
{
	return (m->count);
}

uint32_t
map_size(const struct map *m)
{
	return (m->size);
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
