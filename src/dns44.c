/*
 * dns44.c: the parent process.  It reads the configuration and the command
 * line, makes every privileged socket, starts the dns and proxy processes
 * (fork and exec of itself) and hands them their sockets.  Afterwards it
 * keeps only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, makes the proxy's UDP
 * reply sockets, re-reads the configuration on SIGHUP and shuts everything
 * down when a child dies or a signal says so.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

#define PARENT_KILL_WAIT_MS	1500	/* before SIGKILL at shutdown */
#define PARENT_BACKLOG		512
#define PARENT_UDP_RCVBUF	(4 * 1024 * 1024)

/* The command-line settings that override the file, kept for reloads. */
struct overrides {
	const char	*db_path;
	const char	*dial_timeout;
	const char	*dns_bind;
	const char	*dns_upstream;
	const char	*ip_range;
	const char	*proxy_bind;
	const char	*ttl;
	int		 verbose;
};

struct child {
	const char	*name;
	enum dns44_role	 role;
	pid_t		 pid;
	struct chan	*chan;
};

struct dns44_conf	*conf;

static struct overrides	 ovr;
static struct proc_start	 socks;	/* only the fds are used */
static const char	*conf_file;
static int		 conf_file_given;
static char		 self_exe[PATH_MAX];
static int		 foreground;
static int		 quitting;
static int		 exit_status;
static struct event	 ev_kill;
static struct child	 children[] = {
	{ "dns", ROLE_DNS, -1, NULL },
	{ "proxy", ROLE_PROXY, -1, NULL },
};
#define NCHILDREN	(sizeof(children) / sizeof(children[0]))

static void	usage(int) __attribute__((__noreturn__));
static void	parse_args(int, char **, enum dns44_role *, int *);
static int	parent_load_conf(struct dns44_conf *);
static int	parent_overrides(struct dns44_conf *);
static void	parent_prepare_dirs(void);
static void	parent_open_sockets(void);
static void	parent_start(void);
static pid_t	parent_exec_child(struct child *, int);
static void	parent_dispatch(struct chan *, struct msg *);
static void	parent_closed(struct chan *, int);
static void	parent_reply_sock(struct child *, struct msg *);
static int	parent_reload(void);
static void	parent_sig(int, short, void *);
static void	parent_reap(void);
static void	parent_shutdown(int);
static void	parent_kill(int, short, void *);
static void	parent_send_conf(void);

static void
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;
	char	 range[64], a[32], b[32];
	struct in_addr in;

	in.s_addr = htonl(conf->range_first - (conf->range_prefix <= 30));
	inet_ntop(AF_INET, &in, a, sizeof(a));
	in.s_addr = htonl(conf->range_last + (conf->range_prefix <= 30));
	inet_ntop(AF_INET, &in, b, sizeof(b));
	snprintf(range, sizeof(range), "%s-%s", a, b);

	fprintf(f,
"usage: dns44 [-dhnv] [-D macro=value] [-f file] [-flag[=value] ...]\n"
"  -d                        stay in the foreground, log to stderr\n"
"  -D macro=value            define a macro for the configuration file\n"
"  -f file                   configuration file (default %s)\n"
"  -h                        show this help and exit\n"
"  -n                        check the configuration, print it and exit\n"
"  -v                        verbose (debug) logging\n"
"  -db-path dir              database directory (default %s)\n"
"  -debug                    debug logging, as -v\n"
"  -dial-timeout duration    dial timeout for connections the proxy makes"
" (default 10s)\n"
"  -dns-bind-address addr    DNS service bind address (default %s:%d)\n"
"  -dns-upstream addr        upstream DNS server (default %s)\n"
"  -ip-range range           address range DNS answers are mapped to"
" (default %s)\n"
"  -proxy-bind-address addr  transparent proxy bind address"
" (default %s:%d)\n"
"  -ttl n                    TTL of answers (default %d)\n"
"  -version                  show the version and exit\n",
	    DNS44_CONF_FILE, DNS44_DBDIR, DEFAULT_DNS_ADDR, DEFAULT_DNS_PORT,
	    DEFAULT_UPSTREAM, range, DEFAULT_PROXY_ADDR, DEFAULT_PROXY_PORT,
	    DEFAULT_TTL);
	exit(status);
}

/* The seed's long flags, which take -flag=value and -flag value. */
static const struct longflag {
	const char	 *name;
	const char	**value;	/* NULL: a boolean */
} longflags[] = {
	{ "db-path",		&ovr.db_path },
	{ "debug",		NULL },
	{ "dial-timeout",	&ovr.dial_timeout },
	{ "dns-bind-address",	&ovr.dns_bind },
	{ "dns-upstream",	&ovr.dns_upstream },
	{ "help",		NULL },
	{ "ip-range",		&ovr.ip_range },
	{ "proxy-bind-address",	&ovr.proxy_bind },
	{ "ttl",		&ovr.ttl },
	{ "version",		NULL },
};

static int
parse_bool(const char *flag, const char *v)
{
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return (1);
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return (0);
	fprintf(stderr, "dns44: -%s: invalid boolean \"%s\"\n", flag, v);
	exit(1);
}

static void
parse_args(int argc, char **argv, enum dns44_role *role, int *check)
{
	const struct longflag	*lf;
	const char		*arg, *eq, *v;
	char			 name[32];
	size_t			 i, n;
	int			 a;

	for (a = 1; a < argc; a++) {
		arg = argv[a];
		if (strcmp(arg, "--") == 0) {
			a++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		arg += arg[1] == '-' ? 2 : 1;

		/* A long flag, with its value after = or in the next word. */
		n = (eq = strchr(arg, '=')) != NULL ?
		    (size_t)(eq - arg) : strlen(arg);
		lf = NULL;
		if (n > 1 && n < sizeof(name)) {
			memcpy(name, arg, n);
			name[n] = '\0';
			for (i = 0; i < sizeof(longflags) / sizeof(*lf); i++)
				if (strcmp(longflags[i].name, name) == 0)
					lf = &longflags[i];
		}
		if (lf != NULL) {
			v = eq != NULL ? eq + 1 : NULL;
			if (lf->value == NULL) {
				if (!parse_bool(lf->name, v))
					continue;
				if (strcmp(lf->name, "debug") == 0)
					ovr.verbose = 1;
				else if (strcmp(lf->name, "help") == 0)
					usage(0);
				else {
					printf("dns44 %s\n", PACKAGE_VERSION);
					exit(0);
				}
				continue;
			}
			if (v == NULL) {
				if (a + 1 >= argc) {
					fprintf(stderr, "dns44: flag needs an "
					    "argument: -%s\n", lf->name);
					usage(1);
				}
				v = argv[++a];
			}
			*lf->value = v;
			continue;
		}

		/* Short flags, which may be grouped: -dv. */
		for (; *arg != '\0'; arg++) {
			switch (*arg) {
			case 'd':
				foreground = 1;
				continue;
			case 'h':
				usage(0);
			case 'n':
				*check = 1;
				continue;
			case 'v':
				ovr.verbose = 1;
				continue;
			case 'D':
			case 'f':
			case 'R':
				break;
			default:
				fprintf(stderr, "dns44: unknown flag -%s\n",
				    arg);
				usage(1);
			}
			/* The value: the rest of the word, or the next word. */
			if (arg[1] != '\0')
				v = arg + 1;
			else if (a + 1 < argc)
				v = argv[++a];
			else {
				fprintf(stderr, "dns44: flag needs an "
				    "argument: -%c\n", *arg);
				usage(1);
			}
			if (*arg == 'D') {
				if (conf_define_macro(v) == -1) {
					fprintf(stderr, "dns44: -D %s: "
					    "expected macro=value\n", v);
					exit(1);
				}
			} else if (*arg == 'f') {
				conf_file = v;
				conf_file_given = 1;
			} else if (strcmp(v, "dns") == 0)
				*role = ROLE_DNS;
			else if (strcmp(v, "proxy") == 0)
				*role = ROLE_PROXY;
			else {
				fprintf(stderr, "dns44: -R %s: unknown role\n",
				    v);
				exit(1);
			}
			break;
		}
	}
	if (a < argc) {
		fprintf(stderr, "dns44: unexpected argument \"%s\"\n",
		    argv[a]);
		usage(1);
	}
}

/* "a,b,c" from a flag into an array of addresses. */
static int
parse_addr_list(const char *flag, const char *list, in_port_t defport,
    struct sockaddr_in *out, int max, int *count)
{
	char	*copy, *p, *word;
	int	 n = 0;

	if ((copy = strdup(list)) == NULL)
		fatal(NULL);
	p = copy;
	while ((word = strsep(&p, ",")) != NULL) {
		if (n == max) {
			log_warnx("dns44: -%s: more than %d addresses", flag,
			    max);
			goto fail;
		}
		if (conf_parse_hostport(word, defport, &out[n]) == -1) {
			log_warnx("dns44: -%s: invalid address \"%s\"", flag,
			    word);
			goto fail;
		}
		n++;
	}
	free(copy);
	*count = n;
	return (0);
 fail:
	free(copy);
	return (-1);
}

static int
parent_overrides(struct dns44_conf *c)
{
	const char	*errstr;
	uint32_t	 ms;
	int		 n;

	if (ovr.db_path != NULL) {
		if (ovr.db_path[0] != '/') {
			log_warnx("dns44: -db-path: \"%s\" is not an "
			    "absolute path", ovr.db_path);
			return (-1);
		}
		if (strlcpy(c->db_dir, ovr.db_path, sizeof(c->db_dir)) >=
		    sizeof(c->db_dir)) {
			log_warnx("dns44: -db-path: path too long");
			return (-1);
		}
	}
	if (ovr.dial_timeout != NULL) {
		if (conf_parse_duration(ovr.dial_timeout, &ms) == -1 ||
		    ms == 0) {
			log_warnx("dns44: -dial-timeout: invalid duration "
			    "\"%s\"", ovr.dial_timeout);
			return (-1);
		}
		c->dial_ms = ms;
	}
	if (ovr.dns_bind != NULL) {
		if (parse_addr_list("dns-bind-address", ovr.dns_bind,
		    DEFAULT_DNS_PORT, c->dns_listen, CONF_MAX_DNS_LISTEN,
		    &n) == -1)
			return (-1);
		c->dns_listen_count = n;
	}
	if (ovr.dns_upstream != NULL) {
		if (parse_addr_list("dns-upstream", ovr.dns_upstream,
		    DEFAULT_UPSTREAM_PORT, c->upstream, CONF_MAX_UPSTREAM,
		    &n) == -1)
			return (-1);
		c->upstream_count = n;
	}
	if (ovr.ip_range != NULL && conf_parse_range(ovr.ip_range, c) == -1) {
		log_warnx("dns44: -ip-range: invalid range \"%s\"",
		    ovr.ip_range);
		return (-1);
	}
	if (ovr.proxy_bind != NULL && conf_parse_hostport(ovr.proxy_bind,
	    DEFAULT_PROXY_PORT, &c->proxy_listen) == -1) {
		log_warnx("dns44: -proxy-bind-address: invalid address \"%s\"",
		    ovr.proxy_bind);
		return (-1);
	}
	if (ovr.ttl != NULL) {
		c->ttl = strtonum(ovr.ttl, 0, 604800, &errstr);
		if (errstr != NULL) {
			log_warnx("dns44: -ttl: \"%s\" is %s (0-604800)",
			    ovr.ttl, errstr);
			return (-1);
		}
	}
	if (ovr.verbose)
		c->verbose = 1;
	return (0);
}

/* Defaults, then the file (if any), then the command line. */
static int
parent_load_conf(struct dns44_conf *c)
{
	char	err[256];

	conf_defaults(c);
	if (conf_file_given || access(conf_file, F_OK) == 0) {
		if (conf_parse(c, conf_file, 0) == -1)
			return (-1);
	}
	if (parent_overrides(c) == -1)
		return (-1);
	if (conf_check(c, err, sizeof(err)) == -1) {
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
	if (mkdir(conf->db_dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", conf->db_dir);
	if (lstat(conf->db_dir, &st) == -1)
		fatal("%s", conf->db_dir);
	if (!S_ISDIR(st.st_mode))
		fatalx("%s is not a directory", conf->db_dir);
	if ((st.st_uid != uid || st.st_gid != gid) &&
	    chown(conf->db_dir, uid, gid) == -1)
		fatal("chown %s", conf->db_dir);
	if ((st.st_mode & 07777) != 0700 && chmod(conf->db_dir, 0700) == -1)
		fatal("chmod %s", conf->db_dir);

	if (mkdir(conf->empty_dir, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", conf->empty_dir);
	if (lstat(conf->empty_dir, &st) == -1)
		fatal("%s", conf->empty_dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		fatalx("%s must be a directory owned by root and writable "
		    "by root only", conf->empty_dir);
}

static int
parent_listen_udp(const struct sockaddr_in *sin, int transparent)
{
	char	buf[32];
	int	s, size = PARENT_UDP_RCVBUF;

	if ((s = sock_udp(sin, transparent)) == -1)
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
	int	 argc = 0;
	pid_t	 pid;

	argv[argc++] = "dns44";
	argv[argc++] = "-R";
	argv[argc++] = (char *)ch->name;
	if (foreground)
		argv[argc++] = "-d";
	if (conf->verbose)
		argv[argc++] = "-v";
	argv[argc] = NULL;

	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		if (fd == PROC_PARENT_FD) {
			if (fcntl(fd, F_SETFD, 0) == -1)
				fatal("fcntl");
		} else if (dup2(fd, PROC_PARENT_FD) == -1)
			fatal("dup2");
		sandbox_exec_env();
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
	int		 i;

	for (i = 0; i < conf->dns_listen_count; i++) {
		socks.dns_udp[i] = parent_listen_udp(&conf->dns_listen[i], 0);
		socks.dns_tcp[i] = parent_listen_tcp(&conf->dns_listen[i], 0);
	}
	socks.ndns_udp = socks.ndns_tcp = conf->dns_listen_count;
	socks.proxy_tcp = parent_listen_tcp(&conf->proxy_listen, 1);
	socks.proxy_udp = parent_listen_udp(&conf->proxy_listen, 1);

	if (conf->control_group[0] != '\0') {
		if ((gr = getgrnam(conf->control_group)) == NULL)
			fatalx("control socket group %s does not exist",
			    conf->control_group);
		gid = gr->gr_gid;
	}
	if ((socks.control = sock_unix(conf->control_path,
	    DEFAULT_CONTROL_MODE, gid)) == -1)
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

/* Start both children and hand each its share of the sockets. */
static void
parent_start(void)
{
	struct child	*dns = &children[0], *proxy = &children[1];
	int		 pair[2], peer[2], i;
	size_t		 c;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, peer) == -1)
		fatal("socketpair");

	for (c = 0; c < NCHILDREN; c++) {
		if (socketpair(AF_UNIX,
		    SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		    pair) == -1)
			fatal("socketpair");
		children[c].pid = parent_exec_child(&children[c], pair[1]);
		close(pair[1]);
		if ((children[c].chan = calloc(1,
		    sizeof(*children[c].chan))) == NULL)
			fatal(NULL);
		chan_init(children[c].chan, pair[0], children[c].name,
		    parent_dispatch, parent_closed, &children[c]);
		if (chan_compose(children[c].chan, MSG_CONF, 0, -1, conf,
		    sizeof(*conf)) == -1)
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
	parent_send_sock(dns, MSG_SOCK_PEER, peer[0], NULL);
	parent_send_sock(dns, MSG_SOCK_END, -1, NULL);

	parent_send_sock(proxy, MSG_SOCK_PROXY_TCP, socks.proxy_tcp,
	    &conf->proxy_listen);
	parent_send_sock(proxy, MSG_SOCK_PROXY_UDP, socks.proxy_udp,
	    &conf->proxy_listen);
	parent_send_sock(proxy, MSG_SOCK_PEER, peer[1], NULL);
	parent_send_sock(proxy, MSG_SOCK_END, -1, NULL);
}

static void
parent_send_conf(void)
{
	size_t	c;

	for (c = 0; c < NCHILDREN; c++)
		if (children[c].chan != NULL &&
		    chan_compose(children[c].chan, MSG_CONF, 0, -1, conf,
		    sizeof(*conf)) == -1)
			fatal("sending configuration to %s", children[c].name);
}

/*
 * Re-read the configuration.  A broken one is logged and the running one
 * kept; what is bound to sockets, directories or the user needs a restart.
 */
static int
parent_reload(void)
{
	struct dns44_conf	*nc;

	if ((nc = malloc(sizeof(*nc))) == NULL)
		fatal(NULL);
	if (parent_load_conf(nc) == -1) {
		log_warnx("configuration not reloaded, keeping the running "
		    "one");
		free(nc);
		return (-1);
	}
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
	KEEP(db_dir, "database");
	KEEP(empty_dir, "proxy chroot");
	KEEP(control_path, "control socket");
	KEEP(control_group, "control socket group");
	KEEP(user, "user");
	KEEP(user_set, "user");
	KEEP(range_first, "range");
	KEEP(range_last, "range");
	KEEP(range_prefix, "range");
#undef KEEP
	memcpy(conf, nc, sizeof(*conf));
	free(nc);
	log_setverbose(conf->verbose);
	parent_send_conf();
	log_info("configuration reloaded");
	return (0);
}

/* Messages from a child. */
static void
parent_dispatch(struct chan *c, struct msg *m)
{
	struct child	*ch = c->arg;
	struct msg_log	 ml;
	size_t		 i;

	switch (m->hdr.type) {
	case MSG_REPLY_SOCK_REQ:
		if (ch->role != ROLE_PROXY)
			break;
		parent_reply_sock(ch, m);
		return;
	case MSG_CTL_RELOAD:
		if (ch->role != ROLE_DNS)
			break;
		if (parent_reload() == 0)
			chan_compose(c, MSG_CTL_OK, m->hdr.id, -1, NULL, 0);
		else
			chan_compose(c, MSG_CTL_FAIL, m->hdr.id, -1,
			    "configuration not reloaded, see the log",
			    sizeof("configuration not reloaded, see the log"));
		return;
	case MSG_CTL_LOG:
		if (ch->role != ROLE_DNS)
			break;
		memcpy(&ml, m->data, sizeof(ml));
		conf->verbose = ml.verbose != 0;
		log_setverbose(conf->verbose);
		for (i = 0; i < NCHILDREN; i++)
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

/*
 * A socket for UDP replies from virt to client.  The proxy is not trusted
 * with IP_TRANSPARENT: virt must lie inside the virtual range, so it cannot
 * spoof any other address.
 */
static void
parent_reply_sock(struct child *ch, struct msg *m)
{
	struct msg_reply_sock	 r;
	uint32_t		 virt, client;
	int			 s;

	memcpy(&r, m->data, sizeof(r));
	virt = ntohl(r.virt.sin_addr.s_addr);
	client = ntohl(r.client.sin_addr.s_addr);
	if (virt < conf->range_first || virt > conf->range_last ||
	    r.virt.sin_port == 0 || r.client.sin_port == 0 ||
	    (client >= conf->range_first && client <= conf->range_last)) {
		log_warnx("proxy asked for a reply socket outside the range");
		r.error = EPERM;
		s = -1;
	} else if ((s = sock_reply(&r.virt, &r.client)) == -1)
		r.error = errno;
	else
		r.error = 0;
	if (s == -1)
		chan_compose(ch->chan, MSG_REPLY_SOCK_FAIL, m->hdr.id, -1, &r,
		    sizeof(r));
	else if (chan_compose(ch->chan, MSG_REPLY_SOCK, m->hdr.id, s, &r,
	    sizeof(r)) == -1) {
		log_warn("sending a reply socket");
		close(s);
	}
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
			parent_reload();
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
		for (c = 0; c < NCHILDREN; c++)
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
	for (c = 0; c < NCHILDREN; c++)
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
	if (status != 0)
		log_warnx("shutting down");
	for (c = 0; c < NCHILDREN; c++)
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
	for (c = 0; c < NCHILDREN; c++)
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
	enum dns44_role		 role = ROLE_PARENT;
	int			 check = 0, i;
	ssize_t			 n;

	/* The title overwrites the arguments; the flags keep copies. */
	if ((args = reallocarray(NULL, argc + 1, sizeof(*args))) == NULL)
		fatal(NULL);
	for (i = 0; i < argc; i++)
		if ((args[i] = strdup(argv[i])) == NULL)
			fatal(NULL);
	args[argc] = NULL;
	proc_title_init(argc, argv);

	conf_file = DNS44_CONF_FILE;
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		fatal(NULL);
	conf_defaults(conf);
	parse_args(argc, args, &role, &check);

	switch (role) {
	case ROLE_DNS:
		dns_main(foreground, ovr.verbose);
	case ROLE_PROXY:
		proxy_main(foreground, ovr.verbose);
	case ROLE_PARENT:
		break;
	}

	if (parent_load_conf(conf) == -1)
		exit(1);
	if (check) {
		conf_print(stdout, conf);
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
	parent_prepare_dirs();
	parent_open_sockets();

	log_init(foreground, LOG_DAEMON);
	log_setverbose(conf->verbose);
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	proc_title("parent");
	signal(SIGPIPE, SIG_IGN);

	event_init();
	signal_set(&ev_hup, SIGHUP, parent_sig, NULL);
	signal_set(&ev_term, SIGTERM, parent_sig, NULL);
	signal_set(&ev_int, SIGINT, parent_sig, NULL);
	signal_set(&ev_chld, SIGCHLD, parent_sig, NULL);
	signal_add(&ev_hup, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_chld, NULL);

	parent_start();
	privdrop_parent();
	log_info("started: dns on %d address(es), proxy on port %d, "
	    "%u addresses in the range", conf->dns_listen_count,
	    ntohs(conf->proxy_listen.sin_port),
	    conf->range_last - conf->range_first + 1);

	event_dispatch();
	fatalx("event loop ended");
}
