/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * viatest.c: the client side of SOCKS5 and HTTP CONNECT (src/proxy_via.c)
 * against scripted servers on loopback.  Each script's bytes come in
 * pieces; the test checks what the client sent (the name, never an
 * address; the user and password), the outcome and its reason, and that
 * the bytes the server sent after its reply are still in the socket for
 * the tunnel.  Refusals, bad fields, short replies, a closed connection
 * and silence each fail with their reason; the UDP header is written and
 * checked.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "rules.h"
#include "../../src/proxy.h"
#include "../lib/test.h"

#define PIECES_MAX	8

/* A scripted server: its replies in pieces, a piece per tick. */
struct script {
	const char		*name;
	int			 via;
	int			 cmd;
	const char		*user;
	const char		*password;
	const char		*pieces[PIECES_MAX];
	size_t			 lens[PIECES_MAX];	/* 0: strlen */
	int			 close_after;	/* then the server closes */
	const char		*expect_sent;	/* what the client sends */
	size_t			 expect_len;
	const char		*expect_why;	/* NULL: success */
	const char		*expect_left;	/* for the tunnel */
	uint32_t		 expect_relay;	/* UDP, host order */
	uint16_t		 expect_port;	/* 0: the caller checks */
};

static int		 srv, cli;
static struct event	 tick;
static const struct script *cur;
static int		 piece;
static int		 done;
static char		 why_seen[256];
static union conf_addr	 relay_seen;
static int		 server_inet6;	/* the route's server is IPv6 */
static int		 relay_given;
static uint16_t		 listen_port;

static void
pair(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			l, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1)
		abort();
	listen_port = ntohs(sin.sin_port);
	if ((cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		abort();
	if (connect(cli, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		abort();
	if ((srv = accept(l, NULL, NULL)) == -1)
		abort();
	close(l);
}

static void
feed(int fd, short ev, void *arg)
{
	struct timeval	tv = { 0, 10000 };
	size_t		len;

	(void)fd;
	(void)ev;
	(void)arg;
	if (piece < PIECES_MAX && cur->pieces[piece] != NULL) {
		len = cur->lens[piece] != 0 ? cur->lens[piece] :
		    strlen(cur->pieces[piece]);
		if (write(srv, cur->pieces[piece], len) != (ssize_t)len)
			abort();
		piece++;
		evtimer_add(&tick, &tv);
		return;
	}
	if (cur->close_after)
		shutdown(srv, SHUT_WR);
}

static void
outcome(void *arg, const union conf_addr *relay, const char *why)
{
	(void)arg;
	done = 1;
	snprintf(why_seen, sizeof(why_seen), "%s", why == NULL ? "" : why);
	relay_given = relay != NULL;
	if (relay != NULL)
		relay_seen = *relay;
}

static void
run(const struct script *s)
{
	struct rule_route	 route;
	struct proxy_via	*v;
	struct timeval		 tv = { 0, 10000 };
	char			 buf[4096];
	const char		*why;
	ssize_t			 n;
	size_t			 got = 0, len;

	memset(&route, 0, sizeof(route));
	route.via = s->via;
	route.server.sa.sa_family = server_inet6 ? AF_INET6 : AF_INET;
	if (s->user != NULL) {
		strlcpy(route.user, s->user, sizeof(route.user));
		strlcpy(route.password, s->password, sizeof(route.password));
	}
	pair();
	cur = s;
	piece = 0;
	done = 0;
	relay_given = 0;
	evtimer_set(&tick, feed, NULL);
	evtimer_add(&tick, &tv);
	v = proxy_via_start(cli, s->cmd, &route, "www.example.test", 443, 300,
	    outcome, NULL, &why);
	CHECK(v != NULL);
	if (v == NULL) {
		fprintf(stderr, "%s: %s\n", s->name, why);
		goto out;
	}
	while (!done)
		event_loop(EVLOOP_ONCE);
	if (s->expect_why == NULL) {
		if (why_seen[0] != '\0')
			fprintf(stderr, "%s: %s\n", s->name, why_seen);
		CHECK(why_seen[0] == '\0');
	} else {
		if (strstr(why_seen, s->expect_why) == NULL)
			fprintf(stderr, "%s: \"%s\", expected \"%s\"\n",
			    s->name, why_seen, s->expect_why);
		CHECK(strstr(why_seen, s->expect_why) != NULL);
	}
	/* What the client sent, all of it. */
	if (s->expect_sent != NULL) {
		shutdown(cli, SHUT_WR);
		while ((n = read(srv, buf + got, sizeof(buf) - got)) > 0)
			got += n;
		if (got != s->expect_len ||
		    memcmp(buf, s->expect_sent, got) != 0)
			fprintf(stderr, "%s: sent %zu bytes, expected %zu\n",
			    s->name, got, s->expect_len);
		CHECK_EQ(got, s->expect_len);
		CHECK(memcmp(buf, s->expect_sent, s->expect_len) == 0);
	}
	/* The tunnel's first bytes: still there, nothing more. */
	if (s->expect_left != NULL) {
		evtimer_del(&tick);
		while (piece < PIECES_MAX && s->pieces[piece] != NULL) {
			len = s->lens[piece] != 0 ? s->lens[piece] :
			    strlen(s->pieces[piece]);
			if (write(srv, s->pieces[piece], len) != (ssize_t)len)
				abort();
			piece++;
		}
		shutdown(srv, SHUT_WR);
		fcntl(cli, F_SETFL, 0);
		got = 0;
		while ((n = read(cli, buf + got, sizeof(buf) - got)) > 0)
			got += n;
		CHECK_EQ(got, strlen(s->expect_left));
		CHECK(memcmp(buf, s->expect_left, got) == 0);
	}
	if (s->cmd == PROXY_VIA_ASSOCIATE && s->expect_why == NULL) {
		CHECK(relay_given);
		if (s->expect_port == 0)
			goto out;
		CHECK_EQ(relay_seen.sa.sa_family, AF_INET);
		CHECK_EQ(ntohl(relay_seen.sin.sin_addr.s_addr),
		    s->expect_relay);
		CHECK_EQ(ntohs(relay_seen.sin.sin_port), s->expect_port);
	} else
		CHECK(!relay_given);
 out:
	evtimer_del(&tick);
	close(srv);
	close(cli);
}

/* The requests the client should send. */
#define HELLO		"\x05\x01\x00"
#define HELLO_AUTH	"\x05\x02\x00\x02"
#define AUTH		"\x01\x04user\x06secret"
#define REQ		"\x05\x01\x00\x03\x10www.example.test\x01\xbb"
#define ASSOC		"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00"
#define ASSOC6		"\x05\x03\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" \
			"\0\0"
#define OK4		"\x05\x00\x00\x01\x0a\x00\x00\x01\x10\x00"
#define HTTP_REQ	"CONNECT www.example.test:443 HTTP/1.1\r\n" \
			"Host: www.example.test:443\r\n\r\n"
#define HTTP_REQ_AUTH	"CONNECT www.example.test:443 HTTP/1.1\r\n" \
			"Host: www.example.test:443\r\n" \
			"Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n"
#define S(x)		x, sizeof(x) - 1

static const struct script scripts[] = {
	{ "socks5 connect", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05", "\x00", OK4 "tunnel" }, { 1, 1, 16 }, 0,
	    S(HELLO REQ), NULL, "tunnel", 0, 0 },
	{ "socks5 reply byte by byte", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL,
	    NULL, { "\x05\x00\x05", "\x00\x00", "\x01\x0a\x00",
	    "\x00\x01\x10", "\x00more" }, { 3, 2, 3, 3, 5 }, 0,
	    S(HELLO REQ), NULL, "more", 0, 0 },
	{ "socks5 bound name", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x03\x03" "abc\x00\x50" "X" },
	    { 2, 11 }, 0, S(HELLO REQ), NULL, "X", 0, 0 },
	{ "socks5 bound ipv6", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x04" "0123456789abcdef" "\x00\x50"
	    "Y" }, { 2, 23 }, 0, S(HELLO REQ), NULL, "Y", 0, 0 },
	{ "socks5 user", VIA_SOCKS5, PROXY_VIA_CONNECT, "user", "secret",
	    { "\x05\x02", "\x01\x00", OK4 }, { 2, 2, 10 }, 0,
	    S(HELLO_AUTH AUTH REQ), NULL, "", 0, 0 },
	{ "socks5 user, none needed", VIA_SOCKS5, PROXY_VIA_CONNECT, "user",
	    "secret", { "\x05\x00", OK4 }, { 2, 10 }, 0,
	    S(HELLO_AUTH REQ), NULL, "", 0, 0 },
	{ "socks5 user refused", VIA_SOCKS5, PROXY_VIA_CONNECT, "user",
	    "secret", { "\x05\x02", "\x01\x01" }, { 2, 2 }, 0,
	    S(HELLO_AUTH AUTH), "user or password refused", NULL, 0, 0 },
	{ "socks5 auth version", VIA_SOCKS5, PROXY_VIA_CONNECT, "user",
	    "secret", { "\x05\x02", "\x05\x00" }, { 2, 2 }, 0,
	    S(HELLO_AUTH AUTH), "bad authentication", NULL, 0, 0 },
	{ "socks5 no method", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\xff" }, { 2 }, 0, S(HELLO), "no method", NULL, 0, 0 },
	{ "socks5 method not offered", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL,
	    NULL, { "\x05\x02" }, { 2 }, 0, S(HELLO), "not offered", NULL,
	    0, 0 },
	{ "socks5 not socks", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.0 400 Bad\r\n\r\n" }, { 0 }, 0, S(HELLO),
	    "not a SOCKS5 server", NULL, 0, 0 },
	{ "socks5 refused", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00" },
	    { 2, 10 }, 0, S(HELLO REQ), "connection refused", NULL, 0, 0 },
	{ "socks5 unknown reply", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x63\x00\x01\x00" }, { 2, 5 }, 0,
	    S(HELLO REQ), "reply 99", NULL, 0, 0 },
	{ "socks5 reply version", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x04\x00\x00\x01\x00" }, { 2, 5 }, 0,
	    S(HELLO REQ), "reply version", NULL, 0, 0 },
	{ "socks5 reserved", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x01\x01\x00" }, { 2, 5 }, 0,
	    S(HELLO REQ), "reserved", NULL, 0, 0 },
	{ "socks5 address type", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x09\x00" }, { 2, 5 }, 0,
	    S(HELLO REQ), "address type", NULL, 0, 0 },
	{ "socks5 empty name", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x03\x00\x00\x00" }, { 2, 7 }, 0,
	    S(HELLO REQ), "empty name", NULL, 0, 0 },
	{ "socks5 short reply", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x01\x0a\x00" }, { 2, 6 }, 1,
	    S(HELLO REQ), "closed", NULL, 0, 0 },
	{ "socks5 long name cut", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x03\xff" "abc" }, { 2, 8 }, 1,
	    S(HELLO REQ), "closed", NULL, 0, 0 },
	{ "socks5 silent", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05" }, { 1 }, 0, S(HELLO), "timed out", NULL, 0, 0 },
	{ "socks5 closed at once", VIA_SOCKS5, PROXY_VIA_CONNECT, NULL, NULL,
	    { NULL }, { 0 }, 1, S(HELLO), "closed", NULL, 0, 0 },
	{ "associate", VIA_SOCKS5, PROXY_VIA_ASSOCIATE, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x01\x0a\x01\x02\x03\x13\x88" },
	    { 2, 10 }, 0, S(HELLO ASSOC), NULL, "", 0x0a010203, 5000 },
	{ "associate, the server's address", VIA_SOCKS5,
	    PROXY_VIA_ASSOCIATE, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x01\x00\x00\x00\x00\x13\x89" },
	    { 2, 10 }, 0, S(HELLO ASSOC), NULL, "", 0x7f000001, 5001 },
	{ "associate refused", VIA_SOCKS5, PROXY_VIA_ASSOCIATE, NULL, NULL,
	    { "\x05\x00", "\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00" },
	    { 2, 10 }, 1, S(HELLO ASSOC), "command not supported", NULL,
	    0, 0 },
	{ "associate port 0", VIA_SOCKS5, PROXY_VIA_ASSOCIATE, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x01\x0a\x01\x02\x03\x00\x00" },
	    { 2, 10 }, 0, S(HELLO ASSOC), "port 0", NULL, 0, 0 },
	{ "associate, ::, the server's address", VIA_SOCKS5,
	    PROXY_VIA_ASSOCIATE, NULL, NULL,
	    { "\x05\x00", "\x05\x00\x00\x04\0\0\0\0\0\0\0\0"
	    "\0\0\0\0\0\0\0\0\x13\x8b" }, { 2, 22 }, 0, S(HELLO ASSOC),
	    NULL, "", 0x7f000001, 5003 },
	{ "associate IPv6 port 0", VIA_SOCKS5, PROXY_VIA_ASSOCIATE, NULL,
	    NULL, { "\x05\x00", "\x05\x00\x00\x04\x20\x01\x0d\xb8"
	    "\0\0\0\0\0\0\0\0\0\0\0\x09\0\0" }, { 2, 22 }, 0,
	    S(HELLO ASSOC), "port 0", NULL, 0, 0 },
	{ "associate relay by name", VIA_SOCKS5, PROXY_VIA_ASSOCIATE, NULL,
	    NULL, { "\x05\x00", "\x05\x00\x00\x03\x01" "a\x13\x88" },
	    { 2, 8 }, 0, S(HELLO ASSOC), "relay named", NULL, 0, 0 },
	{ "http", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 200 Connection established\r\n",
	    "Via: x\r\n\r", "\nSSH-2.0-tunnel\r\n" }, { 0 }, 0,
	    S(HTTP_REQ), NULL, "SSH-2.0-tunnel\r\n", 0, 0 },
	{ "http in one piece", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.0 200 OK\r\n\r\nfirst bytes" }, { 0 }, 0,
	    S(HTTP_REQ), NULL, "first bytes", 0, 0 },
	{ "http bare LF", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 204 OK\n", "\n", "\r\n\r\nrest" }, { 0 }, 0,
	    S(HTTP_REQ), NULL, "\r\n\r\nrest", 0, 0 },
	{ "http user", VIA_HTTP, PROXY_VIA_CONNECT, "user", "secret",
	    { "HTTP/1.1 200 OK\r\n\r\n" }, { 0 }, 0, S(HTTP_REQ_AUTH), NULL,
	    "", 0, 0 },
	{ "http 407", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n" }, { 0 },
	    0, S(HTTP_REQ), "HTTP status 407", NULL, 0, 0 },
	{ "http 101", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 101 Switching\r\n\r\n" }, { 0 }, 0, S(HTTP_REQ),
	    "HTTP status 101", NULL, 0, 0 },
	{ "http garbage", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "\x05\x00\n\n" }, { 4 }, 0, S(HTTP_REQ), "not an HTTP",
	    NULL, 0, 0 },
	{ "http status digits", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 2x0 OK\r\n\r\n" }, { 0 }, 0, S(HTTP_REQ),
	    "not an HTTP", NULL, 0, 0 },
	{ "http closed", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 200 OK\r\n" }, { 0 }, 1, S(HTTP_REQ), "closed",
	    NULL, 0, 0 },
	{ "http silent", VIA_HTTP, PROXY_VIA_CONNECT, NULL, NULL,
	    { "HTTP/1.1 200 OK\r\n" }, { 0 }, 0, S(HTTP_REQ), "timed out",
	    NULL, 0, 0 },
};

/* A header without end, past the bound: refused, the rest left unread. */
static void
test_http_long(void)
{
	static char		 big[9000];
	struct script		 s;

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
	memset(&s, 0, sizeof(s));
	s.name = "http too long";
	s.via = VIA_HTTP;
	s.cmd = PROXY_VIA_CONNECT;
	s.pieces[0] = big;
	s.expect_sent = HTTP_REQ;
	s.expect_len = sizeof(HTTP_REQ) - 1;
	s.expect_why = "too long";
	s.expect_left = big + 8192;
	run(&s);
}

/*
 * A UDP relay given by its IPv6 address, asked of a server the route
 * names by its IPv6 address: the request's own address is [::]:0.
 */
static void
test_relay6(void)
{
	struct script	s = {
		.name = "associate IPv6", .via = VIA_SOCKS5,
		.cmd = PROXY_VIA_ASSOCIATE,
		.pieces = { "\x05\x00", "\x05\x00\x00\x04"
		    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09"
		    "\x13\x8a" },
		.lens = { 2, 22 },
		.expect_sent = S(HELLO ASSOC6),
		.expect_left = ""
	};
	struct in6_addr	a6;

	server_inet6 = 1;
	run(&s);
	server_inet6 = 0;
	CHECK(relay_given);
	CHECK_EQ(relay_seen.sa.sa_family, AF_INET6);
	CHECK(inet_pton(AF_INET6, "2001:db8::9", &a6) == 1);
	CHECK(IN6_ARE_ADDR_EQUAL(&relay_seen.sin6.sin6_addr, &a6));
	CHECK_EQ(ntohs(relay_seen.sin6.sin6_port), 5002);
}

/* Two handshakes' outcomes, by the index given as their argument. */
static int		 both_done[2];
static char		 both_why[2][64];

static void
outcome_of(void *arg, const union conf_addr *relay, const char *why)
{
	int	i = *(int *)arg;

	(void)relay;
	both_done[i] = 1;
	snprintf(both_why[i], sizeof(both_why[i]), "%s",
	    why == NULL ? "" : why);
}

/* Turn the loop until fd's bytes are all read by the client, or done. */
static void
drain(int fd, int i)
{
	int	n;

	do
		event_loop(EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (!both_done[i] && ioctl(fd, FIONREAD, &n) == 0 && n > 0);
}

/*
 * Two HTTP handshakes at once, their headers in pieces that interleave:
 * each is judged by its own status line.  The first server refuses (407)
 * in two pieces; the second's whole 200 comes between them.
 */
static void
test_http_interleaved(void)
{
	static const char	*first = "HTTP/1.1 407 Proxy Authentication "
				    "Required\r\n";
	static const char	*second = "HTTP/1.1 200 OK\r\n\r\n";
	static const char	*rest = "Proxy-Authenticate: Basic\r\n\r\n";
	struct rule_route	 route;
	struct proxy_via	*v[2];
	const char		*why;
	static int		 idx[2] = { 0, 1 };
	int			 s[2], c[2], i;

	memset(&route, 0, sizeof(route));
	route.via = VIA_HTTP;
	memset(both_done, 0, sizeof(both_done));
	for (i = 0; i < 2; i++) {
		pair();
		s[i] = srv;
		c[i] = cli;
		v[i] = proxy_via_start(c[i], PROXY_VIA_CONNECT, &route,
		    "www.example.test", 443, 2000, outcome_of, &idx[i], &why);
		CHECK(v[i] != NULL);
		if (v[i] == NULL)
			return;
	}
	if (write(s[0], first, strlen(first)) != (ssize_t)strlen(first))
		abort();
	drain(c[0], 0);
	if (write(s[1], second, strlen(second)) != (ssize_t)strlen(second))
		abort();
	while (!both_done[1])
		event_loop(EVLOOP_ONCE);
	if (write(s[0], rest, strlen(rest)) != (ssize_t)strlen(rest))
		abort();
	while (!both_done[0])
		event_loop(EVLOOP_ONCE);
	CHECK(both_why[1][0] == '\0');
	if (strcmp(both_why[0], "HTTP status 407") != 0)
		fprintf(stderr, "interleaved: \"%s\", expected 407\n",
		    both_why[0]);
	CHECK(strcmp(both_why[0], "HTTP status 407") == 0);
	for (i = 0; i < 2; i++) {
		close(s[i]);
		close(c[i]);
	}
}

static void
test_refused_at_start(void)
{
	struct rule_route	 route;
	const char		*why;

	memset(&route, 0, sizeof(route));
	route.via = VIA_HTTP;
	CHECK(proxy_via_start(0, PROXY_VIA_ASSOCIATE, &route, "a.test", 53,
	    100, outcome, NULL, &why) == NULL);
	CHECK(why != NULL && strstr(why, "UDP") != NULL);
	route.via = VIA_SOCKS5;
	CHECK(proxy_via_start(0, PROXY_VIA_CONNECT, &route, "a b.test", 80,
	    100, outcome, NULL, &why) == NULL);
	CHECK(proxy_via_start(0, PROXY_VIA_CONNECT, &route, "a\r\n", 80,
	    100, outcome, NULL, &why) == NULL);
	CHECK(proxy_via_start(0, PROXY_VIA_CONNECT, &route, "", 80,
	    100, outcome, NULL, &why) == NULL);
	route.via = VIA_DIRECT;
	CHECK(proxy_via_start(0, PROXY_VIA_CONNECT, &route, "a.test", 80,
	    100, outcome, NULL, &why) == NULL);
}

/* Cancelled: no callback, nothing left behind. */
static void
test_cancel(void)
{
	struct rule_route	 route;
	struct proxy_via	*v;
	struct timeval		 tv = { 0, 50000 };
	const char		*why;

	memset(&route, 0, sizeof(route));
	route.via = VIA_SOCKS5;
	pair();
	done = 0;
	v = proxy_via_start(cli, PROXY_VIA_CONNECT, &route, "a.test", 80, 20,
	    outcome, NULL, &why);
	CHECK(v != NULL);
	event_loop(EVLOOP_ONCE);
	proxy_via_cancel(v);
	event_loopexit(&tv);
	event_dispatch();
	CHECK(!done);
	close(srv);
	close(cli);
}

static void
test_udp_header(void)
{
	unsigned char	buf[PROXY_VIA_UDP_HDR_MAX + 8];
	char		name[300];
	size_t		n;

	n = proxy_via_udp_header(buf, sizeof(buf), "dns.example.test", 53);
	CHECK_EQ(n, 4 + 1 + 16 + 2);
	CHECK(memcmp(buf, "\x00\x00\x00\x03\x10" "dns.example.test\x00\x35",
	    n) == 0);
	CHECK_EQ(proxy_via_udp_header(buf, 10, "dns.example.test", 53), 0);
	memset(name, 'a', 255);
	name[255] = '\0';
	CHECK_EQ(proxy_via_udp_header(buf, sizeof(buf), name, 53),
	    PROXY_VIA_UDP_HDR_MAX);
	name[255] = 'a';
	name[256] = '\0';
	CHECK_EQ(proxy_via_udp_header(buf, sizeof(buf), name, 53), 0);

	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x01\x01\x02\x03\x04\x00\x35" "data", 14), 10);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x01\x01\x02\x03\x04\x00\x35", 10), 10);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x01\x01\x02\x03\x04\x00", 9), -1);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x03\x01" "a\x00\x35" "d", 9), 8);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x03\x05" "a\x00\x35" "d", 9), -1);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x03\x00\x00\x35", 7), -1);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x04" "0123456789abcdef\x00\x35", 22), 22);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x01\x00\x01\x01\x02\x03\x04\x00\x35", 10), -1);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x01\x01\x01\x02\x03\x04\x00\x35", 10), -1);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)
	    "\x00\x00\x00\x02\x01\x02\x03\x04\x00\x35", 10), -1);
	CHECK_EQ(proxy_via_udp_strip((const unsigned char *)"\x00\x00", 2),
	    -1);
}

int
main(void)
{
	size_t	i;

	event_init();
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run(&scripts[i]);
	test_relay6();
	test_http_long();
	test_http_interleaved();
	test_refused_at_start();
	test_cancel();
	test_udp_header();
	return (test_done("viatest"));
}
