#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# parent-trust: the parent takes nothing on trust.  A stand-in for a
# compromised proxy (regress/parent/standin, started by the test build
# of the daemon in the proxy's place) asks for reply sockets to IPv6 and
# AF_UNIX addresses, to loopback, any, broadcast, multicast and a
# privileged port, and for ones bound to addresses just outside the
# virtual range, to the gateway's own address (with IP_TRANSPARENT it
# could send as any of them) or to port 0: each is refused, a request for
# an ordinary client is
# granted: a socket bound to the virtual address and port, unconnected,
# which the proxy shares among that address's clients.  It asks for
# dialling sockets with firewall marks: a mark that no rule of the
# configuration names is refused, and so is mark 0.  A database directory
# that is a symbolic link, belongs to another user or lies below a
# directory anyone may write or another user owns is refused at start,
# with its path in the message; root's, open to all, is given to the
# user with mode 700.

. "$srcdir/regress/lib/netns.sh"
t_setup
ns_new
REG=$builddir/regress/parent/dns44-regress
STANDIN=$builddir/regress/parent/standin
[ -x "$REG" ] && [ -x "$STANDIN" ] || die "no $REG or $STANDIN"
# A client network the reply sockets can be connected to.
ip -n "$NS" addr add 10.9.0.1/24 dev lo || die "address"

# standin NAME [conf lines [PATTERN]]: the stand-in's lines from a
# daemon's log, once PATTERN is in the log too.  One worker: two would
# both ask, and the parent logs only the first ten refusals of a second.
standin() {
	cf=$(printf 'dns upstream 10.9.0.1\nproxy workers 1\n%s\n' \
	    "${2:-}" | conf_write "$1")
	lg=$T_TMP/$1/log
	DNS44_STANDIN=$STANDIN ip netns exec "$NS" "$REG" -d -f "$cf" \
	    >"$lg" 2>&1 &
	p=$!
	T_PIDS="$T_PIDS $p"
	wait_for 10 grep -q "^standin: done" "$lg" ||
	    { cat "$lg"; die "$1: the stand-in did not finish"; }
	[ -z "${3:-}" ] || wait_for 5 grep -q "$3" "$lg" ||
	    echo "no \"$3\" in the log"
	kill -TERM "$p"
	wait "$p"
	grep "^standin: " "$lg"
}

# The eleventh refusal of the second is counted, not logged, and the
# count is logged on a line of its own, with nothing after it.
out=$(standin a "" "more like \"proxy asked for a reply socket")
echo "$out"
virt=172.24.0.2
for c in virt-not-inet client-not-inet virt-below-range virt-above-range \
    virt-gateway virt-port-0 loopback any broadcast multicast privileged; do
	echo "$out" | grep -q "^standin: $c refused$" &&
	    ok "reply socket $c refused" || fail "reply socket $c not refused"
done
echo "$out" | grep -q "^standin: good granted $virt:53 for 10.9.0.2:40000, \
unconnected$" &&
    ok "reply socket for a client granted, bound to the virtual address" ||
    fail "good request: $(echo "$out" | grep good)"
grep -q "parent: proxy asked for a reply socket to loopback: \
$virt:53 to 127.0.0.1:40000; refused" "$T_TMP/a/log" &&
    ok "refusal logged with the addresses" || fail "refusal not logged"
n=$(grep -c "parent: proxy asked for a reply socket .*; refused$" \
    "$T_TMP/a/log")
grep -q "parent: 1 more like \"proxy asked for a reply socket .*\" \
suppressed$" "$T_TMP/a/log" && [ "$n" -eq 10 ] &&
    ok "10 refusals logged, the eleventh counted with nothing after it" ||
    fail "refusals logged $n, count: $(grep "more like" "$T_TMP/a/log")"
for c in mark-100-tcp mark-100-udp mark-101 mark-0 mark-max; do
	echo "$out" | grep -q "^standin: dial $c refused$" &&
	    ok "dialling socket $c refused without rules" ||
	    fail "dialling socket $c not refused: $(echo "$out" | grep " $c ")"
done
grep -q "parent: proxy asked for a TCP socket with mark 0x64, which no \
rule names; refused" "$T_TMP/a/log" && ok "mark refusal logged" ||
    fail "mark refusal not logged"

out=$(standin b "proxy reply-privileged-ports yes")
echo "$out" | grep -q "^standin: privileged granted $virt:53 for \
10.9.0.2:123, unconnected$" && ok "privileged port granted when configured" ||
    fail "privileged port with reply-privileged-ports yes: $out"
echo "$out" | grep -q "^standin: loopback refused$" &&
    ok "loopback still refused" || fail "loopback granted"

# refuse NAME WHAT PATTERN: the daemon with database NAME/db (made ready
# beforehand) exits 1 at once, saying PATTERN.
refuse() {
	cf=$(printf 'dns upstream 10.9.0.1\n' | conf_write "$1")
	lg=$T_TMP/$1/log
	ip netns exec "$NS" timeout 10 "$DNS44" -d -f "$cf" >"$lg" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q -- "$3" "$lg" && ok "$2 refused" ||
	    fail "$2: status $rc, $(cat "$lg")"
}

# A symbolic link to another directory, which must stay as it was.
mkdir -p "$T_TMP/l" "$T_TMP/elsewhere"
chmod 755 "$T_TMP/elsewhere"
ln -s "$T_TMP/elsewhere" "$T_TMP/l/db"
refuse l "a symlinked database" \
    "database $T_TMP/l/db is a symbolic link or not a directory; refusing it"
[ "$(stat -c '%u %a' "$T_TMP/elsewhere")" = "0 755" ] &&
    ok "the link's target untouched" || fail "the link's target changed"

# Another user's directory.
mkdir -p "$T_TMP/o/db"
chown 65534:65534 "$T_TMP/o/db"
chmod 755 "$T_TMP/o/db"
refuse o "another user's database" "database $T_TMP/o/db is owned by \
uid 65534, not by .* or root; refusing to take it over"
[ "$(stat -c '%u %a' "$T_TMP/o/db")" = "65534 755" ] &&
    ok "and it stays theirs" || fail "the directory was taken over"

# Below a directory anyone may write, without the sticky bit.
mkdir -p "$T_TMP/w"
chmod 777 "$T_TMP/w"
refuse w "a database below a world-writable directory" "database \
$T_TMP/w/db: $T_TMP/w is writable by anyone and not sticky; refusing it"
[ ! -e "$T_TMP/w/db" ] && ok "nothing made there" || fail "db made in w"

# Below a directory of another user, who could move the database away.
mkdir -p "$T_TMP/u"
chown 65534:65534 "$T_TMP/u"
chmod 755 "$T_TMP/u"
refuse u "a database below another user's directory" "database \
$T_TMP/u/db: $T_TMP/u is owned by uid 65534, not root; refusing it"
[ ! -e "$T_TMP/u/db" ] && ok "nothing made there" || fail "db made in u"

# The sticky bit makes it safe (as /tmp is), and a database the daemon
# made, or its user's, is taken as before.
chmod 1777 "$T_TMP/w"
cf=$(printf 'dns upstream 10.9.0.1\n' | conf_write w)
daemon_start "$NS" "$cf" "$T_TMP/w/log"
wait_for 5 daemon_ready "$D_PID" && ok "a sticky directory is fine" ||
    fail "sticky: $(cat "$T_TMP/w/log")"
kill -TERM "$D_PID"
wait "$D_PID"
daemon_start "$NS" "$cf" "$T_TMP/w/log2"
wait_for 5 daemon_ready "$D_PID" && ok "its own database again" ||
    fail "restart: $(cat "$T_TMP/w/log2")"
kill -TERM "$D_PID"
wait "$D_PID"

# root's database directory, readable by all: taken, given to the user,
# and closed to the others.
mkdir -p "$T_TMP/m/db"
chmod 755 "$T_TMP/m/db"
cf=$(printf 'dns upstream 10.9.0.1\n' | conf_write m)
daemon_start "$NS" "$cf" "$T_TMP/m/log"
wait_for 5 daemon_ready "$D_PID" && ok "root's open database taken" ||
    fail "root's database: $(cat "$T_TMP/m/log")"
[ "$(stat -c '%U %a' "$T_TMP/m/db")" = "$(default_user) 700" ] &&
    ok "it is the user's, mode 700" ||
    fail "root's database: $(stat -c '%U %a' "$T_TMP/m/db")"
kill -TERM "$D_PID"
wait "$D_PID"
exit $T_FAILED
