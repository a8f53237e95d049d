/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * parse_lex.c: the lexer of dns44.conf.  It owns the stack of open files
 * (include), the macros and their expansion, the strings handed to the
 * grammar (parse.y), and the errors: each reported as file:line: message,
 * the first of a line only, with a guess at a misspelt keyword.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"
#include "log.h"
#include "rules.h"
#include "parse_local.h"
#include "parse.h"

#define PARSE_MAX_DEPTH		8	/* nested includes */
#define PARSE_BUFSIZE		8192	/* one word or quoted string */
#define PARSE_LINE_TOKENS	4	/* remembered for error messages */
#define PARSE_BAD_ESCAPE	"invalid escape in string (only \\\" and \\\\)"

struct parse_file {
	struct parse_file	*prev;
	FILE			*fp;
	char			*name;
	dev_t			 dev;
	ino_t			 ino;
	int			 lineno;
	int			 newline;	/* next token starts a line */
	int			 depth;		/* 0: the file conf_parse got */
};

struct parse_macro {
	struct parse_macro	*next;
	char			*name;
	char			*value;
	int			 persist;	/* from the command line */
};

/* Every string handed to the grammar; all freed when a parse ends. */
struct parse_str {
	struct parse_str	*next;
	char			 s[];
};

static char	*parse_strdup(const char *);
static void	 parse_str_free(void);
static void	 parse_popfile(void);
static int	 parse_getc(int *);
static void	 parse_ungetc(int);
static int	 parse_token(int);
static int	 parse_keyword(const char *);
static int	 parse_ident(const char *);
static struct parse_macro *parse_macro_find(const char *);
static int	 parse_macro_set(const char *, const char *, int);
static void	 parse_macro_clear(int);
static const char *parse_expected(void);
static const char *parse_suggest(const char *, const char *);

int				 perrors;
static struct parse_file	*file;		/* the file being read */
static struct parse_macro	*macros;
static struct parse_str		*strs;
static int			 brace_depth;
static int			 brace_line;	/* where the open { is */

/* Line bookkeeping: one message per line, and context for it. */
static unsigned long	 line_serial, err_serial;
static int		 line_tok[PARSE_LINE_TOKENS];
static int		 line_ntok;
static char		 line_word[64];	/* the first token, if a word */

/* Characters to read again, last in first out: macro values, lookahead. */
static char		 pb[PARSE_BUFSIZE + 16];
static size_t		 pblen;

/* bison's lookahead token, for the messages of a syntax error. */
extern int		 yychar;

static const struct {
	const char	*name;
	int		 token;
} keywords[] = {
	{ "admin-group",	ADMINGROUP },
	{ "allow",		ALLOW },
	{ "any",		ANY },
	{ "block",		BLOCK },
	{ "brief",		BRIEF },
	{ "burst",		BURST },
	{ "check",		CHECK },
	{ "chroot",		CHROOT },
	{ "connection-attempt-delay", ATTEMPTDELAY },
	{ "connections",	CONNECTIONS },
	{ "control",		CONTROL },
	{ "database",		DATABASE },
	{ "deny",		DENY },
	{ "dial-timeout",	DIALTIMEOUT },
	{ "direct",		DIRECT },
	{ "dns",		DNS },
	{ "file",		FILE_ },
	{ "for",		FOR },
	{ "from",		FROM },
	{ "group",		GROUP },
	{ "include",		INCLUDE },
	{ "interface",		INTERFACE },
	{ "listen",		LISTEN },
	{ "log",		LOG },
	{ "mark",		MARK },
	{ "master",		MASTER },
	{ "metrics",		METRICS },
	{ "name",		NAME },
	{ "new-names",		NEWNAMES },
	{ "pass",		PASS },
	{ "password",		PASSWORD },
	{ "per-client",		PERCLIENT },
	{ "port",		PORT },
	{ "prefer",		PREFER },
	{ "proxy",		PROXY },
	{ "ptr",		PTR },
	{ "quick",		QUICK },
	{ "range",		RANGE },
	{ "redis",		REDIS },
	{ "reply-privileged-ports", REPLYPRIVPORTS },
	{ "return",		RETURN },
	{ "reuse-grace",	REUSEGRACE },
	{ "route",		ROUTE },
	{ "sentinel",		SENTINEL },
	{ "sessions",		SESSIONS },
	{ "setup",		SETUP },
	{ "socket",		SOCKET },
	{ "source",		SOURCE },
	{ "table",		TABLE },
	{ "tcp-clients",	TCPCLIENTS },
	{ "tcp-halfclose-timeout", HALFCLOSETIMEOUT },
	{ "tcp-idle-timeout",	TCPIDLETIMEOUT },
	{ "tcp-query-timeout",	TCPQUERYTIMEOUT },
	{ "tls",		TLS },
	{ "tls-ca",		TLSCA },
	{ "to",		TO },
	{ "tproxy",		TPROXY },
	{ "ttl",		TTL },
	{ "udp-answered-timeout", ANSWEREDTIMEOUT },
	{ "udp-idle-timeout",	UDPIDLETIMEOUT },
	{ "udp-size",		UDPSIZE },
	{ "udp-unanswered-timeout", UNANSWEREDTIMEOUT },
	{ "upstream",		UPSTREAM },
	{ "upstream-timeout",	UPSTREAMTIMEOUT },
	{ "user",		USER },
	{ "verbose",		VERBOSE },
	{ "verify",		VERIFY },
	{ "via",		VIA },
	{ "wait",		WAIT },
	{ "workers",		WORKERS },
};

/* Before a file is read: no error, no line, no macro of the last file. */
void
parse_lex_reset(void)
{
	brace_depth = 0;
	perrors = 0;
	line_serial = err_serial = 0;
	line_ntok = 0;
	pblen = 0;
	parse_macro_clear(0);
}

/* After: every file closed, the file's macros and strings forgotten. */
void
parse_lex_end(void)
{
	while (file != NULL)
		parse_popfile();
	parse_macro_clear(0);
	parse_str_free();
}

/* "name=value", as given to -D: wins over a definition in the file. */
int
conf_define_macro(const char *def)
{
	char		 name[PARSE_BUFSIZE];
	const char	*eq;

	if ((eq = strchr(def, '=')) == NULL ||
	    (size_t)(eq - def) >= sizeof(name)) {
		errno = EINVAL;
		return (-1);
	}
	memcpy(name, def, eq - def);
	name[eq - def] = '\0';
	if (!parse_ident(name) || parse_keyword(name) != -1 ||
	    strlen(eq + 1) >= PARSE_BUFSIZE || strchr(eq + 1, '\n') != NULL) {
		errno = EINVAL;
		return (-1);
	}
	return (parse_macro_set(name, eq + 1, 1));
}

void
parse_error(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	perrors++;
	/* The first error of a line is the one worth reading. */
	if (err_serial == line_serial)
		return;
	err_serial = line_serial;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", file->name, file->lineno, msg);
}

/* Bison's own messages; a misspelt keyword gets a better one. */
void
yyerror(const char *msg)
{
	const char	*word = NULL, *expected, *hint;

	if (yychar == ERROR)
		return;		/* the lexer said what is wrong */
	if (strcmp(msg, "syntax error") != 0) {
		parse_error("%s", msg);
		return;
	}
	expected = parse_expected();
	if (line_ntok == 2 && line_tok[0] == WORD && yychar != '=')
		word = line_word;
	else if (yychar == WORD && expected != NULL)
		word = yylval.string;
	if (word == NULL) {
		parse_error("syntax error");
		return;
	}
	if ((hint = parse_suggest(word, expected)) != NULL)
		parse_error("unknown keyword \"%s\", did you mean \"%s\"?",
		    word, hint);
	else
		parse_error("unknown keyword \"%s\"", word);
}

/*
 * The keywords the grammar wants at the token that caused a syntax error
 * (the last one read), or NULL where it takes something else as well.
 */
static const char *
parse_expected(void)
{
	int	pos = line_ntok - 1;

	if (pos == 0 || (line_tok[0] == WORD && pos == 1))
		return ("dns range reuse-grace database user proxy control "
		    "metrics log include allow table pass block route "
		    "tproxy");
	if (pos == 1) {
		switch (line_tok[0]) {
		case DNS:
			return ("listen upstream ttl upstream-timeout "
			    "tcp-idle-timeout tcp-clients tcp-query-timeout "
			    "udp-size new-names per-client tls-ca");
		case PROXY:
			return ("listen dial-timeout prefer "
			    "connection-attempt-delay tcp-idle-timeout "
			    "udp-idle-timeout connections sessions chroot "
			    "tcp-halfclose-timeout udp-unanswered-timeout "
			    "udp-answered-timeout reply-privileged-ports "
			    "per-client workers");
		case CONTROL:
			return ("socket admin-group");
		case METRICS:
			return ("listen");
		case LOG:
			return ("verbose brief");
		case TPROXY:
			return ("setup mark table check");
		}
		return (NULL);
	}
	if (pos == 3 && (line_tok[0] == DNS || line_tok[0] == PROXY ||
	    line_tok[0] == METRICS) &&
	    (line_tok[1] == LISTEN || line_tok[1] == UPSTREAM))
		return ("port");
	if (pos == 3 && line_tok[0] == CONTROL && line_tok[1] == SOCKET)
		return ("group");
	if (pos == 2 && line_tok[1] == PERCLIENT)
		return (line_tok[0] == DNS ? "tcp-clients" :
		    "connections sessions");
	if (pos == 3 && line_tok[0] == DNS && line_tok[1] == NEWNAMES)
		return ("burst");
	return (NULL);
}

/* The keyword of the list closest to word, if it is a likely typo. */
static const char *
parse_suggest(const char *word, const char *list)
{
	static char	 best[32];
	char		 cand[32];
	size_t		 i, j, n, m, len;
	int		 d[32][32], dist, bestdist = 3;
	const char	*p;

	if (list == NULL || (n = strlen(word)) >= sizeof(cand))
		return (NULL);
	for (p = list; *p != '\0'; p += len + (p[len] == ' ')) {
		len = strcspn(p, " ");
		if (len >= sizeof(cand))
			continue;
		memcpy(cand, p, len);
		cand[len] = '\0';
		m = len;
		/* Edit distance, small tables being enough for keywords. */
		for (i = 0; i <= n; i++)
			d[i][0] = i;
		for (j = 0; j <= m; j++)
			d[0][j] = j;
		for (i = 1; i <= n; i++) {
			for (j = 1; j <= m; j++) {
				dist = d[i - 1][j - 1] +
				    (word[i - 1] != cand[j - 1]);
				if (d[i - 1][j] + 1 < dist)
					dist = d[i - 1][j] + 1;
				if (d[i][j - 1] + 1 < dist)
					dist = d[i][j - 1] + 1;
				d[i][j] = dist;
			}
		}
		/* One typo in a short keyword, two in a longer one. */
		if (d[n][m] < bestdist && d[n][m] <= (m <= 4 ? 1 : 2)) {
			bestdist = d[n][m];
			strlcpy(best, cand, sizeof(best));
		}
	}
	return (bestdist < 3 ? best : NULL);
}

static char *
parse_strdup(const char *s)
{
	struct parse_str	*ps;
	size_t			 len = strlen(s) + 1;

	if ((ps = malloc(sizeof(*ps) + len)) == NULL)
		return (NULL);
	memcpy(ps->s, s, len);
	ps->next = strs;
	strs = ps;
	return (ps->s);
}

static void
parse_str_free(void)
{
	struct parse_str	*ps;

	while ((ps = strs) != NULL) {
		strs = ps->next;
		free(ps);
	}
}

/* Open name on top of the stack; errno ELOOP when it is already open. */
int
parse_pushfile(const char *name)
{
	struct parse_file	*nf, *f;
	struct stat		 st;
	FILE			*fp;
	int			 fd, saved_errno;

	/* Only regular files: a FIFO or a device could block or never end. */
	if ((fd = open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || (fp = fdopen(fd, "r")) == NULL) {
		saved_errno = errno;
		close(fd);
		errno = saved_errno;
		return (-1);
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fclose(fp);
		return (-2);
	}
	if (fcntl(fd, F_SETFL, 0) == -1)
		goto fail;
	for (f = file; f != NULL; f = f->prev) {
		if (f->dev == st.st_dev && f->ino == st.st_ino) {
			errno = ELOOP;
			goto fail;
		}
	}
	if ((nf = calloc(1, sizeof(*nf))) == NULL)
		goto fail;
	if ((nf->name = strdup(name)) == NULL) {
		free(nf);
		goto fail;
	}
	nf->fp = fp;
	nf->dev = st.st_dev;
	nf->ino = st.st_ino;
	nf->newline = 1;
	nf->depth = file != NULL ? file->depth + 1 : 0;
	nf->prev = file;
	file = nf;
	return (0);

 fail:
	saved_errno = errno;
	fclose(fp);
	errno = saved_errno;
	return (-1);
}

static void
parse_popfile(void)
{
	struct parse_file	*f = file;

	file = f->prev;
	fclose(f->fp);
	free(f->name);
	free(f);
}

/* A relative path is taken from the including file's directory. */
void
parse_include(const char *path)
{
	char		 full[PATH_MAX];
	const char	*slash;
	int		 n, rv;

	if (path[0] != '/' && (slash = strrchr(file->name, '/')) != NULL)
		n = snprintf(full, sizeof(full), "%.*s/%s",
		    (int)(slash - file->name), file->name, path);
	else
		n = snprintf(full, sizeof(full), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(full)) {
		parse_error("include path too long");
		return;
	}
	if (file->depth >= PARSE_MAX_DEPTH) {
		parse_error("include \"%s\": nested too deep (max %d)", path,
		    PARSE_MAX_DEPTH);
		return;
	}
	if ((rv = parse_pushfile(full)) == -2)
		parse_error("%s: not a regular file", full);
	else if (rv == -1) {
		if (errno == ELOOP)
			parse_error("include cycle: %s", full);
		else
			parse_error("%s: %s", full, strerror(errno));
	}
}

static int
parse_getc(int *expanded)
{
	if (pblen > 0) {
		*expanded = 1;
		return ((unsigned char)pb[--pblen]);
	}
	*expanded = 0;
	return (getc(file->fp));
}

static void
parse_ungetc(int c)
{
	if (c != EOF && pblen < sizeof(pb))
		pb[pblen++] = c;
}

/* Every token leaves here, so the line bookkeeping sees them all. */
static int
parse_token(int tok)
{
	if (line_ntok == 0 && tok == WORD)
		strlcpy(line_word, yylval.string, sizeof(line_word));
	/* A rule is known by the line it starts on. */
	if (line_ntok == 0 && brace_depth == 0)
		parse_where(stmt_where, sizeof(stmt_where));
	if (line_ntok < PARSE_LINE_TOKENS)
		line_tok[line_ntok] = tok;
	line_ntok++;
	if (tok == '\n')
		file->newline = 1;
	return (tok);
}

static int
parse_keyword(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(s, keywords[i].name) == 0)
			return (keywords[i].token);
	return (-1);
}

/* [A-Za-z_][A-Za-z0-9_]* */
static int
parse_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return (0);
	for (s++; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return (0);
	return (1);
}

int
yylex(void)
{
	char			 buf[PARSE_BUFSIZE];
	const char		*bad;
	struct parse_macro	*m;
	size_t			 len, i;
	int			 c, expanded, tok;

 top:
	if (file->newline) {
		file->newline = 0;
		file->lineno++;
		line_serial++;
		line_ntok = 0;
	}
	do {
		c = parse_getc(&expanded);
	} while (c == ' ' || c == '\t' || c == '\r');
	if (c == '#') {
		while ((c = parse_getc(&expanded)) != '\n' && c != EOF)
			;
	}

	if (c == EOF) {
		if (ferror(file->fp)) {
			parse_error("%s: %s", file->name, strerror(errno));
			clearerr(file->fp);
		}
		if (brace_depth > 0) {
			brace_depth = 0;
			/* Blamed on the line of the {: the file ends here. */
			file->lineno = brace_line;
			parse_error("unterminated {");
			return (parse_token(ERROR));
		}
		/* A last line without a newline still ends. */
		if (line_ntok > 0)
			return (parse_token('\n'));
		if (file->prev == NULL)
			return (0);
		parse_popfile();
		goto top;
	}
	/* A list of names in braces may span lines. */
	if (c == '\n' && brace_depth > 0) {
		file->newline = 1;
		goto top;
	}
	if (c == '{' && brace_depth++ == 0)
		brace_line = file->lineno;
	else if (c == '}' && brace_depth > 0)
		brace_depth--;
	if (c == '\n' || c == '=' || c == '{' || c == '}')
		return (parse_token(c));

	if (c == '<') {
		len = 0;
		while ((c = parse_getc(&expanded)) != EOF && c != '>' &&
		    (isalnum(c) || c == '_' || c == '-') &&
		    len < sizeof(buf) - 1)
			buf[len++] = c;
		buf[len] = '\0';
		if (c != '>' || len == 0) {
			parse_ungetc(c);
			parse_error("table name expected: <name>");
			return (parse_token(ERROR));
		}
		if ((yylval.string = parse_strdup(buf)) == NULL) {
			parse_error("%s", strerror(errno));
			return (parse_token(ERROR));
		}
		return (parse_token(TABLENAME));
	}

	if (c == '"') {
		bad = NULL;
		len = 0;
		for (;;) {
			c = parse_getc(&expanded);
			if (c == EOF || c == '\n') {
				parse_ungetc(c);
				bad = "unterminated string";
				break;
			}
			if (c == '"')
				break;
			if (c == '\\') {
				c = parse_getc(&expanded);
				if (c != '"' && c != '\\') {
					parse_ungetc(c);
					if (bad == NULL)
						bad = PARSE_BAD_ESCAPE;
					continue;
				}
			} else if (c == '\0' && bad == NULL)
				bad = "NUL character in string";
			if (len >= sizeof(buf) - 1) {
				if (bad == NULL)
					bad = "string too long";
				continue;
			}
			buf[len++] = c;
		}
		buf[len] = '\0';
		if (bad != NULL) {
			parse_error("%s", bad);
			return (parse_token(ERROR));
		}
		if ((yylval.string = parse_strdup(buf)) == NULL) {
			parse_error("%s", strerror(errno));
			return (parse_token(ERROR));
		}
		return (parse_token(STRING));
	}

	if (iscntrl(c)) {
		parse_error("invalid character 0x%02x", c);
		return (parse_token(ERROR));
	}

	if (c == '$' && !expanded) {
		len = 0;
		while ((c = parse_getc(&expanded)) != EOF &&
		    (isalnum(c) || c == '_') && len < sizeof(buf) - 1)
			buf[len++] = c;
		parse_ungetc(c);
		buf[len] = '\0';
		if (len == 0) {
			parse_error("macro name expected after \"$\"");
			return (parse_token(ERROR));
		}
		if ((m = parse_macro_find(buf)) == NULL) {
			parse_error("macro \"%s\" is not defined", buf);
			return (parse_token(ERROR));
		}
		/* The value is read again as input, in reverse order. */
		len = strlen(m->value);
		if (pblen + len > sizeof(pb)) {
			parse_error("macro \"%s\" too long", buf);
			return (parse_token(ERROR));
		}
		for (i = len; i > 0; i--)
			pb[pblen++] = m->value[i - 1];
		goto top;
	}

	bad = NULL;
	len = 0;
	do {
		if (len < sizeof(buf) - 1)
			buf[len++] = c;
		else
			bad = "word too long";
		c = parse_getc(&expanded);
	} while (c != EOF && !isspace(c) && !iscntrl(c) && c != '#' &&
	    c != '"' && c != '=' && c != '{' && c != '}');
	parse_ungetc(c);
	buf[len] = '\0';
	if (bad != NULL) {
		parse_error("%s", bad);
		return (parse_token(ERROR));
	}

	if (strcmp(buf, "-") == 0)
		return (parse_token('-'));
	if (buf[strspn(buf, "0123456789")] == '\0')
		tok = NUMBER;
	else if ((tok = parse_keyword(buf)) == -1)
		tok = WORD;
	if ((yylval.string = parse_strdup(buf)) == NULL) {
		parse_error("%s", strerror(errno));
		return (parse_token(ERROR));
	}
	return (parse_token(tok));
}

static struct parse_macro *
parse_macro_find(const char *name)
{
	struct parse_macro	*m;

	for (m = macros; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			return (m);
	return (NULL);
}

/* A definition from the file does not replace one from the command line. */
static int
parse_macro_set(const char *name, const char *value, int persist)
{
	struct parse_macro	*m;
	char			*v;

	if ((m = parse_macro_find(name)) != NULL) {
		if (m->persist && !persist)
			return (0);
		if ((v = strdup(value)) == NULL)
			return (-1);
		free(m->value);
		m->value = v;
		m->persist = persist;
		return (0);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (-1);
	if ((m->name = strdup(name)) == NULL ||
	    (m->value = strdup(value)) == NULL) {
		free(m->name);
		free(m);
		return (-1);
	}
	m->persist = persist;
	m->next = macros;
	macros = m;
	return (0);
}

/* Forget the macros of the file (all of them with all set). */
static void
parse_macro_clear(int all)
{
	struct parse_macro	*m, **mp;

	for (mp = &macros; (m = *mp) != NULL; ) {
		if (m->persist && !all) {
			mp = &m->next;
			continue;
		}
		*mp = m->next;
		free(m->name);
		free(m->value);
		free(m);
	}
}

void
parse_macro(const char *name, const char *value)
{
	if (!parse_ident(name)) {
		parse_error("invalid macro name \"%s\"", name);
		return;
	}
	if (parse_macro_set(name, value, 0) == -1)
		parse_error("macro \"%s\": %s", name, strerror(errno));
}

/* "file:line" of the token being read, the file without its directory. */
void
parse_where(char *buf, size_t len)
{
	const char	*base;

	base = strrchr(file->name, '/');
	base = base != NULL ? base + 1 : file->name;
	snprintf(buf, len, "%s:%d", base, file->lineno);
}
