#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store.sh: what the shared map in Redis costs the dns process, against
# the map in its tdb file, in the same run.  The proxy lab (lib.sh):
# dnsperf in the client namespace, the dns44 daemons in the gateway
# namespace, one redis-server (nothing kept on disk) in the world
# namespace on 10.47.2.2:6379.  Every daemon has `dns verify no` and
# `dns new-names 0` (new names mapped with no upstream query and no rate
# limit) and the range 10.128.0.0/9:
#   tdb     the map in its tdb file alone
#   redis   `database redis 10.47.2.2`: a new name's address comes from
#           the store's script before the answer leaves
#   redis2  a second gateway on the same store, started for (c)
# (a) mapped names: 1 000 names, primed, asked over and over for
#     STORE_MTIME s by each map in turn, STORE_MPAIRS pairs; target the
#     median of the pairs' redis / tdb >= 0.95 (each map's median rate
#     reported with it);
# (b) new names: STORE_NEW names never asked before, each asked once (at
#     most STORE_TIME s), by each of the load generators STORE_GENS in
#     turn; target redis / tdb >= 0.5, each map's figure the best of its
#     generators' medians (the first generator's alone for information);
# (c) two gateways: redis and redis2 each sent STORE_NEW new names of
#     their own by a dnsperf of their own (the first generator) at the
#     same time; the names both answered per second of the longer run,
#     against (b)'s redis figure with the first generator (for
#     information: what one more gateway adds).
# STORE_MPAIRS pairs of (a), STORE_REPS runs of (b), tdb and redis
# interleaved, then STORE_REPS of (c); medians reported.  The response
# codes of each run, the CPU use of redis-server and of the dns
# processes (and what a query of (a) cost the dns process, a name of (b)
# each, in microseconds of a CPU; for (b), the machine's idle and softirq
# time) are in the log.  With PROFILE=1, more new names are sent to
# each map while the dns process's system calls, context switches and
# page faults are counted (perf stat; a name's share logged), then the
# dns process and redis-server are profiled (store-profile-*.txt).

. "$(dirname "$0")/lib.sh"
b_setup
command -v redis-server >/dev/null 2>&1 || die "needs redis-server"

if [ "$BENCH_QUICK" = 1 ]; then
	: "${STORE_TIME:=3}" "${STORE_REPS:=1}" "${STORE_NEW:=30000}"
	: "${STORE_MPAIRS:=5}" "${STORE_MTIME:=2}"
else
	: "${STORE_TIME:=8}" "${STORE_REPS:=3}" "${STORE_NEW:=200000}"
	: "${STORE_MPAIRS:=9}" "${STORE_MTIME:=3}"
fi
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 2}"
# The new names' load generators, "|" between them: the first as the
# other DNS benchmarks run dnsperf, the second lighter (one thread, two
# sockets).  On two CPUs the generator's share is taken from the map's
# processes, and which setting lets a map go fastest differs: tdb's one
# process is held back by the lighter one (~110 000 names/s against
# 97 000-133 000), the map in Redis, three processes handing each name
# on, by the heavier (the lighter gained it 2-45 % in the runs of
# bench/README.md).  Each map's figure is its best.
: "${STORE_GENS:=$DNSPERF_OPTS|-c 2 -q 200 -T 1 -t 2}"

RANGE=10.128.0.0/9
RPORT=6379
P_TDB=5301 P_REDIS=5302 P_REDIS2=5303

lab_setup

mkdir -p "$B_TMP/redis"
bg "$WORLD" "$B_TMP/redis/out" redis-server --bind "$L_W" --port $RPORT \
    --save "" --appendonly no --protected-mode no --dir "$B_TMP/redis" \
    --daemonize no
R_PID=$BG_PID
wait_for 10 listening "$WORLD" tcp "$L_W:$RPORT" || {
	cat "$B_TMP/redis/out" >&2
	die "redis-server did not start"
}
rcli() { in_w redis-cli -h "$L_W" -p $RPORT "$@"; }

# gw NAME PORT [conf lines on stdin]: dns44 in $GW answering on
# $L_GW:PORT; its log in $B_TMP/NAME/log, its dns process in D_DNS.
gw() {
	{
		echo "dns listen $L_GW port $2"
		echo "dns upstream $L_W"
		echo "dns new-names 0"
		echo "range $RANGE"
		echo "proxy listen 127.0.0.1 port $(($2 - 5301 + 4480))"
		cat
	} >"$B_TMP/$1.conf"
	dns44_start "$GW" "$1" <"$B_TMP/$1.conf"
	wait_for 5 listening "$GW" udp "$L_GW:$2" || die "$1: DNS port"
}
store_up() { grep -q 'map store .*: up' "$1"; }
# gw_redis NAME PORT: gw on the store, once it has read the store.
gw_redis() {
	gw "$1" "$2" <<EOF
database redis $L_W port $RPORT
EOF
	wait_for 60 store_up "$D_LOG" || {
		cat "$D_LOG" >&2
		die "$1: the store is not up"
	}
}

gw tdb $P_TDB </dev/null
DNS_TDB=$D_DNS
gw_redis redis $P_REDIS
DNS_REDIS=$D_DNS

# perf_run PORT FILE OUT [dnsperf options]: dnsperf from the client; the
# qps and the queries lost.
perf_run() {
	_p=$1 _f=$2 _o=$3
	shift 3
	in_cl dnsperf -s "$L_GW" -p "$_p" -d "$_f" $DNSPERF_OPTS "$@" \
	    >"$_o" 2>&1
	dnsperf_parse <"$_o"
}
# codes OUT: the qps and the response codes of a dnsperf run.
codes() {
	echo "$(dnsperf_parse <"$1" | cut -d' ' -f1) qps," \
	    "$(sed -n 's/^ *Response codes: *//p' "$1")"
}
# calls QPS: the script's calls (redis-server's own count since the
# last CONFIG RESETSTAT), the names a call and the time one took.
calls() {
	rcli info commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$STORE_NEW" '
	    $1 == "cmdstat_evalsha" { c = $3; u = $7 }
	    END { if (c > 0) printf "%d script calls, %.1f names and " \
		"%.0f us each\n", c, n / c, u; else print "no script call" }'
}
# names FILE TAG: STORE_NEW names no run asked before.
names() {
	awk -v t="$2" -v n="$STORE_NEW" 'BEGIN {
	    for (i = 0; i < n; i++) printf "n%d.%s.bench A\n", i, t }' >"$1"
}

awk 'BEGIN { for (i = 0; i < 1000; i++) printf "mapped-%d.bench A\n", i }' \
    >"$B_TMP/mapped.txt"
log "priming the 1 000 names"
perf_run $P_TDB "$B_TMP/mapped.txt" "$B_TMP/prime.out" -n 1 >/dev/null
perf_run $P_REDIS "$B_TMP/mapped.txt" "$B_TMP/prime.out" -n 1 >/dev/null
# A second of each, not counted: no pair's run is the first after the
# priming.
perf_run $P_TDB "$B_TMP/mapped.txt" "$B_TMP/prime.out" -l 1 >/dev/null
perf_run $P_REDIS "$B_TMP/mapped.txt" "$B_TMP/prime.out" -l 1 >/dev/null

# gen_list: the indexes of STORE_GENS's settings, one a line; gen N:
# the Nth.
gen_list() {
	echo "$STORE_GENS" | awk -F'|' '{ for (i = 1; i <= NF; i++) print i }'
}
gen() {
	echo "$STORE_GENS" | awk -F'|' -v n="$1" '{ print $n }'
}
# new_run REP MAP GEN: STORE_NEW new names to MAP with generator GEN;
# the rate in new.MAP.GEN, the dns process's and redis-server's CPU a
# name in cost.MAP.GEN.
new_run() {
	eval _p=\$P_$(echo $2 | tr a-z A-Z)
	eval _d=\$DNS_$(echo $2 | tr a-z A-Z)
	_o=$B_TMP/new-$1-$2-$3.out
	names "$B_TMP/new.txt" "r$1$2g$3"
	rcli config resetstat >/dev/null
	_c0=$(cpu_ticks "$_d") _rc0=$(cpu_ticks "$R_PID") _s0=$(sys_ticks)
	_t0=$(date +%s.%N)
	set -- $(DNSPERF_OPTS="$(gen "$3")" perf_run "$_p" "$B_TMP/new.txt" \
	    "$_o" -n 1 -l "$STORE_TIME") "$@"
	_t=$(since "$_t0")
	_dc=$(proc_cpu "$_d" "$_c0" "$_t") _rc=$(proc_cpu "$R_PID" "$_rc0" "$_t")
	_sys=$(sys_split "$_s0")
	log "new-names run $3 $4, generator $5 ($(gen "$5")): $(codes "$_o")," \
	    "$2 lost; dns process $_dc%, redis-server $_rc% of a CPU;" \
	    "$(per_name "$_dc" "$1") us and $(per_name "$_rc" "$1") us of" \
	    "them a name; the machine: $_sys"
	[ "$4" = redis ] && log "new-names run $3 redis: $(calls "$1")"
	echo "$1" >>"$B_TMP/new.$4.$5"
	echo "$(per_name "$_dc" "$1") $(per_name "$_rc" "$1")" \
	    >>"$B_TMP/cost.$4.$5"
}

# order_of ROUND: the two maps in the order they run in that round; which
# goes first alternates, so that neither always follows the same load.
order_of() {
	[ $(($1 % 2)) = 0 ] && echo "redis tdb" || echo "tdb redis"
}

# (a) in pairs, one map right after the other, which first alternating:
# the rate a pair's two runs see moves together with the machine's other
# load (the same query's cost drifted by a third within one run of
# 2026-12-04), so the figure is the median of the pairs' ratios.
: >"$B_TMP/mapped.ratio"
r=1
while [ $r -le "$STORE_MPAIRS" ]; do
	for s in $(order_of $r); do
		eval p=\$P_$(echo $s | tr a-z A-Z)
		eval d=\$DNS_$(echo $s | tr a-z A-Z)
		o=$B_TMP/mapped-$r-$s.out
		c0=$(cpu_ticks "$d") t0=$(date +%s.%N)
		set -- $(perf_run "$p" "$B_TMP/mapped.txt" "$o" \
		    -l "$STORE_MTIME")
		t=$(since "$t0")
		dc=$(proc_cpu "$d" "$c0" "$t")
		log "mapped pair $r $s: $(codes "$o"), $2 lost; dns process" \
		    "$dc% of a CPU, $(per_name "$dc" "$1") us a query"
		echo "$1" >>"$B_TMP/mapped.$s"
		eval q_$s=$1
		per_name "$dc" "$1" >>"$B_TMP/mcost.$s"
	done
	# A pair with a failed run counts for nothing.
	pr=$(ratio "$q_redis" "$q_tdb")
	log "mapped pair $r: redis / tdb $pr"
	[ "$pr" = NA ] || echo "$pr" >>"$B_TMP/mapped.ratio"
	r=$((r + 1))
done

r=1
while [ $r -le "$STORE_REPS" ]; do
	# Each generator in turn, which first alternating too.
	gens=$(gen_list)
	[ $((r % 2)) = 0 ] && gens=$(gen_list | sort -nr)
	for g in $gens; do
		for s in $(order_of $r); do
			new_run "$r" "$s" "$g"
		done
	done
	r=$((r + 1))
done

# The dns process and redis-server under new names, profiled: the
# system calls and switches of the dns process a name with either map,
# then where the time goes.
if [ "${PROFILE:-0}" = 1 ]; then
	# switches PID: its voluntary and involuntary context switches.
	switches() {
		awk '/^voluntary_ctxt_switches/ { v = $2 }
		    /^nonvoluntary_ctxt_switches/ { i = $2 }
		    END { print v + 0, i + 0 }' "/proc/$1/status"
	}
	ev=cs,page-faults
	for c in recvmmsg sendmmsg epoll_wait read write; do
		ev="$ev,syscalls:sys_enter_$c"
	done
	for s in tdb redis; do
		eval p=\$P_$(echo $s | tr a-z A-Z)
		eval d=\$DNS_$(echo $s | tr a-z A-Z)
		names "$B_TMP/new.txt" "s$s"
		sw0=$(switches "$d")
		perf stat -x, -e "$ev" -p "$d" -o "$B_TMP/stat.$s" &
		st=$!
		set -- $(perf_run "$p" "$B_TMP/new.txt" "$B_TMP/prof.out" -n 1 \
		    -l "$STORE_TIME")
		kill -INT $st
		wait $st
		set -- $sw0 $(switches "$d")
		log "$s, a new name's system calls and switches:" \
		    "$(awk -F, -v n="$STORE_NEW" '$1 ~ /^[0-9]+$/ {
		    sub(/syscalls:sys_enter_/, "", $3);
		    printf "%s %.3f ", $3, $1 / n }' "$B_TMP/stat.$s")" \
		    "$(awk -v n="$STORE_NEW" -v v="$(($3 - $1))" \
		    -v i="$(($4 - $2))" 'BEGIN { printf "(voluntary %.3f, " \
		    "preempted %.3f)", v / n, i / n }')"
	done
	for who in dns redis-server; do
		[ $who = dns ] && pid=$DNS_REDIS || pid=$R_PID
		log "profiling the $who process (pid $pid) for 5 s"
		names "$B_TMP/new.txt" "p$who"
		profile_start "$pid" 5
		perf_run $P_REDIS "$B_TMP/new.txt" "$B_TMP/prof.out" -n 1 \
		    -l 6 >/dev/null
		profile_report "$BENCH_OUT/store-profile-$who.txt" \
		    'redis|sds|lua|malloc|free|sendmmsg|recvmmsg|epoll'
		mv "$B_TMP/perf.data" "$B_TMP/perf-$who.data"
	done
fi

gw_redis redis2 $P_REDIS2
DNS_REDIS2=$D_DNS
log "redis2 up: $(grep -o 'map store .*: up.*' "$D_LOG")"

# Both gateways at once; the names both answered per second of the
# longer run.
r=1
while [ $r -le "$STORE_REPS" ]; do
	names "$B_TMP/two-a.txt" "t${r}a"
	names "$B_TMP/two-b.txt" "t${r}b"
	c0=$(cpu_ticks "$DNS_REDIS") c1=$(cpu_ticks "$DNS_REDIS2")
	rc0=$(cpu_ticks "$R_PID") t0=$(date +%s.%N)
	DNSPERF_OPTS="$(gen 1)" perf_run $P_REDIS "$B_TMP/two-a.txt" \
	    "$B_TMP/two-a.out" -n 1 -l "$STORE_TIME" >/dev/null &
	pa=$!
	DNSPERF_OPTS="$(gen 1)" perf_run $P_REDIS2 "$B_TMP/two-b.txt" \
	    "$B_TMP/two-b.out" -n 1 -l "$STORE_TIME" >/dev/null &
	wait $pa $!
	t=$(since "$t0")
	q=$(awk '/Queries completed:/ { n += $3 }
	    /Run time \(s\):/ { if ($4 > t) t = $4 }
	    END { if (t > 0) printf "%.0f\n", n / t; else print "NA" }' \
	    "$B_TMP/two-a.out" "$B_TMP/two-b.out")
	log "two-gateway run $r: $q names/s; redis" \
	    "$(codes "$B_TMP/two-a.out"), redis2" \
	    "$(codes "$B_TMP/two-b.out"); dns processes" \
	    "$(proc_cpu "$DNS_REDIS" "$c0" "$t")% and" \
	    "$(proc_cpu "$DNS_REDIS2" "$c1" "$t")%, redis-server" \
	    "$(proc_cpu "$R_PID" "$rc0" "$t")% of a CPU"
	echo "$q" >>"$B_TMP/two"
	r=$((r + 1))
done

for s in tdb redis; do
	eval mapped_$s=$(median <"$B_TMP/mapped.$s")
done
result "mapped names qps, map in Redis" "$mapped_redis" qps tdb \
    "$mapped_tdb" "ratio>=0.95" "$(median <"$B_TMP/mapped.ratio")"
# Each map's new names: the best of its generators' medians, each
# logged; and the first generator's alone, as the other DNS benchmarks
# drive theirs.
for s in tdb redis; do
	for g in $(gen_list); do
		m=$(median <"$B_TMP/new.$s.$g")
		log "new names/s, $s, generator $g ($(gen $g)): median $m"
		echo "$m"
	done >"$B_TMP/best.$s"
	eval new_$s=$(awk '$1 == "NA" { na = 1 } $1 + 0 > b { b = $1 + 0 }
	    END { print na ? "NA" : b }' "$B_TMP/best.$s")
	eval new1_$s=$(sed -n 1p "$B_TMP/best.$s")
done
result "new names/s, map in Redis" "$new_redis" qps tdb "$new_tdb" \
    "ratio>=0.5"
result "new names/s, map in Redis, generator 1 only" "$new1_redis" qps \
    tdb "$new1_tdb" -
result "new names/s, 2 gateways on one Redis" "$(median <"$B_TMP/two")" \
    qps "one gw" "$new1_redis" -
# What a new name costs, steadier than the rate on a busy machine: the
# dns process's CPU a name with the map in Redis against with tdb, and
# redis-server's (medians over the runs, every generator's).
for s in tdb redis; do
	cat "$B_TMP"/cost.$s.* >"$B_TMP/cost.$s"
	eval cost_dns_$s=$(cut -d' ' -f1 <"$B_TMP/cost.$s" | median)
done
log "CPU a new name (medians): dns process ${cost_dns_redis} us with" \
    "Redis, ${cost_dns_tdb} us with tdb; redis-server" \
    "$(cut -d' ' -f2 <"$B_TMP/cost.redis" | median) us"
# The same for the mapped names: the dns process's CPU a query, which the
# machine's other load moves less than the rate.
log "CPU a mapped query (medians): dns process" \
    "$(median <"$B_TMP/mcost.redis") us with Redis," \
    "$(median <"$B_TMP/mcost.tdb") us with tdb"

# The store holds every name a gateway mapped, once.
log "store: $(rcli HLEN dns44:name) names, $(rcli HLEN dns44:addr)" \
    "addresses, $(rcli BITCOUNT dns44:used) bits used (padding" \
    "included); used_memory_human" \
    "$(rcli INFO memory | sed -n 's/^used_memory_human://p' | tr -d '\r')"
log "redis-server's commands (calls, us per call):" \
    "$(rcli INFO commandstats | tr -d '\r' | awk -F '[:=,]' '/^cmdstat_/ {
	printf "%s%s %s %s", n++ ? ", " : "", substr($1, 9), $3, $7 }')"
for s in tdb redis redis2; do
	grep -E 'warn|error|fatal|map store' "$B_TMP/$s/log" | head -5 |
	    sed "s/^/$s: /" >&2
done
exit 0
