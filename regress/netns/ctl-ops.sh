#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# ctl-ops: dns44ctl as an operator uses it.  The socket found through
# -f in a non-default place; a reload of a broken file that prints its
# file:line errors, exits 1 and leaves the old configuration running;
# users of the control group who may look but not flush, reload or change
# the log, of the admin group who may, and of neither, turned away; dump
# of a stopped daemon's database, the same lines show map printed, and
# refused while the daemon runs; the manual's example against the output;
# a full control socket lets root in, in place of a reader.

. "$srcdir/regress/lib/netns.sh"
t_setup

# Users and groups of the test's own, gone at the end however it ends.
RG=d44r$$ AG=d44a$$ RU=d44ur$$ AU=d44ua$$ AP=d44up$$ NU=d44un$$
ctl_users_del() {
	for u in $RU $AU $AP $NU; do
		userdel "$u" 2>/dev/null
	done
	for g in $RG $AG; do
		groupdel "$g" 2>/dev/null
	done
}
trap 'rc=$?; ctl_users_del; (exit $rc); t_cleanup' EXIT
groupadd "$RG" && groupadd "$AG" || die "groupadd"
# The reader and one admin have their group as a supplementary group,
# another admin as its own (alone, below): both kinds count.
useradd -M -N -d / -s /bin/false -G "$RG" "$RU" &&
    useradd -M -N -d / -s /bin/false -G "$AG" "$AU" &&
    useradd -M -N -d / -s /bin/false -g "$AG" "$AP" &&
    useradd -M -N -d / -s /bin/false "$NU" || die "useradd"

ns_new
CF=$(printf 'dns ttl 300\n' | conf_write d)
SOCK=$T_TMP/d/ctl.sock
sed -i "s|^control socket.*|control socket \"$SOCK\" group \"$RG\"\\
control admin-group \"$AG\"|" "$CF"
LOG=$T_TMP/d/log
daemon_start "$NS" "$CF" "$LOG"
P=$D_PID
wait_for 5 daemon_ready "$P" || { cat "$LOG"; die "no start"; }
ask() { ip netns exec "$NS" kdig @127.0.0.1 -p 4453 "$@"; }
ttl() { ask +noall +answer "$1" | awk '{ print $2; exit }'; }
# as USER dns44ctl ...: run by USER with the groups the group file gives.
as() {
	u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    "$DNS44CTL" "$@"
}

for n in alpha beta gamma; do
	ask +short "$n.test" >/dev/null || fail "query $n"
done

# -f: the socket of the file, not the built-in one.
out=$("$DNS44CTL" -f "$CF" lookup beta.test 2>&1) &&
    [ "$(echo "$out" | awk 'NR == 2 { print $1 }')" = beta.test ] &&
    ok "-f finds the socket of the file" || fail "-f $CF: $out"
out=$("$DNS44CTL" -f "$T_TMP/none.conf" show map 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "none.conf" &&
    ok "-f with a missing file fails" || fail "-f none.conf: $out"
out=$("$DNS44CTL" -f "$CF" -s "$T_TMP/elsewhere.sock" show map 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "elsewhere.sock" &&
    ok "-s wins over -f" || fail "-s with -f: $out"

# The manual's example has the header the program prints.
doc=$(sed -n '/^# dns44ctl lookup /{n;p;q}' "$srcdir/man/dns44ctl.8.in")
real=$("$DNS44CTL" -f "$CF" lookup beta.test | head -n 1)
[ -n "$doc" ] && [ "$doc" = "$real" ] && ok "the manual's lookup header" ||
    fail "manual <$doc> program <$real>"

# reload: a broken line is named with its file and line, and the running
# configuration stays; the fixed file then loads.
[ "$(ttl beta.test)" = 300 ] || fail "ttl before: $(ttl beta.test)"
cp "$CF" "$CF.good"
printf 'dns ttl 60\nfrobnicate yes\n' >>"$CF"
line=$(grep -n '^frobnicate' "$CF" | cut -d: -f1)
out=$("$DNS44CTL" -f "$CF" reload 2>&1)
rc=$?
echo "$out"
[ $rc -eq 1 ] && ok "broken reload exits 1" || fail "broken reload: $rc"
# The file's own errors are the daemon's answer, not dns44ctl's reading.
echo "$out" | grep -q "^dns44ctl: $CF has errors; using its control socket" &&
    echo "$out" | grep -q "^dns44ctl: configuration not reloaded" &&
    echo "$out" | grep -q "^$CF:$line: unknown keyword \"frobnicate\"" &&
    ok "broken reload prints dns44.conf:$line" ||
    fail "no file:line in <$out>"
alive "$P" && [ "$(ttl beta.test)" = 300 ] &&
    ok "the old configuration runs on" || fail "ttl after: $(ttl beta.test)"
sed -i '/^frobnicate/d' "$CF"
"$DNS44CTL" -f "$CF" reload && [ "$(ttl beta.test)" = 60 ] &&
    ok "the fixed file reloads" || fail "fixed reload, ttl $(ttl beta.test)"
# Many errors: as many lines as fit, and a count of the rest.
cp "$CF" "$CF.fixed"
i=0
while [ $i -lt 200 ]; do
	echo "frobnicate$i yes"
	i=$((i + 1))
done >>"$CF"
out=$("$DNS44CTL" -s "$SOCK" reload 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "^(.* more in the log)$" &&
    [ "$(echo "$out" | wc -c)" -lt 5000 ] &&
    ok "many errors: bounded" || fail "many errors: $(echo "$out" | tail -3)"
cp "$CF.fixed" "$CF"

# Who may do what.  The socket lets everyone connect: two groups.
[ "$(stat -c %a "$SOCK")" = 666 ] && ok "socket 0666 with two groups" ||
    fail "socket mode $(stat -c %a "$SOCK")"
out=$(as "$RU" -f "$CF" show map 2>&1) &&
    echo "$out" | grep -q '^beta.test ' &&
    ok "control group: show map" || fail "reader show map: $out"
as "$RU" -f "$CF" lookup gamma.test >/dev/null &&
    as "$RU" -f "$CF" show stats >/dev/null &&
    as "$RU" -f "$CF" test alpha.test >/dev/null &&
    as "$RU" -f "$CF" show status >/dev/null &&
    as "$RU" -f "$CF" -o prometheus show stats | grep -q '^dns44_' &&
    ok "control group: lookup, show stats, test, status, prometheus" ||
    fail "reader refused a look"
for c in "flush alpha.test" "flush all" reload "log verbose"; do
	# shellcheck disable=SC2086
	out=$(as "$RU" -f "$CF" $c 2>&1)
	[ $? -eq 1 ] && [ "$out" = "dns44ctl: permission denied" ] &&
	    ok "control group: $c denied" || fail "reader $c: $out"
done
"$DNS44CTL" -f "$CF" lookup alpha.test >/dev/null &&
    ok "nothing flushed by the reader" || fail "alpha.test gone"
grep -q "control: .* refused to uid $(id -u "$RU")" "$LOG" &&
    ok "refusal logged" || fail "refusal not logged"
out=$(as "$NU" -f "$CF" show map 2>&1)
[ $? -eq 1 ] && [ "$out" = "dns44ctl: permission denied" ] &&
    ok "neither group: denied" || fail "outsider: $out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$DNS44CTL" -s "$SOCK" show stats 2>&1)
[ $? -eq 1 ] && [ "$out" = "dns44ctl: permission denied" ] &&
    ok "nobody: denied" || fail "nobody: $out"
out=$(as "$AU" -f "$CF" flush alpha.test 2>&1) &&
    [ "$out" = "flushed 1, kept 0 in use" ] &&
    ok "admin group: flush" || fail "admin flush: $out"
as "$AU" -f "$CF" reload && as "$AU" -f "$CF" log brief &&
    as "$AU" -f "$CF" show map >/dev/null &&
    ok "admin group: reload, log, show" || fail "admin refused"
# Its own group only: initgroups(3) would list it among the others too.
setpriv --reuid="$AP" --regid="$AG" --clear-groups "$DNS44CTL" -f "$CF" \
    reload && ok "admin group as its own group: reload" ||
    fail "admin by its own group refused"
ask +short alpha.test >/dev/null
out=$("$DNS44CTL" -f "$CF" flush alpha.test) &&
    [ "$out" = "flushed 1, kept 0 in use" ] && ok "root: flush" ||
    fail "root flush: $out"
"$DNS44CTL" -f "$CF" reload && ok "root: reload" || fail "root reload"
alive "$P" || die "the daemon died"

# dump: refused while the daemon holds the database.
out=$("$DNS44CTL" -f "$CF" dump 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "in use by a running dns44" &&
    ok "dump refused while running" || fail "dump while running: $out"

# Then the same lines as show map, once it stopped.
ask +short delta.test >/dev/null
shown=$("$DNS44CTL" -f "$CF" show map)
shownj=$("$DNS44CTL" -f "$CF" -j show map)
kill -TERM "$P"
wait "$P"
dumped=$("$DNS44CTL" -f "$CF" dump) && [ "$dumped" = "$shown" ] &&
    [ "$(echo "$dumped" | wc -l)" = 4 ] &&
    ok "dump prints what show map did" ||
    fail "dump <$dumped> show map <$shown>"
[ "$("$DNS44CTL" -f "$CF" -j dump)" = "$shownj" ] && ok "dump -j" ||
    fail "dump -j <$("$DNS44CTL" -f "$CF" -j dump)>"
[ "$("$DNS44CTL" dump "$T_TMP/d/db/dns44.tdb")" = "$shown" ] &&
    ok "dump FILE" || fail "dump FILE"
as "$RU" dump "$T_TMP/d/db/dns44.tdb" >/dev/null 2>&1 &&
    fail "a reader read the database" || ok "the database stays private"
printf 'not a tdb' >"$T_TMP/junk"
out=$("$DNS44CTL" dump "$T_TMP/junk" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "not a tdb file" &&
    ok "dump of a non-database" || fail "dump junk: $out"

# A second daemon does not start on the database the first holds.
daemon_start "$NS" "$CF" "$T_TMP/d/log2"
P=$D_PID
wait_for 5 daemon_ready "$P" || { cat "$T_TMP/d/log2"; die "no restart"; }
CF2=$(printf 'dns listen 127.0.0.2 port 4453\nproxy listen 127.0.0.1 port 4481\n' |
    conf_write e)
sed -i "s|^database .*|database \"$T_TMP/d/db\"|" "$CF2"
# Bounded: one that took the database would run on.
ip netns exec "$NS" timeout -s KILL 10 "$DNS44" -d -f "$CF2" \
    >"$T_TMP/e/log" 2>&1
[ $? -eq 1 ] && grep -q "database .* is in use" "$T_TMP/e/log" &&
    ok "a second daemon refused the database" ||
    fail "second daemon: $(cat "$T_TMP/e/log")"
alive "$P" && "$DNS44CTL" -f "$CF" lookup beta.test >/dev/null &&
    ok "the first one runs on" || fail "the first daemon"

# All 32 places of the control socket taken by the reader: another
# reader is refused, root takes the place of the reader's least recently
# active connection, and the reader is let in again once they are gone.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
setpriv --reuid="$RU" --regid="$(id -g "$RU")" --init-groups "$py" -c '
import socket, sys, time
held = []
for i in range(32):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    held.append(s)
print("held", len(held), flush=True)
time.sleep(4)' "$SOCK" >"$T_TMP/held" 2>&1 &
hp=$!
T_PIDS="$T_PIDS $hp"
wait_for 5 grep -q "^held 32" "$T_TMP/held" || fail "holder: $(cat \
    "$T_TMP/held")"
sleep 0.5
out=$(as "$RU" -f "$CF" show status 2>&1) &&
    fail "a 33rd reader let in: $out" || ok "a 33rd reader refused: $out"
out=$("$DNS44CTL" -f "$CF" show status 2>&1) &&
    ok "root let in with 32 readers connected" ||
    fail "root refused with 32 readers connected: $out"
wait_for 3 grep -q "control: 32 clients; uid $(id -u "$RU") pid [0-9]*, \
active least recently, makes way for uid 0 pid" "$T_TMP/d/log2" &&
    ok "the reader's place logged" ||
    fail "no line for the reader's place: $(grep 'control: ' \
    "$T_TMP/d/log2" | tail -n 3)"
wait "$hp"
wait_for 3 as "$RU" -f "$CF" show status && ok "the reader let in again" ||
    fail "the reader still refused once the others have gone"
kill -TERM "$P"
wait "$P"
exit $T_FAILED
