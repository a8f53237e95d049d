/*
 * answertest.c: DNS answers built from packets (src/answer.c), with a map
 * in a temporary directory behind them: what each kind of query gets,
 * what broken packets get, EDNS sizes and truncation, and the relayed
 * upstream answers with their address hints and addresses removed.
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
	answer_query(tmap, &tconf, wire, len, tcp, time(NULL), a);
	free(wire);
	if (a->action == ANSWER_REPLY) {
		CHECK(ldns_wire2pkt(reply, a->wire, a->len) == LDNS_STATUS_OK);
		free(a->wire);
	}
}

static void
ask_raw(const uint8_t *buf, size_t len, struct answer *a)
{
	answer_query(tmap, &tconf, buf, len, 0, time(NULL), a);
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
	CHECK(r != NULL && ldns_pkt_edns_udp_size(r) == ANSWER_EDNS_SIZE);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	q = mkquery("edns.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 20, 100);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, ANSWER_UDP_MIN);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	q = mkquery("edns.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 20, 65000);
	ask(q, 0, &a, &r);
	CHECK_EQ(a.limit, ANSWER_UDP_MAX);
	ldns_pkt_free(r);
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

int
main(void)
{
	char	path[128], err[256];

	conf_defaults(&tconf);
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
	map_close(tmap);
	snprintf(path, sizeof(path), "rm -rf %s", tdir);
	system(path);
	return (test_done("answer"));
}
