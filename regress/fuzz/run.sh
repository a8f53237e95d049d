#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# Builds the fuzz targets with clang's libFuzzer, ASan and UBSan, runs
# every kept regression input once, then fuzzes each target for
# FUZZ_SECONDS (60 unless set) from its seed corpus, as many at once as
# there are CPUs.  Any finding fails.
# New inputs go to a temporary directory, not into the source tree.

set -u
: "${srcdir:?}" "${builddir:?}" "${FUZZ_SECONDS:=60}"
TARGETS="${FUZZ_TARGETS:-query answer msg ctl conf names via nl}"

if ! command -v clang >/dev/null; then
	echo "clang is not installed (apt-get install clang)"
	exit 77
fi
work=$(mktemp -d /tmp/dns44-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
	-fno-sanitize-recover=undefined -I$builddir -I$srcdir/include -I$srcdir/src
	-DDNS44_CONF_FILE=\"/etc/dns44.conf\" -DDNS44_DBDIR=\"$DBDIR\"
	-DDNS44_CONTROL=\"/run/dns44.sock\" -DDNS44_EMPTY_DIR=\"$EMPTYDIR\"
	$(pkg-config --cflags libbsd-overlay ldns tdb libevent libevent_openssl \
	libssl libmnl)"
LIBS="$(pkg-config --libs libbsd-overlay ldns tdb libevent libevent_openssl \
	libssl libcrypto libmnl)"

# bison's output is in the build tree, or in the source tree of a release.
parse_c=$builddir/src/parse.c
[ -f "$parse_c" ] || parse_c=$srcdir/src/parse.c
CFLAGS="$CFLAGS -I$(dirname "$parse_c")"

# The pieces under test, built once with fuzzer coverage.
objs=
for f in "$srcdir/src/answer.c" "$srcdir/src/answer_relay.c" \
    "$srcdir/src/map.c" "$srcdir/src/map_assign.c" \
    "$srcdir/src/map_client.c" "$srcdir/src/map_db.c" \
    "$srcdir/src/map_journal.c" \
    "$srcdir/src/siphash.c" "$srcdir/src/log.c" "$srcdir/src/msg.c" \
    "$srcdir/src/conf.c" "$srcdir/src/upstream.c" \
    "$srcdir/src/upstream_health.c" "$srcdir/src/upstream_tls.c" \
    "$srcdir/src/resolve.c" "$srcdir/src/resolve_cache.c" \
    "$srcdir/src/names.c" "$srcdir/src/rules.c" "$srcdir/src/wire.c" \
    "$srcdir/src/parse_lex.c" "$srcdir/src/parse_value.c" "$parse_c" \
    "$srcdir/src/proxy_via.c" "$srcdir/src/ifaddr.c" \
    "$srcdir/src/prefix.c" "$srcdir/src/table.c"; do
	o=$work/$(basename "$f" .c).o
	# shellcheck disable=SC2086
	clang $CFLAGS -fsanitize=fuzzer-no-link -c "$f" -o "$o" ||
	    { echo "FAIL: cannot build $f"; exit 1; }
	objs="$objs $o"
done

failed=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in $TARGETS; do
	bin=$work/fuzz_$t
	# shellcheck disable=SC2086
	clang $CFLAGS -fsanitize=fuzzer "$srcdir/regress/fuzz/fuzz_$t.c" \
	    $objs $LIBS -o "$bin" || { echo "FAIL: cannot build $t"; exit 1; }
	# Inputs that once crashed stay as regression cases.
	if [ -d "$srcdir/regress/fuzz/crashes/$t" ] &&
	    [ -n "$(ls "$srcdir/regress/fuzz/crashes/$t")" ]; then
		if "$bin" "$srcdir/regress/fuzz/crashes/$t"/* \
		    >"$work/$t.regress.log" 2>&1; then
			echo "ok $t: regression inputs"
		else
			echo "FAIL $t: a regression input fails"
			tail -n 40 "$work/$t.regress.log"
			failed=1
		fi
	fi
	mkdir -p "$work/corpus-$t"
	# The configuration's seeds are the parser's golden inputs.
	if [ "$t" = conf ]; then
		cp "$srcdir/regress/parse"/*.conf "$work/corpus-$t/"
	else
		cp "$srcdir/regress/fuzz/corpus/$t"/* "$work/corpus-$t/"
	fi
done

# fuzz T: one target for FUZZ_SECONDS from its corpus; the log says how
# it went.
fuzz() {
	(cd "$work" && "$work/fuzz_$1" -max_total_time="$FUZZ_SECONDS" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$work/crash-$1-" "$work/corpus-$1") \
	    >"$work/$1.log" 2>&1
	echo $? >"$work/$1.rc"
}

# As many targets at once as there are CPUs, each with a CPU of its own
# for its whole time.
jobs=$(nproc 2>/dev/null || echo 1)
running=0
for t in $TARGETS; do
	fuzz "$t" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

for t in $TARGETS; do
	if [ "$(cat "$work/$t.rc")" = 0 ]; then
		echo "ok $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' \
		    "$work/$t.log" | awk '{ print $2 }') runs in" \
		    "${FUZZ_SECONDS}s, corpus $(ls "$work/corpus-$t" | wc -l)"
	else
		echo "FAIL $t: a finding"
		grep -A 30 "ERROR\|runtime error\|deadly signal" "$work/$t.log" |
		    head -n 60
		for c in "$work"/crash-"$t"-*; do
			[ -f "$c" ] && echo "input: $(od -An -tx1 "$c" |
			    tr -d ' \n' | cut -c1-400)"
		done
		failed=1
	fi
done
exit $failed
