/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * fuzz_conf.c: the configuration parser on any file: it accepts or it
 * refuses with a message, and what it accepts passes or fails conf_check
 * and prints.
 */

#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns44.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fpath[64];
static int	fnull = -1, fstderr = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dns44_conf	 c;
	FILE			*f;
	char			 err[256];
	int			 fd, rv;

	if (fpath[0] == '\0') {
		strlcpy(fpath, "/tmp/dns44-fuzz-conf.XXXXXX", sizeof(fpath));
		if ((fd = mkstemp(fpath)) == -1)
			abort();
		close(fd);
		if ((fnull = open("/dev/null", O_WRONLY)) == -1 ||
		    (fstderr = dup(2)) == -1)
			abort();
	}
	if ((f = fopen(fpath, "w")) == NULL)
		abort();
	fwrite(data, 1, len, f);
	fclose(f);
	conf_defaults(&c);
	/* Errors are expected: keep them off stderr, which reports crashes. */
	fflush(stderr);
	dup2(fnull, 2);
	rv = conf_parse(&c, fpath, 0);
	fflush(stderr);
	dup2(fstderr, 2);
	if (rv == 0 && conf_check(&c, err, sizeof(err)) == 0) {
		if ((f = fopen("/dev/null", "w")) == NULL)
			abort();
		conf_print(f, &c);
		fclose(f);
	}
	return (0);
}
