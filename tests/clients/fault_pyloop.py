"""fault_pyloop.py - tests/clients/fault_loop.c's http mode in Python, for
tests/3a-engine-faults.t; run it with -X faulthandler (as pytest does) to
have a program with SIGBUS and SIGSEGV handlers of its own, installed
after the shim started.

    python3 -X faulthandler fault_pyloop.py PORT STOPFILE PIDFILE INTERVAL_MS

Writes its pid to PIDFILE (atomically), then until STOPFILE exists (or 40
seconds have passed) makes one HTTP call to 127.0.0.1:PORT every
INTERVAL_MS ms (connect, "GET / HTTP/1.1", read the answer, close) and
prints one line per call: "ok" (a 200), "bad", or the error's errno name.
At the end prints "done ok=N fail=M" and exits 0.
"""
import errno
import os
import socket
import sys
import time


def one_call(port):
    try:
        s = socket.create_connection(("127.0.0.1", port))
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        r = s.recv(512)
        return "ok" if r.startswith(b"HTTP/1.1 200") else ("EOF" if not r else "bad")
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()


def main():
    port, stop, pidfile, iv = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    ok = fail = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 40 and not os.path.exists(stop):
        r = one_call(port)
        if r == "ok":
            ok += 1
        else:
            fail += 1
        print(r, flush=True)
        time.sleep(iv / 1000.0)
    print("done ok=%d fail=%d" % (ok, fail), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
