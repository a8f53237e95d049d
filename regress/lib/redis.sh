# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# redis.sh: Redis servers for the tests of the shared map.  Source it
# after netns.sh.  A server runs inside a namespace of the test's own, so
# netns.sh's trap ends it.

# rs_start NS ADDR PORT [redis-server options...]: a redis-server in NS
# on ADDR:PORT, nothing kept on disk unless the options say so, its files
# in $T_TMP/redis-PORT (the same again for a server started anew on the
# port); its pid in RS_PID.
rs_start() {
	rs_ns=$1 rs_addr=$2 rs_port=$3
	shift 3
	command -v redis-server >/dev/null 2>&1 ||
	    { echo "needs redis-server"; exit 77; }
	mkdir -p "$T_TMP/redis-$rs_port"
	ip netns exec "$rs_ns" redis-server --bind "$rs_addr" \
	    --port "$rs_port" --protected-mode no --save "" --appendonly no \
	    --dir "$T_TMP/redis-$rs_port" --daemonize no "$@" \
	    >"$T_TMP/redis-$rs_port/out" 2>&1 &
	RS_PID=$!
	T_PIDS="$T_PIDS $RS_PID"
	wait_for 5 rs_listening "$rs_ns" "$rs_addr:$rs_port" || {
		cat "$T_TMP/redis-$rs_port/out"
		die "redis-server on port $rs_port did not start"
	}
}

# rs_listening NS ADDR:PORT: a TCP listener there.
rs_listening() {
	ip netns exec "$1" ss -Hlnt | awk '{ print $4 }' | grep -qx "$2"
}
