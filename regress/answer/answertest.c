/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * answertest.c: DNS answers built from packets (src/answer.c), with a map
 * in a temporary directory behind them: what each kind of query gets,
 * what broken packets get, EDNS sizes and truncation, and the relayed
 * upstream answers with their address hints and addresses removed.  A
 * differential test holds the fast path of A and AAAA queries to the
 * ldns path's replies, byte for byte, over many generated queries.
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
	CHECK_EQ(answer_relay(q, NULL, 512, &wire, &len), 0);
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
	CHECK_EQ(answer_relay(q, up, 512, &wire, &len), 0);
	CHECK(len <= 512);
	CHECK(ldns_wire2pkt(&r, wire, len) == LDNS_STATUS_OK);
	CHECK(ldns_pkt_tc(r));
	CHECK_EQ(ldns_pkt_ancount(r), 0);
	CHECK_EQ(ldns_pkt_id(r), 30);
	free(wire);
	ldns_pkt_free(r);
	CHECK_EQ(answer_relay(q, up, 65535, &wire, &len), 0);
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
	CHECK_EQ(answer_relay(q, up, 512, &wire, &len), 0);
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
	CHECK_EQ(answer_relay(q, up, 512, &wire, &len), 0);
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
	ldns_pkt_free(up);
	ldns_pkt_free(q);
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
	addr = r != NULL ? answer_a(r) : 0;
	CHECK(addr >= tconf.range_first && addr <= tconf.range_last);
	CHECK_EQ(map_count(tmap), before + 1);
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
	CHECK_EQ(map_count(tmap), before + 2);
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
	test_forward_refuse();
	test_malformed();
	test_edns();
	test_relay();
	test_ptr_addr();
	test_full();
	test_fastpath();
	test_rules();
	test_verify();
	map_close(tmap);
	snprintf(path, sizeof(path), "rm -rf %s", tdir);
	system(path);
	return (test_done("answer"));
}
