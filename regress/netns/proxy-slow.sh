#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-slow: a client that reads nothing from a server that sends
# without end, and a server that reads nothing from a client that sends
# without end: the proxy buffers nothing of its own (the splice pipes and
# the socket buffers fill, then it waits), so its memory stays flat, and
# it uses no CPU while it waits.  A client that sends 4 MB in writes of
# 1 000 bytes to a server that starts reading only after 2 s: the bytes
# the server's side could not take at once are kept, every byte arrives
# in order.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq --host-record=slow-down.test,$PW_W --host-record=slow-up.test,$PW_W

# flood PORT: sends forever to whoever connects; sink PORT: accepts and
# never reads.
in_w $PW_PYTHON -c '
import socket, sys, threading
def flood(c):
    buf = b"x" * 65536
    try:
        while True:
            c.sendall(buf)
    except OSError:
        pass
def serve(port, fn):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], port))
    s.listen(16)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)
        if fn:
            threading.Thread(target=fn, args=(c,), daemon=True).start()
threading.Thread(target=serve, args=(7100, flood), daemon=True).start()
serve(7101, None)
' "$PW_W" >"$T_TMP/servers.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7101" || die "servers"
pw_serve lateserver 7102
pw_start d </dev/null

expect "4 MB in small writes to a late reader" \
    "$(in_cl $PW_PROBE halfclient slow-up.test 7102 4000000 4000)" ok

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$DX/status"; }

in_cl $PW_PYTHON -c '
import socket, sys, time
held = []
for i in range(20):
    # A client that never reads, to the flooding server ...
    a = socket.create_connection(("slow-down.test", 7100), timeout=5)
    held.append(a)
    # ... and one that sends until the server stops reading.
    b = socket.create_connection(("slow-up.test", 7101), timeout=5)
    b.setblocking(False)
    try:
        while True:
            b.send(b"y" * 65536)
    except BlockingIOError:
        pass
    held.append(b)
print("ready", flush=True)
time.sleep(30)
' >"$T_TMP/client.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 20 grep -q ready "$T_TMP/client.out" ||
    die "clients: $(cat "$T_TMP/client.out")"
sleep 1
r0=$(rss)
c0=$(cpu_ticks "$DX")
sleep 4
r1=$(rss)
c1=$(cpu_ticks "$DX")
echo "proxy VmRSS ${r0} kB, then ${r1} kB; CPU ticks over 4 s: $((c1 - c0))"
[ $((r1 - r0)) -lt 1024 ] && ok "memory flat while both sides stall" ||
    fail "proxy memory grew from ${r0} to ${r1} kB"
[ "$r1" -lt 65536 ] && ok "proxy RSS ${r1} kB with 40 stalled connections" ||
    fail "proxy RSS ${r1} kB"
[ $((c1 - c0)) -lt 40 ] && ok "no busy loop: $((c1 - c0)) ticks in 4 s" ||
    fail "proxy used $((c1 - c0)) ticks in 4 s"
n=$(in_gw ss -Htn state established | wc -l)
[ "$n" -ge 80 ] && ok "$n connections held open through the proxy" ||
    fail "only $n connections established in the gateway"
pw_stop
exit $T_FAILED
