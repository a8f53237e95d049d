#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# man: the generated manual pages pass mandoc -Tlint -Wwarning, no @var@ is
# left in any generated file, and the pages keep up with the code: every
# flag of dns44 -h, every keyword dns44 -n prints and every command of
# dns44ctl's usage is documented.

: "${DNS44:?}" "${srcdir:?}" "${builddir:?}"
DNS44CTL=${DNS44CTL:-$builddir/src/dns44ctl/dns44ctl}
failed=0
tmp=$(mktemp -d /tmp/dns44-man.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.conf"
ok() { echo "ok $1"; }
bad() { echo "FAIL $1"; failed=1; }

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc is not installed"
	exit 77
fi

pages="man/dns44.8 man/dns44.conf.5 man/dns44ctl.8"
for p in $pages etc/dns44.conf etc/dns44.service etc/dns44.init \
    etc/dns44-tproxy etc/dns44.tmpfiles; do
	f=$builddir/$p
	if [ ! -s "$f" ]; then
		bad "$p was not generated"
		continue
	fi
	if left=$(grep -n '@[A-Za-z_][A-Za-z_]*@' "$f"); then
		bad "$p: unsubstituted: $left"
	else
		ok "$p: every @var@ substituted"
	fi
done

for p in $pages; do
	f=$builddir/$p
	[ -s "$f" ] || continue
	out=$(mandoc -Tlint -Wwarning "$f" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "$p: mandoc -Tlint -Wwarning is silent"
	else
		bad "$p: mandoc -Tlint -Wwarning (status $rc):"
		echo "$out"
	fi
done

# The text of a page, for the checks below.
text() {
	mandoc -Tascii "$builddir/$1" 2>/dev/null | col -bx
}

# Every flag of the usage message, in the synopsis and described.
page=$(text man/dns44.8)
synopsis=$(echo "$page" | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
flags=$("$DNS44" -h | sed -n 's/^  \(-[A-Za-z][A-Za-z-]*\).*/\1/p')
[ -n "$flags" ] || bad "no flags in dns44 -h"
for fl in $flags; do
	case $fl in
	-[a-zA-Z])
		# Short ones may be grouped: [-dhnv].
		letter=${fl#-}
		echo "$synopsis" | grep -Eq -- "-$letter|\[-[a-zA-Z]*$letter" &&
		    echo "$page" | grep -Eq -- "^ +$fl( |,|$)" ||
		    { bad "dns44.8 does not document $fl"; continue; }
		;;
	*)
		echo "$synopsis" | grep -q -- "\\[${fl}[] ]" &&
		    echo "$page" | grep -Eq -- "^ +$fl( |,|$)" ||
		    { bad "dns44.8 does not document $fl"; continue; }
		;;
	esac
done
ok "dns44.8 documents all $(echo "$flags" | wc -w) flags of dns44 -h"
for w in "-flag=value" "SIGHUP" "SIGTERM" "CAP_NET_ADMIN" \
    "CAP_NET_BIND_SERVICE" "no_new_privs" "TPROXY" "nft" "iptables" \
    "[+] TCP" "AAAA" "PTR"; do
	echo "$page" | grep -qF -- "$w" || case $w in
	-flag=value)
		echo "$page" | grep -qF -- "-ttl=" ||
		    bad "dns44.8: the -flag=value form is not shown"
		;;
	*)	bad "dns44.8 never mentions $w" ;;
	esac
done

# Every setting dns44 -n prints, by its keywords, in dns44.conf.5.
page=$(text man/dns44.conf.5)
kws=$("$DNS44" -n -f "$tmp/empty.conf" | awk '
	$1 == "dns" || $1 == "proxy" || $1 == "control" || $1 == "log" {
		print $1 "_" $2; next }
	{ print $1 }')
n=0
for kw in $kws; do
	k=$(echo "$kw" | tr _ ' ')
	n=$((n + 1))
	echo "$page" | grep -Eq "^ +$k( |$)" ||
	    bad "dns44.conf.5 does not document \"$k\""
done
[ $n -ge 15 ] || bad "only $n settings in dns44 -n"
for k in "log verbose" "log brief" include Macros; do
	echo "$page" | grep -q "$k" || bad "dns44.conf.5 never mentions $k"
done
ok "dns44.conf.5 documents the $n settings of dns44 -n"

# Every command of dns44ctl's usage message, and its flags.
page=$(text man/dns44ctl.8)
usage=$("$DNS44CTL" 2>&1)
cmds=$(echo "$usage" | awk '/^commands:/ { f = 1; next }
	f && $1 == "show" { print $1 " " $2; next }
	f { print $1 }')
[ -n "$cmds" ] || bad "no commands in dns44ctl's usage"
echo "$cmds" | while read -r c; do
	echo "$page" | grep -Eq "^ +$c( |$)" ||
	    { echo "FAIL dns44ctl.8 does not document \"$c\""; exit 1; }
done || failed=1
for fl in $(echo "$usage" | head -n 1 | grep -o '\[-[a-z]' | tr -d '['); do
	echo "$page" | grep -Eq -- "^ +$fl( |$)" ||
	    bad "dns44ctl.8 does not document $fl"
done
ok "dns44ctl.8 documents the commands of dns44ctl's usage"

exit $failed
