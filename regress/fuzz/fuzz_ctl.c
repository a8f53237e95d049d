/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_ctl.c: what a control client sends: the frame through the decoder,
 * then a request's argument the way the dns process reads it (a name or
 * an address).  Accepted strings are terminated; names come out in normal
 * form.
 */

#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns44.h"
#include "map.h"
#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct msg	 m;
	struct in_addr	 in;
	char		 name[WIRE_TEXT_MAX + 2];
	const char	*arg;
	size_t		 i;

	if (msg_decode(data, len, -1, &m) == -1)
		return (0);
	switch (m.hdr.type) {
	case MSG_CTL_SHOW_MAP:
	case MSG_CTL_LOOKUP:
	case MSG_CTL_FLUSH:
		arg = m.data;
		if (memchr(arg, '\0', m.len) == NULL)
			abort();
		if (inet_pton(AF_INET, arg, &in) == 1)
			break;
		if (map_normalize(arg, name, sizeof(name)) == 0) {
			if (strlen(name) > WIRE_TEXT_MAX)
				abort();
			for (i = 0; name[i] != '\0'; i++)
				if (isupper((unsigned char)name[i]) ||
				    name[i] <= ' ' || name[i] > '~')
					abort();
		}
		break;
	default:
		break;
	}
	return (0);
}
