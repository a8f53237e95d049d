/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * show.c: dns44ctl's output, in text or (-j) JSON: a mapping, a
 * connection, the counters with the upstreams' table between them, the
 * status, a rule and a name tested against the rules.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns44.h"
#include "log.h"
#include "msg.h"
#include "dns44ctl.h"

#define CTL_UPSTREAMS_MAX	256	/* shown at most */

/* The upstreams' table, which comes between the two sets of counters. */
static struct ctl_upstream	ups[CTL_UPSTREAMS_MAX];
static size_t			nups;

/* An upstream for the table; those past CTL_UPSTREAMS_MAX are left out. */
void
show_upstream_add(const struct ctl_upstream *u)
{
	if (nups < CTL_UPSTREAMS_MAX)
		ups[nups++] = *u;
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return ("never");
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (buf);
}

/* What a listing has shown so far, for the punctuation. */
size_t		nshown;

void
show_entry(const struct ctl_map_entry *e)
{
	struct in_addr	in;
	char		addr[INET_ADDRSTRLEN], buf[32], name[LOG_NAME_MAX];
	const char	*when;

	in.s_addr = e->addr;
	inet_ntop(AF_INET, &in, addr, sizeof(addr));
	when = fmt_time(e->answered, buf, sizeof(buf));
	if (jflag) {
		printf("%s\n  {\"domain\": ", nshown > 0 ? "," : "");
		json_string(e->name);
		printf(", \"address\": \"%s\", \"answered\": ", addr);
		if (e->answered == 0)
			printf("null");
		else
			printf("\"%s\"", when);
		printf(", \"in_use\": %s}", e->conns > 0 ? "true" : "false");
	} else {
		if (nshown == 0)
			printf("%-40s %-15s %-20s %s\n", "DOMAIN", "ADDRESS",
			    "LAST ANSWERED", "IN USE");
		/* One line a mapping, however the name is spelt. */
		printf("%-40s %-15s %-20s %s\n",
		    log_name(e->name, name, sizeof(name)), addr, when,
		    e->conns > 0 ? "yes" : "no");
	}
	nshown++;
}

void
show_conn(const struct ctl_conn *c)
{
	struct in_addr	in;
	char		client[32], virt[32], real[INET6_ADDRSTRLEN + 8];
	char		a[INET6_ADDRSTRLEN], name[LOG_NAME_MAX];
	const char	*proto = c->proto == IPPROTO_UDP ? "udp" : "tcp";

	in.s_addr = c->client;
	snprintf(client, sizeof(client), "%s:%u",
	    inet_ntop(AF_INET, &in, a, sizeof(a)), c->client_port);
	in.s_addr = c->virt;
	snprintf(virt, sizeof(virt), "%s:%u",
	    inet_ntop(AF_INET, &in, a, sizeof(a)), c->virt_port);
	/* IPv6 in brackets, as a URL has it; "-" when not dialled yet. */
	in.s_addr = c->real;
	if (c->real_family == AF_INET6)
		snprintf(real, sizeof(real), "[%s]:%u", inet_ntop(AF_INET6,
		    &c->real6, a, sizeof(a)), c->real_port);
	else if (c->real_family == AF_INET)
		snprintf(real, sizeof(real), "%s:%u",
		    inet_ntop(AF_INET, &in, a, sizeof(a)), c->real_port);
	else
		strlcpy(real, "-", sizeof(real));
	if (jflag) {
		printf("%s\n  {\"proto\": \"%s\", \"client\": \"%s\", "
		    "\"domain\": ", nshown > 0 ? "," : "", proto, client);
		json_string(c->domain);
		printf(", \"virtual\": \"%s\", \"real\": \"%s\", "
		    "\"sent\": %llu, \"received\": %llu, \"age\": %.3f}",
		    virt, real, (unsigned long long)c->sent,
		    (unsigned long long)c->received, c->age_ms / 1000.0);
	} else {
		if (nshown == 0)
			printf("%-5s %-21s %-30s %-21s %-21s %12s %12s %9s\n",
			    "PROTO", "CLIENT", "DOMAIN", "VIRTUAL", "REAL",
			    "SENT", "RECEIVED", "AGE");
		printf("%-5s %-21s %-30s %-21s %-21s %12llu %12llu %8.1fs\n",
		    proto, client, log_name(c->domain, name, sizeof(name)),
		    virt, real,
		    (unsigned long long)c->sent,
		    (unsigned long long)c->received, c->age_ms / 1000.0);
	}
	nshown++;
}

static const char *
upstream_state(const struct ctl_upstream *u)
{
	switch (u->state) {
	case CTL_UPSTREAM_UP:
		return ("up");
	case CTL_UPSTREAM_DOWN:
		return ("down");
	default:
		return ("new");
	}
}

/* Each upstream: in JSON an array member, else a table after the rest. */
static void
show_upstreams(void)
{
	char		 a[INET6_ADDRSTRLEN], addr[72], rtt[16], left[16];
	size_t		 i;

	if (jflag) {
		printf("  \"upstreams\": [");
		for (i = 0; i < nups; i++) {
			inet_ntop(ups[i].ipv6 ? AF_INET6 : AF_INET,
			    ups[i].addr, a, sizeof(a));
			printf("%s\n    {\"address\": \"%s\", \"port\": %u, "
			    "\"tls\": %s, \"state\": \"%s\", \"rtt_ms\": ",
			    i > 0 ? "," : "", a, ups[i].port,
			    ups[i].tls ? "true" : "false",
			    upstream_state(&ups[i]));
			if (ups[i].state == CTL_UPSTREAM_NEW &&
			    ups[i].rtt_us == 0)
				printf("null");
			else
				printf("%.3f", ups[i].rtt_us / 1000.0);
			printf(", \"rttvar_ms\": %.3f, \"answers\": %llu, "
			    "\"timeouts\": %llu, \"failures\": %u, "
			    "\"backoff_ms\": %u}",
			    ups[i].rttvar_us / 1000.0,
			    (unsigned long long)ups[i].answers,
			    (unsigned long long)ups[i].timeouts,
			    ups[i].fails, ups[i].backoff_ms);
		}
		printf("%s]\n", nups > 0 ? "\n  " : "");
		return;
	}
	if (nups == 0)
		return;
	printf("\n%-21s %-5s %9s %10s %10s %9s\n", "UPSTREAM", "STATE",
	    "RTT MS", "ANSWERS", "TIMEOUTS", "BACK-OFF");
	for (i = 0; i < nups; i++) {
		inet_ntop(ups[i].ipv6 ? AF_INET6 : AF_INET,
		    ups[i].addr, a, sizeof(a));
		snprintf(addr, sizeof(addr), ups[i].ipv6 ? "%s[%s]:%u" :
		    "%s%s:%u", ups[i].tls ? "tls://" : "", a, ups[i].port);
		if (ups[i].rtt_us == 0 && ups[i].answers == 0)
			strlcpy(rtt, "-", sizeof(rtt));
		else
			snprintf(rtt, sizeof(rtt), "%.1f",
			    ups[i].rtt_us / 1000.0);
		if (ups[i].backoff_ms == 0)
			/* Down and due: the next query probes it. */
			strlcpy(left, ups[i].state == CTL_UPSTREAM_DOWN ?
			    "due" : "-", sizeof(left));
		else
			snprintf(left, sizeof(left), "%.1fs",
			    ups[i].backoff_ms / 1000.0);
		printf("%-21s %-5s %9s %10llu %10llu %9s\n", addr,
		    upstream_state(&ups[i]), rtt,
		    (unsigned long long)ups[i].answers,
		    (unsigned long long)ups[i].timeouts, left);
	}
}

/* A counter of show stats: its JSON key, its text label, its value. */
struct stat_row {
	const char	*key;
	const char	*label;
	uint64_t	 v;
	int		 kind;
};
#define STAT_PLAIN	0
#define STAT_OF		1	/* text: "N of M", M the next row's */
#define STAT_JSON	2	/* JSON only */
#define STAT_SECS	3	/* signed seconds */

void
show_stats(const struct ctl_stats_dns *st, const struct ctl_stats_proxy *ps)
{
	static const char	*qnames[CTL_Q_MAX] = { "A", "AAAA", "PTR",
	    "other" };
	static const char	*rnames[CTL_R_MAX] = { "NOERROR", "FORMERR",
	    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other" };
	const struct stat_row	 rows[] = {
		{ "forwarded", "forwarded", st->forwarded, STAT_PLAIN },
		{ "upstream_failures", "upstream failures",
		    st->upstream_failures, STAT_PLAIN },
		{ "upstream_timeouts", "upstream timeouts",
		    st->upstream_timeouts, STAT_PLAIN },
		{ "store_failures", "store failures", st->store_failures,
		    STAT_PLAIN },
		{ "mappings", "mappings", st->mappings, STAT_OF },
		{ "range_size", NULL, st->range_size, STAT_JSON },
		{ "mappings_in_use", "mappings in use", st->pinned,
		    STAT_PLAIN },
		{ "reuses", "reuses", st->reuses, STAT_PLAIN },
		{ "range_full", "range full", st->full, STAT_PLAIN },
		{ "uptime", "uptime", (uint64_t)(time(NULL) - st->started),
		    STAT_SECS },
		{ "connections_open", "connections open", ps->tcp_open,
		    STAT_PLAIN },
		{ "connections_total", "connections total", ps->tcp_total,
		    STAT_PLAIN },
		{ "udp_sessions_open", "udp sessions open", ps->udp_open,
		    STAT_PLAIN },
		{ "udp_sessions_total", "udp sessions total", ps->udp_total,
		    STAT_PLAIN },
		{ "bytes_sent", "bytes sent", ps->bytes_sent, STAT_PLAIN },
		{ "bytes_received", "bytes received", ps->bytes_received,
		    STAT_PLAIN },
		{ "clients", "clients with names", st->clients, STAT_PLAIN },
		{ "new_names_limited", "new names over rate", st->limited,
		    STAT_PLAIN },
		{ "dns_tcp_client_limit", "dns tcp client limit",
		    st->tcp_client_limit, STAT_PLAIN },
		{ "connections_client_limit", "conns client limit",
		    ps->tcp_client_limit, STAT_PLAIN },
		{ "udp_sessions_client_limit", "udp client limit",
		    ps->udp_client_limit, STAT_PLAIN },
		{ "dns_refused_clients", "dns refused clients",
		    st->refused_clients, STAT_PLAIN },
		{ "proxy_refused_clients", "proxy refused clients",
		    ps->refused_clients, STAT_PLAIN },
		{ "proxy_refused_destinations", "proxy refused dests",
		    ps->refused_dests, STAT_PLAIN },
		{ "udp_sessions_recycled", "udp sessions recycled",
		    ps->udp_recycled, STAT_PLAIN },
	};
	const struct stat_row	*r;
	size_t			 i;

	if (jflag) {
		printf("{\n  \"queries\": {");
		for (i = 0; i < CTL_Q_MAX; i++)
			printf("%s\"%s\": %llu", i > 0 ? ", " : "", qnames[i],
			    (unsigned long long)st->queries[i]);
		printf("},\n  \"rcodes\": {");
		for (i = 0; i < CTL_R_MAX; i++)
			printf("%s\"%s\": %llu", i > 0 ? ", " : "", rnames[i],
			    (unsigned long long)st->rcodes[i]);
		printf("},\n");
		for (r = rows; r < rows + sizeof(rows) / sizeof(rows[0]); r++)
			if (r->kind == STAT_SECS)
				printf("  \"%s\": %lld,\n", r->key,
				    (long long)r->v);
			else
				printf("  \"%s\": %llu,\n", r->key,
				    (unsigned long long)r->v);
		printf("  \"proxy_failures\": {");
		for (i = 0; i < CTL_FAIL_MAX; i++)
			printf("%s\"%s\": {\"tcp\": %llu, \"udp\": %llu}",
			    i > 0 ? ", " : "", ctl_fail_names[i],
			    (unsigned long long)ps->tcp_fails[i],
			    (unsigned long long)ps->udp_fails[i]);
		printf("},\n");
		show_upstreams();
		printf("}\n");
		return;
	}
	for (i = 0; i < CTL_Q_MAX; i++)
		printf("queries %-13s %llu\n", qnames[i],
		    (unsigned long long)st->queries[i]);
	for (i = 0; i < CTL_R_MAX; i++)
		printf("answers %-13s %llu\n", rnames[i],
		    (unsigned long long)st->rcodes[i]);
	for (r = rows; r < rows + sizeof(rows) / sizeof(rows[0]); r++) {
		switch (r->kind) {
		case STAT_OF:
			printf("%-21s %llu of %llu\n", r->label,
			    (unsigned long long)r->v,
			    (unsigned long long)r[1].v);
			break;
		case STAT_SECS:
			printf("%-21s %llds\n", r->label, (long long)r->v);
			break;
		case STAT_PLAIN:
			printf("%-21s %llu\n", r->label,
			    (unsigned long long)r->v);
			break;
		}
	}
	/* Why connections and sessions were refused or not relayed. */
	for (i = 0; i < CTL_FAIL_MAX; i++)
		printf("failed %-14s tcp %llu udp %llu\n", ctl_fail_names[i],
		    (unsigned long long)ps->tcp_fails[i],
		    (unsigned long long)ps->udp_fails[i]);
	show_upstreams();
}

static const char *
fmt_uptime(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh %lldm", (long long)s / 86400,
		    (long long)s % 86400 / 3600, (long long)s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm %llds", (long long)s / 3600,
		    (long long)s % 3600 / 60, (long long)s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm %llds", (long long)s / 60,
		    (long long)s % 60);
	else
		snprintf(buf, len, "%llds", (long long)s);
	return (buf);
}

void
show_status(const struct ctl_status *st)
{
	static const char	*checks[] = { "off", "ok", "missing" };
	static const char	*stores[] = { "none", "up", "down" };
	const char		*check, *store;
	char			 t1[32], t2[32], up[32];

	check = st->check < CTL_CHECK_MAX ? checks[st->check] : "?";
	store = st->store < CTL_STORE_MAX ? stores[st->store] : "?";
	if (jflag) {
		printf("{\"uptime\": %lld, \"started\": \"%s\",\n",
		    (long long)(st->now - st->started),
		    fmt_time(st->started, t1, sizeof(t1)));
		printf(" \"processes\": {\"parent\": {\"pid\": %d, "
		    "\"alive\": true}, \"dns\": {\"pid\": %d, \"alive\": %s}, "
		    "\"proxy\": {\"pid\": %d, \"alive\": %s}},\n",
		    (int)st->pid, (int)st->dns_pid,
		    st->dns_pid > 0 ? "true" : "false", (int)st->proxy_pid,
		    st->proxy_pid > 0 ? "true" : "false");
		printf(" \"upstreams\": {\"up\": %u, \"down\": %u, "
		    "\"total\": %u},\n", st->upstreams_up, st->upstreams_down,
		    st->upstreams);
		printf(" \"map\": {\"names\": %llu, \"size\": %llu, "
		    "\"store\": \"%s\"},\n", (unsigned long long)st->mappings,
		    (unsigned long long)st->range_size, store);
		if (st->reload_time == 0)
			printf(" \"reload\": null,\n");
		else {
			printf(" \"reload\": {\"time\": \"%s\", \"ok\": %s, "
			    "\"error\": ", fmt_time(st->reload_time, t2,
			    sizeof(t2)), st->reload_ok ? "true" : "false");
			json_string(st->reload_error);
			printf("},\n");
		}
		printf(" \"tproxy\": {\"setup\": %s, \"check\": \"%s\", "
		    "\"checked\": ", st->setup ? "true" : "false", check);
		if (st->check_time == 0)
			printf("null");
		else
			printf("\"%s\"", fmt_time(st->check_time, t2,
			    sizeof(t2)));
		printf(", \"missing\": ");
		json_string(st->check_text);
		printf("}}\n");
		return;
	}
	printf("uptime          %s, since %s\n",
	    fmt_uptime(st->now - st->started, up, sizeof(up)),
	    fmt_time(st->started, t1, sizeof(t1)));
	printf("processes       parent %d running, dns %d %s, proxy %d %s\n",
	    (int)st->pid, (int)st->dns_pid,
	    st->dns_pid > 0 ? "running" : "gone", (int)st->proxy_pid,
	    st->proxy_pid > 0 ? "running" : "gone");
	printf("upstreams       %u of %u up, %u down\n", st->upstreams_up,
	    st->upstreams, st->upstreams_down);
	printf("map             %llu names of %llu addresses (%.1f%%)\n",
	    (unsigned long long)st->mappings,
	    (unsigned long long)st->range_size, st->range_size == 0 ? 0.0 :
	    100.0 * st->mappings / st->range_size);
	if (st->store == CTL_STORE_UP)
		printf("map store       up: shared with the other gateways\n");
	else if (st->store != CTL_STORE_NONE)
		printf("map store       %s: known names answered, new names "
		    "SERVFAIL\n", store);
	if (st->reload_time == 0)
		printf("last reload     never\n");
	else
		printf("last reload     %s, %s%s\n",
		    fmt_time(st->reload_time, t2, sizeof(t2)),
		    st->reload_ok ? "ok" : "failed: ", st->reload_ok ? "" :
		    st->reload_error);
	printf("tproxy setup    %s\n", st->setup ? "made by dns44" :
	    "not made by dns44 (tproxy setup no)");
	if (st->check == CTL_CHECK_OFF)
		printf("tproxy check    off\n");
	else if (st->check == CTL_CHECK_OK)
		printf("tproxy check    ok, at %s\n",
		    fmt_time(st->check_time, t2, sizeof(t2)));
	else
		printf("tproxy check    missing, at %s: %s\n",
		    fmt_time(st->check_time, t2, sizeof(t2)), st->check_text);
}

void
show_rule(const struct ctl_rule *r)
{
	if (jflag) {
		printf("%s\n  {\"number\": %u, \"hits\": %llu, \"where\": ",
		    nshown > 0 ? "," : "", r->number,
		    (unsigned long long)r->hits);
		json_string(r->where);
		printf(", \"rule\": ");
		json_string(r->text);
		printf("}");
	} else {
		if (nshown == 0)
			printf("%4s %10s  %s\n", "RULE", "HITS", "WHERE");
		printf("%4u %10llu  %-20s %s\n", r->number,
		    (unsigned long long)r->hits, r->where, r->text);
	}
	nshown++;
}

void
show_tested(const struct ctl_tested *t)
{
	static const char	*actions[] = { "route", "pass", "block" };
	static const char	*blocks[] = { "NXDOMAIN", "REFUSED",
				    "0.0.0.0 and ::" };
	const char		*action, *block;

	action = t->action < 3 ? actions[t->action] : "?";
	block = t->block < 3 ? blocks[t->block] : "?";
	if (jflag) {
		printf("{\"name\": ");
		json_string(t->name);
		printf(", \"action\": \"%s\", \"rule\": %u, \"where\": ",
		    action, t->number);
		json_string(t->where);
		printf(", \"text\": ");
		json_string(t->rule);
		printf(", \"route\": ");
		json_string(t->route);
		printf(", \"block\": ");
		json_string(t->action == RULE_BLOCK ? block : "");
		printf(", \"any_client\": %s, \"upstreams\": ",
		    t->any_client ? "true" : "false");
		json_string(t->upstreams);
		printf("}\n");
		return;
	}
	if (t->number == 0)
		printf("%s: no rule matches\n", t->name);
	else
		printf("%s: rule %u at %s: %s\n", t->name, t->number,
		    t->where, t->rule);
	switch (t->action) {
	case RULE_PASS:
		printf("  DNS: the upstream's answer, not mapped; "
		    "connections do not reach the proxy\n");
		break;
	case RULE_BLOCK:
		printf("  DNS: %s; connections to its virtual address are "
		    "reset\n", block);
		break;
	default:
		printf("  DNS: a virtual address; connections dialled %s\n",
		    t->route[0] != '\0' ? t->route : "directly");
		break;
	}
	if (t->upstreams[0] != '\0')
		printf("  upstreams: %s\n", t->upstreams);
	if (!t->any_client)
		printf("  (rules with from: the answer depends on the "
		    "client)\n");
}
