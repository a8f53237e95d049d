#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-tls: upstreams over TLS (RFC 7858) and by IPv6 address.  The world
# namespace runs unbound with a certificate from a CA made here, serving
# TLS on $DW_UP port 853 and plain DNS only on its IPv6 address, and a
# TLS server on port 8853 whose certificate another CA signed.  dns44
# trusts the test CA alone ("dns tls-ca").  Shown: a name verified and
# mapped over TLS, with no query in clear text; an untrusted certificate
# and a wrong name refused with a line saying why, SERVFAIL when no other
# upstream is left and the next upstream asked when one is; forty queries
# at once on one TLS connection, closed when idle; a query left on a
# connection the upstream closes asked again on a new one; an IPv6
# upstream answering over UDP and over TCP; a TLS upstream added by a
# reload.

T_VERIFY=yes
. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
for tool in unbound unbound-control openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "needs $tool"
		exit 77
	fi
done
dw_setup

V6_GW=fd44:2::1
V6_UP=fd44:2::2
ip -n "$GW" addr add "$V6_GW/64" dev dw0 nodad &&
    ip -n "$WORLD" addr add "$V6_UP/64" dev dw1 nodad ||
    die "IPv6 addresses"

# The test CA, the upstream's certificate for upstream.test, and a rogue
# CA's certificate for the same name.
pki() {
	cd "$T_TMP" || return 1
	for ca in ca rogue-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$ca.key" -out "$ca.pem" -days 2 \
		    -subj "/CN=dns44 $ca" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign" || return 1
	done
	printf 'subjectAltName=DNS:upstream.test\n' >san.ext
	for c in server:ca rogue:rogue-ca; do
		n=${c%%:*} ca=${c#*:}
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$n.key" -out "$n.csr" \
		    -subj "/CN=upstream.test" &&
		    openssl x509 -req -in "$n.csr" -CA "$ca.pem" \
		    -CAkey "$ca.key" -CAcreateserial -days 2 \
		    -extfile san.ext -out "$n.pem" || return 1
	done
	chmod 644 ./*.key
}
(pki) >"$T_TMP/pki.log" 2>&1 || { cat "$T_TMP/pki.log"; die "openssl"; }

# unbound: TLS on the IPv4 address, plain DNS on the IPv6 one only.
UCONF=$T_TMP/unbound.conf
{
	cat <<EOF
server:
	verbosity: 1
	username: ""
	chroot: ""
	directory: "$T_TMP"
	pidfile: "$T_TMP/unbound.pid"
	use-syslog: no
	logfile: "$T_TMP/unbound.log"
	do-daemonize: no
	do-ip6: yes
	interface: $DW_UP@853
	interface: $V6_UP@53
	tls-port: 853
	tls-service-key: "$T_TMP/server.key"
	tls-service-pem: "$T_TMP/server.pem"
	incoming-num-tcp: 32
	access-control: 10.44.2.0/24 allow
	access-control: fd44:2::/64 allow
	module-config: "iterator"
	extended-statistics: yes
	local-zone: "test." static
	local-data: "test. 300 IN SOA ns.test. host.test. 1 3600 600 86400 60"
	local-data: "www.upstream.test. 300 IN A 192.0.2.80"
	local-data: 'txt.upstream.test. 300 IN TXT "over tls"'
	local-data: 'v6.test. 300 IN TXT "over ipv6"'
EOF
	big=$(printf '%0200d' 0 | tr 0 x)
	printf "\tlocal-data: 'big.test. 300 IN TXT"
	for i in 1 2 3 4 5 6 7 8; do
		printf ' "%s%s"' "$i" "$big"
	done
	printf "'\n"
	i=0
	while [ $i -lt 40 ]; do
		printf '\tlocal-data: "burst-%d.test. 300 IN A 192.0.2.%d"\n' \
		    $i $i
		i=$((i + 1))
	done
	cat <<EOF
remote-control:
	control-enable: yes
	control-interface: "$T_TMP/unbound.ctl"
	control-use-cert: no
EOF
} >"$UCONF"
ip netns exec "$WORLD" unbound -d -c "$UCONF" >"$T_TMP/unbound.out" 2>&1 &
T_PIDS="$T_PIDS $!"
# listening6 PROTO: unbound listens on its IPv6 address, port 53.
listening6() {
	ip netns exec "$WORLD" ss -Hln -A "$1" | awk '{ print $4 }' |
	    grep -qxF "[$V6_UP]:53"
}
wait_for 10 dw_listening "$WORLD" tcp "$DW_UP:853" &&
    wait_for 5 listening6 udp && wait_for 5 listening6 tcp || {
	cat "$T_TMP/unbound.out" "$T_TMP/unbound.log" 2>/dev/null
	ip netns exec "$WORLD" ss -Hlntu
	die "unbound did not start"
}

# A TLS server whose certificate the test CA did not sign.
ip netns exec "$WORLD" socat \
    "OPENSSL-LISTEN:8853,bind=$DW_UP,reuseaddr,fork,verify=0,cert=$T_TMP/rogue.pem,key=$T_TMP/rogue.key" \
    EXEC:cat >"$T_TMP/rogue.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 dw_listening "$WORLD" tcp "$DW_UP:8853" || die "rogue server"

# A TLS upstream that answers the first query of a connection and closes
# it, when a second has come or half a second has passed.
cat >"$T_TMP/oneshot.py" <<'EOF'
import select, sys
inp, out = sys.stdin.buffer.raw, sys.stdout.buffer
buf, msgs = b"", []
while len(msgs) < 2 and select.select([inp], [], [], 0.5)[0]:
    data = inp.read(4096)
    if not data:
        break
    buf += data
    while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
        n = int.from_bytes(buf[:2], "big")
        msgs.append(buf[2:2 + n])
        buf = buf[2 + n:]
if msgs:
    q = bytearray(msgs[0])
    q[2] |= 0x80
    q[3] = (q[3] | 0x80) & 0xf0
    out.write(len(q).to_bytes(2, "big") + bytes(q))
    out.flush()
EOF
ip netns exec "$WORLD" socat \
    "OPENSSL-LISTEN:9853,bind=$DW_UP,reuseaddr,fork,verify=0,cert=$T_TMP/server.pem,key=$T_TMP/server.key" \
    EXEC:"$PYTHON $T_TMP/oneshot.py" >"$T_TMP/oneshot.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 dw_listening "$WORLD" tcp "$DW_UP:9853" || die "one-shot server"

# ustat NAME: one of unbound's counters.
ustat() {
	ip netns exec "$WORLD" unbound-control -c "$UCONF" stats_noreset |
	    sed -n "s/^$1=//p"
}

# Nothing listens for clear-text DNS on the IPv4 address.
if dw_listening "$WORLD" udp "$DW_UP:53" ||
    dw_listening "$WORLD" tcp "$DW_UP:53"; then
	fail "something serves clear-text DNS on $DW_UP"
fi

dw_start main <<EOF
dns upstream $DW_UP tls name "upstream.test"
dns tls-ca "$T_TMP/ca.pem"
dns upstream-timeout 2s
dns upstream $DW_UP port 8853 tls name "upstream.test" for "rogue.test"
dns upstream $DW_UP tls name "wrong.test" for "wrong.test"
dns upstream $DW_UP port 8853 tls name "upstream.test" for "failover.test"
dns upstream $DW_UP tls name "wrong.test" for "failover.test"
dns upstream $DW_UP tls name "upstream.test" for "failover.test"
dns upstream $DW_UP port 9853 tls name "upstream.test" for "again.test"
dns upstream $V6_UP for "v6.test"
dns upstream $V6_UP port 53 for "big.test"
EOF
CTL=$T_TMP/main/ctl.sock

# An existing name, verified over TLS, mapped.
a=$(q www.upstream.test A)
in_range "$a" && ok "verified over TLS and mapped ($a)" ||
    fail "www.upstream.test A: '$a' $(tail -n 5 "$DLOG")"
r=$(q txt.upstream.test TXT)
[ "$r" = '"over tls"' ] && ok "a forwarded query answered over TLS" ||
    fail "txt.upstream.test TXT: '$r'"
out=$(qfull nope.upstream.test A)
[ "$(echo "$out" | rcode_of)" = NXDOMAIN ] &&
    ok "a missing name: NXDOMAIN over TLS" || fail "nope: $out"
tls=$(ustat num.query.tls)
all=$(ustat total.num.queries)
[ -n "$tls" ] && [ "$tls" -gt 0 ] && [ "$tls" = "$all" ] &&
    ok "unbound: every query of $all came over TLS" ||
    fail "unbound: $tls over TLS of $all"
ctl() {
	"$DNS44CTL" -s "$CTL" "$@"
}
ctl show stats | grep -Eq "^tls://$DW_UP:853 +up " &&
    ok "show stats: the TLS upstream up" ||
    fail "show stats: $(ctl show stats | tail -n 4)"
ctl -j show stats | grep -q '"tls": true' &&
    ok "show stats -j: tls true" || fail "show stats -j: no tls member"

# An untrusted certificate: refused, said why; SERVFAIL, nothing else left.
out=$(qfull rogue.test TXT)
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    ok "untrusted certificate: SERVFAIL" || fail "rogue.test: $out"
grep -q "upstream tls://$DW_UP:8853: certificate refused: unable to get local issuer certificate" \
    "$DLOG" && ok "journal: the certificate refused, and why" ||
    fail "journal: $(grep upstream "$DLOG" | tail -n 3)"

# A certificate for another name: refused, said why.
out=$(qfull wrong.test TXT)
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    ok "wrong name: SERVFAIL" || fail "wrong.test: $out"
grep -q "upstream tls://$DW_UP:853: certificate refused: hostname mismatch" \
    "$DLOG" && ok "journal: the name refused, and why" ||
    fail "journal: $(grep upstream "$DLOG" | tail -n 3)"

# Both bad ones first, then the good one: answered by the good one.
sleep 1.2	# past the bad ones' first back-off: both are asked again
out=$(qfull failover.test SOA)
[ "$(echo "$out" | rcode_of)" = NXDOMAIN ] &&
    echo "$out" | grep -q 'ns.test' &&
    ok "failover from the refused certificates to the good upstream" ||
    fail "failover.test: $out"

# Forty new names at once: one TLS connection carries them.
before=$(ustat num.query.tls)
n=$(ip netns exec "$GW" $PYTHON "$srcdir/regress/lib/dnsflood.py" \
    127.0.0.1 4453 burst 40 40 2>&1)
conns=$(ip netns exec "$WORLD" ss -Htn state established \
    "( sport = :853 )" | grep -c .)
after=$(ustat num.query.tls)
echo "$n" | grep -qw 40 && ok "forty names at once answered" ||
    fail "dnsflood: $n"
[ $((after - before)) -ge 40 ] &&
    ok "unbound saw $((after - before)) queries over TLS" ||
    fail "unbound: $((after - before)) queries over TLS"
[ "$conns" -eq 1 ] && ok "one TLS connection for all of them" ||
    fail "$conns TLS connections"
[ "$(ctl show map | grep -c "burst-")" -eq 40 ] &&
    ok "the forty names mapped" ||
    fail "burst names mapped: $(ctl show map | grep -c burst-)"

# The IPv6 upstream: UDP, then TCP for an answer too large for UDP.
u6=$(ustat num.query.ipv6)
r=$(q v6.test TXT)
[ "$r" = '"over ipv6"' ] && ok "IPv6 upstream over UDP" ||
    fail "v6.test TXT: '$r' $(tail -n 3 "$DLOG")"
tcp=$(ustat num.query.tcp)
r=$(q +tcp big.test TXT | tr -d '"' | tr ' ' '\n' | grep -c x)
[ "$r" -eq 8 ] && ok "IPv6 upstream over TCP: the large answer" ||
    fail "big.test TXT: $r strings"
[ "$(ustat num.query.tcp)" -gt "$tcp" ] &&
    ok "unbound: the large answer asked over TCP" ||
    fail "unbound: no TCP query ($(ustat num.query.tcp))"
[ "$(ustat num.query.ipv6)" -ge $((u6 + 2)) ] &&
    ok "unbound: both over IPv6" || fail "unbound: IPv6 $(ustat \
    num.query.ipv6), was $u6"
ctl show stats | grep -Eq "^\[$V6_UP\]:53 +up " &&
    ok "show stats: the IPv6 upstream" ||
    fail "show stats: $(ctl show stats | tail -n 6)"

# The upstream closes a connection with a query still on it, after the
# first answer: that query goes on a new connection, not to failure.
qfull a1.again.test TXT >"$T_TMP/again1" &
qfull a2.again.test TXT >"$T_TMP/again2"
wait $!
for i in 1 2; do
	[ "$(rcode_of <"$T_TMP/again$i")" = NOERROR ] &&
	    ok "closed with a query on it: answered ($i)" ||
	    fail "a$i.again.test: $(cat "$T_TMP/again$i")"
done
s=$(ctl -j show stats | $PYTHON -c '
import json, sys
for u in json.load(sys.stdin)["upstreams"]:
    if u["port"] == 9853:
        print(u["state"], u["answers"], u["failures"], u["timeouts"])')
[ "$s" = "up 2 0 0" ] && ok "that upstream up, two answers, no failure" ||
    fail "the closing upstream in show stats -j: $s"

alive "$DD" && ok "the dns process lives (its sandbox allows TLS)" ||
    fail "the dns process died: $(tail -n 5 "$DLOG")"

# An idle TLS connection is closed after 10 s; a query opens a new one.
tlsconns() {
	ip netns exec "$WORLD" ss -Htn state established "( sport = :853 )" |
	    grep -c .
}
no_tlsconns() {
	[ "$(tlsconns)" -eq 0 ]
}
wait_for 15 no_tlsconns && ok "the idle TLS connection closed" ||
    fail "$(tlsconns) TLS connections after 15 s idle"
r=$(q txt.upstream.test TXT)
[ "$r" = '"over tls"' ] && ok "a new connection made on demand" ||
    fail "txt.upstream.test again: '$r'"
[ "$(tlsconns)" -eq 1 ] && ok "one TLS connection again" ||
    fail "$(tlsconns) TLS connections"

dw_stop "$DP"

# A daemon started without a TLS upstream gets one by a reload: the
# certificates were read at start all the same.
dw_start reload <<EOF
dns listen 127.0.0.1 port 4454
proxy listen 127.0.0.1 port 4481
dns upstream $V6_UP
dns tls-ca "$T_TMP/ca.pem"
EOF
echo "dns upstream $DW_UP tls name \"upstream.test\"" >>"$DCF"
sed -i "/^dns upstream $V6_UP\$/d" "$DCF"
tls=$(ustat num.query.tls)
"$DNS44CTL" -s "$T_TMP/reload/ctl.sock" reload >/dev/null ||
    fail "reload refused"
r=$(DW_PORT=4454 q txt.upstream.test TXT)
[ "$r" = '"over tls"' ] && [ "$(ustat num.query.tls)" -gt "$tls" ] &&
    ok "a TLS upstream added by a reload answers over TLS" ||
    fail "after the reload: '$r' $(tail -n 3 "$DLOG")"
dw_stop "$DP"
exit $T_FAILED
