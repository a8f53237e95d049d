/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * What the grammar (parse.y), its lexer (parse_lex.c) and the checks of
 * its values (parse_value.c) share: the configuration and the rules being
 * filled, the files being read, and the reporting of errors at the line
 * being read.
 */

#ifndef PARSE_LOCAL_H
#define PARSE_LOCAL_H

struct names;

/* parse.y */
extern struct dns44_conf	*pconf;		/* the copy being filled */
extern struct ruleset		*prules;	/* the domain rules read */
extern struct names		*pcheck;	/* inline names, checked */

/* parse_lex.c */
extern int			 perrors;	/* of this parse */

int	 yylex(void);
void	 yyerror(const char *);
void	 parse_lex_reset(void);
void	 parse_lex_end(void);
int	 parse_pushfile(const char *);
void	 parse_include(const char *);
void	 parse_macro(const char *, const char *);
void	 parse_error(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 parse_where(char *, size_t);

/* parse_value.c */
extern struct rule		 prule;		/* the rule in hand */
extern int			 parse_tls;	/* of the upstream being read */
extern char			 stmt_where[CONF_WHERE_MAX];	/* its line */

void	 parse_value_reset(void);
int	 parse_yesno(const char *, const char *, int *);
int	 parse_number(const char *, const char *, long long,
		    long long, long long *);
int	 parse_duration(const char *, const char *, int, uint32_t *);
void	 parse_dns_listen(const char *, long long);
void	 parse_upstream(const char *, long long, const char *);
void	 parse_proxy_listen(const char *, long long);
void	 parse_metrics_listen(const char *, long long);
void	 parse_redis(const char *, long long, int);
void	 parse_redis_password(const char *);
void	 parse_range(const char *, const char *);
void	 parse_path(const char *, const char *, char *, size_t);
void	 parse_name(const char *, const char *, char *, size_t);
void	 parse_proxy_rule(const char *, int);
void	 parse_client_net(const char *);
void	 parse_table(const char *);
void	 parse_list_name(const char *);
void	 parse_list_file(const char *);
int	 parse_list_end(void);
int	 parse_table_ref(const char *);
void	 parse_rule_from(const char *);
void	 parse_rule(int, int, int);
void	 parse_via(const char *, const char *, long long);
void	 parse_route_mark(const char *);
void	 parse_route_iface(const char *);
void	 parse_route_source(const char *);
void	 parse_route_auth(const char *, const char *);
void	 parse_split(const char *, long long, const char *, int);
void	 parse_rule_reset(void);
void	 parse_tproxy_number(const char *, const char *, uint32_t *);
void	 parse_tproxy_check(const char *);

#endif /* PARSE_LOCAL_H */
