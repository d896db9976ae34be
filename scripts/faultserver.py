#!/usr/bin/python3
"""faultserver.py - small misbehaving TCP servers for recloser's tests and demo.

Run it with /usr/bin/python3 and never under the shim.  Standard library only.

    faultserver.py MODE [--host 127.0.0.1|::1] [--port N] [--port-file F]
                   [--status N] [--control F] [--count-file F]
                   [--delay S] [--body-size N]
    faultserver.py closedport [--host H]

It binds (SO_REUSEADDR; port 0 picks one), writes the port to --port-file
(atomically: a temporary file, then rename) and to stdout, then serves, one
thread per connection, until SIGTERM or SIGINT, printing nothing else.

Modes:
  http       HTTP/1.1 with keep-alive; every request is answered with --status
             (default 200) and a Content-Length body.  With --control F, F is
             re-read on each request: a status code to answer, or
               hang   read and never answer,
               reset  close with SO_LINGER 0 (the client sees a RST),
               close  close without answering,
             and, read between accepts (every 50 ms),
               down   stop listening (connects are refused) until F says
                      anything else, when the same port is bound again.
             A missing or empty F means --status.
  hang       accept, read and discard, never answer.
  reset      accept, then close at once with SO_LINGER 0 (RST).
  blackhole  listen with backlog 0, fill the accept queue with its own
             connections, never accept: the SYNs of new clients are dropped,
             so their connect hangs until their own timeout.
  greet      send a banner ("220 faultserver ready"), then answer each line
             with "250 ok".
  slow       like http, but each answer comes after --delay seconds.
  bytewise   like http, but the status line is sent one byte at a time,
             --delay seconds apart (default 0.01).
  big        like http, with a body of --body-size bytes (default 1 MiB):
             byte i of the body is (i * 7 + 3) % 256.
  sink       like http (keep-alive, --control), but each request's body
             (Content-Length bytes) is read and hashed, never kept: the
             answer's body is "SHA256HEX LENGTH\n" of what was received.
  closedport print a port on --host that nothing listens on, and exit.

--tls CERT KEY: speak TLS (server side, the PEM certificate chain CERT and
its key KEY) on every accepted connection, then the mode as usual; a failed
handshake closes the connection.

--interim N (http, slow, bytewise, big): before each answer, an interim
1xx response "HTTP/1.1 N ..." (103 with a Link header), sent in the same
send(2) as the answer's status line, or, with --interim-gap S > 0, alone
and S seconds before the answer.

--count-file F: after each accepted connection, F is rewritten (atomically)
with the number of connections accepted so far, and, for the HTTP modes,
a second number, the requests answered: "CONNECTIONS REQUESTS\\n".

--max-file F (the HTTP modes): F is rewritten (atomically) with the most
requests this server has had in hand at once (from a request's last header
byte read to its answer sent), each time that number grows: "MAX\\n".
"""

import argparse
import hashlib
import os
import selectors
import signal
import socket
import ssl
import struct
import sys
import threading
import time

BANNER = b"220 faultserver ready\r\n"
REASONS = {200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
           302: "Found", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


INTERIM = {100: "Continue", 102: "Processing", 103: "Early Hints"}


def atomic_write(path, text):
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.%d.%d.tmp" % (os.path.basename(path), os.getpid(),
                                            threading.get_ident()))
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def rst_close(conn):
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def parse_head(head):
    """An HTTP request head: (request line, {lower-case header: value},
    keep-alive?)."""
    lines = head.split(b"\r\n")
    reqline = lines[0].decode("latin-1", "replace")
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower()] = v.strip().lower()
    ver = reqline.rsplit(" ", 1)[-1] if " " in reqline else "HTTP/1.0"
    keep = (ver == "HTTP/1.1" and hdrs.get(b"connection") != b"close") or \
           (ver == "HTTP/1.0" and hdrs.get(b"connection") == b"keep-alive")
    return reqline, hdrs, keep


def drain(conn):
    """Read and discard until the peer closes or the socket breaks."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


class Counter:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.conns = 0
        self.reqs = 0
        if path:
            atomic_write(path, "0 0\n")

    def bump(self, conns=0, reqs=0):
        with self.lock:
            self.conns += conns
            self.reqs += reqs
            if self.path:
                atomic_write(self.path, "%d %d\n" % (self.conns, self.reqs))


class InFlight:
    """Requests in hand at once, and the most seen (--max-file)."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        if path:
            atomic_write(path, "0\n")

    def enter(self):
        with self.lock:
            self.now += 1
            if self.now > self.most:
                self.most = self.now
                if self.path:
                    atomic_write(self.path, "%d\n" % self.most)

    def leave(self):
        with self.lock:
            self.now -= 1


class Server:
    def __init__(self, args):
        self.a = args
        self.counter = Counter(args.count_file)
        self.inflight = InFlight(args.max_file)
        self.lsock = None
        self.port = args.port
        self.stopping = False
        self.keep = []          # blackhole's own client sockets

    # ---- listening ----

    def listen(self, backlog=128):
        fam = family_of(self.a.host)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((self.a.host, self.port))
        s.listen(backlog)
        self.port = s.getsockname()[1]
        self.lsock = s

    def control(self):
        if not self.a.control:
            return None
        try:
            with open(self.a.control) as f:
                v = f.read().strip()
        except OSError:
            return None
        return v or None

    def serve(self):
        self.listen(0 if self.a.mode == "blackhole" else 128)
        if self.a.mode == "blackhole":
            self.fill_queue()
        self.announce()
        if self.a.mode == "blackhole":
            while True:
                time.sleep(3600)
        sel = selectors.DefaultSelector()
        registered = None
        while True:
            down = self.control() == "down"
            if down and self.lsock is not None:
                if registered is not None:
                    sel.unregister(registered)
                    registered = None
                self.lsock.close()
                self.lsock = None
            elif not down and self.lsock is None:
                self.relisten()
            if self.lsock is not None and registered is None:
                sel.register(self.lsock, selectors.EVENT_READ)
                registered = self.lsock
            if registered is None:
                time.sleep(0.05)
                continue
            if not sel.select(0.05):
                continue
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                continue
            self.counter.bump(conns=1)
            t = threading.Thread(target=self.handle, args=(conn,), daemon=True)
            t.start()

    def relisten(self):
        for _ in range(100):
            try:
                self.listen()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("faultserver: cannot listen again on port %d" % self.port)

    def announce(self):
        if self.a.port_file:
            atomic_write(self.a.port_file, "%d\n" % self.port)
        sys.stdout.write("%d\n" % self.port)
        sys.stdout.flush()

    def fill_queue(self):
        """Connect to ourselves until a connect does not complete: the accept
        queue is then full and the kernel drops new SYNs."""
        fam = family_of(self.a.host)
        for _ in range(64):
            c = socket.socket(fam, socket.SOCK_STREAM)
            c.setblocking(False)
            err = c.connect_ex((self.a.host, self.port))
            if err not in (0, 115):     # EINPROGRESS
                c.close()
                break
            sel = selectors.DefaultSelector()
            sel.register(c, selectors.EVENT_WRITE)
            ready = sel.select(0.3)
            sel.close()
            if ready and c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                self.keep.append(c)
                continue
            c.close()           # this one's SYN was dropped: the queue is full
            return
        raise SystemExit("faultserver: blackhole: accept queue never filled")

    # ---- connections ----

    def tls_context(self):
        """The server-side TLS context of --tls, made once."""
        ctx = getattr(self, "_tls_ctx", None)
        if ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.a.tls[0], self.a.tls[1])
            self._tls_ctx = ctx
        return ctx

    def handle(self, conn):
        if self.a.tls:
            try:
                conn = self.tls_context().wrap_socket(conn, server_side=True)
            except (OSError, ValueError):
                conn.close()
                return
        try:
            m = self.a.mode
            if m == "hang":
                drain(conn)
            elif m == "reset":
                rst_close(conn)
                return
            elif m == "greet":
                self.greet(conn)
            elif m == "sink":
                self.sink(conn)
            else:
                self.http(conn)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def greet(self, conn):
        conn.sendall(BANNER)
        buf = b""
        while True:
            d = conn.recv(4096)
            if not d:
                return
            buf += d
            while b"\n" in buf:
                _, buf = buf.split(b"\n", 1)
                conn.sendall(b"250 ok\r\n")

    def read_request(self, conn, buf):
        """Return (head, rest) of the next request, or (None, _) at EOF."""
        while b"\r\n\r\n" not in buf:
            d = conn.recv(65536)
            if not d:
                return None, buf
            buf += d
            if len(buf) > 1 << 20:
                return None, buf
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                try:
                    length = int(v.strip())
                except ValueError:
                    length = 0
        while len(rest) < length:
            d = conn.recv(65536)
            if not d:
                return None, rest
            rest += d
        return head, rest[length:]

    def answer_status(self, conn):
        """The status to answer the request just read with: --status, or
        the control file's; None when the control file says to hang,
        reset or close instead (done here).  Counts the request."""
        status = self.a.status
        c = self.control()
        if c == "hang":
            drain(conn)
            return None
        if c == "reset":
            rst_close(conn)
            return None
        if c == "close":
            return None
        if c and c.isdigit():
            status = int(c)
        self.counter.bump(reqs=1)
        return status

    def http(self, conn):
        buf = b""
        while True:
            head, buf = self.read_request(conn, buf)
            if head is None:
                return
            reqline, hdrs, keep = parse_head(head)
            self.inflight.enter()
            try:
                status = self.answer(conn, reqline, keep)
            finally:
                self.inflight.leave()
            if status is None or not keep:
                return

    def answer(self, conn, reqline, keep):
        """Answer one request (http, slow, bytewise, big); None: none given."""
        status = self.answer_status(conn)
        if status is None:
            return None
        if self.a.mode == "slow":
            time.sleep(self.a.delay)
        if self.a.mode == "big":
            n = self.a.body_size
            body = bytes((i * 7 + 3) % 256 for i in range(256)) * (n // 256 + 1)
            body = body[:n]
        else:
            body = ("status %d\n" % status).encode()
        if reqline.startswith("HEAD "):
            sendbody = b""
        else:
            sendbody = body
        sline = ("HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Status"))).encode()
        rest = ("Content-Type: text/plain\r\nContent-Length: %d\r\n"
                "Connection: %s\r\n\r\n" % (len(body), "keep-alive" if keep else "close")
                ).encode() + sendbody
        if self.a.interim:
            pre = ("HTTP/1.1 %d %s\r\n%s\r\n" % (
                self.a.interim, INTERIM.get(self.a.interim, "Info"),
                "Link: </style.css>; rel=preload\r\n"
                if self.a.interim == 103 else "")).encode()
            if self.a.interim_gap > 0:
                conn.sendall(pre)
                time.sleep(self.a.interim_gap)
            else:
                sline = pre + sline     # in the same send as the answer
        if self.a.mode == "bytewise":
            for i in range(len(sline)):
                conn.sendall(sline[i:i + 1])
                time.sleep(self.a.delay)
            conn.sendall(rest)
        else:
            conn.sendall(sline + rest)
        return status


    def sink(self, conn):
        """HTTP keep-alive; answer each request with the sha256 and length of
        its body, read in pieces (an upload of any size is never held)."""
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                d = conn.recv(65536)
                if not d:
                    return
                buf += d
                if len(buf) > 1 << 20:
                    return
            head, buf = buf.split(b"\r\n\r\n", 1)
            reqline, hdrs, keep = parse_head(head)
            try:
                length = int(hdrs.get(b"content-length", b"0"))
            except ValueError:
                length = 0
            h = hashlib.sha256()
            got = 0
            take = buf[:length]
            h.update(take)
            got += len(take)
            buf = buf[length:]
            while got < length:
                d = conn.recv(min(1 << 20, length - got))
                if not d:
                    return
                h.update(d)
                got += len(d)
            status = self.answer_status(conn)
            if status is None:
                return
            body = ("%s %d\n" % (h.hexdigest(), got)).encode()
            conn.sendall(("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                          "Content-Length: %d\r\nConnection: %s\r\n\r\n"
                          % (status, REASONS.get(status, "Status"), len(body),
                             "keep-alive" if keep else "close")).encode() + body)
            if not keep:
                return


def closedport(host):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    print(port)


def main():
    p = argparse.ArgumentParser(description="misbehaving TCP servers for tests")
    p.add_argument("mode", choices=["http", "hang", "reset", "blackhole", "greet",
                                    "slow", "bytewise", "big", "sink", "closedport"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--control")
    p.add_argument("--count-file")
    p.add_argument("--max-file")
    p.add_argument("--delay", type=float, default=None)
    p.add_argument("--body-size", type=int, default=1 << 20)
    p.add_argument("--interim", type=int, default=0)
    p.add_argument("--interim-gap", type=float, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = p.parse_args()
    if a.delay is None:
        a.delay = 0.01 if a.mode == "bytewise" else 1.0

    if a.mode == "closedport":
        closedport(a.host)
        return 0

    def stop(signum, frame):
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        Server(a).serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
