#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-bounds: what one client can make the DNS side spend.  A UDP answer
# never exceeds "dns udp-size" (1232 by default), whatever EDNS buffer the
# client claims, on the fast path and for relayed answers alike; over TCP
# the whole answer comes.  A TCP client trickling a query a byte at a
# time is dropped at "dns tcp-query-timeout" while others are answered;
# one that says nothing after its query goes at "dns tcp-idle-timeout".
# A TCP client streaming zeros or random bytes is dropped at once and the
# dns process stays cool (utime+stime from /proc); so it does out of
# descriptors with TCP clients waiting to be accepted.  At "dns
# tcp-clients" a new TCP client is closed; one that asks and never reads
# the answers is no longer read, and the dns process does not grow.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
ABUSE="$PYTHON $srcdir/regress/lib/abuseprobe.py"

# big.test: 12 strings of 252 bytes (~3200 bytes); mid.test: 4 (~1100).
S=$(printf '%0250d' 0 | tr 0 x)
set --
i=10
while [ $i -lt 22 ]; do
	set -- "$@" "--txt-record=big.test,$i$S"
	[ $i -lt 14 ] && set -- "$@" "--txt-record=mid.test,$i$S"
	i=$((i + 1))
done
dw_dnsmasq --host-record=world.test,10.44.2.77 "$@"

dw_start bounds <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
dns tcp-idle-timeout 2s
dns tcp-query-timeout 3s
EOF

probe() {
	pr=$1
	shift
	ip netns exec "$GW" $DNSPROBE query "$pr" 127.0.0.1 4453 "$@"
}
# hv OUTPUT KEY: a value of the probe's first line ("flags", "size").
hv() {
	echo "$1" | awk -v k="$2" 'NR == 1 {
	    for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }'
}
# an OUTPUT TYPE: how many answers of that type.
an() {
	echo "$1" | awk -v t="$2" '$1 == "an" && $5 == t' | wc -l
}
expect() {
	[ "$2" = "$3" ] && ok "$1: $2" || fail "$1: got \"$2\", want \"$3\""
}

# --- The UDP answer size -------------------------------------------------
r=$(probe udp big.test TXT --bufsize 65535)
sz=$(hv "$r" size)
expect "EDNS 65535, 3 kB TXT over UDP: flags" "$(hv "$r" flags)" qr,tc,rd,ra
[ "${sz:-9999}" -le 1232 ] && ok "EDNS 65535: a reply of $sz bytes" ||
    fail "EDNS 65535: a reply of $sz bytes, over 1232"
r=$(probe udp mid.test TXT --bufsize 65535)
sz=$(hv "$r" size)
expect "EDNS 65535, 1.1 kB TXT over UDP: flags" "$(hv "$r" flags)" qr,rd,ra
[ "${sz:-0}" -gt 512 ] && [ "${sz:-9999}" -le 1232 ] &&
    ok "EDNS 65535: 4 answers in $sz bytes" ||
    fail "EDNS 65535, 1.1 kB TXT: $sz bytes"
r=$(probe tcp big.test TXT --bufsize 65535)
expect "3 kB TXT over TCP: flags" "$(hv "$r" flags)" qr,rd,ra
expect "3 kB TXT over TCP: all 12 answers" "$(an "$r" TXT)" 12
# The fast path (a plain A query with an OPT) under the same claim.
r=$(probe udp fast.test A --bufsize 65535)
expect "EDNS 65535, A on the fast path: flags" "$(hv "$r" flags)" qr,rd,ra
expect "EDNS 65535, A on the fast path: one answer" "$(an "$r" A)" 1
f=$(qfull big.test TXT +bufsize=65535 | flags_of)
case $f in
*tc*)	ok "kdig +bufsize=65535: flags $f" ;;
*)	fail "kdig +bufsize=65535: flags $f, no TC" ;;
esac

# --- A TCP query trickled a byte a second --------------------------------
ip netns exec "$GW" $ABUSE trickle 127.0.0.1 4453 slow.test 1 12 \
    >"$T_TMP/trickle.out" 2>&1 &
tpid=$!
T_PIDS="$T_PIDS $tpid"
sleep 0.5
good=0
for i in 1 2 3 4; do
	in_range "$(q meanwhile$i.test A)" && good=$((good + 1))
	in_range "$(q meanwhile-tcp$i.test A +tcp)" && good=$((good + 1))
	sleep 0.4
done
expect "other clients answered while it trickles" "$good" 8
wait $tpid
out=$(cat "$T_TMP/trickle.out")
set -- $out
if [ "${1:-}" = closed ] && awk -v t="$3" 'BEGIN { exit !(t >= 2.5 &&
    t < 5) }'; then
	ok "trickling client dropped at the 3 s deadline: $out"
else
	fail "trickling client: $out, want closed after 3-5 s"
fi
# A whole query at once, then silence: the idle limit (2 s) ends it.
out=$(ip netns exec "$GW" $ABUSE trickle 127.0.0.1 4453 quick.test 0.01 12)
set -- $out
if [ "${1:-}" = closed ] && awk -v t="$3" 'BEGIN { exit !(t >= 1.8 &&
    t < 4.5) }'; then
	ok "silent client after its query dropped at the idle limit: $out"
else
	fail "silent client after its query: $out, want closed after 2-4 s"
fi

# --- Streams of zeros and of random bytes --------------------------------
# A dns process that read the streams through, or spun, would use most of
# a CPU; this one uses 8-14 % here, 19-29 % with the sanitizers.
hz=$(getconf CLK_TCK)
cpu_max=20
sanitized && cpu_max=50
for kind in zero random; do
	c0=$(cpu_ticks "$DD")
	out=$(ip netns exec "$GW" $ABUSE stream 127.0.0.1 4453 $kind 3)
	c1=$(cpu_ticks "$DD")
	pct=$(( (c1 - c0) * 100 / hz / 3 ))
	set -- $out
	what="a stream of $kind bytes for 3 s: the dns process used"
	[ "$pct" -lt "$cpu_max" ] && ok "$what $pct% of a CPU ($out)" ||
	    fail "$what $pct% of a CPU ($out)"
	awk -v t="$6" 'BEGIN { exit !(t < 1) }' &&
	    ok "$kind stream: each connection dropped within ${6}s" ||
	    fail "$kind stream: a connection lasted ${6}s"
done
logged_drop=$(grep -c "dropping the client" "$DLOG")
[ "$logged_drop" -ge 1 ] && [ "$logged_drop" -le 12 ] &&
    ok "the streams were logged in $logged_drop lines" ||
    fail "the streams were logged in $logged_drop lines"

a=$(q after.test A)
in_range "$a" && ok "a normal query answered after it all: $a" ||
    fail "no answer at the end: \"$a\""
[ "$(child_pid "$DP" dns)" = "$DD" ] && ok "the dns process is still $DD" ||
    fail "the dns process changed"
grep -Ei 'fatal|killed by signal|exited|sanitizer' "$DLOG" &&
    fail "the log shows a death"
dw_stop "$DP"

# --- Out of descriptors: the TCP listeners rest -------------------------
# dns44 again with 40 descriptors a process: 60 TCP clients at once, the
# dns process accepts what fits and the rest wait in the listener's queue
# while accepting them fails; it must not spin on them.
DCF2=$(conf_write fdlow <<EOF
dns listen 127.0.0.1 port 4454
dns upstream $DW_UP
dns tcp-idle-timeout 3s
EOF
)
ip netns exec "$GW" prlimit --nofile=40:40 "$DNS44" -d -f "$DCF2" \
    >"$T_TMP/fdlow.log" 2>&1 &
DP2=$!
T_PIDS="$T_PIDS $DP2"
wait_for 5 daemon_ready "$DP2" || die "fdlow: no start: $(cat "$T_TMP/fdlow.log")"
DD2=$(child_pid "$DP2" dns)
wait_for 5 dw_listening "$GW" tcp "127.0.0.1:4454" || die "fdlow: no TCP"
ip netns exec "$GW" $PYTHON "$srcdir/regress/lib/proxyprobe.py" holdmany \
    127.0.0.1 4454 60 3 >"$T_TMP/held" 2>&1 &
hp=$!
sleep 0.5
c0=$(cpu_ticks "$DD2")
sleep 2
c1=$(cpu_ticks "$DD2")
pct=$(( (c1 - c0) * 100 / hz / 2 ))
[ "$pct" -lt 10 ] &&
    ok "out of descriptors, TCP clients waiting: $pct% of a CPU" ||
    fail "out of descriptors, TCP clients waiting: $pct% of a CPU"
wait "$hp"
grep -q "DNS: accept: Too many open files" "$T_TMP/fdlow.log" &&
    ok "the shortage logged" || fail "no accept line: $(tail -n 3 \
    "$T_TMP/fdlow.log")"
back() { [ -n "$(DW_PORT=4454 q +tcp tcp-after.test A)" ]; }
wait_for 8 back && ok "over TCP again once the clients are gone" ||
    fail "no TCP answer after the shortage"
dw_stop "$DP2"

# --- All the TCP places taken; a client that never reads ----------------
# dns tcp-clients 4: a fifth TCP client is closed at once while UDP is
# answered, and TCP is back once the four have gone.  Then one client
# asks without reading (the namespace's TCP buffers 64 kB at most): the
# dns process stops reading it once 256 kB of answers wait, so its
# writes block within a second and the process does not grow.
dw_start tcpmax <<EOF
dns listen 127.0.0.1 port 4455
dns upstream $DW_UP
dns tcp-clients 4
dns per-client tcp-clients 50
EOF
DP3=$DP DD3=$DD
ip netns exec "$GW" $PYTHON "$srcdir/regress/lib/proxyprobe.py" holdmany \
    127.0.0.1 4455 4 3 >"$T_TMP/held4" 2>&1 &
hp=$!
sleep 1
r=$(DW_PORT=4455 q +tcp +retry=0 fifth.test A)
[ -z "$r" ] && ok "a fifth TCP client with four held: closed" ||
    fail "a fifth TCP client with four held: answered $r"
in_range "$(DW_PORT=4455 q udp-meanwhile.test A)" &&
    ok "UDP answered while TCP is full" || fail "no UDP answer, TCP full"
wait "$hp"
expect "the four held" "$(cat "$T_TMP/held4")" "connected 4 of 4"
back() { in_range "$(DW_PORT=4455 q +tcp +retry=0 fifth-again.test A)"; }
wait_for 5 back && ok "TCP answered again once the four have gone" ||
    fail "no TCP answer after the four have gone"

ip netns exec "$GW" sysctl -qw net.ipv4.tcp_rmem="4096 16384 65536" \
    net.ipv4.tcp_wmem="4096 16384 65536" || die "TCP buffer sysctls"
in_range "$(DW_PORT=4455 q noread.test A)" || fail "noread.test not mapped"
rss0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DD3/status")
out=$(ip netns exec "$GW" $ABUSE noread 127.0.0.1 4455 noread.test 4)
rss1=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DD3/status")
set -- $out
[ "${1:-}" = sent ] && awk -v b="$4" 'BEGIN { exit !(b >= 2) }' &&
    ok "a client that does not read is not read either: $out" ||
    fail "a client that does not read: $out, want its writes blocked"
[ $((rss1 - rss0)) -lt 8192 ] &&
    ok "the dns process grew by $((rss1 - rss0)) kB for it" ||
    fail "the dns process grew by $((rss1 - rss0)) kB for a client" \
    "that does not read"
in_range "$(DW_PORT=4455 q +tcp noread-after.test A)" &&
    ok "TCP answered after it" || fail "no TCP answer after the reader"
dw_stop "$DP3"
exit $T_FAILED
