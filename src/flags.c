/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * flags.c: the parent's command line: the OpenBSD-style flags (-d, -D,
 * -f, -h, -n, -v, and -R, with which the parent starts its children) and
 * the seed's Go-style ones (-db-path, -debug, -dial-timeout,
 * -dns-bind-address, -dns-upstream, -ip-range, -proxy-bind-address, -ttl,
 * -version), which override the configuration file at start and on every
 * reload.
 */

#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proc.h"

#define FLAGS_NAME_MAX	32	/* a long flag's name, and the NUL */

/* The seed's long flags, which take -flag=value and -flag value. */
struct flags_long {
	const char	 *name;
	const char	**value;	/* NULL: a boolean */
};

static void	flags_usage(int) __attribute__((__noreturn__));
static void	flags_unknown(const char *, const struct flags_long *, size_t)
		    __attribute__((__noreturn__));
static size_t	flags_distance(const char *, size_t, const char *);
static int	flags_bool(const char *, const char *);
static int	flags_addr_list(const char *, const char *, in_port_t,
		    struct sockaddr_in *, int, int *);
static int	flags_upstream(const char *, struct conf_upstream *);
static int	flags_upstreams(const char *, struct conf_upstream *, int *);

static void
flags_usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;
	char	 range[64], a[32], b[32];
	struct in_addr in;

	in.s_addr = htonl(conf->range_first - (conf->range_prefix <= 30));
	inet_ntop(AF_INET, &in, a, sizeof(a));
	in.s_addr = htonl(conf->range_last + (conf->range_prefix <= 30));
	inet_ntop(AF_INET, &in, b, sizeof(b));
	snprintf(range, sizeof(range), "%s-%s", a, b);

	fprintf(f,
"usage: dns44 [-dhnv] [-D macro=value] [-f file] [-flag[=value] ...]\n"
"  -d                        stay in the foreground, log to stderr\n"
"  -D macro=value            define a macro for the configuration file\n"
"  -f file                   configuration file (default %s)\n"
"  -h                        show this help and exit\n"
"  -n                        check the configuration, print it and exit\n"
"  -v                        verbose (debug) logging\n"
"  -db-path dir              database directory (default %s)\n"
"  -debug                    debug logging, as -v\n"
"  -dial-timeout duration    dial timeout for connections the proxy makes"
" (default 10s)\n"
"  -dns-bind-address addr    DNS service bind address (default %s:%d)\n"
"  -dns-upstream addr        upstream DNS server (default %s)\n"
"  -ip-range range           address range DNS answers are mapped to"
" (default %s)\n"
"  -proxy-bind-address addr  transparent proxy bind address"
" (default %s:%d)\n"
"  -ttl n                    TTL of answers (default %d)\n"
"  -version                  show the version and exit\n",
	    DNS44_CONF_FILE, DNS44_DBDIR, DEFAULT_DNS_ADDR, DEFAULT_DNS_PORT,
	    DEFAULT_UPSTREAM, range, DEFAULT_PROXY_ADDR, DEFAULT_PROXY_PORT,
	    DEFAULT_TTL);
	exit(status);
}

static int
flags_bool(const char *flag, const char *v)
{
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return (1);
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return (0);
	fprintf(stderr, "dns44: -%s: invalid boolean \"%s\"\n", flag, v);
	exit(1);
}

/* Levenshtein's distance between a[0..alen) and b, b a flag's name. */
static size_t
flags_distance(const char *a, size_t alen, const char *b)
{
	size_t	row[FLAGS_NAME_MAX], blen = strlen(b), i, j, diag, up, best;

	if (blen >= FLAGS_NAME_MAX)
		return (SIZE_MAX);
	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= blen; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return (row[blen]);
}

/*
 * A word that is neither a long flag nor short ones, named as it was
 * typed (without its value), with the nearest long flag if one is near.
 */
static void
flags_unknown(const char *word, const struct flags_long *lf, size_t nlf)
{
	const char	*name, *best = NULL;
	size_t		 dashes, len, i, d, bestd = SIZE_MAX;

	dashes = word[1] == '-' ? 2 : 1;
	name = word + dashes;
	len = strcspn(name, "=");
	for (i = 0; len > 1 && len < 4 * FLAGS_NAME_MAX && i < nlf; i++)
		if ((d = flags_distance(name, len, lf[i].name)) < bestd) {
			bestd = d;
			best = lf[i].name;
		}
	/* A typo or two, or a third of the name at most. */
	if (best != NULL && (bestd <= 2 || bestd * 3 <= len))
		fprintf(stderr, "dns44: unknown flag %.*s; did you mean "
		    "%.*s%s?\n", (int)(dashes + len), word, (int)dashes, "--",
		    best);
	else
		fprintf(stderr, "dns44: unknown flag %.*s\n",
		    (int)(dashes + len), word);
	flags_usage(1);
}

/* The strings in fl point into argv. */
void
flags_parse(int argc, char **argv, struct flags *fl)
{
	const struct flags_long longflags[] = {
		{ "db-path",		&fl->db_path },
		{ "debug",		NULL },
		{ "dial-timeout",	&fl->dial_timeout },
		{ "dns-bind-address",	&fl->dns_bind },
		{ "dns-upstream",	&fl->dns_upstream },
		{ "help",		NULL },
		{ "ip-range",		&fl->ip_range },
		{ "proxy-bind-address",	&fl->proxy_bind },
		{ "ttl",		&fl->ttl },
		{ "version",		NULL },
	};
	const struct flags_long	*lf;
	const char		*arg, *eq, *v;
	char			 name[FLAGS_NAME_MAX];
	size_t			 i, n;
	int			 a;

	memset(fl, 0, sizeof(*fl));
	fl->conf_file = DNS44_CONF_FILE;
	fl->role = ROLE_PARENT;
	for (a = 1; a < argc; a++) {
		arg = argv[a];
		if (strcmp(arg, "--") == 0) {
			a++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		arg += arg[1] == '-' ? 2 : 1;

		/* A long flag, with its value after = or in the next word. */
		n = (eq = strchr(arg, '=')) != NULL ?
		    (size_t)(eq - arg) : strlen(arg);
		lf = NULL;
		if (n > 1 && n < sizeof(name)) {
			memcpy(name, arg, n);
			name[n] = '\0';
			for (i = 0; i < sizeof(longflags) / sizeof(*lf); i++)
				if (strcmp(longflags[i].name, name) == 0)
					lf = &longflags[i];
		}
		if (lf != NULL) {
			v = eq != NULL ? eq + 1 : NULL;
			if (lf->value == NULL) {
				if (!flags_bool(lf->name, v))
					continue;
				if (strcmp(lf->name, "debug") == 0)
					fl->verbose = 1;
				else if (strcmp(lf->name, "help") == 0)
					flags_usage(0);
				else {
					printf("dns44 %s\n", PACKAGE_VERSION);
					exit(0);
				}
				continue;
			}
			if (v == NULL) {
				if (a + 1 >= argc) {
					fprintf(stderr, "dns44: flag needs an "
					    "argument: -%s\n", lf->name);
					flags_usage(1);
				}
				v = argv[++a];
			}
			*lf->value = v;
			continue;
		}

		/* Short flags, which may be grouped: -dv. */
		for (; *arg != '\0'; arg++) {
			switch (*arg) {
			case 'd':
				fl->foreground = 1;
				continue;
			case 'h':
				flags_usage(0);
			case 'n':
				fl->check = 1;
				continue;
			case 'v':
				fl->verbose = 1;
				continue;
			case 'D':
			case 'f':
			case 'R':
				break;
			default:
				flags_unknown(argv[a], longflags,
				    sizeof(longflags) / sizeof(longflags[0]));
			}
			/* The value: the rest of the word, or the next word. */
			if (arg[1] != '\0')
				v = arg + 1;
			else if (a + 1 < argc)
				v = argv[++a];
			else {
				fprintf(stderr, "dns44: flag needs an "
				    "argument: -%c\n", *arg);
				flags_usage(1);
			}
			if (*arg == 'D') {
				if (conf_define_macro(v) == -1) {
					fprintf(stderr, "dns44: -D %s: "
					    "expected macro=value\n", v);
					exit(1);
				}
			} else if (*arg == 'f') {
				fl->conf_file = v;
				fl->conf_file_given = 1;
			} else if (strcmp(v, "dns") == 0)
				fl->role = ROLE_DNS;
			else if (strcmp(v, "proxy") == 0)
				fl->role = ROLE_PROXY;
			else {
				fprintf(stderr, "dns44: -R %s: unknown role\n",
				    v);
				exit(1);
			}
			break;
		}
	}
	if (a < argc) {
		fprintf(stderr, "dns44: unexpected argument \"%s\"\n",
		    argv[a]);
		flags_usage(1);
	}
}

/* "a,b,c" from a flag into an array of addresses. */
static int
flags_addr_list(const char *flag, const char *list, in_port_t defport,
    struct sockaddr_in *out, int max, int *count)
{
	char	*copy, *p, *word;
	int	 n = 0;

	if ((copy = strdup(list)) == NULL)
		fatal(NULL);
	p = copy;
	while ((word = strsep(&p, ",")) != NULL) {
		if (n == max) {
			log_warnx("dns44: -%s: more than %d addresses", flag,
			    max);
			goto fail;
		}
		if (conf_parse_hostport(word, defport, &out[n]) == -1) {
			log_warnx("dns44: -%s: invalid address \"%s\"", flag,
			    word);
			goto fail;
		}
		n++;
	}
	free(copy);
	*count = n;
	return (0);
 fail:
	free(copy);
	return (-1);
}

/* The seed's flags into c, over what the file said. */
int
flags_apply(const struct flags *fl, struct dns44_conf *c)
{
	const char	*errstr;
	char		 buf[32], why[64];
	uint32_t	 ms;
	int		 n;

	if (fl->db_path != NULL) {
		if (fl->db_path[0] != '/') {
			log_warnx("dns44: -db-path: \"%s\" is not an "
			    "absolute path", fl->db_path);
			return (-1);
		}
		if (strlcpy(c->db_dir, fl->db_path, sizeof(c->db_dir)) >=
		    sizeof(c->db_dir)) {
			log_warnx("dns44: -db-path: path too long");
			return (-1);
		}
	}
	if (fl->dial_timeout != NULL) {
		if (conf_parse_duration(fl->dial_timeout, &ms) == -1) {
			if (errno == ERANGE)
				snprintf(why, sizeof(why),
				    ": too long (max %s)",
				    conf_fmt_duration(UINT32_MAX, buf,
				    sizeof(buf)));
			else
				strlcpy(why, errno == EDOM ? ": negative" : "",
				    sizeof(why));
			log_warnx("dns44: -dial-timeout: invalid duration "
			    "\"%s\"%s", fl->dial_timeout, why);
			return (-1);
		}
		if (ms == 0) {
			log_warnx("dns44: -dial-timeout: invalid duration "
			    "\"%s\": must be greater than 0", fl->dial_timeout);
			return (-1);
		}
		c->dial_ms = ms;
	}
	if (fl->dns_bind != NULL) {
		if (flags_addr_list("dns-bind-address", fl->dns_bind,
		    DEFAULT_DNS_PORT, c->dns_listen, CONF_MAX_DNS_LISTEN,
		    &n) == -1)
			return (-1);
		c->dns_listen_count = n;
	}
	if (fl->dns_upstream != NULL) {
		if (flags_upstreams(fl->dns_upstream, c->upstream, &n) == -1)
			return (-1);
		c->upstream_count = n;
	}
	if (fl->ip_range != NULL && conf_parse_range(fl->ip_range, c) == -1) {
		log_warnx("dns44: -ip-range: invalid range \"%s\"",
		    fl->ip_range);
		return (-1);
	}
	if (fl->proxy_bind != NULL && conf_parse_hostport(fl->proxy_bind,
	    DEFAULT_PROXY_PORT, &c->proxy_listen) == -1) {
		log_warnx("dns44: -proxy-bind-address: invalid address \"%s\"",
		    fl->proxy_bind);
		return (-1);
	}
	if (fl->ttl != NULL) {
		c->ttl = strtonum(fl->ttl, 0, 604800, &errstr);
		if (errstr != NULL) {
			log_warnx("dns44: -ttl: \"%s\" is %s (0-604800)",
			    fl->ttl, errstr);
			return (-1);
		}
	}
	if (fl->verbose)
		c->verbose = 1;
	return (0);
}

/*
 * One upstream of -dns-upstream: "1.2.3.4", "1.2.3.4:53", an IPv6 address
 * alone, or "[2001:db8::1]:53".
 */
static int
flags_upstream(const char *word, struct conf_upstream *u)
{
	char		 addr[INET6_ADDRSTRLEN];
	const char	*end, *port = NULL, *errstr;
	long long	 p = -1;
	size_t		 len;

	if (word[0] == '[') {
		if ((end = strchr(word, ']')) == NULL)
			return (-1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return (-1);
		word++;
		len = end - word;
	} else if ((end = strchr(word, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		port = end + 1;
		len = end - word;
	} else
		len = strlen(word);
	if (len >= sizeof(addr))
		return (-1);
	memcpy(addr, word, len);
	addr[len] = '\0';
	if (port != NULL) {
		p = strtonum(port, 1, 65535, &errstr);
		if (!isdigit((unsigned char)port[0]) || errstr != NULL)
			return (-1);
	}
	return (conf_parse_upstream(addr, p, 0, NULL, u));
}

/* -dns-upstream: upstreams separated by commas. */
static int
flags_upstreams(const char *list, struct conf_upstream *out, int *count)
{
	char	*copy, *p, *word;
	int	 n = 0;

	if ((copy = strdup(list)) == NULL)
		fatal(NULL);
	p = copy;
	while ((word = strsep(&p, ",")) != NULL) {
		if (n == CONF_MAX_UPSTREAM) {
			log_warnx("dns44: -dns-upstream: more than %d "
			    "addresses", CONF_MAX_UPSTREAM);
			goto fail;
		}
		if (flags_upstream(word, &out[n]) == -1) {
			log_warnx("dns44: -dns-upstream: invalid address "
			    "\"%s\"", word);
			goto fail;
		}
		n++;
	}
	free(copy);
	*count = n;
	return (0);
 fail:
	free(copy);
	return (-1);
}
