/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns44.h: the configuration every process shares and the prototypes of
 * the helpers that belong to no single process role.
 */

#ifndef DNS44_H
#define DNS44_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "wire.h"

#define DNS44_USER		"_dns44"
#define DNS44_USER_FALLBACK	"nobody"
#define DNS44_DB_FILE		"dns44.tdb"	/* in the database directory */

#define CONF_MAX_DNS_LISTEN	16
#define CONF_MAX_UPSTREAM	8
#define CONF_MAX_WORKERS	32	/* proxy processes */
#define CONF_NAME_MAX		64	/* user and group names */
#define CONF_MAX_SENTINELS	8
#define CONF_SECRET_MAX		128	/* a password */
#define DEFAULT_REDIS_PORT	6379
#define DEFAULT_SENTINEL_PORT	26379
#define DEFAULT_REDIS_MASTER	"dns44"
#define CONF_SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)
#define CONF_MAX_PROXY_RULES	64	/* proxy allow and deny lines */
#define CONF_MAX_CLIENT_NETS	64	/* allow from lines */
#define CONF_WHERE_MAX		40	/* "file:line" of a rule */
#define CONF_TLS_NAME_MAX	256	/* a host name and its NUL */
#define CONF_UPSTREAM_STRLEN	72	/* "tls://[v6 address]:port" */

/* Built-in defaults: the seed's, except the database directory. */
#define DEFAULT_DNS_ADDR	"127.0.0.1"
#define DEFAULT_DNS_PORT	4453
#define DEFAULT_PROXY_ADDR	"127.0.0.1"
#define DEFAULT_PROXY_PORT	4480
#define DEFAULT_RANGE		"172.24.0.0/16"
#define DEFAULT_UPSTREAM	"1.1.1.1"
#define DEFAULT_UPSTREAM_PORT	53
#define DEFAULT_TLS_PORT	853	/* RFC 7858 */
#define DEFAULT_TTL		900
#define DEFAULT_GRACE_MS	(60 * 1000)
#define DEFAULT_DIAL_MS		(10 * 1000)
#define DEFAULT_ATTEMPT_DELAY_MS 250	/* RFC 8305's recommended delay */
#define MAX_ATTEMPT_DELAY_MS	(2 * 1000)	/* RFC 8305 (8): at most 2 s */
#define DEFAULT_TCP_IDLE_MS	(2 * 3600 * 1000)
#define DEFAULT_UDP_IDLE_MS	(60 * 1000)
#define DEFAULT_DNS_TCP_IDLE_MS	(10 * 1000)
#define DEFAULT_UPSTREAM_MS	(2 * 1000)
#define DEFAULT_MAX_CONN	16384
#define DEFAULT_MAX_SESSIONS	16384
#define DEFAULT_PROXY_WORKERS	0
#define DEFAULT_MAX_DNS_TCP	256
#define DEFAULT_CONTROL_MODE	0660
#define DEFAULT_UDP_SIZE	WIRE_EDNS_SIZE
#define DEFAULT_DNS_TCP_QUERY_MS (10 * 1000)
#define DEFAULT_HALFCLOSE_MS	(60 * 1000)
#define DEFAULT_UNANSWERED_MS	(10 * 1000)
#define DEFAULT_ANSWERED_MS	(10 * 1000)
#define DEFAULT_NEW_NAMES	50	/* a second, beyond a share */
#define DEFAULT_NEW_BURST	500
#define DEFAULT_CLIENT_DNS_TCP	64	/* a quarter of the global limits */
#define DEFAULT_CLIENT_CONN	4096
#define DEFAULT_CLIENT_SESSIONS	4096
#define DEFAULT_TPROXY_MARK	44
#define DEFAULT_TPROXY_TABLE	44
#define DEFAULT_TPROXY_CHECK_MS	(30 * 1000)
#define DEFAULT_METRICS_PORT	9344

/*
 * A prefix of a rule, and the line it came from for the journal.  Only
 * the proxy's destinations may be IPv6 (addr6); clients are IPv4.
 */
struct conf_prefix {
	sa_family_t		family;		/* AF_INET or AF_INET6 */
	uint32_t		addr;		/* host order, no host bits */
	struct in6_addr		addr6;		/* no host bits */
	uint8_t			len;
	uint8_t			allow;		/* 0: deny */
	char			where[CONF_WHERE_MAX];
};

/* A socket address of either family, the port in it in network order. */
union conf_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

/*
 * An upstream resolver: plain DNS over UDP (TCP for truncated answers), or
 * DNS over TLS whose certificate must carry tls_name, or the address itself
 * when tls_name is empty.
 */
struct conf_upstream {
	union conf_addr		addr;
	uint8_t			tls;
	char			tls_name[CONF_TLS_NAME_MAX];
};

/*
 * The whole configuration.  It holds no pointers, so the parent can send it
 * to a child as one message and the child can use it as it arrives.
 */
struct dns44_conf {
	struct sockaddr_in	dns_listen[CONF_MAX_DNS_LISTEN];
	int			dns_listen_count;
	struct conf_upstream	upstream[CONF_MAX_UPSTREAM];
	int			upstream_count;
	struct sockaddr_in	proxy_listen;

	/* The virtual range, host byte order, both ends usable. */
	uint32_t		range_first;
	uint32_t		range_last;
	int			range_prefix;	/* -1: given as first - last */

	uint32_t		ttl;		/* seconds */
	uint32_t		grace_ms;	/* before an address's reuse */
	uint32_t		dial_ms;
	uint32_t		attempt_delay_ms;	/* Happy Eyeballs */
	int			prefer_family;	/* AF_INET6 or AF_INET */
	uint32_t		tcp_idle_ms;
	uint32_t		udp_idle_ms;
	uint32_t		dns_tcp_idle_ms;
	uint32_t		upstream_ms;	/* per upstream try */
	uint32_t		max_conn;
	uint32_t		max_sessions;
	uint32_t		proxy_workers;	/* 0: one per CPU */
	uint32_t		max_dns_tcp;

	char			db_dir[PATH_MAX];
	char			empty_dir[PATH_MAX];
	char			control_path[CONF_SUN_PATH_MAX];
	char			control_group[CONF_NAME_MAX];
	char			control_admin_group[CONF_NAME_MAX];
	/* Their ids, found by the parent before the dns process checks. */
	gid_t			control_gid;	/* (gid_t)-1: none */
	gid_t			control_admin_gid;
	char			user[CONF_NAME_MAX];
	int			user_set;	/* 0: default, may fall back */
	int			verbose;

	uint32_t		udp_size;	/* largest UDP answer */
	uint32_t		dns_tcp_query_ms; /* a whole TCP query */
	uint32_t		halfclose_ms;	/* TCP, one side closed */
	uint32_t		unanswered_ms;	/* UDP, server silent */
	uint32_t		answered_ms;	/* UDP, one exchange */
	int			reply_priv_ports; /* to clients' ports < 1024 */
	/* Fairness between clients, by source address. */
	uint32_t		new_names;	/* a second; 0: no limit */
	uint32_t		new_burst;
	uint32_t		client_dns_tcp;
	uint32_t		client_conn;
	uint32_t		client_sessions;
	/* Where the proxy may dial, beside the built-in denials. */
	struct conf_prefix	proxy_rules[CONF_MAX_PROXY_RULES];
	int			proxy_rule_count;
	/* Clients served beside loopback and the connected subnets. */
	struct conf_prefix	client_nets[CONF_MAX_CLIENT_NETS];
	int			client_net_count;
	int			client_any;	/* allow from any */
	int			dns_ptr;	/* PTR of the range answered */
	int			dns_verify;	/* resolved, then mapped */
	char			tls_ca[PATH_MAX]; /* "": the system's CAs */
	/* The TPROXY plumbing: made by the parent, or checked only. */
	int			tproxy_setup;
	uint32_t		tproxy_mark;
	uint32_t		tproxy_table;	/* the routing table */
	uint32_t		tproxy_check_ms; /* 0: never checked */
	/*
	 * The map shared with other gateways in Redis: a primary given
	 * directly, or found through Sentinels.  Neither: the tdb file alone.
	 */
	struct sockaddr_in	redis;		/* sin_port 0: none */
	struct sockaddr_in	sentinels[CONF_MAX_SENTINELS];
	int			sentinel_count;
	char			redis_master[CONF_NAME_MAX];
	char			redis_password[CONF_SECRET_MAX];
	uint32_t		redis_wait;	/* replicas a new name awaits */
	/* The Prometheus listener, served by the dns process. */
	struct sockaddr_in	metrics_listen;
	int			metrics;	/* 0: none */
};

/* Role of a process, also the -R argument of a child. */
enum dns44_role {
	ROLE_PARENT,
	ROLE_DNS,
	ROLE_PROXY,
};

struct ruleset;

/* A map shared through Redis, directly or found through Sentinels. */
#define CONF_SHARED_MAP(c)	((c)->redis.sin_port != 0 || \
				    (c)->sentinel_count > 0)

/* parse.y */
#define CONF_OPTIONAL	0x1	/* a missing file is no error */
#define CONF_PARTIAL	0x2	/* keep the right lines of a broken file */
int	 conf_parse(struct dns44_conf *, const char *, int);
int	 conf_define_macro(const char *);
struct ruleset *conf_take_rules(void);

/* conf.c */
void	 conf_defaults(struct dns44_conf *);
void	 conf_print(FILE *, const struct dns44_conf *);
int	 conf_check(const struct dns44_conf *, char *, size_t);
int	 conf_in_range(const struct dns44_conf *, uint32_t);
int	 conf_parse_addr(const char *, size_t, uint32_t *);
int	 conf_parse_hostport(const char *, in_port_t, struct sockaddr_in *);
int	 conf_parse_range(const char *, struct dns44_conf *);
int	 conf_parse_duration(const char *, uint32_t *);
const char *conf_fmt_duration(uint32_t, char *, size_t);
const char *conf_fmt_addr(const struct sockaddr_in *, char *, size_t);
int	 conf_parse_sockaddr(const char *, in_port_t, union conf_addr *);
const char *conf_fmt_host(const union conf_addr *, char *, size_t);
in_port_t conf_port(const union conf_addr *);
void	 conf_set_port(union conf_addr *, in_port_t);
socklen_t conf_addr_len(const union conf_addr *);
const char *conf_fmt_sockaddr(const union conf_addr *, char *, size_t);
int	 conf_parse_upstream(const char *, int, int, const char *,
	    struct conf_upstream *);
int	 conf_upstream_same(const struct conf_upstream *,
	    const struct conf_upstream *);
const char *conf_fmt_upstream(const struct conf_upstream *, char *, size_t);
void	 conf_print_upstream(FILE *, const struct conf_upstream *);

#endif /* DNS44_H */
