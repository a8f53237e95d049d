#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# journal-stop: when dns44 stops, every connection and UDP session still
# open gets its [-] line, with its bytes and the real address, before the
# proxy exits.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve halfserver 7000
pw_serve udpecho 7
pw_start d </dev/null

pin=$(cl_q pin.test A)
echo=$(cl_q echo.test A)
for i in 1 2 3; do
	in_cl $PW_PROBE hold pin.test 7000 30 >"$T_TMP/hold$i" 2>&1 &
	T_PIDS="$T_PIDS $!"
done
f=$(flow TCP - pin.test "$pin" 7000)
opened() {
	[ "$(grep -c -E "proxy: \[\+\] $f$(to_w 7000)\$" "$DLOG")" -eq 3 ]
}
wait_for 5 opened || fail "three connections did not open"
# A session stays after its client is done, until it is idle for long.
in_cl $PW_PROBE udpclient echo.test 7 2 >/dev/null 2>&1 ||
    fail "UDP echo through the proxy"
logged "proxy: \[\+\] $(flow UDP - echo.test "$echo" 7)$(to_w 7)\$" ||
    fail "the UDP session did not open"
expect "[-] lines before the stop" "$(grep -c 'proxy: \[-\]' "$DLOG")" 0

pw_stop
expect "TCP [-] lines at the stop" \
    "$(grep -c -E "proxy: \[-\] $f sent 0 received 0 bytes in \
[0-9.]+s$(to_w 7000)\$" "$DLOG")" 3
expect "UDP [-] line at the stop" \
    "$(grep -c -E "proxy: \[-\] $(flow UDP - echo.test "$echo" 7) \
sent [0-9]+ received [0-9]+ bytes in [0-9.]+s$(to_w 7)\$" "$DLOG")" 1
exit $T_FAILED
