#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store-local: a gateway on the shared map keeps its own copy of the map
# beside its tdb file (dns44.tdb.j0, .j1), each new name written there
# before it is answered.  Killed, then started again while the store is
# away, the gateway answers every name it gave with the same address,
# and a new name gets SERVFAIL; taken out of the fleet (its database line
# removed), it makes its tdb file from the copy and goes on alone with
# every answer it gave, and new names take none of their addresses.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
. "$srcdir/regress/lib/redis.sh"
dw_setup
dw_dnsmasq --address=/#/10.44.2.99
RPORT=6398
rs_start "$WORLD" "$DW_UP" $RPORT
names() { awk -v p="$1" 'BEGIN { for (i = 0; i < 300; i++)
    print p i ".example" }'; }
# ask PREFIX OUT: the 300 names of PREFIX, "NAME ADDRESS" to OUT.
ask() {
	names "$1" | ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4453 A |
	    awk '{ print $1, $3 }' >"$2"
}
# mapped FILE: how many of its answers are addresses of the range.
mapped() { awk '$2 ~ /^172\.24\./' "$1" | wc -l; }
up() { grep -q "map store.*: up" "$1"; }
# held PREFIX: how many names of PREFIX a's map holds, asked before any
# query (the keyed-hash placement alone would give most of them their
# old addresses again).
held() {
	"$DNS44CTL" -s "$T_TMP/a/ctl.sock" show map | grep -c "^$1"
}
# same_map PHASE: a's map holds the fleet's 300 names, and every one is
# answered as it was through the store.
same_map() {
	[ "$(held fleet)" -eq 300 ] && ok "$1: its map read" ||
	    fail "$1: $(held fleet) names in its map"
	ask fleet "$T_TMP/got.again"
	cmp -s "$T_TMP/got.fleet" "$T_TMP/got.again" &&
	    ok "$1: every answer as before" ||
	    fail "$1: answers changed: $(diff "$T_TMP/got.fleet" \
	    "$T_TMP/got.again" | head -3)"
}

dw_start a <<EOF2
dns upstream $DW_UP
database redis $DW_UP port $RPORT
EOF2
wait_for 10 up "$DLOG" || { cat "$DLOG"; die "a: no store"; }
ask fleet "$T_TMP/got.fleet"
[ "$(mapped "$T_TMP/got.fleet")" -eq 300 ] &&
    ok "300 names through the store" ||
    fail "fleet: $(head -3 "$T_TMP/got.fleet")"
# 6 000 names of ~200 bytes: past 1 MiB, the copy turns to its second
# file (the first holds the snapshot made at start).
awk 'BEGIN { l = sprintf("%060d", 0); gsub(/0/, "a", l)
    for (i = 0; i < 6000; i++) printf "long%d.%s.%s.%s.example\n", i,
    l, l, l }' | ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4453 A |
    awk '$3 ~ /^172\.24\./' | wc -l >"$T_TMP/long.n"
[ "$(cat "$T_TMP/long.n")" -eq 6000 ] && [ -s "$DB.j0" ] && [ -s "$DB.j1" ] &&
    ok "6 000 long names: the copy turned to its other file" ||
    fail "long names: $(cat "$T_TMP/long.n") mapped; $(ls -l "$DB".j*)"

# Killed at once, every process: what it answered is in its file.
for p in $(pgrep -P "$DP") "$DP"; do
	kill -KILL "$p" 2>/dev/null
done
wait "$DP" 2>/dev/null
kill -TERM "$RS_PID"
wait "$RS_PID" 2>/dev/null
rs_down() { ! rs_listening "$WORLD" "$DW_UP:$RPORT"; }
wait_for 5 rs_down || die "redis-server did not stop"

dw_start a <<EOF2
dns upstream $DW_UP
database redis $DW_UP port $RPORT
EOF2
A_PID=$DP
same_map "started with the store away"
[ "$(held long)" -eq 6000 ] &&
    ok "started with the store away: the names after the turn read" ||
    fail "started with the store away: $(held long) long names"
[ "$(qfull fresh.example A | rcode_of)" = SERVFAIL ] &&
    ok "started with the store away: a new name gets SERVFAIL" ||
    fail "fresh.example: $(qfull fresh.example A | rcode_of)"
grep -q "map store.*: up" "$DLOG" && fail "the store is up: $(grep 'map store' \
    "$DLOG" | head -2)"
dw_stop "$A_PID"

# Out of the fleet: the tdb file alone, made from the copy.
dw_start a <<EOF2
dns upstream $DW_UP
EOF2
A_PID=$DP
same_map "out of the fleet"
[ ! -e "$DB.j0" ] && [ ! -e "$DB.j1" ] &&
    ok "out of the fleet: the copy is in the tdb file, and gone" ||
    fail "out of the fleet: $(ls "$DB".j*) still there"
ask new "$T_TMP/got.new"
[ "$(mapped "$T_TMP/got.new")" -eq 300 ] && ok "300 new names mapped alone" ||
    fail "new: $(head -3 "$T_TMP/got.new")"
cat "$T_TMP/got.fleet" "$T_TMP/got.new" | awk '{ print $2 }' | sort |
    uniq -d | grep -q . && fail "a new name got an old name's address" ||
    ok "no new name got an old name's address"
dw_stop "$A_PID"
exit ${T_FAILED:-0}
