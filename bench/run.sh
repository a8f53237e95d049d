#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# run.sh: dns44's benchmarks (make bench).  Installs what they need with
# apt-get when it is missing, runs each benchmark, and prints the results
# table; the table goes to $BENCH_OUT/results.txt and each benchmark's log
# to $BENCH_OUT/NAME.log.  Needs root (network namespaces).
#
# Environment:
#   DNS44          the daemon (required)
#   MAPBENCH       bench/mapbench, for map.sh (make bench sets it)
#   NAMESBENCH     bench/namesbench, for names.sh (make bench sets it)
#   NULLRELAY      bench/nullrelay, for conn.sh (make bench sets it)
#   BENCH_OUT      where results go (default ./bench-results)
#   BENCHES        which, in order (default "dns verify store script
#                  failover dot mem map names rules tcp conn udp via curve")
#   BENCH_QUICK=1  short runs: checks the harness, not the daemon
#   PROFILE=0      no perf profile of the dns process (default: one when
#                  perf works)
#   each benchmark's own knobs (DNS_TIME, TCP_TIME, ...): see its header

set -u
BENCH_SRC=$(cd "$(dirname "$0")" && pwd)
: "${DNS44:?set DNS44 to the dns44 binary (make bench does)}"
: "${BENCH_OUT:=$(pwd)/bench-results}"
: "${BENCHES:=dns verify store script failover dot mem map names rules tcp conn udp via curve}"
: "${BENCH_QUICK:=0}"
export DNS44 BENCH_SRC BENCH_OUT BENCH_QUICK
if [ -n "${MAPBENCH:-}" ]; then export MAPBENCH; fi
if [ -n "${NAMESBENCH:-}" ]; then export NAMESBENCH; fi

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 1
fi
[ -x "$DNS44" ] || { echo "bench: no $DNS44 (make first)" >&2; exit 1; }

# --- What the benchmarks need, from Debian's packages -----------------
need() {	# COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || MISSING="$MISSING $2"
}
MISSING=
need dnsperf dnsperf
need unbound unbound
need openssl openssl
need tor tor
need haproxy haproxy
need iperf3 iperf3
need nginx nginx-light
need wrk wrk
need python3 python3
need ip iproute2
need nft nftables
need microsocks microsocks
need gnuplot gnuplot-nox
need redis-server redis-server
if [ -n "$MISSING" ]; then
	echo "bench: installing$MISSING"
	# The packages' services must not start (tor would go looking for
	# the Tor network): policy-rc.d says no while apt-get runs, and
	# the services of what we installed are disabled afterwards.
	PRC=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		PRC=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$PRC"
		chmod 755 "$PRC"
		trap 'rm -f "$PRC"' EXIT
		trap 'exit 1' INT TERM HUP
	fi
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $MISSING; } \
	    >/tmp/dns44-bench-apt.log 2>&1 || {
		tail -20 /tmp/dns44-bench-apt.log >&2
		echo "bench: apt-get install failed" >&2
		exit 1
	}
	if [ -d /run/systemd/system ]; then
		for s in $MISSING; do
			case $s in
			nginx-light)	s=nginx ;;
			unbound|tor|haproxy|iperf3|redis-server) ;;
			*)		continue ;;
			esac
			systemctl disable --now "$s" >/dev/null 2>&1
		done
	fi
	[ -n "$PRC" ] && rm -f "$PRC"
fi
if [ -z "${PROFILE:-}" ]; then
	PROFILE=0
	command -v perf >/dev/null 2>&1 &&
	    perf record -o /dev/null -- true >/dev/null 2>&1 && PROFILE=1
fi
export PROFILE

# --- The runs ---------------------------------------------------------
mkdir -p "$BENCH_OUT" || exit 1
BENCH_RESULTS=$BENCH_OUT/results.tsv
export BENCH_RESULTS
: >"$BENCH_RESULTS"
rm -f "$BENCH_OUT/dns-profile.txt" "$BENCH_OUT/conn-profile.txt" \
    "$BENCH_OUT/verify-profile.txt" "$BENCH_OUT/dot-profile.txt" \
    "$BENCH_OUT"/curve-*

start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
failed=
for b in $BENCHES; do
	echo "bench: $b ..."
	t0=$(date +%s)
	# stderr carries the progress lines; everything goes to the log.
	sh "$BENCH_SRC/$b.sh" >"$BENCH_OUT/$b.log" 2>&1
	rc=$?
	grep -E '^\[[a-z]+\] [^ ]' "$BENCH_OUT/$b.log" |
	    grep -E ': .*(peer|FATAL)|FATAL' | sed 's/^/  /'
	[ $rc -eq 0 ] || {
		echo "bench: $b failed (status $rc), see $BENCH_OUT/$b.log"
		failed="$failed $b"
	}
	echo "bench: $b took $(( $(date +%s) - t0 )) s"
done
total=$(( $(date +%s) - start ))

# --- The table ---------------------------------------------------------
{
	echo "dns44 benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
	v=$(git -C "$BENCH_SRC/.." describe --always --dirty 2>/dev/null)
	echo "$("$DNS44" -version 2>&1 | head -n 1)${v:+ (git $v)}"
	echo "$(nproc) CPUs, $(uname -r), load average at start $load0," \
	    "$total s in all$([ "$BENCH_QUICK" = 1 ] && echo ", BENCH_QUICK=1")"
	echo
	awk -F '\t' '
	BEGIN {
		printf "%-5s %-44s %10s %-7s %-8s %10s %6s  %-11s %s\n",
		    "bench", "figure", "dns44", "unit", "peer", "peer",
		    "ratio", "target", "met"
	}
	{
		printf "%-5s %-44s %10s %-7s %-8s %10s %6s  %-11s %s\n",
		    $1, $2, $3, $4, $5, $6, $7, $8, $9
	}' "$BENCH_RESULTS"
	echo
	echo "ratio = dns44 / peer; target ratio>=X is on the ratio," \
	    "value<=X on dns44's figure."
	if [ -s "$BENCH_OUT/dns-profile.txt" ]; then
		echo
		echo "dns process under the mapped-names load (perf):"
		sed 's/^/  /' "$BENCH_OUT/dns-profile.txt"
	fi
	if [ -s "$BENCH_OUT/verify-profile.txt" ]; then
		echo
		echo "dns process verifying new names (perf):"
		sed 's/^/  /' "$BENCH_OUT/verify-profile.txt"
	fi
	if [ -s "$BENCH_OUT/dot-profile.txt" ]; then
		echo
		echo "dns process forwarding over TLS (perf):"
		sed 's/^/  /' "$BENCH_OUT/dot-profile.txt"
	fi
	if [ -s "$BENCH_OUT/conn-profile.txt" ]; then
		echo
		echo "proxy process under the connections load (perf):"
		sed 's/^/  /' "$BENCH_OUT/conn-profile.txt"
	fi
	for png in "$BENCH_OUT"/curve-*.png; do
		[ -s "$png" ] || continue
		echo
		echo "pictures: $BENCH_OUT/curve-*.png (figures in curve-*.dat)"
		break
	done
	[ -n "$failed" ] && echo && echo "FAILED:$failed (see the logs)"
} >"$BENCH_OUT/results.txt"
echo
cat "$BENCH_OUT/results.txt"
echo
echo "bench: results in $BENCH_OUT/results.txt, logs in $BENCH_OUT/*.log"
[ -z "$failed" ]
