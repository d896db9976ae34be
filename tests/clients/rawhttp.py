#!/usr/bin/python3
"""rawhttp.py - one HTTP exchange over a plain Python socket, for the
response-timeout and MSG_PEEK tests (tests/3*.t), run under the shim.

    rawhttp.py PORT [--rcvtimeo S] [--retry] [--pytimeout S] [--requests K]
               [--ctl FILE --ctl-last VALUE] [--gap S] [--peek N]
               [--via recv|recv_into|recvmsg|read|readv] [--late S]

Connects to 127.0.0.1:PORT, blocking (no Python timeout: the fd stays
blocking) unless --pytimeout S is given (Python's own timeout: the fd is
non-blocking and Python polls).  --rcvtimeo S sets SO_RCVTIMEO, the app's
own kernel receive timeout.  Sends K (default 1) GET requests one after
another on the connection, reading each answer; before the last one it
sleeps --gap seconds and writes --ctl-last into the faultserver control
file --ctl.  With --retry a recv that fails with EAGAIN is tried again.
--peek N: each answer's first N bytes are looked at with MSG_PEEK first.
--via: the call that reads (default recv; read and readv are os.read and
os.readv on the socket's fd).  --late S: after sending the last request,
sleep S seconds before the first read (the program was busy elsewhere).

Prints one word per receive attempt of the last request, each with the ms
since that request was sent, and the ms since the connect began:
    ETIMEDOUT@503 total=505
    EAGAIN@201 EAGAIN@402 ETIMEDOUT@500 total=502
    s200@3 total=4          (an answer with status 200)
    i103 s503@2 total=3     (an interim 103, then the answer)
    peek=HTTP/1.1 5 s503@2 total=3
    EOF@1 total=2           (end of stream, no answer)
    TIMEOUT@1001            (Python's own timeout)
"""
import argparse
import errno
import os
import socket
import struct
import sys
import time


def ename(e):
    if isinstance(e, socket.timeout) and e.errno is None:
        return "TIMEOUT"
    if getattr(e, "errno", None):
        return errno.errorcode.get(e.errno, "E%d" % e.errno)
    return type(e).__name__


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--rcvtimeo", type=float, default=0)
    p.add_argument("--retry", action="store_true")
    p.add_argument("--pytimeout", type=float, default=None)
    p.add_argument("--requests", type=int, default=1)
    p.add_argument("--ctl")
    p.add_argument("--ctl-last")
    p.add_argument("--gap", type=float, default=0)
    p.add_argument("--peek", type=int, default=0)
    p.add_argument("--late", type=float, default=0)
    p.add_argument("--via", default="recv",
                   choices=["recv", "recv_into", "recvmsg", "read", "readv"])
    a = p.parse_args()

    t0 = time.monotonic()
    ms = lambda t: int((time.monotonic() - t) * 1000)
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.pytimeout)
    if a.rcvtimeo:
        sec = int(a.rcvtimeo)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                     struct.pack("ll", sec, int((a.rcvtimeo - sec) * 1e6)))
    def rd(n):
        if a.via == "recv":
            return s.recv(n)
        if a.via == "recv_into":
            b = bytearray(n)
            return bytes(b[:s.recv_into(b)])
        if a.via == "recvmsg":
            return s.recvmsg(n)[0]
        if a.via == "read":
            return os.read(s.fileno(), n)
        b1, b2 = bytearray(7), bytearray(n)
        k = os.readv(s.fileno(), [b1, b2])
        return (bytes(b1) + bytes(b2))[:k]

    words = []
    for i in range(a.requests):
        last = i == a.requests - 1
        if last:
            if a.gap:
                time.sleep(a.gap)
            if a.ctl and a.ctl_last:
                with open(a.ctl + ".tmp", "w") as f:
                    f.write(a.ctl_last + "\n")
                os.rename(a.ctl + ".tmp", a.ctl)
        words = []
        ts = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        if last and a.late:
            time.sleep(a.late)
        data = b""
        while True:
            try:
                if a.peek and not data:
                    pk = s.recv(a.peek, socket.MSG_PEEK)
                    words.append("peek=" + pk.decode("latin-1").replace(" ", "_"))
                d = rd(65536)
            except OSError as e:
                words.append("%s@%d" % (ename(e), ms(ts)))
                if a.retry and e.errno == errno.EAGAIN:
                    continue
                break
            if not d:
                words.append("EOF@%d" % ms(ts))
                break
            data += d
            while b"\r\n\r\n" in data and data[9:10] == b"1":
                # an interim 1xx response: noted, skipped
                head, data = data.split(b"\r\n\r\n", 1)
                words.append("i%s" % head.split(b" ", 2)[1].decode())
            if b"\r\n\r\n" in data:
                head, body = data.split(b"\r\n\r\n", 1)
                n = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v.strip())
                if len(body) >= n:
                    words.append("s%s@%d" % (head.split(b" ", 2)[1].decode(), ms(ts)))
                    break
        if words and not words[-1].startswith("s"):
            break
    words.append("total=%d" % ms(t0))
    s.close()
    print(" ".join(words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
