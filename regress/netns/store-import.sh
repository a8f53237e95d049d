#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store-import: a gateway that ran alone, its map in its tdb file, is
# pointed at an empty Redis store: it brings its map into the store, so
# every answer it gave stays the same, and a second gateway joining the
# store gives the same answers.  A store that already holds a map is
# never overwritten: a third gateway with a map of its own follows the
# store.  A store of a dns44 that kept its answer times in a sorted set
# is converted in place.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
. "$srcdir/regress/lib/redis.sh"
dw_setup
dw_dnsmasq --address=/#/10.44.2.99
RPORT=6394
rs_start "$WORLD" "$DW_UP" $RPORT
rcli() {
	ip netns exec "$WORLD" redis-cli -h "$DW_UP" -p $RPORT "$@"
}
names() { awk -v p="$1" 'BEGIN { for (i = 0; i < 300; i++)
    print p i ".example" }'; }
# ask PORT PREFIX OUT: the 300 names of PREFIX, "NAME ADDRESS" to OUT.
ask() {
	names "$2" | ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 "$1" A |
	    awk '{ print $1, $3 }' >"$3"
}

# Alone: the map in the tdb file only.
dw_start a <<EOF2
dns upstream $DW_UP
EOF2
ask 4453 old "$T_TMP/got.alone"
dw_stop "$DP"
[ "$(awk '$2 ~ /^172\.24\./' "$T_TMP/got.alone" | wc -l)" -eq 300 ] &&
    ok "alone: 300 names mapped" || fail "alone: $(head -3 "$T_TMP/got.alone")"

# The same gateway, now on the empty store.
dw_start a <<EOF2
dns upstream $DW_UP
database redis $DW_UP port $RPORT
EOF2
A_PID=$DP A_LOG=$DLOG
up() { grep -q "map store.*: up" "$1"; }
wait_for 10 up "$A_LOG" || { cat "$A_LOG"; die "a: no store"; }
grep -q "300 names brought" "$A_LOG" && ok "its 300 names go into the store" ||
    fail "$(grep "map store" "$A_LOG")"
[ "$(rcli HLEN dns44:name)" -eq 300 ] && ok "the store holds 300 names" ||
    fail "the store holds $(rcli HLEN dns44:name)"
ask 4453 old "$T_TMP/got.a"
cmp -s "$T_TMP/got.alone" "$T_TMP/got.a" && ok "every answer as before" ||
    fail "answers changed: $(diff "$T_TMP/got.alone" "$T_TMP/got.a" | head -3)"

# A second gateway, new, joins: the same answers.
dw_start b <<EOF2
dns listen 127.0.0.1 port 4454
proxy listen 127.0.0.1 port 4455
dns upstream $DW_UP
database redis $DW_UP port $RPORT
EOF2
B_PID=$DP
wait_for 10 up "$DLOG" || { cat "$DLOG"; die "b: no store"; }
ask 4454 old "$T_TMP/got.b"
cmp -s "$T_TMP/got.alone" "$T_TMP/got.b" && ok "the joining gateway answers the same" ||
    fail "b differs: $(diff "$T_TMP/got.alone" "$T_TMP/got.b" | head -3)"
ask 4454 new "$T_TMP/got.new"
cat "$T_TMP/got.alone" "$T_TMP/got.new" | awk '{ print $2 }' | sort | uniq -d |
    grep -q . && fail "a new name got an old name's address" ||
    ok "300 new names through b: no old name's address"

# A third with a map of its own finds the store full of names: it follows.
dw_stop "$B_PID"
rm -f "$T_TMP/b/db/dns44.tdb"
dw_start b <<EOF2
dns listen 127.0.0.1 port 4454
proxy listen 127.0.0.1 port 4455
dns upstream $DW_UP
EOF2
ask 4454 other "$T_TMP/got.other"
dw_stop "$DP"
dw_start b <<EOF2
dns listen 127.0.0.1 port 4454
proxy listen 127.0.0.1 port 4455
dns upstream $DW_UP
database redis $DW_UP port $RPORT
EOF2
B_PID=$DP
wait_for 10 up "$DLOG" || { cat "$DLOG"; die "b: no store"; }
grep -q "brought" "$DLOG" && fail "a store with names was written over" ||
    ok "a store with names is not written over"
[ "$(rcli HLEN dns44:name)" -eq 600 ] &&
    ok "the store still holds its 600 names" ||
    fail "the store holds $(rcli HLEN dns44:name)"
ask 4454 old "$T_TMP/got.b2"
cmp -s "$T_TMP/got.alone" "$T_TMP/got.b2" && ok "it answers as the store says" ||
    fail "b differs: $(diff "$T_TMP/got.alone" "$T_TMP/got.b2" | head -3)"
[ "$("$DNS44CTL" -s "$T_TMP/b/ctl.sock" show map | grep -c '^other')" -eq 0 ] &&
    ok "its own names the store lacks are forgotten" ||
    fail "b still maps its own names"

dw_stop "$A_PID"
dw_stop "$B_PID"

# A store written by a dns44 that kept answer times in a sorted set, its
# range of three addresses full and every time long past: at the first
# init every mapped address counts as answered then, so none is reused
# before a hold has passed (TTL 1 s, no grace, 6 s margin), and the
# times are answers afterwards.
rcli FLUSHALL >/dev/null
rcli SET dns44:range "$(((172 << 24) + (24 << 16) + 1)) 3" >/dev/null
for i in 1 2 3; do
	rcli HSET dns44:name "o$i.example" "172.24.0.$i" >/dev/null
	rcli HSET dns44:addr "172.24.0.$i" "o$i.example" >/dev/null
	rcli ZADD dns44:answered 1000 "172.24.0.$i" >/dev/null
done
for i in 0 1 2 3 4 5 6 7; do rcli SETBIT dns44:used $i 1 >/dev/null; done
dw_start c <<EOF2
dns upstream $DW_UP
dns ttl 1
reuse-grace 0s
range 172.24.0.1 - 172.24.0.3
database redis $DW_UP port $RPORT
EOF2
C_PID=$DP
wait_for 10 up "$DLOG" || { cat "$DLOG"; die "c: no store"; }
[ "$(rcli EXISTS dns44:answered)" = 0 ] && [ "$(rcli GET dns44:period)" = 1 ] &&
    ok "the sorted set of answer times converted" ||
    fail "not converted: $(rcli KEYS 'dns44:*' | tr '\n' ' ')"
[ "$(qfull fresh.example A | rcode_of)" = SERVFAIL ] &&
    [ "$(rcli HLEN dns44:name)" -eq 3 ] &&
    ok "no address reused within a hold of the conversion" ||
    fail "reused at once: $(rcli HGETALL dns44:name | tr '\n' ' ')"
reused() { in_range "$(q fresh.example A)"; }
wait_for 12 reused && [ "$(rcli HLEN dns44:name)" -eq 3 ] &&
    ok "past the hold, an old address is reused" ||
    fail "fresh: '$(q fresh.example A)' $(rcli HGETALL dns44:name | tr '\n' ' ')"
kept=0
for i in 1 2 3; do
	[ "$(rcli HGET dns44:name "o$i.example")" = "172.24.0.$i" ] &&
	    kept=$((kept + 1))
done
[ "$kept" -eq 2 ] && ok "the other two names keep their addresses" ||
    fail "$kept of the old names kept"

# dns44:period spoilt: the answers in the store cannot be read.  The
# gateway says so and stays off the store (a known name answered, a new
# one SERVFAIL) instead of reading it whole again and again; set back,
# the store is used again without a restart.
ups() { grep -c 'map store.*: up,' "$DLOG"; }
f=$(q fresh.example A)
n0=$(ups)
rcli SET dns44:period junk >/dev/null
[ "$(qfull spoilt.example A | rcode_of)" = SERVFAIL ] &&
    ok "dns44:period spoilt: a new name gets SERVFAIL" ||
    fail "spoilt.example: $(qfull spoilt.example A | rcode_of)"
told() { grep -q 'dns44:period holds junk, not a number' "$DLOG"; }
wait_for 5 told && ok "the log says what is wrong with the store" ||
    fail "not told: $(grep 'map store' "$DLOG" | tail -2)"
sleep 3
[ "$(ups)" -eq "$n0" ] && ok "the store is not read again meanwhile" ||
    fail "read $(($(ups) - n0)) times with dns44:period spoilt"
[ "$(q fresh.example A)" = "$f" ] && ok "a known name is still answered" ||
    fail "fresh.example: '$(q fresh.example A)'"
rcli SET dns44:period 1 >/dev/null
back() { [ "$(ups)" -gt "$n0" ]; }
wait_for 5 back && [ "$(qfull spoilt.example A | rcode_of)" = NOERROR ] &&
    ok "dns44:period set back: the store is used again" ||
    fail "not back: $(grep 'map store' "$DLOG" | tail -2)"
dw_stop "$C_PID"
exit ${T_FAILED:-0}
