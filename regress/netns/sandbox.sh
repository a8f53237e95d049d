#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# sandbox: what a compromised child could try, tried inside the running
# children.  Each child has its seccomp filter, a session of its own,
# /dev/null for standard input and none of the descriptors its parent
# was started with.  The test build (regress/parent/dns44-regress) has a
# child try a forbidden call once its filter is on: an AF_UNIX socket
# fails with EACCES and the child goes on serving; a signal to another
# process, another's limits, TIOCSTI and executable memory kill it.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new
REG=$builddir/regress/parent/dns44-regress
[ -x "$REG" ] || die "no $REG"
ask() {
	ip netns exec "$NS" kdig @127.0.0.1 -p 4453 +timeout=2 +retry=0 \
	    +short "$@"
}

# The daemon started with a file open on descriptor 7, as a careless
# service manager or shell might leave one.
echo secret >"$T_TMP/held"
CF=$(printf 'dns upstream 10.99.0.1\n' | conf_write d)
ip netns exec "$NS" "$DNS44" -d -f "$CF" >"$T_TMP/d/log" 2>&1 \
    7<"$T_TMP/held" &
P=$!
T_PIDS="$T_PIDS $P"
wait_for 5 daemon_ready "$P" || { cat "$T_TMP/d/log"; die "no start"; }
# The session of a process: the fourth field after its name.
sid() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $4 }'; }
# Every proxy worker (one a CPU by default) as well as the dns process.
for c in $(child_pid "$P" dns) $(child_pids "$P" proxy); do
	role=$(tr '\0' ' ' <"/proc/$c/cmdline" | sed 's/^dns44: //; s/ *$//')
	[ "$(awk '/^Seccomp:/ { print $2 }' "/proc/$c/status")" = 2 ] &&
	    ok "$role: seccomp filter on" || fail "$role: no seccomp filter"
	[ "$(readlink "/proc/$c/fd/0")" = /dev/null ] &&
	    ok "$role: stdin is /dev/null" ||
	    fail "$role: stdin is $(readlink "/proc/$c/fd/0")"
	[ "$(sid "$c")" = "$c" ] && [ "$(sid "$P")" != "$c" ] &&
	    ok "$role: a session of its own" ||
	    fail "$role: session $(sid "$c"), the parent's $(sid "$P")"
	ls -l "/proc/$c/fd" | grep -q "$T_TMP/held" &&
	    fail "$role: holds the parent's descriptor 7" ||
	    ok "$role: none of the parent's descriptors"
done
[ "$(ask a.test | wc -l)" = 1 ] && ok "and it answers" || fail "no answer"
kill -TERM "$P"
wait "$P"

# probe ROLE CALL: the test build's ROLE child tries CALL; its log.
probe() {
	cf=$(printf 'dns upstream 10.99.0.1\n' | conf_write "$1-$2")
	lg=$T_TMP/$1-$2/log
	DNS44_SANDBOX_ROLE=$1 DNS44_SANDBOX_PROBE=$2 \
	    ip netns exec "$NS" "$REG" -d -f "$cf" >"$lg" 2>&1 &
	PP=$!
	T_PIDS="$T_PIDS $PP"
	wait_for 5 grep -q "sandbox probe: $2\$" "$lg" ||
	    { cat "$lg"; die "$1: no probe $2"; }
}

for role in dns proxy; do
	probe $role unix
	wait_for 5 grep -q "$role: sandbox probe: unix: Permission denied" \
	    "$lg" && ok "$role: socket(AF_UNIX) refused" ||
	    fail "$role: socket(AF_UNIX): $(grep 'probe: unix:' "$lg")"
	wait_for 5 daemon_ready "$PP" && [ "$(ask b.test | wc -l)" = 1 ] &&
	    ok "$role: and the daemon still answers" ||
	    fail "$role: no answer after the AF_UNIX probe"
	kill -TERM "$PP"
	wait "$PP"
	for call in kill prlimit tiocsti mprotect; do
		probe $role $call
		# A child the call did not kill would keep it running.
		wait_for 5 dead "$PP" || kill -TERM "$PP"
		wait "$PP"
		rc=$?
		grep -Eq "parent: $role( [0-9]+)? process \(pid [0-9]+\) was \
killed by signal 31" "$lg" && ! grep -q "sandbox probe: $call: " "$lg" &&
		    [ $rc -ne 0 ] && ok "$role: $call kills it" ||
		    fail "$role: $call: status $rc, $(grep 'probe\|killed' \
		    "$lg")"
	done
done
exit $T_FAILED
