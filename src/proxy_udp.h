/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_udp.h: a UDP session and its reply socket, shared by proxy_udp.c,
 * proxy_udp_vsock.c and proxy_udp_via.c.
 */

#ifndef PROXY_UDP_H
#define PROXY_UDP_H

struct proxy_dgram {
	STAILQ_ENTRY(proxy_dgram) entry;
	size_t			 len;
	unsigned char		 data[];
};

struct proxy_udp {
	struct proxy_relay	 r;		/* first: the lists hold it */
	LIST_ENTRY(proxy_udp)	 hentry;	/* by client and virtual addr */
	TAILQ_ENTRY(proxy_udp)	 wentry;	/* waiting for vs's socket */
	struct proxy_vsock	*vs;		/* its reply socket */
	struct proxy_dial	 dial;		/* the server's socket */
	int			 ufd;		/* connected to the server */
	struct event		 uev;
	STAILQ_HEAD(, proxy_dgram) queue;
	unsigned int		 nqueued;
	unsigned int		 dropped;
	struct event		 nev;		/* idle, no answer yet */
	int			 cfd;		/* SOCKS5: control */
	struct event		 cev;
	struct proxy_via	*via;		/* its handshake */
	unsigned char		*hdr;		/* SOCKS5: datagrams' header */
	size_t			 hdrlen;
	unsigned int		 bad;		/* from the relay, dropped */
	uint8_t			 refused;	/* by the server: drops all */
	uint8_t			 nout;		/* datagrams sent, up to 2 */
	uint8_t			 nin;		/* received, up to 2 */
	uint64_t		 dial_end;	/* ms: the server's handshake */
};

/* proxy_udp.c */
/* The reply socket of a virtual address and port, and who uses it. */
struct proxy_vsock {
	LIST_ENTRY(proxy_vsock)	 hentry;
	struct sockaddr_in	 virt;
	struct proxy_req	 req;		/* asked of the parent */
	int			 fd;		/* -1: not yet */
	struct event		 ev;
	unsigned int		 refs;		/* sessions */
	TAILQ_HEAD(, proxy_udp)	 waiting;	/* for fd */
};

/* proxy_udp.c */
uint32_t proxy_udp_hashkey(const struct sockaddr_in *,
	    const struct sockaddr_in *);
void	proxy_udp_recv(int, const struct sockaddr_in *);
void	proxy_udp_start(struct proxy_udp *);
void	proxy_udp_dial_sock(struct proxy_dial *, int);
void	proxy_udp_unqueue(struct proxy_udp *);
void	proxy_udp_close(struct proxy_udp *);

/* proxy_udp_via.c */
/* proxy_udp_vsock.c */
void	proxy_udp_vsock_init(uint32_t);
uint32_t proxy_udp_vsock_count(void);
void	proxy_udp_vsock_get(struct proxy_udp *);
void	proxy_udp_vsock_put(struct proxy_vsock *);

/* proxy_udp_via.c */
void	proxy_udp_via(struct proxy_udp *);

#endif /* PROXY_UDP_H */
