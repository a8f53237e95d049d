/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * map_journal.c: a shared map's copy on this gateway's disk.  With the
 * map in a store, the dns process keeps what it gives and hears of in a
 * journal beside its tdb file instead of in it: a record of a few bytes a
 * name, appended in memory and written with the others of the moment
 * before their answers leave (map_flush), where a tdb insert walks the
 * name's hash chain through the mapped file.  The journal is what a
 * gateway started with the store away answers from; started alone again,
 * the gateway turns it into its tdb file and removes it.
 *
 * Two files, PATH.j0 and PATH.j1.  Each begins with a snapshot of the map
 * and goes on with the changes since, in the order the map made them:
 *
 *   header  24 bytes  "dns44jnl" [8] MAP_J_FORMAT [9-11] zero
 *                     [12-15] generation [16-19] first, [20-23] last
 *                     address of the range
 *   'P' len addr[4] answered[4] name[len]   a name at an address
 *   'D' len name[len]                       a name forgotten
 *   'S' 0 count[4]                          the snapshot's end: the
 *                                           count of 'P's before it
 *
 * Numbers are big endian; a name is as in the tdb file, 1 to 253 bytes.
 * A file counts once its snapshot is sealed by its 'S'; of two that do,
 * the later generation is read, up to its end or to the first record cut
 * short or malformed.  When the written file has grown past twice its
 * snapshot and MAP_J_SLACK more, the map is written as a snapshot of the
 * next generation over the other file, which is written from then on:
 * the one before stays whole until the next such turn.  No fsync, as for
 * the tdb file: a crash of the process loses nothing written, a crash of
 * the machine is not what the files are for.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "map_local.h"
#include "wire.h"

#define MAP_J_FORMAT	1
#define MAP_J_HDR_LEN	24
#define MAP_J_PUT_LEN	10		/* and the name */
#define MAP_J_SEAL_LEN	6
#define MAP_J_BUF	(64 * 1024)
#define MAP_J_SLACK	(1024 * 1024)	/* bytes past twice the snapshot */

static const char map_j_magic[8] = { 'd', 'n', 's', '4', '4', 'j', 'n', 'l' };

/* A record of a file being read; name points into the mapped file. */
struct map_j_rec {
	const uint8_t	*name;
	uint32_t	 seq;
	uint32_t	 addr;
	uint32_t	 answered;
	uint8_t		 len;
	uint8_t		 del;
};

/* One file as read: its header, its records, where reading stopped. */
struct map_j_file {
	uint8_t			*base;
	size_t			 size;
	uint8_t			 format;
	uint32_t		 gen;
	uint32_t		 first;
	uint32_t		 last;
	int			 sealed;
	size_t			 stop;		/* a bad record's offset */
	struct map_j_rec	*recs;
	size_t			 nrecs;
	size_t			 cap;
};

static int	map_j_path(char *, size_t, const char *, int);
static int	map_j_map(const char *, struct map_j_file *, char *, size_t);
static void	map_j_unmap(struct map_j_file *);
static int	map_j_add(struct map_j_file *, const struct map_j_rec *);
static int	map_j_parse(struct map_j_file *);
static int	map_j_cmp_name(const void *, const void *);
static int	map_j_cmp_addr(const void *, const void *);
static size_t	map_j_unique(struct map_j_rec *, size_t,
		    int (*)(const void *, const void *), int);
static int	map_j_write(struct map *, int);
static size_t	map_j_add_put(struct map *, const struct map_entry *);
static void	map_j_turn(struct map *);
static int	map_j_snapshot(struct map *, int);

static int
map_j_path(char *buf, size_t len, const char *path, int i)
{
	if ((size_t)snprintf(buf, len, "%s.j%d", path, i) >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/* A file into memory, read-only; a missing one is empty. */
static int
map_j_map(const char *path, struct map_j_file *f, char *err, size_t errlen)
{
	struct stat	st;
	void		*p;
	int		fd;

	memset(f, 0, sizeof(*f));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return (0);
		map_err(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		map_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		map_err(err, errlen, "%s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	if (st.st_size == 0) {
		close(fd);
		return (0);
	}
	if ((uint64_t)st.st_size > SIZE_MAX ||
	    (p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED) {
		map_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	f->base = p;
	f->size = st.st_size;
	return (0);
}

static void
map_j_unmap(struct map_j_file *f)
{
	if (f->base != NULL)
		munmap(f->base, f->size);
	free(f->recs);
	memset(f, 0, sizeof(*f));
}

static int
map_j_add(struct map_j_file *f, const struct map_j_rec *r)
{
	struct map_j_rec	*nr;
	size_t			 n;

	if (f->nrecs == f->cap) {
		n = f->cap == 0 ? 4096 : f->cap * 2;
		if ((nr = reallocarray(f->recs, n, sizeof(*nr))) == NULL)
			return (-1);
		f->recs = nr;
		f->cap = n;
	}
	f->recs[f->nrecs] = *r;
	f->recs[f->nrecs].seq = f->nrecs;
	f->nrecs++;
	return (0);
}

/*
 * The records of a mapped file, checked for form only: what a name or an
 * address means is the reader's to judge.  0 with f->sealed clear for a
 * file that does not count (no header, another format, which f->format
 * says, no seal); -1 when out of memory.
 */
static int
map_j_parse(struct map_j_file *f)
{
	struct map_j_rec	 r;
	const uint8_t		*p = f->base;
	size_t			 off, need, nsnap = 0;

	if (f->size < MAP_J_HDR_LEN || memcmp(p, map_j_magic,
	    sizeof(map_j_magic)) != 0)
		return (0);
	f->format = p[8];
	if (f->format != MAP_J_FORMAT)
		return (0);
	f->gen = wire_get32(p + 12);
	f->first = wire_get32(p + 16);
	f->last = wire_get32(p + 20);
	for (off = MAP_J_HDR_LEN; off < f->size; off += need) {
		memset(&r, 0, sizeof(r));
		need = 2;
		if (f->size - off < need)
			break;
		r.len = p[off + 1];
		switch (p[off]) {
		case 'P':
			need = MAP_J_PUT_LEN + r.len;
			break;
		case 'D':
			need = 2 + r.len;
			r.del = 1;
			break;
		case 'S':
			need = MAP_J_SEAL_LEN;
			break;
		default:
			need = SIZE_MAX;
			break;
		}
		if (need == SIZE_MAX || f->size - off < need)
			break;
		if (p[off] == 'S') {
			if (f->sealed || r.len != 0 ||
			    wire_get32(p + off + 2) != nsnap)
				break;
			f->sealed = 1;
			continue;
		}
		if (r.len == 0 || r.len > WIRE_TEXT_MAX ||
		    (!f->sealed && r.del))
			break;
		if (r.del)
			r.name = p + off + 2;
		else {
			r.addr = wire_get32(p + off + 2);
			r.answered = wire_get32(p + off + 6);
			r.name = p + off + MAP_J_PUT_LEN;
		}
		if (memchr(r.name, '\0', r.len) != NULL)
			break;
		if (map_j_add(f, &r) == -1)
			return (-1);
		if (!f->sealed)
			nsnap++;
	}
	if (off < f->size)
		f->stop = off;
	return (0);
}

/* By name, the latest first. */
static int
map_j_cmp_name(const void *a, const void *b)
{
	const struct map_j_rec	*ra = a, *rb = b;
	int			 c;

	if ((c = memcmp(ra->name, rb->name, ra->len < rb->len ? ra->len :
	    rb->len)) != 0)
		return (c);
	if (ra->len != rb->len)
		return (ra->len < rb->len ? -1 : 1);
	return ((rb->seq > ra->seq) - (rb->seq < ra->seq));
}

/* By address, the latest first. */
static int
map_j_cmp_addr(const void *a, const void *b)
{
	const struct map_j_rec	*ra = a, *rb = b;

	if (ra->addr != rb->addr)
		return ((ra->addr > rb->addr) - (ra->addr < rb->addr));
	return ((rb->seq > ra->seq) - (rb->seq < ra->seq));
}

/*
 * The latest record of each run of equal keys, sorted; by name, a name's
 * latest record saying it was forgotten leaves nothing.
 */
static size_t
map_j_unique(struct map_j_rec *v, size_t n,
    int (*cmp)(const void *, const void *), int byname)
{
	size_t	i, o = 0;

	qsort(v, n, sizeof(*v), cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && (byname ? v[i].len == v[i - 1].len &&
		    memcmp(v[i].name, v[i - 1].name, v[i].len) == 0 :
		    v[i].addr == v[i - 1].addr))
			continue;
		if (!v[i].del)
			v[o++] = v[i];
	}
	return (o);
}

/*
 * Read the journal of the map file path: fn gets each name it holds, its
 * address and its last answer, the latest record of a name and of an
 * address winning; *first and *last say the range it was written for.
 * *which is the file read, 0 or 1, or -1 when neither counts (fn not
 * called); *gen is the latest generation either file has.  -1 with a
 * message in err when a file cannot be read or fn failed (errno is then
 * its).
 */
int
map_journal_walk(const char *path, map_db_walk_cb fn, void *arg,
    uint32_t *first, uint32_t *last, int *which, uint32_t *gen, char *err,
    size_t errlen)
{
	struct map_j_file	 f[2], *use = NULL;
	char			 jpath[PATH_MAX], name[WIRE_TEXT_MAX + 1];
	size_t			 i, n;
	int			 rc = -1;

	memset(f, 0, sizeof(f));
	*which = -1;
	*gen = 0;
	for (i = 0; i < 2; i++) {
		if (map_j_path(jpath, sizeof(jpath), path, i) == -1) {
			map_err(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (map_j_map(jpath, &f[i], err, errlen) == -1)
			goto done;
		if (f[i].base == NULL)
			continue;
		if (map_j_parse(&f[i]) == -1) {
			map_err(err, errlen, "%s: %s", jpath,
			    strerror(ENOMEM));
			errno = ENOMEM;
			goto done;
		}
		/* Not rewritten by an older dns44, as the tdb file is not. */
		if (f[i].format > MAP_J_FORMAT) {
			map_err(err, errlen, "%s: format version %u, this "
			    "dns44 reads version %u", jpath, f[i].format,
			    MAP_J_FORMAT);
			errno = EINVAL;
			goto done;
		}
		if (f[i].gen > *gen)
			*gen = f[i].gen;
		if (!f[i].sealed)
			log_warnx("%s: not a copy of the shared map, or not "
			    "whole; not read", jpath);
		else if (use == NULL || f[i].gen > use->gen)
			use = &f[i];
	}
	rc = 0;
	if (use == NULL)
		goto done;
	if (use->stop != 0)
		log_warnx("%s.j%d: a record cut short or malformed at offset "
		    "%zu; the %zu bytes from there are not read", path,
		    (int)(use - f), use->stop, use->size - use->stop);
	*which = use - f;
	*first = use->first;
	*last = use->last;
	n = map_j_unique(use->recs, use->nrecs, map_j_cmp_name, 1);
	n = map_j_unique(use->recs, n, map_j_cmp_addr, 0);
	for (i = 0; i < n; i++) {
		memcpy(name, use->recs[i].name, use->recs[i].len);
		name[use->recs[i].len] = '\0';
		if (fn(name, use->recs[i].addr, use->recs[i].answered,
		    arg) == -1) {
			map_err(err, errlen, "%s: %s", path,
			    strerror(errno));
			rc = -1;
			break;
		}
	}
 done:
	map_j_unmap(&f[0]);
	map_j_unmap(&f[1]);
	return (rc);
}

/* Remove both files of the journal of path: its names are elsewhere. */
int
map_journal_remove(const char *path)
{
	char	jpath[PATH_MAX];
	int	i;

	for (i = 0; i < 2; i++)
		if (map_j_path(jpath, sizeof(jpath), path, i) == -1 ||
		    (unlink(jpath) == -1 && errno != ENOENT))
			return (-1);
	return (0);
}

/*
 * Keep the map's copy in its journal from now on: both files opened (the
 * process may not open files later), and the map as it is written as a
 * snapshot of generation gen + 1 over the file that does not hold the one
 * read, if any (read: which, 0 or 1; -1 for none).
 */
int
map_journal_start(struct map *m, uint32_t gen, int read, char *err,
    size_t errlen)
{
	char	jpath[PATH_MAX];
	int	i;

	m->jfd[0] = m->jfd[1] = -1;
	if ((m->jbuf = malloc(MAP_J_BUF)) == NULL) {
		map_err(err, errlen, "%s: %s", m->path, strerror(ENOMEM));
		return (-1);
	}
	for (i = 0; i < 2; i++) {
		if (map_j_path(jpath, sizeof(jpath), m->path, i) == -1 ||
		    (m->jfd[i] = open(jpath, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1) {
			map_err(err, errlen, "%s.j%d: %s", m->path, i,
			    strerror(errno));
			return (-1);
		}
	}
	m->jgen = gen;
	m->jcur = read == 0 ? 1 : 0;
	if (map_j_snapshot(m, m->jcur) == -1) {
		map_err(err, errlen, "%s.j%d: %s", m->path, m->jcur,
		    strerror(m->jerr));
		errno = m->jerr;
		return (-1);
	}
	return (0);
}

void
map_journal_close(struct map *m)
{
	int	i;

	if (m->jbuf == NULL)
		return;
	(void)map_journal_flush(m);
	for (i = 0; i < 2; i++)
		if (m->jfd[i] != -1)
			close(m->jfd[i]);
	free(m->jbuf);
	m->jbuf = NULL;
}

/* The buffer to fd; emptied whatever happens. */
static int
map_j_write(struct map *m, int fd)
{
	size_t	off = 0;
	ssize_t	n;
	int	rc = 0;

	while (off < m->jlen) {
		if ((n = write(fd, m->jbuf + off, m->jlen - off)) == -1) {
			if (errno == EINTR)
				continue;
			m->jerr = errno;
			rc = -1;
			break;
		}
		off += n;
	}
	if (fd == m->jfd[m->jcur])
		m->jsize += off;
	m->jlen = 0;
	return (rc);
}

/* Room for need more bytes in the buffer: written to the file first. */
static int
map_j_room(struct map *m, size_t need)
{
	if (m->jlen + need <= MAP_J_BUF)
		return (0);
	return (map_j_write(m, m->jfd[m->jcur]));
}

/* e's 'P' record into the buffer, which has room for it; its length. */
static size_t
map_j_add_put(struct map *m, const struct map_entry *e)
{
	size_t	 len = strlen(e->name);
	uint8_t	*p = m->jbuf + m->jlen;

	p[0] = 'P';
	p[1] = len;
	wire_put32(p + 2, e->addr);
	wire_put32(p + 6, e->answered);
	memcpy(p + MAP_J_PUT_LEN, e->name, len);
	m->jlen += MAP_J_PUT_LEN + len;
	return (MAP_J_PUT_LEN + len);
}

int
map_journal_put(struct map *m, const struct map_entry *e)
{
	int	rc;

	rc = map_j_room(m, MAP_J_PUT_LEN + strlen(e->name));
	(void)map_j_add_put(m, e);
	return (rc);
}

int
map_journal_del(struct map *m, const char *name)
{
	size_t	 len = strlen(name);
	uint8_t	*p;
	int	 rc;

	rc = map_j_room(m, 2 + len);
	p = m->jbuf + m->jlen;
	p[0] = 'D';
	p[1] = len;
	memcpy(p + 2, name, len);
	m->jlen += 2 + len;
	return (rc);
}

/*
 * What the map made since the last time, to the file: before an answer
 * that depends on it leaves.  Then, past the size, the other file.
 */
int
map_journal_flush(struct map *m)
{
	if (m->jlen > 0 && map_j_write(m, m->jfd[m->jcur]) == -1)
		return (-1);
	if (m->jsize > 2 * m->jsnap + MAP_J_SLACK)
		map_j_turn(m);
	return (0);
}

/*
 * A snapshot over the other file, which is written from then on.  If it
 * fails the file in use stays so, and the next try waits until it has
 * grown as much again.
 */
static void
map_j_turn(struct map *m)
{
	int	next = !m->jcur;

	if (map_j_snapshot(m, next) == -1) {
		log_warnx("%s.j%d: cannot write a snapshot of the map: %s",
		    m->path, next, strerror(m->jerr));
		m->jsnap = m->jsize;
		return;
	}
	log_debug("%s.j%d: snapshot of %zu names, generation %u", m->path,
	    next, m->count, m->jgen);
}

/* The map as generation jgen + 1 over file i; then i is written. */
static int
map_j_snapshot(struct map *m, int i)
{
	struct map_entry	*e;
	uint8_t			*p;
	size_t			 n = 0, total;
	int			 fd = m->jfd[i];

	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		m->jerr = errno;
		return (-1);
	}
	p = m->jbuf;
	memcpy(p, map_j_magic, sizeof(map_j_magic));
	p[8] = MAP_J_FORMAT;
	p[9] = p[10] = p[11] = 0;
	wire_put32(p + 12, m->jgen + 1);
	wire_put32(p + 16, m->first);
	wire_put32(p + 20, m->last);
	m->jlen = MAP_J_HDR_LEN;
	total = m->jlen;
	for (e = map_first(m); e != NULL; e = map_next(m, e)) {
		if (m->jlen + MAP_J_PUT_LEN + WIRE_TEXT_MAX > MAP_J_BUF &&
		    map_j_write(m, fd) == -1)
			return (-1);
		total += map_j_add_put(m, e);
		n++;
	}
	if (m->jlen + MAP_J_SEAL_LEN > MAP_J_BUF && map_j_write(m, fd) == -1)
		return (-1);
	p = m->jbuf + m->jlen;
	p[0] = 'S';
	p[1] = 0;
	wire_put32(p + 2, n);
	m->jlen += MAP_J_SEAL_LEN;
	total += MAP_J_SEAL_LEN;
	if (map_j_write(m, fd) == -1)
		return (-1);
	m->jgen++;
	m->jcur = i;
	m->jsize = m->jsnap = total;
	return (0);
}
