/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * proc.h: entry points of the three process roles and the helpers the
 * parent uses to make their sockets and drop their privileges.
 */

#ifndef PROC_H
#define PROC_H

#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <event.h>

#include "dns44.h"
#include "msg.h"

#define PROC_PARENT_FD	3	/* a child's channel to the parent */

/* A message channel driven by libevent. */
struct chan {
	struct msg_chan	  mc;
	struct event	  ev;
	short		  events;
	const char	 *name;
	void		(*dispatch)(struct chan *, struct msg *);
	void		(*closed)(struct chan *, int);	/* errno, 0 at EOF */
	void		(*drained)(struct chan *);	/* may be NULL */
	void		 *arg;
};

/* What a child receives from the parent before it drops privileges. */
struct proc_start {
	struct dns44_conf	conf;
	int			dns_udp[CONF_MAX_DNS_LISTEN];
	int			dns_tcp[CONF_MAX_DNS_LISTEN];
	int			ndns_udp;
	int			ndns_tcp;
	int			proxy_tcp;
	int			proxy_udp;
	int			control;
	int			peer;		/* a proxy worker's */
	int			peers[CONF_MAX_WORKERS]; /* the dns process's */
	int			npeers;
	int			metrics;	/* -1: none */
	struct msg_ifaddrs	ifaddrs;	/* the gateway's addresses */
	struct ruleset		*rules;		/* the dns process's */
};

/* A ruleset arriving from the parent in pieces (MSG_RULES*). */
struct rules_rx {
	unsigned char		*buf;
	size_t			 len;
	struct ruleset		*rs;		/* once decoded */
};

/*
 * The command line: what the parent is asked to do, and the seed's flags,
 * which override the file each time it is read.  The strings are argv's.
 */
struct flags {
	const char	*conf_file;
	int		 conf_file_given;
	enum dns44_role	 role;
	int		 check;		/* -n */
	int		 foreground;	/* -d */
	int		 verbose;	/* -v, -debug */
	const char	*db_path;
	const char	*dial_timeout;
	const char	*dns_bind;
	const char	*dns_upstream;
	const char	*ip_range;
	const char	*proxy_bind;
	const char	*ttl;
};

/* dns44.c */
extern struct dns44_conf	*conf;

/* ifaddr.c */
void	ifaddr_init(void (*)(const struct msg_ifaddrs *));
int	ifaddr_load(void);
const struct msg_ifaddrs *ifaddr_get(void);
size_t	ifaddr_nl_whole(const unsigned char *, size_t);
int	ifaddr_parse(const unsigned char *, size_t, uint32_t,
	    struct msg_ifaddrs *, int *, int *);
void	ifaddr_sort(struct msg_ifaddrs *);

/* dbdir.c */
void	dbdir_prepare(const char *, const char *, uid_t, gid_t, char *,
	    size_t);
void	dbdir_lock(const char *);
/* plumb.c */
void	plumb_start(void);
void	plumb_stop(void);
int	plumb_active(void);

/* selfcheck.c */
void	selfcheck_init(void);
void	selfcheck_reload(void);
int	selfcheck_result(char *, size_t, int64_t *);

/* flags.c */
void	flags_parse(int, char **, struct flags *);
int	flags_apply(const struct flags *, struct dns44_conf *);

/* notify.c */
void	notify_init(int, int (*)(uint32_t));
void	notify_child_env(void);
void	notify_alive(int, uint32_t, const struct msg_alive *);
void	notify_reloading(void);
void	notify_reloaded(int);
void	notify_stopping(void);

/* proc.c */
void	chan_init(struct chan *, int, enum msg_rx, const char *,
	    void (*)(struct chan *, struct msg *), void (*)(struct chan *, int),
	    void *);
void	chan_close(struct chan *);
void	chan_flush(struct chan *, int);
int	chan_compose(struct chan *, uint32_t, uint32_t, int, const void *,
	    size_t);
void	proc_start_recv(int, struct proc_start *);
int	proc_rules_send(struct chan *, const struct ruleset *);
struct ruleset *proc_rules_recv(struct rules_rx *, struct msg *);
void	proc_log_timer(void);
void	proc_title_init(int, char **);
void	proc_title(const char *);
void	proc_chan_lost(struct chan *, int) __attribute__((__noreturn__));
void	proc_peer_closed(struct chan *, int) __attribute__((__noreturn__));
#ifdef DNS44_REGRESS
void	proc_sandbox_probe(enum dns44_role);
#else
#define proc_sandbox_probe(role)	do { (void)(role); } while (0)
#endif

/* dns.c */
void	dns_main(int, int) __attribute__((__noreturn__));

/* proxy.c */
void	proxy_main(int, int) __attribute__((__noreturn__));

/* privdrop.c */
void	privdrop_child(const char *, const char *, int);
void	privdrop_parent(void);
int	privdrop_lookup(const char *, int, uid_t *, gid_t *);
int	privdrop_check(const struct dns44_conf *);

/* sandbox.c */
void	sandbox_child(enum dns44_role);
int	sandbox_leakcheck(void);
void	sandbox_exec_env(void);

/* sock.c */
#define SOCK_TRANSPARENT	0x01
#define SOCK_REUSEPORT		0x02
int	sock_udp(const struct sockaddr_in *, int);
int	sock_tcp(const struct sockaddr_in *, int, int);
int	sock_unix(const char *, mode_t, gid_t);
int	sock_reply(const struct sockaddr_in *);

#endif /* PROC_H */
