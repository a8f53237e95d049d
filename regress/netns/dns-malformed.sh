#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-malformed: malformed queries over UDP and TCP.  Datagrams too short
# for a header and responses (QR=1) get no reply; a header that parses
# with a bad question gets FORMERR, another opcode NOTIMP, another class
# REFUSED; after each, a normal query is answered by the same dns process.
# The packets are built by regress/lib/dnsprobe.py (malformed_cases).

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq --host-record=world.test,10.44.2.77

dw_start mal <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
dns tcp-idle-timeout 1s
EOF

a=$(q before.test A)
in_range "$a" || die "no answer to a normal A query before: $(cat "$DLOG")"

# relay FILE: dnsprobe's ok/FAIL lines as this test's.
relay() {
	while read -r st msg; do
		case $st in
		ok:)	ok "$msg" ;;
		*)	fail "$msg" ;;
		esac
	done <"$1"
}

for proto in udp tcp; do
	ip netns exec "$GW" $DNSPROBE malformed "$proto" 127.0.0.1 4453 \
	    --name-prefix "$proto-" >"$T_TMP/$proto.out" 2>&1
	relay "$T_TMP/$proto.out"
done

# The same by hand, a packet in hex: QDCOUNT 0, then opcode 5 (UPDATE).
ip netns exec "$GW" $DNSPROBE send udp 127.0.0.1 4453 \
    123401000000000000000000 --expect-rcode FORMERR >"$T_TMP/send.out" &&
    ok "send: QDCOUNT 0 in hex: FORMERR" ||
    fail "send: QDCOUNT 0 in hex: $(cat "$T_TMP/send.out")"
ip netns exec "$GW" $DNSPROBE send tcp 127.0.0.1 4453 \
    432128000001000000000000017804746573740000010001 \
    --expect-rcode NOTIMP >"$T_TMP/send.out" &&
    ok "send: opcode 5 over TCP in hex: NOTIMP" ||
    fail "send: opcode 5 over TCP: $(cat "$T_TMP/send.out")"

# A burst of garbage datagrams of every length up to 600 bytes, then a
# normal query: still answered.
ip netns exec "$GW" $PYTHON -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(0, 600):
    s.sendto(os.urandom(n), ("127.0.0.1", 4453))
'
sleep 0.5
a=$(q after-garbage.test A)
in_range "$a" && ok "600 random datagrams, then a normal query answered" ||
    fail "600 random datagrams: normal query: \"$a\""

# Still the same process, still answering, nothing fatal logged.
expect_pid=$(child_pid "$DP" dns)
[ "$expect_pid" = "$DD" ] && alive "$DD" &&
    ok "the dns process is still pid $DD" ||
    fail "the dns process was pid $DD, now \"$expect_pid\""
alive "$DP" && ok "the parent still runs" || fail "the parent is gone"
a=$(q after.test A)
in_range "$a" && ok "a normal A query answered at the end: $a" ||
    fail "no answer at the end: \"$a\""
b=$(q before.test A)
[ "$b" = "$(q before.test A)" ] && [ -n "$b" ] &&
    ok "before.test still has one address" ||
    fail "before.test: \"$b\""
grep -Ei 'fatal|killed by signal|exited|sanitizer' "$DLOG" &&
    fail "the log shows a death"
dw_stop "$DP"
exit $T_FAILED
