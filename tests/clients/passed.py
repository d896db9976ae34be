"""passed.py - sockets the program never connected itself, for
tests/83-passed-sockets.t.

    passed.py broker scm PORT PATH            (not under the shim) connect to
        127.0.0.1:PORT, listen on the Unix socket PATH, hand the connection
        to the first client over SCM_RIGHTS, wait for it to finish
    passed.py broker exec PORT -- CMD...      connect, then run CMD with the
        connection inherited as fd 3 (the shim's LD_PRELOAD in CMD's env)
    passed.py client scm PATH N               receive the socket over PATH
    passed.py client exec FD N                use inherited FD
A client makes N GET requests on the socket, one line each:
"I STATUS" (the answer's status) or "I ERR ERRNO-NAME".
"""
import errno
import os
import socket
import subprocess
import sys

from httpread import read_answer


def requests_on(s, n):
    for i in range(n):
        try:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = read_answer(s)
            if not head:
                print(i, "EOF", flush=True)
                continue
            print(i, head.split(b" ")[1].decode(), flush=True)
        except OSError as e:
            print(i, "ERR", errno.errorcode.get(e.errno, e.errno), flush=True)


def main():
    role, mode = sys.argv[1], sys.argv[2]
    if role == "broker":
        c = socket.create_connection(("127.0.0.1", int(sys.argv[3])))
        if mode == "scm":
            path = sys.argv[4]
            u = socket.socket(socket.AF_UNIX)
            u.bind(path)
            u.listen(1)
            print("READY", flush=True)
            a, _ = u.accept()
            socket.send_fds(a, [b"x"], [c.fileno()])
            a.recv(1)  # the client closing its end
            return
        cmd = sys.argv[sys.argv.index("--") + 1:]
        os.dup2(c.fileno(), 3)
        r = subprocess.run(cmd, pass_fds=(3,))
        sys.exit(r.returncode)
    n = int(sys.argv[4])
    if mode == "scm":
        u = socket.socket(socket.AF_UNIX)
        u.connect(sys.argv[3])
        _, fds, _, _ = socket.recv_fds(u, 16, 1)
        s = socket.socket(fileno=fds[0])
    else:
        s = socket.socket(fileno=int(sys.argv[3]))
    requests_on(s, n)


if __name__ == "__main__":
    main()
