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
#  3. RSS of the proxy process holding MEM_CONNS (10 000) idle TCP
#     connections (client -> TPROXY -> dns44 -> server that holds them),
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

# 3. The proxy holding idle connections.
lab_setup
lab_dns44 </dev/null
bg "$WORLD" "$B_TMP/hold.out" $TOOLS holdserver "$L_W" 80 "$B_TMP/held"
wait_for 5 listening "$WORLD" tcp "$L_W:80" || die "holdserver"
if ! proxy_relays 80; then
	log "the proxy does not relay: proxy memory not measured"
	result "proxy RSS, $MEM_CONNS idle TCP" NA MiB haproxy NA "value<=16"
	exit 0
fi
held() {
	[ "$(cat "$B_TMP/held" 2>/dev/null)" -ge "$1" ]
}
wait_for 5 held 1	# proxy_relays' connection
# hold TARGET PORT LABEL PID: MEM_CONNS connections to TARGET:PORT from
# the client, held; "IDLE WITH": the RSS of PID (KiB) before, and once
# the server holds them all.
hold() {
	base=$(cat "$B_TMP/held" 2>/dev/null || echo 0)
	r0=$(rss_kib "$4")
	bg "$CL" "$B_TMP/client.$3" $TOOLS holdclient "$1" "$2" "$MEM_CONNS"
	cpid=$BG_PID
	wait_for 120 held $((base + MEM_CONNS)) ||
	    log "$3: only $(($(cat "$B_TMP/held") - base)) connections held"
	sleep 2
	r1=$(rss_kib "$4")
	log "$3: RSS $((r0 / 1024)) MiB idle, $((r1 / 1024)) MiB with" \
	    "$(($(cat "$B_TMP/held") - base)) connections;" \
	    "$(fd_count "$4") descriptors"
	echo "$r0 $r1"
}
# An idle connection takes two descriptors of the proxy (its sockets):
# with a hard limit of NOFILE we measure at what fits and extrapolate
# linearly to MEM_CONNS.
want=$MEM_CONNS
fit=$(( (NOFILE - 300) / 2 / 500 * 500 ))
if [ "$fit" -lt "$MEM_CONNS" ]; then
	MEM_CONNS=$fit
	log "open files hard limit $NOFILE (no CAP_SYS_RESOURCE?):" \
	    "measuring $MEM_CONNS connections, extrapolating to $want"
fi
v=$(vip hold.bench)
set -- $(hold "$v" 80 dns44 "$D_PROXIES")
p0=$1 p1=$2
lab_haproxy 8080:80
set -- $(hold "$L_GW" 8080 haproxy "$H_PID")
h0=$1 h1=$2
# RSS in MiB for $want connections from IDLE and WITH (KiB).
proj() {
	awk -v a="$1" -v b="$2" -v n="$MEM_CONNS" -v w="$want" \
	    'BEGIN { printf "%.1f\n", (a + (b - a) * w / n) / 1024 }'
}
if [ "$MEM_CONNS" = "$want" ]; then
	result "proxy RSS, $want idle TCP" "$(proj $p0 $p1)" MiB haproxy \
	    "$(proj $h0 $h1)" "value<=16"
else
	result "proxy RSS, $MEM_CONNS idle TCP (measured)" \
	    "$(awk -v b=$p1 'BEGIN { printf "%.1f", b / 1024 }')" \
	    MiB haproxy "$(awk -v b=$h1 'BEGIN { printf "%.1f", b / 1024 }')" -
	result "proxy RSS, $want idle TCP (extrapolated)" "$(proj $p0 $p1)" \
	    MiB haproxy "$(proj $h0 $h1)" "value<=16"
fi
exit 0
