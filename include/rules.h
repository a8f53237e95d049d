/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * rules.h: the domain rules.  A ruleset is the tables of names, the rules
 * that name them and the upstreams for split DNS, as the configuration
 * file gives them; the dns process evaluates it and sends its decision,
 * a struct rule_route, with each answer about a virtual address.  Names
 * are matched by a set of suffixes (names.c); rules.c owns the ruleset,
 * its evaluation and its transfer from the parent to the dns process.
 */

#ifndef RULES_H
#define RULES_H

#include <sys/types.h>
#include <net/if.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dns44.h"

#define RULE_TABLE_NAME_MAX	32	/* <name>, with the NUL */
#define RULE_CRED_MAX		256	/* SOCKS5 and HTTP user, password */
#define RULE_MAX_TABLES		4096
#define RULE_MAX_RULES		1024
#define RULE_MAX_SOURCES	65536	/* inline names and files */
#define RULE_TABLE_ANY		0xffff	/* "to any" */
#define RULE_TEXT_MAX		512	/* a rule as rule_fmt() spells it */

/* What a rule does with the names it matches. */
enum rule_action {
	RULE_ROUTE,		/* mapped; the proxy dials as the route says */
	RULE_PASS,		/* not mapped: the real answer is relayed */
	RULE_BLOCK,		/* not answered; a connection is reset */
};

/* The answer a blocked name gets. */
enum rule_block {
	BLOCK_NXDOMAIN,
	BLOCK_REFUSED,
	BLOCK_ZERO,		/* A 0.0.0.0, AAAA :: */
};

enum rule_via {
	VIA_DIRECT,
	VIA_SOCKS5,
	VIA_HTTP,		/* HTTP CONNECT */
};

/*
 * How the proxy reaches a name: the decision sent with an answer about a
 * virtual address.  Mark, interface and source apply to the socket that
 * dials, be it to the real address or to the SOCKS5 or HTTP server.
 */
struct rule_route {
	uint8_t			action;		/* enum rule_action */
	uint8_t			via;		/* enum rule_via */
	uint8_t			any_client;	/* the same for every client */
	uint8_t			pad;
	uint32_t		rule;		/* deciding rule from 1, or 0 */
	uint32_t		mark;		/* SO_MARK; 0: none */
	union conf_addr		server;		/* SOCKS5 or HTTP proxy */
	struct sockaddr_in	source;		/* address 0: the kernel's */
	char			ifname[IFNAMSIZ];	/* "": any */
	char			user[RULE_CRED_MAX];	/* "": no auth */
	char			password[RULE_CRED_MAX];
};

/* A named table, or the inline list of one rule (name ""). */
struct rule_table {
	char			name[RULE_TABLE_NAME_MAX];
	char			where[CONF_WHERE_MAX];
	uint32_t		count;		/* names loaded */
};

/* Where a table's names come from: one name, or a file of them. */
enum rule_source_kind {
	SOURCE_NAME,
	SOURCE_FILE,
};

struct rule_source {
	uint16_t		table;
	uint8_t			kind;		/* enum rule_source_kind */
	uint32_t		text;		/* offset in ruleset's pool */
	char			where[CONF_WHERE_MAX];
};

struct rule {
	uint8_t			action;		/* enum rule_action */
	uint8_t			quick;
	uint8_t			block;		/* enum rule_block */
	uint8_t			from_any;	/* no from: every client */
	uint32_t		from_addr;	/* host order, host bits 0 */
	uint8_t			from_len;
	uint16_t		table;		/* RULE_TABLE_ANY: every name */
	struct rule_route	route;
	char			where[CONF_WHERE_MAX];
	uint64_t		hits;		/* counted by the dns process */
};

/* Split DNS: names of a table asked of these upstreams. */
struct rule_upstream {
	uint16_t		table;
	uint16_t		count;
	struct conf_upstream	upstream[CONF_MAX_UPSTREAM];
	char			where[CONF_WHERE_MAX];
};

struct names;

struct ruleset {
	struct rule_table	*tables;
	size_t			 ntables;
	struct rule		*rules;
	size_t			 nrules;
	struct rule_source	*sources;
	size_t			 nsources;
	struct rule_upstream	*upstreams;
	size_t			 nupstreams;
	char			*pool;		/* NUL-terminated strings */
	size_t			 poollen;
	struct names		*names;		/* built by ruleset_load() */
	int			*fds;		/* a file source's, or -1 */
	uint16_t		 gen;		/* 1 to RULE_GEN_MAX, see below */
};

/*
 * A verdict of RULE_ROUTE for every client, kept with a map entry as a
 * 16-bit word: the generation of the ruleset that gave it in the top 5
 * bits, the rule's index + 1 (0: none matched) in the other 11.  0 is
 * no verdict.  A new ruleset takes the next generation; after the last,
 * the words kept are all cleared and the count starts again.
 */
#define RULE_GEN_BITS		5
#define RULE_GEN_MAX		((1 << RULE_GEN_BITS) - 1)
#define RULE_VERDICT(gen, idx)	((uint16_t)((gen) << (16 - RULE_GEN_BITS) | \
				    (idx)))
#define RULE_VERDICT_GEN(w)	((w) >> (16 - RULE_GEN_BITS))
#define RULE_VERDICT_IDX(w)	((w) & ((1 << (16 - RULE_GEN_BITS)) - 1))

/* The verdict for one name and client, and what decided it. */
struct rule_verdict {
	struct rule		*rule;		/* NULL: no rule matched */
	int			 action;	/* enum rule_action */
	int			 any_client;	/* no from in the rules seen */
	struct rule_route	 route;
};

/* names.c: a set of names, each in some tables, matched by suffix. */
struct names	*names_new(void);
void		 names_free(struct names *);
int		 names_add(struct names *, const char *, uint16_t);
int		 names_load(struct names *, FILE *, const char *, uint16_t,
		    size_t *, size_t *);
void		 names_match(const struct names *, const char *, uint8_t *,
		    size_t);
size_t		 names_count(const struct names *);
size_t		 names_memory(const struct names *);

/* rules.c */
struct ruleset	*ruleset_new(void);
void		 ruleset_free(struct ruleset *);
int		 ruleset_table(struct ruleset *, const char *, const char *);
int		 ruleset_find_table(const struct ruleset *, const char *);
int		 ruleset_source(struct ruleset *, int, int, const char *,
		    const char *);
int		 ruleset_rule(struct ruleset *, const struct rule *);
int		 ruleset_upstream(struct ruleset *,
		    const struct rule_upstream *);
const char	*ruleset_text(const struct ruleset *,
		    const struct rule_source *);
int		 ruleset_has_mark(const struct ruleset *, uint32_t);
int		 ruleset_open_files(struct ruleset *);
int		 ruleset_load(struct ruleset *);
void		 ruleset_close_files(struct ruleset *);
void		 ruleset_eval(struct ruleset *, const char *, uint32_t, int,
		    struct rule_verdict *);
const struct rule_upstream *ruleset_split(const struct ruleset *,
		    const char *);
void		 ruleset_print(FILE *, const struct ruleset *);
const char	*rule_route_fmt(const struct rule_route *, char *, size_t);
const char	*rule_via_fmt(const struct rule_route *, char *, size_t);
int		 rule_route_ok(const struct rule_route *);
const char	*rule_fmt(const struct ruleset *, const struct rule *, char *,
		    size_t);
void		 ruleset_keep_hits(struct ruleset *, const struct ruleset *);
int		 ruleset_encode(const struct ruleset *, unsigned char **,
		    size_t *);
struct ruleset	*ruleset_decode(const unsigned char *, size_t);
int		 ruleset_has_mark(const struct ruleset *, uint32_t);

#endif /* RULES_H */
