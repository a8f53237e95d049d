#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-workers: with proxy workers 2 there are two proxy processes, each
# unprivileged, each with a TCP and a UDP listener of its own; 60
# keep-alive connections through them each get the file whole and the
# kernel spreads them over both; dns44ctl show connections lists all of
# them and show stats and the metrics count all of them, from both
# workers; 40 UDP sessions from as many client ports are spread over
# both, each held by one worker to its end (one journal line a session,
# every datagram echoed); the per-client connection and session limits
# are the daemon's, shared between the workers.  A worker that dies
# stops the daemon, as the proxy process does.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx
pw_dnsmasq
pw_nginx
pw_serve udpecho 7
pw_start d <<EOF2
proxy workers 2
metrics listen 127.0.0.1 port 9144
EOF2
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }

# The proxy processes: children of the parent titled "dns44: proxy".
workers() {
	for c in $(pgrep -P "$DP"); do
		tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null |
		    grep -q '^dns44: proxy' && echo "$c"
	done
}

# held t|u PORT PID: the TCP (t) or UDP (u) sockets worker PID holds to
# the world's PORT.
held() {
	ip netns exec "$GW" ss -H"$1"np state established "( dport = :$2 )" |
	    grep -c "pid=$3,"
}
W=$(workers)
expect "two proxy workers" "$(echo "$W" | wc -l)" 2
for w in $W; do
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$w/status")
	capeff=$(awk '/^CapEff:/ { print $2 }' "/proc/$w/status")
	[ "$uid" != 0 ] && [ "$capeff" = 0000000000000000 ] &&
	    ok "worker $w: uid $uid, no capability" ||
	    fail "worker $w: uid $uid, CapEff $capeff"
done

# 60 keep-alive connections, idle once their file came.
nconn=60
sha=$(sha256sum <"$PW_WWW/small" | cut -d' ' -f1)
in_cl $PW_PROBE keepmany site.test 80 /small $nconn "$sha" 10 \
    >"$T_TMP/keep" 2>&1 &
keeper=$!
T_PIDS="$T_PIDS $keeper"
wait_for 20 test -s "$T_TMP/keep" || fail "keepmany: nothing"
expect "$nconn keep-alive connections" "$(cat "$T_TMP/keep")" \
    "$nconn of $nconn correct, idle"

# Which worker holds each: the owner of its socket to the server.
total=0
for w in $W; do
	k=$(held t 80 "$w")
	total=$((total + k))
	[ "$k" -ge 5 ] && ok "worker $w relays $k of them" ||
	    fail "worker $w relays $k of $nconn"
done
expect "the workers relay them all" "$total" $nconn

# dns44ctl and the metrics see the two workers as one proxy.
expect "show connections lists all" \
    "$(ctl show connections | awk '$1 == "tcp" && $3 == "site.test"' |
    wc -l)" $nconn
expect "show stats counts all" "$(ctl -j show stats | python3 -c '
import json, sys; print(json.load(sys.stdin)["connections_open"])')" $nconn
m=$(in_gw curl -s --max-time 5 http://127.0.0.1:9144/metrics |
    awk '$1 == "dns44_proxy_tcp_connections" { print $2 }')
expect "metrics count all" "$m" $nconn
kill "$keeper" 2>/dev/null
wait "$keeper" 2>/dev/null

# UDP: 40 sessions at once, each of 4 datagrams from a port of its own.
# The kernel picks a worker's listener by a hash of the client's address
# and port: both workers hold some, and every datagram of a session goes
# to the worker that holds it, or a second worker would open a session
# (and a journal line) of its own for it.
nudp=40
pids=
i=0
while [ $i -lt $nudp ]; do
	in_cl $PW_PROBE udpclient echo.test 7 4 0.3 >"$T_TMP/udp$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
wait $pids
expect "$nudp UDP sessions, every datagram echoed" \
    "$(cat "$T_TMP"/udp* | grep -c '^echoed 4 of 4 ')" $nudp
total=0
for w in $W; do
	k=$(held u 7 "$w")
	total=$((total + k))
	[ "$k" -ge 5 ] && ok "worker $w relays $k UDP sessions" ||
	    fail "worker $w relays $k of $nudp UDP sessions"
done
expect "the workers hold every UDP session" "$total" $nudp
expect "one journal line a UDP session" \
    "$(grep -c 'proxy: \[+\] UDP .*echo\.test.*:7 to ' "$DLOG")" $nudp
expect "show connections lists every UDP session" \
    "$(ctl show connections | awk '$1 == "udp" && $3 == "echo.test"' |
    wc -l)" $nudp

# The per-client limit is the daemon's: 10 in all, 5 a worker.  40
# connections held from one client; after a second, those still open.
pw_stop
pw_start e <<EOF2
proxy workers 2
proxy per-client connections 10
proxy per-client sessions 10
EOF2
site=$(cl_q site.test A)
alive=$(in_cl $PW_PYTHON - "$site" <<'PY2'
import socket, sys, time
socks = []
for i in range(40):
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=5)
    except OSError:
        continue
    s.setblocking(False)
    socks.append(s)
    time.sleep(0.01)
time.sleep(1)
alive = 0
for s in socks:
    try:
        b = s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
        alive += b != b""
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print(alive)
PY2
)
expect "per-client limit 10 over two workers: connections kept" "$alive" 10

# So is the per-client session limit: 40 single exchanges at once from
# one client, each a port of its own; at its share of 5 a worker closes
# one for the next, and 10 stay open, 5 with each worker.
pids=
i=0
while [ $i -lt 40 ]; do
	in_cl $PW_PROBE udpclient echo.test 7 1 >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
wait $pids
W=$(workers)
n=
for w in $W; do
	n="$n$(held u 7 "$w") "
done
expect "per-client limit 10 over two workers: sessions kept" "$n" "5 5 "

# A worker killed: the daemon stops, and says which.
W=$(workers)
victim=$(echo "$W" | tail -n 1)
kill -KILL "$victim"
wait "$DP"
rc=$?
[ $rc -ne 0 ] && ok "a worker killed: the daemon stopped ($rc)" ||
    fail "a worker killed: the daemon exit status 0"
logged "parent: proxy [0-9] process \(pid $victim\) was killed by signal 9" &&
    ok "the journal names the worker" || fail "no line for the worker"
for w in $W; do
	wait_for 5 sh -c "! kill -0 $w" ||
	    fail "worker $w still running after the stop"
done
exit $T_FAILED
