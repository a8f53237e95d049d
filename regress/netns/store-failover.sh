#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store-failover: the shared map on a Redis primary with two replicas and
# a Sentinel, "database wait 1", two gateways.  The gateways find the
# primary through the Sentinel.  With the replicas stopped a new name is
# answered neither by the gateway that placed it nor by the one that
# heard of it on the channel, or by one that read it from the store at
# start, and changes heard while a fence is out are applied in order once
# it passes.  The primary is killed while new
# names are asked; the Sentinel promotes a replica, the gateway follows
# it without a restart, and every name the gateway answered with an
# address is in the new primary with that address: no acknowledged
# mapping is lost.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
. "$srcdir/regress/lib/redis.sh"
for tool in redis-server redis-sentinel redis-cli; do
	command -v "$tool" >/dev/null 2>&1 || { echo "needs $tool"; exit 77; }
done
dw_setup
dw_dnsmasq --address=/#/10.44.2.99

# server PORT [options...]: a redis-server on $DW_UP; its pid in SPID.
server() {
	rs_start "$WORLD" "$DW_UP" "$@"
	SPID=$RS_PID
}
rcli() {
	p=$1
	shift
	ip netns exec "$WORLD" redis-cli -h "$DW_UP" -p "$p" "$@"
}
server 6391
PRIMARY_PID=$SPID
server 6392 --replicaof "$DW_UP" 6391
R1_PID=$SPID
server 6393 --replicaof "$DW_UP" 6391
R2_PID=$SPID
synced() {
	[ "$(rcli 6391 INFO replication | grep -c 'state=online')" -eq 2 ]
}
wait_for 10 synced || die "replicas did not attach"
cat >"$T_TMP/sentinel.conf" <<EOF2
bind $DW_UP
port 26391
protected-mode no
dir $T_TMP
sentinel monitor dns44 $DW_UP 6391 1
sentinel down-after-milliseconds dns44 1000
sentinel failover-timeout dns44 5000
sentinel parallel-syncs dns44 2
EOF2
ip netns exec "$WORLD" redis-sentinel "$T_TMP/sentinel.conf" \
    >"$T_TMP/sentinel.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 dw_listening "$WORLD" tcp "$DW_UP:26391" ||
    { cat "$T_TMP/sentinel.out"; die "redis-sentinel did not start"; }
primary() {
	rcli 26391 SENTINEL get-master-addr-by-name dns44 | tail -n 1
}
knows_replicas() {
	[ "$(rcli 26391 SENTINEL replicas dns44 | grep -c '^name$')" -eq 2 ]
}
wait_for 10 knows_replicas || die "the Sentinel did not see the replicas"

dw_start a <<EOF2
dns upstream $DW_UP
database sentinel $DW_UP port 26391
database master dns44
database wait 1
EOF2
A_PID=$DP A_LOG=$DLOG
cat >"$T_TMP/b.conf" <<EOF2
dns listen 127.0.0.1 port 4454
proxy listen 127.0.0.1 port 4455
dns upstream $DW_UP
database sentinel $DW_UP port 26391
database master dns44
database wait 1
EOF2
dw_start b <"$T_TMP/b.conf"
B_PID=$DP B_LOG=$DLOG
up_on() { grep -q "map store $DW_UP:$1: up" "${2:-$A_LOG}"; }
wait_for 5 up_on 6391 && wait_for 5 up_on 6391 "$B_LOG" &&
    ok "the Sentinel names the primary; the store is up" ||
    { cat "$A_LOG" "$B_LOG"; die "not up on 6391"; }

# batch FILE FIRST LAST: new names FIRST to LAST asked of the gateway.
batch() {
	awk -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++)
	    print "f" i ".example" }' |
	    ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4453 A \
	    --timeout 2 >"$T_TMP/$1"
}
batch one 1 200
[ "$(grep -c ' NOERROR ' "$T_TMP/one")" -eq 200 ] &&
    ok "200 new names through the primary" ||
    fail "$(grep -vc ' NOERROR ' "$T_TMP/one") of 200 not answered: $(grep -v ' NOERROR ' "$T_TMP/one" | head -3)"

# Both replicas stopped: a new name is not answered before one has it,
# by the gateway that placed it or by one that heard of it.
# Each fence waits 1 s for the replicas, and a name may wait for the
# one out and then its own: 2 s, so kdig waits 4.
kill -STOP "$R1_PID" "$R2_PID"
out=$(DW_KDIG_OPTS="+timeout=4 +retry=0 +ignore" qfull unreplicated.example A)
again=$(DW_KDIG_OPTS="+timeout=4 +retry=0 +ignore" \
    qfull unreplicated.example A)
outb=$(DW_KDIG_OPTS="+timeout=4 +retry=0 +ignore" DW_PORT=4454 \
    qfull unreplicated.example A)
kill -CONT "$R1_PID" "$R2_PID"
# The WAITs have a link of their own: no command queued behind them
# long enough for the gateway to give the store up.
grep -q "map store.*no answer within" "$A_LOG" "$B_LOG" &&
    fail "the store given up: $(grep -h 'map store' "$A_LOG" "$B_LOG")" ||
    ok "replicas stopped: the store link held"
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    ok "no replica acknowledges: SERVFAIL, not an answer" ||
    fail "unreplicated.example: $(echo "$out" | rcode_of)"
[ "$(echo "$again" | rcode_of)" = SERVFAIL ] &&
    ok "asked again of the same gateway: SERVFAIL still" ||
    fail "unreplicated.example again: $(echo "$again" | rcode_of)"
[ "$(echo "$outb" | rcode_of)" = SERVFAIL ] &&
    ok "asked of the gateway that heard of it: SERVFAIL too" ||
    fail "unreplicated.example through B: $(echo "$outb" | rcode_of)"
# The replicas back: answered, with the store's address.
stored=$(rcli 6391 HGET dns44:name unreplicated.example)
answered() { [ "$(DW_PORT=4454 q unreplicated.example A)" = "$stored" ]; }
wait_for 5 answered && ok "replicas back: B answers it ($stored)" ||
    fail "replicas back: B '$(DW_PORT=4454 q unreplicated.example A)'," \
    "the store '$stored'"

# Changes heard while a fence is out (the replicas stopped a moment):
# applied in order once they have them, so that a name placed and
# forgotten meanwhile does not stay.
kill -STOP "$R1_PID" "$R2_PID"
rcli 6391 PUBLISH dns44:events "+ 172.24.250.1 ghost.example" >/dev/null
rcli 6391 PUBLISH dns44:events "+ 172.24.250.2 kept.example" >/dev/null
sleep 0.2
rcli 6391 PUBLISH dns44:events "- 172.24.250.1 ghost.example" >/dev/null
kill -CONT "$R1_PID" "$R2_PID"
shown() {
	"$DNS44CTL" -s "$T_TMP/b/ctl.sock" show map |
	    awk -v n="$1" '$1 == n { print $2 }'
}
kept() { [ "$(shown kept.example)" = 172.24.250.2 ]; }
wait_for 5 kept && ok "a name heard during a fence, kept once it passed" ||
    fail "kept.example: '$(shown kept.example)'"
[ -z "$(shown ghost.example)" ] &&
    ok "a name placed and forgotten during the fence is not kept" ||
    fail "ghost.example kept: $(shown ghost.example)"

# A name on the primary alone, as another gateway's script call leaves
# it while the replicas lag: B, started again, reads it with the rest of
# the store, but answers it only once the replicas have what it read.
kill -STOP "$R1_PID" "$R2_PID"
rcli 6391 HSET dns44:name lagging.example 172.24.250.3 >/dev/null
rcli 6391 HSET dns44:addr 172.24.250.3 lagging.example >/dev/null
rcli 6391 SETBIT dns44:used $((250 * 256 + 2)) 1 >/dev/null
dw_stop "$B_PID"
dw_start b <"$T_TMP/b.conf"
B_PID=$DP B_LOG=$DLOG
read_it() { [ "$(shown lagging.example)" = 172.24.250.3 ]; }
wait_for 5 read_it || fail "B did not read lagging.example"
outl=$(DW_KDIG_OPTS="+timeout=4 +retry=0 +ignore" DW_PORT=4454 \
    qfull lagging.example A)
kill -CONT "$R1_PID" "$R2_PID"
[ "$(echo "$outl" | rcode_of)" = SERVFAIL ] &&
    ok "a name read from the primary alone: SERVFAIL, not an answer" ||
    fail "lagging.example through B: $(echo "$outl" | rcode_of)"
lagged() { [ "$(DW_PORT=4454 q lagging.example A)" = 172.24.250.3 ]; }
wait_for 5 lagged && ok "replicas back: B answers what it read" ||
    fail "replicas back: B '$(DW_PORT=4454 q lagging.example A)'"

# The primary dies, unannounced, while names keep coming.
kill -KILL "$PRIMARY_PID"
batch two 201 400
new_primary() { p=$(primary); [ -n "$p" ] && [ "$p" != 6391 ]; }
wait_for 15 new_primary && ok "the Sentinel promotes a replica ($(primary))" ||
    die "no failover: $(tail -5 "$T_TMP/sentinel.out")"
NEW=$(primary)
wait_for 15 up_on "$NEW" && ok "the gateway follows it, no restart" ||
    { grep "map store" "$A_LOG" | tail -5; die "not up on $NEW"; }
# The other replica follows too, so "wait 1" can be met again.
works() {
	batch probe 9000 9000
	grep -q ' NOERROR ' "$T_TMP/probe"
}
wait_for 20 works && ok "new names are answered again" ||
    fail "after the failover: $(cat "$T_TMP/probe")"
batch three 401 450
[ "$(grep -c ' NOERROR ' "$T_TMP/three")" -eq 50 ] &&
    ok "50 more new names through the new primary" ||
    fail "$(grep -vc ' NOERROR ' "$T_TMP/three") of 50 not answered"

# Every address the gateway answered is in the new primary, the same.
cat "$T_TMP/one" "$T_TMP/two" "$T_TMP/three" "$T_TMP/probe" |
    awk '$2 == "NOERROR" { print $1, $3 }' >"$T_TMP/acked"
n=$(wc -l <"$T_TMP/acked")
awk '{ print "HGET dns44:name " $1 }' "$T_TMP/acked" | rcli "$NEW" \
    >"$T_TMP/stored"
lost=$(paste -d' ' "$T_TMP/acked" "$T_TMP/stored" |
    awk '$2 != $3' | wc -l)
[ "$lost" -eq 0 ] && ok "all $n answered mappings survived the failover" ||
    fail "$lost of $n answered mappings lost: $(paste -d' ' \
    "$T_TMP/acked" "$T_TMP/stored" | awk '$2 != $3' | head -3)"
dups=$(rcli "$NEW" HVALS dns44:name | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] && ok "no address given twice" ||
    fail "$dups addresses given twice"
echo "answered during the failover: $(grep -c ' NOERROR ' "$T_TMP/two") of 200"

dw_stop "$A_PID"
dw_stop "$B_PID"
exit ${T_FAILED:-0}
