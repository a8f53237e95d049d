/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_pipe.c: the pipes a proxy worker's TCP relays splice through.  A
 * direction takes one for a burst of bulk data (proxy_tcp.c) and gives it
 * back once it is empty; up to PROXY_PIPE_POOL empty ones are kept for
 * the next burst, so that most bursts cost no pipe2() and no close(), and
 * an idle connection holds none.  A pipe a burst takes grows, within a
 * budget of the kernel's pipe pages shared by the workers.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"

#define PROXY_PIPE_POOL		128	/* empty pipes kept for new relays */
#define PROXY_PIPE_BIG		262144	/* a burst's pipe grows to this */
#define PROXY_PIPE_BIG_PAGES	4096	/* of all workers' pipes, at most */

static int	proxy_pool[PROXY_PIPE_POOL][2];
static uint8_t	proxy_pool_big[PROXY_PIPE_POOL];
static int	proxy_npool;
static int	proxy_npipes;		/* held by relays */
static int	proxy_nbig;		/* big, pooled or held */
static int	proxy_maxbig = -1;	/* -1: not set yet */

static void	proxy_pipe_grow(int, uint8_t *);

/*
 * A pipe for a burst: an empty one from the pool if there is one, so that
 * a burst costs no pipe2() and no close(); a new one only while the
 * descriptors leave room for it.  Either grows if it may.
 */
int
proxy_pipe_get(int p[2], uint8_t *big)
{
	if (proxy_npool == 0) {
		if (!proxy_fd_room(2)) {
			errno = EMFILE;
			return (-1);
		}
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
			return (-1);
		*big = 0;
	} else {
		proxy_npool--;
		p[0] = proxy_pool[proxy_npool][0];
		p[1] = proxy_pool[proxy_npool][1];
		*big = proxy_pool_big[proxy_npool];
	}
	proxy_npipes++;
	if (!*big)
		proxy_pipe_grow(p[1], big);
	return (0);
}

/* A relay's pipe back to the pool when nothing is left in it, else closed. */
void
proxy_pipe_put(int p[2], uint8_t *big, size_t inpipe)
{
	if (p[0] == -1)
		return;
	proxy_npipes--;
	if (inpipe == 0 && proxy_npool < PROXY_PIPE_POOL) {
		proxy_pool[proxy_npool][0] = p[0];
		proxy_pool[proxy_npool][1] = p[1];
		proxy_pool_big[proxy_npool] = *big;
		proxy_npool++;
	} else {
		close(p[0]);
		close(p[1]);
		if (*big)
			proxy_nbig--;
	}
	p[0] = p[1] = -1;
	*big = 0;
}

/*
 * A burst's pipe (its first read filled the copy buffer) grows from the
 * 64 kB (16 pages) of a new one to 256 kB, so that a stream moves in
 * fewer splice(2)s and wake-ups (a fifth to a third less CPU a byte,
 * bench/tcp.sh).  The kernel counts a user's pipe pages, and past
 * pipe-user-pages-soft (16 384 by default) gives every new pipe of the
 * user 8 kB: the workers' big pipes take at most PROXY_PIPE_BIG_PAGES of
 * that, shared among them, and once the kernel refuses one no more are
 * asked for.
 */
static void
proxy_pipe_grow(int wfd, uint8_t *big)
{
	uint32_t	n = conf->proxy_workers > 0 ? conf->proxy_workers : 1;

	if (proxy_maxbig == -1)
		proxy_maxbig = PROXY_PIPE_BIG_PAGES /
		    (PROXY_PIPE_BIG / getpagesize()) / n;
	if (proxy_nbig >= proxy_maxbig)
		return;
	if (fcntl(wfd, F_SETPIPE_SZ, PROXY_PIPE_BIG) == -1) {
		log_debug("pipe of %d bytes: %s; no more asked for",
		    PROXY_PIPE_BIG, strerror(errno));
		proxy_maxbig = proxy_nbig;
		return;
	}
	*big = 1;
	proxy_nbig++;
}

/* Pipes kept in the pool and held by relays, two descriptors each. */
int
proxy_pipe_count(void)
{
	return (proxy_npool + proxy_npipes);
}

/* Close a kept pipe to make room; 0 when none is kept. */
int
proxy_pipe_drop(void)
{
	if (proxy_npool == 0)
		return (0);
	proxy_npool--;
	close(proxy_pool[proxy_npool][0]);
	close(proxy_pool[proxy_npool][1]);
	if (proxy_pool_big[proxy_npool])
		proxy_nbig--;
	return (1);
}
