#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# via.sh: a route through a SOCKS5 server.  microsocks runs in the world
# namespace; dns44 routes www.bench through it (`route ... via socks5`).
# Two paths in the same run, from the client namespace to nginx in the
# world:
#   dns44    the client connects to the virtual address; dns44's proxy
#            connects to microsocks, asks it for www.bench, then splices
#   socks5   the client itself talks SOCKS5 to microsocks (curl
#            --socks5-hostname, or tools.py conns with SOCKS)
# Figures: the download of a 256 MB file with curl (Mbit/s) and HTTP/1.0
# GETs of a 1 kB file, each on a new connection, VIA_CLIENTS at a time
# (connections/s; the python client limits both paths alike).  VIA_REPS
# runs of each per path, interleaved; medians reported.  With PROFILE=1,
# one more download through dns44 while the workers' system calls and
# wake-ups are counted (perf stat), logged per megabyte.

. "$(dirname "$0")/lib.sh"
b_setup

if [ "$BENCH_QUICK" = 1 ]; then
	: "${VIA_TIME:=3}" "${VIA_REPS:=1}"
else
	: "${VIA_TIME:=10}" "${VIA_REPS:=3}"
fi
: "${VIA_CLIENTS:=32}"
command -v microsocks >/dev/null 2>&1 || die "needs microsocks"

lab_setup
lab_nginx
head -c 268435456 /dev/zero >"$B_TMP/nginx/www/big"

# microsocks resolves www.bench with the world's DNS server: a
# resolv.conf of its own, bound over /etc/resolv.conf in the mount
# namespace that ip netns exec makes for it alone.
echo "nameserver $L_W" >"$B_TMP/resolv.conf"
bg "$WORLD" "$B_TMP/microsocks.out" sh -c "mount --bind \
$B_TMP/resolv.conf /etc/resolv.conf && exec microsocks -i $L_W -p 1080"
wait_for 5 listening "$WORLD" tcp "$L_W:1080" ||
    die "microsocks: $(cat "$B_TMP/microsocks.out")"

lab_dns44 <<EOF
route to "www.bench" via socks5 $L_W port 1080
EOF
V=$(vip www.bench)
if ! in_cl $TOOLS tcpcheck "$V" 80 3; then
	log "no route through microsocks: figures not measured"
	result "via socks5: download" NA Mbit/s socks5 NA "ratio>=0.8"
	result "via socks5: connections/s" NA conn/s socks5 NA "ratio>=0.8"
	exit 0
fi

# download PATH RELAYPID: Mbit/s of the 256 MB file.
download() {
	[ -n "$2" ] && c0=$(cpu_ticks "$2") t0=$(date +%s)
	if [ "$1" = dns44 ]; then
		in_cl curl -s -o /dev/null -w '%{http_code} %{speed_download}' \
		    --max-time 120 "http://$V/big" >"$B_TMP/curl.out" 2>&1
	else
		in_cl curl -s -o /dev/null -w '%{http_code} %{speed_download}' \
		    --max-time 120 --socks5-hostname "$L_W:1080" \
		    http://www.bench/big >"$B_TMP/curl.out" 2>&1
	fi
	[ -n "$2" ] && log "  relay CPU $(proc_cpu "$2" "$c0" \
	    $(( $(date +%s) - t0 + 1 )))%"
	awk '$1 == 200 { printf "%.0f\n", $2 * 8 / 1e6; f = 1 }
	    END { if (!f) print "NA" }' "$B_TMP/curl.out"
}

# connections PATH: connections/s; failures logged.
connections() {
	if [ "$1" = dns44 ]; then
		in_cl $TOOLS conns "$V" 80 /small "$VIA_TIME" "$VIA_CLIENTS" \
		    >"$B_TMP/conns.out" 2>&1
	else
		in_cl $TOOLS conns www.bench 80 /small "$VIA_TIME" \
		    "$VIA_CLIENTS" "$L_W:1080" >"$B_TMP/conns.out" 2>&1
	fi
	set -- $(cat "$B_TMP/conns.out")
	[ "${3:-0}" != 0 ] && log "  $3 connections failed"
	case ${1:-} in
	[0-9]*)	echo "$1" ;;
	*)	log "  conns: $(head -c 300 "$B_TMP/conns.out")"; echo NA ;;
	esac
}

r=1
while [ $r -le "$VIA_REPS" ]; do
	for path in dns44 socks5; do
		case $path in
		dns44)	x=$(download dns44 "$D_PROXIES") ;;
		socks5)	x=$(download socks5 "") ;;
		esac
		log "run $r, $path: download $x Mbit/s"
		echo "$x" | grep -v NA >>"$B_TMP/dl.$path"
		x=$(connections $path)
		log "run $r, $path: $x connections/s"
		echo "$x" | grep -v NA >>"$B_TMP/conn.$path"
	done
	r=$((r + 1))
done
# How the workers move the download: their system calls a megabyte.
if [ "${PROFILE:-0}" = 1 ]; then
	ev=cs
	for c in recvfrom sendto splice epoll_wait; do
		ev="$ev,syscalls:sys_enter_$c"
	done
	perf stat -x, -e "$ev" -p "$(echo $D_PROXIES | tr ' ' ,)" \
	    -o "$B_TMP/stat.via" &
	st=$!
	sleep 0.5
	x=$(download dns44 "")
	kill -INT $st
	wait $st
	log "a megabyte of the download through dns44 ($x Mbit/s):" \
	    "$(awk -F, '$1 ~ /^[0-9]+$/ { sub(/syscalls:sys_enter_/, "", $3);
	    printf "%s %.1f ", $3, $1 / 256 }' "$B_TMP/stat.via")"
fi
for path in dns44 socks5; do
	touch "$B_TMP/dl.$path" "$B_TMP/conn.$path"
	eval d_$path=$(median <"$B_TMP/dl.$path")
	eval c_$path=$(median <"$B_TMP/conn.$path")
done
result "via socks5: download" "$d_dns44" Mbit/s socks5 "$d_socks5" \
    "ratio>=0.8"
result "via socks5: connections/s" "$c_dns44" conn/s socks5 "$c_socks5" \
    "ratio>=0.8"
exit 0
