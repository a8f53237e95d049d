#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# store-fair: a client's rate of new names holds on a shared map as on a
# map of its own.  One gateway on a real redis-server, a range of 62
# addresses, one new name a second once a client holds more than its
# share.  A victim (127.0.0.2) maps a name; a flooder (127.0.0.3) asks 50
# new names in a row: it gets its share (31) and little more, the rest
# SERVFAIL, counted as over rate; the store holds only what was answered,
# and the victim still gets a new name.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
. "$srcdir/regress/lib/redis.sh"
dw_setup
dw_dnsmasq --address=/#/10.44.2.99
RPORT=6397
rs_start "$WORLD" "$DW_UP" $RPORT
rcli() {
	ip netns exec "$WORLD" redis-cli -h "$DW_UP" -p $RPORT "$@"
}

dw_start a <<EOF2
dns upstream $DW_UP
range 172.24.0.0/26
dns new-names 1 burst 1
database redis $DW_UP port $RPORT
EOF2
up() { grep -q "map store.*: up" "$DLOG"; }
wait_for 10 up || { cat "$DLOG"; die "no store"; }

# ask SOURCE NAME: the address dns44 gives NAME, asked from SOURCE.
ask() {
	DW_KDIG_OPTS="$DW_KDIG_OPTS -b $1" q "$2" A
}
stat() {
	"$DNS44CTL" -s "$T_TMP/a/ctl.sock" show stats | sed -n "s/^$1  *//p"
}

v=$(ask 127.0.0.2 victim.example)
in_range "$v" && ok "the victim's name mapped ($v)" || fail "victim: '$v'"
got=0
for i in $(seq 1 50); do
	[ -n "$(ask 127.0.0.3 "flood$i.example")" ] && got=$((got + 1))
done
[ "$got" -ge 31 ] && [ "$got" -le 40 ] &&
    ok "the flooder got its share and little more: $got of 50" ||
    fail "the flooder got $got of 50 (want 31 to 40)"
n=$(stat "new names over rate")
[ "${n:-0}" -ge 10 ] && ok "show stats: $n new names over rate" ||
    fail "show stats: new names over rate \"$n\""
n=$(rcli HLEN dns44:name)
[ "$n" = $((got + 1)) ] && ok "the store holds what was answered: $n" ||
    fail "the store holds $n names, $((got + 1)) were answered"
v2=$(ask 127.0.0.2 victim2.example)
in_range "$v2" && ok "the victim still gets a new name ($v2)" ||
    fail "victim's second name: '$v2'"
dw_stop "$DP"
exit $T_FAILED
