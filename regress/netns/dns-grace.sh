#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-grace: the reuse grace holds an address well past its ttl.  A range
# of four addresses, ttl 1 s, reuse-grace 6 s: once the four are taken, a
# fifth name gets SERVFAIL while every answer is younger than ttl + grace
# (7 s), even long after the ttl; past it, the fifth name gets the least
# recently answered address, and a sixth still gets SERVFAIL while the
# others, answered again meanwhile, are within their grace.  Last-answer
# times are whole seconds, so each check keeps a second from the limit.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq

dw_start g <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
range 172.24.0.1 - 172.24.0.4
dns ttl 1
reuse-grace 6s
EOF

expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# status NAME: the rcode of an A query, "none" if no reply came.
status() {
	s=$(qfull "$1" A | rcode_of)
	echo "${s:-none}"
}

# in4 ADDR: one of 172.24.0.1 .. 172.24.0.4.
in4() {
	echo "$1" | grep -qx '172\.24\.0\.[1-4]'
}

t0=$(date +%s%N)
i=1
while [ $i -le 4 ]; do
	a=$(q "g$i.test" A)
	in4 "$a" || die "g$i.test: \"$a\": $(tail -n 5 "$DLOG")"
	eval "A$i=\$a"
	i=$((i + 1))
done
expect "four names, four addresses" \
    "$(printf '%s\n' "$A1" "$A2" "$A3" "$A4" | sort -u | wc -l)" 4

# at MS: sleep until MS milliseconds after the four were answered.
at() {
	ms=$(( $1 - ($(date +%s%N) - t0) / 1000000 ))
	[ $ms -gt 0 ] && sleep "$(awk -v m=$ms 'BEGIN { print m / 1000 }')"
	return 0
}

# 2.5 s on: every answer older than the ttl, none older than ttl + grace.
at 2500
expect "a fifth name 2.5s on (ttl 1s, grace 6s)" "$(status g5.test)" SERVFAIL
# g1.test stays the least recently answered.
at 3000
for i in 2 3 4; do
	eval "want=\$A$i"
	expect "g$i.test again" "$(q "g$i.test" A)" "$want"
done

# 8.5 s on: g1.test answered more than ttl + grace ago, the others not
# (5.5 s ago).
at 8500
expect "a fifth name 8.5s on: g1.test's address" "$(q g5.test A)" "$A1"
expect "a sixth name: the others are within their grace" \
    "$(status g6.test)" SERVFAIL
expect "PTR $A1" "$(q -x "$A1")" g5.test.
expect "g2.test kept its address" "$(q g2.test A)" "$A2"

expect "the dns process" "$(child_pid "$DP" dns)" "$DD"
dw_stop "$DP"
exit $T_FAILED
