#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
"""fakeredis.py: a hostile Redis server for dns44's end-to-end tests.

Python 3 standard library only.  Usage: fakeredis.py HOST PORT LOG

It speaks enough RESP for dns44's map store and answers wrongly where it
can: ROLE is an integer on the first link, HSCAN returns one good record
among records of every wrong kind, the channel carries junk around two
good changes, one of them another gateway's (and, from the third link
on, a reply that is no message at all), and the assignment of a name
depends on the name:

  fine.example     "172.24.0.30 1": new        (a good answer); then the
                   channel carries a message of the asking gateway's
                   own: a new name (which it must not take: it has its
                   own from the answers) and a name forgotten (which it
                   must forget)
  arr.example      the same as an array (the form of earlier versions)
  arr3.example     three words
  short.example    one word
  flag.example     a flag that is not -1, 0 or 1
  full.example     "-1" with an address
  out.example      an address outside the range
  nil.example      a nil reply
  err.example      an error reply
  deep.example     arrays nested ten deep
  garbage.example  bytes that are no RESP at all (the link must drop)
  big.example      a string of 64 MiB, sent as long as it is read
  wide.example     an array of a million elements, sent as long as it
                   is read

Asked as a Sentinel, it names a primary inside dns44's range.

Every command received is logged to LOG, one line each.  Runs until
killed.
"""

import asyncio
import sys

SHA = "0123456789abcdef0123456789abcdef01234567"


def bulk(b):
    if b is None:
        return b"$-1\r\n"
    if isinstance(b, str):
        b = b.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def arr(items):
    """An array; an item that begins as a RESP reply does is taken as
    one already encoded, so bulk() a string that only looks so."""
    out = b"*%d\r\n" % len(items)
    for i in items:
        out += i if isinstance(i, bytes) and i[:1] in b"*:$+-" else bulk(i)
    return out


class Server:
    def __init__(self, log):
        self.log = open(log, "a", buffering=1)
        self.roles = 0
        self.subs = 0
        self.sub = None

    async def read_command(self, reader):
        line = await reader.readline()
        if not line:
            return None
        if not line.startswith(b"*"):
            return line.split()
        n = int(line[1:])
        args = []
        for _ in range(n):
            ln = await reader.readline()
            size = int(ln[1:])
            data = await reader.readexactly(size + 2)
            args.append(data[:-2])
        return args

    def assign(self, name):
        if name == b"fine.example":
            return bulk(b"172.24.0.30 1")
        if name == b"arr.example":
            return arr([b"172.24.0.31", b":1\r\n"])
        if name == b"arr3.example":
            return bulk(b"172.24.0.31 1 x")
        if name == b"short.example":
            return bulk(b"172.24.0.31")
        if name == b"flag.example":
            return bulk(b"172.24.0.31 2")
        if name == b"full.example":
            return bulk(b"172.24.0.31 -1")
        if name == b"out.example":
            return bulk(b"10.1.1.1 1")
        if name == b"nil.example":
            return b"$-1\r\n"
        if name == b"err.example":
            return b"-ERR boom\r\n"
        if name == b"deep.example":
            return b"*1\r\n" * 10 + b":1\r\n"
        if name == b"garbage.example":
            return b"!!!! not resp\r\n"
        return b"-ERR unknown name\r\n"

    async def flood(self, writer, name):
        """A reply with no end in sight: written until the link drops."""
        if name == b"big.example":
            writer.write(b"$%d\r\n" % (64 << 20))
            chunk, n = b"x" * 65536, 1024
        else:
            writer.write(b"*1000000\r\n")
            chunk, n = b":1\r\n" * 15625, 64
        for _ in range(n):
            writer.write(chunk)
            await writer.drain()

    async def junk(self, writer):
        await asyncio.sleep(0.3)
        for payload in [b"+ 172.24.0.12", b"+ 999.1.1.1 x.example",
                        b"x y z", b"+ 10.0.0.1 outside.example",
                        b"+ 172.24.0.13 bad\x01name", b"- 172.24.0.9",
                        b"+ 172.24.0.14 " + b"a" * 300,
                        b"+ 172.24.0.15 " + b"x" * 100000,
                        b"= 0123456789abcdef\n+ 172.24.0.21 other.example",
                        b"+ 172.24.0.20 pushed.example"]:
            writer.write(arr([b"message", b"dns44:events", bulk(payload)]))
        # Not a message at all, on links after the first good one.
        if self.subs > 2:
            writer.write(arr([b"pmessage"]))
        await writer.drain()

    async def handle(self, reader, writer):
        try:
            while True:
                cmd = await self.read_command(reader)
                if cmd is None:
                    break
                name = cmd[0].upper() if cmd else b""
                self.log.write(" ".join(c.decode("latin-1")[:60]
                                        for c in cmd) + "\n")
                if name == b"AUTH" or name == b"PING":
                    out = b"+OK\r\n"
                elif name == b"ROLE":
                    self.roles += 1
                    out = b":1\r\n" if self.roles == 1 else \
                        arr([b"master", b":0\r\n", b"*0\r\n"])
                elif name == b"SENTINEL":
                    # A primary inside dns44's range.
                    out = arr([b"172.24.0.9", b"6379"])
                elif name == b"SCRIPT":
                    out = bulk(SHA)
                elif name == b"EVAL":
                    out = b":0\r\n"
                elif name == b"EVALSHA":
                    op = cmd[8] if len(cmd) > 8 else b""
                    if op == b"assign" and len(cmd) > 14 and \
                            cmd[14] in (b"big.example", b"wide.example"):
                        await self.flood(writer, cmd[14])
                        out = b""
                    elif op == b"assign" and len(cmd) > 14:
                        out = self.assign(cmd[14])
                        if cmd[14] == b"fine.example" and self.sub:
                            writer.write(out)
                            await writer.drain()
                            out = b""
                            self.sub.write(arr([b"message", b"dns44:events",
                                bulk(b"= " + cmd[13] +
                                     b"\n+ 172.24.0.22 mine.example"
                                     b"\n- 172.24.0.20 pushed.example")]))
                            await self.sub.drain()
                    else:
                        out = b":0\r\n"
                elif name == b"HSCAN":
                    recs = [b"172.24.0.9", b"good.example",
                            b"10.0.0.1", b"evil.example",
                            b"172.24.0.10", b"bad\x01name.example",
                            b"172.24.0.11", b"UPPER.example",
                            b"172.24.0.16", b"x" * 300,
                            b"172.24.0.17", b":5\r\n",
                            b"not-an-address", b"odd.example"]
                    out = arr([b"0", arr(recs)])
                elif name == b"SUBSCRIBE":
                    self.subs += 1
                    self.sub = writer
                    out = arr([b"subscribe", b"dns44:events", b":1\r\n"])
                    writer.write(out)
                    await writer.drain()
                    asyncio.ensure_future(self.junk(writer))
                    continue
                else:
                    out = b":1\r\n"
                writer.write(out)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        writer.close()


async def main():
    host, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = Server(log)
    server = await asyncio.start_server(s.handle, host, port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
