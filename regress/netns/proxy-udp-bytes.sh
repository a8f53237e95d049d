#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-udp-bytes: a UDP session's bytes, counted each way.  The server
# answers a datagram of N bytes with 2N + 1, so the two ways differ: the
# journal's [-] line, dns44ctl show connections (table and JSON) and show
# stats must each give exactly what the client sent and what it received,
# each in its own place.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq --host-record=grow.test,$PW_W
pw_serve udpgrow 9
pw_start d <<EOF2
proxy udp-idle-timeout 3s
EOF2
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }

v=$(cl_q grow.test A)
[ -n "$v" ] || die "no address for grow.test"

# One datagram past the link's MTU: it goes in fragments, and whole.
out=$(in_cl $PW_PROBE udpsizes grow.test 9 1 10 100 1000 1400 2000 2>&1)
# 4511 bytes sent; 2 * 4511 + 6 received.
case $out in
"sent 4511 received 9028 replies 6 of 6 from port "*)
	ok "client: $out" ;;
*)	die "client: $out" ;;
esac
port=${out##* }

# Within the idle timeout the session is still open.
row=$(ctl show connections | awk -v c="$PW_CL_ADDR:$port" \
    '$1 == "udp" && $2 == c')
expect "show connections: domain and virtual address" \
    "$(echo "$row" | awk '{ print $3, $4 }')" "grow.test $v:9"
expect "show connections: sent, received" \
    "$(echo "$row" | awk '{ print $6, $7 }')" "4511 9028"
expect "show connections -j: sent, received" "$(ctl -j show connections |
    $PW_PYTHON -c '
import json, sys
for c in json.load(sys.stdin):
    if c["proto"] == "udp" and c["client"].endswith(":'"$port"'"):
        print(c["sent"], c["received"])')" "4511 9028"

f=$(flow UDP "$port" grow.test "$v" 9)
logged "proxy: \[-\] $f sent 4511 received 9028 bytes in " 8 &&
    ok "journal: [-] line, 4511 bytes sent, 9028 received" ||
    fail "journal: $(grep -F grow.test "$DLOG")"

# The closed session's bytes stay in the counters; nothing else went
# through the proxy.
expect "show stats -j: bytes sent, received" "$(ctl -j show stats |
    $PW_PYTHON -c '
import json, sys
s = json.load(sys.stdin)
print(s["bytes_sent"], s["bytes_received"])')" "4511 9028"

pw_stop
exit $T_FAILED
