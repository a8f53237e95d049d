/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map_db.c: the map's tdb file.  It owns the format of the records, their
 * store and delete, the opening of the file (made when missing or empty,
 * opened again after the load), the load of every record into the map,
 * and the rebuild of a file tdb_check() refuses from what tdb_rescue()
 * still finds.  The tables the records go into are map.c's.
 *
 * The tdb file holds one record per name and one metadata record:
 *
 *   key   the name: lowercase, no final dot, no NUL
 *   value 16 bytes  [0] MAP_DB_FORMAT  [1-3] zero
 *                   [4-7] address, big endian
 *                   [8-15] last answer, seconds since the epoch,
 *                          signed, big endian
 *
 *   key   "\0meta" (5 bytes; no name starts with a NUL)
 *   value 12 bytes  [0] MAP_DB_FORMAT  [1-3] zero
 *                   [4-7] first address of the range, big endian
 *                   [8-11] last address of the range, big endian
 *
 * A new name is on disk before map_assign returns it, so an answer that
 * left the process survives a crash of the process; last-answer times of
 * known names are written later by map_sync.  No fsync: a crash of the
 * machine is not what the file is for.  A kill in the middle of a store
 * leaves a record tdb_check() does not accept; map_db_salvage() rebuilds
 * the file from what tdb_rescue() still finds.
 *
 * A gateway whose map is shared in a store keeps its copy in a journal
 * beside the file instead (map_journal.c); map_db_open() reads which
 * holds the later copy, and map_db_store() and map_db_delete() write to
 * the one in use.
 *
 * The database directory is the daemon's while it runs: its parent holds
 * an exclusive flock(2) on it (map_db_lock), and dns44ctl dump, which
 * reads a file with the daemon stopped (map_db_walk), a shared one.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <netinet/in.h>

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
#include "map_local.h"

#define MAP_DB_FORMAT		1
#define MAP_DB_REC_LEN		16
#define MAP_DB_META_LEN		12
#define MAP_DB_DROP_LOG		10	/* dropped records logged one by one */
#define MAP_DB_WARN_EVERY	60	/* seconds between store warnings */
#define MAP_DB_TDB_FLAGS	(TDB_NOLOCK | TDB_INCOMPATIBLE_HASH)

/* What the load of the file found; it stops on error. */
struct map_db_load {
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

static const unsigned char map_db_meta_name[5] = { '\0', 'm', 'e', 't', 'a' };

static void	map_db_log(struct tdb_context *, enum tdb_debug_level,
		    const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static TDB_DATA	map_db_key(const char *, size_t);
static uint32_t	map_db_chains(const struct map *);
static struct tdb_context *map_db_tdb_open(struct map *, const char *,
		    uint32_t, int);
static int	map_db_open_file(struct map *, int *, char *, size_t);
static int	map_db_reopen(struct map *, char *, size_t);
static int	map_db_meta_read(struct map *, int, int *, char *, size_t);
static int	map_db_meta_write(struct map *);
static void	map_db_show(char *, size_t, const unsigned char *, size_t);
static void	map_db_drop(struct map_db_load *, TDB_DATA, const char *);
static int	map_db_parse(struct map_db_load *, TDB_DATA, TDB_DATA,
		    struct map_entry **);
static int	map_db_load_record(TDB_DATA, TDB_DATA, void *);
static void	map_db_rescue_record(TDB_DATA, TDB_DATA, void *);
static int	map_db_cmp_name(const void *, const void *);
static int	map_db_cmp_addr(const void *, const void *);
static size_t	map_db_unique(struct map_entry **, size_t,
		    int (*)(const void *, const void *), int);
static int	map_db_salvage(struct map *, struct map_db_load *, char *,
		    size_t);
static int	map_db_load(struct map *, char *, size_t);
static int	map_db_rebuild(struct map *, const char *, char *, size_t);
static int	map_db_open_tdb(struct map *, char *, size_t);
static int	map_db_journal_record(const char *, uint32_t, int64_t,
		    void *);
static int	map_db_walk_record(struct tdb_context *, TDB_DATA, TDB_DATA,
		    void *);

/* tdb's own complaints name the exact offset; worth keeping. */
static void
map_db_log(struct tdb_context *tdb, enum tdb_debug_level level,
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

static TDB_DATA
map_db_key(const char *name, size_t len)
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
int
map_db_store(struct map *m, const struct map_entry *e, int isnew)
{
	uint8_t		buf[MAP_DB_REC_LEN];
	TDB_DATA	key, val;

	if (m->jbuf != NULL)
		return (map_journal_put(m, e));
	memset(buf, 0, sizeof(buf));
	buf[0] = MAP_DB_FORMAT;
	wire_put32(buf + 4, e->addr);
	wire_put64(buf + 8, (uint64_t)(int64_t)e->answered);
	val.dptr = buf;
	val.dsize = sizeof(buf);
	key = map_db_key(e->name, strlen(e->name));
	if (isnew && tdb_store(m->tdb, key, val, TDB_INSERT) == 0)
		return (0);
	if ((!isnew || tdb_error(m->tdb) == TDB_ERR_EXISTS) &&
	    tdb_store(m->tdb, key, val, TDB_REPLACE) == 0)
		return (0);
	errno = EIO;
	return (-1);
}

int
map_db_delete(struct map *m, const char *name)
{
	if (m->jbuf != NULL)
		return (map_journal_del(m, name));
	if (tdb_delete(m->tdb, map_db_key(name, strlen(name))) == -1 &&
	    tdb_error(m->tdb) != TDB_ERR_NOEXIST) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

/* A broken disk fails every query; say so once a minute, not each time. */
void
map_db_warn_store(struct map *m, time_t now, const char *what)
{
	if (m->last_warn != 0 && now >= m->last_warn &&
	    now - m->last_warn < MAP_DB_WARN_EVERY)
		return;
	m->last_warn = now;
	log_warnx("%s: cannot %s: %s", m->path, what, map_db_errstr(m));
}

/* About four names a chain when the range is full; 1 MiB at most. */
static uint32_t
map_db_chains(const struct map *m)
{
	if (m->size / 4 < 1021)
		return (1021);
	if (m->size / 4 > 262139)
		return (262139);
	return (m->size / 4);
}

/*
 * Every open of a tdb file: the first, the one after the load and the
 * rebuilt file's.  tdb's own complaints go to the log under the map's
 * path.
 */
static struct tdb_context *
map_db_tdb_open(struct map *m, const char *path, uint32_t chains, int oflags)
{
	struct tdb_logging_context	logctx;

	logctx.log_fn = map_db_log;
	logctx.log_private = m;
	return (tdb_open_ex(path, chains, MAP_DB_TDB_FLAGS, oflags, 0600,
	    &logctx, NULL));
}

/*
 * tdb_open() with O_CREAT makes a new database over any file that is not
 * one, so O_CREAT is only given when there is nothing to lose: no file or
 * an empty one.
 */
static int
map_db_open_file(struct map *m, int *created, char *err, size_t errlen)
{
	struct stat	st;
	int		oflags = O_RDWR;

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

	errno = 0;
	if ((m->tdb = map_db_tdb_open(m, m->path, map_db_chains(m),
	    oflags)) == NULL) {
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
map_db_reopen(struct map *m, char *err, size_t errlen)
{
	if (tdb_close(m->tdb) == -1)
		log_warn("%s: close", m->path);
	if ((m->tdb = map_db_tdb_open(m, m->path, 0, O_RDWR)) == NULL) {
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
map_db_meta_read(struct map *m, int created, int *rewrite, char *err,
    size_t errlen)
{
	TDB_DATA	 val;
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	char		 c[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	uint32_t	 first, last;

	*rewrite = 0;
	val = tdb_fetch(m->tdb, map_db_key((const char *)map_db_meta_name,
	    sizeof(map_db_meta_name)));
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
	if (val.dsize != MAP_DB_META_LEN) {
		log_warnx("%s: malformed metadata record; writing it again",
		    m->path);
		*rewrite = 1;
	} else if (val.dptr[0] != MAP_DB_FORMAT) {
		map_err(err, errlen, "%s: format version %u, this dns44 "
		    "reads version %u", m->path, val.dptr[0], MAP_DB_FORMAT);
		free(val.dptr);
		errno = EINVAL;
		return (-1);
	} else {
		first = wire_get32(val.dptr + 4);
		last = wire_get32(val.dptr + 8);
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
map_db_meta_write(struct map *m)
{
	uint8_t		buf[MAP_DB_META_LEN];
	TDB_DATA	val;

	memset(buf, 0, sizeof(buf));
	buf[0] = MAP_DB_FORMAT;
	wire_put32(buf + 4, m->first);
	wire_put32(buf + 8, m->last);
	val.dptr = buf;
	val.dsize = sizeof(buf);
	return (tdb_store(m->tdb, map_db_key((const char *)map_db_meta_name,
	    sizeof(map_db_meta_name)), val, TDB_REPLACE));
}

/* A key from the file fit for a log line: octal escapes, cut short. */
static void
map_db_show(char *buf, size_t buflen, const unsigned char *p, size_t len)
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
map_db_drop(struct map_db_load *ld, TDB_DATA key, const char *why)
{
	TDB_DATA	*nd;
	char		 shown[128];
	size_t		 n;

	if (ld->ndrop < MAP_DB_DROP_LOG) {
		map_db_show(shown, sizeof(shown), key.dptr, key.dsize);
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
map_db_parse(struct map_db_load *ld, TDB_DATA key, TDB_DATA val,
    struct map_entry **ep)
{
	struct map		*m = ld->m;
	struct map_entry	*e;
	char			 raw[WIRE_TEXT_MAX + 1];
	char			 name[WIRE_TEXT_MAX + 1];
	uint32_t		 addr;

	*ep = NULL;
	if (key.dsize == sizeof(map_db_meta_name) &&
	    memcmp(key.dptr, map_db_meta_name, key.dsize) == 0)
		return (0);

	if (key.dsize == 0 || key.dsize > WIRE_TEXT_MAX ||
	    memchr(key.dptr, '\0', key.dsize) != NULL) {
		map_db_drop(ld, key, "not a name");
		return (ld->error != NULL ? -1 : 0);
	}
	memcpy(raw, key.dptr, key.dsize);
	raw[key.dsize] = '\0';
	if (map_normalize(raw, name, sizeof(name)) == -1 ||
	    strcmp(raw, name) != 0) {
		map_db_drop(ld, key, "not a name in normal form");
		return (ld->error != NULL ? -1 : 0);
	}
	if (val.dsize != MAP_DB_REC_LEN || val.dptr[0] != MAP_DB_FORMAT) {
		map_db_drop(ld, key, "malformed record");
		return (ld->error != NULL ? -1 : 0);
	}
	addr = wire_get32(val.dptr + 4);
	if (addr < m->first || addr > m->last) {
		map_db_drop(ld, key, "address outside the range");
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
	e->answered = map_time((time_t)(int64_t)wire_get64(val.dptr + 8));
	*ep = e;
	return (0);
}

/*
 * One live record of the file, from tdb_check() in file order; -1 ends the
 * check and fails the load.  tdb keys are unique, so only an address can
 * be claimed twice.
 */
static int
map_db_load_record(TDB_DATA key, TDB_DATA val, void *arg)
{
	struct map_db_load	*ld = arg;
	struct map_entry	*e;

	if (map_db_parse(ld, key, val, &e) == -1)
		return (-1);
	if (e == NULL)
		return (0);
	if (map_bit_isset(ld->m, e->addr - ld->m->first)) {
		free(e);
		map_db_drop(ld, key, "address taken by an earlier record");
		return (ld->error != NULL ? -1 : 0);
	}
	map_load_add(ld->m, e);
	return (0);
}

/*
 * Anything tdb_rescue() finds that looks like a record, whole or not,
 * maybe more than once; map_db_salvage() sorts it out.
 */
static void
map_db_rescue_record(TDB_DATA key, TDB_DATA val, void *arg)
{
	struct map_db_load	*ld = arg;
	struct map_entry	*e, **ne;
	size_t			 n;

	if (ld->error != NULL || map_db_parse(ld, key, val, &e) == -1 ||
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
map_db_cmp_name(const void *a, const void *b)
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
map_db_cmp_addr(const void *a, const void *b)
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
map_db_unique(struct map_entry **v, size_t n,
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

/*
 * A file that tdb opens but tdb_check() refuses: a store cut short when
 * the process was killed, or damage.  tdb_rescue() finds what still reads
 * as records; where two claim one name or one address the later answer
 * wins.  They go into a new file that takes the old one's place; the old
 * one stays beside it as PATH.damaged for a look.
 */
static int
map_db_salvage(struct map *m, struct map_db_load *ld, char *err,
    size_t errlen)
{
	char			 keep[PATH_MAX];
	size_t			 i, n;

	map_load_reset(m);
	ld->error = NULL;
	ld->errnum = 0;
	if (tdb_rescue(m->tdb, map_db_rescue_record, ld) == -1 ||
	    ld->error != NULL) {
		map_err(err, errlen, "%s: damaged database, and its records "
		    "cannot be read: %s", m->path, ld->error != NULL ?
		    ld->error : tdb_errorstr(m->tdb));
		errno = ld->errnum != 0 ? ld->errnum : EIO;
		return (-1);
	}
	n = map_db_unique(ld->found, ld->nfound, map_db_cmp_name, 1);
	n = map_db_unique(ld->found, n, map_db_cmp_addr, 0);
	ld->nfound = 0;

	if ((size_t)snprintf(keep, sizeof(keep), "%s.damaged", m->path) >=
	    sizeof(keep)) {
		for (i = 0; i < n; i++)
			free(ld->found[i]);
		map_err(err, errlen, "%s: name too long", m->path);
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (i = 0; i < n; i++)
		map_load_add(m, ld->found[i]);
	if (map_db_rebuild(m, keep, err, errlen) == -1)
		return (-1);
	log_warnx("%s: rebuilt with the %zu names it still held; the old "
	    "file is %s", m->path, m->count, keep);
	return (0);
}

/*
 * The map as it is in memory, written to a new file that takes the
 * place of the file; the old one, if keep, stays beside it under that
 * name.
 */
static int
map_db_rebuild(struct map *m, const char *keep, char *err, size_t errlen)
{
	struct tdb_context	*old;
	struct map_entry	*e;
	char			 tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", m->path) >=
	    sizeof(tmp)) {
		map_err(err, errlen, "%s: name too long", m->path);
		errno = ENAMETOOLONG;
		return (-1);
	}
	old = m->tdb;
	if (unlink(tmp) == -1 && errno != ENOENT) {
		map_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	if ((m->tdb = map_db_tdb_open(m, tmp, map_db_chains(m),
	    O_RDWR | O_CREAT | O_EXCL)) == NULL) {
		m->tdb = old;
		map_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	if (map_db_meta_write(m) == -1)
		goto fail;
	for (e = map_first(m); e != NULL; e = map_next(m, e))
		if (map_db_store(m, e, 1) == -1)
			goto fail;
	if ((keep != NULL && ((unlink(keep) == -1 && errno != ENOENT) ||
	    link(m->path, keep) == -1)) || rename(tmp, m->path) == -1) {
		map_err(err, errlen, "%s: cannot put the rebuilt file in "
		    "place: %s", m->path, strerror(errno));
		tdb_close(m->tdb);
		m->tdb = old;
		unlink(tmp);
		return (-1);
	}
	if (old != NULL)
		tdb_close(old);
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
map_db_load(struct map *m, char *err, size_t errlen)
{
	struct map_db_load	ld;
	size_t			i;
	int			rc = -1;

	memset(&ld, 0, sizeof(ld));
	ld.m = m;
	if (tdb_check(m->tdb, map_db_load_record, &ld) == -1) {
		if (ld.errnum == ENOMEM) {
			map_err(err, errlen, "%s: %s", m->path, ld.error);
			errno = ENOMEM;
			goto done;
		}
		log_warnx("%s: damaged database: %s; rebuilding it", m->path,
		    ld.error != NULL ? ld.error : tdb_errorstr(m->tdb));
		if (map_db_salvage(m, &ld, err, errlen) == -1)
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
	if (ld.ndrop > MAP_DB_DROP_LOG)
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

/*
 * The tdb file into the tables: made if missing or empty, records that no
 * longer fit dropped from it, a damaged one rebuilt.
 */
static int
map_db_open_tdb(struct map *m, char *err, size_t errlen)
{
	int	created, rewrite;

	if (map_db_open_file(m, &created, err, errlen) == -1 ||
	    map_db_meta_read(m, created, &rewrite, err, errlen) == -1 ||
	    map_db_load(m, err, errlen) == -1)
		return (-1);
	if (rewrite && map_db_meta_write(m) == -1) {
		map_err(err, errlen, "%s: cannot write the metadata record: "
		    "%s", m->path, tdb_errorstr(m->tdb));
		errno = EIO;
		return (-1);
	}
	if (!created && map_db_reopen(m, err, errlen) == -1)
		return (-1);
	return (0);
}

/* One name of the journal, checked as a record of the tdb file is. */
static int
map_db_journal_record(const char *name, uint32_t addr, int64_t answered,
    void *arg)
{
	struct map_db_load	*ld = arg;
	struct map		*m = ld->m;
	struct map_entry	*e;
	char			 norm[WIRE_TEXT_MAX + 1], shown[128];
	const char		*why = NULL;
	size_t			 len = strlen(name);

	if (map_normalize(name, norm, sizeof(norm)) == -1 ||
	    strcmp(name, norm) != 0)
		why = "not a name in normal form";
	else if (addr < m->first || addr > m->last)
		why = "address outside the range";
	if (why != NULL) {
		if (ld->ndrop++ < MAP_DB_DROP_LOG) {
			map_db_show(shown, sizeof(shown),
			    (const unsigned char *)name, len);
			log_warnx("%s: copy of the shared map: dropping "
			    "\"%s\": %s", m->path, shown, why);
		}
		return (0);
	}
	if ((e = map_entry_new(name, len, map_name_hash(m, name, len))) ==
	    NULL) {
		errno = ENOMEM;
		return (-1);
	}
	e->addr = addr;
	e->answered = map_time(answered);
	map_load_add(m, e);
	return (0);
}

/*
 * Open the map's files and load them into the tables; on failure -1,
 * errno, and a message naming the file in err.  A shared map (shared)
 * reads its journal (map_journal.c), or its tdb file when it has none
 * yet, and keeps its copy in the journal from then on; the tdb file is
 * closed.  A map alone reads its tdb file; if a journal is there, the
 * gateway was in a fleet since: the journal is the later copy, made the
 * tdb file and removed.
 */
int
map_db_open(struct map *m, int shared, char *err, size_t errlen)
{
	struct map_db_load	ld;
	uint32_t		first, last, gen;
	int			which;

	memset(&ld, 0, sizeof(ld));
	ld.m = m;
	if (map_journal_walk(m->path, map_db_journal_record, &ld, &first,
	    &last, &which, &gen, err, errlen) == -1)
		return (-1);
	if (which != -1 && (first != m->first || last != m->last))
		log_warnx("%s.j%d: written for another range; keeping the "
		    "names that fit", m->path, which);
	if (ld.ndrop > MAP_DB_DROP_LOG)
		log_warnx("%s: copy of the shared map: dropped %zu records "
		    "in all", m->path, ld.ndrop);
	if (shared) {
		if (which == -1 && map_db_open_tdb(m, err, errlen) == -1)
			return (-1);
		if (m->tdb != NULL && tdb_close(m->tdb) == -1)
			log_warn("%s: close", m->path);
		m->tdb = NULL;
		return (map_journal_start(m, gen, which, err, errlen));
	}
	if (which == -1)
		return (map_db_open_tdb(m, err, errlen));
	if (map_db_rebuild(m, NULL, err, errlen) == -1)
		return (-1);
	if (map_journal_remove(m->path) == -1) {
		map_err(err, errlen, "%s: cannot remove the copy of the "
		    "shared map (%s.j0, .j1): %s", m->path, m->path,
		    strerror(errno));
		return (-1);
	}
	log_info("%s: made from the copy of the shared map: %zu names",
	    m->path, m->count);
	return (0);
}

void
map_db_close(struct map *m)
{
	map_journal_close(m);
	if (m->tdb != NULL && tdb_close(m->tdb) == -1)
		log_warn("%s: close", m->path);
	m->tdb = NULL;
}

/* What went wrong with the file last, for a log line. */
const char *
map_db_errstr(struct map *m)
{
	if (m->jbuf != NULL)
		return (strerror(m->jerr));
	return (tdb_errorstr(m->tdb));
}

/*
 * Lock a database directory: exclusive for the daemon that uses it,
 * shared for a reader of its file; never waits.  The descriptor holds
 * the lock until it is closed.  -1 with errno EWOULDBLOCK when another
 * holds it the other way.
 */
int
map_db_lock(const char *dir, int shared)
{
	int	fd, saved_errno;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == -1) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
		return (-1);
	}
	return (fd);
}

struct map_db_walk {
	map_db_walk_cb	 fn;
	void		*arg;
	size_t		 skipped;
	int		 failed;	/* fn said so; errno is its */
};

static int
map_db_walk_record(struct tdb_context *tdb, TDB_DATA key, TDB_DATA val,
    void *arg)
{
	struct map_db_walk	*w = arg;
	char			 name[WIRE_TEXT_MAX + 1];

	(void)tdb;
	if (key.dsize == sizeof(map_db_meta_name) &&
	    memcmp(key.dptr, map_db_meta_name, key.dsize) == 0)
		return (0);
	if (key.dsize == 0 || key.dsize > WIRE_TEXT_MAX ||
	    memchr(key.dptr, '\0', key.dsize) != NULL ||
	    val.dsize != MAP_DB_REC_LEN || val.dptr[0] != MAP_DB_FORMAT) {
		w->skipped++;
		return (0);
	}
	memcpy(name, key.dptr, key.dsize);
	name[key.dsize] = '\0';
	if (w->fn(name, wire_get32(val.dptr + 4),
	    (int64_t)wire_get64(val.dptr + 8), w->arg) == -1) {
		w->failed = 1;
		return (-1);
	}
	return (0);
}

/*
 * Every record of a database file, read-only, for a file no daemon has
 * open (see map_db_lock): fn gets each name, its address (host order) and
 * its last answer; records that are not names are counted in *skipped.
 * Where the file has a journal (a gateway of a fleet), its names.
 * -1 with a message in err when the file cannot be read or fn failed.
 */
int
map_db_walk(const char *path, map_db_walk_cb fn, void *arg, size_t *skipped,
    char *err, size_t errlen)
{
	struct tdb_context	*tdb;
	struct map_db_walk	 w;
	struct stat		 st;
	uint32_t		 first, last, gen;
	int			 which;

	/* A gateway of a fleet keeps its names in the journal. */
	*skipped = 0;
	if (map_journal_walk(path, fn, arg, &first, &last, &which, &gen, err,
	    errlen) == -1)
		return (-1);
	if (which != -1)
		return (0);
	if (stat(path, &st) == -1) {
		map_err(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		map_err(err, errlen, "%s: not a regular file", path);
		return (-1);
	}
	errno = 0;
	if ((tdb = tdb_open(path, 0, MAP_DB_TDB_FLAGS, O_RDONLY, 0)) ==
	    NULL) {
		map_err(err, errlen, "%s: %s", path, errno == 0 ||
		    errno == EIO || errno == EINVAL ? "not a tdb file, or "
		    "its header is damaged" : strerror(errno));
		return (-1);
	}
	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.arg = arg;
	if (tdb_traverse_read(tdb, map_db_walk_record, &w) == -1 ||
	    w.failed) {
		map_err(err, errlen, "%s: %s", path, w.failed ?
		    strerror(errno) : tdb_errorstr(tdb));
		tdb_close(tdb);
		return (-1);
	}
	tdb_close(tdb);
	*skipped = w.skipped;
	return (0);
}
