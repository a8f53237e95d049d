/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * maptest.c: unit tests of the map (src/map*.c) and of its
 * hash (src/siphash.c): name normalisation, the choice of addresses, the
 * file that keeps the map across restarts, the reuse of old entries when
 * the range is full, fairness between clients (a flood recycles the
 * flooder's own entries, a forwarder alone uses the whole range, a rate of
 * new names), damaged files, a shared map's journal, and a million names
 * kept and found both ways
 * (skipped when MAPTEST_QUICK is set).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <tdb.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "siphash.h"
#include "../lib/test.h"

#define T0		((time_t)1700000000)
#define HOLD		960		/* ttl 900 + grace 60 */
#define IP(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))

struct evictions {
	int		 n;
	uint32_t	 addr;
	char		 name[WIRE_TEXT_MAX + 1];
};

static char		 tmpdir[] = "/tmp/maptest.XXXXXX";
static struct evictions	 ev;

static const char	*dbfile(const char *);
static void		 on_evict(const struct map_entry *, void *);
static struct map	*mopen_any(const char *, int, uint32_t, uint32_t);
static struct map	*mopen(const char *, uint32_t, uint32_t);
static int		 read_file(const char *, unsigned char **, size_t *);
static int		 write_file(const char *, const void *, size_t);
static void		 test_siphash(void);
static void		 test_normalize(void);
static void		 test_basic(void);
static void		 test_lost(void);
static void		 test_golden(void);
static void		 test_evict(void);
static void		 test_pin(void);
static void		 test_remove(void);
static void		 test_sync(void);
static void		 test_damaged(void);
static void		 test_killed(void);
static void		 test_shrink(void);
static void		 test_bad_records(void);
static void		 test_fair_flood(void);
static void		 test_fair_forwarder(void);
static void		 test_fair_order(void);
static void		 test_fair_shared(void);
static void		 test_fair_rate(void);
static void		 test_fair_sweep(void);
static void		 test_fair_rest(void);
static void		 test_shared(void);
static struct map	*jopen(const char *, uint32_t, uint32_t);
static size_t		 jrec(uint8_t *, int, const char *, uint32_t,
			    uint32_t);
static size_t		 jhead(uint8_t *, uint32_t, uint32_t, uint32_t);
static int		 walk_count(const char *, uint32_t, int64_t, void *);
static uint32_t		 jgen(void);
static void		 jold(const char *, uint32_t, uint32_t);
static void		 test_journal(void);
static void		 test_journal_files(void);
static void		 million_name(char *, size_t, int);
static int		 million_lost(struct map *, const uint32_t *, int);
static void		 test_million(void);
static void		 cleanup(void);

static const char *
dbfile(const char *name)
{
	static char	path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return (path);
}

static void
on_evict(const struct map_entry *e, void *arg)
{
	struct evictions	*x = arg;

	x->n++;
	x->addr = e->addr;
	strlcpy(x->name, e->name, sizeof(x->name));
}

/* A map of the file in tmpdir; shared: kept in a journal beside it. */
static struct map *
mopen_any(const char *file, int shared, uint32_t first, uint32_t last)
{
	struct map	*m;
	char		 err[512];

	err[0] = '\0';
	m = (shared ? map_open_shared : map_open)(dbfile(file), first, last,
	    on_evict, &ev, err, sizeof(err));
	if (m == NULL)
		fprintf(stderr, "map_open: %s\n", err);
	return (m);
}

static struct map *
mopen(const char *file, uint32_t first, uint32_t last)
{
	return (mopen_any(file, 0, first, last));
}

static int
read_file(const char *path, unsigned char **buf, size_t *len)
{
	struct stat	 st;
	int		 fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || (*buf = malloc(st.st_size + 1)) == NULL ||
	    read(fd, *buf, st.st_size) != st.st_size) {
		free(*buf);
		close(fd);
		return (-1);
	}
	*len = st.st_size;
	close(fd);
	return (0);
}

static int
write_file(const char *path, const void *buf, size_t len)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return (-1);
	if (write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return (-1);
	}
	return (close(fd));
}

/* The test vectors of the SipHash paper: key 00..0f, message 00..n-1. */
static void
test_siphash(void)
{
	uint8_t	key[16], msg[64];
	int	i;

	for (i = 0; i < 16; i++)
		key[i] = i;
	for (i = 0; i < 64; i++)
		msg[i] = i;
	CHECK(siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK(siphash(key, msg, 1) == 0x74f839c593dc67fdULL);
	CHECK(siphash(key, msg, 8) == 0x93f5f5799a932462ULL);
	CHECK(siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

static void
test_normalize(void)
{
	char	out[WIRE_TEXT_MAX + 1], in[600];
	int	i;

	CHECK_EQ(map_normalize("WWW.Example.COM.", out, sizeof(out)), 0);
	CHECK(strcmp(out, "www.example.com") == 0);
	CHECK_EQ(map_normalize("example.com", out, sizeof(out)), 0);
	CHECK(strcmp(out, "example.com") == 0);
	CHECK_EQ(map_normalize("_dmarc.x-Y.org", out, sizeof(out)), 0);
	CHECK(strcmp(out, "_dmarc.x-y.org") == 0);
	CHECK_EQ(map_normalize("localhost", out, sizeof(out)), 0);

	CHECK_EQ(map_normalize("", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize(".", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize("..", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize("example.com..", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize(".example.com", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize("a..b", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize("a b.com", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize("a\nb.com", out, sizeof(out)), -1);
	CHECK_EQ(map_normalize("caf\xc3\xa9.fr", out, sizeof(out)), -1);

	/* Labels of 63 and 64 characters. */
	memset(in, 'A', 63);
	strlcpy(in + 63, ".com", sizeof(in) - 63);
	CHECK_EQ(map_normalize(in, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), 67);
	CHECK(out[0] == 'a');
	memset(in, 'a', 64);
	strlcpy(in + 64, ".com", sizeof(in) - 64);
	CHECK_EQ(map_normalize(in, out, sizeof(out)), -1);
	strlcpy(in, "www.", sizeof(in));
	memset(in + 4, 'a', 64);
	strlcpy(in + 68, ".com", sizeof(in) - 68);
	CHECK_EQ(map_normalize(in, out, sizeof(out)), -1);

	/* 253 characters, with and without the final dot; then 254. */
	in[0] = '\0';
	for (i = 0; i < 3; i++) {
		memset(in + i * 64, 'b', 63);
		in[i * 64 + 63] = '.';
	}
	memset(in + 192, 'c', 61);
	in[253] = '\0';
	CHECK_EQ(map_normalize(in, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), 253);
	in[253] = '.';
	in[254] = '\0';
	CHECK_EQ(map_normalize(in, out, sizeof(out)), 0);
	CHECK_EQ(strlen(out), 253);
	in[253] = 'c';
	CHECK_EQ(map_normalize(in, out, sizeof(out)), -1);
	memset(in, 'd', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	CHECK_EQ(map_normalize(in, out, sizeof(out)), -1);

	/* Too small a buffer; the same buffer in and out. */
	CHECK_EQ(map_normalize("example.com", out, 11), -1);
	CHECK_EQ(map_normalize("example.com", out, 12), 0);
	strlcpy(in, "MiXeD.Case.", sizeof(in));
	CHECK_EQ(map_normalize(in, in, sizeof(in)), 0);
	CHECK(strcmp(in, "mixed.case") == 0);
}

/* 1000 names in a /16: distinct, in range, found both ways, kept. */
static void
test_basic(void)
{
	struct map		*m;
	struct map_entry	*e, *e2;
	uint32_t		 first = IP(10, 1, 0, 1);
	uint32_t		 last = IP(10, 1, 255, 254);
	uint32_t		 addrs[1000], order[1000];
	unsigned char		*seen;
	char			 name[64], norm[WIRE_TEXT_MAX + 1];
	time_t			 prev;
	int			 i, distinct = 1, inrange = 1, n;

	if ((m = mopen("basic.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 0);
	CHECK_EQ(map_size(m), 65534);
	CHECK(map_first(m) == NULL);
	seen = calloc(map_size(m), 1);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example.com", i);
		e = map_assign(m, name, T0 + i, HOLD);
		CHECK(e != NULL);
		if (e == NULL)
			continue;
		CHECK_EQ(e->answered, T0 + i);
		CHECK_EQ(e->conns, 0);
		if (e->addr < first || e->addr > last)
			inrange = 0;
		else if (seen[e->addr - first]++)
			distinct = 0;
		addrs[i] = e->addr;
	}
	CHECK(inrange);
	CHECK(distinct);
	CHECK_EQ(map_count(m), 1000);
	free(seen);

	/* Any case, with or without the final dot: the same entry. */
	CHECK_EQ(map_normalize("HOST5.Example.COM.", norm, sizeof(norm)), 0);
	e = map_assign(m, norm, T0 + 2000, HOLD);
	CHECK(e != NULL && e->addr == addrs[5]);
	CHECK_EQ(map_count(m), 1000);
	CHECK(map_first(m) == e);
	CHECK_EQ(map_normalize("host5.example.com", norm, sizeof(norm)), 0);
	CHECK(map_lookup_name(m, norm) == e);

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example.com", i);
		e = map_lookup_name(m, name);
		e2 = map_lookup_addr(m, addrs[i]);
		CHECK(e != NULL && e == e2);
		if (e != NULL)
			CHECK(strcmp(e->name, name) == 0);
	}
	CHECK(map_lookup_name(m, "nothere.example.com") == NULL);
	CHECK(map_lookup_name(m, "") == NULL);
	errno = 0;
	CHECK(map_assign(m, "", T0, HOLD) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(map_lookup_addr(m, first - 1) == NULL);
	CHECK(map_lookup_addr(m, last + 1) == NULL);

	/* Walk: most recently answered first, every entry once. */
	n = 0;
	prev = T0 + 10000;
	for (e = map_first(m); e != NULL; e = map_next(m, e)) {
		CHECK(e->answered <= prev);
		prev = e->answered;
		order[n++] = e->addr;
		if (n == 1000)
			break;
	}
	CHECK_EQ(n, 1000);
	CHECK(order[0] == addrs[5]);
	CHECK(order[1] == addrs[999]);
	CHECK(order[999] == addrs[0]);
	map_close(m);

	/* Restart: every mapping, time and the order as they were. */
	if ((m = mopen("basic.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example.com", i);
		e = map_lookup_name(m, name);
		CHECK(e != NULL);
		if (e == NULL)
			continue;
		CHECK_EQ(e->addr, addrs[i]);
		CHECK_EQ(e->answered, i == 5 ? T0 + 2000 : T0 + i);
		CHECK(map_lookup_addr(m, addrs[i]) == e);
	}
	n = 0;
	for (e = map_first(m); e != NULL && n < 1000; e = map_next(m, e))
		if (e->addr != order[n++])
			break;
	CHECK_EQ(n, 1000);
	map_close(m);
}

/* A lost file gives names their old addresses again, mostly. */
static void
test_lost(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(10, 2, 0, 1);
	uint32_t		 last = IP(10, 2, 255, 254);
	uint32_t		 addrs[100];
	char			 name[64];
	int			 i, pass, same;

	if ((m = mopen("lost.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "site%d.example.org", i);
		e = map_assign(m, name, T0, HOLD);
		addrs[i] = e != NULL ? e->addr : 0;
	}
	map_close(m);

	/* The same order, then the reverse order. */
	for (pass = 0; pass < 2; pass++) {
		CHECK_EQ(unlink(dbfile("lost.tdb")), 0);
		if ((m = mopen("lost.tdb", first, last)) == NULL) {
			CHECK(0);
			return;
		}
		CHECK_EQ(map_count(m), 0);
		same = 0;
		for (i = 0; i < 100; i++) {
			int j = pass == 0 ? i : 99 - i;

			snprintf(name, sizeof(name), "site%d.example.org", j);
			e = map_assign(m, name, T0, HOLD);
			if (e != NULL && e->addr == addrs[j])
				same++;
		}
		printf("lost database, %s order: %d of 100 names on the "
		    "same address\n", pass == 0 ? "same" : "reverse", same);
		CHECK(same >= 90);
		map_close(m);
	}
}

/*
 * The first candidate of a name never changes between versions: a lost
 * file would otherwise move every name.
 */
static void
test_golden(void)
{
	struct map		*m;
	struct map_entry	*e;

	if ((m = mopen("golden.tdb", IP(172, 24, 0, 1),
	    IP(172, 24, 255, 254))) == NULL) {
		CHECK(0);
		return;
	}
	e = map_assign(m, "example.com", T0, HOLD);
	CHECK(e != NULL && e->addr == IP(172, 24, 3, 160));
	e = map_assign(m, "www.google.com", T0, HOLD);
	CHECK(e != NULL && e->addr == IP(172, 24, 1, 211));
	e = map_assign(m, "a.b", T0, HOLD);
	CHECK(e != NULL && e->addr == IP(172, 24, 141, 62));
	map_close(m);
}

/* A /28 and 300 names: reuse of the least recently answered. */
static void
test_evict(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(192, 168, 100, 1);
	uint32_t		 last = IP(192, 168, 100, 14), a1;
	char			 name[64];
	time_t			 now;
	int			 i, ok, gone;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("evict.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_size(m), 14);
	for (i = 0; i < 14; i++) {
		snprintf(name, sizeof(name), "n%03d.test", i);
		CHECK(map_assign(m, name, T0 + i, HOLD) != NULL);
	}
	CHECK_EQ(map_count(m), 14);

	/* Full, nothing old enough. */
	errno = 0;
	CHECK(map_assign(m, "n014.test", T0 + 14, HOLD) == NULL);
	CHECK_EQ(errno, ENOSPC);
	CHECK_EQ(ev.n, 0);
	CHECK(map_lookup_name(m, "n014.test") == NULL);

	/* n000 answered again: n001 becomes the oldest. */
	CHECK(map_assign(m, "n000.test", T0 + 20, HOLD) != NULL);
	e = map_lookup_name(m, "n001.test");
	a1 = e != NULL ? e->addr : 0;

	/* One second short of n001's hold, then on it. */
	errno = 0;
	CHECK(map_assign(m, "n014.test", T0 + 1 + HOLD - 1, HOLD) == NULL);
	CHECK_EQ(errno, ENOSPC);
	e = map_assign(m, "n014.test", T0 + 1 + HOLD, HOLD);
	CHECK(e != NULL && e->addr == a1);
	CHECK_EQ(ev.n, 1);
	CHECK(strcmp(ev.name, "n001.test") == 0);
	CHECK_EQ(ev.addr, a1);
	CHECK(map_lookup_name(m, "n001.test") == NULL);
	CHECK(map_lookup_name(m, "n014.test") == e);
	CHECK(map_lookup_addr(m, a1) == e);
	CHECK_EQ(map_count(m), 14);

	/* n002 is not old enough yet; n000 was answered again. */
	errno = 0;
	CHECK(map_assign(m, "n015.test", T0 + 1 + HOLD, HOLD) == NULL);
	CHECK_EQ(errno, ENOSPC);
	for (i = 15; i < 27; i++) {
		snprintf(name, sizeof(name), "n%03d.test", i);
		CHECK(map_assign(m, name, T0 + 13 + HOLD, HOLD) != NULL);
	}
	/* n002..n013 went; n000 is still within its hold. */
	CHECK_EQ(ev.n, 13);
	CHECK(map_lookup_name(m, "n000.test") != NULL);
	errno = 0;
	CHECK(map_assign(m, "n027.test", T0 + 19 + HOLD, HOLD) == NULL);
	CHECK_EQ(errno, ENOSPC);
	CHECK(map_assign(m, "n027.test", T0 + 20 + HOLD, HOLD) != NULL);
	CHECK(strcmp(ev.name, "n000.test") == 0);
	CHECK_EQ(ev.n, 14);

	/* The rest, 100 s apart, once all are old: each takes the oldest. */
	ok = gone = 1;
	now = T0 + 20 + 2 * HOLD;
	for (i = 28; i < 300; i++) {
		now += 100;
		snprintf(name, sizeof(name), "n%03d.test", i);
		e = map_assign(m, name, now, HOLD);
		if (e == NULL || e->addr < first || e->addr > last)
			ok = 0;
		if (map_lookup_name(m, ev.name) != NULL)
			gone = 0;
	}
	CHECK(ok);
	CHECK(gone);
	CHECK_EQ(ev.n, 300 - 14);
	CHECK_EQ(map_count(m), 14);
	map_close(m);

	/* On disk too: only the last 14 names. */
	if ((m = mopen("evict.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 14);
	ok = 1;
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%03d.test", i);
		if ((map_lookup_name(m, name) != NULL) != (i >= 286))
			ok = 0;
	}
	CHECK(ok);
	map_close(m);
}

/* A pinned entry is never reused, however old. */
static void
test_pin(void)
{
	struct map		*m;
	struct map_entry	*e, *n0;
	uint32_t		 first = IP(192, 168, 101, 1);
	uint32_t		 last = IP(192, 168, 101, 14);
	char			 name[64];
	int			 i;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("pin.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 14; i++) {
		snprintf(name, sizeof(name), "p%03d.test", i);
		CHECK(map_assign(m, name, T0 + i, HOLD) != NULL);
	}
	n0 = map_lookup_name(m, "p000.test");
	CHECK(n0 != NULL);
	if (n0 == NULL)
		return;
	map_pin(m, n0);
	map_pin(m, n0);
	map_unpin(m, n0);
	CHECK_EQ(n0->conns, 1);
	CHECK_EQ(map_pinned(m), 1);

	CHECK(map_assign(m, "new1.test", T0 + 5000, HOLD) != NULL);
	CHECK_EQ(ev.n, 1);
	CHECK(strcmp(ev.name, "p001.test") == 0);
	CHECK(map_lookup_name(m, "p000.test") == n0);

	/* Every entry pinned: nothing to reuse. */
	for (e = map_first(m); e != NULL; e = map_next(m, e))
		map_pin(m, e);
	errno = 0;
	CHECK(map_assign(m, "new2.test", T0 + 100000, HOLD) == NULL);
	CHECK_EQ(errno, ENOSPC);
	CHECK_EQ(ev.n, 1);
	CHECK_EQ(map_pinned(m), 14);

	for (e = map_first(m); e != NULL; e = map_next(m, e))
		while (e->conns > 0)
			map_unpin(m, e);
	map_unpin(m, n0);
	CHECK_EQ(n0->conns, 0);
	CHECK_EQ(map_pinned(m), 0);
	e = map_assign(m, "new2.test", T0 + 100000, HOLD);
	CHECK(e != NULL);
	CHECK_EQ(ev.n, 2);
	CHECK(strcmp(ev.name, "p000.test") == 0);
	map_close(m);
}

/* map_remove: refused while pinned, gone from memory and disk after. */
static void
test_remove(void)
{
	struct map		*m;
	struct map_entry	*a, *b;
	uint32_t		 first = IP(10, 3, 0, 1);
	uint32_t		 last = IP(10, 3, 0, 254);
	uint32_t		 baddr;

	if ((m = mopen("remove.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	a = map_assign(m, "a.test", T0, HOLD);
	b = map_assign(m, "b.test", T0, HOLD);
	CHECK(map_assign(m, "c.test", T0, HOLD) != NULL);
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	baddr = b->addr;
	map_pin(m, b);
	errno = 0;
	CHECK_EQ(map_remove(m, b), -1);
	CHECK_EQ(errno, EBUSY);
	CHECK(map_lookup_name(m, "b.test") == b);
	map_unpin(m, b);
	CHECK_EQ(map_remove(m, b), 0);
	CHECK(map_lookup_name(m, "b.test") == NULL);
	CHECK(map_lookup_addr(m, baddr) == NULL);
	CHECK_EQ(map_count(m), 2);
	map_close(m);

	if ((m = mopen("remove.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 2);
	CHECK(map_lookup_name(m, "a.test") != NULL);
	CHECK(map_lookup_name(m, "b.test") == NULL);
	CHECK(map_lookup_name(m, "c.test") != NULL);
	map_close(m);
}

/*
 * A child that dies without map_close: new names are on disk, answered
 * times are there only if map_sync ran.
 */
static void
test_sync(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(10, 4, 0, 1);
	uint32_t		 last = IP(10, 4, 0, 254);
	pid_t			 pid;
	int			 status;

	if ((pid = fork()) == -1) {
		CHECK(0);
		return;
	}
	if (pid == 0) {
		if ((m = mopen("sync.tdb", first, last)) == NULL)
			_exit(1);
		if (map_assign(m, "x.test", T0, HOLD) == NULL ||
		    map_assign(m, "y.test", T0, HOLD) == NULL ||
		    map_assign(m, "x.test", T0 + 500, HOLD) == NULL ||
		    map_sync(m) == -1 ||
		    map_assign(m, "y.test", T0 + 700, HOLD) == NULL ||
		    map_assign(m, "z.test", T0 + 800, HOLD) == NULL)
			_exit(1);
		_exit(0);		/* a crash: no map_close */
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	if ((m = mopen("sync.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 3);
	e = map_lookup_name(m, "x.test");
	CHECK(e != NULL && e->answered == T0 + 500);
	e = map_lookup_name(m, "y.test");
	CHECK(e != NULL && e->answered == T0);
	e = map_lookup_name(m, "z.test");
	CHECK(e != NULL && e->answered == T0 + 800);
	CHECK(map_first(m) == e);

	/* Now a sync of y, then a clean close of the rest. */
	CHECK(map_assign(m, "y.test", T0 + 900, HOLD) != NULL);
	CHECK_EQ(map_sync(m), 0);
	CHECK(map_assign(m, "x.test", T0 + 950, HOLD) != NULL);
	map_close(m);
	if ((m = mopen("sync.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	e = map_lookup_name(m, "y.test");
	CHECK(e != NULL && e->answered == T0 + 900);
	e = map_lookup_name(m, "x.test");
	CHECK(e != NULL && e->answered == T0 + 950);
	CHECK(map_first(m) == e);
	map_close(m);
}

/*
 * Garbage and a cut header: refused with a message, left as they were.  A
 * file cut further on: rebuilt from what it still holds, the cut one kept
 * aside.
 */
static void
test_damaged(void)
{
	struct map		*m;
	struct map_entry	*e;
	unsigned char		 garbage[8192], *whole, *back;
	uint32_t		 first = IP(10, 5, 0, 1), last = IP(10, 5, 255, 254);
	uint32_t		 x = 12345, addrs[1000];
	size_t			 len, backlen, cuts[8], kept;
	char			 err[512], name[64];
	int			 i, j, refused, rebuilt, same;

	for (i = 0; i < (int)sizeof(garbage); i++) {
		x = x * 1103515245 + 12345;
		garbage[i] = x >> 16;
	}
	CHECK_EQ(write_file(dbfile("garbage.tdb"), garbage, sizeof(garbage)),
	    0);
	err[0] = '\0';
	m = map_open(dbfile("garbage.tdb"), first, last, NULL, NULL, err,
	    sizeof(err));
	CHECK(m == NULL);
	CHECK(strstr(err, dbfile("garbage.tdb")) != NULL);
	printf("garbage file: %s\n", err);
	CHECK_EQ(read_file(dbfile("garbage.tdb"), &back, &backlen), 0);
	CHECK(backlen == sizeof(garbage) &&
	    memcmp(back, garbage, backlen) == 0);
	free(back);

	CHECK_EQ(write_file(dbfile("short.tdb"), "not a tdb\n", 10), 0);
	err[0] = '\0';
	CHECK(map_open(dbfile("short.tdb"), first, last, NULL, NULL, err,
	    sizeof(err)) == NULL);
	CHECK(err[0] != '\0');

	/* A directory in the way. */
	CHECK_EQ(mkdir(dbfile("dir.tdb"), 0700), 0);
	CHECK(map_open(dbfile("dir.tdb"), first, last, NULL, NULL, err,
	    sizeof(err)) == NULL);
	rmdir(dbfile("dir.tdb"));

	/* An empty file is a new map. */
	CHECK_EQ(write_file(dbfile("empty.tdb"), "", 0), 0);
	if ((m = mopen("empty.tdb", first, last)) != NULL) {
		CHECK(map_assign(m, "e.test", T0, HOLD) != NULL);
		map_close(m);
	} else
		CHECK(0);

	/* A good file, then cut at many places. */
	if ((m = mopen("whole.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "w%d.example.net", i);
		e = map_assign(m, name, T0 + i, HOLD);
		CHECK(e != NULL);
		addrs[i] = e != NULL ? e->addr : 0;
	}
	map_close(m);
	if (read_file(dbfile("whole.tdb"), &whole, &len) == -1) {
		CHECK(0);
		return;
	}
	cuts[0] = 20;
	cuts[1] = 200;
	cuts[2] = 4000;
	cuts[3] = len / 4;
	cuts[4] = len / 2;
	cuts[5] = len * 3 / 4;
	cuts[6] = len - 100;
	cuts[7] = len - 1;
	refused = rebuilt = 0;
	for (i = 0; i < 8; i++) {
		unlink(dbfile("cut.tdb.damaged"));
		CHECK_EQ(write_file(dbfile("cut.tdb"), whole, cuts[i]), 0);
		err[0] = '\0';
		m = map_open(dbfile("cut.tdb"), first, last, NULL, NULL, err,
		    sizeof(err));
		if (m == NULL) {
			/* Refused: a message, the file as it was. */
			CHECK(strstr(err, dbfile("cut.tdb")) != NULL);
			CHECK_EQ(read_file(dbfile("cut.tdb"), &back, &backlen),
			    0);
			CHECK(backlen == cuts[i] &&
			    memcmp(back, whole, backlen) == 0);
			free(back);
			printf("cut at %zu of %zu bytes: refused: %s\n",
			    cuts[i], len, err);
			refused++;
			continue;
		}
		/* Rebuilt: the cut file kept aside, every name it still had
		 * on the address it had. */
		rebuilt++;
		CHECK_EQ(read_file(dbfile("cut.tdb.damaged"), &back, &backlen),
		    0);
		CHECK(backlen == cuts[i] && memcmp(back, whole, backlen) == 0);
		free(back);
		kept = map_count(m);
		CHECK(kept <= 1000);
		same = 0;
		for (j = 0; j < 1000; j++) {
			snprintf(name, sizeof(name), "w%d.example.net", j);
			if ((e = map_lookup_name(m, name)) != NULL &&
			    e->addr == addrs[j] && e->answered == T0 + j)
				same++;
		}
		CHECK_EQ(same, (int)kept);
		map_close(m);
		printf("cut at %zu of %zu bytes: rebuilt with %zu of 1000 "
		    "names, all on their addresses\n", cuts[i], len, kept);

		/* The rebuilt file is sound: it loads without a rebuild. */
		unlink(dbfile("cut.tdb.damaged"));
		if ((m = mopen("cut.tdb", first, last)) == NULL) {
			CHECK(0);
			continue;
		}
		CHECK_EQ(map_count(m), kept);
		CHECK(access(dbfile("cut.tdb.damaged"), F_OK) == -1);
		map_close(m);
	}
	/* A cut header is refused, a cut near the end loses almost
	 * nothing. */
	CHECK(refused >= 1);
	CHECK(rebuilt >= 3);
	CHECK_EQ(refused + rebuilt, 8);
	free(whole);
}

/*
 * A child that stores new names is killed at a random moment, many times
 * over one file.  After each kill the file opens, rebuilt when the kill
 * cut a store short, and every name the child had stored is there on the
 * address it got.
 */
static void
test_killed(void)
{
	struct map		*m;
	struct map_entry	*e;
	struct {
		uint32_t	 i;
		uint32_t	 addr;
	}			*got;
	uint32_t		 first = IP(10, 7, 0, 1), last = IP(10, 7, 255, 254);
	uint32_t		 next = 0;
	size_t			 ngot = 0, cap = 1 << 16, j;
	ssize_t			 r;
	char			 name[64];
	pid_t			 pid;
	int			 p[2], round, rebuilt = 0, lost = 0, status;

	if ((got = calloc(cap, sizeof(*got))) == NULL) {
		CHECK(0);
		return;
	}
	srandom(4453);
	for (round = 0; round < 60 && next < 5000; round++) {
		unlink(dbfile("killed.tdb.damaged"));
		if (pipe(p) == -1 || (pid = fork()) == -1) {
			CHECK(0);
			break;
		}
		if (pid == 0) {
			close(p[0]);
			if ((m = mopen("killed.tdb", first, last)) == NULL)
				_exit(1);
			for (;;) {
				snprintf(name, sizeof(name), "k%u.test", next);
				if ((e = map_assign(m, name, T0 + next,
				    HOLD)) == NULL)
					_exit(1);
				got[0].i = next++;
				got[0].addr = e->addr;
				if (write(p[1], got, sizeof(got[0])) !=
				    sizeof(got[0]))
					_exit(1);
			}
		}
		close(p[1]);
		/* Kill it while it stores: after its first name is in. */
		if (read(p[0], &got[ngot], sizeof(got[0])) == sizeof(got[0]))
			ngot++;
		usleep(random() % 1000);
		kill(pid, SIGKILL);
		while ((r = read(p[0], &got[ngot], sizeof(got[0]))) ==
		    sizeof(got[0]))
			if (++ngot == cap)
				break;
		close(p[0]);
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		if (ngot > 0)
			next = got[ngot - 1].i + 1;

		if ((m = mopen("killed.tdb", first, last)) == NULL) {
			CHECK(0);
			break;
		}
		if (access(dbfile("killed.tdb.damaged"), F_OK) == 0)
			rebuilt++;
		for (j = 0; j < ngot; j++) {
			snprintf(name, sizeof(name), "k%u.test", got[j].i);
			e = map_lookup_name(m, name);
			if (e == NULL || e->addr != got[j].addr)
				lost++;
		}
		map_close(m);
		if (ngot == cap)
			break;
	}
	CHECK_EQ(lost, 0);
	CHECK(ngot >= (size_t)round);
	printf("killed %d times while storing: %d files rebuilt, %zu names "
	    "stored, %d lost\n", round, rebuilt, ngot, lost);
	free(got);
}

/* Reopened with a smaller range: what no longer fits is dropped. */
static void
test_shrink(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(10, 6, 0, 1);
	uint32_t		 last = IP(10, 6, 255, 254);
	uint32_t		 small = IP(10, 6, 63, 255), addrs[1000];
	char			 name[64];
	int			 i, inside = 0, ok;

	if ((m = mopen("shrink.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "s%d.example.com", i);
		e = map_assign(m, name, T0 + i, HOLD);
		addrs[i] = e != NULL ? e->addr : 0;
		if (addrs[i] <= small)
			inside++;
	}
	map_close(m);
	CHECK(inside > 100 && inside < 500);

	if ((m = mopen("shrink.tdb", first, small)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), inside);
	ok = 1;
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "s%d.example.com", i);
		e = map_lookup_name(m, name);
		if ((e != NULL) != (addrs[i] <= small) ||
		    (e != NULL && e->addr != addrs[i]))
			ok = 0;
	}
	CHECK(ok);
	map_close(m);

	/* The dropped records left the file: the old range finds none. */
	if ((m = mopen("shrink.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), inside);
	map_close(m);
}

/* Records the map did not write: each bad one dropped from the file. */
static void
test_bad_records(void)
{
	struct tdb_context	*tdb;
	struct map		*m;
	TDB_DATA		 k, v;
	uint32_t		 first = IP(10, 7, 0, 1);
	uint32_t		 last = IP(10, 7, 0, 254);
	unsigned char		 rec[16], meta[12];
	char			 err[256];
	struct {
		const char	*name;
		size_t		 len;
		uint32_t	 addr;
		int		 vlen;
		int		 good;
	} t[] = {
		{ "good.test",	9, IP(10, 7, 0, 10), 16, 1 },
		{ "Upper.test",	10, IP(10, 7, 0, 11), 16, 0 },
		{ "a..b",	4, IP(10, 7, 0, 12), 16, 0 },
		{ "short.test",	10, IP(10, 7, 0, 13), 8, 0 },
		{ "out.test",	8, IP(10, 8, 0, 1), 16, 0 },
		{ "nul\0x",	5, IP(10, 7, 0, 14), 16, 0 },
		{ "dup1.test",	9, IP(10, 7, 0, 20), 16, 1 },
		{ "dup2.test",	9, IP(10, 7, 0, 20), 16, 1 },
	};
	size_t			 i;
	int			 dups;

	tdb = tdb_open(dbfile("bad.tdb"), 131, TDB_NOLOCK, O_RDWR | O_CREAT,
	    0600);
	CHECK(tdb != NULL);
	if (tdb == NULL)
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(rec, 0, sizeof(rec));
		rec[0] = 1;
		rec[4] = t[i].addr >> 24;
		rec[5] = t[i].addr >> 16;
		rec[6] = t[i].addr >> 8;
		rec[7] = t[i].addr;
		rec[15] = i;
		k.dptr = (unsigned char *)(uintptr_t)t[i].name;
		k.dsize = t[i].len;
		v.dptr = rec;
		v.dsize = t[i].vlen;
		CHECK_EQ(tdb_store(tdb, k, v, TDB_REPLACE), 0);
	}
	tdb_close(tdb);

	if ((m = mopen("bad.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 2);
	CHECK(map_lookup_name(m, "good.test") != NULL);
	dups = (map_lookup_name(m, "dup1.test") != NULL) +
	    (map_lookup_name(m, "dup2.test") != NULL);
	CHECK_EQ(dups, 1);
	map_close(m);

	tdb = tdb_open(dbfile("bad.tdb"), 0, TDB_NOLOCK, O_RDWR, 0600);
	CHECK(tdb != NULL);
	if (tdb == NULL)
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k.dptr = (unsigned char *)(uintptr_t)t[i].name;
		k.dsize = t[i].len;
		if (!t[i].good)
			CHECK(!tdb_exists(tdb, k));
	}
	/* A metadata record of a newer format: the file is refused. */
	memset(meta, 0, sizeof(meta));
	meta[0] = 2;
	k.dptr = (unsigned char *)(uintptr_t)"\0meta";
	k.dsize = 5;
	CHECK(tdb_exists(tdb, k));
	v.dptr = meta;
	v.dsize = sizeof(meta);
	CHECK_EQ(tdb_store(tdb, k, v, TDB_REPLACE), 0);
	tdb_close(tdb);
	err[0] = '\0';
	CHECK(map_open(dbfile("bad.tdb"), first, last, NULL, NULL, err,
	    sizeof(err)) == NULL);
	CHECK(strstr(err, "version") != NULL);

	/* A range the map cannot hold. */
	CHECK(map_open(dbfile("huge.tdb"), IP(10, 0, 0, 0), IP(11, 0, 0, 0),
	    NULL, NULL, err, sizeof(err)) == NULL);
	CHECK(map_open(dbfile("huge.tdb"), last, first, NULL, NULL, err,
	    sizeof(err)) == NULL);
}

#define CL_VICTIM	IP(10, 1, 0, 2)
#define CL_FLOOD	IP(10, 1, 0, 66)
#define CL_OTHER	IP(10, 1, 0, 3)

/*
 * A client floods new names next to a victim, all within the hold time:
 * the flood recycles its own entries once the range is full, the victim's
 * addresses stay, and the victim still gets new names (the flooder's).
 */
static void
test_fair_flood(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(192, 168, 50, 0), va[5];
	char			 name[64];
	int			 i, ok, kept;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("fair-flood.tdb", first, first + 63)) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "v%d.test", i);
		e = map_assign_client(m, name, CL_VICTIM, T0, HOLD);
		CHECK(e != NULL);
		va[i] = e != NULL ? e->addr : 0;
	}
	for (ok = 0, i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%03d.test", i);
		if (map_assign_client(m, name, CL_FLOOD, T0 + 1 + i / 10,
		    HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, 300);
	CHECK_EQ(map_count(m), 64);
	CHECK_EQ(map_clients(m), 2);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 5);
	CHECK_EQ(map_client_count(m, CL_FLOOD), 59);
	for (kept = 0, i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "v%d.test", i);
		if ((e = map_lookup_name(m, name)) != NULL && e->addr == va[i])
			kept++;
	}
	CHECK_EQ(kept, 5);
	/* The flooder's newest names are there, its oldest recycled. */
	CHECK(map_lookup_name(m, "f299.test") != NULL);
	CHECK(map_lookup_name(m, "f000.test") == NULL);

	/* The victim's new names come from the flooder's oldest. */
	for (i = 5; i < 10; i++) {
		snprintf(name, sizeof(name), "v%d.test", i);
		ev.name[0] = '\0';
		CHECK(map_assign_client(m, name, CL_VICTIM, T0 + 40, HOLD) !=
		    NULL);
		CHECK(ev.name[0] == 'f');
	}
	CHECK_EQ(map_client_count(m, CL_VICTIM), 10);
	CHECK_EQ(map_client_count(m, CL_FLOOD), 54);
	for (kept = 0, i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "v%d.test", i);
		if ((e = map_lookup_name(m, name)) != NULL && e->addr == va[i])
			kept++;
	}
	CHECK_EQ(kept, 5);
	map_close(m);
}

/* One client alone (a forwarder) fills the range and reuses as before. */
static void
test_fair_forwarder(void)
{
	struct map		*m;
	uint32_t		 first = IP(192, 168, 51, 1);
	char			 name[64];
	int			 i;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("fair-fwd.tdb", first, first + 15)) == NULL) {
		CHECK(0);
		return;
	}
	/* Alone, it is never held to the rate. */
	map_set_rate(m, 1, 1);
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "n%03d.test", i);
		CHECK(map_assign_client(m, name, CL_VICTIM, T0 + i, HOLD) !=
		    NULL);
	}
	CHECK_EQ(map_client_share(m), 16);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 16);
	/* Full and all young: SERVFAIL, its own names untouched. */
	errno = 0;
	CHECK(map_assign_client(m, "x.test", CL_VICTIM, T0 + 20, HOLD) ==
	    NULL);
	CHECK_EQ(errno, ENOSPC);
	CHECK_EQ(ev.n, 0);
	/* Past the hold time, the least recently answered goes. */
	CHECK(map_assign_client(m, "x.test", CL_VICTIM, T0 + HOLD, HOLD) !=
	    NULL);
	CHECK_EQ(ev.n, 1);
	CHECK(strcmp(ev.name, "n000.test") == 0);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 16);
	map_close(m);
}

/*
 * The order of reuse: a client beyond its share recycles its own oldest;
 * a client within its share gets the oldest of the client holding the
 * most beyond its share, stepping over entries with connections, even
 * when another client's entries are past the hold time: those stay.
 */
static void
test_fair_order(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(192, 168, 52, 1);
	char			 name[64];
	time_t			 t = T0 + HOLD + 50;
	int			 i;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("fair-order.tdb", first, first + 15)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(map_assign_client(m, "v0.test", CL_VICTIM, T0, HOLD) != NULL);
	CHECK(map_assign_client(m, "v1.test", CL_VICTIM, T0 + 1, HOLD) !=
	    NULL);
	for (i = 0; i < 14; i++) {
		snprintf(name, sizeof(name), "f%03d.test", i);
		CHECK(map_assign_client(m, name, CL_FLOOD, T0 + 100 + i,
		    HOLD) != NULL);
	}
	CHECK_EQ(map_client_share(m), 8);

	/* The flooder, beyond its share: its own oldest. */
	CHECK(map_assign_client(m, "f100.test", CL_FLOOD, t, HOLD) != NULL);
	CHECK(strcmp(ev.name, "f000.test") == 0);
	/* A newcomer: the flooder's oldest, not the victim's old ones. */
	CHECK(map_assign_client(m, "w0.test", CL_OTHER, t, HOLD) != NULL);
	CHECK(strcmp(ev.name, "f001.test") == 0);
	/* Over one with a connection. */
	if ((e = map_lookup_name(m, "f002.test")) != NULL)
		map_pin(m, e);
	CHECK(map_assign_client(m, "w1.test", CL_OTHER, t, HOLD) != NULL);
	CHECK(strcmp(ev.name, "f003.test") == 0);
	CHECK(map_lookup_name(m, "f002.test") != NULL);
	CHECK(map_lookup_name(m, "v0.test") != NULL);
	CHECK(map_lookup_name(m, "v1.test") != NULL);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 2);
	CHECK_EQ(map_client_count(m, CL_OTHER), 2);
	CHECK_EQ(map_client_count(m, CL_FLOOD), 12);
	CHECK_EQ(map_clients(m), 3);
	map_close(m);
}

/*
 * A name answered to two clients within the hold time is neither's: the
 * flooder cannot claim the victim's names and then recycle them.
 */
static void
test_fair_shared(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(192, 168, 53, 1), a0, a1;
	char			 name[64];
	int			 i, ok;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("fair-shared.tdb", first, first + 7)) == NULL) {
		CHECK(0);
		return;
	}
	e = map_assign_client(m, "v0.test", CL_VICTIM, T0, HOLD);
	a0 = e != NULL ? e->addr : 0;
	e = map_assign_client(m, "f0.test", CL_FLOOD, T0, HOLD);
	a1 = e != NULL ? e->addr : 0;
	CHECK(map_assign_client(m, "v0.test", CL_FLOOD, T0 + 1, HOLD) !=
	    NULL);
	CHECK(map_assign_client(m, "f0.test", CL_VICTIM, T0 + 1, HOLD) !=
	    NULL);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 0);
	/* Alone with what it holds, the flooder fills the rest, no more. */
	for (ok = 0, i = 1; i < 40; i++) {
		snprintf(name, sizeof(name), "f%03d.test", i);
		if (map_assign_client(m, name, CL_FLOOD, T0 + 2, HOLD) !=
		    NULL)
			ok++;
	}
	CHECK_EQ(ok, 6);
	CHECK((e = map_lookup_name(m, "v0.test")) != NULL && e->addr == a0);
	CHECK((e = map_lookup_name(m, "f0.test")) != NULL && e->addr == a1);
	/* The victim still gets a new name: the flooder's oldest. */
	CHECK(map_assign_client(m, "v1.test", CL_VICTIM, T0 + 3, HOLD) !=
	    NULL);
	CHECK(strcmp(ev.name, "f001.test") == 0);
	CHECK((e = map_lookup_name(m, "v0.test")) != NULL && e->addr == a0);
	CHECK((e = map_lookup_name(m, "f0.test")) != NULL && e->addr == a1);
	CHECK(map_remove(m, map_lookup_name(m, "v1.test")) == 0);
	/* Past the hold time the next client to ask owns it again. */
	CHECK(map_assign_client(m, "v0.test", CL_VICTIM, T0 + 1 + HOLD,
	    HOLD) != NULL);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 1);
	map_close(m);
}

/*
 * New names of a client beyond its share: a burst, then the rate; names
 * it has are free, and other clients are not held.
 */
static void
test_fair_rate(void)
{
	struct map	*m;
	uint32_t	 first = IP(192, 168, 54, 1);
	char		 name[64];
	int		 i, ok;

	if ((m = mopen("fair-rate.tdb", first, first + 253)) == NULL) {
		CHECK(0);
		return;
	}
	map_set_rate(m, 10, 20);
	CHECK(map_assign_client(m, "b.test", CL_VICTIM, T0, HOLD) != NULL);
	/* Its share (127 of 254, and one to be beyond it), then the burst. */
	for (ok = 0, i = 0; i < 149; i++) {
		snprintf(name, sizeof(name), "a%03d.test", i);
		if (map_assign_client(m, name, CL_FLOOD, T0, HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, 148);
	CHECK_EQ(map_client_share(m), 127);
	errno = 0;
	CHECK(map_assign_client(m, "late.test", CL_FLOOD, T0, HOLD) == NULL);
	CHECK_EQ(errno, EAGAIN);
	CHECK(map_lookup_name(m, "late.test") == NULL);
	CHECK(map_assign_client(m, "a000.test", CL_FLOOD, T0, HOLD) != NULL);
	CHECK(map_assign_client(m, "b2.test", CL_VICTIM, T0, HOLD) != NULL);
	CHECK(map_assign(m, "c.test", T0, HOLD) != NULL);
	for (ok = 0, i = 200; i < 211; i++) {
		snprintf(name, sizeof(name), "a%03d.test", i);
		if (map_assign_client(m, name, CL_FLOOD, T0 + 1, HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, 10);
	/* A long pause gives the burst back, not more. */
	for (ok = 0, i = 300; i < 330; i++) {
		snprintf(name, sizeof(name), "a%03d.test", i);
		if (map_assign_client(m, name, CL_FLOOD, T0 + 100, HOLD) !=
		    NULL)
			ok++;
	}
	CHECK_EQ(ok, 20);
	/* A client that holds nothing is forgotten. */
	CHECK_EQ(map_clients(m), 2);
	CHECK(map_remove(m, map_lookup_name(m, "b.test")) == 0);
	CHECK(map_remove(m, map_lookup_name(m, "b2.test")) == 0);
	CHECK_EQ(map_clients(m), 1);
	map_close(m);
}

/*
 * A forwarder alone fills the range; a second client next to it takes the
 * forwarder's oldest names, young as they are, but only at its rate.
 */
static void
test_fair_sweep(void)
{
	struct map	*m;
	uint32_t	 first = IP(192, 168, 55, 1);
	char		 name[64];
	int		 i, ok;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("fair-sweep.tdb", first, first + 15)) == NULL) {
		CHECK(0);
		return;
	}
	map_set_rate(m, 1, 3);
	for (ok = 0, i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "r%03d.test", i);
		if (map_assign_client(m, name, CL_VICTIM, T0, HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, 16);
	for (ok = 0, i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "s%03d.test", i);
		if (map_assign_client(m, name, CL_FLOOD, T0 + 1, HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, 3);
	CHECK_EQ(ev.n, 3);
	CHECK(strcmp(ev.name, "r002.test") == 0);
	errno = 0;
	CHECK(map_assign_client(m, "t.test", CL_FLOOD, T0 + 1, HOLD) == NULL);
	CHECK_EQ(errno, EAGAIN);
	CHECK(map_assign_client(m, "t.test", CL_FLOOD, T0 + 2, HOLD) != NULL);
	CHECK_EQ(map_client_count(m, CL_VICTIM), 12);
	map_close(m);
}

/*
 * Past MAP_CLIENTS_MAX clients the newcomers share one, "rest", with an
 * answer order of its own; a client forgotten gives its place in the
 * table to the next newcomer.  Entries name their client by that place.
 */
static void
test_fair_rest(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(10, 64, 0, 0), cl;
	char			 name[64];
	int			 i, ok;

	memset(&ev, 0, sizeof(ev));
	if ((m = mopen("fair-rest.tdb", first, first + MAP_CLIENTS_MAX +
	    7)) == NULL) {
		CHECK(0);
		return;
	}
	for (ok = 0, i = 0; i < MAP_CLIENTS_MAX; i++) {
		snprintf(name, sizeof(name), "c%04d.test", i);
		if (map_assign_client(m, name, IP(10, 2, 0, 0) + i, T0,
		    HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, MAP_CLIENTS_MAX);
	CHECK_EQ(map_clients(m), MAP_CLIENTS_MAX);
	/* Four more clients, two names each: the rest's, the range full. */
	for (ok = 0, i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "r%d.test", i);
		if (map_assign_client(m, name, IP(10, 3, 0, 0) + i / 2,
		    T0 + 1 + i, HOLD) != NULL)
			ok++;
	}
	CHECK_EQ(ok, 8);
	CHECK_EQ(map_count(m), MAP_CLIENTS_MAX + 8);
	CHECK_EQ(map_clients(m), MAP_CLIENTS_MAX + 1);
	CHECK_EQ(map_client_count(m, IP(10, 3, 0, 0)), 0);
	/* r0 answered again: the rest's oldest is now r1. */
	CHECK(map_assign_client(m, "r0.test", IP(10, 3, 0, 9), T0 + 20,
	    HOLD) != NULL);
	/* The rest holds beyond its share: its own oldest goes. */
	ev.name[0] = '\0';
	CHECK(map_assign_client(m, "r8.test", IP(10, 3, 0, 7), T0 + 21,
	    HOLD) != NULL);
	CHECK(strcmp(ev.name, "r1.test") == 0);
	for (ok = 0, i = 0; i < MAP_CLIENTS_MAX; i++) {
		snprintf(name, sizeof(name), "c%04d.test", i);
		if (map_lookup_name(m, name) != NULL)
			ok++;
	}
	CHECK_EQ(ok, MAP_CLIENTS_MAX);

	/* A client forgotten; the next newcomer takes its place. */
	CHECK(map_remove(m, map_lookup_name(m, "c0005.test")) == 0);
	CHECK_EQ(map_clients(m), MAP_CLIENTS_MAX);
	cl = IP(10, 4, 0, 1);
	ev.name[0] = '\0';
	CHECK(map_assign_client(m, "n0.test", cl, T0 + 22, HOLD) != NULL);
	CHECK(ev.name[0] == '\0');
	CHECK_EQ(map_client_count(m, cl), 1);
	CHECK_EQ(map_clients(m), MAP_CLIENTS_MAX + 1);
	/* The range full again: the newcomer takes the rest's oldest. */
	ev.name[0] = '\0';
	CHECK(map_assign_client(m, "n1.test", cl, T0 + 23, HOLD) != NULL);
	CHECK(strcmp(ev.name, "r2.test") == 0);
	CHECK_EQ(map_client_count(m, cl), 2);
	/* Its entries are its own: removed, it is forgotten. */
	CHECK(map_remove(m, map_lookup_name(m, "n0.test")) == 0);
	CHECK(map_remove(m, map_lookup_name(m, "n1.test")) == 0);
	CHECK_EQ(map_client_count(m, cl), 0);
	CHECK_EQ(map_clients(m), MAP_CLIENTS_MAX);

	/* Times before 1970 or past 2106 are kept as their ends. */
	e = map_put(m, "early.test", first + 5, (time_t)-5);
	CHECK(e != NULL && e->answered == 0);
	e = map_put(m, "late.test", first + 5,
	    (time_t)UINT32_MAX + 10);
	CHECK(e != NULL && e->answered == UINT32_MAX);
	map_close(m);
}

/*
 * What a store shared with other gateways does to the map: map_put makes
 * a name's address what the store says, forgetting (and telling of) the
 * entries in the way; names only heard of count as never answered and
 * go last; map_drop forgets a name that still has the address given;
 * map_sweep forgets what the store did not have; map_place is where
 * map_assign starts looking; map_client_allow holds a client beyond its
 * share to its rate.
 */
static void
test_shared(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(10, 99, 0, 1), a;
	uint64_t		 answers;
	char			 name[64];
	int			 i, ok;

	if ((m = mopen("shared.tdb", first, first + 9)) == NULL) {
		CHECK(0);
		return;
	}
	/* An empty map: a new name lands where map_place says. */
	CHECK((e = map_assign(m, "placed.test", T0, HOLD)) != NULL);
	CHECK_EQ(e->addr, first + map_place(m, "placed.test"));
	a = e->addr == first ? first + 1 : first;

	memset(&ev, 0, sizeof(ev));
	CHECK((e = map_put(m, "heard.test", a, 0)) != NULL);
	CHECK_EQ(e->answered, 0);
	CHECK_EQ(ev.n, 0);
	/* Last in answer order: the answered name stays first. */
	CHECK(strcmp(map_first(m)->name, "placed.test") == 0);
	/* The same again changes nothing. */
	CHECK(map_put(m, "heard.test", a, 0) == e);
	CHECK_EQ(ev.n, 0);
	/*
	 * The store moved placed.test onto a: both old entries go, their
	 * connections with them.
	 */
	map_pin(m, e);
	map_pin(m, map_lookup_name(m, "placed.test"));
	CHECK_EQ(map_pinned(m), 2);
	CHECK((e = map_put(m, "placed.test", a, T0)) != NULL);
	CHECK_EQ(ev.n, 2);
	CHECK_EQ(map_pinned(m), 0);
	CHECK(map_lookup_name(m, "heard.test") == NULL);
	CHECK(map_lookup_addr(m, a) == e);
	CHECK_EQ(map_count(m), 1);
	/* Out of the range, or no name: refused. */
	errno = 0;
	CHECK(map_put(m, "far.test", first + 10, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(map_put(m, "", a, 0) == NULL);

	/* map_drop: only with the address the store names. */
	CHECK(map_drop(m, "placed.test", a + 1) == -1);
	CHECK(map_drop(m, "placed.test", a) == 0);
	CHECK_EQ(map_count(m), 0);

	/* A full reading: what was not seen goes. */
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		CHECK(map_put(m, name, first + i, 0) != NULL);
	}
	map_mark_clear(m);
	CHECK(map_put(m, "n1.test", first + 1, 0) != NULL);
	CHECK(map_put(m, "n3.test", first + 3, 0) != NULL);
	memset(&ev, 0, sizeof(ev));
	CHECK_EQ(map_sweep(m), 3);
	CHECK_EQ(ev.n, 3);
	CHECK_EQ(map_count(m), 2);
	CHECK(map_lookup_name(m, "n3.test") != NULL);
	CHECK(map_lookup_name(m, "n0.test") == NULL);
	/* Heard of, then placed by this gateway: answered, and first. */
	CHECK((e = map_put(m, "late.test", first + 7, 0)) != NULL);
	CHECK(map_first(m) != e);
	CHECK(map_put(m, "late.test", first + 7, T0 + 5) == e);
	CHECK_EQ(e->answered, T0 + 5);
	CHECK(map_first(m) == e);
	/* Answered times that moved are counted; the same second is not. */
	answers = map_answers(m);
	CHECK(map_assign(m, "late.test", T0 + 6, HOLD) == e);
	CHECK(map_assign(m, "late.test", T0 + 6, HOLD) == e);
	CHECK_EQ(map_answers(m) - answers, 1);
	CHECK(!map_put_time(e));
	CHECK(map_assign(m, "late.test", T0 + 7, HOLD) == e);
	CHECK_EQ(map_answers(m) - answers, 2);
	map_close(m);

	/* Two clients; the one beyond its share is held to its rate. */
	if ((m = mopen("shared-rate.tdb", first, first + 9)) == NULL) {
		CHECK(0);
		return;
	}
	map_set_rate(m, 1, 3);
	CHECK(map_assign_client(m, "v.test", CL_VICTIM, T0, HOLD) != NULL);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d.test", i);
		CHECK(map_assign_client(m, name, CL_FLOOD, T0, HOLD) != NULL);
	}
	CHECK_EQ(map_client_share(m), 5);
	for (ok = 0, i = 0; i < 5; i++)
		ok += map_client_allow(m, CL_FLOOD, T0);
	CHECK_EQ(ok, 3);		/* the burst */
	CHECK_EQ(map_client_allow(m, CL_FLOOD, T0 + 1), 1);
	/* Within its share, or no client: no limit. */
	for (ok = 0, i = 0; i < 10; i++)
		ok += map_client_allow(m, CL_VICTIM, T0) +
		    map_client_allow(m, 0, T0);
	CHECK_EQ(ok, 20);
	/* Asking makes no client: a newcomer holding nothing is forgotten. */
	CHECK_EQ(map_client_allow(m, IP(10, 1, 0, 99), T0), 1);
	CHECK_EQ(map_clients(m), 2);
	map_close(m);
}

static struct map *
jopen(const char *file, uint32_t first, uint32_t last)
{
	return (mopen_any(file, 1, first, last));
}

/* A journal record at p: 'P' with addr and answered, 'D', or 'S' (n). */
static size_t
jrec(uint8_t *p, int op, const char *name, uint32_t addr, uint32_t t)
{
	size_t	len = name != NULL ? strlen(name) : 0;

	p[0] = op;
	p[1] = len;
	if (op == 'S') {
		wire_put32(p + 2, addr);
		return (6);
	}
	if (op == 'D') {
		memcpy(p + 2, name, len);
		return (2 + len);
	}
	wire_put32(p + 2, addr);
	wire_put32(p + 6, t);
	memcpy(p + 10, name, len);
	return (10 + len);
}

static size_t
jhead(uint8_t *p, uint32_t gen, uint32_t first, uint32_t last)
{
	memcpy(p, "dns44jnl", 8);
	p[8] = 1;
	p[9] = p[10] = p[11] = 0;
	wire_put32(p + 12, gen);
	wire_put32(p + 16, first);
	wire_put32(p + 20, last);
	return (24);
}

static int
walk_count(const char *name, uint32_t addr, int64_t answered, void *arg)
{
	(void)name;
	(void)addr;
	(void)answered;
	(*(int *)arg)++;
	return (0);
}

/* The latest generation of j.tdb's journal files. */
static uint32_t
jgen(void)
{
	unsigned char	*buf;
	char		 path[PATH_MAX + 8];
	size_t		 len;
	uint32_t	 gen = 0;
	int		 i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s.j%d", dbfile("j.tdb"), i);
		if (read_file(path, &buf, &len) == -1)
			continue;
		if (len >= 24 && wire_get32(buf + 12) > gen)
			gen = wire_get32(buf + 12);
		free(buf);
	}
	return (gen);
}

#define MANY(i)	(first + 100 + (i) == a[0] ? spare : first + 100 + (i))

/*
 * A shared map keeps its copy in a journal: what it was given survives a
 * kill once flushed, the journal turns to its other file as it grows,
 * and a map alone again makes its tdb file from it.
 */
static void
test_journal(void)
{
	struct map		*m;
	struct map_entry	*e;
	struct stat		 st;
	uint32_t		 first = IP(10, 98, 0, 0), last = first + 65535;
	uint32_t		 a[3], spare;
	char			 name[64], jp[PATH_MAX + 8];
	size_t			 skipped;
	pid_t			 pid;
	int			 i, n, status, fd;

	/* A gateway alone, then in a fleet: the tdb file read first. */
	if ((m = mopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "alone%d.test", i);
		CHECK((e = map_assign(m, name, T0, HOLD)) != NULL);
		a[i] = e != NULL ? e->addr : 0;
	}
	map_close(m);
	if ((m = jopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 3);
	CHECK(stat(dbfile("j.tdb.j0"), &st) == 0 && st.st_size > 24);
	CHECK_EQ(jgen(), 1);
	map_close(m);

	/* Killed after a flush: what the flush wrote is read again. */
	if ((pid = fork()) == 0) {
		if ((m = jopen("j.tdb", first, last)) == NULL)
			_exit(2);
		(void)map_put(m, "heard.test", first + 7, 0);
		(void)map_put(m, "given.test", first + 8, T0 + 1);
		(void)map_drop(m, "alone1.test", a[1]);
		(void)map_put(m, "alone2.test", first + 9, T0 + 2);
		(void)map_flush(m);
		(void)map_put(m, "unflushed.test", first + 10, T0 + 3);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if ((m = jopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 4);
	CHECK((e = map_lookup_name(m, "alone0.test")) != NULL &&
	    e->addr == a[0] && e->answered == T0);
	CHECK(map_lookup_name(m, "alone1.test") == NULL);
	CHECK((e = map_lookup_name(m, "alone2.test")) != NULL &&
	    e->addr == first + 9 && e->answered == T0 + 2);
	CHECK(map_lookup_addr(m, a[2]) == NULL || a[2] == first + 9);
	CHECK((e = map_lookup_name(m, "heard.test")) != NULL &&
	    e->addr == first + 7 && e->answered == 0);
	CHECK((e = map_lookup_name(m, "given.test")) != NULL &&
	    e->addr == first + 8);
	CHECK(map_lookup_name(m, "unflushed.test") == NULL);

	/*
	 * 60 000 names and their answered times: the journal turns to its
	 * other file (a generation more than the opens made), and the turn
	 * is read back whole.  alone0.test's address is left to it.
	 */
	CHECK_EQ(jgen(), 3);
	spare = first + 60100 + (a[0] == first + 60100);
	for (i = 0; i < 60000; i++) {
		snprintf(name, sizeof(name), "many%d.test", i);
		CHECK(map_put(m, name, MANY(i), T0 + 10) != NULL);
		if (i % 1000 == 999)
			(void)map_flush(m);
	}
	for (i = 0; i < 30000; i++) {
		snprintf(name, sizeof(name), "many%d.test", i);
		CHECK(map_assign(m, name, T0 + 20, HOLD) != NULL);
	}
	CHECK_EQ(map_sync(m), 0);
	CHECK(jgen() >= 4);
	map_close(m);
	if ((m = jopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 60004);
	for (n = 0, i = 0; i < 60000; i++) {
		snprintf(name, sizeof(name), "many%d.test", i);
		e = map_lookup_name(m, name);
		n += e != NULL && e->addr == MANY(i);
	}
	CHECK_EQ(n, 60000);
	for (n = 0, e = map_first(m); e != NULL; e = map_next(m, e))
		n += e->answered == T0 + 20;
	CHECK_EQ(n, 30000);
	map_close(m);

	/* dns44ctl dump's walk reads the journal, not the old tdb file. */
	n = 0;
	CHECK(map_db_walk(dbfile("j.tdb"), walk_count, &n, &skipped, jp,
	    sizeof(jp)) == 0);
	CHECK_EQ(n, 60004);

	/* A record cut short at the end: the rest is read. */
	for (i = 0; i < 2; i++) {
		snprintf(jp, sizeof(jp), "%s.j%d", dbfile("j.tdb"), i);
		CHECK((fd = open(jp, O_WRONLY | O_APPEND)) != -1 &&
		    write(fd, "P\x0a\x0a\x62", 4) == 4 && close(fd) == 0);
	}
	if ((m = jopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 60004);
	map_close(m);

	/* Alone again: the journal becomes the tdb file and goes. */
	if ((m = mopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 60004);
	CHECK(map_lookup_name(m, "alone1.test") == NULL);
	map_close(m);
	CHECK(stat(dbfile("j.tdb.j0"), &st) == -1 && errno == ENOENT);
	CHECK(stat(dbfile("j.tdb.j1"), &st) == -1 && errno == ENOENT);
	if ((m = mopen("j.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_EQ(map_count(m), 60004);
	CHECK((e = map_lookup_name(m, "given.test")) != NULL &&
	    e->addr == first + 8);
	map_close(m);
}

/* A journal of generation 4 at path, sealed, of old.test alone. */
static void
jold(const char *path, uint32_t first, uint32_t last)
{
	uint8_t	buf[128];
	size_t	o;

	o = jhead(buf, 4, first, last);
	o += jrec(buf + o, 'P', "old.test", first + 9, T0);
	o += jrec(buf + o, 'S', NULL, 1, 0);
	CHECK(write_file(path, buf, o) == 0);
}

/*
 * Journals written by hand: the later generation of two sealed files is
 * read, an unsealed one never; a name not in normal form, outside the
 * range or after a malformed record is not taken; the latest record of a
 * name and of an address wins.
 */
static void
test_journal_files(void)
{
	struct map		*m;
	struct map_entry	*e;
	uint32_t		 first = IP(10, 97, 0, 0), last = first + 255;
	struct stat		 st;
	uint8_t			 buf[1024];
	char			 j0[PATH_MAX + 8], j1[PATH_MAX + 8];
	size_t			 o;

	snprintf(j0, sizeof(j0), "%s.j0", dbfile("h.tdb"));
	snprintf(j1, sizeof(j1), "%s.j1", dbfile("h.tdb"));
	/* j0: generation 5, sealed, then changes. */
	o = jhead(buf, 5, first, last);
	o += jrec(buf + o, 'P', "a.test", first + 1, T0);
	o += jrec(buf + o, 'P', "b.test", first + 2, T0);
	o += jrec(buf + o, 'P', "c.test", first + 3, T0);
	o += jrec(buf + o, 'S', NULL, 3, 0);
	o += jrec(buf + o, 'D', "b.test", 0, 0);
	o += jrec(buf + o, 'P', "c.test", first + 4, T0 + 1);
	o += jrec(buf + o, 'P', "d.test", first + 1, T0 + 2);
	o += jrec(buf + o, 'P', "Upper.test", first + 5, T0);
	o += jrec(buf + o, 'P', "far.test", last + 1, T0);
	o += jrec(buf + o, 'P', "e.test", first + 6, T0);
	buf[o++] = 'X';
	o += jrec(buf + o, 'P', "after.test", first + 7, T0);
	CHECK(write_file(j0, buf, o) == 0);
	/* j1: generation 4, sealed: older. */
	jold(j1, first, last);
	if ((m = jopen("h.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(map_lookup_name(m, "old.test") == NULL);
	CHECK(map_lookup_name(m, "b.test") == NULL);
	CHECK((e = map_lookup_name(m, "c.test")) != NULL &&
	    e->addr == first + 4 && e->answered == T0 + 1);
	/* a.test's address went to d.test later. */
	CHECK(map_lookup_name(m, "a.test") == NULL);
	CHECK((e = map_lookup_addr(m, first + 1)) != NULL &&
	    strcmp(e->name, "d.test") == 0);
	CHECK(map_lookup_name(m, "upper.test") == NULL);
	CHECK(map_lookup_name(m, "far.test") == NULL);
	CHECK(map_lookup_name(m, "e.test") != NULL);
	CHECK(map_lookup_name(m, "after.test") == NULL);
	CHECK_EQ(map_count(m), 3);
	map_close(m);

	/* An unsealed file of a later generation is not read. */
	o = jhead(buf, 9, first, last);
	o += jrec(buf + o, 'P', "torn.test", first + 9, T0);
	CHECK(write_file(j0, buf, o) == 0);
	jold(j1, first, last);
	if ((m = jopen("h.tdb", first, last)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(map_lookup_name(m, "torn.test") == NULL);
	CHECK(map_lookup_name(m, "old.test") != NULL);
	CHECK_EQ(map_count(m), 1);
	map_close(m);
	/* Its snapshot went over the unsealed file, a later generation. */
	CHECK((m = jopen("h.tdb", first, last)) != NULL &&
	    map_lookup_name(m, "old.test") != NULL);
	map_close(m);

	/* A later format is refused, and left as it is. */
	o = jhead(buf, 1, first, last);
	buf[8] = 2;
	CHECK(write_file(j0, buf, o) == 0);
	errno = 0;
	CHECK(jopen("h.tdb", first, last) == NULL && errno == EINVAL);
	CHECK(stat(j0, &st) == 0 && st.st_size == (off_t)o);
}

static void
million_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "host%07d.example%d.com", i, i % 97);
}

/* How many of the first n names are not on their address both ways. */
static int
million_lost(struct map *m, const uint32_t *addrs, int n)
{
	struct map_entry	*e;
	char			 name[64];
	int			 i, lost = 0;

	for (i = 0; i < n; i++) {
		million_name(name, sizeof(name), i);
		if ((e = map_lookup_name(m, name)) == NULL ||
		    e->addr != addrs[i] || map_lookup_addr(m, addrs[i]) != e)
			lost++;
	}
	return (lost);
}

/*
 * One million names in a /12: every name on its own address and found
 * both ways, after the fill and after a reopen; re-answers keep the
 * address; more names fit in the nearly full range and move none.  Time
 * and memory are figures of bench/mapbench, not checks.
 */
static void
test_million(void)
{
	struct map		*m;
	struct map_entry	*e;
	unsigned char		*seen;
	uint32_t		 first = IP(172, 16, 0, 1);
	uint32_t		 last = IP(172, 31, 255, 254);
	uint32_t		*addrs;
	char			 name[64];
	int			 i, n = 1000000, ok, distinct;

	if (getenv("MAPTEST_QUICK") != NULL) {
		printf("million: skipped (MAPTEST_QUICK)\n");
		return;
	}
	addrs = calloc(n, sizeof(*addrs));
	seen = calloc(last - first + 1, 1);
	if (addrs == NULL || seen == NULL ||
	    (m = mopen("million.tdb", first, last)) == NULL) {
		CHECK(0);
		free(addrs);
		free(seen);
		return;
	}
	ok = distinct = 1;
	for (i = 0; i < n; i++) {
		million_name(name, sizeof(name), i);
		if ((e = map_assign(m, name, T0 + i / 1000, HOLD)) == NULL ||
		    e->addr < first || e->addr > last) {
			ok = 0;
			break;
		}
		addrs[i] = e->addr;
		if (seen[e->addr - first]++)
			distinct = 0;
	}
	CHECK(ok);
	CHECK(distinct);
	free(seen);
	CHECK_EQ(map_count(m), n);
	CHECK_EQ(million_lost(m, addrs, n), 0);
	map_close(m);

	if ((m = mopen("million.tdb", first, last)) == NULL) {
		CHECK(0);
		free(addrs);
		return;
	}
	CHECK_EQ(map_count(m), n);
	CHECK_EQ(million_lost(m, addrs, n), 0);

	/* Answers spread over the whole file, then a sync.  Each gives the
	 * name its address again. */
	ok = 1;
	for (i = 0; i < n; i += 10) {
		million_name(name, sizeof(name), i);
		if ((e = map_assign(m, name, T0 + 4000, HOLD)) == NULL ||
		    e->addr != addrs[i] || strcmp(e->name, name) != 0)
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ(map_sync(m), 0);

	/* A few more names in the nearly full range. */
	ok = 1;
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "more%d.example.com", i);
		if ((e = map_assign(m, name, T0 + 5000, HOLD)) == NULL ||
		    map_lookup_addr(m, e->addr) != e)
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ(map_count(m), n + 10000);
	CHECK_EQ(million_lost(m, addrs, n), 0);
	map_close(m);
	free(addrs);
}

static void
cleanup(void)
{
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			unlink(dbfile(de->d_name));
	closedir(d);
	rmdir(tmpdir);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	log_procinit("maptest");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	test_siphash();
	test_normalize();
	test_basic();
	test_lost();
	test_golden();
	test_evict();
	test_pin();
	test_remove();
	test_sync();
	test_damaged();
	test_killed();
	test_shrink();
	test_bad_records();
	test_fair_flood();
	test_fair_forwarder();
	test_fair_order();
	test_fair_shared();
	test_fair_rate();
	test_fair_sweep();
	test_fair_rest();
	test_shared();
	test_journal();
	test_journal_files();
	test_million();
	cleanup();
	return (test_done("map"));
}
