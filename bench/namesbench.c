/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * namesbench.c: time and memory of the name sets of the domain rules
 * (src/names.c), for bench/names.sh.  It writes a list of N names
 * (default 1 000 000, about 20 characters each), times names_load() on
 * it, tells the growth of the resident memory that the load caused, and
 * times names_match() on every listed name, on a name below each and on
 * as many names that are not listed.  It prints one figure a line, "key
 * value [unit]"; a failure ends it with status 1.
 *
 * usage: namesbench [-n names] file
 */

#include "config.h"

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rules.h"

#define NB_NAMELEN	32

static double	nb_now(void);
static long	nb_resident(void);
static void	nb_name(char *, size_t, char, int);
static double	nb_match(const struct names *, const char *, int, int);
static void	nb_figure(const char *, double, const char *);
static void	usage(void);

static double
nb_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Resident bytes, from /proc/self/statm; -1 when it cannot be read. */
static long
nb_resident(void)
{
	FILE	*f;
	long	 size, resident = -1;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (-1);
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return (resident == -1 ? -1 : resident * sysconf(_SC_PAGESIZE));
}

/* About 20 characters; c 'a' for the listed names, 'b' for the others. */
static void
nb_name(char *buf, size_t len, char c, int i)
{
	snprintf(buf, len, "%c%07d.site%d.com", c, i, i % 997);
}

/* Matches per second over n names from names, each expected to set want. */
static double
nb_match(const struct names *set, const char *names, int n, int want)
{
	const char	*p;
	uint8_t		 b;
	double		 t;
	int		 i;

	t = nb_now();
	for (i = 0, p = names; i < n; i++, p += NB_NAMELEN) {
		b = 0;
		names_match(set, p, &b, 8);
		if (b != want)
			errx(1, "%s: matched %d, expected %d", p, b, want);
	}
	return (n / (nb_now() - t));
}

static void
nb_figure(const char *key, double value, const char *unit)
{
	printf("%-24s %.3f %s\n", key, value, unit);
}

static void
usage(void)
{
	fprintf(stderr, "usage: namesbench [-n names] file\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct names	*set;
	FILE		*f;
	const char	*errstr, *path;
	char		*names, *p, name[NB_NAMELEN];
	size_t		 added, bad;
	double		 t;
	long		 rss0, rss1;
	int		 ch, i, n = 1000000;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 1, 10000000, &errstr);
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
	log_procinit("namesbench");

	/* The list, one name a line. */
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	for (i = 0; i < n; i++) {
		nb_name(name, sizeof(name), 'a', i);
		fprintf(f, "%s\n", name);
	}
	if (fclose(f) == EOF)
		err(1, "%s", path);
	printf("%-24s %d\n", "names", n);

	/* The load, as the dns process does at start-up and on reload. */
	rss0 = nb_resident();
	if ((set = names_new()) == NULL)
		err(1, NULL);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	t = nb_now();
	if (names_load(set, f, path, 0, &added, &bad) == -1)
		err(1, "%s", path);
	t = nb_now() - t;
	rss1 = nb_resident();
	fclose(f);
	if (added != (size_t)n || bad != 0 || names_count(set) != (size_t)n)
		errx(1, "%zu names added, %zu bad lines, %zu in the set",
		    added, bad, names_count(set));
	nb_figure("load", t, "s");
	nb_figure("load_per_name", t / n * 1e9, "ns");
	if (rss0 != -1 && rss1 != -1)
		nb_figure("rss_growth", (rss1 - rss0) / 1048576.0, "MiB");
	nb_figure("memory", names_memory(set) / 1048576.0, "MiB");
	nb_figure("memory_per_name", (double)names_memory(set) / n, "bytes");

	/* Matches: the names made beforehand, so only the set is timed. */
	if ((names = reallocarray(NULL, n, NB_NAMELEN)) == NULL)
		err(1, NULL);
	for (i = 0, p = names; i < n; i++, p += NB_NAMELEN)
		nb_name(p, NB_NAMELEN, 'a', i);
	nb_figure("match_listed", nb_match(set, names, n, 1), "/s");
	for (i = 0, p = names; i < n; i++, p += NB_NAMELEN)
		snprintf(p, NB_NAMELEN, "www.a%07d.site%d.com", i, i % 997);
	nb_figure("match_below", nb_match(set, names, n, 1), "/s");
	for (i = 0, p = names; i < n; i++, p += NB_NAMELEN)
		nb_name(p, NB_NAMELEN, 'b', i);
	nb_figure("match_unlisted", nb_match(set, names, n, 0), "/s");
	free(names);
	names_free(set);
	return (0);
}
