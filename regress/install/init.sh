#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# init: the init script for hosts without systemd, run in a namespace of
# the test's own on the built binary, with a pid file, a log and every
# path of the daemon inside the test's directory.  start, status (0, then
# 3 once stopped, 1 with a stale pid file), start when running, reload
# (the daemon logs it), restart, stop, stop when stopped, a configuration
# error; with start-stop-daemon, without, and logging to syslog.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

INIT=$builddir/etc/dns44.init
[ -s "$INIT" ] || die "$INIT was not generated"
CF=$(conf_write init </dev/null)
SOCK=$T_TMP/init/ctl.sock

# init ARGS...: the script in the namespace; its output in $OUT, status $RC.
init() {
	OUT=$(ip netns exec "$NS" env DNS44="$DNS44" DNS44_CONF="$CONF" \
	    PIDFILE="$PIDF" DNS44_LOG="$LOGF" DNS44_SSD="$SSD" \
	    DNS44_DEFAULTS=/dev/null START_WAIT=5 STOP_WAIT=5 \
	    sh "$INIT" "$@" 2>&1)
	RC=$?
}

# expect WHAT STATUS [PATTERN]: the last init ended so, saying so.
expect() {
	if [ "$RC" -eq "$2" ] &&
	    { [ -z "${3:-}" ] || echo "$OUT" | grep -q -- "$3"; }; then
		ok "$M: $1"
	else
		fail "$M: $1: status $RC, expected $2: $OUT"
		[ -f "$LOGF" ] && tail -n 5 "$LOGF"
	fi
}

pid_of() {
	cat "$PIDF" 2>/dev/null
}

# All gone: the parent, its children, the pid file and the socket.
gone() {	# gone PID DNSPID PROXYPID
	wait_for 5 dead "$1" && wait_for 5 dead "$2" && wait_for 5 dead "$3" &&
	    [ ! -e "$PIDF" ] && [ ! -e "$SOCK" ]
}

have_ssd=no
command -v start-stop-daemon >/dev/null 2>&1 && have_ssd=yes

for M in start-stop-daemon plain syslog; do
	CONF=$CF
	PIDF=$T_TMP/$M.pid
	LOGF=$T_TMP/$M.log
	SSD=no
	case $M in
	start-stop-daemon)
		if [ $have_ssd = no ]; then
			echo "skipped: no start-stop-daemon"
			continue
		fi
		SSD=yes
		;;
	syslog)
		LOGF=syslog
		;;
	esac

	init status
	expect "status before start" 3 "not running"
	init start
	expect "start" 0
	P=$(pid_of)
	if [ -z "$P" ] || ! wait_for 5 daemon_ready "$P"; then
		fail "$M: dns44 is not up (pid file: $P)"
		continue
	fi
	T_PIDS="$T_PIDS $P"
	D=$(child_pid "$P" dns)
	X=$(child_pid "$P" proxy)
	ok "$M: the pid file has the parent, $P"
	init status
	expect "status when running" 0 "running (pid $P)"
	init start
	expect "start when running" 0 "already running"
	[ "$(pid_of)" = "$P" ] || fail "$M: a second start changed the pid"

	if [ "$LOGF" != syslog ]; then
		init reload
		expect "reload" 0
		wait_for 5 grep -q "parent: configuration reloaded" "$LOGF" &&
		    ok "$M: the daemon logged the reload" ||
		    fail "$M: no reload in the log: $(tail -n 5 "$LOGF")"
		grep -q "parent: started" "$LOGF" &&
		    ok "$M: the log has the daemon's lines" ||
		    fail "$M: log: $(cat "$LOGF")"
	fi

	init stop
	expect "stop" 0
	gone "$P" "$D" "$X" && ok "$M: everything stopped and removed" ||
	    fail "$M: something is left after stop"
	init status
	expect "status after stop" 3 "not running"
	init stop
	expect "stop when stopped" 0 "not running"
done

M=plain
SSD=no
CONF=$CF
PIDF=$T_TMP/more.pid
LOGF=$T_TMP/more.log

# restart gives a new daemon.
init start
expect "start" 0
P=$(pid_of)
T_PIDS="$T_PIDS $P"
wait_for 5 daemon_ready "$P" || fail "$M: not up"
init restart
expect "restart" 0
P2=$(pid_of)
T_PIDS="$T_PIDS $P2"
[ -n "$P2" ] && [ "$P2" != "$P" ] && wait_for 5 dead "$P" &&
    wait_for 5 daemon_ready "$P2" && ok "$M: restart made a new daemon" ||
    fail "$M: restart: old $P, new $P2"

# A daemon that died leaves a stale pid file: status 1; start replaces it.
D=$(child_pid "$P2" dns)
X=$(child_pid "$P2" proxy)
kill -9 "$P2"
wait_for 5 dead "$P2" && wait_for 5 dead "$D" && wait_for 5 dead "$X" ||
    fail "$M: the killed daemon's children stay"
init status
expect "status with a stale pid file" 1 "not running, but"
init start
expect "start over a stale pid file" 0
P3=$(pid_of)
T_PIDS="$T_PIDS $P3"
[ "$P3" != "$P2" ] && wait_for 5 daemon_ready "$P3" &&
    ok "$M: running again" || fail "$M: not running after a stale pid file"
init stop
expect "stop" 0

# A configuration error: start refuses, nothing runs, the error is shown.
echo "dns ttl forever" >"$T_TMP/bad.conf"
CONF=$T_TMP/bad.conf
init start
expect "start with a bad configuration fails" 6 "bad.conf:1"
init status
expect "status after a refused start" 3
CONF=$CF

# A daemon that fails once started (its proxy port is taken): start fails.
ip netns exec "$NS" socat TCP4-LISTEN:4480,bind=127.0.0.1,reuseaddr \
    /dev/null &
T_PIDS="$T_PIDS $!"
wait_for 3 ip netns exec "$NS" sh -c 'ss -Hltn | grep -q 127.0.0.1:4480'
init start
expect "start fails when dns44 cannot start" 1 "failed to start"
init status
expect "status after a failed start" 3
