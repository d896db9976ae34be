#!/usr/bin/python3
"""to_asyncio.py - Python asyncio streams (non-blocking sockets, epoll)
under the shim, for tests/80-timeouts-runtimes.t.

    to_asyncio.py connect|request|keepalive PORT N [CTL]

No timeout anywhere (no wait_for, no timeout= argument): asyncio.open_connection,
write a GET, await the answer's head and body.  Modes as
tests/clients/to_httpclient.java; in keepalive call 1 goes on call 0's
connection, later calls open new ones.  Prints "I MS OUTCOME DETAIL": sNNN,
EOF, or the exception's class and errno name.
"""
import asyncio
import errno
import os
import sys
import time

REQ = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"


async def exchange(r, w):
    w.write(REQ)
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    await r.readexactly(n)
    return "s" + head.split(b" ", 2)[1].decode()


def describe(e):
    if isinstance(e, asyncio.IncompleteReadError):
        return "EOF IncompleteReadError"
    en = getattr(e, "errno", None)
    return "%s %s" % (type(e).__name__, errno.errorcode.get(en, en) if en else str(e) or "-")


async def main():
    mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    conn = None

    async def call(i):
        nonlocal conn
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", port)
            out = await exchange(*conn)
        except Exception as e:
            out = describe(e)
            if conn is not None:
                conn[1].close()
            conn = None
        if mode != "keepalive" and conn is not None:
            conn[1].close()
            conn = None
        print(i, int((time.monotonic() - t0) * 1000), out, flush=True)

    if mode == "keepalive":
        await call(0)
        ctl = sys.argv[4]
        with open(ctl + ".tmp", "w") as f:
            f.write("hang\n")
        os.rename(ctl + ".tmp", ctl)
        await asyncio.sleep(0.25)
    for i in range(1, n + 1):
        await call(i)


asyncio.run(main())
