/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns.h: what the files of the dns process share and no other process
 * sees: dns.c's map and counters, which the control socket reads and
 * changes, the query handling that dns_tcp.c hands its clients' queries
 * to, and the entry points of the TCP clients and the control socket.
 */

#ifndef DNS_H
#define DNS_H

#include <sys/queue.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

#include "msg.h"
#include "proc.h"

#define DNS_WARN_INTERVAL	10		/* seconds between warnings */

struct bufferevent;
struct event_base;
struct evbuffer;
struct answer;
struct map;
struct resolve_req;
struct store_req;
struct upstream_req;

/* dns.c */
struct dns_tcp;

/* A query waiting for the upstreams, forwarded or its name verified. */
struct dns_query {
	TAILQ_ENTRY(dns_query)	 entry;		/* of its TCP client */
	struct upstream_req	*req;
	struct resolve_req	*vreq;		/* verifying: the lookup */
	struct store_req	*sreq;		/* placing: the store's */
	struct answer		*ans;		/* verifying: the answer */
	ldns_pkt		*query;
	struct dns_tcp		*tcp;		/* NULL for UDP */
	int			 udp_fd;
	struct sockaddr_in	 client;
	size_t			 limit;
	int			 pass;		/* the rules pass the name */
	struct timespec		 start;		/* of the query's arrival */
};

/* What dns_handle() leaves a TCP client to do. */
enum dns_next {
	DNS_NEXT_READ,			/* read the next query */
	DNS_NEXT_CLOSE,			/* close after the answer */
	DNS_NEXT_DROP,			/* close now: not a query at all */
};

struct dns_listener {
	struct event		 ev;
	int			 fd;
};

extern struct event_base	*dns_base;
extern struct map		*dns_map;
extern struct ctl_stats_dns	 dns_stats;
extern struct ruleset		*dns_rules;

enum dns_next	dns_handle(const uint8_t *, size_t, struct dns_tcp *, int,
		    const struct sockaddr_in *);
int		dns_client_allowed(const struct sockaddr_in *);

void		dns_warn(const struct answer *, const struct sockaddr_in *,
		    time_t);
void		dns_count_rcode(int);
void		dns_send(struct dns_tcp *, int, const struct sockaddr_in *,
		    const uint8_t *, size_t);

/* dns_verify.c */
void		dns_verify(struct answer *, struct dns_tcp *, int,
		    const struct sockaddr_in *, const struct timespec *);

/* dns_lookup.c */
void		dns_lookup(struct chan *, uint32_t, const struct msg_lookup *,
		    int);

/* dns_tcp.c */
struct dns_tcp {
	TAILQ_ENTRY(dns_tcp)	 entry;
	TAILQ_HEAD(, dns_query)	 queries;
	struct bufferevent	*bev;
	struct event		 ev_query;	/* the query being read */
	struct sockaddr_in	 client;
	int			 closing;	/* when the answers are out */
	int			 refused;	/* not an allowed client */
};

void	dns_tcp_init(const int *, int);

/* control.c */
void	control_init(int, struct chan *);
void	control_relay(struct msg *);
void	control_status(struct msg *);
void	control_shutdown(void);
uint32_t control_serial(void);

/* metrics.c */
void	metrics_init(int);
void	metrics_shutdown(void);
int	metrics_relay(struct msg *);
void	metrics_observe(const struct timespec *);
int	metrics_text(struct evbuffer *, const struct ctl_stats_proxy *);

#endif /* DNS_H */
