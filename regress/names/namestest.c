/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * namestest.c: the name sets of the domain rules (src/names.c).  Each
 * kind of pattern against the name, the names below it and the names
 * beside it; case and the final dot; tables sharing names; bad patterns
 * at the limits; every list format, bad lines and their warnings, a line
 * of 100 KiB; a million random names all found, and others not.
 */

#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "../lib/test.h"

#define NT_BITS		16
#define NT_MILLION	1000000

/* The tables a name matches, as a bit mask. */
static unsigned int
m(const struct names *s, const char *name)
{
	uint8_t	b[NT_BITS / 8];

	memset(b, 0, sizeof(b));
	names_match(s, name, b, NT_BITS);
	return (b[0] | b[1] << 8);
}

/* A list from text of len bytes; the warnings it logs in *warnings. */
static int
load(struct names *s, const char *text, size_t len, uint16_t table,
    size_t *added, size_t *bad, int *warnings)
{
	FILE	*f, *w;
	char	 line[512];
	int	 rv, save;

	if ((f = fmemopen((void *)text, len, "r")) == NULL ||
	    (w = tmpfile()) == NULL || (save = dup(2)) == -1)
		abort();
	fflush(stderr);
	dup2(fileno(w), 2);
	rv = names_load(s, f, "list.txt", table, added, bad);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	fclose(f);
	*warnings = 0;
	rewind(w);
	while (fgets(line, sizeof(line), w) != NULL)
		if (strncmp(line, "list.txt:", 9) == 0)
			(*warnings)++;
	fclose(w);
	return (rv);
}

static void
test_kinds(void)
{
	struct names	*s;

	CHECK((s = names_new()) != NULL);
	CHECK_EQ(m(s, "example.com"), 0);
	CHECK_EQ(names_add(s, "example.com", 0), 0);
	CHECK_EQ(names_add(s, "=example.net", 1), 0);
	CHECK_EQ(names_add(s, "*.example.org", 2), 0);
	CHECK_EQ(names_count(s), 3);

	CHECK_EQ(m(s, "example.com"), 1);
	CHECK_EQ(m(s, "www.example.com"), 1);
	CHECK_EQ(m(s, "a.b.c.example.com"), 1);
	CHECK_EQ(m(s, "notexample.com"), 0);
	CHECK_EQ(m(s, "www.notexample.com"), 0);
	CHECK_EQ(m(s, "com"), 0);
	CHECK_EQ(m(s, "example.com.evil"), 0);
	CHECK_EQ(m(s, "exampl.com"), 0);
	CHECK_EQ(m(s, "wwwexample.com"), 0);

	CHECK_EQ(m(s, "example.net"), 2);
	CHECK_EQ(m(s, "www.example.net"), 0);
	CHECK_EQ(m(s, "net"), 0);

	CHECK_EQ(m(s, "example.org"), 0);
	CHECK_EQ(m(s, "www.example.org"), 4);
	CHECK_EQ(m(s, "a.b.example.org"), 4);
	CHECK_EQ(m(s, "notexample.org"), 0);

	/* Any case, a final dot, escapes as plain characters. */
	CHECK_EQ(m(s, "WWW.Example.COM"), 1);
	CHECK_EQ(m(s, "example.com."), 1);
	CHECK_EQ(m(s, "EXAMPLE.NET."), 2);
	CHECK_EQ(m(s, "Www.Example.Org."), 4);
	CHECK_EQ(m(s, "\\065\\.b.example.com"), 1);
	CHECK_EQ(m(s, "example\\.com"), 0);

	/* Names no pattern could be. */
	CHECK_EQ(m(s, ""), 0);
	CHECK_EQ(m(s, "."), 0);
	CHECK_EQ(m(s, ".."), 0);
	CHECK_EQ(m(s, "example.com.."), 0);
	CHECK_EQ(m(s, ".example.com"), 1);
	CHECK_EQ(m(s, "a..example.com"), 1);
	CHECK_EQ(m(s, "a..example.net"), 0);
	names_free(s);

	/* Patterns in any case and with the final dot. */
	s = names_new();
	CHECK_EQ(names_add(s, "Example.COM.", 0), 0);
	CHECK_EQ(names_add(s, "=EXACT.Example.Net.", 1), 0);
	CHECK_EQ(names_add(s, "*.WILD.org.", 2), 0);
	CHECK_EQ(m(s, "www.example.com"), 1);
	CHECK_EQ(m(s, "exact.example.net"), 2);
	CHECK_EQ(m(s, "a.wild.org"), 4);
	CHECK_EQ(m(s, "wild.org"), 0);
	names_free(s);
}

static void
test_tables(void)
{
	struct names	*s;
	uint8_t		 b[2];

	s = names_new();
	CHECK_EQ(names_add(s, "shared.com", 0), 0);
	CHECK_EQ(names_add(s, "shared.com", 3), 0);
	CHECK_EQ(names_add(s, "=shared.com", 7), 0);
	CHECK_EQ(names_add(s, "*.shared.com", 9), 0);
	CHECK_EQ(names_add(s, "sub.shared.com", 12), 0);
	CHECK_EQ(names_count(s), 5);
	CHECK_EQ(m(s, "shared.com"), 1 | 1 << 3 | 1 << 7);
	CHECK_EQ(m(s, "x.shared.com"), 1 | 1 << 3 | 1 << 9);
	CHECK_EQ(m(s, "sub.shared.com"), 1 | 1 << 3 | 1 << 9 | 1 << 12);
	CHECK_EQ(m(s, "x.sub.shared.com"), 1 | 1 << 3 | 1 << 9 | 1 << 12);

	/* The same name in the same table merges; kinds add up. */
	CHECK_EQ(names_add(s, "SHARED.com.", 3), 0);
	CHECK_EQ(names_add(s, "=shared.com", 9), 0);
	CHECK_EQ(names_count(s), 5);
	CHECK_EQ(m(s, "shared.com"), 1 | 1 << 3 | 1 << 7 | 1 << 9);
	CHECK_EQ(names_add(s, "=a.org", 1), 0);
	CHECK_EQ(names_add(s, "*.a.org", 1), 0);
	CHECK_EQ(names_count(s), 6);
	CHECK_EQ(m(s, "a.org"), 2);
	CHECK_EQ(m(s, "b.a.org"), 2);

	/* Tables beyond the bitmap are left out, and nothing is written. */
	b[0] = b[1] = 0;
	names_match(s, "shared.com", b, 8);
	CHECK_EQ(b[0], 1 | 1 << 3 | 1 << 7);
	CHECK_EQ(b[1], 0);
	b[0] = 0;
	names_match(s, "shared.com", b, 0);
	CHECK_EQ(b[0], 0);
	CHECK_EQ(names_add(s, "big.net", 65535), 0);
	CHECK_EQ(m(s, "big.net"), 0);
	CHECK(names_memory(s) > 0);
	names_free(s);
	names_free(NULL);
}

static void
test_bad(void)
{
	static const char *const bad[] = {
		"", ".", "..", "*", "*.", "=", "=.", "*.*.a.com", "a.*.com",
		"a*.com", "*a.com", "=*.a.com", "**.a.com", "a..com", ".a.com",
		"a.com..", "a com", "a/com", "a,com", "a:com", "\xc3\xa9.com",
		"||a.com^", "a.com^", "1.2.3.4/8", "a\\.com", "*.=a.com",
	};
	struct names	*s;
	char		 name[400];
	size_t		 i;

	s = names_new();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (names_add(s, bad[i], 0) != -1 || errno != EINVAL)
			fprintf(stderr, "pattern \"%s\" accepted\n", bad[i]);
		CHECK_EQ(errno, EINVAL);
	}
	CHECK_EQ(names_count(s), 0);

	/* A label of 63 is good, of 64 bad. */
	memset(name, 'a', 63);
	strlcpy(name + 63, ".com", sizeof(name) - 63);
	CHECK_EQ(names_add(s, name, 0), 0);
	CHECK_EQ(m(s, name), 1);
	memset(name, 'b', 64);
	strlcpy(name + 64, ".com", sizeof(name) - 64);
	CHECK_EQ(names_add(s, name, 0), -1);
	CHECK_EQ(m(s, name), 0);

	/* A name of 253 is good (and 254 with the final dot), 254 bad. */
	for (i = 0; i < 252; i += 2)
		memcpy(name + i, "c.", 2);
	name[252] = 'd';
	name[253] = '\0';
	CHECK_EQ(strlen(name), 253);
	CHECK_EQ(names_add(s, name, 1), 0);
	CHECK_EQ(m(s, name), 2);
	name[253] = '.';
	name[254] = '\0';
	CHECK_EQ(names_add(s, name, 1), 0);
	CHECK_EQ(m(s, name), 2);
	name[253] = 'e';
	CHECK_EQ(names_add(s, name, 1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(m(s, name), 0);
	CHECK_EQ(names_count(s), 2);

	/* Asked names longer than any pattern: no overrun, no match. */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_EQ(m(s, name), 0);
	CHECK_EQ(names_add(s, "example.com", 2), 0);
	memset(name, 'x', 300);
	strlcpy(name + 300, ".example.com", sizeof(name) - 300);
	CHECK_EQ(m(s, name), 4);
	name[100] = '.';
	CHECK_EQ(m(s, name), 4);
	names_free(s);
}

static void
test_lists(void)
{
	static const char list[] =
	    "# a comment\n"
	    "! an adblock comment\n"
	    "\n"
	    "   \t\n"
	    "plain.com\n"
	    "=exact.com   # after the name\n"
	    "*.wild.com\n"
	    "0.0.0.0 h1.com H2.com\th2b.com\n"
	    "127.0.0.1 h3.com # hosts comment\n"
	    ":: h4.com\n"
	    "127.0.0.1 localhost\n"
	    "::1 localhost ip6-localhost ip6-loopback\n"
	    "fe00::0 ip6-localnet\n"
	    "255.255.255.255 broadcasthost\n"
	    "127.0.0.1 localhost.localdomain local\n"
	    "0.0.0.0 0.0.0.0\n"
	    "||ad.com^\n"
	    "\t  spaced.com  \r\n"
	    "dos.com\r\n"
	    "bad..name\n"
	    "two names.com\n"
	    "||bad.com\n"
	    "0.0.0.0\n"
	    "0.0.0.0 good.com bad..com\n"
	    "@@||x.com^\n"
	    "||*.y.com^\n"
	    "nul\0.com\n"
	    "last.com";
	struct names	*s;
	size_t		 added, bad;
	int		 w;

	s = names_new();
	CHECK_EQ(names_add(s, "plain.com", 1), 0);
	CHECK_EQ(load(s, list, sizeof(list) - 1, 0, &added, &bad, &w), 0);
	CHECK_EQ(added, 12);
	CHECK_EQ(bad, 8);
	/* The first five, then one line with the count. */
	CHECK_EQ(w, 5 + 1);
	CHECK_EQ(names_count(s), 13);

	CHECK_EQ(m(s, "www.plain.com"), 3);
	CHECK_EQ(m(s, "exact.com"), 1);
	CHECK_EQ(m(s, "www.exact.com"), 0);
	CHECK_EQ(m(s, "wild.com"), 0);
	CHECK_EQ(m(s, "a.wild.com"), 1);
	CHECK_EQ(m(s, "h1.com"), 1);
	CHECK_EQ(m(s, "h2.com"), 1);
	CHECK_EQ(m(s, "h2b.com"), 1);
	CHECK_EQ(m(s, "www.h1.com"), 0);
	CHECK_EQ(m(s, "h3.com"), 1);
	CHECK_EQ(m(s, "h4.com"), 1);
	CHECK_EQ(m(s, "localhost"), 0);
	CHECK_EQ(m(s, "ip6-localhost"), 0);
	CHECK_EQ(m(s, "broadcasthost"), 0);
	CHECK_EQ(m(s, "local"), 0);
	CHECK_EQ(m(s, "0.0.0.0"), 0);
	CHECK_EQ(m(s, "ad.com"), 1);
	CHECK_EQ(m(s, "x.ad.com"), 1);
	CHECK_EQ(m(s, "spaced.com"), 1);
	CHECK_EQ(m(s, "dos.com"), 1);
	CHECK_EQ(m(s, "last.com"), 1);
	CHECK_EQ(m(s, "good.com"), 0);
	CHECK_EQ(m(s, "bad.com"), 0);
	CHECK_EQ(m(s, "x.com"), 0);
	CHECK_EQ(m(s, "names.com"), 0);
	CHECK_EQ(m(s, "nul"), 0);

	/* Few bad lines: each told, no count line. */
	CHECK_EQ(load(s, "a..b\nok.org\n#\nc d\n", 18, 2, &added, &bad, &w),
	    0);
	CHECK_EQ(added, 1);
	CHECK_EQ(bad, 2);
	CHECK_EQ(w, 2);
	CHECK_EQ(m(s, "ok.org"), 4);

	/* An empty list. */
	CHECK_EQ(load(s, "", 0, 3, &added, &bad, &w), 0);
	CHECK_EQ(added, 0);
	CHECK_EQ(bad, 0);
	names_free(s);
}

static void
test_long_line(void)
{
	struct names	*s;
	char		*text;
	size_t		 len = 100 * 1024, added, bad, n;
	int		 w;

	/* A name of 100 KiB between good lines, then one of 4 KiB. */
	if ((text = malloc(len + 8192)) == NULL)
		abort();
	n = strlcpy(text, "before.com\n", len);
	memset(text + n, 'a', len);
	n += len;
	memcpy(text + n, "\nafter.com\n", 11);
	n += 11;
	memset(text + n, ' ', 4000);
	n += 4000;
	memcpy(text + n, "spaced.com\n", 11);
	n += 11;
	s = names_new();
	CHECK_EQ(load(s, text, n, 0, &added, &bad, &w), 0);
	CHECK_EQ(added, 3);
	CHECK_EQ(bad, 1);
	CHECK_EQ(w, 1);
	CHECK_EQ(m(s, "before.com"), 1);
	CHECK_EQ(m(s, "after.com"), 1);
	CHECK_EQ(m(s, "spaced.com"), 1);
	CHECK_EQ(names_count(s), 3);

	/* The same line as the last of the file, without a newline. */
	n = strlcpy(text, "x.com\n", len);
	memset(text + n, 'b', len);
	CHECK_EQ(load(s, text, n + len, 0, &added, &bad, &w), 0);
	CHECK_EQ(added, 1);
	CHECK_EQ(bad, 1);
	free(text);
	names_free(s);
}

static void
test_read_error(void)
{
	struct names	*s;
	FILE		*f;
	size_t		 added, bad;

	s = names_new();
	if ((f = fopen("/dev/null", "w")) == NULL)
		abort();
	errno = 0;
	CHECK_EQ(names_load(s, f, "/dev/null", 0, &added, &bad), -1);
	CHECK(errno != 0);
	fclose(f);
	names_free(s);
}

/* The i-th name of the million, in *buf. */
static void
nt_name(char *buf, size_t len, uint32_t i, uint32_t r)
{
	snprintf(buf, len, "r%u-%x.n%u.example%u.test", i, r, i % 1000,
	    i % 7);
}

static void
test_million(void)
{
	struct names	*s;
	uint32_t	*r;
	char		 name[64];
	uint32_t	 i;
	size_t		 missed = 0, extra = 0;

	if ((r = calloc(NT_MILLION, sizeof(*r))) == NULL)
		abort();
	s = names_new();
	for (i = 0; i < NT_MILLION; i++) {
		r[i] = arc4random();
		nt_name(name, sizeof(name), i, r[i]);
		if (names_add(s, name, i % 3 == 0 ? 1 : 2) == -1)
			break;
	}
	CHECK_EQ(i, NT_MILLION);
	CHECK_EQ(names_count(s), NT_MILLION);
	/* About 16 bytes a slot, 2 slots a name, and the names once. */
	CHECK(names_memory(s) < 100 * 1024 * 1024);
	for (i = 0; i < NT_MILLION; i++) {
		nt_name(name, sizeof(name), i, r[i]);
		if (m(s, name) != (i % 3 == 0 ? 2U : 4U))
			missed++;
		/* Below it too, but not its parent or a sibling. */
		if (i % 10 == 0) {
			name[0] = 'W';
			if (m(s, name) != 0)
				extra++;
			snprintf(name, sizeof(name), "n%u.example%u.test",
			    i % 1000, i % 7);
			if (m(s, name) != 0)
				extra++;
			nt_name(name, sizeof(name), i, r[i]);
			memmove(name + 4, name, strlen(name) + 1);
			memcpy(name, "www.", 4);
			if (m(s, name) != (i % 3 == 0 ? 2U : 4U))
				missed++;
		}
	}
	CHECK_EQ(missed, 0);
	CHECK_EQ(extra, 0);
	for (i = 0; i < NT_MILLION / 10; i++) {
		nt_name(name, sizeof(name), i, r[i] + 1);
		if (m(s, name) != 0)
			extra++;
	}
	CHECK_EQ(extra, 0);
	free(r);
	names_free(s);
}

int
main(void)
{
	test_kinds();
	test_tables();
	test_bad();
	test_lists();
	test_long_line();
	test_read_error();
	test_million();
	return (test_done("namestest"));
}
