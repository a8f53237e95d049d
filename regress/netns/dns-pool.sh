#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-pool: the range runs out under load.  A /24 (254 addresses), ttl 1 s
# and a grace of 1 s; dnsperf asks 100 000 distinct names at a steady rate
# while three names have TCP connections open through the proxy.  Every
# query is answered, NOERROR or SERVFAIL, none lost; addresses are reused
# as they age; the warning about the full range is rate-limited; the
# three addresses with open connections keep their names throughout, and
# a new connection to each still reaches its name.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup dnsperf
pw_dnsmasq --host-record=pin1.test,$PW_W --host-record=pin2.test,$PW_W \
    --host-record=pin3.test,$PW_W
pw_serve halfserver 7000
pw_start d <<EOF2
range 172.24.0.0/24
dns ttl 1
reuse-grace 1s
EOF2
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@"; }

for k in 1 2 3; do
	a=$(cl_q "pin$k.test" A)
	eval "PIN$k=\$a"
	in_cl $PW_PROBE hold "pin$k.test" 7000 60 >/dev/null 2>&1 &
	T_PIDS="$T_PIDS $!"
	logged "proxy: \[\+\] $(flow TCP - "pin$k.test" "$a" 7000)$(to_w 7000)\$" ||
	    die "the connection to pin$k.test did not open: $(tail -n 5 "$DLOG")"
done
ok "pin1.test $PIN1, pin2.test $PIN2, pin3.test $PIN3: connections open"

awk 'BEGIN { for (i = 0; i < 100000; i++) printf "p%d.pool.test A\n", i }' \
    >"$T_TMP/names"
t0=$(date +%s)
in_cl dnsperf -s "$PW_GW_ADDR" -d "$T_TMP/names" -n 1 -Q 8000 -t 5 \
    >"$T_TMP/perf" 2>&1 || fail "dnsperf: $(cat "$T_TMP/perf")"
secs=$(( $(date +%s) - t0 ))
sed -n '/Statistics/,/Run time/p' "$T_TMP/perf"

num() { perf_num "$T_TMP/perf" "$1"; }
expect "queries sent" "$(num 'Queries sent')" 100000
expect "queries completed" "$(num 'Queries completed')" 100000
expect "queries lost" "$(num 'Queries lost')" 0
codes=$(sed -n 's/^ *Response codes: *//p' "$T_TMP/perf")
others=$(echo "$codes" | tr ',' '\n' | awk 'NF && $1 != "NOERROR" &&
    $1 != "SERVFAIL"')
[ -z "$others" ] && ok "response codes: $codes" ||
    fail "response codes other than NOERROR and SERVFAIL: $codes"
noerror=$(echo "$codes" | tr ',' '\n' | awk '$1 == "NOERROR" { print $2 }')
[ "${noerror:-0}" -gt 254 ] &&
    ok "$noerror names got an address: the range was reused" ||
    fail "only ${noerror:-0} NOERROR answers: no reuse"
reuses=$(ctl -j show stats | python3 -c '
import json, sys
print(json.load(sys.stdin)["reuses"])')
[ "${reuses:-0}" -gt 0 ] && ok "show stats: $reuses reuses" ||
    fail "show stats: no reuse"

warned=$(grep -c "map: all 254 addresses in use" "$DLOG")
[ "$warned" -ge 1 ] && [ "$warned" -le $((secs / 10 + 2)) ] &&
    ok "full range warned $warned times in ${secs}s" ||
    fail "full range warned $warned times in ${secs}s"

# The pinned addresses kept their names, and still lead to them.
for k in 1 2 3; do
	eval "a=\$PIN$k"
	expect "pin$k.test after the load" "$(cl_q "pin$k.test" A)" "$a"
	expect "lookup $a" "$(ctl lookup "$a" | awk 'NR == 2 { print $1 }')" \
	    "pin$k.test"
	in_cl $PW_PROBE halfclient "$a" 7000 1000 >"$T_TMP/half$k" 2>&1
	[ "$(cat "$T_TMP/half$k")" = ok ] &&
	    [ "$(grep -c -E "proxy: \[\+\] $(flow TCP - "pin$k.test" "$a" \
	    7000)$(to_w 7000)\$" "$DLOG")" -eq 2 ] &&
	    ok "a new connection to $a reaches pin$k.test" ||
	    fail "a new connection to $a: $(cat "$T_TMP/half$k")" \
	    "$(tail -n 3 "$DLOG")"
done
pw_stop
exit $T_FAILED
