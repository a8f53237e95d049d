/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/* parent.h: what the parent's files share. */

#ifndef PARENT_H
#define PARENT_H

struct chan;
struct msg;
struct ruleset;

/* parent_sock.c */
void	parent_reply_sock(struct chan *, struct msg *);
void	parent_dial_sock(struct chan *, struct msg *, struct ruleset *);

#endif /* PARENT_H */
