#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# failover.sh: the cost of a dead first upstream.  dnsperf over UDP on the
# loopback of a namespace of the benchmark's own sends forwarded queries
# (MX: never answered from the map) to two dns44 daemons in the same run:
#   dead   upstreams 127.0.0.1:5399, a socket that reads and never
#          answers, then unbound on 127.0.0.1:5302
#   alive  upstream unbound on 127.0.0.1:5302 alone
# unbound (1 thread) answers every name from local data.  Both daemons
# keep the default upstream-timeout of 2 s.  The dead one is primed with
# one pass over the names, in which the silent upstream goes down.
# FAIL_REPS runs of FAIL_TIME s each, the two interleaved; medians of the
# queries per second and of the 99th percentile of the latency (from
# dnsperf -v, every query's own).  The targets: the qps ratio dead/alive
# >= 0.9, and the p99 ratio dead/alive <= 1.11 (alive/dead >= 0.9).

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${FAIL_TIME:=3}" "${FAIL_REPS:=1}"
else
	: "${FAIL_TIME:=10}" "${FAIL_REPS:=3}"
fi
# The timeout covers a probe of the dead upstream (2 s) and its answer.
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 5}"

b_ns NS
P_DEAD=5301 P_ALIVE=5303 P_UNBOUND=5302 P_SINK=5399

awk 'BEGIN { for (i = 0; i < 1000; i++) printf "fwd-%d.bench MX\n", i }' \
    >"$B_TMP/fwd.txt"

unbound_start "$NS" 127.0.0.1 $P_UNBOUND 10.0.0.1 1
bg "$NS" "$B_TMP/sink.out" $TOOLS udpsink 127.0.0.1 $P_SINK
wait_for 5 listening "$NS" udp "127.0.0.1:$P_SINK" || die "no sink"

dns44_start "$NS" dead <<EOF
dns listen 127.0.0.1 port $P_DEAD
dns upstream 127.0.0.1 port $P_SINK
dns upstream 127.0.0.1 port $P_UNBOUND
proxy listen 127.0.0.1 port 4480
EOF
DEAD_DIR=$B_TMP/dead
dns44_start "$NS" alive <<EOF
dns listen 127.0.0.1 port $P_ALIVE
dns upstream 127.0.0.1 port $P_UNBOUND
proxy listen 127.0.0.1 port 4481
EOF
for p in $P_DEAD $P_ALIVE; do
	wait_for 10 listening "$NS" udp "127.0.0.1:$p" || die "port $p"
done

# perf_run PORT [dnsperf options]: "QPS LOST P99_MS".
perf_run() {
	_p=$1
	shift
	ip netns exec "$NS" dnsperf -s 127.0.0.1 -p "$_p" \
	    -d "$B_TMP/fwd.txt" $DNSPERF_OPTS -v "$@" >"$B_TMP/perf.out" 2>&1
	_ql=$(dnsperf_parse <"$B_TMP/perf.out")
	# Each answered query: "> RCODE NAME TYPE SECONDS".
	_p99=$(awk '$1 == ">" && $NF ~ /^[0-9.]+$/ { print $NF * 1000 }' \
	    "$B_TMP/perf.out" | sort -g | awk '{ v[NR] = $1 } END {
	    if (NR == 0) { print "NA"; exit }
	    i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f\n", v[i] }')
	echo "$_ql $_p99"
}

log "priming: the dead upstream goes down"
set -- $(perf_run $P_DEAD -n 1)
log "priming dead: $1 qps, $2 lost, p99 $3 ms"
perf_run $P_ALIVE -n 1 >/dev/null

r=1
while [ $r -le "$FAIL_REPS" ]; do
	for s in dead alive; do
		eval p=\$P_$(echo $s | tr a-z A-Z)
		set -- $(perf_run "$p" -l "$FAIL_TIME")
		log "run $r $s: $1 qps, $2 lost, p99 $3 ms"
		echo "$1" >>"$B_TMP/qps.$s"
		echo "$3" >>"$B_TMP/p99.$s"
	done
	r=$((r + 1))
done
for s in dead alive; do
	eval qps_$s=$(median <"$B_TMP/qps.$s")
	eval p99_$s=$(median <"$B_TMP/p99.$s")
done
result "forwarded qps, first of 2 upstreams dead" "$qps_dead" qps \
    "1 upstr" "$qps_alive" "ratio>=0.9"
result "forwarded p99 latency, first upstream dead" "$p99_dead" ms \
    "1 upstr" "$p99_alive" "ratio<=1.11"
log "the dead daemon's upstreams:"
"${DNS44CTL:-$(dirname "$DNS44")/dns44ctl/dns44ctl}" \
    -s "$DEAD_DIR/ctl.sock" show stats 2>&1 | sed -n '/^UPSTREAM/,$p' >&2
grep -E 'warn|error|fatal' "$B_TMP/dead/log" | head -5 >&2
exit 0
