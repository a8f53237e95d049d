/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * plumb.h: what the parent's TPROXY plumbing (plumb.c), its rtnetlink
 * helpers (plumb_nl.c) and the self-check (selfcheck.c) share.
 */

#ifndef PLUMB_H
#define PLUMB_H

#include <stdint.h>

#define PLUMB_NFT_TABLE		"dns44"		/* ip dns44 */
#define PLUMB_PROTO		44	/* rtm_protocol of our rules, routes */
#define PLUMB_MAX_PREFIXES	64	/* a first - last range: 62 at most */
#define PLUMB_MAX_RULES		1024	/* ip rules looked at */
#define PLUMB_MAX_ROUTES	4096	/* local routes of a table */

/* An IPv4 prefix, host byte order. */
struct plumb_prefix {
	uint32_t	addr;
	uint8_t		len;
};

/* An ip rule as far as the plumbing and the check need it. */
struct plumb_rule {
	uint32_t	prio;
	uint32_t	table;
	uint32_t	dst;		/* host order */
	uint32_t	mark;
	uint32_t	mask;
	uint8_t		dst_len;
	uint8_t		action;
	uint8_t		proto;
	uint8_t		has_mark;
	uint8_t		other;		/* selectors beside dst and mark */
};

/* A route of a table, local or not. */
struct plumb_route {
	uint32_t	table;
	uint32_t	dst;		/* host order */
	uint8_t		dst_len;
	uint8_t		type;
	uint8_t		proto;
};

/* plumb.c */
int	plumb_prefixes(uint32_t, uint32_t, struct plumb_prefix *, int);

/* plumb_nl.c */
int	plumb_nl_rules(struct plumb_rule *, int);
int	plumb_nl_routes(uint32_t, struct plumb_route *, int);
int	plumb_nl_route_get(uint32_t, uint32_t);
int	plumb_nl_rule(int, const struct plumb_prefix *, uint32_t);
int	plumb_nl_route(int, const struct plumb_prefix *, uint32_t);
int	plumb_nl_del_rule(const struct plumb_rule *);
int	plumb_nl_del_route(const struct plumb_route *);

/* selfcheck.c */
void	selfcheck_run(void);
int	selfcheck_nft(const char *, size_t, char *, size_t, uint32_t *);

#endif /* PLUMB_H */
