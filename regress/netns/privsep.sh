#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# privsep: the three processes run with exactly the privileges DESIGN.md
# gives them, hold the sockets they should, and carry their titles.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

cf=$(conf_write d </dev/null)
log=$T_TMP/d/log
# Started with supplementary groups (root and adm), as from a login that
# has some: the children must shed them.
ip netns exec "$NS" setpriv --groups 0,4 -- "$DNS44" -d -f "$cf" \
    >"$log" 2>&1 &
D_PID=$!
T_PIDS="$T_PIDS $D_PID"
parent=$D_PID
wait_for 5 daemon_ready "$parent" || { cat "$log"; die "daemon did not start"; }
dns=$(child_pid "$parent" dns)
# proxy workers auto, the default: one a CPU.
proxies=$(child_pids "$parent" proxy | tr '\n' ' ' | sed 's/ $//')

user=$(default_user)
uid=$(id -u "$user")
gid=$(id -g "$user")

field() {	# field PID NAME: the value of NAME in /proc/PID/status
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^[ \t]+/, ""); print }' \
	    "/proc/$1/status"
}

expect() {	# expect WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

tab() {		# the four ids of a Uid: or Gid: line
	printf '%s %s %s %s' "$1" "$1" "$1" "$1"
}

# Parent: root, with CAP_NET_ADMIN (12) and CAP_NET_BIND_SERVICE (10) only.
expect "parent Uid" "$(field "$parent" Uid)" "$(tab 0)"
expect "parent CapEff" "$(field "$parent" CapEff)" 0000000000001400
expect "parent CapPrm" "$(field "$parent" CapPrm)" 0000000000001400
expect "parent CapBnd" "$(field "$parent" CapBnd)" 0000000000001400
expect "parent CapInh" "$(field "$parent" CapInh)" 0000000000000000
expect "parent CapAmb" "$(field "$parent" CapAmb)" 0000000000000000
expect "parent NoNewPrivs" "$(field "$parent" NoNewPrivs)" 1
expect "parent root" "$(readlink "/proc/$parent/root")" /
expect "parent Groups" "$(field "$parent" Groups)" "0 4"

expect "proxy workers, one a CPU" "$(echo "$proxies" | wc -w)" \
    "$(nproc)"

# Children: the unprivileged user, no capability, chrooted.
set -- dns
i=0
for p in $proxies; do
	i=$((i + 1))
	eval "proxy$i=$p"
	set -- "$@" proxy$i
done
for role in "$@"; do
	eval pid=\$$role
	expect "$role Uid" "$(field "$pid" Uid)" "$(tab "$uid")"
	expect "$role Gid" "$(field "$pid" Gid)" "$(tab "$gid")"
	expect "$role Groups" "$(field "$pid" Groups)" ""
	for c in CapEff CapPrm CapBnd CapInh CapAmb; do
		expect "$role $c" "$(field "$pid" $c)" 0000000000000000
	done
	expect "$role NoNewPrivs" "$(field "$pid" NoNewPrivs)" 1
done
expect "dns root" "$(readlink "/proc/$dns/root")" "$T_TMP/d/db"
# Both children run under their seccomp filters (2: filter mode).
expect "dns Seccomp" "$(field "$dns" Seccomp)" 2
for p in $proxies; do
	expect "proxy $p Seccomp" "$(field "$p" Seccomp)" 2
	expect "proxy $p root" "$(readlink "/proc/$p/root")" "$T_TMP/d/empty"
done

# The database directory belongs to the user, the empty one to root.
expect "db owner" "$(stat -c '%u:%g %a' "$T_TMP/d/db")" "$uid:$gid 700"
expect "empty owner" "$(stat -c '%u:%g %a' "$T_TMP/d/empty")" "0:0 755"
expect "control socket" "$(stat -c '%u:%g %a %F' "$T_TMP/d/ctl.sock")" \
    "0:0 660 socket"

# Titles, in ps and in the kernel's comm.
shift
for role in parent dns "$@"; do
	eval pid=\$$role
	title=$(echo "$role" | sed 's/[0-9]*$//')
	expect "$role cmdline" "$(tr '\0' ' ' <"/proc/$pid/cmdline" |
	    sed 's/ *$//')" "dns44: $title"
	expect "$role comm" "$(cat "/proc/$pid/comm")" "dns44: $title"
done

# Each listener is held by the process that serves it, not the parent.
owner() {	# owner PROTO PORT: the pids holding that listener
	ip netns exec "$NS" ss -Hlnp -A "$1" "sport = :$2" |
	    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -nu | tr '\n' ' ' |
	    sed 's/ $//'
}
expect "DNS UDP 4453" "$(owner udp 4453)" "$dns"
expect "DNS TCP 4453" "$(owner tcp 4453)" "$dns"
# A TCP and a UDP listener a worker.
expect "proxy UDP 4480" "$(owner udp 4480)" "$proxies"
expect "proxy TCP 4480" "$(owner tcp 4480)" "$proxies"
expect "control socket holder" "$(ip netns exec "$NS" ss -Hlxp |
    grep "$T_TMP/d/ctl.sock" | grep -o 'pid=[0-9]*' | cut -d= -f2 |
    sort -u)" "$dns"

# A named user that does not exist is an error, not a fallback.
cf2=$(printf 'user "no-such-user-dns44"\n' | conf_write e)
ip netns exec "$NS" "$DNS44" -d -f "$cf2" >"$T_TMP/e/log" 2>&1
rc=$?
expect "unknown user exits 1" "$rc" 1
grep -q 'unknown user no-such-user-dns44' "$T_TMP/e/log" &&
    ok "unknown user named" || fail "unknown user: $(cat "$T_TMP/e/log")"

kill -TERM "$parent"
wait "$parent"
expect "exit status after SIGTERM" "$?" 0
exit $T_FAILED
