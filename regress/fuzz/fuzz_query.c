/*
 * fuzz_query.c: a packet from a client, with a map behind it: whatever
 * the bytes, answer_query() answers, forwards or stays silent, and any
 * reply it makes is a DNS message no larger than allowed.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct map		*fmap;
static struct dns44_conf	 fconf;

static void
fuzz_init(void)
{
	char	dir[] = "/tmp/dns44-fuzz.XXXXXX", path[64], err[256];

	conf_defaults(&fconf);
	fconf.range_first = 0xac180001;		/* a /28: full soon */
	fconf.range_last = 0xac18000e;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/map.tdb", dir);
	if ((fmap = map_open(path, fconf.range_first, fconf.range_last, NULL,
	    NULL, err, sizeof(err))) == NULL)
		abort();
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct answer	 a;
	ldns_pkt	*r = NULL;

	if (fmap == NULL)
		fuzz_init();
	answer_query(fmap, &fconf, data, len, len > 0 && (data[0] & 1),
	    1000 + len, &a);
	switch (a.action) {
	case ANSWER_DROP:
		break;
	case ANSWER_REPLY:
		if (a.len > a.limit || a.len < 12)
			abort();
		if (a.len > 12 &&
		    ldns_wire2pkt(&r, a.wire, a.len) != LDNS_STATUS_OK)
			abort();
		ldns_pkt_free(r);
		free(a.wire);
		break;
	case ANSWER_FORWARD:
		ldns_pkt_free(a.query);
		break;
	}
	return (0);
}
