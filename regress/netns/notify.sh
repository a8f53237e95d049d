#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# notify: the service manager's protocol, spoken to a datagram socket of
# the test's own set as NOTIFY_SOCKET: READY=1 once the dns port answers,
# RELOADING=1 then READY=1 around a reload (a refused one too, and READY=1
# only once a stopped worker runs again), STATUS=,
# WATCHDOG=1 while both children answer (and not while one is stopped),
# STOPPING=1 on SIGTERM; the children never see NOTIFY_SOCKET.  And with
# JOURNAL_STREAM naming stderr, lines carry <N> priorities and no date.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

if ! command -v kdig >/dev/null || ! command -v python3 >/dev/null; then
	echo "needs kdig and python3"
	exit 77
fi
if ! grep -q 'HAVE_LIBSYSTEMD 1' "$builddir/config.h" 2>/dev/null; then
	echo "built without libsystemd"
	exit 77
fi

SOCK=$T_TMP/notify.sock
MSGS=$T_TMP/notify.msgs
# Each datagram on one line, its lines joined with " | ".
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
	while True:
		d = s.recv(4096).decode(errors="replace")
		f.write(" | ".join(d.strip().split("\n")) + "\n")
		f.flush()
' "$SOCK" "$MSGS" &
T_PIDS="$T_PIDS $!"
wait_for 3 test -S "$SOCK" || die "notify socket"
: >>"$MSGS"

CF=$(conf_write n </dev/null)
LOG=$T_TMP/n/log
: >"$LOG"
# The journal's stream is a file here: what counts is that stderr is it.
JS=$(stat -c '%d:%i' "$LOG")
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000 JOURNAL_STREAM=$JS \
    ip netns exec "$NS" "$DNS44" -d -f "$CF" >>"$LOG" 2>&1 &
P=$!
T_PIDS="$T_PIDS $P"

# got PATTERN [FROM]: a datagram matching PATTERN, after line FROM.
got() {
	tail -n +$((${2:-0} + 1)) "$MSGS" | grep -q -- "$1"
}
mark() {
	wc -l <"$MSGS"
}

wait_for 5 got '^READY=1' || { cat "$LOG" "$MSGS"; die "no READY=1"; }
r=$(ip netns exec "$NS" kdig @127.0.0.1 -p 4453 +timeout=1 +retry=0 \
    +short ready.example A 2>/dev/null)
case $r in
172.24.*) ok "READY=1, and the dns port answers at once: $r" ;;
*) fail "READY=1, but the dns port: $r" ;;
esac
got '^STATUS=starting' && ok "STATUS=starting first" ||
    fail "no STATUS=starting: $(cat "$MSGS")"
wait_for 3 got 'STATUS=running: [0-9]* names mapped, [0-9]* connections' &&
    ok "STATUS=running: ... names mapped" || fail "STATUS: $(cat "$MSGS")"
n=$(grep -c '^READY=1' "$MSGS")
[ "$n" -eq 1 ] && ok "READY=1 once" || fail "READY=1 $n times"

# The children neither see the socket nor may speak.
D=$(child_pid "$P" dns) && X=$(child_pid "$P" proxy) ||
    die "children: $(cat "$LOG")"
for c in "$D" "$X"; do
	tr '\0' '\n' <"/proc/$c/environ" | grep -q '^NOTIFY_SOCKET=\|^WATCHDOG_' &&
	    fail "child $c has NOTIFY_SOCKET or WATCHDOG_*" ||
	    ok "child $c: no NOTIFY_SOCKET, no WATCHDOG_*"
done

# The watchdog: WATCHDOG_USEC=1s, a ping every half second.
m=$(mark)
sleep 2.2
n=$(tail -n +$((m + 1)) "$MSGS" | grep -c '^WATCHDOG=1')
[ "$n" -ge 3 ] && ok "watchdog: $n pings in 2.2s" ||
    fail "watchdog: $n pings in 2.2s: $(cat "$MSGS")"

# A child that cannot answer its heartbeats stops the pings; they come
# back when it does.
kill -STOP "$X"
sleep 0.7
m=$(mark)
sleep 1.5
n=$(tail -n +$((m + 1)) "$MSGS" | grep -c '^WATCHDOG=1')
kill -CONT "$X"
[ "$n" -eq 0 ] && ok "watchdog: no ping while the proxy is stopped" ||
    fail "watchdog: $n pings while the proxy is stopped"
m=$(mark)
wait_for 3 got '^WATCHDOG=1' "$m" && ok "watchdog: pings again" ||
    fail "watchdog: no ping after SIGCONT"

# A reload while a proxy worker is stopped: RELOADING=1, and READY=1
# only once the worker runs again and has answered after the new
# configuration.
m=$(mark)
kill -STOP "$X"
echo "dns ttl 301" >>"$CF"
kill -HUP "$P"
wait_for 3 got '^RELOADING=1' "$m" || fail "stopped worker: no RELOADING=1"
sleep 1
got '^READY=1' "$m" && fail "READY=1 while a worker is stopped" ||
    ok "no READY=1 while a worker is stopped"
kill -CONT "$X"
wait_for 3 got '^READY=1' "$m" && ok "READY=1 once it runs again" ||
    fail "no READY=1 after SIGCONT"
grep -q "proxy: configuration reloaded: ttl 301" "$LOG" &&
    ok "by then the worker has the new configuration" ||
    fail "READY=1 before the worker reloaded: $(tail -5 "$LOG")"

# dns44ctl reload: RELOADING=1 (with MONOTONIC_USEC=), then READY=1.
m=$(mark)
echo "dns ttl 300" >>"$CF"
"$DNS44CTL" -s "$T_TMP/n/ctl.sock" reload >/dev/null 2>&1 ||
    fail "dns44ctl reload"
wait_for 3 got '^READY=1' "$m" || fail "reload: no READY=1"
seq=$(tail -n +$((m + 1)) "$MSGS" | grep -v '^WATCHDOG=1$' |
    grep -o '^RELOADING=1\|^READY=1' | tr '\n' ' ')
[ "$seq" = "RELOADING=1 READY=1 " ] && ok "reload: RELOADING=1, READY=1" ||
    fail "reload: $seq: $(tail -n +$((m + 1)) "$MSGS")"
tail -n +$((m + 1)) "$MSGS" |
    grep -q '^RELOADING=1 | MONOTONIC_USEC=[0-9][0-9]* | STATUS=reloading' &&
    ok "reload: MONOTONIC_USEC= and STATUS=reloading" ||
    fail "reload: $(tail -n +$((m + 1)) "$MSGS")"
grep -q "dns: configuration reloaded: ttl 300" "$LOG" &&
    grep -q "proxy: configuration reloaded: ttl 300" "$LOG" &&
    ok "reload: READY=1 after both children had it" ||
    fail "reload: READY=1 before the children logged it: $(cat "$LOG")"

# A refused reload: the same, and STATUS= says so.
m=$(mark)
echo "dns ttl seven" >>"$CF"
kill -HUP "$P"
wait_for 3 got '^READY=1' "$m" || fail "refused reload: no READY=1"
seq=$(tail -n +$((m + 1)) "$MSGS" | grep -o '^RELOADING=1\|^READY=1' |
    tr '\n' ' ')
[ "$seq" = "RELOADING=1 READY=1 " ] &&
    ok "refused reload: RELOADING=1, READY=1" || fail "refused reload: $seq"
tail -n +$((m + 1)) "$MSGS" | grep -q 'last reload failed' &&
    ok "refused reload: STATUS= says so" ||
    fail "refused reload: $(tail -n +$((m + 1)) "$MSGS")"
sed -i '$d' "$CF"

# SIGTERM: STOPPING=1, and no ping after it.
m=$(mark)
kill -TERM "$P"
wait "$P"
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: status $rc"
sleep 0.2
after=$(tail -n +$((m + 1)) "$MSGS" | sed -n '/^STOPPING=1/,$p')
echo "$after" | grep -q '^STOPPING=1 | STATUS=stopping' &&
    ok "SIGTERM: STOPPING=1" || fail "SIGTERM: $(tail -n +$((m + 1)) "$MSGS")"
echo "$after" | grep -q '^WATCHDOG=1' && fail "a ping after STOPPING=1" ||
    ok "no ping after STOPPING=1"

# The journal's priorities: every line has one, none has a date.
grep -q '^<6>parent: started' "$LOG" && ok "journal: <6>parent: started" ||
    fail "journal: $(head -n 3 "$LOG")"
grep -q '^<6>dns: map: ' "$LOG" && ok "journal: the dns process's lines" ||
    fail "journal: no <6>dns: line"
grep -q '^<3>parent: configuration not reloaded' "$LOG" &&
    ok "journal: <3> for an error" || fail "journal: no <3> error line"
grep -q '^<3>parent: .*dns44.conf:[0-9]*: ' "$LOG" &&
    ok "journal: <3> for the file:line" || fail "journal: file:line"
bad=$(grep -v '^<[0-7]>[a-z]*: ' "$LOG")
[ -z "$bad" ] && ok "journal: every line has a priority" ||
    fail "journal: lines without: $bad"
grep -q '[0-9]\{4\}/[0-9][0-9]/[0-9][0-9] ' "$LOG" &&
    fail "journal: a date in a line" || ok "journal: no date"

# JOURNAL_STREAM naming another file: lines as before.
CF2=$(conf_write plain </dev/null)
LOG2=$T_TMP/plain/log
JOURNAL_STREAM=$JS ip netns exec "$NS" "$DNS44" -d -f "$CF2" >"$LOG2" 2>&1 &
P2=$!
T_PIDS="$T_PIDS $P2"
wait_for 5 grep -q "parent: started" "$LOG2" || die "plain: no start"
kill -TERM "$P2"
wait "$P2"
grep -q '^[0-9]\{4\}/[0-9][0-9]/[0-9][0-9] [0-9:.]* parent: started' "$LOG2" &&
    ! grep -q '^<' "$LOG2" && ok "another stderr: dated lines, no <N>" ||
    fail "another stderr: $(cat "$LOG2")"
exit $T_FAILED
