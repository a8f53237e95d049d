/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * mapbench.c: time and memory of the map (src/map.c) with many names, for
 * bench/map.sh.  It fills a new map file with N names (default 1 000 000)
 * in a /12, closes it, opens it again as the dns process does at start-up,
 * looks every name up both ways, answers every tenth name again and syncs,
 * and adds 10 000 names to the nearly full range.  It prints one figure a
 * line, "key value [unit]"; a failure of the map ends it with status 1.
 *
 * usage: mapbench [-n names] file
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "map.h"

#define MB_T0		((time_t)1700000000)
#define MB_HOLD		960		/* ttl 900 + grace 60 */
#define MB_FIRST	0xac100001U	/* 172.16.0.1 */
#define MB_LAST		0xac1ffffeU	/* 172.31.255.254 */
#define MB_MORE		10000
#define MB_NAMELEN	32

static double	mb_now(void);
static long	mb_status_kb(const char *);
static void	mb_name(char *, size_t, int);
static struct map *mb_open(const char *);
static void	mb_figure(const char *, double, const char *);
static void	usage(void);

static double
mb_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* A field of /proc/self/status in KiB, or -1. */
static long
mb_status_kb(const char *field)
{
	FILE	*f;
	char	 line[256];
	long	 v = -1;
	size_t	 n = strlen(field);

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return (v);
}

/* About 25 characters, like the names of the DNS benchmarks. */
static void
mb_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "host%07d.example%d.com", i, i % 97);
}

static struct map *
mb_open(const char *path)
{
	struct map	*m;
	char		 err[512];

	if ((m = map_open(path, MB_FIRST, MB_LAST, NULL, NULL, err,
	    sizeof(err))) == NULL)
		errx(1, "%s", err);
	return (m);
}

static void
mb_figure(const char *key, double value, const char *unit)
{
	printf("%-24s %.3f %s\n", key, value, unit);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mapbench [-n names] file\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct map		*m;
	struct map_entry	*e;
	struct mallinfo2	 mi0, mi1;
	struct stat		 st;
	const char		*errstr, *path;
	uint32_t		*addrs;
	char			*names, *p, name[MB_NAMELEN];
	double			 t, t2;
	long			 anon0, hwm;
	size_t			 heap;
	int			 ch, i, n = 1000000, hwm_reset, fd;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(1, "-n %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	path = argv[0];
	log_init(1, LOG_DAEMON);
	log_procinit("mapbench");
	if (access(path, F_OK) == 0)
		errx(1, "%s: exists; the fill needs a new file", path);
	if ((addrs = calloc(n, sizeof(*addrs))) == NULL)
		err(1, NULL);

	/* The fill: each a new name, stored before map_assign returns. */
	m = mb_open(path);
	t = mb_now();
	for (i = 0; i < n; i++) {
		mb_name(name, sizeof(name), i);
		if ((e = map_assign(m, name, MB_T0 + i / 1000, MB_HOLD)) ==
		    NULL)
			err(1, "map_assign %s", name);
		addrs[i] = e->addr;
	}
	t = mb_now() - t;
	printf("%-24s %d\n", "names", n);
	mb_figure("fill", t, "s");
	mb_figure("insert", t / n * 1e6, "us");
	t = mb_now();
	map_close(m);
	mb_figure("close", mb_now() - t, "s");
	if (stat(path, &st) == 0)
		mb_figure("file", st.st_size / 1048576.0, "MiB");

	/* The load, as at start-up; VmHWM reset so it tells its peak. */
	malloc_trim(0);
	mi0 = mallinfo2();
	anon0 = mb_status_kb("RssAnon");
	hwm_reset = 0;
	if ((fd = open("/proc/self/clear_refs", O_WRONLY)) != -1) {
		hwm_reset = write(fd, "5", 1) == 1;
		close(fd);
	}
	t = mb_now();
	m = mb_open(path);
	t = mb_now() - t;
	mi1 = mallinfo2();
	if (map_count(m) != (size_t)n)
		errx(1, "%zu names loaded, %d stored", map_count(m), n);
	heap = (mi1.uordblks + mi1.hblkhd) - (mi0.uordblks + mi0.hblkhd);
	mb_figure("load", t, "s");
	mb_figure("rss", mb_status_kb("VmRSS") / 1024.0, "MiB");
	mb_figure("rss_anon", mb_status_kb("RssAnon") / 1024.0, "MiB");
	mb_figure("rss_file", mb_status_kb("RssFile") / 1024.0, "MiB");
	mb_figure("anon_growth", (mb_status_kb("RssAnon") - anon0) / 1024.0,
	    "MiB");
	if (hwm_reset && (hwm = mb_status_kb("VmHWM")) != -1)
		mb_figure("rss_peak_load", hwm / 1024.0, "MiB");
	mb_figure("heap", heap / 1048576.0, "MiB");
	mb_figure("heap_per_name", (double)heap / n, "bytes");

	/* Lookups: the names made beforehand, so only the map is timed. */
	if ((names = reallocarray(NULL, n, MB_NAMELEN)) == NULL)
		err(1, NULL);
	for (i = 0, p = names; i < n; i++, p += MB_NAMELEN)
		mb_name(p, MB_NAMELEN, i);
	t = mb_now();
	for (i = 0, p = names; i < n; i++, p += MB_NAMELEN)
		if ((e = map_lookup_name(m, p)) == NULL || e->addr != addrs[i])
			errx(1, "%s: not found", p);
	t = mb_now() - t;
	mb_figure("lookup_name", n / t, "/s");
	t = mb_now();
	for (i = 0; i < n; i++)
		if (map_lookup_addr(m, addrs[i]) == NULL)
			errx(1, "address %08x: not found", addrs[i]);
	t = mb_now() - t;
	mb_figure("lookup_addr", n / t, "/s");
	free(names);

	/* Answers spread over the whole file, then their sync. */
	t = mb_now();
	for (i = 0; i < n; i += 10) {
		mb_name(name, sizeof(name), i);
		if ((e = map_assign(m, name, MB_T0 + 4000, MB_HOLD)) == NULL ||
		    e->addr != addrs[i])
			errx(1, "%s: answered with another address", name);
	}
	t = mb_now() - t;
	mb_figure("answer", t / ((n + 9) / 10) * 1e6, "us");
	t2 = mb_now();
	if (map_sync(m) == -1)
		err(1, "map_sync");
	mb_figure("sync", mb_now() - t2, "s");
	mb_figure("rss_after_sync", mb_status_kb("VmRSS") / 1024.0, "MiB");
	mb_figure("rss_file_after_sync", mb_status_kb("RssFile") / 1024.0,
	    "MiB");

	/* New names in the range as full as the fill left it. */
	mb_figure("full", 100.0 * map_count(m) / map_size(m), "%");
	t = mb_now();
	for (i = 0; i < MB_MORE; i++) {
		snprintf(name, sizeof(name), "more%d.example.com", i);
		if (map_assign(m, name, MB_T0 + 5000, MB_HOLD) == NULL)
			err(1, "map_assign %s", name);
	}
	t = mb_now() - t;
	mb_figure("insert_more", t / MB_MORE * 1e6, "us");
	map_close(m);
	free(addrs);
	return (0);
}
