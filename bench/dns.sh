#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns.sh: DNS queries per second, dnsperf over UDP on the loopback of a
# namespace of the benchmark's own, against three servers in the same
# run:
#   dns44    range 172.16.0.0/12, its upstream an address where nothing
#            answers (A questions never go upstream)
#   unbound  2 threads, every name answered with 10.0.0.1 from local data:
#            the ceiling
#   unbound1 the same with one thread, as dns44's dns process has (for
#            information)
#   tor      DNSPort with AutomapHostsOnResolve, the same /12; it has a
#            bridge on 127.0.0.1:1, so it opens its ports and reaches
#            nothing
# (a) "mapped": 1 000 names, primed, asked over and over for DNS_TIME s;
# (b) "new": DNS_NEW distinct names each asked once (at most DNS_TIME s).
# DNS_REPS runs of each, servers interleaved; medians reported.
# With PROFILE=1 the dns process is profiled (perf) under load (a).

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${DNS_TIME:=3}" "${DNS_REPS:=1}" "${DNS_NEW:=30000}"
else
	: "${DNS_TIME:=10}" "${DNS_REPS:=3}" "${DNS_NEW:=200000}"
fi
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 2}"

b_ns NS
P_DNS44=5301 P_UNBOUND=5302 P_TOR=5303 P_UNBOUND1=5304
SERVERS="dns44 unbound unbound1 tor"

awk 'BEGIN { for (i = 0; i < 1000; i++) printf "mapped-%d.bench A\n", i }' \
    >"$B_TMP/mapped.txt"
r=1
while [ $r -le "$DNS_REPS" ]; do
	awk -v r=$r -v n="$DNS_NEW" 'BEGIN {
	    for (i = 0; i < n; i++) printf "new%d-%d.bench A\n", r, i }' \
	    >"$B_TMP/new$r.txt"
	r=$((r + 1))
done

# The three servers.
dns44_start "$NS" dns44 <<EOF
dns listen 127.0.0.1 port $P_DNS44
dns upstream 127.0.0.1 port 5399
range 172.16.0.0/12
proxy listen 127.0.0.1 port 4480
EOF
wait_for 5 listening "$NS" udp "127.0.0.1:$P_DNS44" || die "dns44 DNS port"

unbound_start "$NS" 127.0.0.1 $P_UNBOUND 10.0.0.1
unbound_start "$NS" 127.0.0.1 $P_UNBOUND1 10.0.0.1 1

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
bg "$NS" "$B_TMP/tor/out" tor -f "$B_TMP/tor/torrc" --defaults-torrc /dev/null
TOR_PID=$BG_PID

in_ns() { ip netns exec "$NS" "$@"; }
for p in $P_DNS44 $P_UNBOUND $P_UNBOUND1 $P_TOR; do
	wait_for 20 in_ns $TOOLS query 127.0.0.1 $p probe.bench || {
		cat "$B_TMP/tor/out" >&2
		die "no answer on port $p"
	}
done

# perf_run PORT FILE [dnsperf options]: the qps and the queries lost.
# tor runs only for its own runs: once loaded it keeps a CPU busy well
# after the load has stopped, which would slow down whoever comes next.
# Woken, it is given until it answers again (up to 10 s): straight after
# SIGCONT it has answered none of a whole run's queries.
perf_run() {
	_p=$1 _f=$2
	shift 2
	if [ "$_p" = $P_TOR ]; then
		kill -CONT $TOR_PID
		wait_for 10 in_ns $TOOLS query 127.0.0.1 $P_TOR probe.bench ||
		    log "tor does not answer after SIGCONT"
	fi
	ip netns exec "$NS" dnsperf -s 127.0.0.1 -p "$_p" -d "$_f" \
	    $DNSPERF_OPTS "$@" >"$B_TMP/perf.out" 2>&1
	[ "$_p" = $P_TOR ] && kill -STOP $TOR_PID
	dnsperf_parse <"$B_TMP/perf.out"
}

kill -STOP $TOR_PID
log "priming the 1 000 names"
for p in $P_DNS44 $P_UNBOUND $P_UNBOUND1 $P_TOR; do
	perf_run $p "$B_TMP/mapped.txt" -n 1 >/dev/null
done

# The dns process under load (a), profiled.
if [ "${PROFILE:-0}" = 1 ]; then
	log "profiling the dns process (pid $D_DNS) for 5 s"
	profile_start "$D_DNS" 5
	perf_run $P_DNS44 "$B_TMP/mapped.txt" -l 6 >/dev/null
	profile_report "$BENCH_OUT/dns-profile.txt" \
	    'ldns_(rdf2str|pkt2wire|wire2pkt|pkt_free)|tdb_|libc_(sendto|recvfrom|malloc|free)|epoll_wait'
fi

r=1
while [ $r -le "$DNS_REPS" ]; do
	for s in $SERVERS; do
		eval p=\$P_$(echo $s | tr a-z A-Z)
		set -- $(perf_run "$p" "$B_TMP/mapped.txt" -l "$DNS_TIME")
		log "mapped run $r $s: $1 qps, $2 lost"
		echo "$1" >>"$B_TMP/mapped.$s"
		echo "$2" >>"$B_TMP/mapped-lost.$s"
	done
	r=$((r + 1))
done

# New names: each run a list of its own, so that nothing is reused.
r=1
while [ $r -le "$DNS_REPS" ]; do
	for s in $SERVERS; do
		eval p=\$P_$(echo $s | tr a-z A-Z)
		set -- $(perf_run "$p" "$B_TMP/new$r.txt" -n 1 -l "$DNS_TIME")
		log "new-names run $r $s: $1 qps, $2 lost"
		echo "$1" >>"$B_TMP/new.$s"
		echo "$2" >>"$B_TMP/new-lost.$s"
	done
	r=$((r + 1))
done

for t in mapped new; do
	for s in $SERVERS; do
		eval ${t}_$s=$(median <"$B_TMP/$t.$s")
	done
done
result "DNS qps, mapped names" "$mapped_dns44" qps unbound "$mapped_unbound" \
    "ratio>=1.0"
result "DNS qps, mapped names" "$mapped_dns44" qps "unbound1" \
    "$mapped_unbound1" -
result "DNS qps, mapped names" "$mapped_dns44" qps tor "$mapped_tor" -
result "DNS qps, new names" "$new_dns44" qps unbound "$new_unbound" \
    "ratio>=0.6"
result "DNS qps, new names" "$new_dns44" qps "unbound1" "$new_unbound1" -
result "DNS qps, new names" "$new_dns44" qps tor "$new_tor" -

# Both dns44 and tor now hold 1 000 + DNS_REPS * DNS_NEW mappings.
n=$((1000 + DNS_REPS * DNS_NEW))
result "RSS with $n mappings" "$(( $(rss_kib "$D_DNS") / 1024 ))" MiB \
    tor "$(( $(rss_kib "$TOR_PID") / 1024 ))" -
lost=$(cat "$B_TMP"/*-lost.dns44 | awk '{ s += $1 } END { print s + 0 }')
log "dns44 lost $lost queries over all runs; its UDP socket dropped" \
    "$(udp_drops "$NS" $P_DNS44) (receive buffer full)"
grep -E 'warn|error|fatal' "$D_LOG" | head -5 >&2
exit 0
