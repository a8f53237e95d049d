/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * socktest.c: the sockets the parent makes (src/sock.c).  run.sh starts it
 * in a network namespace of its own where 172.24.0.0/16 is routed locally,
 * as on a gateway.  It checks that the transparent options are set, that
 * the control socket has its mode and owner, and that a reply socket sends
 * from the virtual address to its client and receives the client's
 * answers, also when several clients share one virtual address and port.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "../lib/test.h"

struct dns44_conf	*conf;

static struct sockaddr_in
sin_make(const char *addr, int port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	return (sin);
}

static int
getopt_int(int s, int level, int name)
{
	int		v = -1;
	socklen_t	len = sizeof(v);

	if (getsockopt(s, level, name, &v, &len) == -1)
		return (-1);
	return (v);
}

static void
test_listeners(void)
{
	struct sockaddr_in	sin = sin_make("127.0.0.1", 4480);
	int			u, t, plain;

	u = sock_udp(&sin, 1);
	CHECK(u != -1);
	CHECK_EQ(getopt_int(u, SOL_IP, IP_TRANSPARENT), 1);
	CHECK_EQ(getopt_int(u, SOL_IP, IP_RECVORIGDSTADDR), 1);
	t = sock_tcp(&sin, 1, 16);
	CHECK(t != -1);
	CHECK_EQ(getopt_int(t, SOL_IP, IP_TRANSPARENT), 1);
	CHECK_EQ(getopt_int(t, SOL_SOCKET, SO_ACCEPTCONN), 1);

	sin = sin_make("127.0.0.1", 4453);
	plain = sock_udp(&sin, 0);
	CHECK(plain != -1);
	CHECK_EQ(getopt_int(plain, SOL_IP, IP_TRANSPARENT), 0);
	CHECK_EQ(getopt_int(plain, SOL_IP, IP_RECVORIGDSTADDR), 0);
	close(u);
	close(t);
	close(plain);
}

static void
test_unix(void)
{
	char		dir[] = "/tmp/dns44-socktest.XXXXXX", path[128];
	struct stat	st;
	int		s;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	s = sock_unix(path, 0660, 4);
	CHECK(s != -1);
	CHECK(stat(path, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0660);
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(st.st_gid, 4);
	CHECK_EQ(getopt_int(s, SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
	close(s);
	/* A stale socket from a previous run is replaced. */
	s = sock_unix(path, 0660, 0);
	CHECK(s != -1);
	close(s);
	unlink(path);
	rmdir(dir);
	errno = 0;
	CHECK_EQ(sock_unix("/tmp/a-path-that-is-far-too-long-for-sun-path-"
	    "a-path-that-is-far-too-long-for-sun-path-a-path-that-is-far-too",
	    0660, 0), -1);
	CHECK_EQ(errno, ENAMETOOLONG);
}

/*
 * One reply socket for a virtual address and port, shared by its
 * clients: each reply comes to its client from virt, and datagrams the
 * clients send to virt arrive on it when no TPROXY rule takes them.
 */
static void
test_reply(void)
{
	struct sockaddr_in	virt = sin_make("172.24.9.9", 53);
	struct sockaddr_in	c1 = sin_make("127.0.0.1", 0), c2, from, name;
	socklen_t		len;
	char			buf[16];
	int			cl1, cl2, r;
	ssize_t			n;

	cl1 = socket(AF_INET, SOCK_DGRAM, 0);
	cl2 = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(cl1, (struct sockaddr *)&c1, sizeof(c1)) == 0);
	c2 = c1;
	CHECK(bind(cl2, (struct sockaddr *)&c2, sizeof(c2)) == 0);
	len = sizeof(c1);
	getsockname(cl1, (struct sockaddr *)&c1, &len);
	len = sizeof(c2);
	getsockname(cl2, (struct sockaddr *)&c2, &len);
	/* Connected clients: they drop datagrams from any other source. */
	CHECK(connect(cl1, (struct sockaddr *)&virt, sizeof(virt)) == 0);
	CHECK(connect(cl2, (struct sockaddr *)&virt, sizeof(virt)) == 0);

	r = sock_reply(&virt);
	CHECK(r != -1);
	CHECK_EQ(getopt_int(r, SOL_IP, IP_TRANSPARENT), 1);
	len = sizeof(name);
	CHECK(getsockname(r, (struct sockaddr *)&name, &len) == 0);
	CHECK_EQ(name.sin_addr.s_addr, virt.sin_addr.s_addr);
	CHECK_EQ(name.sin_port, virt.sin_port);
	/* Unconnected: each reply names its client. */
	len = sizeof(from);
	CHECK(getpeername(r, (struct sockaddr *)&from, &len) == -1);
	CHECK_EQ(errno, ENOTCONN);
	/* A second one for the same address, as another proxy would have. */
	n = sock_reply(&virt);
	CHECK(n != -1);
	close(n);
	CHECK_EQ(sendto(r, "one", 3, 0, (struct sockaddr *)&c1, sizeof(c1)),
	    3);
	CHECK_EQ(sendto(r, "two", 3, 0, (struct sockaddr *)&c2, sizeof(c2)),
	    3);

	len = sizeof(from);
	n = recvfrom(cl1, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &len);
	CHECK_EQ(n, 3);
	CHECK(n == 3 && memcmp(buf, "one", 3) == 0);
	CHECK_EQ(from.sin_addr.s_addr, virt.sin_addr.s_addr);
	CHECK_EQ(from.sin_port, virt.sin_port);
	len = sizeof(from);
	n = recvfrom(cl2, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &len);
	CHECK_EQ(n, 3);
	CHECK(n == 3 && memcmp(buf, "two", 3) == 0);
	CHECK_EQ(from.sin_addr.s_addr, virt.sin_addr.s_addr);

	/* Both clients' next datagrams arrive on it, each with its source. */
	CHECK_EQ(send(cl1, "back1", 5, 0), 5);
	CHECK_EQ(send(cl2, "back22", 6, 0), 6);
	usleep(20000);
	len = sizeof(from);
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &len), 5);
	CHECK_EQ(from.sin_port, c1.sin_port);
	len = sizeof(from);
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &len), 6);
	CHECK_EQ(from.sin_port, c2.sin_port);
	close(r);
	close(cl1);
	close(cl2);
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("needs root\n");
		return (77);
	}
	test_listeners();
	test_unix();
	test_reply();
	return (test_done("sock"));
}
