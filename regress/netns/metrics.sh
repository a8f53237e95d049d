#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# metrics: the Prometheus listener.  Its counters move as a user sees
# things happen (a query, a blocked name, a connection through the
# proxy); its text and that of "dns44ctl show stats -o prometheus" pass
# promtool and name the same metrics; only GET /metrics is served (404,
# 405), a huge request is refused, a slow one cut, and connections beyond
# the limit wait; a real Prometheus in the gateway's namespace scrapes it.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx promtool prometheus
pw_dnsmasq
pw_nginx
pw_start d <<EOF
metrics listen 127.0.0.1 port 9344
block to blocked.test
EOF
M=http://127.0.0.1:9344/metrics
# The block rule's series, labelled with its file and line.
R1="dns44_rule_hits_total{rule=\"1\",where=\"$(basename "$DCF"):$(grep -n \
    '^block to blocked.test' "$DCF" | cut -d: -f1)\"}"
CTL="$DNS44CTL -s $T_TMP/d/ctl.sock"

wait_for 5 pw_listening "$GW" tcp 127.0.0.1:9344 ||
    die "not listening on 127.0.0.1:9344"

# scrape FILE: the listener's text into FILE.
scrape() {
	in_gw curl -s -f --max-time 5 -o "$1" "$M"
}

# val FILE METRIC: the value of one sample, METRIC with its labels.
val() {
	awk -v m="$2" '$1 == m { print $2; found = 1 } END {
	    if (!found) print "none" }' "$1"
}

# check FILE WHAT: promtool finds nothing wrong with the text.
check() {
	if out=$(promtool check metrics <"$1" 2>&1); then
		ok "promtool check metrics: $2"
	else
		fail "promtool check metrics: $2: $out"
	fi
}

scrape "$T_TMP/m0" || die "first scrape failed"
check "$T_TMP/m0" "the listener"
a0=$(val "$T_TMP/m0" 'dns44_dns_queries_total{qtype="A"}')
ne0=$(val "$T_TMP/m0" 'dns44_dns_responses_total{rcode="NOERROR"}')
nx0=$(val "$T_TMP/m0" 'dns44_dns_responses_total{rcode="NXDOMAIN"}')
al0=$(val "$T_TMP/m0" dns44_map_allocations_total)
lat0=$(val "$T_TMP/m0" dns44_dns_answer_duration_seconds_count)
expect "rule 1 has no hits yet, its line named" "$(val "$T_TMP/m0" "$R1")" 0
expect "the proxy gave its counters" "$(val "$T_TMP/m0" dns44_proxy_up)" 1
expect "range size" "$(val "$T_TMP/m0" dns44_map_range_addresses)" 65534
grep -q "^dns44_upstream_answers_total{upstream=\"$PW_W:53\"} " \
    "$T_TMP/m0" && ok "the upstream has its own series" ||
    fail "no series for upstream $PW_W:53"

# A query: one more A query, NOERROR answer, name and latency sample.
v=$(cl_q site.test A)
case $v in
172.24.*)	ok "site.test is $v" ;;
*)		die "site.test: \"$v\", not a virtual address" ;;
esac
expect "blocked.test" "$(cl_rcode blocked.test A)" NXDOMAIN
scrape "$T_TMP/m1" || die "second scrape failed"
expect "A queries" "$(val "$T_TMP/m1" 'dns44_dns_queries_total{qtype="A"}')" \
    $((a0 + 2))
expect "NOERROR answers" \
    "$(val "$T_TMP/m1" 'dns44_dns_responses_total{rcode="NOERROR"}')" \
    $((ne0 + 1))
expect "NXDOMAIN answers" \
    "$(val "$T_TMP/m1" 'dns44_dns_responses_total{rcode="NXDOMAIN"}')" \
    $((nx0 + 1))
expect "allocations" "$(val "$T_TMP/m1" dns44_map_allocations_total)" \
    $((al0 + 1))
expect "names mapped" "$(val "$T_TMP/m1" dns44_map_names)" 1
expect "latency samples" \
    "$(val "$T_TMP/m1" dns44_dns_answer_duration_seconds_count)" \
    $((lat0 + 2))
expect "rule 1 hits" "$(val "$T_TMP/m1" "$R1")" 1

# A connection through the proxy: counted with its bytes each way.
t0=$(val "$T_TMP/m1" dns44_proxy_tcp_connections_total)
s0=$(val "$T_TMP/m1" dns44_proxy_sent_bytes_total)
r0=$(val "$T_TMP/m1" dns44_proxy_received_bytes_total)
set -- $(in_cl curl -s --max-time 10 -o /dev/null \
    -w '%{http_code} %{size_request} %{size_header} %{size_download}' \
    http://site.test/small)
expect "page through the proxy" "${1:-none}" 200
sent=${2:-0} received=$((${3:-0} + ${4:-0}))
logged "proxy: \[-\] TCP $PW_CL_ADDR:" || fail "no [-] line"
scrape "$T_TMP/m2" || die "third scrape failed"
expect "TCP connections" \
    "$(val "$T_TMP/m2" dns44_proxy_tcp_connections_total)" $((t0 + 1))
expect "TCP connections open" \
    "$(val "$T_TMP/m2" dns44_proxy_tcp_connections)" 0
expect "bytes sent" "$(val "$T_TMP/m2" dns44_proxy_sent_bytes_total)" \
    $((s0 + sent))
expect "bytes received" \
    "$(val "$T_TMP/m2" dns44_proxy_received_bytes_total)" \
    $((r0 + received))

# A connection to an address no name has: a failure, with its reason.
nd='dns44_proxy_failures_total{proto="tcp",reason="no_domain"}'
f0=$(val "$T_TMP/m2" "$nd")
in_cl curl -s --max-time 5 -o /dev/null http://172.24.9.9/
scrape "$T_TMP/m3" || die "fourth scrape failed"
expect "failures: no domain" "$(val "$T_TMP/m3" "$nd")" $((f0 + 1))
# And a port nothing listens on, behind a name: the dial is refused.
dr='dns44_proxy_failures_total{proto="tcp",reason="dial_refused"}'
d0=$(val "$T_TMP/m3" "$dr")
in_cl curl -s --max-time 5 -o /dev/null http://site.test:81/
scrape "$T_TMP/m3" || die "fifth scrape failed"
expect "failures: dial refused" "$(val "$T_TMP/m3" "$dr")" $((d0 + 1))
# show stats counts the same, a line a reason.
$CTL show stats >"$T_TMP/st" 2>&1
failed() {
	sed -n "s/^failed $1 *tcp \([0-9]*\) udp 0\$/\1/p" "$T_TMP/st"
}
expect "show stats: failed no_domain" "$(failed no_domain)" \
    "$(val "$T_TMP/m3" "$nd")"
expect "show stats: failed dial_refused" "$(failed dial_refused)" \
    "$(val "$T_TMP/m3" "$dr")"
expect "show stats -j: proxy_failures.dial_refused.tcp" \
    "$($CTL -j show stats 2>&1 | python3 -c '
import json, sys
print(json.load(sys.stdin)["proxy_failures"]["dial_refused"]["tcp"])')" \
    "$(val "$T_TMP/m3" "$dr")"

# The same text from dns44ctl: it passes and names the same metrics.
$CTL show stats -o prometheus >"$T_TMP/ctl" 2>"$T_TMP/ctl.err" ||
    fail "show stats -o prometheus: $(cat "$T_TMP/ctl.err")"
check "$T_TMP/ctl" "dns44ctl show stats -o prometheus"
expect "dns44ctl: the listener's metrics" \
    "$(grep '^# TYPE' "$T_TMP/ctl" | sha256sum)" \
    "$(grep '^# TYPE' "$T_TMP/m3" | sha256sum)"
expect "dns44ctl: the A queries" \
    "$(val "$T_TMP/ctl" 'dns44_dns_queries_total{qtype="A"}')" \
    "$(val "$T_TMP/m3" 'dns44_dns_queries_total{qtype="A"}')"
$CTL show stats >/dev/null 2>&1 && ok "show stats still works" ||
    fail "show stats failed"
$CTL -o json show stats >/dev/null 2>&1 &&
    fail "-o json accepted" || ok "-o json refused"

# Only GET (and HEAD) of /metrics.
code() {
	in_gw curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$@"
}
expect "GET /" "$(code http://127.0.0.1:9344/)" 404
expect "GET /metricsx" "$(code http://127.0.0.1:9344/metricsx)" 404
expect "POST /metrics" "$(code -X POST -d x=1 "$M")" 405
expect "DELETE /metrics" "$(code -X DELETE "$M")" 405
expect "HEAD /metrics" "$(code -I "$M")" 200
in_gw curl -s -D - -o /dev/null -X PUT --max-time 5 "$M" |
    grep -qi '^Allow: GET, HEAD' && ok "405 says what is allowed" ||
    fail "405 without Allow: GET, HEAD"

# A huge request is refused, not read.
big=$(head -c 20000 /dev/zero | tr '\0' a)
c=$(code -H "X-Big: $big" "$M")
case $c in
4*)	ok "a 20 kB header: $c" ;;
*)	fail "a 20 kB header: got $c" ;;
esac

# A client that sends a byte a second is cut at the deadline (10 s).
in_gw "$PW_PYTHON" - <<'EOF' >"$T_TMP/slow" 2>&1
import socket, time
s = socket.create_connection(("127.0.0.1", 9344))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
start = time.monotonic()
s.settimeout(1)
while time.monotonic() - start < 30:
    try:
        s.sendall(b"X-Slow: a\r\n")
        if s.recv(4096) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
print("%.1f" % (time.monotonic() - start))
EOF
cut=$(cat "$T_TMP/slow")
case $cut in
[0-9].*|1[0-4].*)	ok "a slow request cut after ${cut}s" ;;
*)			fail "a slow request: $cut" ;;
esac

# Connections beyond the limit (16) wait until others close.
in_gw "$PW_PYTHON" - "$M" <<'EOF' >"$T_TMP/many" 2>&1
import socket, subprocess, sys
held = [socket.create_connection(("127.0.0.1", 9344)) for i in range(16)]
r = subprocess.run(["curl", "-s", "-f", "--max-time", "2", "-o",
    "/dev/null", sys.argv[1]])
print("full", r.returncode)
for s in held:
    s.close()
r = subprocess.run(["curl", "-s", "-f", "--max-time", "5", "-o",
    "/dev/null", sys.argv[1]])
print("freed", r.returncode)
EOF
expect "a 17th connection waits" "$(sed -n 's/^full //p' "$T_TMP/many")" 28
expect "served once others closed" \
    "$(sed -n 's/^freed //p' "$T_TMP/many")" 0

# A real Prometheus, in the gateway's namespace, scrapes it.
P=$T_TMP/prometheus
mkdir -p "$P/data"
cat >"$P/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: dns44
    static_configs:
      - targets: ['127.0.0.1:9344']
EOF
in_gw prometheus --config.file="$P/prometheus.yml" \
    --storage.tsdb.path="$P/data" --web.listen-address=127.0.0.1:9390 \
    >"$P/log" 2>&1 &
T_PIDS="$T_PIDS $!"

# prom_query QUERY: the value of the query's first result, or nothing.
prom_query() {
	in_gw curl -s --max-time 2 -G --data-urlencode "query=$1" \
	    http://127.0.0.1:9390/api/v1/query | "$PW_PYTHON" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
prom_up() {
	[ "$(prom_query 'up{job="dns44"}')" = 1 ]
}
if wait_for 30 prom_up; then
	ok "Prometheus: up == 1"
else
	fail "Prometheus: up is \"$(prom_query 'up{job="dns44"}')\""
	tail -n 20 "$P/log"
fi
expect "Prometheus: A queries" \
    "$(prom_query 'dns44_dns_queries_total{qtype="A"}')" \
    "$(val "$T_TMP/m3" 'dns44_dns_queries_total{qtype="A"}')"
expect "Prometheus: the range" \
    "$(prom_query dns44_map_range_addresses)" 65534

# The listener is the parent's socket: a reload keeps it, and says so.
sed -i 's/port 9344/port 9345/' "$DCF"
$CTL reload >/dev/null 2>&1
logged "metrics listen cannot change on reload; restart to apply it" ||
    fail "no warning when a reload changes metrics listen"
scrape "$T_TMP/m4" && ok "still served on port 9344 after the reload" ||
    fail "no metrics on port 9344 after the reload"

pw_stop
exit $T_FAILED
