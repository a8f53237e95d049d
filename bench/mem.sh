#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# mem.sh: memory and start-up.
#  1. RSS of the dns process holding MEM_NAMES (1 000 000) mappings of a
#     /12, filled with dnsperf over new names; with MEM_TOR=1 the same
#     number of names given to tor's automap for comparison (slow: tor
#     maps about 5 000 names a second at that size; dns.sh compares the
#     two at 601 000 mappings in any case).
#  2. Time from start to first answer with those mappings in the
#     database (stop, start again on the same database, ask every 2 ms
#     until an answer comes), against the same with an empty database;
#     the median of MEM_STARTS (3) starts each.
#  3. PSS and RSS of the proxy workers holding MEM_CONNS (10 000) idle
#     TCP connections (client -> TPROXY -> dns44 -> server that holds them),
#     against haproxy holding as many on the same path.  Skipped when the
#     proxy does not relay.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${MEM_NAMES:=50000}" "${MEM_CONNS:=1000}"
else
	: "${MEM_NAMES:=1000000}" "${MEM_CONNS:=10000}"
fi
: "${MEM_TOR:=0}" "${MEM_STARTS:=3}"
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 2}"

b_ns NS
P_DNS44=5301 P_EMPTY=5302 P_TOR=5303
in_ns() { ip netns exec "$NS" "$@"; }

awk -v n="$MEM_NAMES" 'BEGIN {
    for (i = 0; i < n; i++) printf "fill-%d.bench A\n", i }' \
    >"$B_TMP/fill.txt"

# Start-up with an empty database, the reference.
dns44_start "$NS" empty <<EOF
dns listen 127.0.0.1 port $P_EMPTY
dns upstream 127.0.0.1 port 5399
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4481
EOF
stop "$D_PID"
i=1
while [ $i -le "$MEM_STARTS" ]; do
	rm -rf "$B_TMP/empty/db"
	dns44_startup "$NS" $P_EMPTY empty-start
	echo "$T_START" >>"$B_TMP/t_empty"
	stop "$D_PID"
	i=$((i + 1))
done
t_empty=$(median <"$B_TMP/t_empty")
log "start-up, empty database: $(echo $(cat "$B_TMP/t_empty")) s"

dns44_start "$NS" dns44 <<EOF
dns listen 127.0.0.1 port $P_DNS44
dns upstream 127.0.0.1 port 5399
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4480
EOF
rss0=$(rss_kib "$D_DNS")
log "filling $MEM_NAMES mappings"
in_ns dnsperf -s 127.0.0.1 -p $P_DNS44 -d "$B_TMP/fill.txt" -n 1 \
    $DNSPERF_OPTS >"$B_TMP/fill.out" 2>&1
set -- $(dnsperf_parse <"$B_TMP/fill.out")
log "fill: $1 qps, $2 lost"
# The lost ones (if any) asked again, so that every name is mapped.
if [ "$2" != 0 ] && [ "$2" != NA ]; then
	in_ns dnsperf -s 127.0.0.1 -p $P_DNS44 -d "$B_TMP/fill.txt" -n 1 \
	    $DNSPERF_OPTS >"$B_TMP/fill2.out" 2>&1
	log "fill again: $(dnsperf_parse <"$B_TMP/fill2.out")"
fi
sleep 1
rss_d=$(( $(rss_kib "$D_DNS") / 1024 ))
log "dns RSS: $((rss0 / 1024)) MiB empty, $rss_d MiB with $MEM_NAMES" \
    "($(rss_parts "$D_DNS"))"
[ -f "$B_TMP/dns44/db/dns44.tdb" ] &&
    log "database file: $(( $(stat -c %s "$B_TMP/dns44/db/dns44.tdb") / 1048576 )) MiB"
before=$(in_ns $TOOLS query 127.0.0.1 $P_DNS44 fill-7.bench)

rss_tor=NA peer=-
if [ "$MEM_TOR" = 1 ]; then
	mkdir -p "$B_TMP/tor/data"
	chmod 700 "$B_TMP/tor/data"
	cat >"$B_TMP/tor/torrc" <<EOF
DataDirectory $B_TMP/tor/data
RunAsDaemon 0
SocksPort 0
DNSPort 127.0.0.1:$P_TOR
AutomapHostsOnResolve 1
AutomapHostsSuffixes .
VirtualAddrNetworkIPv4 172.16.0.0/12
UseBridges 1
Bridge 127.0.0.1:1
ClientUseIPv6 0
AvoidDiskWrites 1
Log notice stdout
EOF
	bg "$NS" "$B_TMP/tor/out" tor -f "$B_TMP/tor/torrc" \
	    --defaults-torrc /dev/null
	TOR_PID=$BG_PID
	wait_for 20 in_ns $TOOLS query 127.0.0.1 $P_TOR probe.bench ||
	    die "tor did not answer"
	log "filling tor with $MEM_NAMES automaps"
	in_ns dnsperf -s 127.0.0.1 -p $P_TOR -d "$B_TMP/fill.txt" -n 1 \
	    $DNSPERF_OPTS >"$B_TMP/tfill.out" 2>&1
	log "tor fill: $(dnsperf_parse <"$B_TMP/tfill.out")"
	rss_tor=$(( $(rss_kib "$TOR_PID") / 1024 )) peer=tor
	stop "$TOR_PID"
fi
result "dns RSS, $MEM_NAMES mappings" "$rss_d" MiB $peer "$rss_tor" \
    "value<=200"

# Start-up on the same database (its file in the page cache).
i=1
while [ $i -le "$MEM_STARTS" ]; do
	stop "$D_PID"
	dns44_startup "$NS" $P_DNS44 full-start
	echo "$T_START" >>"$B_TMP/t_full"
	i=$((i + 1))
done
t_full=$(median <"$B_TMP/t_full")
log "start-up, $MEM_NAMES mappings: $(echo $(cat "$B_TMP/t_full")) s"
D_DNS=$(child_pid "$D_PID" dns)
after=$(in_ns $TOOLS query 127.0.0.1 $P_DNS44 fill-7.bench)
[ "$before" = "$after" ] ||
    log "WARNING: fill-7.bench was $before, is $after after the restart"
result "start-up to first answer, $MEM_NAMES mappings" "$t_full" s \
    "empty db" "$t_empty" "value<=2"
[ -n "$D_DNS" ] &&
    log "dns RSS after the restart: $(( $(rss_kib "$D_DNS") / 1024 )) MiB" \
    "($(rss_parts "$D_DNS"))"
stop "$D_PID"

# 3. The proxy holding idle connections.  The lab's client is one
# address: its per-client limit is lifted.  Each proxy has a hold server
# of its own, so that neither server holds the other's connections too.
lab_setup
echo "proxy per-client connections 1000000" >"$B_TMP/perclient.conf"
lab_dns44 <"$B_TMP/perclient.conf"
bg "$WORLD" "$B_TMP/hold.out" $TOOLS holdserver "$L_W" 80 "$B_TMP/held80"
bg "$WORLD" "$B_TMP/hold81.out" $TOOLS holdserver "$L_W" 81 "$B_TMP/held81"
wait_for 5 listening "$WORLD" tcp "$L_W:80" || die "holdserver"
wait_for 5 listening "$WORLD" tcp "$L_W:81" || die "holdserver"
if ! proxy_relays 80; then
	log "the proxy does not relay: proxy memory not measured"
	result "proxy RSS, $MEM_CONNS idle TCP" NA MiB haproxy NA "value<=16"
	exit 0
fi
# held PORT N: the server on PORT holds N connections or more.
held() {
	[ "$(cat "$B_TMP/held$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
wait_for 5 held 80 1	# proxy_relays' connection
# hold TARGET PORT SERVERPORT LABEL PIDS N: N connections to TARGET:PORT
# from the client, held by the server on SERVERPORT; "IDLE WITH N": the
# RSS of PIDS (KiB, summed) before and once the server holds them, and
# how many it holds; then the same two figures in PSS.
hold() {
	base=$(cat "$B_TMP/held$3" 2>/dev/null || echo 0)
	r0=$(rss_kib "$5")
	s0=$(pss_kib "$5")
	bg "$CL" "$B_TMP/client.$4" $TOOLS holdclient "$1" "$2" "$6"
	wait_for 120 held "$3" $((base + $6)) ||
	    log "$4: only $(($(cat "$B_TMP/held$3") - base)) connections held"
	sleep 2
	r1=$(rss_kib "$5")
	s1=$(pss_kib "$5")
	n=$(($(cat "$B_TMP/held$3") - base))
	log "$4: RSS $((r0 / 1024)) MiB idle, $((r1 / 1024)) MiB with $n" \
	    "connections (PSS $((s0 / 1024)) and $((s1 / 1024)) MiB);" \
	    "$(fd_count "$5") descriptors"
	echo "$r0 $r1 $n $s0 $s1"
}
# An idle connection takes two descriptors of the relay (its sockets),
# one of the client and one of the server: with a hard limit of NOFILE
# each relay is measured at what fits (dns44's workers share the
# connections; haproxy holds H_MAXCONN at most), and extrapolated
# linearly to MEM_CONNS if that is fewer.
want=$MEM_CONNS
nw=$(echo $D_PROXIES | wc -w)
n_dns44=$(awk -v f="$NOFILE" -v w="$nw" -v n="$want" 'BEGIN {
    m = f - 300; d = (f - 300) * w / 2 * 0.9; if (d < m) m = d
    m = int(m / 500) * 500; print (n < m) ? n : m }')
n_haproxy=$(awk -v f="$NOFILE" -v h="$H_MAXCONN" -v n="$want" 'BEGIN {
    m = f - 300; if (h - 100 < m) m = h - 100
    m = int(m / 500) * 500; print (n < m) ? n : m }')
for x in dns44 haproxy; do
	eval n=\$n_$x
	[ "$n" -lt "$want" ] && log "$x: open files hard limit $NOFILE" \
	    "(no CAP_SYS_RESOURCE?): measuring $n connections," \
	    "extrapolating to $want"
done
v=$(vip hold.bench)
set -- $(hold "$v" 80 80 dns44 "$D_PROXIES" "$n_dns44")
p0=$1 p1=$2 pn=$3 ps0=$4 ps1=$5
lab_haproxy 8080:81
set -- $(hold "$L_GW" 8080 81 haproxy "$H_PID" "$n_haproxy")
h0=$1 h1=$2 hn=$3 hs0=$4 hs1=$5
# proj IDLE WITH N: MiB for $want connections from the figure idle and
# with N connections (KiB).
proj() {
	awk -v a="$1" -v b="$2" -v n="$3" -v w="$want" 'BEGIN {
	    if (n <= 0) { print "NA"; exit }
	    printf "%.1f\n", (a + (b - a) * w / n) / 1024 }'
}
# With several workers, their RSS summed counts the pages they share
# (the program's and its libraries', ~5 MiB) once a worker: the target
# is on PSS, which counts them once in all; RSS is given too.  (haproxy
# is one process: its two are nearly the same.)
how=
[ "$pn" = "$want" ] && [ "$hn" = "$want" ] ||
    how=" (dns44 $pn, haproxy $hn measured; extrapolated)"
result "proxy PSS, $want idle TCP$how" "$(proj $ps0 $ps1 $pn)" MiB \
    haproxy "$(proj $hs0 $hs1 $hn)" "value<=16"
result "proxy RSS, $want idle TCP$how" "$(proj $p0 $p1 $pn)" MiB \
    haproxy "$(proj $h0 $h1 $hn)" -
exit 0
