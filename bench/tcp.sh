#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# tcp.sh: TCP throughput with iperf3, 1 stream and 8 streams (-P 8), from
# the client namespace to the world namespace over three paths in the
# same run:
#   dns44    the client connects to the virtual address; TPROXY in the
#            gateway hands the connection to dns44's proxy, which connects
#            to the server (splice)
#   haproxy  the client connects to haproxy in the gateway (TCP mode,
#            option splice-auto, one thread), which connects to the server
#   direct   the client connects to the server, routed by the gateway
# TCP_REPS runs of TCP_TIME seconds per path and stream count, paths
# interleaved; medians reported.
# PROFILE=1: one more run of 8 streams on the dns44 and the direct path
# each, where the two CPUs went (the iperf3 client, its server, the
# relay, the kernel's softirq work, idle), and a profile of the whole
# machine during the dns44 run.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${TCP_TIME:=3}" "${TCP_REPS:=1}"
else
	: "${TCP_TIME:=10}" "${TCP_REPS:=3}"
fi

lab_setup
lab_dns44 </dev/null
bg "$WORLD" "$B_TMP/iperf3.out" iperf3 -s -B "$L_W" -p 5201
IPERF_S=$BG_PID
wait_for 5 listening "$WORLD" tcp "$L_W:5201" || die "iperf3 -s"
lab_haproxy 15201:5201

if ! proxy_relays 5201; then
	log "the proxy does not relay: TCP throughput not measured"
	result "TCP throughput, 1 stream(s)" NA Mbit/s haproxy NA \
	    "ratio>=1.3"
	result "TCP throughput, 8 stream(s)" NA Mbit/s direct NA \
	    "ratio>=0.75"
	exit 0
fi
V=$(vip iperf.bench)
log "dns44 proxy: pid $D_PROXY, $(tr "\\0" " " </proc/$D_PROXY/cmdline)"

# field JSON PATH [DIVISOR]: a number of iperf3's report (PATH as
# end.sum_received.bits_per_second), divided and rounded; NA if none.
field() {
	$PYTHON -c '
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        v = v[k]
    print("%.0f" % (v / float(sys.argv[3])))
except Exception:
    print("NA")' "$1" "$2" "${3:-1}"
}

# mbit JSON: the Mbit/s received in iperf3's report, NA if none.
mbit() { field "$1" end.sum_received.bits_per_second 1e6; }

# run TARGET PORT STREAMS RELAYPID: Mbit/s received; the relay's CPU
# use is logged.
run() {
	[ -n "$4" ] && c0=$(cpu_ticks "$4")
	t0=$(sys_ticks)
	in_cl iperf3 -c "$1" -p "$2" -P "$3" -t "$TCP_TIME" -J \
	    >"$B_TMP/run.json" 2>&1
	[ -n "$4" ] && log "  relay CPU $(proc_cpu "$4" "$c0" "$TCP_TIME")%"
	log "  the machine: $(sys_split "$t0")"
	mbit "$B_TMP/run.json"
}

for n in 1 8; do
	r=1
	while [ $r -le "$TCP_REPS" ]; do
		for path in dns44 haproxy direct; do
			case $path in
			dns44)		set -- "$V" 5201 "$D_PROXIES" ;;
			haproxy)	set -- "$L_GW" 15201 "$H_PID" ;;
			direct)		set -- "$L_W" 5201 "" ;;
			esac
			x=$(run "$1" "$2" $n "$3")
			[ "$x" = NA ] && log "iperf3: $(head -c 300 "$B_TMP/run.json")"
			log "$n stream(s), run $r, $path: $x Mbit/s"
			echo "$x" | grep -v NA >>"$B_TMP/tcp$n.$path"
		done
		r=$((r + 1))
	done
	for path in dns44 haproxy direct; do
		touch "$B_TMP/tcp$n.$path"
		eval m_$path=$(median <"$B_TMP/tcp$n.$path")
	done
	# The targets: one stream against haproxy, eight against direct.
	[ $n = 1 ] && th="ratio>=1.3" td=- || th=- td="ratio>=0.75"
	result "TCP throughput, $n stream(s)" "$m_dns44" Mbit/s haproxy \
	    "$m_haproxy" "$th"
	result "TCP throughput, $n stream(s)" "$m_dns44" Mbit/s direct \
	    "$m_direct" "$td"
done

# split TARGET PORT RELAYPIDS: one run of 8 streams, and where the CPUs
# went, in % of one CPU (two CPUs: 200 in all).
split() {
	s0=$(sys_ticks) r0=0
	[ -n "$3" ] && r0=$(cpu_ticks "$3")
	srv0=$(cpu_ticks "$IPERF_S")
	ip netns exec "$CL" iperf3 -c "$1" -p "$2" -P 8 -t "$TCP_TIME" -J \
	    >"$B_TMP/split.json" 2>&1 &
	_c=$!
	# The profile: the run's seconds but its first and last.
	[ "${4:-}" = profile ] && sleep 1 && perf record -a -F 499 -g \
	    -o "$B_TMP/perf.data" -- sleep $((TCP_TIME > 3 ? TCP_TIME - 2 : 1)) \
	    >"$B_TMP/perf.rec" 2>&1
	wait $_c
	# The client's own CPU use, from its report.
	cl=$(field "$B_TMP/split.json" end.cpu_utilization_percent.host_total)
	printf 'iperf3 client %s, server %s, relay %s, %s\n' "$cl" \
	    "$(proc_cpu "$IPERF_S" "$srv0" "$TCP_TIME")" \
	    "$([ -n "$3" ] && proc_cpu "$3" "$r0" "$TCP_TIME" || echo 0)" \
	    "$(sys_split "$s0")"
}

if [ "${PROFILE:-0}" = 1 ]; then
	log "8 streams, where the CPUs went, dns44:" \
	    "$(split "$V" 5201 "$D_PROXIES" profile)"
	log "  $(mbit "$B_TMP/split.json") Mbit/s"
	for k in comm comm,dso,sym; do
		echo "by $k (self time, kernel included):"
		perf report -i "$B_TMP/perf.data" --stdio --no-children \
		    --sort $k -g none 2>/dev/null | grep -E '^ +[0-9]' |
		    head -30
	done >"$BENCH_OUT/tcp-profile.txt"
	log "the machine's profile, 8 streams through dns44:" \
	    "$BENCH_OUT/tcp-profile.txt"
	log "8 streams, where the CPUs went, direct:" \
	    "$(split "$L_W" 5201 "")"
	log "  $(mbit "$B_TMP/split.json") Mbit/s"
fi
exit 0
