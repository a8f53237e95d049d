#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-udp-recycle: UDP sessions at their limits and their short lives.
# With 6 sessions in all and 3 a client:
#  - 7 streams opened at once: 6 echoed, the 7th dropped (none has been
#    idle for a second: nothing is recycled);
#  - a single exchange (one datagram each way) ends after "proxy
#    udp-answered-timeout" (3 s), a stream of three exchanges lives on
#    to the idle timeout (8 s);
#  - at the global limit, a single exchange answered a moment ago is
#    closed at once for a new session, as conntrack's early drop;
#  - client A at its limit of 3, idle for a second: its 4th session is
#    echoed and A's least recently active session closed, not the older
#    ones of client B, which still echo in their own sessions;
#  - at the global limit, a new session of client C is echoed and the
#    least recently active session of all closed;
#  - show stats counts the recycled sessions.
# Each session is a fixed source port, so that a later datagram from it
# belongs to the same session.  One proxy worker: the limits are then
# all its own (with more, each keeps its share, and which worker a
# session goes to is the kernel's hash of its ports).

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve udpecho 7001
A=$PW_CL_ADDR B=10.46.1.3 C=10.46.1.4
ip -n "$CL" addr add "$B/24" dev pc0 && ip -n "$CL" addr add "$C/24" dev pc0 ||
    die "the other clients' addresses"
pw_start d <<EOF2
proxy workers 1
proxy sessions 6
proxy per-client sessions 3
proxy udp-answered-timeout 3s
proxy udp-idle-timeout 8s
EOF2
e=$(cl_q echo.test A)

# send SOURCE PORT... : one datagram (N=2: two, a stream) from each
# SOURCE:PORT to the echo server through the proxy, all at once;
# "answered N silent M" after a second.
send() {
	in_cl $PW_PYTHON -c '
import socket, sys, time
n, dst, src, ports = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
socks = []
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(p)))
    s.connect((dst, 7001))
    for i in range(n):
        s.send(b"ping " + p.encode())
    socks.append(s)
time.sleep(1)
good = 0
for s in socks:
    try:
        s.recv(64, socket.MSG_DONTWAIT)
        good += 1
    except OSError:
        pass
print("answered %d silent %d" % (good, len(socks) - good))
' "${N:-1}" "$e" "$@"
}
# stat NAME: a counter of "dns44ctl show stats".
stat() {
	"$DNS44CTL" -s "$T_TMP/d/ctl.sock" show stats | sed -n "s/^$1  *//p"
}
opens() { stat "udp sessions open"; }
none_open() { [ "$(opens)" = 0 ]; }
# begun / ended SOURCE PORT: the [+] / [-] lines of that session.
begun() {
	grep -c -E "proxy: \[\+\] UDP $(re "$1"):$2 <=> " "$DLOG"
}
ended() {
	grep -c -E "proxy: \[-\] UDP $(re "$1"):$2 <=> " "$DLOG"
}

# --- Fresh streams are not recycled -------------------------------------
N=2 send "$A" 40001 40002 40003 >"$T_TMP/s1" &
p1=$!
N=2 send "$B" 41001 41002 41003 >"$T_TMP/s2" &
p2=$!
six_open() { [ "$(opens)" = 6 ]; }
wait_for 5 six_open || fail "6 sessions did not open: $(opens)"
expect "a 7th session while 6 streams are fresh" "$(N=2 send "$C" 42001)" \
    "answered 0 silent 1"
wait $p1 $p2
expect "the first 6" "$(cat "$T_TMP/s1" "$T_TMP/s2" | tr '\n' ' ')" \
    "answered 3 silent 0 answered 3 silent 0 "
expect "none recycled while all are fresh" \
    "$(stat "udp sessions recycled")" 0
wait_for 10 none_open || fail "the streams did not end: $(opens)"

# --- A single exchange ends after the answered timeout -----------------
send "$A" 40005 >/dev/null
# A stream: three exchanges from one port, then quiet; it outlives 3 s.
for i in 1 2 3; do
	send "$A" 40010 >/dev/null
done
sleep 4
expect "a stream outlives the answered timeout" "$(ended "$A" 40010)" 0
expect "the stream is one session" "$(begun "$A" 40010)" 1
d=$(grep -E "proxy: \[-\] UDP $(re "$A"):40005 <=> " "$DLOG" | tail -n 1 |
    sed -n 's/.* bytes in \([0-9.]*\)s to [^ ]*$/\1/p')
awk -v t="$d" 'BEGIN { exit !(t != "" && t >= 2.9 && t < 5) }' &&
    ok "a single exchange lived ${d}s (udp-answered-timeout 3s)" ||
    fail "a single exchange lived \"$d\"s, not 3-5 s"
wait_for 10 none_open || fail "the stream did not end at the idle timeout"
expect "the stream ended at the idle timeout" "$(ended "$A" 40010)" 1

# --- At the limit, a single exchange goes at once ----------------------
# As conntrack's early drop: the oldest session, a single exchange
# answered a moment ago, makes room for a new one; the streams stay.
send "$A" 40030 >/dev/null &
p0=$!
# Its echo is back within milliseconds; it is far from idle for a second.
sleep 0.3
N=2 send "$A" 40031 40032 >/dev/null &
p1=$!
N=2 send "$B" 41030 41031 41032 >/dev/null &
p2=$!
wait_for 5 six_open || fail "6 sessions did not open: $(opens)"
expect "a 7th session at once, a single exchange open" \
    "$(N=2 send "$C" 42030)" "answered 1 silent 0"
wait $p0 $p1 $p2
expect "the single exchange closed" "$(ended "$A" 40030)" 1
expect "the streams open" "$(ended "$A" 40031)$(ended "$A" 40032)$(ended \
    "$B" 41030)$(ended "$B" 41031)$(ended "$B" 41032)" 00000
expect "show stats: one recycled" "$(stat "udp sessions recycled")" 1
wait_for 10 none_open || fail "the streams did not end: $(opens)"

# --- A client at its limit recycles its own oldest ---------------------
# Streams from now on (two datagrams each way), so that the answered
# timeout ends none of them.  B's two sessions first (the oldest of
# all), then A's three.
N=2
expect "B: 2 sessions" "$(send "$B" 41011 41012)" "answered 2 silent 0"
expect "A: 3 sessions, its limit" "$(send "$A" 40021 40022 40023)" \
    "answered 3 silent 0"
sleep 1
expect "A: a 4th session, idle ones there" "$(send "$A" 40024)" \
    "answered 1 silent 0"
expect "A's least recently active session closed" "$(ended "$A" 40021)" 1
expect "A's others open" "$(ended "$A" 40022)$(ended "$A" 40023)" 00
expect "B's older sessions untouched" \
    "$(ended "$B" 41011)$(ended "$B" 41012)" 00
expect "B's sessions still echo" "$(send "$B" 41011 41012)" \
    "answered 2 silent 0"
expect "in the same sessions" "$(begun "$B" 41011)$(begun "$B" 41012)" 11
expect "show stats: two recycled" "$(stat "udp sessions recycled")" 2

# --- At the global limit, the least recently active of all -------------
# Open: B's two (just used), A's 40022 40023 40024; C's makes 6.
expect "C: the 6th session" "$(send "$C" 42011)" "answered 1 silent 0"
expect "6 open" "$(opens)" 6
# A's 40022 is now the least recently active of all, idle over a second.
expect "C: a 7th session at the global limit" "$(send "$C" 42012)" \
    "answered 1 silent 0"
expect "the least recently active of all closed" "$(ended "$A" 40022)" 1
expect "the others open" "$(ended "$A" 40023)$(ended "$A" 40024)$(ended \
    "$B" 41011)$(ended "$C" 42011)" 0000
expect "show stats: three recycled" "$(stat "udp sessions recycled")" 3
"$DNS44CTL" -s "$T_TMP/d/ctl.sock" -j show stats | $PW_PYTHON -c '
import json, sys
sys.exit(json.load(sys.stdin)["udp_sessions_recycled"] != 3)' &&
    ok "show stats -j: udp_sessions_recycled" ||
    fail "show stats -j: no udp_sessions_recycled 3"

pw_stop
exit $T_FAILED
