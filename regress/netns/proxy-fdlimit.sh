#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-fdlimit: dns44 started with 256 descriptors (ulimit -n 256) and a
# thousand TCP connections at once.  The proxy relays as many as its
# descriptors allow, stops accepting before it runs out (the rest wait in
# the kernel's queue, not dropped) without spinning (little CPU while it
# waits), stays up, and accepts again as connections close: a thousand
# requests started at once all get their file.  DNS goes on meanwhile.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx prlimit
pw_dnsmasq
pw_nginx
PW_WRAP="prlimit --nofile=256:256" pw_start d </dev/null

lim=$(awk '/^Max open files/ { print $4 }' "/proc/$DX/limits")
expect "the proxy's descriptor limit" "$lim" 256
v=$(cl_q site.test A)

# A thousand held connections.
in_cl $PW_PROBE holdmany site.test 80 1000 6 >"$T_TMP/hold" 2>&1 &
holder=$!
T_PIDS="$T_PIDS $holder"
logged "proxy: TCP: [0-9]+ connections and 0 UDP sessions hold all the \
descriptors; accepting again when one closes" 5 &&
    ok "descriptors all taken: accept paused" ||
    fail "no pause: $(tail -n 5 "$DLOG")"
sleep 0.5
c0=$(cpu_ticks "$DX")
sleep 2
c1=$(cpu_ticks "$DX")
[ $((c1 - c0)) -lt 20 ] && ok "no busy loop: $((c1 - c0)) ticks in 2 s" ||
    fail "busy: $((c1 - c0)) ticks of CPU in 2 s"
fds=$(ls "/proc/$DX/fd" | wc -l)
[ "$fds" -le 256 ] && ok "proxy holds $fds descriptors, limit 256" ||
    fail "proxy holds $fds descriptors"
open=$(grep -c "proxy: \[+\] TCP .*site\.test" "$DLOG")
[ "$open" -gt 10 ] && [ "$open" -lt 1000 ] &&
    ok "$open of 1000 connections relayed while out of descriptors" ||
    fail "$open connections relayed"
expect "DNS while the proxy is full" "$(cl_q other.test A | cut -d. -f1,2)" \
    172.24
grep -E -q "dial .*: Too many open files|pipe: Too many open files" \
    "$DLOG" && fail "connections accepted without descriptors to relay them"
wait "$holder"
ok "holder: $(cat "$T_TMP/hold") within 6 s (the rest waited for room)"

# Service resumes: a thousand requests started at once, each on its own,
# each file whole.
sha=$(sha256sum <"$PW_WWW/small" | cut -d' ' -f1)
expect "1000 requests at once after the holds closed" \
    "$(in_cl $PW_PROBE burst site.test 80 /small 1000 "$sha" 2>&1)" \
    "1000 of 1000 correct"
alive "$DX" && [ "$(child_pid "$DP" proxy)" = "$DX" ] &&
    ok "the same proxy process throughout" || fail "the proxy changed"
grep -E 'killed by signal|exited with status' "$DLOG" &&
    fail "a process died"

settled() { [ "$(fds "$DX")" -lt 20 ]; }
wait_for 10 settled &&
    ok "descriptors back to $(fds "$DX") and $(pipes "$DX") of kept pipes" ||
    fail "proxy still holds $(fds "$DX") descriptors"
pw_stop
exit $T_FAILED
