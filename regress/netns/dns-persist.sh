#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-persist: the map outlives the daemon.  200 names answered, the whole
# daemon killed with SIGKILL, started again on the same database: every
# name has its address, every address its name.  A database file that is
# garbage is refused with a message naming it, or replaced with a warning
# naming it; never a death by signal.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq --host-record=world.test,10.44.2.77

CONF="dns upstream $DW_UP
dns upstream-timeout 500ms"

expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# batch TYPE <names: "NAME RCODE RDATA" a line.
batch() {
	ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4453 "$1"
}

dw_start p <<EOF
$CONF
EOF
a=$(q first.test A)
in_range "$a" || die "no answer: $(cat "$DLOG")"

i=0
while [ $i -lt 200 ]; do
	echo "p$i.persist.test"
	i=$((i + 1))
done >"$T_TMP/names"
batch A <"$T_TMP/names" >"$T_TMP/before"
n=$(awk '$2 == "NOERROR" && NF == 3' "$T_TMP/before" | wc -l)
expect "200 names answered" "$n" 200
bad=$(awk '{ print $3 }' "$T_TMP/before" | while read -r a; do
	in_range "$a" || echo "$a"
done)
[ -z "$bad" ] && ok "200 addresses in the range" || fail "not in range: $bad"
u=$(awk '{ print $3 }' "$T_TMP/before" | sort -u | wc -l)
expect "200 distinct addresses" "$u" 200
awk '{ print $3 }' "$T_TMP/before" | while read -r a; do
	ptr_name "$a"
done >"$T_TMP/ptrs"
batch PTR <"$T_TMP/ptrs" >"$T_TMP/ptr-before"
n=$(paste -d' ' "$T_TMP/before" "$T_TMP/ptr-before" |
    awk '$5 == "NOERROR" && $6 == $1 "."' | wc -l)
expect "200 PTRs name their names" "$n" 200

# Every process of the daemon killed at once, no chance to write anything.
X=$(child_pid "$DP" proxy)
kill -9 "$DP" "$DD" "$X"
wait "$DP" 2>/dev/null
for p in "$DP" "$DD" "$X"; do
	wait_for 3 dead "$p" || fail "pid $p survived SIGKILL"
done
tdbdump "$DB" | $DNSPROBE tdbmap >"$T_TMP/map"
n=$(grep -c 'persist\.test' "$T_TMP/map")
expect "database after SIGKILL: records" "$n" 200

# Again on the same database (and configuration).
cp "$DLOG" "$T_TMP/p.log.1"
daemon_start "$GW" "$DCF" "$DLOG"
DP=$D_PID
if ! wait_for 5 daemon_ready "$DP"; then
	fail "restart after SIGKILL: $(cat "$DLOG")"
	# A stale control socket is a likely reason; go on without it.
	rm -f "$T_TMP/p/ctl.sock"
	daemon_start "$GW" "$DCF" "$DLOG"
	DP=$D_PID
	wait_for 5 daemon_ready "$DP" || die "no restart: $(cat "$DLOG")"
fi
DD=$(child_pid "$DP" dns)
wait_for 5 dw_listening "$GW" udp 127.0.0.1:4453 || die "not listening"
batch A <"$T_TMP/names" >"$T_TMP/after"
if cmp -s "$T_TMP/before" "$T_TMP/after"; then
	ok "after SIGKILL and restart: all 200 names have their addresses"
else
	fail "after restart, $(diff "$T_TMP/before" "$T_TMP/after" |
	    grep -c '^>') of 200 answers differ, e.g. $(diff "$T_TMP/before" \
	    "$T_TMP/after" | grep '^[<>]' | head -n 2 | tr '\n' ' ')"
fi
batch PTR <"$T_TMP/ptrs" >"$T_TMP/ptr-after"
cmp -s "$T_TMP/ptr-before" "$T_TMP/ptr-after" &&
    ok "after restart: all 200 PTRs unchanged" ||
    fail "after restart: $(diff "$T_TMP/ptr-before" "$T_TMP/ptr-after" |
	grep -c '^>') PTRs differ"
expect "first.test after restart" "$(q first.test A)" "$a"
a2=$(q new-after-restart.test A)
in_range "$a2" && ! grep -q " $a2\$" "$T_TMP/before" &&
    ok "a new name after restart gets a free address: $a2" ||
    fail "new name after restart: \"$a2\""
dw_stop "$DP"

# garbage NAME: the daemon started on a database directory whose
# dns44.tdb was prepared by the caller in $T_TMP/NAME/db.
garbage() {
	gn=$1 what=$2
	cf=$T_TMP/$gn/dns44.conf
	lg=$T_TMP/$gn/log
	daemon_start "$GW" "$cf" "$lg"
	gp=$D_PID
	n=0
	while [ $n -lt 100 ] && alive "$gp" && ! daemon_ready "$gp"; do
		sleep 0.05
		n=$((n + 1))
	done
	# Ready children may still be loading; give a failure time to show.
	sleep 0.5
	if dead "$gp"; then
		wait "$gp"
		rc=$?
		if [ $rc -ge 128 ]; then
			fail "$what: killed by signal $((rc - 128)): $(cat "$lg")"
		elif [ $rc -eq 0 ]; then
			fail "$what: exited 0: $(cat "$lg")"
		else
			ok "$what: refused, status $rc"
		fi
		grep -q 'dns44\.tdb' "$lg" &&
		    ok "$what: message names the file: $(grep dns44.tdb \
			"$lg" | head -n 1)" ||
		    fail "$what: no message names dns44.tdb: $(cat "$lg")"
	else
		gd=$(child_pid "$gp" dns)
		grep -q 'dns44\.tdb' "$lg" &&
		    ok "$what: started with a warning: $(grep dns44.tdb \
			"$lg" | head -n 1)" ||
		    fail "$what: started, no warning names dns44.tdb: \
$(cat "$lg")"
		ga=$(q "garbage-$gn.test" A)
		in_range "$ga" && ok "$what: answers: $ga" ||
		    fail "$what: started but does not answer"
		expect "$what: dns process alive" "$(child_pid "$gp" dns)" "$gd"
		kill -TERM "$gp"
		wait "$gp"
		rc=$?
		expect "$what: exit status after SIGTERM" "$rc" 0
	fi
	grep -E 'killed by signal|core dumped' "$lg" &&
	    fail "$what: a process died by a signal"
	ls "$T_TMP/$gn/db" | grep -q '^core' && fail "$what: core file"
	return 0
}

# prepare NAME: a configuration and a database directory for it, owned
# by the user the dns process runs as, like one it made itself.
prepare() {
	echo "$CONF" | conf_write "$1" >/dev/null
	mkdir -p "$T_TMP/$1/db"
	chmod 700 "$T_TMP/$1/db"
	GDB=$T_TMP/$1/db/dns44.tdb
}
owned() {
	chmod 600 "$GDB"
	chown -R "$(default_user):" "$(dirname "$GDB")"
}

# Random bytes.
prepare g1
head -c 8192 /dev/urandom >"$GDB"
owned
garbage g1 "random bytes as dns44.tdb"

# The real file of the first daemon cut in half.
prepare g2
sz=$(stat -c %s "$DB")
head -c $((sz / 2)) "$DB" >"$GDB"
owned
garbage g2 "dns44.tdb cut to $((sz / 2)) of $sz bytes"

# A text file.
prepare g3
yes 'not a database' | head -n 300 >"$GDB"
owned
garbage g3 "a text file as dns44.tdb"
exit $T_FAILED
