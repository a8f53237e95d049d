/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * sctest: the self-check's reading of nftables' ruleset, from rulesets
 * "nft -j list ruleset" wrote for real rules (the .json files here,
 * made in a scratch network namespace) and from hostile ones written by
 * hand: what it says is missing for the default range and proxy
 * (172.24.0.0/16, 127.0.0.1:4480), and the mark it finds.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "plumb.h"
#include "../lib/test.h"

struct dns44_conf	*conf;

#define NO_MARK		0xdeadbeef	/* *mark as it was: none found */

#define NONE	"no nftables TPROXY rule for TCP and UDP to the range to " \
		"127.0.0.1:4480"

static const struct sc_case {
	const char	*file;
	int		 status;
	const char	*text;		/* what is missing; "" for nothing */
	uint32_t	 mark;
} sc_cases[] = {
	{ "good",	0, "",	44 },
	{ "halves",	0, "",	44 },	/* { /17, /17 }: nft made it a /16 */
	{ "range",	0, "",	44 },	/* first-last */
	{ "two-rules",	0, "",	44 },	/* a /17 each */
	{ "two-rules-reversed", 0, "", 44 },	/* the upper half first */
	{ "protocol",	0, "",	44 },	/* ip protocol, a rule each */
	{ "jump",	0, "",	44 },
	{ "goto-chain",	0, "",	44 },	/* jump, jump, goto */
	{ "loop",	0, "",	NO_MARK },	/* chains jumping in a ring */
	{ "inet",	0, "",	44 },
	{ "xt",		0, "",	NO_MARK },	/* iptables-nft's TPROXY */
	{ "mark",	0, "",	0x45 },
	{ "other-dest",	0, "",	44 },	/* another range's rule first */
	{ "part",	0, "the nftables TPROXY rule for TCP and UDP to "
	    "127.0.0.1:4480 covers only part of the range", 44 },
	{ "tcp-only",	0, "no nftables TPROXY rule for UDP to the range to "
	    "127.0.0.1:4480", 44 },
	{ "wrong-port",	0, "the nftables TPROXY rule for TCP and UDP to the "
	    "range goes to 127.0.0.1:4481, not 127.0.0.1:4480", NO_MARK },
	{ "no-port-addr", 0, "the nftables TPROXY rule for TCP and UDP to the "
	    "range goes to :4480, not 127.0.0.1:4480", NO_MARK },
	{ "negated",	0, NONE, NO_MARK },
	{ "input-hook",	0, NONE, NO_MARK },
	{ "unreached",	0, NONE, NO_MARK },
	{ "empty",	0, NONE, NO_MARK },
	/* Only its TCP rule is one; each of the others is not, for UDP. */
	{ "hostile",	0, "no nftables TPROXY rule for UDP to the range to "
	    "127.0.0.1:4480", 44 },
	{ "not-array",	-1, "nftables ruleset unreadable", NO_MARK },
	{ "not-json",	-1, "nftables ruleset unreadable: ", NO_MARK },
};

/* The whole of srcdir/regress/selfcheck/name.json, NUL-terminated. */
static char *
sc_read(const char *name, size_t *lenp)
{
	const char	*srcdir = getenv("srcdir");
	char		 path[1024], *buf;
	struct stat	 st;
	int		 fd;

	snprintf(path, sizeof(path), "%s/regress/selfcheck/%s.json",
	    srcdir != NULL ? srcdir : ".", name);
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    (buf = malloc(st.st_size + 1)) == NULL ||
	    read(fd, buf, st.st_size) != st.st_size) {
		perror(path);
		exit(1);
	}
	close(fd);
	buf[st.st_size] = '\0';
	*lenp = st.st_size;
	return (buf);
}

static void
test_cases(void)
{
	const struct sc_case	*c;
	char			 text[384], *buf;
	size_t			 len, want;
	uint32_t		 mark;
	int			 status;

	for (c = sc_cases; c < sc_cases + sizeof(sc_cases) /
	    sizeof(sc_cases[0]); c++) {
		buf = sc_read(c->file, &len);
		mark = NO_MARK;
		status = selfcheck_nft(buf, len, text, sizeof(text), &mark);
		/* A prefix for jansson's own words. */
		want = c->status == -1 ? strlen(c->text) : sizeof(text);
		if (status != c->status || strncmp(text, c->text, want) != 0 ||
		    (c->status == 0 && strlen(text) != strlen(c->text)) ||
		    mark != c->mark)
			fprintf(stderr, "%s: status %d, mark 0x%x, \"%s\"\n",
			    c->file, status, mark, text);
		CHECK_EQ(status, c->status);
		CHECK(strncmp(text, c->text, want) == 0);
		CHECK_EQ(mark, c->mark);
		free(buf);
	}
}

/* The size bound, and a ruleset that ends early. */
static void
test_bounds(void)
{
	char		 text[384], *buf;
	size_t		 len;
	uint32_t	 mark = NO_MARK;

	buf = sc_read("good", &len);
	CHECK_EQ(selfcheck_nft(buf, 16 * 1024 * 1024 + 1, text, sizeof(text),
	    &mark), -1);
	CHECK(strcmp(text, "nftables ruleset too large to check") == 0);
	CHECK_EQ(selfcheck_nft(buf, len / 2, text, sizeof(text), &mark), -1);
	CHECK(strncmp(text, "nftables ruleset unreadable: ", 29) == 0);
	CHECK_EQ(mark, NO_MARK);
	free(buf);
}

/* Proxy on any address: a rule to any address of port 4480 will do. */
static void
test_any(void)
{
	char		 text[384], *buf;
	size_t		 len;
	uint32_t	 mark = NO_MARK;

	conf->proxy_listen.sin_addr.s_addr = htonl(INADDR_ANY);
	buf = sc_read("no-port-addr", &len);
	CHECK_EQ(selfcheck_nft(buf, len, text, sizeof(text), &mark), 0);
	CHECK(strcmp(text, "") == 0);
	free(buf);
	buf = sc_read("wrong-port", &len);
	CHECK_EQ(selfcheck_nft(buf, len, text, sizeof(text), &mark), 0);
	CHECK(strcmp(text, "the nftables TPROXY rule for TCP and UDP to the "
	    "range goes to 127.0.0.1:4481, not port 4480") == 0);
	free(buf);
	conf->proxy_listen.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int
main(void)
{
	static struct dns44_conf	c;

	conf = &c;
	conf_defaults(conf);
	test_cases();
	test_bounds();
	test_any();
	return (test_done("sctest"));
}
