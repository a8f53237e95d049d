/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proxy_dest.c: the proxy process's client and destination policy: which
 * clients are served, and which real addresses, of either family, may be
 * dialled and in what order (Happy Eyeballs' alternating families), from
 * the configuration and the gateway's own addresses that the parent
 * sends.  It also spells the addresses dialled for the journal.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "prefix.h"
#include "proc.h"
#include "proxy.h"

/* Kinds of refused destinations, each rate-limited on its own. */
enum {
	PROXY_DEST_LOOP,		/* the range, the proxy's listener */
	PROXY_DEST_LOOPBACK,		/* dns44's ports on loopback */
	PROXY_DEST_RULE,		/* the destination table */
	PROXY_DEST_KINDS
};

static struct msg_ifaddrs	 proxy_ifaddrs;	/* the gateway's own */
static struct prefix_table	*proxy_dests;	/* where it may dial */
static struct prefix_table	*proxy_clients;	/* whom it serves */
static uint64_t			 proxy_refused_clients;
static uint64_t			 proxy_refused_dests;	/* relays */
static struct log_rate	 proxy_rl_client;
static struct log_rate	 proxy_rl_dest[PROXY_DEST_KINDS];

static const char *proxy_dest_refused(const union conf_addr *, int *);
static const char *proxy_dest_refused6(const union conf_addr *, int *);

/*
 * Build the destination and client tables anew from the configuration and
 * the gateway's addresses, ifa or those known; if that fails the old ones
 * stay, and -1 says there are none.
 */
int
proxy_dest_policy(const struct msg_ifaddrs *ifa)
{
	struct prefix_table	*d, *c;

	if (ifa != NULL)
		memcpy(&proxy_ifaddrs, ifa, sizeof(proxy_ifaddrs));
	d = prefix_dest_table(conf, &proxy_ifaddrs);
	c = prefix_client_table(conf, &proxy_ifaddrs);
	if (d == NULL || c == NULL) {
		log_warn("destination and client policy not rebuilt");
		prefix_free(d);
		prefix_free(c);
		return (proxy_dests != NULL && proxy_clients != NULL ? 0 : -1);
	}
	prefix_free(proxy_dests);
	prefix_free(proxy_clients);
	proxy_dests = d;
	proxy_clients = c;
	return (0);
}

/* The clients and the relays refused, for dns44ctl show stats. */
void
proxy_dest_stats(uint64_t *clients, uint64_t *dests)
{
	*clients = proxy_refused_clients;
	*dests = proxy_refused_dests;
}

/*
 * Whether a new connection or session from client is served; if not,
 * it is counted and the journal hears of it, rate-limited.
 */
int
proxy_client_allowed(const char *proto, const struct sockaddr_in *client,
    const struct sockaddr_in *virt)
{
	const struct prefix_rule	*r;

	r = prefix_lookup(proxy_clients, ntohl(client->sin_addr.s_addr));
	if (r != NULL && r->verdict == PREFIX_ALLOW)
		return (1);
	proxy_refused_clients++;
	log_rate(&proxy_rl_client, LOG_NOTICE,
	    "%s: client not in the allowed networks; %s",
	    proxy_flow(proto, client, NULL, virt),
	    strcmp(proto, "TCP") == 0 ? "reset" : "dropped");
	return (0);
}

/*
 * Why the proxy must not dial dst, or NULL: the one place that decides,
 * with the kind of reason for the rate limit of its journal line.  The
 * virtual range and dns44's own ports would come back to dns44 and no
 * configuration line opens them; the rest is the destination table,
 * whose rule names itself.
 */
static const char *
proxy_dest_refused(const union conf_addr *dst, int *kind)
{
	static char			 why[PREFIX_LABEL_MAX + 16];
	const struct prefix_rule	*r;
	const struct sockaddr_in	*sin = &dst->sin;
	uint32_t			 a;
	int				 i;

	if (dst->sa.sa_family == AF_INET6)
		return (proxy_dest_refused6(dst, kind));
	a = ntohl(sin->sin_addr.s_addr);
	*kind = PROXY_DEST_LOOP;
	if (proxy_in_range(sin))
		return ("not dialling the virtual range");
	if (sin->sin_addr.s_addr == conf->proxy_listen.sin_addr.s_addr &&
	    sin->sin_port == conf->proxy_listen.sin_port)
		return ("not dialling the proxy's own listener");
	if ((a >> 24) == 127) {
		*kind = PROXY_DEST_LOOPBACK;
		if (sin->sin_port == conf->proxy_listen.sin_port)
			return ("not dialling the proxy's port on loopback");
		for (i = 0; i < conf->dns_listen_count; i++)
			if (sin->sin_port == conf->dns_listen[i].sin_port)
				return ("not dialling a DNS port on loopback");
	}
	*kind = PROXY_DEST_RULE;
	r = prefix_lookup(proxy_dests, a);
	if (r == NULL || r->verdict != PREFIX_DENY)
		return (NULL);
	snprintf(why, sizeof(why), "refused by %s", r->label);
	return (why);
}

/*
 * Why the proxy must not send to a SOCKS5 server's UDP relay, or NULL.
 * The server's reply could name the gateway's loopback or a network the
 * destinations refuse, so the relay is judged as a destination is, but
 * that a relay at the server's own address, which the route names, is
 * let through the destination table whatever its port: a server on the
 * gateway's loopback has its relay there too.
 */
const char *
proxy_dest_relay(const union conf_addr *relay, const union conf_addr *server)
{
	static char	 why[PREFIX_LABEL_MAX + 64];
	const char	*r;
	int		 kind, same;

	if (relay->sa.sa_family != server->sa.sa_family)
		same = 0;
	else if (relay->sa.sa_family == AF_INET6)
		same = IN6_ARE_ADDR_EQUAL(&relay->sin6.sin6_addr,
		    &server->sin6.sin6_addr);
	else
		same = relay->sin.sin_addr.s_addr ==
		    server->sin.sin_addr.s_addr;
	if ((r = proxy_dest_refused(relay, &kind)) == NULL ||
	    (kind == PROXY_DEST_RULE && same))
		return (NULL);
	snprintf(why, sizeof(why), "relay %s: %s", proxy_sa_fmt(relay), r);
	return (why);
}

/*
 * The same for an IPv6 address, from the table's IPv6 rules; an address
 * that carries an IPv4 one (v4-mapped, or NAT64's well-known prefix,
 * which the gateway's translator would take to it) is judged as that
 * address would be.
 */
static const char *
proxy_dest_refused6(const union conf_addr *dst, int *kind)
{
	static const unsigned char	 nat64[12] = { 0x00, 0x64, 0xff,
					    0x9b };
	static char			 why[PREFIX_LABEL_MAX + 16];
	const struct in6_addr		*in6 = &dst->sin6.sin6_addr;
	const struct prefix_rule	*r;
	union conf_addr			 v4;

	*kind = PROXY_DEST_RULE;
	if (IN6_IS_ADDR_V4MAPPED(in6) ||
	    memcmp(in6->s6_addr, nat64, sizeof(nat64)) == 0) {
		memset(&v4, 0, sizeof(v4));
		v4.sin.sin_family = AF_INET;
		v4.sin.sin_port = dst->sin6.sin6_port;
		memcpy(&v4.sin.sin_addr, &in6->s6_addr[12], 4);
		return (proxy_dest_refused(&v4, kind));
	}
	r = prefix_lookup6(proxy_dests, in6);
	if (r == NULL || r->verdict != PREFIX_DENY)
		return (NULL);
	snprintf(why, sizeof(why), "refused by %s", r->label);
	return (why);
}

/* "192.0.2.1:443" or "[2001:db8::1]:443"; lives until the next call. */
const char *
proxy_sa_fmt(const union conf_addr *sa)
{
	static char	buf[INET6_ADDRSTRLEN + 8];

	return (conf_fmt_sockaddr(sa, buf, sizeof(buf)));
}

/*
 * The real addresses of r's domain it may dial, each with the port of
 * r's virtual address, into out: the families alternate, the preferred
 * one first (RFC 8305, 4), each in the order the upstream gave.  Each
 * one refused has a journal line naming the client, the domain, the
 * address and the rule, at most one a second of each kind.  None left:
 * the relay is refused and counted.
 */
size_t
proxy_dest_filter(struct proxy_relay *r, const union conf_addr *addrs,
    size_t n, union conf_addr *out)
{
	union conf_addr	 dst, fam[2][PROXY_ADDRS_MAX];
	const char	*why;
	size_t		 i, kept = 0, nfam[2] = { 0, 0 }, k;
	int		 kind, first;

	for (i = 0; i < n; i++) {
		dst = addrs[i];
		conf_set_port(&dst, ntohs(r->virt.sin_port));
		if ((why = proxy_dest_refused(&dst, &kind)) == NULL) {
			k = dst.sa.sa_family == conf->prefer_family ? 0 : 1;
			fam[k][nfam[k]++] = dst;
			kept++;
			continue;
		}
		log_rate(&proxy_rl_dest[kind], LOG_NOTICE,
		    "%s: dial %s: %s%s", proxy_relay_flow(r),
		    proxy_sa_fmt(&dst), why, kept > 0 || i + 1 < n ? "" :
		    r->proto == IPPROTO_TCP ? "; reset" : "; dropped");
	}
	if (kept == 0) {
		proxy_refused_dests++;
		return (0);
	}
	/* Interleaved, the preferred family first. */
	kept = 0;
	for (i = 0; i < nfam[0] || i < nfam[1]; i++)
		for (first = 0; first < 2; first++)
			if (i < nfam[first])
				out[kept++] = fam[first][i];
	return (kept);
}
