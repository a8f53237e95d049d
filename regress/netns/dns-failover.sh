#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-failover: a silent first upstream costs one timeout, not one per
# query.  Two upstreams in the world namespace: a socket that reads and
# never answers, listed first, and dnsmasq.  Twenty forwarded queries in
# a row take about one timeout in all; show stats has the first down with
# its timeout and the second up with the answers.  After its back-off the
# silent one is probed by one query; once it answers it is up again.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup

dw_dnsmasq --local-ttl=300 --mx-host=mx.test,mail.mx.test,10

# The silent upstream, its pid ours to stop later.
ip netns exec "$WORLD" socat -u "UDP4-RECV:5301,bind=$DW_UP" /dev/null &
SINK=$!
T_PIDS="$T_PIDS $SINK"
wait_for 5 dw_listening "$WORLD" udp "$DW_UP:5301" || die "no sink"

dw_start d <<EOF
dns upstream $DW_UP port 5301
dns upstream $DW_UP port 53
dns upstream-timeout 1s
EOF
SOCK=$T_TMP/d/ctl.sock

ctl() {
	"$DNS44CTL" -s "$SOCK" "$@"
}

# ups FIELD...: per upstream (first the silent one, then dnsmasq) the
# fields of show stats -j, space-separated, one upstream a line.
ups() {
	ctl -j show stats | $PYTHON -c '
import json, sys
fields = sys.argv[1:]
st = json.load(sys.stdin)
for port in (5301, 53):
    u = [u for u in st["upstreams"] if u["port"] == port]
    print(" ".join(str(u[0][f]) if u else "none" for f in fields))
' "$@"
}

# 20 forwarded queries, one after the other.
t0=$(date +%s%N)
n=0
i=0
while [ $i -lt 20 ]; do
	r=$(q mx.test MX)
	[ "$r" = "10 mail.mx.test." ] && n=$((n + 1))
	i=$((i + 1))
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ $n -eq 20 ] && ok "20 forwarded queries answered" ||
    fail "20 forwarded queries: $n answered"
# One timeout is 1 s; one per query would be 20 s.
[ $ms -lt 4000 ] && ok "20 queries in ${ms}ms: about one timeout" ||
    fail "20 queries in ${ms}ms"

s=$(ups state timeouts answers)
first=$(echo "$s" | sed -n 1p) second=$(echo "$s" | sed -n 2p)
[ "$first" = "down 1 0" ] && ok "show stats -j: the silent one down" ||
    fail "show stats -j, silent upstream: $first"
case $second in
"up 0 20")	ok "show stats -j: the second up with 20 answers" ;;
*)		fail "show stats -j, second upstream: $second" ;;
esac
t=$(ctl show stats)
# The back-off left, or "due" when the machine was slow to get here.
echo "$t" | grep -Eq "^$DW_UP:5301 +down +- +0 +1 +([0-9.]+s|due)$" &&
    ok "show stats: the silent one down, its back-off left" ||
    fail "show stats table: $(echo "$t" | tail -n 3)"
echo "$t" | grep -Eq "^$DW_UP:53 +up +[0-9.]+ +20 +0 +-$" &&
    ok "show stats: the second up" ||
    fail "show stats table: $(echo "$t" | tail -n 3)"
grep -q "upstream $DW_UP:5301: no answer, left alone for 1000ms" "$DLOG" &&
    ok "journal: the upstream left alone" ||
    fail "journal: $(grep upstream "$DLOG" | tail -n 3)"

# After the back-off, one query probes it: that one costs the timeout.
sleep 1.2
t0=$(date +%s%N)
r=$(q mx.test MX)
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$r" = "10 mail.mx.test." ] && [ $ms -ge 900 ] &&
    ok "after the back-off: probed, ${ms}ms" ||
    fail "after the back-off: '$r' in ${ms}ms"
r=$(q mx.test MX)
expect_first=$(ups state timeouts | sed -n 1p)
[ "$expect_first" = "down 2" ] && ok "a failed probe: still down" ||
    fail "after the probe: $expect_first"
grep -q "upstream $DW_UP:5301: no answer, left alone for 2000ms" "$DLOG" &&
    ok "journal: the back-off doubled" ||
    fail "journal: $(grep upstream "$DLOG" | tail -n 3)"

# It answers again: the next probe brings it back.
kill "$SINK"
wait "$SINK" 2>/dev/null
ip netns exec "$WORLD" dnsmasq --no-daemon --no-resolv --no-hosts \
    --port 5301 --listen-address "$DW_UP" --bind-interfaces \
    --user=root --pid-file="$T_TMP/dnsmasq2.pid" --cache-size=0 \
    --mx-host=mx.test,mail.mx.test,20 >"$T_TMP/dnsmasq2.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 dw_listening "$WORLD" udp "$DW_UP:5301" || die "dnsmasq 2"
sleep 2.2
r=$(q mx.test MX)
[ "$r" = "20 mail.mx.test." ] && ok "the probe answered by the first" ||
    fail "after it came back: '$r'"
s=$(ups state | tr '\n' ' ')
[ "$s" = "up up " ] && ok "show stats -j: both up" || fail "states: $s"
r=$(q mx.test MX)
[ "$r" = "20 mail.mx.test." ] && ok "the first asked first again" ||
    fail "first again: '$r'"
grep -q "upstream $DW_UP:5301: up again" "$DLOG" &&
    ok "journal: up again" || fail "journal: no up again"

dw_stop "$DP"
exit $T_FAILED
