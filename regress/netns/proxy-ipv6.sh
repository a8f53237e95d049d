#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-ipv6: the proxy reaches IPv6 destinations for IPv4 clients.  The
# world gets IPv6 addresses beside its IPv4 one.  A name with AAAA records
# only is reached over IPv6, by TCP and by UDP: the bytes arrive, the
# server sees the gateway's IPv6 address, the journal and dns44ctl show
# the IPv6 address dialled.  A name with both, whose IPv6 address is
# black-holed (the SYN is dropped, the connect hangs), connects over IPv4
# after the connection attempt delay, long before the dial timeout (Happy
# Eyeballs).  A name with both, both reachable, is reached over IPv6, and
# over IPv4 once a reload says proxy prefer ipv4, by TCP and UDP alike.
# A route with a firewall mark dials IPv6 on a socket the parent made of
# that family; one with an IPv4 source address falls back to IPv4.
# Names that resolve to the gateway's own IPv6 address, to ::1, or to
# loopback inside NAT64's prefix or as an IPv4-mapped address are refused
# and journaled; one whose
# only address the gateway has no route to is journaled as unreachable.
# A SOCKS5 server on the world's IPv6 address: microsocks carries TCP,
# asked for the name, and danted's UDP ASSOCIATE names a relay on its
# IPv6 address, which the datagrams reach; tinyproxy there is asked to
# CONNECT to the name; the journal names the server as [fd44:2::2]:port.
# The configuration's IPv6 lines: proxy deny of the world's IPv6 network
# refuses a name there by TCP and UDP, the line named in the journal; a
# proxy allow of one host of it opens that host again; proxy allow ::1
# opens the gateway's IPv6 loopback, where a service answers.
# New names are verified (dns verify yes): the client's A query has the
# upstream asked for A records alone, and the proxy's first connection
# asks for the AAAA records it dials.

T_VERIFY=yes
. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup microsocks danted tinyproxy

# The world's IPv6 side: fd44:2::2 on its link to the gateway, which has
# fd44:2::1 there; fd44:3::/64 goes to the world, which drops it.
V6_GW=fd44:2::1
V6_W=fd44:2::2
V6_HOLE=fd44:3::99
ip -n "$GW" addr add "$V6_GW/64" dev pg1 nodad &&
    ip -n "$WORLD" addr add "$V6_W/64" dev pw0 nodad &&
    ip -n "$GW" -6 route add fd44:3::/64 via "$V6_W" &&
    ip -n "$WORLD" -6 route add blackhole fd44:3::/64 ||
    die "IPv6 addresses and routes"
in_w sysctl -qw net.ipv6.conf.all.forwarding=1 || die "IPv6 forwarding"

pw_dnsmasq \
    --host-record=six.test,$V6_W \
    --host-record=both.test,$PW_W,$V6_HOLE \
    --host-record=dual.test,$PW_W,$V6_W \
    --host-record=mark6.test,$V6_W \
    --host-record=src6.test,$PW_W,$V6_W \
    --host-record=self6.test,$V6_GW \
    --host-record=lo6.test,::1 \
    --host-record=noroute6.test,fd44:9::1 \
    --host-record=nat64.test,64:ff9b::7f00:1 \
    --host-record=mapped.test,::ffff:127.0.0.1 \
    --host-record=ms6.test,$PW_W --host-record=dante6.test,$PW_W \
    --host-record=http6.test,$PW_W
pw_world_resolver
for a in "$PW_W" "$V6_W"; do
	in_w $PW_PROBE peer "$a" 7100 >>"$T_TMP/peer.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	in_w $PW_PROBE upeer "$a" 7101 >>"$T_TMP/peer.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
done
wait_for 5 pw_listening "$WORLD" tcp "$(re "[$V6_W]:7100")" &&
    wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7100" &&
    wait_for 5 pw_listening "$WORLD" udp "$(re "[$V6_W]:7101")" ||
    die "the peer servers did not start: $(cat "$T_TMP/peer.out")"
# The SOCKS5 servers on the world's IPv6 address.
in_w microsocks -i "$V6_W" -p 1080 >"$T_TMP/ms.log" 2>&1 &
T_PIDS="$T_PIDS $!"
pw_danted "$V6_W" 1081 pw0
cat >"$T_TMP/tinyproxy.conf" <<EOF
Port 3128
Listen $V6_W
Timeout 30
LogFile "$T_TMP/tinyproxy.log"
LogLevel Info
MaxClients 16
Allow fd44:2::/64
EOF
in_w tinyproxy -d -c "$T_TMP/tinyproxy.conf" >"$T_TMP/tinyproxy.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$(re "[$V6_W]:1080")" &&
    wait_for 5 pw_listening "$WORLD" tcp "$(re "[$V6_W]:1081")" &&
    wait_for 5 pw_listening "$WORLD" tcp "$(re "[$V6_W]:3128")" ||
    die "the proxy servers did not start: $(cat "$T_TMP/ms.log" \
    "$T_TMP/danted.out" "$T_TMP/tinyproxy.out")"

pw_start d <<EOF2
route to "mark6.test" mark 99
route to "src6.test" source $PW_GW_WORLD
route to "ms6.test" via socks5 $V6_W
route to "dante6.test" via socks5 $V6_W port 1081
route to "http6.test" via http $V6_W
EOF2
SOCK=$T_TMP/d/ctl.sock

# TCP to a name with AAAA records only.
six=$(cl_q six.test A)
[ -n "$six" ] || die "six.test has no virtual address"
expect "TCP to an IPv6-only name" "$(in_cl $PW_PROBE fetch six.test 7100)" \
    "data peer $V6_GW"
f=$(flow TCP - six.test "$six" 7100)
t6=$(to_w 7100 "[$V6_W]")
logged "proxy: \[\+\] $f$t6\$" &&
    ok "TCP over IPv6: the [+] line names the IPv6 address" ||
    fail "TCP over IPv6: no [+] line"
logged "proxy: \[-\] $f sent 0 received [0-9]+ bytes in [0-9.]+s$t6\$" &&
    ok "TCP over IPv6: the [-] line names the IPv6 address" ||
    fail "TCP over IPv6: $(grep six.test "$DLOG")"

# dns44ctl shows the IPv6 address of an open connection.
in_cl $PW_PROBE hold six.test 7100 30 >/dev/null 2>&1 &
T_PIDS="$T_PIDS $!"
opened() {
	[ "$(grep -c -E "proxy: \[\+\] $f$t6\$" "$DLOG")" -ge 2 ]
}
wait_for 5 opened || fail "the held connection did not open"
row=$("$DNS44CTL" -s "$SOCK" show connections |
    awk '$1 == "tcp" && $3 == "six.test" { print $4, $5 }')
expect "show connections: the IPv6 address" "$row" \
    "$six:7100 [$V6_W]:7100"

# UDP to the same name.
expect "UDP to an IPv6-only name" "$(in_cl $PW_PROBE ufetch six.test 7101)" \
    "data peer $V6_GW"
logged "proxy: \[\+\] $(flow UDP - six.test "$six" 7101)$(to_w 7101 \
    "[$V6_W]")\$" && ok "UDP over IPv6: the [+] line names the IPv6 address" ||
    fail "UDP over IPv6: no [+] line"

# Both families, the IPv6 address black-holed: IPv4 after the delay.
both=$(cl_q both.test A)
t0=$(date +%s%N)
got=$(in_cl $PW_PROBE fetch both.test 7100)
ms=$((($(date +%s%N) - t0) / 1000000))
expect "both families, IPv6 black-holed" "$got" "data peer $PW_GW_WORLD"
# The dial timeout is 10 s; the second attempt starts after 250 ms.
[ "$ms" -lt 2000 ] && ok "IPv4 connected after ${ms}ms" ||
    fail "IPv4 connected after ${ms}ms, not within 2s"
logged "proxy: \[-\] $(flow TCP - both.test "$both" 7100) sent 0 received \
[0-9]+ bytes in [0-9.]+s$(to_w 7100)\$" &&
    ok "both families: the [-] line names the IPv4 address" ||
    fail "both families: $(grep both.test "$DLOG")"

# Routes with options.
expect "TCP, marked, to IPv6" "$(in_cl $PW_PROBE fetch mark6.test 7100)" \
    "data peer $V6_GW"
expect "UDP, marked, to IPv6" "$(in_cl $PW_PROBE ufetch mark6.test 7101)" \
    "data peer $V6_GW"
logged "proxy: \[\+\] $(flow TCP - mark6.test "$(cl_q mark6.test A)" \
    7100) mark 0x63$t6\$" && ok "marked: the [+] line" ||
    fail "marked: $(grep mark6.test "$DLOG")"
expect "an IPv4 source: IPv4" "$(in_cl $PW_PROBE fetch src6.test 7100)" \
    "data peer $PW_GW_WORLD"
logged "proxy: $(flow TCP - src6.test "$(cl_q src6.test A)" 7100) \
source $(re "$PW_GW_WORLD"): dial $(re "[$V6_W]:7100"): source \
$(re "$PW_GW_WORLD"): " && ok "an IPv4 source: the IPv6 attempt said why" ||
    fail "an IPv4 source: $(grep src6.test "$DLOG")"

# Both families reachable: the preferred one, IPv6 unless told otherwise.
expect "TCP, both families: IPv6 first" \
    "$(in_cl $PW_PROBE fetch dual.test 7100)" "data peer $V6_GW"
expect "UDP, both families: IPv6 first" \
    "$(in_cl $PW_PROBE ufetch dual.test 7101)" "data peer $V6_GW"
echo "proxy prefer ipv4" >>"$DCF"
kill -HUP "$DP"
logged "proxy: configuration reloaded" || fail "no reload"
expect "TCP, both families, prefer ipv4: IPv4 first" \
    "$(in_cl $PW_PROBE fetch dual.test 7100)" "data peer $PW_GW_WORLD"
expect "UDP, both families, prefer ipv4: IPv4 first" \
    "$(in_cl $PW_PROBE ufetch dual.test 7101)" "data peer $PW_GW_WORLD"

# refused NAME ADDR WHY: a name whose only address the proxy must not
# dial resets the client and says why (one such line a second).
refused() {
	sleep 1
	v=$(cl_q "$1" A)
	expect "$1: the client is reset" \
	    "$(in_cl $PW_PROBE fetch "$1" 7100)" reset
	logged "proxy: $(flow TCP - "$1" "$v" 7100): $(re \
	    "dial [$2]:7100: $3"); reset" &&
	    ok "$1: refused and journaled" ||
	    fail "$1: $(grep "$1" "$DLOG")"
}
refused self6.test "$V6_GW" "refused by local address"
refused lo6.test ::1 "refused by ::1/128 (built-in)"
refused nat64.test 64:ff9b::7f00:1 "refused by 127.0.0.0/8 (built-in)"
refused mapped.test ::ffff:127.0.0.1 "refused by 127.0.0.0/8 (built-in)"

# No route to it: the connect fails at once, and the journal says why.
v=$(cl_q noroute6.test A)
expect "noroute6.test: the client is reset" \
    "$(in_cl $PW_PROBE fetch noroute6.test 7100)" reset
logged "proxy: $(flow TCP - noroute6.test "$v" 7100): every address \
unreachable; reset\$" && ok "noroute6.test: journaled as unreachable" ||
    fail "noroute6.test: $(grep noroute6.test "$DLOG")"

# via6 TCP|UDP NAME PORT ROUTE: NAME reached through a server on the
# world's IPv6 address, which dials from $PW_W; the [+] line ends with
# ROUTE.
via6() {
	case $1 in
	TCP)	got=$(in_cl $PW_PROBE fetch "$2" "$3") ;;
	*)	got=$(in_cl $PW_PROBE ufetch "$2" "$3") ;;
	esac
	expect "$1 to $2, $4" "$got" "data peer $PW_W"
	logged "proxy: \[\+\] $(flow "$1" - "$2" "$(cl_q "$2" A)" "$3") \
$(re "$4")\$" && ok "$1 to $2: the [+] line names the server" ||
	    fail "$1 to $2: $(grep "$2" "$DLOG")"
}

# TCP through microsocks: it was asked for the name.
via6 TCP ms6.test 7100 "via socks5 [$V6_W]:1080"
grep -q "ms6\.test" "$T_TMP/ms.log" &&
    ok "microsocks was asked for ms6.test" ||
    fail "microsocks: $(cat "$T_TMP/ms.log")"
# TCP through tinyproxy: CONNECT to the name.
via6 TCP http6.test 7100 "via http [$V6_W]:3128"
grep -q "CONNECT http6\.test:7100 HTTP/1\.1" "$T_TMP/tinyproxy.log" &&
    ok "tinyproxy was asked to CONNECT to http6.test:7100" ||
    fail "tinyproxy: $(tail -5 "$T_TMP/tinyproxy.log")"
# UDP through danted's relay on its IPv6 address.
via6 UDP dante6.test 7101 "via socks5 [$V6_W]:1081"
grep -q "for target dante6\.test\.7101\$" "$T_TMP/danted.log" &&
    ok "danted: datagrams to dante6.test.7101" ||
    fail "danted: no datagram named dante6.test.7101: \
$(tail -5 "$T_TMP/danted.log")"

# reload LINE: the file gets it, and every proxy worker has read it.
NW=$(child_pids "$DP" proxy | wc -l)
reload() {
	n=$(grep -c "proxy: configuration reloaded" "$DLOG")
	echo "$1" >>"$DCF"
	kill -HUP "$DP"
	wait_for 5 sh -c "[ \$(grep -c 'proxy: configuration reloaded' \
	    '$DLOG') -ge $((n + NW)) ]" || fail "no reload after $1"
}

# The configuration's IPv6 lines.  The world's network denied: the
# IPv6-only name is refused by TCP and UDP, and the line is named.
reload "proxy deny fd44:2::/64"
DENY="$(basename "$DCF"):$(wc -l <"$DCF")"
refused six.test "$V6_W" "refused by $DENY"
sleep 1
expect "six.test, denied, UDP" "$(in_cl $PW_PROBE ufetch six.test 7101)" \
    nothing
logged "proxy: $(flow UDP - six.test "$six" 7101): $(re \
    "dial [$V6_W]:7101: refused by $DENY; dropped")" &&
    ok "six.test, denied, UDP: journaled" ||
    fail "six.test, denied, UDP: $(grep "six.test.*7101" "$DLOG")"
# A name of both families still reaches the world over IPv4.
expect "dual.test, its IPv6 network denied" \
    "$(in_cl $PW_PROBE fetch dual.test 7100)" "data peer $PW_GW_WORLD"

# One host of that network opened again: the longer prefix wins.
reload "proxy allow $V6_W"
expect "six.test, its host allowed" \
    "$(in_cl $PW_PROBE fetch six.test 7100)" "data peer $V6_GW"

# The gateway's IPv6 loopback opened for one service.
ip netns exec "$GW" $PW_PROBE secret ::1 7005 LOOPBACK6-ALLOWED \
    >"$T_TMP/lo6.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$GW" tcp "$(re "[::1]:7005")" ||
    die "the loopback service: $(cat "$T_TMP/lo6.out")"
sleep 1
expect "lo6.test:7005 before proxy allow ::1" \
    "$(in_cl $PW_PROBE fetch lo6.test 7005)" reset
reload "proxy allow ::1"
expect "lo6.test:7005, proxy allow ::1" \
    "$(in_cl $PW_PROBE fetch lo6.test 7005)" "data LOOPBACK6-ALLOWED"

pw_stop
exit $T_FAILED
