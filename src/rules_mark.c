/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * rules_mark.c: which firewall marks a ruleset names.  The parent makes
 * a dialling socket with SO_MARK only for a mark that a route rule of its
 * configuration names, so that a compromised proxy cannot mark its
 * traffic into any other routing table or firewall class.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* Whether a route rule of rs sets this mark; mark 0 is no mark at all. */
int
ruleset_has_mark(const struct ruleset *rs, uint32_t mark)
{
	size_t	i;

	if (rs == NULL || mark == 0)
		return (0);
	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].action == RULE_ROUTE &&
		    rs->rules[i].route.mark == mark)
			return (1);
	return (0);
}
