#!/usr/bin/python3
"""pyclient.py - the Python client the integration tests run under the shim.

    pyclient.py connect HOST PORT [-n N] [--threads K] [--timeout S]
                [--request] [--start-at EPOCH_MS] [--hold-ms MS]

Makes N connects (in each of K threads, started together), each with
socket.create_connection (so a host name goes through getaddrinfo), blocking
unless --timeout is given (then Python's own non-blocking connect and poll).
--request sends "GET / HTTP/1.1" on each connection and reads the response
to the end.  --start-at waits until that wall-clock time (ms since the epoch)
before the first connect, so several processes can start together.
--hold-ms keeps each connection open that long before closing it.

Prints one line, for the tests to pick apart:
    ok=3 ECONNREFUSED=2 min_ms=0.041 max_ms=1.203 total_ms=2.900
(counts of outcomes: "ok" or the errno name, TIMEOUT for Python's own
timeout; then the fastest and slowest single connect and the whole run).
With --request, "sNNN=K" counts the HTTP statuses received.

    pyclient.py unix DIR      AF_UNIX: a listener in DIR and a socketpair
    pyclient.py udp HOST      UDP over loopback to a socket of its own
Each prints "unix=ok" / "udp=ok" or the error, and exits 0 on success.
"""

import argparse
import errno
import os
import socket
import sys
import threading
import time
from collections import Counter


def ename(e):
    if isinstance(e, socket.timeout) and e.errno is None:
        return "TIMEOUT"
    if getattr(e, "errno", None):
        return errno.errorcode.get(e.errno, "E%d" % e.errno)
    return type(e).__name__


def one(args, out, lat, lock):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except OSError as e:
        dt = (time.monotonic() - t0) * 1000
        with lock:
            out[ename(e)] += 1
            lat.append(dt)
        return
    dt = (time.monotonic() - t0) * 1000
    res = "ok"
    status = None
    try:
        if args.request:
            s.settimeout(10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            if data.startswith(b"HTTP/1."):
                status = data.split(b" ", 2)[1].decode()
            else:
                res = "NORESPONSE"
        if args.hold_ms:
            time.sleep(args.hold_ms / 1000.0)
    except OSError as e:
        res = ename(e)
    finally:
        s.close()
    with lock:
        out[res] += 1
        lat.append(dt)
        if status:
            out["s" + status] += 1


def connect(args):
    out = Counter()
    lat = []
    lock = threading.Lock()
    if args.start_at:
        d = args.start_at / 1000.0 - time.time()
        if d > 0:
            time.sleep(d)
    t0 = time.monotonic()
    barrier = threading.Barrier(args.threads)

    def worker():
        barrier.wait()
        for _ in range(args.n):
            one(args, out, lat, lock)

    ts = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = (time.monotonic() - t0) * 1000
    parts = ["%s=%d" % (k, v) for k, v in sorted(out.items())]
    parts.append("min_ms=%.3f" % (min(lat) if lat else 0))
    parts.append("max_ms=%.3f" % (max(lat) if lat else 0))
    parts.append("total_ms=%.3f" % total)
    print(" ".join(parts))
    return 0


def unix(args):
    path = os.path.join(args.dir, "pyclient.sock")
    try:
        os.unlink(path)
    except OSError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect(path)
    a, _ = srv.accept()
    c.sendall(b"ping")
    got1 = a.recv(16)
    a.sendall(b"pong")
    got2 = c.recv(16)
    x, y = socket.socketpair()
    x.sendall(b"pair")
    got3 = y.recv(16)
    for s in (srv, c, a, x, y):
        s.close()
    os.unlink(path)
    if (got1, got2, got3) == (b"ping", b"pong", b"pair"):
        print("unix=ok")
        return 0
    print("unix=bad %r %r %r" % (got1, got2, got3))
    return 1


def udp(args):
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_DGRAM)
    srv.bind((args.host, 0))
    srv.settimeout(5)
    port = srv.getsockname()[1]
    c = socket.socket(fam, socket.SOCK_DGRAM)
    c.settimeout(5)
    try:
        c.connect((args.host, port))
        c.send(b"ping")
        got, addr = srv.recvfrom(16)
        srv.sendto(b"pong", addr)
        got2 = c.recv(16)
    except OSError as e:
        print("udp=%s" % ename(e))
        return 1
    if (got, got2) == (b"ping", b"pong"):
        print("udp=ok")
        return 0
    print("udp=bad")
    return 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("connect")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("-n", type=int, default=1)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--timeout", type=float, default=None)
    c.add_argument("--request", action="store_true")
    c.add_argument("--start-at", type=int, default=0)
    c.add_argument("--hold-ms", type=int, default=0)
    u = sub.add_parser("unix")
    u.add_argument("dir")
    d = sub.add_parser("udp")
    d.add_argument("host")
    a = p.parse_args()
    return {"connect": connect, "unix": unix, "udp": udp}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
