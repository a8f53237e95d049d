#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
#
# run.sh: the golden-file tests of the configuration grammar.  Every
# regress/parse/NAME.conf is given to "dns44 -n -f"; NAME.out holds the
# standard output expected of a valid file (exit status 0, nothing on
# stderr), NAME.err the standard error expected of an invalid one (exit
# status 1, nothing on stdout).  In them @DBDIR@ and @EMPTYDIR@ stand for
# the directories dns44 was configured with.  @SRCDIR@, the absolute source
# top directory, may be used in a .conf too, for the absolute paths of the
# list files under lists/: such a file is read from a copy with it
# replaced, whose name the errors then show as the original's.  Files
# under include/ and lists/ are only read through the configuration.
#
# Environment: DNS44 (the binary), srcdir (the source top directory),
# DBDIR and EMPTYDIR.

if [ -z "$DNS44" ] || [ ! -x "$DNS44" ]; then
	echo "FAIL parse: DNS44 (${DNS44:-unset}) is not an executable" >&2
	exit 1
fi
if [ -z "$DBDIR" ] || [ -z "$EMPTYDIR" ]; then
	echo "FAIL parse: DBDIR and EMPTYDIR must be set" >&2
	exit 1
fi
cd "${srcdir:-.}" || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dns44-parse.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM

# The directories as sed replacements: escape \, & and the delimiter |;
# the temporary one as a pattern, its dots too.
dbdir=$(printf '%s\n' "$DBDIR" | sed 's/[\\&|]/\\&/g')
emptydir=$(printf '%s\n' "$EMPTYDIR" | sed 's/[\\&|]/\\&/g')
topdir=$(pwd | sed 's/[\\&|]/\\&/g')
tmpdir=$(printf '%s\n' "$tmp" | sed 's/[\\&|.]/\\&/g')

total=0
failed=0
for conf in regress/parse/*.conf; do
	[ -f "$conf" ] || continue
	name=${conf##*/}
	name=${name%.conf}
	total=$((total + 1))

	if [ -f "regress/parse/$name.out" ]; then
		expected=regress/parse/$name.out
		want=0
		got=out
		quiet=err
	elif [ -f "regress/parse/$name.err" ]; then
		expected=regress/parse/$name.err
		want=1
		got=err
		quiet=out
	else
		echo "FAIL $name: neither $name.out nor $name.err"
		failed=$((failed + 1))
		continue
	fi

	sed -e "s|@DBDIR@|$dbdir|g" -e "s|@EMPTYDIR@|$emptydir|g" \
	    -e "s|@SRCDIR@|$topdir|g" "$expected" >"$tmp/expected"
	if grep -q @SRCDIR@ "$conf"; then
		mkdir -p "$tmp/regress/parse"
		sed "s|@SRCDIR@|$topdir|g" "$conf" >"$tmp/$conf"
		"$DNS44" -n -f "$tmp/$conf" >"$tmp/out" 2>"$tmp/err"
		status=$?
		for f in out err; do
			sed "s|$tmpdir/regress/parse/|regress/parse/|g" \
			    "$tmp/$f" >"$tmp/$f.0" && mv "$tmp/$f.0" "$tmp/$f"
		done
	else
		"$DNS44" -n -f "$conf" >"$tmp/out" 2>"$tmp/err"
		status=$?
	fi

	ok=1
	if [ "$status" -ne "$want" ]; then
		echo "FAIL $name: exit status $status, expected $want"
		ok=0
	fi
	if ! diff -u "$tmp/expected" "$tmp/$got" >"$tmp/diff"; then
		[ $ok -eq 0 ] || echo "FAIL $name"
		cat "$tmp/diff"
		ok=0
	fi
	if [ -s "$tmp/$quiet" ]; then
		[ $ok -eq 0 ] || echo "FAIL $name: unexpected std$quiet:"
		sed 's/^/	/' "$tmp/$quiet"
		ok=0
	fi
	if [ $ok -eq 1 ]; then
		echo "ok $name"
	else
		failed=$((failed + 1))
	fi
done

if [ $total -eq 0 ]; then
	echo "FAIL parse: no .conf files in $(pwd)/regress/parse" >&2
	exit 1
fi
echo "parse: $((total - failed)) of $total passed"
[ $failed -eq 0 ]
