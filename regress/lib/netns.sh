# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# netns.sh: what the end-to-end tests share.  Source it; it gives each test
# a temporary directory and a network namespace of its own, and removes
# both, and every process the test started, when the test ends however it
# ends.  Nothing here sends a packet outside the namespaces it made.

set -u

T_NAME=$(basename "$0" .sh)
T_FAILED=0
T_NS=
T_PIDS=
T_TMP=

fail() {
	echo "FAIL: $*"
	T_FAILED=1
}

ok() {
	echo "ok: $*"
}

# Ends the test: fatal errors stop here at once.
die() {
	echo "FAIL: $*"
	exit 1
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "needs root"
		exit 77
	fi
}

t_cleanup() {
	rc=$?
	for p in $T_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for ns in $T_NS; do
		# Whatever still runs inside the namespace was started by us.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns delete "$ns" 2>/dev/null
	done
	[ -n "$T_TMP" ] && rm -rf "$T_TMP"
	if [ $rc -eq 0 ] && [ $T_FAILED -ne 0 ]; then
		rc=1
	fi
	exit $rc
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM HUP

t_setup() {
	need_root
	T_TMP=$(mktemp -d "/tmp/dns44-$T_NAME.XXXXXX") || exit 1
	chmod 755 "$T_TMP"
}

# A namespace with loopback up, named in $NS.  (Not in a subshell: the
# cleanup must know it.)
ns_new() {
	NS="dns44-$(echo "$T_NAME" | cut -c1-8)-$$-$(echo "$T_NS" | wc -w)"
	ip netns add "$NS" || die "ip netns add $NS"
	T_NS="$T_NS $NS"
	ip -n "$NS" link set lo up || die "lo up in $NS"
}

# A configuration for a daemon that keeps everything inside $T_TMP/$1.
# Further lines come on stdin.  The labs' upstreams know only the names a
# test gives them, or none: new names are mapped without asking them
# ("dns verify no") unless the test sets T_VERIFY=yes, as the tests of
# verification do.
conf_write() {
	d=$T_TMP/$1
	mkdir -p "$d"
	{
		[ "${T_VERIFY:-no}" = yes ] || echo "dns verify no"
		echo "database \"$d/db\""
		echo "proxy chroot \"$d/empty\""
		echo "control socket \"$d/ctl.sock\""
		cat
	} >"$d/dns44.conf"
	echo "$d/dns44.conf"
}

# daemon_start NS CONF LOG [flags]: dns44 -d in NS, a child of this
# shell (so its status can be waited for); its pid is in $D_PID.
daemon_start() {
	ns=$1 cf=$2 lg=$3
	shift 3
	ip netns exec "$ns" "$DNS44" -d -f "$cf" "$@" >"$lg" 2>&1 &
	D_PID=$!
	T_PIDS="$T_PIDS $D_PID"
}

# The pid of a child of parent pid $1 whose title is "dns44: $2".
child_pid() {
	for c in $(pgrep -P "$1"); do
		if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null |
		    grep -q "^dns44: $2"; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# The pids of all children of parent pid $1 titled "dns44: $2", oldest
# (lowest pid) first, one a line: the proxy workers.
child_pids() {
	for c in $(pgrep -P "$1"); do
		if tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null |
		    grep -q "^dns44: $2"; then
			echo "$c"
		fi
	done | sort -n
}

# wait_for SECONDS COMMAND...: retry until the command succeeds.
wait_for() {
	n=$(($1 * 20))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# Started: both children exist and have dropped privileges.
daemon_ready() {
	pd=$(child_pid "$1" dns) && pp=$(child_pid "$1" proxy) &&
	    [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pd/status")" != 0 ] &&
	    [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pp/status")" != 0 ]
}

# cpu_ticks PID: the user and system time of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# sanitized: whether $DNS44 is built with AddressSanitizer, which makes
# the daemon's own work two to three times dearer in CPU.
sanitized() {
	grep -q __asan_init "$DNS44"
}

# perf_num FILE FIELD: a count from dnsperf's statistics in FILE, such as
# "Queries lost".
perf_num() {
	sed -n "s/^ *$2: *\([0-9]*\).*/\1/p" "$1"
}

alive() {
	kill -0 "$1" 2>/dev/null
}

dead() {
	! kill -0 "$1" 2>/dev/null ||
	    grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null
}

# The unprivileged user the children run as by default.
default_user() {
	if id -u _dns44 >/dev/null 2>&1; then
		echo _dns44
	else
		echo nobody
	fi
}
