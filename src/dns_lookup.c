/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns_lookup.c: what a proxy worker asks the dns process of a virtual
 * address it was sent a connection to: the name behind it (from the map,
 * or from the store of a shared map when the map has not heard of it),
 * the rules' decision for that name, and the name's real addresses of
 * both families, which the proxy dials.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dns.h"
#include "log.h"
#include "map.h"
#include "msg.h"
#include "proc.h"
#include "resolve.h"
#include "rules.h"
#include "store.h"
#include "wire.h"

/* A lookup from the proxy of an address the store is asked about. */
struct dns_find {
	struct chan		*chan;
	uint32_t		 id;
	struct msg_lookup	 ml;
};

/* A lookup from the proxy waiting for the real addresses. */
struct dns_lookup {
	struct chan		*chan;		/* the worker that asked */
	uint32_t		 id;
	uint32_t		 addr;		/* network order */
	char			 name[WIRE_TEXT_MAX + 1];
	struct rule_route	 route;
};

static struct log_rate		 dns_rl_lookup;

static void	dns_found(enum store_status, uint32_t, void *);
static void	dns_resolved(const struct resolve_result *, void *);
static void	dns_resolved_none(struct dns_lookup *, int, uint32_t);

/*
 * Who is behind a virtual address, and where does it really live?  With
 * ask set, an address the map does not know is asked of the store: the
 * client may have had it from another gateway.
 */
void
dns_lookup(struct chan *c, uint32_t id, const struct msg_lookup *ml, int ask)
{
	struct map_entry	*e;
	struct dns_lookup	*l;
	struct dns_find		*f;
	struct rule_verdict	 v;
	struct in_addr		 in;
	char			 buf[INET_ADDRSTRLEN], name[LOG_NAME_MAX];

	e = map_lookup_addr(dns_map, ntohl(ml->addr));
	/* One line per lookup: the proxy's cache is seen to work. */
	if (log_getverbose()) {
		in.s_addr = ml->addr;
		log_debug("proxy lookup %s: %s", inet_ntop(AF_INET, &in, buf,
		    sizeof(buf)), e != NULL ? log_name(e->name, name,
		    sizeof(name)) : "no mapping");
	}
	if (e == NULL && ask && (f = calloc(1, sizeof(*f))) != NULL) {
		f->chan = c;
		f->id = id;
		f->ml = *ml;
		if (store_find(ntohl(ml->addr), dns_found, f) != NULL)
			return;
		free(f);
	}
	if (e == NULL || (l = calloc(1, sizeof(*l))) == NULL) {
		if (chan_compose(c, MSG_LOOKUP_MISS, id, -1, ml,
		    sizeof(*ml)) == -1)
			fatal("answering the proxy");
		return;
	}
	l->chan = c;
	l->id = id;
	l->addr = ml->addr;
	strlcpy(l->name, e->name, sizeof(l->name));
	ruleset_eval(dns_rules, l->name, ntohl(ml->client), ml->client != 0,
	    &v);
	if (v.rule != NULL)
		v.rule->hits++;
	l->route = v.route;
	/* Reset, or dialled by a proxy server that resolves the name. */
	if (v.action == RULE_BLOCK || v.route.via != VIA_DIRECT) {
		dns_resolved_none(l, LDNS_RCODE_NOERROR, conf->ttl);
		return;
	}
	if (resolve_name(l->name, ruleset_split(dns_rules, l->name),
	    dns_resolved, l) == NULL)
		dns_resolved_none(l, -1, 0);
}

static void
dns_found(enum store_status s, uint32_t addr, void *arg)
{
	struct dns_find	*f = arg;

	(void)s;
	(void)addr;
	dns_lookup(f->chan, f->id, &f->ml, 0);
	free(f);
}

static void
dns_resolved_none(struct dns_lookup *l, int rcode, uint32_t ttl)
{
	struct resolve_result	r;

	memset(&r, 0, sizeof(r));
	r.rcode = rcode;
	r.ttl = ttl;
	dns_resolved(&r, l);
}

static void
dns_resolved(const struct resolve_result *r, void *arg)
{
	struct dns_lookup	*l = arg;
	struct msg_answer	 ma;
	struct map_entry	*e;
	uint32_t		 a;
	size_t			 i;
	int			 rcode = r->rcode;
	char			 name[LOG_NAME_MAX];

	memset(&ma, 0, sizeof(ma));
	ma.addr = l->addr;
	strlcpy(ma.domain, l->name, sizeof(ma.domain));
	ma.route = l->route;
	ma.rcode = rcode;
	/* The address changed hands while we asked: the proxy keeps none. */
	e = map_lookup_addr(dns_map, ntohl(l->addr));
	ma.ttl = e != NULL && strcmp(e->name, l->name) == 0 ? r->ttl : 0;
	for (i = 0; i < r->naddrs && ma.naddrs < MSG_MAX_ADDRS; i++) {
		/* An address of our own range would loop back to us. */
		a = ntohl(r->addrs[i]);
		if (conf_in_range(conf, a))
			continue;
		ma.addrs[ma.naddrs++] = r->addrs[i];
	}
	for (i = 0; i < r->naddrs6 && ma.naddrs6 < MSG_MAX_ADDRS; i++)
		ma.addrs6[ma.naddrs6++] = r->addrs6[i];
	if (rcode == -1)
		log_rate(&dns_rl_lookup, LOG_ERR, "lookup of %s: no upstream "
		    "answered", log_name(l->name, name, sizeof(name)));
	if (chan_compose(l->chan, MSG_LOOKUP_ANSWER, l->id, -1, &ma,
	    sizeof(ma)) == -1)
		fatal("answering the proxy");
	free(l);
}
