#!/usr/bin/python3
"""chaos_nofile.py - calls made while the process is out of fds, for
tests/73-chaos-nofile.t.  Run under the shim (and once without it).

    chaos_nofile.py OK_PORT DEAD_PORT [NEW_CONFIG CONFIG RELOAD_S]

Lowers RLIMIT_NOFILE to 64 (more if it inherited fds above 47) and opens /dev/null until EMFILE, then, each
step printed as one word (the errno name, "ok", or "sNNN" for an answer):
  1. socket()                      with no fd free: EMFILE
  2. one fd freed; the socket takes it, so every connect below runs with
     no fd free (nothing the shim does there can open a file):
     GET on OK_PORT                an answer
  3. 3 connects to DEAD_PORT       the kernel refuses; under the shim the
                                   breaker opens and the 3rd is rejected
  4. with NEW_CONFIG: it is renamed over CONFIG (rename needs no fd), and
     after RELOAD_S * 3 seconds, a connect to DEAD_PORT (the shim cannot
     read the new config now: out of fds)
  5. every fd freed; after RELOAD_S * 3 seconds a connect to DEAD_PORT (the
     edit can be read now) and a GET on OK_PORT.
Prints the words on one line and exits 0.
"""

import errno
import os
import resource
import socket
import sys
import time


def ename(e):
    return errno.errorcode.get(e.errno, "E%s" % e.errno)


def conn(port, req=False):
    try:
        s = socket.socket()
    except OSError as e:
        return "socket:" + ename(e)
    try:
        s.connect(("127.0.0.1", port))
        if not req:
            return "ok"
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        d = s.recv(100)
        return "s" + d[9:12].decode() if d.startswith(b"HTTP/1.") else "NORESPONSE"
    except OSError as e:
        return ename(e)
    finally:
        s.close()


def main():
    ok, dead = int(sys.argv[1]), int(sys.argv[2])
    newcfg = sys.argv[3] if len(sys.argv) > 3 else None
    cfg = sys.argv[4] if len(sys.argv) > 4 else None
    pause = float(sys.argv[5]) * 3 if len(sys.argv) > 5 else 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # 64, or more if we inherited many: at least 16 are taken below
    high = max(int(f) for f in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(64, high + 17), hard), hard))
    fds = []
    try:
        while True:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as e:
        if e.errno != errno.EMFILE:
            print("fill:" + ename(e))
            return 0
    res = []
    try:
        socket.socket().close()
        res.append("ok")
    except OSError as e:
        res.append(ename(e))
    os.close(fds.pop())
    res.append(conn(ok, True))
    for _ in range(3):
        res.append(conn(dead))
    if newcfg:
        os.rename(newcfg, cfg)
        time.sleep(pause)
        res.append(conn(dead))
    for fd in fds:
        os.close(fd)
    fds = []
    if newcfg:
        time.sleep(pause)
    res.append(conn(dead))
    res.append(conn(ok, True))
    print(" ".join(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
