/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstream_local.h: what upstream.c (the queries in flight) asks of
 * upstream_health.c (what is known of each upstream), and nothing else.
 * Their users see include/upstream.h only.
 */

#ifndef UPSTREAM_LOCAL_H
#define UPSTREAM_LOCAL_H

#include <sys/queue.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

struct conf_upstream;
struct upstream_req;
struct upstream_tls_conn;

/* A query as upstream_tls.c carries it on a connection. */
struct upstream_tls_query {
	TAILQ_ENTRY(upstream_tls_query) entry;
	struct upstream_tls_conn *conn;		/* NULL: on none */
	struct upstream_req	*req;
	uint8_t			*wire;		/* length, then the id */
	size_t			 len;
	int64_t			 sent_us;	/* 0: not written yet */
	int			 again;		/* on a second connection */
};

/* upstream.c, for upstream_tls.c */
void		 upstream_tls_answer(struct upstream_req *, const uint8_t *,
		    size_t, int64_t);
void		 upstream_tls_failed(struct upstream_req *);

/* upstream_health.c */
void		 upstream_health_reset(const struct conf_upstream *, int,
		    uint32_t);
int		 upstream_health_pick(const struct conf_upstream *, int,
		    uint32_t, int, int *);
void		 upstream_health_ok(const struct conf_upstream *, int64_t);
void		 upstream_health_fail(const struct conf_upstream *, int, int,
		    int);
int64_t		 upstream_now_us(void);

/* upstream_tls.c */
int		 upstream_tls_send(struct upstream_tls_query *,
		    const struct conf_upstream *);
void		 upstream_tls_drop(struct upstream_tls_query *);
int		 upstream_tls_loaded(const char *);
void		 upstream_tls_timeout(const struct timeval *);
void		 upstream_tls_shutdown(void);

#endif /* UPSTREAM_LOCAL_H */
