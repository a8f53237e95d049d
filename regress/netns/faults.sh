#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# faults: the daemon under load.  100 SIGHUPs during a dnsperf run lose no
# query and leave the last configuration in force; kill -9 of the dns,
# the proxy and the parent under load stops everything with a line
# saying what happened, and after a restart every mapping made before is
# still the same.

. "$srcdir/regress/lib/netns.sh"
need_root
command -v dnsperf >/dev/null || { echo "needs dnsperf"; exit 77; }
t_setup
ns_new
FLOOD="python3 $srcdir/regress/lib/dnsflood.py"

CF=$(printf 'range 172.16.0.0/12\ndns upstream 10.99.0.1\ndns ttl 900\n' |
    conf_write d)
LOG=$T_TMP/d/log
daemon_start "$NS" "$CF" "$LOG"
P=$D_PID
wait_for 5 daemon_ready "$P" || { cat "$LOG"; die "no start"; }
D=$(child_pid "$P" dns)

# 100 reloads, changing the TTL each time, while dnsperf asks 20 000 new
# names at 2 000 a second: 10 s, for a loop that takes 2-5 s, longer on
# a loaded machine with a sanitizer build.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "h%d.hup.test A\n", i }' \
    >"$T_TMP/names"
ip netns exec "$NS" dnsperf -s 127.0.0.1 -p 4453 -d "$T_TMP/names" -n 1 \
    -Q 2000 -t 5 >"$T_TMP/perf" 2>&1 &
perf=$!
T_PIDS="$T_PIDS $perf"
sleep 0.5
i=0
while [ $i -lt 100 ]; do
	sed -i "s/^dns ttl .*/dns ttl $((300 + i))/" "$CF"
	kill -HUP "$P"
	sleep 0.02
	i=$((i + 1))
done
alive "$perf" && ok "the reloads came while dnsperf was running" ||
    fail "dnsperf ended before the last reload"
wait "$perf" || fail "dnsperf: $(cat "$T_TMP/perf")"
num() { perf_num "$T_TMP/perf" "$1"; }
[ "$(num 'Queries completed')" = 20000 ] && [ "$(num 'Queries lost')" = 0 ] &&
    ok "100 reloads under dnsperf: 20000 of 20000 answered, none lost" ||
    fail "100 reloads under dnsperf: $(sed -n '/Queries sent/,/Response/p' \
    "$T_TMP/perf")"
grep -q "Response codes: *NOERROR 20000 " "$T_TMP/perf" &&
    ok "every answer NOERROR" || fail "$(grep 'Response codes' "$T_TMP/perf")"
alive "$D" && [ "$(child_pid "$P" dns)" = "$D" ] &&
    ok "the same dns process throughout" || fail "the dns process changed"
wait_for 5 sh -c "[ \$(grep -c 'dns: configuration reloaded: ttl 399' \
    '$LOG') -ge 1 ]" || true
ttl=$(ip netns exec "$NS" kdig @127.0.0.1 -p 4453 +noall +answer \
    final.test A | awk '{ print $2 }')
[ "$ttl" = 399 ] && ok "the last configuration is in force (ttl 399)" ||
    fail "ttl after the reloads: \"$ttl\", want 399"

# all_dead PID...: each gone within 3 s.
all_dead() {
	for _p; do
		wait_for 3 dead "$_p" || return 1
	done
}

# kill -9 of each process under load.
before=$T_TMP/before.json
for victim in dns proxy parent; do
	ip netns exec "$NS" $FLOOD 127.0.0.1 4453 "k$victim" 20000 256 \
	    >/dev/null 2>&1 &
	flood=$!
	T_PIDS="$T_PIDS $flood"
	sleep 0.5
	"$DNS44CTL" -s "$T_TMP/d/ctl.sock" -j show map >"$before" ||
	    fail "$victim: show map before the kill"
	D=$(child_pid "$P" dns)
	# Every proxy worker; the last is the one killed.
	X=$(child_pids "$P" proxy | tr '\n' ' ')
	case $victim in
	dns)	v=$D ;;
	proxy)	v=$(echo $X | awk '{ print $NF }') ;;
	parent)	v=$P ;;
	esac
	kill -9 "$v"
	wait "$P"
	rc=$?
	if [ $victim = parent ]; then
		all_dead "$D" $X &&
		    ok "parent killed under load: the children exited" ||
		    fail "parent killed: children still run"
	else
		[ $rc -ne 0 ] && grep -Eq "$victim( [0-9]+)? process \(pid \
$v\) was killed by signal 9" "$LOG" &&
		    ok "$victim killed under load: said so, status $rc" ||
		    fail "$victim killed: status $rc, log: $(tail -n 5 "$LOG")"
		all_dead "$D" $X ||
		    fail "$victim killed: the other child still runs"
	fi
	kill "$flood" 2>/dev/null
	wait "$flood" 2>/dev/null

	daemon_start "$NS" "$CF" "$LOG"
	P=$D_PID
	wait_for 5 daemon_ready "$P" || { tail "$LOG"; die "no restart"; }
	"$DNS44CTL" -s "$T_TMP/d/ctl.sock" -j show map >"$T_TMP/after.json"
	python3 - "$before" "$T_TMP/after.json" <<'PY' &&
import json, sys
before = {e["domain"]: e["address"] for e in json.load(open(sys.argv[1]))}
after = {e["domain"]: e["address"] for e in json.load(open(sys.argv[2]))}
lost = [d for d in before if after.get(d) != before[d]]
print("%d mappings before, %d after, %d changed" % (len(before),
      len(after), len(lost)))
sys.exit(1 if lost or not before else 0)
PY
	    ok "$victim killed: every mapping unchanged after the restart" ||
	    fail "$victim killed: mappings changed"
done
kill -TERM "$P"
wait "$P"
exit $T_FAILED
