#!/usr/bin/python3
"""next_call.py - a running client that makes a call, waits, and makes the
next one: what a flip made meanwhile (by the CLI, by the dashboard) does to
a process already running under the shim.

    next_call.py PORT GO [SECONDS]

Connects to 127.0.0.1:PORT (and closes), creates GO.ready, waits for the
file GO to exist (SECONDS at most, default 5), connects again, and prints
the two outcomes: "ok" or the exception's class name, e.g.
    ok ConnectionRefusedError
"""

import os
import socket
import sys
import time


def attempt(port):
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        return "ok"
    except OSError as e:
        return e.__class__.__name__


def main():
    port, go = int(sys.argv[1]), sys.argv[2]
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    first = attempt(port)
    open(go + ".ready", "w").close()
    for _ in range(int(secs / 0.025)):
        if os.path.exists(go):
            break
        time.sleep(0.025)
    print(first, attempt(port))


if __name__ == "__main__":
    main()
