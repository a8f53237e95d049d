#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-edns: the cases of the public EDNS compliance tests, asked with
# kdig (and, for what kdig cannot send, a raw query) of answers made
# here, blocked, passed and forwarded.  Version 0
# is answered with an OPT of version 0 that echoes DO and nothing else;
# a higher version gets BADVERS and is not forwarded (RFC 6891 6.1.3);
# CD is echoed; TCP is answered whole whatever the buffer size said; an
# unknown opcode gets NOTIMP without RA.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup

BIG=$(printf '%0250d' 0 | tr 0 x)
set --
i=10
while [ $i -lt 22 ]; do		# 12 strings of 252 bytes: ~3200 bytes
	set -- "$@" "--txt-record=big.test,$i$BIG"
	i=$((i + 1))
done
dw_dnsmasq --host-record=world.test,10.44.2.77 \
    --mx-host=mx.test,mail.mx.test,10 \
    --txt-record=x.blocked.test,"blocked" \
    --host-record=x.passed.test,10.44.2.78 \
    "$@"

dw_start main <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
table <blocked> { "blocked.test" }
table <passed> { "passed.test" }
block to <blocked>
pass to <passed>
EOF

expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# edns_of: the EDNS line of a full kdig output ("Version: 0; flags: do;
# UDP size: 1232 B; ext-rcode: NOERROR"), or "none".
edns_of() {
	awk '/^;; EDNS PSEUDOSECTION/ { getline; sub(/^;; /, ""); print;
	    found = 1 } END { if (!found) print "none" }'
}

# asked NAME: how many queries for NAME the upstream saw.
asked() {
	grep -c "query\[[A-Z]*\] $1 " "$DW_DNSMASQ_LOG"
}

# The questions: made here, blocked, passed and forwarded.
QS="world.test:A world.test:AAAA mx.test:MX x.blocked.test:TXT
x.passed.test:A"

# plain and edns: version 0 or none.
out=$(qfull +noedns world.test A)
expect "plain" "$(echo "$out" | rcode_of) $(echo "$out" | edns_of)" \
    "NOERROR none"
for nq in $QS; do
	n=${nq%:*} t=${nq#*:}
	want=NOERROR
	[ "$n" = x.blocked.test ] && want=NXDOMAIN
	out=$(qfull +edns=0 +nocookie "$n" "$t")
	expect "edns $n $t" "$(echo "$out" | rcode_of); $(echo "$out" |
	    edns_of)" "$want; Version: 0; flags: ; UDP size: 1232 B; ext-rcode: NOERROR"
done

# edns1, edns1opt, edns1flags: BADVERS, version 0, nothing asked upstream.
for nq in $QS; do
	n=v1.${nq%:*} t=${nq#*:}
	[ "$n" = v1.x.blocked.test ] && n=x.blocked.test
	[ "$n" = v1.x.passed.test ] && n=y.passed.test
	before=$(asked "$n")
	for extra in "" "+ednsopt=100:" "+cdflag" "+dnssec" "+tcp"; do
		out=$(qfull +edns=1 +nocookie $extra "$n" "$t")
		do=
		[ "$extra" = +dnssec ] && do=do
		expect "edns1 $extra $n $t" "$(echo "$out" | rcode_of); $(echo \
		    "$out" | edns_of)" "BADVERS; Version: 0; flags: $do; UDP size: 1232 B; ext-rcode: BADVERS"
		expect "edns1 $extra $n $t: no answer" \
		    "$(echo "$out" | sed -n 's/.*ANSWER: \([0-9]*\).*/\1/p')" 0
	done
	expect "edns1 $n $t: not forwarded" "$(asked "$n")" "$before"
done
expect "edns1: nothing mapped" "$(tdbdump "$DB" | grep -c 'v1\.')" 0

# ednsopt, optlist: answered, no option echoed.
for nq in $QS; do
	n=${nq%:*} t=${nq#*:}
	out=$(qfull +edns=0 +ednsopt=100: +nsid +subnet=0.0.0.0/0 \
	    +cookie=0102030405060708 +expire "$n" "$t")
	expect "ednsopt, optlist $n $t: options echoed" \
	    "$(echo "$out" | grep -ciE '^;; (option|nsid|client-subnet|cookie|expire)')" 0
	expect "ednsopt, optlist $n $t: answered" \
	    "$(echo "$out" | rcode_of | grep -cE '^(NOERROR|NXDOMAIN)$')" 1
done

# rawopt NAME TYPE VERSION FLAGS: a query whose OPT has that version and
# flags (kdig sets no flag but DO); prints the reply's "rcode extended
# version flags rdlength" of its OPT, the last record.
rawopt() {
	ip netns exec "$GW" $PYTHON -c "import socket, struct, sys
n, t, v, f = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4], 0)
q = struct.pack('!HHHHHH', 0x4321, 0x0100, 1, 0, 0, 1)
for l in n.split('.'):
    q += bytes([len(l)]) + l.encode()
q += b'\0' + struct.pack('!HH', t, 1)
q += b'\0' + struct.pack('!HHBBHH', 41, 1232, 0, v, f, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, ('127.0.0.1', 4453))
r = s.recv(4096)
ext, ver, fl, rdl = struct.unpack('!BBHH', r[-6:])
print(r[3] & 15, ext, ver, '0x%04x' % fl, rdl)" "$@"
}

# do: echoed.  ednsflags, edns1flags: not echoed.  cd: echoed.
for nq in $QS; do
	n=${nq%:*} t=${nq#*:}
	tn=1
	[ "$t" = AAAA ] && tn=28
	[ "$t" = MX ] && tn=15
	[ "$t" = TXT ] && tn=16
	rc=0
	[ "$n" = x.blocked.test ] && rc=3
	expect "do $n $t" "$(qfull +dnssec "$n" "$t" | edns_of |
	    sed 's/; UDP.*//')" "Version: 0; flags: do"
	expect "ednsflags $n $t" "$(rawopt "$n" "$tn" 0 0x40)" \
	    "$rc 0 0 0x0000 0"
	expect "ednsflags with DO $n $t" "$(rawopt "$n" "$tn" 0 0xffff)" \
	    "$rc 0 0 0x8000 0"
	expect "edns1flags $n $t" "$(rawopt "z1.$n" "$tn" 1 0x40)" \
	    "0 1 0 0x0000 0"
	expect "cd $n $t" "$(qfull +cdflag "$n" "$t" | flags_of |
	    grep -c '\<cd\>')" 1
done

# edns@512 over TCP: whole.  Over UDP: TC.
out=$(qfull +tcp +bufsize=512 big.test TXT)
expect "TCP, bufsize 512: answers" \
    "$(echo "$out" | sed -n 's/.*ANSWER: \([0-9]*\).*/\1/p')" 12
expect "TCP, bufsize 512: TC" "$(echo "$out" | flags_of | grep -c '\<tc\>')" 0
out=$(qfull +notcp +bufsize=512 big.test TXT)
expect "UDP, bufsize 512: TC" "$(echo "$out" | flags_of | grep -c '\<tc\>')" 1

# opcode: NOTIMP, opcode and RD copied, no RA.  A QUERY's FORMERR keeps RA.
for op in 1 2 3 6 15; do
	hex=$($PYTHON -c "import struct, sys
op = int(sys.argv[1])
sys.stdout.write((struct.pack('!HHHHHH', 0x1234, op << 11 | 0x0100 | 0x30,
    1, 0, 0, 0) + b'\x05world\x04test\x00\x00\x06\x00\x01').hex())" "$op")
	out=$(ip netns exec "$GW" $DNSPROBE send udp 127.0.0.1 4453 "$hex" \
	    --expect-rcode NOTIMP)
	expect "opcode $op" "$(echo "$out" | awk 'NR == 1 { print $4, $6, $8 }')" \
	    "$op NOTIMP qr,rd"
done
out=$(ip netns exec "$GW" $DNSPROBE send udp 127.0.0.1 4453 \
    123401000002000000000000 --expect-rcode FORMERR)
expect "QUERY, FORMERR" "$(echo "$out" | awk 'NR == 1 { print $6, $8 }')" \
    "FORMERR qr,rd,ra"

dw_stop "$DP"
exit $T_FAILED
