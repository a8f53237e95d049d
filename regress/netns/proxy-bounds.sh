#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-bounds: what the proxy holds for a peer that walks away.  A TCP
# client sends, shuts down its writing side, and the server never answers
# nor closes: the connection ends after "proxy tcp-halfclose-timeout"
# (not the hours of the idle timeout), with its [-] journal line.  A UDP
# session whose server never answered closes after "proxy
# udp-unanswered-timeout", while one that got answers lives on to the
# normal idle timeout.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
ABUSE="$PW_PYTHON $srcdir/regress/lib/abuseprobe.py"
pw_dnsmasq --host-record=sink.test,$PW_W
pw_serve udpecho 7
pw_serve halfserver 7000
in_w $ABUSE tcpsink "$PW_W" 7100 >"$T_TMP/tcpsink.out" 2>&1 &
T_PIDS="$T_PIDS $!"
in_w $ABUSE udpsink "$PW_W" 7101 >"$T_TMP/udpsink.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7100" || die "no tcp sink"
wait_for 5 pw_listening "$WORLD" udp "$PW_W:7101" || die "no udp sink"
pw_start d <<EOF2
proxy tcp-halfclose-timeout 2s
proxy udp-unanswered-timeout 2s
proxy udp-idle-timeout 6s
EOF2

# duration_of LINE: the seconds of a [-] line, before the address dialled.
duration_of() {
	echo "$1" | sed -n 's/.* bytes in \([0-9.]*\)s to [^ ]*$/\1/p'
}
# between WHAT SECONDS LO HI
between() {
	if awk -v t="$2" -v lo="$3" -v hi="$4" 'BEGIN {
	    exit !(t != "" && t >= lo && t < hi) }'; then
		ok "$1: ${2}s"
	else
		fail "$1: \"$2\"s, not within ${3}s and ${4}s"
	fi
}

# --- TCP: half-closed towards a server that never answers ---------------
v=$(cl_q sink.test A)
in_cl $ABUSE halfopen sink.test 7100 10 >"$T_TMP/half.out" 2>&1 &
hpid=$!
# Meanwhile a normal client, half-close and all, is served.
expect "a normal half-closing client meanwhile" \
    "$(in_cl $PW_PROBE halfclient half.test 7000 100000 2>&1)" ok
wait $hpid
out=$(cat "$T_TMP/half.out")
case $out in
eof\ [234].*|reset\ [234].*)
	ok "half-closed connection ended after the timeout: $out" ;;
*)	fail "half-closed connection: $out, want closed after 2-4 s" ;;
esac
f=$(flow TCP - sink.test "$v" 7100)
logged "proxy: \[-\] $f sent 14 received 0 bytes in " &&
    ok "journal: its [-] line" ||
    fail "journal: $(grep -F sink.test "$DLOG")"
between "journal: its duration" \
    "$(duration_of "$(grep -E "proxy: \[-\] $f" "$DLOG" | tail -n 1)")" 1.9 4

# --- UDP: a session without answers, and one with -----------------------
e=$(cl_q echo.test A)
in_cl $ABUSE udpsilent sink.test 7101 5 &
spid=$!
out=$(in_cl $ABUSE udpquiet echo.test 7 4 2>&1)
expect "a session with answers, 4 s quiet, then again" "$out" "echoed 2 of 2"
wait $spid
fs=$(flow UDP - sink.test "$v" 7101)
logged "proxy: \[-\] $fs sent 13 received 0 bytes in " &&
    ok "journal: the unanswered session closed" ||
    fail "journal: $(grep -F sink.test "$DLOG")"
between "the unanswered session's life" \
    "$(duration_of "$(grep -E "proxy: \[-\] $fs" "$DLOG" | tail -n 1)")" \
    1.9 4
fe=$(flow UDP - echo.test "$e" 7)
expect "the answered session: one [+] line, both datagrams in it" \
    "$(grep -c -E "proxy: \[\+\] $fe" "$DLOG")" 1
logged "proxy: \[-\] $fe sent 14 received 14 bytes in " 10 &&
    ok "journal: the answered session closed at the idle timeout" ||
    fail "journal: $(grep -F echo.test "$DLOG")"
between "the answered session's life" \
    "$(duration_of "$(grep -E "proxy: \[-\] $fe" "$DLOG" | tail -n 1)")" \
    9.5 13

pw_stop
exit $T_FAILED
