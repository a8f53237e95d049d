/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * metrics.c: the dns process's Prometheus listener and the text it serves
 * (text format 0.0.4), which dns44ctl show stats -o prometheus prints as
 * well.  The listener faces the network: GET /metrics only, few
 * connections, each with a deadline, small requests.  The proxy's
 * counters are asked for at each scrape; a scrape waits for them a
 * second at most and is answered without them after that.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "dns.h"
#include "log.h"
#include "map.h"
#include "peers.h"
#include "rules.h"
#include "store.h"
#include "upstream.h"

#define METRICS_MAX_CONNS	16	/* at once; more wait in the backlog */
#define METRICS_DEADLINE_SEC	10	/* a connection's whole life */
#define METRICS_TIMEOUT_SEC	5	/* of each read and write */
#define METRICS_MAX_HEADERS	8192
#define METRICS_MAX_BODY	1024
#define METRICS_PROXY_MS	1000	/* the proxy's counters waited for */
#define METRICS_REAP_MS		100	/* ended connections looked for */
#define METRICS_PAUSE_SEC	1	/* accept paused when out of fds */

/* Upper bounds of the answer latency buckets, in microseconds. */
static const uint64_t	metrics_bounds_us[] = {
	500, 1000, 5000, 25000, 100000, 500000, 2500000
};
#define METRICS_NBUCKETS	\
	(sizeof(metrics_bounds_us) / sizeof(metrics_bounds_us[0]))

static struct {
	uint64_t	buckets[METRICS_NBUCKETS + 1];	/* the last: +Inf */
	uint64_t	sum_us;
	uint64_t	count;
} metrics_latency;

/*
 * A connection, known by its buffer: evhttp frees that when it is done
 * with the connection, but a reference of ours keeps it (and its socket)
 * until the reaper sees that its callbacks are gone.
 */
struct metrics_conn {
	TAILQ_ENTRY(metrics_conn)	 entry;
	struct bufferevent		*bev;
	struct timespec			 deadline;
};

struct metrics_wait {
	TAILQ_ENTRY(metrics_wait)	 entry;
	struct evhttp_request		*req;
};

static struct evhttp		*metrics_http;
static struct evconnlistener	*metrics_lev;
static TAILQ_HEAD(, metrics_conn) metrics_conns =
    TAILQ_HEAD_INITIALIZER(metrics_conns);
static int			 metrics_nconns;
static struct event		 metrics_ev_reap;
static struct event		 metrics_ev_pause;
static TAILQ_HEAD(, metrics_wait) metrics_waiting =
    TAILQ_HEAD_INITIALIZER(metrics_waiting);
static int			 metrics_nwaiting;
static uint32_t			 metrics_serial;	/* 0: none asked */
static struct event		 metrics_ev_proxy;

static struct bufferevent *metrics_bev(struct event_base *, void *);
static void	metrics_reap(int, short, void *);
static void	metrics_accept_error(struct evconnlistener *, void *);
static void	metrics_resume(int, short, void *);
static void	metrics_request(struct evhttp_request *, void *);
static void	metrics_proxy_late(int, short, void *);
static void	metrics_answer(const struct ctl_stats_proxy *);
static void	metrics_head(struct evbuffer *, const char *, const char *,
		    const char *);
static void	metrics_label(struct evbuffer *, const char *);

void
metrics_init(int fd)
{
	struct evhttp_bound_socket	*bs;

	evtimer_set(&metrics_ev_proxy, metrics_proxy_late, NULL);
	evtimer_set(&metrics_ev_reap, metrics_reap, NULL);
	evtimer_set(&metrics_ev_pause, metrics_resume, NULL);
	if (fd == -1)
		return;
	if ((metrics_http = evhttp_new(dns_base)) == NULL)
		fatal("%s: evhttp_new", __func__);
	evhttp_set_timeout(metrics_http, METRICS_TIMEOUT_SEC);
	evhttp_set_max_headers_size(metrics_http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(metrics_http, METRICS_MAX_BODY);
	/* Every method reaches metrics_request, which answers 405. */
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(metrics_http, metrics_request, NULL);
	evhttp_set_bevcb(metrics_http, metrics_bev, NULL);
	if ((bs = evhttp_accept_socket_with_handle(metrics_http, fd)) == NULL)
		fatal("%s: evhttp_accept_socket", __func__);
	metrics_lev = evhttp_bound_socket_get_listener(bs);
	evconnlistener_set_error_cb(metrics_lev, metrics_accept_error);
}

/* Do not spin on a listener we cannot serve: out of fds, say. */
static void
metrics_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval	tv = { METRICS_PAUSE_SEC, 0 };

	(void)arg;
	log_warnx("metrics: accept: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(lev);
	evtimer_add(&metrics_ev_pause, &tv);
}

static void
metrics_resume(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (metrics_nconns < METRICS_MAX_CONNS)
		evconnlistener_enable(metrics_lev);
}

void
metrics_shutdown(void)
{
	struct metrics_wait	*w;
	struct metrics_conn	*mc;

	while ((w = TAILQ_FIRST(&metrics_waiting)) != NULL) {
		TAILQ_REMOVE(&metrics_waiting, w, entry);
		free(w);
	}
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
	evtimer_del(&metrics_ev_reap);
	evtimer_del(&metrics_ev_pause);
	while ((mc = TAILQ_FIRST(&metrics_conns)) != NULL) {
		TAILQ_REMOVE(&metrics_conns, mc, entry);
		bufferevent_decref(mc->bev);
		free(mc);
	}
}

/*
 * Each connection's buffer, made here so that connections are counted:
 * at the limit the listener pauses, and the kernel's backlog holds the
 * rest.
 */
static struct bufferevent *
metrics_bev(struct event_base *base, void *arg)
{
	struct metrics_conn	*mc;
	struct timeval		 tv = { 0, METRICS_REAP_MS * 1000 };

	(void)arg;
	if ((mc = calloc(1, sizeof(*mc))) == NULL)
		return (NULL);
	if ((mc->bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(mc);
		return (NULL);
	}
	bufferevent_incref(mc->bev);
	clock_gettime(CLOCK_MONOTONIC, &mc->deadline);
	mc->deadline.tv_sec += METRICS_DEADLINE_SEC;
	TAILQ_INSERT_TAIL(&metrics_conns, mc, entry);
	if (++metrics_nconns >= METRICS_MAX_CONNS) {
		log_debug("metrics: %d connections, pausing", metrics_nconns);
		evconnlistener_disable(metrics_lev);
	}
	if (!evtimer_pending(&metrics_ev_reap, NULL))
		evtimer_add(&metrics_ev_reap, &tv);
	return (mc->bev);
}

/*
 * Forget the connections evhttp has freed (their callbacks are cleared
 * then), and shut the socket of one past its deadline: evhttp sees its
 * end and frees it.
 */
static void
metrics_reap(int fd, short ev, void *arg)
{
	struct metrics_conn	*mc, *next;
	struct timeval		 tv = { 0, METRICS_REAP_MS * 1000 };
	struct timespec		 now;
	bufferevent_event_cb	 eventcb;
	int			 s;

	(void)fd;
	(void)ev;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (mc = TAILQ_FIRST(&metrics_conns); mc != NULL; mc = next) {
		next = TAILQ_NEXT(mc, entry);
		bufferevent_getcb(mc->bev, NULL, NULL, &eventcb, NULL);
		if (eventcb == NULL) {
			TAILQ_REMOVE(&metrics_conns, mc, entry);
			bufferevent_decref(mc->bev);
			free(mc);
			if (metrics_nconns-- == METRICS_MAX_CONNS &&
			    !evtimer_pending(&metrics_ev_pause, NULL))
				evconnlistener_enable(metrics_lev);
		} else if (now.tv_sec > mc->deadline.tv_sec ||
		    (now.tv_sec == mc->deadline.tv_sec &&
		    now.tv_nsec >= mc->deadline.tv_nsec)) {
			log_debug("metrics: a connection past its deadline, "
			    "cut");
			if ((s = bufferevent_getfd(mc->bev)) != -1)
				shutdown(s, SHUT_RDWR);
			mc->deadline.tv_sec += METRICS_DEADLINE_SEC;
		}
	}
	if (!TAILQ_EMPTY(&metrics_conns))
		evtimer_add(&metrics_ev_reap, &tv);
}

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct metrics_wait	*w;
	struct timeval		 tv = { 0, METRICS_PROXY_MS * 1000 };
	const char		*path;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	(void)arg;
	evhttp_add_header(out, "Connection", "close");
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		/* Not evhttp_send_error(), which would drop the Allow. */
		evhttp_add_header(out, "Allow", "GET, HEAD");
		evhttp_add_header(out, "Content-Type", "text/plain");
		evbuffer_add_printf(evhttp_request_get_output_buffer(req),
		    "405 method not allowed: GET or HEAD only\n");
		evhttp_send_reply(req, 405, "Method Not Allowed", NULL);
		return;
	}
	if (metrics_nwaiting >= METRICS_MAX_CONNS ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		evhttp_send_error(req, HTTP_SERVUNAVAIL, NULL);
		return;
	}
	w->req = req;
	TAILQ_INSERT_TAIL(&metrics_waiting, w, entry);
	metrics_nwaiting++;
	if (metrics_serial != 0)
		return;		/* the answer on its way serves it too */
	metrics_serial = control_serial();
	if (peers_forward(MSG_CTL_STATS, metrics_serial, NULL, 0) == -1) {
		metrics_serial = 0;
		metrics_answer(NULL);
		return;
	}
	evtimer_add(&metrics_ev_proxy, &tv);
}

static void
metrics_proxy_late(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_debug("metrics: no counters from the proxy in time");
	metrics_serial = 0;
	metrics_answer(NULL);
}

/* The proxy's answer to a scrape: 1 when it was one. */
int
metrics_relay(struct msg *m)
{
	struct ctl_stats_proxy	ps;

	if (metrics_serial == 0 || m->hdr.id != metrics_serial)
		return (0);
	metrics_serial = 0;
	evtimer_del(&metrics_ev_proxy);
	if (m->hdr.type == MSG_CTL_STATS_PROXY) {
		msg_get(m, &ps, sizeof(ps));
		metrics_answer(&ps);
	} else
		metrics_answer(NULL);
	return (1);
}

/* Every scrape waiting gets the same text. */
static void
metrics_answer(const struct ctl_stats_proxy *ps)
{
	struct metrics_wait	*w;
	struct evbuffer		*b;

	if ((b = evbuffer_new()) != NULL && metrics_text(b, ps) == -1) {
		evbuffer_free(b);
		b = NULL;
	}
	if (b == NULL)
		log_warnx("metrics: out of memory");
	while ((w = TAILQ_FIRST(&metrics_waiting)) != NULL) {
		TAILQ_REMOVE(&metrics_waiting, w, entry);
		metrics_nwaiting--;
		if (b == NULL)
			evhttp_send_error(w->req, HTTP_INTERNAL, NULL);
		else {
			evhttp_add_header(evhttp_request_get_output_headers(
			    w->req), "Content-Type",
			    "text/plain; version=0.0.4; charset=utf-8");
			evbuffer_add(evhttp_request_get_output_buffer(w->req),
			    evbuffer_pullup(b, -1), evbuffer_get_length(b));
			evhttp_send_reply(w->req, HTTP_OK, "OK", NULL);
		}
		free(w);
	}
	if (b != NULL)
		evbuffer_free(b);
}

/* The time from a query's arrival to its answer. */
void
metrics_observe(const struct timespec *start)
{
	struct timespec	now;
	uint64_t	us;
	size_t		i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (uint64_t)(now.tv_sec - start->tv_sec) * 1000000 +
	    (now.tv_nsec - start->tv_nsec) / 1000;
	for (i = 0; i < METRICS_NBUCKETS && us > metrics_bounds_us[i]; i++)
		;
	metrics_latency.buckets[i]++;
	metrics_latency.sum_us += us;
	metrics_latency.count++;
}

static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A label's value, its backslashes, quotes and newlines escaped. */
static void
metrics_label(struct evbuffer *b, const char *s)
{
	size_t	n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		evbuffer_add(b, s, n);
		s += n;
		if (*s == '\0')
			break;
		evbuffer_add_printf(b, "\\%c", *s == '\n' ? 'n' : *s);
		s++;
	}
}

static void
metrics_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	metrics_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
metrics_dns(struct evbuffer *b)
{
	static const char	*qtypes[CTL_Q_MAX] = { "A", "AAAA", "PTR",
	    "other" };
	static const char	*rcodes[CTL_R_MAX] = { "NOERROR", "FORMERR",
	    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other" };
	const struct ctl_stats_dns	*st = &dns_stats;
	uint64_t			 cum = 0;
	size_t				 i;

	metrics_head(b, "dns44_dns_queries_total", "counter",
	    "DNS queries answered or forwarded, by query type.");
	for (i = 0; i < CTL_Q_MAX; i++)
		evbuffer_add_printf(b, "dns44_dns_queries_total{qtype=\"%s\"} "
		    "%llu\n", qtypes[i], (unsigned long long)st->queries[i]);
	metrics_head(b, "dns44_dns_responses_total", "counter",
	    "DNS answers sent, by response code.");
	for (i = 0; i < CTL_R_MAX; i++)
		evbuffer_add_printf(b, "dns44_dns_responses_total"
		    "{rcode=\"%s\"} %llu\n", rcodes[i],
		    (unsigned long long)st->rcodes[i]);
	metrics_one(b, "dns44_dns_forwarded_total", "counter",
	    "DNS queries forwarded to the upstream resolvers.",
	    st->forwarded);
	metrics_one(b, "dns44_dns_upstream_failures_total", "counter",
	    "Queries no upstream resolver answered.", st->upstream_failures);
	metrics_one(b, "dns44_dns_refused_clients_total", "counter",
	    "Queries refused: the client is outside the allowed networks.",
	    st->refused_clients);
	metrics_one(b, "dns44_dns_rate_limited_total", "counter",
	    "SERVFAIL answers to clients over their rate of new names.",
	    st->limited);
	metrics_one(b, "dns44_dns_tcp_client_limit_total", "counter",
	    "DNS TCP connections refused over a client's limit.",
	    st->tcp_client_limit);

	metrics_head(b, "dns44_dns_answer_duration_seconds", "histogram",
	    "Time from a query's arrival to its answer.");
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += metrics_latency.buckets[i];
		evbuffer_add_printf(b,
		    "dns44_dns_answer_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", metrics_bounds_us[i] / 1e6,
		    (unsigned long long)cum);
	}
	cum += metrics_latency.buckets[METRICS_NBUCKETS];
	evbuffer_add_printf(b, "dns44_dns_answer_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	evbuffer_add_printf(b, "dns44_dns_answer_duration_seconds_sum %.6f\n"
	    "dns44_dns_answer_duration_seconds_count %llu\n",
	    metrics_latency.sum_us / 1e6,
	    (unsigned long long)metrics_latency.count);
}

static void
metrics_map(struct evbuffer *b)
{
	struct store_stats	 ss;
	uint64_t		 n, size, pinned;

	n = map_count(dns_map);
	size = map_size(dns_map);
	pinned = map_pinned(dns_map);
	metrics_one(b, "dns44_map_names", "gauge",
	    "Names holding a virtual address.", n);
	metrics_one(b, "dns44_map_range_addresses", "gauge",
	    "Addresses the virtual range can give.", size);
	metrics_head(b, "dns44_map_fill_ratio", "gauge",
	    "Share of the virtual range in use, 0 to 1.");
	evbuffer_add_printf(b, "dns44_map_fill_ratio %.6f\n",
	    size > 0 ? (double)n / size : 0.0);
	metrics_one(b, "dns44_map_pinned_names", "gauge",
	    "Names with open connections, which are never reused.", pinned);
	metrics_one(b, "dns44_map_clients", "gauge",
	    "Clients holding names.", map_clients(dns_map));
	metrics_one(b, "dns44_map_allocations_total", "counter",
	    "Virtual addresses given to new names.", map_assigned(dns_map));
	metrics_one(b, "dns44_map_reuses_total", "counter",
	    "Addresses taken from an old name for a new one.",
	    dns_stats.reuses);
	metrics_one(b, "dns44_map_full_total", "counter",
	    "SERVFAIL answers: the range was full and nothing reusable.",
	    dns_stats.full);
	if (!CONF_SHARED_MAP(conf))
		return;
	store_stats(&ss);
	metrics_one(b, "dns44_map_store_up", "gauge",
	    "1 while the shared map's store is reachable and read.", ss.up);
	metrics_one(b, "dns44_map_store_assigned_total", "counter",
	    "New names this gateway had the store place.", ss.assigned);
	metrics_one(b, "dns44_map_store_failures_total", "counter",
	    "Requests to the store that failed: unreachable or too slow.",
	    ss.failures);
	metrics_one(b, "dns44_map_store_outages_total", "counter",
	    "Times the link to the store was lost.", ss.outages);
}

static void
metrics_upstreams(struct evbuffer *b)
{
	static const char	*states[] = { "new", "up", "down" };
	struct upstream_info	 info[UPSTREAM_HEALTH_MAX];
	char			 a[80];
	size_t			 i, j, n;

	n = upstream_list(info, UPSTREAM_HEALTH_MAX);
	metrics_head(b, "dns44_upstream_state", "gauge",
	    "1 for the state each upstream resolver is in.");
	for (i = 0; i < n; i++)
		for (j = 0; j < 3; j++)
			evbuffer_add_printf(b, "dns44_upstream_state"
			    "{upstream=\"%s\",state=\"%s\"} %d\n",
			    conf_fmt_upstream(&info[i].addr, a, sizeof(a)),
			    states[j], (int)info[i].state == (int)j);
	metrics_head(b, "dns44_upstream_rtt_seconds", "gauge",
	    "Smoothed round-trip time of each upstream resolver.");
	for (i = 0; i < n; i++)
		if (info[i].srtt_us > 0)
			evbuffer_add_printf(b, "dns44_upstream_rtt_seconds"
			    "{upstream=\"%s\"} %.6f\n", conf_fmt_upstream(
			    &info[i].addr, a, sizeof(a)),
			    info[i].srtt_us / 1e6);
	metrics_head(b, "dns44_upstream_answers_total", "counter",
	    "Answers from each upstream resolver.");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "dns44_upstream_answers_total"
		    "{upstream=\"%s\"} %llu\n", conf_fmt_upstream(&info[i].addr,
		    a, sizeof(a)), (unsigned long long)info[i].answers);
	metrics_head(b, "dns44_upstream_timeouts_total", "counter",
	    "Tries of each upstream resolver that timed out.");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "dns44_upstream_timeouts_total"
		    "{upstream=\"%s\"} %llu\n", conf_fmt_upstream(&info[i].addr,
		    a, sizeof(a)), (unsigned long long)info[i].timeouts);
}

static void
metrics_rules(struct evbuffer *b)
{
	size_t	i;

	if (dns_rules == NULL || dns_rules->nrules == 0)
		return;
	metrics_head(b, "dns44_rule_hits_total", "counter",
	    "Names each domain rule decided, since it was loaded (a reload "
	    "keeps a rule that reads the same); where is its file and line.");
	for (i = 0; i < dns_rules->nrules; i++) {
		evbuffer_add_printf(b, "dns44_rule_hits_total{rule=\"%zu\","
		    "where=\"", i + 1);
		metrics_label(b, dns_rules->rules[i].where);
		evbuffer_add_printf(b, "\"} %llu\n",
		    (unsigned long long)dns_rules->rules[i].hits);
	}
}

static void
metrics_proxy(struct evbuffer *b, const struct ctl_stats_proxy *ps)
{
	size_t			 i;

	metrics_one(b, "dns44_proxy_up", "gauge",
	    "Whether the proxy process gave its counters to this scrape.",
	    ps != NULL);
	if (ps == NULL)
		return;
	metrics_one(b, "dns44_proxy_tcp_connections", "gauge",
	    "TCP connections open.", ps->tcp_open);
	metrics_one(b, "dns44_proxy_tcp_connections_total", "counter",
	    "TCP connections relayed.", ps->tcp_total);
	metrics_one(b, "dns44_proxy_udp_sessions", "gauge",
	    "UDP sessions open.", ps->udp_open);
	metrics_one(b, "dns44_proxy_udp_sessions_total", "counter",
	    "UDP sessions relayed.", ps->udp_total);
	metrics_one(b, "dns44_proxy_udp_recycled_total", "counter",
	    "Idle UDP sessions closed to make room for a new one.",
	    ps->udp_recycled);
	metrics_one(b, "dns44_proxy_sent_bytes_total", "counter",
	    "Bytes relayed from clients to servers.", ps->bytes_sent);
	metrics_one(b, "dns44_proxy_received_bytes_total", "counter",
	    "Bytes relayed from servers to clients.", ps->bytes_received);
	metrics_one(b, "dns44_proxy_refused_clients_total", "counter",
	    "Connections and datagrams from outside the allowed networks.",
	    ps->refused_clients);
	metrics_one(b, "dns44_proxy_refused_destinations_total", "counter",
	    "Real addresses the destination policy would not dial.",
	    ps->refused_dests);
	metrics_head(b, "dns44_proxy_failures_total", "counter",
	    "Connections and sessions refused or not relayed, by reason.");
	evbuffer_add_printf(b, "dns44_proxy_failures_total{proto=\"tcp\","
	    "reason=\"client_limit\"} %llu\n",
	    (unsigned long long)ps->tcp_client_limit);
	for (i = 0; i < CTL_FAIL_MAX; i++)
		evbuffer_add_printf(b, "dns44_proxy_failures_total"
		    "{proto=\"tcp\",reason=\"%s\"} %llu\n",
		    ctl_fail_names[i], (unsigned long long)ps->tcp_fails[i]);
	evbuffer_add_printf(b, "dns44_proxy_failures_total{proto=\"udp\","
	    "reason=\"client_limit\"} %llu\n",
	    (unsigned long long)ps->udp_client_limit);
	for (i = 0; i < CTL_FAIL_MAX; i++)
		evbuffer_add_printf(b, "dns44_proxy_failures_total"
		    "{proto=\"udp\",reason=\"%s\"} %llu\n",
		    ctl_fail_names[i], (unsigned long long)ps->udp_fails[i]);
}

/*
 * The whole exposition: the dns process's counters and, when the proxy
 * gave them, the proxy's.  -1 when memory ran out.
 */
int
metrics_text(struct evbuffer *b, const struct ctl_stats_proxy *ps)
{
	metrics_head(b, "dns44_start_time_seconds", "gauge",
	    "When the dns process started, seconds since the epoch.");
	evbuffer_add_printf(b, "dns44_start_time_seconds %lld\n",
	    (long long)dns_stats.started);
	metrics_dns(b);
	metrics_map(b);
	metrics_upstreams(b);
	metrics_rules(b);
	metrics_proxy(b, ps);
	/* evbuffer_add_printf fails only for want of memory. */
	return (evbuffer_get_length(b) > 0 ? 0 : -1);
}
