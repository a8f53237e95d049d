#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# tproxy-check: the self-check's reading of the ip rules and routes the
# kernel reports, with rules made by hand (tproxy setup no).  The lab's
# plumbing ("fwmark 44 lookup 100", "local RANGE dev lo table 100")
# passes; so do a mark with a mask that keeps 44, a table past 255, a
# rule by destination and two local routes of half the range each.  Each of these is
# reported, with what is wrong, and the fix seen: a rule for another
# mark, an inverted one, a mask that does not keep the mark, a rule to
# the main table, a rule for another range or half of this one, a route
# that is not local, a local route for half the range; and where the
# kernel's own lookup goes elsewhere: an earlier rule that prohibits, an
# earlier table with a route for the range, a longer prefix of another
# type.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup
pw_start a <<EOF
tproxy check 1s
EOF

# check: the self-check's state in show status.
check() {
	"$DNS44CTL" -s "$T_TMP/a/ctl.sock" show status |
	    sed -n 's/^tproxy check *//p'
}
check_ok() { check | grep -q '^ok'; }
check_says() { check | grep -q -- "$1"; }

R() { ip -n "$GW" rule "$@"; }
RT() { ip -n "$GW" route "$@" table 100; }
NOLOCAL="no ip rule sends the range (or mark 0x2c) to a table with a \
local route for it"
PART="the local routes for the range cover only part of it"

wait_for 4 check_ok && ok "the lab's rule and route pass" ||
    fail "the lab's rule and route: $(check)"

# bad WHAT SAYS DO UNDO: after DO the check says SAYS; after UNDO, ok.
# DO and UNDO add the new rule or route before they delete the old, so
# that no check in between sees neither.
bad() {
	eval "$3" || fail "$1: $3"
	wait_for 4 check_says "$2" && ok "$1: reported" ||
	    fail "$1: not reported: $(check)"
	eval "$4" || fail "$1: $4"
	wait_for 4 check_ok && ok "$1: the fix seen" ||
	    fail "$1: the fix not seen: $(check)"
}

# good WHAT DO UNDO: after DO two periods of the check find nothing.
good() {
	eval "$2" || fail "$1: $2"
	sleep 2.5
	check_ok && ok "$1: passes" || fail "$1: $(check)"
	eval "$3" || fail "$1: $3"
	wait_for 4 check_ok || fail "$1: after the undo: $(check)"
}

bad "a rule for another mark" "$NOLOCAL" \
    "R add fwmark 45 lookup 100 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del fwmark 45 lookup 100"
# The kernel deletes the first rule that matches, inverted or not: the
# old goes first here, and the check in between says the same.
bad "an inverted rule" "$NOLOCAL" \
    "R del fwmark 44 lookup 100 && R add not fwmark 44 lookup 100" \
    "R del not fwmark 44 lookup 100 && R add fwmark 44 lookup 100"
good "a mask that keeps the mark" \
    "R add fwmark 0x12c/0xff lookup 100 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del fwmark 0x12c/0xff lookup 100"
bad "a mask that does not keep the mark" "$NOLOCAL" \
    "R add fwmark 0x12c/0xfff lookup 100 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del fwmark 0x12c/0xfff lookup 100"
good "a table past 255" \
    "ip -n $GW route add local $PW_RANGE dev lo table 1000 &&
     R add fwmark 44 lookup 1000 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del fwmark 44 lookup 1000 &&
     ip -n $GW route del local $PW_RANGE dev lo table 1000"
bad "a rule to the main table" "$NOLOCAL" \
    "R add fwmark 44 lookup main && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del fwmark 44 lookup main"
good "a rule by destination" \
    "R add to $PW_RANGE lookup 100 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del to $PW_RANGE lookup 100"
bad "a rule for another range" "$NOLOCAL" \
    "R add to 172.25.0.0/16 lookup 100 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del to 172.25.0.0/16 lookup 100"
bad "a rule for half the range" "$PART" \
    "R add to 172.24.0.0/17 lookup 100 && R del fwmark 44 lookup 100" \
    "R add fwmark 44 lookup 100 && R del to 172.24.0.0/17 lookup 100"
bad "a route that is not local" \
    "no local route for the range in routing table 100" \
    "RT replace unicast $PW_RANGE dev lo" \
    "RT replace local $PW_RANGE dev lo"
good "two local routes of half the range each" \
    "RT add local 172.24.0.0/17 dev lo &&
     RT add local 172.24.128.0/17 dev lo && RT del local $PW_RANGE dev lo" \
    "RT add local $PW_RANGE dev lo &&
     RT del local 172.24.0.0/17 dev lo && RT del local 172.24.128.0/17 dev lo"
bad "a local route for half the range" "$PART" \
    "RT add local 172.24.0.0/17 dev lo && RT del local $PW_RANGE dev lo" \
    "RT add local $PW_RANGE dev lo && RT del local 172.24.0.0/17 dev lo"

# What the rules and routes read say, the kernel's own lookup may not:
# an earlier rule that prohibits, an earlier table with a route for the
# range, a longer prefix of another type in the table.
bad "an earlier rule that prohibits" "the kernel sends packets to \
172\.24\.0\.1 (mark 0x2c) to a prohibit route, not a local one" \
    "R add to $PW_RANGE prohibit pref 100" "R del pref 100"
bad "an earlier table with a route for the range" "the kernel sends \
packets to 172\.24\.0\.1 (mark 0x2c) to a unicast route, not a local one" \
    "ip -n $GW route add $PW_RANGE dev lo table 200 &&
     R add fwmark 44 lookup 200 pref 100" \
    "R del pref 100 && ip -n $GW route del $PW_RANGE dev lo table 200"
bad "a longer prefix of another type" "the kernel sends packets to \
172\.24\.255\.254 (mark 0x2c) to a blackhole route, not a local one" \
    "RT add blackhole 172.24.255.0/24" "RT del blackhole 172.24.255.0/24"

# Every problem above was logged once and its fix once.
expect "warnings logged" "$(grep -c 'parent: tproxy check: .*may not reach' \
    "$DLOG")" 11
expect "fixes logged" "$(grep -c 'parent: tproxy check: fixed' "$DLOG")" 11
pw_stop

exit $T_FAILED
