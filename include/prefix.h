/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * prefix.h: tables of IPv4 prefixes, each with a verdict and a label
 * naming the rule that put it there, compiled for one lookup per address
 * in O(log n), and beside them a short list of IPv6 prefixes; and the two
 * tables dns44 builds from them: where the proxy may dial and which
 * clients are served.
 */

#ifndef PREFIX_H
#define PREFIX_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define PREFIX_LABEL_MAX	48

enum prefix_verdict {
	PREFIX_ALLOW = 1,
	PREFIX_DENY,
};

/* Which source wins between two prefixes of the same length: the higher. */
enum prefix_rank {
	PREFIX_BUILTIN,		/* the defaults dns44 is compiled with */
	PREFIX_LOCAL,		/* learnt from the gateway's interfaces */
	PREFIX_CONF,		/* the configuration file */
};

struct prefix_rule {
	uint32_t	 addr;		/* host order, host bits clear */
	struct in6_addr	 addr6;		/* an IPv6 rule's; host bits clear */
	uint8_t		 len;
	uint8_t		 verdict;	/* enum prefix_verdict */
	uint8_t		 rank;		/* enum prefix_rank */
	uint32_t	 order;		/* later wins over earlier */
	char		 label[PREFIX_LABEL_MAX];
};

struct prefix_table;
struct dns44_conf;
struct msg_ifaddrs;

/* prefix.c */
struct prefix_table	*prefix_new(void);
void			 prefix_free(struct prefix_table *);
int			 prefix_add(struct prefix_table *, uint32_t, int, int,
			    int, const char *);
int			 prefix_compile(struct prefix_table *);
const struct prefix_rule *prefix_lookup(const struct prefix_table *,
			    uint32_t);
uint8_t			 prefix_mask6(int, int);
int			 prefix_add6(struct prefix_table *,
			    const struct in6_addr *, int, int, int,
			    const char *);
const struct prefix_rule *prefix_lookup6(const struct prefix_table *,
			    const struct in6_addr *);
size_t			 prefix_count(const struct prefix_table *);
size_t			 prefix_intervals(const struct prefix_table *);
struct prefix_table	*prefix_dest_table(const struct dns44_conf *,
			    const struct msg_ifaddrs *);
struct prefix_table	*prefix_client_table(const struct dns44_conf *,
			    const struct msg_ifaddrs *);
int			 prefix_range_local(const struct dns44_conf *,
			    const struct msg_ifaddrs *, char *, size_t);
int			 prefix_range_public(const struct dns44_conf *, char *,
			    size_t);

#endif /* PREFIX_H */
