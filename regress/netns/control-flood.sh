#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# control-flood: a client opens about 7 000 UDP sessions through the
# proxy, one datagram from each of 1 200 source ports to six virtual
# addresses, and eight dns44ctl loops ask for show connections and show
# map at once.  The listings go out as the channels drain: the daemon
# stays up, every listing is complete or ends with an error, and DNS and
# the proxy still serve.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve udpecho 7
# One client opens every session, so its own limit is raised above them.
pw_start d <<'EOF'
proxy per-client sessions 10000
EOF
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }

names="site.test echo.test echo-dns.test half.test iperf.test pin.test"
virts=
for n in $names; do
	v=$(cl_q "$n" A)
	[ -n "$v" ] || die "no address for $n"
	virts="$virts $v"
done
nports=${FLOOD_PORTS:-1200}
nsess=$((nports * 6))

# The sessions: each socket sends one datagram to every address, and the
# echo comes back through the proxy; the sockets stay open meanwhile.
in_cl "$PW_PYTHON" - "$nports" $virts >"$T_TMP/flood.out" 2>&1 <<'PY' &
import resource, select, socket, sys, time
n = int(sys.argv[1]); virts = sys.argv[2:]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    for v in virts:
        s.sendto(b"x", (v, 7))
    socks.append(s)
    if i % 100 == 99:
        time.sleep(0.05)
got, end = 0, time.time() + 20
ep = select.epoll()
for s in socks:
    ep.register(s.fileno(), select.EPOLLIN)
byfd = {s.fileno(): s for s in socks}
while got < n * len(virts) and time.time() < end:
    for fd, _ in ep.poll(1):
        try:
            while True:
                byfd[fd].recv(16)
                got += 1
        except BlockingIOError:
            pass
print(got, flush=True)
time.sleep(120)
PY
T_PIDS="$T_PIDS $!"
open_udp() {
	ctl -j show stats | python3 -c '
import json, sys; print(json.load(sys.stdin)["udp_sessions_open"])'
}
sessions_up() { [ "$(open_udp)" -ge $((nsess * 95 / 100)) ]; }
wait_for 60 sessions_up || fail "only $(open_udp) sessions open"
echo "$(open_udp) UDP sessions open; echoes: $(cat "$T_TMP/flood.out")"

# Eight loops of listings at once, each for 10 s.
i=0
pids=
while [ $i -lt 8 ]; do
	(
		end=$(($(date +%s) + 10))
		while [ "$(date +%s)" -lt $end ]; do
			if [ $((i % 2)) -eq 0 ]; then
				what=connections
			else
				what=map
			fi
			if out=$("$DNS44CTL" -s "$SOCK" -j show $what 2>&1)
			then
				echo "$out" | python3 -c '
import json, sys; print("complete", len(json.load(sys.stdin)))' ||
				    echo "broken: $what"
			else
				echo "error: $(echo "$out" | head -n 1)"
			fi
		done
	) >"$T_TMP/loop.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
T_PIDS="$T_PIDS $pids"
wait $pids
cat "$T_TMP"/loop.* | sort | uniq -c | sort -rn | head -n 12

! dead "$DP" && ok "the daemon is still up" ||
    die "the daemon stopped: $(grep -v "\[[+-]\]" "$DLOG" | tail -n 8)"
grep -q "broken:" "$T_TMP"/loop.* && fail "a listing was cut short" ||
    ok "every listing complete or an error"
most=$(cat "$T_TMP"/loop.0 "$T_TMP"/loop.2 "$T_TMP"/loop.4 \
    "$T_TMP"/loop.6 | awk '$1 == "complete" && $2 > n { n = $2 }
    END { print n + 0 }')
[ "$most" -ge $((nsess * 95 / 100)) ] &&
    ok "show connections listed $most sessions" ||
    fail "show connections listed at most $most of $nsess"
grep -q "^complete 6\$" "$T_TMP"/loop.1 && ok "show map listed six" ||
    fail "show map: $(head -n 3 "$T_TMP/loop.1")"
if grep -q "^error: " "$T_TMP"/loop.*; then
	grep -h "^error: " "$T_TMP"/loop.* | grep -v -q \
	    "busy\|one request at a time" &&
	    fail "an error without a reason: $(grep -h '^error' \
	    "$T_TMP"/loop.* | head -n 1)"
fi

expect "DNS still answers" "$(cl_rcode new.test A)" NOERROR
out=$(in_cl $PW_PROBE udpclient echo.test 7 3 2>&1)
echo "$out" | grep -q "echoed 3 of 3" && ok "UDP through the proxy: $out" ||
    fail "UDP through the proxy: $out"
pw_stop
exit $T_FAILED
