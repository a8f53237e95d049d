#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-http: a client that knows only names fetches a page and a 10 MB
# file from a web server in the world through dns44's TCP proxy; the
# journal has the open and the close line of each connection, with the
# bytes counted each way.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx
pw_dnsmasq
pw_nginx
pw_start d </dev/null

v=$(cl_q site.test A)
case $v in
172.24.*)	ok "site.test is $v" ;;
*)		die "site.test: \"$v\", not a virtual address" ;;
esac

page=$(in_cl curl -s --max-time 10 http://site.test/)
expect "page through the proxy" "$page" "$(cat "$PW_WWW/index.html")"

# The 10 MB file, and what curl counted of the exchange.
w='%{http_code} %{local_port} %{size_request} %{size_header}'
set -- $(in_cl curl -s --max-time 20 -o "$T_TMP/big.got" \
    -w "$w %{size_download}" http://site.test/big)
expect "10 MB file status" "${1:-none}" 200
expect "10 MB file sha256" "$(sha256sum <"$T_TMP/big.got" | cut -d' ' -f1)" \
    "$(sha256sum <"$PW_WWW/big" | cut -d' ' -f1)"
port=${2:-0} sent=${3:-0} received=$((${4:-0} + ${5:-0}))

f=$(flow TCP "$port" site.test "$v" 80)
logged "proxy: \[\+\] $f$(to_w 80)\$" && ok "journal: [+] line of port $port" ||
    fail "no [+] line for port $port"
logged "proxy: \[-\] $f sent $sent received $received bytes in \
[0-9]+\.[0-9]{3}s to $(re "$PW_W:80")\$" &&
    ok "journal: [-] line of port $port: sent $sent received $received" ||
    fail "no [-] line of port $port with $sent and $received bytes:" \
    "$(grep -F "$PW_CL_ADDR:$port" "$DLOG")"

pw_stop
exit $T_FAILED
