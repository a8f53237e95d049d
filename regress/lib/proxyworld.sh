# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxyworld.sh: the lab the proxy's end-to-end tests share.  Source it
# after netns.sh.  Three namespaces of the test's own:
#
#   $CL     the client: 10.46.1.2/24, default route via the gateway; its
#           /etc/resolv.conf names dns44 (ip netns exec bind-mounts
#           /etc/netns/$CL/resolv.conf over it)
#   $GW     the gateway: 10.46.1.1/24 towards the client, 10.46.2.1/24
#           towards the world, forwarding on; dns44 answers DNS on
#           10.46.1.1 port 53 and proxies what TPROXY hands it
#   $WORLD  the real servers, all on 10.46.2.2: dnsmasq (the upstream),
#           nginx, the probe's servers, iperf3
#
# TPROXY in $GW: packets to the virtual range 172.24.0.0/16 get mark 44
# and go to the proxy's listener; mark 44 routes through table 100, where
# the whole range is local.  The listener may be on 127.0.0.1: TPROXY
# hands the packet to the socket itself and the destination stays the
# virtual address, so route_localnet is not needed.  nft is used when its
# tproxy statement works, iptables' TPROXY target otherwise.
#
# Nothing here sends a packet outside these namespaces, and everything it
# starts runs inside one of them, so netns.sh's trap ends it; the trap
# below also removes /etc/netns/$CL and /etc/netns/$WORLD.

PW_CL_ADDR=10.46.1.2
PW_GW_ADDR=10.46.1.1
PW_GW_WORLD=10.46.2.1
PW_W=10.46.2.2
PW_RANGE=172.24.0.0/16
PW_PROXY="127.0.0.1 port 4480"
PW_PROXY_TO=127.0.0.1:4480
# The system's python starts in a tenth of the time of some wrappers.
PW_PYTHON=python3
[ -x /usr/bin/python3 ] && PW_PYTHON=/usr/bin/python3
PW_PROBE="$PW_PYTHON $srcdir/regress/lib/proxyprobe.py"
PW_ETC=
PW_ETC_W=

pw_cleanup() {
	pw_rc=$?
	# A second signal (timeout(1) signals its whole group) must not cut
	# the cleanup short.
	trap '' INT TERM HUP PIPE
	if [ -n "$PW_ETC" ] || [ -n "$PW_ETC_W" ]; then
		[ -z "$PW_ETC" ] || rm -rf "$PW_ETC"
		[ -z "$PW_ETC_W" ] || rm -rf "$PW_ETC_W"
		rmdir /etc/netns 2>/dev/null
	fi
	(exit $pw_rc)
	t_cleanup
}

# in_cl, in_gw, in_w CMD...: run CMD in the client, gateway or world.
in_cl() { ip netns exec "$CL" "$@"; }
in_gw() { ip netns exec "$GW" "$@"; }
in_w() { ip netns exec "$WORLD" "$@"; }

# pw_listening NS PROTO ADDR:PORT: something listens there.
pw_listening() {
	ip netns exec "$1" ss -Hln -A "$2" | awk '{ print $4 }' |
	    grep -qx "$3"
}

# pw_need TOOL...: skip the test (status 77) unless every tool is there.
pw_need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "needs $tool"
			exit 77
		}
	done
}

# pw_setup [TOOL...]: the namespaces, their links, routes and the TPROXY
# rules; the tools named are needed besides the lab's own.
pw_setup() {
	need_root
	pw_need ip ss dnsmasq kdig "$PW_PYTHON" "$@"
	t_setup
	ns_new
	CL=$NS
	ns_new
	GW=$NS
	ns_new
	WORLD=$NS
	trap pw_cleanup EXIT
	# A reader that went away (| head) must not skip the cleanup either.
	trap 'exit 1' INT TERM HUP PIPE

	ip -n "$CL" link add pc0 type veth peer name pg0 netns "$GW" &&
	    ip -n "$GW" link add pg1 type veth peer name pw0 netns "$WORLD" ||
	    die "veth pairs"
	ip -n "$CL" addr add "$PW_CL_ADDR/24" dev pc0 &&
	    ip -n "$GW" addr add "$PW_GW_ADDR/24" dev pg0 &&
	    ip -n "$GW" addr add "$PW_GW_WORLD/24" dev pg1 &&
	    ip -n "$WORLD" addr add "$PW_W/24" dev pw0 &&
	    ip -n "$CL" link set pc0 up && ip -n "$GW" link set pg0 up &&
	    ip -n "$GW" link set pg1 up && ip -n "$WORLD" link set pw0 up ||
	    die "veth addresses"
	ip -n "$CL" route add default via "$PW_GW_ADDR" &&
	    ip -n "$WORLD" route add 10.46.1.0/24 via "$PW_GW_WORLD" ||
	    die "routes"
	in_gw sysctl -qw net.ipv4.ip_forward=1 || die "ip_forward"

	# PW_NO_TPROXY=1: a gateway without them, for dns44 to make.
	if [ -n "${PW_NO_TPROXY:-}" ]; then
		PW_TPROXY=none
	else
		pw_tproxy
	fi

	# The client's resolver is dns44.
	PW_ETC=/etc/netns/$CL
	mkdir -p "$PW_ETC" || die "mkdir $PW_ETC"
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' \
	    "$PW_GW_ADDR" >"$PW_ETC/resolv.conf"
}

# pw_tproxy: the TPROXY rules and routing in $GW, as an administrator
# would make them by hand.
pw_tproxy() {
	ip -n "$GW" route add local "$PW_RANGE" dev lo table 100 &&
	    ip -n "$GW" rule add fwmark 44 lookup 100 || die "TPROXY routing"
	if in_gw nft -f - 2>"$T_TMP/nft.err" <<EOF
table ip dns44 {
	chain pre {
		type filter hook prerouting priority mangle;
		ip daddr $PW_RANGE meta l4proto { tcp, udp } \
		    meta mark set 44 tproxy to $PW_PROXY_TO accept
	}
}
EOF
	then
		PW_TPROXY=nft
	else
		for p in tcp udp; do
			in_gw iptables -t mangle -A PREROUTING -d "$PW_RANGE" \
			    -p $p -j TPROXY --on-ip "${PW_PROXY_TO%:*}" \
			    --on-port "${PW_PROXY_TO#*:}" --tproxy-mark 44 \
			    2>>"$T_TMP/nft.err" || {
				cat "$T_TMP/nft.err"
				echo "no TPROXY with nft or iptables"
				exit 77
			}
		done
		PW_TPROXY=iptables
	fi
}

# pw_dnsmasq [dnsmasq options...]: the upstream on $PW_W, with these names
# and whatever the options add.
pw_dnsmasq() {
	in_w dnsmasq --no-daemon --no-resolv --no-hosts --port 53 \
	    --listen-address "$PW_W" --bind-interfaces --user=root \
	    --pid-file="$T_TMP/dnsmasq.pid" --cache-size=0 \
	    --host-record=site.test,$PW_W \
	    --host-record=echo.test,$PW_W \
	    --host-record=echo-dns.test,$PW_W \
	    --host-record=half.test,$PW_W \
	    --host-record=iperf.test,$PW_W \
	    --host-record=pin.test,$PW_W \
	    --host-record=hole.test,10.46.2.99 \
	    --host-record=loop.test,127.0.0.1 \
	    "$@" >"$T_TMP/dnsmasq.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for 5 pw_listening "$WORLD" udp "$PW_W:53" || {
		cat "$T_TMP/dnsmasq.out"
		die "dnsmasq did not start"
	}
}

# pw_world_resolver: programs in $WORLD (a SOCKS5 or HTTP proxy) resolve
# names with the upstream dnsmasq on $PW_W.
pw_world_resolver() {
	PW_ETC_W=/etc/netns/$WORLD
	mkdir -p "$PW_ETC_W" || die "mkdir $PW_ETC_W"
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' \
	    "$PW_W" >"$PW_ETC_W/resolv.conf"
}

# pw_nginx: nginx on $PW_W:80 serving $PW_WWW: index.html, big (10 MB)
# and small (100 kB) of random bytes.
pw_nginx() {
	PW_WWW=$T_TMP/www
	n=$T_TMP/nginx
	mkdir -p "$PW_WWW" "$n"
	echo "<html><body>dns44 proxy test page</body></html>" \
	    >"$PW_WWW/index.html"
	head -c 10485760 /dev/urandom >"$PW_WWW/big"
	head -c 102400 /dev/urandom >"$PW_WWW/small"
	cat >"$n/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log;
events { worker_connections 2048; }
http {
	access_log off;
	default_type application/octet-stream;
	client_body_temp_path $n/body;
	proxy_temp_path $n/proxy;
	fastcgi_temp_path $n/fastcgi;
	uwsgi_temp_path $n/uwsgi;
	scgi_temp_path $n/scgi;
	server {
		listen $PW_W:80 backlog=1024;
		root $PW_WWW;
	}
}
EOF
	in_w nginx -e "$n/error.log" -p "$n" -c "$n/nginx.conf" \
	    >"$n/out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for 5 pw_listening "$WORLD" tcp "$PW_W:80" || {
		cat "$n/out" "$n/error.log"
		die "nginx did not start"
	}
}

# pw_danted ADDR PORT EXTERNAL: danted in the world on ADDR:PORT (IPv4 or
# IPv6), dialling out from EXTERNAL (an address or an interface), no
# authentication, CONNECT and UDP ASSOCIATE for clients of either family;
# each request logged as it came (debug) in $T_TMP/danted.log.
pw_danted() {
	cat >"$T_TMP/danted.conf" <<EOF
logoutput: $T_TMP/danted.log
debug: 1
internal: $1 port = $2
external: $3
external.rotation: route
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 0.0.0.0/0 to: 0.0.0.0/0
}
client pass {
	from: ::/0 to: ::/0
}
socks pass {
	from: 0.0.0.0/0 to: 0.0.0.0/0
	command: connect udpassociate udpreply
	log: connect disconnect error
}
socks pass {
	from: ::/0 to: 0.0.0.0/0
	command: connect udpassociate udpreply
	log: connect disconnect error
}
socks pass {
	from: 0.0.0.0/0 to: ::/0
	command: udpreply
	log: connect disconnect error
}
EOF
	in_w danted -f "$T_TMP/danted.conf" -p "$T_TMP/danted.pid" -N 1 \
	    >"$T_TMP/danted.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
}

# pw_serve MODE PORT: a probe server (halfserver, udpecho, udpgrow) on
# $PW_W:PORT.
pw_serve() {
	in_w $PW_PROBE "$1" "$PW_W" "$2" >"$T_TMP/$1.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	case $1 in
	udp*)		pr=udp ;;
	*)		pr=tcp ;;
	esac
	wait_for 5 pw_listening "$WORLD" $pr "$PW_W:$2" ||
	    die "$1 did not start: $(cat "$T_TMP/$1.out")"
}

# pw_start NAME <conf lines: dns44 in $GW with the lab's listeners and
# upstream and the lines given; pids in DP (parent), DX (the first proxy
# worker), DXS (every worker, one a CPU by default), log in DLOG.
# $PW_WRAP, if set, is a command that runs dns44 (by exec, so that DP is
# still dns44), e.g. "prlimit --nofile=64:64".
pw_start() {
	DCF=$( {
		echo "dns listen $PW_GW_ADDR port 53"
		echo "dns upstream $PW_W"
		echo "proxy listen $PW_PROXY"
		cat
	} | conf_write "$1")
	DLOG=$T_TMP/$1/log
	ip netns exec "$GW" ${PW_WRAP:-} "$DNS44" -d -f "$DCF" >"$DLOG" 2>&1 &
	DP=$!
	T_PIDS="$T_PIDS $DP"
	wait_for 5 daemon_ready "$DP" || { cat "$DLOG"; die "$1: no start"; }
	DXS=$(child_pids "$DP" proxy | tr '\n' ' ')
	DX=${DXS%% *}
	wait_for 5 pw_listening "$GW" udp "$PW_GW_ADDR:53" ||
	    die "$1: not listening on $PW_GW_ADDR port 53"
}

# pw_stop: the daemon stopped; its status must be 0 and its log free of
# sanitizer reports.
pw_stop() {
	kill -TERM "$DP" 2>/dev/null
	wait "$DP"
	rc=$?
	[ $rc -eq 0 ] && ok "daemon exit status 0" ||
	    fail "daemon exit status $rc"
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$DLOG"; then
		fail "sanitizer report in the log"
		grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		    "$DLOG"
	fi
	# PW_SHOWLOG=1 in the environment shows the log (debugging).
	[ -z "${PW_SHOWLOG:-}" ] || cat "$DLOG"
}

# fds PID...: the descriptors of the processes other than pipes, summed;
# pipes PID...: their pipes.  A proxy worker keeps up to 128 empty pipes
# for new connections.
fds() {
	for _p; do
		ls -l "/proc/$_p/fd" 2>/dev/null | awk 'NR > 1'
	done | awk '$NF !~ /^pipe:/' | wc -l
}
pipes() {
	for _p; do
		ls -l "/proc/$_p/fd" 2>/dev/null
	done | awk '$NF ~ /^pipe:/' | wc -l
}

# cl_q NAME [TYPE]: what dns44 answers the client, short form.
cl_q() {
	in_cl kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 +short "$@" 2>/dev/null |
	    grep -v '^;;'
}

# cl_rcode NAME [TYPE]: the status of dns44's answer to the client.
cl_rcode() {
	in_cl kdig @"$PW_GW_ADDR" +timeout=2 +retry=0 "$@" 2>&1 |
	    sed -n 's/.*status: \([A-Z0-9]*\).*/\1/p' | head -n 1
}

# logged PATTERN [SECONDS]: the daemon's log gets a line matching it
# (an extended regular expression).
logged() {
	wait_for "${2:-3}" grep -q -E -- "$1" "$DLOG"
}

# expect WHAT GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# A regular expression for the text, its dots and brackets escaped.
re() {
	printf '%s' "$1" | sed 's/[][().*+?|{}^$\\]/\\&/g'
}

# to_w PORT [ADDR]: a regular expression for the end of a [+] or [-]
# line, " to ADDR:PORT", the real address dialled; $PW_W by default.
to_w() {
	printf ' to %s' "$(re "${2:-$PW_W}:$1")"
}

# flow PROTO CLIENT-PORT NAME VIRT PORT: a regular expression for a
# journal's "PROTO 10.46.1.2:CLIENT-PORT <=> [NAME(VIRT)]:PORT"; a
# CLIENT-PORT of - is any port, a NAME of - is none.
flow() {
	fp=$2 fd="$(re "$3($4)")"
	[ "$fp" = - ] && fp='[0-9]+'
	[ "$3" = - ] && fd=$(re "$4")
	printf '%s %s:%s <=> \\[%s\\]:%s' "$1" "$(re "$PW_CL_ADDR")" "$fp" \
	    "$fd" "$5"
}
