/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/* answer_local.h: what answer.c and answer_relay.c share. */

#ifndef ANSWER_LOCAL_H
#define ANSWER_LOCAL_H

/* answer.c */
ldns_pkt	*answer_reply_new(const ldns_pkt *, int);
int		 answer_wire(ldns_pkt *, size_t, uint8_t **, size_t *);

#endif /* ANSWER_LOCAL_H */
