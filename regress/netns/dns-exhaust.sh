#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-exhaust: a range of 14 addresses.  14 names get 14 addresses; a 15th
# within ttl + grace gets SERVFAIL at once; after ttl + grace it gets the
# least recently answered address, whose PTR then names it; hundreds of
# names in a row are all answered, NOERROR or SERVFAIL, never silence.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq --host-record=world.test,10.44.2.77

dw_start ex <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
range 172.24.0.0/28
dns ttl 1
reuse-grace 2s
EOF

# in28 ADDR: one of 172.24.0.1 .. 172.24.0.14.
in28() {
	echo "$1" | awk -F. 'NF != 4 || $1 != 172 || $2 != 24 || $3 != 0 ||
	    $4 !~ /^[0-9]+$/ || $4 < 1 || $4 > 14 { exit 1 }'
}

# status NAME [TYPE]: the rcode of a query, "none" if no reply came.
status() {
	s=$(qfull "$1" "${2:-A}" | rcode_of)
	echo "${s:-none}"
}

expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# 14 names, 14 addresses.
a=$(q n1.test A)
in28 "$a" || die "n1.test: \"$a\": $(cat "$DLOG")"
: >"$T_TMP/first14"
i=1
while [ $i -le 14 ]; do
	a=$(q "n$i.test" A)
	eval "A$i=\$a"
	in28 "$a" || fail "n$i.test: \"$a\" is not in 172.24.0.1-14"
	echo "$a" >>"$T_TMP/first14"
	i=$((i + 1))
done
n=$(sort -u "$T_TMP/first14" | grep -c .)
expect "14 names: distinct addresses in the /28" "$n" 14

# A 15th, while every entry is younger than ttl + grace: SERVFAIL, fast.
t0=$(date +%s%N)
st=$(status n15.test)
ms=$((($(date +%s%N) - t0) / 1000000))
expect "15th name in the grace period" "$st" SERVFAIL
[ $ms -lt 1000 ] && ok "15th name: SERVFAIL in ${ms}ms" ||
    fail "15th name: SERVFAIL took ${ms}ms"
expect "the 14 keep their addresses" "$(q n7.test A)" "$A7"

# Names 1..3 answered again: name 4's is now the least recently answered.
for i in 1 2 3; do
	eval "want=\$A$i"
	expect "n$i.test again" "$(q "n$i.test" A)" "$want"
done
# ttl + grace is 3 s; with last-answer times kept in whole seconds, 4.1 s
# is past it however the seconds fall.
sleep 4.1
a15=$(q n15.test A)
expect "15th name after ttl + grace: n4.test's address" "$a15" "$A4"
sleep 0.2
alive "$DD" && [ "$(child_pid "$DP" dns)" = "$DD" ] ||
    die "the dns process is gone after the reuse: $(tail -n 20 "$DLOG")"
expect "PTR of $A4 names n15.test" "$(q -x "$A4")" n15.test.
expect "n1.test kept its address" "$(q n1.test A)" "$A1"

# n4.test again: another address, not n15.test's (one name, one address).
a4=$(q n4.test A)
if in28 "$a4" && [ "$a4" != "$a15" ]; then
	ok "n4.test again: $a4"
elif [ -z "$a4" ]; then
	expect "n4.test again: rcode" "$(status n4.test)" SERVFAIL
else
	fail "n4.test again: \"$a4\""
fi
[ "$(q -x "$a15")" = n15.test. ] && ok "PTR $a15 still n15.test" ||
    fail "PTR $a15: $(q -x "$a15")"

# The file: one record per name, no address twice.
tdbdump "$DB" | $DNSPROBE tdbmap >"$T_TMP/map"
nn=$(wc -l <"$T_TMP/map")
na=$(awk '{ print $2 }' "$T_TMP/map" | sort -u | wc -l)
[ "$nn" -le 14 ] && [ "$nn" -eq "$na" ] &&
    ok "database: $nn names, $na addresses" ||
    fail "database: $nn names, $na addresses: $(cat "$T_TMP/map")"
awk '$1 == "n4.test" && $2 == "'"$A4"'"' "$T_TMP/map" | grep -q . &&
    fail "database: n4.test still has $A4"
awk '$1 == "n15.test" { print $2 }' "$T_TMP/map" | grep -qx "$a15" &&
    ok "database: n15.test has $a15" ||
    fail "database: no n15.test $a15"

# Hundreds of names: every one answered, NOERROR or SERVFAIL.
lines0=$(wc -l <"$DLOG")
t0=$(date +%s)
i=0
while [ $i -lt 300 ]; do
	alive "$DD" || { echo "none $i: dns process gone"; break; }
	r=$(qfull "many$i.test" A)
	st=$(echo "$r" | rcode_of)
	case $st in
	NOERROR)
		a=$(echo "$r" | awk '$1 == "many'$i'.test." && $4 == "A" {
		    print $5 }')
		in28 "$a" && echo NOERROR || echo "bad $i $a"
		;;
	SERVFAIL)	echo SERVFAIL ;;
	*)		echo "none $i" ;;
	esac
	i=$((i + 1))
done >"$T_TMP/many"
secs=$(($(date +%s) - t0))
nok=$(grep -c '^NOERROR' "$T_TMP/many")
nsf=$(grep -c '^SERVFAIL' "$T_TMP/many")
nbad=$(grep -vc '^NOERROR\|^SERVFAIL' "$T_TMP/many")
[ "$nbad" -eq 0 ] &&
    ok "300 names in ${secs}s: $nok NOERROR, $nsf SERVFAIL, none unanswered" ||
    fail "300 names: $nok NOERROR, $nsf SERVFAIL, others: $(grep -v \
	'^NOERROR\|^SERVFAIL' "$T_TMP/many" | head -n 5 | tr '\n' ' ')"
[ "$nok" -gt 0 ] && [ "$nsf" -gt 0 ] &&
    ok "300 names: some reused, some refused" ||
    fail "300 names: $nok NOERROR, $nsf SERVFAIL (want some of each)"
# The warning for a full range is rate-limited: not one per SERVFAIL.
# (One line per reuse, saying which name gave its address up, is fine.)
lines=$(tail -n +$((lines0 + 1)) "$DLOG" |
    grep -vc 'gives up its address')
[ "$lines" -lt 10 ] &&
    ok "300 names: $lines log lines besides reuses (rate-limited)" ||
    fail "300 names: $lines log lines: $(tail -n +$((lines0 + 1)) \
	"$DLOG" | grep -v 'gives up its address' | tail -n 3)"

# proxy-pin.sh tests that an address pinned by an open proxy connection
# is never reused, however old, and that new names get SERVFAIL instead.

expect "the dns process" "$(child_pid "$DP" dns)" "$DD"
dw_stop "$DP"
exit $T_FAILED
