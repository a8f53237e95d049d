/*
 * dns44ctl.c: asks a running dns44 through its control socket.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

#define CTL_TIMEOUT_MS	10000

static void	usage(void) __attribute__((__noreturn__));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: dns44ctl [-s socket] command [argument ...]\n"
	    "commands:\n"
	    "  reload              re-read the configuration file\n"
	    "  log verbose|brief   turn debug logging on or off\n");
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

/* Wait for the answer to request id 1: 0 for OK, 1 for a failure. */
static int
ctl_wait(struct msg_chan *mc)
{
	struct pollfd	pfd;
	struct msg	m;
	int		n;

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
			fprintf(stderr, "dns44ctl: %s\n", (char *)m.data);
			return (1);
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
	const char	*path = DNS44_CONTROL;
	int		 ch, s, rv;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((mc = malloc(sizeof(*mc))) == NULL) {
		perror("dns44ctl");
		return (1);
	}

	if (strcmp(argv[0], "reload") == 0 && argc == 1) {
		s = ctl_connect(path);
		msg_init(mc, s);
		if (msg_compose(mc, MSG_CTL_RELOAD, 1, -1, NULL, 0) == -1)
			goto fail;
	} else if (strcmp(argv[0], "log") == 0 && argc == 2 &&
	    (strcmp(argv[1], "verbose") == 0 ||
	    strcmp(argv[1], "brief") == 0)) {
		ml.verbose = strcmp(argv[1], "verbose") == 0;
		s = ctl_connect(path);
		msg_init(mc, s);
		if (msg_compose(mc, MSG_CTL_LOG, 1, -1, &ml, sizeof(ml)) == -1)
			goto fail;
	} else
		usage();
	if (msg_pending(mc) && msg_flush(mc) == -1)
		goto fail;
	rv = ctl_wait(mc);
	msg_clear(mc);
	close(mc->fd);
	free(mc);
	return (rv);
 fail:
	fprintf(stderr, "dns44ctl: sending request: %s\n", strerror(errno));
	msg_clear(mc);
	free(mc);
	return (1);
}
