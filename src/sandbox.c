/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * sandbox.c: the system calls a child may make once it runs, as a seccomp
 * filter (libseccomp).  Anything else kills the process, and the parent
 * then stops the daemon.  Opening files is refused with EACCES instead, so
 * that libc's lazy reads (time zone files, say) fail quietly; a child has
 * no file it needs to open after start-up.  So is an AF_UNIX socket, which
 * syslog(3) would make again after syslogd restarted: an abstract one
 * would lead out of the chroot.  Signals and resource limits reach the
 * process itself only, ioctl(2) does the one request libevent makes and
 * the one isatty(3) does, and no memory becomes executable.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/* What both children need: memory, time, signals, events, sockets. */
static const char *sandbox_common[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"fstat", "newfstatat", "lseek", "fcntl", "ftruncate",
	"fsync", "fdatasync", "msync", "fallocate", "fadvise64",
	"munmap", "mremap", "brk", "madvise",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"restart_syscall", "exit", "exit_group", "futex",
	"sched_yield", "getrandom",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getrlimit", "getrusage", "uname",
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "poll",
	"ppoll", "select", "pselect6",
	"connect", "bind", "accept4", "accept", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg",
	"recvmsg", "sendmmsg", "recvmmsg", "shutdown",
	NULL
};

/*
 * The dns process reads the lists of its rules through copies of the
 * parent's descriptors, at start and at every reload.  DNS over TLS needs
 * nothing more: OpenSSL reads its configuration and the certificates
 * before the chroot, and then makes only calls of the common list (read,
 * write, getpid, getrandom when it reseeds) on the sockets libevent makes.
 */
static const char *sandbox_dns[] = {
	"dup", NULL
};

/* The proxy relays through pipes. */
static const char *sandbox_proxy[] = {
	"splice", "pipe2", "pipe", NULL
};

static void
sandbox_allow(scmp_filter_ctx ctx, const char **names)
{
	int	nr;

	for (; *names != NULL; names++) {
		/* A call this architecture does not have needs no rule. */
		if ((nr = seccomp_syscall_resolve_name(*names)) ==
		    __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			fatalx("%s: seccomp rule for %s", __func__, *names);
	}
}

/*
 * LeakSanitizer checks for leaks at exit by stopping the process's threads
 * with ptrace and reading /proc, which a chrooted child under this filter
 * cannot do.  In a build with sanitizers, then, a child gets no leak check
 * unless DNS44_LEAKCHECK is set in the environment, and then it stays
 * outside its chroot and its filter, for the test that looks for leaks.
 * Other builds have no such mode.
 */
int
sandbox_leakcheck(void)
{
#ifdef DNS44_SANITIZERS
	return (getenv("DNS44_LEAKCHECK") != NULL);
#else
	return (0);
#endif
}

/* In a child about to exec itself. */
void
sandbox_exec_env(void)
{
#ifdef DNS44_SANITIZERS
	const char	*old;
	char		*opts;

	if (sandbox_leakcheck())
		return;
	old = getenv("ASAN_OPTIONS");
	if (asprintf(&opts, "%s%sdetect_leaks=0", old != NULL ? old : "",
	    old != NULL && *old != '\0' ? ":" : "") == -1 ||
	    setenv("ASAN_OPTIONS", opts, 1) == -1)
		fatal("%s: ASAN_OPTIONS", __func__);
	free(opts);
#endif
}

/*
 * A call when one argument compares so; SCMP_A0() and its kind leave a
 * field out, which clang flags.  A call this architecture does not have
 * needs no rule.
 */
static void
sandbox_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	struct scmp_arg_cmp	cmp;
	int			nr;

	if ((nr = seccomp_syscall_resolve_name(name)) == __NR_SCMP_ERROR)
		return;
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = arg;
	cmp.op = op;
	cmp.datum_a = a;
	cmp.datum_b = b;
	if (seccomp_rule_add_array(ctx, action, nr, 1, &cmp) != 0)
		fatalx("%s: seccomp rule for %s", __func__, name);
}

/* What takes arguments that must be checked. */
static void
sandbox_allow_args(scmp_filter_ctx ctx)
{
	/* Taken before the filter: the filter holds it as a constant. */
	scmp_datum_t	pid = (scmp_datum_t)getpid();

	sandbox_rule(ctx, SCMP_ACT_ALLOW, "socket", 0, SCMP_CMP_EQ, AF_INET,
	    0);
	/* Upstreams and destinations may have IPv6 addresses. */
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "socket", 0, SCMP_CMP_EQ, AF_INET6,
	    0);
	sandbox_rule(ctx, SCMP_ACT_ERRNO(EACCES), "socket", 0, SCMP_CMP_EQ,
	    AF_UNIX, 0);

	/* abort() and raise() signal the process; nothing else may be. */
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "kill", 0, SCMP_CMP_EQ, pid, 0);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "tkill", 0, SCMP_CMP_EQ, pid, 0);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "tgkill", 0, SCMP_CMP_EQ, pid, 0);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "prlimit64", 0, SCMP_CMP_EQ, 0, 0);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "prlimit64", 0, SCMP_CMP_EQ, pid, 0);

	sandbox_rule(ctx, SCMP_ACT_ALLOW, "ioctl", 1, SCMP_CMP_EQ, FIONREAD, 0);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "ioctl", 1, SCMP_CMP_EQ, TCGETS, 0);

	sandbox_rule(ctx, SCMP_ACT_ALLOW, "mmap", 2, SCMP_CMP_MASKED_EQ,
	    PROT_EXEC, 0);
	sandbox_rule(ctx, SCMP_ACT_ALLOW, "mprotect", 2, SCMP_CMP_MASKED_EQ,
	    PROT_EXEC, 0);
}

void
sandbox_child(enum dns44_role role)
{
	scmp_filter_ctx	ctx;

	if (sandbox_leakcheck()) {
		log_warnx("leak check mode: no seccomp filter");
		return;
	}

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		fatalx("%s: seccomp_init", __func__);
	sandbox_allow(ctx, sandbox_common);
	if (role == ROLE_DNS)
		sandbox_allow(ctx, sandbox_dns);
	if (role == ROLE_PROXY)
		sandbox_allow(ctx, sandbox_proxy);
	sandbox_allow_args(ctx);
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat),
	    0) != 0 || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(open), 0) != 0)
		fatalx("%s: seccomp rule for open", __func__);
	if (seccomp_load(ctx) != 0)
		fatalx("%s: cannot load the seccomp filter", __func__);
	seccomp_release(ctx);
}
