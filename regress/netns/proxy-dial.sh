#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-dial: what the client sees when the proxy cannot reach the real
# server.  A closed port resets the client at once; an address nobody has
# (ARP fails) gives up after the dial timeout; loop protection refuses
# to dial the proxy's own listener or a DNS port on loopback; an address
# of the range that no name has, and a name whose only address lies in
# the range, reset at once; beyond the connection limit a client is
# reset at once.  Each says why in the log.  One proxy worker: the
# limit and the rate of the log lines are each worker's (proxy-workers.sh
# has the limits over two).

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq --host-record=inrange.test,172.24.1.1
pw_serve halfserver 7000
pw_start d <<EOF2
proxy dial-timeout 2s
proxy connections 3
proxy workers 1
EOF2

# closed HOST PORT: "reset|eof|timeout SECONDS" as the client saw it.
closed() {
	in_cl $PW_PROBE closed "$@" 2>&1
}

# within WHAT OUTPUT MIN MAX: a reset or EOF that came between MIN and MAX
# seconds.
within() {
	set -- "$1" "$2" "$3" "$4" $2
	case $5 in
	reset|eof)	;;
	*)		fail "$1: $2"; return ;;
	esac
	if awk -v t="$6" -v lo="$3" -v hi="$4" 'BEGIN {
	    exit !(t >= lo && t < hi) }'; then
		ok "$1: $2"
	else
		fail "$1: $2, not within ${3}s and ${4}s"
	fi
}

site=$(cl_q site.test A)
within "closed port" "$(closed site.test 81)" 0 2
logged "proxy: $(flow TCP - site.test "$site" 81): $(re \
    "dial $PW_W:81: Connection refused")\$" &&
    ok "closed port: logged" || fail "closed port: not logged"

hole=$(cl_q hole.test A)
within "unreachable address" "$(closed hole.test 80)" 1.8 3.5
logged "proxy: $(flow TCP - hole.test "$hole" 80): $(re \
    "dial 10.46.2.99:80: timed out")\$" &&
    ok "unreachable address: logged as timed out" ||
    fail "unreachable address: $(grep hole.test "$DLOG")"

loop=$(cl_q loop.test A)
within "the proxy's own listener" "$(closed loop.test 4480)" 0 2
logged "$(flow TCP - loop.test "$loop" 4480): $(re \
    "dial 127.0.0.1:4480: not dialling the proxy's own listener")" &&
    ok "the proxy's own listener: refused" ||
    fail "the proxy's own listener: $(grep loop.test "$DLOG")"
within "a DNS port on loopback" "$(closed loop.test 53)" 0 2
logged "$(flow TCP - loop.test "$loop" 53): $(re \
    "dial 127.0.0.1:53: not dialling a DNS port on loopback")" &&
    ok "a DNS port on loopback: refused" ||
    fail "a DNS port on loopback: $(grep loop.test "$DLOG")"

within "an address no name has" "$(closed 172.24.255.254 80)" 0 2
logged "$(re "[172.24.255.254]:80: no domain has this address")\$" &&
    ok "an address no name has: logged" ||
    fail "an address no name has: not logged"

# A flood of those: at most one line a second, the rest counted.
sleep 1
t0=$(date +%s%N)
expect "a flood of 50" "$(in_cl $PW_PROBE resets 172.24.255.253 80 50 2>&1)" \
    "50 reset"
secs=$((($(date +%s%N) - t0) / 1000000000 + 1))
sleep 1
closed 172.24.255.252 80 >/dev/null
lines=$(grep -c "$(re "[172.24.255.253]")" "$DLOG")
[ "$lines" -ge 1 ] && [ "$lines" -le $secs ] &&
    ok "the flood logged $lines line(s) in ${secs}s or less" ||
    fail "the flood logged $lines lines in ${secs}s or less"
logged "$(flow TCP - - 172.24.255.252 80): no domain has this address \
\([0-9]+ more like it suppressed\)\$" &&
    ok "the flood's suppressed lines counted" ||
    fail "the flood: $(grep "172.24.255.25" "$DLOG")"
sleep 1

inr=$(cl_q inrange.test A)
within "a real address inside the range" "$(closed inrange.test 80)" 0 2
logged "$(re "[inrange.test($inr)]:80: no real address")" &&
    ok "a real address inside the range: logged" ||
    fail "a real address inside the range: not logged"

# The limit: three held connections, a fourth is reset.
pids=
for i in 1 2 3; do
	in_cl $PW_PROBE hold half.test 7000 5 >/dev/null 2>&1 &
	pids="$pids $!"
done
opened() {
	[ "$(grep -c 'proxy: \[+\] TCP .*half\.test' "$DLOG")" -eq "$1" ]
}
wait_for 3 opened 3 || fail "three connections not open"
within "beyond the connection limit" "$(closed half.test 7000)" 0 2
logged "TCP: 3 connections open, refusing more" &&
    ok "beyond the connection limit: logged" ||
    fail "beyond the connection limit: not logged"
wait $pids

pw_stop
exit $T_FAILED
