/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store_chan.c: what a gateway hears of the others, and when it may
 * believe it.  The channel dns44:events carries each change of the map,
 * "+ ADDR NAME" or "- ADDR NAME", a batch's in one message, a line each;
 * every gateway applies them to its own map, but for the new names of
 * its own script calls, which it has from their answers.
 * With database wait, neither a new name heard nor one a script call of
 * ours placed is answered before the replicas have it: both wait for the
 * next fence, an INCR followed by WAIT on a link of its own (the
 * replicas apply the primary's writes in order, so a write of ours made
 * after a change was heard is on them only once that change is), one
 * fence out at a time.  The parsers of what the store says of names and
 * addresses are here too: all of it is untrusted until checked.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "dns44.h"
#include "log.h"
#include "map.h"
#include "proc.h"
#include "store.h"
#include "store_local.h"
#include "wire.h"

static void	store_change(const char *, size_t);
static void	store_fence_cb(redisAsyncContext *, void *, void *);
static void	store_fence_done(struct store_fence *, int);

int
store_addr(const char *s, size_t len, uint32_t *addr)
{
	if (conf_parse_addr(s, len, addr) == -1 || !conf_in_range(conf, *addr))
		return (-1);
	return (0);
}

int
store_name(const char *s, size_t len, char *name, size_t size)
{
	char	norm[WIRE_TEXT_MAX + 2];

	if (len == 0 || len >= size || memchr(s, '\0', len) != NULL)
		return (-1);
	memcpy(name, s, len);
	name[len] = '\0';
	if (map_normalize(name, norm, sizeof(norm)) == -1 ||
	    strcmp(norm, name) != 0)
		return (-1);
	return (0);
}

/*
 * A batch's changes come as one message, a line each, after "= GATEWAY"
 * when a gateway's script call made them: the new names of our own calls
 * are in the map already (store_put()), what they took from others is
 * not.
 */
void
store_event(const char *s, size_t len)
{
	const char	*nl;
	size_t		 n, glen = strlen(store_st.gateway);
	int		 ours = 0;

	while (len > 0) {
		n = (nl = memchr(s, '\n', len)) != NULL ? (size_t)(nl - s) :
		    len;
		if (n >= 2 && s[0] == '=' && s[1] == ' ')
			ours = n - 2 == glen &&
			    memcmp(s + 2, store_st.gateway, glen) == 0;
		else if (!ours || s[0] != '+')
			store_change(s, n);
		if (nl == NULL)
			break;
		len -= n + 1;
		s = nl + 1;
	}
	store_fence();
}

/* "+ ADDR NAME" or "- ADDR NAME", from any gateway. */
static void
store_change(const char *s, size_t len)
{
	struct store_heard	*h;
	const char		*sp;
	uint32_t		 addr;
	char			 name[WIRE_TEXT_MAX + 1];

	if (len < 4 || (s[0] != '+' && s[0] != '-') || s[1] != ' ' ||
	    (sp = memchr(s + 2, ' ', len - 2)) == NULL ||
	    store_addr(s + 2, sp - (s + 2), &addr) == -1 ||
	    store_name(sp + 1, len - (sp + 1 - s), name, sizeof(name)) == -1) {
		log_rate(&store_st.rl, LOG_WARNING, "map store: a change of an "
		    "unknown form ignored");
		return;
	}
	/* A name forgotten is forgotten at once. */
	if (s[0] == '-')
		(void)map_drop(store_st.map, name, addr);
	else if (conf->redis_wait == 0) {
		if (map_put(store_st.map, name, addr, 0) == NULL)
			log_rate(&store_st.rl, LOG_WARNING, "map store: %s",
			    strerror(errno));
		return;
	}
	/*
	 * With database wait, a new name is not answered before a replica
	 * has it, as our own are not; a forgotten one waits in the same line
	 * too, so that it is not put back by a new one heard before it.  A
	 * new one that finds the line full is asked of the store when a
	 * query or a connection needs it.  (A fence is out 1 s at most, and
	 * the line goes with the link.)
	 */
	if (conf->redis_wait != 0 && (s[0] == '-' ||
	    store_st.nheard < STORE_HEARD_MAX) &&
	    (h = malloc(sizeof(*h) + strlen(name) + 1)) != NULL) {
		h->op = s[0];
		h->addr = addr;
		memcpy(h->name, name, strlen(name) + 1);
		TAILQ_INSERT_TAIL(&store_st.next.heard, h, entry);
		store_st.nheard++;
	}
}

/*
 * What came since the last fence, once a write of ours made after it is
 * on database wait replicas (they apply the primary's writes in order):
 * the names placed are told, the changes heard go into the map.  One
 * fence is out at a time, on its own link.
 */
void
store_fence(void)
{
	struct store_fence	*f;
	char			 n[8];
	int			 load;

	if (store_st.fencing || (TAILQ_EMPTY(&store_st.next.heard) &&
	    TAILQ_EMPTY(&store_st.next.batches) && !store_st.next.load))
		return;
	if (store_st.fen == NULL || (f = malloc(sizeof(*f))) == NULL) {
		if (store_st.next.load)
			store_lost("no fence for the map read");
		store_fence_clear();
		return;
	}
	store_fence_init(f);
	TAILQ_CONCAT(&f->heard, &store_st.next.heard, entry);
	TAILQ_CONCAT(&f->batches, &store_st.next.batches, entry);
	f->load = store_st.next.load;
	store_st.next.load = 0;
	store_st.nheard = 0;
	snprintf(n, sizeof(n), "%u", conf->redis_wait);
	if (redisAsyncCommand(store_st.fen, NULL, NULL, "INCR "
	    STORE_FENCE) != REDIS_OK ||
	    redisAsyncCommand(store_st.fen, store_fence_cb, f, "WAIT %s %d", n,
	    STORE_WAIT_SEC * 1000) != REDIS_OK) {
		load = f->load;
		store_fence_done(f, 0);
		if (load)
			store_lost("cannot send");
		return;
	}
	store_st.fencing = 1;
}

static void
store_fence_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_fence	*f = priv;
	redisReply		*r = reply;
	long long		 n = -1;
	int			 ours = ac == store_st.fen, load = f->load;

	if (ours)
		store_st.fencing = 0;
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	if (r != NULL && ours && n < (long long)conf->redis_wait)
		log_rate(&store_st.rl, LOG_WARNING, "map store: %s reached "
		    "%lld of %u replicas in time; SERVFAIL", load ?
		    "the names read" : "new names", n, conf->redis_wait);
	store_fence_done(f, r != NULL && ours &&
	    n >= (long long)conf->redis_wait);
	/*
	 * The read's fence: up, or another fence (each WAITs its second)
	 * until the replicas have what was read.
	 */
	if (load && ours && n >= (long long)conf->redis_wait)
		store_loaded();
	else if (load && ours)
		store_st.next.load = 1;
	if (ours)
		store_fence();
}

/*
 * A fence passed or not.  The changes heard go in their order; without
 * the replicas only the forgotten names do.  f is freed unless it is
 * store_st.next.
 */
static void
store_fence_done(struct store_fence *f, int fenced)
{
	struct store_heard	*h;
	struct store_batch	*b;

	while ((b = TAILQ_FIRST(&f->batches)) != NULL) {
		TAILQ_REMOVE(&f->batches, b, entry);
		store_batch_done(b, fenced ? STORE_OK : STORE_DOWN);
	}
	while ((h = TAILQ_FIRST(&f->heard)) != NULL) {
		TAILQ_REMOVE(&f->heard, h, entry);
		if (h->op == '-')
			(void)map_drop(store_st.map, h->name, h->addr);
		else if (fenced && map_put(store_st.map, h->name, h->addr,
		    0) == NULL)
			log_rate(&store_st.rl, LOG_WARNING, "map store: %s",
			    strerror(errno));
		free(h);
	}
	if (f != &store_st.next)
		free(f);
}

void
store_fence_init(struct store_fence *f)
{
	TAILQ_INIT(&f->heard);
	TAILQ_INIT(&f->batches);
	f->load = 0;
}

/* Nothing more to be fenced on this link: nothing placed is told. */
void
store_fence_clear(void)
{
	store_fence_done(&store_st.next, 0);
	store_st.next.load = 0;
	store_st.nheard = 0;
	store_st.fencing = 0;
}
