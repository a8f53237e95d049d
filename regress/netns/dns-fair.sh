#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# dns-fair: one client floods new names next to a victim.  Range of 62
# addresses, TTL 1 s, reuse grace 1 s.  The victim (10.46.1.2) resolves
# site.test and connects to it; past TTL and grace a flooder (10.46.1.3)
# asks thousands of new names as fast as it can.  Before, the flood took
# every address, the victim's too, so the victim's cached answer led to
# one of the flooder's names, and the victim's new names got SERVFAIL.
# Now the flood recycles the flooder's own addresses: site.test keeps its
# address (PTR, and a connection through the proxy still reaches the
# victim's server), the victim still gets new names, and the flooder is
# held to its rate of new names once beyond its share (SERVFAIL, counted,
# one log line).  Then a single client (a forwarder) fills a small range
# alone, held to no rate, and gets reuses as before: SERVFAIL within TTL
# and grace, the oldest address after.

. "$srcdir/regress/lib/netns.sh"
. "$srcdir/regress/lib/proxyworld.sh"
pw_setup curl
pw_dnsmasq
pw_nginx
FLOODER=10.46.1.3
ip -n "$CL" addr add "$FLOODER/24" dev pc0 || die "flooder's address"
pw_start d <<EOF2
range 172.24.0.0/26
dns ttl 1
reuse-grace 1s
dns new-names 200 burst 400
EOF2

# flood SOURCE PREFIX COUNT: COUNT new names asked over UDP from SOURCE as
# fast as answers come (64 out at a time); prints "NOERROR n SERVFAIL n
# none n" and the addresses given, one a line, to $T_TMP/PREFIX.addrs.
flood() {
	in_cl $PW_PYTHON - "$PW_GW_ADDR" "$1" "$2" "$3" \
	    "$T_TMP/$2.addrs" <<'PY'
import select, socket, struct, sys, time
gw, src, prefix, count, out = sys.argv[1:6]
count = int(count)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.connect((gw, 53))
def q(i):
    h = struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
    n = b"".join(bytes([len(l)]) + l.encode()
                 for l in ("%s%d" % (prefix, i), "flood", "test"))
    return h + n + b"\0" + struct.pack(">HH", 1, 1)
res = {"NOERROR": 0, "SERVFAIL": 0, "other": 0}
addrs = []
sent = got = 0
end = time.time() + 60
while got < count and time.time() < end:
    while sent < count and sent - got < 64:
        s.send(q(sent)); sent += 1
    if not select.select([s], [], [], 1.0)[0]:
        got = sent      # lost ones count as unanswered
        continue
    d = s.recv(4096)
    got += 1
    rc = d[3] & 0x0f
    if rc == 0:
        res["NOERROR"] += 1
        if struct.unpack(">H", d[6:8])[0] >= 1 and len(d) >= 4:
            addrs.append(socket.inet_ntoa(d[-4:]))
    elif rc == 2:
        res["SERVFAIL"] += 1
    else:
        res["other"] += 1
open(out, "w").write("".join(a + "\n" for a in addrs))
print("NOERROR %d SERVFAIL %d none %d" % (res["NOERROR"], res["SERVFAIL"],
      count - res["NOERROR"] - res["SERVFAIL"] - res["other"]))
PY
}

# stat NAME: a counter of "dns44ctl show stats".
stat() {
	"$DNS44CTL" -s "$T_TMP/d/ctl.sock" show stats | sed -n "s/^$1  *//p"
}

# The victim: its name, and a page through the proxy.
site=$(cl_q site.test A)
case $site in
172.24.0.*)	ok "the victim's site.test is $site" ;;
*)		die "site.test: \"$site\"" ;;
esac
page() {
	in_cl curl -s -m 5 "http://$site/index.html" 2>/dev/null
}
expect "the victim's page before the flood" "$(page)" \
    "<html><body>dns44 proxy test page</body></html>"
v1=$(cl_q before.test A)
# TTL and grace over: by the rules of reuse, site.test's address is old.
sleep 2.5

# The flood: 3000 new names, 5 times the range, as fast as answered.
t0=$(date +%s%N)
r=$(flood "$FLOODER" f 3000)
ms=$((($(date +%s%N) - t0) / 1000000))
echo "flood: $r in ${ms}ms"
set -- $r
[ "$2" -gt 0 ] && ok "the flooder got $2 names" ||
    fail "the flooder got no name: $r"
[ "$4" -gt 0 ] && ok "the flooder got $4 SERVFAIL (its rate)" ||
    fail "the flooder was not held to its rate: $r"
expect "flood: every query answered" "$6" 0
grep -qx "$site" "$T_TMP/f.addrs" &&
    fail "a flood name took site.test's address $site"
expect "site.test after the flood" "$(cl_q site.test A)" "$site"
expect "PTR of $site after the flood" "$(cl_q -x "$site")" site.test.
expect "the victim's page after the flood" "$(page)" \
    "<html><body>dns44 proxy test page</body></html>"
expect "before.test after the flood" "$(cl_q before.test A)" "$v1"

# The victim still gets new names, while the flooder goes on.
flood "$FLOODER" g 2000 >"$T_TMP/g.out" &
fl=$!
i=0 nok=0
while [ $i -lt 10 ]; do
	a=$(cl_q "new$i.test" A)
	case $a in
	172.24.0.*)	nok=$((nok + 1)) ;;
	esac
	i=$((i + 1))
done
wait $fl
expect "the victim's new names during a flood" "$nok" 10
expect "site.test during the second flood" "$(cl_q site.test A)" "$site"
logged "map: $FLOODER asks for new names faster than 200 a second" ||
    fail "no log line for the flooder's rate"
n=$(grep -c "faster than 200 a second" "$DLOG")
[ "$n" -le 3 ] && ok "rate log lines: $n" || fail "rate log lines: $n"
n=$(stat "new names over rate")
[ "${n:-0}" -gt 0 ] && ok "show stats: $n new names over rate" ||
    fail "show stats: new names over rate \"$n\""
expect "show stats: clients with names" "$(stat "clients with names")" 2
pw_stop

# A forwarder: one client for everyone, a range of 14, as before.
pw_start fwd <<EOF2
range 172.24.1.0/28
dns ttl 1
reuse-grace 1s
dns new-names 1 burst 1
EOF2
r=$(flood "$PW_CL_ADDR" n 14)
expect "a forwarder fills the range" "$r" "NOERROR 14 SERVFAIL 0 none 0"
first=$(head -n 1 "$T_TMP/n.addrs")
last=$(tail -n 1 "$T_TMP/n.addrs")
r=$(flood "$PW_CL_ADDR" m 3)
expect "a forwarder's 15th name within TTL and grace" "$r" \
    "NOERROR 0 SERVFAIL 3 none 0"
expect "n13 keeps its address" "$(cl_q n13.flood.test A)" "$last"
sleep 2.5
r=$(flood "$PW_CL_ADDR" k 1)
expect "a forwarder's name after TTL and grace" "$r" \
    "NOERROR 1 SERVFAIL 0 none 0"
expect "it took the oldest address, n0's" "$(cat "$T_TMP/k.addrs")" "$first"
r=$(flood "$PW_CL_ADDR" j 13)
expect "a forwarder's next 13 names" "$r" "NOERROR 13 SERVFAIL 0 none 0"
pw_stop
exit $T_FAILED
