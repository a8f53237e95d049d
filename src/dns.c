/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns.c: the dns process.  Unprivileged and chrooted in the database
 * directory, it owns the map, answers DNS queries over UDP and those
 * dns_tcp.c reads from its TCP clients, forwards what it does not answer
 * itself to the upstream resolvers, and serves the control socket.  A
 * name not in the map yet is dns_verify.c's; what the proxy asks of a
 * virtual address, dns_lookup.c's; a map shared with other gateways
 * talks to its store through store.c.  Clients outside the allowed
 * networks (prefix.c builds the table) get REFUSED and nothing else.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>

#include "answer.h"
#include "dns.h"
#include "log.h"
#include "map.h"
#include "peers.h"
#include "prefix.h"
#include "proc.h"
#include "resolve.h"
#include "rules.h"
#include "siphash.h"
#include "store.h"
#include "upstream.h"
#include "wire.h"

#define DNS_DB_FILE		DNS44_DB_FILE	/* inside the chroot */
#define DNS_SYNC_SEC		5		/* answered times to disk */
#define DNS_UDP_BATCH		32		/* datagrams per system call */
#define DNS_UDP_ROUNDS		4		/* system calls per wake-up */
#define DNS_UDP_QUERY_MAX	4096		/* larger is not a query */

#define DNS_BLOCK_SLOTS		1024		/* names whose block was told */
#define DNS_BLOCK_QUIET		600		/* seconds till told again */

static struct chan		 dns_parent;
static struct proc_start	 dns_socks;
struct event_base		*dns_base;
struct map			*dns_map;
struct ctl_stats_dns		 dns_stats;
static struct event		 dns_ev_sync;
static struct dns_listener	 dns_udp[CONF_MAX_DNS_LISTEN];
static time_t			 dns_full_warned;
static struct log_rate		 dns_rl_send;
static struct log_rate		 dns_rl_mem;
static time_t			 dns_limit_warned;
static struct msg_ifaddrs	 dns_ifaddrs;	/* the gateway's own */
static struct prefix_table	*dns_clients;	/* whom it serves */
static struct log_rate		 dns_rl_refused;
struct ruleset			*dns_rules;	/* the domain rules */
static struct rules_rx		 dns_rules_rx;
static uint16_t			 dns_rules_gen;	/* the last ruleset's */
static struct log_rate		 dns_rl_block;
static struct {
	uint64_t		 hash;
	time_t			 when;
}				 dns_blocked[DNS_BLOCK_SLOTS];
static uint8_t			 dns_block_key[SIPHASH_KEY_LEN];

/* UDP answers of the batch being read, sent together. */
static struct dns_udp_out {
	uint8_t			 wire[WIRE_UDP_MAX];
	size_t			 len;
	struct sockaddr_in	 to;
}				 dns_out[DNS_UDP_BATCH];
static int			 dns_nout;
static int			 dns_out_fd = -1;
static int			 dns_reading;	/* in dns_udp_read() */
static struct event		 dns_ev_flush;	/* answers of an event */

static void	dns_dispatch_parent(struct chan *, struct msg *);
static void	dns_alive(uint32_t);
static void	dns_dispatch_peer(struct chan *, struct msg *);
static void	dns_sig(int, short, void *);
static void	dns_sync(int, short, void *);
static void	dns_evicted(const struct map_entry *, void *);
static void	dns_udp_read(int, short, void *);
static void	dns_udp_flush(void);
static void	dns_udp_flush_ev(int, short, void *);
static void	dns_forwarded(ldns_pkt *, void *);
static void	dns_count(const struct answer *);
static void	dns_stop(void) __attribute__((__noreturn__));
static void	dns_policy(void);
static void	dns_refuse(const uint8_t *, size_t, struct dns_tcp *, int,
		    const struct sockaddr_in *);
static int	dns_rules_set(struct ruleset *);
static void	dns_block_log(const char *, const struct rule *, time_t);

void
dns_main(int foreground, int verbose)
{
	struct event	 ev_term, ev_int, ev_hup;
	struct timeval	 tv = { DNS_SYNC_SEC, 0 };
	char		 err[256];
	int		 i;

	log_init(foreground, LOG_DAEMON);
	log_procinit("dns");
	log_setverbose(verbose);
	proc_title("dns");

	proc_start_recv(PROC_PARENT_FD, &dns_socks);
	memcpy(conf, &dns_socks.conf, sizeof(*conf));
	log_setverbose(conf->verbose);
	memcpy(&dns_ifaddrs, &dns_socks.ifaddrs, sizeof(dns_ifaddrs));
	dns_policy();
	if (dns_clients == NULL)
		fatal("building the client policy");
	if (dns_socks.control == -1 || dns_socks.npeers == 0)
		fatalx("start-up without control socket or peer channel");
	arc4random_buf(dns_block_key, sizeof(dns_block_key));
	/* The lists are read before the chroot, through their descriptors. */
	if (dns_socks.rules == NULL || dns_rules_set(dns_socks.rules) == -1)
		fatalx("start-up without domain rules");

	/* Certificates are read before the chroot, whether used yet or not. */
	if (upstream_tls_load(conf->tls_ca, err, sizeof(err)) == -1)
		fatalx("dns tls-ca: %s", err);

	privdrop_child(conf->user, conf->db_dir, !conf->user_set);

	/* Inside the chroot: the database directory is "/". */
	if ((dns_map = (CONF_SHARED_MAP(conf) ? map_open_shared : map_open)(
	    DNS_DB_FILE, conf->range_first, conf->range_last, dns_evicted,
	    NULL, err, sizeof(err))) == NULL)
		fatalx("%s/%s: %s", conf->db_dir, DNS_DB_FILE, err);
	map_set_rate(dns_map, conf->new_names, conf->new_burst);
	log_info("map: %zu of %u addresses in use", map_count(dns_map),
	    map_size(dns_map));
	dns_stats.started = time(NULL);

	dns_base = event_init();
	proc_log_timer();
	signal(SIGPIPE, SIG_IGN);
	signal_set(&ev_term, SIGTERM, dns_sig, NULL);
	signal_set(&ev_int, SIGINT, dns_sig, NULL);
	signal_set(&ev_hup, SIGHUP, dns_sig, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_hup, NULL);

	chan_init(&dns_parent, PROC_PARENT_FD, MSG_RX_DNS_PARENT, "parent",
	    dns_dispatch_parent, proc_chan_lost, NULL);
	peers_init(dns_socks.peers, dns_socks.npeers, dns_dispatch_peer,
	    proc_peer_closed);
	control_init(dns_socks.control, &dns_parent);
	metrics_init(dns_socks.metrics);
	upstream_init(conf);
	if (CONF_SHARED_MAP(conf))
		store_init(dns_base, dns_map);

	for (i = 0; i < dns_socks.ndns_udp; i++) {
		dns_udp[i].fd = dns_socks.dns_udp[i];
		event_set(&dns_udp[i].ev, dns_udp[i].fd, EV_READ | EV_PERSIST,
		    dns_udp_read, NULL);
		event_add(&dns_udp[i].ev, NULL);
	}
	dns_tcp_init(dns_socks.dns_tcp, dns_socks.ndns_tcp);
	evtimer_set(&dns_ev_flush, dns_udp_flush_ev, NULL);
	evtimer_set(&dns_ev_sync, dns_sync, NULL);
	evtimer_add(&dns_ev_sync, &tv);

	log_debug("running as uid %d in %s", (int)getuid(), conf->db_dir);
	sandbox_child(ROLE_DNS);
	proc_sandbox_probe(ROLE_DNS);
	/* Every socket is watched: the parent may say the service is up. */
	dns_alive(0);
	event_dispatch();
	fatalx("event loop ended");
}

/* A clean stop: the map's answered times reach the disk. */
static void
dns_stop(void)
{
	resolve_shutdown();
	upstream_shutdown();
	if (CONF_SHARED_MAP(conf))
		store_shutdown();
	control_shutdown();
	metrics_shutdown();
	map_close(dns_map);
	exit(0);
}

static void
dns_sig(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		dns_stop();
	case SIGHUP:
		/* The parent reloads; a signal to the whole group is fine. */
		break;
	}
}

static void
dns_sync(int fd, short ev, void *arg)
{
	struct timeval	tv = { DNS_SYNC_SEC, 0 };

	(void)fd;
	(void)ev;
	(void)arg;
	if (CONF_SHARED_MAP(conf))
		store_sync(time(NULL));
	if (map_sync(dns_map) == -1)
		log_warnx("map: cannot write answered times");
	evtimer_add(&dns_ev_sync, &tv);
}

/* An address goes to another name: whatever the proxy knows is stale. */
static void
dns_evicted(const struct map_entry *e, void *arg)
{
	struct msg_lookup	ml;
	char			name[LOG_NAME_MAX];

	(void)arg;
	dns_stats.reuses++;
	log_info("map: %s gives up its address to a new name",
	    log_name(e->name, name, sizeof(name)));
	memset(&ml, 0, sizeof(ml));
	ml.addr = htonl(e->addr);
	if (peers_broadcast(MSG_EVICTED, 0, &ml, sizeof(ml)) == -1)
		fatal("sending eviction to the proxy");
	/* Before the answer giving the address to the new name leaves. */
	peers_flush(100);
}

/*
 * To the parent: the event loop turns, and how many names are mapped; id
 * is the heartbeat's it answers, 0 at start.
 */
static void
dns_alive(uint32_t id)
{
	struct msg_alive	a;

	memset(&a, 0, sizeof(a));
	a.names = (uint32_t)map_count(dns_map);
	if (chan_compose(&dns_parent, MSG_ALIVE, id, -1, &a, sizeof(a)) == -1)
		fatal("%s", __func__);
}

static void
dns_dispatch_parent(struct chan *c, struct msg *m)
{
	struct msg_log	 ml;
	struct ruleset	*rs;

	(void)c;
	switch (m->hdr.type) {
	case MSG_SHUTDOWN:
		dns_stop();
	case MSG_HEARTBEAT:
		dns_alive(m->hdr.id);
		break;
	case MSG_CONF:
		msg_get(m, conf, sizeof(*conf));
		log_setverbose(conf->verbose);
		map_set_rate(dns_map, conf->new_names, conf->new_burst);
		dns_policy();
		/* Other upstreams may know other addresses. */
		if (upstream_init(conf))
			resolve_flush();
		log_info("configuration reloaded: ttl %u, %u addresses, "
		    "dial timeout %ums", conf->ttl,
		    conf->range_last - conf->range_first + 1, conf->dial_ms);
		break;
	case MSG_CTL_OK:
	case MSG_CTL_FAIL:
		control_relay(m);
		break;
	case MSG_CTL_STATUS_INFO:
		control_status(m);
		break;
	case MSG_CTL_LOG:
		msg_get(m, &ml, sizeof(ml));
		log_setverbose(ml.verbose != 0);
		break;
	case MSG_IFADDRS:
		msg_get(m, &dns_ifaddrs, sizeof(dns_ifaddrs));
		dns_policy();
		break;
	case MSG_RULES:
	case MSG_RULES_FILE:
	case MSG_RULES_END:
		if ((rs = proc_rules_recv(&dns_rules_rx, m)) != NULL &&
		    dns_rules_set(rs) == -1)
			log_warnx("rules not reloaded, keeping the running "
			    "ones");
		break;
	default:
		fatalx("unexpected %s from the parent",
		    msg_type_name(m->hdr.type));
	}
}

static void
dns_dispatch_peer(struct chan *c, struct msg *m)
{
	struct msg_lookup	 ml;
	struct map_entry	*e;

	switch (m->hdr.type) {
	case MSG_LOOKUP:
		msg_get(m, &ml, sizeof(ml));
		dns_lookup(c, m->hdr.id, &ml, CONF_SHARED_MAP(conf));
		break;
	case MSG_IN_USE:
	case MSG_RELEASED:
		msg_get(m, &ml, sizeof(ml));
		if ((e = map_lookup_addr(dns_map, ntohl(ml.addr))) == NULL) {
			/* Flushed meanwhile: the proxy must not count on it. */
			if (m->hdr.type == MSG_IN_USE && m->hdr.id != 0 &&
			    chan_compose(c, MSG_EVICTED, m->hdr.id, -1,
			    &ml, sizeof(ml)) == -1)
				fatal("answering the proxy");
			break;
		}
		if (m->hdr.type == MSG_IN_USE)
			map_pin(dns_map, e);
		else
			map_unpin(dns_map, e);
		/* The fleet's leases: the first connection and the last. */
		if (CONF_SHARED_MAP(conf) && e->conns == (m->hdr.type ==
		    MSG_IN_USE ? 1 : 0))
			store_pin(e->addr, e->conns);
		break;
	case MSG_CTL_STATS_PROXY:
	case MSG_CTL_FAIL:
		/* Every worker's answer, as one. */
		if (!peers_merge(m) || metrics_relay(m))
			break;
		control_relay(m);
		break;
	case MSG_CTL_CONN:
	case MSG_CTL_END:
		if (peers_merge(m))
			control_relay(m);
		break;
	default:
		fatalx("unexpected %s from the proxy process",
		    msg_type_name(m->hdr.type));
	}
}

/* The store's word on an address: now in the map, or nobody's. */

/*
 * New domain rules, their lists read; the proxy forgets the decisions it
 * kept, so that new connections follow the new rules.  -1 when a list
 * could not be read: the running rules stay.
 */
static int
dns_rules_set(struct ruleset *rs)
{
	struct msg_lookup	ml;
	struct map_entry	*e;
	struct timespec		t0, t1;
	size_t			i, names = 0;
	long			ms;
	int			split;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ruleset_load(rs) == -1) {
		ruleset_free(rs);
		return (-1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ruleset_close_files(rs);
	for (i = 0; i < rs->ntables; i++)
		names += rs->tables[i].count;
	if (rs->nrules > 0 || rs->nupstreams > 0)
		log_info("rules: %zu rules, %zu split DNS lines, %zu names "
		    "in %zu tables, read in %ld.%03lds", rs->nrules,
		    rs->nupstreams, names, rs->ntables, ms / 1000, ms % 1000);
	split = rs->nupstreams > 0 ||
	    (dns_rules != NULL && dns_rules->nupstreams > 0);
	/* The verdicts kept in the map are the old rules'. */
	if (++dns_rules_gen > RULE_GEN_MAX) {
		dns_rules_gen = 1;
		for (e = dns_map != NULL ? map_first(dns_map) : NULL; e != NULL;
		    e = map_next(dns_map, e))
			e->verdict = 0;
	}
	rs->gen = dns_rules_gen;
	if (dns_rules != NULL) {
		ruleset_keep_hits(rs, dns_rules);
		ruleset_free(dns_rules);
		memset(&ml, 0, sizeof(ml));
		if (peers_broadcast(MSG_EVICTED, 0, &ml, sizeof(ml)) == -1)
			fatal("telling the proxy");
		memset(dns_blocked, 0, sizeof(dns_blocked));
	}
	dns_rules = rs;
	/* Names may be asked of other upstreams now. */
	if (split)
		resolve_flush();
	return (0);
}

/* A blocked name, told once in DNS_BLOCK_QUIET, rate-limited besides. */
static void
dns_block_log(const char *name, const struct rule *r, time_t now)
{
	uint64_t	h;
	size_t		i;
	char		norm[WIRE_NAME_MAX + 2], safe[LOG_NAME_MAX];

	/* As the map spells it: "NX.test." and "nx.test" are one name. */
	if (map_normalize(name, norm, sizeof(norm)) == 0)
		name = norm;
	h = siphash(dns_block_key, name, strlen(name));
	i = h % DNS_BLOCK_SLOTS;
	if (dns_blocked[i].hash == h &&
	    now - dns_blocked[i].when < DNS_BLOCK_QUIET)
		return;
	dns_blocked[i].hash = h;
	dns_blocked[i].when = now;
	log_rate(&dns_rl_block, LOG_INFO, "block: %s by the rule at %s",
	    log_name(name, safe, sizeof(safe)), r->where);
}

/* An answer of no address: blocked, via a proxy server, or too busy. */

/* The real addresses of both families go to the proxy, which dials. */

/*
 * UDP queries come DNS_UDP_BATCH to a recvmmsg() and their answers leave
 * together by sendmmsg(): under load the system calls, not the answers,
 * are most of the work.  Answers made later, of forwarded or verified
 * queries or of names the store placed, leave together too: those of
 * one event, by the same socket, in one sendmmsg() once it is handled.
 */
static void
dns_udp_read(int fd, short ev, void *arg)
{
	static uint8_t		 in[DNS_UDP_BATCH][DNS_UDP_QUERY_MAX];
	static struct sockaddr_in from[DNS_UDP_BATCH];
	struct mmsghdr		 msgs[DNS_UDP_BATCH];
	struct iovec		 iov[DNS_UDP_BATCH];
	int			 i, n, round;

	(void)ev;
	(void)arg;
	for (round = 0; round < DNS_UDP_ROUNDS; round++) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < DNS_UDP_BATCH; i++) {
			iov[i].iov_base = in[i];
			iov[i].iov_len = sizeof(in[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		if ((n = recvmmsg(fd, msgs, DNS_UDP_BATCH, MSG_DONTWAIT,
		    NULL)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_rate(&dns_rl_send, LOG_ERR,
				    "DNS: recvmmsg: %s", strerror(errno));
			return;
		}
		/* Answers of an earlier event first. */
		if (dns_out_fd != -1)
			dns_udp_flush();
		dns_out_fd = fd;
		dns_reading = 1;
		for (i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_namelen != sizeof(from[i]) ||
			    from[i].sin_family != AF_INET ||
			    (msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			dns_handle(in[i], msgs[i].msg_len, NULL, fd, &from[i]);
		}
		dns_reading = 0;
		dns_udp_flush();
		if (n < DNS_UDP_BATCH)
			return;
	}
}

static void
dns_udp_flush_ev(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (dns_out_fd != -1 && !dns_reading)
		dns_udp_flush();
}

/* Send the answers of one batch. */
static void
dns_udp_flush(void)
{
	struct mmsghdr	msgs[DNS_UDP_BATCH];
	struct iovec	iov[DNS_UDP_BATCH];
	int		i, done, n;

	/* What these answers give is on disk before they leave. */
	(void)map_flush(dns_map);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < dns_nout; i++) {
		iov[i].iov_base = dns_out[i].wire;
		iov[i].iov_len = dns_out[i].len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dns_out[i].to;
		msgs[i].msg_hdr.msg_namelen = sizeof(dns_out[i].to);
	}
	for (done = 0; done < dns_nout; done += n) {
		if ((n = sendmmsg(dns_out_fd, msgs + done, dns_nout - done,
		    0)) == -1) {
			/* A full buffer or a gone client: that answer is lost,
			 * as with sendto; the client asks again. */
			if (errno != EAGAIN && errno != EINTR)
				log_rate(&dns_rl_send, LOG_DEBUG,
				    "DNS: sendmmsg: %s", strerror(errno));
			n = 1;
		}
	}
	dns_nout = 0;
	dns_out_fd = -1;
}

void
dns_count_rcode(int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_NOERROR:
		dns_stats.rcodes[CTL_R_NOERROR]++;
		break;
	case LDNS_RCODE_FORMERR:
		dns_stats.rcodes[CTL_R_FORMERR]++;
		break;
	case LDNS_RCODE_SERVFAIL:
		dns_stats.rcodes[CTL_R_SERVFAIL]++;
		break;
	case LDNS_RCODE_NXDOMAIN:
		dns_stats.rcodes[CTL_R_NXDOMAIN]++;
		break;
	case LDNS_RCODE_NOTIMPL:
		dns_stats.rcodes[CTL_R_NOTIMP]++;
		break;
	case LDNS_RCODE_REFUSED:
		dns_stats.rcodes[CTL_R_REFUSED]++;
		break;
	default:
		dns_stats.rcodes[CTL_R_OTHER]++;
		break;
	}
}

static void
dns_count(const struct answer *a)
{
	if (a->action == ANSWER_DROP)
		return;
	switch (a->qtype) {
	case LDNS_RR_TYPE_A:
		dns_stats.queries[CTL_Q_A]++;
		break;
	case LDNS_RR_TYPE_AAAA:
		dns_stats.queries[CTL_Q_AAAA]++;
		break;
	case LDNS_RR_TYPE_PTR:
		dns_stats.queries[CTL_Q_PTR]++;
		break;
	default:
		dns_stats.queries[CTL_Q_OTHER]++;
		break;
	}
	if (a->full)
		dns_stats.full++;
	if (a->limited)
		dns_stats.limited++;
	if (a->action == ANSWER_FORWARD)
		dns_stats.forwarded++;
	else if (a->action != ANSWER_VERIFY)
		dns_count_rcode(a->rcode);
}

/* The client table anew; if that fails the old one stays. */
static void
dns_policy(void)
{
	struct prefix_table	*t;

	if ((t = prefix_client_table(conf, &dns_ifaddrs)) == NULL) {
		log_warn("client policy not rebuilt");
		return;
	}
	prefix_free(dns_clients);
	dns_clients = t;
}

int
dns_client_allowed(const struct sockaddr_in *client)
{
	const struct prefix_rule	*r;

	r = prefix_lookup(dns_clients, ntohl(client->sin_addr.s_addr));
	return (r != NULL && r->verdict == PREFIX_ALLOW);
}

/*
 * A query from a client outside the allowed networks: REFUSED, counted,
 * and a journal line at most once a second.  The map is not touched, so
 * neither an address nor a PTR answer reaches it.
 */
static void
dns_refuse(const uint8_t *buf, size_t len, struct dns_tcp *tcp, int udp_fd,
    const struct sockaddr_in *client)
{
	struct answer	 a;
	char		 from[32];

	dns_stats.refused_clients++;
	conf_fmt_addr(client, from, sizeof(from));
	log_rate(&dns_rl_refused, LOG_NOTICE, "DNS %s: client not in the "
	    "allowed networks; REFUSED", from);
	answer_refuse(conf, buf, len, tcp != NULL, &a);
	dns_count(&a);
	if (a.action != ANSWER_REPLY)
		return;
	dns_send(tcp, udp_fd, client, a.wire, a.len);
	free(a.wire);
}

/*
 * One query from anywhere: answered here, forwarded, or ignored.  A TCP
 * client that sent something no resolver sends is told to go: it gets
 * no second try on the same connection.
 */
enum dns_next
dns_handle(const uint8_t *buf, size_t len, struct dns_tcp *tcp, int udp_fd,
    const struct sockaddr_in *client)
{
	struct answer		 a;
	struct dns_query	*q;
	char			 from[32], type[16], name[LOG_NAME_MAX];
	time_t			 now = time(NULL);
	struct timespec		 start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	/*
	 * A TCP client was looked up once, when it connected; it is told
	 * once and let go, so that it holds no place.
	 */
	if (tcp != NULL ? tcp->refused : !dns_client_allowed(client)) {
		dns_refuse(buf, len, tcp, udp_fd, client);
		return (tcp != NULL ? DNS_NEXT_CLOSE : DNS_NEXT_READ);
	}
	answer_query(dns_map, conf, dns_rules, buf, len, tcp != NULL,
	    ntohl(client->sin_addr.s_addr), now, &a);
	dns_count(&a);
	if (a.rule != NULL && a.rule->action == RULE_BLOCK)
		dns_block_log(a.name, a.rule, now);
	dns_warn(&a, client, now);
	/* Forwarded queries are journaled when their answer comes. */
	if (log_getverbose() && a.action == ANSWER_REPLY)
		log_debug("DNS %s ?%s %s => [%s]",
		    conf_fmt_addr(client, from, sizeof(from)),
		    answer_type_name(a.qtype, type, sizeof(type)),
		    a.name[0] != '\0' ? log_name(a.name, name, sizeof(name)) :
		    "-", a.result);

	switch (a.action) {
	case ANSWER_DROP:
		return (DNS_NEXT_DROP);
	case ANSWER_REPLY:
		dns_send(tcp, udp_fd, client, a.wire, a.len);
		free(a.wire);
		metrics_observe(&start);
		if (a.rcode == LDNS_RCODE_FORMERR ||
		    a.rcode == LDNS_RCODE_NOTIMPL)
			return (DNS_NEXT_CLOSE);
		return (DNS_NEXT_READ);
	case ANSWER_VERIFY:
		dns_verify(&a, tcp, udp_fd, client, &start);
		return (DNS_NEXT_READ);
	case ANSWER_FORWARD:
		break;
	}

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_rate(&dns_rl_mem, LOG_ERR, "DNS: %s", strerror(errno));
		ldns_pkt_free(a.query);
		return (DNS_NEXT_READ);
	}
	q->query = a.query;
	q->tcp = tcp;
	q->udp_fd = udp_fd;
	q->client = *client;
	q->limit = a.limit;
	q->pass = a.rule != NULL && a.rule->action == RULE_PASS;
	q->start = start;
	if (tcp != NULL)
		TAILQ_INSERT_TAIL(&tcp->queries, q, entry);
	q->req = upstream_query(ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(q->query), 0)),
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(q->query), 0)),
	    LDNS_RR_CLASS_IN, (ldns_pkt_edns_do(q->query) ? UPSTREAM_DO : 0) |
	    (ldns_pkt_cd(q->query) ? UPSTREAM_CD : 0),
	    ruleset_split(dns_rules, a.name), dns_forwarded, q);
	if (q->req == NULL)
		dns_forwarded(NULL, q);	/* too busy: SERVFAIL now */
	return (DNS_NEXT_READ);
}

/* A full range or a client over its rate, told now and then. */
void
dns_warn(const struct answer *a, const struct sockaddr_in *client,
    time_t now)
{
	char	from[32];

	if (a->full && now - dns_full_warned >= DNS_WARN_INTERVAL) {
		log_warnx("map: all %u addresses in use and none reusable "
		    "yet; answering SERVFAIL", map_size(dns_map));
		dns_full_warned = now;
	}
	if (a->limited && now - dns_limit_warned >= DNS_WARN_INTERVAL) {
		log_warnx("map: %s asks for new names faster than %u a "
		    "second; answering SERVFAIL", inet_ntop(AF_INET,
		    &client->sin_addr, from, sizeof(from)), conf->new_names);
		dns_limit_warned = now;
	}
}

/* The store placed the name, or could not. */

/* "rdata, rdata" of an answer section, or its rcode, for the journal. */
static void
dns_summary(const ldns_pkt *p, char *buf, size_t len)
{
	ldns_rr_list	*l;
	ldns_rdf	*rd;
	char		*s, safe[LOG_NAME_MAX];
	size_t		 i;

	buf[0] = '\0';
	if (p == NULL) {
		strlcpy(buf, "SERVFAIL", len);
		return;
	}
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR) {
		snprintf(buf, len, "rcode %d", ldns_pkt_get_rcode(p));
		return;
	}
	l = ldns_pkt_answer(p);
	for (i = 0; i < ldns_rr_list_rr_count(l) && i < 4; i++) {
		if (ldns_rr_rd_count(ldns_rr_list_rr(l, i)) == 0)
			continue;
		rd = ldns_rr_rdf(ldns_rr_list_rr(l, i),
		    ldns_rr_rd_count(ldns_rr_list_rr(l, i)) - 1);
		if ((s = ldns_rdf2str(rd)) == NULL)
			continue;
		if (i > 0)
			strlcat(buf, ", ", len);
		/* Names and text from upstream are escaped like names. */
		if (ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_A ||
		    ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_AAAA)
			strlcat(buf, s, len);
		else
			strlcat(buf, log_name(s, safe, sizeof(safe)), len);
		free(s);
	}
}

static void
dns_forwarded(ldns_pkt *answer, void *arg)
{
	struct dns_query	*q = arg;
	ldns_rr			*qrr;
	uint8_t			*wire;
	size_t			 len;
	char			 from[32], type[16], summary[256], *name;
	char			 safe[LOG_NAME_MAX];

	if (log_getverbose()) {
		qrr = ldns_rr_list_rr(ldns_pkt_question(q->query), 0);
		name = ldns_rdf2str(ldns_rr_owner(qrr));
		dns_summary(answer, summary, sizeof(summary));
		log_debug("DNS %s ?%s %s => [%s]",
		    conf_fmt_addr(&q->client, from, sizeof(from)),
		    answer_type_name(ldns_rr_get_type(qrr), type,
		    sizeof(type)), name != NULL ? log_name(name, safe,
		    sizeof(safe)) : "-", summary);
		free(name);
	}

	if (answer == NULL)
		dns_stats.upstream_failures++;
	dns_count_rcode(answer != NULL ? (int)ldns_pkt_get_rcode(answer) :
	    LDNS_RCODE_SERVFAIL);
	if (answer_relay(q->query, answer, q->pass, q->limit, &wire,
	    &len) == 0) {
		dns_send(q->tcp, q->udp_fd, &q->client, wire, len);
		free(wire);
		metrics_observe(&q->start);
	}
	if (q->tcp != NULL)
		TAILQ_REMOVE(&q->tcp->queries, q, entry);
	ldns_pkt_free(q->query);
	free(q);
}

void
dns_send(struct dns_tcp *tcp, int udp_fd, const struct sockaddr_in *client,
    const uint8_t *wire, size_t len)
{
	struct timeval	now = { 0, 0 };
	uint8_t		prefix[2];

	/* Out of a read: those of this event leave together, after it. */
	if (tcp == NULL && !dns_reading && len <= WIRE_UDP_MAX) {
		if (dns_out_fd != -1 && (udp_fd != dns_out_fd ||
		    dns_nout == DNS_UDP_BATCH))
			dns_udp_flush();
		if (dns_out_fd == -1) {
			dns_out_fd = udp_fd;
			evtimer_add(&dns_ev_flush, &now);
		}
	}
	if (tcp == NULL && udp_fd == dns_out_fd && len <= WIRE_UDP_MAX &&
	    dns_nout < DNS_UDP_BATCH) {
		memcpy(dns_out[dns_nout].wire, wire, len);
		dns_out[dns_nout].len = len;
		dns_out[dns_nout].to = *client;
		dns_nout++;
		return;
	}
	(void)map_flush(dns_map);
	if (tcp == NULL) {
		if (sendto(udp_fd, wire, len, 0,
		    (const struct sockaddr *)client, sizeof(*client)) == -1 &&
		    errno != EAGAIN)
			log_rate(&dns_rl_send, LOG_DEBUG, "DNS: sendto: %s",
			    strerror(errno));
		return;
	}
	wire_put16(prefix, len);
	bufferevent_write(tcp->bev, prefix, sizeof(prefix));
	bufferevent_write(tcp->bev, wire, len);
}
