/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dns.h: what the files of the dns process share and no other process
 * sees: dns.c's map and counters, which the control socket reads and
 * changes, and the control socket's entry points.
 */

#ifndef DNS_H
#define DNS_H

#include "msg.h"
#include "proc.h"

struct map;

/* dns.c */
extern struct map		*dns_map;
extern struct ctl_stats_dns	 dns_stats;

/* control.c */
void	control_init(int, struct chan *, struct chan *);
void	control_relay(struct msg *);
void	control_shutdown(void);

#endif /* DNS_H */
