#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
"""dnsflood.py: ask COUNT distinct A queries (PREFIX-N.test) of a DNS
server on HOST:PORT over UDP, WINDOW at a time, and print how many got
an answer.  Used to fill dns44's map in tests; loopback only."""

import select
import socket
import struct
import sys
import time


def query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def qname_index(data, prefix):
    """The N of PREFIX-N.test in a reply's question, or None."""
    if len(data) < 13:
        return None
    n = data[12]
    label = data[13:13 + n].decode(errors="replace")
    if not label.startswith(prefix + "-"):
        return None
    try:
        return int(label[len(prefix) + 1:])
    except ValueError:
        return None


def main():
    host, port, prefix, count = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], int(sys.argv[4])
    window = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.connect((host, port))
    pending = {}            # index -> time sent
    todo = list(range(count - 1, -1, -1))
    done = set()
    tries = {}
    deadline = time.time() + 120
    while (todo or pending) and time.time() < deadline:
        while todo and len(pending) < window:
            i = todo.pop()
            s.send(query(i & 0xffff, "%s-%d.test" % (prefix, i)))
            pending[i] = time.time()
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            while True:
                try:
                    data = s.recv(4096, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                i = qname_index(data, prefix)
                if i is not None and i in pending:
                    del pending[i]
                    done.add(i)
        now = time.time()
        for i, sent in list(pending.items()):
            if now - sent > 1.0:
                del pending[i]
                tries[i] = tries.get(i, 0) + 1
                if tries[i] < 10:
                    todo.append(i)
    print(len(done))


main()
