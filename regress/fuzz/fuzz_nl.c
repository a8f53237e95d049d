/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_nl.c: the parent's reading of netlink address messages
 * (src/ifaddr.c) on any bytes.  Read with and without a list, with and
 * without a sequence number to follow, it says the same of them; the
 * list holds no more than its room, no prefix longer than its family's
 * address, and sorts into order without duplicates.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int		 fnull = -1, fstderr = -1;
static uint32_t		 aligned[64 * 1024 / 4];
static struct msg_ifaddrs list;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct nlmsghdr	*nlh;
	uint32_t		 i, seq = 0;
	int			 r[2], done[3] = { 0, 0, 0 };
	int			 seen[3] = { 0, 0, 0 };

	if (len > sizeof(aligned))
		return (0);
	if (fnull == -1 && ((fnull = open("/dev/null", O_WRONLY)) == -1 ||
	    (fstderr = dup(2)) == -1))
		abort();
	/* The kernel's buffers are aligned; a read into ours is too. */
	memcpy(aligned, data, len);
	if (len >= sizeof(*nlh)) {
		nlh = (const struct nlmsghdr *)aligned;
		seq = nlh->nlmsg_seq;
	}
	memset(&list, 0, sizeof(list));
	/* Bad messages are expected: keep their warnings off stderr. */
	fflush(stderr);
	dup2(fnull, 2);
	r[0] = ifaddr_parse((const unsigned char *)aligned, len, seq, NULL,
	    &done[0], &seen[0]);
	r[1] = ifaddr_parse((const unsigned char *)aligned, len, seq, &list,
	    &done[1], &seen[1]);
	/* Every message, whatever its sequence number. */
	(void)ifaddr_parse((const unsigned char *)aligned, len, 0, NULL,
	    &done[2], &seen[2]);
	fflush(stderr);
	dup2(fstderr, 2);
	if (r[0] != r[1] || (r[0] != 0 && r[0] != -1) ||
	    done[1] > done[0] || seen[1] > seen[0] ||
	    (list.count + list.count6 > 0 && !seen[1]))
		abort();
	if (list.count > MSG_MAX_IFADDRS || list.count6 > MSG_MAX_IFADDRS6)
		abort();
	for (i = 0; i < list.count; i++)
		if (list.addrs[i].prefixlen > 32)
			abort();
	for (i = 0; i < list.count6; i++)
		if (list.addrs6[i].prefixlen > 128)
			abort();
	ifaddr_sort(&list);
	for (i = 1; i < list.count; i++)
		if (ntohl(list.addrs[i - 1].local) > ntohl(list.addrs[i].local) ||
		    memcmp(&list.addrs[i - 1], &list.addrs[i],
		    sizeof(list.addrs[i])) == 0)
			abort();
	for (i = 1; i < list.count6; i++)
		if (memcmp(&list.addrs6[i - 1].local, &list.addrs6[i].local,
		    sizeof(list.addrs6[i].local)) > 0 ||
		    memcmp(&list.addrs6[i - 1], &list.addrs6[i],
		    sizeof(list.addrs6[i])) == 0)
			abort();
	return (0);
}
