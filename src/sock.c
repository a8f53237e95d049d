/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * sock.c: the sockets the parent makes for its children.  Only the parent
 * calls these at run time: transparent sockets need CAP_NET_ADMIN and low
 * ports CAP_NET_BIND_SERVICE, which the children never hold.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

static int
sock_set(int s, int level, int name, int on)
{
	return (setsockopt(s, level, name, &on, sizeof(on)));
}

/* Close s keeping errno, for the error paths. */
static int
sock_fail(int s)
{
	int	saved_errno = errno;

	close(s);
	errno = saved_errno;
	return (-1);
}

/*
 * A socket of type bound to sin, with SO_REUSEADDR; with SOCK_TRANSPARENT
 * in flags IP_TRANSPARENT, so that it may bind a foreign address, and with
 * SOCK_REUSEPORT SO_REUSEPORT, so that the kernel spreads connections and
 * datagrams among the sockets bound to the same address.
 */
static int
sock_bound(int type, const struct sockaddr_in *sin, int flags)
{
	int	s;

	s = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return (-1);
	if (sock_set(s, SOL_SOCKET, SO_REUSEADDR, 1) == -1 ||
	    ((flags & SOCK_TRANSPARENT) &&
	    sock_set(s, SOL_IP, IP_TRANSPARENT, 1) == -1) ||
	    ((flags & SOCK_REUSEPORT) &&
	    sock_set(s, SOL_SOCKET, SO_REUSEPORT, 1) == -1) ||
	    bind(s, (const struct sockaddr *)sin, sizeof(*sin)) == -1)
		return (sock_fail(s));
	return (s);
}

/*
 * A UDP socket bound to sin.  A transparent one (the proxy's) also reports
 * each datagram's original destination.
 */
int
sock_udp(const struct sockaddr_in *sin, int flags)
{
	int	s;

	if ((s = sock_bound(SOCK_DGRAM, sin, flags)) == -1)
		return (-1);
	if ((flags & SOCK_TRANSPARENT) &&
	    sock_set(s, SOL_IP, IP_RECVORIGDSTADDR, 1) == -1)
		return (sock_fail(s));
	return (s);
}

/* A listening TCP socket bound to sin. */
int
sock_tcp(const struct sockaddr_in *sin, int flags, int backlog)
{
	int	s;

	if ((s = sock_bound(SOCK_STREAM, sin, flags)) == -1)
		return (-1);
	if (listen(s, backlog) == -1)
		return (sock_fail(s));
	return (s);
}

/*
 * The control socket: a listening SOCK_SEQPACKET unix socket, owned by
 * root and the given group, with the given mode.
 */
int
sock_unix(const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un	 sun;
	mode_t			 omask;
	int			 s, saved_errno;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1)
		return (-1);
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	/* No moment where the socket exists with a wider mode. */
	omask = umask(0777 & ~mode);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(omask);
		goto fail;
	}
	umask(omask);
	if (chown(path, 0, gid) == -1 || chmod(path, mode) == -1 ||
	    listen(s, 16) == -1) {
		saved_errno = errno;
		unlink(path);
		errno = saved_errno;
		goto fail;
	}
	return (s);
 fail:
	return (sock_fail(s));
}

/*
 * The socket UDP replies from virt leave through, shared by every session
 * to virt: bound to it, unconnected, each reply sent to its client.  One
 * bind per virtual address and port, not per session: each bind to a
 * port scans every socket already bound there.
 */
int
sock_reply(const struct sockaddr_in *virt)
{
	return (sock_bound(SOCK_DGRAM, virt, 1));
}
