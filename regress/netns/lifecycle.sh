#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# lifecycle: signals, reloads, deaths of each process, start-up errors and
# the control socket's reload and log commands.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

# start NAME [conf lines on stdin]: a daemon whose pids are in P, D, X.
start() {
	CF=$(conf_write "$1")
	LOG=$T_TMP/$1/log
	daemon_start "$NS" "$CF" "$LOG"
	P=$D_PID
	wait_for 5 daemon_ready "$P" || { cat "$LOG"; die "$1: no start"; }
	D=$(child_pid "$P" dns)
	# Every proxy worker (one a CPU by default).
	X=$(child_pids "$P" proxy | tr '\n' ' ')
}

# stopped WHAT: after the parent's status was taken, no process is left.
stopped_within() {	# SECONDS PID...
	s=$1
	shift
	for p in "$@"; do
		wait_for "$s" dead "$p" || return 1
	done
}

logged() {	# logged PATTERN: the daemon's log has a line matching it
	wait_for 3 grep -q -- "$1" "$LOG"
}

# SIGTERM and SIGINT: everything stops within 2 s, status 0.
for sig in TERM INT; do
	start "sig$sig" </dev/null
	t0=$(date +%s%N)
	kill -$sig "$P"
	wait "$P"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $rc -eq 0 ] && ok "SIG$sig: exit 0" ||
	    fail "SIG$sig: status $rc: $(cat "$LOG")"
	stopped_within 2 "$D" $X && [ $ms -lt 2000 ] &&
	    ok "SIG$sig: all stopped in ${ms}ms" ||
	    fail "SIG$sig: still running after ${ms}ms"
	[ ! -e "$T_TMP/sig$sig/ctl.sock" ] && ok "SIG$sig: socket removed" ||
	    fail "SIG$sig: control socket left behind"
done

# A child killed: the parent says which and how, stops the other, fails.
for victim in dns proxy; do
	start "kill$victim" </dev/null
	# The last proxy worker: any one of them stops the daemon.
	if [ $victim = dns ]; then
		v=$D other=$X
	else
		v=$(echo $X | awk '{ print $NF }')
		other="$D $(echo $X | awk '{ $NF = ""; print }')"
	fi
	kill -9 "$v"
	wait "$P"
	rc=$?
	[ $rc -ne 0 ] && ok "$victim killed: parent status $rc" ||
	    fail "$victim killed: parent exited 0"
	stopped_within 2 $other && ok "$victim killed: the others stopped" ||
	    fail "$victim killed: another child still runs"
	grep -Eq "$victim( [0-9]+)? process \(pid $v\) was killed by signal 9" \
	    "$LOG" &&
	    ok "$victim killed: logged" ||
	    fail "$victim killed: not logged: $(cat "$LOG")"
done

# The parent killed: both children notice and exit.
start killparent </dev/null
kill -9 "$P"
wait "$P"
stopped_within 2 "$D" $X && ok "parent killed: children exited" ||
    fail "parent killed: children still run"
# Each notices the parent's channel, or the other child's, closing first.
logged "dns: \(parent\|proxy\) channel closed" &&
    logged "proxy: \(parent\|dns\) channel closed" &&
    ok "parent killed: children logged it" ||
    fail "parent killed: $(cat "$LOG")"

# SIGHUP: a good file is sent to both children, a broken one is refused.
start reload </dev/null
echo "dns ttl 300" >>"$CF"
kill -HUP "$P"
logged "dns: configuration reloaded: ttl 300" &&
    logged "proxy: configuration reloaded: ttl 300" &&
    ok "SIGHUP: both children have the new ttl" ||
    fail "SIGHUP: $(cat "$LOG")"
echo "dns ttl seven" >>"$CF"
kill -HUP "$P"
logged "$CF:$(wc -l <"$CF"): " && logged "configuration not reloaded" &&
    ok "SIGHUP: broken file refused with file:line" ||
    fail "SIGHUP broken: $(cat "$LOG")"
kill -0 "$D" $X "$P" 2>/dev/null && ok "SIGHUP: still running" ||
    fail "SIGHUP: a process died"
sed -i '$d' "$CF"
echo "dns listen 127.0.0.1 port 5353" >>"$CF"
echo "dns ttl 60" >>"$CF"
kill -HUP "$P"
logged "dns listen cannot change on reload" &&
    logged "dns: configuration reloaded: ttl 60" &&
    ok "SIGHUP: socket settings kept, the rest applied" ||
    fail "SIGHUP listen: $(cat "$LOG")"

# dns44ctl reload and log, through the control socket.
out=$("$DNS44CTL" -s "$T_TMP/reload/ctl.sock" reload 2>&1) &&
    logged "control: reload requested by uid 0" ||
    fail "dns44ctl reload: $out"
n=$(grep -c "dns: configuration reloaded" "$LOG")
[ "$n" -ge 3 ] && ok "dns44ctl reload: reloaded" ||
    fail "dns44ctl reload: $n reloads logged"
"$DNS44CTL" -s "$T_TMP/reload/ctl.sock" log verbose &&
    logged "control: log verbose requested" && ok "dns44ctl log verbose" ||
    fail "dns44ctl log verbose"
out=$("$DNS44CTL" -s "$T_TMP/reload/ctl.sock" frobnicate 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q usage && ok "dns44ctl: unknown command" ||
    fail "dns44ctl unknown command: $out"
kill -TERM "$P"
wait "$P"
out=$("$DNS44CTL" -s "$T_TMP/reload/ctl.sock" reload 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "^dns44ctl: cannot connect to $T_TMP/reload/ctl.sock: " &&
    ok "dns44ctl: no daemon" || fail "dns44ctl no daemon: $out"

# Start-up errors name what is wrong and exit 1 before anything starts.
ip netns exec "$NS" socat -u UDP4-RECV:4453,bind=127.0.0.1 /dev/null &
T_PIDS="$T_PIDS $!"
wait_for 3 sh -c "ip netns exec $NS ss -Hlun | grep -q 127.0.0.1:4453"
CF=$(conf_write busy </dev/null)
ip netns exec "$NS" "$DNS44" -d -f "$CF" >"$T_TMP/busy/log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "UDP socket on 127.0.0.1:4453: Address already in use" \
    "$T_TMP/busy/log" && ok "address in use reported" ||
    fail "address in use: status $rc: $(cat "$T_TMP/busy/log")"
exit $T_FAILED
