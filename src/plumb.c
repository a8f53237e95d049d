/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * plumb.c: the parent's TPROXY plumbing, made when "tproxy setup yes"
 * says so and removed when the parent exits, however it exits.  It is
 * what dns44-tproxy makes by hand: the nftables table "ip dns44" (through
 * libnftables) whose prerouting chain hands TCP and UDP to the range to
 * the proxy and sets the mark, and in the routing table of "tproxy table"
 * a rule "to PREFIX lookup TABLE" and a route "local PREFIX dev lo" for
 * each prefix of the range (plumb_nl.c).  The table's comment names the
 * parent's pid and the rules and routes carry dns44's protocol number, so
 * that what a parent that was killed left is known for what it is at the
 * next start, and removed.  Anything else of that name, in that table or
 * for it refuses the start with a message that names it.
 *
 * The table has no owner flag, which would tie it to the parent's
 * netlink socket: nftables 1.0.6 prints such a table's flags in JSON
 * wrongly, and the self-check reads the ruleset as JSON.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "log.h"
#include "proc.h"
#include "plumb.h"

#define PLUMB_CMD_MAX		1024
#define PLUMB_ERR_MAX		200	/* of nft's message, in the log */
#define PLUMB_COMMENT		"dns44 pid "	/* the table's, and a pid */

static struct nft_ctx		*plumb_nft;
static int			 plumb_table_added;
static struct plumb_prefix	 plumb_pfx[PLUMB_MAX_PREFIXES];
static int			 plumb_npfx;
static int			 plumb_routes_added;	/* the first n */
static int			 plumb_rules_added;
static uint32_t			 plumb_table;
static pid_t			 plumb_pid;

static int	plumb_nft_run(const char *, char *, size_t);
static pid_t	plumb_table_owner(void);
static int	plumb_pid_alive(pid_t);
static int	plumb_clashes(void);
static int	plumb_add_table(void);
static void	plumb_atexit(void);
static const char *plumb_fmt(const struct plumb_prefix *, char *, size_t);

/* The prefixes that cover first to last exactly: their number, or -1. */
int
plumb_prefixes(uint32_t first, uint32_t last, struct plumb_prefix *p,
    int max)
{
	uint64_t	a = first, size;
	int		n = 0, len;

	while (a <= last) {
		len = 32;
		size = 1;
		while (len > 0 && a % (size * 2) == 0 &&
		    a + size * 2 - 1 <= last) {
			size *= 2;
			len--;
		}
		if (n == max)
			return (-1);
		p[n].addr = (uint32_t)a;
		p[n].len = len;
		n++;
		a += size;
	}
	return (n);
}

static const char *
plumb_fmt(const struct plumb_prefix *p, char *buf, size_t len)
{
	struct in_addr	in;
	char		a[INET_ADDRSTRLEN];

	in.s_addr = htonl(p->addr);
	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return (buf);
}

/*
 * One nft command: 0, or -1 with the first line of nft's error in err.
 * The output (a listing) is read by nobody.
 */
static int
plumb_nft_run(const char *cmd, char *err, size_t errlen)
{
	const char	*e;
	size_t		 n;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (nft_run_cmd_from_buffer(plumb_nft, cmd) == 0)
		return (0);
	if (err != NULL && errlen > 0 &&
	    (e = nft_ctx_get_error_buffer(plumb_nft)) != NULL) {
		n = strcspn(e, "\n");
		if (n >= errlen)
			n = errlen - 1;
		if (n > PLUMB_ERR_MAX)
			n = PLUMB_ERR_MAX;
		memcpy(err, e, n);
		err[n] = '\0';
	}
	return (-1);
}

/*
 * Whose the table of our name is: -1 there is none, 0 somebody else's,
 * or the pid that a parent wrote into its comment.  nft lists the table's
 * comment on the line after the table's own.
 */
static pid_t
plumb_table_owner(void)
{
	const char	*out, *p, *errstr;
	char		 num[16];
	size_t		 n;
	long long	 pid;

	if (plumb_nft_run("list table ip " PLUMB_NFT_TABLE, NULL, 0) == -1)
		return (-1);
	if ((out = nft_ctx_get_output_buffer(plumb_nft)) == NULL ||
	    (p = strchr(out, '\n')) == NULL ||
	    strncmp(p + 1, "\tcomment \"" PLUMB_COMMENT,
	    strlen("\tcomment \"" PLUMB_COMMENT)) != 0)
		return (0);
	p += 1 + strlen("\tcomment \"" PLUMB_COMMENT);
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(num) || p[n] != '"')
		return (0);
	memcpy(num, p, n);
	num[n] = '\0';
	pid = strtonum(num, 1, INT_MAX, &errstr);
	return (errstr == NULL ? (pid_t)pid : 0);
}

/* Whether a dns44 of that pid runs, other than this one. */
static int
plumb_pid_alive(pid_t pid)
{
	FILE	*fp;
	char	 path[64], comm[32];
	int	 alive;

	if (pid == getpid())
		return (0);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (0);
	alive = fgets(comm, sizeof(comm), fp) != NULL &&
	    strncmp(comm, "dns44", 5) == 0;
	fclose(fp);
	return (alive);
}

/*
 * What is there already: a table of our name, a rule that looks up our
 * routing table, a route in it.  What a parent that is gone left is
 * removed, but nothing while a table of our name is there for a reason:
 * anybody else's are a clash, each logged: their number.
 */
static int
plumb_clashes(void)
{
	struct plumb_rule	*rules;
	struct plumb_route	*routes;
	struct plumb_prefix	 p;
	char			 buf[32], err[256];
	int			 i, n, clashes = 0, left = 0, live = 1;
	pid_t			 owner;

	owner = plumb_table_owner();
	if (owner > 0 && !plumb_pid_alive(owner)) {
		if (plumb_nft_run("delete table ip " PLUMB_NFT_TABLE, err,
		    sizeof(err)) == -1)
			fatalx("tproxy setup: removing the nftables table ip "
			    "%s of pid %d: %s", PLUMB_NFT_TABLE, (int)owner,
			    err);
		log_warnx("tproxy setup: removed the nftables table ip %s "
		    "left by dns44 pid %d", PLUMB_NFT_TABLE, (int)owner);
		owner = -1;
	}
	if (owner > 0) {
		log_warnx("tproxy setup: the nftables table ip %s belongs to "
		    "dns44 pid %d, which runs", PLUMB_NFT_TABLE, (int)owner);
		clashes++;
	} else if (owner == 0) {
		log_warnx("tproxy setup: the nftables table ip %s exists "
		    "already (made by dns44-tproxy or by hand?); remove it "
		    "(dns44-tproxy del) or set \"tproxy setup no\"",
		    PLUMB_NFT_TABLE);
		clashes++;
	} else
		live = 0;

	if ((rules = calloc(PLUMB_MAX_RULES, sizeof(*rules))) == NULL ||
	    (routes = calloc(PLUMB_MAX_ROUTES, sizeof(*routes))) == NULL)
		fatal(NULL);
	if ((n = plumb_nl_rules(rules, PLUMB_MAX_RULES)) == -1)
		fatal("tproxy setup: reading the ip rules");
	for (i = 0; i < n; i++) {
		if (rules[i].table != plumb_table)
			continue;
		if (rules[i].proto == PLUMB_PROTO) {
			if (!live && plumb_nl_del_rule(&rules[i]) == 0)
				left++;
			continue;
		}
		p.addr = rules[i].dst;
		p.len = rules[i].dst_len;
		log_warnx("tproxy setup: ip rule %u (to %s) looks up table %u "
		    "already; choose another \"tproxy table\" or remove it",
		    rules[i].prio, plumb_fmt(&p, buf, sizeof(buf)),
		    plumb_table);
		clashes++;
	}
	if ((n = plumb_nl_routes(plumb_table, routes, PLUMB_MAX_ROUTES)) ==
	    -1)
		fatal("tproxy setup: reading routing table %u", plumb_table);
	for (i = 0; i < n; i++) {
		if (routes[i].proto == PLUMB_PROTO) {
			if (!live && plumb_nl_del_route(&routes[i]) == 0)
				left++;
			continue;
		}
		p.addr = routes[i].dst;
		p.len = routes[i].dst_len;
		log_warnx("tproxy setup: routing table %u holds a route to %s "
		    "already; choose another \"tproxy table\" or empty it",
		    plumb_table, plumb_fmt(&p, buf, sizeof(buf)));
		clashes++;
	}
	if (left > 0)
		log_warnx("tproxy setup: removed %d rule(s) and route(s) left "
		    "by an earlier run", left);
	free(rules);
	free(routes);
	return (clashes);
}

/* The table, its chain and rule, in one transaction. */
static int
plumb_add_table(void)
{
	char		 cmd[PLUMB_CMD_MAX], match[64], to[40], err[256];
	char		 a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct in_addr	 in;
	int		 n;

	if (conf->range_prefix >= 0)
		plumb_fmt(&plumb_pfx[0], match, sizeof(match));
	else {
		in.s_addr = htonl(conf->range_first);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		in.s_addr = htonl(conf->range_last);
		inet_ntop(AF_INET, &in, b, sizeof(b));
		snprintf(match, sizeof(match), "%s-%s", a, b);
	}
	/* To 0.0.0.0: the packet's own destination address. */
	if (conf->proxy_listen.sin_addr.s_addr == htonl(INADDR_ANY))
		snprintf(to, sizeof(to), ":%u",
		    ntohs(conf->proxy_listen.sin_port));
	else
		snprintf(to, sizeof(to), "%s:%u",
		    inet_ntop(AF_INET, &conf->proxy_listen.sin_addr, a,
		    sizeof(a)), ntohs(conf->proxy_listen.sin_port));
	n = snprintf(cmd, sizeof(cmd),
	    "create table ip %s { comment \"" PLUMB_COMMENT "%d\"; }\n"
	    "add chain ip %s prerouting { type filter hook prerouting "
	    "priority mangle; policy accept; }\n"
	    "add rule ip %s prerouting ip daddr %s meta l4proto { tcp, udp } "
	    "tproxy to %s meta mark set 0x%x\n",
	    PLUMB_NFT_TABLE, (int)getpid(), PLUMB_NFT_TABLE, PLUMB_NFT_TABLE,
	    match, to, conf->tproxy_mark);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		fatalx("%s: command too long", __func__);
	if (plumb_nft_run(cmd, err, sizeof(err)) == -1) {
		log_warnx("tproxy setup: adding the nftables table ip %s: %s",
		    PLUMB_NFT_TABLE, err[0] != '\0' ? err : "failed");
		return (-1);
	}
	return (0);
}

/*
 * Make the plumbing if the configuration asks for it, refusing to start
 * over anybody else's; from here on the parent's exit removes it.
 */
void
plumb_start(void)
{
	char	buf[32];
	int	i;

	if (!conf->tproxy_setup)
		return;
	plumb_table = conf->tproxy_table;
	if (conf->range_prefix >= 0) {
		/* The whole CIDR, its network and broadcast addresses too. */
		plumb_pfx[0].len = conf->range_prefix;
		plumb_pfx[0].addr = conf->range_first & (conf->range_prefix ==
		    0 ? 0 : 0xffffffffU << (32 - conf->range_prefix));
		plumb_npfx = 1;
	} else if ((plumb_npfx = plumb_prefixes(conf->range_first,
	    conf->range_last, plumb_pfx, PLUMB_MAX_PREFIXES)) == -1)
		fatalx("tproxy setup: the range needs too many prefixes");
	if ((plumb_nft = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		fatalx("tproxy setup: nft_ctx_new failed");
	if (nft_ctx_buffer_output(plumb_nft) == -1 ||
	    nft_ctx_buffer_error(plumb_nft) == -1)
		fatalx("tproxy setup: cannot buffer nft's output");
	plumb_pid = getpid();
	if (atexit(plumb_atexit) != 0)
		fatalx("tproxy setup: atexit");

	if (plumb_clashes() > 0)
		fatalx("tproxy setup: refusing to start over what is there");
	if (plumb_add_table() == -1)
		fatalx("tproxy setup failed");
	plumb_table_added = 1;
	for (i = 0; i < plumb_npfx; i++) {
		if (plumb_nl_route(RTM_NEWROUTE, &plumb_pfx[i], plumb_table) ==
		    -1)
			fatal("tproxy setup: local route to %s in table %u",
			    plumb_fmt(&plumb_pfx[i], buf, sizeof(buf)),
			    plumb_table);
		plumb_routes_added++;
	}
	for (i = 0; i < plumb_npfx; i++) {
		if (plumb_nl_rule(RTM_NEWRULE, &plumb_pfx[i], plumb_table) ==
		    -1)
			fatal("tproxy setup: ip rule to %s lookup %u",
			    plumb_fmt(&plumb_pfx[i], buf, sizeof(buf)),
			    plumb_table);
		plumb_rules_added++;
	}
	log_info("tproxy setup: nftables table ip %s, %d ip rule(s) and "
	    "local route(s) in table %u added", PLUMB_NFT_TABLE, plumb_npfx,
	    plumb_table);
}

/* Remove exactly what plumb_start() added, rules first. */
void
plumb_stop(void)
{
	char	buf[32], err[256];
	int	i, failed = 0;

	for (i = plumb_rules_added - 1; i >= 0; i--)
		if (plumb_nl_rule(RTM_DELRULE, &plumb_pfx[i], plumb_table) ==
		    -1 && errno != ENOENT) {
			log_warn("tproxy setup: removing ip rule to %s",
			    plumb_fmt(&plumb_pfx[i], buf, sizeof(buf)));
			failed++;
		}
	for (i = plumb_routes_added - 1; i >= 0; i--)
		if (plumb_nl_route(RTM_DELROUTE, &plumb_pfx[i], plumb_table) ==
		    -1 && errno != ESRCH && errno != ENOENT) {
			log_warn("tproxy setup: removing local route to %s",
			    plumb_fmt(&plumb_pfx[i], buf, sizeof(buf)));
			failed++;
		}
	if (plumb_table_added &&
	    plumb_nft_run("delete table ip " PLUMB_NFT_TABLE, err,
	    sizeof(err)) == -1) {
		log_warnx("tproxy setup: removing the nftables table ip %s: "
		    "%s", PLUMB_NFT_TABLE, err);
		failed++;
	}
	if (plumb_table_added || plumb_routes_added || plumb_rules_added)
		log_info("tproxy setup: %s", failed ? "removed in part" :
		    "nftables table, ip rules and local routes removed");
	plumb_rules_added = plumb_routes_added = plumb_table_added = 0;
	if (plumb_nft != NULL) {
		nft_ctx_free(plumb_nft);
		plumb_nft = NULL;
	}
}

/* Only the parent's own exit: not a child's between fork and exec. */
static void
plumb_atexit(void)
{
	if (getpid() == plumb_pid)
		plumb_stop();
}

/* Whether the plumbing is the parent's, for the self-check's words. */
int
plumb_active(void)
{
	return (plumb_table_added);
}
