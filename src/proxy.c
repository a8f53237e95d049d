/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy.c: the proxy process.  Unprivileged and chrooted in an empty
 * directory, it accepts the connections and datagrams TPROXY hands to its
 * transparent listeners, asks the dns process which domain and real
 * addresses lie behind the virtual address they were sent to, and relays
 * them: TCP with splice(2) through a pipe per direction, UDP datagram by
 * datagram between a socket connected to the real server and a reply
 * socket the parent makes.
 *
 * This file owns the process's start, its signals and its channels to the
 * parent and the dns process, the descriptor budget, what every relay has
 * in common (the lists of those relaying, the idle sweep, the journal's
 * [+] and [-] lines, the totals and listings dns44ctl shows) and the
 * rate-limited log lines.  What is known of each virtual address is in
 * proxy_addr.c, the client and destination policy in proxy_dest.c, the
 * TCP connections in proxy_tcp.c, the UDP sessions in proxy_udp.c, the
 * sockets they dial with in proxy_dial.c.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prefix.h"
#include "proc.h"
#include "proxy.h"
#include "rules.h"

#define PROXY_SWEEP_MS		1000	/* idle connections looked for */
#define PROXY_FD_SLACK		16	/* beside those open at start-up */
#define PROXY_FLOW_MAX		(LOG_NAME_MAX + 96)
#define PROXY_ROUTE_MAX		160	/* rule_route_fmt()'s words */
#define PROXY_CTL_LOW		(256 * 1024)	/* a listing refills below */
#define PROXY_CTL_PENDING	64	/* control requests waiting */

/* A control request waiting for room on the channel to the dns process. */
struct proxy_ctl_req {
	TAILQ_ENTRY(proxy_ctl_req)	 entry;
	uint32_t			 type;
	uint32_t			 id;
};

TAILQ_HEAD(proxy_relay_list, proxy_relay);

static struct chan		 proxy_parent;
static struct chan		 proxy_peer;
static struct proc_start	 proxy_socks;
static struct event		 proxy_ev_sweep;
static struct event		 proxy_ev_log;	/* the journal's lines out */
/* Relaying, least active first. */
static struct proxy_relay_list	 proxy_lru_tcp =
    TAILQ_HEAD_INITIALIZER(proxy_lru_tcp);
static struct proxy_relay_list	 proxy_lru_udp =
    TAILQ_HEAD_INITIALIZER(proxy_lru_udp);
static struct ctl_stats_proxy	 proxy_stats;	/* of closed ones */
static uint64_t			 proxy_fd_max = UINT64_MAX; /* for both */
/*
 * Control requests, answered in turn.  The listing at the head is a
 * snapshot taken when its turn came, sent a chunk at a time.
 */
static TAILQ_HEAD(, proxy_ctl_req) proxy_ctl_reqs =
    TAILQ_HEAD_INITIALIZER(proxy_ctl_reqs);
static int			 proxy_ctl_nreqs;
static struct ctl_conn		*proxy_ctl_snap;
static size_t			 proxy_ctl_nsnap;
static size_t			 proxy_ctl_sent;
static struct log_rate	 proxy_ctl_rate;
static int			 proxy_stopping; /* closing all to exit */

static void	proxy_share(struct dns44_conf *);
static void	proxy_dispatch_parent(struct chan *, struct msg *);
static void	proxy_alive(uint32_t);
static void	proxy_dispatch_peer(struct chan *, struct msg *);
static void	proxy_sig(int, short, void *);
static void	proxy_nofile(void);
static void	proxy_fd_budget(void);
static const char *proxy_journal_real(const struct proxy_relay *);
static void	proxy_journal_close(const struct proxy_relay *);
static void	proxy_stop(void) __attribute__((__noreturn__));
static void	proxy_close_all(void);
static void	proxy_peer_closed(struct chan *, int)
		    __attribute__((__noreturn__));
static void	proxy_ctl_request(uint32_t, uint32_t);
static void	proxy_ctl_run(struct chan *);
static int	proxy_ctl_snapshot(void);
static int	proxy_ctl_conns(uint32_t);
static int	proxy_ctl_stats(uint32_t);
static void	proxy_sweep(int, short, void *);
static void	proxy_log_wake(void);
static void	proxy_log_flush(int, short, void *);
static struct proxy_relay_list *proxy_relay_lru(const struct proxy_relay *);

/*
 * The limits on TCP connections and UDP sessions, in all and per client,
 * are the daemon's: each of the proxy workers, among which the kernel
 * spreads them evenly, keeps its share.
 */
static void
proxy_share(struct dns44_conf *c)
{
	uint32_t	n = c->proxy_workers;

	if (n <= 1)
		return;
	c->max_conn = (c->max_conn + n - 1) / n;
	c->client_conn = (c->client_conn + n - 1) / n;
	c->max_sessions = (c->max_sessions + n - 1) / n;
	c->client_sessions = (c->client_sessions + n - 1) / n;
}

void
proxy_main(int foreground, int verbose)
{
	struct event	 ev_term, ev_int, ev_hup;
	struct timeval	 tv = { PROXY_SWEEP_MS / 1000, 0 };

	log_init(foreground, LOG_DAEMON);
	log_procinit("proxy");
	log_setverbose(verbose);
	proc_title("proxy");

	proc_start_recv(PROC_PARENT_FD, &proxy_socks);
	memcpy(conf, &proxy_socks.conf, sizeof(*conf));
	proxy_share(conf);
	log_setverbose(conf->verbose);
	if (proxy_dest_policy(&proxy_socks.ifaddrs) == -1)
		fatal("building the destination and client policy");
	/* Workers but the first have no UDP listener (dns44.c says why). */
	if (proxy_socks.proxy_tcp == -1 || proxy_socks.peer == -1)
		fatalx("start-up without proxy sockets or peer channel");

	proxy_nofile();
	proxy_udp_init();
	proxy_addr_init();
	proxy_client_init();

	privdrop_child(conf->user, conf->empty_dir, !conf->user_set);

	event_init();
	proc_log_timer();
	evtimer_set(&proxy_ev_log, proxy_log_flush, NULL);
	log_batch(proxy_log_wake);
	signal(SIGPIPE, SIG_IGN);
	signal_set(&ev_term, SIGTERM, proxy_sig, NULL);
	signal_set(&ev_int, SIGINT, proxy_sig, NULL);
	signal_set(&ev_hup, SIGHUP, proxy_sig, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_hup, NULL);

	chan_init(&proxy_parent, PROC_PARENT_FD, MSG_RX_PROXY_PARENT, "parent",
	    proxy_dispatch_parent, proc_chan_lost, NULL);
	chan_init(&proxy_peer, proxy_socks.peer, MSG_RX_PROXY_PEER, "dns",
	    proxy_dispatch_peer, proxy_peer_closed, NULL);
	proxy_peer.drained = proxy_ctl_run;

	proxy_tcp_listen(proxy_socks.proxy_tcp);
	if (proxy_socks.proxy_udp != -1)
		proxy_udp_listen(proxy_socks.proxy_udp);
	evtimer_set(&proxy_ev_sweep, proxy_sweep, NULL);
	evtimer_add(&proxy_ev_sweep, &tv);

	log_debug("running as uid %d in %s", (int)getuid(), conf->empty_dir);
	proxy_fd_budget();
	sandbox_child(ROLE_PROXY);
	proc_sandbox_probe(ROLE_PROXY);
	/* Both listeners are watched: the parent may say the service is up. */
	proxy_alive(0);
	event_dispatch();
	fatalx("event loop ended");
}

static void
proxy_sig(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		proxy_stop();
	case SIGHUP:
		break;
	}
}

/* Two descriptors a connection, more in a burst: all the kernel lets us. */
static void
proxy_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return;
	}
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit");
	else
		log_debug("open files limit raised to %llu",
		    (unsigned long long)rl.rlim_cur);
}

/*
 * Descriptors left for connections and sessions once the proxy's own are
 * counted, so that it stops accepting before it runs out: a connection
 * accepted without the descriptors to relay it would only be dropped.
 */
static void
proxy_fd_budget(void)
{
	struct rlimit	rl;
	int		fd, own = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return;
	for (fd = 0; (rlim_t)fd < rl.rlim_cur && fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			own++;
	proxy_fd_max = rl.rlim_cur > (rlim_t)own + PROXY_FD_SLACK ?
	    rl.rlim_cur - own - PROXY_FD_SLACK : 0;
	log_debug("%llu descriptors for connections and sessions",
	    (unsigned long long)proxy_fd_max);
}

/* Whether the descriptors of one more connection or session are there. */
int
proxy_fd_room(unsigned int need)
{
	uint64_t	used;

	for (;;) {
		used = (uint64_t)proxy_tcp_count() * PROXY_TCP_FDS +
		    (uint64_t)proxy_udp_fds() +
		    (uint64_t)proxy_pipe_count() * 2;
		if (used + need <= proxy_fd_max)
			return (1);
		/* Pipes kept for later give way to connections now. */
		if (!proxy_pipe_drop())
			return (0);
	}
}

/* A connection or session closed: accept again if that made room. */
void
proxy_fd_freed(void)
{
	if (proxy_tcp_paused() && proxy_fd_room(PROXY_TCP_FDS))
		proxy_tcp_unpause();
}

/* Milliseconds, coarse: good for idle times, cheap to ask often. */
uint64_t
proxy_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == -1)
		fatal("clock_gettime");
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * "TCP 10.0.0.2:37746 <=> [example.test(172.24.222.11)]:443", the seed's
 * journal shape, the domain escaped (log_name()) so that no name can
 * forge a line.  The result lives until the next call.
 */
const char *
proxy_flow(const char *proto, const struct sockaddr_in *client,
    const char *domain, const struct sockaddr_in *virt)
{
	static char	buf[PROXY_FLOW_MAX];
	char		caddr[INET_ADDRSTRLEN], vaddr[INET_ADDRSTRLEN];
	char		name[LOG_NAME_MAX];

	inet_ntop(AF_INET, &client->sin_addr, caddr, sizeof(caddr));
	inet_ntop(AF_INET, &virt->sin_addr, vaddr, sizeof(vaddr));
	if (domain == NULL)
		snprintf(buf, sizeof(buf), "%s %s:%u <=> [%s]:%u", proto,
		    caddr, ntohs(client->sin_port), vaddr,
		    ntohs(virt->sin_port));
	else
		snprintf(buf, sizeof(buf), "%s %s:%u <=> [%s(%s)]:%u", proto,
		    caddr, ntohs(client->sin_port),
		    log_name(domain, name, sizeof(name)), vaddr,
		    ntohs(virt->sin_port));
	return (buf);
}

/*
 * The journal's shape for a connection or session, ending with its route
 * when that is not the direct one: "... via socks5 127.0.0.1:9050".
 */
const char *
proxy_relay_flow(const struct proxy_relay *r)
{
	static char	 buf[PROXY_FLOW_MAX + PROXY_ROUTE_MAX];
	const char	*flow;
	char		 route[PROXY_ROUTE_MAX];

	flow = proxy_flow(r->proto == IPPROTO_TCP ? "TCP" : "UDP",
	    &r->client, r->domain, &r->virt);
	if (r->route == NULL ||
	    rule_route_fmt(r->route, route, sizeof(route))[0] == '\0')
		return (flow);
	snprintf(buf, sizeof(buf), "%s %s", flow, route);
	return (buf);
}

/*
 * The route the rules gave a connection or session, kept with it for
 * its whole life: a reload changes what new ones get.  A direct route
 * without options is kept as none.  -1: no memory.
 */
int
proxy_relay_route(struct proxy_relay *r, const struct rule_route *rt)
{
	if (rt == NULL || (rt->action != RULE_BLOCK &&
	    rt->via == VIA_DIRECT && rt->mark == 0 && rt->ifname[0] == '\0' &&
	    rt->source.sin_addr.s_addr == INADDR_ANY))
		return (0);
	if ((r->route = malloc(sizeof(*r->route))) == NULL)
		return (-1);
	*r->route = *rt;
	return (0);
}

/*
 * What the journal's lines of a relay end with: " to " and the real
 * address it dialled, "192.0.2.1:443" or "[2001:db8::1]:443"; nothing for
 * a route through a proxy server, which the route names already and which
 * dials the real address itself.  It lives until the next call.
 */
static const char *
proxy_journal_real(const struct proxy_relay *r)
{
	static char	real[INET6_ADDRSTRLEN + 16];

	real[0] = '\0';
	if (r->real.sa.sa_family != 0 && (r->route == NULL ||
	    r->route->via == VIA_DIRECT))
		snprintf(real, sizeof(real), " to %s",
		    proxy_sa_fmt(&r->real));
	return (real);
}

/* The [-] line: the seed's, then the real address. */
static void
proxy_journal_close(const struct proxy_relay *r)
{
	struct timespec	 now;
	long long	 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(now.tv_sec - r->start.tv_sec) * 1000 +
	    (now.tv_nsec - r->start.tv_nsec) / 1000000;
	if (ms < 0)
		ms = 0;
	log_info("[-] %s sent %llu received %llu bytes in %lld.%03llds%s",
	    proxy_relay_flow(r), (unsigned long long)r->sent,
	    (unsigned long long)r->received, ms / 1000, ms % 1000,
	    proxy_journal_real(r));
}

/*
 * Every connection and session is closed, as an idle one is, so that
 * each has its [-] line; the dns process hears of none of them.
 */
static void
proxy_close_all(void)
{
	struct proxy_relay	*r;

	proxy_stopping = 1;
	while ((r = TAILQ_FIRST(&proxy_lru_tcp)) != NULL)
		proxy_tcp_idle(r);
	while ((r = TAILQ_FIRST(&proxy_lru_udp)) != NULL)
		proxy_udp_idle(r);
}

/*
 * A journal line waits: written once the events of this turn of the loop
 * are handled, with the lines they add.
 */
static void
proxy_log_wake(void)
{
	event_active(&proxy_ev_log, EV_TIMEOUT, 0);
}

static void
proxy_log_flush(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_flush();
}

/* Stopping: the journal is whole, then the process exits. */
static void
proxy_stop(void)
{
	proxy_close_all();
	exit(0);
}

/*
 * The dns process is gone, as when dns44 stops and it went first: the
 * relays are journaled before the proxy goes too.
 */
static void
proxy_peer_closed(struct chan *c, int error)
{
	proxy_close_all();
	proc_peer_closed(c, error);
}

int
proxy_in_range(const struct sockaddr_in *sin)
{
	return (conf_in_range(conf, ntohl(sin->sin_addr.s_addr)));
}

/*
 * To the parent: the event loop turns, and what it relays now; id is the
 * heartbeat's it answers, 0 at start.
 */
static void
proxy_alive(uint32_t id)
{
	struct msg_alive	a;

	memset(&a, 0, sizeof(a));
	a.conns = (uint32_t)proxy_tcp_count();
	a.sessions = (uint32_t)proxy_udp_count();
	if (chan_compose(&proxy_parent, MSG_ALIVE, id, -1, &a,
	    sizeof(a)) == -1)
		fatal("%s", __func__);
}

static void
proxy_dispatch_parent(struct chan *c, struct msg *m)
{
	static struct msg_ifaddrs ifa;		/* too large for the stack */
	struct msg_log		ml;
	struct msg_reply_sock	rs;
	struct msg_dial_sock	ds;

	(void)c;
	switch (m->hdr.type) {
	case MSG_SHUTDOWN:
		log_debug("stopping");
		proxy_stop();
	case MSG_HEARTBEAT:
		proxy_alive(m->hdr.id);
		break;
	case MSG_CONF:
		msg_get(m, conf, sizeof(*conf));
		proxy_share(conf);
		log_setverbose(conf->verbose);
		proxy_dest_policy(NULL);
		/* Other upstreams may know other addresses. */
		proxy_cache_flush();
		log_info("configuration reloaded: ttl %u, %u addresses, "
		    "dial timeout %ums", conf->ttl,
		    conf->range_last - conf->range_first + 1, conf->dial_ms);
		break;
	case MSG_CTL_LOG:
		msg_get(m, &ml, sizeof(ml));
		log_setverbose(ml.verbose != 0);
		break;
	case MSG_IFADDRS:
		msg_get(m, &ifa, sizeof(ifa));
		proxy_dest_policy(&ifa);
		log_debug("%u gateway addresses and %u IPv6 ones", ifa.count,
		    ifa.count6);
		break;
	case MSG_REPLY_SOCK:
	case MSG_REPLY_SOCK_FAIL:
		msg_get(m, &rs, sizeof(rs));
		proxy_udp_socket(m->hdr.id, m->fd, &rs);
		break;
	case MSG_DIAL_SOCK:
	case MSG_DIAL_SOCK_FAIL:
		msg_get(m, &ds, sizeof(ds));
		proxy_dial_answer(m->hdr.id, m->fd, &ds);
		break;
	default:
		fatalx("unexpected %s from the parent",
		    msg_type_name(m->hdr.type));
	}
}

static void
proxy_dispatch_peer(struct chan *c, struct msg *m)
{
	struct msg_answer	ma;
	struct msg_lookup	ml;

	(void)c;
	switch (m->hdr.type) {
	case MSG_LOOKUP_ANSWER:
		msg_get(m, &ma, sizeof(ma));
		proxy_addr_answer(m->hdr.id, ma.addr, &ma);
		break;
	case MSG_LOOKUP_MISS:
		msg_get(m, &ml, sizeof(ml));
		proxy_addr_answer(m->hdr.id, ml.addr, NULL);
		break;
	case MSG_CTL_SHOW_CONN:
	case MSG_CTL_STATS:
		proxy_ctl_request(m->hdr.type, m->hdr.id);
		break;
	case MSG_EVICTED:
		msg_get(m, &ml, sizeof(ml));
		proxy_addr_evicted(m->hdr.id, ml.addr);
		break;
	default:
		fatalx("unexpected %s from the dns process",
		    msg_type_name(m->hdr.type));
	}
}

/*
 * A control request from the dns process.  The answers share the channel
 * with the lookups and pins the relays need, so they go out only while
 * it holds less than PROXY_CTL_LOW, the rest when it has drained: a full
 * channel must never stop the process.  Too many waiting is an error.
 */
static void
proxy_ctl_request(uint32_t type, uint32_t id)
{
	struct proxy_ctl_req	*cr;
	static const char	 busy[] = "proxy busy, try again";

	if (proxy_ctl_nreqs >= PROXY_CTL_PENDING ||
	    (cr = calloc(1, sizeof(*cr))) == NULL) {
		if (chan_compose(&proxy_peer, MSG_CTL_FAIL, id, -1, busy,
		    sizeof(busy)) == -1)
			log_rate(&proxy_ctl_rate, LOG_WARNING,
			    "control: no room to answer the dns process");
		return;
	}
	cr->type = type;
	cr->id = id;
	TAILQ_INSERT_TAIL(&proxy_ctl_reqs, cr, entry);
	proxy_ctl_nreqs++;
	proxy_ctl_run(&proxy_peer);
}

/* Answer what waits, as far as the channel has room. */
static void
proxy_ctl_run(struct chan *c)
{
	struct proxy_ctl_req	*cr;
	int			 done;

	while ((cr = TAILQ_FIRST(&proxy_ctl_reqs)) != NULL &&
	    c->mc.queued < PROXY_CTL_LOW) {
		if (cr->type == MSG_CTL_STATS)
			done = proxy_ctl_stats(cr->id);
		else
			done = proxy_ctl_conns(cr->id);
		if (done == 0)
			return;		/* the rest when it drains */
		TAILQ_REMOVE(&proxy_ctl_reqs, cr, entry);
		proxy_ctl_nreqs--;
		free(cr);
	}
}

static void
proxy_ctl_conn(struct ctl_conn *cc, const struct proxy_relay *r,
    const struct timespec *now)
{
	memset(cc, 0, sizeof(*cc));
	cc->proto = r->proto;
	cc->client = r->client.sin_addr.s_addr;
	cc->client_port = ntohs(r->client.sin_port);
	cc->virt = r->virt.sin_addr.s_addr;
	cc->virt_port = ntohs(r->virt.sin_port);
	cc->real_family = r->real.sa.sa_family;
	if (r->real.sa.sa_family == AF_INET6) {
		cc->real6 = r->real.sin6.sin6_addr;
		cc->real_port = ntohs(r->real.sin6.sin6_port);
	} else if (r->real.sa.sa_family == AF_INET) {
		cc->real = r->real.sin.sin_addr.s_addr;
		cc->real_port = ntohs(r->real.sin.sin_port);
	}
	cc->sent = r->sent;
	cc->received = r->received;
	cc->age_ms = (now->tv_sec - r->start.tv_sec) * 1000 +
	    (now->tv_nsec - r->start.tv_nsec) / 1000000;
	if (r->domain != NULL)
		strlcpy(cc->domain, r->domain, sizeof(cc->domain));
}

/*
 * The relays as they are now, at most CTL_CONN_MAX: connections come and
 * go while the listing drains, so it is taken whole when its turn comes.
 */
static int
proxy_ctl_snapshot(void)
{
	struct proxy_relay	*r;
	struct timespec		 now;
	size_t			 n;

	n = proxy_tcp_count() + proxy_udp_count();
	if (n > CTL_CONN_MAX)
		n = CTL_CONN_MAX;
	if ((proxy_ctl_snap = calloc(n > 0 ? n : 1,
	    sizeof(*proxy_ctl_snap))) == NULL)
		return (-1);
	proxy_ctl_nsnap = 0;
	proxy_ctl_sent = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	TAILQ_FOREACH(r, &proxy_lru_tcp, entry) {
		if (proxy_ctl_nsnap == n)
			return (0);
		proxy_ctl_conn(&proxy_ctl_snap[proxy_ctl_nsnap++], r, &now);
	}
	TAILQ_FOREACH(r, &proxy_lru_udp, entry) {
		if (proxy_ctl_nsnap == n)
			return (0);
		proxy_ctl_conn(&proxy_ctl_snap[proxy_ctl_nsnap++], r, &now);
	}
	return (0);
}

/*
 * The relayed connections and sessions, for dns44ctl by way of the dns
 * process, a chunk at a time while the channel has room: 1 when the
 * listing ended (complete, or with an error), 0 when more is to come.
 */
static int
proxy_ctl_conns(uint32_t id)
{
	static const char	 nomem[] = "proxy out of memory";
	size_t			 n;

	if (proxy_ctl_snap == NULL && proxy_ctl_snapshot() == -1) {
		log_warn("%s", __func__);
		return (chan_compose(&proxy_peer, MSG_CTL_FAIL, id, -1, nomem,
		    sizeof(nomem)) == 0);
	}
	while (proxy_ctl_sent < proxy_ctl_nsnap) {
		if (proxy_peer.mc.queued >= PROXY_CTL_LOW)
			return (0);
		n = proxy_ctl_nsnap - proxy_ctl_sent;
		if (n > CTL_CONN_CHUNK)
			n = CTL_CONN_CHUNK;
		if (chan_compose(&proxy_peer, MSG_CTL_CONN, id, -1,
		    &proxy_ctl_snap[proxy_ctl_sent],
		    n * sizeof(*proxy_ctl_snap)) == -1)
			return (0);
		proxy_ctl_sent += n;
	}
	if (chan_compose(&proxy_peer, MSG_CTL_END, id, -1, NULL, 0) == -1)
		return (0);
	free(proxy_ctl_snap);
	proxy_ctl_snap = NULL;
	return (1);
}

static int
proxy_ctl_stats(uint32_t id)
{
	struct ctl_stats_proxy	 st = proxy_stats;
	struct proxy_relay	*r;

	st.tcp_open = proxy_tcp_count();
	st.udp_open = proxy_udp_count();
	proxy_client_stats(&st.tcp_client_limit, &st.udp_client_limit);
	proxy_dest_stats(&st.refused_clients, &st.refused_dests);
	st.udp_recycled = proxy_udp_recycled();
	TAILQ_FOREACH(r, &proxy_lru_tcp, entry) {
		st.bytes_sent += r->sent;
		st.bytes_received += r->received;
	}
	TAILQ_FOREACH(r, &proxy_lru_udp, entry) {
		st.bytes_sent += r->sent;
		st.bytes_received += r->received;
	}
	return (chan_compose(&proxy_peer, MSG_CTL_STATS_PROXY, id, -1, &st,
	    sizeof(st)) == 0);
}

/*
 * Read what the dns process has said so far.  A connection accepted now
 * was made after any eviction the dns process sent before answering the
 * client's query, so an answer kept here is trusted only after this.
 */
void
proxy_peer_drain(void)
{
	struct msg	m;
	int		i, n;

	for (i = 0; i < PROXY_ACCEPT_BATCH; i++) {
		n = msg_read(&proxy_peer.mc, &m);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			proxy_peer_closed(&proxy_peer, n == 0 ? 0 : errno);
		proxy_dispatch_peer(&proxy_peer, &m);
	}
}

/* A message to the dns process; the caller says what failed. */
int
proxy_peer_compose(uint32_t type, uint32_t id, const void *data, size_t len)
{
	/* Closing everything to exit: nobody is listening. */
	if (proxy_stopping)
		return (0);
	return (chan_compose(&proxy_peer, type, id, -1, data, len));
}

/* A message to the parent; the caller says what failed. */
int
proxy_parent_compose(uint32_t type, uint32_t id, const void *data,
    size_t len)
{
	return (chan_compose(&proxy_parent, type, id, -1, data, len));
}

/*
 * Once a second: close what was idle too long.  Both lists are kept in
 * order of last activity, so the walk stops at the first live one.
 */
static void
proxy_sweep(int fd, short ev, void *arg)
{
	struct timeval		 tv = { PROXY_SWEEP_MS / 1000, 0 };
	struct proxy_relay	*r;
	uint64_t		 now = proxy_now();

	(void)fd;
	(void)ev;
	(void)arg;
	while ((r = TAILQ_FIRST(&proxy_lru_tcp)) != NULL &&
	    now - r->last >= conf->tcp_idle_ms) {
		log_debug("%s: idle", proxy_relay_flow(r));
		proxy_tcp_idle(r);
	}
	while ((r = TAILQ_FIRST(&proxy_lru_udp)) != NULL &&
	    now - r->last >= conf->udp_idle_ms)
		proxy_udp_idle(r);
	evtimer_add(&proxy_ev_sweep, &tv);
}

/* One more connection or session that failed, by its reason. */
void
proxy_fail(int proto, enum ctl_fail why)
{
	if (proto == IPPROTO_TCP)
		proxy_stats.tcp_fails[why]++;
	else
		proxy_stats.udp_fails[why]++;
}

/*
 * A connection or session starts to relay: it pins its address, is
 * counted, goes on its list for the sweep and the control listings, and
 * the journal has its [+] line.
 */
void
proxy_relay_open(struct proxy_relay *r)
{
	proxy_addr_pin(r->pa);
	if (r->proto == IPPROTO_TCP)
		proxy_stats.tcp_total++;
	else
		proxy_stats.udp_total++;
	r->state = PROXY_RELAY;
	r->last = proxy_now();
	TAILQ_INSERT_TAIL(proxy_relay_lru(r), r, entry);
	if (r->proto == IPPROTO_UDP)
		proxy_client_lru_add(r);
	log_info("[+] %s%s", proxy_relay_flow(r), proxy_journal_real(r));
}

/* Bytes moved: to the end of its list, the last the sweep looks at. */
void
proxy_relay_touch(struct proxy_relay *r)
{
	r->last = proxy_now();
	TAILQ_REMOVE(proxy_relay_lru(r), r, entry);
	TAILQ_INSERT_TAIL(proxy_relay_lru(r), r, entry);
	if (r->proto == IPPROTO_UDP)
		proxy_client_lru_touch(r);
}

/*
 * A connection or session ends, whatever its state: it waits no more,
 * and if it relayed, its bytes are counted, the journal has its [-] line
 * and its pin goes.  Its address has one user less.
 */
void
proxy_relay_close(struct proxy_relay *r)
{
	proxy_addr_unwait(r->pa, &r->wait);
	if (r->state == PROXY_RELAY) {
		TAILQ_REMOVE(proxy_relay_lru(r), r, entry);
		if (r->proto == IPPROTO_UDP)
			proxy_client_lru_remove(r);
		proxy_stats.bytes_sent += r->sent;
		proxy_stats.bytes_received += r->received;
		proxy_journal_close(r);
		proxy_addr_unpin(r->pa);
	}
	free(r->route);
	r->route = NULL;
	proxy_addr_put(r->pa);
}

/* The least recently active relaying connection or session of proto. */
struct proxy_relay *
proxy_relay_oldest(int proto)
{
	return (TAILQ_FIRST(proto == IPPROTO_TCP ? &proxy_lru_tcp :
	    &proxy_lru_udp));
}

static struct proxy_relay_list *
proxy_relay_lru(const struct proxy_relay *r)
{
	return (r->proto == IPPROTO_TCP ? &proxy_lru_tcp : &proxy_lru_udp);
}
