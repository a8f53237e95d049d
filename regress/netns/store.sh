#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store: two gateways share one map in a real redis-server.  A name
# asked of gateway A is known to B at once, with the same address; both
# asked the same new names at the same moment give one address each; a
# name only the store had is found and its answer counted there;
# names asked alternately through A and B leave a store in which no
# address is given twice; an address another gateway holds a lease on,
# or answered lately (its time sent at once after a quiet, or with the
# batch of every 5 seconds), is not reused, and several names placed by
# one call of the script in a full range take one address each; with
# the store stopped, known names are still answered
# and new ones get SERVFAIL, and new names work again once it is back,
# without a restart.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
. "$srcdir/regress/lib/redis.sh"
dw_setup

dw_dnsmasq --address=/#/10.44.2.99
RPORT=6390
RPASS=s3cret-of-the-fleet

# redis_start: the store, every write on disk before it is answered.
redis_start() {
	rs_start "$WORLD" "$DW_UP" $RPORT --appendonly yes \
	    --appendfsync always --requirepass "$RPASS"
	REDIS_PID=$RS_PID
}

# rcli ARGS...: a command to the store.
rcli() {
	ip netns exec "$WORLD" redis-cli -h "$DW_UP" -p $RPORT \
	    -a "$RPASS" --no-auth-warning "$@"
}
redis_start

dw_start a <<EOF2
dns upstream $DW_UP
dns ttl 1
reuse-grace 0s
range 172.24.0.0/16
database redis $DW_UP port $RPORT
database password "$RPASS"
EOF2
A_LOG=$DLOG A_CTL=$T_TMP/a/ctl.sock A_PID=$DP
dw_start b <<EOF2
dns listen 127.0.0.1 port 4454
proxy listen 127.0.0.1 port 4455
dns upstream $DW_UP
dns ttl 1
reuse-grace 0s
range 172.24.0.0/16
database redis $DW_UP port $RPORT
database password "$RPASS"
EOF2
B_LOG=$DLOG B_CTL=$T_TMP/b/ctl.sock B_PID=$DP

up() { grep -q "map store.*: up" "$1"; }
wait_for 5 up "$A_LOG" && wait_for 5 up "$B_LOG" &&
    ok "both gateways read the store" || { cat "$A_LOG" "$B_LOG"; die "no store"; }

qa() { DW_PORT=4453 q "$@"; }
qb() { DW_PORT=4454 q "$@"; }
# shown CTL NAME: the address a gateway's map gives NAME, or nothing.
shown() {
	"$DNS44CTL" -s "$1" show map | awk -v n="$2" '$1 == n { print $2 }'
}
b_knows_one() { [ "$(shown "$B_CTL" one.example)" = "$a" ]; }

a=$(qa one.example A)
in_range "$a" && ok "A maps a new name ($a)" || fail "one.example via A: '$a'"
[ "$(rcli HGET dns44:name one.example)" = "$a" ] &&
    ok "the store holds it" || fail "store: $(rcli HGETALL dns44:name)"
wait_for 2 b_knows_one &&
    ok "B knows it before anyone asks B" ||
    fail "B's map: $("$DNS44CTL" -s "$B_CTL" show map)"
"$DNS44CTL" -s "$A_CTL" show status | grep -q "^map store *up" &&
    "$DNS44CTL" -s "$A_CTL" -j show status | grep -q '"store": "up"' &&
    ok "show status: the store is up" ||
    fail "show status: $("$DNS44CTL" -s "$A_CTL" show status)"
# metric NAME: its value in A's metrics, checked by promtool.
metric() {
	"$DNS44CTL" -s "$A_CTL" -o prometheus show stats >"$T_TMP/metrics"
	if command -v promtool >/dev/null 2>&1 &&
	    ! promtool check metrics <"$T_TMP/metrics" >/dev/null 2>&1; then
		echo "promtool: $(promtool check metrics <"$T_TMP/metrics" 2>&1)"
		return
	fi
	awk -v m="$1" '$1 == m { print $2 }' "$T_TMP/metrics"
}
[ "$(metric dns44_map_store_up)" = 1 ] &&
    [ "$(metric dns44_map_store_assigned_total)" = 1 ] &&
    ok "metrics: the store up, one name placed" ||
    fail "metrics: $(grep store "$T_TMP/metrics")"
[ "$(qb one.example A)" = "$a" ] && ok "B answers the same address" ||
    fail "one.example via B: $(qb one.example A)"

# A name another gateway placed but nobody heard of (written to the store
# with no message): A's script call finds it, answers its address, and
# counts the answer in the store's bitmap of the period.
rcli HSET dns44:name found.example 172.24.200.7 >/dev/null
rcli HSET dns44:addr 172.24.200.7 found.example >/dev/null
# Its bit: the range's first address is 172.24.0.1.
rcli SETBIT dns44:used $((200 * 256 + 6)) 1 >/dev/null
# answered IDX: the address's bit is set in one of the last periods.
answered() {
	_len=$(rcli GET dns44:period) _now=$(date +%s)
	for _p in $((_now / _len - 2)) $((_now / _len - 1)) $((_now / _len)); do
		[ "$(rcli GETBIT "dns44:ans:$_p" "$1")" = 1 ] && return 0
	done
	return 1
}
answered $((200 * 256 + 6)) && fail "172.24.200.7 answered before it was"
[ "$(qa found.example A)" = 172.24.200.7 ] &&
    ok "A finds a name only the store had" ||
    fail "found.example: '$(qa found.example A)'"
answered $((200 * 256 + 6)) && ok "its answer reaches the store" ||
    fail "no answer of 172.24.200.7 in $(rcli KEYS 'dns44:ans:*')"

# The same new names asked of both at once.
i=0 pids=
while [ $i -lt 20 ]; do
	qa "same$i.example" A >"$T_TMP/same$i.a" &
	pids="$pids $!"
	qb "same$i.example" A >"$T_TMP/same$i.b" &
	pids="$pids $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $pids
i=0 diff=0
while [ $i -lt 20 ]; do
	x=$(cat "$T_TMP/same$i.a") y=$(cat "$T_TMP/same$i.b")
	if ! in_range "$x" || [ "$x" != "$y" ]; then
		diff=$((diff + 1))
		echo "same$i: A '$x' B '$y'"
	fi
	i=$((i + 1))
done
[ $diff -eq 0 ] && ok "20 names asked of both at once: one address each" ||
    fail "$diff names got two answers"

# 10 000 names, half through A and half through B, at the same time.
awk 'BEGIN { for (i = 0; i < 10000; i += 2) print "n" i ".bulk" }' \
    >"$T_TMP/even"
awk 'BEGIN { for (i = 1; i < 10000; i += 2) print "n" i ".bulk" }' \
    >"$T_TMP/odd"
ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4453 A <"$T_TMP/even" \
    >"$T_TMP/got.a" &
pa=$!
ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4454 A <"$T_TMP/odd" \
    >"$T_TMP/got.b" &
pb=$!
wait $pa $pb
n=$(cat "$T_TMP/got.a" "$T_TMP/got.b" | awk '$2 == "NOERROR"' | wc -l)
[ "$n" -eq 10000 ] && ok "10 000 names answered through A and B" ||
    fail "$n of 10 000 answered: $(grep -v NOERROR "$T_TMP/got.a" | head -3)"
dups=$(cat "$T_TMP/got.a" "$T_TMP/got.b" | awk '{ print $3 }' | sort |
    uniq -d | wc -l)
[ "$dups" -eq 0 ] && ok "no address answered for two names" ||
    fail "$dups addresses answered twice"
names=$(rcli HLEN dns44:name) addrs=$(rcli HLEN dns44:addr)
sdups=$(rcli HVALS dns44:name | sort | uniq -d | wc -l)
[ "$names" -eq 10022 ] && [ "$addrs" -eq 10022 ] && [ "$sdups" -eq 0 ] &&
    ok "the store: 10 022 names, 10 022 addresses, none twice" ||
    fail "store: $names names, $addrs addresses, $sdups twice"
# Every answer is what the store says; each gateway's map has them all.
for g in a b; do
	c=$("$DNS44CTL" -s "$T_TMP/$g/ctl.sock" show map | grep -c '\.bulk ')
	[ "$c" -eq 10000 ] && ok "gateway $g's map holds all 10 000" ||
	    fail "gateway $g's map holds $c of 10 000"
done
rcli HGETALL dns44:name | paste - - | grep '\.bulk' | sort >"$T_TMP/store"
cat "$T_TMP/got.a" "$T_TMP/got.b" | awk '{ print $1 "\t" $3 }' | sort |
    cmp -s - "$T_TMP/store" && ok "every answer is the store's" ||
    fail "answers and store differ: $(cat "$T_TMP/got.a" "$T_TMP/got.b" |
    awk '{ print $1 "\t" $3 }' | sort | diff - "$T_TMP/store" | head -3)"

# New names asked several times in one burst, so that the store's script
# has them more than once in a call: one address each, none shared.
for i in 1 2 3 4 5 6 7 8; do printf 'dup1.burst\ndup2.burst\ndup3.burst\n'
done >"$T_TMP/dups"
n0=$(rcli HLEN dns44:name)
ip netns exec "$GW" $DNSPROBE batch --together udp 127.0.0.1 4453 A \
    <"$T_TMP/dups" >"$T_TMP/got.dups"
bad=$(awk '$2 != "NOERROR" || NF != 3 { n++ } END { print n + 0 }' \
    "$T_TMP/got.dups")
each=$(awk '{ print $1, $3 }' "$T_TMP/got.dups" | sort -u | wc -l)
addrs=$(awk '{ print $3 }' "$T_TMP/got.dups" | sort -u | wc -l)
n1=$(rcli HLEN dns44:name)
[ "$bad" -eq 0 ] && [ "$each" -eq 3 ] && [ "$addrs" -eq 3 ] &&
    [ $((n1 - n0)) -eq 3 ] &&
    [ "$(rcli HGET dns44:addr "$(rcli HGET dns44:name dup2.burst)")" = \
    dup2.burst ] &&
    ok "3 new names asked 8 times each at once: 3 addresses, 3 in the store" ||
    fail "a burst of repeated names: $bad bad, $each name-address pairs," \
    "$addrs addresses, $((n1 - n0)) new in the store"

# Flushed on one gateway: gone from the store and from the other.
"$DNS44CTL" -s "$A_CTL" flush one.example >/dev/null ||
    fail "flush one.example"
b_forgot_one() { [ -z "$(shown "$B_CTL" one.example)" ]; }
wait_for 2 b_forgot_one && [ -z "$(rcli HGET dns44:name one.example)" ] &&
    ok "a flush on A reaches the store and B" ||
    fail "after the flush: B '$(shown "$B_CTL" one.example)'," \
    "store '$(rcli HGET dns44:name one.example)'"
"$DNS44CTL" -s "$A_CTL" flush all 2>&1 | grep -q "shared" &&
    ok "flush all is refused on a shared map" || fail "flush all ran"

# A reload cannot move the map to another store.
sed -i "s/^database redis .*/database redis $DW_UP port 6399/" \
    "$T_TMP/a/dns44.conf"
"$DNS44CTL" -s "$A_CTL" reload >/dev/null 2>&1
kept() { grep -q "database redis cannot change on reload" "$A_LOG"; }
wait_for 3 kept && in_range "$(qa after-reload.example A)" &&
    ok "a reload keeps the running store" ||
    fail "reload: $(tail -3 "$A_LOG")"

# The store stopped: known names answered, new ones SERVFAIL.
s0=$(qa same0.example A)
rcli SHUTDOWN >/dev/null 2>&1
wait "$REDIS_PID" 2>/dev/null
lost() { grep -q "map store.*SERVFAIL until it is back" "$1"; }
wait_for 3 lost "$A_LOG" && ok "A sees the store go" ||
    fail "A did not notice the store going"
[ "$(qa same0.example A)" = "$s0" ] && [ "$(qb same0.example A)" = "$s0" ] &&
    ok "store away: known names still answered by both" ||
    fail "store away: same0 '$(qa same0.example A)' '$(qb same0.example A)'"
[ "$(qfull down.example A | rcode_of)" = SERVFAIL ] &&
    ok "store away: a new name gets SERVFAIL" ||
    fail "store away: down.example $(qfull down.example A)"
[ -z "$(shown "$A_CTL" down.example)" ] &&
    ok "store away: no address invented" || fail "down.example mapped"
# An address A never heard of may be another's: not denied unasked.
[ "$(qfull 7.250.24.172.in-addr.arpa PTR | rcode_of)" = SERVFAIL ] &&
    ok "store away: PTR of an address A never heard of is SERVFAIL" ||
    fail "store away: PTR $(qfull 7.250.24.172.in-addr.arpa PTR)"
p0=$(echo "$s0" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }')
[ "$(qa "$p0.in-addr.arpa" PTR)" = same0.example. ] &&
    ok "store away: PTR of a known address answered" ||
    fail "store away: PTR of $s0: '$(qa "$p0.in-addr.arpa" PTR)'"
[ "$(metric dns44_map_store_up)" = 0 ] &&
    [ "$(metric dns44_map_store_outages_total)" = 1 ] &&
    ok "metrics: the store down, one outage" ||
    fail "metrics: $(grep store "$T_TMP/metrics")"
# The new name and the PTR query, SERVFAIL for the store.
n=$("$DNS44CTL" -s "$A_CTL" show stats | sed -n 's/^store failures  *//p')
[ "$n" = 2 ] && ok "show stats: 2 store failures" ||
    fail "show stats: store failures '$n'"
"$DNS44CTL" -s "$A_CTL" show status | grep -q "^map store *down" &&
    ok "show status: the store is down" ||
    fail "show status: $("$DNS44CTL" -s "$A_CTL" show status)"

# Back, with what it had: new names again, old ones as they were.
redis_start
twice() { [ "$(grep -c "map store.*: up" "$1")" -ge 2 ]; }
wait_for 5 twice "$A_LOG" && wait_for 5 twice "$B_LOG" &&
    ok "both gateways back on the store, no restart" ||
    fail "no recovery: $(tail -3 "$A_LOG")"
d=$(qb down.example A)
in_range "$d" && [ "$(qa down.example A)" = "$d" ] &&
    ok "store back: a new name mapped ($d), the same on both" ||
    fail "store back: down.example '$d' '$(qa down.example A)'"
[ "$(qa same0.example A)" = "$s0" ] && ok "store back: old names unchanged" ||
    fail "same0 now $(qa same0.example A)"

# The store hangs, its links open: no answer waits on it for long.
kill -STOP "$REDIS_PID"
t0=$(date +%s%N)
out=$(qfull hung.example A)
t1=$(date +%s%N)
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    [ $(((t1 - t0) / 1000000)) -lt 1900 ] &&
    ok "store hung: a new name gets SERVFAIL in $(((t1 - t0) / 1000000)) ms" ||
    fail "store hung: $(echo "$out" | rcode_of) after $(((t1 - t0) / 1000000)) ms"
[ "$(qa same0.example A)" = "$s0" ] && ok "store hung: known names answered" ||
    fail "store hung: same0 '$(qa same0.example A)'"
kill -CONT "$REDIS_PID"
thrice() { [ "$(grep -c "map store.*: up" "$1")" -ge 3 ]; }
wait_for 5 thrice "$A_LOG" && in_range "$(qa hung.example A)" &&
    ok "store awake: back, and the name is mapped" ||
    fail "after the hang: $(grep "map store" "$A_LOG" | tail -2)"

dw_stop "$A_PID"
dw_stop "$B_PID"

# Reuse across the fleet, in a range of three addresses: an address is
# reused only when no gateway answered it within TTL and grace and no
# gateway holds a lease on it.
rcli FLUSHALL >/dev/null
for g in a b; do
	[ $g = a ] && p=4453 || p=4454
	dw_start "small$g" <<EOF2
dns listen 127.0.0.1 port $p
proxy listen 127.0.0.1 port $((p + 30))
dns upstream $DW_UP
dns ttl 1
reuse-grace 0s
range 172.24.0.1 - 172.24.0.3
database redis $DW_UP port $RPORT
database password "$RPASS"
EOF2
	eval "${g}2_PID=\$DP ${g}2_LOG=\$DLOG"
done
wait_for 5 up "$a2_LOG" && wait_for 5 up "$b2_LOG" || die "small: no store"
x1=$(qa p1.example A) x2=$(qa p2.example A) x4=$(qa p4.example A)
[ -n "$x1" ] && [ -n "$x2" ] && [ -n "$x4" ] && [ "$x1" != "$x2" ] &&
    [ "$x1" != "$x4" ] && [ "$x2" != "$x4" ] &&
    ok "three names fill the range ($x1, $x2, $x4)" ||
    fail "p1 '$x1' p2 '$x2' p4 '$x4'"
# Another gateway's lease on x1, as one holding a connection keeps it.
rcli ZADD "dns44:pin:$x1" $(($(date +%s) + 60)) 0123456789abcdef >/dev/null
# Past TTL, grace and the margin for clocks and batching (1 + 0 + 6 s),
# while B answers p4 every second: never after a quiet, so its times
# reach the store only with B's batches every 5 seconds.
i=0
while [ $i -lt 8 ]; do
	[ "$(qb p4.example A)" = "$x4" ] || fail "B: p4 '$(qb p4.example A)'"
	sleep 1
	i=$((i + 1))
done
# B answers p2 now: its time reaches the store at once.
[ "$(qb p2.example A)" = "$x2" ] || fail "B: p2 '$(qb p2.example A)'"
sleep 0.3
out=$(qfull p3.example A)
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    [ "$(rcli HGET dns44:name p1.example)" = "$x1" ] &&
    [ "$(rcli HGET dns44:name p2.example)" = "$x2" ] &&
    [ "$(rcli HGET dns44:name p4.example)" = "$x4" ] &&
    ok "neither a leased address nor one B answered lately is reused" ||
    fail "p3: $(echo "$out" | rcode_of) $(rcli HGETALL dns44:name)"
[ "$(grep -c "map store.*: up" "$a2_LOG")" -eq 1 ] &&
    ok "a full range is a SERVFAIL, not a lost store" ||
    fail "A lost the store: $(grep "map store" "$a2_LOG")"
rcli ZREM "dns44:pin:$x1" 0123456789abcdef >/dev/null
[ "$(qa p3.example A)" = "$x1" ] &&
    [ -z "$(rcli HGET dns44:name p1.example)" ] &&
    ok "the lease gone, the address is reused ($x1)" ||
    fail "p3 after the lease: '$(qa p3.example A)' $(rcli HGETALL dns44:name)"
b_forgot_p1() { [ -z "$(shown "$T_TMP/smallb/ctl.sock" p1.example)" ]; }
wait_for 2 b_forgot_p1 && ok "B forgets the old name" ||
    fail "B still maps p1: $("$DNS44CTL" -s "$T_TMP/smallb/ctl.sock" show map)"
# All three past the hold, four new names at once, in one call of the
# script: the first three take one address each, the last SERVFAILs.
sleep 8
printf 'r%d.example\n' 1 2 3 4 | ip netns exec "$GW" $PYTHON \
    "$srcdir/regress/lib/dnsprobe.py" batch udp 127.0.0.1 4453 A \
    --together >"$T_TMP/four"
got=$(awk '$2 == "NOERROR" { print $3 }' "$T_TMP/four" | sort | tr '\n' ' ')
want=$(printf '%s\n' "$x1" "$x2" "$x4" | sort | tr '\n' ' ')
[ "$got" = "$want" ] &&
    [ "$(grep -c ' SERVFAIL$' "$T_TMP/four")" -eq 1 ] &&
    [ "$(rcli HLEN dns44:name)" -eq 3 ] &&
    [ "$(rcli HVALS dns44:name | sort -u | grep -c .)" -eq 3 ] &&
    ok "four new names at once in a full range: three reused, one each" ||
    fail "four at once: $(cat "$T_TMP/four") / $(rcli HGETALL dns44:name)"
# The three just placed were answered now: another name asked of B at
# once reuses none of them.
out=$(DW_PORT=4454 qfull r5.example A)
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    [ "$(rcli HVALS dns44:name | sort | tr '\n' ' ')" = "$want" ] &&
    ok "names just placed are not reused by another gateway" ||
    fail "r5: $(echo "$out" | rcode_of) $(rcli HGETALL dns44:name)"
# All three past the hold again, two leased: the third is reused, the
# leased ones passed over.
sleep 8
set -- $(rcli HVALS dns44:name | sort)
for a in "$1" "$2"; do
	rcli ZADD "dns44:pin:$a" $(($(date +%s) + 60)) 0123456789abcdef \
	    >/dev/null
done
[ "$(qa s1.example A)" = "$3" ] && ok "two leased: the third is reused ($3)" ||
    fail "s1: '$(qa s1.example A)' $(rcli HGETALL dns44:name)"
dw_stop "$a2_PID"
dw_stop "$b2_PID"
exit ${T_FAILED:-0}
