/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * sandboxtest.c: the children's seccomp filters (src/sandbox.c).  In a
 * forked process each filter lets through what the role does and kills
 * the process on anything else; opening a file or making an AF_UNIX
 * socket fails with EACCES.  Signals and limits reach the process itself
 * only, ioctl(2) does FIONREAD and TCGETS only, and no memory becomes
 * executable.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
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
	PROBE_SELF,		/* signal, limits, ioctls, memory: allowed */
	PROBE_UNIX,		/* exit 0 when socket(AF_UNIX) says EACCES */
	PROBE_KILL,		/* kill(2) of another process */
	PROBE_TGKILL,		/* tgkill(2) of another process's thread */
	PROBE_PRLIMIT,		/* prlimit(2) of another process */
	PROBE_TIOCSTI,		/* a character pushed into a terminal */
	PROBE_MMAP_EXEC,	/* mmap(2) of executable memory */
	PROBE_MPROTECT_EXEC,	/* mprotect(2) to executable */
	PROBE_INET6,		/* socket(AF_INET6) */
};

/* The status of a child that installed role's filter and tried probe. */
static int
run(enum dns44_role role, enum probe probe)
{
	char		*argv[] = { "/bin/true", NULL };
	struct rlimit	 rl;
	pid_t		 pid, other = getpid();
	void		*mem;
	int		 status, s, p[2], n;
	char		 c = 'x';

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		sandbox_child(role);
		switch (probe) {
		case PROBE_ALLOWED:
			if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
				_exit(2);
			close(s);
			if (time(NULL) == -1)
				_exit(4);
			_exit(0);
		case PROBE_SELF:
			if (kill(getpid(), 0) == -1 || raise(0) != 0)
				_exit(12);
			if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
			    prlimit(getpid(), RLIMIT_NOFILE, NULL, &rl) == -1)
				_exit(13);
			if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
			    ioctl(s, FIONREAD, &n) == -1 || isatty(s))
				_exit(14);
			mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (mem == MAP_FAILED ||
			    mprotect(mem, 4096, PROT_READ) == -1)
				_exit(15);
			_exit(0);
		case PROBE_UNIX:
			_exit(socket(AF_UNIX, SOCK_SEQPACKET, 0) == -1 &&
			    errno == EACCES ? 0 : 3);
		case PROBE_KILL:
			kill(other, 0);
			_exit(16);
		case PROBE_TGKILL:
			syscall(SYS_tgkill, other, other, 0);
			_exit(17);
		case PROBE_PRLIMIT:
			prlimit(other, RLIMIT_NOFILE, NULL, &rl);
			_exit(18);
		case PROBE_TIOCSTI:
			ioctl(0, TIOCSTI, &c);
			_exit(19);
		case PROBE_MMAP_EXEC:
			mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			_exit(20);
		case PROBE_MPROTECT_EXEC:
			if ((mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
				_exit(21);
			mprotect(mem, 4096, PROT_READ | PROT_EXEC);
			_exit(22);
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
		case PROBE_INET6:
			if ((s = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
				_exit(23);
			close(s);
			_exit(0);
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
		CHECK(exited0(run(roles[i], PROBE_SELF)));
		CHECK(exited0(run(roles[i], PROBE_UNIX)));
		CHECK(killed(run(roles[i], PROBE_KILL)));
		CHECK(killed(run(roles[i], PROBE_TGKILL)));
		CHECK(killed(run(roles[i], PROBE_PRLIMIT)));
		CHECK(killed(run(roles[i], PROBE_TIOCSTI)));
		CHECK(killed(run(roles[i], PROBE_MMAP_EXEC)));
		CHECK(killed(run(roles[i], PROBE_MPROTECT_EXEC)));
	}
	/* Pipes are the proxy's alone. */
	CHECK(killed(run(ROLE_DNS, PROBE_PIPE)));
	CHECK(exited0(run(ROLE_PROXY, PROBE_PIPE)));
	/* IPv6 sockets, for upstreams and real servers, are both's. */
	CHECK(exited0(run(ROLE_DNS, PROBE_INET6)));
	CHECK(exited0(run(ROLE_PROXY, PROBE_INET6)));
	return (test_done("sandbox"));
}
