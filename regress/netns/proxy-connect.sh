#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-connect: how the proxy opens the server's side of a connection.
# The handshake's last ACK rides with the client's first bytes, so the
# server counts one segment fewer than from a client of its own (its
# TCP_INFO, read when the request came); a server that speaks first still
# hears the connection at once, not after the kernel's delayed-ACK timer
# (200 ms) that holds such an ACK when nothing follows it, and its banner
# reaches a client that sends nothing.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_dnsmasq
pw_serve segserver 7001
in_w $PW_PROBE secret "$PW_W" 7002 banner >"$T_TMP/secret.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:7002" ||
    die "secret did not start: $(cat "$T_TMP/secret.out")"
pw_start d </dev/null

# segs OUTPUT: N of "segs N", or the output.
segs() {
	case $1 in
	"segs "*)	echo "${1#segs }" ;;
	*)		echo "$1" ;;
	esac
}

direct=$(segs "$(in_gw $PW_PROBE ask "$PW_W" 7001 hello 2>&1)")
case $direct in
''|*[!0-9]*)	fail "a direct connection: $direct" ;;
*)		ok "a direct connection brought $direct segments" ;;
esac
# Twice: the first connection to a name waits for the dns process's
# answer about its address, the second not.
for i in 1 2; do
	p=$(segs "$(in_cl $PW_PROBE ask site.test 7001 hello 2>&1)")
	[ "$p" = "$((direct - 1))" ] &&
	    ok "through the proxy ($i): $p, the last ACK with the request" ||
	    fail "through the proxy ($i): $p segments, direct $direct"
done

# The fewest milliseconds of three connections to the first byte.
f=$(in_cl $PW_PROBE firstbyte site.test 7002 3 2>&1)
case $f in
"first "*)
	[ "${f#first }" -lt 100 ] &&
	    ok "a server that speaks first: $f ms" ||
	    fail "a server that speaks first: $f ms, the ACK held" ;;
*)	fail "a server that speaks first: $f" ;;
esac
expect "its banner relayed" "$(in_cl $PW_PROBE fetch site.test 7002 2>&1)" \
    "data banner"

pw_stop
exit $T_FAILED
