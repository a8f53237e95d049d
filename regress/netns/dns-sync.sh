#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-sync: last-answer times reach the database file while the daemon
# runs, not only when it stops.  A new name is on disk at once; answered
# again, its new time is written by the periodic sync (every 5 seconds;
# no setting changes that).  Three answers in three sync periods: each
# time must reach the file within one period, read with tdbdump while
# the daemon keeps running.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup
dw_dnsmasq

dw_start s <<EOF
dns upstream $DW_UP
dns upstream-timeout 500ms
EOF

expect() {
	if [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		fail "$1: got \"$2\", want \"$3\""
	fi
}

# on_disk NAME: the last-answer time of NAME in the file.
on_disk() {
	tdbdump "$DB" | $DNSPROBE tdbmap | awk -v n="$1" '$1 == n { print $3 }'
}
# written NAME SECS: the file has NAME answered at SECS or later.
written() {
	wt=$(on_disk "$1")
	[ -n "$wt" ] && [ "$wt" -ge "$2" ]
}

t0=$(date +%s)
a=$(q sync.test A)
in_range "$a" || die "no answer: $(cat "$DLOG")"
written sync.test "$t0" &&
    ok "new name on disk at once: $(on_disk sync.test)" ||
    fail "new name: \"$(on_disk sync.test)\" on disk, want $t0 or later"

for round in 1 2 3; do
	# Past the second the previous time was written in.
	sleep 3
	t=$(date +%s)
	expect "answer $round" "$(q sync.test A)" "$a"
	if wait_for 7 written sync.test "$t"; then
		ok "answer $round: its time $(on_disk sync.test) on disk" \
		    "within $(($(date +%s) - t))s"
	else
		fail "answer $round at $t: the file still says" \
		    "$(on_disk sync.test)"
		break
	fi
done

alive "$DD" && [ "$(child_pid "$DP" dns)" = "$DD" ] ||
    fail "the dns process is not the one that started"
dw_stop "$DP"
exit $T_FAILED
