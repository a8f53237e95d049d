/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_query.c: a packet from a client, with a map behind it: whatever
 * the bytes, answer_query() answers, forwards or stays silent, and any
 * reply it makes is a DNS message no larger than allowed.  Each input
 * also goes to the ldns path alone, against a second map kept in step
 * with the first: where the fast path answered, it must have answered
 * as the ldns path does, byte for byte.  Domain rules block (in each of
 * their ways) and pass the names under one-letter top-level domains,
 * some for one client only, which a fuzzer finds at once.  New names are
 * verified, the upstreams' verdict taken from the input's length.
 */

#include "config.h"

#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "resolve.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct map		*fmap;		/* with the fast path */
static struct map		*smap;		/* the ldns path only */
static struct dns44_conf	 fconf;
static struct ruleset		*frules;
static ldns_rr			*fsoa;

static void	fuzz_rules(void);

static struct map *
fuzz_map(void)
{
	char		 dir[] = "/tmp/dns44-fuzz.XXXXXX", path[64], err[256];
	struct map	*m;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/map.tdb", dir);
	if ((m = map_open(path, fconf.range_first, fconf.range_last, NULL,
	    NULL, err, sizeof(err))) == NULL)
		abort();
	unlink(path);
	rmdir(dir);
	return (m);
}

static void
fuzz_init(void)
{
	conf_defaults(&fconf);
	fconf.range_first = 0xac180001;		/* a /28: full soon */
	fconf.range_last = 0xac18000e;
	fmap = fuzz_map();
	smap = fuzz_map();
	fuzz_rules();
	if (ldns_rr_new_frm_str(&fsoa, "fuzz. 600 IN SOA ns.fuzz. h.fuzz. "
	    "1 2 3 4 60", 0, NULL, NULL) != LDNS_STATUS_OK)
		abort();
}

/*
 * A new name to verify: what the upstreams say of it comes from the
 * input's length, the same for both maps, so that they keep making the
 * same choices and names that exist fill the map for the fast path.
 */
static void
fuzz_verify(struct map *m, struct answer *a, size_t len, time_t now)
{
	struct resolve_result	res;
	ldns_pkt		*r = NULL;
	uint32_t		real = htonl(0xc0000201);

	memset(&res, 0, sizeof(res));
	switch (len % 5) {
	case 0:
		res.rcode = LDNS_RCODE_NXDOMAIN;
		res.soa = fsoa;
		break;
	case 1:
		res.rcode = LDNS_RCODE_NOERROR;		/* NODATA */
		res.soa = fsoa;
		break;
	case 2:
		res.rcode = -1;
		break;
	case 3:
		res.rcode = LDNS_RCODE_NOERROR;
		res.aaaa = 1;
		break;
	default:
		res.rcode = LDNS_RCODE_NOERROR;
		res.addrs = &real;
		res.naddrs = 1;
		break;
	}
	res.ttl = 30;
	answer_verified(m, &fconf, &res, now, a);
	ldns_pkt_free(a->query);
	a->query = NULL;
	if (a->action != ANSWER_REPLY)
		return;
	if (a->len > a->limit || a->len < 12 ||
	    ldns_wire2pkt(&r, a->wire, a->len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(r);
}

/* A rule of action and block kind on one table of one pattern. */
static void
fuzz_rule(int action, int block, int quick, const char *pattern,
    uint32_t from, uint8_t len)
{
	struct rule	r;
	int		t;

	memset(&r, 0, sizeof(r));
	if ((t = ruleset_table(frules, "", "fuzz:1")) == -1 ||
	    ruleset_source(frules, t, SOURCE_NAME, pattern, "fuzz:1") == -1)
		abort();
	r.action = action;
	r.block = block;
	r.quick = quick;
	r.table = t;
	r.from_any = len == 0;
	r.from_addr = from;
	r.from_len = len;
	r.route.action = action;
	if (ruleset_rule(frules, &r) == -1)
		abort();
}

static void
fuzz_rules(void)
{
	if ((frules = ruleset_new()) == NULL)
		abort();
	fuzz_rule(RULE_BLOCK, BLOCK_NXDOMAIN, 0, "a", 0, 0);
	fuzz_rule(RULE_BLOCK, BLOCK_REFUSED, 0, "b", 0, 0);
	fuzz_rule(RULE_BLOCK, BLOCK_ZERO, 0, "c", 0, 0);
	fuzz_rule(RULE_PASS, 0, 0, "d", 0, 0);
	fuzz_rule(RULE_BLOCK, BLOCK_ZERO, 1, "*.e", 0x0a000000, 8);
	fuzz_rule(RULE_PASS, 0, 0, "=x.e", 0, 0);
	if (ruleset_load(frules) == -1)
		abort();
}

static void
fuzz_free(struct answer *a)
{
	if (a->action == ANSWER_REPLY)
		free(a->wire);
	else if (a->action == ANSWER_FORWARD)
		ldns_pkt_free(a->query);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct answer	 a, s;
	ldns_pkt	*r = NULL;
	int		 tcp = len > 0 && (data[0] & 1);
	uint32_t	 client = len > 0 && (data[0] & 2) ? 0x0a000002 : 0;
	time_t		 now = 1000 + len;

	if (fmap == NULL)
		fuzz_init();
	answer_fastpath_enabled = 1;
	answer_query(fmap, &fconf, frules, data, len, tcp, client, now, &a);
	switch (a.action) {
	case ANSWER_DROP:
		break;
	case ANSWER_REPLY:
		if (a.len > a.limit || a.len < 12)
			abort();
		if (a.len > 12 &&
		    ldns_wire2pkt(&r, a.wire, a.len) != LDNS_STATUS_OK)
			abort();
		ldns_pkt_free(r);
		break;
	case ANSWER_FORWARD:
		break;
	case ANSWER_VERIFY:
		/* Its packet from the ldns path, its bytes from the fast one. */
		if (a.fast || (a.query == NULL) == (a.rawlen == 0))
			abort();
		fuzz_verify(fmap, &a, len, now);
		break;
	}

	/*
	 * Every input, not only the fast path's, goes to the second map, so
	 * that both maps make the same choices for the next input.
	 */
	answer_fastpath_enabled = 0;
	answer_query(smap, &fconf, frules, data, len, tcp, client, now, &s);
	answer_fastpath_enabled = 1;
	if (s.fast)
		abort();
	if (s.action == ANSWER_VERIFY)
		fuzz_verify(smap, &s, len, now);
	if (a.fast && (a.action != s.action || a.len != s.len ||
	    (a.action == ANSWER_REPLY && memcmp(a.wire, s.wire, a.len) != 0) ||
	    a.rcode != s.rcode || a.qtype != s.qtype || a.full != s.full ||
	    a.limit != s.limit || strcmp(a.name, s.name) != 0 ||
	    strcmp(a.result, s.result) != 0))
		abort();
	fuzz_free(&a);
	fuzz_free(&s);
	return (0);
}
