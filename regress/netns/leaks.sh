#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# leaks: run only in a build with sanitizers.  All three processes get
# work of every kind (DNS over UDP and TCP, forwarded and local answers,
# TCP and UDP through the proxy, an unmapped address, every dns44ctl
# command, a reload), then stop cleanly, and LeakSanitizer, which checks
# each process as it exits, must find nothing.  The children run in the
# leak check mode of such builds (DNS44_LEAKCHECK): without their chroot
# and seccomp filter, which keep LeakSanitizer from stopping threads.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx socat
pw_dnsmasq
pw_nginx
pw_serve udpecho 7
export DNS44_LEAKCHECK=1 ASAN_OPTIONS=detect_leaks=1
pw_start d <<EOF2
proxy udp-idle-timeout 1s
EOF2
SOCK=$T_TMP/d/ctl.sock
ctl() { "$DNS44CTL" -s "$SOCK" "$@" >/dev/null; }

grep -q "leak check mode" "$DLOG" ||
    die "no leak check mode: not a build with sanitizers? $(cat "$DLOG")"
DD=$(child_pid "$DP" dns)
for p in "$DP" "$DD" "$DX"; do
	tr '\0' '\n' <"/proc/$p/environ" | grep -q '^ASAN_OPTIONS=.*detect_leaks=1' &&
	    ok "pid $p: leaks are checked at exit" ||
	    fail "pid $p: ASAN_OPTIONS without detect_leaks=1"
done

# DNS: the map, the local answers, the forwarded ones, TCP.
v=$(cl_q site.test A)
case $v in
172.24.*)	ok "site.test is $v" ;;
*)		die "site.test: \"$v\"" ;;
esac
expect "AAAA: no answer" "$(cl_q site.test AAAA)" ""
expect "PTR of $v" "$(cl_q -x "$v")" "site.test."
cl_q site.test MX >/dev/null
cl_q site.test TXT >/dev/null
expect "A over TCP" "$(cl_q +tcp site.test A)" "$v"
direct=$(in_w kdig @"$PW_W" +timeout=2 +retry=0 nosuch.invalid MX 2>&1 |
    sed -n 's/.*status: \([A-Z0-9]*\).*/\1/p' | head -n 1)
expect "an error rcode forwarded as it is" "$(cl_rcode nosuch.invalid MX)" \
    "${direct:-none}"
i=0
while [ $i -lt 50 ]; do
	cl_q "n$i.test" A >/dev/null
	i=$((i + 1))
done

# The proxy: a page, a UDP echo, an address no name has.
expect "page through the proxy" "$(in_cl curl -s --max-time 10 \
    http://site.test/)" "$(cat "$PW_WWW/index.html")"
out=$(in_cl $PW_PROBE udpclient echo.test 7 5 2>&1)
case $out in
"echoed 5 of 5 "*)	ok "UDP echo: $out" ;;
*)			fail "UDP echo: $out" ;;
esac
in_cl curl -s --max-time 3 http://172.24.255.254/ >/dev/null
logged "proxy: \[-\] $(flow UDP - echo.test "$(cl_q echo.test A)" 7) " 5 ||
    fail "the UDP session did not close"

# Every command of dns44ctl.
ctl show map && ctl -j show map && ctl lookup site.test &&
    ctl show connections && ctl -j show stats && ctl show stats &&
    ctl flush n1.test && ctl flush all && ctl log verbose &&
    ctl log brief && ctl reload &&
    ok "every dns44ctl command" || fail "a dns44ctl command failed"
kill -HUP "$DP"
expect "answers after the reloads" "$(cl_q site.test A)" "$v"

pw_stop
if grep -q "LeakSanitizer" "$DLOG"; then
	fail "LeakSanitizer report"
	grep -A 30 "LeakSanitizer" "$DLOG" | head -n 80
else
	ok "no leak in any process"
fi
exit $T_FAILED
