"""tls_py.py - Python HTTPS clients for tests/81-tls.t (standard library,
plus requests where asked).  Each call prints one line:
    I STATUS MS           an answer (STATUS its HTTP status)
    I ERR NAME MS TEXT    an exception (NAME its class)

    tls_py.py requests URL N [--threads T] [--ca FILE]
        one requests.Session (keep-alive) per thread, N calls per thread
    tls_py.py urllib URL N [--ca FILE]
    tls_py.py httpclient URL N [--tls 1.2|1.3] [--ca FILE]
        one http.client.HTTPSConnection, kept alive, reopened after an error
    tls_py.py get URL --out FILE [--ca FILE]      the body, to FILE
    tls_py.py put URL --in FILE [--ca FILE]       FILE as the body; prints
                                                  the answer's body
    tls_py.py late URL --ca FILE
        a plain-HTTP-free process that imports ssl only now (dlopen of
        _ssl and libssl after start), then makes one call

Without --ca the server's certificate is not verified.
"""
import argparse
import sys
import threading
import time
import urllib.parse


def context(a):
    import ssl
    if a.ca == "default":
        ctx = ssl.create_default_context()  # the system's CAs: a self-signed
    elif a.ca:                              # server fails verification
        ctx = ssl.create_default_context(cafile=a.ca)
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if a.tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif a.tls == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def line(i, t0, status=None, exc=None):
    ms = int((time.monotonic() - t0) * 1000)
    if exc is None:
        print(i, status, ms, flush=True)
    else:
        text = str(exc).replace("\n", " ")[:120]
        print(i, "ERR", type(exc).__name__, ms, text, flush=True)


def run_requests(a):
    import requests
    import urllib3
    urllib3.disable_warnings()
    verify = a.ca if a.ca and a.ca != "default" else (True if a.ca else False)
    lock = threading.Lock()

    def worker(k):
        s = requests.Session()
        for j in range(a.n):
            t0 = time.monotonic()
            try:
                r = s.get(a.url, verify=verify)
                with lock:
                    line(k * a.n + j, t0, r.status_code)
            except Exception as e:  # noqa: BLE001 - report any failure
                with lock:
                    line(k * a.n + j, t0, exc=e)
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def run_urllib(a):
    import urllib.error
    import urllib.request
    ctx = context(a)
    for i in range(a.n):
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(a.url, context=ctx) as r:
                r.read()
                line(i, t0, r.status)
        except urllib.error.HTTPError as e:
            e.read()
            line(i, t0, e.code)
        except Exception as e:  # noqa: BLE001
            line(i, t0, exc=e)


def connection(a):
    import http.client
    u = urllib.parse.urlsplit(a.url)
    return http.client.HTTPSConnection(u.hostname, u.port, context=context(a))


def run_httpclient(a):
    c = connection(a)
    for i in range(a.n):
        t0 = time.monotonic()
        try:
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            line(i, t0, r.status)
        except Exception as e:  # noqa: BLE001
            line(i, t0, exc=e)
            c.close()
            c = connection(a)


def run_get(a):
    c = connection(a)
    c.request("GET", "/")
    r = c.getresponse()
    with open(a.out, "wb") as f:
        while True:
            b = r.read(65536)
            if not b:
                break
            f.write(b)
    print(r.status, flush=True)


def run_put(a):
    c = connection(a)
    with open(a.inp, "rb") as f:
        body = f.read()
    c.request("POST", "/", body=body, headers={"Content-Length": str(len(body))})
    r = c.getresponse()
    print(r.status, r.read().decode().strip(), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode")
    p.add_argument("url")
    p.add_argument("n", type=int, nargs="?", default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ca")
    p.add_argument("--tls")
    p.add_argument("--out")
    p.add_argument("--in", dest="inp")
    a = p.parse_args()
    if a.mode == "late":
        assert "ssl" not in sys.modules and "_ssl" not in sys.modules
        run_httpclient(a)
        return
    {"requests": run_requests, "urllib": run_urllib, "httpclient": run_httpclient,
     "get": run_get, "put": run_put}[a.mode](a)


if __name__ == "__main__":
    main()
