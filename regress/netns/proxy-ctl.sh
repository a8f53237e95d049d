#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-ctl: what dns44ctl says of the proxy: show connections lists an
# open TCP connection and a UDP session with their domains, addresses and
# bytes, table and JSON alike; show stats counts them; flush keeps the
# mappings they pin and says so.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve halfserver 7000
pw_serve udpecho 7
pw_start d </dev/null
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }

pin=$(cl_q pin.test A)
echo=$(cl_q echo.test A)
ip netns exec "$CL" $PW_PROBE hold pin.test 7000 60 >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
logged "proxy: \[\+\] $(flow TCP - pin.test "$pin" 7000)$(to_w 7000)\$" ||
    die "the connection to pin.test did not open"
in_cl $PW_PROBE udpclient echo.test 7 3 >/dev/null 2>&1 ||
    fail "UDP echo through the proxy"

table=$(ctl show connections) || fail "show connections"
echo "$table"
row=$(echo "$table" | awk '$1 == "tcp" && $3 == "pin.test"')
[ -n "$row" ] && ok "show connections: the TCP connection" ||
    fail "no TCP row for pin.test"
[ "$(echo "$row" | awk '{ print $4 }')" = "$pin:7000" ] &&
    [ "$(echo "$row" | awk '{ print $5 }')" = "$PW_W:7000" ] &&
    ok "show connections: virtual and real addresses" ||
    fail "TCP row: $row"
echo "$table" | awk '$1 == "udp" && $3 == "echo.test"' | grep -q . &&
    ok "show connections: the UDP session" || fail "no UDP row for echo.test"
t=$(echo "$table" | awk 'NR > 1 { print $1, $2, $3, $4, $5, $6, $7 }' |
    sort)
j=$(ctl -j show connections | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print(c["proto"], c["client"], c["domain"], c["virtual"], c["real"],
          c["sent"], c["received"])' | sort)
[ -n "$t" ] && [ "$t" = "$j" ] && ok "show connections: JSON agrees" ||
    fail "table <$t> JSON <$j>"

[ "$(ctl -j show stats | python3 -c '
import json, sys; s = json.load(sys.stdin)
print(s["connections_open"], s["connections_total"] >= 1,
      s["udp_sessions_total"] >= 1, s["bytes_sent"] > 0)')" = \
    "1 True True True" ] && ok "show stats counts them" ||
    fail "stats: $(ctl -j show stats)"
ctl show stats | grep -q '^connections open  *1$' &&
    ok "show stats table" || fail "stats table"

# flush: the pinned mapping stays, with the reason.
out=$(ctl flush pin.test)
echo "$out" | grep -q "flushed 0, kept 1 in use" &&
    echo "$out" | grep -q "^pin.test  *$pin  *.* yes$" &&
    ok "flush keeps a pinned mapping" || fail "flush pin.test: $out"
[ "$(ctl -j flush all | python3 -c '
import json, sys; s = json.load(sys.stdin)
d = sorted(e["domain"] for e in s["in_use"])
print(d, s["kept"] == len(d))')" = "['echo.test', 'pin.test'] True" ] &&
    ok "flush all keeps the pinned ones" || fail "flush all"
[ "$(cl_q pin.test A)" = "$pin" ] && ok "pin.test keeps $pin" ||
    fail "pin.test lost its address"
pw_stop
exit $T_FAILED
