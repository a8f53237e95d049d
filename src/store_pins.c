/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * store_pins.c: this gateway's leases in the shared map.  An address with
 * connections here has a lease in the store, this gateway's id in the
 * sorted set dns44:pin:ADDR scored by when it lapses, and no gateway
 * reuses an address with a lease not lapsed.  A lease lasts
 * STORE_LEASE_SEC and is renewed every STORE_RENEW_SEC, so the addresses
 * of a gateway that died are free again within STORE_LEASE_SEC.
 *
 * The addresses leased are kept in a set of their own (by their index in
 * the range, plus one) as their first connection begins and their last
 * ends: a renewal costs the leases, not a walk of a map of a million
 * names.  A name forgotten while it had connections leaves its address in
 * the set until the next renewal, which finds no connection on it in the
 * map and lets the lease lapse.
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
#include "u32set.h"

static struct u32set	store_pins;

static int	store_pin_renew(uint32_t, void *);
static void	store_pin_send(uint32_t, int, time_t);

/*
 * A connection began (on set) or the last one ended on addr: this
 * gateway's lease on it, or none.  While the store is away nothing is
 * sent; the set is kept, and the leases are renewed when it is back.
 */
void
store_pin(uint32_t addr, int on)
{
	uint32_t	k;

	if (addr < conf->range_first || addr > conf->range_last)
		return;
	k = addr - conf->range_first + 1;
	if (!on)
		(void)u32set_del(&store_pins, k);
	else if (u32set_add(&store_pins, k) == -1)
		log_rate(&store_st.rl, LOG_WARNING, "map store: the lease on "
		    "an address with connections will not be renewed: %s",
		    strerror(errno));
	if (store_st.state == STORE_UP)
		store_pin_send(addr, on, time(NULL));
}

/* Each lease renewed, those of addresses no longer in use forgotten. */
void
store_pins_renew(time_t now)
{
	u32set_filter(&store_pins, store_pin_renew, &now);
}

void
store_pins_free(void)
{
	u32set_clear(&store_pins);
}

static int
store_pin_renew(uint32_t k, void *arg)
{
	struct map_entry	*e;
	uint32_t		 addr = conf->range_first + k - 1;

	if ((e = map_lookup_addr(store_st.map, addr)) == NULL ||
	    e->conns == 0)
		return (0);
	store_pin_send(addr, 1, *(time_t *)arg);
	return (1);
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
		(void)redisAsyncCommand(store_st.cmd, NULL, NULL, "ZREM %s %s",
		    key, store_st.gateway);
		return;
	}
	snprintf(t, sizeof(t), "%lld", (long long)now + STORE_LEASE_SEC);
	(void)redisAsyncCommand(store_st.cmd, NULL, NULL, "ZADD %s %s %s", key,
	    t, store_st.gateway);
	snprintf(t, sizeof(t), "%d", 2 * STORE_LEASE_SEC);
	(void)redisAsyncCommand(store_st.cmd, NULL, NULL, "EXPIRE %s %s", key,
	    t);
}
