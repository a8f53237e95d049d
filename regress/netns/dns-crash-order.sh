#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-crash-order: an answer is on disk before it leaves.  A range of
# eight addresses taken by eight names in turn: where two names hash to
# one address the later one takes the next free address, so which name
# has which address depends on the order they came in, and a lost file
# would not give the same addresses again (a fresh daemon asked in the
# other order proves that of these names).  After each answer the file
# already holds the name with its address; the dns process is killed
# with SIGKILL right after the last answer; started again on the file,
# asked in the other order, every name has its address.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq

CONF="dns upstream $DW_UP
dns upstream-timeout 500ms
range 172.24.0.1 - 172.24.0.8"
NAMES="c1.test c2.test c3.test c4.test c5.test c6.test c7.test c8.test"
REVERSED=$(echo $NAMES | tr ' ' '\n' | sort -r | tr '\n' ' ')

# ask NAME...: "NAME ADDRESS" a line, in the order asked.
ask() {
	for n in "$@"; do
		echo "$n $(q "$n" A)"
	done
}
on_disk() {
	tdbdump "$DB" | $DNSPROBE tdbmap | awk -v n="$1" '$1 == n { print $2 }'
}

dw_start k <<EOF
$CONF
EOF
: >"$T_TMP/first"
for n in $NAMES; do
	a=$(q "$n" A)
	echo "$n $a" >>"$T_TMP/first"
	d=$(on_disk "$n")
	[ -n "$a" ] && [ "$d" = "$a" ] || fail "$n answered $a, on disk: \"$d\""
done
kill -9 "$DD"
[ "$(awk '$2 ~ /^172\.24\.0\.[1-8]$/' "$T_TMP/first" | wc -l)" -eq 8 ] &&
    ok "8 answers: $(awk '{ print $2 }' "$T_TMP/first" | tr '\n' ' ')" ||
    fail "8 answers: $(cat "$T_TMP/first")"
[ "$(awk '{ print $2 }' "$T_TMP/first" | sort -u | wc -l)" -eq 8 ] ||
    fail "not 8 distinct addresses"
# The parent shuts down when a child dies.
wait "$DP"
rc=$?
[ $rc -ne 0 ] && ok "the daemon stopped after its dns process died:" \
    "status $rc" || fail "daemon status 0 after its dns process died"
tdbdump "$DB" | $DNSPROBE tdbmap | awk '{ print $1, $2 }' | sort \
    >"$T_TMP/disk"
sort "$T_TMP/first" | cmp -s - "$T_TMP/disk" &&
    ok "after SIGKILL, the file holds the 8 names and addresses" ||
    fail "after SIGKILL, the file: $(tr '\n' ' ' <"$T_TMP/disk")"

cp "$DLOG" "$T_TMP/k.log.1"
daemon_start "$GW" "$DCF" "$DLOG"
DP=$D_PID
wait_for 5 daemon_ready "$DP" || die "no restart: $(cat "$DLOG")"
wait_for 5 dw_listening "$GW" udp 127.0.0.1:4453 || die "not listening"
ask $REVERSED | sort >"$T_TMP/again"
sort "$T_TMP/first" | cmp -s - "$T_TMP/again" &&
    ok "restarted, asked in the other order: every name has its address" ||
    fail "restarted: $(sort "$T_TMP/first" | diff - "$T_TMP/again" |
	grep '^[<>]' | tr '\n' ' ')"
dw_stop "$DP"

# Without the file, the other order gives other addresses: the checks
# above could tell a lost file.
dw_start fresh <<EOF
$CONF
EOF
ask $REVERSED | sort >"$T_TMP/fresh.map"
sort "$T_TMP/first" | cmp -s - "$T_TMP/fresh.map" &&
    fail "these names get the same addresses in either order; the test" \
	"needs names that collide"
sort "$T_TMP/first" | cmp -s - "$T_TMP/fresh.map" ||
    ok "a fresh map, the other order: $(sort "$T_TMP/first" |
	diff - "$T_TMP/fresh.map" | grep -c '^>') of 8 names elsewhere"
dw_stop "$DP"
exit $T_FAILED
