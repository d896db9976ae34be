#!/usr/bin/python3
"""to_requests.py - Python requests (urllib3, blocking sockets) under the
shim, for tests/80-timeouts-runtimes.t.

    to_requests.py connect|request|keepalive PORT N [CTL]

No timeout anywhere (requests' default: none).  One requests.Session, so
keepalive's call 1 goes on call 0's pooled connection.  Modes as
tests/clients/to_httpclient.java.  Prints "I MS OUTCOME DETAIL": sNNN, or
the exception's module.class and, when there is one, the errno name of
its root cause.
"""
import errno
import os
import sys
import time

import requests


def root_errno(e):
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        en = getattr(e, "errno", None)
        if en:
            return errno.errorcode.get(en, str(en))
        e = e.__cause__ or e.__context__ or (e.args[0] if getattr(e, "args", None) and
                                              isinstance(e.args[0], BaseException) else None)
        if e is not None and hasattr(e, "reason") and isinstance(e.reason, BaseException):
            e = e.reason
    return "-"


def main():
    mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    url = "http://127.0.0.1:%d/" % port
    s = requests.Session()

    def call(i):
        t0 = time.monotonic()
        try:
            out = "s%d" % s.get(url).status_code
        except Exception as e:  # noqa: BLE001 - report any failure
            out = "%s.%s %s" % (type(e).__module__, type(e).__name__, root_errno(e))
        print(i, int((time.monotonic() - t0) * 1000), out, flush=True)

    if mode == "keepalive":
        call(0)
        ctl = sys.argv[4]
        with open(ctl + ".tmp", "w") as f:
            f.write("hang\n")
        os.rename(ctl + ".tmp", ctl)
        time.sleep(0.25)
    for i in range(1, n + 1):
        call(i)


main()
