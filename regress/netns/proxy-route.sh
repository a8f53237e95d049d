#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-route: routes that say how the proxy dials.  The lab gets a
# second world: another veth from the gateway to a namespace that has the
# web server's address too, 10.46.2.2, with its own nginx and UDP server,
# each answering differently from the first world's.  The gateway reaches
# it by policy routing only: table 200, looked up for firewall mark 100
# and for sockets bound to its veth.  Then
#
#   route to "mark.test" mark 100        TCP and UDP reach the second
#                                         world, on a socket the parent
#                                         made and marked
#   route to "if.test" interface pg2     the same through SO_BINDTODEVICE
#   route to "src.test" source 10.46.2.9 the first world's server sees
#                                         that address as the client's
#   route to "bad.test" interface nosuch0
#                                         reset, and a line saying why
#
# while site.test, which no rule names, goes the first way.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl nginx
PR_CONF='route to "mark.test" mark 100
route to "if.test" interface pg2
route to "src.test" source 10.46.2.9
route to "bad.test" interface nosuch0'
# A daemon whose configuration knows no route rules cannot be tried.
echo "$PR_CONF" | conf_write n >/dev/null
"$DNS44" -n -f "$T_TMP/n/dns44.conf" >"$T_TMP/n/out" 2>&1 || {
	cat "$T_TMP/n/out"
	echo "needs route rules in dns44.conf"
	exit 77
}
PR_W2_GW=10.46.3.1
PR_W2=10.46.3.2
PR_SRC=10.46.2.9

ns_new
W2=$NS
ip -n "$GW" link add pg2 type veth peer name pw2 netns "$W2" ||
    die "veth to the second world"
ip -n "$GW" addr add "$PR_W2_GW/24" dev pg2 &&
    ip -n "$W2" addr add "$PR_W2/24" dev pw2 &&
    ip -n "$W2" addr add "$PW_W/32" dev pw2 &&
    ip -n "$GW" addr add "$PR_SRC/24" dev pg1 &&
    ip -n "$GW" link set pg2 up && ip -n "$W2" link set pw2 up ||
    die "second world's addresses"
ip -n "$GW" route add 10.46.2.0/24 via "$PR_W2" dev pg2 table 200 &&
    ip -n "$GW" rule add fwmark 100 lookup 200 &&
    ip -n "$GW" rule add oif pg2 lookup 200 || die "policy routing"
# Answers from the second world come back on another link than the
# first world's route: no reverse-path filter may drop them.
for c in all default pg2; do
	in_gw sysctl -qw "net.ipv4.conf.$c.rp_filter=0" || die "rp_filter"
done

# pr_nginx NS NAME TEXT: nginx on $PW_W:80 in NS, its page TEXT, its
# access log $T_TMP/NAME/access.log with the client's address first.
pr_nginx() {
	d=$T_TMP/$2
	mkdir -p "$d/www"
	echo "$3" >"$d/www/index.html"
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	log_format peer '\$remote_addr \$request';
	access_log $d/access.log peer;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen $PW_W:80;
		root $d/www;
	}
}
EOF
	ip netns exec "$1" nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" \
	    >"$d/out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for 5 pw_listening "$1" tcp "$PW_W:80" || {
		cat "$d/out" "$d/error.log"
		die "nginx in $2 did not start"
	}
}

# pr_usecret NS TEXT: a UDP server on $PW_W:7000 in NS answering TEXT.
pr_usecret() {
	ip netns exec "$1" $PW_PROBE usecret "$PW_W" 7000 "$2" \
	    >"$T_TMP/usecret-$2.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for 5 pw_listening "$1" udp "$PW_W:7000" ||
	    die "UDP server $2 did not start"
}

pw_dnsmasq --host-record=mark.test,$PW_W --host-record=if.test,$PW_W \
    --host-record=src.test,$PW_W --host-record=bad.test,$PW_W
pr_nginx "$WORLD" w1 "world one"
pr_nginx "$W2" w2 "world two"
pr_usecret "$WORLD" one
pr_usecret "$W2" two
pw_start d <<EOF
$PR_CONF
EOF

# page NAME: what curl gets from http://NAME/.
page() {
	in_cl curl -s --max-time 10 "http://$1/"
}

expect "no rule: the first world" "$(page site.test)" "world one"
expect "mark 100: the second world" "$(page mark.test)" "world two"
grep -q "^$PR_W2_GW GET / " "$T_TMP/w2/access.log" &&
    ok "the second world saw the gateway's address on its link" ||
    fail "the second world's log: $(cat "$T_TMP/w2/access.log")"
expect "interface pg2: the second world" "$(page if.test)" "world two"
expect "source $PR_SRC: the first world" "$(page src.test)" "world one"
tail -n 1 "$T_TMP/w1/access.log" | grep -q "^$PR_SRC GET / " &&
    ok "the first world saw the source $PR_SRC" ||
    fail "source: the first world's log: $(cat "$T_TMP/w1/access.log")"
grep -q "^$PR_SRC " "$T_TMP/w2/access.log" &&
    fail "the source's request reached the second world"
grep -c "^$PR_W2_GW GET / " "$T_TMP/w2/access.log" | grep -qx 2 &&
    ok "the second world served mark.test and if.test only" ||
    fail "the second world's log: $(cat "$T_TMP/w2/access.log")"

expect "UDP, no rule: the first world" \
    "$(in_cl $PW_PROBE ufetch site.test 7000)" "data one"
expect "UDP, mark 100: the second world" \
    "$(in_cl $PW_PROBE ufetch mark.test 7000)" "data two"
expect "UDP, interface pg2: the second world" \
    "$(in_cl $PW_PROBE ufetch if.test 7000)" "data two"

expect "an interface that does not exist: reset" \
    "$(in_cl $PW_PROBE fetch bad.test 80)" reset
vb=$(cl_q bad.test A)
logged "proxy: $(flow TCP - bad.test "$vb" 80) interface nosuch0: \
dial $(re "$PW_W"):80: interface nosuch0: No such device" &&
    ok "its line names the interface" ||
    fail "no line for bad.test: $(grep bad.test "$DLOG")"

pw_stop
exit $T_FAILED
