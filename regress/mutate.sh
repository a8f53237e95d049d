#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# mutate.sh: which deliberate bugs the tests miss.  Each mutant of a list
# is one small edit of the daemon's source, a bug of the kind that could
# be made for real.  The script copies the tree to a scratch directory,
# builds it there once, then for each mutant: applies it, makes again,
# runs the tests named for it (the whole suite if none), and puts the
# source back.  A mutant that no test fails SURVIVED: the tests miss that
# bug.  On demand only, as root like the end-to-end tests; never part of
# make check, and it leaves the tree it was started from alone.
#
#	sh regress/mutate.sh [-Bkn] [-l list] [-t seconds] [name ...]
#
#	-B	no baseline: do not first run the named tests on the
#		unmutated copy (each must pass there, or nothing is learnt)
#	-k	keep the scratch copy; its path is printed
#	-n	only check that every mutant applies (no build, no tests)
#	-l	the list; regress/mutants beside this script by default
#	-t	the longest one mutant's tests may run (900 s); longer counts
#		as caught, the way a hung test would be noticed
#	name	only these mutants
#
# The list: one mutant a line, four fields split at the first three "|"
# with white space before and after (or the end of the line),
#
#	name | tests | search | replacement
#
# name: one word.  tests: what regress/run-tests takes
# (regress/netns/dns.sh, regress/map/maptest), space-separated; a word
# with "=" is put in their environment (FUZZ_SECONDS=10); none: the whole
# suite (make check).  search: text that must be found exactly once in
# all of src/*.c, src/*.y and src/*/*.c together -- all a mutant knows of
# where it goes, so that it still applies when a file is split or
# renamed; it cannot hold a " | ".  replacement: the rest of the line,
# maybe empty.  In both, \n is a newline, \t a tab and \\ a backslash;
# white space at either end is dropped.  Lines starting with # are
# comments.
#
# Output: a line a mutant, KILLED name (and the tests that failed),
# SURVIVED name, STALE name (the search text is found no time or more
# than once: fix the list), NOBUILD name (the mutant does not compile:
# fix the list), then the counts.  Status 0 when every mutant was killed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
list=$here/mutants
baseline=1 keep=0 checkonly=0 limit=900
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

usage() {
	echo "usage: mutate.sh [-Bkn] [-l list] [-t seconds] [name ...]" >&2
	exit 2
}
while getopts Bknl:t: opt; do
	case $opt in
	B)	baseline=0 ;;
	k)	keep=1 ;;
	n)	checkonly=1 ;;
	l)	list=$OPTARG ;;
	t)	limit=$OPTARG ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ -r "$list" ] || { echo "mutate.sh: cannot read $list" >&2; exit 2; }
list=$(cd "$(dirname "$list")" && pwd)/$(basename "$list")

# mut CMD TREE [NAME]: the list's work, in python for exact text.
#   names TREE NAME...	the mutants chosen, "name<TAB>tests" a line
#   apply TREE NAME	apply one to TREE (originals kept in TREE/.mutate);
#			prints the file, or "STALE n" with n the matches
#   restore TREE	put the originals back
mut() {
	"$PYTHON" - "$list" "$@" <<'EOF'
import glob, os, re, shutil, sys

listfile, cmd, tree = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
save = os.path.join(tree, ".mutate")

def unescape(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(
        m.group(1), m.group(1)), s)

def mutants():
    out = []
    for n, line in enumerate(open(listfile), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        f = re.split(r"(?<=\s)\|(?=\s)|(?<=\s)\|$", line, 3)
        if len(f) != 4 or not f[0].strip() or " " in f[0].strip():
            sys.exit("%s:%d: want name | tests | search | replacement" %
                     (listfile, n))
        out.append((f[0].strip(), f[1].strip(), unescape(f[2].strip()),
                    unescape(f[3].strip())))
    names = [m[0] for m in out]
    dup = set(x for x in names if names.count(x) > 1)
    if dup:
        sys.exit("%s: names given twice: %s" % (listfile, " ".join(dup)))
    return out

def sources():
    return sorted(glob.glob(os.path.join(tree, "src", "*.c")) +
                  glob.glob(os.path.join(tree, "src", "*.y")) +
                  glob.glob(os.path.join(tree, "src", "*", "*.c")))

ms = mutants()
if cmd == "names":
    known = set(m[0] for m in ms)
    for a in args:
        if a not in known:
            sys.exit("no mutant %s in %s" % (a, listfile))
    for m in ms:
        if not args or m[0] in args:
            print("%s\t%s" % (m[0], m[1]))
elif cmd == "apply":
    m = [x for x in ms if x[0] == args[0]][0]
    hits = []
    for path in sources():
        text = open(path).read()
        if m[2] and m[2] in text:
            hits.append((path, text, text.count(m[2])))
    n = sum(h[2] for h in hits)
    if n != 1:
        print("STALE %d" % n)
        sys.exit(0)
    path, text, _ = hits[0]
    rel = os.path.relpath(path, tree)
    os.makedirs(os.path.dirname(os.path.join(save, rel)), exist_ok=True)
    shutil.copyfile(path, os.path.join(save, rel))
    with open(path, "w") as f:
        f.write(text.replace(m[2], m[3]))
    print(rel)
elif cmd == "restore":
    for d, _, files in os.walk(save):
        for f in files:
            kept = os.path.join(d, f)
            shutil.copyfile(kept, os.path.join(tree,
                                               os.path.relpath(kept, save)))
            os.unlink(kept)
EOF
}

chosen=$(mut names "$top" "$@") || exit 2
[ -n "$chosen" ] || { echo "mutate.sh: no mutants in $list" >&2; exit 2; }

# -n: where each applies, on a throw-away copy of src.
if [ $checkonly -eq 1 ]; then
	work=$(mktemp -d /tmp/dns44-mutate.XXXXXX) || exit 2
	trap 'rm -rf "$work"' EXIT
	cp -R "$top/src" "$work/src"
	stale=0
	echo "$chosen" | while IFS='	' read -r name tests; do
		r=$(mut apply "$work" "$name") || exit 2
		mut restore "$work"
		case $r in
		STALE*)	echo "STALE $name (found ${r#STALE } times)" ;;
		*)	echo "applies $name ($r)" ;;
		esac
	done | tee "$work/out"
	! grep -q '^STALE' "$work/out"
	exit
fi

if [ "$(id -u)" != 0 ]; then
	echo "mutate.sh: the end-to-end tests need root" >&2
	exit 2
fi
work=$(mktemp -d /tmp/dns44-mutate.XXXXXX) || exit 2
cleanup() {
	if [ $keep -eq 1 ]; then
		echo "scratch copy kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

# The tree as it is, edits not yet committed included; no build output.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard -z |
	    tar -cf - --null --no-recursion --ignore-failed-read -T - \
	    2>/dev/null) | tar -C "$work" -xf - || exit 2
else
	cp -R "$top/." "$work/"
fi
jobs=$(nproc 2>/dev/null || echo 1)
b=$work/build
echo "building in $b"
(cd "$work" && autoreconf -fi && mkdir -p "$b" && cd "$b" &&
    ../configure --sysconfdir=/etc --localstatedir=/var &&
    make -j"$jobs") >"$work/build.log" 2>&1 || {
	tail -n 30 "$work/build.log"
	echo "mutate.sh: the unmutated tree does not build"
	exit 2
}

# mkvar VAR: a variable of the build's Makefile, expanded.
mkvar() {
	printf 'mutate-print:\n\t@echo $(%s)\n' "$1" |
	    make -s -C "$b" -f Makefile -f - mutate-print
}
DBDIR_=$(mkvar dbdir)
# Scripts run test programs too (a test build of the daemon, a stand-in).
checkprogs=$(mkvar check_PROGRAMS)
EMPTYDIR_=$(mkvar empty_dir)

# run LOG TESTS...: build and run the tests as check-local does; the
# status is run-tests' (124 past the time limit).
run() {
	rlog=$1
	shift
	envs= names= progs=
	for w in "$@"; do
		case $w in
		*=*)	envs="$envs $w" ;;
		*.sh)	names="$names $w" progs="$progs $checkprogs" ;;
		*)	names="$names $w" progs="$progs $w" ;;
		esac
	done
	if [ -z "$names" ]; then
		timeout -k 60 "$limit" make -C "$b" check >"$rlog" 2>&1
		return
	fi
	if [ -n "$progs" ]; then
		# shellcheck disable=SC2086
		make -C "$b" -j"$jobs" $progs >>"$rlog" 2>&1 || return 1
	fi
	# shellcheck disable=SC2086
	(cd "$b" && env $envs DNS44="$b/src/dns44" \
	    DNS44CTL="$b/src/dns44ctl/dns44ctl" DBDIR="$DBDIR_" \
	    EMPTYDIR="$EMPTYDIR_" srcdir="$work" builddir="$b" \
	    timeout -k 60 "$limit" sh "$work/regress/run-tests" $names) \
	    >>"$rlog" 2>&1
}

if [ $baseline -eq 1 ]; then
	all=$(echo "$chosen" | cut -f2 | tr ' ' '\n' | grep -v '=' | sort -u |
	    tr '\n' ' ')
	envs=$(echo "$chosen" | cut -f2 | tr ' ' '\n' | grep '=' | sort -u |
	    tr '\n' ' ')
	# A mutant with no tests named runs the whole suite; so does this.
	echo "$chosen" | cut -f2 | grep -q '^$' && all=
	echo "baseline: ${all:-the whole suite}"
	# shellcheck disable=SC2086
	if ! run "$work/baseline.log" $envs $all </dev/null; then
		grep -E '^(FAIL|failed:)' "$work/baseline.log"
		echo "mutate.sh: the tests fail without a mutant; see" \
		    "$work/baseline.log"
		keep=1
		exit 2
	fi
	tail -n 1 "$work/baseline.log"
fi

killed=0 survived=0 stale=0 nobuild=0
while IFS='	' read -r name tests; do
	log=$work/$name.log
	r=$(mut apply "$work" "$name") || exit 2
	case $r in
	STALE*)
		echo "STALE $name (found ${r#STALE } times)"
		stale=$((stale + 1))
		continue
		;;
	esac
	start=$(date +%s)
	if ! make -C "$b" -j"$jobs" >"$log" 2>&1 </dev/null; then
		echo "NOBUILD $name ($r)"
		nobuild=$((nobuild + 1))
	else
		# shellcheck disable=SC2086
		run "$log" $tests </dev/null
		rc=$?
		secs=$(($(date +%s) - start))
		if [ $rc -eq 0 ]; then
			echo "SURVIVED $name ($r, ${secs}s)"
			survived=$((survived + 1))
		else
			why=$(sed -n 's/^FAIL \([^ ]*\) .*/\1/p' "$log" |
			    tr '\n' ' ')
			[ $rc -eq 124 ] && why="${why}timed out "
			echo "KILLED $name (${why:-status $rc }${secs}s)"
			killed=$((killed + 1))
		fi
	fi
	mut restore "$work"
done <<EOF
$chosen
EOF
# The objects of the last mutant go; the copy is whole again.
make -C "$b" -j"$jobs" >/dev/null 2>&1

total=$((killed + survived + stale + nobuild))
echo "$total mutants: $killed killed, $survived survived, $stale stale," \
    "$nobuild not building"
[ $survived -eq 0 ] && [ $stale -eq 0 ] && [ $nobuild -eq 0 ]
