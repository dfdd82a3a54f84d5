#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""lib_http.py - traffic for the XDP integration tests (python3 stdlib only).

Subcommands (each bounded in time; JSON results go to stdout):

  serve NAME PORT [PORT...] [--ready FILE]
      Threaded HTTP/1.1 keep-alive server on [::]:PORT (dual stack).
      GET /           -> "NAME PEER_ADDR PEER_PORT LOCAL_PORT\\n"
      GET /big?n=B&rate=R -> B bytes ('x'), paced to R bytes/s (0: no pacing)
  spread HOST PORT N [--parallel C] [--timeout S] [--sport P]
      N fresh connections, one GET / each (from source ports P..P+N-1
      when --sport is given, so no two share a 5-tuple; else the
      kernel's choice); counts which backend answered:
      {"backends": {NAME: n}, "errors": n, "peers": {PEER_ADDR: n}}
  hold HOST PORT M --ready FILE --stop FILE [--interval S] [--max-time S]
      M keep-alive connections, each sending GET / every interval until
      FILE --stop exists; per connection: the backends seen in order, the
      requests answered and the first error. Never reconnects.
  cps HOST PORT [--duration S] [--pending S] [--inflight N]
      Opens connections as fast as it can with non-blocking connects for
      --duration; a connect not established within --pending seconds (well
      below the first SYN retransmission at 1 s) is abandoned, so each
      attempt is exactly one SYN. {"attempts", "established", "t_first",
      "t_last", ...}
  synflood DST PORT [--count N] [--max-time S] [--pps R] [--src CIDR]
           [--flags S|A]
      Spoofed-source TCP SYNs (or bare ACKs, --flags A) through a raw
      socket (IP_HDRINCL) from random addresses and ports of --src
      (default 198.18.128.0/17), at most R packets/s: stops after N
      packets or S seconds, whichever first.
  mapcount PATH
      The number of entries in the pinned BPF map PATH: keys of a hash
      map (fg_nat), flows in use (ways with a tag) of a connection
      table (fg_ct, fg_ct_syn: mappable arrays of struct fg_ct_line).
  q FILE EXPR
      Print the Python expression EXPR evaluated with d = the JSON of FILE
      (the shell scripts' JSON query tool).
"""
import argparse
import errno
import http.server
import ipaddress
import json
import os
import random
import selectors
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse


def norm_addr(a):
    """An IPv4-mapped IPv6 address as plain IPv4."""
    return a[7:] if a.startswith("::ffff:") else a


# ------------------------------------------------------------------ serve

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fgtest"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/big":
            q = urllib.parse.parse_qs(u.query)
            n = min(int(q.get("n", ["0"])[0]), 1 << 30)
            rate = int(q.get("rate", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            start = time.monotonic()
            sent = 0
            while sent < n:
                k = min(len(chunk), n - sent)
                self.wfile.write(chunk[:k])
                sent += k
                if rate > 0:
                    ahead = sent / rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            return
        peer = self.client_address
        local = self.connection.getsockname()
        body = ("%s %s %d %d\n" % (self.server.fg_name, norm_addr(peer[0]),
                                   peer[1], local[1])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # Clients that reset their connections (cps, the down test) are
        # expected; anything else is worth a line.
        e = sys.exc_info()[1]
        if not isinstance(e, (ConnectionError, TimeoutError)):
            print("serve: %s: %r" % (client_address[0], e), file=sys.stderr)

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)


def cmd_serve(a):
    servers = []
    for port in a.ports:
        s = Server(("::", port), Handler)
        s.fg_name = a.name
        servers.append(s)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if a.ready:
        open(a.ready, "w").close()
    servers[0].serve_forever()


# --------------------------------------------------------------- clients

def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def read_response(sock, buf=b""):
    """One HTTP/1.1 response with Content-Length from sock: (body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed before the headers")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        raise ConnectionError("status %r" % lines[0])
    n = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed in the body")
        rest += d
    return rest[:n], rest[n:]


def one_request(host, port, timeout, sport=0):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if sport:
            s.bind(("::" if family_of(host) == socket.AF_INET6 else "", sport))
        s.connect((host, port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: fg\r\nConnection: close\r\n\r\n")
        body, _ = read_response(s)
        return body.decode().split()
    finally:
        s.close()


def cmd_spread(a):
    res = {"backends": {}, "peers": {}, "errors": 0, "error_kinds": {}}
    lock = threading.Lock()
    todo = list(range(a.n))
    deadline = time.monotonic() + a.max_time

    def worker():
        while True:
            with lock:
                if not todo or time.monotonic() > deadline:
                    return
                i = todo.pop()
            try:
                name, peer = one_request(a.host, a.port, a.timeout,
                                         a.sport + i if a.sport else 0)[:2]
                with lock:
                    res["backends"][name] = res["backends"].get(name, 0) + 1
                    res["peers"][peer] = res["peers"].get(peer, 0) + 1
            except (OSError, ValueError) as e:
                with lock:
                    res["errors"] += 1
                    k = type(e).__name__
                    res["error_kinds"][k] = res["error_kinds"].get(k, 0) + 1

    ts = [threading.Thread(target=worker) for _ in range(a.parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    res["not_run"] = len(todo)
    json.dump(res, sys.stdout)
    print()


def cmd_hold(a):
    conns = []
    deadline = time.monotonic() + a.max_time
    for i in range(a.m):
        c = {"id": i, "backends": [], "ok": 0, "error": None, "port": None}
        s = socket.socket(family_of(a.host), socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            s.connect((a.host, a.port))
            c["port"] = s.getsockname()[1]
        except OSError as e:
            c["error"] = "connect: %s" % e
            s.close()
            s = None
        conns.append([c, s, b""])

    def round_once():
        for ent in conns:
            c, s, buf = ent
            if s is None:
                continue
            try:
                s.sendall(b"GET / HTTP/1.1\r\nHost: fg\r\n\r\n")
                body, ent[2] = read_response(s, buf)
                name = body.decode().split()[0]
                if not c["backends"] or c["backends"][-1] != name:
                    c["backends"].append(name)
                c["ok"] += 1
            except (OSError, ValueError, IndexError) as e:
                c["error"] = "%s: %s" % (type(e).__name__, e)
                c["error_at"] = round(time.monotonic() - t0, 2)
                s.close()
                ent[1] = None

    t0 = time.monotonic()
    round_once()
    if a.ready:
        open(a.ready, "w").close()
    rounds = 1
    while time.monotonic() < deadline and not os.path.exists(a.stop):
        time.sleep(a.interval)
        round_once()
        rounds += 1
    for _, s, _ in conns:
        if s is not None:
            s.close()
    json.dump({"rounds": rounds, "conns": [c for c, _, _ in conns]}, sys.stdout)
    print()


def cmd_cps(a):
    fam = family_of(a.host)
    sel = selectors.DefaultSelector()
    pending = {}
    res = {"attempts": 0, "established": 0, "abandoned": 0, "errors": 0}
    t_first = t_last = None
    start = time.monotonic()
    stop = start + a.duration
    linger = struct.pack("ii", 1, 0)
    while True:
        now = time.monotonic()
        if now < stop:
            while len(pending) < a.inflight:
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setblocking(False)
                rc = s.connect_ex((a.host, a.port))
                now = time.monotonic()
                if rc not in (0, errno.EINPROGRESS):
                    res["errors"] += 1
                    s.close()
                    break
                res["attempts"] += 1
                if t_first is None:
                    t_first = now
                t_last = now
                pending[s] = now
                sel.register(s, selectors.EVENT_WRITE)
        elif not pending:
            break
        for key, _ in sel.select(timeout=0.002):
            s = key.fileobj
            sel.unregister(s)
            del pending[s]
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                res["established"] += 1
            else:
                res["errors"] += 1
            # RST on close: no TIME_WAIT, no FIN exchange to wait for.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.close()
        now = time.monotonic()
        for s, t in list(pending.items()):
            if now - t > a.pending:
                # Closing in SYN_SENT sends nothing: the refused SYN
                # stays the only packet of this attempt.
                sel.unregister(s)
                del pending[s]
                s.close()
                res["abandoned"] += 1
    res["t_first"] = t_first
    res["t_last"] = t_last
    res["span"] = (t_last - t_first) if t_first is not None else 0.0
    json.dump(res, sys.stdout)
    print()


def csum_fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def cmd_synflood(a):
    net = ipaddress.ip_network(a.src)
    if net.version != 4:
        sys.exit("synflood: IPv4 sources only")
    base, span = int(net.network_address), net.num_addresses
    dst = socket.inet_aton(a.dst)
    dst_i = struct.unpack("!I", dst)[0]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    # Pseudo header (dst, proto, length) + the fixed TCP words: dport,
    # data offset/flags (SYN, doff 5), window.
    flags = {"S": 0x02, "A": 0x10}[a.flags]
    fixed = ((dst_i >> 16) + (dst_i & 0xffff) + 6 + 20 +
             a.port + (0x5000 | flags) + 65535)
    rnd = random.Random(a.seed)
    sent = errors = 0
    start = time.monotonic()
    deadline = start + a.max_time
    addr = (a.dst, 0)
    pack = struct.pack
    while sent + errors < a.count:
        if (sent + errors) % 1024 == 0:
            now = time.monotonic()
            if now > deadline:
                break
            if a.pps:
                ahead = (sent + errors) / a.pps - (now - start)
                if ahead > 0:
                    time.sleep(ahead)
        src = base + rnd.randrange(span)
        sport = rnd.randrange(1024, 65536)
        seq = rnd.getrandbits(32)
        ack = rnd.getrandbits(32) if flags & 0x10 else 0
        c = csum_fold(fixed + (src >> 16) + (src & 0xffff) + sport +
                      (seq >> 16) + (seq & 0xffff) + (ack >> 16) +
                      (ack & 0xffff))
        tcp = pack("!HHIIHHHH", sport, a.port, seq, ack, 0x5000 | flags,
                   65535, ~c & 0xffff, 0)
        # tot_len, id and the IP checksum are filled in by the kernel.
        ip = pack("!BBHHHBBHI4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
        try:
            s.sendto(ip + tcp, addr)
            sent += 1
        except OSError:
            errors += 1
    dur = time.monotonic() - start
    json.dump({"sent": sent, "errors": errors, "seconds": round(dur, 3),
               "pps": round(sent / dur) if dur > 0 else 0}, sys.stdout)
    print()


# BPF syscall numbers by machine, and the commands mapcount uses.
BPF_NR = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361,
          "s390x": 351, "loongarch64": 280}
BPF_MAP_GET_NEXT_KEY, BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD = 4, 7, 15
BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE = 2, 1 << 10
# struct fg_ct_line (dataplane/core/fg_tables.h): 64 bytes, four 16-byte
# struct fg_ct_way, each starting with its 32-bit tag, 0 = a free way.
FG_CT_LINE_SIZE, FG_CT_WAY_SIZE = 64, 16


def ct_in_use(fd, max_entries):
    """Ways in use (tag != 0) of a connection table of max_entries lines
    (mapped, read-only)."""
    import array
    import mmap
    m = mmap.mmap(fd, max_entries * FG_CT_LINE_SIZE, mmap.MAP_SHARED,
                  mmap.PROT_READ)
    try:
        words = array.array("I")  # native order, as the program wrote
        words.frombytes(m[:])
    finally:
        m.close()
    tags = words[::FG_CT_WAY_SIZE // 4]
    return len(tags) - tags.count(0)


def cmd_mapcount(a):
    """Entries of a pinned BPF map: a hash map's keys walked with
    BPF_MAP_GET_NEXT_KEY (bpftool's formatted dump takes half a minute for
    200k entries); a connection table's entries in use, from a mapping."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    nr = BPF_NR[os.uname().machine]

    def bpf(cmd, attr):
        buf = ctypes.create_string_buffer(attr, 128)
        r = libc.syscall(nr, cmd, buf, 128)
        return r, ctypes.get_errno()

    path = ctypes.create_string_buffer(a.path.encode())
    fd, err = bpf(BPF_OBJ_GET, struct.pack("<QII", ctypes.addressof(path), 0, 0))
    if fd < 0:
        sys.exit("mapcount: %s: %s" % (a.path, os.strerror(err)))
    info = ctypes.create_string_buffer(80)
    r, err = bpf(BPF_OBJ_GET_INFO_BY_FD,
                 struct.pack("<IIQ", fd, 80, ctypes.addressof(info)))
    if r < 0:
        sys.exit("mapcount: info: %s" % os.strerror(err))
    mtype = struct.unpack_from("<I", info.raw, 0)[0]
    key_size, value_size, max_entries, flags = struct.unpack_from(
        "<IIII", info.raw, 8)
    if mtype == BPF_MAP_TYPE_ARRAY:
        # An array has every key: only a connection table says which
        # entries are in use.
        if value_size != FG_CT_LINE_SIZE or not flags & BPF_F_MMAPABLE:
            sys.exit("mapcount: %s: an array but not a connection table"
                     % a.path)
        n = ct_in_use(fd, max_entries)
        os.close(fd)
        print(n)
        return
    key = ctypes.create_string_buffer(key_size)
    nxt = ctypes.create_string_buffer(key_size)
    n, prev = 0, 0
    while n <= 2 * max_entries:
        r, err = bpf(BPF_MAP_GET_NEXT_KEY,
                     struct.pack("<IIQQ", fd, 0, prev, ctypes.addressof(nxt)))
        if r < 0:
            if err == errno.ENOENT:
                break
            sys.exit("mapcount: next key: %s" % os.strerror(err))
        n += 1
        ctypes.memmove(key, nxt, key_size)
        prev = ctypes.addressof(key)
    os.close(fd)
    print(n)


def cmd_q(a):
    with open(a.file) as f:
        d = json.load(f)
    print(eval(a.expr, {"d": d, "sum": sum, "len": len, "max": max,
                        "min": min, "abs": abs, "sorted": sorted}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    q = sub.add_parser("serve")
    q.add_argument("name")
    q.add_argument("ports", type=int, nargs="+")
    q.add_argument("--ready")
    q.set_defaults(fn=cmd_serve)

    q = sub.add_parser("spread")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("n", type=int)
    q.add_argument("--parallel", type=int, default=8)
    q.add_argument("--timeout", type=float, default=3.0)
    q.add_argument("--max-time", type=float, default=60.0)
    q.add_argument("--sport", type=int, default=0)
    q.set_defaults(fn=cmd_spread)

    q = sub.add_parser("hold")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("m", type=int)
    q.add_argument("--ready")
    q.add_argument("--stop", required=True)
    q.add_argument("--interval", type=float, default=0.1)
    q.add_argument("--timeout", type=float, default=2.0)
    q.add_argument("--max-time", type=float, default=60.0)
    q.set_defaults(fn=cmd_hold)

    q = sub.add_parser("cps")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("--duration", type=float, default=3.0)
    q.add_argument("--pending", type=float, default=0.3)
    q.add_argument("--inflight", type=int, default=200)
    q.set_defaults(fn=cmd_cps)

    q = sub.add_parser("synflood")
    q.add_argument("dst")
    q.add_argument("port", type=int)
    q.add_argument("--count", type=int, default=200000)
    q.add_argument("--max-time", type=float, default=15.0)
    q.add_argument("--pps", type=int, default=0)
    q.add_argument("--src", default="198.18.128.0/17")
    q.add_argument("--seed", type=int, default=None)
    q.add_argument("--flags", choices=("S", "A"), default="S")
    q.set_defaults(fn=cmd_synflood)

    q = sub.add_parser("mapcount")
    q.add_argument("path")
    q.set_defaults(fn=cmd_mapcount)

    q = sub.add_parser("q")
    q.add_argument("file")
    q.add_argument("expr")
    q.set_defaults(fn=cmd_q)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
