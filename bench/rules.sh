#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# rules.sh: the cost of a large list of names, in one run: two dns44 in
# the same namespace, one without rules and one with RULES_COUNT names in
# a list file (half one name a line, half hosts format) that a block rule
# names.  It reports how long the dns process took to read the list, its
# RSS beside the other's, and DNS queries per second for mapped names
# (none of them listed, so every query is looked up in the list and then
# answered from the map) against the instance without rules, the two
# alternating which goes first.  What a query cost each dns process in
# microseconds of a CPU, steadier than the rate, is in the log.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${RULES_COUNT:=100000}" "${DNS_TIME:=3}" "${DNS_REPS:=1}"
else
	: "${RULES_COUNT:=1000000}" "${DNS_TIME:=10}" "${DNS_REPS:=3}"
fi
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 2}"

b_ns NS
P_PLAIN=5311 P_RULES=5312

log "writing a list of $RULES_COUNT names"
awk -v n="$RULES_COUNT" 'BEGIN {
    srand(7)
    for (i = 0; i < n; i++) {
	name = sprintf("ads%d-%x.tracker%d.example", i, int(rand() * 1e9),
	    i % 9973)
	if (i % 2) printf "0.0.0.0 %s\n", name; else print name
    } }' >"$B_TMP/list.txt"
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "mapped-%d.bench A\n", i }' \
    >"$B_TMP/mapped.txt"

dns44_start "$NS" plain <<EOF
dns listen 127.0.0.1 port $P_PLAIN
dns upstream 127.0.0.1 port 5399
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4481
EOF
PLAIN_DNS=$D_DNS
dns44_start "$NS" rules <<EOF
dns listen 127.0.0.1 port $P_RULES
dns upstream 127.0.0.1 port 5399
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4482
table <ads> file "$B_TMP/list.txt"
table <local> { "lan" "home.arpa" }
block to <ads>
pass to <local>
route to "onion" via socks5 127.0.0.1 port 9050
EOF
RULES_DNS=$D_DNS RULES_LOG=$D_LOG
for p in $P_PLAIN $P_RULES; do
	wait_for 60 listening "$NS" udp "127.0.0.1:$p" || die "port $p"
done
wait_for 60 grep -q "rules: .* read in" "$RULES_LOG" ||
    die "no rules line: $(tail -n 5 "$RULES_LOG")"
line=$(grep "rules: .* read in" "$RULES_LOG" | tail -n 1)
log "$line"
load=$(echo "$line" | sed -n 's/.*read in \([0-9.]*\)s.*/\1/p')

perf_run() {
	_p=$1 _f=$2
	shift 2
	ip netns exec "$NS" dnsperf -s 127.0.0.1 -p "$_p" -d "$_f" \
	    $DNSPERF_OPTS "$@" >"$B_TMP/perf.out" 2>&1
	dnsperf_parse <"$B_TMP/perf.out"
}

log "priming the 1 000 names"
perf_run $P_PLAIN "$B_TMP/mapped.txt" -n 1 >/dev/null
perf_run $P_RULES "$B_TMP/mapped.txt" -n 1 >/dev/null

r=1
while [ $r -le "$DNS_REPS" ]; do
	order="plain rules"
	[ $((r % 2)) = 0 ] && order="rules plain"
	for s in $order; do
		eval p=\$P_$(echo $s | tr a-z A-Z)
		eval d=\$$(echo $s | tr a-z A-Z)_DNS
		c0=$(cpu_ticks "$d") t0=$(date +%s.%N)
		set -- $(perf_run "$p" "$B_TMP/mapped.txt" -l "$DNS_TIME")
		t=$(since "$t0")
		c=$(proc_cpu "$d" "$c0" "$t")
		us=$(per_name "$c" "$1")
		log "mapped run $r $s: $1 qps, $2 lost; dns process $c% of a" \
		    "CPU, $us us a query"
		echo "$1" >>"$B_TMP/mapped.$s"
		echo "$us" >>"$B_TMP/cost.$s"
	done
	r=$((r + 1))
done
q_plain=$(median <"$B_TMP/mapped.plain")
q_rules=$(median <"$B_TMP/mapped.rules")
log "CPU a mapped name's query (medians): $(median <"$B_TMP/cost.rules") us" \
    "with the list, $(median <"$B_TMP/cost.plain") us without"
rss_plain=$(( $(rss_kib "$PLAIN_DNS") / 1024 ))
rss_rules=$(( $(rss_kib "$RULES_DNS") / 1024 ))
log "dns process with the list: $(grep -h AnonHugePages \
    "/proc/$RULES_DNS/smaps_rollup" | tr -s ' ') in huge pages"

result "rules: list of $RULES_COUNT names read" "$load" s - NA "value<=2"
result "rules: dns RSS with the list" "$rss_rules" MiB norules \
    "$rss_plain" -
result "rules: dns RSS growth for the list" \
    "$((rss_rules - rss_plain))" MiB - NA "value<=100"
result "DNS qps, mapped names, list loaded" "$q_rules" qps norules \
    "$q_plain" "ratio>=0.9"
grep -E 'warn|error|fatal' "$RULES_LOG" | head -5 >&2
exit 0
