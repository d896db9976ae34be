#!/usr/bin/python3
"""vecio.py - large HTTP transfers over a plain blocking socket with the
vector and MSG_WAITALL calls, for tests/33-bytes.t (run under the shim).

    vecio.py download PORT     GET from a `big` faultserver: the head with
                               recv, the first half of the body with
                               recv(..., MSG_WAITALL), the rest with
                               os.readv into 3 buffers at a time
    vecio.py upload PORT FILE  POST FILE to a `sink` faultserver: the head
                               and the first half of the body with sendmsg
                               (several buffers), the rest with os.writev,
                               partial writes resumed

Prints "sha=HEX len=N status=S" (download) or "status=S reply=HEX:LEN".
"""
import hashlib
import os
import socket
import sys


def read_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            raise SystemExit("EOF in head")
        data += d
    head, rest = data.split(b"\r\n\r\n", 1)
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    return int(head.split(b" ", 2)[1]), n, rest


def download(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    status, n, rest = read_head(s)
    h = hashlib.sha256(rest)
    got = len(rest)
    half = n // 2
    while got < half:
        want = min(1 << 20, half - got)
        d = s.recv(want, socket.MSG_WAITALL)
        if not d:
            break
        h.update(d)
        got += len(d)
    bufs = [bytearray(40000), bytearray(50000), bytearray(60000)]
    while got < n:
        k = os.readv(s.fileno(), bufs)
        if k == 0:
            break
        for b in bufs:
            take = min(k, len(b))
            h.update(bytes(b[:take]))
            k -= take
            got += take
            if k == 0:
                break
    s.close()
    print("sha=%s len=%d status=%d" % (h.hexdigest(), got, status))


def upload(port, path):
    with open(path, "rb") as f:
        body = f.read()
    s = socket.create_connection(("127.0.0.1", port))
    head = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n" % len(body)
    mv = memoryview(body)
    half = len(body) // 2
    pieces = [memoryview(head)] + [mv[i:min(i + 100000, half)] for i in range(0, half, 100000)]
    while pieces:   # sendmsg, resuming after partial sends
        k = s.sendmsg(pieces[:64])
        while k:
            if k >= len(pieces[0]):
                k -= len(pieces[0])
                pieces.pop(0)
            else:
                pieces[0] = pieces[0][k:]
                k = 0
    pieces = [mv[i:min(i + 70000, len(body))] for i in range(half, len(body), 70000)]
    while pieces:   # os.writev, the same
        k = os.writev(s.fileno(), pieces[:64])
        while k:
            if k >= len(pieces[0]):
                k -= len(pieces[0])
                pieces.pop(0)
            else:
                pieces[0] = pieces[0][k:]
                k = 0
    status, n, rest = read_head(s)
    while len(rest) < n:
        d = s.recv(4096)
        if not d:
            break
        rest += d
    s.close()
    sha, ln = rest.decode().split()
    print("status=%d reply=%s:%s" % (status, sha, ln))


if __name__ == "__main__":
    if sys.argv[1] == "download":
        download(int(sys.argv[2]))
    else:
        upload(int(sys.argv[2]), sys.argv[3])
