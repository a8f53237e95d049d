#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-udp-loop: loop protection on the UDP path.  loop.test's real
# address is 127.0.0.1.  A datagram to it on port 7 is relayed to a
# listener the test puts on the gateway's 127.0.0.1:7, so the lab does see
# a relayed datagram; on port 53, a DNS port of dns44's, it is refused and
# the listener on the gateway's 127.0.0.1:53 gets nothing (though it hears
# what is sent to it straight); on port 4480, the proxy's own, it is
# refused and never comes back to the proxy.  Each refusal is in the
# journal, and no session opens.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup socat
pw_dnsmasq
# 127.0.0.1 is opened on purpose, so that only the loop protection, which
# no configuration opens, stands between a datagram and ports 53 and 4480.
pw_start d <<'EOF'
proxy allow 127.0.0.1/32
EOF

# listen PORT: what reaches the gateway's 127.0.0.1:PORT goes to a file.
listen() {
	: >"$T_TMP/got$1"
	in_gw socat -u "UDP4-RECV:$1,bind=127.0.0.1" \
	    "OPEN:$T_TMP/got$1,append" 2>"$T_TMP/socat$1.err" &
	T_PIDS="$T_PIDS $!"
	wait_for 5 pw_listening "$GW" udp "127.0.0.1:$1" ||
	    die "no listener on 127.0.0.1:$1: $(cat "$T_TMP/socat$1.err")"
}
listen 7
listen 53

# send PORT TEXT: one datagram from the client to loop.test:PORT.
send() {
	printf '%s' "$2" | in_cl socat -u - "UDP4:$loop:$1" 2>/dev/null
}
got() {
	[ -s "$T_TMP/got$1" ]
}

loop=$(cl_q loop.test A)
[ -n "$loop" ] || die "no address for loop.test"

send 7 seven
wait_for 3 got 7 && ok "port 7: relayed to the listener on 127.0.0.1:7" ||
    fail "port 7: the listener on 127.0.0.1:7 got nothing"
expect "port 7: what arrived" "$(cat "$T_TMP/got7")" seven
logged "proxy: \[\+\] $(flow UDP - loop.test "$loop" 7)$(to_w 7 127.0.0.1)\$" &&
    ok "port 7: journal [+] line" || fail "port 7: no [+] line"

send 53 fifty-three
logged "proxy: $(flow UDP - loop.test "$loop" 53): $(re \
    "dial 127.0.0.1:53: not dialling a DNS port on loopback; dropped")\$" &&
    ok "port 53: refused and logged" ||
    fail "port 53: $(grep -F ']:53' "$DLOG")"
send 4480 own
logged "proxy: $(flow UDP - loop.test "$loop" 4480): $(re \
    "dial 127.0.0.1:4480: not dialling the proxy's own listener; dropped")\$" &&
    ok "port 4480: refused and logged" ||
    fail "port 4480: $(grep -F ']:4480' "$DLOG")"

# Time for a relayed datagram to arrive, had there been one.
sleep 1
got 53 && fail "port 53: the listener on 127.0.0.1:53 got \
\"$(cat "$T_TMP/got53")\""
got 53 || ok "port 53: nothing reached 127.0.0.1:53"
grep -E "UDP 127\.0\.0\.1:[0-9]+ <=> \[127\.0\.0\.1\]:4480" "$DLOG" &&
    fail "port 4480: the datagram came back to the proxy"
grep -E "\[\+\] UDP .*loop\.test.*\]:(53|4480)( to [^ ]+)?\$" "$DLOG" &&
    fail "a session opened to a refused port"
# The listener on 127.0.0.1:53 was there all along: it hears a datagram
# sent to it straight.
printf direct | in_gw socat -u - UDP4:127.0.0.1:53 2>/dev/null
wait_for 3 got 53 && ok "port 53: the listener hears what is sent to it" ||
    fail "port 53: the listener does not hear"

pw_stop
exit $T_FAILED
