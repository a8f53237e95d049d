/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * msg.h: the message protocol spoken between dns44's processes and by
 * dns44ctl.  Every channel is a SOCK_SEQPACKET socket, so the kernel keeps
 * message boundaries: one message is one header, its payload and at most
 * one file descriptor, sent in one sendmsg(2).
 */

#ifndef MSG_H
#define MSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define MSG_HDR_SIZE		sizeof(struct msg_hdr)
#define MSG_MAX_PAYLOAD		(32 * 1024)
#define MSG_MAX_QUEUE		(4 * 1024 * 1024)	/* bytes per channel */
#define MSG_DOMAIN_MAX		256	/* presentation form, with the NUL */
#define MSG_MAX_ADDRS		16
#define MSG_MAX_IFADDRS		256	/* the gateway's own addresses */
#define MSG_MAX_IFADDRS6	256	/* and its own IPv6 addresses */

/* Every message type of every channel.  The decoder knows their sizes. */
enum msg_type {
	MSG_NONE,

	/* parent -> child, at start and on reload */
	MSG_CONF,		/* struct dns44_conf */

	/* parent -> child, once at start; each carries a socket */
	MSG_SOCK_DNS_UDP,	/* struct sockaddr_in, the bound address */
	MSG_SOCK_DNS_TCP,	/* struct sockaddr_in */
	MSG_SOCK_PROXY_TCP,	/* struct sockaddr_in */
	MSG_SOCK_PROXY_UDP,	/* struct sockaddr_in */
	MSG_SOCK_CONTROL,	/* empty */
	MSG_SOCK_PEER,		/* empty: the dns <-> proxy channel */
	MSG_SOCK_END,		/* empty: start-up is complete */
	MSG_SHUTDOWN,		/* empty: exit cleanly */

	/* proxy -> parent, answered with an fd or an error */
	MSG_REPLY_SOCK_REQ,	/* struct msg_reply_sock */
	MSG_REPLY_SOCK,		/* struct msg_reply_sock, fd attached */
	MSG_REPLY_SOCK_FAIL,	/* struct msg_reply_sock, error set */

	/* proxy <-> dns */
	MSG_LOOKUP,		/* struct msg_lookup */
	MSG_LOOKUP_ANSWER,	/* struct msg_answer */
	MSG_LOOKUP_MISS,	/* struct msg_lookup */
	MSG_IN_USE,		/* struct msg_lookup; see below */
	MSG_RELEASED,		/* struct msg_lookup */
	MSG_EVICTED,		/* struct msg_lookup */

	/* dns44ctl <-> dns, dns -> parent */
	MSG_CTL_RELOAD,		/* empty */
	MSG_CTL_LOG,		/* struct msg_log */
	MSG_CTL_OK,		/* empty */
	MSG_CTL_FAIL,		/* string, NUL-terminated */
	MSG_CTL_SHOW_MAP,	/* string: "" for all, a name or an address */
	MSG_CTL_LOOKUP,		/* string: a name or an address */
	MSG_CTL_FLUSH,		/* string: a name, an address or "all" */
	MSG_CTL_STATS,		/* empty */
	MSG_CTL_MAP,		/* struct ctl_map_entry, 1 to CTL_MAP_CHUNK */
	MSG_CTL_FLUSHED,	/* struct ctl_flushed */
	MSG_CTL_STATS_DNS,	/* struct ctl_stats_dns */
	MSG_CTL_END,		/* empty: the end of a listing */
	MSG_CTL_SHOW_CONN,	/* empty */
	MSG_CTL_CONN,		/* struct ctl_conn, 1 to CTL_CONN_CHUNK */
	MSG_CTL_STATS_PROXY,	/* struct ctl_stats_proxy */

	/* parent -> child, at start and whenever they change */
	MSG_IFADDRS,		/* struct msg_ifaddrs */

	/* parent -> dns, at start and on reload, after MSG_CONF */
	MSG_RULES,		/* a piece of the encoded ruleset */
	MSG_RULES_FILE,		/* struct msg_rules_file, fd attached */
	MSG_RULES_END,		/* empty: the ruleset is whole */

	/* dns44ctl <-> dns: the domain rules */
	MSG_CTL_SHOW_RULES,	/* empty */
	MSG_CTL_RULE,		/* struct ctl_rule, 1 to CTL_RULE_CHUNK */
	MSG_CTL_TEST,		/* struct ctl_test */
	MSG_CTL_TESTED,		/* struct ctl_tested */

	/* proxy -> parent: a socket that dials with SO_MARK */
	MSG_DIAL_SOCK_REQ,	/* struct msg_dial_sock */
	MSG_DIAL_SOCK,		/* struct msg_dial_sock, fd attached */
	MSG_DIAL_SOCK_FAIL,	/* struct msg_dial_sock, error set */

	/*
	 * dns -> dns44ctl: after MSG_CTL_STATS_DNS, each upstream: struct
	 * ctl_upstream, 1 to CTL_UPSTREAM_CHUNK
	 */
	MSG_CTL_UPSTREAMS,

	/* parent <-> child: the service manager's readiness and watchdog */
	MSG_HEARTBEAT,		/* empty: answer with MSG_ALIVE */
	MSG_ALIVE,		/* struct msg_alive; also once when serving */
	/* dns44ctl -> dns -> parent, and back: the daemon's health */
	MSG_CTL_STATUS,		/* empty */
	MSG_CTL_STATUS_INFO,	/* struct ctl_status */

	/* parent -> dns, once at start: the Prometheus listener */
	MSG_SOCK_METRICS,	/* struct sockaddr_in */

	/* dns44ctl <-> dns: the metrics in Prometheus's text format */
	MSG_CTL_METRICS,	/* empty */
	MSG_CTL_METRICS_TEXT,	/* a piece of the text, then MSG_CTL_END */

	MSG_TYPE_MAX
};

struct msg_hdr {
	uint32_t	type;
	uint32_t	len;		/* of the payload */
	uint32_t	id;		/* request id, echoed in the answer */
	uint32_t	pid;		/* sender */
};

/* One received message.  data points into the channel's buffer. */
struct msg {
	struct msg_hdr	 hdr;
	void		*data;
	size_t		 len;
	int		 fd;		/* -1 when none came */
};

/* A reply socket bound to virt, shared by its sessions; client asked 1st. */
struct msg_reply_sock {
	struct sockaddr_in	virt;	/* the client's destination */
	struct sockaddr_in	client;
	int32_t			error;	/* errno for MSG_REPLY_SOCK_FAIL */
};

/*
 * A socket to dial with: of the family asked, of the protocol's type,
 * non-blocking, SO_MARK set.  The parent makes it only for a mark that a
 * rule of its configuration names.
 */
struct msg_dial_sock {
	uint32_t	proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t	mark;
	int32_t		error;		/* errno for MSG_DIAL_SOCK_FAIL */
	uint32_t	family;		/* AF_INET or AF_INET6 */
};

/*
 * The proxy pins an address with MSG_IN_USE when its first connection
 * opens and releases it with MSG_RELEASED when its last one closes.  An
 * MSG_IN_USE with a non-zero id that finds no mapping is answered with an
 * MSG_EVICTED of that id: the pin was not taken.  An MSG_EVICTED with id 0
 * says the address went to another name or was forgotten; address 0 says
 * that of every address.
 */
struct msg_lookup {
	uint32_t	addr;		/* virtual address, network order */
	uint32_t	client;		/* MSG_LOOKUP: who connects; else 0 */
};

/*
 * The answer about a virtual address: its name, the rules' decision for
 * it (for the client asked about, or for all when route.any_client) and,
 * when the proxy dials them itself, the real addresses of both families,
 * each in the upstream's order.
 */
struct msg_answer {
	uint32_t		addr;		/* virtual, network order */
	char			domain[MSG_DOMAIN_MAX];
	uint32_t		naddrs;
	uint32_t		addrs[MSG_MAX_ADDRS];	/* network order */
	uint32_t		ttl;		/* seconds they stay good */
	struct rule_route	route;
	int32_t			rcode;		/* of the lookup; -1: none */
	uint32_t		naddrs6;
	struct in6_addr		addrs6[MSG_MAX_ADDRS];
};

struct msg_rules_file {
	uint32_t	source;		/* index of the ruleset's source */
};

/*
 * One IPv4 address of the gateway: its own and the prefix of the subnet
 * it connects to (the peer's on a point-to-point link, else the same).
 */
struct msg_ifaddr {
	uint32_t	local;		/* network order */
	uint32_t	peer;		/* network order */
	uint32_t	prefixlen;
};

/* One IPv6 address of the gateway, its own. */
struct msg_ifaddr6 {
	struct in6_addr	local;
	uint32_t	prefixlen;
};

struct msg_ifaddrs {
	uint32_t		count;
	struct msg_ifaddr	addrs[MSG_MAX_IFADDRS];
	uint32_t		count6;
	struct msg_ifaddr6	addrs6[MSG_MAX_IFADDRS6];
};

/*
 * A child's word that its event loop turns, with what it holds now: the
 * dns process fills names, the proxy conns and sessions.
 */
struct msg_alive {
	uint32_t	names;
	uint32_t	conns;
	uint32_t	sessions;
};

struct msg_log {
	int32_t		verbose;
};

/* One mapping as dns44ctl shows it. */
struct ctl_map_entry {
	uint32_t	addr;		/* virtual, network order */
	uint32_t	conns;
	int64_t		answered;	/* seconds since the epoch */
	char		name[MSG_DOMAIN_MAX];
};
#define CTL_MAP_CHUNK	(MSG_MAX_PAYLOAD / sizeof(struct ctl_map_entry))

struct ctl_flushed {
	uint32_t	removed;
	uint32_t	kept;		/* pinned by open connections */
};

enum ctl_qtype { CTL_Q_A, CTL_Q_AAAA, CTL_Q_PTR, CTL_Q_OTHER, CTL_Q_MAX };
enum ctl_rcode { CTL_R_NOERROR, CTL_R_FORMERR, CTL_R_SERVFAIL,
    CTL_R_NXDOMAIN, CTL_R_NOTIMP, CTL_R_REFUSED, CTL_R_OTHER, CTL_R_MAX };

struct ctl_stats_dns {
	uint64_t	queries[CTL_Q_MAX];
	uint64_t	rcodes[CTL_R_MAX];
	uint64_t	forwarded;
	uint64_t	upstream_failures;	/* no upstream answered */
	uint64_t	upstream_timeouts;	/* tries that timed out */
	uint64_t	reuses;			/* addresses given anew */
	uint64_t	full;			/* SERVFAIL: range full */
	uint64_t	mappings;
	uint64_t	range_size;
	uint64_t	pinned;			/* mappings in use */
	int64_t		started;		/* seconds since the epoch */
	uint64_t	limited;		/* SERVFAIL: client's rate */
	uint64_t	clients;		/* holding mappings */
	uint64_t	tcp_client_limit;	/* TCP clients refused */
	uint64_t	refused_clients;	/* queries from elsewhere */
	uint64_t	store_failures;		/* SERVFAIL: store away */
};

/* One upstream resolver as dns44ctl shows it. */
enum ctl_upstream_state { CTL_UPSTREAM_NEW, CTL_UPSTREAM_UP,
    CTL_UPSTREAM_DOWN, CTL_UPSTREAM_MAX };

struct ctl_upstream {
	uint8_t		addr[16];	/* network order; IPv4: the first 4 */
	uint8_t		ipv6;		/* 0: an IPv4 address, 1: IPv6 */
	uint8_t		tls;		/* DNS over TLS */
	uint16_t	port;		/* host order */
	uint16_t	state;		/* enum ctl_upstream_state */
	uint16_t	pad;
	uint64_t	rtt_us;		/* smoothed; 0: never measured */
	uint64_t	rttvar_us;
	uint64_t	answers;
	uint64_t	timeouts;
	uint32_t	fails;		/* in a row */
	uint32_t	backoff_ms;	/* left before its next probe */
};
#define CTL_UPSTREAM_CHUNK	(MSG_MAX_PAYLOAD / sizeof(struct ctl_upstream))

/*
 * The daemon's health: the parent fills in its part, the dns process its
 * own on the way to dns44ctl.
 */
#define CTL_STATUS_TEXT		384
enum ctl_check { CTL_CHECK_OFF, CTL_CHECK_OK, CTL_CHECK_MISSING,
    CTL_CHECK_MAX };

/* The map's store, when the map is shared. */
enum ctl_store { CTL_STORE_NONE, CTL_STORE_UP, CTL_STORE_DOWN,
    CTL_STORE_MAX };

struct ctl_status {
	int64_t		started;	/* seconds since the epoch */
	int64_t		now;
	int32_t		pid;		/* the parent */
	int32_t		dns_pid;	/* -1: not running */
	int32_t		proxy_pid;
	uint32_t	setup;		/* tproxy setup yes, and made */
	int64_t		reload_time;	/* 0: never reloaded */
	uint32_t	reload_ok;
	uint32_t	check;		/* enum ctl_check */
	int64_t		check_time;	/* 0: never checked */
	uint32_t	upstreams;	/* from the dns process */
	uint32_t	upstreams_up;
	uint32_t	upstreams_down;	/* the rest not asked yet */
	uint32_t	store;		/* enum ctl_store */
	uint64_t	mappings;
	uint64_t	range_size;
	char		reload_error[CTL_STATUS_TEXT];
	char		check_text[CTL_STATUS_TEXT];	/* what is missing */
};

/*
 * One relayed connection or UDP session as dns44ctl shows it.  The real
 * address is real for AF_INET, real6 for AF_INET6.
 */
struct ctl_conn {
	uint32_t	client;		/* addresses network order, */
	uint32_t	virt;		/* ports host order */
	uint32_t	real;
	uint16_t	client_port;
	uint16_t	virt_port;
	uint16_t	real_port;
	uint16_t	proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint64_t	sent;		/* client to server */
	uint64_t	received;
	int64_t		age_ms;
	char		domain[MSG_DOMAIN_MAX];
	uint32_t	real_family;	/* AF_INET, AF_INET6; 0: not dialled */
	struct in6_addr	real6;
};
#define CTL_CONN_CHUNK	(MSG_MAX_PAYLOAD / sizeof(struct ctl_conn))
#define CTL_CONN_MAX	8192	/* shown at most, to bound the channel */

/* One rule as dns44ctl shows it. */
struct ctl_rule {
	uint32_t	number;		/* from 1 */
	uint64_t	hits;
	char		where[CONF_WHERE_MAX];
	char		text[RULE_TEXT_MAX];	/* as dns44 -n prints it */
};
#define CTL_RULE_CHUNK	(MSG_MAX_PAYLOAD / sizeof(struct ctl_rule))

struct ctl_test {
	char		name[MSG_DOMAIN_MAX];
	uint32_t	client;		/* network order */
	uint32_t	have_client;
};

/* What the rules do with a name: the deciding rule (0: none) and more. */
struct ctl_tested {
	char		name[MSG_DOMAIN_MAX];	/* normalised */
	uint32_t	number;
	uint32_t	action;		/* enum rule_action */
	uint32_t	block;		/* enum rule_block */
	uint32_t	any_client;
	char		where[CONF_WHERE_MAX];
	char		rule[512];
	char		route[160];	/* rule_route_fmt(), "" when direct */
	char		upstreams[160];	/* split DNS: "a:p b:p", or "" */
};

/* Why a connection or session was refused or could not be relayed. */
enum ctl_fail { CTL_FAIL_LIMIT, CTL_FAIL_NOT_VIRTUAL, CTL_FAIL_NO_DOMAIN,
    CTL_FAIL_BLOCKED, CTL_FAIL_NO_ADDRESS, CTL_FAIL_DIAL_REFUSED,
    CTL_FAIL_DIAL_TIMEOUT, CTL_FAIL_DIAL_ERROR, CTL_FAIL_VIA,
    CTL_FAIL_INTERNAL, CTL_FAIL_MAX };
/* Their names, in show stats and the metrics: "limit", "dial_refused". */
extern const char *const ctl_fail_names[CTL_FAIL_MAX];

struct ctl_stats_proxy {
	uint64_t	tcp_open;
	uint64_t	tcp_total;
	uint64_t	udp_open;
	uint64_t	udp_total;
	uint64_t	bytes_sent;	/* clients to servers */
	uint64_t	bytes_received;
	uint64_t	tcp_client_limit;	/* reset: client's limit */
	uint64_t	udp_client_limit;	/* dropped: client's limit */
	uint64_t	refused_clients;	/* from outside the networks */
	uint64_t	refused_dests;		/* no address it may dial */
	uint64_t	udp_recycled;		/* idle, closed for a new one */
	uint64_t	tcp_fails[CTL_FAIL_MAX];
	uint64_t	udp_fails[CTL_FAIL_MAX];
};

/*
 * The end of a channel a message arrives at, each with the types it may
 * receive; msg_read() refuses any other and closes what came with it.
 */
enum msg_rx {
	MSG_RX_ANY,		/* every type: the tests' channels */
	MSG_RX_START,		/* a child, from the parent while starting */
	MSG_RX_DNS_PARENT,	/* the dns process, from the parent */
	MSG_RX_PROXY_PARENT,	/* the proxy, from the parent */
	MSG_RX_PARENT_DNS,	/* the parent, from the dns process */
	MSG_RX_PARENT_PROXY,	/* the parent, from the proxy */
	MSG_RX_DNS_PEER,	/* the dns process, from the proxy */
	MSG_RX_PROXY_PEER,	/* the proxy, from the dns process */
	MSG_RX_CONTROL,		/* the dns process, from a dns44ctl */
	MSG_RX_CTL,		/* dns44ctl, from the dns process */
	MSG_RX_MAX
};

struct msg_out;

/* One end of a channel: the socket, the unsent queue, the receive buffer. */
struct msg_chan {
	int				 fd;
	enum msg_rx			 rx;		/* what may come */
	TAILQ_HEAD(, msg_out)		 out;
	size_t				 queued;	/* bytes */
	unsigned char			 rbuf[MSG_HDR_SIZE + MSG_MAX_PAYLOAD];
};

/* msg.c */
void		 msg_init(struct msg_chan *, int, enum msg_rx);
void		 msg_clear(struct msg_chan *);
int		 msg_compose(struct msg_chan *, uint32_t, uint32_t, int,
		    const void *, size_t);
int		 msg_flush(struct msg_chan *);
int		 msg_pending(const struct msg_chan *);
int		 msg_read(struct msg_chan *, struct msg *);
int		 msg_decode(const void *, size_t, int, struct msg *);
int		 msg_accepts(enum msg_rx, uint32_t);
const char	*msg_type_name(uint32_t);
void		 msg_get(const struct msg *, void *, size_t);
const char	*msg_get_str(const struct msg *);
const void	*msg_get_array(const struct msg *, size_t, size_t *);

#endif /* MSG_H */
