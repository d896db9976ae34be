#!/usr/bin/python3
"""chaos_fds.py - fds with calls open, closed or replaced in bulk, for
tests/76-chaos-closefrom.t.  Run under the shim.

    chaos_fds.py HOW HANG_PORT OK_PORT [LINGER_S]

Opens 6 connections to HANG_PORT with a request sent on each (calls open,
never answered) and 3 to OK_PORT with one request answered on each (idle
connections), keeps only their fd numbers, then ends them all at once by HOW:
  close_range   close_range(lo, hi, 0) (libc)
  cloexec       close_range(lo, hi, CLOSE_RANGE_CLOEXEC): nothing closed;
                then a second request on each OK connection, and a plain
                close() of everything
  closefrom     closefrom(lo) (libc)
  osclose       os.closerange(lo, hi + 1) (Python's, as subprocess uses)
  sys_range     syscall(SYS_close_range, lo, hi, 0)
  sys_close     syscall(SYS_close, fd) on each
  dup2          dup2() of /dev/null over each HANG fd, dup3(.., O_CLOEXEC)
                over each OK fd
then hands 4 of the numbers out again (/dev/null, a pipe, /dev/null) and
uses them: a request written into /dev/null, a read of /dev/null (EOF at
once), and "HTTP/1.1 500" sent through each pipe and read back.  Then it
waits LINGER_S seconds (default 1.3: longer than the HANG breaker's
response_timeout, so a call the shim still thought open would be judged at
exit) and exits.  Prints one line:
    reused=4 io=ok
reused = numbers handed out again, io = "ok" or what went wrong.

    chaos_fds.py scm HANG_PORT OK_PORT [LINGER_S]
A connection to HANG_PORT with a request sent is closed where the shim
cannot see it (fclose of an fdopen'ed FILE); its number then comes back as
the read end of a pipe received over SCM_RIGHTS (an fd the shim never saw
made).  A blocking read on it is answered through the pipe 1.5 s later
("HTTP/1.1 500 ..."; longer than the HANG breaker's response_timeout): it
must get those bytes, not a timeout, and judge nothing.  Prints
    reused=1 read=HTTP/1.1_500@MS

    chaos_fds.py dup2x HANG_PORT OK_PORT
dup2 and dup3 between tracked fds: /dev/null over a HANG fd with a call
open; an answered OK connection over another HANG fd with a call open
(then a request on the duplicate); a connection with a request in flight
dup2'ed onto itself (the answer is still read).  Prints the results.

    chaos_fds.py stress OK_PORT N
Thread A makes N calls (connect, request, read to the end) on fresh
connections; thread B meanwhile dup2()s /dev/null over A's current fd at
random moments.  Prints the count of each outcome A saw.
"""

import ctypes
import errno
import os
import random
import socket
import sys
import threading
import time

from httpread import read_answer

libc = ctypes.CDLL(None, use_errno=True)
libc.close_range.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_int]
libc.closefrom.argtypes = [ctypes.c_int]
libc.closefrom.restype = None
libc.syscall.restype = ctypes.c_long
libc.fdopen.restype = ctypes.c_void_p
libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
libc.fclose.argtypes = [ctypes.c_void_p]

SYS_close = 3
SYS_close_range = 436
CLOSE_RANGE_CLOEXEC = 4
GET = b"GET / HTTP/1.1\r\nHost: chaos\r\n\r\n"
ANSWER = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"


def ename(e):
    return errno.errorcode.get(e.errno, "E%s" % e.errno) if e.errno else type(e).__name__


def open_calls(hang, ok, nhang=6, nok=3):
    """Connections with calls open (HANG) and idle after an answer (OK):
    their fd numbers, detached from Python's socket objects."""
    hfds, ofds = [], []
    for _ in range(nhang):
        s = socket.create_connection(("127.0.0.1", hang))
        s.sendall(GET)
        hfds.append(s.detach())
    for _ in range(nok):
        s = socket.create_connection(("127.0.0.1", ok))
        s.sendall(GET)
        if not read_answer(s).startswith(b"HTTP/1.1 200"):
            raise SystemExit("no answer from OK")
        ofds.append(s.detach())
    return hfds, ofds


def reuse_and_use(old):
    """Hand the numbers in OLD out again; use them.  Return (reused, io)."""
    made, problems = [], []
    # 4 numbers (the lowest of OLD: 4 of the HANG ones); the rest stay free,
    # so that a call the shim still thought open there would be judged at exit
    for kind in ("null", "pipe", "null"):
        if kind == "null":
            made.append(("null", os.open("/dev/null", os.O_RDWR)))
        else:
            made.append(("pipe", os.pipe()))
    numbers = set()
    for kind, v in made:
        if kind == "null":
            numbers.add(v)
            try:
                if os.write(v, GET) != len(GET):
                    problems.append("short write")
                if os.read(v, 100) != b"":
                    problems.append("null read not EOF")
            except OSError as e:
                problems.append("null:" + ename(e))
        else:
            r, w = v
            numbers.update(v)
            try:
                os.write(w, ANSWER)
                got = os.read(r, 200)
                if got != ANSWER:
                    problems.append("pipe read %r" % got[:20])
            except OSError as e:
                problems.append("pipe:" + ename(e))
    for kind, v in made:
        for fd in (v if kind == "pipe" else (v,)):
            os.close(fd)
    reused = len(numbers & set(old))
    return reused, ("ok" if not problems else ",".join(problems).replace(" ", "_"))


def bulk(how, hang, ok, linger):
    hfds, ofds = open_calls(hang, ok)
    fds = sorted(hfds + ofds)
    lo, hi = fds[0], fds[-1]
    if hi - lo + 1 != len(fds):
        raise SystemExit("fds not contiguous: %r" % fds)   # see main()
    extra = ""
    if how == "close_range":
        r = libc.close_range(lo, hi, 0)
        if r != 0:
            raise SystemExit("close_range: %s" % os.strerror(ctypes.get_errno()))
    elif how == "cloexec":
        if libc.close_range(lo, hi, CLOSE_RANGE_CLOEXEC) != 0:
            raise SystemExit("close_range: %s" % os.strerror(ctypes.get_errno()))
        res = []
        for fd in ofds:       # still open and tracked: a second call each
            s = socket.socket(fileno=fd)
            s.sendall(GET)
            res.append("s200" if read_answer(s).startswith(b"HTTP/1.1 200") else "bad")
            s.detach()
        extra = " again=" + ",".join(res)
        for fd in fds:
            os.close(fd)
    elif how == "closefrom":
        libc.closefrom(lo)
    elif how == "osclose":
        os.closerange(lo, hi + 1)
    elif how == "sys_range":
        if libc.syscall(SYS_close_range, lo, hi, 0) != 0:
            raise SystemExit("syscall close_range: %s" % os.strerror(ctypes.get_errno()))
    elif how == "sys_close":
        for fd in fds:
            libc.syscall(SYS_close, fd)
    elif how == "dup2":
        null = os.open("/dev/null", os.O_RDWR)
        for fd in hfds:
            os.dup2(null, fd)
        for fd in ofds:
            libc.dup3(null, fd, os.O_CLOEXEC)
        os.close(null)
        for fd in fds:        # they are /dev/null now: use, then close
            try:
                os.write(fd, GET)
                os.read(fd, 10)
            except OSError as e:
                extra += " %s" % ename(e)
            os.close(fd)
    else:
        raise SystemExit("unknown HOW")
    reused, io = reuse_and_use(fds)
    time.sleep(linger)
    print("reused=%d io=%s%s" % (reused, io, extra))


def scm(hang, ok, linger):
    a, b = socket.socketpair()
    r, w = os.pipe()
    s = socket.create_connection(("127.0.0.1", hang))
    s.sendall(GET)
    x = s.detach()
    f = libc.fdopen(x, b"r+")
    libc.fclose(f)            # closes x inside libc: unseen
    socket.send_fds(a, [b"x"], [r])
    _, fds, _, _ = socket.recv_fds(b, 10, 1)
    got = fds[0]
    os.close(r)

    def late():
        time.sleep(1.5)
        os.write(w, ANSWER)
    t = threading.Thread(target=late)
    t0 = time.monotonic()
    t.start()
    try:
        d = os.read(got, 200)
        res = d.split(b"\r\n")[0].decode().replace(" ", "_")[:12]
    except OSError as e:
        res = ename(e)
    ms = (time.monotonic() - t0) * 1000
    t.join()
    os.close(got)
    os.close(w)
    time.sleep(linger)
    print("reused=%d read=%s@%d" % (1 if got == x else 0, res, ms))


def dup2x(hang, ok):
    out = []
    null = os.open("/dev/null", os.O_RDWR)
    # /dev/null over a HANG fd with a call open
    h = socket.create_connection(("127.0.0.1", hang))
    h.sendall(GET)
    hf = h.detach()
    os.dup2(null, hf)
    os.write(hf, GET)
    out.append("null_over_call=" + ("EOF" if os.read(hf, 10) == b"" else "data"))
    os.close(hf)
    # an answered OK connection over a HANG fd with a call open; then a
    # request on the duplicate: a call of the OK breaker
    o = socket.create_connection(("127.0.0.1", ok))
    o.sendall(GET)
    read_answer(o)
    h = socket.create_connection(("127.0.0.1", hang))
    h.sendall(GET)
    hf = h.detach()
    os.dup2(o.fileno(), hf)
    d = socket.socket(fileno=hf)
    d.sendall(GET)
    out.append("dup_of_ok=" + ("s200" if read_answer(d).startswith(b"HTTP/1.1 200") else "bad"))
    d.close()
    o.close()
    # a request in flight, dup2'ed onto itself: still its call
    o = socket.create_connection(("127.0.0.1", ok))
    o.sendall(GET)
    r = os.dup2(o.fileno(), o.fileno())
    out.append("self=%s" % ("ok" if r == o.fileno() else r))
    out.append("answer=" + ("s200" if read_answer(o).startswith(b"HTTP/1.1 200") else "bad"))
    o.close()
    os.close(null)
    print(" ".join(out))


def stress(ok, n):
    null = os.open("/dev/null", os.O_RDWR)
    cur = [-1]
    lock = threading.Lock()
    stop = [False]
    seen = {}
    seen_lock = threading.Lock()

    def add(k):
        with seen_lock:
            seen[k] = seen.get(k, 0) + 1

    def a():
        for _ in range(n):
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", ok))
                with lock:
                    cur[0] = s.fileno()
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    data += d
                add("s" + data[9:12].decode() if data.startswith(b"HTTP/1.") else "NORESPONSE")
            except OSError as e:
                add(ename(e))
            finally:
                with lock:
                    cur[0] = -1
                    s.close()   # under the lock: B never dup2s over a closed number
        stop[0] = True

    def b():
        rnd = random.Random(7)
        while not stop[0]:
            time.sleep(rnd.random() * 0.004)
            with lock:
                if cur[0] >= 0 and rnd.random() < 0.5:
                    os.dup2(null, cur[0])
                    add("clobbered")

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))


def main():
    # fds inherited from whoever started us would break up the numbers ours
    # get: close them first (nothing is tracked yet)
    os.closerange(3, 65536)
    how = sys.argv[1]
    if how == "stress":
        stress(int(sys.argv[2]), int(sys.argv[3]))
        return 0
    hang, ok = int(sys.argv[2]), int(sys.argv[3])
    linger = float(sys.argv[4]) if len(sys.argv) > 4 else 1.3
    if how == "scm":
        scm(hang, ok, linger)
    elif how == "dup2x":
        dup2x(hang, ok)
    else:
        bulk(how, hang, ok, linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
