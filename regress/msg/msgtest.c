/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * msgtest.c: unit tests of src/msg.c on a socketpair.  Every message type
 * round-trips, fds pass and work, malformed messages are refused with the
 * right errno without leaking an fd or spoiling the channel, bad arguments
 * to msg_compose are refused without consuming the fd, the send queue keeps
 * order and its limit, and EOF is seen.  Also ruleset_has_mark(), which
 * decides the parent's answer to a dialling socket's request.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "msg.h"
#include "rules.h"
#include "../lib/test.h"

#define GOOD_ID		0xabcd
#define BIG_PAYLOAD	(MSG_MAX_PAYLOAD + 100)
#define MAX_SEND_FDS	12	/* more than msg_read makes room for */

static struct msg_chan	 ca, cb;	/* the two ends; rbuf is large */
static unsigned char	 frame[MSG_HDR_SIZE + BIG_PAYLOAD];
static unsigned char	 payload[BIG_PAYLOAD];

static int	count_fds(void);
static int	fd_is_open(int);
static void	pair_open(void);
static void	pair_close(void);
static int	make_payload(uint32_t, unsigned char *, size_t *, int *);
static size_t	make_frame(uint32_t, uint32_t, const void *, size_t);
static ssize_t	raw_send(int, const void *, size_t, const int *, int);
static int	good_after(void);
static int	bad_bytes(const char *, const void *, size_t, int, int);
static int	bad_msg(const char *, uint32_t, const void *, size_t, int,
		    int);
static int	compose_einval(const char *, uint32_t, int, const void *,
		    size_t);
static void	conf_valid(struct dns44_conf *);
static void	test_names(void);
static void	test_roundtrip(void);
static void	test_fd_pass(void);
static void	test_decode(void);
static void	test_bad(void);
static void	test_compose_einval(void);
static void	test_queue(void);
static void	test_enobufs(void);
static void	test_clear(void);
static void	test_eof(void);
static void	test_dial(void);
static void	test_upstreams(void);
static void	test_status(void);

/* Open descriptors of this process, the directory's own included. */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		perror("opendir /proc/self/fd");
		return (-1);
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

static void
pair_open(void)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	msg_init(&ca, sv[0], MSG_RX_ANY);
	msg_init(&cb, sv[1], MSG_RX_ANY);
}

static void
pair_close(void)
{
	msg_clear(&ca);
	msg_clear(&cb);
	if (ca.fd != -1)
		close(ca.fd);
	if (cb.fd != -1)
		close(cb.fd);
	ca.fd = cb.fd = -1;
}

static void
conf_valid(struct dns44_conf *c)
{
	int	i;

	memset(c, 0x5a, sizeof(*c));
	c->dns_listen_count = 2;
	c->upstream_count = CONF_MAX_UPSTREAM;
	for (i = 0; i < CONF_MAX_UPSTREAM; i++) {
		memset(&c->upstream[i], 0, sizeof(c->upstream[i]));
		c->upstream[i].addr.sa.sa_family = i % 2 ? AF_INET6 : AF_INET;
	}
	strlcpy(c->tls_ca, "/etc/ssl/test-ca.pem", sizeof(c->tls_ca));
	strlcpy(c->db_dir, "/var/lib/dns44", sizeof(c->db_dir));
	strlcpy(c->empty_dir, "/var/empty", sizeof(c->empty_dir));
	strlcpy(c->control_path, "/run/dns44.sock", sizeof(c->control_path));
	strlcpy(c->control_group, "_dns44", sizeof(c->control_group));
	strlcpy(c->user, "_dns44", sizeof(c->user));
	memset(c->proxy_rules, 0, sizeof(c->proxy_rules));
	memset(c->client_nets, 0, sizeof(c->client_nets));
	c->proxy_rules[0].family = AF_INET;
	c->proxy_rules[0].addr = 0x7f000001;
	c->proxy_rules[0].len = 32;
	c->proxy_rules[0].allow = 1;
	strlcpy(c->proxy_rules[0].where, "dns44.conf:1",
	    sizeof(c->proxy_rules[0].where));
	c->proxy_rules[1].family = AF_INET6;
	c->proxy_rules[1].addr6.s6_addr[0] = 0xfd;
	c->proxy_rules[1].len = 128;
	strlcpy(c->proxy_rules[1].where, "dns44.conf:2",
	    sizeof(c->proxy_rules[1].where));
	c->proxy_rule_count = 2;
	for (i = 0; i < CONF_MAX_CLIENT_NETS; i++)
		c->client_nets[i].family = AF_INET;
	c->client_net_count = CONF_MAX_CLIENT_NETS;
}

/*
 * A valid payload for the type: 1, with its length and whether it needs an
 * fd; 0 for a type this test does not know yet.  The switch lists every
 * type without a default, so the compiler also names a forgotten one.
 */
static int
make_payload(uint32_t type, unsigned char *buf, size_t *len, int *needfd)
{
	struct dns44_conf	 conf;
	struct sockaddr_in	 sin;
	struct msg_reply_sock	 rs;
	struct msg_lookup	 lk;
	struct msg_answer	 ans;
	struct msg_log		 lg;
	struct ctl_map_entry	 me;
	struct ctl_flushed	 fl;
	struct ctl_stats_dns	 st;
	struct ctl_conn		 cn;
	struct ctl_stats_proxy	 ps;
	struct msg_ifaddrs	 ifa;
	struct msg_rules_file	 rf;
	struct ctl_rule		 cr;
	struct ctl_test		 ct;
	struct ctl_tested	 cd;
	struct msg_dial_sock	 ds;
	struct ctl_upstream	 cu;
	struct ctl_status	 cs;
	const char		*err = "no such domain: example.invalid";
	uint32_t		 i;

	*len = 0;
	*needfd = 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4000 + type);
	sin.sin_addr.s_addr = htonl(0x7f000001 + type);

	switch ((enum msg_type)type) {
	case MSG_NONE:
	case MSG_TYPE_MAX:
		return (0);
	case MSG_CONF:
		conf_valid(&conf);
		memcpy(buf, &conf, sizeof(conf));
		*len = sizeof(conf);
		return (1);
	case MSG_SOCK_DNS_UDP:
	case MSG_SOCK_DNS_TCP:
	case MSG_SOCK_PROXY_TCP:
	case MSG_SOCK_PROXY_UDP:
	case MSG_SOCK_METRICS:
		memcpy(buf, &sin, sizeof(sin));
		*len = sizeof(sin);
		*needfd = 1;
		return (1);
	case MSG_SOCK_CONTROL:
	case MSG_SOCK_PEER:
		*needfd = 1;
		return (1);
	case MSG_SOCK_END:
	case MSG_SHUTDOWN:
	case MSG_HEARTBEAT:
		return (1);
	case MSG_ALIVE:
		*len = sizeof(struct msg_alive);
		memset(buf, 0, *len);
		return (1);
	case MSG_REPLY_SOCK:
		*needfd = 1;
		/* FALLTHROUGH */
	case MSG_REPLY_SOCK_REQ:
	case MSG_REPLY_SOCK_FAIL:
		memset(&rs, 0, sizeof(rs));
		rs.virt = sin;
		rs.client = sin;
		rs.client.sin_port = htons(40000);
		rs.error = type == MSG_REPLY_SOCK_FAIL ? EADDRINUSE : 0;
		memcpy(buf, &rs, sizeof(rs));
		*len = sizeof(rs);
		return (1);
	case MSG_LOOKUP:
	case MSG_LOOKUP_MISS:
	case MSG_IN_USE:
	case MSG_RELEASED:
	case MSG_EVICTED:
		lk.addr = htonl(0xac180000 + type);
		lk.client = htonl(0x0a000002);
		memcpy(buf, &lk, sizeof(lk));
		*len = sizeof(lk);
		return (1);
	case MSG_LOOKUP_ANSWER:
		memset(&ans, 0x77, sizeof(ans));
		memset(&ans.route, 0, sizeof(ans.route));
		ans.route.via = VIA_SOCKS5;
		ans.route.server.sin6.sin6_family = AF_INET6;
		ans.route.server.sin6.sin6_addr.s6_addr[15] = 1;
		ans.route.server.sin6.sin6_port = htons(9050);
		strlcpy(ans.route.user, "tor", sizeof(ans.route.user));
		ans.addr = htonl(0xac180a0b);
		strlcpy(ans.domain, "ifconfig.co", sizeof(ans.domain));
		ans.naddrs = 3;
		for (i = 0; i < MSG_MAX_ADDRS; i++)
			ans.addrs[i] = htonl(0xc0000200 + i);
		ans.ttl = 299;
		ans.naddrs6 = 2;
		for (i = 0; i < MSG_MAX_ADDRS; i++) {
			memset(&ans.addrs6[i], 0, sizeof(ans.addrs6[i]));
			ans.addrs6[i].s6_addr[0] = 0x20;
			ans.addrs6[i].s6_addr[1] = 0x01;
			ans.addrs6[i].s6_addr[15] = i;
		}
		memcpy(buf, &ans, sizeof(ans));
		*len = sizeof(ans);
		return (1);
	case MSG_CTL_RELOAD:
	case MSG_CTL_OK:
	case MSG_CTL_STATS:
	case MSG_CTL_END:
	case MSG_CTL_SHOW_CONN:
	case MSG_CTL_SHOW_RULES:
	case MSG_RULES_END:
	case MSG_CTL_METRICS:
		return (1);
	case MSG_CTL_METRICS_TEXT:
		*len = strlcpy((char *)buf, "# TYPE dns44_up gauge\n", 64);
		return (1);
	case MSG_RULES:
		memset(buf, 0x5a, 1000);
		*len = 1000;
		return (1);
	case MSG_RULES_FILE:
		rf.source = 3;
		memcpy(buf, &rf, sizeof(rf));
		*len = sizeof(rf);
		*needfd = 1;
		return (1);
	case MSG_CTL_RULE:
		memset(&cr, 0, sizeof(cr));
		cr.number = 2;
		cr.hits = 77;
		strlcpy(cr.where, "dns44.conf:9", sizeof(cr.where));
		strlcpy(cr.text, "block to <ads>", sizeof(cr.text));
		memcpy(buf, &cr, sizeof(cr));
		*len = sizeof(cr);
		return (1);
	case MSG_CTL_TEST:
		memset(&ct, 0, sizeof(ct));
		strlcpy(ct.name, "a.onion", sizeof(ct.name));
		ct.client = htonl(0x0a000002);
		ct.have_client = 1;
		memcpy(buf, &ct, sizeof(ct));
		*len = sizeof(ct);
		return (1);
	case MSG_CTL_TESTED:
		memset(&cd, 0, sizeof(cd));
		strlcpy(cd.name, "a.onion", sizeof(cd.name));
		strlcpy(cd.route, "via socks5 127.0.0.1:9050",
		    sizeof(cd.route));
		memcpy(buf, &cd, sizeof(cd));
		*len = sizeof(cd);
		return (1);
	case MSG_CTL_CONN:
		memset(&cn, 0, sizeof(cn));
		strlcpy(cn.domain, "example.test", sizeof(cn.domain));
		cn.proto = 6;
		cn.sent = 1234;
		memcpy(buf, &cn, sizeof(cn));
		memcpy(buf + sizeof(cn), &cn, sizeof(cn));
		*len = 2 * sizeof(cn);
		return (1);
	case MSG_CTL_STATS_PROXY:
		memset(&ps, 0x22, sizeof(ps));
		memcpy(buf, &ps, sizeof(ps));
		*len = sizeof(ps);
		return (1);
	case MSG_CTL_SHOW_MAP:
	case MSG_CTL_LOOKUP:
	case MSG_CTL_FLUSH:
		*len = sizeof("example.test");
		memcpy(buf, "example.test", *len);
		return (1);
	case MSG_CTL_MAP:
		memset(&me, 0, sizeof(me));
		strlcpy(me.name, "example.test", sizeof(me.name));
		me.addr = htonl(0xac180a0b);
		me.conns = 2;
		me.answered = 1795641788;
		for (i = 0; i < 3; i++)
			memcpy(buf + i * sizeof(me), &me, sizeof(me));
		*len = 3 * sizeof(me);
		return (1);
	case MSG_CTL_FLUSHED:
		fl.removed = 7;
		fl.kept = 1;
		memcpy(buf, &fl, sizeof(fl));
		*len = sizeof(fl);
		return (1);
	case MSG_CTL_STATS_DNS:
		memset(&st, 0x11, sizeof(st));
		memcpy(buf, &st, sizeof(st));
		*len = sizeof(st);
		return (1);
	case MSG_CTL_LOG:
		lg.verbose = 2;
		memcpy(buf, &lg, sizeof(lg));
		*len = sizeof(lg);
		return (1);
	case MSG_CTL_FAIL:
		*len = strlen(err) + 1;
		memcpy(buf, err, *len);
		return (1);
	case MSG_IFADDRS:
		memset(&ifa, 0, sizeof(ifa));
		ifa.count = MSG_MAX_IFADDRS;
		for (i = 0; i < MSG_MAX_IFADDRS; i++) {
			ifa.addrs[i].local = htonl(0x0a000001 + (i << 8));
			ifa.addrs[i].peer = ifa.addrs[i].local;
			ifa.addrs[i].prefixlen = i % 33;
		}
		ifa.count6 = MSG_MAX_IFADDRS6;
		for (i = 0; i < MSG_MAX_IFADDRS6; i++) {
			ifa.addrs6[i].local.s6_addr[0] = 0x20;
			ifa.addrs6[i].local.s6_addr[14] = i >> 8;
			ifa.addrs6[i].local.s6_addr[15] = i & 0xff;
			ifa.addrs6[i].prefixlen = i % 129;
		}
		memcpy(buf, &ifa, sizeof(ifa));
		*len = sizeof(ifa);
		return (1);
	case MSG_DIAL_SOCK:
		*needfd = 1;
		/* FALLTHROUGH */
	case MSG_DIAL_SOCK_REQ:
	case MSG_DIAL_SOCK_FAIL:
		ds.proto = type == MSG_DIAL_SOCK ? IPPROTO_UDP : IPPROTO_TCP;
		ds.family = type == MSG_DIAL_SOCK ? AF_INET6 : AF_INET;
		ds.mark = 0x64;
		ds.error = type == MSG_DIAL_SOCK_FAIL ? EPERM : 0;
		memcpy(buf, &ds, sizeof(ds));
		*len = sizeof(ds);
		return (1);
	case MSG_CTL_UPSTREAMS:
		memset(&cu, 0, sizeof(cu));
		memcpy(cu.addr, "\x0a\x2f\x02\x02", 4);
		cu.port = 53;
		cu.state = CTL_UPSTREAM_UP;
		cu.rtt_us = 1200;
		cu.answers = 20;
		memcpy(buf, &cu, sizeof(cu));
		cu.state = CTL_UPSTREAM_DOWN;
		cu.timeouts = 1;
		cu.backoff_ms = 900;
		memcpy(buf + sizeof(cu), &cu, sizeof(cu));
		*len = 2 * sizeof(cu);
		return (1);
	case MSG_CTL_STATUS:
		return (1);
	case MSG_CTL_STATUS_INFO:
		memset(&cs, 0, sizeof(cs));
		cs.started = 1700000000;
		cs.now = cs.started + 90061;
		cs.pid = 100;
		cs.dns_pid = 101;
		cs.proxy_pid = 102;
		cs.check = CTL_CHECK_MISSING;
		strlcpy(cs.check_text, "no local route for the range in "
		    "routing table 44", sizeof(cs.check_text));
		memcpy(buf, &cs, sizeof(cs));
		*len = sizeof(cs);
		return (1);
	}
	return (0);
}

/* Header and payload in frame[]; hlen is what the header claims. */
static size_t
make_frame(uint32_t type, uint32_t hlen, const void *p, size_t plen)
{
	struct msg_hdr	 hdr;

	hdr.type = type;
	hdr.len = hlen;
	hdr.id = 1;
	hdr.pid = (uint32_t)getpid();
	memcpy(frame, &hdr, sizeof(hdr));
	if (plen > 0)
		memcpy(frame + MSG_HDR_SIZE, p, plen);
	return (MSG_HDR_SIZE + plen);
}

/* Send bytes as one message, bypassing msg.c, with nfds fds attached. */
static ssize_t
raw_send(int s, const void *buf, size_t n, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) * MAX_SEND_FDS)];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	struct msghdr	 mh;
	struct iovec	 iov;

	memset(&mh, 0, sizeof(mh));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)buf;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	return (sendmsg(s, &mh, MSG_NOSIGNAL));
}

/* A good message from cb still reaches ca. */
static int
good_after(void)
{
	struct msg_lookup	 lk;
	struct msg		 m;
	enum msg_rx		 rx = ca.rx;
	int			 r;

	lk.addr = htonl(0xac180001);
	if (msg_compose(&cb, MSG_LOOKUP, GOOD_ID, -1, &lk, sizeof(lk)) == -1)
		return (0);
	/* Whatever ca's end accepts, the probe is of a type it may not. */
	ca.rx = MSG_RX_ANY;
	r = msg_read(&ca, &m);
	ca.rx = rx;
	if (r != 1)
		return (0);
	return (m.hdr.type == MSG_LOOKUP && m.hdr.id == GOOD_ID &&
	    m.len == sizeof(lk) && m.fd == -1 &&
	    memcmp(m.data, &lk, sizeof(lk)) == 0);
}

/*
 * Send bytes raw from cb with nfds pipe write ends attached; msg_read on ca
 * must fail with want, every fd that came must be closed (the fd count is
 * unchanged and the pipes see EOF), and the channel must still work.
 */
static int
bad_bytes(const char *what, const void *buf, size_t n, int nfds, int want)
{
	struct msg	 m;
	int		 pfd[MAX_SEND_FDS][2], sendfds[MAX_SEND_FDS];
	int		 i, r, e, before, after, ok = 1;
	char		 c;

	for (i = 0; i < nfds; i++) {
		if (pipe2(pfd[i], O_NONBLOCK | O_CLOEXEC) == -1) {
			perror("pipe2");
			exit(1);
		}
		sendfds[i] = pfd[i][1];
	}
	before = count_fds();
	if (raw_send(cb.fd, buf, n, sendfds, nfds) == -1) {
		fprintf(stderr, "%s: raw_send: %s\n", what, strerror(errno));
		ok = 0;
	}
	r = msg_read(&ca, &m);
	e = errno;
	after = count_fds();
	if (r != -1 || e != want) {
		fprintf(stderr, "%s: msg_read %d, errno %s, expected %s\n",
		    what, r, strerror(e), strerror(want));
		ok = 0;
	}
	if (after != before) {
		fprintf(stderr, "%s: %d fds before, %d after\n", what,
		    before, after);
		ok = 0;
	}
	for (i = 0; i < nfds; i++) {
		close(pfd[i][1]);
		if (read(pfd[i][0], &c, 1) != 0) {
			fprintf(stderr, "%s: fd %d still open somewhere\n",
			    what, i);
			ok = 0;
		}
		close(pfd[i][0]);
	}
	if (!good_after()) {
		fprintf(stderr, "%s: channel broken afterwards\n", what);
		ok = 0;
	}
	return (ok);
}

static int
bad_msg(const char *what, uint32_t type, const void *p, size_t plen,
    int nfds, int want)
{
	size_t	 n;

	n = make_frame(type, (uint32_t)plen, p, plen);
	return (bad_bytes(what, frame, n, nfds, want));
}

/* msg_compose refuses; the fd is still ours and nothing was sent. */
static int
compose_einval(const char *what, uint32_t type, int fd, const void *p,
    size_t len)
{
	struct msg	 m;
	int		 r, e, ok = 1;

	r = msg_compose(&ca, type, 7, fd, p, len);
	e = errno;
	if (r != -1 || e != EINVAL) {
		fprintf(stderr, "%s: msg_compose %d, errno %s\n", what, r,
		    strerror(e));
		ok = 0;
	}
	if (fd >= 0 && !fd_is_open(fd)) {
		fprintf(stderr, "%s: fd consumed\n", what);
		ok = 0;
	}
	if (msg_pending(&ca) || ca.queued != 0) {
		fprintf(stderr, "%s: something queued\n", what);
		ok = 0;
	}
	if (msg_read(&cb, &m) != -1 || errno != EAGAIN) {
		fprintf(stderr, "%s: something sent\n", what);
		ok = 0;
	}
	return (ok);
}

/*
 * Each end of a channel takes only its own types: the others fail with
 * EBADMSG and the descriptor that came with them is closed, even when the
 * type may carry one on another channel.
 */
static void
test_channels(void)
{
	struct sockaddr_in	 sin;
	struct msg_reply_sock	 rs;
	struct msg		 m;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memset(&rs, 0, sizeof(rs));

	/* The tables as the processes rely on them. */
	CHECK(msg_accepts(MSG_RX_CONTROL, MSG_CTL_SHOW_MAP));
	CHECK(!msg_accepts(MSG_RX_CONTROL, MSG_SOCK_CONTROL));
	CHECK(!msg_accepts(MSG_RX_CONTROL, MSG_CONF));
	CHECK(!msg_accepts(MSG_RX_CONTROL, MSG_CTL_OK));
	CHECK(!msg_accepts(MSG_RX_CONTROL, MSG_REPLY_SOCK_REQ));
	CHECK(msg_accepts(MSG_RX_PARENT_PROXY, MSG_REPLY_SOCK_REQ));
	CHECK(!msg_accepts(MSG_RX_PARENT_PROXY, MSG_CTL_RELOAD));
	CHECK(!msg_accepts(MSG_RX_PARENT_DNS, MSG_REPLY_SOCK_REQ));
	CHECK(msg_accepts(MSG_RX_START, MSG_SOCK_PEER));
	CHECK(!msg_accepts(MSG_RX_DNS_PARENT, MSG_SOCK_PEER));
	CHECK(!msg_accepts(MSG_RX_PROXY_PEER, MSG_LOOKUP));
	CHECK(!msg_accepts(MSG_RX_ANY, MSG_NONE));
	CHECK(!msg_accepts(MSG_RX_ANY, MSG_TYPE_MAX));
	CHECK(!msg_accepts(MSG_RX_MAX, MSG_CONF));

	pair_open();
	ca.rx = MSG_RX_CONTROL;
	/* A dns44ctl sending a socket, as if it were the parent. */
	CHECK(bad_msg("control: a socket", MSG_SOCK_CONTROL, NULL, 0, 1,
	    EBADMSG));
	CHECK(bad_msg("control: a listener", MSG_SOCK_DNS_UDP, &sin,
	    sizeof(sin), 1, EBADMSG));
	CHECK(bad_msg("control: a reply socket", MSG_REPLY_SOCK, &rs,
	    sizeof(rs), 1, EBADMSG));
	CHECK(bad_msg("control: a lookup", MSG_LOOKUP, &sin.sin_addr,
	    sizeof(sin.sin_addr), 0, EBADMSG));
	/* Its own requests still come through. */
	CHECK_EQ(msg_compose(&cb, MSG_CTL_STATS, 3, -1, NULL, 0), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.type, MSG_CTL_STATS);

	ca.rx = MSG_RX_PARENT_DNS;
	CHECK(bad_msg("parent: a reply socket asked by dns",
	    MSG_REPLY_SOCK_REQ, &rs, sizeof(rs), 0, EBADMSG));
	ca.rx = MSG_RX_PARENT_PROXY;
	CHECK(bad_msg("parent: a reload asked by the proxy", MSG_CTL_RELOAD,
	    NULL, 0, 0, EBADMSG));
	pair_close();
}

/*
 * msg_get() and its kin stop the process when a payload does not have
 * the size the receiver's struct says: a rule drifted from its struct.
 */
static int
get_dies(int how)
{
	struct msg_lookup	 lk;
	struct msg		 m;
	unsigned char		 data[8] = "abc";
	size_t			 n;
	pid_t			 pid;
	int			 status;

	memset(&m, 0, sizeof(m));
	m.hdr.type = MSG_LOOKUP;
	m.data = data;
	m.len = how == 1 ? 3 : sizeof(lk) + 1;
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		(void)freopen("/dev/null", "w", stderr);
		if (how == 0)
			msg_get(&m, &lk, sizeof(lk));
		else if (how == 1)
			(void)msg_get_str(&m);
		else
			(void)msg_get_array(&m, sizeof(lk), &n);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		return (0);
	return (!WIFEXITED(status) || WEXITSTATUS(status) != 0);
}

static void
test_get(void)
{
	struct msg_lookup	 lk, out;
	struct msg		 m;
	const void		*p;
	char			 str[] = "example.com";
	size_t			 n;

	lk.addr = htonl(0xac180001);
	memset(&m, 0, sizeof(m));
	m.hdr.type = MSG_LOOKUP;
	m.data = &lk;
	m.len = sizeof(lk);
	msg_get(&m, &out, sizeof(out));
	CHECK_EQ(out.addr, lk.addr);
	p = msg_get_array(&m, sizeof(uint16_t), &n);
	CHECK(p == (void *)&lk && n == sizeof(lk) / sizeof(uint16_t));
	m.data = str;
	m.len = sizeof(str);
	CHECK(strcmp(msg_get_str(&m), "example.com") == 0);

	CHECK(get_dies(0));	/* a struct of another size */
	CHECK(get_dies(1));	/* a string without its NUL */
	CHECK(get_dies(2));	/* part of an entry */
}

static void
test_names(void)
{
	uint32_t	 t;
	const char	*name;

	CHECK(strcmp(msg_type_name(MSG_CONF), "MSG_CONF") == 0);
	CHECK(strcmp(msg_type_name(MSG_CTL_FAIL), "MSG_CTL_FAIL") == 0);
	CHECK(strcmp(msg_type_name(MSG_LOOKUP_ANSWER),
	    "MSG_LOOKUP_ANSWER") == 0);
	CHECK(strcmp(msg_type_name(MSG_NONE), "unknown") == 0);
	CHECK(strcmp(msg_type_name(MSG_TYPE_MAX), "unknown") == 0);
	CHECK(strcmp(msg_type_name(0xffffffff), "unknown") == 0);
	for (t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		name = msg_type_name(t);
		if (strncmp(name, "MSG_", 4) != 0)
			fprintf(stderr, "type %u has no name\n", t);
		CHECK(strncmp(name, "MSG_", 4) == 0);
	}
}

/* Every type goes from ca to cb intact, with a working fd if it has one. */
static void
test_roundtrip(void)
{
	unsigned char	 buf[sizeof(struct dns44_conf)];
	struct msg	 m;
	size_t		 len;
	uint32_t	 t;
	int		 needfd, p[2], fd;
	char		 c;

	pair_open();
	for (t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		if (!make_payload(t, buf, &len, &needfd)) {
			fprintf(stderr, "no test payload for type %u (%s)\n",
			    t, msg_type_name(t));
			CHECK(0);
			continue;
		}
		fd = -1;
		if (needfd) {
			CHECK(pipe2(p, O_CLOEXEC) == 0);
			fd = p[1];
		}
		CHECK_EQ(msg_compose(&ca, t, 1000 + t, fd, buf, len), 0);
		CHECK(!msg_pending(&ca));
		if (needfd)
			CHECK(!fd_is_open(fd));	/* sent, so closed */

		memset(&m, 0, sizeof(m));
		CHECK_EQ(msg_read(&cb, &m), 1);
		CHECK_EQ(m.hdr.type, t);
		CHECK_EQ(m.hdr.id, 1000 + t);
		CHECK_EQ(m.hdr.pid, getpid());
		CHECK_EQ(m.hdr.len, len);
		CHECK_EQ(m.len, len);
		CHECK(len == 0 || memcmp(m.data, buf, len) == 0);
		if (!needfd) {
			CHECK_EQ(m.fd, -1);
			continue;
		}
		CHECK(m.fd >= 0);
		if (m.fd < 0) {
			close(p[0]);
			continue;
		}
		CHECK(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
		CHECK_EQ(write(m.fd, "x", 1), 1);
		CHECK_EQ(read(p[0], &c, 1), 1);
		CHECK_EQ(c, 'x');
		close(m.fd);
		close(p[0]);
	}
	CHECK_EQ(msg_read(&cb, &m), -1);
	CHECK_EQ(errno, EAGAIN);
	pair_close();
}

/* An fd that stays open on the sending side arrives as another number. */
static void
test_fd_pass(void)
{
	struct msg	 m;
	size_t		 n;
	int		 p[2], before, tfd, dfd;
	char		 c[4], path[] = "/tmp/msgtest.XXXXXX";

	pair_open();
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	n = make_frame(MSG_SOCK_PEER, 0, NULL, 0);
	before = count_fds();
	CHECK_EQ(raw_send(cb.fd, frame, n, &p[1], 1), (ssize_t)n);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.type, MSG_SOCK_PEER);
	CHECK(m.fd >= 0);
	CHECK(m.fd != p[0] && m.fd != p[1]);
	CHECK_EQ(count_fds(), before + 1);
	CHECK_EQ(write(m.fd, "abc", 3), 3);
	CHECK_EQ(read(p[0], c, sizeof(c)), 3);
	CHECK(memcmp(c, "abc", 3) == 0);
	close(m.fd);
	close(p[0]);
	close(p[1]);

	/* A temporary file passed through msg_compose reads back. */
	CHECK((tfd = mkstemp(path)) != -1);
	unlink(path);
	CHECK((dfd = dup(tfd)) != -1);
	CHECK_EQ(msg_compose(&cb, MSG_SOCK_CONTROL, 5, dfd, NULL, 0), 0);
	CHECK(!fd_is_open(dfd));
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK(m.fd >= 0 && m.fd != tfd);
	CHECK_EQ(pwrite(m.fd, "hello", 5, 0), 5);
	memset(c, 0, sizeof(c));
	CHECK_EQ(pread(tfd, c, 4, 0), 4);
	CHECK(memcmp(c, "hell", 4) == 0);
	close(m.fd);
	close(tfd);
	pair_close();
}

/* msg_decode alone: it checks, describes and never closes an fd. */
static void
test_decode(void)
{
	unsigned char	 buf[MSG_HDR_SIZE + sizeof(struct msg_answer) + 1];
	struct msg	 m;
	struct msg_answer ans;
	size_t		 len, n;
	int		 needfd, p[2];

	CHECK(make_payload(MSG_LOOKUP_ANSWER, payload, &len, &needfd));
	n = make_frame(MSG_LOOKUP_ANSWER, (uint32_t)len, payload, len);

	/* Unaligned on purpose, as a fuzzer's input may be. */
	memcpy(buf + 1, frame, n);
	memset(&m, 0, sizeof(m));
	CHECK_EQ(msg_decode(buf + 1, n, -1, &m), 0);
	CHECK_EQ(m.hdr.type, MSG_LOOKUP_ANSWER);
	CHECK_EQ(m.len, len);
	CHECK(m.data == buf + 1 + MSG_HDR_SIZE);
	CHECK_EQ(m.fd, -1);
	memcpy(&ans, m.data, sizeof(ans));
	CHECK_EQ(ans.ttl, 299);
	CHECK_EQ(ans.naddrs, 3);

	/*
	 * The IPv6 addresses come last; an answer without them, or without
	 * the rcode before them, is from another build.
	 */
	CHECK_EQ(len, offsetof(struct msg_answer, addrs6) +
	    sizeof(ans.addrs6));
	CHECK_EQ(ans.naddrs6, 2);
	n = make_frame(MSG_LOOKUP_ANSWER, offsetof(struct msg_answer, addrs6),
	    payload, offsetof(struct msg_answer, addrs6));
	CHECK_EQ(msg_decode(frame, n, -1, &m), -1);
	CHECK_EQ(errno, EBADMSG);
	n = make_frame(MSG_LOOKUP_ANSWER, offsetof(struct msg_answer, rcode),
	    payload, offsetof(struct msg_answer, rcode));
	CHECK_EQ(msg_decode(frame, n, -1, &m), -1);
	CHECK_EQ(errno, EBADMSG);
	/* Any TTL is the sender's to give. */
	memcpy(&ans, payload, sizeof(ans));
	ans.ttl = 0;
	n = make_frame(MSG_LOOKUP_ANSWER, sizeof(ans), &ans, sizeof(ans));
	CHECK_EQ(msg_decode(frame, n, -1, &m), 0);
	ans.ttl = UINT32_MAX;
	n = make_frame(MSG_LOOKUP_ANSWER, sizeof(ans), &ans, sizeof(ans));
	CHECK_EQ(msg_decode(frame, n, -1, &m), 0);

	memcpy(&ans, payload, sizeof(ans));
	ans.naddrs = MSG_MAX_ADDRS;
	n = make_frame(MSG_LOOKUP_ANSWER, sizeof(ans), &ans, sizeof(ans));
	CHECK_EQ(msg_decode(frame, n, -1, &m), 0);
	ans.naddrs = MSG_MAX_ADDRS + 1;
	n = make_frame(MSG_LOOKUP_ANSWER, sizeof(ans), &ans, sizeof(ans));
	errno = 0;
	CHECK_EQ(msg_decode(frame, n, -1, &m), -1);
	CHECK_EQ(errno, EBADMSG);
	ans.naddrs = 1;
	ans.naddrs6 = MSG_MAX_ADDRS;
	n = make_frame(MSG_LOOKUP_ANSWER, sizeof(ans), &ans, sizeof(ans));
	CHECK_EQ(msg_decode(frame, n, -1, &m), 0);
	ans.naddrs6 = MSG_MAX_ADDRS + 1;
	n = make_frame(MSG_LOOKUP_ANSWER, sizeof(ans), &ans, sizeof(ans));
	errno = 0;
	CHECK_EQ(msg_decode(frame, n, -1, &m), -1);
	CHECK_EQ(errno, EBADMSG);

	CHECK_EQ(msg_decode(frame, 0, -1, &m), -1);
	CHECK_EQ(msg_decode(frame, MSG_HDR_SIZE - 1, -1, &m), -1);
	CHECK_EQ(msg_decode(NULL, 0, -1, &m), -1);
	CHECK_EQ(errno, EBADMSG);

	/* A good fd is recorded, a bad one left for the caller. */
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	n = make_frame(MSG_SOCK_PEER, 0, NULL, 0);
	CHECK_EQ(msg_decode(frame, n, p[1], &m), 0);
	CHECK_EQ(m.fd, p[1]);
	n = make_frame(MSG_SOCK_END, 0, NULL, 0);
	CHECK_EQ(msg_decode(frame, n, p[1], &m), -1);
	CHECK(fd_is_open(p[1]));
	close(p[0]);
	close(p[1]);
}

static void
test_bad(void)
{
	struct dns44_conf	 conf;
	struct msg_ifaddrs	 ifa;
	struct sockaddr_in	 sin;
	struct msg_answer	 ans;
	struct msg_lookup	 lk;
	struct msg		 m;
	size_t			 len, n;
	uint32_t		 t;
	int			 needfd;
	char			 what[64];

	pair_open();
	lk.addr = htonl(0xac180001);

	/* Fewer bytes than a header. */
	memset(frame, 0, MSG_HDR_SIZE);
	CHECK(bad_bytes("short 8", frame, 8, 0, EBADMSG));
	CHECK(bad_bytes("short 1", frame, 1, 0, EBADMSG));
	CHECK(bad_bytes("short 15", frame, MSG_HDR_SIZE - 1, 0, EBADMSG));

	/* The header's length disagrees with what came. */
	n = make_frame(MSG_LOOKUP, sizeof(lk) + 4, &lk, sizeof(lk));
	CHECK(bad_bytes("hdr len long", frame, n, 0, EBADMSG));
	n = make_frame(MSG_LOOKUP, 2, &lk, sizeof(lk));
	CHECK(bad_bytes("hdr len short", frame, n, 0, EBADMSG));
	n = make_frame(MSG_CTL_OK, 0xffffffff, NULL, 0);
	CHECK(bad_bytes("hdr len huge", frame, n, 0, EBADMSG));
	/* ... while the header alone would pass the type's rule. */
	memset(payload, 0, 2 * sizeof(lk));
	n = make_frame(MSG_LOOKUP, sizeof(lk), payload, 2 * sizeof(lk));
	CHECK(bad_bytes("hdr len 4 of 8", frame, n, 0, EBADMSG));
	n = make_frame(MSG_CTL_FAIL, 4, "abc\0xyz", 8);
	CHECK(bad_bytes("hdr len 4 of 8 string", frame, n, 0, EBADMSG));
	n = make_frame(MSG_CTL_OK, 0, "\0\0\0", 4);
	CHECK(bad_bytes("hdr len 0 of 4", frame, n, 0, EBADMSG));

	/* Each fixed-size type one byte too short and one too long. */
	for (t = MSG_NONE + 1; t < MSG_TYPE_MAX; t++) {
		/* Pieces of a ruleset or of the metrics' text are of any
		 * length: see below. */
		if (t == MSG_CTL_FAIL || t == MSG_RULES ||
		    t == MSG_CTL_METRICS_TEXT ||
		    !make_payload(t, payload, &len, &needfd))
			continue;
		if (len > 0) {
			snprintf(what, sizeof(what), "%s short",
			    msg_type_name(t));
			CHECK(bad_msg(what, t, payload, len - 1, needfd,
			    EBADMSG));
		}
		/* Strings have room to grow: their limits come below. */
		if (t == MSG_CTL_SHOW_MAP || t == MSG_CTL_LOOKUP ||
		    t == MSG_CTL_FLUSH)
			continue;
		payload[len] = 0;
		snprintf(what, sizeof(what), "%s long", msg_type_name(t));
		CHECK(bad_msg(what, t, payload, len + 1, needfd, EBADMSG));
	}
	CHECK(bad_msg("MSG_RULES empty", MSG_RULES, payload, 0, 0, EBADMSG));
	CHECK(bad_msg("MSG_RULES with fd", MSG_RULES, payload, 10, 1,
	    EBADMSG));
	CHECK(bad_msg("MSG_CTL_METRICS_TEXT empty", MSG_CTL_METRICS_TEXT,
	    payload, 0, 0, EBADMSG));
	CHECK(bad_msg("MSG_CTL_METRICS_TEXT with fd", MSG_CTL_METRICS_TEXT,
	    payload, 10, 1, EBADMSG));

	/* Control requests: terminated, and at most 256 bytes. */
	memset(payload, 'x', 300);
	payload[256] = '\0';
	CHECK(bad_msg("SHOW_MAP 257", MSG_CTL_SHOW_MAP, payload, 257, 0,
	    EBADMSG));
	CHECK(bad_msg("LOOKUP unterminated", MSG_CTL_LOOKUP, payload, 10, 0,
	    EBADMSG));
	payload[255] = '\0';
	CHECK_EQ(msg_compose(&cb, MSG_CTL_FLUSH, 3, -1, payload, 256), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.len, 256);

	/* Unknown types. */
	CHECK(bad_msg("type 0", MSG_NONE, NULL, 0, 0, EBADMSG));
	CHECK(bad_msg("type MAX", MSG_TYPE_MAX, NULL, 0, 0, EBADMSG));
	CHECK(bad_msg("type ~0", 0xffffffff, NULL, 0, 0, EBADMSG));
	CHECK(bad_msg("type ~0 fd", 0xffffffff, &lk, sizeof(lk), 1,
	    EBADMSG));

	/* An fd where none belongs, none where one must be, two fds. */
	CHECK(bad_msg("fd on LOOKUP", MSG_LOOKUP, &lk, sizeof(lk), 1,
	    EBADMSG));
	CHECK(bad_msg("fd on SOCK_END", MSG_SOCK_END, NULL, 0, 1, EBADMSG));
	CHECK(bad_msg("no fd on SOCK_PEER", MSG_SOCK_PEER, NULL, 0, 0,
	    EBADMSG));
	CHECK(make_payload(MSG_SOCK_DNS_UDP, payload, &len, &needfd));
	CHECK(bad_msg("no fd on SOCK_DNS_UDP", MSG_SOCK_DNS_UDP, payload,
	    len, 0, EBADMSG));
	CHECK(make_payload(MSG_REPLY_SOCK, payload, &len, &needfd));
	CHECK(bad_msg("no fd on REPLY_SOCK", MSG_REPLY_SOCK, payload, len,
	    0, EBADMSG));
	CHECK(bad_msg("two fds", MSG_SOCK_PEER, NULL, 0, 2, EBADMSG));
	CHECK(bad_msg("two fds on LOOKUP", MSG_LOOKUP, &lk, sizeof(lk), 2,
	    EBADMSG));
	CHECK(bad_msg("many fds", MSG_SOCK_PEER, NULL, 0, MAX_SEND_FDS,
	    EBADMSG));

	/* Bigger than the receive buffer. */
	memset(payload, 'a', BIG_PAYLOAD);
	n = make_frame(MSG_CTL_FAIL, BIG_PAYLOAD, payload, BIG_PAYLOAD);
	CHECK_EQ(n, MSG_HDR_SIZE + MSG_MAX_PAYLOAD + 100);
	CHECK(bad_bytes("oversized", frame, n, 0, EMSGSIZE));
	CHECK(bad_bytes("oversized fd", frame, n, 1, EMSGSIZE));
	n = make_frame(MSG_CTL_FAIL, MSG_MAX_PAYLOAD + 1, payload,
	    MSG_MAX_PAYLOAD + 1);
	CHECK(bad_bytes("one byte over", frame, n, 0, EMSGSIZE));

	/* MSG_CTL_FAIL: empty, unterminated, and the largest good one. */
	CHECK(bad_msg("CTL_FAIL empty", MSG_CTL_FAIL, NULL, 0, 0, EBADMSG));
	CHECK(bad_msg("CTL_FAIL abc", MSG_CTL_FAIL, "abc", 3, 0, EBADMSG));
	payload[MSG_MAX_PAYLOAD - 1] = '\0';
	CHECK_EQ(msg_compose(&cb, MSG_CTL_FAIL, 9, -1, payload,
	    MSG_MAX_PAYLOAD), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.len, MSG_MAX_PAYLOAD);
	CHECK(memcmp(m.data, payload, MSG_MAX_PAYLOAD) == 0);

	/* msg_answer contents. */
	CHECK(make_payload(MSG_LOOKUP_ANSWER, payload, &len, &needfd));
	memcpy(&ans, payload, sizeof(ans));
	ans.naddrs = MSG_MAX_ADDRS + 1;
	CHECK(bad_msg("naddrs 17", MSG_LOOKUP_ANSWER, &ans, sizeof(ans), 0,
	    EBADMSG));
	ans.naddrs = 0xffffffff;
	CHECK(bad_msg("naddrs ~0", MSG_LOOKUP_ANSWER, &ans, sizeof(ans), 0,
	    EBADMSG));
	ans.naddrs = 1;
	CHECK(bad_msg("answer without ttl", MSG_LOOKUP_ANSWER, &ans,
	    offsetof(struct msg_answer, ttl), 0, EBADMSG));
	CHECK(bad_msg("answer and 4 bytes", MSG_LOOKUP_ANSWER, payload,
	    sizeof(ans) + 4, 0, EBADMSG));
	memset(ans.domain, 'x', sizeof(ans.domain));
	CHECK(bad_msg("domain unterminated", MSG_LOOKUP_ANSWER, &ans,
	    sizeof(ans), 0, EBADMSG));
	memcpy(&ans, payload, sizeof(ans));
	ans.route.server.sa.sa_family = AF_UNIX;
	CHECK(bad_msg("via server of no family", MSG_LOOKUP_ANSWER, &ans,
	    sizeof(ans), 0, EBADMSG));
	ans.route.via = VIA_DIRECT;	/* then the server is not looked at */
	CHECK_EQ(msg_compose(&ca, MSG_LOOKUP_ANSWER, 1, -1, &ans,
	    sizeof(ans)), 0);
	CHECK_EQ(msg_read(&cb, &m), 1);
	ans.route.via = VIA_HTTP + 1;
	CHECK(bad_msg("via unknown", MSG_LOOKUP_ANSWER, &ans, sizeof(ans), 0,
	    EBADMSG));

	/* A sockaddr_in that is not AF_INET. */
	CHECK(make_payload(MSG_SOCK_PROXY_TCP, payload, &len, &needfd));
	memcpy(&sin, payload, sizeof(sin));
	sin.sin_family = AF_INET6;
	CHECK(bad_msg("AF_INET6", MSG_SOCK_PROXY_TCP, &sin, sizeof(sin), 1,
	    EBADMSG));

	/* Configuration counts and strings. */
	conf_valid(&conf);
	conf.dns_listen_count = CONF_MAX_DNS_LISTEN + 1;
	CHECK(bad_msg("conf dns count", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	conf.upstream_count = -1;
	CHECK(bad_msg("conf upstream count", MSG_CONF, &conf, sizeof(conf),
	    0, EBADMSG));
	conf_valid(&conf);
	memset(conf.user, 'u', sizeof(conf.user));
	CHECK(bad_msg("conf user", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	conf.proxy_rule_count = CONF_MAX_PROXY_RULES + 1;
	CHECK(bad_msg("conf proxy rule count", MSG_CONF, &conf, sizeof(conf),
	    0, EBADMSG));
	conf_valid(&conf);
	conf.client_net_count = -1;
	CHECK(bad_msg("conf client count", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	conf.client_nets[CONF_MAX_CLIENT_NETS - 1].len = 33;
	CHECK(bad_msg("conf prefix length", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	conf.proxy_rules[1].len = 129;
	CHECK(bad_msg("conf IPv6 prefix length", MSG_CONF, &conf,
	    sizeof(conf), 0, EBADMSG));
	conf_valid(&conf);
	conf.proxy_rules[0].len = 33;
	CHECK(bad_msg("conf IPv4 prefix length", MSG_CONF, &conf,
	    sizeof(conf), 0, EBADMSG));
	conf_valid(&conf);
	conf.proxy_rules[1].family = AF_UNIX;
	CHECK(bad_msg("conf rule family", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	conf.client_nets[7].family = AF_INET6;
	CHECK(bad_msg("conf IPv6 client", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	memset(conf.proxy_rules[5].where, 'w',
	    sizeof(conf.proxy_rules[5].where));
	CHECK(bad_msg("conf rule where", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));
	conf_valid(&conf);
	conf.upstream[3].addr.sa.sa_family = AF_UNIX;
	CHECK(bad_msg("conf upstream family", MSG_CONF, &conf, sizeof(conf),
	    0, EBADMSG));
	conf_valid(&conf);
	memset(conf.upstream[7].tls_name, 'n',
	    sizeof(conf.upstream[7].tls_name));
	CHECK(bad_msg("conf upstream tls name", MSG_CONF, &conf, sizeof(conf),
	    0, EBADMSG));
	conf_valid(&conf);
	memset(conf.tls_ca, 'c', sizeof(conf.tls_ca));
	CHECK(bad_msg("conf tls-ca", MSG_CONF, &conf, sizeof(conf), 0,
	    EBADMSG));

	/* The gateway's addresses: a count and prefix lengths in bounds. */
	CHECK(make_payload(MSG_IFADDRS, payload, &len, &needfd));
	memcpy(&ifa, payload, sizeof(ifa));
	ifa.count = MSG_MAX_IFADDRS + 1;
	CHECK(bad_msg("ifaddrs count", MSG_IFADDRS, &ifa, sizeof(ifa), 0,
	    EBADMSG));
	ifa.count = 2;
	ifa.addrs[1].prefixlen = 33;
	CHECK(bad_msg("ifaddrs prefix length", MSG_IFADDRS, &ifa,
	    sizeof(ifa), 0, EBADMSG));
	ifa.addrs[1].prefixlen = 32;
	ifa.count6 = MSG_MAX_IFADDRS6 + 1;
	CHECK(bad_msg("ifaddrs IPv6 count", MSG_IFADDRS, &ifa, sizeof(ifa),
	    0, EBADMSG));
	ifa.count6 = 2;
	ifa.addrs6[1].prefixlen = 129;
	CHECK(bad_msg("ifaddrs IPv6 prefix length", MSG_IFADDRS, &ifa,
	    sizeof(ifa), 0, EBADMSG));
	CHECK(bad_msg("ifaddrs short", MSG_IFADDRS, &ifa, sizeof(ifa) - 1, 0,
	    EBADMSG));

	CHECK_EQ(msg_read(&ca, &m), -1);
	CHECK_EQ(errno, EAGAIN);
	pair_close();
}

static void
test_compose_einval(void)
{
	struct dns44_conf	 conf;
	struct sockaddr_in	 sin;
	struct msg_answer	 ans;
	struct msg_lookup	 lk;
	size_t			 len;
	int			 needfd, p[2];

	pair_open();
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	lk.addr = htonl(0xac180001);

	CHECK(compose_einval("type 0", MSG_NONE, -1, NULL, 0));
	CHECK(compose_einval("type 0 fd", MSG_NONE, p[1], NULL, 0));
	CHECK(compose_einval("type MAX", MSG_TYPE_MAX, -1, NULL, 0));
	CHECK(compose_einval("type ~0", 0xffffffff, p[1], &lk, sizeof(lk)));
	CHECK(compose_einval("LOOKUP 3", MSG_LOOKUP, -1, &lk, 3));
	CHECK(compose_einval("LOOKUP 5", MSG_LOOKUP, -1, &lk, 5));
	CHECK(compose_einval("LOOKUP NULL", MSG_LOOKUP, -1, NULL,
	    sizeof(lk)));
	CHECK(compose_einval("LOOKUP fd", MSG_LOOKUP, p[1], &lk,
	    sizeof(lk)));
	CHECK(compose_einval("SOCK_END fd", MSG_SOCK_END, p[1], NULL, 0));
	CHECK(compose_einval("SOCK_PEER no fd", MSG_SOCK_PEER, -1, NULL, 0));
	CHECK(compose_einval("SOCK_PEER fd -2", MSG_SOCK_PEER, -2, NULL, 0));
	CHECK(compose_einval("SOCK_PEER payload", MSG_SOCK_PEER, p[1], &lk,
	    sizeof(lk)));
	CHECK(compose_einval("CTL_OK payload", MSG_CTL_OK, -1, &lk,
	    sizeof(lk)));
	CHECK(compose_einval("CTL_FAIL empty", MSG_CTL_FAIL, -1, "", 0));
	CHECK(compose_einval("CTL_FAIL abc", MSG_CTL_FAIL, -1, "abc", 3));
	memset(payload, 0, sizeof(payload));
	CHECK(compose_einval("CTL_FAIL big", MSG_CTL_FAIL, -1, payload,
	    MSG_MAX_PAYLOAD + 1));

	CHECK(make_payload(MSG_LOOKUP_ANSWER, payload, &len, &needfd));
	memcpy(&ans, payload, sizeof(ans));
	ans.naddrs = MSG_MAX_ADDRS + 1;
	CHECK(compose_einval("naddrs 17", MSG_LOOKUP_ANSWER, -1, &ans,
	    sizeof(ans)));
	ans.naddrs = 1;
	CHECK(compose_einval("answer without ttl", MSG_LOOKUP_ANSWER, -1,
	    &ans, offsetof(struct msg_answer, ttl)));
	CHECK(make_payload(MSG_SOCK_DNS_TCP, payload, &len, &needfd));
	memcpy(&sin, payload, sizeof(sin));
	sin.sin_family = AF_UNIX;
	CHECK(compose_einval("AF_UNIX", MSG_SOCK_DNS_TCP, p[1], &sin,
	    sizeof(sin)));
	conf_valid(&conf);
	CHECK(compose_einval("conf short", MSG_CONF, -1, &conf,
	    sizeof(conf) - 1));
	conf.dns_listen_count = -1;
	CHECK(compose_einval("conf count", MSG_CONF, -1, &conf,
	    sizeof(conf)));

	close(p[0]);
	close(p[1]);
	pair_close();
}

/* Fill the socket, keep composing, then drain: all arrive, in order. */
static void
test_queue(void)
{
	struct dns44_conf	 conf;
	struct msg		 m;
	uint32_t		 i, n, got;
	int			 r, fail = 0;

	pair_open();
	conf_valid(&conf);
	for (n = 0; !msg_pending(&ca) && n < 10000; n++) {
		conf.verbose = n;
		if (msg_compose(&ca, MSG_CONF, n, -1, &conf,
		    sizeof(conf)) == -1)
			break;
	}
	CHECK(msg_pending(&ca));
	CHECK(n > 1 && n < 10000);
	for (i = 0; i < 50; i++, n++) {
		conf.verbose = n;
		CHECK_EQ(msg_compose(&ca, MSG_CONF, n, -1, &conf,
		    sizeof(conf)), 0);
	}
	CHECK(msg_pending(&ca));
	CHECK(ca.queued >= 50 * (MSG_HDR_SIZE + sizeof(conf)));

	for (got = 0; got < n;) {
		r = msg_read(&cb, &m);
		if (r == 1) {
			if (m.hdr.id != got || m.hdr.type != MSG_CONF ||
			    m.len != sizeof(conf) ||
			    ((struct dns44_conf *)m.data)->verbose !=
			    (int)got)
				fail++;
			got++;
			continue;
		}
		if (r == -1 && errno == EAGAIN && msg_pending(&ca)) {
			CHECK_EQ(msg_flush(&ca), 0);
			continue;
		}
		break;
	}
	CHECK_EQ(fail, 0);
	CHECK_EQ(got, n);
	CHECK(!msg_pending(&ca));
	CHECK_EQ(ca.queued, 0);
	CHECK_EQ(msg_flush(&ca), 0);
	CHECK_EQ(msg_read(&cb, &m), -1);
	CHECK_EQ(errno, EAGAIN);
	pair_close();
}

/* More than MSG_MAX_QUEUE bytes queued is refused; the fd goes with it. */
static void
test_enobufs(void)
{
	struct dns44_conf	 conf;
	uint32_t		 n;
	int			 r = 0, p[2], before;

	pair_open();
	conf_valid(&conf);
	for (n = 0; n < 100000; n++)
		if ((r = msg_compose(&ca, MSG_CONF, n, -1, &conf,
		    sizeof(conf))) == -1)
			break;
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, ENOBUFS);
	CHECK(ca.queued <= MSG_MAX_QUEUE);
	CHECK(ca.queued + MSG_HDR_SIZE + sizeof(conf) > MSG_MAX_QUEUE);
	CHECK(n > MSG_MAX_QUEUE / (MSG_HDR_SIZE + sizeof(conf)));

	/* Top it up with empty messages, then one with an fd. */
	for (n = 0; n < 100000; n++)
		if ((r = msg_compose(&ca, MSG_CTL_OK, n, -1, NULL, 0)) == -1)
			break;
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, ENOBUFS);
	CHECK(MSG_MAX_QUEUE - ca.queued < MSG_HDR_SIZE);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	before = count_fds();
	errno = 0;
	CHECK_EQ(msg_compose(&ca, MSG_SOCK_PEER, 1, p[1], NULL, 0), -1);
	CHECK_EQ(errno, ENOBUFS);
	CHECK_EQ(count_fds(), before - 1);
	close(p[0]);

	/* Still refused, still queued: nothing was read meanwhile. */
	CHECK(msg_pending(&ca));
	CHECK_EQ(msg_flush(&ca), 0);
	CHECK(msg_pending(&ca));
	pair_close();
	CHECK_EQ(ca.queued, 0);
}

/* msg_clear closes the fds of messages still queued. */
static void
test_clear(void)
{
	struct dns44_conf	 conf;
	uint32_t		 n;
	int			 i, p[2], before, queued;
	char			 c;

	pair_open();
	conf_valid(&conf);
	for (n = 0; !msg_pending(&ca) && n < 10000; n++)
		CHECK_EQ(msg_compose(&ca, MSG_CONF, n, -1, &conf,
		    sizeof(conf)), 0);
	CHECK(msg_pending(&ca));

	before = count_fds();
	for (i = 0; i < 5; i++) {
		CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
		CHECK_EQ(msg_compose(&ca, MSG_SOCK_PEER, i, p[1], NULL, 0), 0);
		close(p[0]);
	}
	queued = count_fds();
	CHECK_EQ(queued, before + 5);
	msg_clear(&ca);
	CHECK_EQ(count_fds(), before);
	CHECK(!msg_pending(&ca));
	CHECK_EQ(ca.queued, 0);

	/* The channel is usable again after msg_clear. */
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	CHECK_EQ(msg_compose(&ca, MSG_SOCK_PEER, 1, p[1], NULL, 0), 0);
	CHECK(msg_pending(&ca));
	msg_clear(&ca);
	CHECK_EQ(read(p[0], &c, 1), 0);		/* no writer left */
	close(p[0]);
	pair_close();
}

static void
test_eof(void)
{
	struct msg	 m;

	/* What was sent before the close is read first. */
	pair_open();
	CHECK_EQ(msg_compose(&cb, MSG_CTL_OK, 3, -1, NULL, 0), 0);
	close(cb.fd);
	cb.fd = -1;
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.id, 3);
	CHECK_EQ(msg_read(&ca, &m), 0);
	CHECK_EQ(msg_read(&ca, &m), 0);

	/* Sending to a closed peer fails without SIGPIPE. */
	errno = 0;
	CHECK_EQ(msg_compose(&ca, MSG_CTL_OK, 4, -1, NULL, 0), -1);
	CHECK_EQ(errno, EPIPE);
	CHECK(msg_pending(&ca));
	errno = 0;
	CHECK_EQ(msg_flush(&ca), -1);
	CHECK_EQ(errno, EPIPE);
	pair_close();
}

/* The upstreams' table reaches dns44ctl alone, each in a known state. */
static void
test_upstreams(void)
{
	struct ctl_upstream	 cu[3];
	struct msg		 m;

	CHECK(msg_accepts(MSG_RX_CTL, MSG_CTL_UPSTREAMS));
	CHECK(!msg_accepts(MSG_RX_CONTROL, MSG_CTL_UPSTREAMS));
	CHECK(!msg_accepts(MSG_RX_DNS_PEER, MSG_CTL_UPSTREAMS));
	CHECK(!msg_accepts(MSG_RX_PROXY_PEER, MSG_CTL_UPSTREAMS));

	pair_open();
	memset(cu, 0, sizeof(cu));
	cu[0].state = CTL_UPSTREAM_NEW;
	cu[1].state = CTL_UPSTREAM_DOWN;
	cu[1].ipv6 = 1;
	cu[1].tls = 1;
	cu[2].state = CTL_UPSTREAM_UP;
	cu[2].ipv6 = 2;
	CHECK(bad_msg("UPSTREAMS of no family", MSG_CTL_UPSTREAMS, cu,
	    sizeof(cu), 0, EBADMSG));
	cu[2].ipv6 = 0;
	cu[2].state = CTL_UPSTREAM_MAX;
	CHECK(bad_msg("UPSTREAMS of state MAX", MSG_CTL_UPSTREAMS, cu,
	    sizeof(cu), 0, EBADMSG));
	CHECK(bad_msg("UPSTREAMS empty", MSG_CTL_UPSTREAMS, cu, 0, 0,
	    EBADMSG));
	CHECK(bad_msg("UPSTREAMS with fd", MSG_CTL_UPSTREAMS, cu,
	    sizeof(cu[0]), 1, EBADMSG));
	cu[2].state = CTL_UPSTREAM_UP;
	CHECK_EQ(msg_compose(&cb, MSG_CTL_UPSTREAMS, 5, -1, cu,
	    sizeof(cu)), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.type, MSG_CTL_UPSTREAMS);
	CHECK_EQ(m.len, sizeof(cu));
	pair_close();
}

/*
 * The status: asked by dns44ctl of the dns process, which asks the
 * parent; the answer goes back the same way, its texts terminated and
 * the check in a known state.
 */
static void
test_status(void)
{
	struct ctl_status	 cs;
	struct msg		 m;

	CHECK(msg_accepts(MSG_RX_CONTROL, MSG_CTL_STATUS));
	CHECK(msg_accepts(MSG_RX_PARENT_DNS, MSG_CTL_STATUS));
	CHECK(!msg_accepts(MSG_RX_PARENT_PROXY, MSG_CTL_STATUS));
	CHECK(!msg_accepts(MSG_RX_DNS_PEER, MSG_CTL_STATUS));
	CHECK(msg_accepts(MSG_RX_DNS_PARENT, MSG_CTL_STATUS_INFO));
	CHECK(msg_accepts(MSG_RX_CTL, MSG_CTL_STATUS_INFO));
	CHECK(!msg_accepts(MSG_RX_CONTROL, MSG_CTL_STATUS_INFO));
	CHECK(!msg_accepts(MSG_RX_PROXY_PARENT, MSG_CTL_STATUS_INFO));
	CHECK(!msg_accepts(MSG_RX_PARENT_DNS, MSG_CTL_STATUS_INFO));

	pair_open();
	memset(&cs, 0, sizeof(cs));
	CHECK(bad_msg("STATUS with a payload", MSG_CTL_STATUS, &cs, 4, 0,
	    EBADMSG));
	cs.check = CTL_CHECK_MAX;
	CHECK(bad_msg("STATUS_INFO of check MAX", MSG_CTL_STATUS_INFO, &cs,
	    sizeof(cs), 0, EBADMSG));
	cs.check = CTL_CHECK_OK;
	memset(cs.check_text, 'x', sizeof(cs.check_text));
	CHECK(bad_msg("STATUS_INFO unterminated check", MSG_CTL_STATUS_INFO,
	    &cs, sizeof(cs), 0, EBADMSG));
	cs.check_text[0] = '\0';
	memset(cs.reload_error, 'x', sizeof(cs.reload_error));
	CHECK(bad_msg("STATUS_INFO unterminated reload error",
	    MSG_CTL_STATUS_INFO, &cs, sizeof(cs), 0, EBADMSG));
	cs.reload_error[sizeof(cs.reload_error) - 1] = '\0';
	CHECK(bad_msg("STATUS_INFO short", MSG_CTL_STATUS_INFO, &cs,
	    sizeof(cs) - 1, 0, EBADMSG));
	CHECK(bad_msg("STATUS_INFO with fd", MSG_CTL_STATUS_INFO, &cs,
	    sizeof(cs), 1, EBADMSG));
	CHECK_EQ(msg_compose(&cb, MSG_CTL_STATUS_INFO, 6, -1, &cs,
	    sizeof(cs)), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.type, MSG_CTL_STATUS_INFO);
	CHECK_EQ(m.len, sizeof(cs));
	pair_close();
}

/*
 * A dialling socket: asked by the proxy, made by the parent, of TCP or
 * UDP only; and the parent's test of the mark, which only a route rule
 * of its configuration may name.
 */
static void
test_dial(void)
{
	struct msg_dial_sock	 ds;
	struct ruleset		 rs;
	struct rule		 rules[3];
	struct msg		 m;

	CHECK(msg_accepts(MSG_RX_PARENT_PROXY, MSG_DIAL_SOCK_REQ));
	CHECK(!msg_accepts(MSG_RX_PARENT_DNS, MSG_DIAL_SOCK_REQ));
	CHECK(msg_accepts(MSG_RX_PROXY_PARENT, MSG_DIAL_SOCK));
	CHECK(msg_accepts(MSG_RX_PROXY_PARENT, MSG_DIAL_SOCK_FAIL));
	CHECK(!msg_accepts(MSG_RX_PROXY_PEER, MSG_DIAL_SOCK));
	CHECK(!msg_accepts(MSG_RX_PARENT_PROXY, MSG_DIAL_SOCK));

	pair_open();
	memset(&ds, 0, sizeof(ds));
	ds.mark = 0x64;
	ds.family = AF_INET;
	ds.proto = IPPROTO_ICMP;
	CHECK(bad_msg("DIAL_SOCK_REQ of ICMP", MSG_DIAL_SOCK_REQ, &ds,
	    sizeof(ds), 0, EBADMSG));
	ds.proto = 0xffffffff;
	CHECK(bad_msg("DIAL_SOCK of proto ~0", MSG_DIAL_SOCK, &ds,
	    sizeof(ds), 1, EBADMSG));
	ds.proto = IPPROTO_UDP;
	CHECK(bad_msg("DIAL_SOCK without its fd", MSG_DIAL_SOCK, &ds,
	    sizeof(ds), 0, EBADMSG));
	ds.proto = IPPROTO_TCP;
	ds.family = AF_UNIX;
	CHECK(bad_msg("DIAL_SOCK_REQ of AF_UNIX", MSG_DIAL_SOCK_REQ, &ds,
	    sizeof(ds), 0, EBADMSG));
	ds.family = AF_INET6;
	CHECK_EQ(msg_compose(&cb, MSG_DIAL_SOCK_REQ, 9, -1, &ds,
	    sizeof(ds)), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.type, MSG_DIAL_SOCK_REQ);
	ds.family = AF_INET;
	CHECK_EQ(msg_compose(&cb, MSG_DIAL_SOCK_REQ, 9, -1, &ds,
	    sizeof(ds)), 0);
	CHECK_EQ(msg_read(&ca, &m), 1);
	CHECK_EQ(m.hdr.type, MSG_DIAL_SOCK_REQ);
	CHECK_EQ(m.hdr.id, 9);
	pair_close();

	/* No configuration, no rules: nothing to grant. */
	CHECK(!ruleset_has_mark(NULL, 0x64));
	memset(&rs, 0, sizeof(rs));
	CHECK(!ruleset_has_mark(&rs, 0x64));

	memset(rules, 0, sizeof(rules));
	rules[0].action = RULE_ROUTE;
	rules[0].route.action = RULE_ROUTE;
	rules[0].route.mark = 0x64;
	/* A mark on a rule that does not route sets nothing. */
	rules[1].action = RULE_BLOCK;
	rules[1].route.mark = 0x65;
	rules[2].action = RULE_ROUTE;
	rules[2].route.action = RULE_ROUTE;
	rules[2].route.mark = 0xffffffff;
	rs.rules = rules;
	rs.nrules = 3;
	CHECK(ruleset_has_mark(&rs, 0x64));
	CHECK(ruleset_has_mark(&rs, 0xffffffff));
	CHECK(!ruleset_has_mark(&rs, 0x65));
	CHECK(!ruleset_has_mark(&rs, 0x63));
	CHECK(!ruleset_has_mark(&rs, 44));
	/* Mark 0 is a route without a mark, never a socket's. */
	rules[1].action = RULE_ROUTE;
	rules[1].route.mark = 0;
	CHECK(!ruleset_has_mark(&rs, 0));
	rs.nrules = 1;
	CHECK(!ruleset_has_mark(&rs, 0xffffffff));
}

int
main(void)
{
	int	 start;

	start = count_fds();
	test_names();
	test_roundtrip();
	test_fd_pass();
	test_decode();
	test_bad();
	test_compose_einval();
	test_queue();
	test_enobufs();
	test_clear();
	test_eof();
	test_channels();
	test_get();
	test_dial();
	test_upstreams();
	test_status();
	CHECK_EQ(count_fds(), start);
	return (test_done("msg"));
}
