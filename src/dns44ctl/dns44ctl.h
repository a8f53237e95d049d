/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns44ctl.h: what the pieces of dns44ctl share: the output's form and
 * the formatting of a mapping, for show map and dump alike.
 */

#ifndef DNS44CTL_H
#define DNS44CTL_H

#include <stddef.h>

struct ctl_map_entry;
struct dns44_conf;

extern int	jflag;		/* JSON instead of text */
extern size_t	nshown;		/* of a listing, for the punctuation */

/* dns44ctl.c */
void	show_entry(const struct ctl_map_entry *);

/* dump.c */
int	dump_main(const struct dns44_conf *, const char *);

#endif /* DNS44CTL_H */
