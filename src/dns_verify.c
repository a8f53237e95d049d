/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns_verify.c: a query for a name not in the map yet.  With dns verify
 * on, the upstreams are asked whether the name exists, through the cache
 * the proxy's lookups use; a name that exists is mapped, by the map
 * itself or, for a map shared with other gateways, by the store; then
 * the client is answered, once, whatever came of it.  A PTR query of an
 * address of the range the map has not heard of, on a shared map, waits
 * here too, for the store to say who holds it.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "answer.h"
#include "dns.h"
#include "log.h"
#include "map.h"
#include "proc.h"
#include "resolve.h"
#include "rules.h"
#include "store.h"
#include "wire.h"

static struct log_rate	 dns_rl_nomem;

static void	dns_verified(const struct resolve_result *, void *);
static void	dns_stored(enum store_status, uint32_t, void *);
static void	dns_verify_done(const struct resolve_result *,
		    struct dns_query *, enum store_status);

/*
 * A new name: the upstreams are asked whether it exists, through the
 * cache the proxy's lookups use, and the client is answered when they
 * have said; others asking meanwhile wait for the same lookup.
 */
void
dns_verify(struct answer *a, struct dns_tcp *tcp, int udp_fd,
    const struct sockaddr_in *client, const struct timespec *start)
{
	struct dns_query	*q;
	struct resolve_result	 none;
	char			 name[WIRE_NAME_MAX + 2];

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->ans = malloc(sizeof(*q->ans))) == NULL) {
		log_rate(&dns_rl_nomem, LOG_ERR, "DNS: %s", strerror(errno));
		free(q);
		ldns_pkt_free(a->query);
		return;
	}
	*q->ans = *a;
	q->query = a->query;
	q->tcp = tcp;
	q->udp_fd = udp_fd;
	q->client = *client;
	q->limit = a->limit;
	q->start = *start;
	if (tcp != NULL)
		TAILQ_INSERT_TAIL(&tcp->queries, q, entry);
	/* A PTR of an address another gateway may have given. */
	if (a->qtype == LDNS_RR_TYPE_PTR) {
		if ((q->sreq = store_find(a->ptr, dns_stored, q)) == NULL)
			dns_stored(STORE_DOWN, 0, q);
		return;
	}
	/* A shared map not verifying: straight to the store. */
	if (!conf->dns_verify) {
		memset(&none, 0, sizeof(none));
		none.rcode = LDNS_RCODE_NOERROR;
		none.aaaa = 1;
		dns_verified(&none, q);
		return;
	}
	if (map_normalize(a->name, name, sizeof(name)) == -1 ||
	    (q->vreq = resolve_verify(name, a->qtype,
	    ruleset_split(dns_rules, name), dns_verified, q)) == NULL) {
		/* Too busy to ask: SERVFAIL now, and no address taken. */
		memset(&none, 0, sizeof(none));
		none.rcode = -1;
		dns_verified(&none, q);
	}
}

/*
 * What the upstreams said of a new name.  A name that exists in a shared
 * map goes to the store for its address first.
 */
static void
dns_verified(const struct resolve_result *res, void *arg)
{
	struct dns_query	*q = arg;
	char			 name[WIRE_NAME_MAX + 2];

	q->vreq = NULL;
	if (CONF_SHARED_MAP(conf) && res->rcode == LDNS_RCODE_NOERROR &&
	    (res->naddrs > 0 || res->aaaa)) {
		/* The client's rate, as the map would hold it to. */
		if (!map_client_allow(dns_map, ntohl(q->client.sin_addr.s_addr),
		    time(NULL))) {
			q->ans->limited = 1;
			dns_stored(STORE_OK, 0, q);
			return;
		}
		if (map_normalize(q->ans->name, name, sizeof(name)) == 0 &&
		    (q->sreq = store_assign(name, time(NULL), dns_stored,
		    q)) != NULL)
			return;
		dns_stored(STORE_DOWN, 0, q);
		return;
	}
	dns_verify_done(res, q, STORE_OK);
}

/*
 * The store's word on a new name (its address), or on the address of a
 * PTR query (who holds it; nobody is an answer too: NXDOMAIN).
 */
static void
dns_stored(enum store_status s, uint32_t addr, void *arg)
{
	struct dns_query	*q = arg;
	struct resolve_result	 res;

	q->sreq = NULL;
	if (q->ans->qtype == LDNS_RR_TYPE_PTR && s == STORE_NONE)
		s = STORE_OK;
	/* A new name placed for this client is charged to it. */
	else if (q->ans->qtype != LDNS_RR_TYPE_PTR && s == STORE_OK &&
	    !q->ans->limited)
		map_claim(dns_map, addr, ntohl(q->client.sin_addr.s_addr),
		    time(NULL));
	memset(&res, 0, sizeof(res));
	res.rcode = s == STORE_OK && !q->ans->limited ? LDNS_RCODE_NOERROR :
	    -1;
	res.aaaa = 1;
	dns_verify_done(&res, q, s);
}

static void
dns_verify_done(const struct resolve_result *res, struct dns_query *q,
    enum store_status s)
{
	struct answer		*a = q->ans;
	char			 from[32], type[16], name[LOG_NAME_MAX];
	time_t			 now = time(NULL);

	if (q->tcp != NULL)
		TAILQ_REMOVE(&q->tcp->queries, q, entry);
	if (a->qtype == LDNS_RR_TYPE_PTR)
		answer_ptr_asked(dns_map, conf, s == STORE_OK, a);
	else
		answer_verified(dns_map, conf, res, now, a);
	if (a->limited)
		strlcpy(a->result, "SERVFAIL", sizeof(a->result));
	else if (s == STORE_FULL) {
		a->full = 1;
		strlcpy(a->result, "SERVFAIL: map full", sizeof(a->result));
	} else if (s != STORE_OK) {
		dns_stats.store_failures++;
		strlcpy(a->result, "SERVFAIL: map store unreachable",
		    sizeof(a->result));
	} else if (res->rcode == -1)
		dns_stats.upstream_failures++;
	dns_count_rcode(a->action == ANSWER_REPLY ? a->rcode :
	    LDNS_RCODE_SERVFAIL);
	if (a->full)
		dns_stats.full++;
	if (a->limited)
		dns_stats.limited++;
	dns_warn(a, &q->client, now);
	if (log_getverbose())
		log_debug("DNS %s ?%s %s => [%s] verified",
		    conf_fmt_addr(&q->client, from, sizeof(from)),
		    answer_type_name(a->qtype, type, sizeof(type)),
		    log_name(a->name, name, sizeof(name)), a->result);
	if (a->action == ANSWER_REPLY) {
		dns_send(q->tcp, q->udp_fd, &q->client, a->wire, a->len);
		free(a->wire);
		metrics_observe(&q->start);
	}
	ldns_pkt_free(q->query);
	free(a);
	free(q);
}
