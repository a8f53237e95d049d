#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# names.sh: the name sets of the domain rules alone, without the daemon or
# the network (namesbench.c): a list of NAMES_COUNT (1 000 000) names of
# about 20 characters, the time names_load() takes on it and the growth
# of the resident memory it causes, then matches per second of the listed
# names, of names below them and of names not listed.
#
# Environment: NAMESBENCH, the namesbench program (make bench builds it
# and sets it; default: bench/namesbench beside DNS44's src/).

. "$(dirname "$0")/lib.sh"
b_setup

: "${NAMESBENCH:=$(dirname "$DNS44")/../bench/namesbench}"
[ -x "$NAMESBENCH" ] || die "no $NAMESBENCH (make bench builds it)"
if [ "$BENCH_QUICK" = 1 ]; then
	: "${NAMES_COUNT:=100000}"
else
	: "${NAMES_COUNT:=1000000}"
fi

log "namesbench with $NAMES_COUNT names"
"$NAMESBENCH" -n "$NAMES_COUNT" "$B_TMP/names.txt" >"$B_TMP/figures" ||
    die "namesbench failed"
sed 's/^/    /' "$B_TMP/figures" >&2

# fig KEY [DECIMALS]: namesbench's figure KEY, rounded (to a whole number
# unless told).
fig() {
	awk -v k="$1" -v d="${2:-0}" '$1 == k { printf "%.*f\n", d, $2 }' \
	    "$B_TMP/figures"
}

result "names load of $NAMES_COUNT names" "$(fig load 2)" s - NA "value<=2"
result "names RSS growth after the load" "$(fig rss_growth)" MiB - NA \
    "value<=100"
result "names matches, listed names" "$(fig match_listed)" /s - NA -
result "names matches, names below them" "$(fig match_below)" /s - NA -
result "names matches, names not listed" "$(fig match_unlisted)" /s - NA -
exit 0
