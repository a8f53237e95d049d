#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
"""tools.py: the small clients and servers of dns44's benchmarks.

  query HOST PORT NAME              print NAME's first A address (1 s)
  firstanswer HOST PORT NAME SECS   poll every 2 ms until an A answer
                                    arrives; print the time (epoch s)
  tcpcheck HOST PORT SECS           a TCP connection opens (exit 0)
  udpecho ADDR PORT                 UDP echo server
  udpsink ADDR PORT                 reads UDP and never answers: a dead
                                    upstream resolver
  udpsess HOST PORT SECS WINDOW SRC...
                                    new UDP sessions per second: each
                                    probe is a fresh socket bound to a new
                                    (SRC address, port), one datagram
                                    sent, its echo awaited; WINDOW probes
                                    in flight; prints "RATE ANSWERED SENT"
  holdserver ADDR PORT COUNTFILE    accept TCP connections and hold them;
                                    the count goes to COUNTFILE
  holdclient HOST PORT N            open N TCP connections, print "N
                                    open" when they are, hold them until
                                    killed
  conns HOST PORT PATH SECS N [SOCKS]
                                    HTTP/1.0 GETs of PATH, each on a new
                                    connection, N at a time for SECS;
                                    with SOCKS (ADDR:PORT) each goes
                                    through that SOCKS5 server, asking it
                                    for HOST by name; prints "RATE DONE
                                    FAILED"
  storecost HOST PORT SCRIPT WARM N [BATCH]
                                    the map store's script (Lua file
                                    SCRIPT) on an empty redis-server: WARM
                                    new names placed at random in
                                    10.128.0.0/9, then N more timed,
                                    BATCH (27) a call as the dns process
                                    sends them; prints redis-server's own
                                    microseconds a call and a name

Nothing here talks to an address it is not given; the benchmarks give
only addresses inside their own namespaces.
"""

import asyncio
import os
import random
import select
import socket
import struct
import sys
import time


def dns_query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def dns_first_a(data):
    """The first A record's address of a reply, or None."""
    if len(data) < 12:
        return None
    qd, an = struct.unpack(">HH", data[4:8])
    p = 12

    def skip_name(p):
        while p < len(data):
            n = data[p]
            if n == 0:
                return p + 1
            if n & 0xC0 == 0xC0:
                return p + 2
            p += n + 1
        return len(data)

    for _ in range(qd):
        p = skip_name(p) + 4
    for _ in range(an):
        p = skip_name(p)
        if p + 10 > len(data):
            return None
        t, c, ttl, rdlen = struct.unpack(">HHIH", data[p:p + 10])
        p += 10
        if t == 1 and rdlen == 4:
            return socket.inet_ntoa(data[p:p + 4])
        p += rdlen
    return None


def query(host, port, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.25)
    for i in range(4):
        qid = os.getpid() & 0xFFFF
        s.sendto(dns_query(qid, name), (host, int(port)))
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        a = dns_first_a(data)
        if a:
            print(a)
            return 0
    return 1


def firstanswer(host, port, name, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dst = (host, int(port))
    deadline = time.time() + float(secs)
    qid = 1
    while time.time() < deadline:
        try:
            s.sendto(dns_query(qid, name), dst)
        except OSError:
            pass
        r, _, _ = select.select([s], [], [], 0.002)
        if r:
            try:
                data = s.recv(4096)
            except OSError:
                continue
            if dns_first_a(data):
                print("%.6f" % time.time())
                return 0
        qid = (qid + 1) & 0xFFFF
    return 1


def tcpcheck(host, port, secs):
    deadline = time.time() + float(secs)
    while time.time() < deadline:
        try:
            c = socket.create_connection((host, int(port)), timeout=1)
            c.close()
            return 0
        except OSError:
            time.sleep(0.1)
    return 1


def udpecho(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 23)
    s.bind((addr, int(port)))
    while True:
        data, src = s.recvfrom(2048)
        try:
            s.sendto(data, src)
        except OSError:
            pass


def udpsink(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        s.recv(65536)


def udpsess(host, port, secs, window, *srcs):
    dst = (host, int(port))
    window = int(window)
    ports = list(range(1100, 64900))
    # Every (source address, port) is used once at most.
    tuples = ((a, p) for p in ports for a in srcs)
    ep = select.epoll()
    inflight = {}           # fd -> (socket, time sent)
    sent = answered = 0
    start = time.time()
    end = start + float(secs)
    timeout = 1.0

    def launch():
        nonlocal sent
        while True:
            try:
                src = next(tuples)
            except StopIteration:
                return False
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(src)
            except OSError:
                s.close()
                continue
            s.setblocking(False)
            try:
                s.sendto(b"dns44-bench", dst)
            except OSError:
                s.close()
                continue
            ep.register(s.fileno(), select.EPOLLIN)
            inflight[s.fileno()] = (s, time.time())
            sent += 1
            return True

    while time.time() < end:
        while len(inflight) < window:
            if not launch():
                end = 0
                break
        for fd, _ in ep.poll(0.05):
            s, _ = inflight.pop(fd)
            try:
                s.recv(2048)
                answered += 1
            except OSError:
                pass
            ep.unregister(fd)
            s.close()
        now = time.time()
        for fd, (s, t) in list(inflight.items()):
            if now - t > timeout:
                del inflight[fd]
                ep.unregister(fd)
                s.close()
    elapsed = time.time() - start
    print("%.0f %d %d" % (answered / elapsed, answered, sent))
    return 0


def holdserver(addr, port, countfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(8192)
    held = []
    written = -1
    s.settimeout(0.5)
    while True:
        idle = False
        try:
            c, _ = s.accept()
            held.append(c)
        except socket.timeout:
            idle = True
        if len(held) != written and (idle or len(held) % 1000 == 0):
            with open(countfile + ".tmp", "w") as f:
                f.write("%d\n" % len(held))
            os.rename(countfile + ".tmp", countfile)
            written = len(held)


def holdclient(host, port, n):
    n = int(n)
    held = []
    failed = 0
    for i in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(10)
        try:
            c.connect((host, int(port)))
            held.append(c)
        except OSError:
            failed += 1
            c.close()
    print("%d open %d failed" % (len(held), failed), flush=True)
    while True:
        time.sleep(3600)


async def conns_main(host, port, path, secs, n, socks):
    req = ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode()
    end = time.monotonic() + secs
    done = failed = 0

    async def one():
        if socks is None:
            r, w = await asyncio.open_connection(host, port)
        else:
            r, w = await asyncio.open_connection(socks[0], socks[1])
            w.write(b"\x05\x01\x00")
            if await r.readexactly(2) != b"\x05\x00":
                raise OSError("socks5 method")
            name = host.encode()
            w.write(b"\x05\x01\x00\x03" + bytes([len(name)]) + name +
                    struct.pack(">H", port))
            rep = await r.readexactly(5)
            if rep[1] != 0:
                raise OSError("socks5 reply %d" % rep[1])
            more = {1: 5, 3: rep[4] + 2, 4: 17}.get(rep[3])
            if more is None:
                raise OSError("socks5 address type")
            await r.readexactly(more)
        w.write(req)
        data = await r.read()
        w.close()
        if not data.startswith(b"HTTP/1.1 200"):
            raise OSError("status")

    async def worker():
        nonlocal done, failed
        while time.monotonic() < end:
            try:
                await asyncio.wait_for(one(), 10)
                done += 1
            except (OSError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError):
                failed += 1

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(n)))
    return done / (time.monotonic() - t0), done, failed


def conns(host, port, path, secs, n, socks=None):
    if socks is not None:
        a, p = socks.rsplit(":", 1)
        socks = (a, int(p))
    rate, done, failed = asyncio.run(conns_main(host, int(port), path,
                                                float(secs), int(n), socks))
    print("%.0f %d %d" % (rate, done, failed))
    return 0


def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def resp_read(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b":"):
        return rest
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if kind == b"*":
        return [resp_read(f) for _ in range(int(rest))]
    raise RuntimeError("redis: %r" % line)


def storecost(host, port, script, warm, n, batch=27):
    """The keys and arguments are the ones store_map.c gives the script."""
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")

    def cmd(*args):
        s.sendall(resp(args))
        return resp_read(f)

    keys = ["5", "dns44:range", "dns44:name", "dns44:addr", "dns44:used",
            "dns44:period"]
    first, size, batch = (10 << 24) | (128 << 16), 1 << 23, int(batch)
    rng = random.Random(44)
    cmd("FLUSHALL")
    with open(script) as fp:
        sha = cmd("SCRIPT", "LOAD", fp.read()).decode()
    cmd("EVALSHA", sha, *keys, "init", first, size, int(time.time()), 600)

    def names(count, tag):
        now, calls, k = int(time.time()), [], 0
        while k < count:
            args = ["EVALSHA", sha, *keys, "assign", first, size, now, 600,
                    "bench"]
            for _ in range(min(batch, count - k)):
                place = rng.randrange(size)
                a = first + place
                args += ["n%d.%s.bench" % (k, tag), place,
                         socket.inet_ntoa(struct.pack("!I", a))]
                k += 1
            calls.append(resp(args))
        # A few calls out at once, as the dns process has them.
        for i in range(0, len(calls), 4):
            s.sendall(b"".join(calls[i:i + 4]))
            for _ in calls[i:i + 4]:
                resp_read(f)
        return len(calls)

    names(int(warm), "w")
    cmd("CONFIG", "RESETSTAT")
    calls = names(int(n), "m")
    usec = 0
    for line in cmd("INFO", "commandstats").decode().split("\r\n"):
        if line.startswith("cmdstat_evalsha:"):
            usec = int(line.split("usec=")[1].split(",")[0])
    print("%.1f %.2f" % (usec / calls, usec / int(n)))
    return 0


def main():
    cmds = {"query": query, "firstanswer": firstanswer,
            "tcpcheck": tcpcheck, "udpecho": udpecho, "udpsess": udpsess,
            "udpsink": udpsink,
            "holdserver": holdserver, "holdclient": holdclient,
            "conns": conns, "storecost": storecost}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:])


sys.exit(main())
