#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-pin: an open connection pins its name's address.  With a range of
# 14 addresses, a TTL of 1 s and a reuse grace of 1 s, a name with an open
# connection keeps its address (A and PTR) after TTL and grace have passed
# while other names fill the range, and new names get SERVFAIL rather
# than its address.  Once the connection closed, the address can go to a
# new name again.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve halfserver 7000
pw_start d <<EOF2
range 172.24.0.0/28
dns ttl 1
reuse-grace 1s
EOF2

pin=$(cl_q pin.test A)
case $pin in
172.24.0.*)	ok "pin.test is $pin" ;;
*)		die "pin.test: \"$pin\"" ;;
esac
ip netns exec "$CL" $PW_PROBE hold pin.test 7000 60 >/dev/null 2>&1 &
hold=$!
T_PIDS="$T_PIDS $hold"
logged "proxy: \[\+\] $(flow TCP - pin.test "$pin" 7000)$(to_w 7000)\$" ||
    die "the connection to pin.test did not open"

# fill FIRST LAST: ask for names FIRST to LAST in one go (kdig asks them
# one after the other, quickly); "STATUS ADDRESS" a line.
fill() {
	set -- $(seq -f "f%g.test" "$1" "$2")
	in_cl kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 "$@" 2>&1 | awk '
	    /status:/ { if (st != "") print st, a; a = "-"
		st = $0; sub(/.*status: /, "", st); sub(/;.*/, "", st) }
	    $1 !~ /^;/ && $4 == "A" { a = $5 }
	    END { if (st != "") print st, a }'
}

# TTL and grace over: only the open connection keeps pin.test's address.
sleep 2.5
fill 1 16 >"$T_TMP/fill"
expect "new names given an address" \
    "$(grep -c '^NOERROR 172' "$T_TMP/fill")" 13
expect "new names answered SERVFAIL" "$(grep -c '^SERVFAIL' "$T_TMP/fill")" 3
grep -q " $pin\$" "$T_TMP/fill" && fail "a new name took pin.test's address"
expect "pin.test A while pinned" "$(cl_q pin.test A)" "$pin"
expect "PTR of $pin while pinned" "$(cl_q -x "$pin")" pin.test.

# Closed: after TTL and grace, new names take every address, its too.
kill "$hold"
logged "proxy: \[-\] $(flow TCP - pin.test "$pin" 7000) sent 0 " ||
    fail "the connection to pin.test did not close"
sleep 2.5
fill 20 33 >"$T_TMP/fill2"
expect "new names given an address after the release" \
    "$(grep -c '^NOERROR 172' "$T_TMP/fill2")" 14
ptr=$(cl_q -x "$pin")
case $ptr in
f*.test.)	ok "$pin went to $ptr" ;;
*)		fail "$pin is still \"$ptr\"" ;;
esac

pw_stop
exit $T_FAILED
