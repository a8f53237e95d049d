#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-verify: a new name is resolved upstream before it is mapped.  With
# a dnsmasq upstream: a name that exists is mapped; one that does not
# gets NXDOMAIN with the upstream's SOA and no address; one with only MX
# and TXT records gets NODATA; with every upstream down, SERVFAIL and no
# address, counted as an upstream failure, and a flood of new names
# beyond the lookups that may wait maps none unasked; queries for a new
# name at once make one upstream lookup; and "dns verify no" maps every
# name as before.

# Verification on, as by default: conf_write leaves it alone.
T_VERIFY=yes
. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/dnsworld.sh"
dw_setup

# Names under test. are the upstream's own: others there are NXDOMAIN.
dw_dnsmasq --local-ttl=300 --auth-server=ns.test,dw1 --auth-zone=test \
    --host-record=world.test,10.44.2.77 \
    --mx-host=mxonly.test,mail.mxonly.test,10 \
    --txt-record=mxonly.test,"text only"
DNSMASQ_PID=${T_PIDS##* }

dw_start main <<EOF2
dns upstream $DW_UP
dns upstream-timeout 500ms
EOF2
CTL=$T_TMP/main/ctl.sock

# mapped: the number of names in the map.
mapped() {
	"$DNS44CTL" -s "$CTL" show map | tail -n +2 | grep -c .
}

# asked NAME [TYPE]: how many queries for NAME (of TYPE) dnsmasq logged,
# as a forwarder ("query[A]") or for its own zone ("auth[A]").
asked() {
	grep -c -E "(query|auth)\[${2:-[A-Z]*}\] $1 from" "$DW_DNSMASQ_LOG"
}

# An existing name: mapped, one address of the range.
a=$(q world.test A)
in_range "$a" && ok "an existing name is mapped ($a)" ||
    fail "world.test A: '$a'"
[ "$(mapped)" -eq 1 ] && ok "one name in the map" ||
    fail "map: $("$DNS44CTL" -s "$CTL" show map)"
[ "$(q world.test A)" = "$a" ] && ok "asked again: the same address" ||
    fail "world.test changed address"
# An A query needs the A records alone to know the name exists.
[ "$(asked world.test)" -eq 1 ] && ok "one upstream query, for A" ||
    fail "world.test asked $(asked world.test) times upstream"

# A missing name: NXDOMAIN, the upstream's SOA, no address.
out=$(qfull nope.test A)
[ "$(echo "$out" | rcode_of)" = NXDOMAIN ] && ok "missing name: NXDOMAIN" ||
    fail "nope.test: $out"
echo "$out" | grep -A3 'AUTHORITY SECTION' | grep -q 'SOA' &&
    ok "the NXDOMAIN carries the upstream's SOA" ||
    fail "no SOA in the authority section: $out"
out=$(qfull nope.test AAAA)
[ "$(echo "$out" | rcode_of)" = NXDOMAIN ] && ok "its AAAA: NXDOMAIN" ||
    fail "nope.test AAAA: $out"
[ "$(mapped)" -eq 1 ] && ok "no mapping made for a missing name" ||
    fail "map: $("$DNS44CTL" -s "$CTL" show map)"
"$DNS44CTL" -s "$CTL" show map nope.test 2>&1 | grep -q '^172\.' &&
    fail "nope.test in the map"
# The negative answer is cached: the second asking went nowhere.
[ "$(asked nope.test)" -eq 1 ] && ok "the NXDOMAIN was cached" ||
    fail "nope.test asked $(asked nope.test) times upstream"

# A name with MX and TXT only: NODATA (NOERROR, no answer, the SOA).
out=$(qfull mxonly.test A)
[ "$(echo "$out" | rcode_of)" = NOERROR ] &&
    ! echo "$out" | grep -q 'ANSWER SECTION' &&
    echo "$out" | grep -A3 'AUTHORITY SECTION' | grep -q SOA &&
    ok "MX and TXT only: NODATA with the SOA" ||
    fail "mxonly.test: $out"
[ "$(q mxonly.test MX)" = "10 mail.mxonly.test." ] &&
    ok "its MX still forwarded" || fail "mxonly.test MX"
[ "$(mapped)" -eq 1 ] && ok "no mapping made for NODATA" ||
    fail "map: $("$DNS44CTL" -s "$CTL" show map)"

# Five queries for one new name at once: one lookup upstream.
pids=
for i in 1 2 3 4 5; do
	q burst.test A >/dev/null &
	pids="$pids $!"
done
wait $pids
[ "$(asked burst.test)" -eq 1 ] &&
    ok "queries for one new name share one lookup" ||
    fail "burst.test asked $(asked burst.test) times upstream"

# dns44ctl lookup reads the map and asks the upstream nothing.
n=$(asked world.test)
"$DNS44CTL" -s "$CTL" lookup world.test >/dev/null 2>&1
[ "$(asked world.test)" -eq "$n" ] &&
    ok "dns44ctl lookup asks nothing upstream" ||
    fail "world.test asked again upstream"
# An AAAA query for a new name asks both families at once.
q both.test AAAA >/dev/null
[ "$(asked both.test A)" -eq 1 ] && [ "$(asked both.test AAAA)" -eq 1 ] &&
    ok "an AAAA query: A and AAAA asked once each" ||
    fail "both.test: $(grep both.test "$DW_DNSMASQ_LOG")"

# The stats count the NXDOMAIN and NODATA answers.
"$DNS44CTL" -s "$CTL" show stats | grep -qi nxdomain &&
    ok "show stats" || fail "show stats: $("$DNS44CTL" -s "$CTL" show stats)"

# Every upstream down: SERVFAIL, and no address used up.
kill "$DNSMASQ_PID"
wait_for 5 sh -c "! ip netns exec $WORLD ss -Hln -A udp | grep -q $DW_UP:53"
out=$(qfull down.test A)
[ "$(echo "$out" | rcode_of)" = SERVFAIL ] &&
    ok "no upstream answers: SERVFAIL" || fail "down.test: $out"
[ "$(mapped)" -eq 1 ] && ok "no mapping made while the upstreams are down" ||
    fail "map: $("$DNS44CTL" -s "$CTL" show map)"
n=$("$DNS44CTL" -s "$CTL" show stats | sed -n 's/^upstream failures  *//p')
[ "$n" = 1 ] && ok "show stats: 1 upstream failure" ||
    fail "show stats: upstream failures '$n'"
# More new names at once than lookups may wait (4096): the rest get
# SERVFAIL at once, and none is mapped unasked.
awk 'BEGIN { for (i = 0; i < 6000; i++) print "busy" i ".test" }' |
    ip netns exec "$GW" $DNSPROBE batch udp 127.0.0.1 4453 A --together \
    --timeout 5 >"$T_TMP/busy"
[ "$(mapped)" -eq 1 ] && ok "a flood of new names: none mapped unasked" ||
    fail "a flood of new names: $(mapped) mappings"
# A mapped name is answered from the map all the same.
[ "$(q world.test A)" = "$a" ] && ok "a mapped name answered at once" ||
    fail "world.test while the upstreams are down"
dw_stop "$DP"

# dns verify no: every name mapped at once, as before.
dw_start noverify <<EOF2
dns listen 127.0.0.1 port 4454
dns upstream $DW_UP
dns upstream-timeout 500ms
dns verify no
proxy listen 127.0.0.1 port 4481
EOF2
CTL=$T_TMP/noverify/ctl.sock
a=$(DW_PORT=4454 q nothing.test A)
in_range "$a" && ok "dns verify no: a name mapped unresolved ($a)" ||
    fail "dns verify no: '$a'"
[ "$(mapped)" -eq 1 ] && ok "dns verify no: the mapping is made" ||
    fail "map: $("$DNS44CTL" -s "$CTL" show map)"
dw_stop "$DP"

exit $T_FAILED
