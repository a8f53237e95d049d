/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store.c: the map shared with other gateways, kept in Redis and used by
 * the dns process through hiredis's asynchronous API on its event loop.
 *
 * The store is the one truth for allocation: a new name's address is
 * chosen by one server-side script, with the placement map.c uses (a
 * keyed hash of the name, then the next free address), and the name and
 * its address are written together.  Every change is published; each
 * gateway applies what it hears to its own map, which answers known
 * names without asking anyone.  A gateway that (re)connects reads the
 * whole store before it trusts its map again.  Last-answer times and
 * the pins of connections in use are written to the store too, so that
 * an address is reused only when no gateway answered it within TTL and
 * grace and none holds a connection on it (pins are leases a live
 * gateway renews).
 *
 * Keys: dns44:range ("first size"), dns44:name (hash name -> address),
 * dns44:addr (hash address -> name), dns44:used (a bit per address),
 * dns44:answered (sorted set, address by last answer), dns44:pin:ADDR
 * (sorted set, gateway by lease end); the channel dns44:events carries
 * "+ ADDR NAME" and "- ADDR NAME".  Everything Redis sends is checked
 * as any network input is: a reply of the wrong shape drops the link.
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
#include <hiredis/adapters/libevent.h>

#include "dns44.h"
#include "log.h"
#include "map.h"
#include "proc.h"
#include "store.h"
#include "wire.h"

#define STORE_TICK_MS		200	/* timeouts and retries looked at */
#define STORE_TIMEOUT_MS	1000	/* a request, or a connection */
#define STORE_RETRY_MS		1000	/* after a lost link */
#define STORE_PENDING_MAX	4096	/* requests in flight */
#define STORE_SCAN_COUNT	"1000"	/* names a step of the reading */
#define STORE_LEASE_SEC		30	/* a pin outlives its gateway */
#define STORE_RENEW_SEC		10
#define STORE_BATCH		256	/* answered times a command */
#define STORE_SYNC_SEC		5	/* dns.c writes them this often */
#define STORE_WAIT_MS		"1000"	/* for replicas to acknowledge */
#define STORE_IMPORT_BATCH	500	/* names a script call */

#define STORE_CHANNEL		"dns44:events"

enum store_state {
	STORE_IDLE,		/* no link; retried after STORE_RETRY_MS */
	STORE_SENTINEL,		/* asking a Sentinel for the primary */
	STORE_CONNECT,		/* the primary's links being set up */
	STORE_LOADING,		/* reading the whole map */
	STORE_UP,
};

enum store_kind {
	STORE_K_ASSIGN,
	STORE_K_WAIT,		/* an assignment waiting for replicas */
	STORE_K_FIND,
	STORE_K_SETUP,		/* of the link itself: no caller */
};

struct store_req {
	TAILQ_ENTRY(store_req)	 entry;
	enum store_kind		 kind;
	store_cb		 cb;		/* NULL: cancelled */
	void			*arg;
	uint64_t		 deadline;	/* ms, monotonic */
	uint32_t		 addr;		/* host order */
	char			 name[WIRE_TEXT_MAX + 1]; /* assigned */
};

static struct {
	struct event_base	*base;
	struct map		*map;
	redisAsyncContext	*cmd;		/* commands */
	redisAsyncContext	*sub;		/* the channel */
	redisAsyncContext	*sen;		/* a Sentinel */
	enum store_state	 state;
	uint64_t		 since;		/* state entered, ms */
	int			 sentinel;	/* the next one asked */
	struct sockaddr_in	 primary;
	char			 sha[41];	/* the script's, once loaded */
	char			 gateway[17];	/* ours, in the pins */
	TAILQ_HEAD(, store_req)	 reqs;		/* oldest first */
	size_t			 nreqs;
	struct event		 ev_tick;
	time_t			 flushed;	/* answered times sent up to */
	time_t			 renewed;	/* leases last renewed */
	size_t			 loaded;
	int			 inited;	/* INIT answered: 1, or 2 */
	int			 subscribed;	/* first empty; we bring ours */
	uint32_t		 cursor;	/* next index brought */
	size_t			 brought;
	int			 warned;	/* of this outage */
	struct store_stats	 stats;
	struct log_rate		 rl;
} st;

/*
 * The one script: "init" records the range (or finds the one recorded
 * the same; 1 when the store was empty), "assign" gives a name its
 * address, "import" writes names with their addresses where both are
 * free, "remove" forgets one.
 * ARGV: op, first address, size, now, then the op's own.
 */
static const char store_script[] =
"local op = ARGV[1]\n"
"local first, size, now = tonumber(ARGV[2]), tonumber(ARGV[3]), "
    "tonumber(ARGV[4])\n"
"local want = ARGV[2] .. ' ' .. ARGV[3]\n"
"local nbits = math.ceil(size / 8) * 8\n"
"local range = redis.call('GET', KEYS[1])\n"
"if op == 'init' then\n"
"  if range then\n"
"    if range ~= want then\n"
"      return redis.error_reply('DNS44RANGE ' .. range)\n"
"    end\n"
"    return 0\n"
"  end\n"
"  if redis.call('HLEN', KEYS[2]) ~= 0 then\n"
"    return redis.error_reply('DNS44RANGE none, but names')\n"
"  end\n"
"  redis.call('SET', KEYS[1], want)\n"
"  redis.call('DEL', KEYS[4], KEYS[5])\n"
"  redis.call('SETBIT', KEYS[4], nbits - 1, 0)\n"
"  for i = size, nbits - 1 do redis.call('SETBIT', KEYS[4], i, 1) end\n"
"  return 1\n"
"end\n"
"if range ~= want then\n"
"  return redis.error_reply('DNS44RANGE ' .. tostring(range))\n"
"end\n"
"if op == 'assign' then\n"
"  local name, start, hold = ARGV[5], tonumber(ARGV[6]), "
    "tonumber(ARGV[7])\n"
"  local a = redis.call('HGET', KEYS[2], name)\n"
"  if a then\n"
"    redis.call('ZADD', KEYS[5], 'XX', 'GT', now, a)\n"
"    return {a, 0}\n"
"  end\n"
"  local i = redis.call('BITPOS', KEYS[4], 0, start, nbits - 1, 'BIT')\n"
"  if i < 0 and start > 0 then\n"
"    i = redis.call('BITPOS', KEYS[4], 0, 0, start - 1, 'BIT')\n"
"  end\n"
"  if i >= 0 and i < size then\n"
"    local n = first + i\n"
"    a = string.format('%d.%d.%d.%d', math.floor(n / 16777216) % 256, "
    "math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)\n"
"    redis.call('SETBIT', KEYS[4], i, 1)\n"
"  else\n"
"    local c = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now - hold, "
    "'LIMIT', 0, 64)\n"
"    for _, v in ipairs(c) do\n"
"      local old = redis.call('HGET', KEYS[3], v)\n"
"      if not old then\n"
"        redis.call('ZREM', KEYS[5], v)\n"
"      elseif redis.call('ZCOUNT', 'dns44:pin:' .. v, now, '+inf') == 0 "
    "then\n"
"        redis.call('HDEL', KEYS[2], old)\n"
"        redis.call('DEL', 'dns44:pin:' .. v)\n"
"        redis.call('PUBLISH', '" STORE_CHANNEL "', '- ' .. v .. ' ' .. "
    "old)\n"
"        a = v\n"
"        break\n"
"      end\n"
"    end\n"
"    if not a then return redis.error_reply('DNS44FULL') end\n"
"  end\n"
"  redis.call('HSET', KEYS[2], name, a)\n"
"  redis.call('HSET', KEYS[3], a, name)\n"
"  redis.call('ZADD', KEYS[5], now, a)\n"
"  redis.call('PUBLISH', '" STORE_CHANNEL "', '+ ' .. a .. ' ' .. name)\n"
"  return {a, 1}\n"
"end\n"
"if op == 'import' then\n"
"  local n = 0\n"
"  for j = 5, #ARGV, 3 do\n"
"    local name, i, t = ARGV[j], tonumber(ARGV[j + 1]), ARGV[j + 2]\n"
"    if i < size and redis.call('HEXISTS', KEYS[2], name) == 0 and\n"
"        redis.call('GETBIT', KEYS[4], i) == 0 then\n"
"      local m = first + i\n"
"      local a = string.format('%d.%d.%d.%d', "
    "math.floor(m / 16777216) % 256, math.floor(m / 65536) % 256, "
    "math.floor(m / 256) % 256, m % 256)\n"
"      redis.call('HSET', KEYS[2], name, a)\n"
"      redis.call('HSET', KEYS[3], a, name)\n"
"      redis.call('SETBIT', KEYS[4], i, 1)\n"
"      redis.call('ZADD', KEYS[5], t, a)\n"
"      n = n + 1\n"
"    end\n"
"  end\n"
"  return n\n"
"end\n"
"if op == 'remove' then\n"
"  local name, a, i = ARGV[5], ARGV[6], tonumber(ARGV[7])\n"
"  if redis.call('HGET', KEYS[2], name) ~= a then return 0 end\n"
"  redis.call('HDEL', KEYS[2], name)\n"
"  redis.call('HDEL', KEYS[3], a)\n"
"  redis.call('ZREM', KEYS[5], a)\n"
"  redis.call('DEL', 'dns44:pin:' .. a)\n"
"  redis.call('SETBIT', KEYS[4], i, 0)\n"
"  redis.call('PUBLISH', '" STORE_CHANNEL "', '- ' .. a .. ' ' .. name)\n"
"  return 1\n"
"end\n"
"return redis.error_reply('DNS44OP ' .. tostring(op))\n";

#define STORE_KEYS	"5", "dns44:range", "dns44:name", "dns44:addr", \
			"dns44:used", "dns44:answered"
#define STORE_NKEYS	6		/* the count and the keys */

static uint64_t	store_now_ms(void);
static void	store_tick(int, short, void *);
static void	store_set_state(enum store_state);
static void	store_connect(void);
static void	store_connect_primary(void);
static redisAsyncContext *store_link(const struct sockaddr_in *);
static void	store_lost(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	store_drop(redisAsyncContext **);
static void	store_on_connect(const redisAsyncContext *, int);
static void	store_on_disconnect(const redisAsyncContext *, int);
static struct store_req *store_req_new(enum store_kind, store_cb, void *);
static void	store_req_done(struct store_req *, enum store_status,
		    uint32_t);
static int	store_send(redisAsyncContext *, struct store_req *, int,
		    const char **);
static void	store_script_args(const char **, char *, size_t, char *,
		    size_t, char *, const char *);
static void	store_sentinel_cb(redisAsyncContext *, void *, void *);
static void	store_setup_cb(redisAsyncContext *, void *, void *);
static void	store_sub_cb(redisAsyncContext *, void *, void *);
static void	store_load(void);
static void	store_import(void);
static void	store_import_cb(redisAsyncContext *, void *, void *);
static void	store_scan(const char *);
static void	store_scan_cb(redisAsyncContext *, void *, void *);
static void	store_assign_cb(redisAsyncContext *, void *, void *);
static void	store_find_cb(redisAsyncContext *, void *, void *);
static int	store_ipv4(const char *, size_t, uint32_t *);
static int	store_addr(const char *, size_t, uint32_t *);
static int	store_name(const char *, size_t, char *, size_t);
static void	store_event(const char *, size_t);
static void	store_put(struct store_req *);
static void	store_ping_cb(redisAsyncContext *, void *, void *);
static const char *store_error(const redisReply *, const char *);
static const char *store_text(const char *, char *, size_t);
static void	store_touched(const struct map_entry *, time_t);
static void	store_pin_send(uint32_t, int, time_t);

static uint64_t
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

	st.base = base;
	st.map = map;
	TAILQ_INIT(&st.reqs);
	arc4random_buf(id, sizeof(id));
	for (i = 0; i < sizeof(id); i++)
		snprintf(st.gateway + 2 * i, 3, "%02x", id[i]);
	st.flushed = st.renewed = time(NULL);
	st.sentinel = 0;
	event_set(&st.ev_tick, -1, EV_PERSIST, store_tick, NULL);
	event_base_set(base, &st.ev_tick);
	event_add(&st.ev_tick, &tv);
	map_set_touch(map, store_touched, STORE_SYNC_SEC);
	store_connect();
}

void
store_shutdown(void)
{
	event_del(&st.ev_tick);
	store_drop(&st.sen);
	store_drop(&st.cmd);
	store_drop(&st.sub);
}

/* Whether new names may be asked of the store now. */
int
store_ready(void)
{
	return (st.state == STORE_UP || st.state == STORE_LOADING);
}

void
store_stats(struct store_stats *s)
{
	*s = st.stats;
	s->up = st.state == STORE_UP;
}

static void
store_set_state(enum store_state s)
{
	st.state = s;
	st.since = store_now_ms();
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
	switch (st.state) {
	case STORE_IDLE:
		if (now - st.since >= STORE_RETRY_MS)
			store_connect();
		return;
	case STORE_SENTINEL:
	case STORE_CONNECT:
		if (now - st.since >= STORE_TIMEOUT_MS)
			store_lost("%s timed out", st.state == STORE_SENTINEL ?
			    "asking the Sentinel" : "connecting");
		return;
	case STORE_LOADING:
	case STORE_UP:
		if ((r = TAILQ_FIRST(&st.reqs)) != NULL && now > r->deadline)
			store_lost("no answer within %d ms", STORE_TIMEOUT_MS);
		return;
	}
}

static void
store_connect(void)
{
	char	a[INET_ADDRSTRLEN];

	if (conf->sentinel_count == 0) {
		st.primary = conf->redis;
		store_connect_primary();
		return;
	}
	st.sentinel %= conf->sentinel_count;
	store_set_state(STORE_SENTINEL);
	if ((st.sen = store_link(&conf->sentinels[st.sentinel])) == NULL) {
		store_lost("Sentinel %s: cannot connect", inet_ntop(AF_INET,
		    &conf->sentinels[st.sentinel].sin_addr, a, sizeof(a)));
		return;
	}
	if (redisAsyncCommand(st.sen, store_sentinel_cb, NULL,
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
	if (redisLibeventAttach(ac, st.base) != REDIS_OK) {
		redisAsyncFree(ac);
		return (NULL);
	}
	redisAsyncSetConnectCallback(ac, store_on_connect);
	redisAsyncSetDisconnectCallback(ac, store_on_disconnect);
	return (ac);
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
	if (ac != st.sen || st.state != STORE_SENTINEL)
		return;
	if (r == NULL) {
		store_lost("Sentinel: link lost");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    store_ipv4(r->element[0]->str, r->element[0]->len, &addr) == -1 ||
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
	memset(&st.primary, 0, sizeof(st.primary));
	st.primary.sin_family = AF_INET;
	st.primary.sin_addr.s_addr = htonl(addr);
	st.primary.sin_port = htons((in_port_t)port);
	/* Freed once this callback returns. */
	st.sen = NULL;
	redisAsyncDisconnect(ac);
	store_connect_primary();
}

/*
 * Both links to the primary, their commands queued at once: AUTH, then
 * on the one ROLE (a demoted primary is not written to), the script and
 * its init, on the other SUBSCRIBE; the reading of the map starts when
 * the subscription holds, so that no change falls between the two.
 */
static void
store_connect_primary(void)
{
	const char		*argv[6 + STORE_NKEYS];
	char			 first[16], size[16], now[24];
	int			 i, ok = 1;

	store_set_state(STORE_CONNECT);
	st.sha[0] = '\0';
	st.inited = st.subscribed = 0;
	if ((st.cmd = store_link(&st.primary)) == NULL ||
	    (st.sub = store_link(&st.primary)) == NULL) {
		store_lost("cannot connect");
		return;
	}
	for (i = 0; i < 2 && conf->redis_password[0] != '\0'; i++)
		ok &= redisAsyncCommand(i ? st.sub : st.cmd, store_setup_cb,
		    "AUTH", "AUTH %s", conf->redis_password) == REDIS_OK;
	ok &= redisAsyncCommand(st.cmd, store_setup_cb, "ROLE", "ROLE") ==
	    REDIS_OK;
	ok &= redisAsyncCommand(st.cmd, store_setup_cb, "SCRIPT",
	    "SCRIPT LOAD %s", store_script) == REDIS_OK;
	/* EVAL, not EVALSHA: the script may not be loaded yet. */
	argv[0] = "EVAL";
	argv[1] = store_script;
	store_script_args(argv + 2, first, sizeof(first), size, sizeof(size),
	    now, "init");
	ok &= redisAsyncCommandArgv(st.cmd, store_setup_cb, "INIT",
	    2 + STORE_NKEYS + 4, argv, NULL) == REDIS_OK;
	ok &= redisAsyncCommand(st.sub, store_sub_cb, NULL,
	    "SUBSCRIBE " STORE_CHANNEL) == REDIS_OK;
	if (!ok)
		store_lost("cannot send");
}

/* argv: the keys and the four common arguments, the strings in bufs. */
static void
store_script_args(const char **argv, char *first, size_t firstlen,
    char *size, size_t sizelen, char *now, const char *op)
{
	static const char	*keys[STORE_NKEYS] = { STORE_KEYS };
	size_t			 i;

	for (i = 0; i < STORE_NKEYS; i++)
		argv[i] = keys[i];
	snprintf(first, firstlen, "%u", conf->range_first);
	snprintf(size, sizelen, "%u", conf->range_last - conf->range_first +
	    1);
	snprintf(now, 24, "%lld", (long long)time(NULL));
	argv[STORE_NKEYS] = op;
	argv[STORE_NKEYS + 1] = first;
	argv[STORE_NKEYS + 2] = size;
	argv[STORE_NKEYS + 3] = now;
}

/* A failed link is freed by hiredis itself once this returns. */
static void
store_on_connect(const redisAsyncContext *ac, int status)
{
	if (status == REDIS_OK)
		return;
	if (ac == st.cmd)
		st.cmd = NULL;
	else if (ac == st.sub)
		st.sub = NULL;
	else if (ac == st.sen)
		st.sen = NULL;
	else
		return;
	store_lost("cannot connect: %s", ac->errstr);
}

static void
store_on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	/* Those we dropped ourselves are no longer ours. */
	if (ac == st.cmd)
		st.cmd = NULL;
	else if (ac == st.sub)
		st.sub = NULL;
	else if (ac == st.sen)
		st.sen = NULL;
	else
		return;
	store_lost("link lost%s%s", ac->errstr[0] != '\0' ? ": " : "",
	    ac->errstr);
}

/*
 * The link is gone or not to be trusted: both links dropped, every
 * request failed, a retry later.  Told once an outage, and how long the
 * gateway answers from what it has.
 */
static void
store_lost(const char *fmt, ...)
{
	va_list	ap;
	char	msg[256], a[INET_ADDRSTRLEN];
	int	was = st.state;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	store_set_state(STORE_IDLE);
	store_drop(&st.sen);
	store_drop(&st.cmd);
	store_drop(&st.sub);
	if (conf->sentinel_count > 0)
		st.sentinel++;
	inet_ntop(AF_INET, &st.primary.sin_addr, a, sizeof(a));
	if (was == STORE_UP || was == STORE_LOADING || !st.warned) {
		st.stats.outages += was == STORE_UP;
		log_warnx("map store %s:%u: %s; known names are answered from "
		    "memory, new names get SERVFAIL until it is back", a,
		    ntohs(st.primary.sin_port), msg);
		st.warned = 1;
	} else
		log_debug("map store %s:%u: %s", a, ntohs(st.primary.sin_port),
		    msg);
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

static struct store_req *
store_req_new(enum store_kind kind, store_cb cb, void *arg)
{
	struct store_req	*r;

	if (st.nreqs >= STORE_PENDING_MAX || (r = calloc(1, sizeof(*r))) ==
	    NULL)
		return (NULL);
	r->kind = kind;
	r->cb = cb;
	r->arg = arg;
	r->deadline = store_now_ms() + STORE_TIMEOUT_MS;
	return (r);
}

/* r handed to hiredis, whose callback will see it again; -1 if not. */
static int
store_send(redisAsyncContext *ac, struct store_req *r, int argc,
    const char **argv)
{
	redisCallbackFn	*fn;

	switch (r->kind) {
	case STORE_K_FIND:
		fn = store_find_cb;
		break;
	default:
		fn = store_assign_cb;
		break;
	}
	if (ac == NULL || redisAsyncCommandArgv(ac, fn, r, argc, argv,
	    NULL) != REDIS_OK) {
		free(r);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&st.reqs, r, entry);
	st.nreqs++;
	return (0);
}

/* The request leaves the list; its caller, if any, is told. */
static void
store_req_done(struct store_req *r, enum store_status s, uint32_t addr)
{
	TAILQ_REMOVE(&st.reqs, r, entry);
	st.nreqs--;
	if (s == STORE_DOWN && r->kind != STORE_K_SETUP)
		st.stats.failures++;
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
	const char	*what = priv, *p;
	char		 err[128];
	size_t		 i;

	if (ac != st.cmd && ac != st.sub)
		return;
	if (r == NULL) {
		store_lost("%s: link lost", what);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if ((p = store_error(r, "DNS44RANGE")) != NULL)
			store_lost("it holds the map of another range (%s); "
			    "every gateway must have the same range",
			    store_text(p, err, sizeof(err)));
		else
			store_lost("%s: %s", what, store_text(r->str, err,
			    sizeof(err)));
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
		memcpy(st.sha, r->str, 40);
		st.sha[40] = '\0';
	} else if (r->type != REDIS_REPLY_INTEGER ||
	    (r->integer != 0 && r->integer != 1))
		store_lost("the map's range: unexpected reply");
	else {
		st.inited = 1 + (int)r->integer;
		store_load();
	}
}

/* The channel: its confirmation starts the reading; then the changes. */
static void
store_sub_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply, *kind;

	(void)priv;
	if (ac != st.sub)
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
		st.subscribed = 1;
		store_load();
		return;
	}
	if (strcmp(kind->str, "message") == 0 &&
	    r->element[2]->type == REDIS_REPLY_STRING)
		store_event(r->element[2]->str, r->element[2]->len);
}

/* "+ ADDR NAME" or "- ADDR NAME", from any gateway, ours included. */
static void
store_event(const char *s, size_t len)
{
	const char	*sp;
	uint32_t	 addr;
	char		 name[WIRE_TEXT_MAX + 1];

	if (len < 4 || (s[0] != '+' && s[0] != '-') || s[1] != ' ' ||
	    (sp = memchr(s + 2, ' ', len - 2)) == NULL ||
	    store_addr(s + 2, sp - (s + 2), &addr) == -1 ||
	    store_name(sp + 1, len - (sp + 1 - s), name, sizeof(name)) == -1) {
		log_rate(&st.rl, LOG_WARNING, "map store: a change of an "
		    "unknown form ignored");
		return;
	}
	if (s[0] == '+') {
		if (map_put(st.map, name, addr, 0) == NULL)
			log_rate(&st.rl, LOG_WARNING, "map store: %s",
			    strerror(errno));
	} else
		(void)map_drop(st.map, name, addr);
}

/*
 * Once the range is agreed and the channel holds, the store is read; a
 * store found empty first gets this gateway's map, so that a gateway
 * alone until now keeps every answer it gave when others join it.
 */
static void
store_load(void)
{
	if (st.state != STORE_CONNECT || !st.inited || !st.subscribed)
		return;
	store_set_state(STORE_LOADING);
	st.loaded = 0;
	if (st.inited == 2 && map_count(st.map) > 0) {
		st.cursor = 0;
		st.brought = 0;
		store_import();
		return;
	}
	map_mark_clear(st.map);
	store_scan("0");
}

/* The next STORE_IMPORT_BATCH names of the map, by address, to the store. */
static void
store_import(void)
{
	struct store_req	*r;
	struct map_entry	*e;
	const char		*argv[6 + STORE_NKEYS + 3 * STORE_IMPORT_BATCH];
	char			 first[16], size[16], now[24];
	char			 idx[STORE_IMPORT_BATCH][12];
	char			 t[STORE_IMPORT_BATCH][24];
	uint32_t		 n = 0, total = map_size(st.map);

	argv[0] = "EVALSHA";
	argv[1] = st.sha;
	store_script_args(argv + 2, first, sizeof(first), size, sizeof(size),
	    now, "import");
	for (; st.cursor < total && n < STORE_IMPORT_BATCH; st.cursor++) {
		if ((e = map_lookup_addr(st.map, conf->range_first +
		    st.cursor)) == NULL)
			continue;
		snprintf(idx[n], sizeof(idx[n]), "%u", st.cursor);
		snprintf(t[n], sizeof(t[n]), "%lld", (long long)e->answered);
		argv[2 + STORE_NKEYS + 4 + 3 * n] = e->name;
		argv[2 + STORE_NKEYS + 4 + 3 * n + 1] = idx[n];
		argv[2 + STORE_NKEYS + 4 + 3 * n + 2] = t[n];
		n++;
	}
	if (n == 0) {
		log_info("map store: %zu names brought from this gateway's "
		    "map into the empty store", st.brought);
		map_mark_clear(st.map);
		store_scan("0");
		return;
	}
	if ((r = store_req_new(STORE_K_SETUP, NULL, NULL)) == NULL) {
		store_lost("out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&st.reqs, r, entry);
	st.nreqs++;
	/* hiredis copies the arguments: the names may go meanwhile. */
	if (redisAsyncCommandArgv(st.cmd, store_import_cb, r,
	    2 + STORE_NKEYS + 4 + 3 * n, argv, NULL) != REDIS_OK) {
		TAILQ_REMOVE(&st.reqs, r, entry);
		st.nreqs--;
		free(r);
		store_lost("cannot send");
	}
}

static void
store_import_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply;
	char		 err[128];

	store_req_done(priv, r == NULL ? STORE_DOWN : STORE_OK, 0);
	if (ac != st.cmd || st.state != STORE_LOADING)
		return;
	if (r == NULL) {
		store_lost("bringing the map: link lost");
		return;
	}
	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
		store_lost("bringing the map: %s", r->type ==
		    REDIS_REPLY_ERROR ? store_text(r->str, err, sizeof(err)) :
		    "unexpected reply");
		return;
	}
	st.brought += r->integer;
	store_import();
}

/* One step of the reading of dns44:addr, from cursor. */
static void
store_scan(const char *cursor)
{
	struct store_req	*r;
	const char		*argv[] = { "HSCAN", "dns44:addr", cursor,
				    "COUNT", STORE_SCAN_COUNT };

	if ((r = store_req_new(STORE_K_SETUP, NULL, NULL)) == NULL) {
		store_lost("out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&st.reqs, r, entry);
	st.nreqs++;
	if (redisAsyncCommandArgv(st.cmd, store_scan_cb, r, 5, argv, NULL) !=
	    REDIS_OK) {
		TAILQ_REMOVE(&st.reqs, r, entry);
		st.nreqs--;
		free(r);
		store_lost("cannot send");
	}
}

static void
store_scan_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply, *list;
	uint32_t	 addr;
	size_t		 i, gone;
	char		 name[WIRE_TEXT_MAX + 1], cursor[32], a[INET_ADDRSTRLEN];
	time_t		 now = time(NULL);

	store_req_done(priv, r == NULL ? STORE_DOWN : STORE_OK, 0);
	if (ac != st.cmd || st.state != STORE_LOADING)
		return;
	if (r == NULL) {
		store_lost("reading the map: link lost");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len >= sizeof(cursor) ||
	    (list = r->element[1])->type != REDIS_REPLY_ARRAY ||
	    list->elements % 2 != 0) {
		store_lost("HSCAN: unexpected reply");
		return;
	}
	for (i = 0; i < list->elements; i += 2) {
		if (list->element[i]->type != REDIS_REPLY_STRING ||
		    list->element[i + 1]->type != REDIS_REPLY_STRING ||
		    store_addr(list->element[i]->str, list->element[i]->len,
		    &addr) == -1 || store_name(list->element[i + 1]->str,
		    list->element[i + 1]->len, name, sizeof(name)) == -1) {
			log_rate(&st.rl, LOG_WARNING, "map store: a record of "
			    "an unknown form ignored");
			continue;
		}
		if (map_put(st.map, name, addr, 0) == NULL) {
			store_lost("reading the map: %s", strerror(errno));
			return;
		}
		st.loaded++;
	}
	memcpy(cursor, r->element[0]->str, r->element[0]->len);
	cursor[r->element[0]->len] = '\0';
	if (strcmp(cursor, "0") != 0) {
		store_scan(cursor);
		return;
	}
	gone = map_sweep(st.map);
	store_set_state(STORE_UP);
	st.warned = 0;
	/* Our pins, at once: they may have lapsed while we were away. */
	st.renewed = 0;
	store_sync(now);
	inet_ntop(AF_INET, &st.primary.sin_addr, a, sizeof(a));
	log_info("map store %s:%u: up, %zu names read, %zu forgotten", a,
	    ntohs(st.primary.sin_port), st.loaded, gone);
}

/*
 * A new name's address, from the store, into the map: cb with STORE_OK
 * and the address once it is there (and, with database wait, on as many
 * replicas), or why not.  NULL when it cannot be asked now: the caller
 * answers SERVFAIL.
 */
struct store_req *
store_assign(const char *name, time_t now, store_cb cb, void *arg)
{
	struct store_req	*r;
	const char		*argv[9 + STORE_NKEYS];
	char			 first[16], size[16], t[24], start[16], hold[16];

	if (!store_ready() || st.sha[0] == '\0' ||
	    (r = store_req_new(STORE_K_ASSIGN, cb, arg)) == NULL)
		return (NULL);
	strlcpy(r->name, name, sizeof(r->name));
	argv[0] = "EVALSHA";
	argv[1] = st.sha;
	store_script_args(argv + 2, first, sizeof(first), size, sizeof(size),
	    t, "assign");
	snprintf(t, sizeof(t), "%lld", (long long)now);
	argv[2 + STORE_NKEYS + 4] = name;
	snprintf(start, sizeof(start), "%u", map_place(st.map, name));
	argv[2 + STORE_NKEYS + 5] = start;
	/*
	 * The store's time of an answer may be STORE_SYNC_SEC old (see
	 * store_touched()), and clocks a second apart.
	 */
	snprintf(hold, sizeof(hold), "%u", conf->ttl + conf->grace_ms / 1000 +
	    STORE_SYNC_SEC + 1);
	argv[2 + STORE_NKEYS + 6] = hold;
	if (store_send(st.cmd, r, 2 + STORE_NKEYS + 7, argv) == -1)
		return (NULL);
	return (r);
}

static void
store_assign_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_req	*q = priv;
	redisReply		*r = reply, *a;
	uint32_t		 addr;
	char			 n[8], err[128];
	int			 isnew;

	if (r == NULL || ac != st.cmd) {
		store_req_done(q, STORE_DOWN, 0);
		return;
	}
	if (q->kind == STORE_K_WAIT) {
		if (r->type == REDIS_REPLY_INTEGER &&
		    r->integer >= (long long)conf->redis_wait)
			store_put(q);
		else {
			log_rate(&st.rl, LOG_WARNING, "map store: a new name "
			    "reached %lld of %u replicas in time; SERVFAIL",
			    r->type == REDIS_REPLY_INTEGER ? r->integer : -1LL,
			    conf->redis_wait);
			store_req_done(q, STORE_DOWN, 0);
		}
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (store_error(r, "DNS44FULL") != NULL) {
			store_req_done(q, STORE_FULL, 0);
			return;
		}
		store_req_done(q, STORE_DOWN, 0);
		store_lost("assigning: %s", store_text(r->str, err,
		    sizeof(err)));
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (a = r->element[0])->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    store_addr(a->str, a->len, &addr) == -1) {
		store_req_done(q, STORE_DOWN, 0);
		store_lost("assigning: unexpected reply");
		return;
	}
	isnew = r->element[1]->integer == 1;
	q->addr = addr;
	if (isnew)
		st.stats.assigned++;
	if (!isnew || conf->redis_wait == 0) {
		store_put(q);
		return;
	}
	/* Answered once as many replicas have it: a failover keeps it. */
	TAILQ_REMOVE(&st.reqs, q, entry);
	q->kind = STORE_K_WAIT;
	q->deadline = store_now_ms() + STORE_TIMEOUT_MS + 1000;
	TAILQ_INSERT_TAIL(&st.reqs, q, entry);
	snprintf(n, sizeof(n), "%u", conf->redis_wait);
	if (redisAsyncCommand(st.cmd, store_assign_cb, q, "WAIT %s %s", n,
	    STORE_WAIT_MS) != REDIS_OK)
		store_req_done(q, STORE_DOWN, 0);
}

/* An assigned name into the map, and its caller told. */
static void
store_put(struct store_req *q)
{
	/* Answered here once the caller replies; a lookup's is not. */
	if (map_put(st.map, q->name, q->addr, q->kind == STORE_K_FIND ? 0 :
	    time(NULL)) == NULL) {
		log_rate(&st.rl, LOG_WARNING, "map store: %s: %s", q->name,
		    strerror(errno));
		store_req_done(q, STORE_DOWN, 0);
		return;
	}
	store_req_done(q, STORE_OK, q->addr);
}

/*
 * Who holds addr (host order), asked of the store when the map does not
 * know it: another gateway may have given it a moment ago.  cb with
 * STORE_OK once the map has it, STORE_NONE when nobody does.
 */
struct store_req *
store_find(uint32_t addr, store_cb cb, void *arg)
{
	struct store_req	*r;
	struct in_addr		 in;
	const char		*argv[3];
	char			 a[INET_ADDRSTRLEN];

	if (st.state != STORE_UP ||
	    (r = store_req_new(STORE_K_FIND, cb, arg)) == NULL)
		return (NULL);
	r->addr = addr;
	in.s_addr = htonl(addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	argv[0] = "HGET";
	argv[1] = "dns44:addr";
	argv[2] = a;
	if (store_send(st.cmd, r, 3, argv) == -1)
		return (NULL);
	return (r);
}

static void
store_find_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_req	*q = priv;
	redisReply		*r = reply;

	if (r == NULL || ac != st.cmd) {
		store_req_done(q, STORE_DOWN, 0);
		return;
	}
	if (r->type == REDIS_REPLY_NIL) {
		store_req_done(q, STORE_NONE, 0);
		return;
	}
	if (r->type != REDIS_REPLY_STRING ||
	    store_name(r->str, r->len, q->name, sizeof(q->name)) == -1) {
		store_req_done(q, STORE_DOWN, 0);
		store_lost("HGET: unexpected reply");
		return;
	}
	store_put(q);
}

/*
 * Whether r is the script's error code, which Redis may have prefixed
 * with "ERR ": what follows the code, or NULL.
 */
static const char *
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
static const char *
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
static int
store_ipv4(const char *s, size_t len, uint32_t *addr)
{
	struct in_addr	in;
	char		buf[INET_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
		return (-1);
	*addr = ntohl(in.s_addr);
	return (0);
}

/* The same, of an address inside the range. */
static int
store_addr(const char *s, size_t len, uint32_t *addr)
{
	if (store_ipv4(s, len, addr) == -1 || *addr < conf->range_first ||
	    *addr > conf->range_last)
		return (-1);
	return (0);
}

/* A name of len bytes, as the map keeps names, or -1. */
static int
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
 * A connection began (on set) or the last one ended on addr: this
 * gateway's lease on it, or none.  While the store is away nothing is
 * sent; the leases are renewed when it is back.
 */
void
store_pin(uint32_t addr, int on)
{
	if (st.state == STORE_UP)
		store_pin_send(addr, on, time(NULL));
}

static void
store_pin_send(uint32_t addr, int on, time_t now)
{
	struct in_addr	in;
	char		key[sizeof("dns44:pin:") + INET_ADDRSTRLEN], t[24];
	char		a[INET_ADDRSTRLEN];

	in.s_addr = htonl(addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(key, sizeof(key), "dns44:pin:%s", a);
	if (!on) {
		(void)redisAsyncCommand(st.cmd, NULL, NULL, "ZREM %s %s", key,
		    st.gateway);
		return;
	}
	snprintf(t, sizeof(t), "%lld", (long long)now + STORE_LEASE_SEC);
	(void)redisAsyncCommand(st.cmd, NULL, NULL, "ZADD %s %s %s", key, t,
	    st.gateway);
	snprintf(t, sizeof(t), "%d", 2 * STORE_LEASE_SEC);
	(void)redisAsyncCommand(st.cmd, NULL, NULL, "EXPIRE %s %s", key, t);
}

/* dns44ctl flushed a name here: so it is everywhere. */
void
store_remove(const char *name, uint32_t addr)
{
	struct in_addr	 in;
	const char	*argv[9 + STORE_NKEYS];
	char		 first[16], size[16], t[24], a[INET_ADDRSTRLEN];
	char		 idx[16];

	if (st.state != STORE_UP || st.sha[0] == '\0')
		return;
	in.s_addr = htonl(addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(idx, sizeof(idx), "%u", addr - conf->range_first);
	argv[0] = "EVALSHA";
	argv[1] = st.sha;
	store_script_args(argv + 2, first, sizeof(first), size, sizeof(size),
	    t, "remove");
	argv[2 + STORE_NKEYS + 4] = name;
	argv[2 + STORE_NKEYS + 5] = a;
	argv[2 + STORE_NKEYS + 6] = idx;
	(void)redisAsyncCommandArgv(st.cmd, NULL, NULL, 2 + STORE_NKEYS + 7,
	    argv, NULL);
}

/*
 * A name answered after STORE_SYNC_SEC without an answer: its time goes
 * to the store now, not with the next batch.  So the store's time of an
 * address is never more than STORE_SYNC_SEC older than its last answer
 * by any gateway, which the hold of the reuse allows for.
 */
static void
store_touched(const struct map_entry *e, time_t now)
{
	struct in_addr	in;
	char		t[24], a[INET_ADDRSTRLEN];

	if (st.state != STORE_UP)
		return;
	in.s_addr = htonl(e->addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(t, sizeof(t), "%lld", (long long)now);
	(void)redisAsyncCommand(st.cmd, NULL, NULL,
	    "ZADD dns44:answered XX GT %s %s", t, a);
}

static void
store_ping_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)ac;
	store_req_done(priv, reply == NULL ? STORE_DOWN : STORE_OK, 0);
}

/*
 * Every STORE_SYNC_SEC: the last-answer times of the names answered
 * since the last time (the map's list is in answer order, so the walk
 * stops at the first older one), and now and then the leases on the
 * addresses with connections.
 */
void
store_sync(time_t now)
{
	struct store_req	*r;
	struct map_entry	*e;
	struct in_addr		 in;
	const char		*argv[4 + 2 * STORE_BATCH];
	char			 t[STORE_BATCH][24], a[STORE_BATCH][INET_ADDRSTRLEN];
	int			 n = 0;

	if (st.state != STORE_UP)
		return;
	/* A server that hangs, link open, fails this in time. */
	if (TAILQ_EMPTY(&st.reqs) && (r = store_req_new(STORE_K_SETUP, NULL,
	    NULL)) != NULL) {
		TAILQ_INSERT_TAIL(&st.reqs, r, entry);
		st.nreqs++;
		if (redisAsyncCommand(st.cmd, store_ping_cb, r, "PING") !=
		    REDIS_OK) {
			TAILQ_REMOVE(&st.reqs, r, entry);
			st.nreqs--;
			free(r);
		}
	}
	argv[0] = "ZADD";
	argv[1] = "dns44:answered";
	argv[2] = "XX";
	argv[3] = "GT";
	for (e = map_first(st.map); e != NULL && e->answered >= st.flushed;
	    e = map_next(st.map, e)) {
		in.s_addr = htonl(e->addr);
		inet_ntop(AF_INET, &in, a[n], sizeof(a[n]));
		snprintf(t[n], sizeof(t[n]), "%lld", (long long)e->answered);
		argv[4 + 2 * n] = t[n];
		argv[4 + 2 * n + 1] = a[n];
		if (++n == STORE_BATCH) {
			(void)redisAsyncCommandArgv(st.cmd, NULL, NULL,
			    4 + 2 * n, argv, NULL);
			n = 0;
		}
	}
	if (n > 0)
		(void)redisAsyncCommandArgv(st.cmd, NULL, NULL, 4 + 2 * n,
		    argv, NULL);
	st.flushed = now;
	if (now - st.renewed < STORE_RENEW_SEC)
		return;
	st.renewed = now;
	for (e = map_first(st.map); e != NULL; e = map_next(st.map, e))
		if (e->conns > 0)
			store_pin_send(e->addr, 1, now);
}
