/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store_map.c: what the map asks of the store, through store.c's links.
 * A new name's address is chosen by one server-side script, with the
 * placement map.c uses (a keyed hash of the name, then the next free
 * address), and the name and its address are written together.  Every
 * change is published; each gateway applies what it hears to its own
 * map (store_chan.c).  A gateway that (re)connects reads the whole
 * store before it trusts its map again, and the first to find the store
 * empty brings its own map.  Last-answer times and the leases of
 * connections in use are written to the store too, so that an address
 * is reused only when no gateway answered it within TTL and grace and
 * none holds a connection on it.
 *
 * Keys: dns44:range ("first size"), dns44:name (hash name -> address),
 * dns44:addr (hash address -> name), dns44:used (a bit per address),
 * dns44:period (seconds), dns44:ans:N (a bit per address answered in
 * the Nth period), dns44:pin:ADDR (sorted set, gateway by lease end);
 * the channel dns44:events carries "+ ADDR NAME" and "- ADDR NAME".
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

static void	store_import_cb(redisAsyncContext *, void *, void *);
static void	store_scan_cb(redisAsyncContext *, void *, void *);
static void	store_assign_cb(redisAsyncContext *, void *, void *);
static int	store_word(const char **, const char *, const char **,
		    size_t *);
static int	store_format(char *, size_t, int, const char **);
static void	store_assign_call(void);
static void	store_find_cb(redisAsyncContext *, void *, void *);

/*
 * The one script: "init" records the range (or finds the one recorded
 * the same; 1 when the store was empty), "assign" gives a name its
 * address, "touch" records answers, "import" writes names with their
 * addresses where both are free, "remove" forgets one.
 * ARGV: op, first address, size, now, the hold of a reuse, then the
 * op's own.  "assign" has the gateway, then for each name the name, its
 * place (map_place()) and the address there.  Mostly that place is free
 * and the name new, and the name costs a SETBIT and an HSETNX, its
 * address's name and its answer going with the others' in one HSET and
 * one BITFIELD at the end, and no number is made into a string in Lua
 * (a number given to redis.call() is, by a printf); else the name's
 * address is looked up, or the next free one found from its place, or
 * one answered by no gateway within the hold and without a pin reused,
 * the first such from its place, with what came before written first,
 * since those look at it.  The answer is one string, for each name its
 * address (or nothing) and "1" when new, "0" when it had one, "-1" when
 * the range is full, separated by single spaces: one reply for hiredis
 * to make, not two a name.
 * Answers are kept as bitmaps, a bit an address, one for each period of
 * dns44:period seconds (a sixteenth of the hold of the gateway that made
 * the store), each expiring a hold after its period: an answer costs a
 * bit, not a sorted set's insertion, and the addresses not answered
 * within the hold are the zeros of the periods' union.  A store of a
 * dns44 that kept a sorted set of answer times has every mapped address
 * answered at its first init.
 * The message of the changes begins with "= GATEWAY": the gateway that
 * asked has its new names already.
 */
const char store_script[] =
"local op = ARGV[1]\n"
"local first, size, now = tonumber(ARGV[2]), tonumber(ARGV[3]), "
    "tonumber(ARGV[4])\n"
"local hold = tonumber(ARGV[5])\n"
"local want = ARGV[2] .. ' ' .. ARGV[3]\n"
"local nbits = math.ceil(size / 8) * 8\n"
"local range = redis.call('GET', KEYS[1])\n"
"local function ip(n)\n"
"  return string.format('%d.%d.%d.%d', math.floor(n / 16777216) % 256, "
    "math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)\n"
"end\n"
/* The bitmap of t's period, and how long it is to be kept. */
"local function period(len, t)\n"
"  local p = math.floor(t / len)\n"
"  return 'dns44:ans:' .. p, (p + 2) * len + hold + 1 - now\n"
"end\n"
"local function keep(k, secs)\n"
"  if redis.call('EXPIRE', k, secs, 'NX') == 0 then\n"
"    redis.call('EXPIRE', k, secs, 'GT')\n"
"  end\n"
"end\n"
/* The period's length, or what dns44:period holds instead of one. */
"local function period_len()\n"
"  local v = redis.call('GET', KEYS[5])\n"
"  local n = tonumber(v)\n"
"  if not n or n < 1 or n > 86400 or n ~= math.floor(n) then\n"
"    return nil, v and tostring(v) or 'nothing'\n"
"  end\n"
"  return n\n"
"end\n"
/* A bit set by a BITFIELD of m's arguments. */
"local function setbit(m, i)\n"
"  m[#m + 1] = 'SET'\n"
"  m[#m + 1] = 'u1'\n"
"  m[#m + 1] = i\n"
"  m[#m + 1] = 1\n"
"end\n"
"if op == 'init' then\n"
"  local len = math.max(1, math.ceil(hold / 16))\n"
"  if range then\n"
"    if range ~= want then\n"
"      return redis.error_reply('DNS44RANGE ' .. range)\n"
"    end\n"
"    if redis.call('SETNX', KEYS[5], len) == 1 and\n"
"        redis.call('EXISTS', 'dns44:answered') == 1 then\n"
"      local k, secs = period(len, now)\n"
"      redis.call('BITOP', 'OR', k, k, KEYS[4])\n"
"      keep(k, secs)\n"
"      redis.call('DEL', 'dns44:answered')\n"
"    end\n"
"    local _, bad = period_len()\n"
"    if bad then return redis.error_reply('DNS44PERIOD ' .. bad) end\n"
"    return 0\n"
"  end\n"
"  if redis.call('HLEN', KEYS[2]) ~= 0 then\n"
"    return redis.error_reply('DNS44RANGE none, but names')\n"
"  end\n"
"  redis.call('SET', KEYS[1], want)\n"
"  redis.call('SET', KEYS[5], len)\n"
"  redis.call('DEL', KEYS[4])\n"
"  redis.call('SETBIT', KEYS[4], nbits - 1, 0)\n"
"  for i = size, nbits - 1 do redis.call('SETBIT', KEYS[4], i, 1) end\n"
"  return 1\n"
"end\n"
"if range ~= want then\n"
"  return redis.error_reply('DNS44RANGE ' .. tostring(range))\n"
"end\n"
"local len, bad = period_len()\n"
"if bad then return redis.error_reply('DNS44PERIOD ' .. bad) end\n"
"local ans, secs = period(len, now)\n"
"if op == 'assign' then\n"
"  local out, news = {}, {'= ' .. ARGV[6]}\n"
"  local byaddr, marks, rec, marked = {}, {}, nil, false\n"
"  local function flush()\n"
"    if #byaddr > 0 then\n"
"      redis.call('HSET', KEYS[3], unpack(byaddr))\n"
"      byaddr = {}\n"
"    end\n"
"    if #marks > 0 then\n"
"      redis.call('BITFIELD', ans, unpack(marks))\n"
"      marks, marked = {}, true\n"
"    end\n"
"  end\n"
/* Answered now; once the union is made, taken out of it at once. */
"  local function mark(i)\n"
"    setbit(marks, i)\n"
"    if rec then redis.call('SETBIT', rec, i, 1) end\n"
"  end\n"
"  local function new(name, a, i)\n"
"    byaddr[#byaddr + 1] = a\n"
"    byaddr[#byaddr + 1] = name\n"
"    mark(i)\n"
"    news[#news + 1] = '+ ' .. a .. ' ' .. name\n"
"    if #byaddr >= 128 then flush() end\n"
"  end\n"
/*
 * An address nobody answered within the hold, unpinned, freed; one
 * refused is taken out of the union, the one taken is by mark().
 */
"  local function reuse(start)\n"
"    if not rec then\n"
"      rec = 'dns44:recent'\n"
"      local ks = {}\n"
"      for p = math.floor((now - hold) / len), math.floor(now / len) do\n"
"        ks[#ks + 1] = 'dns44:ans:' .. p\n"
"      end\n"
"      redis.call('BITOP', 'OR', rec, unpack(ks))\n"
"      for i = size, nbits - 1 do redis.call('SETBIT', rec, i, 1) end\n"
"      if redis.call('STRLEN', rec) < nbits / 8 then\n"
"        redis.call('SETBIT', rec, nbits - 1, 0)\n"
"      end\n"
"    end\n"
"    for _ = 1, 64 do\n"
"      local i = redis.call('BITPOS', rec, 0, start, nbits - 1, 'BIT')\n"
"      if i < 0 and start > 0 then\n"
"        i = redis.call('BITPOS', rec, 0, 0, start - 1, 'BIT')\n"
"      end\n"
"      if i < 0 then return nil end\n"
"      local v = ip(first + i)\n"
"      local old = redis.call('HGET', KEYS[3], v)\n"
"      if old and redis.call('ZCOUNT', 'dns44:pin:' .. v, now, "
    "'+inf') == 0 then\n"
"        redis.call('HDEL', KEYS[2], old)\n"
"        redis.call('DEL', 'dns44:pin:' .. v)\n"
"        news[#news + 1] = '- ' .. v .. ' ' .. old\n"
"        return v, i\n"
"      end\n"
"      redis.call('SETBIT', rec, i, 1)\n"
"      start = i\n"
"    end\n"
"    return nil\n"
"  end\n"
"  for j = 7, #ARGV, 3 do\n"
"    local name, start, a, isnew = ARGV[j], ARGV[j + 1], nil, 1\n"
"    if redis.call('SETBIT', KEYS[4], start, '1') == 0 then\n"
"      if redis.call('HSETNX', KEYS[2], name, ARGV[j + 2]) == 1 then\n"
"        a = ARGV[j + 2]\n"
"        new(name, a, start)\n"
"      else\n"
"        redis.call('SETBIT', KEYS[4], start, '0')\n"
"      end\n"
"    end\n"
"    if not a then\n"
"      flush()\n"
"      a = redis.call('HGET', KEYS[2], name)\n"
"      start = tonumber(start)\n"
"      if a then\n"
"        local o1, o2, o3, o4 = string.match(a, "
    "'^(%d+)%.(%d+)%.(%d+)%.(%d+)$')\n"
"        local i = o1 and ((o1 * 256 + o2) * 256 + o3) * 256 + o4 - first\n"
"        if i and i >= 0 and i < size then mark(i) end\n"
"        isnew = 0\n"
"      else\n"
"        local i = redis.call('BITPOS', KEYS[4], 0, start, nbits - 1, "
    "'BIT')\n"
"        if i < 0 and start > 0 then\n"
"          i = redis.call('BITPOS', KEYS[4], 0, 0, start - 1, 'BIT')\n"
"        end\n"
"        if i >= 0 and i < size then\n"
"          a = ip(first + i)\n"
"          redis.call('SETBIT', KEYS[4], i, 1)\n"
"        else\n"
"          a, i = reuse(start)\n"
"        end\n"
"        if a then\n"
"          redis.call('HSET', KEYS[2], name, a)\n"
"          new(name, a, i)\n"
"        end\n"
"      end\n"
"    end\n"
"    out[#out + 1] = a or ''\n"
"    out[#out + 1] = a and (isnew == 1 and '1' or '0') or '-1'\n"
"  end\n"
"  flush()\n"
"  if marked then keep(ans, secs) end\n"
"  if rec then redis.call('DEL', rec) end\n"
"  if #news > 1 then\n"
"    redis.call('PUBLISH', '" STORE_CHANNEL "', table.concat(news, '\\n'))\n"
"  end\n"
"  return table.concat(out, ' ')\n"
"end\n"
/* Pairs of an answer's time and its address's index. */
"if op == 'touch' then\n"
"  local keys, n = {}, 0\n"
"  for j = 6, #ARGV - 1, 2 do\n"
"    local t, i = tonumber(ARGV[j]), tonumber(ARGV[j + 1])\n"
"    if t and i and t > now - hold and i >= 0 and i < size then\n"
"      local k, s = period(len, t)\n"
"      if not keys[k] then keys[k] = {s} end\n"
"      setbit(keys[k], i)\n"
"      n = n + 1\n"
"    end\n"
"  end\n"
"  for k, m in pairs(keys) do\n"
"    redis.call('BITFIELD', k, unpack(m, 2))\n"
"    keep(k, m[1])\n"
"  end\n"
"  return n\n"
"end\n"
/* Imported names count as answered now: their times are not sent. */
"if op == 'import' then\n"
"  local n = 0\n"
"  for j = 6, #ARGV, 2 do\n"
"    local name, i = ARGV[j], tonumber(ARGV[j + 1])\n"
"    if i < size and redis.call('HEXISTS', KEYS[2], name) == 0 and\n"
"        redis.call('GETBIT', KEYS[4], i) == 0 then\n"
"      local a = ip(first + i)\n"
"      redis.call('HSET', KEYS[2], name, a)\n"
"      redis.call('HSET', KEYS[3], a, name)\n"
"      redis.call('SETBIT', KEYS[4], i, 1)\n"
"      redis.call('SETBIT', ans, i, 1)\n"
"      n = n + 1\n"
"    end\n"
"  end\n"
"  if n > 0 then keep(ans, secs) end\n"
"  return n\n"
"end\n"
"if op == 'remove' then\n"
"  local name, a, i = ARGV[6], ARGV[7], tonumber(ARGV[8])\n"
"  if redis.call('HGET', KEYS[2], name) ~= a then return 0 end\n"
"  redis.call('HDEL', KEYS[2], name)\n"
"  redis.call('HDEL', KEYS[3], a)\n"
"  redis.call('DEL', 'dns44:pin:' .. a)\n"
"  redis.call('SETBIT', KEYS[4], i, 0)\n"
"  redis.call('PUBLISH', '" STORE_CHANNEL "', '- ' .. a .. ' ' .. name)\n"
"  return 1\n"
"end\n"
"return redis.error_reply('DNS44OP ' .. tostring(op))\n";


/*
 * Once the range is agreed and the channel holds, the store is read; a
 * store found empty first gets this gateway's map, so that a gateway
 * alone until now keeps every answer it gave when others join it.
 */
void
store_load(void)
{
	if (store_st.state != STORE_CONNECT || !store_st.inited ||
	    !store_st.subscribed)
		return;
	store_set_state(STORE_LOADING);
	store_st.loaded = 0;
	if (store_st.inited == 2 && map_count(store_st.map) > 0) {
		store_st.cursor = 0;
		store_st.brought = 0;
		store_import();
		return;
	}
	map_mark_clear(store_st.map);
	store_scan("0");
}

/* The next STORE_IMPORT_BATCH names of the map, by address, to the store. */
void
store_import(void)
{
	struct store_req	*r;
	struct map_entry	*e;
	const char		*argv[STORE_NHEAD + 2 * STORE_IMPORT_BATCH];
	struct store_args	 a;
	char			 idx[STORE_IMPORT_BATCH][12];
	uint32_t		 n = 0, total = map_size(store_st.map);
	int			 argc;

	argc = store_script_args(argv, &a, "EVALSHA", "import");
	for (; store_st.cursor < total && n < STORE_IMPORT_BATCH;
	    store_st.cursor++) {
		if ((e = map_lookup_addr(store_st.map, conf->range_first +
		    store_st.cursor)) == NULL)
			continue;
		snprintf(idx[n], sizeof(idx[n]), "%u", store_st.cursor);
		argv[argc++] = e->name;
		argv[argc++] = idx[n++];
	}
	if (n == 0) {
		log_info("map store: %zu names brought from this gateway's "
		    "map into the empty store", store_st.brought);
		map_mark_clear(store_st.map);
		store_scan("0");
		return;
	}
	if ((r = store_req_new(STORE_K_SETUP, NULL, NULL)) == NULL) {
		store_lost("out of memory");
		return;
	}
	/* hiredis copies the arguments: the names may go meanwhile. */
	if (store_send(store_st.cmd, r, store_import_cb, argc, argv) == -1)
		store_lost("cannot send");
}

static void
store_import_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply;

	store_req_done(priv, r == NULL ? STORE_DOWN : STORE_OK, 0);
	if (ac != store_st.cmd || store_st.state != STORE_LOADING)
		return;
	if (r == NULL) {
		store_lost("bringing the map: link lost");
		return;
	}
	if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
		store_lost_reply("bringing the map", r);
		return;
	}
	store_st.brought += r->integer;
	store_import();
}

/* One step of the reading of dns44:addr, from cursor. */
void
store_scan(const char *cursor)
{
	struct store_req	*r;
	const char		*argv[] = { "HSCAN", "dns44:addr", cursor,
				    "COUNT", STORE_SCAN_COUNT };

	if ((r = store_req_new(STORE_K_SETUP, NULL, NULL)) == NULL) {
		store_lost("out of memory");
		return;
	}
	if (store_send(store_st.cmd, r, store_scan_cb, 5, argv) == -1)
		store_lost("cannot send");
}

static void
store_scan_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply		*r = reply, *list;
	struct map_entry	*e;
	uint32_t		 addr;
	size_t			 i;
	char			 name[WIRE_TEXT_MAX + 1], cursor[32];
	int			 hold;

	store_req_done(priv, r == NULL ? STORE_DOWN : STORE_OK, 0);
	if (ac != store_st.cmd || store_st.state != STORE_LOADING)
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
			log_rate(&store_st.rl, LOG_WARNING, "map store: a "
			    "record of an unknown form ignored");
			continue;
		}
		/*
		 * With database wait, a name this gateway did not have, or
		 * had from a read not yet fenced, waits for the fence at the
		 * end of the read: it may be on the primary alone.
		 */
		hold = conf->redis_wait != 0 && ((e = map_lookup_name(
		    store_st.map, name)) == NULL || e->addr != addr ||
		    map_held(e));
		if ((e = map_put(store_st.map, name, addr, 0)) == NULL) {
			store_lost("reading the map: %s", strerror(errno));
			return;
		}
		if (hold)
			map_hold(e);
		store_st.loaded++;
	}
	memcpy(cursor, r->element[0]->str, r->element[0]->len);
	cursor[r->element[0]->len] = '\0';
	if (strcmp(cursor, "0") != 0) {
		store_scan(cursor);
		return;
	}
	store_st.gone = map_sweep(store_st.map);
	if (conf->redis_wait == 0) {
		store_loaded();
		return;
	}
	store_st.next.load = 1;
	store_fence();
}

/* The store read (and, with database wait, on the replicas): up. */
void
store_loaded(void)
{
	char	a[INET_ADDRSTRLEN];
	time_t	now = time(NULL);

	if (conf->redis_wait != 0)
		map_release(store_st.map);
	store_set_state(STORE_UP);
	store_st.warned = 0;
	/* Our pins, at once: they may have lapsed while we were away. */
	store_st.renewed = 0;
	store_sync(now);
	inet_ntop(AF_INET, &store_st.primary.sin_addr, a, sizeof(a));
	log_info("map store %s:%u: up, %zu names read, %zu forgotten", a,
	    ntohs(store_st.primary.sin_port), store_st.loaded, store_st.gone);
}

/*
 * A new name's address, from the store, into the map: cb with STORE_OK
 * and the address once it is there (and, with database wait, on as many
 * replicas), or why not.  NULL when it cannot be asked now: the caller
 * answers SERVFAIL.  Up to STORE_ASSIGN_OUT calls of the script are out
 * at once; names asked meanwhile go together in the next, up to
 * STORE_ASSIGN_BATCH a call.
 */
struct store_req *
store_assign(const char *name, time_t now, store_cb cb, void *arg)
{
	struct store_req	*r;

	if (!store_ready() || store_st.sha[0] == '\0' ||
	    (r = store_req_new(STORE_K_ASSIGN, cb, arg)) == NULL)
		return (NULL);
	strlcpy(r->name, name, sizeof(r->name));
	r->when = now;
	TAILQ_INSERT_TAIL(&store_st.reqs, r, entry);
	store_st.nreqs++;
	TAILQ_INSERT_TAIL(&store_st.assignq, r, qentry);
	r->queued = 1;
	/* Once the queries read with this one are queued too. */
	if (store_st.assigning < STORE_ASSIGN_OUT)
		event_active(&store_st.ev_assign, 0, 0);
	return (r);
}

void
store_assign_ev(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	store_assign_flush();
}

/*
 * The names waiting, STORE_ASSIGN_BATCH at most a script call, in as
 * many calls as may be out.  They are written at once, not when the loop
 * next turns: the store works on them while the answers of the call
 * that freed the slot are made.
 */
void
store_assign_flush(void)
{
	int	done;

	while (store_st.assigning < STORE_ASSIGN_OUT &&
	    !TAILQ_EMPTY(&store_st.assignq) && store_st.cmd != NULL)
		store_assign_call();
	/* An error is left to hiredis's own write event to find. */
	if (store_st.cmd != NULL)
		(void)redisBufferWrite(&store_st.cmd->c, &done);
}

/*
 * argv as a command of the protocol (RESP) in buf, what hiredis's
 * redisFormatCommandArgv() makes, without an sds grown by a printf-like
 * format an argument; its length, or -1 when it does not fit.
 */
static int
store_format(char *buf, size_t size, int argc, const char **argv)
{
	char	*p = buf, *end = buf + size, num[24], *n;
	size_t	 len = 0, v;
	int	 i;

	for (i = -1; i < argc; i++) {
		v = i == -1 ? (size_t)argc : (len = strlen(argv[i]));
		n = num + sizeof(num);
		do {
			*--n = '0' + v % 10;
			v /= 10;
		} while (v != 0);
		v = num + sizeof(num) - n;
		if ((size_t)(end - p) < 1 + v + 2 + (i == -1 ? 0 : len + 2))
			return (-1);
		*p++ = i == -1 ? '*' : '$';
		memcpy(p, n, v);
		p += v;
		*p++ = '\r';
		*p++ = '\n';
		if (i == -1)
			continue;
		memcpy(p, argv[i], len);
		p += len;
		*p++ = '\r';
		*p++ = '\n';
	}
	return (p - buf);
}

/* One call of the script, for the first STORE_ASSIGN_BATCH names queued. */
static void
store_assign_call(void)
{
	struct store_batch	*b;
	struct store_req	*r;
	const char		*argv[STORE_NHEAD + 1 + 3 * STORE_ASSIGN_BATCH];
	struct store_args	 args;
	char			 start[STORE_ASSIGN_BATCH][12];
	char			 addr[STORE_ASSIGN_BATCH][INET_ADDRSTRLEN];
	struct in_addr		 in;
	time_t			 now = 0;
	static char		 cmd[STORE_ASSIGN_CMD];
	uint32_t		 place;
	int			 argc, i, len;

	if (TAILQ_EMPTY(&store_st.assignq) || store_st.cmd == NULL)
		return;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		store_lost("out of memory");
		return;
	}
	argc = store_script_args(argv, &args, "EVALSHA", "assign");
	argv[argc++] = store_st.gateway;
	while (b->n < STORE_ASSIGN_BATCH &&
	    (r = TAILQ_FIRST(&store_st.assignq)) != NULL) {
		TAILQ_REMOVE(&store_st.assignq, r, qentry);
		r->queued = 0;
		if (r->when > now)
			now = r->when;
		place = map_place(store_st.map, r->name);
		snprintf(start[b->n], sizeof(start[b->n]), "%u", place);
		in.s_addr = htonl(conf->range_first + place);
		inet_ntop(AF_INET, &in, addr[b->n], sizeof(addr[b->n]));
		argv[argc++] = r->name;
		argv[argc++] = start[b->n];
		argv[argc++] = addr[b->n];
		b->reqs[b->n++] = r;
	}
	snprintf(args.now, sizeof(args.now), "%lld", (long long)now);
	if ((len = store_format(cmd, sizeof(cmd), argc, argv)) == -1 ||
	    redisAsyncFormattedCommand(store_st.cmd, store_assign_cb, b, cmd,
	    len) != REDIS_OK) {
		for (i = 0; i < b->n; i++)
			store_req_done(b->reqs[i], STORE_DOWN, 0);
		free(b);
		return;
	}
	store_st.assigning++;
}

/*
 * The next of the words of [*p, end) that single spaces part, which may
 * be empty: in *w and *len, and *p past it and its space (NULL after the
 * last).  -1 when none is left.
 */
static int
store_word(const char **p, const char *end, const char **w, size_t *len)
{
	const char	*q;

	if (*p == NULL)
		return (-1);
	for (q = *p; q < end && *q != ' '; q++)
		;
	*w = *p;
	*len = q - *p;
	*p = q < end ? q + 1 : NULL;
	return (0);
}

/*
 * The script's answer (see store_script): for each name its address, or
 * nothing, and "1" when new, "0" when it had one, "-1" when the range is
 * full; any other word, one too few or too many, and the link is lost.
 * Then, with database wait, the next fence before any is told.
 */
static void
store_assign_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_batch	*b = priv;
	redisReply		*r = reply;
	const char		*p, *a, *k;
	size_t			 alen, klen;
	uint32_t		 addr;
	int			 i, isnew;

	if (ac == store_st.cmd && store_st.assigning > 0)
		store_st.assigning--;
	if (r == NULL || ac != store_st.cmd) {
		store_batch_done(b, STORE_DOWN);
		return;
	}
	if (r->type != REDIS_REPLY_STRING) {
		store_batch_done(b, STORE_DOWN);
		store_lost_reply("assigning", r);
		return;
	}
	p = r->str;
	for (i = 0; i < b->n; i++) {
		isnew = -2;
		if (store_word(&p, r->str + r->len, &a, &alen) == 0 &&
		    store_word(&p, r->str + r->len, &k, &klen) == 0) {
			if (klen == 1 && (*k == '0' || *k == '1'))
				isnew = *k - '0';
			else if (klen == 2 && k[0] == '-' && k[1] == '1')
				isnew = -1;
		}
		if (isnew == -2 || (isnew == -1 && alen != 0) ||
		    (isnew != -1 && store_addr(a, alen, &addr) == -1) ||
		    (i == b->n - 1 && p != NULL)) {
			store_batch_done(b, STORE_DOWN);
			store_lost("assigning: unexpected reply");
			return;
		}
		if (isnew == -1) {
			b->status[i] = STORE_FULL;
			continue;
		}
		b->status[i] = STORE_OK;
		b->reqs[i]->addr = addr;
		if (isnew == 1)
			store_st.stats.assigned++;
	}
	store_assign_flush();
	if (conf->redis_wait == 0) {
		store_batch_done(b, STORE_OK);
		return;
	}
	/*
	 * Told once as many replicas have them: a failover keeps them.  A
	 * name another gateway placed a moment ago, found here, may not be
	 * there yet either: behind the next fence, all of them.
	 */
	for (i = 0; i < b->n; i++)
		b->reqs[i]->deadline = store_now_ms() + STORE_TIMEOUT_MS +
		    2 * STORE_WAIT_SEC * 1000;
	TAILQ_INSERT_TAIL(&store_st.next.batches, b, entry);
	store_fence();
}

/*
 * Each of a batch told: with STORE_OK, what the script said of it (its
 * address put in the map, or STORE_FULL); else s.  b is freed.
 */
void
store_batch_done(struct store_batch *b, enum store_status s)
{
	int	i;

	for (i = 0; i < b->n; i++) {
		if (s != STORE_OK || b->status[i] != STORE_OK)
			store_req_done(b->reqs[i], s != STORE_OK ? s :
			    b->status[i], 0);
		else
			store_put(b->reqs[i]);
	}
	free(b);
}

/* An assigned or found name into the map, and its caller told. */
void
store_put(struct store_req *q)
{
	/*
	 * Answered here once the caller replies, at the time the script
	 * wrote (the store has it); a lookup's is not.
	 */
	if (map_put(store_st.map, q->name, q->addr, q->kind == STORE_K_FIND ?
	    0 : q->when) == NULL) {
		log_rate(&store_st.rl, LOG_WARNING, "map store: %s: %s",
		    q->name, strerror(errno));
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

	if (store_st.state != STORE_UP ||
	    (r = store_req_new(STORE_K_FIND, cb, arg)) == NULL)
		return (NULL);
	r->addr = addr;
	in.s_addr = htonl(addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	argv[0] = "HGET";
	argv[1] = "dns44:addr";
	argv[2] = a;
	if (store_send(store_st.cmd, r, store_find_cb, 3, argv) == -1)
		return (NULL);
	return (r);
}

static void
store_find_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct store_req	*q = priv;
	redisReply		*r = reply;

	if (r == NULL || ac != store_st.cmd) {
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

void
store_remove(const char *name, uint32_t addr)
{
	struct in_addr		 in;
	struct store_args	 args;
	const char		*argv[STORE_NHEAD + 3];
	char			 a[INET_ADDRSTRLEN], idx[16];
	int			 argc;

	if (store_st.state != STORE_UP || store_st.sha[0] == '\0')
		return;
	in.s_addr = htonl(addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(idx, sizeof(idx), "%u", addr - conf->range_first);
	argc = store_script_args(argv, &args, "EVALSHA", "remove");
	argv[argc++] = name;
	argv[argc++] = a;
	argv[argc++] = idx;
	(void)redisAsyncCommandArgv(store_st.cmd, NULL, NULL, argc, argv, NULL);
}

/*
 * A name answered after STORE_SYNC_SEC without an answer: its answer
 * goes to the store now, not with the next batch.  So the store learns
 * of an answer by any gateway at most STORE_SYNC_SEC after it, which the
 * hold of the reuse allows for.
 */
void
store_touched(const struct map_entry *e, time_t now)
{
	const char		*argv[STORE_NHEAD + 2];
	struct store_args	 a;
	char			 t[24], idx[12];
	int			 argc;

	if (store_st.state != STORE_UP)
		return;
	argc = store_script_args(argv, &a, "EVALSHA", "touch");
	snprintf(t, sizeof(t), "%lld", (long long)now);
	snprintf(idx, sizeof(idx), "%u", e->addr - conf->range_first);
	argv[argc++] = t;
	argv[argc++] = idx;
	(void)redisAsyncCommandArgv(store_st.cmd, NULL, NULL, argc, argv, NULL);
}

/*
 * Every STORE_SYNC_SEC: the answers since the last time (the map's list
 * is in answer order, so the walk stops at the first older one, or once
 * it has found as many as the map counted: new names, whose answers went
 * with their script calls, are not walked for nothing), and now and then
 * the leases on the addresses with connections.
 */
void
store_sync(time_t now)
{
	struct map_entry	*e;
	struct store_args	 a;
	const char		*argv[STORE_NHEAD + 2 * STORE_BATCH];
	char			 t[STORE_BATCH][24], idx[STORE_BATCH][12];
	uint64_t		 left;
	int			 argc, n = 0;

	if (store_st.state != STORE_UP)
		return;
	store_ping();
	left = map_answers(store_st.map) - store_st.answers;
	store_st.answers = map_answers(store_st.map);
	argc = store_script_args(argv, &a, "EVALSHA", "touch");
	for (e = map_first(store_st.map); e != NULL && left > 0 &&
	    e->answered >= store_st.flushed; e = map_next(store_st.map, e)) {
		/* A new name's answer went with its script call. */
		if (map_put_time(e))
			continue;
		left--;
		snprintf(t[n], sizeof(t[n]), "%lld", (long long)e->answered);
		snprintf(idx[n], sizeof(idx[n]), "%u",
		    e->addr - conf->range_first);
		argv[argc + 2 * n] = t[n];
		argv[argc + 2 * n + 1] = idx[n];
		if (++n == STORE_BATCH) {
			(void)redisAsyncCommandArgv(store_st.cmd, NULL, NULL,
			    argc + 2 * n, argv, NULL);
			n = 0;
		}
	}
	if (n > 0)
		(void)redisAsyncCommandArgv(store_st.cmd, NULL, NULL,
		    argc + 2 * n, argv, NULL);
	store_st.flushed = now;
	if (now - store_st.renewed < STORE_RENEW_SEC)
		return;
	store_st.renewed = now;
	store_pins_renew(now);
}
