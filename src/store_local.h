/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store_local.h: what store.c (the links to Redis and the requests on them),
 * store_map.c (the script and what the map asks of the store) and
 * store_chan.c (the changes heard, the fences) share, and nothing else.  The
 * dns process sees include/store.h only.
 */

#ifndef STORE_LOCAL_H
#define STORE_LOCAL_H

#define STORE_TICK_MS		200	/* timeouts and retries looked at */
#define STORE_TIMEOUT_MS	1000	/* a request, or a connection */
#define STORE_RETRY_MS		1000	/* after a lost link */
#define STORE_PENDING_MAX	4096	/* requests in flight */
#define STORE_SCAN_COUNT	"1000"	/* names a step of the reading */
#define STORE_LEASE_SEC		30	/* a pin outlives its gateway */
#define STORE_RENEW_SEC		10
#define STORE_BATCH		256	/* answers a script call */
#define STORE_SYNC_SEC		5	/* dns.c writes them this often */
#define STORE_WAIT_SEC		1	/* for replicas to acknowledge */
#define STORE_IMPORT_BATCH	500	/* names a script call */
#define STORE_ASSIGN_BATCH	32	/* new names a script call */
#define STORE_ASSIGN_OUT	4	/* such calls in flight */
/* Such a call's bytes at most: its head, and a name, place, address each. */
#define STORE_ASSIGN_CMD	(1024 + STORE_ASSIGN_BATCH * (WIRE_TEXT_MAX + \
				    48))
#define STORE_HEARD_MAX		65536	/* new names heard, not yet fenced */

#define STORE_CHANNEL		"dns44:events"
#define STORE_FENCE		"dns44:fence"	/* written before a WAIT */

enum store_state {
	STORE_IDLE,		/* no link; retried after STORE_RETRY_MS */
	STORE_SENTINEL,		/* asking a Sentinel for the primary */
	STORE_CONNECT,		/* the primary's links being set up */
	STORE_LOADING,		/* reading the whole map */
	STORE_UP,
};

enum store_kind {
	STORE_K_ASSIGN,
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
	TAILQ_ENTRY(store_req)	 qentry;	/* not yet sent */
	int			 queued;
	time_t			 when;		/* asked */
	char			 name[WIRE_TEXT_MAX + 1]; /* assigned */
};

/*
 * A change heard on the channel with database wait set: a new name
 * enters the map once a write of ours made after it is on as many
 * replicas; a forgotten one waits behind it.
 */
struct store_heard {
	TAILQ_ENTRY(store_heard) entry;
	char			 op;		/* '+' or '-' */
	uint32_t		 addr;		/* host order */
	char			 name[];
};
TAILQ_HEAD(store_heard_list, store_heard);

/*
 * What one fence covers, with database wait: a write of ours (INCR
 * dns44:fence) made after all of it, then WAIT, on a link of its own so
 * that the commands never queue behind a WAIT.
 */
struct store_fence {
	struct store_heard_list	 heard;		/* changes heard */
	TAILQ_HEAD(, store_batch) batches;	/* names placed, not told */
	int			 load;		/* the store read: up after */
};

/* Names placed by one call of the script. */
struct store_batch {
	TAILQ_ENTRY(store_batch) entry;		/* waiting for a fence */
	int			 n;
	struct store_req	*reqs[STORE_ASSIGN_BATCH];
	enum store_status	 status[STORE_ASSIGN_BATCH];
};

struct store_ctx {
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
	TAILQ_HEAD(, store_req)	 assignq;	/* names to place next */
	int			 assigning;	/* batches out */
	redisAsyncContext	*fen;		/* the fences */
	struct store_fence	 next;		/* for the next fence */
	size_t			 nheard;
	int			 fencing;	/* a fence out */
	struct event		 ev_tick;
	struct event		 ev_assign;	/* names queued: send them */
	time_t			 flushed;	/* answered times sent up to */
	uint64_t		 answers;	/* map_answers() then */
	time_t			 renewed;	/* leases last renewed */
	size_t			 loaded;
	size_t			 gone;		/* forgotten by the read */
	int			 inited;	/* INIT: 1 found, 2 empty */
	int			 subscribed;	/* the channel holds */
	uint32_t		 cursor;	/* next index brought */
	size_t			 brought;
	int			 warned;	/* of this outage */
	struct store_stats	 stats;
	struct log_rate		 rl;
};

#define STORE_KEYS	"5", "dns44:range", "dns44:name", "dns44:addr", \
			"dns44:used", "dns44:period"
#define STORE_NKEYS	6		/* the count and the keys */
#define STORE_NHEAD	(2 + STORE_NKEYS + 5)	/* and the common arguments */

/* The strings of a script call's common arguments. */
struct store_args {
	char	first[16];
	char	size[16];
	char	now[24];
	char	hold[16];
};

extern struct store_ctx	 store_st;
extern const char	 store_script[];

/* store.c */
uint64_t	 store_now_ms(void);
void		 store_set_state(enum store_state);
void		 store_lost(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
struct store_req *store_req_new(enum store_kind, store_cb, void *);
void		 store_req_done(struct store_req *, enum store_status,
		    uint32_t);
int		 store_send(redisAsyncContext *, struct store_req *,
		    redisCallbackFn *, int, const char **);
void		 store_ping(void);
int		 store_script_args(const char **, struct store_args *,
		    const char *, const char *);
void		 store_lost_reply(const char *, const redisReply *);
const char *store_error(const redisReply *, const char *);
const char *store_text(const char *, char *, size_t);

/* store_map.c */
void		 store_load(void);
void		 store_import(void);
void		 store_scan(const char *);
void		 store_put(struct store_req *);
void		 store_assign_flush(void);
void		 store_assign_ev(int, short, void *);
void		 store_batch_done(struct store_batch *, enum store_status);
void		 store_loaded(void);
void		 store_touched(const struct map_entry *, time_t);

/* store_pins.c */
void		 store_pins_renew(time_t);
void		 store_pins_free(void);

/* store_chan.c */
int		 store_addr(const char *, size_t, uint32_t *);
int		 store_name(const char *, size_t, char *, size_t);
void		 store_event(const char *, size_t);
void		 store_fence(void);
void		 store_fence_init(struct store_fence *);
void		 store_fence_clear(void);

#endif /* STORE_LOCAL_H */
