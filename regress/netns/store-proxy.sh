#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store-proxy: two gateways on one Redis store in the proxy lab.  The
# client asks gateway A for a name and its connection reaches gateway B's
# proxy (as after a VRRP failover or an ECMP hash): B relays it to the
# name's real address and journals the name.  An address B never heard
# of (written to the store with no message) is looked up in the store
# before B gives up, and A answers a PTR query of such an address from
# the store.  While B relays a connection, B holds a lease on the
# address in the store, renewed while it lasts (not once B forgot the
# name); when it ends, the lease goes.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
. "$srcdir/regress/lib/redis.sh"
pw_setup curl nginx redis-server redis-cli
pw_dnsmasq --host-record=quiet.test,$PW_W
pw_nginx
pw_serve halfserver 7000
RPORT=6395
rs_start "$WORLD" "$PW_W" $RPORT
rcli() { in_w redis-cli -h "$PW_W" -p $RPORT "$@"; }

# A answers the client's DNS; its proxy listens where TPROXY sends nothing.
PW_PROXY="127.0.0.1 port 4490"
pw_start a <<EOF2
database redis $PW_W port $RPORT
EOF2
A_PID=$DP A_LOG=$DLOG
# B's proxy gets the client's connections; its DNS is not asked.
BCF=$(conf_write b <<EOF2
dns listen 127.0.0.1 port 5354
dns upstream $PW_W
proxy listen 127.0.0.1 port 4480
database redis $PW_W port $RPORT
EOF2
)
daemon_start "$GW" "$BCF" "$T_TMP/b/log"
B_PID=$D_PID B_LOG=$T_TMP/b/log
wait_for 5 daemon_ready "$B_PID" || { cat "$B_LOG"; die "b: no start"; }
up() { grep -q "map store.*: up" "$1"; }
wait_for 5 up "$A_LOG" && wait_for 5 up "$B_LOG" ||
    die "no store: $(grep "map store" "$A_LOG" "$B_LOG")"

v=$(cl_q site.test A)
case $v in
172.24.*)	ok "A gives site.test $v" ;;
*)		die "site.test: \"$v\"" ;;
esac
page=$(in_cl curl -s --max-time 10 http://site.test/)
expect "the page through B's proxy" "$page" "$(cat "$PW_WWW/index.html")"
DLOG=$B_LOG
logged "proxy: \[-\] $(flow TCP - site.test "$v" 80) sent" &&
    ok "B journals the connection with its name" ||
    fail "B's journal: $(grep 'proxy: \[' "$B_LOG" | tail -2)"
grep -q 'proxy: \[' "$A_LOG" && fail "A's proxy saw a connection" ||
    ok "A's proxy saw none"

# In the store but never announced: B asks the store on the connection.
rcli HSET dns44:name quiet.test 172.24.200.7 >/dev/null
rcli HSET dns44:addr 172.24.200.7 quiet.test >/dev/null
# Its bit: the range's first address is 172.24.0.1.
rcli SETBIT dns44:used $((200 * 256 + 6)) 1 >/dev/null
page=$(in_cl curl -s --max-time 10 -H 'Host: quiet.test' http://172.24.200.7/)
expect "an address B never heard of, through B" "$page" \
    "$(cat "$PW_WWW/index.html")"
logged "proxy: \[-\] $(flow TCP - quiet.test 172.24.200.7 80) sent" &&
    ok "B found quiet.test in the store" ||
    fail "B's journal: $(grep 'proxy: \[' "$B_LOG" | tail -2)"

# PTR of an address A never heard of: A asks the store, and an address
# nobody holds is NXDOMAIN.
rcli HSET dns44:name ptr.test 172.24.200.9 >/dev/null
rcli HSET dns44:addr 172.24.200.9 ptr.test >/dev/null
rcli SETBIT dns44:used $((200 * 256 + 8)) 1 >/dev/null
expect "PTR of an address only the store has, through A" \
    "$(cl_q 9.200.24.172.in-addr.arpa PTR)" "ptr.test."
expect "PTR of an address nobody holds" "$(in_cl kdig @"$PW_GW_ADDR" \
    +timeout=2 +retry=0 11.200.24.172.in-addr.arpa PTR |
    sed -n 's/.*status: \([A-Z]*\).*/\1/p')" NXDOMAIN

# Connections held through B: B's leases on their addresses.
h=$(cl_q half.test A)
p=$(cl_q pin.test A)
ip netns exec "$CL" $PW_PROBE hold half.test 7000 60 >/dev/null 2>&1 &
hold=$!
ip netns exec "$CL" $PW_PROBE hold pin.test 7000 60 >/dev/null 2>&1 &
hold2=$!
T_PIDS="$T_PIDS $hold $hold2"
logged "proxy: \[\+\] $(flow TCP - half.test "$h" 7000)" &&
    logged "proxy: \[\+\] $(flow TCP - pin.test "$p" 7000)" ||
    die "the held connections did not open"
leased() {
	[ "$(rcli ZCOUNT "dns44:pin:$1" "$(date +%s)" +inf)" -eq 1 ]
}
wait_for 3 leased "$h" && wait_for 3 leased "$p" &&
    ok "B holds a lease on $h and $p while it relays" ||
    fail "no lease: $(rcli ZRANGE "dns44:pin:$h" 0 -1 WITHSCORES)"

# B forgets half.test while its connection lasts, as when another gateway
# flushed it.  The leases are renewed every 10 s: pin.test's, deleted, is
# back with the next renewal; half.test's is left to lapse.
rcli PUBLISH dns44:events "- $h half.test" >/dev/null
sleep 1
rcli DEL "dns44:pin:$h" "dns44:pin:$p" >/dev/null
wait_for 16 leased "$p" && ok "B renews its lease on $p" ||
    fail "no lease renewed: $(rcli KEYS 'dns44:pin:*')"
[ "$(rcli EXISTS "dns44:pin:$h")" -eq 0 ] &&
    ok "no lease renewed on $h, whose name B forgot" ||
    fail "a lease on $h: $(rcli ZRANGE "dns44:pin:$h" 0 -1 WITHSCORES)"

kill "$hold" "$hold2" 2>/dev/null
wait "$hold" "$hold2" 2>/dev/null
unleased() { [ "$(rcli ZCARD "dns44:pin:$p")" -eq 0 ]; }
wait_for 5 unleased && ok "the connection closed, the lease is gone" ||
    fail "lease left: $(rcli ZRANGE "dns44:pin:$p" 0 -1 WITHSCORES)"

DLOG=$A_LOG DP=$A_PID
pw_stop
DLOG=$B_LOG DP=$B_PID
pw_stop
exit ${T_FAILED:-0}
