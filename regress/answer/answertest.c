/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * answertest.c: DNS answers built from packets (src/answer.c), with a map
 * in a temporary directory behind them: what each kind of query gets,
 * what broken packets get, EDNS sizes and truncation, and the relayed
 * upstream answers with their address hints and addresses removed, the
 * EDNS cases of the public compliance tests one by one.  A
 * differential test holds the fast path of A and AAAA queries to the
 * ldns path's replies, byte for byte, over many generated queries.
 * Rulesets built by hand hold the answers to blocked and passed names,
 * the order of evaluation and the hits to what rules.c promises.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "wire.h"
#include "resolve.h"
#include "rules.h"
#include "../lib/test.h"

static struct dns44_conf	 tconf;
static struct map		*tmap;
static char			 tdir[] = "/tmp/dns44-answertest.XXXXXX";

static ldns_pkt *
mkquery(const char *name, ldns_rr_type type, ldns_rr_class class,
    uint16_t id, int edns)
{
	ldns_pkt	*q = NULL;

	if (ldns_pkt_query_new_frm_str(&q, name, type, class, LDNS_RD) !=
	    LDNS_STATUS_OK)
		return (NULL);
	ldns_pkt_set_id(q, id);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, edns);
	return (q);
}

/* Ask: query -> answer struct; *reply is the parsed reply or NULL. */
static void
ask(ldns_pkt *q, int tcp, struct answer *a, ldns_pkt **reply)
{
	uint8_t	*wire;
	size_t	 len;

	*reply = NULL;
	if (ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK) {
		CHECK(0);
		return;
	}
	answer_query(tmap, &tconf, NULL, wire, len, tcp, 0, time(NULL), a);
	free(wire);
	if (a->action == ANSWER_REPLY) {
		CHECK(ldns_wire2pkt(reply, a->wire, a->len) == LDNS_STATUS_OK);
		free(a->wire);
	}
}

static void
ask_raw(const uint8_t *buf, size_t len, struct answer *a)
{
	answer_query(tmap, &tconf, NULL, buf, len, 0, 0, time(NULL), a);
}

static uint32_t
answer_a(const ldns_pkt *r)
{
	ldns_rr		*rr;
	uint32_t	 a;

	if (ldns_pkt_ancount(r) != 1)
		return (0);
	rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A)
		return (0);
	memcpy(&a, ldns_rdf_data(ldns_rr_rdf(rr, 0)), 4);
	return (ntohl(a));
}

static void
test_a(void)
{
	struct answer	 a;
	ldns_pkt	*q, *r;
	ldns_rr		*rr;
	uint32_t	 addr1, addr2, addr3;

	q = mkquery("Example.Test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 4242, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK(r != NULL);
	CHECK_EQ(ldns_pkt_id(r), 4242);
	CHECK(ldns_pkt_qr(r));
	CHECK(ldns_pkt_ra(r));
	CHECK(ldns_pkt_rd(r));
	CHECK(!ldns_pkt_aa(r));
	CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	CHECK_EQ(ldns_pkt_qdcount(r), 1);
	CHECK(!ldns_pkt_edns(r));
	addr1 = answer_a(r);
	CHECK(addr1 >= tconf.range_first && addr1 <= tconf.range_last);
	rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	CHECK_EQ(ldns_rr_ttl(rr), 900);
	CHECK(ldns_dname_compare(ldns_rr_owner(rr),
	    ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q), 0))) == 0);
	CHECK(strcmp(a.result, "") != 0);
	ldns_pkt_free(q);
	ldns_pkt_free(r);

	/* Any case, any id: the same address.  Another name: another. */
	q = mkquery("example.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1, 0);
	ask(q, 0, &a, &r);
	addr2 = answer_a(r);
	CHECK_EQ(addr2, addr1);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	q = mkquery("other.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1, 0);
	ask(q, 0, &a, &r);
	addr3 = answer_a(r);
	CHECK(addr3 != addr1 && addr3 != 0);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	CHECK(map_lookup_name(tmap, "example.test") != NULL);
}

/* A rule of the given kind for one pattern, in a list of its own. */
static struct rule *
rules_add(struct ruleset *rs, int action, int block, int quick,
    const char *from, int len, const char *pattern)
{
	struct rule	r;
	struct in_addr	in;
	int		t;

	memset(&r, 0, sizeof(r));
	r.action = action;
	r.block = block;
	r.quick = quick;
	r.from_any = from == NULL;
	if (from != NULL) {
		CHECK(inet_pton(AF_INET, from, &in) == 1);
		r.from_addr = ntohl(in.s_addr);
		r.from_len = len;
	}
	if (pattern == NULL)
		r.table = RULE_TABLE_ANY;
	else {
		t = ruleset_table(rs, "", "answertest:1");
		CHECK(t != -1);
		CHECK(ruleset_source(rs, t, SOURCE_NAME, pattern,
		    "answertest:1") == 0);
		r.table = t;
	}
	snprintf(r.where, sizeof(r.where), "answertest:%zu", rs->nrules + 1);
	r.route.action = action;
	CHECK(ruleset_rule(rs, &r) == 0);
	return (&rs->rules[rs->nrules - 1]);
}

/* Ask with rules, from a client (host order, 0: none). */
static void
ask_rules(struct ruleset *rs, const char *name, ldns_rr_type type,
    uint32_t client, struct answer *a, ldns_pkt **reply)
{
	ldns_pkt	*q;
	uint8_t		*wire;
	size_t		 len;

	*reply = NULL;
	if ((q = mkquery(name, type, LDNS_RR_CLASS_IN, 77, 0)) == NULL ||
	    ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK) {
		CHECK(0);
		ldns_pkt_free(q);
		memset(a, 0, sizeof(*a));
		return;
	}
	ldns_pkt_free(q);
	answer_query(tmap, &tconf, rs, wire, len, 0, client, time(NULL), a);
	free(wire);
	if (a->action == ANSWER_REPLY) {
		CHECK(ldns_wire2pkt(reply, a->wire, a->len) == LDNS_STATUS_OK);
		free(a->wire);
		a->wire = NULL;
	} else if (a->action == ANSWER_FORWARD) {
		CHECK(a->query != NULL);
		ldns_pkt_free(a->query);
		a->query = NULL;
	}
}

/* The rcode of a reply to name, -1 when forwarded, -2 when dropped. */
static int
ask_rcode(struct ruleset *rs, const char *name, ldns_rr_type type,
    uint32_t client)
{
	struct answer	 a;
	ldns_pkt	*r;
	int		 rcode;

	ask_rules(rs, name, type, client, &a, &r);
	if (a.action == ANSWER_FORWARD)
		return (-1);
	if (r == NULL)
		return (-2);
	rcode = ldns_pkt_get_rcode(r);
	ldns_pkt_free(r);
	return (rcode);
}

/* The address an A query got: 0 when none, -1 when not answered. */
static int64_t
ask_addr(struct ruleset *rs, const char *name, uint32_t client)
{
	struct answer	 a;
	ldns_pkt	*r;
	int64_t		 addr;

	ask_rules(rs, name, LDNS_RR_TYPE_A, client, &a, &r);
	if (r == NULL)
		return (-1);
	addr = ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR ?
	    (int64_t)answer_a(r) : -1;
	ldns_pkt_free(r);
	return (addr);
}

static void
test_rules_block(void)
{
	static const ldns_rr_type	 types[] = { LDNS_RR_TYPE_A,
					    LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX };
	static const uint8_t		 zero[16];
	struct ruleset			*rs;
	struct rule			*nx, *ref, *zr;
	struct answer			 a;
	ldns_pkt			*r;
	ldns_rr				*rr;
	size_t				 i;
	int				 fast;

	CHECK((rs = ruleset_new()) != NULL);
	nx = rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, NULL, 0, "nx.test");
	ref = rules_add(rs, RULE_BLOCK, BLOCK_REFUSED, 0, NULL, 0,
	    "ref.test");
	zr = rules_add(rs, RULE_BLOCK, BLOCK_ZERO, 0, NULL, 0, "zero.test");
	CHECK(ruleset_load(rs) == 0);
	nx = &rs->rules[0];
	ref = &rs->rules[1];
	zr = &rs->rules[2];

	/* Both paths: a blocked name never reaches the map. */
	for (fast = 1; fast >= 0; fast--) {
		answer_fastpath_enabled = fast;
		for (i = 0; i < (sizeof(types) / sizeof(types[0])); i++) {
			CHECK_EQ(ask_rcode(rs, "www.nx.test", types[i], 0),
			    LDNS_RCODE_NXDOMAIN);
			CHECK_EQ(ask_rcode(rs, "NX.test.", types[i], 0),
			    LDNS_RCODE_NXDOMAIN);
			CHECK_EQ(ask_rcode(rs, "ref.test", types[i], 0),
			    LDNS_RCODE_REFUSED);

			ask_rules(rs, "a.zero.test", types[i], 0, &a, &r);
			CHECK_EQ(a.action, ANSWER_REPLY);
			CHECK(a.rule == zr);
			if (r == NULL)
				continue;
			CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
			if (types[i] == LDNS_RR_TYPE_MX) {
				/* NODATA */
				CHECK_EQ(ldns_pkt_ancount(r), 0);
				ldns_pkt_free(r);
				continue;
			}
			CHECK_EQ(ldns_pkt_ancount(r), 1);
			if (ldns_pkt_ancount(r) == 1) {
				rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
				CHECK_EQ(ldns_rr_get_type(rr), types[i]);
				CHECK_EQ(ldns_rdf_size(ldns_rr_rdf(rr, 0)),
				    types[i] == LDNS_RR_TYPE_A ? 4 : 16);
				CHECK(memcmp(ldns_rdf_data(ldns_rr_rdf(rr, 0)),
				    zero, ldns_rdf_size(ldns_rr_rdf(rr, 0)))
				    == 0);
			}
			ldns_pkt_free(r);
		}
	}
	answer_fastpath_enabled = 1;
	CHECK(map_lookup_name(tmap, "www.nx.test") == NULL);
	CHECK(map_lookup_name(tmap, "nx.test") == NULL);
	CHECK(map_lookup_name(tmap, "ref.test") == NULL);
	CHECK(map_lookup_name(tmap, "a.zero.test") == NULL);
	/* Each query counted once: 2 names x 3 types x 2 paths. */
	CHECK_EQ(nx->hits, 12);
	CHECK_EQ(ref->hits, 6);
	CHECK_EQ(zr->hits, 6);

	/* A name next to a blocked one is mapped as without rules. */
	CHECK(ask_addr(rs, "notnx.test", 0) >= (int64_t)tconf.range_first);
	CHECK_EQ(nx->hits, 12);
	ruleset_free(rs);
}

static void
test_rules_pass(void)
{
	struct ruleset	*rs;
	struct rule	*p;
	struct answer	 a;
	ldns_pkt	*r;
	int		 fast;

	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_PASS, 0, 0, NULL, 0, "=pass.test");
	CHECK(ruleset_load(rs) == 0);
	p = &rs->rules[0];
	for (fast = 1; fast >= 0; fast--) {
		answer_fastpath_enabled = fast;
		ask_rules(rs, "pass.test", LDNS_RR_TYPE_A, 0, &a, &r);
		CHECK_EQ(a.action, ANSWER_FORWARD);
		CHECK(a.rule == p);
		ldns_pkt_free(r);
		CHECK_EQ(ask_rcode(rs, "Pass.Test.", LDNS_RR_TYPE_AAAA, 0),
		    -1);
		CHECK_EQ(ask_rcode(rs, "pass.test", LDNS_RR_TYPE_MX, 0), -1);
	}
	answer_fastpath_enabled = 1;
	CHECK(map_lookup_name(tmap, "pass.test") == NULL);
	CHECK_EQ(p->hits, 6);
	/* "=": a name below it is not passed. */
	CHECK(ask_addr(rs, "www.pass.test", 0) >=
	    (int64_t)tconf.range_first);
	CHECK_EQ(p->hits, 6);
	ruleset_free(rs);
}

/* The last matching rule decides, but the first matching quick one. */
static void
test_rules_order(void)
{
	struct ruleset	*rs;
	int		 fast;

	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_REFUSED, 0, NULL, 0, NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 1, NULL, 0, "quick.test");
	rules_add(rs, RULE_PASS, 0, 0, NULL, 0, "quick.test");
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, NULL, 0, "last.test");
	rules_add(rs, RULE_PASS, 0, 0, NULL, 0, "last.test");
	rules_add(rs, RULE_ROUTE, 0, 0, NULL, 0, "route.test");
	CHECK(ruleset_load(rs) == 0);
	for (fast = 1; fast >= 0; fast--) {
		answer_fastpath_enabled = fast;
		CHECK_EQ(ask_rcode(rs, "quick.test", LDNS_RR_TYPE_A, 0),
		    LDNS_RCODE_NXDOMAIN);
		CHECK_EQ(ask_rcode(rs, "last.test", LDNS_RR_TYPE_A, 0), -1);
		CHECK_EQ(ask_rcode(rs, "other.test", LDNS_RR_TYPE_A, 0),
		    LDNS_RCODE_REFUSED);
		CHECK(ask_addr(rs, "www.route.test", 0) >=
		    (int64_t)tconf.range_first);
	}
	answer_fastpath_enabled = 1;
	CHECK_EQ(rs->rules[0].hits, 2);
	CHECK_EQ(rs->rules[1].hits, 2);
	CHECK_EQ(rs->rules[2].hits, 0);
	CHECK_EQ(rs->rules[3].hits, 0);
	CHECK_EQ(rs->rules[4].hits, 2);
	CHECK_EQ(rs->rules[5].hits, 2);

	/* A quick rule after a matching one still decides. */
	ruleset_free(rs);
	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_PASS, 0, 0, NULL, 0, "q2.test");
	rules_add(rs, RULE_BLOCK, BLOCK_REFUSED, 1, NULL, 0, "q2.test");
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 1, NULL, 0, "q2.test");
	rules_add(rs, RULE_PASS, 0, 0, NULL, 0, "q2.test");
	CHECK(ruleset_load(rs) == 0);
	CHECK_EQ(ask_rcode(rs, "q2.test", LDNS_RR_TYPE_A, 0),
	    LDNS_RCODE_REFUSED);
	CHECK_EQ(rs->rules[1].hits, 1);
	ruleset_free(rs);
}

/* "from": two clients, two answers for the same name. */
static void
test_rules_from(void)
{
	struct ruleset	*rs;
	int64_t		 addr;
	int		 fast;

	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, "10.1.0.0", 16,
	    "lan.test");
	rules_add(rs, RULE_PASS, 0, 0, "10.2.0.7", 32, "lan.test");
	CHECK(ruleset_load(rs) == 0);
	for (fast = 1; fast >= 0; fast--) {
		answer_fastpath_enabled = fast;
		CHECK_EQ(ask_rcode(rs, "lan.test", LDNS_RR_TYPE_A, 0x0a010203),
		    LDNS_RCODE_NXDOMAIN);
		CHECK_EQ(ask_rcode(rs, "lan.test", LDNS_RR_TYPE_A, 0x0a020007),
		    -1);
		addr = ask_addr(rs, "lan.test", 0x0a020008);
		CHECK(addr >= (int64_t)tconf.range_first &&
		    addr <= (int64_t)tconf.range_last);
		/* No client known: only the rules without from. */
		addr = ask_addr(rs, "lan.test", 0);
		CHECK(addr >= (int64_t)tconf.range_first &&
		    addr <= (int64_t)tconf.range_last);
	}
	answer_fastpath_enabled = 1;
	CHECK_EQ(rs->rules[0].hits, 2);
	CHECK_EQ(rs->rules[1].hits, 2);
	ruleset_free(rs);

	/* from 0.0.0.0/0: every client, but not an unknown one. */
	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_REFUSED, 0, "0.0.0.0", 0, "all.test");
	CHECK(ruleset_load(rs) == 0);
	CHECK_EQ(ask_rcode(rs, "all.test", LDNS_RR_TYPE_A, 0x0a010203),
	    LDNS_RCODE_REFUSED);
	CHECK_EQ(ask_rcode(rs, "all.test", LDNS_RR_TYPE_A, 0xc0000201),
	    LDNS_RCODE_REFUSED);
	addr = ask_addr(rs, "all.test", 0);
	CHECK(addr >= (int64_t)tconf.range_first &&
	    addr <= (int64_t)tconf.range_last);
	ruleset_free(rs);
}

/*
 * Two split DNS lines, at answertest:3 and answertest:4, one for
 * corp.test and one for eu.corp.test, the latter last if sub_last.
 */
static struct ruleset *
split_ruleset(int sub_last)
{
	struct ruleset		*rs;
	struct rule_upstream	 u;
	int			 t[2], i;

	CHECK((rs = ruleset_new()) != NULL);
	CHECK((t[0] = ruleset_table(rs, "", "answertest:1")) != -1);
	CHECK(ruleset_source(rs, t[0], SOURCE_NAME, "corp.test",
	    "answertest:1") == 0);
	CHECK((t[1] = ruleset_table(rs, "", "answertest:2")) != -1);
	CHECK(ruleset_source(rs, t[1], SOURCE_NAME, "eu.corp.test",
	    "answertest:2") == 0);
	memset(&u, 0, sizeof(u));
	u.count = 1;
	CHECK(conf_parse_upstream("10.20.0.53", -1, 0, NULL,
	    &u.upstream[0]) == 0);
	for (i = 0; i < 2; i++) {
		u.table = t[sub_last ? i : 1 - i];
		snprintf(u.where, sizeof(u.where), "answertest:%d", 3 + i);
		CHECK(ruleset_upstream(rs, &u) == 0);
	}
	CHECK(ruleset_load(rs) == 0);
	return (rs);
}

/* Where the split DNS line a name goes to stands, or "none". */
static const char *
split_where(const struct ruleset *rs, const char *name)
{
	const struct rule_upstream	*u;

	return ((u = ruleset_split(rs, name)) != NULL ? u->where : "none");
}

/*
 * Split DNS lines: the last one whose names match decides, whatever the
 * order of the names' tables; a name no line names has none.
 */
static void
test_rules_split(void)
{
	struct ruleset	*rs;

	/* eu.corp.test's line comes first: the later corp.test wins. */
	rs = split_ruleset(0);
	CHECK(strcmp(split_where(rs, "www.eu.corp.test"), "answertest:4") ==
	    0);
	CHECK(strcmp(split_where(rs, "corp.test"), "answertest:4") == 0);
	CHECK(strcmp(split_where(rs, "other.test"), "none") == 0);
	ruleset_free(rs);

	/* The other way round, the line for eu.corp.test is the last. */
	rs = split_ruleset(1);
	CHECK(strcmp(split_where(rs, "www.eu.corp.test"), "answertest:4") ==
	    0);
	CHECK(strcmp(split_where(rs, "www.corp.test"), "answertest:3") == 0);
	CHECK(strcmp(split_where(rs, "other.test"), "none") == 0);
	ruleset_free(rs);
}

/*
 * The rules' verdict kept with a mapped name: the second query of a
 * routed name takes it without a match, still counting its rule's hits;
 * new rules (a new generation) decide afresh; a verdict that depends on
 * the client is not kept, nor one of rules without a generation.
 */
static void
test_rules_kept(void)
{
	struct ruleset		*rs;
	struct map_entry	*e;
	int64_t			 a1, a2;

	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, NULL, 0, "x.kept.test");
	rules_add(rs, RULE_ROUTE, 0, 0, NULL, 0, "route.kept.test");
	CHECK(ruleset_load(rs) == 0);
	rs->gen = 1;
	a1 = ask_addr(rs, "plain.kept.test", 0x0a000001);
	CHECK((e = map_lookup_name(tmap, "plain.kept.test")) != NULL);
	/* Matched when new: the verdict is kept once the name is mapped. */
	CHECK_EQ(e != NULL ? e->verdict : 1, 0);
	a2 = ask_addr(rs, "plain.kept.test", 0x0a000002);
	CHECK(a1 > 0 && a1 == a2);
	CHECK_EQ(e != NULL ? e->verdict : 0, RULE_VERDICT(1, 0));
	CHECK(ask_addr(rs, "route.kept.test", 0) > 0);
	CHECK(ask_addr(rs, "route.kept.test", 0) > 0);
	CHECK(ask_addr(rs, "route.kept.test", 0) > 0);
	CHECK((e = map_lookup_name(tmap, "route.kept.test")) != NULL);
	CHECK_EQ(e != NULL ? e->verdict : 0, RULE_VERDICT(1, 2));
	CHECK_EQ(rs->rules[1].hits, 3);
	ruleset_free(rs);

	/* New rules: the names kept as routed are blocked now. */
	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, NULL, 0,
	    "plain.kept.test");
	rules_add(rs, RULE_BLOCK, BLOCK_REFUSED, 0, NULL, 0,
	    "route.kept.test");
	CHECK(ruleset_load(rs) == 0);
	rs->gen = 2;
	CHECK_EQ(ask_rcode(rs, "plain.kept.test", LDNS_RR_TYPE_A, 0x0a000001),
	    LDNS_RCODE_NXDOMAIN);
	CHECK_EQ(ask_rcode(rs, "route.kept.test", LDNS_RR_TYPE_A, 0x0a000001),
	    LDNS_RCODE_REFUSED);
	CHECK_EQ(rs->rules[0].hits, 1);
	CHECK_EQ(rs->rules[1].hits, 1);
	ruleset_free(rs);

	/* A verdict for one client is not another's. */
	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, "10.1.0.0", 16,
	    "plain.kept.test");
	CHECK(ruleset_load(rs) == 0);
	rs->gen = 3;
	CHECK(ask_addr(rs, "plain.kept.test", 0x0a020001) == a1);
	CHECK(ask_addr(rs, "plain.kept.test", 0x0a020001) == a1);
	CHECK_EQ(ask_rcode(rs, "plain.kept.test", LDNS_RR_TYPE_A, 0x0a010203),
	    LDNS_RCODE_NXDOMAIN);
	CHECK((e = map_lookup_name(tmap, "plain.kept.test")) != NULL);
	CHECK(e != NULL && RULE_VERDICT_GEN(e->verdict) != 3);
	ruleset_free(rs);

	/* Rules without a generation keep nothing. */
	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, NULL, 0, "x.kept.test");
	CHECK(ruleset_load(rs) == 0);
	CHECK(ask_addr(rs, "new.kept.test", 0) > 0);
	CHECK(ask_addr(rs, "new.kept.test", 0) > 0);
	CHECK((e = map_lookup_name(tmap, "new.kept.test")) != NULL);
	CHECK_EQ(e != NULL ? e->verdict : 1, 0);
	ruleset_free(rs);
}

/* The fast path's replies, with rules, are the slow path's, byte for byte. */
static void
test_rules_fastpath(void)
{
	static const char	*names[] = { "nx.test", "ref.test", "zero.test",
				    "pass.test", "route.test", "plain.test" };
	static const ldns_rr_type types[] = { LDNS_RR_TYPE_A,
				    LDNS_RR_TYPE_AAAA };
	struct ruleset		*rs;
	struct answer		 a, b;
	ldns_pkt		*q;
	uint8_t			*wire;
	size_t			 len, i, j, k;
	uint64_t		 before[5], after;

	CHECK((rs = ruleset_new()) != NULL);
	rules_add(rs, RULE_BLOCK, BLOCK_NXDOMAIN, 0, NULL, 0, "nx.test");
	rules_add(rs, RULE_BLOCK, BLOCK_REFUSED, 0, NULL, 0, "ref.test");
	rules_add(rs, RULE_BLOCK, BLOCK_ZERO, 0, NULL, 0, "zero.test");
	rules_add(rs, RULE_PASS, 0, 0, NULL, 0, "pass.test");
	rules_add(rs, RULE_ROUTE, 0, 0, NULL, 0, "route.test");
	CHECK(ruleset_load(rs) == 0);
	for (i = 0; i < (sizeof(names) / sizeof(names[0])); i++)
		for (j = 0; j < (sizeof(types) / sizeof(types[0])); j++) {
			q = mkquery(names[i], types[j], LDNS_RR_CLASS_IN,
			    1000 + i, j == 0 ? 0 : 1232);
			CHECK(ldns_pkt2wire(&wire, q, &len) == LDNS_STATUS_OK);
			ldns_pkt_free(q);
			for (k = 0; k < (sizeof(before) / sizeof(before[0])); k++)
				before[k] = rs->rules[k].hits;
			answer_fastpath_enabled = 1;
			answer_query(tmap, &tconf, rs, wire, len, 0, 0x0a000001,
			    time(NULL), &a);
			answer_fastpath_enabled = 0;
			answer_query(tmap, &tconf, rs, wire, len, 0, 0x0a000001,
			    time(NULL), &b);
			answer_fastpath_enabled = 1;
			free(wire);
			CHECK_EQ(a.action, b.action);
			CHECK_EQ(a.rcode, b.rcode);
			CHECK(a.rule == b.rule);
			CHECK(strcmp(a.result, b.result) == 0);
			/* Only a routed or unmatched name takes the fast path. */
			CHECK_EQ(a.fast, i >= 4 ? 1 : 0);
			if (a.action == ANSWER_REPLY &&
			    b.action == ANSWER_REPLY) {
				CHECK_EQ(a.len, b.len);
				CHECK(a.len == b.len &&
				    memcmp(a.wire, b.wire, a.len) == 0);
			}
			/* Two queries: two hits for the deciding rule. */
			for (k = 0; k < (sizeof(before) / sizeof(before[0])); k++) {
				after = rs->rules[k].hits;
				CHECK_EQ(after - before[k], k == i ? 2 : 0);
			}
			if (a.action == ANSWER_REPLY)
				free(a.wire);
			if (b.action == ANSWER_REPLY)
				free(b.wire);
			if (a.action == ANSWER_FORWARD)
				ldns_pkt_free(a.query);
			if (b.action == ANSWER_FORWARD)
				ldns_pkt_free(b.query);
		}
	ruleset_free(rs);
}

static void
test_aaaa_ptr(void)
{
	struct answer		 a;
	struct map_entry	*e;
	ldns_pkt		*q, *r;
	ldns_rr			*rr;
	char			 ptr[64], *s;

	q = mkquery("v6.test.", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 7, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	CHECK_EQ(ldns_pkt_ancount(r), 0);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	/* The mapping was made all the same. */
	CHECK((e = map_lookup_name(tmap, "v6.test")) != NULL);
	if (e == NULL)
		return;

	snprintf(ptr, sizeof(ptr), "%u.%u.%u.%u.IN-ADDR.arpa.",
	    e->addr & 0xff, (e->addr >> 8) & 0xff, (e->addr >> 16) & 0xff,
	    e->addr >> 24);
	q = mkquery(ptr, LDNS_RR_TYPE_PTR, LDNS_RR_CLASS_IN, 8, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	CHECK_EQ(ldns_pkt_ancount(r), 1);
	if (ldns_pkt_ancount(r) == 1) {
		rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
		s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		CHECK(s != NULL && strcmp(s, "v6.test.") == 0);
		free(s);
	}
	ldns_pkt_free(q);
	ldns_pkt_free(r);

	/* In the range, not mapped: NXDOMAIN.  Outside: the upstream's. */
	q = mkquery("14.0.24.172.in-addr.arpa.", LDNS_RR_TYPE_PTR,
	    LDNS_RR_CLASS_IN, 9, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_REPLY);
	if (map_lookup_addr(tmap, 0xac18000e) == NULL)
		CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	q = mkquery("1.2.0.10.in-addr.arpa.", LDNS_RR_TYPE_PTR,
	    LDNS_RR_CLASS_IN, 9, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_FORWARD);
	ldns_pkt_free(a.query);
	ldns_pkt_free(q);
}

/*
 * On a shared map, a PTR of an address the map has not heard of goes
 * back as ANSWER_VERIFY for the store to be asked; then SERVFAIL when it
 * could not say, NXDOMAIN when nobody holds it, the name when the store
 * had it (and the map has it now).
 */
static void
test_ptr_shared(void)
{
	struct answer	 a;
	ldns_pkt	*q, *r;
	ldns_rr		*rr;
	char		*s;

	tconf.redis.sin_port = htons(6379);
	q = mkquery("250.250.24.172.in-addr.arpa.", LDNS_RR_TYPE_PTR,
	    LDNS_RR_CLASS_IN, 10, 0);
	CHECK(map_lookup_addr(tmap, 0xac18fafa) == NULL);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_VERIFY);
	CHECK_EQ(a.ptr, 0xac18fafa);
	CHECK(a.query != NULL);
	if (a.action != ANSWER_VERIFY || a.query == NULL) {
		tconf.redis.sin_port = 0;
		ldns_pkt_free(q);
		return;
	}
	answer_ptr_asked(tmap, &tconf, 0, &a);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK_EQ(a.rcode, LDNS_RCODE_SERVFAIL);
	free(a.wire);
	answer_ptr_asked(tmap, &tconf, 1, &a);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK_EQ(a.rcode, LDNS_RCODE_NXDOMAIN);
	free(a.wire);
	CHECK(map_put(tmap, "elsewhere.test", 0xac18fafa, 0) != NULL);
	answer_ptr_asked(tmap, &tconf, 1, &a);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK_EQ(a.rcode, LDNS_RCODE_NOERROR);
	r = NULL;
	CHECK(ldns_wire2pkt(&r, a.wire, a.len) == LDNS_STATUS_OK);
	free(a.wire);
	if (r != NULL && ldns_pkt_ancount(r) == 1) {
		rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
		s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		CHECK(s != NULL && strcmp(s, "elsewhere.test.") == 0);
		free(s);
	} else
		CHECK(0);
	ldns_pkt_free(r);
	ldns_pkt_free(a.query);
	/* Known now: answered at once. */
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK(r != NULL && ldns_pkt_ancount(r) == 1);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	tconf.redis.sin_port = 0;
}

static void
test_forward_refuse(void)
{
	struct answer	 a;
	ldns_pkt	*q, *r;

	q = mkquery("mail.test.", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, 10, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_FORWARD);
	CHECK(a.query != NULL && ldns_pkt_id(a.query) == 10);
	ldns_pkt_free(a.query);
	ldns_pkt_free(q);

	q = mkquery("chaos.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 11, 0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK(r != NULL && ldns_pkt_get_rcode(r) == LDNS_RCODE_REFUSED);
	CHECK(map_lookup_name(tmap, "chaos.test") == NULL);
	ldns_pkt_free(q);
	ldns_pkt_free(r);

	/* The root has no mapping. */
	q = mkquery(".", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 12, 0);
	ask(q, 0, &a, &r);
	CHECK(r != NULL && ldns_pkt_get_rcode(r) == LDNS_RCODE_REFUSED);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
}

static int
rcode_of(const struct answer *a)
{
	if (a->action != ANSWER_REPLY || a->len < 12)
		return (-1);
	return (a->wire[3] & 0x0f);
}

/*
 * Two TSIGs in the additional section: ldns 1.8.3 would leak the first
 * (wire.c), so the query is FORMERR without ldns reading it; one TSIG,
 * or the type's bytes in an address, parse as before.
 */
static void
test_tsig(void)
{
	/* "a." TXT, then TSIG, TSIG, OPT; ARCOUNT 3. */
	static const uint8_t two[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0,
	    0, 0, 0, 3, 1, 'a', 0, 0, 16, 0, 1,
	    0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
	    0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
	    0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };
	/* An answer: "a." A 10.0.0.250 twice. */
	static const uint8_t addrs[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2,
	    0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1,
	    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 250,
	    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 250 };
	uint8_t		 one[sizeof(two)];
	struct answer	 a;
	ldns_pkt	*p;

	CHECK_EQ(wire_parse(&p, two, sizeof(two)), -1);
	CHECK(p == NULL);
	ask_raw(two, sizeof(two), &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);

	/* The first TSIG alone: ARCOUNT 2, TSIG and OPT. */
	memcpy(one, two, 30);
	memcpy(one + 30, two + 41, 11);
	one[11] = 2;
	CHECK_EQ(wire_parse(&p, one, 41), 0);
	CHECK(p != NULL && ldns_pkt_tsig(p) != NULL);
	ldns_pkt_free(p);

	CHECK_EQ(wire_parse(&p, addrs, sizeof(addrs)), 0);
	CHECK(p != NULL && ldns_pkt_ancount(p) == 2);
	ldns_pkt_free(p);
}

static void
test_malformed(void)
{
	/* id 0x1234, RD, one question for "a." A IN */
	static const uint8_t good[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0,
	    0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1 };
	uint8_t		buf[600];
	struct answer	a;
	size_t		i;

	ask_raw(good, sizeof(good), &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_NOERROR);
	free(a.wire);

	ask_raw(good, 11, &a);			/* short header: silence */
	CHECK_EQ(a.action, ANSWER_DROP);
	memcpy(buf, good, sizeof(good));
	buf[2] |= 0x80;				/* a response: silence */
	ask_raw(buf, sizeof(good), &a);
	CHECK_EQ(a.action, ANSWER_DROP);

	memcpy(buf, good, sizeof(good));
	buf[2] = (buf[2] & 0x87) | (5 << 3);	/* UPDATE */
	ask_raw(buf, sizeof(good), &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_NOTIMPL);
	CHECK(a.action == ANSWER_REPLY && a.wire[0] == 0x12 &&
	    a.wire[1] == 0x34 && ((a.wire[2] >> 3) & 0x0f) == 5);
	free(a.wire);

	memcpy(buf, good, sizeof(good));
	buf[5] = 0;				/* QDCOUNT 0 */
	ask_raw(buf, 12, &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);
	buf[5] = 2;				/* QDCOUNT 2, one present */
	ask_raw(buf, sizeof(good), &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);

	memcpy(buf, good, sizeof(good));	/* truncated question */
	ask_raw(buf, sizeof(good) - 3, &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);

	memcpy(buf, good, 12);			/* pointer to itself */
	buf[12] = 0xc0;
	buf[13] = 12;
	memcpy(buf + 14, "\0\1\0\1", 4);
	ask_raw(buf, 18, &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);

	memcpy(buf, good, 12);			/* a 64-byte label */
	buf[12] = 64;
	memset(buf + 13, 'x', 64);
	buf[77] = 0;
	memcpy(buf + 78, "\0\1\0\1", 4);
	ask_raw(buf, 82, &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);

	memcpy(buf, good, 12);			/* a 300-byte name */
	for (i = 0; i < 5; i++) {
		buf[12 + i * 60] = 59;
		memset(buf + 13 + i * 60, 'y', 59);
	}
	buf[312] = 0;
	memcpy(buf + 313, "\0\1\0\1", 4);
	ask_raw(buf, 317, &a);
	CHECK_EQ(rcode_of(&a), LDNS_RCODE_FORMERR);
	free(a.wire);

	/* Every prefix of a good query: an answer or silence, no crash. */
	for (i = 0; i <= sizeof(good); i++) {
		ask_raw(good, i, &a);
		if (a.action == ANSWER_REPLY)
			free(a.wire);
		if (a.action == ANSWER_FORWARD)
			ldns_pkt_free(a.query);
	}
}

static void
test_edns(void)
{
	struct answer	 a;
	ldns_pkt	*q, *r;

	q = mkquery("edns.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 20, 1232);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, 1232);
	CHECK(r != NULL && ldns_pkt_edns(r));
	CHECK(r != NULL && ldns_pkt_edns_udp_size(r) == WIRE_EDNS_SIZE);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	q = mkquery("edns.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 20, 100);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, WIRE_UDP_MIN);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	/* A client claiming 65000 bytes gets the configured UDP size. */
	q = mkquery("edns.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 20, 65000);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, DEFAULT_UDP_SIZE);
	ldns_pkt_free(r);
	tconf.udp_size = WIRE_UDP_MAX;
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, WIRE_UDP_MAX);
	ldns_pkt_free(r);
	tconf.udp_size = 1000;
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, 1000);
	ldns_pkt_free(r);
	tconf.udp_size = DEFAULT_UDP_SIZE;
	ask(q, 1, &a, &r);
	CHECK_EQ(a.limit, 65535);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
}

static ldns_rr *
mkrr(const char *text)
{
	ldns_rr	*rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		fprintf(stderr, "cannot parse %s\n", text);
	return (rr);
}

static void
test_relay(void)
{
	ldns_pkt	*q, *up, *r;
	uint8_t		*wire;
	size_t		 len;
	char		 txt[300], *s;
	int		 i;

	/* No upstream answered. */
	q = mkquery("big.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 30, 0);
	CHECK_EQ(answer_relay(q, NULL, 0, 512, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
	CHECK_EQ(ldns_pkt_id(r), 30);
	free(wire);
	ldns_pkt_free(r);

	/* 20 TXT records of 200 bytes: TC over UDP, whole over TCP. */
	up = mkquery("big.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 999, 0);
	ldns_pkt_set_qr(up, 1);
	memset(txt, 0, sizeof(txt));
	for (i = 0; i < 20; i++) {
		snprintf(txt, sizeof(txt), "big.test. 60 IN TXT \"%02d%0198d\"",
		    i, 0);
		ldns_pkt_push_rr(up, LDNS_SECTION_ANSWER, mkrr(txt));
	}
	ldns_pkt_push_rr(up, LDNS_SECTION_ADDITIONAL,
	    mkrr("big.test. 60 IN A 192.0.2.1"));
	CHECK_EQ(answer_relay(q, up, 0, 512, &wire, &len), 0);
	CHECK(len <= 512);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK(ldns_pkt_tc(r));
	CHECK_EQ(ldns_pkt_ancount(r), 0);
	CHECK_EQ(ldns_pkt_id(r), 30);
	free(wire);
	ldns_pkt_free(r);
	CHECK_EQ(answer_relay(q, up, 0, 65535, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK(!ldns_pkt_tc(r));
	CHECK_EQ(ldns_pkt_ancount(r), 20);
	CHECK_EQ(ldns_pkt_arcount(r), 0);	/* the A record is gone */
	free(wire);
	ldns_pkt_free(r);
	ldns_pkt_free(up);
	ldns_pkt_free(q);

	/* NXDOMAIN relayed as it is. */
	q = mkquery("nx.test.", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, 31, 0);
	up = mkquery("nx.test.", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, 5, 0);
	ldns_pkt_set_rcode(up, LDNS_RCODE_NXDOMAIN);
	CHECK_EQ(answer_relay(q, up, 0, 512, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK_EQ(ldns_pkt_get_rcode(r), LDNS_RCODE_NXDOMAIN);
	free(wire);
	ldns_pkt_free(r);
	ldns_pkt_free(up);
	ldns_pkt_free(q);

	/* HTTPS: the hints go, alpn stays. */
	q = mkquery("h.test.", LDNS_RR_TYPE_HTTPS, LDNS_RR_CLASS_IN, 32, 0);
	up = mkquery("h.test.", LDNS_RR_TYPE_HTTPS, LDNS_RR_CLASS_IN, 6, 0);
	ldns_pkt_push_rr(up, LDNS_SECTION_ANSWER, mkrr("h.test. 60 IN HTTPS 1 "
	    ". alpn=h2,h3 ipv4hint=192.0.2.7 ipv6hint=2001:db8::7 port=8443"));
	CHECK_EQ(answer_relay(q, up, 0, 512, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK_EQ(ldns_pkt_ancount(r), 1);
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(r), 0));
	CHECK(s != NULL && strstr(s, "alpn=") != NULL);
	CHECK(s != NULL && strstr(s, "port=8443") != NULL);
	CHECK(s != NULL && strstr(s, "ipv4hint") == NULL);
	CHECK(s != NULL && strstr(s, "ipv6hint") == NULL);
	CHECK(s != NULL && strstr(s, "192.0.2.7") == NULL);
	free(s);
	free(wire);
	ldns_pkt_free(r);

	/* A passed name: the hints and the addresses as they came. */
	ldns_pkt_push_rr(up, LDNS_SECTION_ADDITIONAL,
	    mkrr("h.test. 60 IN A 192.0.2.8"));
	CHECK_EQ(answer_relay(q, up, 1, 512, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK_EQ(ldns_pkt_ancount(r), 1);
	CHECK_EQ(ldns_pkt_arcount(r), 1);
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(r), 0));
	CHECK(s != NULL && strstr(s, "ipv4hint=192.0.2.7") != NULL);
	CHECK(s != NULL && strstr(s, "ipv6hint=2001:db8::7") != NULL);
	free(s);
	free(wire);
	ldns_pkt_free(r);
	ldns_pkt_free(up);
	ldns_pkt_free(q);

	/* An A query for a passed name: the real address. */
	q = mkquery("p.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 33, 0);
	up = mkquery("p.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 7, 0);
	ldns_pkt_push_rr(up, LDNS_SECTION_ANSWER,
	    mkrr("p.test. 60 IN A 192.0.2.9"));
	CHECK_EQ(answer_relay(q, up, 1, 512, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK_EQ(answer_a(r), 0xc0000209);
	CHECK_EQ(ldns_pkt_id(r), 33);
	free(wire);
	ldns_pkt_free(r);
	CHECK_EQ(answer_relay(q, up, 0, 512, &wire, &len), 0);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK_EQ(ldns_pkt_ancount(r), 0);
	free(wire);
	ldns_pkt_free(r);
	ldns_pkt_free(up);
	ldns_pkt_free(q);
}

/*
 * A query as a test of EDNS compliance sends it: the header's flag bytes
 * as given, one question, and with opt set an OPT of the size, version,
 * flags (DO among them) and option bytes given.
 */
struct edns_q {
	const char	*name;		/* no final dot */
	uint16_t	 qtype;
	uint16_t	 qclass;
	uint8_t		 f2, f3;
	int		 opt;
	uint16_t	 size;
	uint8_t		 version;
	uint16_t	 flags;
	const uint8_t	*opts;
	size_t		 optlen;
};

static size_t
edns_query(const struct edns_q *e, uint8_t *buf)
{
	uint8_t		*p = buf, *len;
	const char	*n, *dot;

	p = wire_put16(p, 0x4d2f);
	*p++ = e->f2;
	*p++ = e->f3;
	p = wire_put16(p, 1);
	p = wire_put16(p, 0);
	p = wire_put16(p, 0);
	p = wire_put16(p, e->opt ? 1 : 0);
	for (n = e->name; *n != '\0'; n = *dot != '\0' ? dot + 1 : dot) {
		if ((dot = strchr(n, '.')) == NULL)
			dot = n + strlen(n);
		len = p++;
		memcpy(p, n, dot - n);
		p += dot - n;
		*len = dot - n;
	}
	*p++ = 0;
	p = wire_put16(p, e->qtype);
	p = wire_put16(p, e->qclass != 0 ? e->qclass : LDNS_RR_CLASS_IN);
	if (e->opt) {
		*p++ = 0;
		p = wire_put16(p, LDNS_RR_TYPE_OPT);
		p = wire_put16(p, e->size);
		*p++ = 0;
		*p++ = e->version;
		p = wire_put16(p, e->flags);
		p = wire_put16(p, e->optlen);
		if (e->optlen > 0)
			memcpy(p, e->opts, e->optlen);
		p += e->optlen;
	}
	return (p - buf);
}

/*
 * The query to the fast path and to the ldns path in turn, with the same
 * map: the same outcome, the same bytes.  a holds the first; a name asked
 * for twice has the same address, so the second reply is the first's.
 */
static void
edns_ask(struct ruleset *rs, const struct edns_q *e, int tcp,
    struct answer *a)
{
	struct answer	 b;
	uint8_t		 buf[1024];
	size_t		 len;

	len = edns_query(e, buf);
	answer_fastpath_enabled = 1;
	answer_query(tmap, &tconf, rs, buf, len, tcp, 0, time(NULL), a);
	answer_fastpath_enabled = 0;
	answer_query(tmap, &tconf, rs, buf, len, tcp, 0, time(NULL), &b);
	answer_fastpath_enabled = 1;
	CHECK_EQ(a->action, b.action);
	CHECK_EQ(a->rcode, b.rcode);
	CHECK_EQ(a->limit, b.limit);
	CHECK(strcmp(a->result, b.result) == 0);
	if (a->action == ANSWER_REPLY && b.action == ANSWER_REPLY)
		CHECK(a->len == b.len && memcmp(a->wire, b.wire, a->len) == 0);
	if (b.action == ANSWER_REPLY)
		free(b.wire);
	if (b.action == ANSWER_FORWARD)
		ldns_pkt_free(b.query);
}

static void
edns_done(struct answer *a)
{
	if (a->action == ANSWER_REPLY)
		free(a->wire);
	if (a->action == ANSWER_FORWARD)
		ldns_pkt_free(a->query);
	a->action = ANSWER_DROP;
}

/*
 * The OPT of a reply: the last record, and nothing after its fixed part
 * when it carries no option, as ours never does.  -1 when there is none
 * in that place; *ttl is its extended rcode, version and flags.
 */
static int
edns_opt(const struct answer *a, uint16_t *size, uint32_t *ttl)
{
	const uint8_t	*o;

	if (a->action != ANSWER_REPLY || a->len < WIRE_HDR_SIZE +
	    WIRE_OPT_SIZE || wire_get16(a->wire + 10) == 0)
		return (-1);
	o = a->wire + a->len - WIRE_OPT_SIZE;
	if (o[0] != 0 || wire_get16(o + 1) != LDNS_RR_TYPE_OPT ||
	    wire_get16(o + 9) != 0)
		return (-1);
	*size = wire_get16(o + 3);
	*ttl = wire_get32(o + 5);
	return (0);
}

/* The rcode of a reply, with the OPT's extended bits. */
static int
edns_rcode(const struct answer *a)
{
	uint16_t	size;
	uint32_t	ttl;

	if (a->action != ANSWER_REPLY)
		return (-1);
	if (edns_opt(a, &size, &ttl) == -1)
		ttl = 0;
	return ((ttl >> 24) << 4 | (a->wire[3] & 0x0f));
}

static struct ruleset *
edns_rules(void)
{
	struct ruleset	*rs;
	struct rule	 r;
	const char	*pat[] = { "blocked.test", "passed.test" };
	int		 i, t;

	if ((rs = ruleset_new()) == NULL)
		return (NULL);
	for (i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		if ((t = ruleset_table(rs, "", "edns:1")) == -1 ||
		    ruleset_source(rs, t, SOURCE_NAME, pat[i], "edns:1") == -1)
			break;
		r.action = r.route.action = i == 0 ? RULE_BLOCK : RULE_PASS;
		r.block = BLOCK_NXDOMAIN;
		r.table = t;
		r.from_any = 1;
		if (ruleset_rule(rs, &r) == -1)
			break;
	}
	if (i < 2 || ruleset_load(rs) == -1) {
		ruleset_free(rs);
		return (NULL);
	}
	return (rs);
}

/*
 * Version 0 against the public EDNS compliance cases: plain, edns,
 * edns@512, ednsopt, optlist, do, ednsflags, zflag, cd, ad.  The reply
 * speaks version 0, echoes DO and nothing else of the OPT, answers over
 * TCP whatever the buffer size said.
 */
static void
test_edns_v0(void)
{
	/* NSID, a client subnet of 0.0.0.0/0, EXPIRE, a client cookie. */
	static const uint8_t	 optlist[] = { 0, 3, 0, 0, 0, 8, 0, 4,
				    0, 1, 0, 0, 0, 9, 0, 0, 0, 10, 0, 8,
				    1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t	 opt100[] = { 0, 100, 0, 0 };
	struct edns_q		 e;
	struct answer		 a;
	ldns_pkt		*up, *r;
	uint8_t			*wire;
	uint16_t		 size;
	uint32_t		 ttl;
	size_t			 len;
	char			 txt[300];
	int			 i;

	/* plain: no OPT in, none out; without RD, none in the reply. */
	memset(&e, 0, sizeof(e));
	e.name = "plain.edns.test";
	e.qtype = LDNS_RR_TYPE_A;
	edns_ask(NULL, &e, 0, &a);
	CHECK(a.fast);
	CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NOERROR);
	CHECK(a.action == ANSWER_REPLY && a.wire[11] == 0 && a.wire[7] == 1);
	CHECK(a.action == ANSWER_REPLY && a.wire[2] == 0x80 &&
	    a.wire[3] == 0x80);
	edns_done(&a);

	/* edns: our OPT, version 0, our size, no flag. */
	e.opt = 1;
	e.size = 4096;
	edns_ask(NULL, &e, 0, &a);
	CHECK(a.fast);
	CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NOERROR);
	CHECK(edns_opt(&a, &size, &ttl) == 0 && size == WIRE_EDNS_SIZE &&
	    ttl == 0);
	CHECK(a.action == ANSWER_REPLY && a.wire[7] == 1);
	edns_done(&a);

	/* ednsopt, optlist: answered, no option echoed. */
	e.opts = opt100;
	e.optlen = sizeof(opt100);
	edns_ask(NULL, &e, 0, &a);
	CHECK(a.fast);
	CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NOERROR);
	CHECK(edns_opt(&a, &size, &ttl) == 0 && ttl == 0);
	CHECK(a.action == ANSWER_REPLY && a.wire[7] == 1);
	edns_done(&a);
	e.opts = optlist;
	e.optlen = sizeof(optlist);
	edns_ask(NULL, &e, 0, &a);
	CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NOERROR);
	CHECK(edns_opt(&a, &size, &ttl) == 0 && ttl == 0);
	edns_done(&a);

	/* do: DO echoed (RFC 3225 3).  ednsflags: the others are not. */
	e.opts = NULL;
	e.optlen = 0;
	e.flags = WIRE_EDNS_DO;
	edns_ask(NULL, &e, 0, &a);
	CHECK(edns_opt(&a, &size, &ttl) == 0 && ttl == WIRE_EDNS_DO);
	edns_done(&a);
	e.flags = 0x0040;
	edns_ask(NULL, &e, 0, &a);
	CHECK(edns_opt(&a, &size, &ttl) == 0 && ttl == 0);
	edns_done(&a);
	e.flags = 0xffff;
	edns_ask(NULL, &e, 0, &a);
	CHECK(edns_opt(&a, &size, &ttl) == 0 && ttl == WIRE_EDNS_DO);
	edns_done(&a);
	e.flags = 0;

	/* cd: CD copied; ad: AD not, nothing here is validated; zflag. */
	e.f3 = 0x10 | 0x20;
	edns_ask(NULL, &e, 0, &a);
	CHECK(a.fast);
	CHECK(a.action == ANSWER_REPLY && (a.wire[3] & 0xf0) == 0x90);
	edns_done(&a);
	e.f3 = 0x40;
	edns_ask(NULL, &e, 0, &a);
	CHECK(!a.fast);
	CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NOERROR);
	CHECK(a.action == ANSWER_REPLY && (a.wire[3] & 0x70) == 0);
	edns_done(&a);
	e.f3 = 0;

	/* edns@512: a limit of 512 over UDP, none over TCP. */
	e.size = 512;
	edns_ask(NULL, &e, 0, &a);
	CHECK_EQ(a.limit, WIRE_UDP_MIN);
	edns_done(&a);
	edns_ask(NULL, &e, 1, &a);
	CHECK_EQ(a.limit, 65535);
	edns_done(&a);

	/* A forwarded question over TCP with 512 bytes: whole, no TC. */
	e.name = "big.edns.test";
	e.qtype = LDNS_RR_TYPE_TXT;
	e.opts = opt100;
	e.optlen = sizeof(opt100);
	e.flags = WIRE_EDNS_DO;
	edns_ask(NULL, &e, 1, &a);
	CHECK_EQ(a.action, ANSWER_FORWARD);
	CHECK_EQ(a.limit, 65535);
	if (a.action != ANSWER_FORWARD)
		return;
	up = mkquery("big.edns.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 9,
	    1232);
	ldns_pkt_set_qr(up, 1);
	ldns_pkt_set_edns_do(up, 1);
	for (i = 0; i < 20; i++) {
		snprintf(txt, sizeof(txt), "big.edns.test. 60 IN TXT "
		    "\"%02d%0198d\"", i, 0);
		ldns_pkt_push_rr(up, LDNS_SECTION_ANSWER, mkrr(txt));
	}
	CHECK_EQ(answer_relay(a.query, up, 0, a.limit, &wire, &len), 0);
	r = NULL;
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK(r != NULL && !ldns_pkt_tc(r) && ldns_pkt_ancount(r) == 20);
	CHECK(r != NULL && ldns_pkt_edns(r) && ldns_pkt_edns_do(r) &&
	    ldns_pkt_edns_version(r) == 0);
	/* The option went neither up nor back: it is last and empty. */
	CHECK(len > 4 && wire_get16(wire + len - 2) == 0);
	ldns_pkt_free(r);
	free(wire);
	/* The same over UDP with 512 bytes: TC, and the OPT still there. */
	CHECK_EQ(answer_relay(a.query, up, 0, WIRE_UDP_MIN, &wire, &len), 0);
	r = NULL;
	CHECK(len <= WIRE_UDP_MIN);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK(r != NULL && ldns_pkt_tc(r) && ldns_pkt_edns(r));
	ldns_pkt_free(r);
	free(wire);
	ldns_pkt_free(up);
	edns_done(&a);
}

/*
 * edns1, edns1opt, edns1flags: a version above 0 gets BADVERS and an OPT
 * of version 0 for every question, on both paths; nothing is mapped,
 * blocked or forwarded.
 */
static void
test_edns_badvers(void)
{
	static const uint8_t	 opt100[] = { 0, 100, 0, 0 };
	static const struct {
		const char	*name;
		uint16_t	 qtype;
		uint16_t	 qclass;
		int		 fast;
	} q[] = {
		{ "v1.edns.test", LDNS_RR_TYPE_A, 0, 1 },
		{ "v1.edns.test", LDNS_RR_TYPE_AAAA, 0, 1 },
		{ "v1.edns.test", LDNS_RR_TYPE_MX, 0, 0 },
		{ "v1.edns.test", LDNS_RR_TYPE_SOA, 0, 0 },
		{ "1.0.24.172.in-addr.arpa", LDNS_RR_TYPE_PTR, 0, 0 },
		{ "v1.edns.test", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 0 },
		{ "x.blocked.test", LDNS_RR_TYPE_A, 0, 1 },
		{ "x.blocked.test", LDNS_RR_TYPE_TXT, 0, 0 },
		{ "x.passed.test", LDNS_RR_TYPE_A, 0, 1 },
		{ "x.passed.test", LDNS_RR_TYPE_MX, 0, 0 },
	};
	struct ruleset		*rs;
	struct edns_q		 e;
	struct answer		 a;
	uint16_t		 size;
	uint32_t		 ttl;
	size_t			 i, j;
	int			 tcp;

	CHECK((rs = edns_rules()) != NULL);
	if (rs == NULL)
		return;
	/* The rules are there: in version 0, blocked and passed. */
	memset(&e, 0, sizeof(e));
	e.name = "x.blocked.test";
	e.qtype = LDNS_RR_TYPE_TXT;
	e.opt = 1;
	e.size = 1232;
	edns_ask(rs, &e, 0, &a);
	CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NXDOMAIN);
	edns_done(&a);
	e.name = "x.passed.test";
	e.qtype = LDNS_RR_TYPE_MX;
	edns_ask(rs, &e, 0, &a);
	CHECK_EQ(a.action, ANSWER_FORWARD);
	edns_done(&a);

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		for (j = 0; j < 8; j++) {
			memset(&e, 0, sizeof(e));
			e.name = q[i].name;
			e.qtype = q[i].qtype;
			e.qclass = q[i].qclass;
			e.f2 = 0x01;
			e.f3 = j & 4 ? 0x10 : 0;	/* CD */
			e.opt = 1;
			e.size = j & 1 ? 512 : 4096;
			e.version = j < 4 ? 1 : 2 + 253 * (j & 1);
			e.flags = (j & 2 ? WIRE_EDNS_DO : 0) |
			    (j & 1 ? 0x0040 : 0);	/* edns1flags */
			if (j & 1) {			/* edns1opt */
				e.opts = opt100;
				e.optlen = sizeof(opt100);
			}
			tcp = (j & 3) == 3;
			edns_ask(rs, &e, tcp, &a);
			CHECK_EQ(a.action, ANSWER_REPLY);
			CHECK_EQ(a.rcode, WIRE_RCODE_BADVERS);
			CHECK_EQ(edns_rcode(&a), WIRE_RCODE_BADVERS);
			CHECK_EQ(a.fast, q[i].fast);
			CHECK(a.rule == NULL);
			CHECK(strcmp(a.result, "BADVERS") == 0);
			CHECK(edns_opt(&a, &size, &ttl) == 0 &&
			    size == WIRE_EDNS_SIZE && ttl == (1U << 24 |
			    (e.flags & WIRE_EDNS_DO)));
			if (a.action != ANSWER_REPLY) {
				edns_done(&a);
				continue;
			}
			/* RD and CD echoed, the question, nothing else. */
			CHECK_EQ(a.wire[2], 0x81);
			CHECK_EQ(a.wire[3], 0x80 | e.f3);
			CHECK(wire_get16(a.wire + 4) == 1 &&
			    wire_get16(a.wire + 6) == 0 &&
			    wire_get16(a.wire + 8) == 0 &&
			    wire_get16(a.wire + 10) == 1);
			edns_done(&a);
		}
	}
	CHECK(map_lookup_name(tmap, "v1.edns.test") == NULL);
	CHECK(map_lookup_name(tmap, "x.passed.test") == NULL);
	ruleset_free(rs);
}

/*
 * opcode: NOTIMP with the query's opcode and RD and without RA, which
 * means something only for a QUERY, and an OPT of version 0 and the
 * question when the query had an OPT, the header alone when not; a
 * broken QUERY keeps it.
 */
static void
test_edns_opcode(void)
{
	struct edns_q	 e;
	struct answer	 a;
	uint8_t		 buf[512];
	size_t		 len;
	uint32_t	 ttl;
	uint16_t	 size;
	int		 op;

	memset(&e, 0, sizeof(e));
	e.name = "op.edns.test";
	e.qtype = LDNS_RR_TYPE_SOA;
	for (op = 1; op < 16; op++) {
		e.f2 = op << 3 | 0x01;
		e.f3 = 0x10 | 0x20 | 0x40;
		e.opt = op & 1;
		e.version = op & 2 ? 1 : 0;
		edns_ask(NULL, &e, 0, &a);
		CHECK_EQ(edns_rcode(&a), LDNS_RCODE_NOTIMPL);
		CHECK(a.action == ANSWER_REPLY && a.wire[2] == (0x80 | e.f2) &&
		    a.wire[3] == LDNS_RCODE_NOTIMPL);
		/* An OPT answers an OPT, of version 0, with the question. */
		if (e.opt)
			CHECK(edns_opt(&a, &size, &ttl) == 0 &&
			    size == WIRE_EDNS_SIZE && ((ttl >> 16) & 0xff) == 0 &&
			    wire_get16(a.wire + 4) == 1 &&
			    wire_get16(a.wire + 10) == 1);
		else
			CHECK(a.action == ANSWER_REPLY &&
			    a.len == WIRE_HDR_SIZE);
		edns_done(&a);
		len = edns_query(&e, buf);
		answer_refuse(&tconf, buf, len, 0, &a);
		CHECK(a.action == ANSWER_REPLY &&
		    a.wire[3] == LDNS_RCODE_REFUSED);
		edns_done(&a);
	}
	e.f2 = 0x01;
	e.f3 = 0;
	e.opt = 0;
	len = edns_query(&e, buf);
	buf[5] = 2;				/* QDCOUNT 2: FORMERR */
	ask_raw(buf, len, &a);
	CHECK(a.action == ANSWER_REPLY &&
	    a.wire[3] == (0x80 | LDNS_RCODE_FORMERR));
	edns_done(&a);
}

static void
test_ptr_addr(void)
{
	ldns_rdf	*d = NULL;
	uint32_t	 a = 0;

#define PTR(s, rv) do {							\
	ldns_str2rdf_dname(&d, s);					\
	CHECK_EQ(answer_ptr_addr(d, &a), rv);				\
	ldns_rdf_deep_free(d);						\
} while (0)
	PTR("4.3.2.1.in-addr.arpa.", 0);
	CHECK_EQ(a, 0x01020304);
	PTR("255.0.24.172.IN-ADDR.ARPA.", 0);
	CHECK_EQ(a, 0xac1800ff);
	PTR("256.0.24.172.in-addr.arpa.", -1);
	PTR("01.0.24.172.in-addr.arpa.", -1);
	PTR("0.24.172.in-addr.arpa.", -1);
	PTR("1.0.0.24.172.in-addr.arpa.", -1);
	PTR("1.0.24.172.in-addr.arpa.example.", -1);
	PTR("a.0.24.172.in-addr.arpa.", -1);
#undef PTR
}

/* A range of four: the fifth and sixth new names get SERVFAIL. */
static void
test_full(void)
{
	struct map	*small, *saved = tmap;
	struct answer	 a;
	ldns_pkt	*q, *r;
	char		 path[128], name[256];
	int		 i, servfail = 0;

	snprintf(path, sizeof(path), "%s/small.tdb", tdir);
	small = map_open(path, 0xac180001, 0xac180004, NULL, NULL, name,
	    sizeof(name));
	CHECK(small != NULL);
	if (small == NULL)
		return;
	tmap = small;
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "n%d.test.", i);
		q = mkquery(name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, i, 0);
		ask(q, 0, &a, &r);
		CHECK(r != NULL);
		if (r != NULL &&
		    ldns_pkt_get_rcode(r) == LDNS_RCODE_SERVFAIL) {
			servfail++;
			CHECK(a.full);
		}
		ldns_pkt_free(r);
		ldns_pkt_free(q);
	}
	CHECK_EQ(servfail, 2);
	tmap = saved;
	map_close(small);
}

/*
 * The differential test.  Each generated query goes to answer_query()
 * twice: with the fast path against one map, with the ldns path only
 * against another that started alike.  Answers and maps must stay alike,
 * and the fast path must take exactly the queries made for it.
 */
#define DIFF_QUERIES	100000
#define DIFF_NAMES	3000		/* names asked again and again */
#define DIFF_TINY	8		/* addresses in the tiny range */

struct diff_pair {
	struct map		*fast;
	struct map		*slow;
	struct dns44_conf	 conf;
};

struct diff_stats {
	int	total;
	int	fast;
	int	replies;
	int	full;
	int	refused;
	int	servfail;
	int	answered;		/* fast path, with an A record */
	int	edns;			/* fast path, with an OPT */
};

static uint32_t	diff_state = 0x2545f491;
static int	diff_fresh;

static uint32_t
diff_rand(void)
{
	uint32_t	x = diff_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (diff_state = x);
}

/* One chance in n. */
static int
diff_one_in(uint32_t n)
{
	return (diff_rand() % n == 0);
}

static uint8_t *
diff_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return (p + 2);
}

/* A label of n bytes of c, or of text when c is 0; letters in any case. */
static uint8_t *
diff_label(uint8_t *p, const char *text, size_t n, int c)
{
	size_t	i;
	int	b;

	*p++ = n;
	for (i = 0; i < n; i++) {
		b = c != 0 ? c : text[i % strlen(text)];
		if (b >= 'a' && b <= 'z' && diff_one_in(2))
			b -= 'a' - 'A';
		*p++ = b;
	}
	return (p);
}

/* A whole name of wlen bytes, final zero included: 63-byte labels. */
static uint8_t *
diff_long(uint8_t *p, const char *text, size_t wlen)
{
	size_t	left = wlen - 1;

	while (left > 64 + 1) {
		p = diff_label(p, text, 63, 0);
		left -= 64;
	}
	if (left > 64) {		/* 65: two labels, not one of 64 */
		p = diff_label(p, text, 32, 0);
		left -= 33;
	}
	p = diff_label(p, text, left - 1, 0);
	*p++ = 0;
	return (p);
}

/*
 * One name of the pool: the same name whenever j is the same, whatever
 * the case.  Some are long, with 63-byte labels, up to 255 bytes.
 */
static uint8_t *
diff_pool_name(uint8_t *p, uint32_t j)
{
	char	text[32];
	int	i;

	snprintf(text, sizeof(text), "h%uz", j);
	if (j % 11 == 0)
		return (diff_long(p, text, 250 + j % 6));
	if (j % 13 == 0)
		p = diff_label(p, text, 63, 0);
	else if (j % 17 == 0) {
		for (i = 0; i < 16; i++)
			p = diff_label(p, "", 1, 'a' + (j + i) % 26);
	} else {
		if (j % 7 == 0)
			p = diff_label(p, "www", 3, 0);
		p = diff_label(p, text, strlen(text), 0);
	}
	p = diff_label(p, "example", 7, 0);
	p = diff_label(p, "test", 4, 0);
	*p++ = 0;
	return (p);
}

/*
 * The question's name; *fast is cleared when the fast path cannot take
 * it: a pointer, a label over 63 bytes, over 255 bytes in all, or a byte
 * that ldns would print escaped.
 */
static uint8_t *
diff_name(uint8_t *p, int *fast)
{
	static const char	 plain[] = "-_*/~!#$%&+=?@^`{|}<>[]:,'\"0";
	static const uint8_t	 odd[] = { '.', ';', '(', ')', '\\', ' ',
				    0x7f, 0x80, 0xff, 0, '\t' };
	uint8_t			*start = p;
	uint32_t		 k = diff_rand() % 100;
	char			 text[32];

	if (k < 55)
		return (diff_pool_name(p, diff_rand() % DIFF_NAMES));
	if (k < 75) {			/* never asked before */
		snprintf(text, sizeof(text), "new%d", diff_fresh++);
		p = diff_label(p, text, strlen(text), 0);
		p = diff_label(p, "test", 4, 0);
	} else if (k < 80) {		/* the root: REFUSED */
	} else if (k == 80 && diff_one_in(8)) {
		/* 127 labels of one byte; rare: ldns takes long over them. */
		while (p - start < 254)
			p = diff_label(p, "", 1, 'a' + diff_rand() % 26);
	} else if (k < 88) {		/* bytes printed as they are */
		text[0] = plain[diff_rand() % (sizeof(plain) - 1)];
		text[1] = '\0';
		p = diff_label(p, "x", 1 + diff_rand() % 3, 0);
		p = diff_label(p, text, 1, 0);
		p = diff_label(p, "test", 4, 0);
	} else if (k < 91) {		/* escaped by ldns */
		*p++ = 3;
		*p++ = 'a';
		*p++ = odd[diff_rand() % sizeof(odd)];
		*p++ = 'B';
		p = diff_label(p, "test", 4, 0);
		*fast = 0;
	} else if (k < 94) {		/* 256 to 258 bytes: FORMERR */
		*fast = 0;
		return (diff_long(p, "toolong", 256 + diff_rand() % 3));
	} else if (k < 96) {		/* a label of 64 bytes: FORMERR */
		p = diff_label(p, "x", 64, 0);
		*fast = 0;
	} else if (k < 98) {		/* a pointer to itself: FORMERR */
		if (diff_one_in(2))
			p = diff_label(p, "loop", 4, 0);
		*fast = 0;
		return (diff_put16(p, 0xc000 | 12));
	} else				/* 63-byte labels up to 255 */
		return (diff_long(p, "max", 255));
	*p++ = 0;
	return (p);
}

/* An OPT of some size, flags, version and options; *fast as above. */
static uint8_t *
diff_opt(uint8_t *p, int *fast)
{
	static const uint16_t	 sizes[] = { 0, 1, 100, 511, 512, 513, 1232,
				    1400, 4095, 4096, 4097, 8192, 65535 };
	uint8_t			*rdlen, *end;
	uint16_t		 n;
	int			 i, nopt;

	if (diff_one_in(40)) {		/* not at the root */
		p = diff_label(p, "opt", 3, 0);
		*fast = 0;
	}
	*p++ = 0;
	p = diff_put16(p, LDNS_RR_TYPE_OPT);
	if (diff_one_in(4))
		p = diff_put16(p, diff_rand());
	else
		p = diff_put16(p, sizes[diff_rand() % (sizeof(sizes) /
		    sizeof(sizes[0]))]);
	*p++ = diff_one_in(20) ? diff_rand() : 0;	/* extended rcode */
	*p++ = diff_one_in(10) ? 1 + diff_rand() % 3 : 0;	/* version */
	*p++ = (diff_one_in(2) ? 0x80 : 0) |		/* DO */
	    (diff_one_in(20) ? diff_rand() & 0x7f : 0);
	*p++ = diff_one_in(20) ? diff_rand() : 0;
	rdlen = p;
	p += 2;
	nopt = diff_one_in(2) ? 0 : 1 + diff_rand() % 3;
	for (i = 0; i < nopt; i++) {
		switch (diff_rand() % 4) {
		case 0:			/* a client cookie */
			n = 8;
			break;
		case 1:			/* padding */
			n = diff_rand() % 400;
			break;
		case 2:			/* a client subnet */
			n = 7;
			break;
		default:
			n = diff_rand() % 16;
			break;
		}
		p = diff_put16(p, diff_rand() % 16);
		p = diff_put16(p, n);
		memset(p, diff_rand(), n);
		p += n;
	}
	end = p;
	if (diff_one_in(30)) {		/* an option cut short */
		if (nopt > 0 && diff_one_in(2))
			end = p - 1 - diff_rand() % 3;
		else
			end = p + 1 + diff_rand() % 3;
		*fast = 0;
	}
	diff_put16(rdlen, end - rdlen - 2);
	return (end);
}

/*
 * A query, mostly of the kind the fast path takes: *fast says whether it
 * should.  *tcp is whether it came over TCP.
 */
static size_t
diff_query(uint8_t *buf, int *fast, int *tcp)
{
	static const uint16_t	 others[] = { LDNS_RR_TYPE_MX,
				    LDNS_RR_TYPE_PTR, LDNS_RR_TYPE_TXT,
				    LDNS_RR_TYPE_ANY, LDNS_RR_TYPE_OPT };
	uint8_t			*p = buf;
	size_t			 len;
	int			 edns, k;

	*fast = 1;
	*tcp = diff_one_in(4);
	edns = diff_one_in(2);
	p = diff_put16(p, diff_rand());
	*p = diff_one_in(2) ? 0x01 : 0;			/* RD */
	if (diff_one_in(50)) {
		switch (diff_rand() % 4) {
		case 0:
			*p |= 0x02;			/* TC */
			break;
		case 1:
			*p |= 0x04;			/* AA */
			break;
		case 2:
			*p |= (1 + diff_rand() % 15) << 3;	/* opcode */
			break;
		default:
			*p |= 0x80;			/* a response */
			break;
		}
		*fast = 0;
	}
	p++;
	*p = (diff_one_in(2) ? 0x20 : 0) |		/* AD */
	    (diff_one_in(4) ? 0x10 : 0) |		/* CD */
	    (diff_one_in(20) ? 0x80 : 0);		/* RA */
	if (diff_one_in(50)) {
		*p |= diff_one_in(2) ? 0x40 : 1 + diff_rand() % 15;
		*fast = 0;				/* Z, rcode */
	}
	p++;
	p = diff_put16(p, 1);
	p = diff_put16(p, 0);
	p = diff_put16(p, 0);
	p = diff_put16(p, edns);
	k = diff_rand() % 100;
	if (k == 0) {					/* QDCOUNT 2 */
		buf[5] = 2;
		*fast = 0;
	} else if (k == 1 || k == 2) {			/* NSCOUNT 1 */
		buf[9] = 1;
		*fast = 0;
	}

	p = diff_name(p, fast);
	if (diff_one_in(10)) {
		p = diff_put16(p, others[diff_rand() % (sizeof(others) /
		    sizeof(others[0]))]);
		*fast = 0;
	} else
		p = diff_put16(p, diff_one_in(3) ? LDNS_RR_TYPE_AAAA :
		    LDNS_RR_TYPE_A);
	if (diff_one_in(50)) {
		p = diff_put16(p, LDNS_RR_CLASS_CH);
		*fast = 0;
	} else
		p = diff_put16(p, LDNS_RR_CLASS_IN);

	if (k == 3 || k == 4) {			/* an answer in a query */
		buf[7] = 1;
		p = diff_put16(p, 0xc000 | 12);
		p = diff_put16(p, LDNS_RR_TYPE_A);
		p = diff_put16(p, LDNS_RR_CLASS_IN);
		p = diff_put16(p, 0);
		p = diff_put16(p, 60);
		p = diff_put16(p, 4);
		p = diff_put16(p, 0xc000);
		p = diff_put16(p, 0x0201);
		*fast = 0;
	}
	if (edns)
		p = diff_opt(p, fast);
	if (k == 5) {					/* two OPTs */
		buf[11] = 2;
		p = diff_opt(p, fast);
		*fast = 0;
	}
	if (k == 6) {					/* trailing bytes */
		*p++ = 0;
		*fast = 0;
	}
	len = p - buf;
	if (k == 7) {					/* cut short */
		len = diff_rand() % len;
		*fast = 0;
	}
	return (len);
}

/* Both maps hold the same names, at the same addresses, of the same age. */
static void
diff_maps_alike(struct map *a, struct map *b)
{
	struct map_entry	*e, *f;

	CHECK_EQ(map_count(a), map_count(b));
	for (e = map_first(a); e != NULL; e = map_next(a, e)) {
		f = map_lookup_name(b, e->name);
		CHECK(f != NULL);
		if (f == NULL)
			continue;
		CHECK_EQ(f->addr, e->addr);
		CHECK_EQ(f->answered, e->answered);
	}
}

static void
diff_dump(const char *what, const uint8_t *p, size_t len)
{
	size_t	i;

	fprintf(stderr, "%s:", what);
	for (i = 0; i < len; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "\n");
}

/* One query to both sides: the same outcome, byte for byte. */
static void
diff_one(struct diff_pair *dp, const uint8_t *buf, size_t len, int tcp,
    time_t now, int fast, struct diff_stats *st)
{
	struct answer	 a, b;
	ldns_pkt	*r = NULL;
	int		 same;

	answer_fastpath_enabled = 1;
	answer_query(dp->fast, &dp->conf, NULL, buf, len, tcp, 0, now, &a);
	answer_fastpath_enabled = 0;
	answer_query(dp->slow, &dp->conf, NULL, buf, len, tcp, 0, now, &b);
	answer_fastpath_enabled = 1;

	st->total++;
	CHECK_EQ(a.fast, fast);
	CHECK_EQ(b.fast, 0);
	CHECK_EQ(a.action, b.action);
	same = a.action == b.action;
	if (a.action == ANSWER_REPLY && b.action == ANSWER_REPLY) {
		CHECK_EQ(a.len, b.len);
		same = a.len == b.len && memcmp(a.wire, b.wire, a.len) == 0;
		CHECK(same);
		CHECK(a.len <= a.limit);
		/* The reply is one ldns reads back. */
		if (a.fast) {
			CHECK(ldns_wire2pkt(&r, a.wire, a.len) ==
			    LDNS_STATUS_OK);
			ldns_pkt_free(r);
		}
	}
	CHECK_EQ(a.rcode, b.rcode);
	CHECK_EQ(a.qtype, b.qtype);
	CHECK_EQ(a.full, b.full);
	CHECK_EQ(a.limit, b.limit);
	CHECK(strcmp(a.name, b.name) == 0);
	CHECK(strcmp(a.result, b.result) == 0);
	if (!same || strcmp(a.name, b.name) != 0 ||
	    strcmp(a.result, b.result) != 0) {
		fprintf(stderr, "query %d (%zu bytes, tcp %d): %s / %s, "
		    "%s / %s\n", st->total, len, tcp, a.name, b.name,
		    a.result, b.result);
		diff_dump("query", buf, len);
		if (a.action == ANSWER_REPLY)
			diff_dump("fast", a.wire, a.len);
		if (b.action == ANSWER_REPLY)
			diff_dump("ldns", b.wire, b.len);
	}

	if (a.fast) {
		st->fast++;
		if (a.full)
			st->full++;
		if (a.rcode == LDNS_RCODE_REFUSED)
			st->refused++;
		if (a.rcode == LDNS_RCODE_SERVFAIL)
			st->servfail++;
		if (a.action == ANSWER_REPLY && a.wire[7] == 1)
			st->answered++;
		if (a.action == ANSWER_REPLY && a.wire[11] == 1)
			st->edns++;
	}
	if (a.action == ANSWER_REPLY) {
		st->replies++;
		free(a.wire);
	}
	if (b.action == ANSWER_REPLY)
		free(b.wire);
	if (a.action == ANSWER_FORWARD)
		ldns_pkt_free(a.query);
	if (b.action == ANSWER_FORWARD)
		ldns_pkt_free(b.query);
}

static int
diff_open(struct diff_pair *dp, const char *tag, uint32_t first,
    uint32_t last)
{
	char	path[128], err[256];

	snprintf(path, sizeof(path), "%s/%s-fast.tdb", tdir, tag);
	dp->fast = map_open(path, first, last, NULL, NULL, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/%s-slow.tdb", tdir, tag);
	dp->slow = map_open(path, first, last, NULL, NULL, err, sizeof(err));
	CHECK(dp->fast != NULL && dp->slow != NULL);
	return (dp->fast != NULL && dp->slow != NULL ? 0 : -1);
}

/* A rule of one action on a table of one pattern. */
static void
rule_add(struct ruleset *rs, int action, const char *pattern)
{
	struct rule	r;
	int		t;

	memset(&r, 0, sizeof(r));
	t = ruleset_table(rs, "", "test:1");
	CHECK(t != -1 &&
	    ruleset_source(rs, t, SOURCE_NAME, pattern, "test:1") == 0);
	r.action = action;
	r.block = BLOCK_NXDOMAIN;
	r.table = t;
	r.from_any = 1;
	r.route.action = action;
	CHECK(ruleset_rule(rs, &r) == 0);
}

/*
 * The rules decide A and AAAA on the ldns path as on the fast path: a
 * blocked name gets NXDOMAIN and no address, a passed one is forwarded.
 */
static void
test_rules(void)
{
	struct ruleset	*rs;
	struct answer	 a;
	ldns_pkt	*q;
	uint8_t		*wire;
	size_t		 len, before;
	int		 fast, i;

	CHECK((rs = ruleset_new()) != NULL);
	rule_add(rs, RULE_BLOCK, "blocked.test");
	rule_add(rs, RULE_PASS, "passed.test");
	CHECK(ruleset_load(rs) == 0);
	before = map_count(tmap);
	for (fast = 1; fast >= 0; fast--) {
		answer_fastpath_enabled = fast;
		for (i = 0; i < 2; i++) {
			q = mkquery("blocked.test.", i == 0 ? LDNS_RR_TYPE_A :
			    LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 7, 0);
			CHECK(ldns_pkt2wire(&wire, q, &len) == LDNS_STATUS_OK);
			answer_query(tmap, &tconf, rs, wire, len, 0, 0,
			    time(NULL), &a);
			CHECK_EQ(a.action, ANSWER_REPLY);
			CHECK_EQ(a.rcode, LDNS_RCODE_NXDOMAIN);
			if (a.action == ANSWER_REPLY)
				free(a.wire);
			free(wire);
			ldns_pkt_free(q);

			q = mkquery("passed.test.", i == 0 ? LDNS_RR_TYPE_A :
			    LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 8, 0);
			CHECK(ldns_pkt2wire(&wire, q, &len) == LDNS_STATUS_OK);
			answer_query(tmap, &tconf, rs, wire, len, 0, 0,
			    time(NULL), &a);
			CHECK_EQ(a.action, ANSWER_FORWARD);
			if (a.action == ANSWER_FORWARD)
				ldns_pkt_free(a.query);
			free(wire);
			ldns_pkt_free(q);
		}
	}
	answer_fastpath_enabled = 1;
	CHECK_EQ(map_count(tmap), before);
	ruleset_free(rs);
}

/* What answer_verified() makes of a verdict, for a query asked anew. */
static void
verified(const char *name, ldns_rr_type type, int fast,
    const struct resolve_result *res, struct answer *a, ldns_pkt **r)
{
	ldns_pkt	*q;

	*r = NULL;
	answer_fastpath_enabled = fast;
	q = mkquery(name, type, LDNS_RR_CLASS_IN, 99, 1232);
	ask(q, 0, a, r);
	answer_fastpath_enabled = 1;
	ldns_pkt_free(q);
	CHECK_EQ(a->action, ANSWER_VERIFY);
	CHECK_EQ(a->fast, 0);
	if (a->action != ANSWER_VERIFY)
		return;
	/* The fast path keeps the query's bytes, the ldns path its packet. */
	if (fast)
		CHECK(a->query == NULL && a->rawlen > 0);
	else
		CHECK(a->query != NULL);
	answer_verified(tmap, &tconf, res, time(NULL), a);
	ldns_pkt_free(a->query);
	CHECK_EQ(a->action, ANSWER_REPLY);
	if (a->action == ANSWER_REPLY) {
		CHECK(ldns_wire2pkt(r, a->wire, a->len) == LDNS_STATUS_OK);
		CHECK_EQ(ldns_pkt_id(*r), 99);
		CHECK(ldns_pkt_edns(*r));
		free(a->wire);
	}
}

/*
 * With dns verify on, a new name is handed back to be resolved, on both
 * paths, and takes an address only if the upstreams say it exists; a
 * mapped name is answered at once.
 */
static void
test_verify(void)
{
	struct resolve_result	 res;
	struct answer		 a;
	ldns_pkt		*r, *q;
	ldns_rr			*soa = NULL, *rr;
	uint32_t		 addr, real = htonl(0xc0000201);
	size_t			 before;
	int			 fast;

	tconf.dns_verify = 1;
	CHECK(ldns_rr_new_frm_str(&soa, "test. 600 IN SOA ns.test. "
	    "h.test. 1 2 3 4 60", 0, NULL, NULL) == LDNS_STATUS_OK);
	before = map_count(tmap);
	for (fast = 1; fast >= 0; fast--) {
		/* NXDOMAIN, with the SOA at what is left of its TTL. */
		memset(&res, 0, sizeof(res));
		res.rcode = LDNS_RCODE_NXDOMAIN;
		res.soa = soa;
		res.ttl = 42;
		verified("nope.verify.test.", LDNS_RR_TYPE_A, fast, &res, &a,
		    &r);
		CHECK(r != NULL && ldns_pkt_get_rcode(r) ==
		    LDNS_RCODE_NXDOMAIN);
		CHECK(r != NULL && ldns_pkt_ancount(r) == 0 &&
		    ldns_pkt_nscount(r) == 1);
		if (r != NULL && ldns_pkt_nscount(r) == 1) {
			rr = ldns_rr_list_rr(ldns_pkt_authority(r), 0);
			CHECK_EQ(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
			CHECK_EQ(ldns_rr_ttl(rr), 42);
		}
		CHECK(strcmp(a.result, "NXDOMAIN") == 0);
		ldns_pkt_free(r);

		/* NODATA: NOERROR, no answer, the SOA. */
		res.rcode = LDNS_RCODE_NOERROR;
		verified("mx-only.verify.test.", LDNS_RR_TYPE_AAAA, fast, &res,
		    &a, &r);
		CHECK(r != NULL && ldns_pkt_get_rcode(r) ==
		    LDNS_RCODE_NOERROR);
		CHECK(r != NULL && ldns_pkt_ancount(r) == 0 &&
		    ldns_pkt_nscount(r) == 1);
		ldns_pkt_free(r);

		/* No upstream answered: SERVFAIL. */
		memset(&res, 0, sizeof(res));
		res.rcode = -1;
		verified("down.verify.test.", LDNS_RR_TYPE_A, fast, &res, &a,
		    &r);
		CHECK(r != NULL && ldns_pkt_get_rcode(r) ==
		    LDNS_RCODE_SERVFAIL);
		ldns_pkt_free(r);
		res.rcode = LDNS_RCODE_REFUSED;
		verified("down.verify.test.", LDNS_RR_TYPE_A, fast, &res, &a,
		    &r);
		CHECK(r != NULL && ldns_pkt_get_rcode(r) ==
		    LDNS_RCODE_SERVFAIL);
		ldns_pkt_free(r);
	}
	/* None of them took an address. */
	CHECK_EQ(map_count(tmap), before);

	/* It exists: mapped and answered as before, then from the map. */
	memset(&res, 0, sizeof(res));
	res.rcode = LDNS_RCODE_NOERROR;
	res.addrs = &real;
	res.naddrs = 1;
	res.ttl = 300;
	verified("real.verify.test.", LDNS_RR_TYPE_A, 1, &res, &a, &r);
	CHECK_EQ(a.fast, 1);			/* answered from its bytes */
	addr = r != NULL ? answer_a(r) : 0;
	CHECK(addr >= tconf.range_first && addr <= tconf.range_last);
	CHECK_EQ(map_count(tmap), before + 1);
	ldns_pkt_free(r);
	verified("real0.verify.test.", LDNS_RR_TYPE_A, 0, &res, &a, &r);
	CHECK_EQ(a.fast, 0);
	CHECK(r != NULL && answer_a(r) >= tconf.range_first &&
	    answer_a(r) <= tconf.range_last && answer_a(r) != addr);
	CHECK_EQ(map_count(tmap), before + 2);
	ldns_pkt_free(r);
	q = mkquery("real.verify.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 5,
	    0);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.action, ANSWER_REPLY);
	CHECK_EQ(a.fast, 1);
	CHECK(r != NULL && answer_a(r) == addr);
	ldns_pkt_free(r);
	ldns_pkt_free(q);

	/* IPv6 only exists too: AAAA gets its empty answer, and a mapping. */
	memset(&res, 0, sizeof(res));
	res.rcode = LDNS_RCODE_NOERROR;
	res.aaaa = 1;
	verified("six.verify.test.", LDNS_RR_TYPE_AAAA, 0, &res, &a, &r);
	CHECK(r != NULL && ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR &&
	    ldns_pkt_ancount(r) == 0 && ldns_pkt_nscount(r) == 0);
	CHECK_EQ(map_count(tmap), before + 3);
	ldns_pkt_free(r);

	ldns_rr_free(soa);
	tconf.dns_verify = 0;
}

static void
test_fastpath(void)
{
	struct diff_pair	 big, tiny, *dp;
	struct diff_stats	 st;
	uint8_t			 buf[2048];
	size_t			 len;
	time_t			 now = 1700000000;
	int			 i, fast, tcp, want = 0;

	memset(&st, 0, sizeof(st));
	big.conf = tconf;
	big.conf.ttl = 0x12345;		/* every byte of the TTL counts */
	tiny.conf = tconf;
	tiny.conf.ttl = 30;		/* addresses come free again soon */
	tiny.conf.grace_ms = 500;
	if (diff_open(&big, "big", tconf.range_first, tconf.range_last) ==
	    -1 || diff_open(&tiny, "tiny", 0xac180001,
	    0xac180000 + DIFF_TINY) == -1)
		return;

	for (i = 0; i < DIFF_QUERIES; i++) {
		len = diff_query(buf, &fast, &tcp);
		want += fast;
		dp = diff_one_in(4) ? &tiny : &big;
		diff_one(dp, buf, len, tcp, now, fast, &st);
		now += diff_rand() % 3;
	}
	diff_maps_alike(big.fast, big.slow);
	diff_maps_alike(tiny.fast, tiny.slow);
	printf("fastpath: %d queries, %d replies, %d by the fast path "
	    "(%d with an A record, %d with an OPT, %d SERVFAIL of which "
	    "%d full, %d REFUSED)\n", st.total, st.replies, st.fast,
	    st.answered, st.edns, st.servfail, st.full, st.refused);
	CHECK_EQ(st.fast, want);
	CHECK(st.fast > st.total / 2);
	CHECK(st.full > 0);
	CHECK(st.refused > 0);
	CHECK(st.edns > 0);
	map_close(big.fast);
	map_close(big.slow);
	map_close(tiny.fast);
	map_close(tiny.slow);
}

int
main(void)
{
	char	path[128], err[256];

	conf_defaults(&tconf);
	/* Names mapped at once, as before verification; test_verify() on. */
	tconf.dns_verify = 0;
	if (mkdtemp(tdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(path, sizeof(path), "%s/map.tdb", tdir);
	tmap = map_open(path, tconf.range_first, tconf.range_last, NULL, NULL,
	    err, sizeof(err));
	if (tmap == NULL) {
		fprintf(stderr, "map_open: %s\n", err);
		return (1);
	}
	test_a();
	test_aaaa_ptr();
	test_ptr_shared();
	test_forward_refuse();
	test_malformed();
	test_tsig();
	test_edns();
	test_relay();
	test_edns_v0();
	test_edns_badvers();
	test_edns_opcode();
	test_ptr_addr();
	test_full();
	test_fastpath();
	test_rules_block();
	test_rules_pass();
	test_rules_order();
	test_rules_from();
	test_rules_split();
	test_rules_fastpath();
	test_rules_kept();
	test_rules();
	test_verify();
	map_close(tmap);
	snprintf(path, sizeof(path), "rm -rf %s", tdir);
	system(path);
	return (test_done("answer"));
}
