#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# rules: pass, block and split DNS as a client sees them, and the rules
# across a reload.  The lab's world gets a second address, 10.46.2.3,
# with a second dnsmasq that knows the names under corp.test otherwise
# than the first; the client a second address, 10.46.1.3.  Then
#
#   pass to "pass.test"              the real addresses, A and AAAA, and
#                                    a connection that skips the proxy
#   block [return ...] to ...        NXDOMAIN, REFUSED or zero, A and
#                                    AAAA, and one journal line a name
#   block to <bl>                    a list of 100 000 names, hosts and
#                                    plain lines, read at start
#   block from 10.46.1.3 to ...      two client addresses, two answers
#   dns upstream W2 for "corp.test"  TXT and the proxy's own resolution
#                                    from the second dnsmasq
#
# and a reload that blocks a name while a connection to it is open: the
# connection keeps moving, a new one is reset; dns44ctl show rules and
# test say what the rules did and would do.  A verdict the dns process
# keeps on a mapped name is not taken for the rules of 31 reloads later.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx socat

R_CL2=10.46.1.3
R_W2=10.46.2.3

ip -n "$CL" addr add "$R_CL2/24" dev pc0 &&
    ip -n "$WORLD" addr add "$R_W2/24" dev pw0 || die "second addresses"

pw_dnsmasq --host-record=pass.test,$PW_W,fd44::2 \
    --host-record=long.test,$PW_W --host-record=kids.test,$PW_W \
    --host-record=wrap.test,$PW_W \
    --host-record=app.corp.test,10.46.2.99 --txt-record=corp.test,first
in_w dnsmasq --no-daemon --no-resolv --no-hosts --port 53 \
    --listen-address "$R_W2" --bind-interfaces --user=root \
    --pid-file="$T_TMP/dnsmasq2.pid" --cache-size=0 \
    --host-record=app.corp.test,$PW_W --txt-record=corp.test,second \
    >"$T_TMP/dnsmasq2.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" udp "$R_W2:53" || {
	cat "$T_TMP/dnsmasq2.out"
	die "the second dnsmasq did not start"
}
pw_nginx

# The blocklist: hN.bl.test in the hosts format, pN.bl.test a line.
BL=$T_TMP/bl.txt
awk 'BEGIN {
	print "# generated"
	print "127.0.0.1 localhost"
	for (i = 0; i < 50000; i++) {
		printf "0.0.0.0 h%d.bl.test\n", i
		printf "p%d.bl.test\n", i
	}
}' >"$BL"

t0=$(date +%s%N)
pw_start d <<EOF
dns new-names 10000 burst 10000
proxy dial-timeout 2s
table <bl> file "$BL"
pass to "pass.test"
block to "nx.test"
block return refused to "ref.test"
block return zero to "zero.test"
block to <bl>
block from $R_CL2 to "kids.test"
dns upstream $R_W2 for "corp.test"
EOF
logged 'rules: 6 rules, 1 split DNS lines, 100006 names in [0-9]+ tables' \
    10 && ok "rules loaded: $(grep -o 'rules: .*' "$DLOG")" ||
    fail "no rules line: $(cat "$DLOG")"
t1=$(date +%s%N)
echo "startup with the list of 100000 names: $(((t1 - t0) / 1000000)) ms"

ctl() { "$DNS44CTL" -s "$T_TMP/d/ctl.sock" "$@"; }
# line TEXT: the line of the configuration that holds TEXT.
line() { grep -n -F -- "$1" "$DCF" | head -n 1 | cut -d: -f1; }

# pass: the real addresses, and the proxy does not see the connection.
expect "pass: A" "$(cl_q pass.test A)" "$PW_W"
expect "pass: AAAA" "$(cl_q pass.test AAAA)" "fd44::2"
expect "pass: curl without the proxy" \
    "$(in_cl curl -s --max-time 10 http://pass.test/)" \
    "$(cat "$PW_WWW/index.html")"
vs=$(cl_q site.test A)
expect "no rule: the proxy" \
    "$(in_cl curl -s --max-time 10 http://site.test/)" \
    "$(cat "$PW_WWW/index.html")"
logged "proxy: \[\+\] $(flow TCP - site.test "$vs" 80)" &&
    ok "a mapped name's connection is journaled" ||
    fail "no [+] line for site.test"
grep -q -F 'pass.test' "$DLOG" &&
    fail "the proxy journaled pass.test: $(grep -F pass.test "$DLOG")" ||
    ok "no journal line for pass.test"

# block: each answer, for A and AAAA.
for t in A AAAA; do
	expect "block: nx.test $t" "$(cl_rcode nx.test $t)" NXDOMAIN
	expect "block: ref.test $t" "$(cl_rcode ref.test $t)" REFUSED
done
expect "block zero: A" "$(cl_q zero.test A)" "0.0.0.0"
expect "block zero: AAAA" "$(cl_q zero.test AAAA)" "::"
expect "block zero: MX" "$(cl_rcode zero.test MX)/$(cl_q zero.test MX)" \
    "NOERROR/"
expect "block: a name below nx.test" "$(cl_rcode www.nx.test A)" NXDOMAIN
nxline=$(line 'block to "nx.test"')
logged "dns: block: nx\.test by the rule at dns44\.conf:$nxline\$" &&
    ok "the block line names dns44.conf:$nxline" ||
    fail "no block line for nx.test: $(grep block: "$DLOG")"
cl_rcode NX.Test. A >/dev/null
expect "one block line for nx.test" \
    "$(grep -c 'block: nx\.test by' "$DLOG")" 1

# The list: a sample of listed names blocked, unlisted ones mapped.
listed= unlisted=
for i in $(seq 0 99); do
	listed="$listed h$((i * 499)).bl.test p$((i * 487 + 3)).bl.test"
	unlisted="$unlisted u$i.bl.test sub.h$((i * 499)).bl.test"
done
in_cl kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 $listed >"$T_TMP/listed" 2>&1
expect "200 listed names: NXDOMAIN" \
    "$(grep -c 'status: NXDOMAIN' "$T_TMP/listed")" 200
in_cl kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 $unlisted \
    >"$T_TMP/unlisted" 2>&1
expect "200 unlisted names: NOERROR" \
    "$(grep -c 'status: NOERROR' "$T_TMP/unlisted")" 200
expect "200 unlisted names: a virtual address each" \
    "$(grep -E -c 'IN[[:space:]]+A[[:space:]]+172\.24\.' "$T_TMP/unlisted")" \
    200

# from: the same name, two clients, two answers.
case $(cl_q kids.test A) in
172.24.*)	ok "kids.test from $PW_CL_ADDR: a virtual address" ;;
*)		fail "kids.test from $PW_CL_ADDR: $(cl_q kids.test A)" ;;
esac
expect "kids.test from $R_CL2" "$(cl_rcode -b "$R_CL2" kids.test A)" \
    NXDOMAIN

# Split DNS: TXT from the second dnsmasq, and the proxy dials the
# address it gave (the first one's, 10.46.2.99, answers nothing).
expect "split DNS: TXT corp.test" "$(cl_q corp.test TXT)" '"second"'
expect "no split for other names: TXT" "$(cl_q site.test TXT)" ""
vc=$(cl_q app.corp.test A)
case $vc in
172.24.*)	ok "app.corp.test is mapped: $vc" ;;
*)		fail "app.corp.test: \"$vc\"" ;;
esac
expect "split DNS: the proxy dials the second server's address" \
    "$(in_cl curl -s --max-time 10 http://app.corp.test/)" \
    "$(cat "$PW_WWW/index.html")"

# dns44ctl show rules: the hits so far.
ctl show rules >"$T_TMP/rules.txt" 2>&1
head -n 1 "$T_TMP/rules.txt" | grep -q '^RULE  *HITS  *WHERE' &&
    ok "show rules: the header" ||
    fail "show rules: $(cat "$T_TMP/rules.txt")"
grep -E -q "^ +2 +4  dns44\.conf:$nxline +block to \"nx\.test\"\$" \
    "$T_TMP/rules.txt" && ok "show rules: nx.test, 4 hits" ||
    fail "show rules: $(cat "$T_TMP/rules.txt")"
ctl -j show rules >"$T_TMP/rules.json" &&
    python3 -m json.tool "$T_TMP/rules.json" >/dev/null &&
    ok "show rules -j parses" || fail "show rules -j: $(cat "$T_TMP/rules.json")"
expect "show rules -j: rule 5" "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))[4]
print(r["number"], r["hits"] >= 200, r["where"], r["rule"])
' "$T_TMP/rules.json")" "5 True dns44.conf:$(line 'block to <bl>') block to <bl>"

# dns44ctl test: what the rules would do, without a hit.
kline=$(line 'block from')
ctl test kids.test >"$T_TMP/t1" 2>&1
expect "test kids.test" "$(cat "$T_TMP/t1")" "kids.test: no rule matches
  DNS: a virtual address; connections dialled directly
  (rules with from: the answer depends on the client)"
ctl test kids.test from "$R_CL2" >"$T_TMP/t2" 2>&1
expect "test kids.test from $R_CL2" "$(cat "$T_TMP/t2")" \
    "kids.test: rule 6 at dns44.conf:$kline: block from $R_CL2/32 to \"kids.test\"
  DNS: NXDOMAIN; connections to its virtual address are reset
  (rules with from: the answer depends on the client)"
ctl test Www.Zero.Test. >"$T_TMP/t3" 2>&1
expect "test www.zero.test" "$(head -n 2 "$T_TMP/t3")" \
    "www.zero.test: rule 4 at dns44.conf:$(line 'return zero'): block return zero to \"zero.test\"
  DNS: 0.0.0.0 and ::; connections to its virtual address are reset"
ctl test app.corp.test >"$T_TMP/t4" 2>&1
grep -q "^  upstreams: $R_W2:53\$" "$T_TMP/t4" &&
    ok "test app.corp.test: its upstream" ||
    fail "test app.corp.test: $(cat "$T_TMP/t4")"
ctl test pass.test | grep -q '^  DNS: the upstream.s answer, not mapped' &&
    ok "test pass.test: not mapped" || fail "test pass.test"
ctl -j test kids.test from "$R_CL2" >"$T_TMP/t.json" &&
    python3 -m json.tool "$T_TMP/t.json" >/dev/null &&
    ok "test -j parses" || fail "test -j: $(cat "$T_TMP/t.json")"
expect "test -j: the fields" "$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
print(sorted(t))
print(t["name"], t["action"], t["rule"], t["where"], t["block"],
    t["any_client"], repr(t["route"]), repr(t["upstreams"]))
print(t["text"])
' "$T_TMP/t.json")" "['action', 'any_client', 'block', 'name', 'route', \
'rule', 'text', 'upstreams', 'where']
kids.test block 6 dns44.conf:$kline NXDOMAIN False '' ''
block from $R_CL2/32 to \"kids.test\""
ctl -j test app.corp.test | python3 -c '
import json, sys
t = json.load(sys.stdin)
sys.exit(not (t["action"] == "route" and t["rule"] == 0 and
    t["upstreams"] == sys.argv[1] + ":53"))' "$R_W2" &&
    ok "test -j app.corp.test: route, no rule, its upstream" ||
    fail "test -j app.corp.test: $(ctl -j test app.corp.test)"
ctl show rules >"$T_TMP/rules2.txt"
expect "test counts no hit" "$(diff "$T_TMP/rules.txt" "$T_TMP/rules2.txt")" ""

# A reload blocks long.test while a connection to it echoes a line every
# 50 ms, its count of echoed bytes in a file.
in_w socat TCP-LISTEN:7001,bind=$PW_W,reuseaddr,fork PIPE \
    >"$T_TMP/echo.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7001" || die "no echo server"
vl=$(cl_q long.test A)
in_cl $PW_PROBE echoloop "$vl" 7001 "$T_TMP/long.n" 6 >"$T_TMP/long.out" 2>&1 &
CL_PID=$!
T_PIDS="$T_PIDS $CL_PID"
size() { cat "$T_TMP/long.n" 2>/dev/null || echo 0; }
started() { [ "$(size)" -ge 1000 ]; }
wait_for 5 started || fail "the echo did not start: $(cat "$T_TMP/long.out")"
echo "new.bl.test" >>"$BL"
echo 'block to "long.test"' >>"$DCF"
lline=$(line 'block to "long.test"')
ctl reload && logged 'configuration reloaded' ||
    fail "reload: $(tail -n 5 "$DLOG")"
logged 'rules: 7 rules, 1 split DNS lines, 100008 names in 8 tables' ||
    fail "no rules line after the reload: $(grep rules: "$DLOG")"
s1=$(size)
sleep 1
s2=$(size)
[ "$s2" -gt "$s1" ] && ok "the open connection moves: $s1 -> $s2 bytes" ||
    fail "the open connection stopped at $s1 bytes: $(grep long "$DLOG")"
expect "after the reload: long.test" "$(cl_rcode long.test A)" NXDOMAIN
expect "after the reload: new.bl.test, a new line of the list" \
    "$(cl_rcode new.bl.test A)" NXDOMAIN
expect "a new connection to $vl: reset" \
    "$(in_cl $PW_PROBE fetch "$vl" 80)" reset
logged "proxy: $(flow TCP - long.test "$vl" 80): blocked by rule 7; reset" &&
    ok "the reset is journaled" ||
    fail "no reset line: $(grep long.test "$DLOG")"
wait "$CL_PID"
case $(cat "$T_TMP/long.out") in
"echoed "*)	ok "the connection lived across the reload: $(cat "$T_TMP/long.out")" ;;
*)		fail "the connection across the reload: $(cat "$T_TMP/long.out")" ;;
esac
grep -E -q "^ +7 +2  dns44\.conf:$lline +block to \"long\.test\"\$" \
    <<EOF && ok "show rules: long.test, a query and a connection" ||
$(ctl show rules)
EOF
    fail "show rules after the reload: $(ctl show rules)"
# The rules the reload left alone count on: nx.test's 4, and the list's
# rule, its list one name longer, its 200 and more and new.bl.test's.
grep -E -q "^ +2 +4  dns44\.conf:$nxline +block to \"nx\.test\"\$" <<EOF &&
$(ctl show rules)
EOF
    ok "show rules: nx.test's 4 hits kept across the reload" ||
    fail "nx.test's hits after the reload: $(ctl show rules)"
expect "show rules: the list's rule kept its hits" "$(ctl -j show rules |
    python3 -c '
import json, sys
r = json.load(sys.stdin)[4]
print(r["rule"], r["hits"] >= 201)')" "block to <bl> True"

# The dns process keeps the rules' verdict on a mapped name, stamped
# with the rules' generation, 1 to 31, which a reload moves on; past 31
# the kept verdicts are cleared.  wrap.test, asked twice (its routing
# kept), is blocked by the next reload and asked again when 31 reloads
# have brought the generation round to the one its verdict was kept in.
vw=$(cl_q wrap.test A)
expect "wrap.test: asked again" "$(cl_q wrap.test A)" "$vw"
echo 'block to "wrap.test"' >>"$DCF"
r0=$(grep -c "dns: rules: " "$DLOG")
n=0
while [ $n -lt 31 ]; do
	ctl reload >/dev/null 2>&1 || fail "reload $((n + 1)) failed"
	n=$((n + 1))
done
reloaded() { [ "$(grep -c "dns: rules: " "$DLOG")" -ge $((r0 + 31)) ]; }
wait_for 10 reloaded || fail "not 31 reloads: $(grep -c "dns: rules: " \
    "$DLOG") rules lines, $r0 before"
expect "wrap.test after 31 reloads" "$(cl_rcode wrap.test A)" NXDOMAIN

# A list that cannot be opened at a reload: the running rules stay.
mv "$BL" "$BL.gone"
ctl reload >/dev/null 2>&1
logged 'configuration not reloaded, keeping the running' &&
    ok "a missing list: not reloaded" ||
    fail "a missing list: $(tail -n 5 "$DLOG")"
expect "the running list still blocks" "$(cl_rcode h7.bl.test A)" NXDOMAIN
expect "the running rules still block" "$(cl_rcode long.test A)" NXDOMAIN

pw_stop
exit $T_FAILED
