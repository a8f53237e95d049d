# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dnsworld.sh: what the DNS end-to-end tests share.  Source it after
# netns.sh.  It builds two namespaces of the test's own:
#
#   $GW     dns44, queried on 127.0.0.1 port 4453; veth 10.44.2.1/24
#   $WORLD  the upstream: dnsmasq on 10.44.2.2 port 53; veth 10.44.2.2/24
#
# and nothing here sends a packet anywhere else.  Everything started here
# runs inside one of the two namespaces, so netns.sh's trap ends it.

DW_GW_ADDR=10.44.2.1
DW_UP=10.44.2.2
# The system's python3 first: version managers' shims cost half a second
# a call.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
DNSPROBE="$PYTHON $srcdir/regress/lib/dnsprobe.py"

# dw_setup: the two namespaces and the veth pair between them.  A tool
# missing is a skip (77), as root missing is.
dw_setup() {
	for tool in dnsmasq kdig socat tdbdump ss; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "needs $tool"
			exit 77
		fi
	done
	t_setup
	ns_new
	GW=$NS
	ns_new
	WORLD=$NS
	ip -n "$GW" link add dw0 type veth peer name dw1 netns "$WORLD" ||
	    die "veth pair"
	ip -n "$GW" addr add "$DW_GW_ADDR/24" dev dw0 &&
	    ip -n "$WORLD" addr add "$DW_UP/24" dev dw1 &&
	    ip -n "$GW" link set dw0 up &&
	    ip -n "$WORLD" link set dw1 up || die "veth addresses"
}

# dw_listening NS PROTO ADDR:PORT: something listens there.
dw_listening() {
	ip netns exec "$1" ss -Hln -A "$2" | awk '{ print $4 }' |
	    grep -qx "$3"
}

# dw_dnsmasq [dnsmasq options...]: the upstream, with the records given,
# in $WORLD; its log is $DW_DNSMASQ_LOG.  It answers UDP with up to 4096
# bytes, so a large answer needs no TCP to the upstream.
dw_dnsmasq() {
	DW_DNSMASQ_LOG=$T_TMP/dnsmasq.log
	ip netns exec "$WORLD" dnsmasq --no-daemon --no-resolv --no-hosts \
	    --port 53 --listen-address "$DW_UP" --bind-interfaces \
	    --user=root --pid-file="$T_TMP/dnsmasq.pid" --log-queries \
	    --log-facility="$DW_DNSMASQ_LOG" --edns-packet-max=4096 \
	    --cache-size=0 "$@" >"$T_TMP/dnsmasq.out" 2>&1 &
	T_PIDS="$T_PIDS $!"
	wait_for 5 dw_listening "$WORLD" udp "$DW_UP:53" &&
	    wait_for 5 dw_listening "$WORLD" tcp "$DW_UP:53" || {
		cat "$T_TMP/dnsmasq.out"
		die "dnsmasq did not start"
	}
}

# dw_sink PORT: a silent upstream on $DW_UP:PORT (reads and never answers).
dw_sink() {
	ip netns exec "$WORLD" socat -u "UDP4-RECV:$1,bind=$DW_UP" \
	    /dev/null &
	T_PIDS="$T_PIDS $!"
	wait_for 5 dw_listening "$WORLD" udp "$DW_UP:$1" ||
	    die "sink on port $1 did not start"
}

# dw_start NAME [dns44 flags...] <conf lines: a daemon in $GW whose
# configuration is in $T_TMP/NAME; pids in DP (parent) and DD (dns),
# log in DLOG, database file in DB.  A second daemon in $GW needs its own
# "dns listen ... port" and "proxy listen ... port" lines.
dw_start() {
	dn=$1
	shift
	DCF=$(conf_write "$dn")
	DLOG=$T_TMP/$dn/log
	DB=$T_TMP/$dn/db/dns44.tdb
	daemon_start "$GW" "$DCF" "$DLOG" "$@"
	DP=$D_PID
	wait_for 5 daemon_ready "$DP" || { cat "$DLOG"; die "$dn: no start"; }
	DD=$(child_pid "$DP" dns)
	dport=$(awk '$1 == "dns" && $2 == "listen" && $4 == "port" {
	    p = $5 } END { print p ? p : 4453 }' "$DCF")
	wait_for 5 dw_listening "$GW" udp "127.0.0.1:$dport" ||
	    die "$dn: not listening on port $dport"
}

# The options every query takes: short, one try, no retry over TCP.
DW_KDIG_OPTS="+timeout=2 +retry=0 +ignore"

# q [kdig args...]: kdig in $GW at dns44 ($DW_PORT, default 4453), short
# output (the answers' rdata, one a line; nothing when no reply came).
q() {
	ip netns exec "$GW" kdig @127.0.0.1 -p "${DW_PORT:-4453}" \
	    $DW_KDIG_OPTS +short "$@" 2>/dev/null | grep -v '^;;'
}

# qfull [kdig args...]: the same, whole output.
qfull() {
	ip netns exec "$GW" kdig @127.0.0.1 -p "${DW_PORT:-4453}" \
	    $DW_KDIG_OPTS "$@" 2>&1
}

# rcode_of: the status of a full kdig output on stdin (NOERROR, ...).
rcode_of() {
	sed -n 's/.*status: \([A-Z0-9]*\).*/\1/p' | head -n 1
}

# flags_of: the header flags of a full kdig output, e.g. "qr rd ra".
flags_of() {
	sed -n 's/^;; Flags: \([^;]*\);.*/\1/p' | head -n 1 | sed 's/ *$//'
}

# in_range ADDR: ADDR is a usable address of 172.24.0.0/16, not its
# network or broadcast address.
in_range() {
	echo "$1" | awk -F. 'NF != 4 || $1 != 172 || $2 != 24 { exit 1 }
	    { for (i = 3; i <= 4; i++)
		if ($i !~ /^[0-9]+$/ || $i > 255) exit 1 }
	    $3 == 0 && $4 == 0 { exit 1 }
	    $3 == 255 && $4 == 255 { exit 1 }'
}

# ptr_name A.B.C.D: its in-addr.arpa name.
ptr_name() {
	echo "$1" | awk -F. '{ printf "%s.%s.%s.%s.in-addr.arpa.\n",
	    $4, $3, $2, $1 }'
}

# The parent, and with it its children, stopped (status ignored).
dw_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
