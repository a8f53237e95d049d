#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# verify.sh: new names per second when each is verified upstream before
# it is mapped (`dns verify yes`, the default), against unbound forwarding
# to the same upstream, in the same run.  dnsperf over UDP on the loopback
# of a namespace of the benchmark's own; every name is asked once, so
# neither server answers from its cache:
#   upstream  unbound, 2 threads, every name answered with 10.0.0.1 from
#             local data
#   dns44     verify yes, that upstream: one upstream query per new name,
#             then an address from the range
#   fwd       unbound, 1 thread (as dns44's dns process has), forwarding
#             everything to that upstream
#   fwd2      the same with 2 threads (for information)
#   noverify  dns44 with `dns verify no` (for information: the cost of
#             verifying)
# VERIFY_REPS runs of VERIFY_NEW names (at most VERIFY_TIME s) each,
# servers interleaved, each run with names of its own; medians reported.
# Target: dns44 / fwd >= 0.8.  With PROFILE=1 the dns process is profiled
# (perf) during an extra run.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${VERIFY_TIME:=3}" "${VERIFY_REPS:=1}" "${VERIFY_NEW:=20000}"
else
	: "${VERIFY_TIME:=10}" "${VERIFY_REPS:=3}" "${VERIFY_NEW:=100000}"
fi
# Forwarded: more outstanding queries than for local answers.
: "${DNSPERF_OPTS:=-c 4 -q 500 -T 2 -t 5}"

b_ns NS
P_UP=5310 P_DNS44=5311 P_FWD=5312 P_FWD2=5313 P_NOVERIFY=5314
SERVERS="dns44 fwd fwd2 noverify"

unbound_start "$NS" 127.0.0.1 $P_UP 10.0.0.1
# fwd_start PORT THREADS: unbound forwarding everything to the upstream.
fwd_start() {
	_d=$B_TMP/fwd-$1
	unbound_conf "$_d" "interface: 127.0.0.1@$1" "port: $1" \
	    "num-threads: $2" "do-not-query-localhost: no" \
	    "qname-minimisation: no" "harden-referral-path: no" \
	    'module-config: "iterator"' 'forward-zone:' 'name: "."' \
	    "forward-addr: 127.0.0.1@$P_UP"
	bg "$NS" "$_d/out" unbound -d -c "$_d/unbound.conf"
	wait_for 10 listening "$NS" udp "127.0.0.1:$1" || {
		cat "$_d/out" >&2
		die "unbound (forwarding) did not start"
	}
}
fwd_start $P_FWD 1
fwd_start $P_FWD2 2

dns44_start "$NS" dns44 <<EOF
dns listen 127.0.0.1 port $P_DNS44
dns upstream 127.0.0.1 port $P_UP
dns verify yes
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4480
EOF
VERIFY_DIR=$B_TMP/dns44
D_DNS_VERIFY=$D_DNS
dns44_start "$NS" noverify <<EOF
dns listen 127.0.0.1 port $P_NOVERIFY
dns upstream 127.0.0.1 port $P_UP
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4481
EOF

in_ns() { ip netns exec "$NS" "$@"; }
for p in $P_DNS44 $P_FWD $P_FWD2 $P_NOVERIFY; do
	wait_for 10 in_ns $TOOLS query 127.0.0.1 $p probe.bench ||
	    die "no answer on port $p"
done

if [ "${PROFILE:-0}" = 1 ]; then
	log "profiling the dns process (pid $D_DNS_VERIFY) for 5 s"
	awk -v n="$VERIFY_NEW" 'BEGIN {
	    for (i = 0; i < n; i++) printf "prof-%d.bench A\n", i }' \
	    >"$B_TMP/prof.txt"
	profile_start "$D_DNS_VERIFY" 5
	ip netns exec "$NS" dnsperf -s 127.0.0.1 -p $P_DNS44 \
	    -d "$B_TMP/prof.txt" $DNSPERF_OPTS -n 1 -l 6 >/dev/null 2>&1
	profile_report "$BENCH_OUT/verify-profile.txt" \
	    'ldns_|tdb_|libc_(sendto|recvfrom|malloc|free|socket|connect|close)|epoll_'
fi

r=1
while [ $r -le "$VERIFY_REPS" ]; do
	for s in $SERVERS; do
		awk -v r=$r -v s=$s -v n="$VERIFY_NEW" 'BEGIN {
		    for (i = 0; i < n; i++)
			printf "v%d-%s-%d.bench A\n", r, s, i }' \
		    >"$B_TMP/new-$s.txt"
		eval p=\$P_$(echo $s | tr a-z A-Z)
		ip netns exec "$NS" dnsperf -s 127.0.0.1 -p "$p" \
		    -d "$B_TMP/new-$s.txt" $DNSPERF_OPTS -n 1 \
		    -l "$VERIFY_TIME" >"$B_TMP/perf.out" 2>&1
		set -- $(dnsperf_parse <"$B_TMP/perf.out")
		log "run $r $s: $1 qps, $2 lost"
		echo "$1" >>"$B_TMP/qps.$s"
	done
	r=$((r + 1))
done
for s in $SERVERS; do
	eval qps_$s=$(median <"$B_TMP/qps.$s")
done
result "new names/s, verified upstream" "$qps_dns44" qps "unbnd fw" \
    "$qps_fwd" "ratio>=0.8"
result "new names/s, verified upstream" "$qps_dns44" qps "unb2 fw" \
    "$qps_fwd2" -
result "new names/s, verified upstream" "$qps_dns44" qps "noverify" \
    "$qps_noverify" -
# Every name the upstream answered was mapped, none refused.
"${DNS44CTL:-$(dirname "$DNS44")/dns44ctl/dns44ctl}" \
    -s "$VERIFY_DIR/ctl.sock" show stats 2>&1 | head -n 12 >&2
grep -E 'warn|error|fatal' "$VERIFY_DIR/log" | head -5 >&2
exit 0
