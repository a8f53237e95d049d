/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * peers.c: the dns process's channels to the proxy workers, one each.
 * Lookups are answered on the channel they came by; what every worker
 * must hear (an address gone to another name) goes to all of them; and
 * a request of dns44ctl or of a scrape for the proxy goes to every
 * worker, whose answers come back as one: the counters summed, the
 * listings one after the other with a single end, and the first failure
 * instead of the rest.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "peers.h"
#include "proc.h"

#define PEERS_ASKS_MAX	256	/* requests answered in part, at most */

/* A request sent to every worker, until each has answered. */
struct peers_ask {
	TAILQ_ENTRY(peers_ask)	 entry;
	uint32_t		 serial;
	int			 left;		/* workers yet to finish */
	int			 failed;	/* a failure went on already */
	struct ctl_stats_proxy	 sum;
};

TAILQ_HEAD(peers_asks, peers_ask);

static struct chan		 peers[CONF_MAX_WORKERS];
static int			 npeers;
static struct peers_asks	 peers_asks =
    TAILQ_HEAD_INITIALIZER(peers_asks);
static size_t			 peers_nasks;
static struct ctl_stats_proxy	 peers_merged;	/* what the last sum gave */

static void	peers_ask_free(struct peers_ask *);

void
peers_init(const int *fds, int n, void (*dispatch)(struct chan *,
    struct msg *), void (*closed)(struct chan *, int))
{
	int	i;

	if (n < 1 || n > CONF_MAX_WORKERS)
		fatalx("%s: %d channels to proxy workers", __func__, n);
	for (i = 0; i < n; i++)
		chan_init(&peers[i], fds[i], MSG_RX_DNS_PEER, "proxy",
		    dispatch, closed, NULL);
	npeers = n;
}

int
peers_count(void)
{
	return (npeers);
}

/* A message for every worker; -1 when one of them could not take it. */
int
peers_broadcast(uint32_t type, uint32_t id, const void *data, size_t len)
{
	int	i, rv = 0;

	for (i = 0; i < npeers; i++)
		if (chan_compose(&peers[i], type, id, -1, data, len) == -1)
			rv = -1;
	return (rv);
}

void
peers_flush(int ms)
{
	int	i;

	for (i = 0; i < npeers; i++)
		chan_flush(&peers[i], ms);
}

/* The most any worker's channel holds unsent. */
size_t
peers_queued(void)
{
	size_t	q = 0;
	int	i;

	for (i = 0; i < npeers; i++)
		if (peers[i].mc.queued > q)
			q = peers[i].mc.queued;
	return (q);
}

/*
 * A request for every worker, answered through peers_merge(); -1 when it
 * could not go to all of them (the answers of those it reached are
 * dropped).
 */
int
peers_forward(uint32_t type, uint32_t serial, const void *data, size_t len)
{
	struct peers_ask	*pa;

	while (peers_nasks >= PEERS_ASKS_MAX)
		peers_ask_free(TAILQ_FIRST(&peers_asks));
	if ((pa = calloc(1, sizeof(*pa))) == NULL)
		return (-1);
	pa->serial = serial;
	pa->left = npeers;
	TAILQ_INSERT_TAIL(&peers_asks, pa, entry);
	peers_nasks++;
	if (peers_broadcast(type, serial, data, len) == -1) {
		pa->failed = 1;
		return (-1);
	}
	return (0);
}

/*
 * An answer from a worker to a forwarded request: 1 when m is to go on
 * to whoever asked (a summed m replaces the last worker's counters), 0
 * when it is kept back.  Answers to no request of ours go on as they are.
 */
int
peers_merge(struct msg *m)
{
	struct ctl_stats_proxy	 ps;
	struct peers_ask	*pa;
	size_t			 i;
	int			 deliver;

	TAILQ_FOREACH(pa, &peers_asks, entry)
		if (pa->serial == m->hdr.id)
			break;
	if (pa == NULL)
		return (1);
	switch (m->hdr.type) {
	case MSG_CTL_CONN:
		return (!pa->failed);
	case MSG_CTL_STATS_PROXY:
		msg_get(m, &ps, sizeof(ps));
		pa->sum.tcp_open += ps.tcp_open;
		pa->sum.tcp_total += ps.tcp_total;
		pa->sum.udp_open += ps.udp_open;
		pa->sum.udp_total += ps.udp_total;
		pa->sum.bytes_sent += ps.bytes_sent;
		pa->sum.bytes_received += ps.bytes_received;
		pa->sum.tcp_client_limit += ps.tcp_client_limit;
		pa->sum.udp_client_limit += ps.udp_client_limit;
		pa->sum.refused_clients += ps.refused_clients;
		pa->sum.refused_dests += ps.refused_dests;
		pa->sum.udp_recycled += ps.udp_recycled;
		for (i = 0; i < CTL_FAIL_MAX; i++) {
			pa->sum.tcp_fails[i] += ps.tcp_fails[i];
			pa->sum.udp_fails[i] += ps.udp_fails[i];
		}
		break;
	case MSG_CTL_END:
		break;
	case MSG_CTL_FAIL:
		/* The first failure answers the request; the rest are noise. */
		deliver = !pa->failed;
		pa->failed = 1;
		if (--pa->left <= 0)
			peers_ask_free(pa);
		return (deliver);
	default:
		return (1);
	}
	if (--pa->left > 0)
		return (0);
	deliver = !pa->failed;
	if (m->hdr.type == MSG_CTL_STATS_PROXY) {
		peers_merged = pa->sum;
		m->data = &peers_merged;
		m->len = sizeof(peers_merged);
	}
	peers_ask_free(pa);
	return (deliver);
}

static void
peers_ask_free(struct peers_ask *pa)
{
	TAILQ_REMOVE(&peers_asks, pa, entry);
	peers_nasks--;
	free(pa);
}
