/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * peerstest.c: the dns process's requests to every proxy worker
 * (src/peers.c), with two workers played by socketpairs.  A request
 * reaches both; the workers' counters come back summed in one answer; a
 * listing ends once, after the last worker's end; the first failure
 * answers and the others are dropped; an answer to no request goes on.
 * Requests that the workers never answer are kept to a bound: the oldest
 * are forgotten, and their late answers go on as strangers'.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "peers.h"
#include "proc.h"
#include "../lib/test.h"

#define NWORKERS	2
#define ASKS_BOUND	256	/* peers.c's PEERS_ASKS_MAX */

static struct msg_chan	worker[NWORKERS];	/* the workers' ends */

static void
dispatch(struct chan *c, struct msg *m)
{
	(void)c;
	(void)m;
}

static void
closed(struct chan *c, int error)
{
	(void)c;
	fprintf(stderr, "peerstest: a channel closed: %s\n",
	    strerror(error));
	exit(1);
}

/* A worker's answer as the dns process reads it; data is static. */
static struct msg *
answer(uint32_t type, uint32_t id, const void *data, size_t len)
{
	static struct msg	m;
	static char		buf[1024];

	if (len > sizeof(buf))
		abort();
	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.id = id;
	m.hdr.len = len;
	if (len > 0)
		memcpy(buf, data, len);
	m.data = buf;
	m.len = len;
	m.fd = -1;
	return (&m);
}

static struct msg *
stats(uint32_t id, uint64_t tcp_open, uint64_t fails0)
{
	struct ctl_stats_proxy	ps;

	memset(&ps, 0, sizeof(ps));
	ps.tcp_open = tcp_open;
	ps.bytes_sent = 1000 * tcp_open;
	ps.udp_fails[0] = fails0;
	return (answer(MSG_CTL_STATS_PROXY, id, &ps, sizeof(ps)));
}

/* The requests each worker was sent: their type and id, in order. */
static int
received(int w, uint32_t *types, uint32_t *ids, int max)
{
	struct msg	m;
	int		n = 0;

	peers_flush(100);
	while (n < max && msg_read(&worker[w], &m) == 1) {
		types[n] = m.hdr.type;
		ids[n] = m.hdr.id;
		n++;
	}
	return (n);
}

static void
test_stats(void)
{
	struct ctl_stats_proxy	 sum;
	struct msg		*m;
	uint32_t		 types[4], ids[4];
	int			 w;

	CHECK_EQ(peers_count(), NWORKERS);
	CHECK_EQ(peers_forward(MSG_CTL_STATS, 7, NULL, 0), 0);
	for (w = 0; w < NWORKERS; w++) {
		CHECK_EQ(received(w, types, ids, 4), 1);
		CHECK_EQ(types[0], MSG_CTL_STATS);
		CHECK_EQ(ids[0], 7);
	}
	/* The first worker's counters are kept back, the second's summed. */
	CHECK_EQ(peers_merge(stats(7, 3, 1)), 0);
	m = stats(7, 4, 2);
	CHECK_EQ(peers_merge(m), 1);
	CHECK_EQ(m->len, sizeof(sum));
	memcpy(&sum, m->data, sizeof(sum));
	CHECK_EQ(sum.tcp_open, 7);
	CHECK_EQ(sum.bytes_sent, 7000);
	CHECK_EQ(sum.udp_fails[0], 3);
	/* The request is done: a third answer is a stranger's. */
	CHECK_EQ(peers_merge(stats(7, 5, 0)), 1);
}

static void
test_listing(void)
{
	struct ctl_conn	cc;

	memset(&cc, 0, sizeof(cc));
	CHECK_EQ(peers_forward(MSG_CTL_SHOW_CONN, 8, NULL, 0), 0);
	/* Each worker's lines go on; only the last end does. */
	CHECK_EQ(peers_merge(answer(MSG_CTL_CONN, 8, &cc, sizeof(cc))), 1);
	CHECK_EQ(peers_merge(answer(MSG_CTL_END, 8, NULL, 0)), 0);
	CHECK_EQ(peers_merge(answer(MSG_CTL_CONN, 8, &cc, sizeof(cc))), 1);
	CHECK_EQ(peers_merge(answer(MSG_CTL_END, 8, NULL, 0)), 1);
}

static void
test_failure(void)
{
	struct ctl_conn	cc;

	memset(&cc, 0, sizeof(cc));
	CHECK_EQ(peers_forward(MSG_CTL_SHOW_CONN, 9, NULL, 0), 0);
	CHECK_EQ(peers_merge(answer(MSG_CTL_FAIL, 9, "no", 3)), 1);
	/* After the failure the other worker's listing is dropped. */
	CHECK_EQ(peers_merge(answer(MSG_CTL_CONN, 9, &cc, sizeof(cc))), 0);
	CHECK_EQ(peers_merge(answer(MSG_CTL_END, 9, NULL, 0)), 0);
	/* Two failures: the first answers, the second is noise. */
	CHECK_EQ(peers_forward(MSG_CTL_STATS, 10, NULL, 0), 0);
	CHECK_EQ(peers_merge(answer(MSG_CTL_FAIL, 10, "a", 2)), 1);
	CHECK_EQ(peers_merge(answer(MSG_CTL_FAIL, 10, "b", 2)), 0);
	CHECK_EQ(peers_merge(answer(MSG_CTL_END, 10, NULL, 0)), 1);
}

/*
 * Workers that never answer: the requests kept stay under the bound, the
 * oldest forgotten first.  A forgotten request's answers go on at once
 * (with no sum); one still kept waits for its second worker.
 */
static void
test_bound(void)
{
	uint32_t	types[8], ids[8], id, first = 1000, n = 3 * ASKS_BOUND;
	int		w, got;

	for (id = first; id < first + n; id++) {
		CHECK_EQ(peers_forward(MSG_CTL_STATS, id, NULL, 0), 0);
		/* The workers read what they are sent, and say nothing. */
		for (w = 0; w < NWORKERS; w++)
			while ((got = received(w, types, ids, 8)) > 0)
				CHECK_EQ(ids[got - 1], id);
	}
	CHECK_EQ(peers_merge(stats(first, 1, 0)), 1);
	CHECK_EQ(peers_merge(stats(first + n - ASKS_BOUND - 1, 1, 0)), 1);
	CHECK_EQ(peers_merge(stats(first + n - ASKS_BOUND, 1, 0)), 0);
	CHECK_EQ(peers_merge(stats(first + n - 1, 1, 0)), 0);
	CHECK_EQ(peers_merge(stats(first + n - 1, 1, 0)), 1);
}

int
main(void)
{
	int	sp[NWORKERS][2], fds[NWORKERS], w;

	event_init();
	for (w = 0; w < NWORKERS; w++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
		    sp[w]) == -1) {
			perror("socketpair");
			return (1);
		}
		fds[w] = sp[w][0];
		msg_init(&worker[w], sp[w][1], MSG_RX_PROXY_PEER);
	}
	peers_init(fds, NWORKERS, dispatch, closed);
	test_stats();
	test_listing();
	test_failure();
	test_bound();
	return (test_done("peerstest"));
}
