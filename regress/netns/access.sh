#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# access: client access control, tried by a host on the WAN side that is
# not on a subnet connected to the gateway (routed to it through the
# world) against the DNS port and the proxy, next to a client of the LAN.
# The far host gets REFUSED over UDP and TCP, no PTR answer for the range,
# a reset from the proxy and nothing back over UDP; the LAN client is
# served all along; the refusals are counted in show stats and logged.
# allow from any, after a reload, serves the far host; dns ptr no keeps
# the range's names from everyone.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup socat
SOCK=$T_TMP/d/ctl.sock
FAR_ADDR=10.46.5.2
FAR_GW=10.46.5.1

# The far host: behind the world, routed to the gateway through it.
ns_new
FAR=$NS
ip -n "$FAR" link add pf0 type veth peer name pw1 netns "$WORLD" &&
    ip -n "$FAR" addr add "$FAR_ADDR/24" dev pf0 &&
    ip -n "$WORLD" addr add "$FAR_GW/24" dev pw1 &&
    ip -n "$FAR" link set pf0 up && ip -n "$WORLD" link set pw1 up &&
    ip -n "$FAR" route add default via "$FAR_GW" &&
    ip -n "$WORLD" route add "$PW_RANGE" via "$PW_GW_WORLD" &&
    ip -n "$GW" route add 10.46.5.0/24 via "$PW_W" ||
    die "the far host's link and routes"
ip netns exec "$WORLD" sysctl -qw net.ipv4.ip_forward=1 || die "forwarding"
in_far() { ip netns exec "$FAR" "$@"; }

pw_dnsmasq
for m in secret usecret; do
	in_w $PW_PROBE $m "$PW_W" 7010 PUBLIC >"$T_TMP/$m.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
done
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7010" &&
    wait_for 5 pw_listening "$WORLD" udp "$PW_W:7010" || die "servers"
pw_start d </dev/null

# rcode NS ARGS...: the status of dns44's answer as seen from NS.
rcode() {
	ns=$1
	shift
	ip netns exec "$ns" kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 "$@" \
	    2>&1 | sed -n 's/.*status: \([A-Z0-9]*\).*/\1/p' | head -n 1
}
ptr() {
	ip netns exec "$1" kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 +short \
	    -x "$2" 2>/dev/null | grep -v '^;;'
}
fetch() { ip netns exec "$1" $PW_PROBE fetch "$2" 7010 2>&1; }
ufetch() { ip netns exec "$1" $PW_PROBE ufetch "$2" 7010 2>&1; }

# The LAN client is served.
v=$(cl_q site.test A)
case $v in
172.24.*)	ok "LAN client: site.test is $v" ;;
*)		fail "LAN client: site.test is \"$v\"" ;;
esac
expect "LAN client: PTR of $v" "$(ptr "$CL" "$v")" site.test.
expect "LAN client: TCP through the proxy" "$(fetch "$CL" "$v")" \
    "data PUBLIC"
expect "LAN client: UDP through the proxy" "$(ufetch "$CL" "$v")" \
    "data PUBLIC"

# The far host is refused everything.
expect "far host: A over UDP" "$(rcode "$FAR" site.test A)" REFUSED
expect "far host: A over TCP" "$(rcode "$FAR" +tcp site.test A)" REFUSED
expect "far host: a new name" "$(rcode "$FAR" far-only.test A)" REFUSED
expect "far host: PTR of $v" "$(rcode "$FAR" -x "$v")" REFUSED
expect "far host: anything else" "$(rcode "$FAR" site.test MX)" REFUSED
expect "far host: TCP through the proxy" "$(fetch "$FAR" "$v")" reset
expect "far host: UDP through the proxy" "$(ufetch "$FAR" "$v")" nothing
"$DNS44CTL" -s "$SOCK" show map 2>&1 | grep -q far-only.test &&
    fail "the far host's name was mapped" ||
    ok "the far host's name was not mapped"

logged "dns: DNS $(re "$FAR_ADDR"):[0-9]+: client not in the allowed \
networks; REFUSED" && ok "DNS refusal logged" ||
    fail "DNS refusal: $(grep "$FAR_ADDR" "$DLOG")"
logged "proxy: TCP $(re "$FAR_ADDR"):[0-9]+ <=> $(re "[$v]:7010: client \
not in the allowed networks; reset")" && ok "proxy refusal logged" ||
    fail "proxy refusal: $(grep "$FAR_ADDR" "$DLOG")"

st=$("$DNS44CTL" -s "$SOCK" show stats 2>&1)
n=$(echo "$st" | sed -n 's/^dns refused clients *//p')
[ "${n:-0}" -ge 5 ] && ok "show stats: $n refused DNS queries" ||
    fail "show stats (dns): $st"
n=$(echo "$st" | sed -n 's/^proxy refused clients *//p')
[ "${n:-0}" -ge 2 ] && ok "show stats: $n refused proxy clients" ||
    fail "show stats (proxy): $st"
j=$("$DNS44CTL" -s "$SOCK" -j show stats 2>&1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["dns_refused_clients"] >= 5, d["proxy_refused_clients"] >= 2)')
expect "show stats -j" "$j" "True True"

reloaded() {
	[ "$(grep -c "proxy: configuration reloaded" "$DLOG")" -gt "$1" ]
}

# reload CONF-LINES: the file gets them, and the daemon re-reads it.
reload() {
	n=$(grep -c "proxy: configuration reloaded" "$DLOG")
	echo "$1" >>"$DCF"
	kill -HUP "$DP"
	wait_for 3 reloaded "$n" || fail "no reload"
}

# allow from any: served as before there was a list.
reload "allow from any"
expect "allow from any: far host's A" "$(rcode "$FAR" site.test A)" NOERROR
expect "allow from any: far host's PTR" "$(ptr "$FAR" "$v")" site.test.
expect "allow from any: far host through the proxy" "$(fetch "$FAR" "$v")" \
    "data PUBLIC"

# dns ptr no: no names of the range for anyone.
reload "dns ptr no"
expect "dns ptr no: LAN client's PTR" "$(rcode "$CL" -x "$v")" NXDOMAIN
expect "dns ptr no: far host's PTR" "$(rcode "$FAR" -x "$v")" NXDOMAIN
expect "dns ptr no: LAN client's A" "$(cl_q site.test A)" "$v"

pw_stop
exit $T_FAILED
