/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns44.c: the parent process.  It reads the configuration and, through
 * flags.c, the command line, makes every privileged socket, starts the dns
 * and proxy processes (fork and exec of itself) and hands them their
 * sockets.  Afterwards it keeps only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE,
 * makes the proxy's UDP reply sockets, tells both children the gateway's
 * own addresses (ifaddr.c) as they change, makes the proxy's dialling
 * sockets that carry a firewall mark, re-reads the configuration on
 * SIGHUP and shuts everything down when a child dies or a signal says so.
 * parent_sock.c makes the sockets the proxy asks for; dbdir.c prepares
 * and locks the database directory (and hands a previous user's over);
 * plumb.c and selfcheck.c make and check the TPROXY plumbing; notify.c
 * keeps systemd informed.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"
#include "map.h"
#include "prefix.h"
#include "proc.h"
#include "rules.h"

#define PARENT_KILL_WAIT_MS	1500	/* before SIGKILL at shutdown */
#define PARENT_BACKLOG		512
#define PARENT_UDP_RCVBUF	(4 * 1024 * 1024)
#define PARENT_RELOAD_ERRORS	4096	/* of a reload, for dns44ctl */

struct child {
	char		 name[16];	/* "dns", "proxy", "proxy 2" */
	enum dns44_role	 role;
	pid_t		 pid;
	struct chan	*chan;
};

struct dns44_conf	*conf;
static struct ruleset	*rules;		/* the domain rules, files open */

static struct flags	 flags;		/* kept for reloads */
static struct proc_start	 socks;	/* only the fds are used */
static char		 self_exe[PATH_MAX];
static int		 quitting;
static int		 exit_status;
static struct event	 ev_kill;
static char		 parent_handover_msg[PATH_MAX + 256]; /* logged later */
static time_t		 parent_started;
static time_t		 parent_reloaded;	/* the last reload, 0: none */
static int		 parent_reload_ok;
/* The dns process first, then the proxy workers. */
static struct child	 children[1 + CONF_MAX_WORKERS];
static size_t		 nchildren;
static int		 parent_proxy_tcp[CONF_MAX_WORKERS];
static int		 parent_proxy_udp[CONF_MAX_WORKERS];

static int	parent_load_conf(struct dns44_conf *, struct ruleset **);
static void	parent_workers(struct dns44_conf *);
static int	parent_check_range(const struct dns44_conf *);
static void	parent_prepare_dirs(void);
static void	parent_open_sockets(void);
static void	parent_start(void);
static pid_t	parent_exec_child(struct child *, int);
static void	parent_dispatch(struct chan *, struct msg *);
static void	parent_closed(struct chan *, int);
static void	parent_status(struct chan *, uint32_t);
static int	parent_reload(char *, size_t);
static void	parent_ctl_reload(struct chan *, uint32_t);
static void	parent_sig(int, short, void *);
static void	parent_reap(void);
static void	parent_shutdown(int);
static void	parent_kill(int, short, void *);
static void	parent_send_conf(void);
static void	parent_send_ifaddrs(const struct msg_ifaddrs *);
static int	parent_heartbeat(uint32_t);

/*
 * Defaults, then the file (if any), then the command line; the domain
 * rules with their files open, which is all the parent reads of them.
 */
static int
parent_load_conf(struct dns44_conf *c, struct ruleset **rsp)
{
	struct ruleset	*rs = NULL;
	char		 err[256];

	conf_defaults(c);
	if (flags.conf_file_given || access(flags.conf_file, F_OK) == 0) {
		if (conf_parse(c, flags.conf_file, 0) == -1)
			return (-1);
		rs = conf_take_rules();
	}
	if (rs == NULL && (rs = ruleset_new()) == NULL)
		fatal(NULL);
	if (flags_apply(&flags, c) == -1 ||
	    ruleset_open_files(rs) == -1) {
		ruleset_free(rs);
		return (-1);
	}
	if (conf_check(c, err, sizeof(err)) == -1) {
		log_warnx("dns44: %s", err);
		ruleset_free(rs);
		return (-1);
	}
	if (prefix_range_public(c, err, sizeof(err)))
		log_warnx("dns44: warning: %s", err);
	*rsp = rs;
	return (0);
}

/* proxy workers auto: one for each CPU online, as many as may be. */
static void
parent_workers(struct dns44_conf *c)
{
	long	n;

	if (c->proxy_workers != 0)
		return;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	c->proxy_workers = n < 1 ? 1 : n > CONF_MAX_WORKERS ?
	    CONF_MAX_WORKERS : n;
}

/* The range against the gateway's addresses as last read. */
static int
parent_check_range(const struct dns44_conf *c)
{
	char	err[256];

	if (prefix_range_local(c, ifaddr_get(), err, sizeof(err)) == -1) {
		log_warnx("dns44: %s", err);
		return (-1);
	}
	return (0);
}

/* The dns process's chroot holds its database; the proxy's is empty. */
static void
parent_prepare_dirs(void)
{
	struct stat	st;
	uid_t		uid;
	gid_t		gid;

	if (privdrop_lookup(conf->user, !conf->user_set, &uid, &gid) == -1)
		exit(1);
	dbdir_prepare(conf->db_dir, conf->user, uid, gid, parent_handover_msg,
	    sizeof(parent_handover_msg));
	dbdir_lock(conf->db_dir);

	if (mkdir(conf->empty_dir, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", conf->empty_dir);
	if (lstat(conf->empty_dir, &st) == -1)
		fatal("%s", conf->empty_dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		fatalx("%s must be a directory owned by root and writable "
		    "by root only", conf->empty_dir);
}

static int
parent_listen_udp(const struct sockaddr_in *sin, int sflags)
{
	char	buf[32];
	int	s, size = PARENT_UDP_RCVBUF;

	if ((s = sock_udp(sin, sflags)) == -1)
		fatal("UDP socket on %s",
		    conf_fmt_addr(sin, buf, sizeof(buf)));
	/*
	 * A burst of queries must not overflow the default buffer while the
	 * children are busy; only root may go past the system's maximum.
	 */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		log_warn("UDP socket on %s: SO_RCVBUFFORCE",
		    conf_fmt_addr(sin, buf, sizeof(buf)));
	return (s);
}

static int
parent_listen_tcp(const struct sockaddr_in *sin, int transparent)
{
	char	buf[32];
	int	s;

	if ((s = sock_tcp(sin, transparent, PARENT_BACKLOG)) == -1)
		fatal("TCP socket on %s",
		    conf_fmt_addr(sin, buf, sizeof(buf)));
	return (s);
}

static pid_t
parent_exec_child(struct child *ch, int fd)
{
	char	*argv[6];
	int	 argc = 0, null;
	pid_t	 pid;

	argv[argc++] = "dns44";
	argv[argc++] = "-R";
	argv[argc++] = ch->role == ROLE_DNS ? "dns" : "proxy";
	if (flags.foreground)
		argv[argc++] = "-d";
	if (conf->verbose)
		argv[argc++] = "-v";
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		/*
		 * A session of its own, no terminal to read or push into, and
		 * of what the parent holds only its channel: whatever else was
		 * open stays out of its reach.
		 */
		if (setsid() == -1)
			fatal("setsid");
		if ((null = open(_PATH_DEVNULL, O_RDONLY)) == -1)
			fatal("%s", _PATH_DEVNULL);
		if (null != STDIN_FILENO) {
			if (dup2(null, STDIN_FILENO) == -1)
				fatal("dup2");
			close(null);
		}
		if (fd == PROC_PARENT_FD) {
			if (fcntl(fd, F_SETFD, 0) == -1)
				fatal("fcntl");
		} else if (dup2(fd, PROC_PARENT_FD) == -1)
			fatal("dup2");
		closefrom(PROC_PARENT_FD + 1);
		notify_child_env();
		sandbox_exec_env();
#ifdef DNS44_REGRESS
		/* The test build only: a stand-in for a hostile proxy. */
		if (ch->role == ROLE_PROXY && getenv("DNS44_STANDIN") != NULL)
			execv(getenv("DNS44_STANDIN"), argv);
#endif
		execv(self_exe, argv);
		fatal("exec %s", self_exe);
	default:
		return (pid);
	}
}

/*
 * Every socket the children get, made before anything starts so that an
 * address in use is reported on the terminal.
 */
static void
parent_open_sockets(void)
{
	struct group	*gr;
	gid_t		 gid = 0;
	mode_t		 mode = DEFAULT_CONTROL_MODE;
	int		 i, sflags;

	for (i = 0; i < conf->dns_listen_count; i++) {
		socks.dns_udp[i] = parent_listen_udp(&conf->dns_listen[i], 0);
		socks.dns_tcp[i] = parent_listen_tcp(&conf->dns_listen[i], 0);
	}
	socks.ndns_udp = socks.ndns_tcp = conf->dns_listen_count;
	/*
	 * Each proxy worker has a TCP and a UDP listener of its own, among
	 * which the kernel spreads new connections, and datagrams by a hash
	 * of their addresses and ports: every datagram of a UDP session
	 * comes to the same worker.  (Through the TPROXY rule it comes on
	 * the listener: a reply socket, unconnected, is no established match
	 * for it.  Where a rule lets datagrams matching a socket pass by, as
	 * iptables' "-m socket" does, they reach a reply socket of their
	 * virtual address and port instead, and the worker holding it makes
	 * them a session of its own.)
	 */
	sflags = SOCK_TRANSPARENT |
	    (conf->proxy_workers > 1 ? SOCK_REUSEPORT : 0);
	for (i = 0; i < (int)conf->proxy_workers; i++) {
		parent_proxy_tcp[i] = parent_listen_tcp(&conf->proxy_listen,
		    sflags);
		parent_proxy_udp[i] = parent_listen_udp(&conf->proxy_listen,
		    sflags);
	}
	/* It may be a privileged port; the dns process serves it. */
	socks.metrics = conf->metrics ?
	    parent_listen_tcp(&conf->metrics_listen, 0) : -1;

	if (conf->control_group[0] != '\0') {
		if ((gr = getgrnam(conf->control_group)) == NULL)
			fatalx("control socket group %s does not exist",
			    conf->control_group);
		gid = conf->control_gid = gr->gr_gid;
	}
	if (conf->control_admin_group[0] != '\0') {
		if ((gr = getgrnam(conf->control_admin_group)) == NULL)
			fatalx("control admin-group %s does not exist",
			    conf->control_admin_group);
		conf->control_admin_gid = gr->gr_gid;
		/*
		 * One group owns the file; with two, the file lets everyone
		 * connect and the dns process turns away whoever is in
		 * neither (control.c), before reading a byte from them.
		 */
		if (conf->control_gid == (gid_t)-1)
			gid = conf->control_admin_gid;
		else if (conf->control_gid != conf->control_admin_gid)
			mode = 0666;
	}
	if ((socks.control = sock_unix(conf->control_path, mode, gid)) == -1)
		fatal("control socket %s", conf->control_path);
}

static void
parent_send_sock(struct child *ch, uint32_t type, int fd,
    const struct sockaddr_in *sin)
{
	if (chan_compose(ch->chan, type, 0, fd, sin,
	    sin != NULL ? sizeof(*sin) : 0) == -1)
		fatal("sending %s to the %s process", msg_type_name(type),
		    ch->name);
}

/* The children to start: the dns process and the proxy workers. */
static void
parent_children(void)
{
	size_t	c;

	nchildren = 1 + conf->proxy_workers;
	for (c = 0; c < nchildren; c++) {
		children[c].role = c == 0 ? ROLE_DNS : ROLE_PROXY;
		children[c].pid = -1;
		children[c].chan = NULL;
		if (c == 0)
			strlcpy(children[c].name, "dns",
			    sizeof(children[c].name));
		else if (nchildren == 2)
			strlcpy(children[c].name, "proxy",
			    sizeof(children[c].name));
		else
			snprintf(children[c].name, sizeof(children[c].name),
			    "proxy %zu", c);
	}
}

/* Start the children and hand each its share of the sockets. */
static void
parent_start(void)
{
	struct child	*dns = &children[0], *proxy;
	int		 pair[2], peer[CONF_MAX_WORKERS][2], i;
	size_t		 c;

	for (c = 1; c < nchildren; c++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0, peer[c - 1]) == -1)
			fatal("socketpair");

	for (c = 0; c < nchildren; c++) {
		if (socketpair(AF_UNIX,
		    SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		    pair) == -1)
			fatal("socketpair");
		children[c].pid = parent_exec_child(&children[c], pair[1]);
		close(pair[1]);
		if ((children[c].chan = calloc(1,
		    sizeof(*children[c].chan))) == NULL)
			fatal(NULL);
		chan_init(children[c].chan, pair[0],
		    children[c].role == ROLE_DNS ? MSG_RX_PARENT_DNS :
		    MSG_RX_PARENT_PROXY, children[c].name, parent_dispatch,
		    parent_closed, &children[c]);
		if (chan_compose(children[c].chan, MSG_CONF, 0, -1, conf,
		    sizeof(*conf)) == -1 ||
		    chan_compose(children[c].chan, MSG_IFADDRS, 0, -1,
		    ifaddr_get(), sizeof(struct msg_ifaddrs)) == -1 ||
		    (children[c].role == ROLE_DNS &&
		    proc_rules_send(children[c].chan, rules) == -1))
			fatal("sending configuration to the %s process",
			    children[c].name);
	}

	for (i = 0; i < socks.ndns_udp; i++) {
		parent_send_sock(dns, MSG_SOCK_DNS_UDP, socks.dns_udp[i],
		    &conf->dns_listen[i]);
		parent_send_sock(dns, MSG_SOCK_DNS_TCP, socks.dns_tcp[i],
		    &conf->dns_listen[i]);
	}
	parent_send_sock(dns, MSG_SOCK_CONTROL, socks.control, NULL);
	if (socks.metrics != -1)
		parent_send_sock(dns, MSG_SOCK_METRICS, socks.metrics,
		    &conf->metrics_listen);
	for (c = 1; c < nchildren; c++)
		parent_send_sock(dns, MSG_SOCK_PEER, peer[c - 1][0], NULL);
	parent_send_sock(dns, MSG_SOCK_END, -1, NULL);

	for (c = 1; c < nchildren; c++) {
		proxy = &children[c];
		parent_send_sock(proxy, MSG_SOCK_PROXY_TCP,
		    parent_proxy_tcp[c - 1], &conf->proxy_listen);
		parent_send_sock(proxy, MSG_SOCK_PROXY_UDP,
		    parent_proxy_udp[c - 1], &conf->proxy_listen);
		parent_send_sock(proxy, MSG_SOCK_PEER, peer[c - 1][1], NULL);
		parent_send_sock(proxy, MSG_SOCK_END, -1, NULL);
	}
}

static void
parent_send_conf(void)
{
	size_t	c;

	for (c = 0; c < nchildren; c++)
		if (children[c].chan != NULL &&
		    (chan_compose(children[c].chan, MSG_CONF, 0, -1, conf,
		    sizeof(*conf)) == -1 || (children[c].role == ROLE_DNS &&
		    proc_rules_send(children[c].chan, rules) == -1)))
			fatal("sending configuration to %s", children[c].name);
}

/* The gateway's addresses changed: both children rebuild their policy. */
static void
parent_send_ifaddrs(const struct msg_ifaddrs *list)
{
	size_t	c;

	for (c = 0; c < nchildren; c++)
		if (children[c].chan != NULL &&
		    chan_compose(children[c].chan, MSG_IFADDRS, 0, -1, list,
		    sizeof(*list)) == -1)
			log_warn("sending addresses to %s", children[c].name);
	/* The next start or reload refuses it; until then, say so. */
	parent_check_range(conf);
}

/* Each child is asked to say it lives; -1 when one is gone already. */
static int
parent_heartbeat(uint32_t id)
{
	size_t	c;
	int	rv = 0;

	for (c = 0; c < nchildren; c++)
		if (children[c].pid == -1 || children[c].chan == NULL ||
		    chan_compose(children[c].chan, MSG_HEARTBEAT, id, -1, NULL,
		    0) == -1)
			rv = -1;
	return (rv);
}

/*
 * Re-read the configuration.  A broken one is logged and the running one
 * kept; what is bound to sockets, directories or the user needs a restart.
 * With errs, the errors of a broken one are also collected there, as many
 * whole lines as fit.
 */
static int
parent_reload(char *errs, size_t errlen)
{
	struct dns44_conf	*nc;
	struct ruleset		*nrs;
	unsigned int		 lost;
	size_t			 len;
	int			 rv;

	if ((nc = malloc(sizeof(*nc))) == NULL)
		fatal(NULL);
	notify_reloading();
	parent_reloaded = time(NULL);
	parent_reload_ok = 0;
	/* Room kept for the count of lines that did not fit. */
	if (errs != NULL && errlen > 64)
		log_capture(errs, errlen - 64, 1);
	if ((rv = parent_load_conf(nc, &nrs)) == 0 &&
	    (rv = parent_check_range(nc)) == -1)
		ruleset_free(nrs);
	if (rv == 0)
		parent_workers(nc);
	if (errs != NULL && errlen > 64 &&
	    (lost = log_capture(NULL, 0, 0)) > 0) {
		len = strlen(errs);
		snprintf(errs + len, errlen - len, "(%u more in the log)\n",
		    lost);
	}
	if (rv == -1)
		goto refused;
#define KEEP(field, what) do {						\
	if (memcmp(&nc->field, &conf->field, sizeof(nc->field)) != 0) {	\
		log_warnx("%s cannot change on reload; restart to "	\
		    "apply it", what);					\
		memcpy(&nc->field, &conf->field, sizeof(nc->field));	\
	}								\
} while (0)
	KEEP(dns_listen, "dns listen");
	KEEP(dns_listen_count, "dns listen");
	KEEP(proxy_listen, "proxy listen");
	KEEP(proxy_workers, "proxy workers");
	KEEP(db_dir, "database");
	KEEP(empty_dir, "proxy chroot");
	KEEP(control_path, "control socket");
	KEEP(control_group, "control socket group");
	KEEP(control_admin_group, "control admin-group");
	KEEP(metrics, "metrics listen");
	KEEP(metrics_listen, "metrics listen");
	KEEP(user, "user");
	KEEP(user_set, "user");
	KEEP(range_first, "range");
	KEEP(range_last, "range");
	KEEP(range_prefix, "range");
	KEEP(tproxy_setup, "tproxy setup");
	KEEP(tproxy_mark, "tproxy mark");
	KEEP(tproxy_table, "tproxy table");
	KEEP(redis, "database redis");
	KEEP(sentinels, "database sentinel");
	KEEP(sentinel_count, "database sentinel");
	KEEP(redis_master, "database master");
	KEEP(redis_password, "database password");
#undef KEEP
	/* Found at start, from the names kept above. */
	nc->control_gid = conf->control_gid;
	nc->control_admin_gid = conf->control_admin_gid;
	memcpy(conf, nc, sizeof(*conf));
	free(nc);
	ruleset_free(rules);
	rules = nrs;
	log_setverbose(conf->verbose);
	parent_send_conf();
	selfcheck_reload();
	parent_reload_ok = 1;
	notify_reloaded(1);
	log_info("configuration reloaded");
	return (0);

 refused:
	log_warnx("configuration not reloaded, keeping the running one");
	free(nc);
	notify_reloaded(0);
	return (-1);
}

/*
 * A reload that dns44ctl asked for, through the dns process: a failure
 * goes back with the errors that caused it, file:line first as the parser
 * wrote them.
 */
static void
parent_ctl_reload(struct chan *c, uint32_t id)
{
	static const char	 head[] = "configuration not reloaded, "
				    "keeping the running one:\n";
	char			 buf[sizeof(head) + PARENT_RELOAD_ERRORS];
	size_t			 len;

	memcpy(buf, head, sizeof(head));
	if (parent_reload(buf + sizeof(head) - 1, PARENT_RELOAD_ERRORS) == 0) {
		chan_compose(c, MSG_CTL_OK, id, -1, NULL, 0);
		return;
	}
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	chan_compose(c, MSG_CTL_FAIL, id, -1, buf, len + 1);
}

/* Messages from a child. */
static void
parent_dispatch(struct chan *c, struct msg *m)
{
	struct child		*ch = c->arg;
	struct msg_log		 ml;
	struct msg_alive	 ma;
	size_t			 i;

	switch (m->hdr.type) {
	/* The channel's end took only what its child may send. */
	case MSG_REPLY_SOCK_REQ:
		parent_reply_sock(ch->chan, m);
		return;
	case MSG_DIAL_SOCK_REQ:
		parent_dial_sock(ch->chan, m, rules);
		return;
	case MSG_ALIVE:
		msg_get(m, &ma, sizeof(ma));
		notify_alive(ch - children, m->hdr.id, &ma);
		return;
	case MSG_CTL_RELOAD:
		parent_ctl_reload(c, m->hdr.id);
		return;
	case MSG_CTL_STATUS:
		parent_status(c, m->hdr.id);
		return;
	case MSG_CTL_LOG:
		msg_get(m, &ml, sizeof(ml));
		conf->verbose = ml.verbose != 0;
		log_setverbose(conf->verbose);
		for (i = 0; i < nchildren; i++)
			if (children[i].role != ROLE_DNS &&
			    children[i].chan != NULL)
				chan_compose(children[i].chan, MSG_CTL_LOG, 0,
				    -1, &ml, sizeof(ml));
		return;
	default:
		break;
	}
	log_warnx("unexpected %s from the %s process",
	    msg_type_name(m->hdr.type), ch->name);
	parent_shutdown(1);
}

/* The parent's part of dns44ctl show status. */
static void
parent_status(struct chan *c, uint32_t id)
{
	struct ctl_status	*st;
	int64_t			 when;
	size_t			 i;
	int			 r;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		chan_compose(c, MSG_CTL_FAIL, id, -1, "out of memory",
		    sizeof("out of memory"));
		return;
	}
	st->started = parent_started;
	st->now = time(NULL);
	st->pid = getpid();
	st->dns_pid = st->proxy_pid = -1;
	/* The first proxy worker stands for them all. */
	for (i = 0; i < nchildren; i++)
		if (children[i].role == ROLE_DNS)
			st->dns_pid = children[i].pid;
		else if (st->proxy_pid == -1)
			st->proxy_pid = children[i].pid;
	st->setup = plumb_active();
	st->reload_time = parent_reloaded;
	st->reload_ok = parent_reload_ok;
	if (parent_reloaded != 0 && !parent_reload_ok)
		strlcpy(st->reload_error, "configuration not reloaded, the "
		    "running one kept; its errors are in the log",
		    sizeof(st->reload_error));
	r = selfcheck_result(st->check_text, sizeof(st->check_text), &when);
	st->check = r == 1 ? CTL_CHECK_OK : r == 0 ? CTL_CHECK_MISSING :
	    CTL_CHECK_OFF;
	st->check_time = r == -1 ? 0 : when;
	chan_compose(c, MSG_CTL_STATUS_INFO, id, -1, st, sizeof(*st));
	free(st);
}

static void
parent_closed(struct chan *c, int error)
{
	struct child	*ch = c->arg;

	chan_close(c);
	free(c);
	ch->chan = NULL;
	/*
	 * A child that exits closes its channel, with unread messages a
	 * reset; SIGCHLD tells how it ended.  A malformed message, though,
	 * means the child is broken.
	 */
	if (error == 0 || error == ECONNRESET || error == EPIPE || quitting)
		return;
	errno = error;
	log_warn("channel to the %s process", ch->name);
	parent_shutdown(1);
}

static void
parent_sig(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		if (!quitting)
			parent_reload(NULL, 0);
		break;
	case SIGTERM:
	case SIGINT:
		if (!quitting)
			log_info("received %s, shutting down",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		parent_shutdown(0);
		break;
	case SIGCHLD:
		parent_reap();
		break;
	}
}

static void
parent_reap(void)
{
	struct child	*ch;
	pid_t		 pid;
	size_t		 c;
	int		 status, alive;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		ch = NULL;
		for (c = 0; c < nchildren; c++)
			if (children[c].pid == pid)
				ch = &children[c];
		if (ch == NULL)
			continue;
		ch->pid = -1;
		if (quitting && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		if (WIFSIGNALED(status))
			log_warnx("%s process (pid %d) was killed by signal %d "
			    "(%s)", ch->name, (int)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			log_warnx("%s process (pid %d) exited with status %d",
			    ch->name, (int)pid, WEXITSTATUS(status));
		parent_shutdown(1);
	}

	alive = 0;
	for (c = 0; c < nchildren; c++)
		alive += children[c].pid != -1;
	if (quitting && alive == 0) {
		unlink(conf->control_path);
		log_info("terminated");
		exit(exit_status);
	}
}

/*
 * Ask the children to stop and give them a moment.  The parent cannot
 * signal them (they run as another user and it holds no CAP_KILL), but a
 * child also exits when its channel to the parent closes.
 */
static void
parent_shutdown(int status)
{
	struct timeval	tv;
	size_t		c;

	if (status != 0)
		exit_status = status;
	if (quitting)
		return;
	quitting = 1;
	notify_stopping();
	if (status != 0)
		log_warnx("shutting down");
	for (c = 0; c < nchildren; c++)
		if (children[c].chan != NULL)
			chan_compose(children[c].chan, MSG_SHUTDOWN, 0, -1,
			    NULL, 0);
	tv.tv_sec = PARENT_KILL_WAIT_MS / 1000;
	tv.tv_usec = (PARENT_KILL_WAIT_MS % 1000) * 1000;
	evtimer_set(&ev_kill, parent_kill, NULL);
	evtimer_add(&ev_kill, &tv);
	parent_reap();
}

static void
parent_kill(int fd, short ev, void *arg)
{
	size_t	c;

	(void)fd;
	(void)ev;
	(void)arg;
	for (c = 0; c < nchildren; c++)
		if (children[c].pid != -1)
			log_warnx("%s process (pid %d) did not stop; it exits "
			    "when its channel closes", children[c].name,
			    (int)children[c].pid);
	unlink(conf->control_path);
	exit(exit_status != 0 ? exit_status : 1);
}

int
main(int argc, char **argv)
{
	/* Static: the flags point into it for the life of the process. */
	static char		**args;
	struct event		 ev_hup, ev_term, ev_int, ev_chld;
	int			 i;
	ssize_t			 n;

	/* The title overwrites the arguments; the flags keep copies. */
	if ((args = reallocarray(NULL, argc + 1, sizeof(*args))) == NULL)
		fatal(NULL);
	for (i = 0; i < argc; i++)
		if ((args[i] = strdup(argv[i])) == NULL)
			fatal(NULL);
	args[argc] = NULL;
	proc_title_init(argc, argv);

	/* The defaults, for the help. */
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		fatal(NULL);
	conf_defaults(conf);
	flags_parse(argc, args, &flags);

	switch (flags.role) {
	case ROLE_DNS:
		dns_main(flags.foreground, flags.verbose);
	case ROLE_PROXY:
		proxy_main(flags.foreground, flags.verbose);
	case ROLE_PARENT:
		break;
	}

	if (parent_load_conf(conf, &rules) == -1)
		exit(1);
	if (flags.check) {
		/* The lists read too, so that their bad lines are shown. */
		if (ruleset_load(rules) == -1 || privdrop_check(conf) == -1)
			exit(1);
		conf_print(stdout, conf);
		ruleset_print(stdout, rules);
		exit(0);
	}
	if (geteuid() != 0) {
		fprintf(stderr, "dns44: need root privileges\n");
		exit(1);
	}
	if ((n = readlink("/proc/self/exe", self_exe,
	    sizeof(self_exe) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	self_exe[n] = '\0';
	if (ifaddr_load() == -1)
		fatal("reading the gateway's addresses");
	if (parent_check_range(conf) == -1)
		exit(1);
	parent_prepare_dirs();
	parent_workers(conf);
	parent_children();
	parent_open_sockets();

	log_init(flags.foreground, LOG_DAEMON);
	log_setverbose(conf->verbose);
	if (parent_handover_msg[0] != '\0')
		log_info("%s", parent_handover_msg);
	if (!flags.foreground && daemon(0, 0) == -1)
		fatal("daemon");
	proc_title("parent");
	signal(SIGPIPE, SIG_IGN);

	event_init();
	proc_log_timer();
	signal_set(&ev_hup, SIGHUP, parent_sig, NULL);
	signal_set(&ev_term, SIGTERM, parent_sig, NULL);
	signal_set(&ev_int, SIGINT, parent_sig, NULL);
	signal_set(&ev_chld, SIGCHLD, parent_sig, NULL);
	signal_add(&ev_hup, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_chld, NULL);

	parent_started = time(NULL);
	ifaddr_init(parent_send_ifaddrs);
	plumb_start();
	selfcheck_init();
	notify_init(nchildren, parent_heartbeat);
	parent_start();
	privdrop_parent();
	log_info("started: dns on %d address(es), proxy on port %d, "
	    "%u addresses in the range", conf->dns_listen_count,
	    ntohs(conf->proxy_listen.sin_port),
	    conf->range_last - conf->range_first + 1);

	event_dispatch();
	fatalx("event loop ended");
}
