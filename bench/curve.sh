#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# curve.sh: the cost curves, as figures and as pictures.
#  1. The map: RSS of the dns process and the time from start to first
#     answer (median of CURVE_STARTS starts on the same database) at each
#     of CURVE_SIZES mappings (10 000, 100 000, 1 000 000, 4 000 000) of
#     the range 100.64.0.0/10, filled in steps with dnsperf over new
#     names.  No peer: tor's automap takes hours to hold a million names.
#  2. The proxy: RSS of the proxy workers together holding CURVE_CONNS
#     (1 000, 5 000, 10 000) idle TCP connections, and of haproxy (as
#     many threads, splice) holding as many on the same path, added in
#     steps.  A step that does not fit the open files limit is measured
#     at the most that fits (a multiple of 500), and its figure says so.
# Writes curve-map.dat and curve-proxy.dat into BENCH_OUT and, with
# gnuplot, curve-map.png and curve-proxy.png.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${CURVE_SIZES:=10000 50000}" "${CURVE_CONNS:=500 1000}"
	: "${CURVE_STARTS:=1}"
else
	: "${CURVE_SIZES:=10000 100000 1000000 4000000}"
	: "${CURVE_CONNS:=1000 5000 10000}"
	: "${CURVE_STARTS:=3}"
fi
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 2}"
MAP_DAT=$BENCH_OUT/curve-map.dat
PROXY_DAT=$BENCH_OUT/curve-proxy.dat

# 1. The map.
b_ns NS
P_DNS44=5301
dns44_start "$NS" dns44 <<EOF
dns listen 127.0.0.1 port $P_DNS44
dns upstream 127.0.0.1 port 5399
range 100.64.0.0/10
proxy listen 127.0.0.1 port 4480
EOF
echo "# mappings dns_rss_mib startup_s" >"$MAP_DAT"
have=0
for n in $CURVE_SIZES; do
	awk -v a=$have -v b="$n" 'BEGIN {
	    for (i = a; i < b; i++) printf "fill-%d.bench A\n", i }' \
	    >"$B_TMP/fill.txt"
	# Lost queries asked again: every name is mapped before measuring.
	for try in 1 2 3; do
		ip netns exec "$NS" dnsperf -s 127.0.0.1 -p $P_DNS44 \
		    -d "$B_TMP/fill.txt" -n 1 $DNSPERF_OPTS \
		    >"$B_TMP/fill.out" 2>&1
		set -- $(dnsperf_parse <"$B_TMP/fill.out")
		log "fill to $n (pass $try): $1 qps, $2 lost"
		[ "$2" = 0 ] && break
	done
	have=$n
	sleep 1
	rss=$(( $(rss_kib "$D_DNS") / 1024 ))
	: >"$B_TMP/t_start"
	i=1
	while [ $i -le "$CURVE_STARTS" ]; do
		stop "$D_PID"
		dns44_startup "$NS" $P_DNS44 "start-$n-$i"
		echo "$T_START" >>"$B_TMP/t_start"
		i=$((i + 1))
	done
	D_DNS=$(child_pid "$D_PID" dns)
	t=$(median <"$B_TMP/t_start")
	log "$n mappings: dns RSS $rss MiB, start-up $(echo \
	    $(cat "$B_TMP/t_start")) s"
	echo "$n $rss $t" >>"$MAP_DAT"
	result "dns RSS, $n mappings" "$rss" MiB - - -
	result "start-up to first answer, $n mappings" "$t" s - - -
done
stop "$D_PID"

# 2. The proxy.  The lab's client is one address: its per-client limit
# is lifted.  Each relay has a hold server of its own.
lab_setup
echo "proxy per-client connections 1000000" >"$B_TMP/perclient.conf"
lab_dns44 <"$B_TMP/perclient.conf"
for port in 80 81; do
	bg "$WORLD" "$B_TMP/hold$port.out" $TOOLS holdserver "$L_W" $port \
	    "$B_TMP/held$port"
	wait_for 5 listening "$WORLD" tcp "$L_W:$port" || die "holdserver"
done
proxy_relays 80 || die "the proxy does not relay"
lab_haproxy 8080:81
held() { [ "$(cat "$B_TMP/held$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
wait_for 5 held 80 1	# proxy_relays' connection

# The most connections each relay can hold with NOFILE descriptors a
# process: two a connection, shared by dns44's workers (with room for
# the kernel's uneven spread), haproxy's maxconn; one each for the
# client and the server.
nw=$(echo $D_PROXIES | wc -w)
MAX_dns44=$(awk -v f="$NOFILE" -v w="$nw" 'BEGIN {
    m = f - 300; d = (f - 300) * w / 2 * 0.9; if (d < m) m = d
    printf "%d\n", int(m / 500) * 500 }')
MAX_haproxy=$(awk -v f="$NOFILE" -v h="$H_MAXCONN" 'BEGIN {
    m = f - 300; if (h - 100 < m) m = h - 100
    printf "%d\n", int(m / 500) * 500 }')

# step TARGET PORT SERVERPORT PIDS N NAME: N connections held through
# TARGET:PORT in all (the earlier steps' clients still hold theirs) by
# the server on SERVERPORT; the RSS of PIDS (summed) in MiB goes in $RSS,
# NA when not all were held.  N beyond what NAME can hold is measured
# at the most it can.
HAVE_dns44=0 HAVE_haproxy=0
step() {
	RSS=NA
	eval _have=\$HAVE_$6 _max=\$MAX_$6
	STEP_N=$5
	if [ "$5" -gt "$_max" ]; then
		STEP_N=$_max
		log "$6: $5 connections do not fit the open files limit" \
		    "$NOFILE: measuring $STEP_N"
		[ "$STEP_N" -gt "$_have" ] || return
		set -- "$1" "$2" "$3" "$4" "$STEP_N" "$6"
	fi
	_base=$(cat "$B_TMP/held$3")
	bg "$CL" "$B_TMP/client.$6.$5" $TOOLS holdclient "$1" "$2" \
	    $(( $5 - _have ))
	wait_for 120 held "$3" $(( _base + $5 - _have )) || {
		log "$6: only $(( $(cat "$B_TMP/held$3") - _base + _have ))" \
		    "of $5 connections held"
		return
	}
	eval HAVE_$6=$5
	sleep 2
	log "$6: $5 connections, RSS $(( $(rss_kib "$4") / 1024 )) MiB," \
	    "$(fd_count "$4") descriptors"
	RSS=$(awk -v k="$(rss_kib "$4")" 'BEGIN { printf "%.1f\n", k / 1024 }')
}
echo "# connections proxy_rss_mib haproxy_rss_mib haproxy_connections" \
    >"$PROXY_DAT"
v=$(vip hold.bench)
for n in $CURVE_CONNS; do
	step "$v" 80 80 "$D_PROXIES" "$n" dns44
	echo "$STEP_N $RSS" >"$B_TMP/p.$n"
done
for n in $CURVE_CONNS; do
	step "$L_GW" 8080 81 "$H_PID" "$n" haproxy
	set -- $(cat "$B_TMP/p.$n")
	[ "$STEP_N" = "$1" ] || log "haproxy measured at $STEP_N, dns44 at $1"
	echo "$1 $2 $RSS $STEP_N" >>"$PROXY_DAT"
	result "proxy RSS, $1 idle TCP" "$2" MiB haproxy "$RSS" -
done

# The pictures.
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOF || log "gnuplot failed"
set terminal pngcairo size 900,540 font ",11"
set grid
set key top left
set output "$BENCH_OUT/curve-map.png"
set title "dns44: the map's cost by number of mappings"
# Both axes logarithmic: a cost linear in the mappings is a straight line.
set logscale xyy2
set xlabel "mappings"
set ylabel "dns process RSS (MiB)"
set y2label "start-up to first answer (s)"
set ytics nomirror
set y2tics
plot "$MAP_DAT" using 1:2 with linespoints title "RSS (MiB)", \
     "$MAP_DAT" using 1:3 axes x1y2 with linespoints title "start-up (s)"
set output "$BENCH_OUT/curve-proxy.png"
set title "proxy RSS with idle TCP connections"
unset logscale
unset y2label
unset y2tics
set xlabel "idle TCP connections"
set ylabel "RSS (MiB)"
set datafile missing "NA"
plot "$PROXY_DAT" using 1:2 with linespoints title "dns44 proxy workers", \
     "$PROXY_DAT" using 4:3 with linespoints title "haproxy"
EOF
	log "pictures: $BENCH_OUT/curve-map.png $BENCH_OUT/curve-proxy.png"
else
	log "no gnuplot: no pictures (the figures are in $MAP_DAT," \
	    "$PROXY_DAT)"
fi
exit 0
