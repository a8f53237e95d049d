/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * control.c: the control socket, served by the dns process.  Each client
 * is a message channel; requests that need the parent are forwarded to it
 * under a fresh id and its answer is relayed back to the client.  Who may
 * ask what is decided here, from the peer's credentials: root and the
 * admin group may change the daemon, the control group may only look.
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
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "dns.h"
#include "log.h"
#include "map.h"
#include "peers.h"
#include "proc.h"
#include "rules.h"
#include "store.h"
#include "upstream.h"

#define CONTROL_MAX_CLIENTS	32
#define CONTROL_IDLE_SEC	30
#define CONTROL_PAUSE_SEC	1	/* accept paused when out of fds */
#define CONTROL_QUEUE_LOW	(256 * 1024)	/* listing: refill below */
#define CONTROL_PEER_ROOM	(MSG_MAX_QUEUE / 2) /* for a flush's word */
#define CONTROL_DENIED		"permission denied"

/* What a client may do, from its credentials when it connected. */
enum ctl_access {
	CTL_ACCESS_NONE,
	CTL_ACCESS_READ,	/* show, lookup, test */
	CTL_ACCESS_ADMIN,	/* also flush, reload, log */
};

_Static_assert(UPSTREAM_HEALTH_MAX <= CTL_UPSTREAM_CHUNK,
    "the upstreams outgrew one message");

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct chan		 chan;
	struct event		 ev_idle;
	uint32_t		 serial;	/* id of a forwarded request */
	uint32_t		 req_id;	/* the client's id for it */
	int			 listing;	/* show map in progress */
	uint32_t		 list_next;	/* next address to show */
	uint32_t		 list_id;
	pid_t			 pid;
	uid_t			 uid;
	int			 metrics;	/* the text, not the counters */
	enum ctl_access		 access;
};

static TAILQ_HEAD(, ctl_client)	 ctl_clients =
    TAILQ_HEAD_INITIALIZER(ctl_clients);
static int			 ctl_nclients;
static uint32_t			 ctl_serial;
static struct event		 ctl_ev_accept;
static struct event		 ctl_ev_pause;
static struct chan		*ctl_parent;
static int			 ctl_fd = -1;
static struct log_rate		 ctl_rl_denied;
static struct log_rate		 ctl_rl_full;

static void	control_accept(int, short, void *);
static enum ctl_access control_access(int, const struct ucred *);
static void	control_refuse(int, const struct ucred *);
static int	control_allowed(struct ctl_client *, struct msg *);
static void	control_fail(struct ctl_client *, uint32_t, const char *);
static void	control_resume(int, short, void *);
static void	control_dispatch(struct chan *, struct msg *);
static void	control_closed(struct chan *, int);
static void	control_idle(int, short, void *);
static void	control_drop(struct ctl_client *);
static void	control_touch(struct ctl_client *);
static struct ctl_client *control_victim(void);
static void	control_list(struct chan *);
static void	control_evicted(uint32_t);
static int	control_target(const char *, struct map_entry **);
static void	control_show(struct ctl_client *, uint32_t, const char *,
		    int);
static void	control_flush(struct ctl_client *, uint32_t, const char *);
static void	control_stats(struct ctl_client *, uint32_t);
static void	control_rules(struct ctl_client *, uint32_t);
static void	control_test(struct ctl_client *, uint32_t,
		    const struct ctl_test *);
static void	control_forward(struct ctl_client *, struct chan *,
		    struct msg *);
static void	control_metrics(struct ctl_client *, struct msg *);

void
control_init(int fd, struct chan *parent)
{
	ctl_fd = fd;
	ctl_parent = parent;
	event_set(&ctl_ev_accept, fd, EV_READ | EV_PERSIST, control_accept,
	    NULL);
	event_add(&ctl_ev_accept, NULL);
	evtimer_set(&ctl_ev_pause, control_resume, NULL);
}

void
control_shutdown(void)
{
	struct ctl_client	*cc;

	while ((cc = TAILQ_FIRST(&ctl_clients)) != NULL)
		control_drop(cc);
	if (ctl_fd != -1) {
		event_del(&ctl_ev_accept);
		close(ctl_fd);
		ctl_fd = -1;
	}
}

static void
control_resume(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_add(&ctl_ev_accept, NULL);
}

static void
control_accept(int fd, short ev, void *arg)
{
	struct ctl_client	*cc, *old = NULL;
	struct ucred		 cred;
	struct timeval		 tv = { CONTROL_PAUSE_SEC, 0 };
	socklen_t		 len = sizeof(cred);
	enum ctl_access		 access;
	int			 s;

	(void)ev;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Do not spin on a listener we cannot serve. */
			log_warn("control: accept");
			event_del(&ctl_ev_accept);
			evtimer_add(&ctl_ev_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(s);
		return;
	}
	if ((access = control_access(s, &cred)) == CTL_ACCESS_NONE) {
		control_refuse(s, &cred);
		return;
	}
	/*
	 * All places taken: an admin takes the place of the client without
	 * admin rights that was active least recently, so that clients who
	 * may only look cannot keep root out; anyone else is refused.
	 */
	if (ctl_nclients >= CONTROL_MAX_CLIENTS &&
	    (access != CTL_ACCESS_ADMIN || (old = control_victim()) == NULL)) {
		log_rate(&ctl_rl_full, LOG_WARNING, "control: %d clients, "
		    "refusing uid %u pid %d", ctl_nclients,
		    (unsigned)cred.uid, (int)cred.pid);
		close(s);
		return;
	}
	if (old != NULL) {
		log_warnx("control: %d clients; uid %u pid %d, active least "
		    "recently, makes way for uid %u pid %d", ctl_nclients,
		    (unsigned)old->uid, (int)old->pid, (unsigned)cred.uid,
		    (int)cred.pid);
		control_drop(old);
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("control");
		close(s);
		return;
	}
	cc->pid = cred.pid;
	cc->uid = cred.uid;
	cc->access = access;
	chan_init(&cc->chan, s, MSG_RX_CONTROL, "control", control_dispatch,
	    control_closed, cc);
	cc->chan.drained = control_list;
	evtimer_set(&cc->ev_idle, control_idle, cc);
	TAILQ_INSERT_TAIL(&ctl_clients, cc, entry);
	ctl_nclients++;
	control_touch(cc);
}

/*
 * What the peer may do: everything as root or as a member of the admin
 * group, look as a member of the control group, else nothing.  The
 * supplementary groups come from SO_PEERGROUPS, as they were when the
 * peer connected: /proc and the group file are outside the chroot, and
 * the group file would say what a user may have, not what the process
 * has.
 */
static enum ctl_access
control_access(int s, const struct ucred *cred)
{
	gid_t			*groups;
	socklen_t		 len;
	size_t			 i, n;
	enum ctl_access		 access = CTL_ACCESS_NONE;

	if (cred->uid == 0 || (conf->control_admin_gid != (gid_t)-1 &&
	    cred->gid == conf->control_admin_gid))
		return (CTL_ACCESS_ADMIN);
	if (conf->control_gid != (gid_t)-1 && cred->gid == conf->control_gid)
		access = CTL_ACCESS_READ;
	/* The size first, then the groups: they cannot change between. */
	len = 0;
	if (getsockopt(s, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) == -1 &&
	    errno != ERANGE) {
		log_warn("control: SO_PEERGROUPS");
		return (access);
	}
	if (len == 0)
		return (access);
	if ((groups = malloc(len)) == NULL) {
		log_warn("control: the peer's groups");
		return (access);
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		log_warn("control: SO_PEERGROUPS");
		free(groups);
		return (access);
	}
	n = len / sizeof(*groups);
	for (i = 0; i < n && access != CTL_ACCESS_ADMIN; i++) {
		if (conf->control_admin_gid != (gid_t)-1 &&
		    groups[i] == conf->control_admin_gid)
			access = CTL_ACCESS_ADMIN;
		else if (conf->control_gid != (gid_t)-1 &&
		    groups[i] == conf->control_gid)
			access = CTL_ACCESS_READ;
	}
	free(groups);
	return (access);
}

/*
 * A peer with no business here gets one answer and the door: it holds
 * none of the clients' places, and none of its messages is read.
 */
static void
control_refuse(int s, const struct ucred *cred)
{
	static struct msg_chan	mc;	/* large; one refusal at a time */

	log_rate(&ctl_rl_denied, LOG_WARNING, "control: uid %u gid %u pid %d "
	    "refused: not root, nor in the control or admin group",
	    (unsigned)cred->uid, (unsigned)cred->gid, (int)cred->pid);
	msg_init(&mc, s, MSG_RX_CONTROL);
	/* A fresh socket's buffer takes it; if not, the close says enough. */
	(void)msg_compose(&mc, MSG_CTL_FAIL, 0, -1, CONTROL_DENIED,
	    sizeof(CONTROL_DENIED));
	msg_clear(&mc);
	close(s);
}

/* A request that changes the daemon needs the admin group or root. */
static int
control_allowed(struct ctl_client *cc, struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_CTL_SHOW_MAP:
	case MSG_CTL_LOOKUP:
	case MSG_CTL_STATS:
	case MSG_CTL_SHOW_CONN:
	case MSG_CTL_SHOW_RULES:
	case MSG_CTL_TEST:
	case MSG_CTL_STATUS:
	case MSG_CTL_METRICS:
		return (1);
	default:
		if (cc->access == CTL_ACCESS_ADMIN)
			return (1);
		log_rate(&ctl_rl_denied, LOG_WARNING, "control: %s refused to "
		    "uid %u pid %d: not root, nor in the admin group",
		    msg_type_name(m->hdr.type), (unsigned)cc->uid,
		    (int)cc->pid);
		control_fail(cc, m->hdr.id, CONTROL_DENIED);
		return (0);
	}
}

/* A client did something: it goes to the end of the list. */
static void
control_touch(struct ctl_client *cc)
{
	struct timeval	tv = { CONTROL_IDLE_SEC, 0 };

	TAILQ_REMOVE(&ctl_clients, cc, entry);
	TAILQ_INSERT_TAIL(&ctl_clients, cc, entry);
	evtimer_add(&cc->ev_idle, &tv);
}

/*
 * The client without admin rights active least recently, but not one
 * being sent a listing or awaiting one from another process; NULL if
 * none.
 */
static struct ctl_client *
control_victim(void)
{
	struct ctl_client	*cc;

	TAILQ_FOREACH(cc, &ctl_clients, entry)
		if (cc->access != CTL_ACCESS_ADMIN && !cc->listing &&
		    cc->serial == 0)
			return (cc);
	return (NULL);
}

static void
control_idle(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	log_debug("control: dropping an idle client");
	control_drop(arg);
}

static void
control_drop(struct ctl_client *cc)
{
	evtimer_del(&cc->ev_idle);
	chan_close(&cc->chan);
	TAILQ_REMOVE(&ctl_clients, cc, entry);
	ctl_nclients--;
	free(cc);
}

static void
control_closed(struct chan *c, int error)
{
	if (error != 0)
		log_debug("control: client gone: %s", strerror(error));
	control_drop(c->arg);
}

static void
control_fail(struct ctl_client *cc, uint32_t id, const char *why)
{
	chan_compose(&cc->chan, MSG_CTL_FAIL, id, -1, why, strlen(why) + 1);
}

static void
control_dispatch(struct chan *c, struct msg *m)
{
	struct ctl_client	*cc = c->arg;
	struct msg_log		 ml;
	struct ctl_test		 t;

	control_touch(cc);
	if (!control_allowed(cc, m))
		return;
	switch (m->hdr.type) {
	case MSG_CTL_RELOAD:
		log_info("control: reload requested by uid %u pid %d",
		    (unsigned)cc->uid, (int)cc->pid);
		control_forward(cc, ctl_parent, m);
		break;
	case MSG_CTL_LOG:
		msg_get(m, &ml, sizeof(ml));
		log_info("control: log %s requested by uid %u pid %d",
		    ml.verbose ? "verbose" : "brief", (unsigned)cc->uid,
		    (int)cc->pid);
		log_setverbose(ml.verbose != 0);
		if (chan_compose(ctl_parent, MSG_CTL_LOG, 0, -1, &ml,
		    sizeof(ml)) == -1) {
			log_warn("control: forwarding the log level");
			control_fail(cc, m->hdr.id, "parent busy, try again");
			break;
		}
		chan_compose(&cc->chan, MSG_CTL_OK, m->hdr.id, -1, NULL, 0);
		break;
	case MSG_CTL_SHOW_MAP:
	case MSG_CTL_LOOKUP:
		control_show(cc, m->hdr.id, msg_get_str(m),
		    m->hdr.type == MSG_CTL_LOOKUP);
		break;
	case MSG_CTL_FLUSH:
		log_info("control: flush %s requested by uid %u pid %d",
		    msg_get_str(m), (unsigned)cc->uid, (int)cc->pid);
		control_flush(cc, m->hdr.id, msg_get_str(m));
		break;
	case MSG_CTL_STATS:
		/* The dns counters now, the proxy's when they come. */
		control_stats(cc, m->hdr.id);
		control_forward(cc, NULL, m);
		break;
	case MSG_CTL_SHOW_CONN:
		control_forward(cc, NULL, m);
		break;
	case MSG_CTL_METRICS:
		if (cc->serial != 0) {
			control_fail(cc, m->hdr.id, "one request at a time");
			break;
		}
		/* The text is made when the proxy's counters come. */
		m->hdr.type = MSG_CTL_STATS;
		control_forward(cc, NULL, m);
		cc->metrics = cc->serial != 0;
		break;
	case MSG_CTL_SHOW_RULES:
		control_rules(cc, m->hdr.id);
		break;
	case MSG_CTL_TEST:
		msg_get(m, &t, sizeof(t));
		control_test(cc, m->hdr.id, &t);
		break;
	case MSG_CTL_STATUS:
		/* The parent's part first; ours is added to its answer. */
		control_forward(cc, ctl_parent, m);
		break;
	default:
		control_fail(cc, m->hdr.id, "unknown request");
		break;
	}
}

static void
control_entry(const struct map_entry *e, struct ctl_map_entry *ce)
{
	memset(ce, 0, sizeof(*ce));
	ce->addr = htonl(e->addr);
	ce->conns = e->conns;
	ce->answered = e->answered;
	strlcpy(ce->name, e->name, sizeof(ce->name));
}

/* A name or an address inside the range: 0 and its entry (or NULL). */
static int
control_target(const char *what, struct map_entry **e)
{
	struct in_addr	in;
	char		name[WIRE_TEXT_MAX + 2];

	*e = NULL;
	if (inet_pton(AF_INET, what, &in) == 1) {
		*e = map_lookup_addr(dns_map, ntohl(in.s_addr));
		return (0);
	}
	if (map_normalize(what, name, sizeof(name)) == -1)
		return (-1);
	*e = map_lookup_name(dns_map, name);
	return (0);
}

/*
 * One mapping, or all of them.  A whole listing goes out in chunks, in
 * address order, as fast as the client reads: the next chunk is made when
 * the channel has drained, from the next address on, so the map may change
 * in between without harm.
 */
static void
control_show(struct ctl_client *cc, uint32_t id, const char *what,
    int lookup)
{
	struct ctl_map_entry	 ce;
	struct map_entry	*e;
	char			 msg[320];

	if (*what == '\0' && !lookup) {
		cc->listing = 1;
		cc->list_next = conf->range_first;
		cc->list_id = id;
		control_list(&cc->chan);
		return;
	}
	if (control_target(what, &e) == -1) {
		snprintf(msg, sizeof(msg), "not a name or address: %s", what);
		control_fail(cc, id, msg);
		return;
	}
	if (e == NULL && lookup) {
		snprintf(msg, sizeof(msg), "no mapping for %s", what);
		control_fail(cc, id, msg);
		return;
	}
	if (e != NULL) {
		control_entry(e, &ce);
		chan_compose(&cc->chan, MSG_CTL_MAP, id, -1, &ce, sizeof(ce));
	}
	chan_compose(&cc->chan, MSG_CTL_END, id, -1, NULL, 0);
}

static void
control_list(struct chan *c)
{
	struct ctl_client	*cc = c->arg;
	struct ctl_map_entry	*chunk;
	struct map_entry	*e;
	size_t			 n;
	uint32_t		 a;

	if (!cc->listing)
		return;
	if ((chunk = calloc(CTL_MAP_CHUNK, sizeof(*chunk))) == NULL) {
		control_drop(cc);
		return;
	}
	while (cc->listing && c->mc.queued < CONTROL_QUEUE_LOW) {
		n = 0;
		a = cc->list_next;
		while (n < CTL_MAP_CHUNK) {
			if ((e = map_lookup_addr(dns_map, a)) != NULL)
				control_entry(e, &chunk[n++]);
			if (a == conf->range_last) {
				cc->listing = 0;
				break;
			}
			a++;
		}
		cc->list_next = a;
		if ((n > 0 && chan_compose(c, MSG_CTL_MAP, cc->list_id, -1,
		    chunk, n * sizeof(*chunk)) == -1) || (!cc->listing &&
		    chan_compose(c, MSG_CTL_END, cc->list_id, -1, NULL,
		    0) == -1)) {
			free(chunk);
			control_drop(cc);
			return;
		}
	}
	free(chunk);
}

/*
 * The proxy keeps what it was told of an address; a forgotten one may go
 * to another name.  Address 0 stands for all.
 */
static void
control_evicted(uint32_t addr)
{
	struct msg_lookup	ml;

	memset(&ml, 0, sizeof(ml));
	ml.addr = htonl(addr);
	/* Room was checked before the mapping went: only a broken peer. */
	if (peers_broadcast(MSG_EVICTED, 0, &ml, sizeof(ml)) == -1)
		fatal("telling the proxy");
	peers_flush(100);
}

/* Forget mappings without open connections; list the ones kept. */
static void
control_flush(struct ctl_client *cc, uint32_t id, const char *what)
{
	struct ctl_flushed	 fl;
	struct ctl_map_entry	 ce;
	struct map_entry	*e;
	uint32_t		 a;
	char			 msg[320];

	memset(&fl, 0, sizeof(fl));
	/* The proxy must hear of what goes; no flush it could not hear. */
	if (peers_queued() > CONTROL_PEER_ROOM) {
		control_fail(cc, id, "proxy busy, try again");
		return;
	}
	if (strcmp(what, "all") == 0 && CONF_SHARED_MAP(conf)) {
		control_fail(cc, id, "the map is shared with other gateways: "
		    "flush names one by one");
		return;
	}
	if (strcmp(what, "all") == 0) {
		for (a = conf->range_first; ; a++) {
			if ((e = map_lookup_addr(dns_map, a)) != NULL) {
				if (e->conns > 0) {
					control_entry(e, &ce);
					chan_compose(&cc->chan, MSG_CTL_MAP, id,
					    -1, &ce, sizeof(ce));
					fl.kept++;
				} else if (map_remove(dns_map, e) == 0)
					fl.removed++;
			}
			if (a == conf->range_last)
				break;
		}
		if (fl.removed > 0)
			control_evicted(0);
	} else if (control_target(what, &e) == -1) {
		snprintf(msg, sizeof(msg), "not a name or address: %s", what);
		control_fail(cc, id, msg);
		return;
	} else if (e == NULL) {
		snprintf(msg, sizeof(msg), "no mapping for %s", what);
		control_fail(cc, id, msg);
		return;
	} else if (e->conns > 0) {
		control_entry(e, &ce);
		chan_compose(&cc->chan, MSG_CTL_MAP, id, -1, &ce, sizeof(ce));
		fl.kept++;
	} else {
		a = e->addr;
		/* Everywhere: the store tells every gateway, us included. */
		if (CONF_SHARED_MAP(conf))
			store_remove(e->name, a);
		if (map_remove(dns_map, e) == 0) {
			fl.removed++;
			control_evicted(a);
		}
	}
	log_info("control: flushed %u mappings, kept %u in use", fl.removed,
	    fl.kept);
	chan_compose(&cc->chan, MSG_CTL_FLUSHED, id, -1, &fl, sizeof(fl));
}

static void
control_stats(struct ctl_client *cc, uint32_t id)
{
	struct ctl_stats_dns		 st = dns_stats;
	const struct upstream_stats	*us = upstream_stats();
	struct upstream_info		 info[UPSTREAM_HEALTH_MAX];
	struct ctl_upstream		 cu[UPSTREAM_HEALTH_MAX];
	size_t				 i, n;

	st.mappings = map_count(dns_map);
	st.clients = map_clients(dns_map);
	st.range_size = map_size(dns_map);
	st.upstream_timeouts = us->timeouts;
	st.pinned = map_pinned(dns_map);
	chan_compose(&cc->chan, MSG_CTL_STATS_DNS, id, -1, &st, sizeof(st));

	n = upstream_list(info, UPSTREAM_HEALTH_MAX);
	memset(cu, 0, sizeof(cu));
	for (i = 0; i < n; i++) {
		if (info[i].addr.addr.sa.sa_family == AF_INET6) {
			memcpy(cu[i].addr, &info[i].addr.addr.sin6.sin6_addr,
			    16);
			cu[i].ipv6 = 1;
		} else
			memcpy(cu[i].addr, &info[i].addr.addr.sin.sin_addr,
			    4);
		cu[i].port = conf_port(&info[i].addr.addr);
		cu[i].tls = info[i].addr.tls;
		cu[i].state = info[i].state == UPSTREAM_DOWN ?
		    CTL_UPSTREAM_DOWN : info[i].state == UPSTREAM_UP ?
		    CTL_UPSTREAM_UP : CTL_UPSTREAM_NEW;
		cu[i].rtt_us = info[i].srtt_us;
		cu[i].rttvar_us = info[i].rttvar_us;
		cu[i].answers = info[i].answers;
		cu[i].timeouts = info[i].timeouts;
		cu[i].fails = info[i].fails;
		cu[i].backoff_ms = info[i].backoff_left_ms;
	}
	/* The table fits one message; dns44ctl shows it with the rest. */
	if (n > 0)
		chan_compose(&cc->chan, MSG_CTL_UPSTREAMS, id, -1, cu,
		    n * sizeof(cu[0]));
}

/*
 * A request another process answers goes there under a serial of ours:
 * to the parent, or with to NULL to every proxy worker (peers.c makes
 * their answers one).  A client has one such request out at a time.  A
 * channel too full to take it is an error for the client, not for the
 * daemon.
 */
static void
control_forward(struct ctl_client *cc, struct chan *to, struct msg *m)
{
	uint32_t	serial;

	if (cc->serial != 0) {
		control_fail(cc, m->hdr.id, "one request at a time");
		return;
	}
	serial = control_serial();
	if ((to != NULL ? chan_compose(to, m->hdr.type, serial, -1, m->data,
	    m->len) : peers_forward(m->hdr.type, serial, m->data,
	    m->len)) == -1) {
		log_warn("control: forwarding %s", msg_type_name(m->hdr.type));
		control_fail(cc, m->hdr.id, to == NULL ?
		    "proxy busy, try again" : "parent busy, try again");
		return;
	}
	cc->serial = serial;
	cc->req_id = m->hdr.id;
}

/* A fresh id for a request to another process, never 0. */
uint32_t
control_serial(void)
{
	ctl_serial = ctl_serial + 1 != 0 ? ctl_serial + 1 : 1;
	return (ctl_serial);
}

/*
 * The answers of another process to a forwarded request go to whoever
 * asked, until the last of them.  A client that does not read them is
 * dropped when its channel is full, and the rest of them with it.
 */
void
control_relay(struct msg *m)
{
	struct ctl_client	*cc;

	TAILQ_FOREACH(cc, &ctl_clients, entry)
		if (cc->serial != 0 && cc->serial == m->hdr.id) {
			if (cc->metrics) {
				control_metrics(cc, m);
				return;
			}
			if (chan_compose(&cc->chan, m->hdr.type, cc->req_id,
			    -1, m->data, m->len) == -1) {
				log_warn("control: client pid %d not reading",
				    (int)cc->pid);
				control_drop(cc);
				return;
			}
			if (m->hdr.type != MSG_CTL_CONN)
				cc->serial = 0;
			return;
		}
}

/* The parent's part of the status, with the dns process's added. */
void
control_status(struct msg *m)
{
	struct ctl_status	 st;
	struct store_stats	 ss;
	struct upstream_info	 info[UPSTREAM_HEALTH_MAX];
	size_t			 i, n;

	msg_get(m, &st, sizeof(st));
	n = upstream_list(info, UPSTREAM_HEALTH_MAX);
	st.upstreams = n;
	st.upstreams_up = st.upstreams_down = 0;
	for (i = 0; i < n; i++) {
		st.upstreams_up += info[i].state == UPSTREAM_UP;
		st.upstreams_down += info[i].state == UPSTREAM_DOWN;
	}
	st.mappings = map_count(dns_map);
	st.range_size = map_size(dns_map);
	st.store = CTL_STORE_NONE;
	if (CONF_SHARED_MAP(conf)) {
		store_stats(&ss);
		st.store = ss.up ? CTL_STORE_UP : CTL_STORE_DOWN;
	}
	m->data = &st;
	m->len = sizeof(st);
	control_relay(m);
}

/*
 * The proxy's counters for a metrics request: the text goes to the
 * client in pieces, or the proxy's failure does.
 */
static void
control_metrics(struct ctl_client *cc, struct msg *m)
{
	struct ctl_stats_proxy	 ps;
	struct evbuffer		*b;
	unsigned char		*p;
	size_t			 len, n;

	cc->serial = 0;
	cc->metrics = 0;
	if (m->hdr.type != MSG_CTL_STATS_PROXY) {
		control_fail(cc, cc->req_id, m->hdr.type == MSG_CTL_FAIL ?
		    msg_get_str(m) : "unexpected answer from the proxy");
		return;
	}
	msg_get(m, &ps, sizeof(ps));
	if ((b = evbuffer_new()) == NULL || metrics_text(b, &ps) == -1) {
		if (b != NULL)
			evbuffer_free(b);
		control_fail(cc, cc->req_id, "out of memory");
		return;
	}
	len = evbuffer_get_length(b);
	p = evbuffer_pullup(b, -1);
	for (; len > 0; p += n, len -= n) {
		n = len < MSG_MAX_PAYLOAD ? len : MSG_MAX_PAYLOAD;
		if (chan_compose(&cc->chan, MSG_CTL_METRICS_TEXT, cc->req_id,
		    -1, p, n) == -1)
			break;
	}
	evbuffer_free(b);
	if (len > 0 || chan_compose(&cc->chan, MSG_CTL_END, cc->req_id, -1,
	    NULL, 0) == -1) {
		log_warn("control: client pid %d not reading", (int)cc->pid);
		control_drop(cc);
	}
}

/* Every rule with its hits since it was loaded (ruleset_keep_hits()). */
static void
control_rules(struct ctl_client *cc, uint32_t id)
{
	struct ctl_rule	*cr;
	size_t		 i, n = 0;

	if ((cr = calloc(CTL_RULE_CHUNK, sizeof(*cr))) == NULL) {
		control_fail(cc, id, "out of memory");
		return;
	}
	for (i = 0; dns_rules != NULL && i < dns_rules->nrules; i++) {
		memset(&cr[n], 0, sizeof(cr[n]));
		cr[n].number = i + 1;
		cr[n].hits = dns_rules->rules[i].hits;
		strlcpy(cr[n].where, dns_rules->rules[i].where,
		    sizeof(cr[n].where));
		rule_fmt(dns_rules, &dns_rules->rules[i], cr[n].text,
		    sizeof(cr[n].text));
		if (++n == CTL_RULE_CHUNK) {
			chan_compose(&cc->chan, MSG_CTL_RULE, id, -1, cr,
			    n * sizeof(*cr));
			n = 0;
		}
	}
	if (n > 0)
		chan_compose(&cc->chan, MSG_CTL_RULE, id, -1, cr,
		    n * sizeof(*cr));
	free(cr);
	chan_compose(&cc->chan, MSG_CTL_END, id, -1, NULL, 0);
}

/* What the rules would do with a name asked by a client, if one is given. */
static void
control_test(struct ctl_client *cc, uint32_t id, const struct ctl_test *t)
{
	struct ctl_tested		 r;
	struct rule_verdict		 v;
	const struct rule_upstream	*u;
	char				 a[CONF_UPSTREAM_STRLEN];
	size_t				 i;

	memset(&r, 0, sizeof(r));
	if (map_normalize(t->name, r.name, sizeof(r.name)) == -1) {
		control_fail(cc, id, "not a domain name");
		return;
	}
	ruleset_eval(dns_rules, r.name, ntohl(t->client), t->have_client,
	    &v);
	r.action = v.action;
	r.any_client = v.any_client;
	if (v.rule != NULL) {
		r.number = v.rule - dns_rules->rules + 1;
		r.block = v.rule->block;
		strlcpy(r.where, v.rule->where, sizeof(r.where));
		rule_fmt(dns_rules, v.rule, r.rule, sizeof(r.rule));
	}
	if (v.action == RULE_ROUTE)
		rule_route_fmt(&v.route, r.route, sizeof(r.route));
	if ((u = ruleset_split(dns_rules, r.name)) != NULL)
		for (i = 0; i < u->count; i++) {
			if (i > 0)
				strlcat(r.upstreams, " ", sizeof(r.upstreams));
			strlcat(r.upstreams, conf_fmt_upstream(&u->upstream[i],
			    a, sizeof(a)), sizeof(r.upstreams));
		}
	chan_compose(&cc->chan, MSG_CTL_TESTED, id, -1, &r, sizeof(r));
}
