#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# flags: the seed's flags and the OpenBSD-style ones, as dns44 -n shows
# their effect; they override the file; bad values name the flag.

: "${DNS44:?}" "${srcdir:?}"
failed=0
tmp=$(mktemp -d /tmp/dns44-flags.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; failed=1; }

# has NAME LINE: dns44 -n output (in $out) has exactly this line
has() {
	if printf '%s\n' "$out" | grep -qxF -- "$2"; then ok "$1"; else
		bad "$1: no line \"$2\" in:"; printf '%s\n' "$out"; fi
}

printf 'dns ttl 300\nrange 10.9.0.0/16\nlog brief\nm = "9.9.9.9"\n' \
    >"$tmp/base.conf"

out=$("$DNS44" -n -f "$tmp/base.conf" -ttl=60 -dns-bind-address \
    127.0.0.2:53 -dns-upstream=8.8.4.4 -ip-range 10.77.0.0-10.77.0.255 \
    -proxy-bind-address=127.0.0.1:5000 -dial-timeout=3s \
    -db-path=/tmp/dns44-db -debug 2>&1) || bad "seed flags: status $?"
has "-ttl overrides the file" "dns ttl 60"
has "-dns-bind-address" "dns listen 127.0.0.2 port 53"
has "-dns-upstream" "dns upstream 8.8.4.4 port 53"
has "-ip-range first-last" "range 10.77.0.0 - 10.77.0.255"
has "-proxy-bind-address" "proxy listen 127.0.0.1 port 5000"
has "-dial-timeout" "proxy dial-timeout 3s"
has "-db-path" 'database "/tmp/dns44-db"'
has "-debug" "log verbose"

out=$("$DNS44" -n -f "$tmp/base.conf" --ttl 61 -ip-range=10.78.0.0/24 \
    -dns-upstream 9.9.9.9:5353,1.0.0.1 -dial-timeout 1m30s -v 2>&1) ||
    bad "long forms: status $?"
has "--flag value" "dns ttl 61"
has "-ip-range CIDR" "range 10.78.0.0/24"
has "two upstreams, first" "dns upstream 9.9.9.9 port 5353"
has "two upstreams, second" "dns upstream 1.0.0.1 port 53"
has "-dial-timeout 1m30s" "proxy dial-timeout 1m30s"
has "-v" "log verbose"

out=$("$DNS44" -n -f "$tmp/base.conf" \
    -dns-upstream 2001:db8::53,[2001:db8::54]:5353,192.0.2.1:54 2>&1) ||
    bad "IPv6 upstreams: status $?"
has "-dns-upstream IPv6 alone" "dns upstream 2001:db8::53 port 53"
has "-dns-upstream [IPv6]:port" "dns upstream 2001:db8::54 port 5353"
has "-dns-upstream IPv4:port after IPv6" "dns upstream 192.0.2.1 port 54"
for v in "[2001:db8::1" "2001:db8::1]:53" "[2001:db8::1]:0" "[::1]53" \
    "192.0.2.1:+53" "192.0.2.1: 53" "[2001:db8::1]:+53"; do
	if "$DNS44" -n -f "$tmp/base.conf" -dns-upstream "$v" >/dev/null 2>&1
	then
		bad "-dns-upstream $v accepted"
	else
		ok "-dns-upstream $v refused"
	fi
done

printf 'dns upstream $m\n' >"$tmp/macro.conf"
out=$("$DNS44" -n -D m=9.9.9.10 -f "$tmp/macro.conf" 2>&1) ||
    bad "-D: status $?"
has "-D defines a macro" "dns upstream 9.9.9.10 port 53"

out=$("$DNS44" -h 2>&1) && rc=0 || rc=$?
[ $rc -eq 0 ] && ok "-h exits 0" || bad "-h: status $rc"
for f in -d -D -f -h -n -v -db-path -debug -dial-timeout \
    -dns-bind-address -dns-upstream -ip-range -proxy-bind-address -ttl \
    -version; do
	printf '%s\n' "$out" | grep -q -- "^  $f " || bad "-h lacks $f"
done
for d in "default 10s" "default 127.0.0.1:4453" "default 1.1.1.1" \
    "default 172.24.0.0-172.24.255.255" "default 127.0.0.1:4480" \
    "default 900" "default $DBDIR"; do
	printf '%s\n' "$out" | grep -qF -- "($d)" && ok "-h shows $d" ||
	    bad "-h lacks ($d)"
done
out=$("$DNS44" -version) && [ "$out" = "dns44 $(sed -n \
    's/^AC_INIT(\[dns44\], \[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")" ] &&
    ok "-version" || bad "-version: $out"

# expect_error NAME PATTERN ARGS...: exit 1 and a message matching PATTERN
expect_error() {
	name=$1 pat=$2
	shift 2
	msg=$("$DNS44" -n "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	if [ $rc -eq 1 ] && printf '%s\n' "$msg" | grep -q -- "$pat"; then
		ok "$name"
	else
		bad "$name: status $rc: $msg"
	fi
}
expect_error "-ttl bad" '^dns44: -ttl: "abc" is invalid' -ttl=abc
expect_error "-ttl too large" '^dns44: -ttl: .* too large' -ttl 9999999
expect_error "-ip-range bad" '^dns44: -ip-range: invalid range' -ip-range x
expect_error "-dns-bind-address bad" '^dns44: -dns-bind-address: invalid' \
    -dns-bind-address 127.0.0.1:99999
expect_error "-dial-timeout bad" '^dns44: -dial-timeout: invalid' \
    -dial-timeout 0s
expect_error "-db-path relative" '^dns44: -db-path: .*absolute' \
    -db-path relative/dir
expect_error "unknown flag" '^dns44: unknown flag -bogus' -bogus
expect_error "missing argument" 'flag needs an argument: -ttl' -ttl
expect_error "-f missing file" "^$tmp/none.conf: No such file" \
    -f "$tmp/none.conf"
expect_error "flag into the range" 'lies inside the virtual range' \
    -dns-upstream 172.24.1.1
expect_error "stray argument" 'unexpected argument "extra"' extra

# Every form of Go's durations the original took, and what it means here:
# milliseconds, rounded up.
for d in "1.5s:1s500ms" "250ms:250ms" "1h30m:1h30m" "250us:1ms" \
    "250µs:1ms" "250μs:1ms" "2h45m30.5s:2h45m30s500ms" "300ns:1ms" \
    ".5s:500ms" "1.s:1s" "+3s:3s" "0.5m:30s" "1.25h:1h15m" "90:1m30s" \
    "1500000us:1s500ms" "1m30s:1m30s" "30s1m:1m30s"; do
	form=${d%%:*} want=${d#*:}
	out=$("$DNS44" -n -f "$tmp/base.conf" -dial-timeout="$form" 2>&1) ||
	    bad "-dial-timeout=$form: status $?: $out"
	has "-dial-timeout=$form" "proxy dial-timeout $want"
	out=$("$DNS44" -n -f "$tmp/base.conf" -dial-timeout "$form" 2>&1) ||
	    bad "-dial-timeout $form: status $?: $out"
	has "-dial-timeout $form" "proxy dial-timeout $want"
done
expect_error "-dial-timeout negative" \
    '^dns44: -dial-timeout: invalid duration "-1s": negative$' -dial-timeout=-1s
expect_error "-dial-timeout fraction without a unit" \
    '^dns44: -dial-timeout: invalid duration "1.5"$' -dial-timeout=1.5
expect_error "-dial-timeout junk" \
    '^dns44: -dial-timeout: invalid duration "5d"$' -dial-timeout=5d
long='"50000h": too long (max 1193h2m47s295ms)$'
expect_error "-dial-timeout too long" \
    "^dns44: -dial-timeout: invalid duration $long" -dial-timeout=50000h
expect_error "-dial-timeout 0" \
    '^dns44: -dial-timeout: invalid duration "0": must be greater than 0$' \
    -dial-timeout=0

# A boolean flag takes true, false, 1 and 0.
out=$("$DNS44" -n -f "$tmp/base.conf" -debug=false 2>&1) ||
    bad "-debug=false: status $?"
has "-debug=false" "log brief"
out=$("$DNS44" -n -f "$tmp/base.conf" -debug=1 2>&1) ||
    bad "-debug=1: status $?"
has "-debug=1" "log verbose"
expect_error "-debug=maybe" '^dns44: -debug: invalid boolean "maybe"$' \
    -f "$tmp/base.conf" -debug=maybe

# Lists: 8 upstreams and 16 DNS addresses at most, said so beyond.
l8=192.0.2.1 l16=127.0.0.1:5301
for i in 2 3 4 5 6 7 8; do l8=$l8,192.0.2.$i; done
for i in $(seq 2 16); do l16=$l16,127.0.0.1:$((5300 + i)); done
out=$("$DNS44" -n -f "$tmp/base.conf" -dns-upstream "$l8" \
    -dns-bind-address "$l16" 2>&1) || bad "8 upstreams, 16 addresses: $out"
has "the 8th upstream" "dns upstream 192.0.2.8 port 53"
has "the 16th DNS address" "dns listen 127.0.0.1 port 5316"
expect_error "9 upstreams" \
    '^dns44: -dns-upstream: more than 8 addresses$' \
    -f "$tmp/base.conf" -dns-upstream "$l8,192.0.2.9"
expect_error "17 DNS addresses" \
    '^dns44: -dns-bind-address: more than 16 addresses$' \
    -f "$tmp/base.conf" -dns-bind-address "$l16,127.0.0.1:5317"

# The flags the parent starts its children with, and -D, checked too.
expect_error "-R unknown" '^dns44: -R nobody: unknown role$' -R nobody
expect_error "-D without =" '^dns44: -D m: expected macro=value$' -D m

# An unknown flag as it was typed, with the nearest one when one is near.
expect_error "unknown flag, suggested" \
    '^dns44: unknown flag -dns-upstrem; did you mean -dns-upstream?$' \
    -dns-upstrem 1.1.1.1
expect_error "unknown flag with =, suggested" \
    '^dns44: unknown flag --dial-timout; did you mean --dial-timeout?$' \
    --dial-timout=1s
expect_error "unknown flag two edits away, suggested" \
    '^dns44: unknown flag -dbg; did you mean -debug?$' -dbg
expect_error "unknown flag, no suggestion" '^dns44: unknown flag -bogus$' \
    -bogus
expect_error "unknown short flag" '^dns44: unknown flag -x$' -x

exit $failed
