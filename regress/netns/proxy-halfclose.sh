#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-halfclose: a client sends, shuts down its writing side and still
# gets the answer the server sends only after it read that EOF; both ways
# are counted in the journal.  A connection where nothing moves is closed
# after the idle timeout.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve halfserver 7000
pw_start d <<EOF2
proxy tcp-idle-timeout 2s
EOF2

v=$(cl_q half.test A)
for n in 1 100000 3000000; do
	expect "$n bytes, then EOF, then the answer" \
	    "$(in_cl $PW_PROBE halfclient half.test 7000 $n 2>&1)" ok
done

# The answer is "got N <sha256>\n": 4 + 7 digits + 1 + 64 + 1 bytes.
f=$(flow TCP - half.test "$v" 7000)
logged "proxy: \[-\] $f sent 3000000 received 77 bytes in " &&
    ok "journal: 3000000 bytes sent, 77 received" ||
    fail "journal: $(grep -F "half.test" "$DLOG")"
expect "connections journaled as closed" \
    "$(grep -c -E "proxy: \[-\] $f sent" "$DLOG")" 3

# Idle: closed after 2 s, plus up to the 1 s sweep (and a loaded host).
out=$(in_cl $PW_PROBE closed half.test 7000 2>&1)
case $out in
eof\ [234].*)	ok "idle connection closed: $out" ;;
*)		fail "idle connection: $out, want eof after 2-4 s" ;;
esac
logged "proxy: \[-\] $f sent 0 received 0 bytes in [234]\." &&
    ok "journal: the idle connection" || fail "journal: no idle connection"

pw_stop
exit $T_FAILED
