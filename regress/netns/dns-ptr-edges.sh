#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-ptr-edges: PTR at the ends of the range.  A range whose every
# address is taken, so that its first and last usable addresses are
# certainly mapped: their PTRs name their names.  The addresses just
# outside it are not the map's: their PTRs are forwarded and the
# upstream's answer relayed.  Both forms of range: a CIDR block (its
# network and broadcast addresses outside) and first - last.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
# The upstream names 172.24.0.N oN.outside.test, for the N outside.
dw_dnsmasq \
    --ptr-record=0.0.24.172.in-addr.arpa,o0.outside.test \
    --ptr-record=7.0.24.172.in-addr.arpa,o7.outside.test \
    --ptr-record=8.0.24.172.in-addr.arpa,o8.outside.test \
    --ptr-record=13.0.24.172.in-addr.arpa,o13.outside.test

expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# edges RANGE FIRST LAST BELOW ABOVE: a daemon on RANGE, whose usable
# addresses are 172.24.0.FIRST .. LAST; the PTRs of BELOW and ABOVE, just
# outside, are the upstream's.
edges() {
	dw_start "r$2" <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
range $1
EOF
	n=$(($3 - $2 + 1))
	: >"$T_TMP/r$2.map"
	i=1
	while [ $i -le $n ]; do
		a=$(q "e$i.r$2.test" A)
		echo "$a e$i.r$2.test." >>"$T_TMP/r$2.map"
		i=$((i + 1))
	done
	expect "$1: $n names, $n addresses" \
	    "$(awk '{ print $1 }' "$T_TMP/r$2.map" | sort -u |
	    grep -c '^172\.24\.0\.')" "$n"
	expect "$1: the range is full" \
	    "$(qfull "full.r$2.test" A | rcode_of)" SERVFAIL
	for e in "$2" "$3"; do
		want=$(awk -v a="172.24.0.$e" '$1 == a { print $2 }' \
		    "$T_TMP/r$2.map")
		[ -n "$want" ] || fail "$1: no name got 172.24.0.$e"
		expect "$1: PTR 172.24.0.$e" "$(q -x "172.24.0.$e")" "$want"
		expect "$1: PTR 172.24.0.$e over TCP" \
		    "$(q +tcp -x "172.24.0.$e")" "$want"
	done
	for e in "$4" "$5"; do
		expect "$1: PTR 172.24.0.$e (outside): forwarded" \
		    "$(q -x "172.24.0.$e")" "o$e.outside.test."
	done
	dw_stop "$DP"
}

edges 172.24.0.0/29 1 6 0 7
edges "172.24.0.9 - 172.24.0.12" 9 12 8 13
exit $T_FAILED
