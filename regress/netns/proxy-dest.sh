#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-dest: the destination policy, tried as a LAN client would attack
# the gateway through the proxy.  Names anyone can publish answer the
# gateway's loopback (DNS rebinding) and its WAN address, where secrets
# are served that only the gateway should reach (the WAN one is
# firewalled from the LAN); the client gets a reset over TCP and nothing
# over UDP, never the secret, and the journal names the client, the name,
# the address and the rule.  A name with a forbidden first address and a
# fine second one is reached on the second; a proxy allow line opens one
# loopback service on purpose; an address added to the gateway while
# dns44 runs is refused within two seconds, and served again once it is
# removed from the gateway and lives elsewhere.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup socat
SOCK=$T_TMP/d/ctl.sock
NEW=10.46.2.7

pw_dnsmasq --host-record=secret-lo.test,127.0.0.1 \
    --host-record=secret-wan.test,$PW_GW_WORLD \
    --host-record=two.test,127.0.0.1 --host-record=two.test,$PW_W \
    --host-record=pub-lo.test,127.0.0.2 \
    --host-record=new.test,$NEW

# serve NS MODE ADDR PORT TEXT: a secret (TCP) or usecret (UDP) server.
serve() {
	ip netns exec "$1" $PW_PROBE "$2" "$3" "$4" "$5" \
	    >"$T_TMP/$2-$3-$4.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	case $2 in
	usecret)	pr=udp ;;
	*)		pr=tcp ;;
	esac
	wait_for 5 pw_listening "$1" $pr "$3:$4" || die "$2 on $3:$4"
}
serve "$GW" secret 127.0.0.1 7001 SECRET-LOOPBACK-TCP
serve "$GW" usecret 127.0.0.1 7002 SECRET-LOOPBACK-UDP
serve "$GW" secret "$PW_GW_WORLD" 7003 SECRET-WAN
serve "$GW" secret 127.0.0.1 7006 SECRET-TWO
serve "$WORLD" secret "$PW_W" 7006 PUBLIC-TWO
serve "$GW" secret 127.0.0.2 7004 LOOPBACK-ALLOWED

# The gateway's firewall keeps its WAN service from the LAN.
in_gw nft -f - <<EOF || die "firewall"
table ip fw {
	chain in {
		type filter hook input priority 0;
		iifname "pg0" ip daddr $PW_GW_WORLD tcp dport 7003 drop
	}
}
EOF
expect "the WAN service, directly from the LAN" \
    "$(in_cl $PW_PROBE fetch "$PW_GW_WORLD" 7003)" timeout

pw_start d <<EOF2
proxy allow 127.0.0.2/32
EOF2

# What the client got, also kept in client.out.
fetch() { in_cl $PW_PROBE fetch "$@" 2>&1 | tee -a "$T_TMP/client.out"; }
ufetch() { in_cl $PW_PROBE ufetch "$@" 2>&1 | tee -a "$T_TMP/client.out"; }

# Each kind of refusal is logged at most once a second, so the checks
# below wait a second between them; a line may count those suppressed.
SUP='( \([0-9]+ more like it suppressed\))?$'

# (a) The gateway's loopback, over TCP and UDP.
v=$(cl_q secret-lo.test A)
expect "a name answering 127.0.0.1, TCP" "$(fetch secret-lo.test 7001)" \
    reset
logged "proxy: $(flow TCP - secret-lo.test "$v" 7001): $(re \
    "dial 127.0.0.1:7001: refused by 127.0.0.0/8 (built-in); reset")$SUP" &&
    ok "127.0.0.1 over TCP: the journal says why" ||
    fail "127.0.0.1 over TCP: $(grep secret-lo "$DLOG")"
sleep 1
expect "a name answering 127.0.0.1, UDP" "$(ufetch secret-lo.test 7002)" \
    nothing
logged "proxy: $(flow UDP - secret-lo.test "$v" 7002): $(re \
    "dial 127.0.0.1:7002: refused by 127.0.0.0/8 (built-in); dropped")$SUP" &&
    ok "127.0.0.1 over UDP: the journal says why" ||
    fail "127.0.0.1 over UDP: $(grep secret-lo "$DLOG")"
sleep 1

# (b) The gateway's own WAN address.
v=$(cl_q secret-wan.test A)
expect "a name answering the gateway's WAN address" \
    "$(fetch secret-wan.test 7003)" reset
logged "proxy: $(flow TCP - secret-wan.test "$v" 7003): $(re \
    "dial $PW_GW_WORLD:7003: refused by local address; reset")$SUP" &&
    ok "the WAN address: the journal says why" ||
    fail "the WAN address: $(grep secret-wan "$DLOG")"

# (c) Two addresses, one forbidden: the other is dialled, whichever
# comes first (here the upstream gives 127.0.0.1 first: without the
# policy both connections read SECRET-TWO).
sleep 1
expect "a name with a forbidden address, 1st" "$(fetch two.test 7006)" \
    "data PUBLIC-TWO"
expect "a name with a forbidden address, 2nd" "$(fetch two.test 7006)" \
    "data PUBLIC-TWO"
logged "$(re "[two.test(")[0-9.]+$(re ")]:7006: dial 127.0.0.1:7006: \
refused by 127.0.0.0/8 (built-in)")$SUP" &&
    ok "two.test: the forbidden address is logged" ||
    fail "two.test: $(grep two.test "$DLOG")"

# (d) One loopback service opened on purpose.
expect "proxy allow 127.0.0.2/32" "$(fetch pub-lo.test 7004)" \
    "data LOOPBACK-ALLOWED"

# (f) An address added to the gateway while dns44 runs.
serve "$GW" secret 0.0.0.0 7007 SECRET-NEW
sleep 1
changes=$(grep -c "gateway addresses changed" "$DLOG")
in_gw ip addr add "$NEW/24" dev pg1 || die "ip addr add"
t0=$(date +%s%N)
more() { [ "$(grep -c "gateway addresses changed" "$DLOG")" -gt "$1" ]; }
wait_for 2 more "$changes" && ok "the parent saw the new address" ||
    fail "the parent did not see the new address"
expect "a name answering a new address of the gateway" \
    "$(fetch new.test 7007)" reset
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 2000 ] && ok "refused ${ms}ms after ip addr add" ||
    fail "refused only ${ms}ms after ip addr add"
logged "$(re "dial $NEW:7007: refused by local address; reset")$SUP" &&
    ok "the new address: the journal says why" ||
    fail "the new address: $(grep new.test "$DLOG")"

# ... and removed: the address now lives in the world, and is served.
changes=$(grep -c "gateway addresses changed" "$DLOG")
in_gw ip addr del "$NEW/24" dev pg1 || die "ip addr del"
in_w ip addr add "$NEW/24" dev pw0 || die "ip addr add in the world"
serve "$WORLD" secret "$NEW" 7008 PUBLIC-NEW
wait_for 2 more "$changes" && ok "the parent saw the address go" ||
    fail "the parent did not see the address go"
expect "the address gone from the gateway" "$(fetch new.test 7008)" \
    "data PUBLIC-NEW"

# Nothing secret ever reached the client; the refusals are counted.
if grep SECRET "$T_TMP/client.out"; then
	fail "a secret reached the client"
elif [ "$(grep -c . "$T_TMP/client.out")" -eq 8 ]; then
	ok "no secret reached the client in 8 tries"
else
	fail "client.out: $(cat "$T_TMP/client.out")"
fi
st=$("$DNS44CTL" -s "$SOCK" show stats 2>&1)
n=$(echo "$st" | sed -n 's/^proxy refused dests *//p')
[ "${n:-0}" -ge 4 ] && ok "show stats: $n refused destinations" ||
    fail "show stats: $st"

pw_stop
exit $T_FAILED
