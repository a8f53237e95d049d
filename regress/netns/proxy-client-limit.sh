#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-client-limit: one host may not take every place.  With 20 TCP
# connections and 20 UDP sessions a client and 4 DNS-over-TCP clients a
# host, a client (10.46.1.2) that opens 30 connections to a server through
# the proxy keeps 20 and has 10 reset; 30 UDP streams: 20 get their echo,
# 10 are dropped; 10 DNS TCP connections: 4 stay, 6 are reset.  Meanwhile
# another client (10.46.1.3) still connects, gets a page, an echo and a
# DNS answer over TCP; its 30 single exchanges all get their echo, the
# answered ones making room for the next.  At the limit a third client's
# least recently active stream is closed for its 21st, not its oldest.
# The refusals are counted in show stats and logged once each, not once a
# refusal.  One proxy worker, so that the counts are exact: with more,
# each keeps its share of the limit and the kernel spreads a client's
# connections at random (proxy-workers.sh).

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl
pw_dnsmasq
pw_nginx
pw_serve udpecho 7001
OTHER=10.46.1.3
ip -n "$CL" addr add "$OTHER/24" dev pc0 || die "second client's address"
THIRD=10.46.1.4
ip -n "$CL" addr add "$THIRD/24" dev pc0 || die "third client's address"
pw_start d <<EOF2
proxy per-client connections 20
proxy per-client sessions 20
dns per-client tcp-clients 4
proxy workers 1
EOF2

site=$(cl_q site.test A)
echo_=$(cl_q echo.test A)

# opens SOURCE PROTO ADDR PORT N: N connections (tcp) or sessions (udp)
# from SOURCE, all held; after a second, "alive A reset R" (tcp: still
# open, or reset, maybe before connect returned) or "answered A silent S"
# (udp: an echo came or not).  UDP_N=2: two datagrams a session, a stream.
opens() {
	in_cl env UDP_N="${UDP_N:-1}" $PW_PYTHON - "$@" <<'PY'
import os, socket, sys, time
src, proto, addr, port, n = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4]), int(sys.argv[5])
socks = []
for i in range(n):
    if proto == "tcp":
        try:
            s = socket.create_connection((addr, port), timeout=5,
                                         source_address=(src, 0))
        except ConnectionResetError:
            s = None    # reset before connect() returned
        else:
            s.setblocking(False)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.connect((addr, port))
        for _ in range(int(os.environ["UDP_N"])):
            s.send(b"ping %d" % i)
        s.setblocking(False)
    socks.append(s)
    time.sleep(0.01)
time.sleep(1)
good = bad = 0
for s in socks:
    if s is None:
        bad += 1
        continue
    try:
        b = s.recv(64, socket.MSG_DONTWAIT |
                   (socket.MSG_PEEK if proto == "tcp" else 0))
        if proto == "tcp" and not b:
            bad += 1
        else:
            good += 1
    except ConnectionResetError:
        bad += 1
    except BlockingIOError:
        if proto == "tcp":
            good += 1
        else:
            bad += 1
print(("alive %d reset %d" if proto == "tcp" else "answered %d silent %d")
      % (good, bad), flush=True)
if len(sys.argv) > 6:
    time.sleep(float(sys.argv[6]))
PY
}

# stat NAME: a counter of "dns44ctl show stats".
stat() {
	"$DNS44CTL" -s "$T_TMP/d/ctl.sock" show stats | sed -n "s/^$1  *//p"
}

page() {
	in_cl curl -s -m 5 --interface "$1" -o /dev/null -w '%{http_code}' \
	    "http://$site/index.html" 2>/dev/null
}

# TCP: 30 held from one client, 20 stay.
opens "$PW_CL_ADDR" tcp "$site" 80 30 4 >"$T_TMP/tcp" 2>&1 &
hold=$!
T_PIDS="$T_PIDS $hold"
wait_for 5 test -s "$T_TMP/tcp" || die "the 30 connections did not report: $(cat "$T_TMP/tcp")"
expect "30 connections from one client" "$(cat "$T_TMP/tcp")" \
    "alive 20 reset 10"
expect "another client's page meanwhile" "$(page "$OTHER")" 200
expect "the first client's 21st meanwhile" "$(page "$PW_CL_ADDR")" 000
logged "proxy: TCP: $(re "$PW_CL_ADDR") has 20 connections open, its limit; \
refusing more" || fail "no log line for the client's limit"
n=$(grep -c "has 20 connections open, its limit" "$DLOG")
[ "$n" -le 2 ] && ok "limit log lines: $n" || fail "limit log lines: $n"
wait $hold
expect "the first client's page once its connections closed" \
    "$(page "$PW_CL_ADDR")" 200
expect "show stats: connections refused for the client's limit" \
    "$(stat "conns client limit")" 11

# UDP: 30 streams from one client, 20 echoed.
expect "30 UDP streams from one client" \
    "$(UDP_N=2 opens "$PW_CL_ADDR" udp "$echo_" 7001 30)" \
    "answered 20 silent 10"
expect "another client's UDP session meanwhile" \
    "$(opens "$OTHER" udp "$echo_" 7001 1)" "answered 1 silent 0"
# Refusals are counted a datagram: 10 streams, 20.
expect "show stats: UDP sessions refused for the client's limit" \
    "$(stat "udp client limit")" 20
# Single exchanges at the limit: the client's own, once answered, make
# room for its next ones at once (11: its first session, and 10).
expect "30 single exchanges from the other client" \
    "$(opens "$OTHER" udp "$echo_" 7001 30)" "answered 30 silent 0"
expect "show stats: its own recycled" "$(stat "udp sessions recycled")" 11
expect "show stats: none refused for it" "$(stat "udp client limit")" 20

# At the limit the client's least recently active stream goes, not its
# oldest: a third client opens 20 streams, speaks again on its first a
# second later, then opens a 21st.  Its second stream is closed; its
# first still echoes, no [-] line for it.
ports=$(in_cl $PW_PYTHON - "$THIRD" "$echo_" 7001 <<'PY'
import socket, sys, time
src, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def stream(i):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.connect((addr, port))
    s.settimeout(2)
    for _ in range(2):
        s.send(b"ping %d" % i)
    s.recv(64)
    s.recv(64)
    return s

def echoes(s):
    s.send(b"again")
    try:
        return s.recv(64) == b"again"
    except OSError:
        return False

socks = [stream(i) for i in range(20)]
time.sleep(1.5)
first = echoes(socks[0])
stream(20)
time.sleep(0.3)
print(socks[0].getsockname()[1], socks[1].getsockname()[1],
      "first" if first else "-", "again" if echoes(socks[0]) else "-")
PY
)
set -- $ports
expect "the first stream echoes before and after the 21st" "$3 $4" \
    "first again"
logged "proxy: \[-\] UDP $(re "$THIRD"):$2 <=> " &&
    ok "the least recently active stream closed" ||
    fail "no [-] line for the second stream (port $2)"
grep -q "proxy: \[-\] UDP $(re "$THIRD"):$1 <=> " "$DLOG" &&
    fail "the first stream, active again, was closed" ||
    ok "the first stream, active again, kept"

# DNS over TCP: 10 held from one client, 4 stay.
opens "$PW_CL_ADDR" tcp "$PW_GW_ADDR" 53 10 3 >"$T_TMP/dnstcp" 2>&1 &
hold=$!
T_PIDS="$T_PIDS $hold"
wait_for 5 test -s "$T_TMP/dnstcp" || die "the DNS TCP clients did not report"
expect "10 DNS TCP clients from one host" "$(cat "$T_TMP/dnstcp")" \
    "alive 4 reset 6"
expect "another host's DNS over TCP meanwhile" "$(in_cl kdig -b "$OTHER" \
    @"$PW_GW_ADDR" +tcp +timeout=2 +retry=0 +short site.test A)" "$site"
wait $hold
expect "show stats: DNS TCP clients refused for the host's limit" \
    "$(stat "dns tcp client limit")" 6
logged "DNS: $(re "$PW_CL_ADDR") has 4 TCP connections open, its limit" ||
    fail "no log line for the DNS TCP limit"
pw_stop
exit $T_FAILED
