/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * upstream_health.c: what the dns process knows of each upstream
 * resolver, and so which one a query asks next.  It belongs to the dns
 * process alone and is upstream.c's helper.
 *
 * Upstreams are keyed by address, port and TLS (with its name), so that
 * the plain upstreams and the split DNS sets share what is known of them:
 * a smoothed round-trip time and its variance (RFC 6298's estimator, from
 * UDP answers and TLS answers once connected), answers, timeouts,
 * consecutive failures, and whether it is up.
 * A try that times out or is refused takes an upstream down; a down one
 * is left out until its back-off (1 s, doubled by each failed probe up to
 * 120 s) runs out, then the next query probes it first while the others
 * pass it by.  Any answer brings it back up.  Among the upstreams up,
 * those whose estimate is within UPSTREAM_RTT_BAND of the best count as
 * equally fast and the first configured of them is asked.  When every
 * upstream left to ask is down, they are asked all the same, best first.
 * The try timeout stays the configured one: recursive upstreams answer
 * cache misses far slower than hits, and a timeout fitted to the hits
 * would give up on the misses.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "dns44.h"
#include "log.h"
#include "upstream.h"
#include "upstream_local.h"

#define UPSTREAM_RTT_INIT	(100 * 1000)	/* us: never asked */
#define UPSTREAM_RTT_BAND	(50 * 1000)	/* us: as fast as the best */
#define UPSTREAM_BACKOFF_MIN	1000		/* ms */
#define UPSTREAM_BACKOFF_MAX	(120 * 1000)	/* ms */

/* What is known of one upstream; see the comment at the top. */
struct upstream_health {
	struct conf_upstream	 addr;
	int			 used;		/* slot taken */
	int			 down;
	int			 measured;	/* srtt holds a sample */
	int64_t			 srtt;		/* us */
	int64_t			 rttvar;	/* us */
	uint64_t		 answers;
	uint64_t		 timeouts;
	uint32_t		 fails;		/* in a row */
	uint32_t		 backoff;	/* ms, while down */
	int64_t			 retry_at;	/* ms: probe from then */
	int64_t			 probe_until;	/* ms: a probe is out */
	int64_t			 last;		/* ms: last asked */
};

static struct upstream_health	 upstream_hs[UPSTREAM_HEALTH_MAX];
static struct conf_upstream	 upstream_plain[CONF_MAX_UPSTREAM];
static int			 upstream_nplain;
static uint32_t			 upstream_try_ms = DEFAULT_UPSTREAM_MS;
static int64_t			 upstream_skew;	/* ms; regress only */

static struct upstream_health *upstream_health_find(
		    const struct conf_upstream *, int);
static int64_t	upstream_estimate(const struct upstream_health *);
static int	upstream_usable(const struct upstream_health *, int64_t);

/*
 * A new list of plain upstreams forgets every upstream; NULL keeps them.
 * The try timeout bounds a probe.
 */
void
upstream_health_reset(const struct conf_upstream *plain, int n,
    uint32_t ms)
{
	int	i;

	upstream_try_ms = ms;
	if (plain == NULL)
		return;
	memset(upstream_hs, 0, sizeof(upstream_hs));
	upstream_nplain = n < CONF_MAX_UPSTREAM ? n : CONF_MAX_UPSTREAM;
	for (i = 0; i < upstream_nplain; i++) {
		upstream_plain[i] = plain[i];
		(void)upstream_health_find(&plain[i], 1);
	}
}

void
upstream_clock_advance(uint32_t ms)
{
	upstream_skew += ms;
}

/* Monotonic microseconds, the tests' skew included. */
int64_t
upstream_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
	    upstream_skew * 1000);
}

/*
 * The upstream's entry, or NULL.  With create, a new one is made for an
 * upstream not yet known; when every slot is taken, that of the upstream
 * asked longest ago which is not one of the plain ones makes room.
 */
static struct upstream_health *
upstream_health_find(const struct conf_upstream *sin, int create)
{
	struct upstream_health	*h, *old = NULL;
	int			 i, j, plain;

	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		h = &upstream_hs[i];
		if (h->used && conf_upstream_same(&h->addr, sin))
			return (h);
	}
	if (!create)
		return (NULL);
	for (i = 0; i < UPSTREAM_HEALTH_MAX; i++) {
		h = &upstream_hs[i];
		if (!h->used) {
			old = h;
			break;
		}
		for (plain = j = 0; j < upstream_nplain && !plain; j++)
			plain = conf_upstream_same(&upstream_plain[j],
			    &h->addr);
		if (!plain && (old == NULL || h->last < old->last))
			old = h;
	}
	if (old == NULL)
		return (NULL);
	memset(old, 0, sizeof(*old));
	old->used = 1;
	old->addr = *sin;
	old->srtt = UPSTREAM_RTT_INIT;
	return (old);
}

/* The round trip expected of it, in us. */
static int64_t
upstream_estimate(const struct upstream_health *h)
{
	return (h == NULL ? UPSTREAM_RTT_INIT : h->srtt);
}

/* Up, or down with its back-off over and no probe out. */
static int
upstream_usable(const struct upstream_health *h, int64_t now)
{
	return (h == NULL || !h->down ||
	    (now >= h->retry_at && now >= h->probe_until));
}

/*
 * The next of these upstreams to ask, or -1.  Among those not tried yet
 * (a bit each): a down one due for its probe, which *probe says; else the
 * first configured of those up whose estimate is within the band of the
 * best; else, when the query has no answer yet, the same of those down.
 */
int
upstream_health_pick(const struct conf_upstream *servers, int nservers,
    uint32_t tried, int answered, int *probe)
{
	struct upstream_health	*hs[CONF_MAX_UPSTREAM], *h;
	int64_t			 now, best;
	int			 i, pass, pick;

	*probe = 0;
	if (nservers > CONF_MAX_UPSTREAM)
		nservers = CONF_MAX_UPSTREAM;
	now = upstream_now_us() / 1000;
	for (i = 0; i < nservers; i++)
		hs[i] = (tried & (1U << i)) == 0 ?
		    upstream_health_find(&servers[i], 1) : NULL;
	/* A down one whose back-off ran out is probed before the rest. */
	for (i = 0; i < nservers; i++) {
		if ((h = hs[i]) == NULL || !h->down ||
		    !upstream_usable(h, now))
			continue;
		h->last = now;
		h->probe_until = now + upstream_try_ms;
		*probe = 1;
		return (i);
	}
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && answered)
			break;
		best = -1;
		for (i = 0; i < nservers; i++) {
			if ((tried & (1U << i)) != 0 ||
			    (pass == 0 && !upstream_usable(hs[i], now)))
				continue;
			if (best == -1 || upstream_estimate(hs[i]) < best)
				best = upstream_estimate(hs[i]);
		}
		if (best == -1)
			continue;
		for (pick = -1, i = 0; i < nservers && pick == -1; i++)
			if ((tried & (1U << i)) == 0 &&
			    (pass == 1 || upstream_usable(hs[i], now)) &&
			    upstream_estimate(hs[i]) <=
			    best + UPSTREAM_RTT_BAND)
				pick = i;
		if (hs[pick] != NULL)
			hs[pick]->last = now;
		return (pick);
	}
	return (-1);
}

/*
 * An answer that passed the checks: the upstream is up.  rtt is the UDP
 * (or TLS, once connected) round trip in us, or -1 when not to be counted
 * (over TCP).
 */
void
upstream_health_ok(const struct conf_upstream *sin, int64_t rtt)
{
	struct upstream_health	*h;
	char			 buf[CONF_UPSTREAM_STRLEN];
	int64_t			 d;

	if ((h = upstream_health_find(sin, 0)) == NULL)
		return;
	h->answers++;
	h->fails = 0;
	if (rtt >= 0) {
		/* RFC 6298, 2.2 and 2.3. */
		if (!h->measured) {
			h->srtt = rtt;
			h->rttvar = rtt / 2;
			h->measured = 1;
		} else {
			d = h->srtt > rtt ? h->srtt - rtt : rtt - h->srtt;
			h->rttvar = (3 * h->rttvar + d) / 4;
			h->srtt = (7 * h->srtt + rtt) / 8;
		}
	}
	if (h->down) {
		log_info("upstream %s: up again", conf_fmt_upstream(&h->addr,
		    buf, sizeof(buf)));
		h->down = 0;
		h->backoff = 0;
		h->retry_at = h->probe_until = 0;
	}
}

/*
 * A try that timed out or failed.  Up, the upstream goes down for the
 * shortest back-off; down, a failed probe doubles it.  A TCP try only
 * counts its timeout: the upstream answered over UDP.
 */
void
upstream_health_fail(const struct conf_upstream *sin, int timeout, int probe,
    int tcp)
{
	struct upstream_health	*h;
	char			 buf[CONF_UPSTREAM_STRLEN];
	int64_t			 now;

	if ((h = upstream_health_find(sin, 0)) == NULL)
		return;
	if (timeout)
		h->timeouts++;
	if (tcp)
		return;
	h->fails++;
	now = upstream_now_us() / 1000;
	if (!h->down) {
		h->down = 1;
		h->backoff = UPSTREAM_BACKOFF_MIN;
	} else if (probe) {
		h->backoff = h->backoff * 2 > UPSTREAM_BACKOFF_MAX ?
		    UPSTREAM_BACKOFF_MAX : h->backoff * 2;
		h->probe_until = 0;
	} else
		return;
	h->retry_at = now + h->backoff;
	log_info("upstream %s: %s, left alone for %ums", conf_fmt_upstream(
	    &h->addr, buf, sizeof(buf)), timeout ? "no answer" : "failed",
	    h->backoff);
}

/* What is known of each upstream, in the order first asked; how many. */
size_t
upstream_list(struct upstream_info *out, size_t max)
{
	const struct upstream_health	*h;
	int64_t				 now;
	size_t				 n = 0;
	int				 i;

	now = upstream_now_us() / 1000;
	for (i = 0; i < UPSTREAM_HEALTH_MAX && n < max; i++) {
		h = &upstream_hs[i];
		if (!h->used)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].addr = h->addr;
		out[n].state = h->down ? UPSTREAM_DOWN : h->measured ||
		    h->answers > 0 ? UPSTREAM_UP : UPSTREAM_NEW;
		out[n].srtt_us = h->measured ? h->srtt : 0;
		out[n].rttvar_us = h->measured ? h->rttvar : 0;
		out[n].answers = h->answers;
		out[n].timeouts = h->timeouts;
		out[n].fails = h->fails;
		if (h->down && h->retry_at > now)
			out[n].backoff_left_ms = h->retry_at - now;
		n++;
	}
	return (n);
}
