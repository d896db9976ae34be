#!/usr/bin/python3
"""pyhttp.py - HTTP clients the data-path tests (tests/3*.t) run under the shim.

    pyhttp.py keepalive PORT [-n N] [--path P]
        http.client, N requests on one keep-alive connection.
    pyhttp.py urllib URL [-n N]
        urllib.request.urlopen N times (a new connection each time).
    pyhttp.py asyncio PORT [-n N] [--conns C]
        asyncio streams: C connections at once, N requests in all, spread
        over them, each connection keep-alive, requests one after another.
    pyhttp.py nonblock PORT [-n N]
        a raw non-blocking socket polled by hand: the request, then recv
        until the whole answer came (EAGAIN counted, not an error); N times
        on one keep-alive connection.
    pyhttp.py download URL
        urllib download; prints "sha=HEX len=N status=S".
    pyhttp.py upload PORT FILE
        http.client POST of FILE (Content-Length) to a `sink` server;
        prints "status=S reply=HEX:LEN".
    pyhttp.py script ACTION...
        a scripted session over named http.client connections:
          conn:NAME:PORT   open connection NAME (connects at once)
          get[:NAME]       GET / and read the answer           -> NAMEi=STATUS
          send[:NAME]      GET / sent, answer not read yet
          recv[:NAME]      read the answer of the last send    -> NAMEi=STATUS
          head[:NAME]      POST / headers (Content-Length 10) sent, no body
          body[:NAME]      the 10 body bytes, then the answer   -> NAMEi=STATUS
          run:CMD          CMD through /bin/sh, without the shim, spawned
                           with close_fds=False (the child closes nothing)
          spawn:CMD        the same with subprocess's default close_fds=True:
                           Python vforks, and the child, still in this
                           process's memory, calls close_range() before exec
          sleep:S          sleep S seconds
        (NAME defaults to "a").  A failed step prints NAMEi=ERRNONAME and the
        script goes on.

Every mode prints one line of KEY=VALUE words: the statuses received as
sNNN=K and errors by errno name (ECONNRESET=1, ...), and "eagain=K" where
EAGAIN was seen.  Exit status 0 unless the arguments are bad.
"""

import argparse
import asyncio
import errno
import hashlib
import http.client
import os
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter


def ename(e):
    if isinstance(e, socket.timeout) and e.errno is None:
        return "TIMEOUT"
    if getattr(e, "errno", None):
        return errno.errorcode.get(e.errno, "E%d" % e.errno)
    return type(e).__name__


def show(c):
    print(" ".join("%s=%s" % (k, v) for k, v in c.items()) if c else "none=0")


def keepalive(a):
    out = Counter()
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    for _ in range(a.n):
        try:
            c.request("GET", a.path)
            r = c.getresponse()
            r.read()
            out["s%d" % r.status] += 1
        except OSError as e:
            out[ename(e)] += 1
            c.close()
    c.close()
    show(out)


def do_urllib(a):
    out = Counter()
    for _ in range(a.n):
        try:
            with urllib.request.urlopen(a.url, timeout=10) as r:
                r.read()
                out["s%d" % r.status] += 1
        except urllib.error.HTTPError as e:
            e.read()
            out["s%d" % e.code] += 1
        except urllib.error.URLError as e:
            out[ename(e.reason) if isinstance(e.reason, OSError) else "URLError"] += 1
        except OSError as e:
            out[ename(e)] += 1
    show(out)


async def one_conn(port, n, out):
    if n == 0:
        return
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(n):
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            await reader.readexactly(length)
            out["s%d" % status] += 1
    except (OSError, asyncio.IncompleteReadError) as e:
        out[ename(e)] += 1
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


def do_asyncio(a):
    out = Counter()
    per = [a.n // a.conns + (1 if i < a.n % a.conns else 0) for i in range(a.conns)]

    async def main():
        await asyncio.gather(*(one_conn(a.port, k, out) for k in per))
    asyncio.run(asyncio.wait_for(main(), 20))
    show(out)


def nonblock(a):
    out = Counter()
    s = socket.create_connection(("127.0.0.1", a.port))
    s.setblocking(False)
    for _ in range(a.n):
        req = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
        while req:
            try:
                req = req[s.send(req):]
            except BlockingIOError:
                select.select([], [s], [], 5)
        data = b""
        deadline = time.monotonic() + 10
        while True:
            try:
                d = s.recv(65536)
            except BlockingIOError:
                out["eagain"] += 1
                if time.monotonic() > deadline:
                    out["STUCK"] += 1
                    break
                select.select([s], [], [], 5)
                continue
            if not d:
                out["EOF"] += 1
                break
            data += d
            if b"\r\n\r\n" in data:
                head, body = data.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if len(body) >= length:
                    out["s%s" % head.split(b" ", 2)[1].decode()] += 1
                    break
    s.close()
    show(out)


def download(a):
    h = hashlib.sha256()
    n = 0
    try:
        with urllib.request.urlopen(a.url, timeout=30) as r:
            while True:
                d = r.read(1 << 16)
                if not d:
                    break
                h.update(d)
                n += len(d)
            st = r.status
    except OSError as e:
        print("error=%s" % ename(e))
        return
    print("sha=%s len=%d status=%d" % (h.hexdigest(), n, st))


def upload(a):
    size = os.path.getsize(a.file)
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
    try:
        with open(a.file, "rb") as f:
            c.request("POST", "/", body=f, headers={"Content-Length": str(size)})
            r = c.getresponse()
            body = r.read().decode().split()
        print("status=%d reply=%s:%s" % (r.status, body[0], body[1]))
    except OSError as e:
        print("error=%s" % ename(e))


def script(a):
    conns = {}
    seq = Counter()
    words = []

    def put(name, val):
        seq[name] += 1
        words.append("%s%d=%s" % (name, seq[name], val))

    for act in a.actions:
        verb, _, arg = act.partition(":")
        name = arg or "a"
        try:
            if verb == "conn":
                name, _, port = arg.partition(":")
                c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
                c.connect()
                conns[name] = c
            elif verb == "get":
                c = conns[name]
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                put(name, r.status)
            elif verb == "send":
                conns[name].request("GET", "/")
            elif verb == "recv":
                r = conns[name].getresponse()
                r.read()
                put(name, r.status)
            elif verb == "head":
                c = conns[name]
                c.putrequest("POST", "/")
                c.putheader("Content-Length", "10")
                c.endheaders()
            elif verb == "body":
                c = conns[name]
                c.send(b"0123456789")
                r = c.getresponse()
                r.read()
                put(name, r.status)
            elif verb in ("run", "spawn"):
                env = {k: v for k, v in os.environ.items()
                       if k not in ("LD_PRELOAD", "RECLOSER_CONFIG")}
                subprocess.run(arg, shell=True, env=env, check=False,
                               stdout=subprocess.DEVNULL,
                               close_fds=(verb == "spawn"))
            elif verb == "sleep":
                time.sleep(float(arg))
            else:
                print("bad action %r" % act, file=sys.stderr)
                return 2
        except OSError as e:
            put(name, ename(e))
        except http.client.HTTPException as e:
            put(name, type(e).__name__)
    for c in conns.values():
        c.close()
    print(" ".join(words) if words else "none=0")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keepalive")
    k.add_argument("port", type=int)
    k.add_argument("-n", type=int, default=1)
    k.add_argument("--path", default="/")
    u = sub.add_parser("urllib")
    u.add_argument("url")
    u.add_argument("-n", type=int, default=1)
    s = sub.add_parser("asyncio")
    s.add_argument("port", type=int)
    s.add_argument("-n", type=int, default=1)
    s.add_argument("--conns", type=int, default=1)
    b = sub.add_parser("nonblock")
    b.add_argument("port", type=int)
    b.add_argument("-n", type=int, default=1)
    d = sub.add_parser("download")
    d.add_argument("url")
    up = sub.add_parser("upload")
    up.add_argument("port", type=int)
    up.add_argument("file")
    sc = sub.add_parser("script")
    sc.add_argument("actions", nargs="+")
    a = p.parse_args()
    f = {"keepalive": keepalive, "urllib": do_urllib, "asyncio": do_asyncio,
         "nonblock": nonblock, "download": download, "upload": upload,
         "script": script}[a.cmd]
    return f(a) or 0


if __name__ == "__main__":
    sys.exit(main())
