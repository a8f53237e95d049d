#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# script.sh: what the map store's script costs redis-server a new name,
# and what each of its writes costs.  The script is taken from
# src/store_map.c as built; redis-server (nothing kept on disk) runs on
# the loopback of a network namespace of its own, and tools.py's
# storecost places SCRIPT_WARM new names in 10.128.0.0/9 (as store.sh's
# range), then times SCRIPT_N more, 27 a call and 4 calls out at once as
# the dns process sends them; redis-server's own time per call (INFO
# commandstats) is what is reported.  The same for copies of the script
# without one write each (not correct scripts: only their cost counts)
# and for one that writes nothing (the floor: the call, its arguments
# and its answer).  SCRIPT_REPS runs each, medians.

. "$(dirname "$0")/lib.sh"
b_setup
command -v redis-server >/dev/null 2>&1 || die "needs redis-server"
command -v unshare >/dev/null 2>&1 || die "needs unshare"

if [ "$BENCH_QUICK" = 1 ]; then
	: "${SCRIPT_WARM:=100000}" "${SCRIPT_N:=50000}" "${SCRIPT_REPS:=1}"
else
	: "${SCRIPT_WARM:=300000}" "${SCRIPT_N:=200000}" "${SCRIPT_REPS:=3}"
fi

# The C string of store_map.c as Lua, and the variants.
$PYTHON - "$BENCH_SRC/../src/store_map.c" "$B_TMP" <<'PYEOF' ||
import re, sys
src = open(sys.argv[1]).read()
i = src.index("const char store_script[] =")
body = src[i:src.index(";\n", i)].replace('" STORE_CHANNEL "',
                                          "dns44:events")
lua = "".join(bytes(p, "utf-8").decode("unicode_escape")
              for p in re.findall(r'"((?:[^"\\]|\\.)*)"', body))
cut = {
    "full": [],
    "no-answer-bits": ["      redis.call('BITFIELD', ans, unpack(marks))\n"],
    "no-publish": ["    news[#news + 1] = '+ ' .. a .. ' ' .. name\n",
                   "    redis.call('PUBLISH', 'dns44:events', "
                   "table.concat(news, '\\n'))\n"],
    "no-addr-hset": ["      redis.call('HSET', KEYS[3], unpack(byaddr))\n"],
}
for v, lines in cut.items():
    s = lua
    for l in lines:
        if l not in s:
            sys.exit("script.sh: the script changed: %r not found" % l)
        s = s.replace(l, "")
    open("%s/%s.lua" % (sys.argv[2], v), "w").write(s)
# The floor: each name answered with the address it came with.
start = "if op == 'assign' then\n"
s = lua.replace(start, start + "  local out = {}\n"
                "  for j = 7, #ARGV, 3 do\n"
                "    out[#out + 1] = ARGV[j + 2]\n"
                "    out[#out + 1] = '1'\n"
                "  end\n"
                "  return table.concat(out, ' ')\n"
                "end\n"
                "if op == 'unused' then\n", 1)
open("%s/no-writes.lua" % sys.argv[2], "w").write(s)
PYEOF
    die "cannot read the script from src/store_map.c"

VARIANTS="full no-answer-bits no-publish no-addr-hset no-writes"
# In a namespace of our own, its loopback only; a fresh redis-server for
# each run, so that none inherits another's memory.
unshare -n sh -c '
	ip link set lo up
	r=1
	while [ $r -le "$3" ]; do
		for v in $6; do
			redis-server --bind 127.0.0.1 --port 6379 --save "" \
			    --appendonly no --dir "$1" >"$1/redis.log" 2>&1 &
			rpid=$!
			i=0
			while ! $2 tcpcheck 127.0.0.1 6379 0.2 2>/dev/null; do
				i=$((i + 1))
				[ $i -gt 25 ] && { kill $rpid;
				    echo "redis-server did not start"; exit 1; }
			done
			c=$($2 storecost 127.0.0.1 6379 "$1/$v.lua" "$4" "$5") ||
			    { kill $rpid; exit 1; }
			printf "%s %s %s\n" "$r" "$v" "$c"
			kill $rpid
			wait $rpid
		done
		r=$((r + 1))
	done
' script "$B_TMP" "$TOOLS" "$SCRIPT_REPS" "$SCRIPT_WARM" "$SCRIPT_N" \
    "$VARIANTS" >"$B_TMP/costs" || die "the runs failed: $(cat "$B_TMP/costs")"

for v in $VARIANTS; do
	awk -v v="$v" '$2 == v { print $4 }' "$B_TMP/costs" >"$B_TMP/c.$v"
	eval "c_$(echo $v | tr - _)=$(median <"$B_TMP/c.$v")"
	log "$v: $(awk -v v="$v" '$2 == v { printf "%s us a call, %s a " \
	    "name; ", $3, $4 }' "$B_TMP/costs")"
done
# A write's cost: the full script less the one without it, in the same
# run, the median over the runs.
cost() {
	awk -v v="$1" '$2 == "full" { f[$1] = $4 } $2 == v { c[$1] = $4 }
	    END { for (r in f) if (r in c) printf "%.2f\n", f[r] - c[r] }' \
	    "$B_TMP/costs" | median
}
log "a name's writes (after $SCRIPT_WARM names): the answer's bit" \
    "$(cost no-answer-bits) us, the address's HSET $(cost no-addr-hset)" \
    "us, the change's line and PUBLISH $(cost no-publish) us"
result "map store script, redis-server us a new name" "$c_full" us \
    "no writes" "$c_no_writes" -
