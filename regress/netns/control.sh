#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# control: every dns44ctl command against a running daemon: tables and
# JSON that say the same, flush, permissions of the control socket,
# clients that misbehave, and a listing of 100 000 mappings.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

CF=$(printf 'range 172.16.0.0/12\ndns upstream 10.99.0.1\n' | conf_write d)
LOG=$T_TMP/d/log
SOCK=$T_TMP/d/ctl.sock
daemon_start "$NS" "$CF" "$LOG"
P=$D_PID
wait_for 5 daemon_ready "$P" || { cat "$LOG"; die "no start"; }
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }
ask() { ip netns exec "$NS" kdig @127.0.0.1 -p 4453 +short "$@"; }

for n in alpha beta gamma; do
	ask "$n.test" >/dev/null || fail "query $n"
done
a_beta=$(ask beta.test)

# show map: the table and the JSON hold the same three mappings.
table=$(ctl show map) || fail "show map"
[ "$(echo "$table" | head -n 1 | awk '{ print $1, $2 }')" = \
    "DOMAIN ADDRESS" ] && ok "show map: header" || fail "show map: $table"
t=$(echo "$table" | awk 'NR > 1 { print $1, $2, $4 }' | sort)
j=$(ctl -j show map | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    print(e["domain"], e["address"], "yes" if e["in_use"] else "no")' |
    sort)
[ -n "$t" ] && [ "$t" = "$j" ] && [ "$(echo "$t" | wc -l)" = 3 ] &&
    ok "show map: table and JSON agree" ||
    fail "show map: table <$t> JSON <$j>"
echo "$t" | grep -q "^beta.test $a_beta no$" && ok "show map: beta" ||
    fail "show map lacks beta.test $a_beta"

# One mapping, by name and by address.
[ "$(ctl show map beta.test | awk 'NR == 2 { print $2 }')" = "$a_beta" ] &&
    ok "show map NAME" || fail "show map beta.test"
[ "$(ctl lookup "$a_beta" | awk 'NR == 2 { print $1 }')" = beta.test ] &&
    ok "lookup ADDRESS" || fail "lookup $a_beta"
[ "$(ctl -j lookup BETA.test. | python3 -c '
import json, sys; print(json.load(sys.stdin)[0]["address"])')" = \
    "$a_beta" ] && ok "lookup -j, any case" || fail "lookup -j"
out=$(ctl lookup nothing.test 2>&1)
[ $? -eq 1 ] && [ "$out" = "dns44ctl: no mapping for nothing.test" ] &&
    ok "lookup of nothing: exit 1" || fail "lookup nothing: $out"

# show stats: four A queries (beta twice), both forms.
ctl show stats | grep -q '^queries A  *4$' && ok "show stats" ||
    fail "show stats: $(ctl show stats)"
[ "$(ctl -j show stats | python3 -c '
import json, sys; s = json.load(sys.stdin)
print(s["queries"]["A"], s["mappings"], s["range_size"])')" = \
    "4 3 1048574" ] && ok "show stats -j" || fail "stats -j"

# flush: one, then all.
out=$(ctl flush alpha.test) && [ "$out" = "flushed 1, kept 0 in use" ] &&
    ok "flush NAME" || fail "flush alpha.test: $out"
ctl lookup alpha.test >/dev/null 2>&1 && fail "alpha.test survived" ||
    ok "flushed name is gone"
[ "$(ctl -j flush all | python3 -c '
import json, sys; s = json.load(sys.stdin)
print(s["flushed"], s["kept"], len(s["in_use"]))')" = "2 0 0" ] &&
    ok "flush all -j" || fail "flush all"
logged() { grep -q -- "$1" "$LOG"; }
logged "control: flush all requested by uid 0" && ok "flush logged" ||
    fail "flush not logged with the peer's uid"
[ "$(ctl -j show map)" = "[]" ] && ok "empty map" || fail "map not empty"
# proxy-ctl.sh tests that flush keeps the mappings open connections pin.

# Who may talk to the socket: root and the socket's group only.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$DNS44CTL" -s "$SOCK" show stats 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "cannot connect to $SOCK: Permission denied" &&
    ok "other users refused" || fail "nobody: $out"
kill -TERM "$P"
wait "$P"
grp=$(getent group 65534 | cut -d: -f1)
CF=$(printf 'dns upstream 10.99.0.1\ncontrol socket "%s" group "%s"\n' \
    "$T_TMP/g/ctl.sock" "$grp" | conf_write g)
sed -i '/^control socket.*d\/ctl.sock/d' "$CF"
sed -i "3d" "$CF"
daemon_start "$NS" "$CF" "$T_TMP/g/log"
P=$D_PID
wait_for 5 daemon_ready "$P" || { cat "$T_TMP/g/log"; die "no start"; }
SOCK=$T_TMP/g/ctl.sock
setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$DNS44CTL" -s "$SOCK" show stats >/dev/null &&
    ok "the socket's group may" || fail "group $grp refused"
out=$(setpriv --reuid=65534 --regid=1 --clear-groups \
    "$DNS44CTL" -s "$SOCK" show stats 2>&1)
[ $? -eq 1 ] && ok "another group may not" || fail "gid 1: $out"

# Broken and silent clients do not disturb it.
python3 - "$SOCK" <<'PY' || fail "bad clients"
import socket, sys, time
path = sys.argv[1]
held = []
for payload in [b"x", b"\0" * 16, b"\1\0\0\0\xff\xff\0\0" + b"\0" * 8,
                b"\x20\0\0\0\0\1\0\0\1\0\0\0\0\0\0\0" + b"y" * 300]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(payload)
    s.settimeout(2)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
for i in range(40):          # more silent clients than it serves
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
    except OSError:
        pass
    held.append(s)
time.sleep(0.5)
for s in held:
    s.close()
PY

# Descriptors sent with requests are closed, not kept: 200 clients each
# send a socket with MSG_SOCK_CONTROL, as the parent does at start, and
# a listener with MSG_SOCK_DNS_UDP.
pd=$(child_pid "$P" dns)
fds0=$(ls "/proc/$pd/fd" | wc -l)
python3 - "$SOCK" <<'PY' || fail "clients sending descriptors"
import socket, struct, sys
path = sys.argv[1]
MSG_SOCK_DNS_UDP, MSG_SOCK_CONTROL = 2, 6
sin = struct.pack("=HH4s8x", socket.AF_INET, 0, bytes(4))
for i in range(200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    r, w = socket.socketpair()
    t, body = ((MSG_SOCK_CONTROL, b"") if i % 2 == 0 else
               (MSG_SOCK_DNS_UDP, sin))
    socket.send_fds(s, [struct.pack("=IIII", t, len(body), 1, 0) + body],
                    [r.fileno()])
    s.settimeout(2)
    try:
        s.recv(100)
    except OSError:
        pass
    s.close(); r.close(); w.close()
PY
fds1=$(ls "/proc/$pd/fd" | wc -l)
[ "$fds1" -le $((fds0 + 2)) ] && ok "descriptors from clients closed" ||
    fail "dns process holds $fds0 descriptors, then $fds1"
ask after.test >/dev/null && "$DNS44CTL" -s "$SOCK" lookup after.test \
    >/dev/null && ok "still serving after bad clients" ||
    fail "not serving after bad clients"
out=$("$DNS44CTL" -s "$SOCK" frobnicate 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "^usage:" && ok "unknown command" ||
    fail "unknown command: $out"
kill -TERM "$P"
wait "$P"

# 100 000 mappings list in chunks, in well under 2 s.
CF=$(printf 'range 172.16.0.0/12\ndns upstream 10.99.0.1\n' | conf_write big)
daemon_start "$NS" "$CF" "$T_TMP/big/log"
P=$D_PID
wait_for 5 daemon_ready "$P" || die "big: no start"
n=$(ip netns exec "$NS" python3 "$srcdir/regress/lib/dnsflood.py" \
    127.0.0.1 4453 big 100000 200)
[ "$n" = 100000 ] && ok "100000 names mapped" || fail "only $n answered"
t0=$(date +%s%N)
count=$("$DNS44CTL" -s "$T_TMP/big/ctl.sock" -j show map |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
ms=$((($(date +%s%N) - t0) / 1000000))
echo "show map -j of $count mappings: ${ms}ms (parsed by python)"
t0=$(date +%s%N)
"$DNS44CTL" -s "$T_TMP/big/ctl.sock" -j show map >/dev/null
ms2=$((($(date +%s%N) - t0) / 1000000))
echo "show map -j of $count mappings: ${ms2}ms"
[ "$count" = 100000 ] && [ "$ms2" -lt 2000 ] &&
    ok "100000 mappings in ${ms2}ms" || fail "$count mappings in ${ms2}ms"
kill -TERM "$P"
wait "$P"
exit $T_FAILED
