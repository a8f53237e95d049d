#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store-hostile: the map's store is a hostile server (fakeredis.py) that
# answers wrongly wherever it can.  The dns process lives through all of
# it: a ROLE of the wrong kind is refused, of the records it reads and the
# changes it hears only the well-formed ones inside the range reach the
# map (of its own changes, only what it forgot), a reply without end is
# dropped at a bound, a wrong answer to a new name is a SERVFAIL and a
# new link, and known names are answered throughout.  Asked as a
# Sentinel, it names a primary inside the range, which is refused.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq --address=/#/10.44.2.99
RPORT=6396
ip netns exec "$WORLD" $PYTHON "$srcdir/regress/lib/fakeredis.py" "$DW_UP" \
    $RPORT "$T_TMP/fake.log" >"$T_TMP/fake.out" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 5 dw_listening "$WORLD" tcp "$DW_UP:$RPORT" ||
    { cat "$T_TMP/fake.out"; die "fakeredis did not start"; }

dw_start a <<EOF2
dns upstream $DW_UP
database redis $DW_UP port $RPORT
EOF2
CTL=$T_TMP/a/ctl.sock
# up: the link is up now (every loss is logged once, as every return).
up() {
	[ "$(grep -c 'map store.*: up,' "$DLOG")" -ge 1 ] &&
	    [ "$(grep -c 'map store.*: up,' "$DLOG")" -ge \
	    "$(grep -c 'map store.*until it is back' "$DLOG")" ]
}
wait_for 5 up || { cat "$DLOG"; die "never up"; }
grep -q "not the primary" "$DLOG" && ok "a ROLE of the wrong kind is refused" ||
    fail "ROLE: $(grep "map store" "$DLOG")"
shown() {
	"$DNS44CTL" -s "$CTL" show map | awk -v n="$1" '$1 == n { print $2 }'
}
pushed() { [ "$(shown pushed.example)" = 172.24.0.20 ]; }
wait_for 3 pushed && ok "a good change among junk is applied" ||
    fail "pushed.example: '$(shown pushed.example)'"
[ "$(shown good.example)" = 172.24.0.9 ] &&
    ok "a good record among bad ones is read" ||
    fail "good.example: '$(shown good.example)'"
[ "$(shown other.example)" = 172.24.0.21 ] &&
    ok "another gateway's change is applied" ||
    fail "other.example: '$(shown other.example)'"
n=$("$DNS44CTL" -s "$CTL" show map | tail -n +2 | grep -c .)
[ "$n" -eq 3 ] && ok "nothing else reached the map" ||
    fail "map: $("$DNS44CTL" -s "$CTL" show map)"
grep -q "of an unknown form ignored" "$DLOG" &&
    ok "the bad records and changes are told of" ||
    fail "no warning of the bad records"

[ "$(q fine.example A)" = 172.24.0.30 ] && ok "a good assignment is answered" ||
    fail "fine.example: '$(q fine.example A)'"
# Then a message of this gateway's own: the name it forgets is forgotten,
# the new one is not taken (its own new names come with the answers).
forgot() { [ -z "$(shown pushed.example)" ]; }
wait_for 3 forgot &&
    ok "our own change forgetting a name is applied" ||
    fail "pushed.example: '$(shown pushed.example)'"
[ -z "$(shown mine.example)" ] && ok "our own new names are not taken twice" ||
    fail "mine.example: '$(shown mine.example)'"
# Each asked with the link up; each wrong answer drops it, and a new
# link asks ROLE again.
hwm() { awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$DD/status"; }
roles() { grep -c '^ROLE' "$T_TMP/fake.log"; }
hwm0=$(hwm)
for bad in arr arr3 short flag full out nil err deep garbage big wide; do
	wait_for 5 up || fail "not up before $bad.example"
	n0=$(roles)
	r=$(qfull "$bad.example" A | rcode_of)
	[ "$r" = SERVFAIL ] && ok "$bad.example: SERVFAIL" ||
	    fail "$bad.example: '$r'"
	[ -z "$(shown "$bad.example")" ] || fail "$bad.example reached the map"
	anew() { [ "$(roles)" -gt "$n0" ]; }
	wait_for 5 anew || fail "$bad.example: the link was kept"
	kill -0 "$DD" 2>/dev/null || die "the dns process died at $bad.example"
done
# The replies without end were not held whole: the dns process's peak
# grew by far less than the 64 MiB of the one or the ~70 MiB of the
# other's million elements.
hwm1=$(hwm)
[ $((hwm1 - hwm0)) -lt 32 ] &&
    ok "replies without end dropped at a bound (peak $hwm0 -> $hwm1 MiB)" ||
    fail "the dns process's peak: $hwm0 -> $hwm1 MiB"
grep -q "a reply of more than 4 MiB or 65536 elements" "$DLOG" &&
    ok "the oversized reply is told of" ||
    fail "no word of the oversized reply: $(grep "map store" "$DLOG" | tail -3)"
wait_for 5 up || fail "not up at the end"
[ "$(q good.example A)" = 172.24.0.9 ] && ok "known names answered throughout" ||
    fail "good.example: '$(q good.example A)'"
links=$(roles)
[ "$links" -ge 13 ] && ok "each broken link made anew ($links)" ||
    fail "ROLE asked $links times"
kill -0 "$DD" 2>/dev/null && ok "the dns process lives" || fail "dns died"
dw_stop "$DP"

# The same server as a Sentinel names a primary inside the range: never
# dialled, asked again.
dw_start b <<EOF2
dns upstream $DW_UP
database sentinel $DW_UP port $RPORT
EOF2
asked() { [ "$(grep -c '^SENTINEL' "$T_TMP/fake.log")" -ge 2 ]; }
wait_for 5 asked || fail "the Sentinel was not asked again"
grep -q "Sentinel: the primary 172.24.0.9 lies inside the virtual range" \
    "$DLOG" && ok "a primary inside the range is refused" ||
    fail "no refusal: $(grep "map store" "$DLOG" | tail -3)"
grep -q "map store.*: up," "$DLOG" && fail "b's store came up"
dw_stop "$DP"
exit ${T_FAILED:-0}
