/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_client.c: the proxy's count of what each client holds open, by
 * source address: TCP connections and UDP sessions, against the limits
 * per client, so that one host cannot take the places the global limits
 * leave for everyone.  A client is in the table only while it holds
 * something, so the table never holds more entries than the connections
 * and sessions open, which the global limits bound.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "proc.h"
#include "proxy.h"
#include "siphash.h"

#define PROXY_CLIENT_BUCKETS	4096	/* a power of 2 */

struct proxy_client {
	LIST_ENTRY(proxy_client) entry;
	uint32_t		 addr;		/* network order */
	uint32_t		 tcp;
	uint32_t		 udp;
	/* Its relaying UDP sessions, the least recently active first. */
	TAILQ_HEAD(, proxy_relay) lru;
};

static LIST_HEAD(, proxy_client) proxy_clients[PROXY_CLIENT_BUCKETS];
static uint8_t			 proxy_client_key[SIPHASH_KEY_LEN];
static struct log_rate	 proxy_rl_client_tcp, proxy_rl_client_udp;
static uint64_t			 proxy_client_refused_tcp;
static uint64_t			 proxy_client_refused_udp;

static struct proxy_client *proxy_client_find(uint32_t, int);

void
proxy_client_init(void)
{
	size_t	i;

	for (i = 0; i < PROXY_CLIENT_BUCKETS; i++)
		LIST_INIT(&proxy_clients[i]);
	/* Keyed: a LAN host cannot aim its addresses at one chain. */
	arc4random_buf(proxy_client_key, sizeof(proxy_client_key));
}

static struct proxy_client *
proxy_client_find(uint32_t addr, int create)
{
	struct proxy_client	*c;
	size_t			 b;

	b = siphash(proxy_client_key, &addr, sizeof(addr)) &
	    (PROXY_CLIENT_BUCKETS - 1);
	LIST_FOREACH(c, &proxy_clients[b], entry)
		if (c->addr == addr)
			return (c);
	if (!create || (c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->addr = addr;
	TAILQ_INIT(&c->lru);
	LIST_INSERT_HEAD(&proxy_clients[b], c, entry);
	return (c);
}

/*
 * One more connection (IPPROTO_TCP) or session (IPPROTO_UDP) of client:
 * 1, or 0 when the client holds its limit already (counted and logged;
 * the caller resets or drops) or memory is short.
 */
int
proxy_client_take(const struct sockaddr_in *client, int proto)
{
	struct proxy_client	*c;
	char			 a[INET_ADDRSTRLEN];

	if ((c = proxy_client_find(client->sin_addr.s_addr, 1)) == NULL) {
		log_warn("%s", __func__);
		return (0);
	}
	if (proto == IPPROTO_TCP) {
		if (c->tcp >= conf->client_conn) {
			proxy_client_refused_tcp++;
			log_rate(&proxy_rl_client_tcp, LOG_WARNING,
			    "TCP: %s has %u connections open, its limit; "
			    "refusing more", inet_ntop(AF_INET,
			    &client->sin_addr, a, sizeof(a)), c->tcp);
			return (0);
		}
		c->tcp++;
	} else {
		if (c->udp >= conf->client_sessions) {
			proxy_client_refused_udp++;
			log_rate(&proxy_rl_client_udp, LOG_WARNING,
			    "UDP: %s has %u sessions open, its limit; "
			    "dropping datagrams of new ones", inet_ntop(AF_INET,
			    &client->sin_addr, a, sizeof(a)), c->udp);
			return (0);
		}
		c->udp++;
	}
	return (1);
}

/* A connection or session of client closed; forget a client left idle. */
void
proxy_client_put(const struct sockaddr_in *client, int proto)
{
	struct proxy_client	*c;

	if ((c = proxy_client_find(client->sin_addr.s_addr, 0)) == NULL)
		fatalx("%s: a client that holds nothing", __func__);
	if (proto == IPPROTO_TCP && c->tcp > 0)
		c->tcp--;
	else if (proto != IPPROTO_TCP && c->udp > 0)
		c->udp--;
	if (c->tcp == 0 && c->udp == 0) {
		if (!TAILQ_EMPTY(&c->lru))
			fatalx("%s: a client freed with sessions", __func__);
		LIST_REMOVE(c, entry);
		free(c);
	}
}

/* Whether client holds its limit of proto already. */
int
proxy_client_full(const struct sockaddr_in *client, int proto)
{
	struct proxy_client	*c;

	if ((c = proxy_client_find(client->sin_addr.s_addr, 0)) == NULL)
		return (0);
	if (proto == IPPROTO_TCP)
		return (c->tcp >= conf->client_conn);
	return (c->udp >= conf->client_sessions);
}

/*
 * A UDP session of its client starts to relay, moves data or ends: its
 * client's list is kept in order of activity, so that at the client's
 * limit its own least recently active session can make room.  The
 * client's entry lives as long as the session, which it counts.
 */
void
proxy_client_lru_add(struct proxy_relay *r)
{
	if ((r->cl = proxy_client_find(r->client.sin_addr.s_addr, 0)) == NULL)
		fatalx("%s: a session of no client", __func__);
	TAILQ_INSERT_TAIL(&r->cl->lru, r, centry);
}

void
proxy_client_lru_touch(struct proxy_relay *r)
{
	TAILQ_REMOVE(&r->cl->lru, r, centry);
	TAILQ_INSERT_TAIL(&r->cl->lru, r, centry);
}

void
proxy_client_lru_remove(struct proxy_relay *r)
{
	TAILQ_REMOVE(&r->cl->lru, r, centry);
	r->cl = NULL;
}

/* The least recently active relaying UDP session of client, or NULL. */
struct proxy_relay *
proxy_client_lru_first(const struct sockaddr_in *client)
{
	struct proxy_client	*c;

	if ((c = proxy_client_find(client->sin_addr.s_addr, 0)) == NULL)
		return (NULL);
	return (TAILQ_FIRST(&c->lru));
}

/* Connections and sessions refused so far for their client's limit. */
void
proxy_client_stats(uint64_t *tcp, uint64_t *udp)
{
	*tcp = proxy_client_refused_tcp;
	*udp = proxy_client_refused_udp;
}
