/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * names.c: a set of domain names, each in one or more tables, matched by
 * suffix.  Every (name, table) pair is one 16-byte slot of an
 * open-addressing hash table, keyed by the hash of the name; the names
 * themselves sit once each, lowercase and NUL-terminated, in one arena.
 * The hash of a name is chained from its rightmost label, h(label.rest) =
 * SipHash(key, h(rest) label), so that a match computes the hash of every
 * suffix of the name in one pass over its labels and looks each one up:
 * its cost does not depend on the number of names.  The key is drawn per
 * set, so a client cannot aim names at one probe chain.  A large table
 * asks for huge pages: its probes land anywhere in it, and with 4 kB
 * pages each would also miss the TLB.  This file also reads the list
 * files (plain patterns, hosts and adblock lines); it belongs to no
 * process.
 */

#include "config.h"

#include <sys/types.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "rules.h"
#include "siphash.h"
#include "table.h"

#define NAMES_LABEL_MAX	63
#define NAMES_NAME_MAX	253
#define NAMES_LINE_MAX	8192	/* a longer line of a list is bad */
#define NAMES_WARN_MAX	5	/* bad lines told one by one, per file */
#define NAMES_SLOTS_MIN	64
#define NAMES_ARENA_MIN	4096

/* What a slot's name matches: itself, the names below it, or both. */
#define NAMES_EXACT	0x01
#define NAMES_BELOW	0x02

struct names_slot {
	uint64_t	hash;		/* of the name */
	uint32_t	name;		/* offset into the arena */
	uint16_t	table;
	uint8_t		kind;		/* NAMES_EXACT, NAMES_BELOW; 0: free */
	uint8_t		pad;
};

struct names {
	uint8_t			 key[SIPHASH_KEY_LEN];
	struct names_slot	*slots;
	size_t			 cap;		/* a power of two, or 0 */
	size_t			 count;
	char			*arena;
	size_t			 arenalen;
	size_t			 arenacap;
};

static int	names_char(int);
static uint64_t	names_hash(const struct names *, uint64_t, const char *,
		    size_t);
static uint64_t	names_hash_name(const struct names *, const char *,
		    size_t);
static int	names_equal(const char *, const char *, size_t);
static int	names_parse(const char *, size_t, char *, size_t *, int *);
static int	names_grow(struct names *);
static int	names_store(struct names *, const char *, size_t, uint32_t *);
static int	names_insert(struct names *, const char *, size_t, uint16_t,
		    int);
static ssize_t	names_getline(FILE *, char *, size_t, int *);
static int	names_blank(int);
static const char *names_field(const char *, size_t, size_t *, size_t *);
static int	names_isaddr(const char *, size_t);
static int	names_localhost(const char *, size_t);
static int	names_line(struct names *, const char *, size_t, uint16_t,
		    size_t *, const char **);

/* A character of a name, lowercase, or 0 when names may not hold it. */
static int
names_char(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_')
		return (c);
	return (0);
}

/* h(label.rest) from h(rest); the label in any case, at most 63 bytes. */
static uint64_t
names_hash(const struct names *set, uint64_t rest, const char *label,
    size_t len)
{
	uint8_t	buf[sizeof(rest) + NAMES_LABEL_MAX];
	size_t	i;

	memcpy(buf, &rest, sizeof(rest));
	for (i = 0; i < len; i++) {
		buf[sizeof(rest) + i] = (uint8_t)label[i];
		if (label[i] >= 'A' && label[i] <= 'Z')
			buf[sizeof(rest) + i] += 'a' - 'A';
	}
	return (siphash(set->key, buf, sizeof(rest) + len));
}

/* The hash of a valid name of len bytes, its labels from the right. */
static uint64_t
names_hash_name(const struct names *set, const char *name, size_t len)
{
	uint64_t	h = 0;
	size_t		start, end = len;

	for (;;) {
		for (start = end; start > 0 && name[start - 1] != '.'; start--)
			;
		h = names_hash(set, h, name + start, end - start);
		if (start == 0)
			return (h);
		end = start - 1;
	}
}

/* Whether the stored name s is the len bytes of name, in any case. */
static int
names_equal(const char *s, const char *name, size_t len)
{
	size_t	i;
	int	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if ((unsigned char)s[i] != c)
			return (0);
	}
	return (s[len] == '\0');
}

/*
 * A pattern of len bytes to its name, lowercase without the final dot,
 * in out (NAMES_NAME_MAX + 1 bytes) and what it matches in *kind.
 */
static int
names_parse(const char *p, size_t len, char *out, size_t *outlen, int *kind)
{
	size_t	i, label = 0;
	int	c;

	*kind = NAMES_EXACT | NAMES_BELOW;
	if (len > 0 && p[0] == '=') {
		*kind = NAMES_EXACT;
		p++;
		len--;
	} else if (len >= 2 && p[0] == '*' && p[1] == '.') {
		*kind = NAMES_BELOW;
		p += 2;
		len -= 2;
	}
	if (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0 || len > NAMES_NAME_MAX)
		return (-1);
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (label == 0)
				return (-1);
			label = 0;
			out[i] = '.';
			continue;
		}
		if ((c = names_char((unsigned char)p[i])) == 0 ||
		    ++label > NAMES_LABEL_MAX)
			return (-1);
		out[i] = c;
	}
	if (label == 0)
		return (-1);
	out[len] = '\0';
	*outlen = len;
	return (0);
}

struct names *
names_new(void)
{
	struct names	*set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return (NULL);
	arc4random_buf(set->key, sizeof(set->key));
	return (set);
}

void
names_free(struct names *set)
{
	if (set == NULL)
		return;
	table_free(set->slots, set->cap, sizeof(*set->slots));
	free(set->arena);
	free(set);
}

/* Twice the slots, at most three quarters of them in use. */
static int
names_grow(struct names *set)
{
	struct names_slot	*slots;
	size_t			 cap, i, j;

	cap = set->cap == 0 ? NAMES_SLOTS_MIN : set->cap * 2;
	if (cap > SIZE_MAX / sizeof(*slots) / 2) {
		errno = ENOMEM;
		return (-1);
	}
	if ((slots = table_new(cap, sizeof(*slots))) == NULL)
		return (-1);
	for (i = 0; i < set->cap; i++) {
		if (set->slots[i].kind == 0)
			continue;
		for (j = set->slots[i].hash & (cap - 1); slots[j].kind != 0;
		    j = (j + 1) & (cap - 1))
			;
		slots[j] = set->slots[i];
	}
	table_free(set->slots, set->cap, sizeof(*set->slots));
	set->slots = slots;
	set->cap = cap;
	return (0);
}

/* A new name of len bytes into the arena; its offset in *off. */
static int
names_store(struct names *set, const char *name, size_t len, uint32_t *off)
{
	char	*arena;
	size_t	 cap;

	if (set->arenalen + len + 1 > UINT32_MAX) {
		errno = ENOMEM;
		return (-1);
	}
	if (set->arenalen + len + 1 > set->arenacap) {
		cap = set->arenacap == 0 ? NAMES_ARENA_MIN : set->arenacap;
		while (cap < set->arenalen + len + 1)
			cap *= 2;
		if ((arena = realloc(set->arena, cap)) == NULL)
			return (-1);
		set->arena = arena;
		set->arenacap = cap;
	}
	memcpy(set->arena + set->arenalen, name, len + 1);
	*off = set->arenalen;
	set->arenalen += len + 1;
	return (0);
}

/* A valid lowercase name; the same name in the same table merges. */
static int
names_insert(struct names *set, const char *name, size_t len,
    uint16_t table, int kind)
{
	struct names_slot	*s;
	uint64_t		 h;
	uint32_t		 off = UINT32_MAX;
	size_t			 i;

	if ((set->count + 1) * 4 > set->cap * 3 && names_grow(set) == -1)
		return (-1);
	h = names_hash_name(set, name, len);
	for (i = h & (set->cap - 1); set->slots[i].kind != 0;
	    i = (i + 1) & (set->cap - 1)) {
		s = &set->slots[i];
		if (s->hash != h || (s->name != off &&
		    !names_equal(set->arena + s->name, name, len)))
			continue;
		if (s->table == table) {
			s->kind |= kind;
			return (0);
		}
		/* The name is in another table already: share its bytes. */
		off = s->name;
	}
	if (off == UINT32_MAX && names_store(set, name, len, &off) == -1)
		return (-1);
	s = &set->slots[i];
	s->hash = h;
	s->name = off;
	s->table = table;
	s->kind = kind;
	set->count++;
	return (0);
}

int
names_add(struct names *set, const char *pattern, uint16_t table)
{
	char	name[NAMES_NAME_MAX + 1];
	size_t	len;
	int	kind;

	if (names_parse(pattern, strlen(pattern), name, &len, &kind) == -1) {
		errno = EINVAL;
		return (-1);
	}
	return (names_insert(set, name, len, table, kind));
}

void
names_match(const struct names *set, const char *name, uint8_t *bitmap,
    size_t nbits)
{
	const struct names_slot	*s;
	uint64_t		 h = 0;
	uint32_t		 same;
	size_t			 len, start, end, i;
	int			 want;

	if (set->count == 0)
		return;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	/* Each suffix, from the right: "com", "example.com", ... */
	for (end = len; ; end = start - 1) {
		for (start = end; start > 0 && name[start - 1] != '.'; start--)
			;
		/* No stored name holds a longer label, or an empty one. */
		if (end == start || end - start > NAMES_LABEL_MAX ||
		    len - start > NAMES_NAME_MAX)
			return;
		h = names_hash(set, h, name + start, end - start);
		want = start == 0 ? NAMES_EXACT : NAMES_BELOW;
		same = UINT32_MAX;
		for (i = h & (set->cap - 1); set->slots[i].kind != 0;
		    i = (i + 1) & (set->cap - 1)) {
			s = &set->slots[i];
			if (s->hash != h || (s->kind & want) == 0 ||
			    s->table >= nbits)
				continue;
			if (s->name != same) {
				if (!names_equal(set->arena + s->name,
				    name + start, len - start))
					continue;
				same = s->name;
			}
			bitmap[s->table / 8] |= 1 << (s->table % 8);
		}
		if (start == 0)
			return;
	}
}

size_t
names_count(const struct names *set)
{
	return (set->count);
}

size_t
names_memory(const struct names *set)
{
	return (sizeof(*set) + set->cap * sizeof(*set->slots) +
	    set->arenacap);
}

/*
 * The next line of fp without its newline, NUL-terminated; its length,
 * or -1 at the end or on an error.  What does not fit is read and
 * dropped, and *toolong says so.
 */
static ssize_t
names_getline(FILE *fp, char *buf, size_t size, int *toolong)
{
	size_t	n = 0;
	int	c;

	*toolong = 0;
	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (n + 1 < size)
			buf[n++] = c;
		else
			*toolong = 1;
	}
	if (c == EOF && n == 0 && !*toolong)
		return (-1);
	buf[n] = '\0';
	return (n);
}

/* Blanks between the fields of a line; a NUL is no blank. */
static int
names_blank(int c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f');
}

/* The next field of line after *pos, its length in *flen; NULL: none. */
static const char *
names_field(const char *line, size_t len, size_t *pos, size_t *flen)
{
	size_t	i = *pos, start;

	while (i < len && names_blank(line[i]))
		i++;
	if (i == len)
		return (NULL);
	for (start = i; i < len && !names_blank(line[i]); i++)
		;
	*pos = i;
	*flen = i - start;
	return (line + start);
}

/* Whether a field is an IPv4 or IPv6 address, as hosts lines begin. */
static int
names_isaddr(const char *f, size_t len)
{
	struct in6_addr	in6;
	char		buf[INET6_ADDRSTRLEN];
	size_t		i;
	int		af = AF_INET;

	/* Most lines are names: most fields need no inet_pton() at all. */
	if (len >= sizeof(buf))
		return (0);
	for (i = 0; i < len; i++) {
		if (f[i] == ':')
			af = AF_INET6;
		else if (f[i] == '\0' || (af == AF_INET && f[i] != '.' &&
		    (f[i] < '0' || f[i] > '9') && memchr(f, ':', len) == NULL))
			return (0);
	}
	memcpy(buf, f, len);
	buf[len] = '\0';
	return (inet_pton(af, buf, &in6) == 1);
}

/* The names a hosts file gives the machine itself, not worth a rule. */
static int
names_localhost(const char *f, size_t len)
{
	static const char *const local[] = {
		"localhost", "localhost.localdomain", "localhost4",
		"localhost4.localdomain4", "localhost6",
		"localhost6.localdomain6", "local", "broadcasthost",
	};
	size_t	i;

	if (len > 4 && strncasecmp(f, "ip6-", 4) == 0)
		return (1);
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strlen(local[i]) == len &&
		    strncasecmp(f, local[i], len) == 0)
			return (1);
	return (0);
}

/*
 * One line of a list: 0 when its names are added (or it has none), 1
 * when it is bad (*why says how), -1 on an error of memory.
 */
static int
names_line(struct names *set, const char *line, size_t len, uint16_t table,
    size_t *added, const char **why)
{
	const char	*f, *hash;
	char		 name[NAMES_NAME_MAX + 1];
	size_t		 pos = 0, first, flen, nlen, nnames, pass;
	int		 kind;

	if (len > 0 && line[0] == '!')
		return (0);
	if ((hash = memchr(line, '#', len)) != NULL)
		len = hash - line;
	if ((f = names_field(line, len, &pos, &flen)) == NULL)
		return (0);
	first = pos;

	if (names_isaddr(f, flen)) {
		/* hosts: every name checked first, so a bad line adds none. */
		for (pass = 0; pass < 2; pass++) {
			pos = first;
			nnames = 0;
			while ((f = names_field(line, len, &pos, &flen)) !=
			    NULL) {
				nnames++;
				if (names_localhost(f, flen) ||
				    names_isaddr(f, flen))
					continue;
				if (f[0] == '=' || f[0] == '*' ||
				    names_parse(f, flen, name, &nlen,
				    &kind) == -1) {
					*why = "bad name in a hosts line";
					return (1);
				}
				if (pass == 1) {
					if (names_insert(set, name, nlen,
					    table, NAMES_EXACT) == -1)
						return (-1);
					(*added)++;
				}
			}
			if (nnames == 0) {
				*why = "an address without a name";
				return (1);
			}
		}
		return (0);
	}
	if (names_field(line, len, &pos, &nlen) != NULL) {
		*why = "more than one name";
		return (1);
	}
	if (flen >= 3 && f[0] == '|' && f[1] == '|') {
		if (f[flen - 1] != '^' || f[2] == '*' || f[2] == '=' ||
		    names_parse(f + 2, flen - 3, name, &nlen, &kind) == -1) {
			*why = "bad adblock rule";
			return (1);
		}
	} else if (names_parse(f, flen, name, &nlen, &kind) == -1) {
		*why = "bad name";
		return (1);
	}
	if (names_insert(set, name, nlen, table, kind) == -1)
		return (-1);
	(*added)++;
	return (0);
}

int
names_load(struct names *set, FILE *fp, const char *path, uint16_t table,
    size_t *addedp, size_t *badp)
{
	char		 line[NAMES_LINE_MAX];
	const char	*why;
	unsigned long	 lineno = 0;
	size_t		 added = 0, bad = 0;
	ssize_t		 n;
	int		 toolong, rv;

	while ((n = names_getline(fp, line, sizeof(line), &toolong)) != -1) {
		lineno++;
		why = NULL;
		if (toolong) {
			why = "line too long";
			rv = 1;
		} else
			rv = names_line(set, line, n, table, &added, &why);
		if (rv == -1)
			return (-1);
		if (rv == 1 && ++bad <= NAMES_WARN_MAX)
			log_warnx("%s:%lu: %s, line skipped", path, lineno,
			    why);
	}
	if (bad > NAMES_WARN_MAX)
		log_warnx("%s: %zu bad lines skipped in all", path, bad);
	if (addedp != NULL)
		*addedp = added;
	if (badp != NULL)
		*badp = bad;
	if (ferror(fp)) {
		if (errno == 0)
			errno = EIO;
		return (-1);
	}
	return (0);
}
