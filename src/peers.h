/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * peers.h: the dns process's channels to the proxy workers.
 */

#ifndef PEERS_H
#define PEERS_H

#include <stddef.h>
#include <stdint.h>

struct chan;
struct msg;

/* peers.c */
void	peers_init(const int *, int, void (*)(struct chan *, struct msg *),
	    void (*)(struct chan *, int));
int	peers_count(void);
int	peers_broadcast(uint32_t, uint32_t, const void *, size_t);
void	peers_flush(int);
size_t	peers_queued(void);
int	peers_forward(uint32_t, uint32_t, const void *, size_t);
int	peers_merge(struct msg *);

#endif /* PEERS_H */
