#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# udp.sh: UDP through dns44 against the direct path (routed by the
# gateway), in the same run.
#  1. Packets per second: iperf3 -u -b 0 -l 64 for UDP_TIME s; the
#     packets the server received per second, and the loss (iperf3's
#     sender outruns both paths: this is a figure of loss, not of
#     capacity).  Then the target's figure: the highest offered rate at
#     which at most UDP_LOSS (1) % of the datagrams are lost, found for
#     each path by UDP_STEPS (7) halvings of UDP_STEP_TIME (4) s each
#     (below), with the server's socket buffer at UDP_SERVER_BUF (4M),
#     and again with its default buffer.
#  2. New sessions per second: a python client sends one datagram from a
#     new (source address, port) each time, UDP_WINDOW in flight, to an
#     echo server in the world namespace and counts the echoes per second
#     over UDP_TIME s.  dns44 runs with "proxy udp-idle-timeout 2s" so the
#     sessions fit in the open-files limit (one descriptor a session, to
#     its server; the reply socket is shared by the sessions to one
#     virtual address and port).
#  3. Sustained new sessions per second: dns44 started again with the
#     default idle timeouts and as many sessions as the open-files limit
#     allows, then three runs of UDP_SUSTAIN s in a row against it, the
#     first run's sessions still open during the others (idle, each one
#     exchange): the limit is reached and the least recently active
#     idle sessions make room.  The median of the three, against the
#     median of 2's direct runs.  With PROFILE=1, a fourth with one
#     worker profiled (udp-profile-sessions.txt), a fifth with the
#     workers' system calls counted.
# UDP_REPS runs of 1 and 2 each, interleaved; medians reported.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${UDP_TIME:=3}" "${UDP_REPS:=1}" "${UDP_SUSTAIN:=3}"
	: "${UDP_STEP_TIME:=2}"
else
	: "${UDP_TIME:=10}" "${UDP_REPS:=3}" "${UDP_SUSTAIN:=5}"
	: "${UDP_STEP_TIME:=4}"
fi
: "${UDP_WINDOW:=64}" "${UDP_STEPS:=7}" "${UDP_LOSS:=1}"
: "${UDP_SERVER_BUF:=4M}"

lab_setup
# Sixteen more client addresses: 16 x 63 800 source tuples, none used
# twice, so that every probe is a new session.
SRCS=
i=10
while [ $i -lt 26 ]; do
	ip -n "$CL" addr add "10.47.1.$i/24" dev bc0 || die "client address"
	SRCS="$SRCS 10.47.1.$i"
	i=$((i + 1))
done
# The limit is shared out among the workers (lab_dns44's), each with the
# open-files limit of its own.
max=$(((NOFILE - 200) * ${PROXY_WORKERS:-$(nproc)}))
[ $max -gt 1000000 ] && max=1000000
printf 'proxy udp-idle-timeout 2s\nproxy sessions %s\n' "$max" \
    >"$B_TMP/extra.conf"
lab_dns44 <"$B_TMP/extra.conf"
bg "$WORLD" "$B_TMP/iperf3.out" iperf3 -s -B "$L_W" -p 5201
bg "$WORLD" "$B_TMP/echo.out" $TOOLS udpecho "$L_W" 7001
wait_for 5 listening "$WORLD" tcp "$L_W:5201" || die "iperf3 -s"
wait_for 5 listening "$WORLD" udp "$L_W:7001" || die "udpecho"

V=$(vip udp.bench)
set -- $(in_cl $TOOLS udpsess "$V" 7001 1 1 10.47.1.2)
if [ "${2:-0}" = 0 ]; then
	log "the proxy does not relay UDP: UDP not measured"
	result "UDP packets/s (64 B) at <= ${UDP_LOSS}% loss" NA pps \
	    direct NA "ratio>=0.7"
	result "UDP new sessions/s" NA sess/s direct NA -
	exit 0
fi

# pps TARGET RATE TIME [IPERF3 OPTIONS]: "RECEIVED_PPS LOST%" of one
# iperf3 -u run of TIME s offering RATE datagrams of 64 bytes a second
# (0: as fast as iperf3 can send).
pps() {
	_t=$1 _r=$2 _s=$3
	shift 3
	in_cl iperf3 -c "$_t" -p 5201 -u -b $(( _r * 64 * 8 )) -l 64 -t "$_s" \
	    "$@" -J >"$B_TMP/run.json" 2>&1
	$PYTHON -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    s = r["end"]["sum"]
    print("%.0f %.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"],
                         s["lost_percent"]))
except Exception:
    print("NA NA")' "$B_TMP/run.json"
}

path_target() {
	case $1 in
	dns44)	t=$V p=$D_PROXIES ;;
	direct)	t=$L_W p= ;;
	esac
}

r=1
while [ $r -le "$UDP_REPS" ]; do
	for path in dns44 direct; do
		path_target $path
		[ -n "$p" ] && c0=$(cpu_ticks "$p")
		set -- $(pps "$t" 0 "$UDP_TIME")
		[ -n "$p" ] &&
		    log "  relay CPU $(proc_cpu "$p" "$c0" "$UDP_TIME")%"
		[ "$1" = NA ] && log "iperf3: $(head -c 300 "$B_TMP/run.json")"
		log "pps run $r at -b 0, $path: $1 received/s, $2% lost"
		echo "$1" | grep -v NA >>"$B_TMP/pps.$path"
		echo "$2" | grep -v NA >>"$B_TMP/loss.$path"
	done
	for path in dns44 direct; do
		path_target $path
		[ -n "$p" ] && c0=$(cpu_ticks "$p") && a0=$(cpu_ticks "$D_PID")
		set -- $(in_cl $TOOLS udpsess "$t" 7001 "$UDP_TIME" \
		    "$UDP_WINDOW" $SRCS)
		[ -n "$p" ] &&
		    log "  relay CPU $(proc_cpu "$p" "$c0" "$UDP_TIME")%," \
		    "parent $(proc_cpu "$D_PID" "$a0" "$UDP_TIME")%"
		log "sessions run $r, $path: $1/s ($2 answered of $3)"
		echo "$1" >>"$B_TMP/sess.$path"
	done
	r=$((r + 1))
done
for path in dns44 direct; do
	touch "$B_TMP/pps.$path" "$B_TMP/loss.$path" "$B_TMP/sess.$path"
	eval pps_$path=$(median <"$B_TMP/pps.$path")
	eval loss_$path=$(median <"$B_TMP/loss.$path")
	eval sess_$path=$(median <"$B_TMP/sess.$path")
done
result "UDP packets/s (64 B) at -b 0" "$pps_dns44" pps direct "$pps_direct" -
result "UDP loss % at -b 0" "$loss_dns44" % direct "$loss_direct" -
result "UDP new sessions/s" "$sess_dns44" sess/s direct "$sess_direct" -

# 2. The highest rate at which at most UDP_LOSS % is lost, for each path:
# between LO (passed; 0 at first) and HI (failed; at first twice the
# faster path's figure at -b 0), offer the middle for UDP_STEP_TIME s
# and keep the half the answer leaves, UDP_STEPS times.  The steps of
# the two paths alternate, so that what else the machine does falls on
# both alike.  The figure is the most the server received a second in a
# run that passed (on 2 CPUs the sender, sharing them with the relay and
# the server, often cannot offer the rate asked of it: what arrives is
# the figure).  search LABEL TARGET [IPERF3 OPTIONS].
search() {
	_label=$1 _tgt=$2 _tag=$(echo "x$1" | tr -c 'a-z0-9\n' _)
	shift 2
	for path in dns44 direct; do
		eval lo_$path=0 hi_$path=$hi0 got_$path=NA
	done
	i=1
	while [ $i -le "$UDP_STEPS" ] && [ "$hi0" -gt 0 ]; do
		for path in dns44 direct; do
			path_target $path
			eval lo=\$lo_$path hi=\$hi_$path
			mid=$(( (lo + hi) / 2 ))
			set -- $(pps "$t" "$mid" "$UDP_STEP_TIME" "$@") "$@"
			if [ "$1" != NA ] && awk -v l="$2" -v m="$UDP_LOSS" \
			    'BEGIN { exit !(l + 0 <= m + 0) }'; then
				eval lo_$path=$mid g=\$got_$path
				[ "$g" = NA ] || [ "$1" -gt "$g" ] &&
				    eval got_$path=$1
				echo "$1" >>"$B_TMP/passed.$path.$_tag"
				v=passed
			else
				eval hi_$path=$mid
				v=failed
			fi
			log "pps step $i, $path$_label: offered $mid/s," \
			    "received $1/s, $2% lost: $v"
			shift 2
		done
		i=$((i + 1))
	done
	for path in dns44 direct; do
		touch "$B_TMP/passed.$path.$_tag"
		log "$path$_label: the median of the runs that passed:" \
		    "$(median <"$B_TMP/passed.$path.$_tag")/s"
	done
	result "UDP packets/s (64 B) at <= ${UDP_LOSS}% loss$_label" \
	    "$got_dns44" pps direct "$got_direct" "$_tgt"
}
hi0=$(awk -v a="$pps_dns44" -v b="$pps_direct" 'BEGIN {
    m = (a + 0 > b + 0) ? a : b; printf "%d\n", 2 * m }')
# The server's socket buffer as a busy UDP server sets it (QUIC servers
# ask for megabytes): a relay hands datagrams on in batches, and with the
# default 208 KiB the server's own buffer is where they are lost
# (UdpRcvbufErrors in its namespace) whenever it waits for a CPU that
# the client, the relay and it share.  The same for both paths; the
# default buffer is measured after, for information.
search "" "ratio>=0.7" -w "$UDP_SERVER_BUF"
search ", server's default buffer" -

# 3. Sustained: the default timeouts, three runs in a row.
stop "$D_PID"
printf 'proxy sessions %s\n' "$max" >"$B_TMP/extra.conf"
lab_dns44 <"$B_TMP/extra.conf"
vip udp.bench >/dev/null
for r in 1 2 3; do
	set -- $(in_cl $TOOLS udpsess "$V" 7001 "$UDP_SUSTAIN" \
	    "$UDP_WINDOW" $SRCS)
	log "sustained run $r: $1/s ($2 answered of $3)"
	echo "$1" >>"$B_TMP/sustain"
done
log "$("${DNS44CTL:-$(dirname "$DNS44")/dns44ctl/dns44ctl}" \
    -s "$B_TMP/lab-dns44/ctl.sock" show stats 2>&1 |
    grep -E '^udp sessions')"
# With PROFILE=1, a fourth run with a worker profiled: where a sustained
# new session's time goes.
if [ "${PROFILE:-0}" = 1 ]; then
	set -- $D_PROXIES
	profile_start "$1" "$UDP_SUSTAIN"
	set -- $(in_cl $TOOLS udpsess "$V" 7001 "$UDP_SUSTAIN" \
	    "$UDP_WINDOW" $SRCS)
	log "sustained run profiled: $1/s ($2 answered of $3)"
	profile_report "$BENCH_OUT/udp-profile-sessions.txt" \
	    'libc|libevent|sendmmsg|recvmmsg|epoll'
	# And the workers' system calls a session, in a fifth.
	perf trace -s -p "$(echo $D_PROXIES | tr ' ' ,)" \
	    -o "$B_TMP/trace.txt" -- sleep "$UDP_SUSTAIN" &
	tr_pid=$!
	set -- $(in_cl $TOOLS udpsess "$V" 7001 "$UDP_SUSTAIN" \
	    "$UDP_WINDOW" $SRCS)
	wait $tr_pid
	log "sustained run traced: $1/s ($2 answered of $3); the workers'" \
	    "system calls a session: $(awk -v n="$2" '
	    $2 ~ /^[0-9]+$/ && $1 ~ /^[a-z_0-9]+$/ { c[$1] += $2 }
	    END { for (k in c) if (c[k] / n >= 0.01)
		printf "%s %.2f ", k, c[k] / n }' "$B_TMP/trace.txt")"
fi
result "UDP new sessions/s, 3 runs in a row" "$(median <"$B_TMP/sustain")" \
    sess/s direct "$sess_direct" "ratio>=0.5"
exit 0
