/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns44ctl.h: what the pieces of dns44ctl share: the output's form and
 * its formatting (show.c), for the answers and dump alike.
 */

#ifndef DNS44CTL_H
#define DNS44CTL_H

#include <stddef.h>

struct ctl_conn;
struct ctl_map_entry;
struct ctl_rule;
struct ctl_stats_dns;
struct ctl_stats_proxy;
struct ctl_status;
struct ctl_tested;
struct ctl_upstream;
struct dns44_conf;

extern int	jflag;		/* JSON instead of text */
extern size_t	nshown;		/* of a listing, for the punctuation */

/* show.c */
void	show_entry(const struct ctl_map_entry *);
void	show_conn(const struct ctl_conn *);
void	show_upstream_add(const struct ctl_upstream *);
void	show_stats(const struct ctl_stats_dns *,
	    const struct ctl_stats_proxy *);
void	show_status(const struct ctl_status *);
void	show_rule(const struct ctl_rule *);
void	show_tested(const struct ctl_tested *);

/* dump.c */
int	dump_main(const struct dns44_conf *, const char *);

#endif /* DNS44CTL_H */
