# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# lib.sh: what the benchmarks share.  Source it.  Each benchmark gets a
# temporary directory and network namespaces of its own; when it ends,
# however it ends (error, ^C, kill), every process it started and every
# namespace it made are removed.  Benchmarks send packets only to
# loopback inside their namespaces or between their own namespaces.
#
# Environment (run.sh sets it):
#   DNS44          the daemon to measure
#   BENCH_SRC      the bench/ directory (for tools.py)
#   BENCH_RESULTS  file the result lines are appended to
#   BENCH_QUICK=1  shorter runs (a smoke test of the harness)

set -u

B_NAME=$(basename "$0" .sh)
B_NS=
B_PIDS=
B_TMP=
: "${BENCH_SRC:=$(cd "$(dirname "$0")" && pwd)}"
: "${BENCH_RESULTS:=/dev/stdout}"
: "${BENCH_QUICK:=0}"
: "${BENCH_OUT:=$(pwd)}"
: "${DNS44:?DNS44 must name the dns44 binary}"
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
TOOLS="$PYTHON $BENCH_SRC/tools.py"

log() {
	echo "[$B_NAME] $*" >&2
}

die() {
	echo "[$B_NAME] FATAL: $*" >&2
	exit 1
}

b_cleanup() {
	rc=$?
	trap '' INT TERM HUP
	for p in $B_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for ns in $B_NS; do
		# Whatever still runs inside the namespace was started by us.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	done
	sleep 0.2
	for ns in $B_NS; do
		ip netns delete "$ns" 2>/dev/null
	done
	if [ -n "$B_TMP" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$B_TMP"
	fi
	exit $rc
}
trap b_cleanup EXIT
trap 'exit 130' INT TERM HUP

b_setup() {
	[ "$(id -u)" = 0 ] || die "needs root"
	B_TMP=$(mktemp -d "/tmp/dns44-bench-$B_NAME.XXXXXX") || exit 1
	chmod 755 "$B_TMP"
	# Room for 10 000 connections and more (the proxy raises its soft
	# limit to the hard one).  Raising the hard limit needs
	# CAP_SYS_RESOURCE, which a container may not have: NOFILE says
	# what we got.
	for _l in 1048576 262144 131072 65536; do
		ulimit -H -n $_l 2>/dev/null && break
	done
	ulimit -S -n "$(ulimit -H -n)"
	NOFILE=$(ulimit -H -n)
	# haproxy needs two descriptors a connection and two a pipe; its
	# pipes are bounded (maxpipes), enough for the benches' transfers.
	H_MAXPIPES=256
	H_MAXCONN=$(( (NOFILE - 300 - 2 * H_MAXPIPES) / 2 ))
	[ $H_MAXCONN -gt 40000 ] && H_MAXCONN=40000
}

# b_ns VAR: a new namespace with loopback up; its name goes in $VAR.
# (Not in a subshell: the cleanup must know it.)
b_ns() {
	_n="d44b-$(echo "$B_NAME" | cut -c1-5)-$1-$$"
	ip netns add "$_n" || die "ip netns add $_n"
	B_NS="$B_NS $_n"
	ip -n "$_n" link set lo up || die "lo up in $_n"
	eval "$1=\$_n"
}

# bg NS LOG CMD...: CMD in the background inside NS; pid in $BG_PID.
bg() {
	_ns=$1 _lg=$2
	shift 2
	ip netns exec "$_ns" "$@" >"$_lg" 2>&1 &
	BG_PID=$!
	B_PIDS="$B_PIDS $BG_PID"
}

# stop PID: TERM (and CONT, for one a bench paused), then KILL after 5 s;
# waited for.
stop() {
	kill -TERM "$1" 2>/dev/null
	kill -CONT "$1" 2>/dev/null
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# wait_for SECONDS COMMAND...: retry until the command succeeds.
wait_for() {
	_n=$(($1 * 20))
	shift
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

# listening NS PROTO ADDR:PORT: something listens there.
listening() {
	ip netns exec "$1" ss -Hln -A "$2" | awk '{ print $4 }' | grep -qx "$3"
}

# The pid of a child of parent pid $1 whose title is "dns44: $2".
child_pid() {
	child_pids "$@" | head -n 1 | grep .
}

# The pids of the children of parent pid $1 whose title starts with
# "dns44: $2" (all the proxy workers), one a line, the first started
# first.
child_pids() {
	for _c in $(pgrep -P "$1"); do
		tr '\0' ' ' <"/proc/$_c/cmdline" 2>/dev/null |
		    grep -q "^dns44: $2" && echo "$_c"
	done | sort -n
}

daemon_ready() {
	child_pid "$1" dns >/dev/null && child_pid "$1" proxy >/dev/null
}

# udp_drops NS PORT: datagrams the UDP sockets on PORT dropped.
udp_drops() {
	ip netns exec "$1" cat /proc/net/udp | awk -v p="$(printf '%04X' "$2")" '
	    { split($2, a, ":"); if (a[2] == p) d += $NF } END { print d + 0 }'
}

# rss_kib "PID...": VmRSS in KiB, summed over the processes.
rss_kib() {
	for _p in $1; do
		cat "/proc/$_p/status"
	done | awk '/^VmRSS:/ { k += $2 } END { print k + 0 }'
}

# pss_kib "PID...": proportional set size in KiB, summed: pages shared
# by the processes (a program's, its libraries') counted once in all.
pss_kib() {
	for _p in $1; do
		cat "/proc/$_p/smaps_rollup"
	done | awk '/^Pss:/ { k += $2 } END { print k + 0 }'
}

# fd_count "PID...": the descriptors the processes hold.
fd_count() {
	for _p in $1; do
		ls "/proc/$_p/fd"
	done | wc -l
}

# rss_parts PID: "anon A MiB, file F MiB" (file: the mapped database
# and the program's pages).
rss_parts() {
	awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
	    /^RssShmem:/ { s = $2 } END {
	    printf "anon %d MiB, file %d MiB, shmem %d MiB\n",
		a / 1024, f / 1024, s / 1024 }' "/proc/$1/status"
}

# cpu_ticks "PID...": user + system time in clock ticks, summed over the
# processes.  (The command name, field 2, may hold spaces: "(dns44:
# proxy)"; the fields are counted after it.)
cpu_ticks() {
	for _p in $1; do
		sed 's/.*) //' "/proc/$_p/stat"
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# sys_ticks: the machine's CPU ticks so far, "softirq idle total".
sys_ticks() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i
	    print $8, $5 + $6, t }' /proc/stat
}

# sys_split TICKS0: the machine's softirq work and idle time since
# sys_ticks gave TICKS0, in % of one CPU, and the seconds that passed.
sys_split() {
	awk -v s1="$(sys_ticks)" -v s0="$1" -v ncpu="$(nproc)" \
	    -v hz="$(getconf CLK_TCK)" 'BEGIN {
	    split(s1, a); split(s0, b); e = (a[3] - b[3]) / hz / ncpu
	    if (e <= 0) { print "NA"; exit }
	    printf "softirq %.0f, idle %.0f (%% of one CPU over %.1f s, " \
		"%d CPUs)\n", (a[1] - b[1]) * 100 / hz / e,
		(a[2] - b[2]) * 100 / hz / e, e, ncpu }'
}

# per_name PCT N: the microseconds of a CPU a name (a query) cost a
# process that used PCT % of a CPU while N names a second were answered;
# NA when none was.
per_name() {
	awk -v p="$1" -v q="$2" 'BEGIN {
	    if (q > 0) printf "%.2f\n", p * 10000 / q; else print "NA" }'
}

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
	    if (NR == 0) { print "NA"; exit }
	    if (NR % 2) print v[(NR + 1) / 2];
	    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# dns44_start NS NAME [flags] <conf lines: dns44 -d in NS with a
# configuration that keeps its database, chroot and control socket in
# $B_TMP/NAME; pids in D_PID (parent), D_DNS, D_PROXY (the first proxy
# worker), D_PROXIES (every worker); log in D_LOG.
dns44_start() {
	_ns=$1 _d=$B_TMP/$2
	shift 2
	mkdir -p "$_d"
	{
		# New names mapped at once: the benches' upstreams know none.
		echo "dns verify no"
		echo "database \"$_d/db\""
		echo "proxy chroot \"$_d/empty\""
		echo "control socket \"$_d/ctl.sock\""
		cat
	} >"$_d/dns44.conf"
	D_CONF=$_d/dns44.conf
	D_LOG=$_d/log
	bg "$_ns" "$D_LOG" "$DNS44" -d -f "$D_CONF" "$@"
	D_PID=$BG_PID
	wait_for 10 daemon_ready "$D_PID" || {
		cat "$D_LOG" >&2
		die "dns44 did not start"
	}
	D_DNS=$(child_pid "$D_PID" dns)
	D_PROXY=$(child_pid "$D_PID" proxy)
	D_PROXIES=$(child_pids "$D_PID" proxy | tr '\n' ' ')
}

# dns44_startup NS PORT LOGNAME: start dns44 in NS (its configuration in
# $D_CONF); the seconds from its start to the first A answer on PORT go in
# $T_START, its pid in $D_PID.
dns44_startup() {
	ip netns exec "$1" $TOOLS firstanswer 127.0.0.1 "$2" fill-7.bench 120 \
	    >"$B_TMP/first.$3" &
	_poller=$!
	sleep 0.3		# the poller is asking
	_t0=$(date +%s.%N)
	bg "$1" "$B_TMP/$3.log" "$DNS44" -d -f "$D_CONF"
	D_PID=$BG_PID
	wait $_poller
	_t1=$(cat "$B_TMP/first.$3")
	[ -n "$_t1" ] || { cat "$B_TMP/$3.log" >&2; die "$3: no answer"; }
	T_START=$(awk -v a="$_t0" -v b="$_t1" \
	    'BEGIN { printf "%.3f\n", b - a }')
}

# unbound_conf DIR LINES...: an unbound configuration in DIR/unbound.conf,
# the lines every unbound of the benchmarks has and then those given, one
# an argument (a section such as forward-zone: among them too).
unbound_conf() {
	_ud=$1
	shift
	mkdir -p "$_ud"
	{
		cat <<EOF
server:
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$_ud"
	pidfile: "$_ud/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 0
	do-ip6: no
	so-reuseport: yes
	so-rcvbuf: 4m
	so-sndbuf: 4m
	access-control: 0.0.0.0/0 allow
	num-queries-per-thread: 4096
	outgoing-range: 8192
EOF
		for _l in "$@"; do
			printf '\t%s\n' "$_l"
		done
		printf 'remote-control:\n\tcontrol-enable: no\n'
	} >"$_ud/unbound.conf"
}

# unbound_start NS ADDR PORT ANSWER [THREADS]: unbound on ADDR@PORT
# answering every A question with ANSWER, two threads unless told; pid in
# U_PID.
unbound_start() {
	_d=$B_TMP/unbound-$1-$3
	unbound_conf "$_d" "interface: $2@$3" "port: $3" \
	    "num-threads: ${5:-2}" 'local-zone: "." redirect' \
	    "local-data: \". A $4\""
	bg "$1" "$_d/out" unbound -d -c "$_d/unbound.conf"
	U_PID=$BG_PID
	wait_for 10 listening "$1" udp "$2:$3" || {
		cat "$_d/out" >&2
		die "unbound did not start"
	}
}

# dnsperf_parse: "QPS LOST" from dnsperf's output on stdin (NA NA if it
# printed no statistics).
dnsperf_parse() {
	awk '/Queries per second:/ { q = sprintf("%.0f", $4) }
	    /Queries lost:/ { l = $3 }
	    END { printf "%s %s\n", q != "" ? q : "NA", l != "" ? l : "NA" }'
}

# profile_start PID SECONDS: perf record (DWARF call graphs) of PID in
# the background; profile_report waits for it.
profile_start() {
	perf record -F 999 --call-graph dwarf,16384 -o "$B_TMP/perf.data" \
	    -p "$1" -- sleep "$2" >"$B_TMP/perf.rec" 2>&1 &
	P_REC=$!
}

# profile_report OUT [REGEX]: the top entries of the profile in OUT:
# self time, self time of user space, inclusive time of dns44's own
# functions and of the library functions REGEX matches.
profile_report() {
	wait $P_REC
	_rep() {
		perf report -i "$B_TMP/perf.data" --stdio --sort dso,sym \
		    -g none "$@" 2>/dev/null | grep -E '^ +[0-9]'
	}
	{
		echo "all (self time, kernel included):"
		_rep --no-children | head -12
		echo "user space only (self time, % of all samples):"
		_rep --no-children | grep -v '\[k\]' | head -15
		echo "inclusive (self + callees), dns44's own functions:"
		_rep --children | grep -F " $(basename "$DNS44") " | head -15
		if [ -n "${2:-}" ]; then
			echo "inclusive, selected library functions:"
			_rep --children | grep -v '\[k\]' | grep -E "$2" |
			    head -15
		fi
	} >"$1"
	log "profile in $1"
}

# ratio A B: A / B with two decimals, NA when either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
	    if (a == "NA" || b == "NA" || a == "" || b == "" || b + 0 == 0)
		print "NA"
	    else printf "%.2f\n", a / b }'
}

# result METRIC VALUE UNIT PEER PEERVALUE TARGET [RATIO]
# One line of the results table.  TARGET is "ratio>=X" (dns44 / peer),
# "value<=X" (in UNIT), or "-" (no target: the figure is for
# information).  PEER is "-" when there is none.  RATIO, when given, is
# the ratio measured otherwise (the median of paired runs' ratios, say)
# instead of VALUE / PEERVALUE.
result() {
	_r=${7:-$(ratio "$2" "$5")}
	_met=$(awk -v t="$6" -v r="$_r" -v v="$2" 'BEGIN {
	    if (t == "-") { print "-"; exit }
	    split(t, p, /(>=|<=)/); x = (p[1] == "ratio") ? r : v
	    if (x == "NA") { print "NA"; exit }
	    if (t ~ />=/) print (x + 0 >= p[2] + 0) ? "yes" : "NO"
	    else print (x + 0 <= p[2] + 0) ? "yes" : "NO" }')
	[ "$4" = - ] && _r=-
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$B_NAME" "$1" "$2" \
	    "$3" "$4" "$5" "$_r" "$6" "$_met" >>"$BENCH_RESULTS"
	log "$1: $2 $3 (peer $4: $5; ratio $_r; target $6: $_met)"
}

# ---------------------------------------------------------------------
# The proxy lab: three namespaces of the benchmark's own.
#
#   $CL     client, 10.47.1.2/24 (+ 10.47.1.10-25 for UDP sessions),
#           default route via the gateway
#   $GW     gateway, 10.47.1.1 and 10.47.2.1, forwarding; dns44 (DNS on
#           10.47.1.1:53, TPROXY listener 127.0.0.1:4480), haproxy
#   $WORLD  the servers, all on 10.47.2.2: unbound (dns44's upstream,
#           every name is 10.47.2.2), iperf3, nginx, probe servers
#
# TPROXY in $GW as in regress/lib/proxyworld.sh: packets to the virtual
# range 172.24.0.0/16 get mark 44 and go to the listener; mark 44 routes
# through table 100, where the whole range is local.

L_CL=10.47.1.2
L_GW=10.47.1.1
L_GW_W=10.47.2.1
L_W=10.47.2.2
L_RANGE=172.24.0.0/16
L_PROXY=127.0.0.1:4480

in_cl() { ip netns exec "$CL" "$@"; }
in_gw() { ip netns exec "$GW" "$@"; }
in_w() { ip netns exec "$WORLD" "$@"; }

lab_setup() {
	b_ns CL
	b_ns GW
	b_ns WORLD
	ip -n "$CL" link add bc0 type veth peer name bg0 netns "$GW" &&
	    ip -n "$GW" link add bg1 type veth peer name bw0 netns "$WORLD" ||
	    die "veth pairs"
	ip -n "$CL" addr add "$L_CL/24" dev bc0 &&
	    ip -n "$GW" addr add "$L_GW/24" dev bg0 &&
	    ip -n "$GW" addr add "$L_GW_W/24" dev bg1 &&
	    ip -n "$WORLD" addr add "$L_W/24" dev bw0 &&
	    ip -n "$CL" link set bc0 up && ip -n "$GW" link set bg0 up &&
	    ip -n "$GW" link set bg1 up && ip -n "$WORLD" link set bw0 up ||
	    die "veth addresses"
	ip -n "$CL" route add default via "$L_GW" &&
	    ip -n "$WORLD" route add 10.47.1.0/24 via "$L_GW_W" || die "routes"
	for ns in $CL $GW $WORLD; do
		ip netns exec "$ns" sysctl -qw \
		    net.ipv4.ip_local_port_range="1024 65000" \
		    net.ipv4.tcp_tw_reuse=1 \
		    net.core.somaxconn=8192 \
		    net.ipv4.tcp_max_syn_backlog=8192 || die "sysctl"
	done
	in_gw sysctl -qw net.ipv4.ip_forward=1 || die "ip_forward"

	in_gw ip route add local "$L_RANGE" dev lo table 100 &&
	    in_gw ip rule add fwmark 44 lookup 100 || die "TPROXY routing"
	if ! in_gw nft -f - 2>"$B_TMP/nft.err" <<EOF
table ip dns44bench {
	chain pre {
		type filter hook prerouting priority mangle;
		ip daddr $L_RANGE meta l4proto { tcp, udp } meta mark set 44 tproxy to $L_PROXY accept
	}
}
EOF
	then
		for p in tcp udp; do
			in_gw iptables -t mangle -A PREROUTING -d "$L_RANGE" \
			    -p $p -j TPROXY --on-ip "${L_PROXY%:*}" \
			    --on-port "${L_PROXY#*:}" --tproxy-mark 44 ||
			    die "no TPROXY: $(cat "$B_TMP/nft.err")"
		done
	fi
	# Without unbound, dnsmasq gives every name the same answer.
	if command -v unbound >/dev/null 2>&1; then
		unbound_start "$WORLD" "$L_W" 53 "$L_W"
	else
		bg "$WORLD" "$B_TMP/dnsmasq.out" dnsmasq --no-daemon \
		    --no-resolv --no-hosts --port 53 --listen-address "$L_W" \
		    --bind-interfaces --user=root --cache-size=0 \
		    --pid-file="$B_TMP/dnsmasq.pid" --address="/#/$L_W"
		wait_for 10 listening "$WORLD" udp "$L_W:53" ||
		    die "dnsmasq: $(cat "$B_TMP/dnsmasq.out")"
	fi
}

# lab_dns44 [conf lines on stdin]: dns44 in $GW for the lab, with
# $PROXY_WORKERS proxy workers (default: one per CPU, as dns44's own).
lab_dns44() {
	{
		echo "dns listen $L_GW port 53"
		echo "dns upstream $L_W"
		echo "range $L_RANGE"
		echo "proxy listen ${L_PROXY%:*} port ${L_PROXY#*:}"
		echo "proxy workers ${PROXY_WORKERS:-$(nproc)}"
		cat
	} >"$B_TMP/lab-dns44.conf"
	dns44_start "$GW" lab-dns44 <"$B_TMP/lab-dns44.conf"
	wait_for 5 listening "$GW" udp "$L_GW:53" || die "dns44 DNS"
}

# vip NAME: the virtual address dns44 gives NAME (asked from the client).
vip() {
	in_cl $TOOLS query "$L_GW" 53 "$1" || die "no answer for $1"
}

# lab_haproxy FRONTPORT:BACKPORT...: haproxy in $GW in TCP mode with
# splicing, as many threads as dns44 has proxy workers ($HAPROXY_THREADS
# says otherwise), each 10.47.1.1:FRONTPORT to 10.47.2.2:BACKPORT.
lab_haproxy() {
	_d=$B_TMP/haproxy
	mkdir -p "$_d"
	{
		cat <<EOF
global
	maxconn $H_MAXCONN
	maxpipes $H_MAXPIPES
	nbthread ${HAPROXY_THREADS:-${PROXY_WORKERS:-$(nproc)}}
	log stderr format short local0 err
defaults
	mode tcp
	log global
	option splice-auto
	maxconn $H_MAXCONN
	timeout connect 10s
	timeout client 2h
	timeout server 2h
EOF
		for pp in "$@"; do
			printf 'listen p%s\n\tbind %s:%s backlog 8192\n' \
			    "${pp%:*}" "$L_GW" "${pp%:*}"
			printf '\tserver s %s:%s\n' "$L_W" "${pp#*:}"
		done
	} >"$_d/haproxy.cfg"
	bg "$GW" "$_d/out" haproxy -db -f "$_d/haproxy.cfg"
	H_PID=$BG_PID
	for pp in "$@"; do
		wait_for 10 listening "$GW" tcp "$L_GW:${pp%:*}" || {
			cat "$_d/out" >&2
			die "haproxy did not start"
		}
	done
}

# lab_nginx: nginx on 10.47.2.2:80, one worker, serving /small (1 kB).
lab_nginx() {
	_d=$B_TMP/nginx
	mkdir -p "$_d/www"
	head -c 1024 /dev/urandom >"$_d/www/small"
	cat >"$_d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $_d/nginx.pid;
error_log $_d/error.log;
events { worker_connections 16384; }
http {
	access_log off;
	default_type application/octet-stream;
	client_body_temp_path $_d/body;
	proxy_temp_path $_d/proxy;
	fastcgi_temp_path $_d/fastcgi;
	uwsgi_temp_path $_d/uwsgi;
	scgi_temp_path $_d/scgi;
	server {
		listen $L_W:80 backlog=8192;
		root $_d/www;
	}
}
EOF
	bg "$WORLD" "$_d/out" nginx -e "$_d/error.log" -p "$_d" \
	    -c "$_d/nginx.conf"
	wait_for 10 listening "$WORLD" tcp "$L_W:80" || {
		cat "$_d/out" "$_d/error.log" >&2
		die "nginx did not start"
	}
}

# proxy_relays PORT: dns44's proxy works (a TCP connection through it
# reaches a server in $WORLD).  Needs lab_dns44 and a server on
# $L_W:PORT.
proxy_relays() {
	_v=$(vip relaytest.bench) &&
	    in_cl $TOOLS tcpcheck "$_v" "$1" 3
}

# since T0: the seconds from T0 (date +%s.%N) to now.
since() {
	awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { print t1 - t0 }'
}

# proc_cpu "PID..." TICKS0 SECONDS: the CPU use of the processes since
# TICKS0, in % of one core.
proc_cpu() {
	awk -v t0="$2" -v t1="$(cpu_ticks "$1")" -v s="$3" \
	    -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.0f\n", (t1 - t0) / hz / s * 100 }'
}
