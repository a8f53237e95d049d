#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-idle: the idle timeouts count from a connection's or a session's
# last traffic, not from its start.  With both timeouts at 2 s, a TCP
# client that writes every half second for 5 s, then shuts down writing,
# still gets the server's answer, and a UDP client that sends a datagram
# every half second for 5 s gets every echo back in one session; each is
# journaled once, closed with all its bytes.  The server's traffic counts
# too: a UDP server that answers one datagram with one every half second
# for 5 s gets them all to the client, in one session.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq --host-record=stream.test,$PW_W
pw_serve halfserver 7000
pw_serve udpecho 7
pw_serve udpstream 8
pw_start d <<EOF
proxy tcp-idle-timeout 2s
proxy udp-idle-timeout 2s
EOF

h=$(cl_q half.test A)
e=$(cl_q echo.test A)
st=$(cl_q stream.test A)
[ -n "$h" ] && [ -n "$e" ] && [ -n "$st" ] || die "no addresses"

# Both at once: 11 writes (and datagrams) 0.5 s apart.
in_cl $PW_PROBE trickle half.test 7000 11 0.5 >"$T_TMP/tcp" 2>&1 &
tp=$!
in_cl $PW_PROBE udplisten stream.test 8 11 0.5 >"$T_TMP/stream" 2>&1 &
sp=$!
in_cl $PW_PROBE udpclient echo.test 7 11 0.5 >"$T_TMP/udp" 2>&1
wait $tp
wait $sp

# A duration in the journal of 5 s or more.
long='([5-9]|[1-9][0-9])\.[0-9]+s'

expect "TCP: 11 writes 0.5s apart, EOF, the answer" "$(cat "$T_TMP/tcp")" ok
# The answer is "got 1100 <sha256>\n": 4 + 4 + 1 + 64 + 1 bytes.
f=$(flow TCP - half.test "$h" 7000)
logged "proxy: \[-\] $f sent 1100 received 74 bytes in $long \
to $(re "$PW_W:7000")\$" &&
    ok "TCP journal: one connection, 1100 bytes sent, 74 received" ||
    fail "TCP journal: $(grep -F half.test "$DLOG")"
expect "TCP journal: [+] lines" \
    "$(grep -c -E "proxy: \[\+\] $f$(to_w 7000)\$" "$DLOG")" 1

out=$(cat "$T_TMP/udp")
case $out in
"echoed 11 of 11 from port "*)	ok "UDP: 11 datagrams 0.5s apart: $out" ;;
*)				fail "UDP: $out" ;;
esac
f=$(flow UDP "${out##* }" echo.test "$e" 7)
# Datagrams of "datagram N " and 64 hex digits: 10 of 75 bytes, 1 of 76.
logged "proxy: \[-\] $f sent 826 received 826 bytes in $long \
to $(re "$PW_W:7")\$" 5 &&
    ok "UDP journal: one session, 826 bytes each way" ||
    fail "UDP journal: $(grep -F echo.test "$DLOG")"
expect "UDP journal: [+] lines" \
    "$(grep -c -E "proxy: \[\+\] $f$(to_w 7)\$" "$DLOG")" 1

out=$(cat "$T_TMP/stream")
case $out in
"streamed 11 of 11 from port "*)
	ok "UDP: 11 datagrams from the server 0.5s apart: $out" ;;
*)	fail "UDP, the server's datagrams alone: $out" ;;
esac
f=$(flow UDP "${out##* }" stream.test "$st" 8)
# "11 0.5" up; "stream 0" to "stream 9" of 8 bytes and "stream 10" down.
logged "proxy: \[-\] $f sent 6 received 89 bytes in $long \
to $(re "$PW_W:8")\$" 5 &&
    ok "UDP journal: the server's stream, one session, 89 bytes" ||
    fail "UDP journal: $(grep -F stream.test "$DLOG")"

pw_stop
exit $T_FAILED
