#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-udp-queue: the datagrams that come while a UDP session is being
# set up wait for it, 32 at most.  The names under slow.test have their
# real addresses from a split DNS upstream that answers each query after
# 1.5 s (with `dns verify no` the client's own query is answered from the
# map at once), so a new session waits that long for its lookup.  A
# burst of 100 datagrams to such a name: the echo server returns the
# first 32, the rest were dropped (the session's debug line counts 68)
# and the [-] line counts 32 sent.  A second burst to the same name, from
# another port (a new session, its name's addresses known by now), and a
# burst to a name of the quick upstream come back whole.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup socat
ABUSE="$PW_PYTHON $srcdir/regress/lib/abuseprobe.py"
pw_dnsmasq
pw_serve udpecho 7
in_w $ABUSE anyupstream "$PW_W" 5353 "$PW_W" 1.5 >"$T_TMP/up.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" udp "$PW_W:5353" || die "no slow upstream"
pw_start d <<EOF2
log verbose
dns verify no
dns upstream $PW_W port 5353 for "slow.test"
proxy workers 1
proxy udp-idle-timeout 3s
EOF2

v=$(cl_q burst.slow.test A)
case $v in
172.24.*)	ok "burst.slow.test at once: $v" ;;
*)		die "burst.slow.test: \"$v\"" ;;
esac
out=$(in_cl $ABUSE udpburst "$v" 7 100 4)
expect "100 datagrams while the session waits 1.5 s for its lookup" \
    "$out" "echoed 32 of 100 first 0 last 31"
out=$(in_cl $ABUSE udpburst "$v" 7 100 2)
expect "100 more from another port, the addresses known" "$out" \
    "echoed 100 of 100 first 0 last 99"

q=$(cl_q echo.test A)
out=$(in_cl $ABUSE udpburst "$q" 7 20 2)
expect "20 to a name of the quick upstream" "$out" \
    "echoed 20 of 20 first 0 last 19"

# The first session: 32 datagrams of 7 and 8 bytes went on ("burst 0" to
# "burst 31"), 68 were dropped.
f=$(flow UDP - burst.slow.test "$v" 7)
logged "$f: 68 datagrams dropped" 8 &&
    ok "the first session's 68 dropped datagrams logged" ||
    fail "no count of dropped datagrams: $(grep -F burst.slow "$DLOG")"
logged "proxy: \[-\] $f sent 246 received 246 bytes in " 8 &&
    ok "its [-] line: 246 bytes each way, the 32 datagrams" ||
    fail "its [-] line: $(grep -F 'burst.slow' "$DLOG" | grep -F '[-]')"
pw_stop
exit $T_FAILED
