#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-cache: the proxy keeps the dns process's answer about a virtual
# address.  Lookups are counted in the dns process's verbose log, one
# "proxy lookup ADDR: NAME" line each.  (1) Twenty connections at once and
# ten more one after the other to one name make one lookup; while they are
# open the mapping is pinned, and released when they close.  (2) Once the
# address goes to another name (a range of 14, TTL 1 s, grace 1 s) a new
# connection to it reaches the new name, though the old name's answer
# (TTL 300) would still be kept.  (3) A real address whose TTL (6 s) ran
# out is asked for again: a changed one is used then, and not before.
# (4) After dns44ctl flush of a name, its address goes to another name,
# and a new connection to it reaches that one.  One proxy worker: the
# cache is each worker's, and the kernel picks the worker of each
# connection.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
PW_W2=10.46.2.3
HOSTS=$T_TMP/hosts
echo "$PW_W ttl.test" >"$HOSTS"
pw_dnsmasq --local-ttl=6 --addn-hosts="$HOSTS" \
    --host-record=many.test,$PW_W,300 \
    --host-record=old.test,$PW_W,300 \
    --host-record=new.test,$PW_W2,300
in_w ip addr add "$PW_W2/24" dev pw0 || die "second world address"
pw_serve halfserver 7000
in_w $PW_PROBE halfserver "$PW_W2" 7000 >"$T_TMP/halfserver2.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W2:7000" ||
    die "halfserver on $PW_W2 did not start"
pw_start d <<EOF2
range 172.24.0.0/28
dns ttl 1
reuse-grace 1s
log verbose
proxy workers 1
proxy udp-unanswered-timeout 1s
EOF2
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }

# lookups ADDR NAME: how many lookups of ADDR the dns process answered
# with NAME.
lookups() {
	grep -c -E "dns: proxy lookup $(re "$1"): $(re "$2")\$" "$DLOG"
}

# nlogged N PATTERN: the log has N lines matching PATTERN (an ERE).
nlogged() {
	[ "$(grep -c -E -- "$2" "$DLOG")" -eq "$1" ]
}

# conns NAME: 1 while the dns process holds NAME in use, else 0.
conns() {
	ctl -j show map "$1" | $PW_PYTHON -c '
import json, sys
m = json.load(sys.stdin)
print((1 if m[0]["in_use"] else 0) if m else "none")'
}

# real NAME: the real address and port of the connection held to NAME.
real() {
	ctl show connections | awk -v c="$PW_CL_ADDR:$HOLD_PORT" -v n="$1" '
	    $1 == "tcp" && $2 == c && $3 == n { print $5 }'
}

# hold NAME: a connection to NAME port 7000, held in the background, its
# pid in HOLD and its port in HOLD_PORT; returns once the proxy relays it.
# unhold closes it.
hold() {
	# Emptied here, not by the redirection below: that one runs in the
	# background and may come after wait_for has read the last hold's port.
	: >"$T_TMP/hold.out"
	# Not through in_cl: $! must be the client itself, for unhold.
	ip netns exec "$CL" $PW_PROBE hold "$1" 7000 30 >"$T_TMP/hold.out" \
	    2>&1 &
	HOLD=$!
	T_PIDS="$T_PIDS $HOLD"
	wait_for 5 grep -q . "$T_TMP/hold.out" ||
	    fail "hold $1: $(cat "$T_TMP/hold.out")"
	HOLD_PORT=$(head -n 1 "$T_TMP/hold.out")
	wait_for 5 sh -c "[ -n \"\$(\"$DNS44CTL\" -s \"$SOCK\" show \
	    connections | awk '\$2 == \"$PW_CL_ADDR:$HOLD_PORT\"')\" ]" ||
	    fail "hold $1: not relayed: $(grep -E "proxy|lookup" "$DLOG" |
	    tail -n 5)"
}

unhold() {
	kill "$HOLD"
	wait "$HOLD" 2>/dev/null
}

# (1) One name, many connections: one lookup.
vm=$(cl_q many.test A)
case $vm in
172.24.0.*)	ok "many.test is $vm" ;;
*)		die "many.test: \"$vm\"" ;;
esac
in_cl $PW_PROBE holdmany many.test 7000 20 3 >"$T_TMP/many.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 10 grep -q "connected 20 of 20" "$T_TMP/many.out" ||
    die "20 connections at once: $(cat "$T_TMP/many.out")"
wait_for 5 nlogged 20 "proxy: \[\+\] $(flow TCP - many.test "$vm" 7000)$(to_w 7000)\$" ||
    fail "20 connections journaled"
n=$(conns many.test)
[ "$n" != none ] && [ "$n" -ge 1 ] &&
    ok "many.test pinned while they are open ($n)" ||
    fail "many.test not pinned: $n"
wait_for 10 nlogged 20 "proxy: \[-\] $(flow TCP - many.test "$vm" 7000) " ||
    fail "20 connections closed"
expect "many.test released when the last closed" "$(conns many.test)" 0
i=0
while [ $i -lt 10 ]; do
	in_cl $PW_PROBE halfclient many.test 7000 100 2>&1 |
	    grep -qx ok || fail "connection $i to many.test"
	i=$((i + 1))
done
expect "lookups for 30 connections to many.test" \
    "$(lookups "$vm" many.test)" 1
expect "lookups in all" "$(grep -c 'dns: proxy lookup ' "$DLOG")" 1

# (3) The real address changes: used once the 6 s TTL is over.
vt=$(cl_q ttl.test A)
t0=$(date +%s%N)
hold ttl.test
expect "ttl.test at first" "$(real ttl.test)" "$PW_W:7000"
unhold
echo "$PW_W2 ttl.test" >"$HOSTS"
for p in $(ip netns pids "$WORLD"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = dnsmasq ] && kill -HUP "$p"
done
wait_for 5 in_w sh -c "kdig @$PW_W +short ttl.test | grep -qx $PW_W2" ||
    die "dnsmasq did not take the new address of ttl.test"
hold ttl.test
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $ms -lt 5000 ]; then
	expect "ttl.test within its TTL (${ms}ms)" "$(real ttl.test)" \
	    "$PW_W:7000"
else
	echo "skipped the check within the TTL: ${ms}ms went by"
fi
unhold
expect "lookups of ttl.test within its TTL" "$(lookups "$vt" ttl.test)" 1
# 6 s in the dns process's cache, as long in the proxy's: 7.5 s is past
# both.
ms=$((($(date +%s%N) - t0) / 1000000))
sleep "$(echo "$ms" | awk '{ s = 7.5 - $1 / 1000; print (s > 0 ? s : 0) }')"
hold ttl.test
expect "ttl.test after its TTL" "$(real ttl.test)" "$PW_W2:7000"
unhold
expect "lookups of ttl.test after its TTL" "$(lookups "$vt" ttl.test)" 2

# (2) The address goes to another name: the answer kept is dropped, for a
# UDP session as for a connection.
vo=$(cl_q old.test A)
in_cl $PW_PROBE halfclient old.test 7000 10 2>&1 | grep -qx ok ||
    fail "connection to old.test"
logged "proxy: \[-\] $(flow TCP - old.test "$vo" 7000) " ||
    fail "the connection to old.test was not journaled"
expect "lookups of old.test" "$(lookups "$vo" old.test)" 1
# Every other name answered after old.test, the range full: old.test's
# address is the least recently answered.
cl_q many.test A >/dev/null
cl_q ttl.test A >/dev/null
for i in $(seq 1 11); do
	cl_q "f$i.test" A >/dev/null
done
expect "mappings" "$(ctl -j show map | $PW_PYTHON -c '
import json, sys; print(len(json.load(sys.stdin)))')" 14
sleep 2.5
vn=$(cl_q new.test A)
expect "new.test takes old.test's address" "$vn" "$vo"
logged "map: old\.test gives up its address to a new name" ||
    fail "no eviction of old.test"
# A datagram first: a new UDP session reaches new.test too.  No server
# answers it, so it ends a second after (udp-unanswered-timeout), before
# the wait for new.test's release below, whose own time moves with the
# machine's load.
printf 'x' | in_cl socat -u - "UDP4:$vn:7001" 2>/dev/null
logged "proxy: \[\+\] $(flow UDP - new.test "$vn" 7001)$(to_w 7001 "$PW_W2")\$" &&
    ok "a UDP session to $vn is new.test's" ||
    fail "UDP to $vn: $(grep ' UDP ' "$DLOG" | tail -n 2)"
hold new.test
logged "proxy: \[\+\] $(flow TCP - new.test "$vn" 7000)$(to_w 7000 "$PW_W2")\$" ||
    fail "the connection to $vn is not journaled as new.test's"
expect "new.test's real address" "$(real new.test)" "$PW_W2:7000"
unhold
expect "connections journaled as old.test's" \
    "$(grep -c -E "proxy: \[\+\] $(flow TCP - old.test "$vo" 7000)$(to_w 7000)\$" \
    "$DLOG")" 1
expect "lookups of $vn for new.test" "$(lookups "$vn" new.test)" 1

# (4) dns44ctl flush forgets new.test.  Its address is then the only free
# one, and old.test, asked again, gets it: the answer kept for new.test
# must be gone.
released() { [ "$(conns new.test)" = 0 ]; }
wait_for 5 released || fail "new.test still in use"
ctl flush new.test >/dev/null || fail "flush new.test"
vf=$(cl_q old.test A)
expect "old.test takes the flushed address" "$vf" "$vn"
hold old.test
expect "old.test's real address after the flush" "$(real old.test)" \
    "$PW_W:7000"
unhold

pw_stop
exit $T_FAILED
