#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# tproxy: dns44-tproxy in a namespace of the test's own.  add twice leaves
# the rule, the local route and the TPROXY rules once each, and traffic to
# the range reaches a running dns44; del twice removes them all, without
# an error.  With nft (the default) and with iptables (-i); a range given
# as "first - last", a change of range, and -r/-p/-a without a file.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new

TPROXY=$builddir/etc/dns44-tproxy
[ -s "$TPROXY" ] || die "$TPROXY was not generated"
command -v nft >/dev/null 2>&1 || die "nft is not installed"

CF=$(conf_write tp </dev/null)

tp() {
	ip netns exec "$NS" env DNS44="$DNS44" sh "$TPROXY" "$@"
}

# count PATTERN TEXT: the number of lines of TEXT matching PATTERN.
count() {
	printf '%s\n' "$2" | grep -c -- "$1"
}

rules() { ip -n "$NS" -4 rule show; }
routes() { ip -n "$NS" -4 route show table 44 2>/dev/null; }
nftable() { ip netns exec "$NS" nft list table ip dns44 2>/dev/null; }
ipt() { ip netns exec "$NS" iptables -w -t mangle "$@" 2>/dev/null; }

# once WHAT PATTERN TEXT: exactly one line of TEXT matches.
once() {
	n=$(count "$2" "$3")
	[ "$n" -eq 1 ] && ok "$1" || fail "$1: $n lines match \"$2\" in:
$3"
}

none() {
	n=$(count "$2" "$3")
	[ "$n" -eq 0 ] && ok "$1" || fail "$1: $n lines match \"$2\" in:
$3"
}

# Does a TCP connection and a UDP datagram to the range reach dns44?
reaches() {	# reaches ADDRESS PORT
	# socat's status is not asked: the proxy, knowing no name for the
	# address, resets the connection, at times before socat is done.
	ip netns exec "$NS" socat -u OPEN:/dev/null \
	    "TCP4:$1:$2,connect-timeout=5" 2>/dev/null
	wait_for 10 grep -qF "TCP 127.0.0.1:" "$LOG" &&
	    wait_for 10 grep -qF "[$1]:$2" "$LOG"
}

command -v socat >/dev/null 2>&1 || die "socat is not installed"

for mode in nft iptables; do
	if [ $mode = iptables ]; then
		if ! command -v iptables >/dev/null 2>&1; then
			echo "skipped: iptables is not installed"
			continue
		fi
		I=-i
	else
		I=
	fi
	# A daemon for each: the proxy logs an unknown address only so often.
	LOG=$T_TMP/tp/log.$mode
	daemon_start "$NS" "$CF" "$LOG"
	wait_for 5 daemon_ready "$D_PID" ||
	    { cat "$LOG"; die "dns44 did not start"; }

	tp add $I -f "$CF" && tp add $I -f "$CF" ||
	    fail "$mode: add failed"
	once "$mode: one rule" "from all to 172.24.0.0/16 lookup 44\$" "$(rules)"
	r=$(routes)
	once "$mode: one local route" \
	    "^local 172.24.0.0/16 dev lo .*src 127.0.0.1" "$r"
	[ "$(count . "$r")" -eq 1 ] || fail "$mode: table 44 holds: $r"
	if [ $mode = nft ]; then
		once "nft: one TPROXY rule" \
		    "ip daddr 172.24.0.0/16 meta l4proto { tcp, udp } tproxy to 127.0.0.1:4480 meta mark set 0x0000002c" \
		    "$(nftable)"
	else
		once "iptables: one jump to DNS44" "^-A PREROUTING -j DNS44\$" \
		    "$(ipt -S PREROUTING)"
		c=$(ipt -S DNS44)
		for p in tcp udp; do
			once "iptables: one $p TPROXY rule" \
			    "^-A DNS44 -d 172.24.0.0/16 -p $p -j TPROXY --on-port 4480 --on-ip 127.0.0.1 --tproxy-mark 0x2c/0xffffffff\$" \
			    "$c"
		done
		[ "$(count '^-A' "$c")" -eq 2 ] || fail "iptables: DNS44 holds: $c"
		nftable >/dev/null && fail "iptables: an nft table too"
	fi
	port=8044
	reaches 172.24.0.5 "$port" &&
	    ok "$mode: TCP to 172.24.0.5:$port reaches dns44's proxy" ||
	    fail "$mode: TCP to the range does not reach dns44: $(tail -n 3 "$LOG")"
	echo hello | ip netns exec "$NS" socat -u - "UDP4:172.24.0.6:$port"
	wait_for 10 grep -qF "UDP 127.0.0.1:" "$LOG" &&
	    wait_for 10 grep -qF "[172.24.0.6]:$port" "$LOG" &&
	    ok "$mode: UDP to 172.24.0.6:$port reaches dns44's proxy" ||
	    fail "$mode: UDP to the range does not reach dns44"

	tp del $I && tp del $I || fail "$mode: del failed"
	none "$mode: no rule left" "lookup 44" "$(rules)"
	[ -z "$(routes)" ] && ok "$mode: no route left" ||
	    fail "$mode: routes left: $(routes)"
	if [ $mode = nft ]; then
		nftable >/dev/null && fail "nft: table ip dns44 left" ||
		    ok "nft: no table left"
	else
		none "iptables: no jump left" "DNS44" "$(ipt -S PREROUTING)"
		ipt -S DNS44 >/dev/null && fail "iptables: chain DNS44 left" ||
		    ok "iptables: no chain left"
	fi
	ip netns exec "$NS" socat -u OPEN:/dev/null \
	    TCP4:172.24.0.5:80,connect-timeout=1 2>/dev/null &&
	    fail "$mode: the range is still reachable after del" ||
	    ok "$mode: the range is unreachable after del"
	kill "$D_PID"
	wait "$D_PID"
done

# A range as first - last: the prefixes that cover it exactly; then back
# to a prefix, which replaces them.
CF2=$(printf 'range 172.24.0.1 - 172.24.3.254\n' | conf_write tp2)
tp add -f "$CF2" && tp add -f "$CF2" || fail "first - last: add failed"
r=$(routes)
n=$(count "^local " "$r")
# 0.1/32 0.2/31 ... 0.128/25, 1.0/24 2.0/24, 3.0/25 3.128/26 ... 3.254/32
[ "$n" -eq 18 ] && [ "$(count "^local 172.24.1.0/24 " "$r")" -eq 1 ] &&
    [ "$(count "^local 172.24.0.1 " "$r")" -eq 1 ] &&
    [ "$(count "^local 172.24.3.254 " "$r")" -eq 1 ] &&
    [ "$(count "lookup 44" "$(rules)")" -eq 18 ] &&
    ok "first - last: 18 prefixes, routes and rules" ||
    fail "first - last: $n routes: $r"
once "first - last: nft matches the range" \
    "ip daddr 172.24.0.1-172.24.3.254 meta l4proto" "$(nftable)"
tp add -f "$CF" || fail "back to the prefix: add failed"
[ "$(routes | wc -l)" -eq 1 ] && [ "$(count "lookup 44" "$(rules)")" -eq 1 ] &&
    ok "a new range replaces the old one" ||
    fail "after a change of range: $(routes) $(rules)"

# -r, -p and -a without a file; a bad range changes nothing.
tp add -r 10.99.0.0/24 -p 5000 -a 127.0.0.2 || fail "-r -p -a: add failed"
once "-r: the rule" "from all to 10.99.0.0/24 lookup 44\$" "$(rules)"
once "-p -a: the TPROXY target" "tproxy to 127.0.0.2:5000" "$(nftable)"
before=$(rules; routes; nftable)
tp add -r 10.99.0.1/24 2>/dev/null && fail "host bits set: accepted"
tp add -r bogus 2>/dev/null && fail "bogus range: accepted"
[ "$before" = "$(rules; routes; nftable)" ] &&
    ok "a bad range is refused and changes nothing" ||
    fail "a bad range changed the rules"
tp del || fail "del"
[ -z "$(routes)" ] && ! nftable >/dev/null && ok "del: all gone" ||
    fail "del: something left"
