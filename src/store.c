/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store.c: the map shared with other gateways, kept in Redis and used by
 * the dns process through hiredis's asynchronous API on its event loop.
 * This file owns the links: the primary given, or found through the
 * Sentinels, and checked to be the primary; one link for commands, one
 * for the channel of changes and one for the fences of database wait
 * (whose WAIT would hold up the commands), set up (AUTH, ROLE, the
 * script, the range) before the map is read; the requests in flight,
 * each failed after STORE_TIMEOUT_MS; and a lost link dropped whole and
 * made anew every STORE_RETRY_MS.  What the map asks of the store, and
 * the keys it keeps there, are store_map.c's.
 *
 * hiredis goes on the event loop as its libevent adapter would put it,
 * but for one thing: what a link may hold of a reply not yet whole is
 * bounded.  hiredis 0.14 keeps a reply until its last byte, whatever its
 * size, and makes an array as long as the server says; a reply over
 * STORE_REPLY_BYTES or STORE_REPLY_ELEMENTS drops the link.  None of the
 * store's is near them (an HSCAN step of 1000 names: ~2000 elements and
 * at most ~300 kB).
 *
 * The store is the one truth for allocation; each gateway's map answers
 * the names it knows without asking anyone.  Everything Redis sends is
 * checked as any network input is: a reply of the wrong shape drops the
 * link.
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

#define STORE_REPLY_BYTES	(4 * 1024 * 1024)
#define STORE_REPLY_ELEMENTS	65536

/* A link's events. */
struct store_ev {
	redisAsyncContext	*ac;
	struct event		 rev;
	struct event		 wev;
};

struct store_ctx	 store_st;

static void	store_tick(int, short, void *);
static void	store_connect(void);
static void	store_connect_primary(void);
static redisAsyncContext *store_link(const struct sockaddr_in *);
static void	store_drop(redisAsyncContext **);
static int	store_ev_attach(redisAsyncContext *);
static void	store_ev_read(int, short, void *);
static void	store_ev_write(int, short, void *);
static void	store_ev_add_read(void *);
static void	store_ev_del_read(void *);
static void	store_ev_add_write(void *);
static void	store_ev_del_write(void *);
static void	store_ev_cleanup(void *);
static int	store_release(const redisAsyncContext *);
static void	store_on_connect(const redisAsyncContext *, int);
static void	store_on_disconnect(const redisAsyncContext *, int);
static void	store_sentinel_cb(redisAsyncContext *, void *, void *);
static void	store_setup_cb(redisAsyncContext *, void *, void *);
static void	store_sub_cb(redisAsyncContext *, void *, void *);
static void	store_ping_cb(redisAsyncContext *, void *, void *);

uint64_t
store_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Start on the event loop of base, for map: the link is made in the
 * background; until it is up, store_ready() says no.
 */
void
store_init(struct event_base *base, struct map *map)
{
	struct timeval	tv = { 0, STORE_TICK_MS * 1000 };
	uint8_t		id[8];
	size_t		i;

	store_st.base = base;
	store_st.map = map;
	TAILQ_INIT(&store_st.reqs);
	TAILQ_INIT(&store_st.assignq);
	store_fence_init(&store_st.next);
	arc4random_buf(id, sizeof(id));
	for (i = 0; i < sizeof(id); i++)
		snprintf(store_st.gateway + 2 * i, 3, "%02x", id[i]);
	store_st.flushed = store_st.renewed = time(NULL);
	store_st.sentinel = 0;
	event_set(&store_st.ev_tick, -1, EV_PERSIST, store_tick, NULL);
	event_base_set(base, &store_st.ev_tick);
	event_add(&store_st.ev_tick, &tv);
	event_set(&store_st.ev_assign, -1, 0, store_assign_ev, NULL);
	event_base_set(base, &store_st.ev_assign);
	map_set_touch(map, store_touched, STORE_SYNC_SEC);
	store_connect();
}

void
store_shutdown(void)
{
	event_del(&store_st.ev_tick);
	event_del(&store_st.ev_assign);
	store_drop(&store_st.sen);
	store_drop(&store_st.cmd);
	store_drop(&store_st.sub);
	store_drop(&store_st.fen);
	store_fence_clear();
	store_pins_free();
}

/* Whether new names may be asked of the store now. */
int
store_ready(void)
{
	return (store_st.state == STORE_UP || store_st.state == STORE_LOADING);
}

void
store_stats(struct store_stats *s)
{
	*s = store_st.stats;
	s->up = store_st.state == STORE_UP;
}

void
store_set_state(enum store_state s)
{
	store_st.state = s;
	store_st.since = store_now_ms();
}

/* Timeouts of the link and of the requests, and the retries. */
static void
store_tick(int fd, short ev, void *arg)
{
	struct store_req	*r;
	uint64_t		 now = store_now_ms();

	(void)fd;
	(void)ev;
	(void)arg;
	switch (store_st.state) {
	case STORE_IDLE:
		if (now - store_st.since >= STORE_RETRY_MS)
			store_connect();
		return;
	case STORE_SENTINEL:
	case STORE_CONNECT:
		if (now - store_st.since >= STORE_TIMEOUT_MS)
			store_lost("%s timed out", store_st.state ==
			    STORE_SENTINEL ? "asking the Sentinel" :
			    "connecting");
		return;
	case STORE_LOADING:
	case STORE_UP:
		if ((r = TAILQ_FIRST(&store_st.reqs)) != NULL &&
		    now > r->deadline)
			store_lost("no answer within %d ms", STORE_TIMEOUT_MS);
		return;
	}
}

static void
store_connect(void)
{
	const struct sockaddr_in	*sin;
	char				 a[INET_ADDRSTRLEN];

	if (conf->sentinel_count == 0) {
		store_st.primary = conf->redis;
		store_connect_primary();
		return;
	}
	store_st.sentinel %= conf->sentinel_count;
	sin = &conf->sentinels[store_st.sentinel];
	store_set_state(STORE_SENTINEL);
	if ((store_st.sen = store_link(sin)) == NULL) {
		store_lost("Sentinel %s: cannot connect", inet_ntop(AF_INET,
		    &sin->sin_addr, a, sizeof(a)));
		return;
	}
	if (redisAsyncCommand(store_st.sen, store_sentinel_cb, NULL,
	    "SENTINEL get-master-addr-by-name %s", conf->redis_master) !=
	    REDIS_OK)
		store_lost("Sentinel: cannot ask");
}

/* A link to sin, on the loop; NULL if it cannot even be started. */
static redisAsyncContext *
store_link(const struct sockaddr_in *sin)
{
	redisAsyncContext	*ac;
	char			 a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	ac = redisAsyncConnect(a, ntohs(sin->sin_port));
	if (ac == NULL)
		return (NULL);
	if (ac->err) {
		log_debug("store: %s:%u: %s", a, ntohs(sin->sin_port),
		    ac->errstr);
		redisAsyncFree(ac);
		return (NULL);
	}
	/* A peer gone without a word is noticed, on the channel too. */
	(void)redisEnableKeepAlive(&ac->c);
	if (store_ev_attach(ac) == -1) {
		redisAsyncFree(ac);
		return (NULL);
	}
	redisAsyncSetConnectCallback(ac, store_on_connect);
	redisAsyncSetDisconnectCallback(ac, store_on_disconnect);
	return (ac);
}

/* ac's events on the loop, both on until hiredis says otherwise. */
static int
store_ev_attach(redisAsyncContext *ac)
{
	struct store_ev	*e;

	if (ac->ev.data != NULL || (e = calloc(1, sizeof(*e))) == NULL)
		return (-1);
	e->ac = ac;
	event_set(&e->rev, ac->c.fd, EV_READ, store_ev_read, e);
	event_set(&e->wev, ac->c.fd, EV_WRITE, store_ev_write, e);
	event_base_set(store_st.base, &e->rev);
	event_base_set(store_st.base, &e->wev);
	ac->ev.addRead = store_ev_add_read;
	ac->ev.delRead = store_ev_del_read;
	ac->ev.addWrite = store_ev_add_write;
	ac->ev.delWrite = store_ev_del_write;
	ac->ev.cleanup = store_ev_cleanup;
	ac->ev.data = e;
	event_add(&e->rev, NULL);
	event_add(&e->wev, NULL);
	return (0);
}

/*
 * Readable: hiredis reads and hands out the replies that are whole (and
 * may free the link meanwhile); then what it holds of the next one is
 * weighed.
 */
static void
store_ev_read(int fd, short ev, void *arg)
{
	struct store_ev		*e = arg;
	redisAsyncContext	*ac = e->ac;
	redisReader		*r;
	int			 i, big;

	(void)fd;
	(void)ev;
	redisAsyncHandleRead(ac);
	if (ac != store_st.cmd && ac != store_st.sub && ac != store_st.sen &&
	    ac != store_st.fen)
		return;
	r = ac->c.reader;
	big = r->len - r->pos > STORE_REPLY_BYTES;
	for (i = 0; i <= r->ridx && i < (int)(sizeof(r->rstack) /
	    sizeof(r->rstack[0])); i++)
		if (r->rstack[i].elements > STORE_REPLY_ELEMENTS)
			big = 1;
	if (big)
		store_lost("a reply of more than %d MiB or %d elements",
		    STORE_REPLY_BYTES / (1024 * 1024), STORE_REPLY_ELEMENTS);
}

static void
store_ev_write(int fd, short ev, void *arg)
{
	struct store_ev	*e = arg;

	(void)fd;
	(void)ev;
	redisAsyncHandleWrite(e->ac);
}

static void
store_ev_add_read(void *arg)
{
	struct store_ev	*e = arg;

	event_add(&e->rev, NULL);
}

static void
store_ev_del_read(void *arg)
{
	struct store_ev	*e = arg;

	event_del(&e->rev);
}

static void
store_ev_add_write(void *arg)
{
	struct store_ev	*e = arg;

	event_add(&e->wev, NULL);
}

static void
store_ev_del_write(void *arg)
{
	struct store_ev	*e = arg;

	event_del(&e->wev);
}

static void
store_ev_cleanup(void *arg)
{
	struct store_ev	*e = arg;

	event_del(&e->rev);
	event_del(&e->wev);
	free(e);
}

/* What a Sentinel says the primary is; then the primary itself. */
static void
store_sentinel_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply;
	uint32_t	 addr;
	const char	*errstr = NULL;
	long long	 port;
	char		 buf[16];

	(void)priv;
	if (ac != store_st.sen || store_st.state != STORE_SENTINEL)
		return;
	if (r == NULL) {
		store_lost("Sentinel: link lost");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    conf_parse_addr(r->element[0]->str, r->element[0]->len,
	    &addr) == -1 ||
	    r->element[1]->len >= sizeof(buf)) {
		store_lost("Sentinel: no primary known as \"%s\"",
		    conf->redis_master);
		return;
	}
	memcpy(buf, r->element[1]->str, r->element[1]->len);
	buf[r->element[1]->len] = '\0';
	port = strtonum(buf, 1, 65535, &errstr);
	if (errstr != NULL) {
		store_lost("Sentinel: port %s is %s", buf, errstr);
		return;
	}
	/* As for database redis: the range's addresses are dns44's own. */
	if (conf_in_range(conf, addr)) {
		store_lost("Sentinel: the primary %.*s lies inside the virtual "
		    "range", (int)r->element[0]->len, r->element[0]->str);
		return;
	}
	memset(&store_st.primary, 0, sizeof(store_st.primary));
	store_st.primary.sin_family = AF_INET;
	store_st.primary.sin_addr.s_addr = htonl(addr);
	store_st.primary.sin_port = htons((in_port_t)port);
	/* Freed once this callback returns. */
	store_st.sen = NULL;
	redisAsyncDisconnect(ac);
	store_connect_primary();
}

/*
 * The links to the primary, their commands queued at once: AUTH on each,
 * then on the first ROLE (a demoted primary is not written to), the
 * script and its init, on the second SUBSCRIBE; the reading of the map
 * starts when the subscription holds, so that no change falls between
 * the two.  The third carries the fences.
 */
static void
store_connect_primary(void)
{
	redisAsyncContext	*links[3];
	const char		*argv[STORE_NHEAD];
	struct store_args	 a;
	int			 argc, i, ok = 1;

	store_set_state(STORE_CONNECT);
	store_st.sha[0] = '\0';
	store_st.inited = store_st.subscribed = 0;
	store_st.assigning = 0;
	store_st.fencing = 0;
	if ((store_st.cmd = store_link(&store_st.primary)) == NULL ||
	    (store_st.sub = store_link(&store_st.primary)) == NULL ||
	    (store_st.fen = store_link(&store_st.primary)) == NULL) {
		store_lost("cannot connect");
		return;
	}
	links[0] = store_st.cmd;
	links[1] = store_st.sub;
	links[2] = store_st.fen;
	for (i = 0; i < 3 && conf->redis_password[0] != '\0'; i++)
		ok &= redisAsyncCommand(links[i], store_setup_cb, "AUTH",
		    "AUTH %s", conf->redis_password) == REDIS_OK;
	ok &= redisAsyncCommand(store_st.cmd, store_setup_cb, "ROLE", "ROLE") ==
	    REDIS_OK;
	ok &= redisAsyncCommand(store_st.cmd, store_setup_cb, "SCRIPT",
	    "SCRIPT LOAD %s", store_script) == REDIS_OK;
	/* EVAL, not EVALSHA: the script may not be loaded yet. */
	argc = store_script_args(argv, &a, "EVAL", "init");
	ok &= redisAsyncCommandArgv(store_st.cmd, store_setup_cb, "INIT",
	    argc, argv, NULL) == REDIS_OK;
	ok &= redisAsyncCommand(store_st.sub, store_sub_cb, NULL,
	    "SUBSCRIBE " STORE_CHANNEL) == REDIS_OK;
	if (!ok)
		store_lost("cannot send");
}

/*
 * argv: the call of the script (EVAL with its text, or EVALSHA), its
 * keys and the five common arguments, the strings in a; the count.
 */
int
store_script_args(const char **argv, struct store_args *a, const char *how,
    const char *op)
{
	static const char	*keys[STORE_NKEYS] = { STORE_KEYS };
	size_t			 i;

	argv[0] = how;
	argv[1] = strcmp(how, "EVAL") == 0 ? store_script : store_st.sha;
	for (i = 0; i < STORE_NKEYS; i++)
		argv[2 + i] = keys[i];
	snprintf(a->first, sizeof(a->first), "%u", conf->range_first);
	snprintf(a->size, sizeof(a->size), "%u", conf->range_last -
	    conf->range_first + 1);
	snprintf(a->now, sizeof(a->now), "%lld", (long long)time(NULL));
	/*
	 * The hold of a reuse: TTL and grace, and the store's record of an
	 * answer may be STORE_SYNC_SEC late (see store_touched()), clocks
	 * a second apart.
	 */
	snprintf(a->hold, sizeof(a->hold), "%u", conf->ttl +
	    conf->grace_ms / 1000 + STORE_SYNC_SEC + 1);
	argv[2 + STORE_NKEYS] = op;
	argv[2 + STORE_NKEYS + 1] = a->first;
	argv[2 + STORE_NKEYS + 2] = a->size;
	argv[2 + STORE_NKEYS + 3] = a->now;
	argv[2 + STORE_NKEYS + 4] = a->hold;
	return (STORE_NHEAD);
}

/*
 * A link hiredis is about to free: no longer ours, if it was (those we
 * dropped ourselves are not).  0 when it was ours.
 */
static int
store_release(const redisAsyncContext *ac)
{
	if (ac == store_st.cmd)
		store_st.cmd = NULL;
	else if (ac == store_st.sub)
		store_st.sub = NULL;
	else if (ac == store_st.fen)
		store_st.fen = NULL;
	else if (ac == store_st.sen)
		store_st.sen = NULL;
	else
		return (-1);
	return (0);
}

/* A failed link is freed by hiredis itself once this returns. */
static void
store_on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK && store_release(ac) == 0)
		store_lost("cannot connect: %s", ac->errstr);
}

static void
store_on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	if (store_release(ac) == 0)
		store_lost("link lost%s%s", ac->errstr[0] != '\0' ? ": " :
		    "", ac->errstr);
}

/*
 * The link is gone or not to be trusted: the links dropped, every
 * request failed, a retry later.  Told once an outage, and how long the
 * gateway answers from what it has.
 */
void
store_lost(const char *fmt, ...)
{
	struct store_req	*r;
	va_list			 ap;
	char			 msg[256], a[INET_ADDRSTRLEN];
	int			 was = store_st.state;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	store_set_state(STORE_IDLE);
	store_drop(&store_st.sen);
	store_drop(&store_st.cmd);
	store_drop(&store_st.sub);
	store_drop(&store_st.fen);
	/* Names not yet asked: no link to ask them on. */
	while ((r = TAILQ_FIRST(&store_st.assignq)) != NULL)
		store_req_done(r, STORE_DOWN, 0);
	/*
	 * Names placed and not yet fenced are not told; names heard of a
	 * primary that may never have passed them on are forgotten.
	 */
	store_fence_clear();
	if (conf->sentinel_count > 0)
		store_st.sentinel++;
	inet_ntop(AF_INET, &store_st.primary.sin_addr, a, sizeof(a));
	if (was == STORE_UP || was == STORE_LOADING || !store_st.warned) {
		store_st.stats.outages += was == STORE_UP;
		log_warnx("map store %s:%u: %s; known names are answered from "
		    "memory, new names get SERVFAIL until it is back", a,
		    ntohs(store_st.primary.sin_port), msg);
		store_st.warned = 1;
	} else
		log_debug("map store %s:%u: %s", a,
		    ntohs(store_st.primary.sin_port), msg);
}

/* A link dropped on our side: its requests see NULL replies. */
static void
store_drop(redisAsyncContext **acp)
{
	redisAsyncContext	*ac = *acp;

	if (ac == NULL)
		return;
	*acp = NULL;
	redisAsyncFree(ac);
}

struct store_req *
store_req_new(enum store_kind kind, store_cb cb, void *arg)
{
	struct store_req	*r;

	if (store_st.nreqs >= STORE_PENDING_MAX ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->kind = kind;
	r->cb = cb;
	r->arg = arg;
	r->deadline = store_now_ms() + STORE_TIMEOUT_MS;
	return (r);
}

/*
 * r handed to hiredis with the command argv, fn to see it again with the
 * reply; -1 if not, r freed.
 */
int
store_send(redisAsyncContext *ac, struct store_req *r, redisCallbackFn *fn,
    int argc, const char **argv)
{
	if (ac == NULL || redisAsyncCommandArgv(ac, fn, r, argc, argv,
	    NULL) != REDIS_OK) {
		free(r);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&store_st.reqs, r, entry);
	store_st.nreqs++;
	return (0);
}

/* The request leaves the list; its caller, if any, is told. */
void
store_req_done(struct store_req *r, enum store_status s, uint32_t addr)
{
	TAILQ_REMOVE(&store_st.reqs, r, entry);
	store_st.nreqs--;
	if (r->queued)
		TAILQ_REMOVE(&store_st.assignq, r, qentry);
	if (s == STORE_DOWN && r->kind != STORE_K_SETUP)
		store_st.stats.failures++;
	if (r->cb != NULL)
		r->cb(s, addr, r->arg);
	free(r);
}

void
store_cancel(struct store_req *r)
{
	if (r != NULL)
		r->cb = NULL;
}

/*
 * The replies that set the link up, priv naming the command: AUTH says
 * OK, ROLE must say "master", SCRIPT LOAD gives the digest, INIT 0 or 1.
 */
static void
store_setup_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply;
	const char	*what = priv;
	size_t		 i;

	if (ac != store_st.cmd && ac != store_st.sub && ac != store_st.fen)
		return;
	if (r == NULL) {
		store_lost("%s: link lost", what);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		store_lost_reply(what, r);
		return;
	}
	if (strcmp(what, "AUTH") == 0) {
		if (r->type != REDIS_REPLY_STATUS)
			store_lost("AUTH: unexpected reply");
	} else if (strcmp(what, "ROLE") == 0) {
		if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    strcmp(r->element[0]->str, "master") != 0)
			store_lost("not the primary");
	} else if (strcmp(what, "SCRIPT") == 0) {
		if (r->type != REDIS_REPLY_STRING || r->len != 40)
			i = 0;
		else
			for (i = 0; i < 40; i++)
				if (strchr("0123456789abcdef", r->str[i]) ==
				    NULL)
					break;
		if (i != 40) {
			store_lost("SCRIPT LOAD: unexpected reply");
			return;
		}
		memcpy(store_st.sha, r->str, 40);
		store_st.sha[40] = '\0';
	} else if (r->type != REDIS_REPLY_INTEGER ||
	    (r->integer != 0 && r->integer != 1))
		store_lost("the map's range: unexpected reply");
	else {
		store_st.inited = 1 + (int)r->integer;
		store_load();
	}
}

/* The channel: its confirmation starts the reading; then the changes. */
static void
store_sub_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply, *kind;

	(void)priv;
	if (ac != store_st.sub)
		return;
	if (r == NULL) {
		store_lost("the channel's link lost");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    (kind = r->element[0])->type != REDIS_REPLY_STRING) {
		store_lost("SUBSCRIBE: unexpected reply");
		return;
	}
	if (strcmp(kind->str, "subscribe") == 0) {
		store_st.subscribed = 1;
		store_load();
		return;
	}
	if (strcmp(kind->str, "message") == 0 &&
	    r->element[2]->type == REDIS_REPLY_STRING)
		store_event(r->element[2]->str, r->element[2]->len);
}

/*
 * The link dropped for r, a reply to what that is an error or of the
 * wrong shape; the script's errors about the store itself in words.
 */
void
store_lost_reply(const char *what, const redisReply *r)
{
	const char	*p;
	char		 err[128];

	if ((p = store_error(r, "DNS44RANGE")) != NULL)
		store_lost("it holds the map of another range (%s); every "
		    "gateway must have the same range",
		    store_text(p, err, sizeof(err)));
	else if ((p = store_error(r, "DNS44PERIOD")) != NULL)
		store_lost("dns44:period holds %s, not a number of seconds "
		    "from 1 to 86400: the answers in the store cannot be read "
		    "until it is set back", store_text(p, err, sizeof(err)));
	else if (r->type == REDIS_REPLY_ERROR)
		store_lost("%s: %s", what, store_text(r->str, err,
		    sizeof(err)));
	else
		store_lost("%s: unexpected reply", what);
}

/*
 * Whether r is the script's error code, which Redis may have prefixed
 * with "ERR ": what follows the code, or NULL.
 */
const char *
store_error(const redisReply *r, const char *code)
{
	const char	*s = r->str;
	size_t		 n = strlen(code);

	if (r->type != REDIS_REPLY_ERROR)
		return (NULL);
	if (strncmp(s, "ERR ", 4) == 0)
		s += 4;
	if (strncmp(s, code, n) != 0 || (s[n] != '\0' && s[n] != ' '))
		return (NULL);
	return (s[n] == ' ' ? s + n + 1 : s + n);
}

/* What a server said, fit for the journal: printable ASCII, cut short. */
const char *
store_text(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		buf[i] = (unsigned char)s[i] >= ' ' &&
		    (unsigned char)s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return (buf);
}

/* A dotted quad of len bytes, to host order. */

/* The same, of an address inside the range. */

/* A name of len bytes, as the map keeps names, or -1. */

/* dns44ctl flushed a name here: so it is everywhere. */

/* A server that hangs, link open, fails this in time. */
void
store_ping(void)
{
	struct store_req	*r;
	const char		*argv[] = { "PING" };

	if (store_st.state != STORE_UP || !TAILQ_EMPTY(&store_st.reqs) ||
	    (r = store_req_new(STORE_K_SETUP, NULL, NULL)) == NULL)
		return;
	(void)store_send(store_st.cmd, r, store_ping_cb, 1, argv);
}

static void
store_ping_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)ac;
	store_req_done(priv, reply == NULL ? STORE_DOWN : STORE_OK, 0);
}

