#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# tproxy-setup: a gateway with no TPROXY rules at all.  dns44 on the
# shipped sample configuration makes its own (tproxy setup yes); a client
# fetches a page from the world through a name and has datagrams echoed
# by another; a second dns44 is refused and leaves the first one's
# plumbing alone; the self-check warns within a period when the ip rule
# or the TPROXY rule is deleted under it and says so when it is back, and
# dns44ctl show status reports it, and the reloads; a new mark waits for
# a restart; at stop nothing of dns44's is left, and after a SIGKILL the
# next start takes what the dead one left.  A table of dns44's name made
# by someone else refuses the start and stays as it was.  With tproxy
# setup no, the check watches rules made by hand, nft's or iptables',
# and warns when they go.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
PW_NO_TPROXY=1
pw_setup curl nginx nft
pw_dnsmasq
pw_nginx
pw_serve udpecho 7

SAMPLE=$builddir/etc/dns44.conf
[ -f "$SAMPLE" ] || die "no $SAMPLE: make etc/dns44.conf"
CTL() { "$DNS44CTL" -s "$T_TMP/$1/ctl.sock" "$2" "$3"; }

# Nothing of dns44's in the gateway: no table, no rule, no route.
nothing_left() {
	t=$(in_gw nft list tables)
	r=$(in_gw ip -4 rule show | grep -v -E \
	    '^(0|32766|32767):	from all lookup (local|main|default) *$')
	l=$(in_gw ip -4 route show table 44 2>/dev/null)
	[ -z "$t" ] && [ -z "$r" ] && [ -z "$l" ] && return 0
	echo "tables: $t; rules: $r; routes in table 44: $l"
	return 1
}
out=$(nothing_left) && ok "a fresh gateway: no table, rule or route" ||
    die "the gateway is not fresh: $out"

# dns44 on the sample, checking every second.
pw_start s <<EOF
include "$SAMPLE"
tproxy check 1s
EOF
logged "parent: tproxy setup: nftables table ip dns44, 1 ip rule" &&
    ok "log: the plumbing was made" || fail "no line of the plumbing made"
want='ip daddr 172.24.0.0/16 meta l4proto { tcp, udp }'
want="$want tproxy to 127.0.0.1:4480 meta mark set 0x0000002c"
in_gw nft list table ip dns44 | grep -q -F "$want" &&
    ok "nft: the TPROXY rule" ||
    fail "nft: no TPROXY rule: $(in_gw nft list table ip dns44)"
in_gw ip -4 rule show | grep -q -E \
    '^[0-9]+:	from all to 172\.24\.0\.0/16 lookup 44 proto 44 *$' &&
    ok "ip rule to 172.24.0.0/16 lookup 44" ||
    fail "no ip rule: $(in_gw ip -4 rule show)"
in_gw ip -4 route show table 44 | grep -q \
    '^local 172\.24\.0\.0/16 dev lo proto 44 scope host src 127\.0\.0\.1' &&
    ok "local route in table 44" ||
    fail "no local route: $(in_gw ip -4 route show table 44)"
in_gw nft list table ip dns44 | grep -q "^	comment \"dns44 pid $DP\"\$" &&
    ok "the table names its parent" ||
    fail "no comment naming pid $DP: $(in_gw nft list table ip dns44)"

# End to end: a name, its virtual address, a page through the proxy.
v=$(cl_q site.test A)
case $v in
172.24.*)	ok "site.test is $v" ;;
*)		die "site.test: \"$v\", not a virtual address" ;;
esac
page=$(in_cl curl -s --max-time 10 http://site.test/)
expect "page through the proxy" "$page" "$(cat "$PW_WWW/index.html")"
logged "proxy: \[\+\] $(flow TCP - site.test "$v" 80) to $(re "$PW_W"):80\$" &&
    ok "journal: the connection" || fail "no [+] line for site.test"
out=$(in_cl $PW_PROBE udpclient echo.test 7 20 2>&1)
case $out in
"echoed 20 of 20 from port "*)	ok "UDP through the proxy: $out" ;;
*)				fail "UDP through the proxy: $out" ;;
esac

st=$(CTL s show status)
procs='parent [0-9]+ running, dns [0-9]+ running, proxy [0-9]+ running'
echo "$st" | grep -q '^tproxy setup    made by dns44$' &&
    echo "$st" | grep -q '^tproxy check    ok, at ' &&
    echo "$st" | grep -q -E "^processes       $procs\$" &&
    echo "$st" | grep -q '^map             2 names of 65534 addresses' &&
    echo "$st" | grep -q '^upstreams       [01] of 1 up' &&
    echo "$st" | grep -q '^last reload     never$' &&
    ok "show status: all well" || fail "show status: $st"
js=$("$DNS44CTL" -j -s "$T_TMP/s/ctl.sock" show status)
echo "$js" | $PW_PYTHON -c '
import json, sys
s = json.load(sys.stdin)
assert s["tproxy"] == {"setup": True, "check": "ok",
    "checked": s["tproxy"]["checked"], "missing": ""}, s["tproxy"]
assert s["map"]["names"] == 2 and s["map"]["size"] == 65534, s["map"]
assert all(p["alive"] for p in s["processes"].values()), s["processes"]
assert s["reload"] is None and s["uptime"] >= 0
' && ok "show status -j" || fail "show status -j: $js"

# A second dns44 on other ports: refused, and the first one's rule and
# route are left alone.
BCF=$(conf_write b <<EOF
dns listen $PW_GW_ADDR port 5300
dns upstream $PW_W
proxy listen 127.0.0.1 port 4481
include "$SAMPLE"
EOF
)
in_gw "$DNS44" -d -f "$BCF" >"$T_TMP/b.log" 2>&1 &
BP=$!
T_PIDS="$T_PIDS $BP"
wait "$BP"
expect "a second dns44: exit status" "$?" 1
grep -q "tproxy setup: the nftables table ip dns44 belongs to dns44 pid \
$DP, which runs" "$T_TMP/b.log" && ok "a second dns44: the clash named" ||
    fail "a second dns44: $(cat "$T_TMP/b.log")"
in_gw ip -4 rule show | grep -q 'to 172\.24\.0\.0/16 lookup 44 proto 44' &&
    in_gw ip -4 route show table 44 | grep -q '^local 172\.24\.0\.0/16' &&
    ok "the first one's rule and route stay" ||
    fail "the second dns44 took the first one's rule or route"

# The ip rule deleted under it: a warning within a period, once.
in_gw ip rule del to 172.24.0.0/16 lookup 44 || fail "ip rule del"
logged "parent: tproxy check: no ip rule sends the range \(or mark 0x2c\) \
to a table with a local route for it; traffic to the range may not reach \
the proxy" 3 && ok "warned of the missing ip rule" ||
    fail "no warning of the missing ip rule: $(grep tproxy "$DLOG")"
CTL s show status | grep -q '^tproxy check    missing, at .*: no ip rule' &&
    ok "show status: the rule missing" ||
    fail "show status: $(CTL s show status)"
sleep 2.2
expect "one warning for one change" \
    "$(grep -c 'tproxy check: no ip rule' "$DLOG")" 1
in_gw ip rule add to 172.24.0.0/16 lookup 44 proto 44 || fail "ip rule add"
logged "parent: tproxy check: fixed, traffic to the range reaches the \
proxy again" 3 && ok "logged the fix" || fail "no line of the fix"
CTL s show status | grep -q '^tproxy check    ok' &&
    ok "show status: ok again" || fail "show status: $(CTL s show status)"

# The TPROXY rule deleted under it: the same.
in_gw nft flush chain ip dns44 prerouting || fail "nft flush chain"
logged "parent: tproxy check: no nftables TPROXY rule for TCP and UDP to \
the range to 127\.0\.0\.1:4480; traffic to the range may not reach the \
proxy" 3 && ok "warned of the missing TPROXY rule" ||
    fail "no warning of the missing TPROXY rule: $(grep tproxy "$DLOG")"
in_gw nft add rule ip dns44 prerouting ip daddr 172.24.0.0/16 \
    meta l4proto '{ tcp, udp }' tproxy to 127.0.0.1:4480 meta mark set 44 ||
    fail "nft add rule"
wait_for 3 sh -c "[ \$(grep -c 'tproxy check: fixed' '$DLOG') -eq 2 ]" &&
    ok "logged the fix of the TPROXY rule" ||
    fail "no second line of a fix: $(grep tproxy "$DLOG")"

# A reload is reported; the plumbing stays as it is.
kill -HUP "$DP"
logged "parent: configuration reloaded" || fail "no reload"
CTL s show status | grep -q '^last reload     .*, ok$' &&
    ok "show status: the reload" || fail "show status: $(CTL s show status)"
# Another mark needs a restart, and says so; a broken file is reported.
echo "tproxy mark 45" >>"$DCF"
kill -HUP "$DP"
logged "parent: tproxy mark cannot change on reload; restart to apply it" &&
    ok "a new mark waits for a restart" || fail "no line of the mark"
in_gw nft list chain ip dns44 prerouting | grep -q 'meta mark set 0x0000002c' &&
    ok "the running rule keeps its mark" || fail "the rule's mark changed"
echo "dns ttl forever" >>"$DCF"
kill -HUP "$DP"
logged "configuration not reloaded" || fail "a broken file was reloaded"
CTL s show status |
    grep -q '^last reload     .*, failed: configuration not reloaded' &&
    ok "show status: the failed reload" ||
    fail "show status: $(CTL s show status)"

pw_stop
logged "parent: tproxy setup: nftables table, ip rules and local routes \
removed" && ok "log: the plumbing removed" || fail "no line of the removal"
out=$(nothing_left) && ok "after the stop: no table, rule or route" ||
    fail "after the stop: $out"

# Killed: the next start takes the table, rule and route the dead one
# left, and stops clean.
pw_start k <<EOF
include "$SAMPLE"
EOF
KP=$DP
kill -KILL "$DP"
wait "$DP" 2>/dev/null
# Its children go when their channel closes, and free the ports.
wait_for 5 sh -c "[ -z \"\$(ip netns pids $GW)\" ]" ||
    fail "the killed dns44's children live on"
pw_start k2 <<EOF
include "$SAMPLE"
EOF
logged "parent: tproxy setup: removed the nftables table ip dns44 left by \
dns44 pid $KP" && logged "parent: tproxy setup: removed 2 rule\(s\) and \
route\(s\) left by an earlier run" && ok "the leftovers taken back" ||
    fail "no line of the leftovers: $(grep tproxy "$DLOG")"
in_gw nft list table ip dns44 | grep -q "^	comment \"dns44 pid $DP\"\$" &&
    ok "the table is the new one's" || fail "the table is not the new one's"
pw_stop
out=$(nothing_left) && ok "after the second stop: nothing left" ||
    fail "after the second stop: $out"

# Someone else's table of that name: the start is refused, naming it,
# and the table stays; nothing else is made.
in_gw nft -f - <<EOF || die "nft"
table ip dns44 {
	chain other {
		type filter hook input priority 0; policy accept;
	}
}
EOF
before=$(in_gw nft list table ip dns44)
DCF=$(conf_write c <<EOF
dns listen $PW_GW_ADDR port 53
dns upstream $PW_W
proxy listen $PW_PROXY
include "$SAMPLE"
EOF
)
in_gw "$DNS44" -d -f "$DCF" >"$T_TMP/c.log" 2>&1 &
CP=$!
T_PIDS="$T_PIDS $CP"
wait "$CP"
expect "start over another's table: exit status" "$?" 1
grep -q 'tproxy setup: the nftables table ip dns44 exists already' \
    "$T_TMP/c.log" && grep -q 'refusing to start over what is there' \
    "$T_TMP/c.log" && ok "the clash named" ||
    fail "no clash message: $(cat "$T_TMP/c.log")"
expect "the other table" "$(in_gw nft list table ip dns44)" "$before"
[ -z "$(in_gw ip -4 rule show | grep 'lookup 44')" ] &&
    [ -z "$(in_gw ip -4 route show table 44 2>/dev/null)" ] &&
    ok "no rule or route made" || fail "a rule or route was made"
in_gw nft delete table ip dns44

# tproxy setup no: the check watches rules made by hand, here the lab's.
pw_tproxy
pw_start h <<EOF
tproxy check 1s
EOF
CTL h show status | grep -q '^tproxy check    ok' &&
    CTL h show status | grep -q '^tproxy setup    not made by dns44' &&
    ok "show status: hand-made rules are fine" ||
    fail "show status: $(CTL h show status)"
if [ "$PW_TPROXY" = nft ]; then
	saved=$(in_gw nft list table ip dns44)
	in_gw nft delete table ip dns44
	logged "parent: tproxy check: no nftables TPROXY rule for TCP and \
UDP to the range to 127\.0\.0\.1:4480; traffic to the range may not reach \
the proxy" 3 && ok "warned of the missing nftables rule" ||
	    fail "no warning of the nftables rule: $(grep tproxy "$DLOG")"
	echo "$saved" | in_gw nft -f - || fail "nft: restoring"
	logged "parent: tproxy check: fixed" 3 &&
	    ok "logged the fix of the nftables rule" ||
	    fail "no line of the fix"
	# iptables-nft's rules count too, for the protocols they match.
	in_gw nft delete table ip dns44
	in_gw iptables -t mangle -A PREROUTING -d "$PW_RANGE" -p tcp \
	    -j TPROXY --on-ip 127.0.0.1 --on-port 4480 --tproxy-mark 44 ||
	    fail "iptables"
	logged "parent: tproxy check: no nftables TPROXY rule for UDP to the \
range to 127\.0\.0\.1:4480; traffic" 3 &&
	    ok "iptables' TPROXY rule for TCP seen, UDP missing" ||
	    fail "no warning of UDP alone: $(grep tproxy "$DLOG")"
fi
# Turned off by a reload.
echo "tproxy check no" >>"$DCF"
kill -HUP "$DP"
logged "parent: configuration reloaded" || fail "no reload"
CTL h show status | grep -q '^tproxy check    off$' &&
    ok "show status: the check off" || fail "show status: $(CTL h show status)"
pw_stop
expect "hand-made rules left as they were" \
    "$(in_gw ip -4 rule show | grep -c 'fwmark 0x2c lookup 100')" 1

exit $T_FAILED
