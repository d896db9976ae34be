"""httpread.py - the HTTP answer reader the raw-socket test clients share
(chaos_fds.py, passed.py)."""


def read_answer(s):
    """Read one HTTP answer (head and Content-Length body) from socket s.
    Return its head; what was read if the stream ended before the head's
    end (b"" at once)."""
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            return data
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        d = s.recv(4096)
        if not d:
            break
        body += d
    return head
