/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * answer.c: what the dns process says to a query, decided from the packet
 * alone (and the map).  A, AAAA and PTR inside the range are answered
 * here, the common A and AAAA queries straight from their bytes; other
 * questions are handed back for forwarding, and the upstream's answer is
 * turned into the client's reply by answer_relay().  A new name is handed
 * back for verifying when the configuration asks for it, and
 * answer_verified() answers it from what the upstreams said.  Nothing a client
 * sends can make this code fail other than with an rcode.  The reply to a
 * forwarded query is answer_relay.c's.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "answer_local.h"
#include "log.h"
#include "resolve.h"
#include "rules.h"
#include "wire.h"

static int	answer_rules(struct ruleset *, struct answer *, int);
static int	answer_rules_kept(struct ruleset *, struct map_entry *,
		    struct answer *);
static int	answer_assign(struct map *, const struct dns44_conf *, time_t,
		    int, struct answer *, uint32_t *);
static int	answer_assign_entry(struct map *, const struct dns44_conf *,
		    time_t, int, const char *, struct map_entry *,
		    struct answer *, uint32_t *);
static int	answer_push(ldns_pkt *, const ldns_rr *, ldns_rr_type,
		    ldns_rdf *, uint32_t);
static void	answer_block(const struct dns44_conf *, const ldns_pkt *,
		    const ldns_rr *, struct answer *);
static int	answer_map(struct map *, const struct dns44_conf *,
		    const ldns_pkt *, const ldns_rr *, time_t, int,
		    struct answer *);

static int	answer_fast(struct map *, const struct dns44_conf *,
		    struct ruleset *, const uint8_t *, size_t, int, time_t, int,
		    struct answer *);
static void	answer_verified_ldns(struct map *, const struct dns44_conf *,
		    const struct resolve_result *, time_t, const ldns_pkt *,
		    struct answer *);

/* Off only in tests, to hold the ldns path against answer_fast(). */
int	answer_fastpath_enabled = 1;

/*
 * The largest reply allowed, from the query's OPT size if it has one, but
 * never above the configured UDP size: a large answer to a small forged
 * query would make dns44 an amplifier, and fragments get lost.
 */
static size_t
answer_size_limit(const struct dns44_conf *conf, int tcp, int edns,
    size_t size)
{
	size_t	cap = conf->udp_size;

	if (tcp)
		return (65535);
	if (cap < WIRE_UDP_MIN || cap > WIRE_UDP_MAX)
		cap = WIRE_UDP_MAX;
	if (!edns)
		return (WIRE_UDP_MIN);
	if (size < WIRE_UDP_MIN)
		size = WIRE_UDP_MIN;
	if (size > cap)
		size = cap;
	return (size);
}

static size_t
answer_limit(const struct dns44_conf *conf, const ldns_pkt *q, int tcp)
{
	return (answer_size_limit(conf, tcp, ldns_pkt_edns(q),
	    ldns_pkt_edns_udp_size(q)));
}

/*
 * A reply of only a header: for queries too broken to echo their
 * question.  The id, opcode and RD come from the raw bytes; RA is
 * defined only for a QUERY.
 */
static void
answer_header_only(const uint8_t *buf, int rcode, struct answer *a)
{
	uint8_t	*w;
	int	 ra;

	if ((w = calloc(1, WIRE_HDR_SIZE)) == NULL) {
		a->action = ANSWER_DROP;
		return;
	}
	w[0] = buf[0];
	w[1] = buf[1];
	ra = ((buf[2] >> 3) & 0x0f) == LDNS_PACKET_QUERY ? 0x80 : 0;
	w[2] = 0x80 | (buf[2] & 0x79);		/* QR, opcode, RD */
	w[3] = ra | (rcode & 0x0f);		/* RA, rcode */
	a->action = ANSWER_REPLY;
	a->wire = w;
	a->len = WIRE_HDR_SIZE;
	a->rcode = rcode;
}

/* An empty reply to q: its id, question and EDNS presence. */
ldns_pkt *
answer_reply_new(const ldns_pkt *q, int rcode)
{
	ldns_pkt	*r;

	if ((r = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, 1);
	ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_cd(r, ldns_pkt_cd(q));
	ldns_pkt_set_ra(r, 1);
	ldns_pkt_set_rcode(r, rcode);
	ldns_rr_list_deep_free(ldns_pkt_question(r));
	ldns_pkt_set_question(r, ldns_rr_list_clone(ldns_pkt_question(q)));
	ldns_pkt_set_qdcount(r, ldns_rr_list_rr_count(ldns_pkt_question(r)));
	if (ldns_pkt_edns(q)) {
		ldns_pkt_set_edns_udp_size(r, WIRE_EDNS_SIZE);
		ldns_pkt_set_edns_do(r, ldns_pkt_edns_do(q));
	}
	return (r);
}

/*
 * The reply's bytes, cut down to the header, question and OPT with TC set
 * when they do not fit in limit.
 */
int
answer_wire(ldns_pkt *r, size_t limit, uint8_t **wire, size_t *len)
{
	if (ldns_pkt2wire(wire, r, len) != LDNS_STATUS_OK)
		return (-1);
	if (*len <= limit)
		return (0);
	free(*wire);
	*wire = NULL;
	ldns_rr_list_deep_free(ldns_pkt_answer(r));
	ldns_rr_list_deep_free(ldns_pkt_authority(r));
	ldns_rr_list_deep_free(ldns_pkt_additional(r));
	ldns_pkt_set_answer(r, ldns_rr_list_new());
	ldns_pkt_set_authority(r, ldns_rr_list_new());
	ldns_pkt_set_additional(r, ldns_rr_list_new());
	ldns_pkt_set_ancount(r, 0);
	ldns_pkt_set_nscount(r, 0);
	ldns_pkt_set_arcount(r, 0);
	ldns_pkt_set_tc(r, 1);
	if (ldns_pkt2wire(wire, r, len) != LDNS_STATUS_OK)
		return (-1);
	return (0);
}

static void
answer_finish(ldns_pkt *r, struct answer *a)
{
	if (r == NULL || answer_wire(r, a->limit, &a->wire, &a->len) == -1) {
		log_warnx("cannot build a DNS reply");
		a->action = ANSWER_DROP;
	} else {
		a->action = ANSWER_REPLY;
		a->rcode = ldns_pkt_get_rcode(r) |
		    ldns_pkt_edns_extended_rcode(r) << 4;
	}
	ldns_pkt_free(r);
}

/*
 * An opcode other than QUERY: NOTIMP, with the request's opcode and RD,
 * without RA.  A request with an OPT gets one back (RFC 6891 7) and its
 * question; one that does not parse, the header alone.
 */
static void
answer_notimpl(const uint8_t *buf, size_t len, struct answer *a)
{
	ldns_pkt	*q = NULL, *r;

	if (wire_parse(&q, buf, len) == -1 ||
	    !ldns_pkt_edns(q) || ldns_pkt_qdcount(q) > 1) {
		ldns_pkt_free(q);
		answer_header_only(buf, LDNS_RCODE_NOTIMPL, a);
		return;
	}
	if ((r = answer_reply_new(q, LDNS_RCODE_NOTIMPL)) != NULL) {
		ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
		ldns_pkt_set_ra(r, 0);
		ldns_pkt_set_cd(r, 0);
	}
	ldns_pkt_free(q);
	answer_finish(r, a);
}

/*
 * A query in an EDNS version above 0: BADVERS and an OPT of version 0
 * (RFC 6891 6.1.3), whatever the question, so that the client falls back
 * to the version we speak.  Nothing is mapped, matched or forwarded.
 */
static void
answer_badvers(const ldns_pkt *q, struct answer *a)
{
	ldns_pkt	*r;

	strlcpy(a->result, "BADVERS", sizeof(a->result));
	if ((r = answer_reply_new(q, WIRE_RCODE_BADVERS & 0x0f)) != NULL)
		ldns_pkt_set_edns_extended_rcode(r, WIRE_RCODE_BADVERS >> 4);
	answer_finish(r, a);
}

/* The IPv4 address of a name under in-addr.arpa with four labels. */
int
answer_ptr_addr(const ldns_rdf *name, uint32_t *addr)
{
	const uint8_t	*p = ldns_rdf_data(name);
	size_t		 len = ldns_rdf_size(name), i, n;
	uint32_t	 a = 0, octet;
	int		 label;

	for (label = 0; label < 4; label++) {
		if (len == 0 || (n = p[0]) == 0 || n > 3 || n + 1 > len)
			return (-1);
		octet = 0;
		for (i = 1; i <= n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return (-1);
			octet = octet * 10 + (p[i] - '0');
		}
		if (octet > 255 || (n > 1 && p[1] == '0'))
			return (-1);
		a |= octet << (8 * label);
		p += n + 1;
		len -= n + 1;
	}
	if (len != sizeof("\7in-addr\4arpa") ||
	    strncasecmp((const char *)p, "\7in-addr\4arpa", len) != 0)
		return (-1);
	*addr = a;
	return (0);
}

const char *
answer_type_name(ldns_rr_type type, char *buf, size_t len)
{
	const ldns_rr_descriptor	*d;

	d = ldns_rr_descript(type);
	if (d != NULL && d->_name != NULL)
		snprintf(buf, len, "%s", d->_name);
	else
		snprintf(buf, len, "TYPE%u", (unsigned)type);
	return (buf);
}

/*
 * The mapping of the question's name, a->name in presentation form, for
 * both paths of an A or AAAA query: NOERROR with the address in *addr,
 * SERVFAIL when the map has none to give or the client makes new names
 * faster than its rate, REFUSED for the root or a name no entry could
 * hold.  a->full, a->limited and a->result are set for the journal.
 * With verify set, a name not in the map is -1, nothing changed: it is
 * to be resolved first, or placed by the store of a shared map; without,
 * a shared map's name it does not hold is SERVFAIL.
 */
static int
answer_assign(struct map *map, const struct dns44_conf *conf, time_t now,
    int verify, struct answer *a, uint32_t *addr)
{
	char	name[WIRE_NAME_MAX + 2];

	if (a->name[0] == '\0' ||
	    map_normalize(a->name, name, sizeof(name)) == -1)
		return (LDNS_RCODE_REFUSED);
	return (answer_assign_entry(map, conf, now, verify, name,
	    map_lookup_name(map, name), a, addr));
}

/*
 * answer_assign() of the normalised name, whose entry the caller looked
 * up: e, or NULL when the map has none.
 */
static int
answer_assign_entry(struct map *map, const struct dns44_conf *conf,
    time_t now, int verify, const char *name, struct map_entry *e,
    struct answer *a, uint32_t *addr)
{
	struct in_addr	in;
	uint32_t	hold_s = conf->ttl + conf->grace_ms / 1000;
	int		known;

	/* Read from a shared map's store, not yet known to be kept. */
	known = e != NULL && !map_held(e);
	if (verify && !known)
		return (-1);
	/* A shared map's new names are the store's to place, never ours. */
	if (CONF_SHARED_MAP(conf) && !known) {
		strlcpy(a->result, "SERVFAIL: map store", sizeof(a->result));
		return (LDNS_RCODE_SERVFAIL);
	}
	if (known)
		map_answer(map, e, a->client, now, hold_s);
	else if ((e = map_assign_client(map, name, a->client, now,
	    hold_s)) == NULL) {
		/* SERVFAIL, not REFUSED: a stub takes it as "try later". */
		if (errno == ENOSPC)
			a->full = 1;
		else if (errno == EAGAIN)
			a->limited = 1;
		else
			log_warn("map: %s", name);
		strlcpy(a->result, "SERVFAIL", sizeof(a->result));
		return (LDNS_RCODE_SERVFAIL);
	}
	*addr = e->addr;
	/* AAAA gets an empty answer, but the mapping is made all the same. */
	if (a->qtype == LDNS_RR_TYPE_A) {
		in.s_addr = htonl(e->addr);
		inet_ntop(AF_INET, &in, a->result, sizeof(a->result));
	}
	return (LDNS_RCODE_NOERROR);
}


/*
 * One record of the question's name, class IN, with rd as its data, into
 * r's answer section; -1 when there is no memory, rd freed either way.
 */
static int
answer_push(ldns_pkt *r, const ldns_rr *qrr, ldns_rr_type type,
    ldns_rdf *rd, uint32_t ttl)
{
	ldns_rr	*rr;

	if (rd == NULL || (rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(rd);
		return (-1);
	}
	ldns_rr_set_type(rr, type);
	ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(qrr)));
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_push_rdf(rr, rd);
	if (!ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr)) {
		ldns_rr_free(rr);
		return (-1);
	}
	return (0);
}
/* The mapping's reply; -1 for a name to verify first, a untouched. */
static int
answer_map(struct map *map, const struct dns44_conf *conf, const ldns_pkt *q,
    const ldns_rr *qrr, time_t now, int verify, struct answer *a)
{
	struct in_addr		 in;
	ldns_pkt		*r;
	uint32_t		 addr;
	int			 rcode;

	if ((rcode = answer_assign(map, conf, now, verify, a, &addr)) == -1)
		return (-1);
	if (rcode != LDNS_RCODE_NOERROR ||
	    ldns_rr_get_type(qrr) != LDNS_RR_TYPE_A) {
		answer_finish(answer_reply_new(q, rcode), a);
		return (0);
	}
	if ((r = answer_reply_new(q, rcode)) == NULL) {
		a->action = ANSWER_DROP;
		return (0);
	}
	in.s_addr = htonl(addr);
	if (answer_push(r, qrr, LDNS_RR_TYPE_A, ldns_rdf_new_frm_data(
	    LDNS_RDF_TYPE_A, sizeof(in), &in), conf->ttl) == -1) {
		ldns_pkt_free(r);
		a->action = ANSWER_DROP;
		return (0);
	}
	answer_finish(r, a);
	return (0);
}

/*
 * The reply to a query handed back as ANSWER_VERIFY, from what the
 * upstreams said of its name (a from answer_query(): its query, which the
 * caller frees, or from the fast path its bytes alone): NXDOMAIN, or
 * NODATA for a name with neither A nor AAAA records, with the upstream's
 * SOA; SERVFAIL when no upstream answered or one failed; else the name is
 * mapped and answered as any other, from the query's bytes where the fast
 * path took it.  Only the last takes an address.
 */
void
answer_verified(struct map *map, const struct dns44_conf *conf,
    const struct resolve_result *res, time_t now, struct answer *a)
{
	ldns_pkt	*q = NULL;

	a->action = ANSWER_DROP;
	if (res->rcode == LDNS_RCODE_NOERROR && (res->naddrs > 0 ||
	    res->aaaa) && a->query == NULL && a->rawlen > 0 &&
	    answer_fast(map, conf, NULL, a->raw, a->rawlen, a->tcp, now, 1,
	    a) == 0)
		return;
	if (a->query != NULL)
		answer_verified_ldns(map, conf, res, now, a->query, a);
	else if (a->rawlen > 0 &&
	    wire_parse(&q, a->raw, a->rawlen) == 0) {
		answer_verified_ldns(map, conf, res, now, q, a);
		ldns_pkt_free(q);
	}
}

static void
answer_verified_ldns(struct map *map, const struct dns44_conf *conf,
    const struct resolve_result *res, time_t now, const ldns_pkt *q,
    struct answer *a)
{
	ldns_pkt	*r;
	ldns_rr		*soa;
	int		 rcode;

	if (res->rcode == LDNS_RCODE_NOERROR && (res->naddrs > 0 ||
	    res->aaaa)) {
		answer_map(map, conf, q, ldns_rr_list_rr(ldns_pkt_question(q),
		    0), now, 0, a);
		return;
	}
	if (res->rcode == LDNS_RCODE_NXDOMAIN) {
		rcode = LDNS_RCODE_NXDOMAIN;
		strlcpy(a->result, "NXDOMAIN", sizeof(a->result));
	} else if (res->rcode == LDNS_RCODE_NOERROR) {
		rcode = LDNS_RCODE_NOERROR;
		strlcpy(a->result, "NODATA", sizeof(a->result));
	} else {
		answer_finish(answer_reply_new(q, LDNS_RCODE_SERVFAIL), a);
		strlcpy(a->result, res->rcode == -1 ? "SERVFAIL: no upstream "
		    "answered" : "SERVFAIL", sizeof(a->result));
		return;
	}
	if ((r = answer_reply_new(q, rcode)) == NULL) {
		log_warnx("cannot build a DNS reply");
		return;
	}
	/* The SOA ages in the cache as the negative answer does. */
	if (res->soa != NULL && (soa = ldns_rr_clone(res->soa)) != NULL) {
		if (res->ttl < ldns_rr_ttl(soa))
			ldns_rr_set_ttl(soa, res->ttl);
		ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, soa);
	}
	answer_finish(r, a);
}

/*
 * The name of an address of the range.  One the map has not heard of may
 * be another gateway's on a shared map: with ask, it is handed back as
 * ANSWER_VERIFY for the store to be asked (dns_verify.c).
 */
static void
answer_ptr(struct map *map, const struct dns44_conf *conf, const ldns_pkt *q,
    const ldns_rr *qrr, uint32_t addr, int ask, struct answer *a)
{
	struct map_entry	*e;
	ldns_pkt		*r;
	ldns_rdf		*target = NULL;
	char			 name[WIRE_NAME_MAX + 2];

	if ((e = map_lookup_addr(map, addr)) == NULL) {
		if (ask && CONF_SHARED_MAP(conf)) {
			a->action = ANSWER_VERIFY;
			a->ptr = addr;
			return;
		}
		strlcpy(a->result, "NXDOMAIN", sizeof(a->result));
		answer_finish(answer_reply_new(q, LDNS_RCODE_NXDOMAIN), a);
		return;
	}
	snprintf(name, sizeof(name), "%s.", e->name);
	strlcpy(a->result, name, sizeof(a->result));
	if ((r = answer_reply_new(q, LDNS_RCODE_NOERROR)) == NULL ||
	    ldns_str2rdf_dname(&target, name) != LDNS_STATUS_OK ||
	    answer_push(r, qrr, LDNS_RR_TYPE_PTR, target, conf->ttl) == -1) {
		ldns_pkt_free(r);
		a->action = ANSWER_DROP;
		return;
	}
	answer_finish(r, a);
}

/*
 * A PTR query handed back as ANSWER_VERIFY, once the store was asked who
 * holds a->ptr: the map has it now if anyone does.  known is 0 when the
 * store could not say: SERVFAIL, not a denial that may be false.
 */
void
answer_ptr_asked(struct map *map, const struct dns44_conf *conf, int known,
    struct answer *a)
{
	const ldns_rr	*qrr = ldns_rr_list_rr(ldns_pkt_question(a->query), 0);

	if (!known) {
		strlcpy(a->result, "SERVFAIL", sizeof(a->result));
		answer_finish(answer_reply_new(a->query, LDNS_RCODE_SERVFAIL),
		    a);
		return;
	}
	answer_ptr(map, conf, a->query, qrr, a->ptr, 0, a);
}

/*
 * Whether ldns prints a byte of a name as it is; answer_fast() takes only
 * names made of such bytes, so that a->name, and the map's key made from
 * it, are what ldns_rdf2str() would have given.
 */
static int
answer_plain(uint8_t c)
{
	return (c > ' ' && c < 0x7f && c != '.' && c != ';' && c != '(' &&
	    c != ')' && c != '\\');
}

/*
 * An A or AAAA query in its common form, the bulk of the dns process's
 * load, answered from its bytes without ldns.  The reply is the one
 * the ldns path builds, byte for byte: RD and CD copied, the question as
 * sent, the answer's owner a pointer to it (ldns_pkt2wire() compresses
 * it so), our own OPT when the query had one, with its DO bit; BADVERS
 * and no answer to an OPT of a version above 0.  Anything else is -1,
 * with a and the map untouched, for the ldns path: another section or a
 * trailing byte, an odd flag, a compressed or escaped name, another type
 * or class.  The caller has checked the header is there.  A new name to
 * verify first is ANSWER_VERIFY with the query's bytes in a->raw; with
 * verified set they come back once it is known to exist, the rules'
 * decision made, and the name is mapped.
 */
static int
answer_fast(struct map *map, const struct dns44_conf *conf,
    struct ruleset *rules, const uint8_t *buf, size_t len, int tcp,
    time_t now, int verified, struct answer *a)
{
	struct map_entry	*e;
	const uint8_t		*o;
	uint8_t			*w, *p;
	char			 name[WIRE_NAME_MAX + 2];
	size_t			 pos, n, i, qlen, rlen, rdlen, limit, udp = 0;
	uint32_t		 addr = 0;
	uint16_t		 qtype;
	int			 edns, dobit = 0, badvers = 0, rcode, an, norm;

	/* QR, opcode, AA, TC, Z and rcode 0; of the rest, RD and CD count. */
	if ((buf[2] & 0xfe) != 0 || (buf[3] & 0x4f) != 0)
		return (-1);
	/* One question, no answer or authority, at most an OPT. */
	if (buf[4] != 0 || buf[5] != 1 || buf[6] != 0 || buf[7] != 0 ||
	    buf[8] != 0 || buf[9] != 0 || buf[10] != 0 || buf[11] > 1)
		return (-1);
	edns = buf[11];

	/*
	 * Labels of at most 63 bytes up to the root, 255 bytes in all as
	 * ldns_wire2dname() wants.  The text is the same length as the wire
	 * form less its final zero: each label's length byte becomes a dot.
	 */
	pos = WIRE_HDR_SIZE;
	i = 0;
	while (pos < len && (n = buf[pos]) != 0) {
		if (n > WIRE_LABEL_MAX || pos + 1 + n >= len ||
		    pos + 1 + n + 1 - WIRE_HDR_SIZE > WIRE_NAME_MAX)
			return (-1);
		for (pos++; n > 0; n--, pos++) {
			if (!answer_plain(buf[pos]))
				return (-1);
			name[i++] = buf[pos];
		}
		name[i++] = '.';
	}
	if (pos >= len)
		return (-1);
	if (i == 0)
		name[i++] = '.';	/* the root */
	name[i] = '\0';
	pos++;
	if (len - pos < 4)
		return (-1);
	qtype = wire_get16(buf + pos);
	if ((qtype != LDNS_RR_TYPE_A && qtype != LDNS_RR_TYPE_AAAA) ||
	    buf[pos + 2] != 0 || buf[pos + 3] != LDNS_RR_CLASS_IN)
		return (-1);
	pos += 4;
	qlen = pos - WIRE_HDR_SIZE;

	/*
	 * The OPT: at the root, and alone to the end.  The ldns path reads
	 * nothing of it but the size, the version and DO; the extended
	 * rcode, the other flags and the options are not answered, but
	 * options must be whole.
	 */
	if (edns) {
		if (len - pos < WIRE_OPT_SIZE)
			return (-1);
		o = buf + pos;
		if (o[0] != 0 || o[1] != 0 || o[2] != LDNS_RR_TYPE_OPT)
			return (-1);
		udp = wire_get16(o + 3);
		badvers = o[6] != 0;
		dobit = o[7] & 0x80;
		rdlen = wire_get16(o + 9);
		pos += WIRE_OPT_SIZE;
		if (len - pos != rdlen)
			return (-1);
		for (o += WIRE_OPT_SIZE; rdlen > 0; o += 4 + n, rdlen -= 4 + n)
			if (rdlen < 4 || (n = wire_get16(o + 2)) > rdlen - 4)
				return (-1);
	} else if (pos != len)
		return (-1);
	limit = answer_size_limit(conf, tcp, edns, udp);

	/*
	 * At most 12 + 259 + 16 + 11 bytes: never more than the least limit,
	 * so never truncated.  Checked all the same, before the map changes.
	 */
	rlen = WIRE_HDR_SIZE + qlen + (qtype == LDNS_RR_TYPE_A ? 16 : 0) +
	    (edns ? WIRE_OPT_SIZE : 0);
	if (rlen > limit)
		return (-1);

	memcpy(a->name, name, i + 1);
	a->qtype = qtype;
	if (badvers) {
		/* Like answer_badvers(): neither the rules nor the map. */
		strlcpy(a->result, "BADVERS", sizeof(a->result));
		rcode = WIRE_RCODE_BADVERS;
		an = 0;
	} else {
		/* The name, lowercase, looked up once for the rules and map. */
		norm = map_normalize(name, name, sizeof(name)) == 0;
		e = norm ? map_lookup_name(map, name) : NULL;
		/* A name the rules pass or block is answered the long way. */
		if (!verified && answer_rules_kept(rules, e, a) != RULE_ROUTE)
			return (-1);
		/* A new name to verify: the map is not touched yet. */
		if (!norm)
			rcode = LDNS_RCODE_REFUSED;
		else if ((rcode = answer_assign_entry(map, conf, now,
		    !verified && (conf->dns_verify || CONF_SHARED_MAP(conf)),
		    name, e, a, &addr)) == -1) {
			if (len > sizeof(a->raw))
				return (-1);
			memcpy(a->raw, buf, len);
			a->rawlen = len;
			a->tcp = tcp;
			a->limit = limit;
			if (a->rule != NULL)
				a->rule->hits++;
			a->action = ANSWER_VERIFY;
			return (0);
		}
		if (!verified && a->rule != NULL)
			a->rule->hits++;
		an = rcode == LDNS_RCODE_NOERROR && qtype == LDNS_RR_TYPE_A;
	}
	a->limit = limit;
	a->fast = 1;
	rlen = WIRE_HDR_SIZE + qlen + (an ? 16 : 0) +
	    (edns ? WIRE_OPT_SIZE : 0);
	if ((w = malloc(rlen)) == NULL) {
		log_warnx("cannot build a DNS reply");
		a->action = ANSWER_DROP;
		return (0);
	}
	w[0] = buf[0];
	w[1] = buf[1];
	w[2] = 0x80 | (buf[2] & 0x01);			/* QR, RD */
	w[3] = 0x80 | (buf[3] & 0x10) | (rcode & 0x0f);	/* RA, CD, rcode */
	p = wire_put16(w + 4, 1);
	p = wire_put16(p, an);
	p = wire_put16(p, 0);
	p = wire_put16(p, edns);
	memcpy(p, buf + WIRE_HDR_SIZE, qlen);
	p += qlen;
	if (an) {
		p = wire_put16(p, 0xc000 | WIRE_HDR_SIZE);
		p = wire_put16(p, LDNS_RR_TYPE_A);
		p = wire_put16(p, LDNS_RR_CLASS_IN);
		p = wire_put32(p, conf->ttl);
		p = wire_put16(p, 4);
		p = wire_put32(p, addr);
	}
	if (edns) {
		*p++ = 0;
		p = wire_put16(p, LDNS_RR_TYPE_OPT);
		p = wire_put16(p, WIRE_EDNS_SIZE);
		/* The TTL: extended rcode, version 0, DO and no other flag. */
		p = wire_put32(p, (uint32_t)(rcode >> 4) << 24 |
		    (dobit ? WIRE_EDNS_DO : 0));
		p = wire_put16(p, 0);
	}
	a->action = ANSWER_REPLY;
	a->wire = w;
	a->len = rlen;
	a->rcode = rcode;
	return (0);
}

/*
 * Decide what to do with a query of len bytes that arrived over TCP or
 * UDP from client (host order; 0 for none, whose new names no rate
 * bounds).  Fills a; on ANSWER_REPLY a->wire must be freed, on
 * ANSWER_FORWARD and ANSWER_VERIFY a->query.
 */
void
answer_query(struct map *map, const struct dns44_conf *conf,
    struct ruleset *rules, const uint8_t *buf, size_t len, int tcp,
    uint32_t client, time_t now, struct answer *a)
{
	ldns_pkt	*q = NULL;
	ldns_rr		*qrr;
	ldns_rr_type	 type;
	uint32_t	 addr;
	char		*text;
	int		 opcode, action;

	memset(a, 0, offsetof(struct answer, raw));
	a->client = client;
	a->action = ANSWER_DROP;
	a->limit = tcp ? 65535 : WIRE_UDP_MIN;
	a->rcode = -1;

	/* Not even a header, or a response: say nothing. */
	if (len < WIRE_HDR_SIZE || (buf[2] & 0x80))
		return;
	if (answer_fastpath_enabled &&
	    answer_fast(map, conf, rules, buf, len, tcp, now, 0, a) == 0)
		return;
	opcode = (buf[2] >> 3) & 0x0f;
	if (opcode != LDNS_PACKET_QUERY) {
		answer_notimpl(buf, len, a);
		return;
	}
	if (wire_parse(&q, buf, len) == -1 ||
	    ldns_pkt_qdcount(q) != 1 ||
	    ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
		ldns_pkt_free(q);
		answer_header_only(buf, LDNS_RCODE_FORMERR, a);
		return;
	}
	a->limit = answer_limit(conf, q, tcp);
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	type = ldns_rr_get_type(qrr);
	a->qtype = type;
	if ((text = ldns_rdf2str(ldns_rr_owner(qrr))) != NULL) {
		strlcpy(a->name, text, sizeof(a->name));
		free(text);
	}

	if (ldns_pkt_edns(q) && ldns_pkt_edns_version(q) > 0)
		answer_badvers(q, a);
	else if (ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN) {
		strlcpy(a->result, "REFUSED", sizeof(a->result));
		answer_finish(answer_reply_new(q, LDNS_RCODE_REFUSED), a);
	} else if (type == LDNS_RR_TYPE_PTR &&
	    answer_ptr_addr(ldns_rr_owner(qrr), &addr) == 0 &&
	    conf_in_range(conf, addr)) {
		if (conf->dns_ptr) {
			answer_ptr(map, conf, q, qrr, addr, 1, a);
			if (a->action == ANSWER_VERIFY) {
				a->query = q;
				return;
			}
		} else {
			/* Turned off: the range has no names to look up. */
			strlcpy(a->result, "NXDOMAIN", sizeof(a->result));
			answer_finish(answer_reply_new(q, LDNS_RCODE_NXDOMAIN),
			    a);
		}
	} else if ((action = answer_rules(rules, a, 1)) == RULE_BLOCK)
		answer_block(conf, q, qrr, a);
	else if (action == RULE_ROUTE &&
	    (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA)) {
		if (answer_map(map, conf, q, qrr, now, conf->dns_verify ||
		    CONF_SHARED_MAP(conf), a) == -1) {
			/* A new name: resolved first, then answered. */
			a->action = ANSWER_VERIFY;
			a->query = q;
			return;
		}
	} else {
		/* Other types, and every type of a name the rules pass. */
		a->action = ANSWER_FORWARD;
		a->query = q;
		return;
	}
	ldns_pkt_free(q);
}

/*
 * What the rules say of the name in a->name: enum rule_action, the rule
 * kept in a->rule and, with count set, counted as a hit.
 */
static int
answer_rules(struct ruleset *rules, struct answer *a, int count)
{
	struct rule_verdict	v;

	if (rules == NULL || rules->nrules == 0)
		return (RULE_ROUTE);
	ruleset_eval(rules, a->name, a->client, a->client != 0, &v);
	a->rule = v.rule;
	if (count && v.rule != NULL)
		v.rule->hits++;
	return (v.action);
}

/*
 * answer_rules() without counting, for a name whose map entry is e (NULL
 * when it has none): a verdict to route it, whoever asks, is kept with
 * its entry, stamped with the rules' generation, and the name is not
 * matched again until the rules change.  A new name is matched each time
 * until it is in the map.
 */
static int
answer_rules_kept(struct ruleset *rules, struct map_entry *e,
    struct answer *a)
{
	struct rule_verdict	v;
	size_t			idx;

	if (rules == NULL || rules->nrules == 0)
		return (RULE_ROUTE);
	if (rules->gen == 0 || e == NULL)
		return (answer_rules(rules, a, 0));
	if (e->verdict != 0 && RULE_VERDICT_GEN(e->verdict) == rules->gen) {
		idx = RULE_VERDICT_IDX(e->verdict);
		a->rule = idx > 0 && idx <= rules->nrules ?
		    &rules->rules[idx - 1] : NULL;
		return (RULE_ROUTE);
	}
	ruleset_eval(rules, a->name, a->client, a->client != 0, &v);
	a->rule = v.rule;
	if (v.action == RULE_ROUTE && v.any_client)
		e->verdict = RULE_VERDICT(rules->gen, v.rule == NULL ? 0 :
		    (size_t)(v.rule - rules->rules) + 1);
	return (v.action);
}

/*
 * A blocked name: NXDOMAIN, REFUSED, or the unspecified address for A
 * and AAAA (and no data for other types), as its rule says.
 */
static void
answer_block(const struct dns44_conf *conf, const ldns_pkt *q,
    const ldns_rr *qrr, struct answer *a)
{
	static const uint8_t	 zero[16];
	ldns_pkt		*r;
	ldns_rr_type		 type = ldns_rr_get_type(qrr);

	switch (a->rule->block) {
	case BLOCK_REFUSED:
		strlcpy(a->result, "blocked: REFUSED", sizeof(a->result));
		answer_finish(answer_reply_new(q, LDNS_RCODE_REFUSED), a);
		return;
	case BLOCK_ZERO:
		break;
	default:
		strlcpy(a->result, "blocked: NXDOMAIN", sizeof(a->result));
		answer_finish(answer_reply_new(q, LDNS_RCODE_NXDOMAIN), a);
		return;
	}
	strlcpy(a->result, "blocked", sizeof(a->result));
	if ((r = answer_reply_new(q, LDNS_RCODE_NOERROR)) == NULL) {
		a->action = ANSWER_DROP;
		return;
	}
	if ((type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA) &&
	    answer_push(r, qrr, type, ldns_rdf_new_frm_data(type ==
	    LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
	    type == LDNS_RR_TYPE_A ? 4 : 16, zero), conf->ttl) == -1) {
		ldns_pkt_free(r);
		a->action = ANSWER_DROP;
		return;
	}
	answer_finish(r, a);
}

/*
 * REFUSED to a query from a client that is not served, nothing else: the
 * map is not looked at, nothing is forwarded.  The question is echoed
 * when the query parses, else the reply is its header only.
 */
void
answer_refuse(const struct dns44_conf *conf, const uint8_t *buf, size_t len,
    int tcp, struct answer *a)
{
	ldns_pkt	*q = NULL;

	memset(a, 0, sizeof(*a));
	a->action = ANSWER_DROP;
	a->limit = tcp ? 65535 : WIRE_UDP_MIN;
	a->rcode = -1;
	if (len < WIRE_HDR_SIZE || (buf[2] & 0x80))
		return;
	strlcpy(a->result, "REFUSED", sizeof(a->result));
	if (((buf[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY ||
	    wire_parse(&q, buf, len) == -1 ||
	    ldns_pkt_qdcount(q) != 1 ||
	    ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
		ldns_pkt_free(q);
		answer_header_only(buf, LDNS_RCODE_REFUSED, a);
		return;
	}
	a->limit = answer_limit(conf, q, tcp);
	a->qtype = ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(q), 0));
	answer_finish(answer_reply_new(q, LDNS_RCODE_REFUSED), a);
	ldns_pkt_free(q);
}
