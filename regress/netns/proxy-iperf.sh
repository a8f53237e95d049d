#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxy-iperf: iperf3 over TCP and over UDP runs to completion through the
# proxy (the client knows the server by name only); the same tests on the
# direct path (the real address, forwarded by the gateway without dns44)
# are run alongside, and both throughputs printed.  The pipe that carried
# the TCP stream grew.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup iperf3
pw_dnsmasq
pw_start d </dev/null
in_w iperf3 -s -B "$PW_W" >"$T_TMP/iperf3.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" tcp "$PW_W:5201" || die "iperf3 -s"

# The UDP rate offered; UDP_RATE in the environment changes it.
UDP_RATE=${UDP_RATE:-500M}

# summary TCP|UDP: "RATE Mbit/s" as the receiver saw it (and for UDP
# the datagrams lost) from iperf3's JSON on stdin.
summary() {
	$PW_PYTHON -c '
import json, sys
r = json.load(sys.stdin)
if "error" in r:
    print("error: " + r["error"]); sys.exit(1)
e = r["end"]
if sys.argv[1] == "TCP":
    print("%.0f Mbit/s" % (e["sum_received"]["bits_per_second"] / 1e6))
else:
    s = e.get("sum_received", e["sum"])
    print("%.0f Mbit/s received, %.2f%% lost" % (
        s["bits_per_second"] / 1e6, e["sum"]["lost_percent"]))' "$1"
}

# run TCP|UDP TARGET: one iperf3 test of 3 s; "RATE ..." or "error: ...".
run() {
	if [ "$1" = UDP ]; then
		set -- "$1" "$2" -u -b "$UDP_RATE"
	fi
	pr=$1 target=$2
	shift 2
	in_cl iperf3 -c "$target" -t 3 -J "$@" >"$T_TMP/run.json" 2>&1
	summary "$pr" <"$T_TMP/run.json" 2>/dev/null ||
	    echo "error: $(head -c 300 "$T_TMP/run.json")"
}

# pipe_sizes PID...: the sizes of the processes' pipes, one a line (the
# pipe opened again through /proc for reading, never read).
pipe_sizes() {
	$PW_PYTHON -c '
import fcntl, os, sys
for pid in sys.argv[1:]:
    d = "/proc/%s/fd" % pid
    for fd in os.listdir(d):
        try:
            if not os.readlink(d + "/" + fd).startswith("pipe:"):
                continue
            f = os.open(d + "/" + fd, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        print(fcntl.fcntl(f, fcntl.F_GETPIPE_SZ))
        os.close(f)' "$@"
}
# While a TCP stream goes through, its pipe has grown to 256 kB.  The
# other pipes are libevent's own and the pool's, 64 kB or 256 kB.
in_cl iperf3 -c iperf.test -t 3 >/dev/null 2>&1 &
ip=$!
sleep 1.5
sizes=$(pipe_sizes $DXS | sort -n | uniq -c | tr '\n' ' ')
pipe_sizes $DXS | grep -qx 262144 &&
    ! pipe_sizes $DXS | grep -qvxE '65536|262144' &&
    ok "a stream's pipe is 256 kB (pipes by size: $sizes)" ||
    fail "pipes by size during a stream: $sizes"
wait $ip

for pr in TCP UDP; do
	via=$(run $pr iperf.test)
	direct=$(run $pr "$PW_W")
	case $via in
	error*)	fail "$pr through the proxy: $via" ;;
	*)	ok "$pr through the proxy: $via (direct: $direct)" ;;
	esac
	case $direct in
	error*)	fail "$pr direct: $direct" ;;
	esac
done

v=$(cl_q iperf.test A)
logged "proxy: \[-\] $(flow TCP - iperf.test "$v" 5201) sent [0-9]{9,} " &&
    ok "journal: the TCP test's data connection" ||
    fail "journal: no TCP data connection"
logged "proxy: \[\+\] $(flow UDP - iperf.test "$v" 5201)$(to_w 5201)\$" &&
    ok "journal: the UDP test's session" || fail "journal: no UDP session"

pw_stop
exit $T_FAILED
