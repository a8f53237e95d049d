#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The dns44 authors; see the file LICENSE.
"""dnsprobe.py: raw DNS packets for dns44's end-to-end tests.

Python 3 standard library only.  Commands (PROTO is udp or tcp):

  query PROTO HOST PORT NAME TYPE [--class C] [--id N] [--norecurse]
        [--bufsize N] [--timeout S]
      one query; prints the reply (see show()); status 0 if one came, 2 if
      none did.
  send PROTO HOST PORT HEX [--expect-rcode R | --expect-silence]
        [--timeout S]
      a packet given in hex (TCP: the length prefix is added); prints the
      reply if any; status 0 if the expectation held, 1 if not.
  malformed PROTO HOST PORT [--name-prefix P]
      the whole battery of malformed queries, each followed by a normal A
      query; prints one "ok: ..." or "FAIL: ..." line per case.
  batch PROTO HOST PORT TYPE [--timeout S] [--together]
      a query of TYPE for each name on stdin, in turn; prints "NAME RCODE
      RDATA..." a line ("NAME none WHY" when no reply came).  With
      --together (UDP): all sent at once from one socket, then the
      replies awaited; printed in the order of the names.
  tcp-idle HOST PORT [--timeout S]
      connects, sends nothing; prints "closed SECS" or "open".
  tcp-partial HOST PORT [--timeout S]
      sends a length prefix of 512 and 20 bytes; prints "closed SECS",
      "reply" or "open".
  tcp-pipeline HOST PORT NAME-PREFIX
      several queries (A, AAAA, MX, A, TXT, A, PTR, A) in one write;
      prints ok/FAIL lines: every answer, in the order asked.
  udp-burst HOST PORT N [--timeout S]
      N queries (half of them forwarded) sent at once from one socket;
      prints ok/FAIL: each answered once, with its own question.
  tcp-limit HOST PORT N [--idle S]
      N idle clients, then one more; prints ok/FAIL lines (see below).
  fake-upstream HOST PORT LOG
      a hostile upstream (UDP on PORT, spoofs from PORT + 1): bogus
      replies first, then the genuine one, TXT "genuine"; logs "PORT ID
      NAME" per query to LOG.  Runs until killed.
  tdbmap
      reads tdbdump's output of dns44.tdb on stdin; prints "NAME ADDRESS
      LAST" per record.
"""

import argparse
import random
import socket
import struct
import sys
import time

TYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'MX': 15,
         'TXT': 16, 'AAAA': 28, 'SRV': 33, 'OPT': 41, 'SVCB': 64,
         'HTTPS': 65, 'ANY': 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
CLASSES = {'IN': 1, 'CH': 3, 'HS': 4, 'NONE': 254, 'ANY': 255}
RCODES = {'NOERROR': 0, 'FORMERR': 1, 'SERVFAIL': 2, 'NXDOMAIN': 3,
          'NOTIMP': 4, 'REFUSED': 5}
RCODE_NAMES = {v: k for k, v in RCODES.items()}

QR = 0x8000
AA = 0x0400
TC = 0x0200
RD = 0x0100
RA = 0x0080


# ---------------------------------------------------------------- building

def name_wire(name):
    """A name in wire form.  No checks, so that bad names can be built:
    a label is whatever lies between dots."""
    if isinstance(name, bytes):
        name = name.decode('latin-1')
    name = name.rstrip('.') if name not in ('', '.') else ''
    out = b''
    if name:
        for label in name.split('.'):
            lb = label.encode('latin-1')
            out += bytes([len(lb) & 0xff]) + lb
    return out + b'\0'


def header(qid, flags=RD, qd=1, an=0, ns=0, ar=0):
    return struct.pack('!6H', qid, flags, qd, an, ns, ar)


def question(name, qtype=1, qclass=1):
    return name_wire(name) + struct.pack('!HH', qtype, qclass)


def opt_rr(bufsize):
    return b'\0' + struct.pack('!HHIH', 41, bufsize, 0, 0)


def new_id():
    return random.randint(1, 0xffff)


def build_query(name, qtype, qclass=1, qid=None, rd=True, opcode=0,
                bufsize=None):
    qid = new_id() if qid is None else qid
    flags = (RD if rd else 0) | (opcode << 11)
    pkt = header(qid, flags, 1, 0, 0, 1 if bufsize else 0)
    pkt += question(name, qtype, qclass)
    if bufsize:
        pkt += opt_rr(bufsize)
    return qid, pkt


# ----------------------------------------------------------------- parsing

class ParseError(Exception):
    pass


def read_name(msg, off):
    labels = []
    jumps = 0
    end = None
    total = 1
    while True:
        if off >= len(msg):
            raise ParseError('name runs past the end')
        n = msg[off]
        if n & 0xc0 == 0xc0:
            if off + 1 >= len(msg):
                raise ParseError('truncated pointer')
            if end is None:
                end = off + 2
            off = ((n & 0x3f) << 8) | msg[off + 1]
            jumps += 1
            if jumps > 64:
                raise ParseError('pointer loop')
            continue
        if n & 0xc0:
            raise ParseError('bad label type')
        if n == 0:
            off += 1
            break
        if off + 1 + n > len(msg):
            raise ParseError('label runs past the end')
        labels.append(msg[off + 1:off + 1 + n].decode('latin-1'))
        total += n + 1
        if total > 255:
            raise ParseError('name too long')
        off += 1 + n
    return ('.'.join(labels) + '.') if labels else '.', (end or off)


def rdata_text(msg, rtype, off, rdlen):
    rd = msg[off:off + rdlen]
    try:
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntop(socket.AF_INET, rd)
        if rtype == 28 and rdlen == 16:
            return socket.inet_ntop(socket.AF_INET6, rd)
        if rtype in (2, 5, 12):
            return read_name(msg, off)[0]
        if rtype == 15:
            return '%d %s' % (struct.unpack('!H', rd[:2])[0],
                              read_name(msg, off + 2)[0])
        if rtype == 33:
            return '%d %d %d %s' % (struct.unpack('!HHH', rd[:6]) +
                                    (read_name(msg, off + 6)[0],))
        if rtype == 6:
            mname, o = read_name(msg, off)
            rname, o = read_name(msg, o)
            return '%s %s %d %d %d %d %d' % ((mname, rname) +
                                             struct.unpack('!5I',
                                                           msg[o:o + 20]))
        if rtype == 16:
            parts, i = [], 0
            while i < len(rd):
                n = rd[i]
                parts.append('"%s"' % rd[i + 1:i + 1 + n].decode('latin-1'))
                i += 1 + n
            return ' '.join(parts)
        if rtype in (64, 65):
            return svcb_text(msg, off, rdlen)
    except (ParseError, struct.error, IndexError):
        pass
    return '\\# %d %s' % (rdlen, rd.hex())


def svcb_params(rd):
    """[(key, value bytes)] of SVCB/HTTPS rdata (uncompressed target)."""
    i = 2
    while rd[i] != 0:
        i += 1 + rd[i]
    i += 1
    out = []
    while i < len(rd):
        k, n = struct.unpack('!HH', rd[i:i + 4])
        out.append((k, rd[i + 4:i + 4 + n]))
        i += 4 + n
    return out


def svcb_text(msg, off, rdlen):
    rd = msg[off:off + rdlen]
    prio = struct.unpack('!H', rd[:2])[0]
    target = read_name(msg, off + 2)[0]
    names = {1: 'alpn', 3: 'port', 4: 'ipv4hint', 6: 'ipv6hint', 5: 'ech'}
    ps = []
    for k, v in svcb_params(rd):
        if k == 1:
            vals, j = [], 0
            while j < len(v):
                vals.append(v[j + 1:j + 1 + v[j]].decode('latin-1'))
                j += 1 + v[j]
            ps.append('alpn=' + ','.join(vals))
        elif k == 4:
            ps.append('ipv4hint=' + ','.join(
                socket.inet_ntop(socket.AF_INET, v[j:j + 4])
                for j in range(0, len(v), 4)))
        elif k == 6:
            ps.append('ipv6hint=' + ','.join(
                socket.inet_ntop(socket.AF_INET6, v[j:j + 16])
                for j in range(0, len(v), 16)))
        else:
            ps.append('%s=%s' % (names.get(k, 'key%d' % k), v.hex()))
    return ' '.join(['%d' % prio, target] + ps)


def parse(msg):
    if len(msg) < 12:
        raise ParseError('reply shorter than a header')
    qid, flags, qd, an, ns, ar = struct.unpack('!6H', msg[:12])
    r = {'id': qid, 'flags': flags, 'qr': bool(flags & QR),
         'opcode': (flags >> 11) & 0xf, 'aa': bool(flags & AA),
         'tc': bool(flags & TC), 'rd': bool(flags & RD),
         'ra': bool(flags & RA), 'rcode': flags & 0xf,
         'counts': (qd, an, ns, ar), 'size': len(msg),
         'qd': [], 'an': [], 'ns': [], 'ar': [], 'opt': None}
    off = 12
    for _ in range(qd):
        name, off = read_name(msg, off)
        if off + 4 > len(msg):
            raise ParseError('truncated question')
        t, c = struct.unpack('!HH', msg[off:off + 4])
        off += 4
        r['qd'].append((name, t, c))
    for sect, cnt in (('an', an), ('ns', ns), ('ar', ar)):
        for _ in range(cnt):
            name, off = read_name(msg, off)
            if off + 10 > len(msg):
                raise ParseError('truncated record')
            t, c, ttl, rdlen = struct.unpack('!HHIH', msg[off:off + 10])
            off += 10
            if off + rdlen > len(msg):
                raise ParseError('truncated rdata')
            if t == 41:
                r['opt'] = c
                r['rcode'] |= (ttl >> 24) << 4
            else:
                r[sect].append((name, t, c, ttl,
                                rdata_text(msg, t, off, rdlen),
                                msg[off:off + rdlen]))
            off += rdlen
    r['trailing'] = len(msg) - off
    return r


def show(r, out=sys.stdout):
    fl = [f for f in ('qr', 'aa', 'tc', 'rd', 'ra') if r[f]]
    out.write('id %d opcode %d rcode %s flags %s counts %s size %d\n' % (
        r['id'], r['opcode'], RCODE_NAMES.get(r['rcode'], str(r['rcode'])),
        ','.join(fl) or '-', ','.join(map(str, r['counts'])), r['size']))
    for name, t, c in r['qd']:
        out.write('qd %s %s %s\n' % (name, TYPE_NAMES.get(t, t), c))
    for sect in ('an', 'ns', 'ar'):
        for name, t, c, ttl, txt, _ in r[sect]:
            out.write('%s %s %d %s %s %s\n' % (
                sect, name, ttl, c, TYPE_NAMES.get(t, t), txt))
    if r['opt'] is not None:
        out.write('opt %d\n' % r['opt'])


# --------------------------------------------------------------- transport

def udp_exchange(host, port, pkt, timeout):
    """The reply, or None after timeout; 'refused' on ICMP unreachable."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((host, port))
        s.send(pkt)
        s.settimeout(timeout)
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
        except ConnectionRefusedError:
            return 'refused'
    finally:
        s.close()


def recv_exact(s, n, deadline):
    """n bytes; fewer if the peer closed; raises socket.timeout."""
    buf = b''
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        s.settimeout(left)
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_read_msg(s, deadline):
    """('reply', bytes) | ('closed', partial) | ('silence', None) |
    ('reset', None)."""
    try:
        ln = recv_exact(s, 2, deadline)
        if len(ln) < 2:
            return ('closed', ln)
        n = struct.unpack('!H', ln)[0]
        body = recv_exact(s, n, deadline)
        if len(body) < n:
            return ('closed', body)
        return ('reply', body)
    except socket.timeout:
        return ('silence', None)
    except (ConnectionResetError, BrokenPipeError):
        return ('reset', None)


def tcp_connect(host, port, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def tcp_exchange(host, port, pkt, timeout):
    """Like tcp_read_msg, plus ('refused', None) when connect fails."""
    try:
        s = tcp_connect(host, port, timeout)
    except ConnectionRefusedError:
        return ('refused', None)
    except socket.timeout:
        return ('silence', None)
    try:
        try:
            s.sendall(struct.pack('!H', len(pkt)) + pkt)
        except (ConnectionResetError, BrokenPipeError):
            return ('reset', None)
        return tcp_read_msg(s, time.monotonic() + timeout)
    finally:
        s.close()


def exchange(proto, host, port, pkt, timeout):
    """('reply', bytes) or (what happened instead, None)."""
    if proto == 'udp':
        r = udp_exchange(host, port, pkt, timeout)
        if r is None:
            return ('silence', None)
        if r == 'refused':
            return ('refused', None)
        return ('reply', r)
    return tcp_exchange(host, port, pkt, timeout)


# ----------------------------------------------------------------- battery

def malformed_cases(proto, prefix):
    """(label, packet, expectation): an rcode number, or 'silence' (no
    reply at all; over TCP, no reply and the connection may be closed)."""
    cases = []
    qid = new_id
    good = question(prefix + 'x.test', 1)

    def h(**kw):
        return header(qid(), **kw)

    # Too short for a header, and replies: nothing comes back.
    if proto == 'udp':
        cases.append(('empty datagram', b'', 'silence'))
    else:
        cases.append(('length prefix 0', b'', 'silence'))
    cases.append(('1 byte', b'\x12', 'silence'))
    cases.append(('11 bytes', h()[:11], 'silence'))
    cases.append(('QR=1 (a response)', h(flags=QR | RD) + good, 'silence'))
    cases.append(('QR=1 NXDOMAIN response',
                  h(flags=QR | RD | RA | 3) + good, 'silence'))
    # A header that parses, a question that does not.
    cases.append(('QDCOUNT 0', h(qd=0), 1))
    cases.append(('QDCOUNT 0 with a question after it', h(qd=0) + good, 1))
    cases.append(('QDCOUNT 2',
                  h(qd=2) + good + question(prefix + 'y.test', 1), 1))
    cases.append(('QDCOUNT 2 one question present', h(qd=2) + good, 1))
    cases.append(('header only, QDCOUNT 1', h(), 1))
    cases.append(('question without type',
                  h() + name_wire(prefix + 'x.test'), 1))
    cases.append(('question with half a type',
                  h() + name_wire(prefix + 'x.test') + b'\x00', 1))
    cases.append(('question without class',
                  h() + name_wire(prefix + 'x.test') + b'\x00\x01', 1))
    cases.append(('name cut inside a label', h() + b'\x05ab', 1))
    cases.append(('name without its root label',
                  h() + b'\x01a\x04test', 1))
    cases.append(('compression pointer to itself',
                  h() + b'\xc0\x0c' + b'\x00\x01\x00\x01', 1))
    cases.append(('compression pointer loop of two',
                  h() + b'\x01a\xc0\x0c' + b'\x00\x01\x00\x01', 1))
    cases.append(('compression pointer past the end',
                  h() + b'\x01a\xc0\xff' + b'\x00\x01\x00\x01', 1))
    cases.append(('compression pointer cut in half',
                  h() + b'\x01a\xc0', 1))
    cases.append(('label of 64 bytes',
                  h() + b'\x40' + b'a' * 64 + b'\x04test\x00\x00\x01\x00\x01',
                  1))
    cases.append(('label of 255 bytes',
                  h() + b'\xff' + b'a' * 255 + b'\x00\x00\x01\x00\x01', 1))
    cases.append(('label type 10 (reserved)',
                  h() + b'\x81a\x00\x00\x01\x00\x01', 1))
    l63 = 'a' * 63
    # 3 labels of 63 and one of 62: 192 + 63 + 1 = 256 bytes on the wire.
    cases.append(('name of 256 bytes',
                  h() + question('.'.join([l63] * 3 + ['b' * 62]), 1), 1))
    cases.append(('name of 321 bytes',
                  h() + question('.'.join([l63] * 5), 1), 1))
    # Other opcodes.
    for op in (1, 2, 4, 5, 15):
        cases.append(('opcode %d' % op,
                      h(flags=RD | (op << 11)) + good, 4))
    # Classes other than IN for the types dns44 answers itself.
    for cl, cn in ((3, 'CH'), (4, 'HS'), (1234, '1234')):
        for t, tn, n in ((1, 'A', prefix + 'x.test'),
                         (28, 'AAAA', prefix + 'x.test'),
                         (12, 'PTR', '1.0.24.172.in-addr.arpa')):
            cases.append(('class %s type %s' % (cn, tn),
                          h() + question(n, t, cl), 5))
    return cases


def valid_cases(prefix):
    """Edge cases that are valid: (label, packet) answered NOERROR, A."""
    l63 = 'a' * 63
    return [
        ('label of 63 bytes', header(new_id()) +
         question(l63 + '.' + prefix + 'v63.test', 1)),
        # 3 * 64 + 62 + 1 = 255 bytes: the longest name there is.
        ('name of 255 bytes', header(new_id()) +
         question('.'.join([l63] * 3 + ['b' * 61]), 1)),
    ]


def canary(host, port, prefix, n):
    """A normal A query over UDP still answered with one address."""
    qid, pkt = build_query('%salive%d.test' % (prefix, n), 1)
    what, rep = exchange('udp', host, port, pkt, 2.0)
    if what != 'reply':
        return 'normal A query: %s' % what
    try:
        r = parse(rep)
    except ParseError as e:
        return 'normal A query: bad reply: %s' % e
    if r['id'] != qid or r['rcode'] != 0 or len(r['an']) != 1 or \
            r['an'][0][1] != 1:
        return 'normal A query: id %d/%d rcode %s, %d answers' % (
            r['id'], qid, RCODE_NAMES.get(r['rcode'], r['rcode']),
            len(r['an']))
    return None


def judge(proto, pkt, rep_what, rep, expect):
    """None if the reply (or its absence) is what was expected, else why
    not."""
    if expect == 'silence':
        if rep_what == 'reply':
            try:
                r = parse(rep)
                return 'expected no reply, got rcode %s' % RCODE_NAMES.get(
                    r['rcode'], r['rcode'])
            except ParseError:
                return 'expected no reply, got %d bytes' % len(rep)
        if proto == 'udp' and rep_what != 'silence':
            return 'expected silence, got %s' % rep_what
        return None
    if rep_what != 'reply':
        return 'expected %s, got %s' % (RCODE_NAMES[expect], rep_what)
    try:
        r = parse(rep)
    except ParseError as e:
        # The reply need not echo a question that did not parse; the
        # header is what matters.
        if len(rep) < 12:
            return 'reply of %d bytes: %s' % (len(rep), e)
        qid, flags = struct.unpack('!HH', rep[:4])
        r = {'id': qid, 'qr': bool(flags & QR), 'rcode': flags & 0xf,
             'opcode': (flags >> 11) & 0xf}
    want_id = struct.unpack('!H', pkt[:2])[0]
    want_op = (struct.unpack('!H', pkt[2:4])[0] >> 11) & 0xf
    errs = []
    if r['rcode'] != expect:
        errs.append('rcode %s, want %s' % (
            RCODE_NAMES.get(r['rcode'], r['rcode']), RCODE_NAMES[expect]))
    if r['id'] != want_id:
        errs.append('id %d, want %d' % (r['id'], want_id))
    if not r['qr']:
        errs.append('QR clear')
    if expect == 4 and r['opcode'] != want_op:
        errs.append('opcode %d, want %d (copied)' % (r['opcode'], want_op))
    return '; '.join(errs) or None


def cmd_malformed(a):
    fails = 0
    n = 0
    silence_t = 0.7 if a.proto == 'udp' else 1.5
    for label, pkt, expect in malformed_cases(a.proto, a.name_prefix):
        n += 1
        t = silence_t if expect == 'silence' else 2.0
        what, rep = exchange(a.proto, a.host, a.port, pkt, t)
        err = judge(a.proto, pkt, what, rep, expect)
        err2 = canary(a.host, a.port, a.name_prefix, n)
        want = 'no reply' if expect == 'silence' else RCODE_NAMES[expect]
        if err or err2:
            fails += 1
            print('FAIL: %s %s: %s' % (a.proto, label,
                                       '; '.join(filter(None, (err, err2)))))
        else:
            print('ok: %s %s: %s, then a normal query answered' % (
                a.proto, label, want))
        sys.stdout.flush()
    for label, pkt in valid_cases(a.name_prefix):
        what, rep = exchange(a.proto, a.host, a.port, pkt, 2.0)
        err = judge(a.proto, pkt, what, rep, 0)
        if not err:
            r = parse(rep)
            if len(r['an']) != 1 or r['an'][0][1] != 1:
                err = '%d answers' % len(r['an'])
        if err:
            fails += 1
            print('FAIL: %s valid %s: %s' % (a.proto, label, err))
        else:
            print('ok: %s valid %s: NOERROR, one A' % (a.proto, label))
    return 1 if fails else 0


# --------------------------------------------------------------- commands

def parse_type(s):
    return TYPES[s.upper()] if s.upper() in TYPES else int(s)


def parse_class(s):
    return CLASSES[s.upper()] if s.upper() in CLASSES else int(s)


def cmd_query(a):
    qid, pkt = build_query(a.name, parse_type(a.type), parse_class(a.cls),
                           a.id, not a.norecurse, 0, a.bufsize)
    what, rep = exchange(a.proto, a.host, a.port, pkt, a.timeout)
    if what != 'reply':
        print(what)
        return 2
    try:
        r = parse(rep)
    except ParseError as e:
        print('unparsable reply (%s): %s' % (e, rep.hex()))
        return 2
    show(r)
    if r['id'] != qid:
        print('id mismatch: sent %d' % qid)
    return 0


def reply_line(name, qid, rep):
    """"NAME RCODE RDATA..." of a reply to the query qid for name."""
    try:
        r = parse(rep)
    except ParseError as e:
        return '%s unparsable %s' % (name, e)
    if r['id'] != qid:
        return '%s wrong-id' % name
    return ' '.join([name, RCODE_NAMES.get(r['rcode'], str(r['rcode']))] +
                    [x[4] for x in r['an']])


def batch_together(a, names):
    """Every query sent before any reply is read, from one socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.host, a.port))
    base = random.randint(1, 0xffff - len(names))
    for i, name in enumerate(names):
        s.send(build_query(name, parse_type(a.type), qid=base + i)[1])
    got = {}
    deadline = time.monotonic() + a.timeout
    while len(got) < len(names):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            rep = s.recv(65535)
        except socket.timeout:
            break
        i = int.from_bytes(rep[:2], 'big') - base if len(rep) >= 2 else -1
        if 0 <= i < len(names) and i not in got:
            got[i] = reply_line(names[i], base + i, rep)
    for i, name in enumerate(names):
        print(got.get(i, '%s none timeout' % name))
    return 0


def cmd_batch(a):
    """One query per name read on stdin, one after the other; prints
    "NAME RCODE RDATA..." per name (RCODE "none" if no reply came)."""
    if a.together:
        if a.proto != 'udp':
            sys.exit('batch --together: UDP only')
        return batch_together(a, [ln.strip() for ln in sys.stdin
                                  if ln.strip()])
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        qid, pkt = build_query(name, parse_type(a.type))
        what, rep = exchange(a.proto, a.host, a.port, pkt, a.timeout)
        if what != 'reply':
            print('%s none %s' % (name, what))
            continue
        print(reply_line(name, qid, rep))
        sys.stdout.flush()
    return 0


def cmd_send(a):
    pkt = bytes.fromhex(a.hex)
    what, rep = exchange(a.proto, a.host, a.port, pkt, a.timeout)
    if what == 'reply':
        try:
            show(parse(rep))
        except ParseError as e:
            print('unparsable reply (%s): %s' % (e, rep.hex()))
    else:
        print(what)
    if a.expect_silence:
        err = judge(a.proto, pkt, what, rep, 'silence')
    elif a.expect_rcode is not None:
        rc = a.expect_rcode
        rc = RCODES[rc.upper()] if rc.upper() in RCODES else int(rc)
        err = judge(a.proto, pkt, what, rep, rc)
    else:
        err = None if what == 'reply' else 'no reply'
    if err:
        print('unexpected: ' + err)
        return 1
    return 0


def wait_close(s, timeout):
    """Seconds until the peer closed (EOF or reset), None if it did not;
    ('data', n) if bytes came instead."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            d = s.recv(4096)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return time.monotonic() - t0
        if not d:
            return time.monotonic() - t0
        return ('data', len(d))


def cmd_tcp_idle(a):
    s = tcp_connect(a.host, a.port)
    r = wait_close(s, a.timeout)
    s.close()
    if r is None:
        print('open')
    elif isinstance(r, tuple):
        print('reply')
    else:
        print('closed %.2f' % r)
    return 0


def cmd_tcp_partial(a):
    s = tcp_connect(a.host, a.port)
    qid, pkt = build_query('partial.test', 1)
    s.sendall(struct.pack('!H', 512) + pkt[:20])
    r = wait_close(s, a.timeout)
    s.close()
    if r is None:
        print('open')
    elif isinstance(r, tuple):
        print('reply')
    else:
        print('closed %.2f' % r)
    return 0


def cmd_tcp_pipeline(a):
    p = a.name_prefix
    qs = [(p + 'pipe1.test', 'A'), (p + 'pipe2.test', 'AAAA'),
          ('mx.test', 'MX'), (p + 'pipe3.test', 'A'),
          ('txt.test', 'TXT'), (p + 'pipe4.test', 'A'),
          ('2.2.44.10.in-addr.arpa', 'PTR'), (p + 'pipe1.test', 'A')]
    sent = []
    data = b''
    base = random.randint(1, 0xffff - len(qs))
    for i, (name, t) in enumerate(qs):
        qid, pkt = build_query(name, TYPES[t], qid=base + i)
        sent.append((qid, name, t))
        data += struct.pack('!H', len(pkt)) + pkt
    s = tcp_connect(a.host, a.port)
    s.sendall(data)
    deadline = time.monotonic() + 4.0
    got = []
    fails = 0
    for qid, name, t in sent:
        what, rep = tcp_read_msg(s, deadline)
        if what != 'reply':
            print('FAIL: pipelining: %s for query %d of %d (%s %s)' % (
                what, len(got) + 1, len(sent), t, name))
            return 1
        r = parse(rep)
        got.append(r)
    s.close()
    # RFC 7766: answers may come in any order (those dns44 makes itself
    # come before forwarded ones); each query must be answered once.
    ids = sorted(r['id'] for r in got)
    if ids != sorted(q[0] for q in sent):
        print('FAIL: pipelining: answered ids %s, sent %s' % (
            ids, sorted(q[0] for q in sent)))
        fails += 1
    else:
        print('ok: pipelining: %d answers on one connection, each once' %
              len(sent))
    bad = []
    by_id = {r['id']: r for r in got}
    pairs = [(q, by_id[q[0]]) for q in sent if q[0] in by_id]
    if len(pairs) != len(sent):
        bad.append('%d answers with no query of their id' % (
            len(sent) - len(pairs)))
    for (qid, name, t), r in pairs:
        if not r['qd'] or r['qd'][0][0].lower() != name.lower() + '.' or \
                r['qd'][0][1] != TYPES[t] or r['rcode'] != 0:
            bad.append('%s %s: rcode %s qd %s' % (
                t, name, RCODE_NAMES.get(r['rcode'], r['rcode']), r['qd']))
    a_ans = [r['an'][0][4] for (qid, name, t), r in pairs
             if t == 'A' and r['an']]
    if len([x for x in sent if x[2] == 'A']) != len(a_ans):
        bad.append('an A query without an address')
    elif a_ans[0] != a_ans[-1]:
        bad.append('pipe1 answered %s then %s' % (a_ans[0], a_ans[-1]))
    if bad:
        print('FAIL: pipelining: ' + '; '.join(bad))
        fails += 1
    else:
        print('ok: pipelining: each answer matches its question (by id)')
    return 1 if fails else 0


def cmd_udp_burst(a):
    """N queries from one socket without waiting (a quarter MX, a quarter
    TXT, forwarded; the rest A), then the replies: each query answered
    once, NOERROR, its own question."""
    p = a.name_prefix
    qs = []
    for i in range(a.n):
        if i % 4 == 0:
            qs.append(('mx.test', 'MX'))
        elif i % 4 == 1:
            qs.append(('txt.test', 'TXT'))
        else:
            qs.append(('%sburst%d.test' % (p, i), 'A'))
    base = random.randint(1, 0xffff - a.n)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((a.host, a.port))
    for i, (name, t) in enumerate(qs):
        s.send(build_query(name, TYPES[t], qid=base + i)[1])
    got = {}
    dup = bad = 0
    deadline = time.monotonic() + a.timeout
    while len(got) < a.n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            r = parse(s.recv(65535))
        except socket.timeout:
            break
        except ParseError:
            bad += 1
            continue
        i = r['id'] - base
        if not 0 <= i < a.n:
            bad += 1
            continue
        if i in got:
            dup += 1
        name, t = qs[i]
        if r['rcode'] != 0 or not r['qd'] or \
                r['qd'][0][0].lower() != name.lower() + '.' or \
                r['qd'][0][1] != TYPES[t] or not r['an']:
            bad += 1
        got[i] = r
    s.close()
    if len(got) == a.n and not dup and not bad:
        print('ok: burst of %d UDP queries (half forwarded): each answered '
              'once, right' % a.n)
        return 0
    missing = [qs[i][1] for i in range(a.n) if i not in got]
    print('FAIL: burst of %d UDP queries: %d answered, %d twice, %d wrong; '
          'unanswered: %d MX/TXT, %d A' % (
              a.n, len(got), dup, bad,
              len([t for t in missing if t != 'A']),
              len([t for t in missing if t == 'A'])))
    return 1


def txt_reply(qid, qname, qtype, text, flags=QR | RD | RA):
    rd = bytes([len(text)]) + text.encode()
    return (header(qid, flags, 1, 1) + question(qname, qtype) +
            b'\xc0\x0c' + struct.pack('!HHIH', 16, 1, 60, len(rd)) + rd)


def cmd_fake_upstream(a):
    """A hostile upstream on HOST:PORT (UDP).  To each query it answers
    first with replies that must be ignored: a wrong id, another question,
    another type, and the right reply from another port; then, 50 ms
    later, the genuine one, TXT "genuine".  Logs "PORT ID NAME" per query
    to LOG."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.host, a.port))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind((a.host, a.port + 1))
    log = open(a.log, 'a')
    while True:
        q, peer = s.recvfrom(65535)
        try:
            r = parse(q)
        except ParseError:
            continue
        if not r['qd']:
            continue
        qid = r['id']
        name, qtype, _ = r['qd'][0]
        log.write('%d %d %s\n' % (peer[1], qid, name))
        log.flush()
        s.sendto(txt_reply(qid ^ 0x5555, name, qtype, 'bogus-id'), peer)
        s.sendto(txt_reply(qid, 'evil.' + name, qtype, 'bogus-question'),
                 peer)
        s.sendto(txt_reply(qid, name, 15 if qtype != 15 else 16,
                           'bogus-type'), peer)
        other.sendto(txt_reply(qid, name, qtype, 'bogus-port'), peer)
        time.sleep(0.05)
        s.sendto(txt_reply(qid, name, qtype, 'genuine'), peer)


def cmd_tcp_limit(a):
    """N idle clients connect; one more connects and asks: it must be
    closed or refused, not served, while the N hold every slot.  Then the
    N are closed by the idle timeout, and a new client is served."""
    fails = 0
    idle = []
    for i in range(a.n):
        idle.append(tcp_connect(a.host, a.port))
    time.sleep(0.3)
    t0 = time.monotonic()
    qid, pkt = build_query(a.name_prefix + 'over-limit.test', 1)
    what, rep = tcp_exchange(a.host, a.port, pkt, 0.6)
    dt = time.monotonic() - t0
    if what in ('closed', 'reset', 'refused'):
        print('ok: tcp-clients %d: client %d %s (%.2fs)' % (
            a.n, a.n + 1, what, dt))
    elif what == 'reply':
        print('FAIL: tcp-clients %d: client %d served while %d others '
              'were connected' % (a.n, a.n + 1, a.n))
        fails += 1
    else:
        print('FAIL: tcp-clients %d: client %d neither closed nor refused '
              'within %.1fs (%s)' % (a.n, a.n + 1, dt, what))
        fails += 1
    # The idle ones go by the idle timeout.
    closed = 0
    for s in idle:
        r = wait_close(s, a.idle + 2.0 - (time.monotonic() - t0))
        if r is not None and not isinstance(r, tuple):
            closed += 1
        s.close()
    if closed == a.n:
        print('ok: tcp-clients: the %d idle clients were closed' % a.n)
    else:
        print('FAIL: tcp-clients: %d of %d idle clients closed within %.1fs'
              % (closed, a.n, a.idle + 2.0))
        fails += 1
    # Now there is room again.
    served = 0
    for i in range(a.n):
        qid, pkt = build_query('%safter-limit%d.test' % (a.name_prefix, i), 1)
        what, rep = tcp_exchange(a.host, a.port, pkt, 2.0)
        if what == 'reply' and parse(rep)['id'] == qid and \
                parse(rep)['rcode'] == 0:
            served += 1
    if served == a.n:
        print('ok: tcp-clients: afterwards %d new clients served' % a.n)
    else:
        print('FAIL: tcp-clients: afterwards %d of %d new clients served' %
              (served, a.n))
        fails += 1
    return 1 if fails else 0


def unescape_tdbdump(s):
    """tdbdump writes printable bytes other than " and \\ as they are,
    the rest as \\XX (two hex digits)."""
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == '\\':
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
        else:
            out += s[i].encode('latin-1')
            i += 1
    return bytes(out)


def cmd_tdbmap(a):
    key = None
    for line in sys.stdin:
        line = line.rstrip('\n')
        if line.startswith('key('):
            key = unescape_tdbdump(line.split(' = "', 1)[1][:-1])
        elif line.startswith('data(') and key is not None:
            val = unescape_tdbdump(line.split(' = "', 1)[1][:-1])
            if key[:1] != b'\0' and len(val) == 16:
                addr = socket.inet_ntop(socket.AF_INET, val[4:8])
                last = struct.unpack('!q', val[8:16])[0]
                print('%s %s %d' % (key.decode('latin-1'), addr, last))
            key = None
    return 0


def main():
    ap = argparse.ArgumentParser(description='raw DNS probes')
    sub = ap.add_subparsers(dest='cmd', required=True)

    p = sub.add_parser('query')
    p.add_argument('proto', choices=('udp', 'tcp'))
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('name')
    p.add_argument('type')
    p.add_argument('--class', dest='cls', default='IN')
    p.add_argument('--id', type=int)
    p.add_argument('--norecurse', action='store_true')
    p.add_argument('--bufsize', type=int)
    p.add_argument('--timeout', type=float, default=2.0)
    p.set_defaults(fn=cmd_query)

    p = sub.add_parser('batch')
    p.add_argument('proto', choices=('udp', 'tcp'))
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('type')
    p.add_argument('--timeout', type=float, default=2.0)
    p.add_argument('--together', action='store_true')
    p.set_defaults(fn=cmd_batch)

    p = sub.add_parser('send')
    p.add_argument('proto', choices=('udp', 'tcp'))
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('hex')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--expect-rcode')
    g.add_argument('--expect-silence', action='store_true')
    p.add_argument('--timeout', type=float, default=2.0)
    p.set_defaults(fn=cmd_send)

    p = sub.add_parser('malformed')
    p.add_argument('proto', choices=('udp', 'tcp'))
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('--name-prefix', default='')
    p.set_defaults(fn=cmd_malformed)

    for name, fn in (('tcp-idle', cmd_tcp_idle),
                     ('tcp-partial', cmd_tcp_partial)):
        p = sub.add_parser(name)
        p.add_argument('host')
        p.add_argument('port', type=int)
        p.add_argument('--timeout', type=float, default=5.0)
        p.set_defaults(fn=fn)

    p = sub.add_parser('tcp-pipeline')
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('--name-prefix', default='')
    p.set_defaults(fn=cmd_tcp_pipeline)

    p = sub.add_parser('udp-burst')
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('n', type=int)
    p.add_argument('--timeout', type=float, default=4.0)
    p.add_argument('--name-prefix', default='')
    p.set_defaults(fn=cmd_udp_burst)

    p = sub.add_parser('fake-upstream')
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('log')
    p.set_defaults(fn=cmd_fake_upstream)

    p = sub.add_parser('tcp-limit')
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('n', type=int)
    p.add_argument('--idle', type=float, default=1.0)
    p.add_argument('--name-prefix', default='')
    p.set_defaults(fn=cmd_tcp_limit)

    p = sub.add_parser('tdbmap')
    p.set_defaults(fn=cmd_tdbmap)

    a = ap.parse_args()
    try:
        return a.fn(a)
    except (OSError, ParseError) as e:
        print('FAIL: %s: %s' % (a.cmd, e))
        return 1


if __name__ == '__main__':
    sys.exit(main())
