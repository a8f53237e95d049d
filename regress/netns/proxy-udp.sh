#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-udp: UDP through dns44's proxy.  A connected UDP client (which
# drops datagrams from any address but the one it sent to) gets its echoes
# back, also with several sessions to one virtual address and port at
# once, sharing one reply socket, which closes with the last of them (and
# twenty sessions that wait for it all start when it comes); a DNS server
# in the world, reached by name, answers kdig over UDP and TCP; datagrams
# to an address no name has are dropped and logged; idle sessions close
# after the idle timeout with their bytes journaled; beyond the session
# limit, datagrams of new sessions are dropped.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup socat
pw_dnsmasq
pw_serve udpecho 7
pw_start d <<EOF2
proxy udp-idle-timeout 2s
EOF2

v=$(cl_q echo.test A)
out=$(in_cl $PW_PROBE udpclient echo.test 7 20 2>&1)
case $out in
"echoed 20 of 20 from port "*)	ok "connected UDP client: $out" ;;
*)				fail "connected UDP client: $out" ;;
esac
port=${out##* }

# Three sessions, one virtual address and port, sharing its reply socket.
pids=
for i in 1 2 3; do
	in_cl $PW_PROBE udpclient echo.test 7 50 >"$T_TMP/par$i" 2>&1 &
	pids="$pids $!"
done
wait $pids
for i in 1 2 3; do
	grep -q "^echoed 50 of 50 " "$T_TMP/par$i" &&
	    ok "parallel session $i: $(cat "$T_TMP/par$i")" ||
	    fail "parallel session $i: $(cat "$T_TMP/par$i")"
done

# Datagrams of "datagram N " and 64 hex digits: 10 of 75 and 10 of 76 bytes.
f=$(flow UDP "$port" echo.test "$v" 7)
logged "proxy: \[\+\] $f$(to_w 7)\$" && ok "journal: [+] line of port $port" ||
    fail "no [+] line for port $port"
logged "proxy: \[-\] $f sent 1510 received 1510 bytes in " 5 &&
    ok "journal after the idle timeout: [-] line, 1510 bytes each way" ||
    fail "no [-] line for port $port: $(grep -F "echo.test" "$DLOG")"

# A DNS server in the world, by name: its own answer (the real address).
d=$(cl_q echo-dns.test A)
expect "kdig @echo-dns.test over UDP" "$(in_cl kdig @"$d" +timeout=2 \
    +retry=0 +short site.test A 2>/dev/null)" "$PW_W"
expect "kdig @echo-dns.test over TCP" "$(in_cl kdig @"$d" +tcp +timeout=2 \
    +retry=0 +short site.test A 2>/dev/null)" "$PW_W"
logged "proxy: \[\+\] $(flow UDP - echo-dns.test "$d" 53)$(to_w 53)\$" &&
    ok "journal: the UDP DNS query" || fail "journal: no UDP DNS query"
logged "proxy: \[\+\] $(flow TCP - echo-dns.test "$d" 53)$(to_w 53)\$" &&
    ok "journal: the TCP DNS query" || fail "journal: no TCP DNS query"

# Twenty sessions at once to one virtual address and port: one reply
# socket is bound there for all of a worker's, and each gets its echoes.
nw=$(echo $DXS | wc -w)
pids=
i=0
while [ $i -lt 20 ]; do
	in_cl $PW_PROBE udpclient echo.test 7 4 0.5 >"$T_TMP/many$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
# The most sockets bound there at once, looked at while the clients run.
bound=0
while kill -0 $pids 2>/dev/null; do
	n=$(in_gw ss -Huan src "$v:7" | wc -l)
	[ "$n" -gt "$bound" ] && bound=$n
	sleep 0.1
done
wait $pids
[ "$bound" -ge 1 ] && [ "$bound" -le "$nw" ] &&
    ok "reply sockets bound to $v:7 for 20 sessions: $bound, $nw workers" ||
    fail "reply sockets bound to $v:7 for 20 sessions: $bound, $nw workers"
expect "20 sessions sharing it, echoed" \
    "$(cat "$T_TMP"/many* | grep -c '^echoed 4 of 4 ')" 20
# Their last session gone (the idle timeout), the reply sockets close.
none_bound() { [ -z "$(in_gw ss -Huan src "$v:7")" ]; }
wait_for 8 none_bound && ok "reply sockets to $v:7 closed after the sessions" ||
    fail "reply sockets to $v:7 left: $(in_gw ss -Huan src "$v:7")"
# Then twenty at once from one process: all but a worker's first wait for
# its reply socket, and start when it comes.
expect "20 sessions waiting for a reply socket, echoed" "$(in_cl \
    $PW_PYTHON - "$v" <<'PY'
import socket, sys
socks = []
for i in range(20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((sys.argv[1], 7))
    socks.append(s)
for i, s in enumerate(socks):
    s.send(b"waiting %d" % i)
n = 0
for i, s in enumerate(socks):
    s.settimeout(3)
    try:
        n += s.recv(64) == b"waiting %d" % i
    except OSError:
        pass
print(n)
PY
)" 20

# An address of the range that no name has: dropped, said so.
unmapped=172.24.255.254
printf 'x' | in_cl socat -u - "UDP4:$unmapped:7" 2>/dev/null
logged "proxy: $(flow UDP - - $unmapped 7): no domain has this address; \
dropped" &&
    ok "unmapped address: dropped and logged" ||
    fail "unmapped address: not logged"

pw_stop

# The limit: two streams (idle, not timed out yet, not idle for a second
# either), a third session is dropped.  One worker, whose limit it all is.
pw_start e <<EOF2
proxy workers 1
proxy udp-idle-timeout 5s
proxy sessions 2
EOF2
echoed() {	# echoed N: what an N-datagram client got back
	in_cl $PW_PROBE udpclient echo.test 7 "${1:-1}" 2>&1 | cut -d' ' -f1-4
}
expect "session 1 of 2" "$(echoed 2)" "echoed 2 of 2"
expect "session 2 of 2" "$(echoed 2)" "echoed 2 of 2"
expect "a third session" "$(echoed)" "echoed 0 of 1"
logged "proxy: UDP: 2 sessions open, dropping datagrams of new ones" &&
    ok "the session limit logged" || fail "the session limit not logged"
timed_out() {	# both sessions journaled as closed
	[ "$(grep -c 'proxy: \[-\] UDP .*echo\.test.* sent 150 ' "$DLOG")" -eq 2 ]
}
if wait_for 10 timed_out; then
	expect "a session once the others timed out" "$(echoed)" \
	    "echoed 1 of 1"
else
	fail "the sessions did not time out"
fi

pw_stop
exit $T_FAILED
