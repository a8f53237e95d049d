#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-via: routes through a SOCKS5 or an HTTP proxy in the world.  The
# servers' own logs show that they were asked for the name, never an
# address (microsocks names what it connected to, danted at debug level
# the request's ATYP and address, tinyproxy the CONNECT line), and the
# client gets the page and a 10 MB file through each.  User and password
# (microsocks -u/-P, tinyproxy's BasicAuth); UDP through danted's UDP
# ASSOCIATE, and microsocks refusing it; a UDP relay a server names on
# the gateway's loopback refused, one it names 0.0.0.0 found at the
# server's own address; UDP via http refused; a dead
# server, one that speaks no SOCKS5, a wrong password and an HTTP 407:
# the client's connection is reset, the journal says why, the daemon
# lives.  The journal's [+] lines end with the route.  A reload that moves
# a name from direct to SOCKS5 leaves a connection made before it flowing
# directly, and sends the next one through microsocks.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx socat microsocks danted tinyproxy
hosts=
for n in ms auth noauth dante http http407 dead junk first move; do
	hosts="$hosts --host-record=$n.test,$PW_W"
done
pw_dnsmasq --local-ttl=300 $hosts
pw_world_resolver
pw_nginx
pw_serve udpecho 7

# microsocks, with and without a user; it has no UDP ASSOCIATE.
in_w microsocks -i "$PW_W" -p 1080 >"$T_TMP/ms.log" 2>&1 &
T_PIDS="$T_PIDS $!"
in_w microsocks -i "$PW_W" -p 1082 -u user -P secret \
    >"$T_TMP/ms-auth.log" 2>&1 &
T_PIDS="$T_PIDS $!"

# danted, logging each request as it came (debug), UDP included.
pw_danted "$PW_W" 1081 "$PW_W"

# tinyproxy, wanting a user.
cat >"$T_TMP/tinyproxy.conf" <<EOF
Port 3128
Listen $PW_W
Timeout 30
LogFile "$T_TMP/tinyproxy.log"
LogLevel Info
MaxClients 64
Allow 10.46.0.0/16
BasicAuth user secret
EOF
in_w tinyproxy -d -c "$T_TMP/tinyproxy.conf" >"$T_TMP/tinyproxy.out" 2>&1 &
T_PIDS="$T_PIDS $!"

# scripted NAME PORT: a server on $PW_W:PORT that runs the script on
# stdin for each connection, its stdin and stdout the connection.
scripted() {
	cat >"$T_TMP/$1.sh"
	in_w socat TCP-LISTEN:"$2",bind="$PW_W",reuseaddr,fork \
	    EXEC:"sh $T_TMP/$1.sh" >"$T_TMP/$1.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
}

# A server that answers a SOCKS5 greeting with HTTP.
scripted junk 1090 <<'EOF'
head -c 3 >/dev/null
printf 'HTTP/1.0 400 Bad Request\r\n\r\n'
sleep 1
EOF

# One that sends its replies and the tunnel's first bytes at once, then
# reads the 20 bytes of greeting and request and closes: those bytes are
# the client's.
scripted first 1091 <<'EOF'
printf '\005\000\005\000\000\001\012\056\002\002\000\120tunnel first'
head -c 20 >/dev/null
EOF

# One whose UDP ASSOCIATE names a relay on the gateway's own loopback,
# where a UDP echo listens: the relay is refused as a destination would
# be, and the echo hears nothing.
scripted relay 1092 <<'EOF'
head -c 3 >/dev/null
printf '\005\000'
head -c 10 >/dev/null
printf '\005\000\000\001\177\000\000\001\000\007'
sleep 3
EOF
# One that names its relay 0.0.0.0, port 7 (RFC 1928: the address the
# request went to), where the world's UDP echo sends each datagram back
# with its SOCKS5 header.
scripted anyrelay 1093 <<'EOF'
head -c 3 >/dev/null
printf '\005\000'
head -c 10 >/dev/null
printf '\005\000\000\001\000\000\000\000\000\007'
sleep 5
EOF
in_gw $PW_PROBE udpecho 127.0.0.1 7 >"$T_TMP/gwecho.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$GW" udp 127.0.0.1:7 || die "no echo on loopback"

for p in 1080 1081 1082 1090 1091 1092 1093 3128; do
	wait_for 5 pw_listening "$WORLD" tcp "$PW_W:$p" ||
	    die "nothing listens on $PW_W:$p: $(cat "$T_TMP"/*.out)"
done

pw_start d <<EOF
proxy udp-idle-timeout 2s
route to "ms.test" via socks5 $PW_W port 1080
route to "auth.test" via socks5 $PW_W port 1082 user "user" password "secret"
route to "noauth.test" via socks5 $PW_W port 1082
route to "dante.test" via socks5 $PW_W port 1081
route to "http.test" via http $PW_W port 3128 user "user" password "secret"
route to "http407.test" via http $PW_W port 3128
route to "dead.test" via socks5 $PW_W port 1089
route to "junk.test" via socks5 $PW_W port 1090
route to "first.test" via socks5 $PW_W port 1091
route to "relay.test" via socks5 $PW_W port 1092
route to "anyrelay.test" via socks5 $PW_W port 1093
EOF

big=$(sha256sum <"$PW_WWW/big" | cut -d' ' -f1)

# get NAME: the page and the 10 MB file through the route; the [+] line.
get() {
	v=$(cl_q "$1" A)
	expect "$1: page" "$(in_cl curl -s --max-time 10 "http://$1/")" \
	    "$(cat "$PW_WWW/index.html")"
	set -- "$1" "$2" $(in_cl curl -s --max-time 20 -o "$T_TMP/big.got" \
	    -w '%{http_code} %{local_port}' "http://$1/big")
	expect "$1: 10 MB file" "${3:-none} $(sha256sum <"$T_TMP/big.got" |
	    cut -d' ' -f1)" "200 $big"
	logged "proxy: \[\+\] $(flow TCP "${4:-0}" "$1" "$v" 80) \
$(re "$2")\$" && ok "$1: journal: [+] ... $2" ||
	    fail "$1: no [+] line ending with \"$2\":" \
	    "$(grep -F "$1" "$DLOG")"
}

# refused NAME ROUTE WHY: the connection is reset, the journal says why.
refused() {
	expect "$1: the client's connection" \
	    "$(in_cl $PW_PROBE fetch "$1" 80 2>&1)" reset
	logged "proxy: $(flow TCP - "$1" "$(cl_q "$1" A)" 80) $(re "$2: $3")" &&
	    ok "$1: journal: $2: $3" ||
	    fail "$1: no line \"$2: $3\": $(grep -F "$1" "$DLOG")"
	# The next line of the kind is not held back by the rate limit.
	sleep 1.1
}

get ms.test "via socks5 $PW_W:1080"
grep -q "connected to ms\.test:80$" "$T_TMP/ms.log" &&
    ok "microsocks: connected to ms.test:80" ||
    fail "microsocks did not log the name: $(cat "$T_TMP/ms.log")"
grep -E -q "connected to [0-9.]+:" "$T_TMP/ms.log" &&
    fail "microsocks was given an address: $(cat "$T_TMP/ms.log")"

get auth.test "via socks5 $PW_W:1082"
grep -q "connected to auth\.test:80$" "$T_TMP/ms-auth.log" &&
    ok "microsocks -u: connected to auth.test:80" ||
    fail "microsocks -u: $(cat "$T_TMP/ms-auth.log")"

get dante.test "via socks5 $PW_W:1081"
grep -q "CMD: 1 FLAG: 0 ATYP: 3 address: dante\.test\.80 *$" \
    "$T_TMP/danted.log" && ok "danted: CONNECT, ATYP 3, dante.test.80" ||
    fail "danted was not asked for dante.test: $(grep "CMD: 1" \
    "$T_TMP/danted.log")"
grep -q "Packet: VER: 5 CMD: 1 FLAG: 0 ATYP: 1 " "$T_TMP/danted.log" &&
    fail "danted was asked for an address"

get http.test "via http $PW_W:3128"
grep -q "CONNECT http\.test:80 HTTP/1\.1" "$T_TMP/tinyproxy.log" &&
    ok "tinyproxy: CONNECT http.test:80" ||
    fail "tinyproxy: $(cat "$T_TMP/tinyproxy.log")"

# UDP through danted's relay: the echoes come back, the header is gone.
d=$(cl_q dante.test A)
out=$(in_cl $PW_PROBE udpclient dante.test 7 20 2>&1)
case $out in
"echoed 20 of 20 from port "*)	ok "UDP via danted: $out" ;;
*)				fail "UDP via danted: $out" ;;
esac
logged "proxy: \[\+\] $(flow UDP "${out##* }" dante.test "$d" 7) \
$(re "via socks5 $PW_W:1081")\$" && ok "journal: [+] UDP via socks5" ||
    fail "journal: no [+] UDP line: $(grep -F dante.test "$DLOG")"
# The headers are not the client's bytes: 10 datagrams of 75, 10 of 76.
logged "proxy: \[-\] $(flow UDP "${out##* }" dante.test "$d" 7) \
$(re "via socks5 $PW_W:1081") sent 1510 received 1510 bytes in " 5 &&
    ok "journal: [-] UDP line, 1510 bytes each way" ||
    fail "journal: no [-] UDP line with 1510 bytes each way:" \
    "$(grep -F dante.test "$DLOG")"
grep -q "CMD: 3 FLAG: 0 ATYP: 1 address: 0\.0\.0\.0\.0" \
    "$T_TMP/danted.log" && ok "danted: UDP ASSOCIATE" ||
    fail "danted: no UDP ASSOCIATE"
grep -q "for target dante\.test\.7$" "$T_TMP/danted.log" &&
    ok "danted: datagrams to dante.test.7" ||
    fail "danted: no datagram named dante.test.7"

# UDP where it cannot go: microsocks refuses, HTTP has none.
in_cl $PW_PROBE ufetch ms.test 7 >/dev/null 2>&1
logged "proxy: $(flow UDP - ms.test "$(cl_q ms.test A)" 7): \
$(re "udp via socks5 $PW_W:1080 refused: command not supported")" &&
    ok "journal: UDP via microsocks refused" ||
    fail "journal: no refusal of UDP via microsocks:" \
    "$(grep -F "ms.test" "$DLOG")"
in_cl $PW_PROBE ufetch http.test 7 >/dev/null 2>&1
logged "proxy: $(flow UDP - http.test "$(cl_q http.test A)" 7): \
$(re "udp via http $PW_W:3128 refused: ")" &&
    ok "journal: UDP via http refused" ||
    fail "journal: no refusal of UDP via http: $(grep -F "http.test" \
    "$DLOG")"

expect "UDP via a relay on the gateway's loopback" \
    "$(in_cl $PW_PROBE ufetch relay.test 7 2>&1)" nothing
logged "proxy: $(flow UDP - relay.test "$(cl_q relay.test A)" 7): \
$(re "udp via socks5 $PW_W:1092 refused: relay 127.0.0.1:7: refused by \
127.0.0.0/8 (built-in)")" && ok "journal: the loopback relay refused" ||
    fail "journal: no refusal of the loopback relay:" \
    "$(grep -F "relay.test" "$DLOG")"

out=$(in_cl $PW_PROBE udpclient anyrelay.test 7 20 2>&1)
case $out in
"echoed 20 of 20 from port "*)
	ok "UDP via a relay named 0.0.0.0: $out" ;;
*)	fail "UDP via a relay named 0.0.0.0, its port taken: $out" ;;
esac

expect "the bytes after the reply" \
    "$(in_cl $PW_PROBE fetch first.test 80 2>&1)" "data tunnel first"

# A reload moves move.test from direct to microsocks while a connection
# to it echoes a line every 50 ms, its count of echoed bytes in a file.
in_w socat TCP-LISTEN:7001,bind=$PW_W,reuseaddr,fork PIPE \
    >"$T_TMP/echo.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7001" || die "no echo server"
vm=$(cl_q move.test A)
in_cl $PW_PROBE echoloop "$vm" 7001 "$T_TMP/move.n" 5 >"$T_TMP/move.out" 2>&1 &
MV_PID=$!
T_PIDS="$T_PIDS $MV_PID"
msize() { cat "$T_TMP/move.n" 2>/dev/null || echo 0; }
mstarted() { [ "$(msize)" -ge 1000 ]; }
wait_for 5 mstarted || fail "the echo did not start: $(cat "$T_TMP/move.out")"
logged "proxy: \[\+\] $(flow TCP - move.test "$vm" 7001)$(to_w 7001)\$" &&
    ok "move.test: the first connection direct" ||
    fail "move.test: no direct [+] line: $(grep -F move.test "$DLOG")"
echo "route to \"move.test\" via socks5 $PW_W port 1080" >>"$DCF"
kill -HUP "$DP"
wait_for 5 grep -q "dns: rules: 12 rules" "$DLOG" ||
    fail "no reload: $(tail -n 5 "$DLOG")"
s1=$(msize)
sleep 1
s2=$(msize)
[ "$s2" -gt "$s1" ] && ok "the open connection moves: $s1 -> $s2 bytes" ||
    fail "the open connection stopped at $s1 bytes"
get move.test "via socks5 $PW_W:1080"
grep -q "connected to move\.test:80$" "$T_TMP/ms.log" &&
    ok "after the reload, microsocks: connected to move.test:80" ||
    fail "after the reload, microsocks: $(cat "$T_TMP/ms.log")"
wait "$MV_PID"
case $(cat "$T_TMP/move.out") in
"echoed "*)	ok "the connection lived across the reload: $(cat "$T_TMP/move.out")" ;;
*)		fail "the connection across the reload: $(cat "$T_TMP/move.out")" ;;
esac
grep -q "connected to move\.test:7001" "$T_TMP/ms.log" &&
    fail "the connection made before the reload went through microsocks"

# Failures: a reset each, and why.
refused noauth.test "via socks5 $PW_W:1082" "no method accepted"
refused http407.test "via http $PW_W:3128" "HTTP status 407"
refused junk.test "via socks5 $PW_W:1090" "not a SOCKS5 server"
refused dead.test "via socks5 $PW_W:1089" \
    "dial $PW_W:1089: Connection refused"

alive "$DP" && alive "$DX" && ok "the daemon lives" ||
    fail "the daemon died: $(tail -5 "$DLOG")"
pw_stop
exit $T_FAILED
