#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# map.sh: the map alone, without the daemon or the network (mapbench.c):
# a new file filled with MAP_NAMES (1 000 000) names in a /12, time per
# insert; the file loaded again as at start-up, its time and the resident
# memory after it; name -> address and address -> name lookups per
# second; 100 000 answers spread over the file and their sync, and the
# resident memory after them.  mem.sh measures the same map inside the
# dns process, filled over DNS.
#
# Environment: MAPBENCH, the mapbench program (make bench builds it and
# sets it; default: bench/mapbench beside DNS44's src/).

. "$(dirname "$0")/lib.sh"
b_setup

: "${MAPBENCH:=$(dirname "$DNS44")/../bench/mapbench}"
[ -x "$MAPBENCH" ] || die "no $MAPBENCH (make bench builds it)"
if [ "$BENCH_QUICK" = 1 ]; then
	: "${MAP_NAMES:=100000}"
else
	: "${MAP_NAMES:=1000000}"
fi

log "mapbench with $MAP_NAMES names"
"$MAPBENCH" -n "$MAP_NAMES" "$B_TMP/map.tdb" >"$B_TMP/figures" ||
    die "mapbench failed"
sed 's/^/    /' "$B_TMP/figures" >&2

# fig KEY [DECIMALS]: mapbench's figure KEY, rounded (to a whole number
# unless told).
fig() {
	awk -v k="$1" -v d="${2:-0}" '$1 == k { printf "%.*f\n", d, $2 }' \
	    "$B_TMP/figures"
}

result "map insert, $MAP_NAMES new names" "$(fig insert 2)" us - NA -
result "map load of $MAP_NAMES names" "$(fig load 2)" s - NA "value<=2"
result "map RSS after the load" "$(fig rss)" MiB - NA "value<=200"
result "map lookups, name -> address" "$(fig lookup_name)" /s - NA -
result "map lookups, address -> name" "$(fig lookup_addr)" /s - NA -
result "map RSS after answers and their sync" "$(fig rss_after_sync)" MiB \
    - NA "value<=200"
exit 0
