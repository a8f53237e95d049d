/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns44ctl.c: asks a running dns44 through its control socket, found in
 * dns44.conf, and shows the answers (show.c); dump.c reads a stopped
 * one's database with the same formatting.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "msg.h"
#include "dns44ctl.h"

#define CTL_TIMEOUT_MS	10000

static void	usage(void) __attribute__((__noreturn__));

int		jflag;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dns44ctl [-j] [-f file] [-o prometheus] [-s socket] "
	    "command [argument]\n"
	    "commands:\n"
	    "  show map [name|address]  the mappings, or one of them\n"
	    "  show connections         the connections and UDP sessions\n"
	    "  show stats               counters of both processes, "
	    "the upstreams\n"
	    "  show rules               the domain rules and their hits\n"
	    "  show status              processes, upstreams, map, reload, "
	    "TPROXY check\n"
	    "  test name [from address] what the rules do with a name\n"
	    "  lookup name|address      one mapping; exit 1 if none\n"
	    "  flush name|address|all   forget mappings without "
	    "connections\n"
	    "  reload                   re-read the configuration file\n"
	    "  log verbose|brief        turn debug logging on or off\n"
	    "  dump [file]              the mappings of a stopped dns44's "
	    "database\n");
	exit(1);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "dns44ctl: socket path too long: %s\n", path);
		exit(1);
	}
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "dns44ctl: cannot connect to %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	return (s);
}

/*
 * The control socket and database of dns44.conf, read with dns44's own
 * parser; nothing else of it is used.  A missing default file means the
 * built-in defaults, as for dns44, and a file named with -f must exist.
 * Errors in the file (being edited, or needing a macro given to dns44 with
 * -D) leave the lines that were right: a warning says so, and dns44 -n or
 * a reload shows the errors themselves.  A default file that cannot be
 * read leaves the built-in socket, with a warning.
 */
static void
ctl_conf(struct dns44_conf *conf, const char *file, int given)
{
	char	errs[1024];
	int	rv;

	conf_defaults(conf);
	if (!given && access(file, F_OK) == -1 && errno == ENOENT)
		return;
	if (access(file, R_OK) == -1) {
		fprintf(stderr, "dns44ctl: %s: %s\n", file, strerror(errno));
		if (given)
			exit(1);
		fprintf(stderr, "dns44ctl: trying %s\n", conf->control_path);
		return;
	}
	log_capture(errs, sizeof(errs), 0);
	rv = conf_parse(conf, file, CONF_PARTIAL);
	log_capture(NULL, 0, 0);
	ruleset_free(conf_take_rules());
	if (rv == -1)
		fprintf(stderr, "dns44ctl: %s has errors; using its control "
		    "socket %s\n", file, conf->control_path);
}

/*
 * Why the daemon said no, on stderr: one line, or for a reload the
 * errors that kept it, file:line first, each on a line of its own.
 */
static void
ctl_fail(const char *why)
{
	const unsigned char	*p;

	fputs("dns44ctl: ", stderr);
	for (p = (const unsigned char *)why; *p != '\0'; p++)
		fputc(*p == '\n' || (*p >= ' ' && *p != 0x7f) ? *p : '?',
		    stderr);
	fputc('\n', stderr);
}

/*
 * Read answers to request 1 until the last one: 0 when all went well,
 * 1 on a failure (said on stderr).
 */
static int
ctl_wait(struct msg_chan *mc, uint32_t request)
{
	struct ctl_map_entry	 e;
	struct ctl_flushed	 fl;
	struct ctl_stats_dns	 st;
	struct ctl_stats_proxy	 ps;
	struct ctl_conn		 cn;
	struct ctl_rule		 cr;
	struct ctl_tested	 tr;
	struct ctl_upstream	 cu;
	struct ctl_status	 cs;
	struct pollfd		 pfd;
	int			 have_st = 0, reset = 0;
	struct msg		 m;
	const unsigned char	*p;
	size_t			 i, nent;
	int			 n;

	for (;;) {
		pfd.fd = mc->fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, CTL_TIMEOUT_MS)) == -1) {
			if (errno == EINTR)
				continue;
			perror("dns44ctl: poll");
			return (1);
		}
		if (n == 0) {
			fprintf(stderr, "dns44ctl: no answer from dns44\n");
			return (1);
		}
		n = msg_read(mc, &m);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		/*
		 * A peer the daemon turns away is closed on with its request
		 * unread: the kernel reports the reset first, once, and the
		 * answer that came before it after.
		 */
		if (n == -1 && errno == ECONNRESET && !reset) {
			reset = 1;
			continue;
		}
		if (n == 0) {
			fprintf(stderr, "dns44ctl: dns44 closed the "
			    "connection\n");
			return (1);
		}
		if (n == -1) {
			fprintf(stderr, "dns44ctl: bad answer: %s\n",
			    strerror(errno));
			return (1);
		}
		switch (m.hdr.type) {
		case MSG_CTL_OK:
			return (0);
		case MSG_CTL_FAIL:
			ctl_fail(msg_get_str(&m));
			return (1);
		case MSG_CTL_MAP:
			if (jflag && nshown == 0 && request != MSG_CTL_FLUSH)
				printf("[");
			p = msg_get_array(&m, sizeof(e), &nent);
			for (i = 0; i < nent; i++) {
				memcpy(&e, p + i * sizeof(e), sizeof(e));
				show_entry(&e);
			}
			break;
		case MSG_CTL_METRICS_TEXT:
			if (request != MSG_CTL_METRICS) {
				fprintf(stderr, "dns44ctl: unexpected "
				    "metrics\n");
				return (1);
			}
			fwrite(m.data, 1, m.len, stdout);
			break;
		case MSG_CTL_END:
			if (request == MSG_CTL_METRICS)
				return (fflush(stdout) == 0 ? 0 : 1);
			if (jflag)
				printf("%s]\n", nshown > 0 ? "\n" : "[");
			return (0);
		case MSG_CTL_FLUSHED:
			msg_get(&m, &fl, sizeof(fl));
			if (jflag)
				printf("%s],\n \"flushed\": %u, "
				    "\"kept\": %u}\n",
				    nshown > 0 ? "\n" : "", fl.removed,
				    fl.kept);
			else
				printf("%sflushed %u, kept %u in use\n",
				    nshown > 0 ? "\n" : "", fl.removed,
				    fl.kept);
			return (0);
		case MSG_CTL_STATS_DNS:
			msg_get(&m, &st, sizeof(st));
			have_st = 1;
			break;
		case MSG_CTL_UPSTREAMS:
			if (!have_st) {
				fprintf(stderr, "dns44ctl: upstreams before "
				    "the dns counters\n");
				return (1);
			}
			p = msg_get_array(&m, sizeof(cu), &nent);
			for (i = 0; i < nent; i++) {
				memcpy(&cu, p + i * sizeof(cu), sizeof(cu));
				show_upstream_add(&cu);
			}
			break;
		case MSG_CTL_STATS_PROXY:
			if (!have_st) {
				fprintf(stderr, "dns44ctl: proxy counters "
				    "before the dns ones\n");
				return (1);
			}
			msg_get(&m, &ps, sizeof(ps));
			show_stats(&st, &ps);
			return (0);
		case MSG_CTL_RULE:
			if (jflag && nshown == 0)
				printf("[");
			p = msg_get_array(&m, sizeof(cr), &nent);
			for (i = 0; i < nent; i++) {
				memcpy(&cr, p + i * sizeof(cr), sizeof(cr));
				show_rule(&cr);
			}
			break;
		case MSG_CTL_TESTED:
			msg_get(&m, &tr, sizeof(tr));
			show_tested(&tr);
			return (0);
		case MSG_CTL_STATUS_INFO:
			msg_get(&m, &cs, sizeof(cs));
			show_status(&cs);
			return (0);
		case MSG_CTL_CONN:
			if (jflag && nshown == 0)
				printf("[");
			p = msg_get_array(&m, sizeof(cn), &nent);
			for (i = 0; i < nent; i++) {
				memcpy(&cn, p + i * sizeof(cn), sizeof(cn));
				show_conn(&cn);
			}
			break;
		default:
			fprintf(stderr, "dns44ctl: unexpected answer %s\n",
			    msg_type_name(m.hdr.type));
			return (1);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct msg_chan	*mc;
	struct msg_log	 ml;
	struct ctl_test	 t;
	struct in_addr	 in;
	static struct dns44_conf conf;	/* the path points into it */
	const char	*path = NULL, *arg = "";
	const char	*conf_file = DNS44_CONF_FILE;
	uint32_t	 type;
	const void	*data = NULL;
	size_t		 len = 0;
	int		 ch, rv, dump, fflag = 0, prom = 0;

	while ((ch = getopt(argc, argv, "f:jo:s:")) != -1) {
		switch (ch) {
		case 'f':
			conf_file = optarg;
			fflag = 1;
			break;
		case 'j':
			jflag = 1;
			break;
		case 'o':
			if (strcmp(optarg, "prometheus") != 0) {
				fprintf(stderr, "dns44ctl: unknown output "
				    "format %s\n", optarg);
				return (1);
			}
			prom = 1;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || argc > 4)
		usage();
	dump = strcmp(argv[0], "dump") == 0 && argc <= 2;
	/* The file is not read for what -s or dump FILE already says. */
	if (dump || path == NULL) {
		if (!dump || argc == 1)
			ctl_conf(&conf, conf_file, fflag);
		else
			conf_defaults(&conf);
		if (dump)
			return (dump_main(&conf, argc == 2 ? argv[1] : NULL));
		path = conf.control_path;
	}
	if (argc >= 2)
		arg = argv[argc - 1];
	if (strlen(arg) >= 256) {
		fprintf(stderr, "dns44ctl: argument too long\n");
		return (1);
	}

	if (strcmp(argv[0], "reload") == 0 && argc == 1)
		type = MSG_CTL_RELOAD;
	else if (strcmp(argv[0], "log") == 0 && argc == 2 &&
	    (strcmp(arg, "verbose") == 0 || strcmp(arg, "brief") == 0)) {
		type = MSG_CTL_LOG;
		ml.verbose = strcmp(arg, "verbose") == 0;
		data = &ml;
		len = sizeof(ml);
	} else if (strcmp(argv[0], "show") == 0 && argc >= 2 &&
	    strcmp(argv[1], "map") == 0) {
		if (argc == 2)
			arg = "";
		type = MSG_CTL_SHOW_MAP;
	} else if (strcmp(argv[0], "show") == 0 && argc == 2 &&
	    strcmp(argv[1], "stats") == 0)
		type = prom ? MSG_CTL_METRICS : MSG_CTL_STATS;
	else if (strcmp(argv[0], "show") == 0 && argc == 2 &&
	    strcmp(argv[1], "connections") == 0)
		type = MSG_CTL_SHOW_CONN;
	else if (strcmp(argv[0], "show") == 0 && argc == 2 &&
	    strcmp(argv[1], "rules") == 0)
		type = MSG_CTL_SHOW_RULES;
	else if (strcmp(argv[0], "show") == 0 && argc == 2 &&
	    strcmp(argv[1], "status") == 0)
		type = MSG_CTL_STATUS;
	else if (strcmp(argv[0], "test") == 0 && (argc == 2 ||
	    (argc == 4 && strcmp(argv[2], "from") == 0))) {
		type = MSG_CTL_TEST;
		memset(&t, 0, sizeof(t));
		if (strlcpy(t.name, argv[1], sizeof(t.name)) >=
		    sizeof(t.name)) {
			fprintf(stderr, "dns44ctl: name too long\n");
			return (1);
		}
		if (argc == 4) {
			if (inet_pton(AF_INET, argv[3], &in) != 1) {
				fprintf(stderr, "dns44ctl: not an IPv4 "
				    "address: %s\n", argv[3]);
				return (1);
			}
			t.client = in.s_addr;
			t.have_client = 1;
		}
		data = &t;
		len = sizeof(t);
	} else if (strcmp(argv[0], "lookup") == 0 && argc == 2)
		type = MSG_CTL_LOOKUP;
	else if (strcmp(argv[0], "flush") == 0 && argc == 2)
		type = MSG_CTL_FLUSH;
	else
		usage();
	if (prom && type != MSG_CTL_METRICS)
		usage();
	if (type == MSG_CTL_SHOW_MAP || type == MSG_CTL_LOOKUP ||
	    type == MSG_CTL_FLUSH) {
		data = arg;
		len = strlen(arg) + 1;
	}
	if (type == MSG_CTL_FLUSH && jflag)
		printf("{\"in_use\": [");

	if ((mc = malloc(sizeof(*mc))) == NULL) {
		perror("dns44ctl");
		return (1);
	}
	msg_init(mc, ctl_connect(path), MSG_RX_CTL);
	/* A refused peer is told why and cut off, maybe before it asks. */
	if ((msg_compose(mc, type, 1, -1, data, len) == -1 ||
	    (msg_pending(mc) && msg_flush(mc) == -1)) && errno != EPIPE &&
	    errno != ECONNRESET) {
		fprintf(stderr, "dns44ctl: sending request: %s\n",
		    strerror(errno));
		rv = 1;
	} else
		rv = ctl_wait(mc, type);
	msg_clear(mc);
	close(mc->fd);
	free(mc);
	return (rv);
}
