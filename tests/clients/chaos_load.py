#!/usr/bin/python3
"""chaos_load.py - a load client for the chaos tests (tests/7*-chaos-*.t),
run under the shim.

    chaos_load.py PORT[,PORT...] [--threads K] [-n N] [--start-at EPOCH_MS]
                  [--ready-file F] [--after-file G --after-n M]
                  [--max-seconds S] [--pause-ms MS]

K threads (default 1) each make calls to 127.0.0.1:PORT: a blocking
connect, "GET / HTTP/1.1" with Connection: close, and a read to the end.
Each thread stops after N calls (-n), or, with --after-file, M calls after
it first sees the file G exist (checked with stat before each call); never
later than S seconds (default 30) after the start.  --ready-file F is
created once every thread has made 3 calls.  --start-at waits until that
wall-clock time (ms since the epoch) first; --pause-ms sleeps between calls.

With several ports, thread k's call i goes to port (k + i) mod their number,
and the line also has each port's counts, as PORT.KEY=N.

Prints one line:
    pid=1234 calls=200 after=40 s200=190 EHOSTUNREACH=10
calls = calls attempted, after = those begun after G appeared, then the
count of each outcome: sNNN (the answer's status), the errno name of the
connect or read that failed, TIMEOUT, or NORESPONSE (the connection ended
without an HTTP status line).  Exits 0, or 3 if the time limit cut the
run short.
"""

import argparse
import errno
import os
import socket
import sys
import threading
import time
from collections import Counter

REQ = b"GET / HTTP/1.1\r\nHost: chaos\r\nConnection: close\r\n\r\n"


def ename(e):
    if isinstance(e, socket.timeout) and e.errno is None:
        return "TIMEOUT"
    if getattr(e, "errno", None):
        return errno.errorcode.get(e.errno, "E%d" % e.errno)
    return type(e).__name__


def one(port):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as e:
        return "socket:" + ename(e)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(REQ)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        if data.startswith(b"HTTP/1.") and len(data) >= 12:
            return "s" + data[9:12].decode("latin-1")
        return "NORESPONSE"
    except OSError as e:
        return ename(e)
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("-n", type=int, default=0)
    p.add_argument("--start-at", type=int, default=0)
    p.add_argument("--ready-file")
    p.add_argument("--after-file")
    p.add_argument("--after-n", type=int, default=20)
    p.add_argument("--max-seconds", type=float, default=30)
    p.add_argument("--pause-ms", type=float, default=0)
    a = p.parse_args()

    ports = [int(x) for x in a.port.split(",")]
    out = Counter()
    per = Counter()
    lock = threading.Lock()
    ready = [0]
    cut = [False]
    if a.start_at:
        d = a.start_at / 1000.0 - time.time()
        if d > 0:
            time.sleep(d)
    t_end = time.monotonic() + a.max_seconds

    def worker(k):
        done = 0
        left = None          # calls left once the after-file is seen
        while True:
            if a.n and done >= a.n:
                return
            if a.after_file and left is None and os.path.exists(a.after_file):
                left = a.after_n
            if left is not None:
                if left <= 0:
                    return
                left -= 1
            if time.monotonic() > t_end:
                with lock:
                    cut[0] = True
                return
            port = ports[(k + done) % len(ports)]
            r = one(port)
            done += 1
            with lock:
                out["calls"] += 1
                if len(ports) > 1:
                    per["%d.calls" % port] += 1
                    per["%d.%s" % (port, r)] += 1
                if left is not None:
                    out["after"] += 1
                out[r] += 1
                if done == 3:
                    ready[0] += 1
                    if ready[0] == a.threads and a.ready_file:
                        open(a.ready_file, "w").close()
            if a.pause_ms:
                time.sleep(a.pause_ms / 1000.0)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    parts = ["pid=%d" % os.getpid(), "calls=%d" % out.pop("calls", 0),
             "after=%d" % out.pop("after", 0)]
    parts += ["%s=%d" % (k, v) for k, v in sorted(out.items())]
    parts += ["%s=%d" % (k, v) for k, v in sorted(per.items())]
    print(" ".join(parts))
    sys.stdout.flush()
    return 3 if cut[0] else 0


if __name__ == "__main__":
    sys.exit(main())
