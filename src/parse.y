/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * parse.y: the grammar of dns44.conf and its lexer.  The lexer owns the
 * stack of open files (include), the macros and their expansion; the
 * grammar fills a copy of the configuration, which conf_parse() hands back
 * only when every line was right.  Errors go to stderr as file:line:
 * message, and parsing goes on to report them all.
 */

%{
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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

/* The grammar calls these by their yacc names. */
#define YYLEX_IS_DECLARED	1
#define YYERROR_IS_DECLARED	1
static int	 yylex(void);
static void	 yyerror(const char *);

static void	 parse_error(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static char	*parse_strdup(const char *);
static void	 parse_str_free(void);
static int	 parse_pushfile(const char *);
static void	 parse_popfile(void);
static void	 parse_include(const char *);
static int	 parse_getc(int *);
static void	 parse_ungetc(int);
static int	 parse_token(int);
static int	 parse_keyword(const char *);
static int	 parse_ident(const char *);
static struct parse_macro *parse_macro_find(const char *);
static int	 parse_macro_set(const char *, const char *, int);
static void	 parse_macro_clear(int);
static void	 parse_macro(const char *, const char *);
static const char *parse_expected(void);
static const char *parse_suggest(const char *, const char *);
static int	 parse_yesno(const char *, const char *, int *);
static int	 parse_number(const char *, const char *, long long,
		    long long, long long *);
static int	 parse_duration(const char *, const char *, int, uint32_t *);
static int	 parse_addr(const char *, struct in_addr *);
static int	 parse_sockaddr(const char *, long long, in_port_t,
		    struct sockaddr_in *);
static void	 parse_dns_listen(const char *, long long);
static void	 parse_upstream(const char *, long long, const char *);
static int	 parse_upstream_addr(const char *, long long, const char *,
		    struct conf_upstream *);
static void	 parse_proxy_listen(const char *, long long);
static void	 parse_metrics_listen(const char *, long long);
static void	 parse_redis(const char *, long long, int);
static void	 parse_redis_password(const char *);
static void	 parse_range(const char *, const char *);
static void	 parse_path(const char *, const char *, char *, size_t);
static void	 parse_name(const char *, const char *, char *, size_t);
static int	 parse_prefix(const char *, struct conf_prefix *);
static void	 parse_proxy_rule(const char *, int);
static void	 parse_client_net(const char *);
static void	 parse_where(char *, size_t);
static void	 parse_table(const char *);
static void	 parse_list_name(const char *);
static void	 parse_list_file(const char *);
static int	 parse_list_end(void);
static int	 parse_table_ref(const char *);
static void	 parse_rule_from(const char *);
static void	 parse_rule(int, int, int);
static void	 parse_via(const char *, const char *, long long);
static void	 parse_route_mark(const char *);
static void	 parse_route_iface(const char *);
static void	 parse_route_source(const char *);
static void	 parse_route_auth(const char *, const char *);
static void	 parse_split(const char *, long long, const char *, int);
static void	 parse_rule_reset(void);
static void	 parse_tproxy_number(const char *, const char *, uint32_t *);
static void	 parse_tproxy_check(const char *);

static struct dns44_conf	*pconf;		/* the copy being filled */
static struct parse_file	*file;		/* the file being read */
static struct parse_macro	*macros;
static struct parse_str		*strs;
static int			 errors;
static int			 seen_dns_listen, seen_upstream, seen_proxy;
static int			 parse_tls;	/* of the upstream being read */

/* The domain rules being read, and the rule and list of names in hand. */
static struct ruleset		*prules;
static struct ruleset		*parsed_rules;	/* of the last good parse */
static struct names		*pcheck;	/* inline names, to check them */
static struct rule		 prule;
static int			 plist = -1;	/* table taking names */
static int			 plist_anon;	/* made for this rule */
static int			 brace_depth;
static int			 brace_line;	/* where the open { is */
static char			 stmt_where[CONF_WHERE_MAX];

/* Line bookkeeping: one message per line, and context for it. */
static unsigned long	 line_serial, err_serial;
static int		 line_tok[PARSE_LINE_TOKENS];
static int		 line_ntok;
static char		 line_word[64];	/* the first token, if a word */

/* Characters to read again, last in first out: macro values, lookahead. */
static char		 pb[PARSE_BUFSIZE + 16];
static size_t		 pblen;
%}

%union {
	char		*string;
	long long	 number;
}

%token	<string>	DNS LISTEN PORT UPSTREAM TTL UPSTREAMTIMEOUT
%token	<string>	TCPIDLETIMEOUT TCPCLIENTS RANGE REUSEGRACE DATABASE
%token	<string>	USER PROXY DIALTIMEOUT UDPIDLETIMEOUT CONNECTIONS
%token	<string>	SESSIONS CHROOT CONTROL SOCKET GROUP LOG VERBOSE BRIEF
%token	<string>	INCLUDE ALLOW DENY FROM PTR VERIFY TLS NAME TLSCA
%token	<string>	UDPSIZE TCPQUERYTIMEOUT HALFCLOSETIMEOUT
%token	<string>	UNANSWEREDTIMEOUT ANSWEREDTIMEOUT
%token	<string>	REPLYPRIVPORTS
%token	<string>	ADMINGROUP
%token	<string>	NEWNAMES BURST PERCLIENT
%token	<string>	TABLE FILE_ PASS BLOCK ROUTE QUICK RETURN TO ANY
%token	<string>	VIA DIRECT MARK INTERFACE SOURCE FOR PASSWORD
%token	<string>	TPROXY SETUP CHECK
%token	<string>	PREFER ATTEMPTDELAY
%token	<string>	TABLENAME METRICS WORKERS
%token	<string>	REDIS SENTINEL MASTER WAIT
%token	<string>	STRING WORD NUMBER
%token			ERROR
%type	<string>	string name keyword optgroup opttls
%type	<number>	optport optburst optquick optreturn names

%%

/*
 * An include acts once its newline is read, which needs no lookahead, so
 * the next token already comes from the included file.
 */
grammar	: /* empty */
	| grammar '\n'
	| grammar INCLUDE string '\n'	{ parse_include($3); }
	| grammar stmt '\n'		{ parse_rule_reset(); }
	| grammar error '\n'		{ yyerrok; parse_rule_reset(); }
	;

stmt	: macro
	| DNS dnsopt
	| PROXY proxyopt
	| DNS dnsbound
	| PROXY proxybound
	| RANGE string			{ parse_range($2, NULL); }
	| RANGE string '-' string	{ parse_range($2, $4); }
	| REUSEGRACE string		{
		parse_duration("reuse-grace", $2, 1, &pconf->grace_ms);
	}
	| DATABASE string		{
		parse_path("database", $2, pconf->db_dir,
		    sizeof(pconf->db_dir));
	}
	| DATABASE REDIS string optport	{ parse_redis($3, $4, 0); }
	| DATABASE SENTINEL string optport { parse_redis($3, $4, 1); }
	| DATABASE MASTER name		{
		parse_name("database master", $3, pconf->redis_master,
		    sizeof(pconf->redis_master));
	}
	| DATABASE PASSWORD string	{ parse_redis_password($3); }
	| DATABASE WAIT NUMBER		{
		long long	n;

		if (parse_number("database wait", $3, 0, 16, &n) == 0)
			pconf->redis_wait = n;
	}
	| USER name			{
		parse_name("user", $2, pconf->user, sizeof(pconf->user));
		pconf->user_set = 1;
	}
	| CONTROL SOCKET string optgroup {
		parse_path("control socket", $3, pconf->control_path,
		    sizeof(pconf->control_path));
		if ($4 != NULL)
			parse_name("group", $4, pconf->control_group,
			    sizeof(pconf->control_group));
	}
	| CONTROL ADMINGROUP name	{
		parse_name("admin-group", $3, pconf->control_admin_group,
		    sizeof(pconf->control_admin_group));
	}
	| METRICS LISTEN string optport	{ parse_metrics_listen($3, $4); }
	| LOG VERBOSE			{ pconf->verbose = 1; }
	| LOG BRIEF			{ pconf->verbose = 0; }
	| ALLOW FROM string		{ parse_client_net($3); }
	| ALLOW FROM ANY		{ parse_client_net("any"); }
	| TABLE TABLENAME		{ parse_table($2); } tablebody
	| PASS optquick optfrom TO names {
		parse_rule(RULE_PASS, $2, $5);
	}
	| BLOCK optreturn optquick optfrom TO names {
		prule.block = $2;
		parse_rule(RULE_BLOCK, $3, $6);
	}
	| ROUTE optquick optfrom TO names routeopts {
		parse_rule(RULE_ROUTE, $2, $5);
	}
	| TPROXY tproxyopt
	;

/* The TPROXY plumbing: the parent's to make, or only to check. */
tproxyopt : SETUP string		{
		parse_yesno("tproxy setup", $2, &pconf->tproxy_setup);
	}
	| MARK string			{
		parse_tproxy_number("tproxy mark", $2, &pconf->tproxy_mark);
	}
	| TABLE string			{
		parse_tproxy_number("tproxy table", $2,
		    &pconf->tproxy_table);
	}
	| CHECK string			{ parse_tproxy_check($2); }
	;

/* A table's names: inline, from files, or both. */
tablebody : '{' namelist '}' tablefiles
	| tablefile tablefiles
	;

tablefiles : /* empty */
	| tablefiles tablefile
	;

tablefile : FILE_ string		{ parse_list_file($2); }
	;

namelist : string			{ parse_list_name($1); }
	| namelist string		{ parse_list_name($2); }
	;

/* The names a rule applies to: a table's index or RULE_TABLE_ANY. */
names	: TABLENAME			{ $$ = parse_table_ref($1); }
	| string			{
		parse_list_name($1);
		$$ = parse_list_end();
	}
	| '{' namelist '}'		{ $$ = parse_list_end(); }
	| ANY				{ $$ = RULE_TABLE_ANY; }
	;

optquick : /* empty */			{ $$ = 0; }
	| QUICK				{ $$ = 1; }
	;

optfrom	: /* empty */			{ prule.from_any = 1; }
	| FROM ANY			{ prule.from_any = 1; }
	| FROM string			{ parse_rule_from($2); }
	;

optreturn : /* empty */			{ $$ = BLOCK_NXDOMAIN; }
	| RETURN string			{
		if (strcmp($2, "nxdomain") == 0)
			$$ = BLOCK_NXDOMAIN;
		else if (strcmp($2, "refused") == 0)
			$$ = BLOCK_REFUSED;
		else if (strcmp($2, "zero") == 0)
			$$ = BLOCK_ZERO;
		else {
			parse_error("block return \"%s\": expected nxdomain, "
			    "refused or zero", $2);
			$$ = BLOCK_NXDOMAIN;
		}
	}
	;

routeopts : routeopt
	| routeopts routeopt
	;

routeopt : DIRECT
	| VIA string string optport optauth { parse_via($2, $3, $4); }
	| MARK string			{ parse_route_mark($2); }
	| INTERFACE string		{ parse_route_iface($2); }
	| SOURCE string			{ parse_route_source($2); }
	;

optauth	: /* empty */
	| USER string PASSWORD string	{ parse_route_auth($2, $4); }
	| USER string			{
		parse_error("user \"%s\" without a password", $2);
	}
	;

macro	: WORD '=' name			{ parse_macro($1, $3); }
	| keyword '=' name		{
		parse_error("macro name \"%s\" is a keyword", $1);
	}
	;

dnsopt	: LISTEN string optport		{ parse_dns_listen($2, $3); }
	| UPSTREAM string optport opttls { parse_upstream($2, $3, $4); }
	| UPSTREAM string optport opttls FOR names {
		parse_split($2, $3, $4, $6);
	}
	| UPSTREAM string optport NAME string {
		parse_error("tls name \"%s\" without tls", $5);
	}
	| TLSCA string			{
		parse_path("dns tls-ca", $2, pconf->tls_ca,
		    sizeof(pconf->tls_ca));
	}
	| TTL NUMBER			{
		long long	n;

		if (parse_number("ttl", $2, 0, 604800, &n) == 0)
			pconf->ttl = n;
	}
	| UPSTREAMTIMEOUT string	{
		parse_duration("upstream-timeout", $2, 0,
		    &pconf->upstream_ms);
	}
	| TCPIDLETIMEOUT string		{
		parse_duration("tcp-idle-timeout", $2, 0,
		    &pconf->dns_tcp_idle_ms);
	}
	| TCPCLIENTS NUMBER		{
		long long	n;

		if (parse_number("tcp-clients", $2, 1, 65535, &n) == 0)
			pconf->max_dns_tcp = n;
	}
	| NEWNAMES NUMBER optburst	{
		long long	n;

		if (parse_number("new-names", $2, 0, 1000000, &n) == 0)
			pconf->new_names = n;
		if ($3 > 0)
			pconf->new_burst = $3;
	}
	| PERCLIENT TCPCLIENTS NUMBER	{
		long long	n;

		if (parse_number("per-client tcp-clients", $3, 1, 65535,
		    &n) == 0)
			pconf->client_dns_tcp = n;
	}
	| PTR string			{
		parse_yesno("dns ptr", $2, &pconf->dns_ptr);
	}
	| VERIFY string			{
		parse_yesno("dns verify", $2, &pconf->dns_verify);
	}
	;

/* DNS over TLS, and the name the certificate must carry (NULL: none). */
opttls	: /* empty */			{ parse_tls = 0; $$ = NULL; }
	| TLS				{ parse_tls = 1; $$ = NULL; }
	| TLS NAME string		{ parse_tls = 1; $$ = $3; }
	;

/* -1: no burst given, 0: a bad one, already reported. */
optburst : /* empty */			{ $$ = -1; }
	| BURST NUMBER			{
		if (parse_number("burst", $2, 1, 1000000, &$$) == -1)
			$$ = 0;
	}
	;

proxyopt : LISTEN string optport	{ parse_proxy_listen($2, $3); }
	| DIALTIMEOUT string		{
		parse_duration("dial-timeout", $2, 0, &pconf->dial_ms);
	}
	| PREFER string			{
		if (strcmp($2, "ipv4") == 0)
			pconf->prefer_family = AF_INET;
		else if (strcmp($2, "ipv6") == 0)
			pconf->prefer_family = AF_INET6;
		else
			parse_error("proxy prefer %s: ipv4 or ipv6 expected",
			    $2);
	}
	| ATTEMPTDELAY string		{
		uint32_t	ms;

		if (parse_duration("connection-attempt-delay", $2, 1,
		    &ms) == 0) {
			if (ms > MAX_ATTEMPT_DELAY_MS)
				parse_error("connection-attempt-delay: at "
				    "most %us", MAX_ATTEMPT_DELAY_MS / 1000);
			else
				pconf->attempt_delay_ms = ms;
		}
	}
	| TCPIDLETIMEOUT string		{
		parse_duration("tcp-idle-timeout", $2, 0,
		    &pconf->tcp_idle_ms);
	}
	| UDPIDLETIMEOUT string		{
		parse_duration("udp-idle-timeout", $2, 0,
		    &pconf->udp_idle_ms);
	}
	| CONNECTIONS NUMBER		{
		long long	n;

		if (parse_number("connections", $2, 1, 1000000, &n) == 0)
			pconf->max_conn = n;
	}
	| SESSIONS NUMBER		{
		long long	n;

		if (parse_number("sessions", $2, 1, 1000000, &n) == 0)
			pconf->max_sessions = n;
	}
	| PERCLIENT CONNECTIONS NUMBER	{
		long long	n;

		if (parse_number("per-client connections", $3, 1, 1000000,
		    &n) == 0)
			pconf->client_conn = n;
	}
	| PERCLIENT SESSIONS NUMBER	{
		long long	n;

		if (parse_number("per-client sessions", $3, 1, 1000000,
		    &n) == 0)
			pconf->client_sessions = n;
	}
	| WORKERS string		{
		long long	n;

		if (strcmp($2, "auto") == 0)
			pconf->proxy_workers = 0;
		else if ($2[0] == '\0' || strspn($2, "0123456789") !=
		    strlen($2))
			parse_error("proxy workers %s: a number or auto "
			    "expected", $2);
		else if (parse_number("proxy workers", $2, 1,
		    CONF_MAX_WORKERS, &n) == 0)
			pconf->proxy_workers = n;
	}
	| CHROOT string			{
		parse_path("proxy chroot", $2, pconf->empty_dir,
		    sizeof(pconf->empty_dir));
	}
	| REPLYPRIVPORTS string		{
		parse_yesno("reply-privileged-ports", $2,
		    &pconf->reply_priv_ports);
	}
	| ALLOW string			{ parse_proxy_rule($2, 1); }
	| DENY string			{ parse_proxy_rule($2, 0); }
	;

/* What bounds a client's use of the DNS side and of a relay. */
dnsbound : UDPSIZE NUMBER		{
		long long	n;

		if (parse_number("udp-size", $2, WIRE_UDP_MIN,
		    WIRE_UDP_MAX, &n) == 0)
			pconf->udp_size = n;
	}
	| TCPQUERYTIMEOUT string	{
		parse_duration("tcp-query-timeout", $2, 0,
		    &pconf->dns_tcp_query_ms);
	}
	;

proxybound : HALFCLOSETIMEOUT string	{
		parse_duration("tcp-halfclose-timeout", $2, 0,
		    &pconf->halfclose_ms);
	}
	| UNANSWEREDTIMEOUT string	{
		parse_duration("udp-unanswered-timeout", $2, 0,
		    &pconf->unanswered_ms);
	}
	| ANSWEREDTIMEOUT string	{
		parse_duration("udp-answered-timeout", $2, 0,
		    &pconf->answered_ms);
	}
	;

/* -1: no port given, 0: a bad one, already reported. */
optport	: /* empty */			{ $$ = -1; }
	| PORT NUMBER			{
		if (parse_number("port", $2, 1, 65535, &$$) == -1)
			$$ = 0;
	}
	;

optgroup : /* empty */			{ $$ = NULL; }
	| GROUP name			{ $$ = $2; }
	;

string	: STRING
	| WORD
	| NUMBER
	;

/* User and group names may be spelt like a keyword. */
name	: string
	| keyword
	;

keyword	: DNS | LISTEN | PORT | UPSTREAM | TTL | UPSTREAMTIMEOUT
	| TCPIDLETIMEOUT | TCPCLIENTS | RANGE | REUSEGRACE | DATABASE
	| USER | PROXY | DIALTIMEOUT | UDPIDLETIMEOUT | CONNECTIONS
	| SESSIONS | CHROOT | CONTROL | SOCKET | GROUP | LOG | VERBOSE
	| BRIEF | INCLUDE | NEWNAMES | BURST | PERCLIENT
	| ALLOW | DENY | FROM | PTR | VERIFY | TLS | NAME | TLSCA
	| UDPSIZE | TCPQUERYTIMEOUT | HALFCLOSETIMEOUT | UNANSWEREDTIMEOUT
	| ANSWEREDTIMEOUT | REPLYPRIVPORTS
	| TABLE | FILE_ | PASS | BLOCK | ROUTE | QUICK | RETURN | TO | ANY
	| VIA | DIRECT | MARK | INTERFACE | SOURCE | FOR | PASSWORD
	| TPROXY | SETUP | CHECK | METRICS | WORKERS
	| PREFER | ATTEMPTDELAY | ADMINGROUP
	| REDIS | SENTINEL | MASTER | WAIT
	;

%%

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

/*
 * Read path into conf: 0, or -1 after every error was logged, leaving
 * conf untouched.  With CONF_OPTIONAL, a path that does not exist is no
 * error and leaves the configuration as it was.  With CONF_PARTIAL, conf
 * takes the lines that were right even when others were not, for a reader
 * that wants one setting of a file being edited.
 */
int
conf_parse(struct dns44_conf *conf, const char *path, int how)
{
	struct dns44_conf	*nc;
	int			 rv, optional;

	optional = (how & CONF_OPTIONAL) != 0;
	if ((nc = malloc(sizeof(*nc))) == NULL) {
		log_warn("%s", path);
		return (-1);
	}
	*nc = *conf;
	pconf = nc;
	if ((prules = ruleset_new()) == NULL ||
	    (pcheck = names_new()) == NULL) {
		log_warn("%s", path);
		ruleset_free(prules);
		prules = NULL;
		free(nc);
		return (-1);
	}
	parse_rule_reset();
	brace_depth = 0;
	seen_dns_listen = seen_upstream = seen_proxy = 0;
	errors = 0;
	line_serial = err_serial = 0;
	line_ntok = 0;
	pblen = 0;
	parse_macro_clear(0);

	if ((rv = parse_pushfile(path)) < 0) {
		free(nc);
		pconf = NULL;
		ruleset_free(prules);
		prules = NULL;
		names_free(pcheck);
		pcheck = NULL;
		if (optional && rv == -1 && errno == ENOENT) {
			ruleset_free(parsed_rules);
			parsed_rules = ruleset_new();
		}
		/* A missing default file means the built-in defaults. */
		if (optional && rv == -1 && errno == ENOENT)
			return (0);
		if (rv == -2)
			log_warnx("%s: not a regular file", path);
		else
			log_warn("%s", path);
		return (-1);
	}
	if (yyparse() != 0)
		errors++;

	while (file != NULL)
		parse_popfile();
	parse_macro_clear(0);
	parse_str_free();
	names_free(pcheck);
	pcheck = NULL;
	if (errors == 0) {
		*conf = *nc;
		ruleset_free(parsed_rules);
		parsed_rules = prules;
	} else {
		if (how & CONF_PARTIAL)
			*conf = *nc;
		ruleset_free(prules);
	}
	prules = NULL;
	free(nc);
	pconf = NULL;
	return (errors == 0 ? 0 : -1);
}

/*
 * The domain rules of the last configuration conf_parse() accepted (an
 * empty set for a missing optional file), handed to the caller; NULL
 * when none was parsed since the last call.
 */
struct ruleset *
conf_take_rules(void)
{
	struct ruleset	*rs = parsed_rules;

	parsed_rules = NULL;
	return (rs);
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

static void
parse_error(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	errors++;
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
static void
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
static int
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
static void
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

static int
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

static void
parse_macro(const char *name, const char *value)
{
	if (!parse_ident(name)) {
		parse_error("invalid macro name \"%s\"", name);
		return;
	}
	if (parse_macro_set(name, value, 0) == -1)
		parse_error("macro \"%s\": %s", name, strerror(errno));
}

static int
parse_number(const char *what, const char *s, long long min, long long max,
    long long *n)
{
	const char	*errstr;

	*n = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		parse_error("%s %s out of range (%lld-%lld)", what, s, min,
		    max);
		return (-1);
	}
	return (0);
}

static int
parse_yesno(const char *what, const char *s, int *v)
{
	if (strcmp(s, "yes") == 0)
		*v = 1;
	else if (strcmp(s, "no") == 0)
		*v = 0;
	else {
		parse_error("%s: \"%s\" is not yes or no", what, s);
		return (-1);
	}
	return (0);
}

static int
parse_duration(const char *what, const char *s, int zero_ok, uint32_t *ms)
{
	char		buf[32];
	uint32_t	v;

	if (conf_parse_duration(s, &v) == -1) {
		if (errno == ERANGE)
			parse_error("%s %s too long (max %s)", what, s,
			    conf_fmt_duration(UINT32_MAX, buf, sizeof(buf)));
		else if (errno == EDOM)
			parse_error("%s: negative duration \"%s\"", what, s);
		else
			parse_error("%s: invalid duration \"%s\"", what, s);
		return (-1);
	}
	if (v == 0 && !zero_ok) {
		parse_error("%s must be greater than 0", what);
		return (-1);
	}
	*ms = v;
	return (0);
}

static int
parse_addr(const char *s, struct in_addr *ina)
{
	if (inet_pton(AF_INET, s, ina) != 1) {
		parse_error("invalid address \"%s\"", s);
		return (-1);
	}
	return (0);
}

/* Fill sin from an address and an optport value; -1 on a bad one. */
static int
parse_sockaddr(const char *addr, long long port, in_port_t defport,
    struct sockaddr_in *sin)
{
	struct in_addr	ina;

	if (parse_addr(addr, &ina) == -1 || port == 0)
		return (-1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr = ina;
	sin->sin_port = htons(port == -1 ? defport : (in_port_t)port);
	return (0);
}

static void
parse_dns_listen(const char *addr, long long port)
{
	struct sockaddr_in	sin;
	char			buf[32];
	int			i;

	if (parse_sockaddr(addr, port, DEFAULT_DNS_PORT, &sin) == -1)
		return;
	/* The first one in the file replaces the built-in default. */
	if (!seen_dns_listen) {
		seen_dns_listen = 1;
		pconf->dns_listen_count = 0;
	}
	for (i = 0; i < pconf->dns_listen_count; i++) {
		if (pconf->dns_listen[i].sin_addr.s_addr ==
		    sin.sin_addr.s_addr &&
		    pconf->dns_listen[i].sin_port == sin.sin_port) {
			parse_error("duplicate dns listen %s",
			    conf_fmt_addr(&sin, buf, sizeof(buf)));
			return;
		}
	}
	if (pconf->dns_listen_count >= CONF_MAX_DNS_LISTEN) {
		parse_error("too many dns listen addresses (max %d)",
		    CONF_MAX_DNS_LISTEN);
		return;
	}
	pconf->dns_listen[pconf->dns_listen_count++] = sin;
}

/* An upstream line's address and options; -1 after an error. */
static int
parse_upstream_addr(const char *addr, long long port, const char *name,
    struct conf_upstream *u)
{
	if (port == 0)
		return (-1);
	if (name != NULL && name[0] == '\0') {
		parse_error("empty tls name");
		return (-1);
	}
	if (conf_parse_upstream(addr, port, parse_tls, NULL, u) == -1) {
		parse_error("invalid address \"%s\"", addr);
		return (-1);
	}
	if (name != NULL &&
	    conf_parse_upstream(addr, port, parse_tls, name, u) == -1) {
		parse_error("invalid tls name \"%s\"", name);
		return (-1);
	}
	return (0);
}

static void
parse_upstream(const char *addr, long long port, const char *name)
{
	struct conf_upstream	u;

	if (parse_upstream_addr(addr, port, name, &u) == -1)
		return;
	if (!seen_upstream) {
		seen_upstream = 1;
		pconf->upstream_count = 0;
	}
	if (pconf->upstream_count >= CONF_MAX_UPSTREAM) {
		parse_error("too many upstreams (max %d)", CONF_MAX_UPSTREAM);
		return;
	}
	pconf->upstream[pconf->upstream_count++] = u;
}

static void
parse_proxy_listen(const char *addr, long long port)
{
	struct sockaddr_in	sin;

	if (parse_sockaddr(addr, port, DEFAULT_PROXY_PORT, &sin) == -1)
		return;
	if (seen_proxy) {
		parse_error("proxy listen may be given only once");
		return;
	}
	seen_proxy = 1;
	pconf->proxy_listen = sin;
}

static void
parse_metrics_listen(const char *addr, long long port)
{
	struct sockaddr_in	sin;

	if (parse_sockaddr(addr, port, DEFAULT_METRICS_PORT, &sin) == -1)
		return;
	if (pconf->metrics) {
		parse_error("metrics listen may be given only once");
		return;
	}
	pconf->metrics = 1;
	pconf->metrics_listen = sin;
}

/* "range CIDR" (last NULL) or "range FIRST - LAST". */
static void
parse_range(const char *first, const char *last)
{
	char		buf[2 * INET_ADDRSTRLEN];
	struct in_addr	ina;

	if (last != NULL) {
		if (parse_addr(first, &ina) == -1 ||
		    parse_addr(last, &ina) == -1)
			return;
		snprintf(buf, sizeof(buf), "%s-%s", first, last);
	} else if (strlcpy(buf, first, sizeof(buf)) >= sizeof(buf)) {
		parse_error("invalid range \"%s\"", first);
		return;
	}
	if (conf_parse_range(buf, pconf) == 0)
		return;
	if (errno == EDOM)
		parse_error("%s: host bits set", first);
	else if (errno == ERANGE && last != NULL)
		parse_error("range %s - %s: first address is above the last",
		    first, last);
	else if (errno == ERANGE)
		parse_error("range %s: first address is above the last", first);
	else
		parse_error("invalid range \"%s\"", first);
}

/*
 * "a.b.c.d/len" or "a.b.c.d" (a /32) into p, with the file and line it
 * came from for the journal; -1 on a bad one, already reported.
 */
static int
parse_prefix(const char *s, struct conf_prefix *p)
{
	char		 buf[INET_ADDRSTRLEN + 4], *slash;
	const char	*errstr, *base;
	struct in_addr	 ina;
	uint32_t	 addr, mask;
	long long	 len = 32;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf)) {
		parse_error("invalid prefix \"%s\"", s);
		return (-1);
	}
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		len = strtonum(slash, 0, 32, &errstr);
		if (errstr != NULL || *slash == '\0') {
			parse_error("invalid prefix \"%s\"", s);
			return (-1);
		}
	}
	if (inet_pton(AF_INET, buf, &ina) != 1) {
		parse_error("invalid prefix \"%s\"", s);
		return (-1);
	}
	addr = ntohl(ina.s_addr);
	mask = len == 0 ? 0 : 0xffffffffU << (32 - len);
	if ((addr & ~mask) != 0) {
		parse_error("%s: host bits set", s);
		return (-1);
	}
	memset(p, 0, sizeof(*p));
	p->addr = addr;
	p->len = len;
	base = strrchr(file->name, '/');
	base = base != NULL ? base + 1 : file->name;
	snprintf(p->where, sizeof(p->where), "%s:%d", base, file->lineno);
	return (0);
}

/* "proxy allow PREFIX" and "proxy deny PREFIX": where it may dial. */
static void
parse_proxy_rule(const char *s, int allow)
{
	struct conf_prefix	p;

	if (parse_prefix(s, &p) == -1)
		return;
	if (pconf->proxy_rule_count >= CONF_MAX_PROXY_RULES) {
		parse_error("too many proxy allow and deny lines (max %d)",
		    CONF_MAX_PROXY_RULES);
		return;
	}
	p.allow = allow;
	pconf->proxy_rules[pconf->proxy_rule_count++] = p;
}

/* "allow from PREFIX" or "allow from any": which clients are served. */
static void
parse_client_net(const char *s)
{
	struct conf_prefix	p;

	if (strcmp(s, "any") == 0) {
		pconf->client_any = 1;
		return;
	}
	if (parse_prefix(s, &p) == -1)
		return;
	if (pconf->client_net_count >= CONF_MAX_CLIENT_NETS) {
		parse_error("too many allow from lines (max %d)",
		    CONF_MAX_CLIENT_NETS);
		return;
	}
	p.allow = 1;
	pconf->client_nets[pconf->client_net_count++] = p;
}

static void
parse_path(const char *what, const char *s, char *dst, size_t size)
{
	if (s[0] != '/')
		parse_error("%s \"%s\" is not an absolute path", what, s);
	else if (strlen(s) >= size)
		parse_error("%s path too long (max %zu bytes)", what, size - 1);
	else
		strlcpy(dst, s, size);
}

/*
 * The Redis primary holding the shared map, or one of the Sentinels that
 * know which server it is now: one or the other, by address, since the
 * dns process resolves no name but through its upstreams.
 */
static void
parse_redis(const char *addr, long long port, int sentinel)
{
	struct sockaddr_in	sin;

	if (parse_sockaddr(addr, port, sentinel ? DEFAULT_SENTINEL_PORT :
	    DEFAULT_REDIS_PORT, &sin) == -1)
		return;
	if (sentinel ? pconf->redis.sin_port != 0 :
	    pconf->sentinel_count > 0) {
		parse_error("database redis and database sentinel exclude "
		    "each other");
		return;
	}
	if (!sentinel) {
		if (pconf->redis.sin_port != 0)
			parse_error("database redis may be given only once");
		else
			pconf->redis = sin;
		return;
	}
	if (pconf->sentinel_count == CONF_MAX_SENTINELS) {
		parse_error("too many database sentinel lines (max %d)",
		    CONF_MAX_SENTINELS);
		return;
	}
	pconf->sentinels[pconf->sentinel_count++] = sin;
}

/* Sent by AUTH; a line break or a space would not survive it whole. */
static void
parse_redis_password(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || strlen(s) >= sizeof(pconf->redis_password)) {
		parse_error("database password must be 1 to %zu bytes",
		    sizeof(pconf->redis_password) - 1);
		return;
	}
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] == 0x7f) {
			parse_error("database password holds a control "
			    "character");
			return;
		}
	strlcpy(pconf->redis_password, s, sizeof(pconf->redis_password));
}

static void
parse_name(const char *what, const char *s, char *dst, size_t size)
{
	if (s[0] == '\0')
		parse_error("%s name is empty", what);
	else if (strlen(s) >= size)
		parse_error("%s name too long (max %zu bytes)", what, size - 1);
	else
		strlcpy(dst, s, size);
}

/* "file:line" of the token being read, the file without its directory. */
static void
parse_where(char *buf, size_t len)
{
	const char	*base;

	base = strrchr(file->name, '/');
	base = base != NULL ? base + 1 : file->name;
	snprintf(buf, len, "%s:%d", base, file->lineno);
}

static void
parse_rule_reset(void)
{
	memset(&prule, 0, sizeof(prule));
	plist = -1;
	plist_anon = 0;
}

/* "table <name> ...": the names that follow go to it. */
static void
parse_table(const char *name)
{
	if (prules == NULL)
		return;
	if ((plist = ruleset_table(prules, name, stmt_where)) == -1) {
		if (errno == EEXIST)
			parse_error("table <%s> defined twice", name);
		else if (errno == ENAMETOOLONG)
			parse_error("table name <%s> too long (max %d bytes)",
			    name, RULE_TABLE_NAME_MAX - 1);
		else
			parse_error("table <%s>: %s", name, strerror(errno));
	}
}

/* One name of a list, checked now so that its line is the one blamed. */
static void
parse_list_name(const char *name)
{
	if (prules == NULL)
		return;
	if (plist == -1) {
		if ((plist = ruleset_table(prules, "", stmt_where)) == -1) {
			parse_error("too many tables and lists (max %d)",
			    RULE_MAX_TABLES);
			return;
		}
		plist_anon = 1;
	}
	if (names_add(pcheck, name, plist) == -1) {
		if (errno == EINVAL)
			parse_error("invalid name \"%s\"", name);
		else
			parse_error("\"%s\": %s", name, strerror(errno));
		return;
	}
	if (ruleset_source(prules, plist, SOURCE_NAME, name, stmt_where) == -1)
		parse_error("\"%s\": %s", name, strerror(errno));
}

static void
parse_list_file(const char *path)
{
	if (prules == NULL || plist == -1)
		return;
	if (path[0] != '/') {
		parse_error("table file \"%s\" is not an absolute path", path);
		return;
	}
	if (ruleset_source(prules, plist, SOURCE_FILE, path, stmt_where) == -1)
		parse_error("\"%s\": %s", path, strerror(errno));
}

/* The inline list just read, as a table of its own. */
static int
parse_list_end(void)
{
	int	t = plist;

	plist = -1;
	return (t == -1 ? 0 : t);
}

static int
parse_table_ref(const char *name)
{
	int	t;

	if (prules == NULL)
		return (0);
	if ((t = ruleset_find_table(prules, name)) == -1) {
		parse_error("table <%s> is not defined", name);
		return (0);
	}
	return (t);
}

static void
parse_rule_from(const char *s)
{
	struct conf_prefix	p;

	if (parse_prefix(s, &p) == -1)
		return;
	prule.from_any = 0;
	prule.from_addr = p.addr;
	prule.from_len = p.len;
}

static void
parse_rule(int action, int quick, int table)
{
	if (prules == NULL || errors > 0)
		return;
	prule.action = action;
	prule.quick = quick;
	prule.table = table;
	strlcpy(prule.where, stmt_where, sizeof(prule.where));
	if (action != RULE_ROUTE)
		memset(&prule.route, 0, sizeof(prule.route));
	prule.route.action = action;
	if (ruleset_rule(prules, &prule) == -1)
		parse_error("too many rules (max %d)", RULE_MAX_RULES);
}

/* "via socks5 HOST [port N]" or "via http HOST [port N]". */
static void
parse_via(const char *kind, const char *host, long long port)
{
	struct rule_route	*rt = &prule.route;

	if (rt->via != VIA_DIRECT) {
		parse_error("one via per rule");
		return;
	}
	if (strcmp(kind, "socks5") == 0) {
		rt->via = VIA_SOCKS5;
		if (port == -1)
			port = 1080;
	} else if (strcmp(kind, "http") == 0) {
		rt->via = VIA_HTTP;
		if (port == -1)
			port = 3128;
	} else {
		parse_error("via \"%s\": expected socks5 or http", kind);
		return;
	}
	if (port == 0)
		return;
	if (parse_sockaddr(host, port, 0, &rt->server) == -1)
		parse_error("via %s: invalid address \"%s\"", kind, host);
}

static void
parse_route_auth(const char *user, const char *password)
{
	struct rule_route	*rt = &prule.route;

	if (user[0] == '\0' || strlen(user) >= sizeof(rt->user) ||
	    strlen(password) >= sizeof(rt->password))
		parse_error("user and password: 1 to %zu bytes each",
		    sizeof(rt->user) - 1);
	else {
		strlcpy(rt->user, user, sizeof(rt->user));
		strlcpy(rt->password, password, sizeof(rt->password));
	}
}

static void
parse_route_mark(const char *s)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(s, 1, UINT32_MAX, &errstr);
	if (errstr != NULL && strncmp(s, "0x", 2) == 0) {
		char	*end;

		errno = 0;
		n = strtoll(s + 2, &end, 16);
		if (errno == 0 && *end == '\0' && s[2] != '\0' && n >= 1 &&
		    n <= UINT32_MAX)
			errstr = NULL;
	}
	if (errstr != NULL) {
		parse_error("mark \"%s\": expected 1 to %u", s, UINT32_MAX);
		return;
	}
	prule.route.mark = n;
}

/* A mark or a routing table: 1 to 2^32-1, in decimal or 0x hex. */
static void
parse_tproxy_number(const char *what, const char *s, uint32_t *v)
{
	const char	*errstr;
	char		*end;
	long long	 n;

	n = strtonum(s, 1, UINT32_MAX, &errstr);
	if (errstr != NULL && strncmp(s, "0x", 2) == 0) {
		errno = 0;
		n = strtoll(s + 2, &end, 16);
		if (errno == 0 && *end == '\0' && s[2] != '\0' && n >= 1 &&
		    n <= UINT32_MAX)
			errstr = NULL;
	}
	if (errstr != NULL) {
		parse_error("%s \"%s\": expected 1 to %u", what, s,
		    UINT32_MAX);
		return;
	}
	/* The kernel's own tables: local, main and default. */
	if (v == &pconf->tproxy_table && n >= 253 && n <= 255) {
		parse_error("%s %s is one of the kernel's own", what, s);
		return;
	}
	*v = n;
}

static void
parse_tproxy_check(const char *s)
{
	if (strcmp(s, "no") == 0)
		pconf->tproxy_check_ms = 0;
	else
		parse_duration("tproxy check", s, 0, &pconf->tproxy_check_ms);
}

static void
parse_route_iface(const char *s)
{
	if (s[0] == '\0' || strlen(s) >= sizeof(prule.route.ifname) ||
	    strchr(s, '/') != NULL)
		parse_error("invalid interface name \"%s\"", s);
	else
		strlcpy(prule.route.ifname, s, sizeof(prule.route.ifname));
}

static void
parse_route_source(const char *s)
{
	struct in_addr	ina;

	if (parse_addr(s, &ina) == -1 || ina.s_addr == INADDR_ANY) {
		parse_error("invalid source address \"%s\"", s);
		return;
	}
	prule.route.source.sin_family = AF_INET;
	prule.route.source.sin_addr = ina;
}

/* Whether two tables hold the same names, given the same way. */
static int
parse_same_names(int a, int b)
{
	const struct rule_source	*sa, *sb;
	size_t				 i = 0, j = 0;

	for (;;) {
		while (i < prules->nsources && prules->sources[i].table != a)
			i++;
		while (j < prules->nsources && prules->sources[j].table != b)
			j++;
		if (i == prules->nsources || j == prules->nsources)
			return (i == prules->nsources && j == prules->nsources);
		sa = &prules->sources[i++];
		sb = &prules->sources[j++];
		if (sa->kind != sb->kind || strcmp(ruleset_text(prules, sa),
		    ruleset_text(prules, sb)) != 0)
			return (0);
	}
}

/*
 * "dns upstream ADDR [port N] [tls [name H]] for NAMES": lines for the
 * same names, be they a table or the same inline list, make one set of
 * upstreams.
 */
static void
parse_split(const char *addr, long long port, const char *name, int table)
{
	struct rule_upstream	 u, *g;
	size_t			 i;

	if (prules == NULL || port == 0 || errors > 0)
		return;
	memset(&u, 0, sizeof(u));
	if (parse_upstream_addr(addr, port, name, &u.upstream[0]) == -1)
		return;
	for (i = 0; i < prules->nupstreams; i++) {
		g = &prules->upstreams[i];
		if (g->table != table && (table == RULE_TABLE_ANY ||
		    g->table == RULE_TABLE_ANY ||
		    prules->tables[table].name[0] != '\0' ||
		    prules->tables[g->table].name[0] != '\0' ||
		    !parse_same_names(g->table, table)))
			continue;
		if (g->count >= CONF_MAX_UPSTREAM) {
			parse_error("too many upstreams for these names "
			    "(max %d)", CONF_MAX_UPSTREAM);
			return;
		}
		g->upstream[g->count++] = u.upstream[0];
		return;
	}
	u.table = table;
	u.count = 1;
	strlcpy(u.where, stmt_where, sizeof(u.where));
	if (ruleset_upstream(prules, &u) == -1)
		parse_error("too many split DNS lines");
}
