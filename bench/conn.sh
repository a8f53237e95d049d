#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# conn.sh: TCP connections per second.  wrk (2 threads, CONN_CLIENTS
# connections, "Connection: close", so that every request is a new TCP
# connection) from the client namespace fetches a 1 kB file from nginx
# (one worker) in the world namespace over four paths in the same run:
# dns44 (virtual address, TPROXY), haproxy (TCP mode, as many threads as
# dns44 has workers), direct (routed by the gateway) and, when NULLRELAY
# is built, the floor: bench/nullrelay, a relay that does nothing but
# accept, dial and copy, with as many threads.  CONN_REPS runs of
# CONN_TIME seconds per path, interleaved; medians reported.  Each run
# logs the segments the server's side of a connection took each way (the
# world namespace's TCP counters over the run, a request each).  With
# PROFILE=1 the proxy process is profiled (perf) under the same load.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${CONN_TIME:=3}" "${CONN_REPS:=1}"
else
	: "${CONN_TIME:=10}" "${CONN_REPS:=3}"
fi
: "${CONN_CLIENTS:=32}"

lab_setup
lab_dns44 </dev/null
lab_nginx
lab_haproxy 8080:80
: "${NULLRELAY:=$(dirname "$DNS44")/../bench/nullrelay}"
paths="dns44 haproxy direct"
if [ -x "$NULLRELAY" ]; then
	bg "$GW" "$B_TMP/nullrelay.out" "$NULLRELAY" "$L_GW" 8090 "$L_W" 80 \
	    "${PROXY_WORKERS:-$(nproc)}"
	N_PID=$BG_PID
	wait_for 10 listening "$GW" tcp "$L_GW:8090" ||
	    die "nullrelay did not start: $(cat "$B_TMP/nullrelay.out")"
	paths="$paths floor"
else
	log "no $NULLRELAY (make bench builds it): no floor measured"
fi

if ! proxy_relays 80; then
	log "the proxy does not relay: connection rate not measured"
	result "TCP connections/s" NA conn/s haproxy NA "ratio>=1.2"
	exit 0
fi
V=$(vip www.bench)

# segs: the TCP segments the world namespace (nginx) received and sent.
segs() {
	in_w awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ { print $11, $12 }' \
	    /proc/net/snmp
}

# run URL RELAYPID: requests (= connections) per second; errors logged,
# and the segments nginx's side of a connection took, each way.
run() {
	[ -n "$2" ] && c0=$(cpu_ticks "$2")
	d0=$(cpu_ticks "$D_DNS")
	t0=$(sys_ticks)
	s0=$(segs)
	in_cl wrk -t 2 -c "$CONN_CLIENTS" -d "${CONN_TIME}s" \
	    -H "Connection: close" "$1" >"$B_TMP/wrk.out" 2>&1
	[ -n "$2" ] && log "  relay CPU $(proc_cpu "$2" "$c0" "$CONN_TIME")%," \
	    "dns44's dns process $(proc_cpu "$D_DNS" "$d0" "$CONN_TIME")%"
	log "  the machine: $(sys_split "$t0")"
	log "  segments a connection at the server, in and out:" \
	    "$(echo "$s0 $(segs) $(awk '/requests in/ { print $1 }' \
	    "$B_TMP/wrk.out")" | awk '$5 > 0 {
	    printf "%.2f %.2f", ($3 - $1) / $5, ($4 - $2) / $5 }')"
	e=$(grep -E 'Socket errors|Non-2xx' "$B_TMP/wrk.out")
	[ -n "$e" ] && log "  wrk: $e"
	awk '/^Requests\/sec:/ { printf "%.0f\n", $2; f = 1 }
	    END { if (!f) print "NA" }' "$B_TMP/wrk.out"
}

r=1
while [ $r -le "$CONN_REPS" ]; do
	for path in $paths; do
		case $path in
		dns44)		set -- "http://$V/small" "$D_PROXIES" ;;
		haproxy)	set -- "http://$L_GW:8080/small" "$H_PID" ;;
		direct)		set -- "http://$L_W/small" "" ;;
		floor)		set -- "http://$L_GW:8090/small" "$N_PID" ;;
		esac
		x=$(run "$1" "$2")
		[ "$x" = NA ] && log "wrk: $(head -c 300 "$B_TMP/wrk.out")"
		log "run $r, $path: $x connections/s"
		echo "$x" | grep -v NA >>"$B_TMP/conn.$path"
	done
	r=$((r + 1))
done
# The proxy under this load, profiled.
if [ "${PROFILE:-0}" = 1 ]; then
	log "profiling the proxy workers (pids $D_PROXIES) for 5 s"
	profile_start "$(echo $D_PROXIES | tr ' ' ,)" 5
	in_cl wrk -t 2 -c "$CONN_CLIENTS" -d 6s -H "Connection: close" \
	    "http://$V/small" >/dev/null 2>&1
	profile_report "$BENCH_OUT/conn-profile.txt" \
	    'libc_(accept|connect|close|socket|splice|pipe|sendmsg|recvmsg)|epoll|event_base_loop|msg_'
fi
for path in dns44 haproxy direct floor; do
	touch "$B_TMP/conn.$path"
	eval m_$path=$(median <"$B_TMP/conn.$path")
done
result "TCP connections/s" "$m_dns44" conn/s haproxy "$m_haproxy" \
    "ratio>=1.2"
result "TCP connections/s" "$m_dns44" conn/s direct "$m_direct" \
    "ratio>=0.7"
# What any relay can reach here: the floor against the same peers.
if [ -x "$NULLRELAY" ]; then
	result "TCP connections/s, floor relay" "$m_floor" conn/s haproxy \
	    "$m_haproxy" -
	result "TCP connections/s, floor relay" "$m_floor" conn/s direct \
	    "$m_direct" -
	result "TCP connections/s" "$m_dns44" conn/s "floor relay" \
	    "$m_floor" -
fi
exit 0
