#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
# proxyprobe.py: the servers and clients of the proxy's end-to-end tests.
# Clients find their server by name through the system resolver, which in
# the client namespace is dns44.  Every address is given by the test.
#
#   halfserver ADDR PORT     TCP: read to EOF, then answer "got N SHA256"
#   lateserver ADDR PORT     the same, but reading only 2 s after accept
#   udpecho ADDR PORT        UDP: send every datagram back
#   udpgrow ADDR PORT        UDP: answer a datagram of N bytes with 2N + 1
#   halfclient HOST PORT N   send N bytes, shut down writing, read the answer
#   trickle HOST PORT N PAUSE
#                            the same with N writes of 100 bytes, PAUSE
#                            seconds apart
#   udpclient HOST PORT N [PAUSE]
#                            connected UDP socket: N datagrams, PAUSE
#                            seconds apart, count echoes
#   udpsizes HOST PORT SIZE...
#                            connected UDP socket: a datagram of each size,
#                            each reply awaited; bytes counted each way
#   many HOST PORT PATH N SHA256
#                            N HTTP GETs open at once, each body checked
#   burst HOST PORT PATH N SHA256
#                            N HTTP GETs started at once, each on its own
#                            as soon as it connects, each body checked
#   keepmany HOST PORT PATH N SHA256 SECONDS
#                            N HTTP/1.1 keep-alive GETs at once, each body
#                            checked; "N of N correct, idle" once all came,
#                            then the connections held idle, then closed
#   hold HOST PORT SECONDS   connect, print the local port, hold, close
#   echoloop HOST PORT FILE SECONDS
#                            to an echo server: a line of 100 bytes every
#                            50 ms, each echo awaited, the count of echoed
#                            bytes kept in FILE; "echoed N" at the end, or
#                            "closed after N bytes"
#   holdmany HOST PORT N SECONDS
#                            N connections at once, held, then closed;
#                            prints how many connected
#   closed HOST PORT         connect and time until the proxy closes it
#   resets HOST PORT N       N connections one after the other, as fast as
#                            the proxy resets them; count the resets
#   secret ADDR PORT TEXT    TCP: send TEXT to whoever connects, close
#   usecret ADDR PORT TEXT   UDP: answer every datagram with TEXT
#   peer ADDR PORT           TCP, IPv4 or IPv6: send "peer ADDR" with the
#                            address the connection came from, close
#   upeer ADDR PORT          UDP, IPv4 or IPv6: answer every datagram with
#                            "peer ADDR" of its sender
#   fetch HOST PORT          TCP: connect and print "data TEXT" with what
#                            came, or "reset", "eof", "timeout"
#   ufetch HOST PORT         UDP: one datagram; "data TEXT" or "nothing"
#   segserver ADDR PORT      TCP: read the request, answer "segs N" with
#                            the segments the connection had brought
#                            (TCP_INFO's tcpi_segs_in: the SYN, the
#                            handshake's last ACK if it came alone, the
#                            request), close
#   ask HOST PORT TEXT       TCP: send TEXT, print what came back
#   firstbyte HOST PORT N    TCP, to a server that speaks first: N
#                            connections one after the other; "first MS"
#                            with the fewest milliseconds one waited from
#                            connect to the server's first byte

import asyncio
import hashlib
import os
import resource
import socket
import struct
import sys
import threading
import time


def resolve(host):
    return socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]


def read_all(c):
    """What the socket c brings until EOF; c is closed."""
    data = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        data += b
    c.close()
    return data


def listener(addr, port, backlog=64):
    """A TCP socket listening on addr (IPv4 or IPv6) and port."""
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(backlog)
    return ls


def halfserver(addr, port, delay=0):
    ls = listener(addr, port, 256)

    def serve(c):
        h = hashlib.sha256()
        n = 0
        time.sleep(float(delay))
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                n += len(b)
                h.update(b)
            # Only after the client's EOF: the proxy must keep this way open.
            time.sleep(0.2)
            c.sendall(("got %d %s\n" % (n, h.hexdigest())).encode())
        except OSError:
            pass
        c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def lateserver(addr, port):
    halfserver(addr, port, 2)


def udpecho(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        b, peer = s.recvfrom(65535)
        s.sendto(b, peer)


def udpgrow(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        b, peer = s.recvfrom(65535)
        s.sendto(b"r" * (2 * len(b) + 1), peer)


def udpstream(addr, port):
    # A request "N PAUSE" is answered with N datagrams, PAUSE s apart,
    # and nothing more from the client: traffic from the server alone.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        b, peer = s.recvfrom(65535)
        n, pause = b.split()
        for i in range(int(n)):
            if i > 0:
                time.sleep(float(pause))
            s.sendto(("stream %d" % i).encode(), peer)


def halfclient(host, port, n, pieces=1, pause=0):
    data = os.urandom(int(n))
    c = socket.create_connection((resolve(host), int(port)), timeout=10)
    step = max(1, -(-len(data) // int(pieces)))
    for i in range(0, len(data), step):
        if i > 0:
            time.sleep(float(pause))
        c.sendall(data[i:i + step])
    c.shutdown(socket.SHUT_WR)
    reply = read_all(c)
    want = "got %d %s" % (len(data), hashlib.sha256(data).hexdigest())
    got = reply.decode(errors="replace").strip()
    print("ok" if got == want else "bad: got %r want %r" % (got, want))


def trickle(host, port, n, pause):
    try:
        halfclient(host, port, 100 * int(n), n, pause)
    except OSError as e:
        print("bad: %s" % e)


def udpclient(host, port, n, pause=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Connected: datagrams from any other address or port are dropped.
    s.connect((resolve(host), int(port)))
    s.settimeout(2)
    good = 0
    for i in range(int(n)):
        if i > 0:
            time.sleep(float(pause))
        msg = ("datagram %d " % i).encode() + os.urandom(32).hex().encode()
        s.send(msg)
        try:
            if s.recv(65535) == msg:
                good += 1
        except socket.timeout:
            pass
    print("echoed %d of %s from port %d" % (good, n, s.getsockname()[1]))


def udplisten(host, port, n, pause):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((resolve(host), int(port)))
    s.send(("%s %s" % (n, pause)).encode())
    want = set("stream %d" % i for i in range(int(n)))
    got = set()
    end = time.monotonic() + int(n) * float(pause) + 3
    while got != want and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            got.add(s.recv(65535).decode(errors="replace"))
        except socket.timeout:
            break
    print("streamed %d of %s from port %d" %
          (len(got & want), n, s.getsockname()[1]))


def udpsizes(host, port, *sizes):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((resolve(host), int(port)))
    s.settimeout(2)
    sent = received = replies = 0
    for n in sizes:
        s.send(os.urandom(int(n)))
        sent += int(n)
        try:
            received += len(s.recv(65535))
            replies += 1
        except socket.timeout:
            pass
    print("sent %d received %d replies %d of %d from port %d" %
          (sent, received, replies, len(sizes), s.getsockname()[1]))


async def many_main(host, port, path, n, sha):
    addr = resolve(host)
    conns = await asyncio.gather(*[asyncio.open_connection(addr, port)
                                   for _ in range(n)])
    # All open at once before any is used.
    for r, w in conns:
        w.write(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" %
                 (path, host)).encode())

    async def finish(r, w):
        data = await r.read()
        w.close()
        body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
        return hashlib.sha256(body).hexdigest() == sha

    res = await asyncio.gather(*[finish(r, w) for r, w in conns],
                               return_exceptions=True)
    print("%d of %d correct" % (sum(1 for x in res if x is True), n))


def many(host, port, path, n, sha):
    asyncio.run(asyncio.wait_for(many_main(host, int(port), path, int(n),
                                           sha), 40))


async def burst_main(host, port, path, n, sha):
    addr = resolve(host)

    async def one():
        r, w = await asyncio.open_connection(addr, port)
        w.write(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" %
                 (path, host)).encode())
        data = await r.read()
        w.close()
        body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
        return hashlib.sha256(body).hexdigest() == sha

    res = await asyncio.gather(*[one() for _ in range(n)],
                               return_exceptions=True)
    print("%d of %d correct" % (sum(1 for x in res if x is True), n))


def burst(host, port, path, n, sha):
    asyncio.run(asyncio.wait_for(burst_main(host, int(port), path, int(n),
                                            sha), 90))


async def keepmany_main(host, port, path, n, sha, secs):
    addr = resolve(host)

    async def one():
        r, w = await asyncio.open_connection(addr, port)
        w.write(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                 (path, host)).encode())
        head = await r.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await r.readexactly(length)
        return (r, w, hashlib.sha256(body).hexdigest() == sha)

    res = await asyncio.gather(*[one() for _ in range(n)],
                               return_exceptions=True)
    good = sum(1 for x in res if isinstance(x, tuple) and x[2])
    print("%d of %d correct, idle" % (good, n), flush=True)
    await asyncio.sleep(secs)
    for x in res:
        if isinstance(x, tuple):
            x[1].close()


def keepmany(host, port, path, n, sha, secs):
    asyncio.run(keepmany_main(host, int(port), path, int(n), sha,
                              float(secs)))


def hold(host, port, secs):
    c = socket.create_connection((resolve(host), int(port)), timeout=5)
    print(c.getsockname()[1], flush=True)
    time.sleep(float(secs))
    c.close()


def echoloop(host, port, path, secs):
    c = socket.create_connection((resolve(host), int(port)), timeout=5)
    n, end = 0, time.time() + float(secs)
    while time.time() < end:
        c.sendall(b"x" * 99 + b"\n")
        got = b""
        while len(got) < 100:
            b = c.recv(100 - len(got))
            if not b:
                sys.exit("closed after %d bytes" % n)
            got += b
        n += 100
        # Atomically: a reader never sees the file empty.
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % n)
        os.replace(path + ".tmp", path)
        time.sleep(0.05)
    print("echoed", n)


async def holdmany_main(host, port, n, secs):
    addr = resolve(host)

    async def one():
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(addr, port), secs)
        except (OSError, asyncio.TimeoutError):
            return None

    conns = await asyncio.gather(*[one() for _ in range(n)])
    print("connected %d of %d" % (sum(1 for c in conns if c), n),
          flush=True)
    await asyncio.sleep(secs)
    for c in conns:
        if c:
            c[1].close()


def holdmany(host, port, n, secs):
    asyncio.run(holdmany_main(host, int(port), int(n), float(secs)))


def closed(host, port):
    addr = resolve(host)
    t0 = time.monotonic()
    try:
        # The proxy may reset before connect() returns.
        c = socket.create_connection((addr, int(port)), timeout=10)
        b = c.recv(1)
        how = "eof" if not b else "data"
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    print("%s %.2f" % (how, time.monotonic() - t0))


def resets(host, port, n):
    addr = resolve(host)
    count = 0
    for _ in range(int(n)):
        try:
            c = socket.create_connection((addr, int(port)), timeout=5)
            if not c.recv(1):
                count += 1
            c.close()
        except ConnectionResetError:
            count += 1
        except socket.timeout:
            pass
    print("%d reset" % count)


def secret(addr, port, text):
    ls = listener(addr, port)
    while True:
        c, _ = ls.accept()
        try:
            c.sendall(text.encode() + b"\n")
        except OSError:
            pass
        c.close()


def usecret(addr, port, text):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        _, peer = s.recvfrom(65535)
        s.sendto(text.encode(), peer)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def peer(addr, port):
    ls = listener(addr, port)

    while True:
        c, who = ls.accept()
        try:
            c.sendall(("peer %s\n" % who[0]).encode())
        except OSError:
            pass
        c.close()


def upeer(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        _, who = s.recvfrom(65535)
        s.sendto(("peer %s" % who[0]).encode(), who)


def fetch(host, port):
    try:
        c = socket.create_connection((resolve(host), int(port)), timeout=2)
        data = read_all(c)
        text = data.decode(errors="replace").strip()
        print("data " + text if text else "eof")
    except ConnectionResetError:
        print("reset")
    except ConnectionRefusedError:
        print("reset")
    except socket.timeout:
        print("timeout")


def ufetch(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((resolve(host), int(port)))
    s.settimeout(2)
    text = None
    # Three tries: the first datagram may wait for the session's setup.
    for _ in range(3):
        s.send(b"hello")
        try:
            text = s.recv(65535).decode(errors="replace").strip()
            break
        except (socket.timeout, ConnectionRefusedError):
            pass
    print("data " + text if text else "nothing")


def segserver(addr, port):
    ls = listener(addr, port)
    while True:
        c, _ = ls.accept()
        try:
            c.recv(65536)
            info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
            # struct tcp_info: tcpi_segs_out, tcpi_segs_in at 136.
            _, segs_in = struct.unpack_from("=II", info, 136)
            c.sendall(("segs %d\n" % segs_in).encode())
        except OSError:
            pass
        c.close()


def ask(host, port, text):
    c = socket.create_connection((resolve(host), int(port)), timeout=5)
    c.sendall(text.encode())
    data = read_all(c)
    print(data.decode(errors="replace").strip())


def firstbyte(host, port, n):
    best = None
    for _ in range(int(n)):
        c = socket.create_connection((resolve(host), int(port)), timeout=5)
        t0 = time.monotonic()
        c.recv(1)
        ms = (time.monotonic() - t0) * 1000
        c.close()
        best = ms if best is None else min(best, ms)
    print("first %d" % best)


def main():
    cmds = {n: globals()[n] for n in (
        "halfserver", "lateserver", "udpecho", "udpgrow", "udpstream",
        "halfclient", "udplisten", "udpclient", "udpsizes", "many", "burst",
        "trickle", "hold", "keepmany", "echoloop", "holdmany", "closed",
        "resets", "secret", "usecret", "fetch", "ufetch", "peer", "upeer",
        "segserver", "ask", "firstbyte")}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit("usage: proxyprobe.py %s ..." % "|".join(cmds))
    # Room for a thousand connections of our own.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
