/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_via.c: the client side of SOCKS5 and HTTP CONNECT (src/proxy_via.c)
 * against any server.  The input's first byte picks the protocol, the
 * command and whether a user is sent, its second the size of the pieces
 * the server's bytes (the rest) come in over a TCP connection on
 * loopback, the loop turning between them; then the server closes.  The
 * handshake ends once, never by its timer, and succeeds exactly when a
 * second reading of the bytes, written here from the RFCs, says it
 * should; a success leaves every byte after the reply in the socket for
 * the tunnel.  Each SOCKS5 reply of a UDP relay's handshake is checked
 * the same way.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "rules.h"
#include "proxy.h"

#define FUZZ_HTTP_MAX	8192	/* proxy_via.c's bound on the header */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int		 lsock = -1;
static struct sockaddr_in lsin;
static int		 calls;
static int		 timed_out;
static int		 succeeded;

static void
outcome(void *arg, const union conf_addr *relay, const char *why)
{
	(void)arg;
	(void)relay;
	calls++;
	succeeded = why == NULL;
	timed_out = why != NULL && strcmp(why, "timed out") == 0;
}

/* A connection on loopback, both ends reset at close: no TIME_WAIT. */
static void
fuzz_pair(int *cli, int *srv)
{
	struct linger	lg = { 1, 0 };
	socklen_t	len = sizeof(lsin);
	int		on = 1;

	if (lsock == -1) {
		memset(&lsin, 0, sizeof(lsin));
		lsin.sin_family = AF_INET;
		lsin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((lsock = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(lsock, (struct sockaddr *)&lsin, sizeof(lsin)) ==
		    -1 || listen(lsock, 4) == -1 ||
		    getsockname(lsock, (struct sockaddr *)&lsin, &len) == -1)
			abort();
	}
	/* libFuzzer's alarm interrupts what blocks. */
	if ((*cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    (connect(*cli, (struct sockaddr *)&lsin, sizeof(lsin)) == -1 &&
	    errno != EINPROGRESS))
		*srv = -1;
	else
		while ((*srv = accept(lsock, NULL, NULL)) == -1 &&
		    errno == EINTR)
			;
	if (*srv == -1 ||
	    setsockopt(*cli, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1 ||
	    setsockopt(*srv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1 ||
	    setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ==
	    -1) {
		perror("fuzz_via: a connection on loopback");
		abort();
	}
}

/*
 * How long the HTTP response header in p is, to its blank line (CRLF or
 * a bare LF after a LF), if it ends within the bound; 0 if not.
 * *ok: its status line is "HTTP/1.D 2DD" then a space or the line's end.
 */
static size_t
http_header(const uint8_t *p, size_t len, int *ok)
{
	size_t	i;

	*ok = 0;
	for (i = 1; i < len && i < FUZZ_HTTP_MAX; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i - 1] != '\n' && !(i >= 2 && p[i - 1] == '\r' &&
		    p[i - 2] == '\n'))
			continue;
		*ok = i + 1 >= 13 && memcmp(p, "HTTP/1.", 7) == 0 &&
		    p[7] >= '0' && p[7] <= '9' && p[8] == ' ' &&
		    p[9] == '2' && p[10] >= '0' && p[10] <= '9' &&
		    p[11] >= '0' && p[11] <= '9' &&
		    (p[12] == ' ' || p[12] == '\r' || p[12] == '\n');
		return (i + 1);
	}
	return (0);
}

/*
 * How long a SOCKS5 handshake's answers in p are (method, the user's
 * if asked, the reply), if they are there in full and accept; 0 if not.
 */
static size_t
socks5_answers(const uint8_t *p, size_t len, int user, int udp)
{
	size_t	at = 2, rlen;

	if (len < 2 || p[0] != 5)
		return (0);
	if (p[1] == 2 && user) {
		if (len < 4 || p[2] != 1 || p[3] != 0)
			return (0);
		at = 4;
	} else if (p[1] != 0)
		return (0);
	if (len < at + 5 || p[at] != 5 || p[at + 1] != 0 || p[at + 2] != 0)
		return (0);
	switch (p[at + 3]) {
	case 1:
		rlen = 10;
		break;
	case 3:
		if (p[at + 4] == 0)
			return (0);
		rlen = 4 + 1 + p[at + 4] + 2;
		break;
	case 4:
		rlen = 22;
		break;
	default:
		return (0);
	}
	if (len < at + rlen)
		return (0);
	/* A UDP relay: an address, IPv4 or IPv6, and a port. */
	if (udp && (p[at + 3] == 3 ||
	    (p[at + rlen - 2] == 0 && p[at + rlen - 1] == 0)))
		return (0);
	return (at + rlen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	struct rule_route	 route;
	struct proxy_via	*v;
	const char		*why;
	size_t			 chunk, off, n, want;
	int			 cli, srv, cmd, user, http, ok, left, i;

	if (size < 2)
		return (0);
	if (!inited) {
		event_init();
		inited = 1;
	}
	http = data[0] & 1;
	cmd = !http && (data[0] & 2) ? PROXY_VIA_ASSOCIATE : PROXY_VIA_CONNECT;
	user = (data[0] & 4) != 0;
	chunk = data[1] != 0 ? data[1] : size;
	data += 2;
	size -= 2;

	memset(&route, 0, sizeof(route));
	route.via = http ? VIA_HTTP : VIA_SOCKS5;
	if (user) {
		strlcpy(route.user, "user", sizeof(route.user));
		strlcpy(route.password, "secret", sizeof(route.password));
	}
	if (http)
		want = http_header(data, size, &ok);
	else {
		want = socks5_answers(data, size, user,
		    cmd == PROXY_VIA_ASSOCIATE);
		ok = want != 0;
	}

	fuzz_pair(&cli, &srv);
	calls = 0;
	if ((v = proxy_via_start(cli, cmd, &route, "www.example.test", 443,
	    5000, outcome, NULL, &why)) == NULL)
		abort();
	for (off = 0; off < size && calls == 0; off += n) {
		n = size - off < chunk ? size - off : chunk;
		if (write(srv, data + off, n) != (ssize_t)n)
			abort();
		for (i = 0; i < 4 && calls == 0; i++)
			event_loop(EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	if (calls == 0)
		shutdown(srv, SHUT_WR);
	while (calls == 0)
		event_loop(EVLOOP_ONCE);
	event_loop(EVLOOP_NONBLOCK);

	/* Once, never by the timer, as the bytes say. */
	if (calls != 1 || timed_out || succeeded != ok) {
		fprintf(stderr, "fuzz_via: %d calls, %s, expected %s\n",
		    calls, succeeded ? "accepted" : "refused",
		    ok ? "accepted" : "refused");
		abort();
	}
	/* What is left for the tunnel: all after the reply, no more. */
	if (succeeded && cmd == PROXY_VIA_CONNECT) {
		if (ioctl(cli, FIONREAD, &left) == -1)
			abort();
		if ((size_t)left + want != off) {
			fprintf(stderr, "fuzz_via: %d bytes left of %zu sent, "
			    "the reply %zu\n", left, off, want);
			abort();
		}
	}
	close(cli);
	close(srv);
	return (0);
}
