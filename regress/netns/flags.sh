#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# flags: what the configuration is checked against on a running gateway:
# a range overlapping a subnet of the gateway's interfaces is refused at
# start and on reload (and warned of when an address appears under it),
# one reaching into public address space is warned of; -n names a user
# or group that does not exist; the seed's -dial-timeout in Go's syntax
# reaches the proxy; and a database left by a previous user is handed
# over at start, with a line saying so, instead of killing the dns
# process after "started".

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

if ! command -v kdig >/dev/null; then
	echo "needs kdig"
	exit 77
fi

logged() {	# logged PATTERN: the daemon's log has a line matching it
	wait_for 3 grep -q -- "$1" "$LOG"
}

q() {	# q NAME: the address dns44 gives NAME
	ip netns exec "$NS" kdig @127.0.0.1 -p 4453 +timeout=1 +retry=0 \
	    +short "$1" A 2>/dev/null
}

# start NAME [dns44 flags]: conf from stdin; the daemon's pid in P.
start() {
	n=$1
	shift
	CF=$(conf_write "$n")
	LOG=$T_TMP/$n/log
	daemon_start "$NS" "$CF" "$LOG" "$@"
	P=$D_PID
	wait_for 5 daemon_ready "$P" || { cat "$LOG"; die "$n: no start"; }
}

stop() {
	kill -TERM "$P"
	wait "$P"
}

# The range over a subnet of the gateway's: refused at start, exit 1.
ip -n "$NS" link add fl0 type veth peer name fl1 &&
    ip -n "$NS" link set fl0 up &&
    ip -n "$NS" addr add 172.24.5.1/24 dev fl0 || die "an interface"
CF=$(conf_write overlap </dev/null)
ip netns exec "$NS" "$DNS44" -d -f "$CF" >"$T_TMP/overlap/log" 2>&1
rc=$?
sub="the subnet of the gateway's address"
[ $rc -eq 1 ] && grep -q "range 172.24.0.0/16 overlaps 172.24.5.0/24, $sub \
172.24.5.1" "$T_TMP/overlap/log" && ok "overlap: refused at start" ||
    fail "overlap at start: status $rc: $(cat "$T_TMP/overlap/log")"
CF=$(printf 'range 172.24.5.128 - 172.24.5.200\n' | conf_write overlap2)
ip netns exec "$NS" "$DNS44" -d -f "$CF" >"$T_TMP/overlap2/log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "range 172.24.5.128 - 172.24.5.200 overlaps" \
    "$T_TMP/overlap2/log" && ok "overlap: a first-last range too" ||
    fail "overlap first-last: status $rc: $(cat "$T_TMP/overlap2/log")"
ip -n "$NS" addr del 172.24.5.1/24 dev fl0
ip -n "$NS" addr add 10.60.1.1/24 dev fl0 || die "address"

# On reload: a file whose range overlaps is refused, the running one kept.
start reload </dev/null
sed -i '/^range/d' "$CF"
echo "range 10.60.0.0/16" >>"$CF"
out=$("$DNS44CTL" -s "$T_TMP/reload/ctl.sock" reload 2>&1)
logged "range 10.60.0.0/16 overlaps 10.60.1.0/24, $sub 10.60.1.1" &&
    logged "configuration not reloaded" && ok "overlap: refused on reload" ||
    fail "overlap on reload: $out: $(cat "$LOG")"
# An address appearing under the running range is warned of.
ip -n "$NS" addr add 172.24.9.1/24 dev fl0
logged "range 172.24.0.0/16 overlaps 172.24.9.0/24, $sub 172.24.9.1" &&
    ok "overlap: an address added under the range is warned of" ||
    fail "overlap after start: $(cat "$LOG")"
ip -n "$NS" addr del 172.24.9.1/24 dev fl0
alive "$P" && ok "overlap on reload: still running" ||
    fail "overlap on reload: the daemon died"
stop

# Public address space: a warning, at start and with -n, and it runs.
start public <<EOF
range 192.0.3.0/24
EOF
pub="reaches into public address space"
logged "warning: range 192.0.3.0/24 $pub (192.0.3.0 is neither private \
nor reserved)" &&
    ok "public range: warned of at start" || fail "public range: $(cat "$LOG")"
r=$(q public.example)
case $r in
192.0.3.*) ok "public range: it runs: $r" ;;
*) fail "public range: answer $r" ;;
esac
stop
err=$("$DNS44" -n -f "$CF" 2>&1 >/dev/null) && rc=0 || rc=$?
[ $rc -eq 0 ] &&
    echo "$err" | grep -q "^dns44: warning: range 192.0.3.0/24 $pub" &&
    ok "public range: -n warns, exit 0" || fail "public range -n: $rc: $err"
err=$("$DNS44" -n -f "$CF" -ip-range 198.18.0.0/15 2>&1 >/dev/null) &&
    [ -z "$err" ] && ok "198.18.0.0/15: no warning" ||
    fail "198.18.0.0/15: $err"

# -n: the user and the control socket's group must exist.
CF=$(printf 'user "dns44-nobody-here"\n' | conf_write nouser)
err=$("$DNS44" -n -f "$CF" 2>&1 >/dev/null) && rc=0 || rc=$?
[ $rc -eq 1 ] &&
    echo "$err" | grep -qx "dns44: user dns44-nobody-here does not exist" &&
    ok "-n: missing user named" || fail "-n missing user: $rc: $err"
sed -i '$d' "$CF"
echo 'control socket "/run/x.sock" group "dns44-nogroup-here"' >>"$CF"
err=$("$DNS44" -n -f "$CF" 2>&1 >/dev/null) && rc=0 || rc=$?
[ $rc -eq 1 ] && echo "$err" |
    grep -qx "dns44: control socket group dns44-nogroup-here does not exist" &&
    ok "-n: missing group named" || fail "-n missing group: $rc: $err"

# -dial-timeout in Go's syntax reaches the children.
start dial -dial-timeout=1.5s </dev/null
kill -HUP "$P"
logged "dns: configuration reloaded: .*dial timeout 1500ms" &&
    logged "proxy: configuration reloaded: .*dial timeout 1500ms" &&
    ok "-dial-timeout=1.5s: 1500ms in both children" ||
    fail "-dial-timeout=1.5s: $(cat "$LOG")"
stop

# A change of user: the database of the previous one is handed over.
A=$(default_user)
B=nobody
[ "$A" = nobody ] && B=daemon
start handover <<EOF
user "$A"
EOF
ra=$(q kept.example)
stop
db=$T_TMP/handover/db
[ "$(stat -c %U "$db/dns44.tdb")" = "$A" ] ||
    fail "handover: dns44.tdb of $(stat -c %U "$db/dns44.tdb"), not $A"
sed -i "s/^user .*/user \"$B\"/" "$CF"
daemon_start "$NS" "$CF" "$LOG"
P=$D_PID
wait_for 5 daemon_ready "$P" || fail "handover: no start: $(cat "$LOG")"
logged "database $db: [0-9]* file(s) of uid $(id -u "$A") ($A) handed over \
to user $B" &&
    ok "handover: logged" || fail "handover: not logged: $(cat "$LOG")"
[ "$(stat -c %U "$db")" = "$B" ] &&
    [ "$(stat -c %U "$db/dns44.tdb")" = "$B" ] &&
    ok "handover: directory and dns44.tdb are $B's" ||
    fail "handover: $(ls -la "$db")"
sleep 0.5
rb=$(q kept.example)
[ -n "$ra" ] && [ "$ra" = "$rb" ] && alive "$P" &&
    ok "handover: the dns process runs and keeps $ra" ||
    fail "handover: $ra then $rb: $(cat "$LOG")"
stop
grep -q "process .* exited\|killed by signal" "$LOG" &&
    fail "handover: a child died: $(cat "$LOG")" || ok "handover: no child died"

# Another user's directory holding more than dns44's files is refused.
echo secret >"$db/other"
chown "$A" "$db" "$db/other"
ip netns exec "$NS" "$DNS44" -d -f "$CF" >"$T_TMP/handover/log2" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "database $db is owned by uid $(id -u "$A") and holds \
other, which is not dns44's; refusing to take it over" "$T_TMP/handover/log2" &&
    ok "handover: a foreign file refuses it" ||
    fail "handover foreign: $rc: $(cat "$T_TMP/handover/log2")"
[ "$(stat -c %U "$db/other")" = "$A" ] && ok "handover: nothing changed" ||
    fail "handover: $(ls -la "$db")"
exit $T_FAILED
