/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proc.c: what every process does alike: message channels on libevent,
 * the process title, and a child's start-up hand-over from the parent.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "rules.h"

#define PROC_RULES_MAX	(8 * 1024 * 1024)	/* encoded, files apart */

/* Messages handled per wake-up, so one busy channel cannot starve others. */
#define CHAN_BATCH	64

static void	chan_update(struct chan *);
static void	chan_handler(int, short, void *);
static void	proc_log_arm(unsigned int);
static void	proc_log_expire(int, short, void *);

static struct event	proc_log_ev;

void
chan_init(struct chan *c, int fd, enum msg_rx rx, const char *name,
    void (*dispatch)(struct chan *, struct msg *),
    void (*closed)(struct chan *, int), void *arg)
{
	msg_init(&c->mc, fd, rx);
	c->name = name;
	c->dispatch = dispatch;
	c->closed = closed;
	c->drained = NULL;
	c->arg = arg;
	c->events = EV_READ;
	event_set(&c->ev, fd, c->events | EV_PERSIST, chan_handler, c);
	if (event_add(&c->ev, NULL) == -1)
		fatal("%s: event_add", __func__);
}

void
chan_close(struct chan *c)
{
	event_del(&c->ev);
	msg_clear(&c->mc);
	close(c->mc.fd);
	c->mc.fd = -1;
}

/* Queue a message; wait for the socket to drain when it did not go out. */
int
chan_compose(struct chan *c, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	if (msg_compose(&c->mc, type, id, fd, data, len) == -1)
		return (-1);
	chan_update(c);
	return (0);
}

/*
 * Write what is queued now instead of when the loop comes round, waiting
 * up to timeout ms for room: for a message that must reach the peer
 * before what this process does next reaches anyone else.
 */
void
chan_flush(struct chan *c, int timeout)
{
	struct pollfd	pfd;

	for (;;) {
		if (msg_flush(&c->mc) == -1) {
			c->closed(c, errno);
			return;
		}
		if (!msg_pending(&c->mc) || timeout <= 0)
			break;
		pfd.fd = c->mc.fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout) <= 0)
			timeout = 0;	/* one more try, then the loop's */
	}
	chan_update(c);
}

static void
chan_update(struct chan *c)
{
	short	want;

	want = EV_READ | (msg_pending(&c->mc) ? EV_WRITE : 0);
	if (want == c->events)
		return;
	c->events = want;
	event_del(&c->ev);
	event_set(&c->ev, c->mc.fd, want | EV_PERSIST, chan_handler, c);
	if (event_add(&c->ev, NULL) == -1)
		fatal("%s: event_add", __func__);
}

static void
chan_handler(int fd, short ev, void *arg)
{
	struct chan	*c = arg;
	struct msg	 m;
	int		 i, n;

	(void)fd;
	if (ev & EV_WRITE) {
		if (msg_flush(&c->mc) == -1) {
			c->closed(c, errno);
			return;
		}
		chan_update(c);
		if (!msg_pending(&c->mc) && c->drained != NULL) {
			c->drained(c);
			if (c->mc.fd == -1)
				return;
		}
	}
	if (!(ev & EV_READ))
		return;
	for (i = 0; i < CHAN_BATCH; i++) {
		n = msg_read(&c->mc, &m);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			c->closed(c, n == 0 ? 0 : errno);
			return;
		}
		c->dispatch(c, &m);
		if (c->mc.fd == -1)	/* the handler closed it */
			return;
	}
}

/* A broken channel to another dns44 process: nothing sane is left to do. */
void
proc_chan_lost(struct chan *c, int error)
{
	if (error == 0)
		fatalx("%s channel closed", c->name);
	errno = error;
	fatal("%s channel", c->name);
}

/*
 * The process title replaces the argument strings, so ps shows
 * "dns44: role".  Only the argument area is used: the kernel shows that
 * area as it is when its last byte is a NUL, and no more.
 */
static char	*title_base;
static size_t	 title_len;

/*
 * The other child's channel at EOF: it stopped, cleanly or not.  The
 * parent learns how from SIGCHLD and stops everything; this child has
 * nothing to add, so it leaves quietly instead of racing the parent's
 * shutdown message with a failure of its own.
 */
void
proc_peer_closed(struct chan *c, int error)
{
	if (error != 0)
		proc_chan_lost(c, error);
	log_info("%s channel closed, exiting", c->name);
	exit(0);
}

/*
 * The timer that logs the counts of rate-limited lines (log_rate()) when
 * no later line of their kind carries them; after event_init().
 */
void
proc_log_timer(void)
{
	evtimer_set(&proc_log_ev, proc_log_expire, NULL);
	log_rate_timer(proc_log_arm);
}

static void
proc_log_arm(unsigned int ms)
{
	struct timeval	tv;

	if (evtimer_pending(&proc_log_ev, NULL))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&proc_log_ev, &tv);
}

static void
proc_log_expire(int fd, short ev, void *arg)
{
	int	ms;

	(void)fd;
	(void)ev;
	(void)arg;
	if ((ms = log_rate_expire()) >= 0)
		proc_log_arm(ms);
}

void
proc_title_init(int argc, char **argv)
{
	int	i;

	if (argc == 0)
		return;
	title_base = argv[0];
	title_len = strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++) {
		if (argv[i] != title_base + title_len)
			break;		/* not contiguous: use what is */
		title_len += strlen(argv[i]) + 1;
	}
}

void
proc_title(const char *role)
{
	char	title[64];

	snprintf(title, sizeof(title), "dns44: %s", role);
	prctl(PR_SET_NAME, title, 0, 0, 0);
	if (title_base == NULL)
		return;
	memset(title_base, 0, title_len);
	strlcpy(title_base, title, title_len);
}

#ifdef DNS44_REGRESS
/*
 * The test build only (dns44-regress): the running child of the role
 * DNS44_SANDBOX_ROLE names tries the call DNS44_SANDBOX_PROBE names, once
 * its filter is on, and logs what came of it if it is still there.
 */
void
proc_sandbox_probe(enum dns44_role role)
{
	const char	*what = getenv("DNS44_SANDBOX_PROBE");
	const char	*who = getenv("DNS44_SANDBOX_ROLE");
	struct rlimit	 rl;
	void		*mem;
	char		 c = 'x';
	int		 r = 0;

	if (what == NULL || who == NULL ||
	    strcmp(who, role == ROLE_DNS ? "dns" : "proxy") != 0)
		return;
	log_info("sandbox probe: %s", what);
	log_flush();		/* out before a call that may kill */
	if (strcmp(what, "unix") == 0)
		r = socket(AF_UNIX, SOCK_DGRAM, 0);
	else if (strcmp(what, "kill") == 0)
		r = kill(1, 0);
	else if (strcmp(what, "prlimit") == 0)
		r = prlimit(1, RLIMIT_NOFILE, NULL, &rl);
	else if (strcmp(what, "tiocsti") == 0)
		r = ioctl(STDIN_FILENO, TIOCSTI, &c);
	else if (strcmp(what, "mprotect") == 0) {
		if ((mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
			fatal("%s: mmap", __func__);
		r = mprotect(mem, 4096, PROT_READ | PROT_EXEC);
	}
	log_info("sandbox probe: %s: %s", what, r == -1 ? strerror(errno) :
	    "allowed");
}
#endif

/*
 * Before a child drops its privileges it takes, from the parent, the
 * configuration and its sockets, ending with MSG_SOCK_END.
 */
void
proc_start_recv(int fd, struct proc_start *ps)
{
	struct msg_chan	*mc;
	struct msg	 m;
	struct pollfd	 pfd;
	struct rules_rx	 rx;
	struct ruleset	*rs;
	int		 n, have_conf = 0;

	memset(&rx, 0, sizeof(rx));
	memset(ps, 0, sizeof(*ps));
	ps->proxy_tcp = ps->proxy_udp = ps->control = ps->peer = -1;
	ps->metrics = -1;
	if ((mc = malloc(sizeof(*mc))) == NULL)
		fatal(NULL);
	msg_init(mc, fd, MSG_RX_START);
	for (;;) {
		n = msg_read(mc, &m);
		if (n == -1 && errno == EAGAIN) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				fatal("%s: poll", __func__);
			continue;
		}
		if (n == 0)
			fatalx("parent closed the channel during start-up");
		if (n == -1)
			fatal("%s: message from parent", __func__);

		switch (m.hdr.type) {
		case MSG_CONF:
			msg_get(&m, &ps->conf, sizeof(ps->conf));
			have_conf = 1;
			break;
		case MSG_SOCK_DNS_UDP:
			if (ps->ndns_udp == CONF_MAX_DNS_LISTEN)
				fatalx("%s: too many DNS sockets", __func__);
			ps->dns_udp[ps->ndns_udp++] = m.fd;
			break;
		case MSG_SOCK_DNS_TCP:
			if (ps->ndns_tcp == CONF_MAX_DNS_LISTEN)
				fatalx("%s: too many DNS sockets", __func__);
			ps->dns_tcp[ps->ndns_tcp++] = m.fd;
			break;
		case MSG_SOCK_PROXY_TCP:
			ps->proxy_tcp = m.fd;
			break;
		case MSG_SOCK_PROXY_UDP:
			ps->proxy_udp = m.fd;
			break;
		case MSG_SOCK_CONTROL:
			ps->control = m.fd;
			break;
		case MSG_SOCK_PEER:
			/* The dns process gets one for each proxy worker. */
			if (ps->npeers == CONF_MAX_WORKERS)
				fatalx("%s: too many peer channels", __func__);
			ps->peers[ps->npeers++] = m.fd;
			if (ps->peer == -1)
				ps->peer = m.fd;
			break;
		case MSG_SOCK_METRICS:
			ps->metrics = m.fd;
			break;
		case MSG_IFADDRS:
			msg_get(&m, &ps->ifaddrs, sizeof(ps->ifaddrs));
			break;
		case MSG_RULES:
		case MSG_RULES_FILE:
		case MSG_RULES_END:
			if ((rs = proc_rules_recv(&rx, &m)) != NULL) {
				ruleset_free(ps->rules);
				ps->rules = rs;
			}
			break;
		case MSG_SOCK_END:
			if (!have_conf)
				fatalx("start-up ended without configuration");
			if (rx.buf != NULL || rx.rs != NULL)
				fatalx("start-up ended inside the rules");
			free(mc);
			return;
		default:
			fatalx("%s: unexpected %s from parent", __func__,
			    msg_type_name(m.hdr.type));
		}
	}
}

/*
 * The ruleset to the dns process: its encoding in pieces, then each file
 * of its tables as a descriptor, which the dns process reads although its
 * root is elsewhere, then the end.
 */
int
proc_rules_send(struct chan *c, const struct ruleset *rs)
{
	struct msg_rules_file	 rf;
	unsigned char		*buf;
	size_t			 len, off, n, i;
	int			 fd;

	if (ruleset_encode(rs, &buf, &len) == -1)
		return (-1);
	if (len > PROC_RULES_MAX) {
		free(buf);
		errno = E2BIG;
		return (-1);
	}
	for (off = 0; off < len; off += n) {
		n = len - off < MSG_MAX_PAYLOAD ? len - off : MSG_MAX_PAYLOAD;
		if (chan_compose(c, MSG_RULES, 0, -1, buf + off, n) == -1) {
			free(buf);
			return (-1);
		}
	}
	free(buf);
	for (i = 0; i < rs->nsources; i++) {
		if (rs->sources[i].kind != SOURCE_FILE)
			continue;
		rf.source = i;
		if (rs->fds == NULL || rs->fds[i] == -1 ||
		    (fd = dup(rs->fds[i])) == -1)
			return (-1);
		if (chan_compose(c, MSG_RULES_FILE, 0, fd, &rf,
		    sizeof(rf)) == -1) {
			close(fd);
			return (-1);
		}
	}
	return (chan_compose(c, MSG_RULES_END, 0, -1, NULL, 0));
}

static void
proc_rules_decode(struct rules_rx *rx)
{
	if (rx->rs != NULL)
		return;
	if ((rx->rs = ruleset_decode(rx->buf, rx->len)) == NULL)
		fatal("rules from the parent");
	free(rx->buf);
	rx->buf = NULL;
	rx->len = 0;
}

/*
 * One piece of a ruleset from the parent; the whole ruleset, its files
 * attached, at MSG_RULES_END, else NULL.  The parent is trusted, but a
 * piece out of order is still a bug worth stopping for.
 */
struct ruleset *
proc_rules_recv(struct rules_rx *rx, struct msg *m)
{
	struct msg_rules_file	 rf;
	struct ruleset		*rs;
	unsigned char		*nb;

	switch (m->hdr.type) {
	case MSG_RULES:
		if (rx->rs != NULL || rx->len + m->len > PROC_RULES_MAX)
			fatalx("rules from the parent: out of order");
		if ((nb = realloc(rx->buf, rx->len + m->len)) == NULL)
			fatal(NULL);
		memcpy(nb + rx->len, m->data, m->len);
		rx->buf = nb;
		rx->len += m->len;
		return (NULL);
	case MSG_RULES_FILE:
		msg_get(m, &rf, sizeof(rf));
		proc_rules_decode(rx);
		if (rf.source >= rx->rs->nsources ||
		    rx->rs->sources[rf.source].kind != SOURCE_FILE ||
		    rx->rs->fds[rf.source] != -1)
			fatalx("rules from the parent: bad file %u",
			    rf.source);
		rx->rs->fds[rf.source] = m->fd;
		m->fd = -1;
		return (NULL);
	case MSG_RULES_END:
		proc_rules_decode(rx);
		rs = rx->rs;
		rx->rs = NULL;
		return (rs);
	}
	fatalx("%s: %s", __func__, msg_type_name(m->hdr.type));
}
