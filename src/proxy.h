/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy.h: what the files of the proxy process share (proxy.c, the main
 * loop; proxy_addr.c, what is known of each virtual address; proxy_dest.c,
 * the client and destination policy; proxy_client.c, what each client
 * holds open; proxy_tcp.c and proxy_udp.c, the relays).  Private to them.
 */

#ifndef PROXY_H
#define PROXY_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "msg.h"

#define PROXY_ACCEPT_BATCH	64	/* connections per wake-up */
#define PROXY_TCP_FDS		2	/* client, server; pipes in a burst */
#define PROXY_UDP_FDS		1	/* to the server; reply socket shared */
#define PROXY_ADDRS_MAX		(2 * MSG_MAX_ADDRS)	/* of both families */
#define PROXY_ATTEMPTS		4	/* dials in flight at once, at most */

struct msg_answer;
struct msg_dial_sock;
struct msg_ifaddrs;
struct msg_reply_sock;
struct proxy_addr;
struct proxy_client;
struct rule_route;
struct sockaddr_in;

/* A request to the dns process or the parent, found again by its id. */
struct proxy_req {
	LIST_ENTRY(proxy_req)	 entry;
	uint32_t		 id;		/* 0: none outstanding */
	uint32_t		 type;		/* what was asked */
	void			*obj;
};

/*
 * A connection or session waiting for the answer about its address: cb
 * hears the domain, real addresses (IPv4 first, then IPv6, port 0) and
 * the rules' route, or a NULL domain for a miss.
 */
struct proxy_wait {
	TAILQ_ENTRY(proxy_wait)	 entry;
	void			(*cb)(struct proxy_wait *, const char *,
				    const union conf_addr *, size_t,
				    const struct rule_route *);
	void			*arg;		/* the connection or session */
	uint32_t		 client;	/* its address, network order */
	uint8_t			 waiting;
	int			 rcode;		/* of the lookup, for cb */
};

/* A kind of log line that a flood must not repeat more than once a second. */
/* How far a connection or session got; TCP dials, UDP asks for a socket. */
enum proxy_state {
	PROXY_LOOKUP,			/* asking the dns process */
	PROXY_DIAL,			/* connecting to a real address */
	PROXY_SOCK,			/* asking the parent for a socket */
	PROXY_RELAY,
};

/*
 * What a TCP connection and a UDP session have in common, the first
 * member of both: its addresses, its answer and, once relaying, its place
 * on the list of its protocol, its bytes and its journal lines.
 */
struct proxy_relay {
	TAILQ_ENTRY(proxy_relay) entry;		/* relaying: least active 1st */
	TAILQ_ENTRY(proxy_relay) centry;	/* UDP: so on its client's */
	struct proxy_client	*cl;		/* UDP, relaying: its client */
	struct proxy_wait	 wait;
	struct proxy_addr	*pa;
	enum proxy_state	 state;
	int			 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	struct sockaddr_in	 client;
	struct sockaddr_in	 virt;
	union conf_addr		 real;		/* family 0 until dialled */
	char			*domain;
	struct rule_route	*route;		/* NULL: direct, no options */
	uint64_t		 sent;		/* client to server */
	uint64_t		 received;
	uint64_t		 last;		/* ms, coarse: a byte moved */
	struct timespec		 start;
};

/*
 * The making of a relay's socket to dial dst with, which the parent may
 * be asked for: cb hears the socket, or -1.  A UDP session through SOCKS5
 * also dials a TCP control connection: proto says so.
 */
struct proxy_dial {
	struct proxy_req	 req;		/* asked of the parent */
	struct proxy_relay	*r;
	void			(*cb)(struct proxy_dial *, int);
	int			 proto;		/* 0: the relay's */
	union conf_addr		 dst;		/* where it goes, and family */
};

struct proxy_happy;

/* One attempt to connect, of the few a TCP connection may have at once. */
struct proxy_attempt {
	struct proxy_dial	 dial;		/* first: its callback's */
	struct proxy_happy	*h;
	int			 fd;		/* -1: its socket not yet */
	uint8_t			 busy;
	struct event		 ev;		/* connected, or its timeout */
};

/*
 * A TCP connection's dial of its addresses, the real ones or its proxy
 * server's, Happy Eyeballs' way: cb hears the connected socket and the
 * address it reached, or -1 once the journal has the reason.
 */
struct proxy_happy {
	struct proxy_relay	*r;
	void			(*cb)(struct proxy_relay *, int,
				    const union conf_addr *);
	union conf_addr		 addrs[PROXY_ADDRS_MAX];
	uint8_t			 naddrs;
	uint8_t			 next;		/* address to dial next */
	uint8_t			 refused;	/* addresses that refused */
	uint8_t			 timedout;	/* addresses that timed out */
	uint8_t			 unreach;	/* no route, no neighbour */
	uint8_t			 inflight;	/* attempts busy */
	uint8_t			 started;	/* nev is set */
	uint64_t		 end;		/* ms: the dial timeout */
	struct proxy_attempt	 att[PROXY_ATTEMPTS];
	struct event		 nev;		/* the next attempt's delay */
};

/* proxy.c */
int		 proxy_fd_room(unsigned int);
void		 proxy_fd_freed(void);
uint64_t	 proxy_now(void);
const char	*proxy_flow(const char *, const struct sockaddr_in *,
		    const char *, const struct sockaddr_in *);
const char	*proxy_relay_flow(const struct proxy_relay *);
int		 proxy_in_range(const struct sockaddr_in *);
void		 proxy_peer_drain(void);
int		 proxy_peer_compose(uint32_t, uint32_t, const void *, size_t);
int		 proxy_parent_compose(uint32_t, uint32_t, const void *, size_t);
int		 proxy_relay_route(struct proxy_relay *,
		    const struct rule_route *);
void		 proxy_relay_open(struct proxy_relay *);
void		 proxy_fail(int, enum ctl_fail);
void		 proxy_relay_touch(struct proxy_relay *);
void		 proxy_relay_close(struct proxy_relay *);
struct proxy_relay *proxy_relay_oldest(int);

/* proxy_addr.c */
const char	*proxy_rcode_why(int);
void		 proxy_addr_init(void);
void		 proxy_req_add(struct proxy_req *, uint32_t, void *);
void		 proxy_req_cancel(struct proxy_req *);
struct proxy_req *proxy_req_take(uint32_t, uint32_t);
struct proxy_addr *proxy_addr_get(uint32_t);
void		 proxy_addr_put(struct proxy_addr *);
void		 proxy_addr_wait(struct proxy_addr *, struct proxy_wait *);
void		 proxy_addr_unwait(struct proxy_addr *, struct proxy_wait *);
void		 proxy_addr_pin(struct proxy_addr *);
void		 proxy_addr_unpin(struct proxy_addr *);
void		 proxy_addr_evicted(uint32_t, uint32_t);
void		 proxy_addr_answer(uint32_t, uint32_t,
		    const struct msg_answer *);
void		 proxy_cache_flush(void);

/* proxy_client.c */
void		 proxy_client_init(void);
int		 proxy_client_take(const struct sockaddr_in *, int);
void		 proxy_client_put(const struct sockaddr_in *, int);
void		 proxy_client_stats(uint64_t *, uint64_t *);
int		 proxy_client_full(const struct sockaddr_in *, int);
void		 proxy_client_lru_add(struct proxy_relay *);
void		 proxy_client_lru_touch(struct proxy_relay *);
void		 proxy_client_lru_remove(struct proxy_relay *);
struct proxy_relay *proxy_client_lru_first(const struct sockaddr_in *);

/* proxy_dest.c */
int		 proxy_dest_policy(const struct msg_ifaddrs *);
void		 proxy_dest_stats(uint64_t *, uint64_t *);
int		 proxy_client_allowed(const char *, const struct sockaddr_in *,
		    const struct sockaddr_in *);
const char	*proxy_dest_relay(const union conf_addr *,
		    const union conf_addr *);
size_t		 proxy_dest_filter(struct proxy_relay *,
		    const union conf_addr *, size_t, union conf_addr *);
const char	*proxy_sa_fmt(const union conf_addr *);

/* proxy_dial.c */
void		 proxy_dial_socket(struct proxy_dial *, struct proxy_relay *,
		    void (*)(struct proxy_dial *, int));
void		 proxy_dial_cancel(struct proxy_dial *);
void		 proxy_dial_answer(uint32_t, int, const struct msg_dial_sock *);
void		 proxy_dial_happy(struct proxy_happy *, struct proxy_relay *,
		    uint64_t, void (*)(struct proxy_relay *, int,
		    const union conf_addr *));
void		 proxy_dial_happy_stop(struct proxy_happy *);

/* proxy_tcp.c */
void		 proxy_tcp_listen(int);
int		 proxy_tcp_paused(void);
void		 proxy_tcp_unpause(void);
uint32_t	 proxy_tcp_count(void);
void		 proxy_tcp_idle(struct proxy_relay *);

/* proxy_pipe.c */
int		 proxy_pipe_get(int [2], uint8_t *);
void		 proxy_pipe_put(int [2], uint8_t *, size_t);
int		 proxy_pipe_count(void);
int		 proxy_pipe_drop(void);

/* proxy_udp.c */
void		 proxy_udp_init(void);
void		 proxy_udp_listen(int);
uint32_t	 proxy_udp_count(void);
uint32_t	 proxy_udp_fds(void);
void		 proxy_udp_socket(uint32_t, int, const struct msg_reply_sock *);
void		 proxy_udp_idle(struct proxy_relay *);
uint64_t	 proxy_udp_recycled(void);

/* proxy_via.c */
#define PROXY_VIA_CONNECT	0	/* a TCP tunnel to a name and port */
#define PROXY_VIA_ASSOCIATE	1	/* a SOCKS5 UDP relay */
#define PROXY_VIA_UDP_HDR_MAX	(4 + 1 + 255 + 2)

struct proxy_via;
/* The outcome: why NULL and, for UDP, the relay; else why it failed. */
typedef void	(*proxy_via_cb)(void *, const union conf_addr *,
		    const char *);
struct proxy_via *proxy_via_start(int, int, const struct rule_route *,
		    const char *, uint16_t, uint64_t, proxy_via_cb, void *,
		    const char **);
void		 proxy_via_cancel(struct proxy_via *);
const char	*proxy_via_fmt(const struct rule_route *);
size_t		 proxy_via_udp_header(unsigned char *, size_t, const char *,
		    uint16_t);
ssize_t		 proxy_via_udp_strip(const unsigned char *, size_t);

#endif /* PROXY_H */
