/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dump.c: dns44ctl dump, the mappings of a database file read with the
 * daemon stopped, in the form and order of show map.  A running daemon
 * holds its database directory locked (see map_db_lock), and is asked
 * instead.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "map.h"
#include "msg.h"
#include "dns44ctl.h"

struct dump_list {
	struct ctl_map_entry	*v;
	size_t			 n;
	size_t			 cap;
};

static int	dump_add(const char *, uint32_t, int64_t, void *);
static int	dump_cmp(const void *, const void *);

static int
dump_add(const char *name, uint32_t addr, int64_t answered, void *arg)
{
	struct dump_list	*l = arg;
	struct ctl_map_entry	*nv, *e;
	size_t			 cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 1024 : l->cap * 2;
		if ((nv = reallocarray(l->v, cap, sizeof(*nv))) == NULL)
			return (-1);
		l->v = nv;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->addr = htonl(addr);
	e->answered = answered < 0 ? 0 : answered;
	strlcpy(e->name, name, sizeof(e->name));
	return (0);
}

/* Address order, as show map lists. */
static int
dump_cmp(const void *a, const void *b)
{
	uint32_t	x = ntohl(((const struct ctl_map_entry *)a)->addr);
	uint32_t	y = ntohl(((const struct ctl_map_entry *)b)->addr);

	return (x < y ? -1 : x > y);
}

/*
 * List file, by default the database of the configuration, unless a
 * daemon has it: 0, or 1 with a message on stderr.
 */
int
dump_main(const struct dns44_conf *conf, const char *file)
{
	struct dump_list	 l;
	char			 path[PATH_MAX], dir[PATH_MAX];
	char			 err[PATH_MAX + 128];
	size_t			 i, skipped;
	int			 lock;

	if (file == NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
		    conf->db_dir, DNS44_DB_FILE) >= sizeof(path)) {
			fprintf(stderr, "dns44ctl: %s: path too long\n",
			    conf->db_dir);
			return (1);
		}
	} else if (strlcpy(path, file, sizeof(path)) >= sizeof(path)) {
		fprintf(stderr, "dns44ctl: %s: path too long\n", file);
		return (1);
	}
	/* dirname() may write into its argument. */
	strlcpy(dir, path, sizeof(dir));
	if ((lock = map_db_lock(dirname(dir), 1)) == -1) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr, "dns44ctl: %s is in use by a running "
			    "dns44; ask it with show map\n", path);
		else
			fprintf(stderr, "dns44ctl: %s: %s\n", path,
			    strerror(errno));
		return (1);
	}
	memset(&l, 0, sizeof(l));
	if (map_db_walk(path, dump_add, &l, &skipped, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "dns44ctl: %s\n", err);
		free(l.v);
		close(lock);
		return (1);
	}
	close(lock);
	qsort(l.v, l.n, sizeof(*l.v), dump_cmp);
	if (jflag)
		printf("[");
	for (i = 0; i < l.n; i++)
		show_entry(&l.v[i]);
	if (jflag)
		printf("%s]\n", nshown > 0 ? "\n" : "");
	free(l.v);
	if (skipped > 0)
		fprintf(stderr, "dns44ctl: %s: %zu records that are not "
		    "mappings left out\n", path, skipped);
	return (0);
}
