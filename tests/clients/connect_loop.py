#!/usr/bin/python3
"""connect_loop.py - a running client that connects again and again: what
a change made meanwhile (a reload, a config image truncated under it) does
to a process already running under the shim.

    connect_loop.py PORT SECONDS INTERVAL [MARK]

Connects to 127.0.0.1:PORT (and closes) every INTERVAL seconds for
SECONDS, printing one line per connect: "ok" or the errno's name (e.g.
ECONNREFUSED), after "before " or "after " when MARK is given (whether the
file MARK existed at that connect).
"""

import errno
import os
import socket
import sys
import time


def main():
    port, secs, gap = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    mark = sys.argv[4] if len(sys.argv) > 4 else None
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            r = "ok"
        except OSError as e:
            r = errno.errorcode.get(e.errno, str(e.errno))
        finally:
            s.close()
        if mark:
            r = ("after " if os.path.exists(mark) else "before ") + r
        print(r, flush=True)
        time.sleep(gap)


if __name__ == "__main__":
    main()
