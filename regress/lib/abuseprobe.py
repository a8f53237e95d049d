#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
"""abuseprobe.py: clients that misbehave on purpose, for the end-to-end
tests of dns44's bounds (dns-bounds.sh, proxy-bounds.sh, journal.sh).

  trickle HOST PORT NAME INTERVAL MAX
        a DNS query for NAME over TCP, one byte every INTERVAL seconds;
        prints "closed after S bytes N" when the server closes, or
        "open after S bytes N" when MAX seconds pass first
  stream HOST PORT KIND SECONDS
        a TCP stream of zeros or random bytes (KIND zero|random) for
        SECONDS, reconnecting whenever the server drops it; prints
        "connections C bytes N longest S"
  noread HOST PORT NAME SECONDS
        A queries for NAME over one TCP connection, sent as fast as they
        go for SECONDS, none of the answers read (a 4 kB receive
        buffer); prints "sent BYTES blocked S closed C": the seconds
        before the end since a write last went through, and whether the
        server closed or reset the connection
  rawname HOST PORT HEXLABELS...
        an A query over UDP whose labels are given in hex, sent as they
        are; prints the answer's address or "rcode N"
  halfopen HOST PORT SECONDS
        connects, shuts down its writing side and waits up to SECONDS for
        the proxy to close; prints "eof S", "reset S" or "open S"
  udpsilent HOST PORT SECONDS
        one datagram to a server that never answers, then waits; prints
        nothing: the test reads the journal
  udpquiet HOST PORT SECONDS
        one datagram and its echo, SECONDS of silence, then another from
        the same port; prints "echoed N of 2"
  tcpsink ADDR PORT, udpsink ADDR PORT
        servers that read whatever comes and never answer nor close
  anyupstream ADDR PORT REAL [DELAY]
        a DNS server (UDP) that answers every A query, whatever its name's
        bytes, with REAL, and every other type with an empty NOERROR;
        each answer DELAY seconds after its query (0 by default)
  udpburst HOST PORT N WAIT
        N datagrams "burst I" back to back from one UDP socket, then their
        echoes collected for WAIT seconds; prints "echoed E of N first F
        last L", the lowest and highest I echoed (-1 for none)
"""

import os
import random
import select
import socket
import struct
import sys
import time


def query(name, qtype=1, qid=None):
    if qid is None:
        qid = random.randrange(65536)
    wire = b""
    for label in name.rstrip(".").split("."):
        wire += bytes([len(label)]) + label.encode()
    wire += b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + \
        struct.pack(">HH", qtype, 1)


def closed(s):
    """True when the peer closed or reset the connection."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            return s.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    return False


def trickle(host, port, name, interval, maxsecs):
    q = query(name)
    msg = struct.pack(">H", len(q)) + q
    s = socket.create_connection((host, int(port)), timeout=5)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < float(maxsecs):
        if n < len(msg):
            try:
                s.send(msg[n:n + 1])
                n += 1
            except (ConnectionResetError, BrokenPipeError):
                break
        end = time.monotonic() + float(interval)
        gone = False
        while time.monotonic() < end:
            try:
                r, _, _ = select.select([s], [], [],
                                        max(0, end - time.monotonic()))
                if r and s.recv(65536) == b"":
                    gone = True
                    break
            except (ConnectionResetError, BrokenPipeError):
                gone = True
                break
        if gone:
            print("closed after %.1f bytes %d" % (time.monotonic() - t0, n))
            return
    print("open after %.1f bytes %d" % (time.monotonic() - t0, n))


def stream(host, port, kind, secs):
    t0 = time.monotonic()
    conns = 0
    total = 0
    longest = 0.0
    chunk = bytes(65536) if kind == "zero" else None
    while time.monotonic() - t0 < float(secs):
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
        except OSError:
            time.sleep(0.01)
            continue
        conns += 1
        c0 = time.monotonic()
        s.setblocking(False)
        while time.monotonic() - t0 < float(secs):
            data = chunk if chunk is not None else os.urandom(65536)
            try:
                _, w, _ = select.select([], [s], [], 0.1)
                if w:
                    total += s.send(data)
                if closed(s):
                    break
            except (ConnectionResetError, BrokenPipeError):
                break
            except BlockingIOError:
                pass
        longest = max(longest, time.monotonic() - c0)
        s.close()
    print("connections %d bytes %d longest %.1f" % (conns, total, longest))


def noread(host, port, name, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.setblocking(False)
    q = query(name, qid=0)
    one = struct.pack(">H", len(q)) + q
    chunk = one * (16384 // len(one))
    t0 = last = time.monotonic()
    sent = 0
    pending = b""
    shut = 0
    while time.monotonic() - t0 < float(secs):
        if not pending:
            pending = chunk
        try:
            _, w, _ = select.select([], [s], [], 0.1)
            if w:
                n = s.send(pending)
                if n > 0:
                    sent += n
                    pending = pending[n:]
                    last = time.monotonic()
        except BlockingIOError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            shut = 1
            break
    blocked = time.monotonic() - last
    s.close()
    print("sent %d blocked %.1f closed %d" % (sent, blocked, shut))


def rawname(host, port, *hexlabels):
    wire = b""
    for h in hexlabels:
        label = bytes.fromhex(h)
        wire += bytes([len(label)]) + label
    wire += b"\0"
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + \
        struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, (host, int(port)))
    try:
        r = s.recv(65535)
    except socket.timeout:
        print("timeout")
        return
    rcode = r[3] & 0x0f
    ancount = struct.unpack(">H", r[6:8])[0]
    if rcode != 0 or ancount == 0:
        print("rcode %d" % rcode)
        return
    # The one answer's RDATA is the last four bytes (no OPT was sent).
    print(socket.inet_ntoa(r[-4:]))


def halfopen(host, port, secs):
    addr = socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
    s = socket.create_connection((addr, int(port)), timeout=5)
    s.sendall(b"hello, nobody\n")
    s.shutdown(socket.SHUT_WR)
    t0 = time.monotonic()
    s.settimeout(float(secs))
    try:
        how = "eof" if s.recv(1) == b"" else "data"
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "open"
    print("%s %.1f" % (how, time.monotonic() - t0))


def udpsilent(host, port, secs):
    addr = socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    s.send(b"anyone there?")
    time.sleep(float(secs))


def udpquiet(host, port, secs):
    addr = socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    s.settimeout(2)
    good = 0
    for i in range(2):
        if i > 0:
            time.sleep(float(secs))
        msg = b"quiet %d" % i
        s.send(msg)
        try:
            if s.recv(65535) == msg:
                good += 1
        except socket.timeout:
            pass
    print("echoed %d of 2" % good)


def tcpsink(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(64)
    kept = []       # every connection, never closed
    watched = []    # those not at EOF yet
    while True:
        r, _, _ = select.select([ls] + watched, [], [])
        for c in r:
            if c is ls:
                c = ls.accept()[0]
                kept.append(c)
                watched.append(c)
                continue
            try:
                if c.recv(65536) == b"":
                    watched.remove(c)
            except OSError:
                watched.remove(c)


def udpsink(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        s.recv(65535)


def anyupstream(addr, port, real, delay="0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    rdata = socket.inet_aton(real)
    late = []       # (when, answer, peer), in the order they came
    while True:
        while late and late[0][0] <= time.monotonic():
            s.sendto(late[0][1], late[0][2])
            late.pop(0)
        wait = max(0, late[0][0] - time.monotonic()) if late else None
        if not select.select([s], [], [], wait)[0]:
            continue
        q, peer = s.recvfrom(65535)
        if len(q) < 17 or q[2] & 0x80:
            continue
        # The question as it came: labels up to the root, type, class.
        pos = 12
        while pos < len(q) and q[pos] != 0:
            pos += 1 + q[pos]
        pos += 5
        if pos > len(q):
            continue
        qtype = struct.unpack(">H", q[pos - 4:pos - 2])[0]
        an = 1 if qtype == 1 else 0
        r = q[:2] + struct.pack(">HHHHH", 0x8180 | (q[2] & 1) << 8, 1, an,
                                0, 0) + q[12:pos]
        if an:
            r += struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + rdata
        late.append((time.monotonic() + float(delay), r, peer))


def udpburst(host, port, n, wait):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    for i in range(int(n)):
        s.send(b"burst %d" % i)
    seen = set()
    end = time.monotonic() + float(wait)
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], end - time.monotonic())
        if not r:
            break
        try:
            d = s.recv(65535)
        except ConnectionRefusedError:
            continue
        if d.startswith(b"burst "):
            seen.add(int(d[6:]))
    print("echoed %d of %s first %d last %d" % (len(seen), n,
          min(seen) if seen else -1, max(seen) if seen else -1))


def main():
    cmds = {"trickle": trickle, "stream": stream, "noread": noread,
            "rawname": rawname,
            "halfopen": halfopen, "udpsilent": udpsilent,
            "udpquiet": udpquiet, "tcpsink": tcpsink, "udpsink": udpsink,
            "anyupstream": anyupstream, "udpburst": udpburst}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit("usage: abuseprobe.py %s ..." % "|".join(cmds))
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
