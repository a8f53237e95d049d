#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-many: 200 TCP connections through the proxy, all open at once
# before any sends its request, each get the 100 kB file whole; the
# journal has all 200 open and close lines, and the proxy holds no
# connection afterwards.  300 keep-alive connections, idle after their
# file, hold two descriptors each (the client's and the server's sockets:
# the pipes that carried the file went back to the pool).  Out of
# descriptors, the proxy stops accepting until a connection closes,
# without spinning, and recovers.  Descriptors are summed over the proxy
# workers (one a CPU, the default); the last part has one worker, the
# limit on descriptors being each process's.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx prlimit
pw_dnsmasq
pw_nginx
pw_start d </dev/null

nconn=200
nw=$(echo $DXS | wc -w)	# proxy workers, summed over
p0=$(pipes $DXS)	# libevent's own, say
v=$(cl_q site.test A)
sha=$(sha256sum <"$PW_WWW/small" | cut -d' ' -f1)
expect "$nconn connections at once" \
    "$(in_cl $PW_PROBE many site.test 80 /small $nconn "$sha" 2>&1)" \
    "$nconn of $nconn correct"

closed_all() {	# every [-] line there, with the file and its headers
	[ "$(grep -c -E "proxy: \[-\] $(flow TCP - site.test "$v" 80) sent \
[0-9]+ received 102[0-9]{3} bytes" "$DLOG")" -eq $nconn ]
}
expect "journal: [+] lines" "$(grep -c 'proxy: \[+\] TCP .*site\.test' \
    "$DLOG")" $nconn
wait_for 5 closed_all &&
    ok "journal: $nconn [-] lines with the file's bytes" ||
    fail "journal: $(grep -c 'proxy: \[-\]' "$DLOG") [-] lines"

# Nothing left open in the proxy but its listeners and channels, and
# the empty pipes it keeps for new connections.
base=$(fds $DXS)
base1=$(fds "$DX")	# the first worker's alone
[ "$base" -lt $((20 * nw)) ] &&
    ok "$nw proxy worker(s) hold $base descriptors afterwards" ||
    fail "$nw proxy worker(s) still hold $base descriptors"
p=$(($(pipes $DXS) - p0))
[ "$p" -le $((256 * nw)) ] && ok "and $p descriptors of empty pipes kept" ||
    fail "proxy holds $p descriptors of pipes"

# Idle keep-alive connections: two descriptors each, pipes pooled.
in_cl $PW_PROBE keepmany site.test 80 /small 300 "$sha" 8 \
    >"$T_TMP/keep" 2>&1 &
keeper=$!
T_PIDS="$T_PIDS $keeper"
wait_for 20 test -s "$T_TMP/keep" || fail "keepmany: nothing"
expect "300 keep-alive connections" "$(cat "$T_TMP/keep")" \
    "300 of 300 correct, idle"
sleep 0.5
idle_fds=$(($(fds $DXS) - base))
idle_pipes=$(($(pipes $DXS) - p0))
expect "300 idle connections: descriptors other than pipes" "$idle_fds" 600
[ "$idle_pipes" -le $((256 * nw)) ] &&
    ok "and $idle_pipes descriptors of pipes, the pool's" ||
    fail "300 idle connections hold $idle_pipes descriptors of pipes"
kill "$keeper" 2>/dev/null
wait "$keeper" 2>/dev/null
pw_stop

# Out of descriptors: room for exactly three connections (two
# descriptors each: client, server) beside the proxy's own and the 16 it
# keeps spare.  One worker: the limit is each process's.
lim=$((base1 + 16 + 6))
PW_WRAP="prlimit --nofile=$lim:$lim" pw_start e <<EOF
proxy workers 1
EOF
pids=
for i in 1 2 3 4 5 6; do
	ip netns exec "$CL" $PW_PROBE hold site.test 80 4 >/dev/null 2>&1 &
	pids="$pids $!"
done
T_PIDS="$T_PIDS $pids"
logged "proxy: TCP: [0-9]+ connections and 0 UDP sessions hold all the \
descriptors; accepting again when one closes" 3 &&
    ok "accept paused, descriptors all taken" || fail "accept not paused"
c0=$(cpu_ticks "$DX")
sleep 2
c1=$(cpu_ticks "$DX")
[ $((c1 - c0)) -lt 50 ] && ok "no spinning: $((c1 - c0)) ticks in 2 s" ||
    fail "spinning: $((c1 - c0)) ticks of CPU in 2 s"
wait $pids
expect "a page after the holds closed" "$(in_cl curl -s --max-time 10 \
    -o /dev/null -w '%{http_code}' http://site.test/)" 200

pw_stop
exit $T_FAILED
