/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_msg.c: the message decoder every process runs on what its peers
 * send.  A message it accepts has a known type, the length its type
 * allows, and a payload the type's check passed.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct msg	m;
	int		fd;

	/* The first byte says whether an fd came along. */
	if (len == 0)
		return (0);
	fd = data[0] & 1 ? 1000 : -1;
	if (msg_decode(data + 1, len - 1, fd, &m) == 0) {
		if (m.hdr.type == MSG_NONE || m.hdr.type >= MSG_TYPE_MAX ||
		    m.len != len - 1 - MSG_HDR_SIZE ||
		    m.len > MSG_MAX_PAYLOAD)
			abort();
		if (strcmp(msg_type_name(m.hdr.type), "unknown") == 0)
			abort();
	}
	return (0);
}
