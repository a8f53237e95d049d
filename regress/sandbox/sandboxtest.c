/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * sandboxtest.c: the children's seccomp filters (src/sandbox.c).  In a
 * forked process each filter lets through what the role does and kills
 * the process on anything else; opening a file fails with EACCES.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "../lib/test.h"

struct dns44_conf	*conf;

enum probe {
	PROBE_ALLOWED,		/* sockets, pipes (proxy), time: exit 0 */
	PROBE_OPEN,		/* exit 0 when open() says EACCES */
	PROBE_EXEC,
	PROBE_FORK,
	PROBE_PACKET,		/* socket(AF_PACKET) */
	PROBE_PIPE,		/* pipe2 */
};

/* The status of a child that installed role's filter and tried probe. */
static int
run(enum dns44_role role, enum probe probe)
{
	char	*argv[] = { "/bin/true", NULL };
	pid_t	 pid;
	int	 status, s, p[2];

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		sandbox_child(role);
		switch (probe) {
		case PROBE_ALLOWED:
			if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
				_exit(2);
			close(s);
			if ((s = socket(AF_UNIX, SOCK_SEQPACKET, 0)) == -1)
				_exit(3);
			close(s);
			if (time(NULL) == -1)
				_exit(4);
			_exit(0);
		case PROBE_OPEN:
			_exit(open("/etc/passwd", O_RDONLY) == -1 &&
			    errno == EACCES ? 0 : 5);
		case PROBE_EXEC:
			execv(argv[0], argv);
			_exit(6);
		case PROBE_FORK:
			/* glibc's fork() is clone(2). */
			_exit(fork() == -1 ? 7 : 8);
		case PROBE_PACKET:
			socket(AF_PACKET, SOCK_RAW, 0);
			_exit(9);
		case PROBE_PIPE:
			_exit(pipe2(p, O_NONBLOCK) == 0 ? 0 : 10);
		}
		_exit(11);
	}
	if (waitpid(pid, &status, 0) == -1)
		return (-1);
	return (status);
}

static int
killed(int status)
{
	return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
}

static int
exited0(int status)
{
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int
main(void)
{
	enum dns44_role	 roles[] = { ROLE_DNS, ROLE_PROXY };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		CHECK(exited0(run(roles[i], PROBE_ALLOWED)));
		CHECK(exited0(run(roles[i], PROBE_OPEN)));
		CHECK(killed(run(roles[i], PROBE_EXEC)));
		CHECK(killed(run(roles[i], PROBE_FORK)));
		CHECK(killed(run(roles[i], PROBE_PACKET)));
	}
	/* Pipes are the proxy's alone. */
	CHECK(killed(run(ROLE_DNS, PROBE_PIPE)));
	CHECK(exited0(run(ROLE_PROXY, PROBE_PIPE)));
	return (test_done("sandbox"));
}
