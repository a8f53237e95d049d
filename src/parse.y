/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * parse.y: the grammar of dns44.conf.  It fills a copy of the
 * configuration, which conf_parse() hands back only when every line was
 * right.  The tokens come from parse_lex.c, which also reports the errors
 * (to stderr as file:line: message; parsing goes on to report them all);
 * what each value means and whether it is right is parse_value.c's.
 */

%{
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "log.h"
#include "rules.h"
#include "parse_local.h"

/* The grammar calls these by their yacc names (parse_lex.c). */
#define YYLEX_IS_DECLARED	1
#define YYERROR_IS_DECLARED	1

struct dns44_conf	*pconf;
struct ruleset		*prules;
struct names		*pcheck;
static struct ruleset	*parsed_rules;	/* of the last good parse */
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
	parse_value_reset();
	parse_lex_reset();

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
		perrors++;

	parse_lex_end();
	names_free(pcheck);
	pcheck = NULL;
	if (perrors == 0) {
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
	return (perrors == 0 ? 0 : -1);
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
