#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# journal: names from the network cannot forge journal lines.  A client
# asks for names whose labels hold ']', ' ', a newline and "<=>" (sent as
# raw bytes; an upstream that answers anything gives them a real
# address), connects through the proxy, and every line that names them,
# the proxy's [+] and [-] lines, the dns process's verbose query lines and
# dns44ctl's listings, has them escaped as \DDD and is one line.  A flood
# of failing connections gives at most a line a second.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
ABUSE="$PW_PYTHON $srcdir/regress/lib/abuseprobe.py"
in_w $ABUSE anyupstream "$PW_W" 53 "$PW_W" >"$T_TMP/up.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 pw_listening "$WORLD" udp "$PW_W:53" || die "no upstream"
pw_serve halfserver 7000
pw_start d <<EOF2
log verbose
EOF2
CTL=$T_TMP/d/ctl.sock

hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# name NAME-FOR-THE-TEST LABEL...: ask for the raw labels; the virtual
# address in $v.
name() {
	what=$1
	shift
	set -- $(for l in "$@"; do hex "$l"; echo; done)
	v=$(in_cl $ABUSE rawname "$PW_GW_ADDR" 53 "$@")
	case $v in
	172.24.*)	ok "$what: mapped to $v" ;;
	*)		fail "$what: $v" ;;
	esac
}

nl='
'
name forged 'a]:443<=>[bank' com
v1=$v
name blank 'x y' test
v2=$v
name newline "new${nl}line" test
v3=$v
name prefix '[+] TCP 1.2.3.4:5 <=> [evil' test
v4=$v

for a in $v1 $v2 $v3 $v4; do
	expect "a connection to $a" \
	    "$(in_cl $PW_PROBE halfclient "$a" 7000 100 2>&1)" ok
done

esc1='a\\093\\058443\\060\\061\\062\\091bank\.com'
esc2='x\\032y\.test'
esc3='new\\010line\.test'
# The dots inside that label are escaped too: they are not separators.
esc4='\\091\\043\\093\\032[Tt][Cc][Pp]\\0321\\0462\\0463\\0464\\0585'
esc4=$esc4'\\032\\060\\061\\062\\032\\091evil\.test'
i=1
for e in "$esc1" "$esc2" "$esc3" "$esc4"; do
	eval a=\$v$i
	f="TCP $(re "$PW_CL_ADDR"):[0-9]+ <=> \\[$e\\($(re "$a")\\)\\]:7000"
	logged "proxy: \[\+\] $f$(to_w 7000)\$" && ok "[+] line $i escaped" ||
	    fail "[+] line $i: $(grep -F "($a)" "$DLOG")"
	logged "proxy: \[-\] $f sent 100 received 73 bytes in " &&
	    ok "[-] line $i escaped" ||
	    fail "[-] line $i: $(grep -F "($a)" "$DLOG")"
	logged "dns: DNS $(re "$PW_CL_ADDR"):[0-9]+ \?A $e\.? => \[$(re "$a")\]" &&
	    ok "dns query line $i escaped" ||
	    fail "dns query line $i: $(grep -F "$a]" "$DLOG")"
	i=$((i + 1))
done

# Every line is one event: a time stamp, a role; one "<=>" at most.
bad=$(grep -v -E '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:.]+ [a-z]+: ' "$DLOG")
[ -z "$bad" ] && ok "every journal line starts with its time and role" ||
    fail "lines without their own start: $bad"
bad=$(grep -E '<=>.*<=>' "$DLOG")
[ -z "$bad" ] && ok "no line holds two flows" || fail "forged: $bad"
grep -F -e 'a]:443' -e '[evil' "$DLOG" >"$T_TMP/raw" &&
    fail "a raw name: $(cat "$T_TMP/raw")"

"$DNS44CTL" -s "$CTL" show map >"$T_TMP/map" 2>&1
grep -q -E "^$esc1 +$(re "$v1") " "$T_TMP/map" &&
    grep -q -E "^$esc3 +$(re "$v3") " "$T_TMP/map" &&
    ok "dns44ctl show map: names escaped" ||
    fail "dns44ctl show map: $(cat "$T_TMP/map")"
[ "$(grep -c -v '^DOMAIN ' "$T_TMP/map")" -eq \
    "$(grep -c -E '^[^ ]+ +[0-9.]+ ' "$T_TMP/map")" ] &&
    ok "dns44ctl show map: one line a mapping" ||
    fail "dns44ctl show map: $out"

# A connection held open, as dns44ctl lists it.
in_cl $PW_PROBE hold "$v1" 7000 3 >/dev/null 2>&1 &
hpid=$!
opened() {
	[ "$(grep -c -E "proxy: \[\+\] TCP .*<=> \[$esc1\($(re "$v1")\)\]:7000$(to_w 7000)\$" \
	    "$DLOG")" -eq 2 ]
}
wait_for 3 opened || fail "the held connection did not open"
"$DNS44CTL" -s "$CTL" show connections >"$T_TMP/conns" 2>&1
grep -q -E "^tcp +$(re "$PW_CL_ADDR"):[0-9]+ +$esc1 +$(re "$v1"):7000 " \
    "$T_TMP/conns" &&
    ok "dns44ctl show connections: the name escaped" ||
    fail "dns44ctl show connections: $(cat "$T_TMP/conns")"
wait $hpid

# A flood of connections the real server refuses (port 81 is closed).
sleep 1
t0=$(date +%s%N)
expect "a flood of 200 refused connections" \
    "$(in_cl $PW_PROBE resets "$v1" 81 200 2>&1)" "200 reset"
secs=$((($(date +%s%N) - t0) / 1000000000 + 1))
sleep 1.1
in_cl $PW_PROBE closed "$v2" 81 >/dev/null
lines=$(grep -c "dial $(re "$PW_W"):81: Connection refused" "$DLOG")
# At most a line a second in each proxy worker.
nw=$(echo $DXS | wc -w)
[ "$lines" -ge 1 ] && [ "$lines" -le $(((secs + 1) * nw)) ] &&
    ok "the flood logged $lines line(s) in ${secs}s" ||
    fail "the flood logged $lines lines in ${secs}s"
refused="dial $(re "$PW_W"):81: Connection refused"
logged "$refused \([0-9]+ more like it suppressed\)\$" &&
    ok "the flood's suppressed lines counted" ||
    fail "the flood: $(grep ':81' "$DLOG" | tail -n 3)"

pw_stop
exit $T_FAILED
