#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dot.sh: forwarded queries per second over TLS.  dnsperf over UDP on the
# loopback of a namespace of the benchmark's own sends forwarded queries
# (MX: never answered from the map), each name once, to two forwarders in
# the same run, both with one upstream over TLS:
#   dns44    dns upstream 127.0.0.1 port 853 tls name "upstream.bench"
#   unbound  1 thread (as dns44's dns process), forward-tls-upstream: yes
#            to the same upstream, its cache no help (every name new)
# The upstream is unbound (2 threads) serving TLS on 127.0.0.1:853 with a
# certificate from a CA made here, every name answered from local data;
# both forwarders trust that CA alone and check the name.  DOT_REPS runs
# of DOT_TIME s each, the two interleaved, each run with names of its own;
# medians of the queries per second and the ratio dns44/unbound.  With
# PROFILE=1 the dns process is profiled (perf) first.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${DOT_TIME:=3}" "${DOT_REPS:=1}" "${DOT_NAMES:=30000}"
else
	: "${DOT_TIME:=10}" "${DOT_REPS:=3}" "${DOT_NAMES:=200000}"
fi
: "${DNSPERF_OPTS:=-c 4 -q 200 -T 2 -t 5}"

b_ns NS
P_DNS44=5301 P_FWD=5302 P_TLS=853

# The CA and the upstream's certificate.
(
	cd "$B_TMP" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=bench CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout up.key -out up.csr -subj "/CN=upstream.bench" &&
	printf 'subjectAltName=DNS:upstream.bench\n' >san.ext &&
	openssl x509 -req -in up.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile san.ext -out up.pem &&
	chmod 644 ./*.key
) >"$B_TMP/pki.log" 2>&1 || { cat "$B_TMP/pki.log" >&2; die "openssl"; }

r=1
while [ $r -le "$DOT_REPS" ]; do
	for s in dns44 unbound; do
		awk -v r=$r -v s=$s -v n="$DOT_NAMES" 'BEGIN {
		    for (i = 0; i < n; i++)
			printf "%s%d-%d.bench MX\n", s, r, i }' \
		    >"$B_TMP/names-$s-$r.txt"
	done
	r=$((r + 1))
done

# The upstream over TLS.
unbound_conf "$B_TMP/up" "interface: 127.0.0.1@$P_TLS" "tls-port: $P_TLS" \
    "tls-service-key: \"$B_TMP/up.key\"" \
    "tls-service-pem: \"$B_TMP/up.pem\"" "num-threads: 2" \
    "incoming-num-tcp: 256" "local-zone: \".\" redirect" \
    "local-data: \". A 10.0.0.1\""
bg "$NS" "$B_TMP/up/out" unbound -d -c "$B_TMP/up/unbound.conf"
wait_for 10 listening "$NS" tcp "127.0.0.1:$P_TLS" || {
	cat "$B_TMP/up/out" >&2
	die "the TLS upstream did not start"
}

# unbound forwarding over TLS: one thread, like dns44's dns process.
unbound_conf "$B_TMP/fwd" "interface: 127.0.0.1@$P_FWD" "port: $P_FWD" \
    "num-threads: 1" "tls-cert-bundle: \"$B_TMP/ca.pem\"" \
    "do-not-query-localhost: no" "module-config: \"iterator\"" \
    "outgoing-num-tcp: 16"
cat >>"$B_TMP/fwd/unbound.conf" <<EOF
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@$P_TLS#upstream.bench
	forward-tls-upstream: yes
EOF
bg "$NS" "$B_TMP/fwd/out" unbound -d -c "$B_TMP/fwd/unbound.conf"
wait_for 10 listening "$NS" udp "127.0.0.1:$P_FWD" || {
	cat "$B_TMP/fwd/out" >&2
	die "the forwarding unbound did not start"
}

dns44_start "$NS" dns44 <<EOF
dns listen 127.0.0.1 port $P_DNS44
dns upstream 127.0.0.1 port $P_TLS tls name "upstream.bench"
dns tls-ca "$B_TMP/ca.pem"
proxy listen 127.0.0.1 port 4480
EOF
wait_for 10 listening "$NS" udp "127.0.0.1:$P_DNS44" || die "dns44"

in_ns() { ip netns exec "$NS" "$@"; }
for p in $P_DNS44 $P_FWD; do
	wait_for 20 in_ns $TOOLS query 127.0.0.1 $p probe.bench ||
	    die "no answer on port $p"
done

# perf_run PORT FILE [dnsperf options]: the qps and the queries lost.
perf_run() {
	_p=$1 _f=$2
	shift 2
	ip netns exec "$NS" dnsperf -s 127.0.0.1 -p "$_p" -d "$_f" \
	    $DNSPERF_OPTS "$@" >"$B_TMP/perf.out" 2>&1
	dnsperf_parse <"$B_TMP/perf.out"
}

# The dns process under load, profiled, on names of its own.
if [ "${PROFILE:-0}" = 1 ]; then
	awk -v n="$DOT_NAMES" 'BEGIN { for (i = 0; i < n; i++)
	    printf "prof-%d.bench MX\n", i }' >"$B_TMP/names-prof.txt"
	log "profiling the dns process (pid $D_DNS) for 5 s"
	profile_start "$D_DNS" 5
	perf_run $P_DNS44 "$B_TMP/names-prof.txt" -n 1 -l 6 >/dev/null
	profile_report "$BENCH_OUT/dot-profile.txt" \
	    'SSL_|ssl3_|tls_|EVP_|bufferevent|evbuffer|ldns_|libc_(sendto|recvfrom|malloc|free)|epoll_wait'
fi

r=1
while [ $r -le "$DOT_REPS" ]; do
	for s in dns44 unbound; do
		eval p=\$P_$([ $s = dns44 ] && echo DNS44 || echo FWD)
		set -- $(perf_run "$p" "$B_TMP/names-$s-$r.txt" -n 1 \
		    -l "$DOT_TIME")
		log "run $r $s: $1 qps, $2 lost"
		echo "$1" >>"$B_TMP/qps.$s"
	done
	r=$((r + 1))
done
qps_dns44=$(median <"$B_TMP/qps.dns44")
qps_unbound=$(median <"$B_TMP/qps.unbound")
result "forwarded qps over TLS, new names" "$qps_dns44" qps unbound \
    "$qps_unbound" "ratio>=0.8"
conns=$(ip netns exec "$NS" ss -Htn state established \
    "( dport = :$P_TLS )" | grep -c .)
log "TLS connections to the upstream now: $conns (both forwarders)"
log "dns44's upstreams:"
"${DNS44CTL:-$(dirname "$DNS44")/dns44ctl/dns44ctl}" \
    -s "$B_TMP/dns44/ctl.sock" show stats 2>&1 | sed -n '/^UPSTREAM/,$p' >&2
grep -E 'warn|error|fatal' "$D_LOG" | head -5 >&2
exit 0
