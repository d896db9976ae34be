#!/bin/bash
# Chaos: RLIMIT_NOFILE exhausted in the client (tests/clients/chaos_nofile.py:
# RLIMIT_NOFILE 64, every fd taken).  The shim needs no fd on the call path
# (the log opens one per line, the config reload one per read): with none
# free, calls still pass through or are rejected properly, nothing crashes,
# and every errno is the kernel's (EMFILE from socket(), ECONNREFUSED from a
# closed port) or the breaker's reject_errno.  A config edit the process
# could not read while out of fds is read once fds are free again.  Also
# 4 threads x 50 calls, each process out of fds but for the sockets it uses.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

NOFILE=$ROOT/tests/clients/chaos_nofile.py
start_server OK http
P=$(closed_port)

signame() {
	if (($1 > 128 && $1 < 160)); then echo "SIG$(kill -l $(($1 - 128)))"; else echo "$1"; fi
}

# config REJECT_ERRNO: $CFG with breakers ok and dead (reload every 100 ms)
config() {
	write_config reload=100ms log_level=debug
	breaker ok "match=127.0.0.1:$OK" response_timeout=5s
	breaker dead "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s reject_errno=$1
}

# ---- without the shim: what the kernel says ----
out=$("$PY" "$NOFILE" "$OK" "$P")
is "$out" "EMFILE s200 ECONNREFUSED ECONNREFUSED ECONNREFUSED ECONNREFUSED s200" \
	"without the shim, out of fds: socket() fails with EMFILE; with one fd free the calls work, the closed port refuses"

# ---- under the shim ----
config EHOSTUNREACH
out=$(under_shim "$PY" "$NOFILE" "$OK" "$P" 2>"$T/err"); st=$?
is "$(signame $st)" 0 "under the shim, out of fds: exit 0" || diag "$(head -c 300 "$T/err")"
is "$out" "EMFILE s200 ECONNREFUSED ECONNREFUSED EHOSTUNREACH EHOSTUNREACH s200" \
	"...socket() EMFILE as without it; the GET answered; refused twice (the kernel), then rejected with reject_errno"
is "$(counts dead)" "2 2 2" "...status: dead has calls 2, failures 2, rejected 2"
is "$(counts ok)" "2 0 0" "...ok has its 2 calls, successes"
is "$(state_of dead)" open "...and dead opened, though its transition line could not be logged then"

# ---- a config edit while out of fds ----
rm -f "$STATE" "$LOG"
config EHOSTUNREACH
cp "$CFG" "$T/new.ini"
sed -i 's/reject_errno = EHOSTUNREACH/reject_errno = ENETUNREACH/' "$T/new.ini"
grep -q ENETUNREACH "$T/new.ini" || bail_out "cannot edit the config"
out=$(under_shim "$PY" "$NOFILE" "$OK" "$P" "$T/new.ini" "$CFG" 0.1 2>"$T/err"); st=$?
is "$(signame $st)" 0 "config edited while the process is out of fds: exit 0" || diag "$(head -c 300 "$T/err")"
w=($out)
is "${w[*]:0:6}" "EMFILE s200 ECONNREFUSED ECONNREFUSED EHOSTUNREACH EHOSTUNREACH" \
	"...while out of fds the edit cannot be read: the old reject_errno stays in force"
# an edit that could not be read (EMFILE) is read at a later check
is "${w[*]:6}" "ENETUNREACH s200" \
	"...once fds are free again, the edit is read: the new reject_errno (ENETUNREACH)" ||
	diag "log: $(grep -E 'event=(reload|config_error)' "$LOG" | tail -n 3)"
is "$(counts dead)" "2 2 3" "...status: dead has calls 2, failures 2, rejected 3"

# ---- threads, each process out of fds but for its sockets ----
rm -f "$STATE" "$LOG"
config EHOSTUNREACH
rc force-open dead >/dev/null
THREADS='
import errno, os, resource, socket, sys, threading
ok, dead, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
high = max(int(f) for f in os.listdir("/proc/self/fd"))
resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(64, high + 17), hard), hard))
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
for _ in range(8):              # 2 per thread: one socket at a time each
    os.close(fds.pop())
out = {}
lock = threading.Lock()
def add(k):
    with lock:
        out[k] = out.get(k, 0) + 1
def work(i):
    for j in range(n):
        port = dead if (i + j) % 2 else ok
        try:
            s = socket.socket()
        except OSError as e:
            add("socket:" + errno.errorcode.get(e.errno, "?")); continue
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            d = s.recv(100)
            add("s" + d[9:12].decode() if d.startswith(b"HTTP/1.") else "NORESPONSE")
        except OSError as e:
            add(errno.errorcode.get(e.errno, "?"))
        finally:
            s.close()
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(" ".join("%s=%d" % kv for kv in sorted(out.items())))
'
out=$(RUN_TIMEOUT=60 under_shim "$PY" -c "$THREADS" "$OK" "$P" 50 2>"$T/err"); st=$?
is "$(signame $st)" 0 "4 threads x 50 calls, out of fds but for their sockets: exit 0" ||
	diag "$(head -c 300 "$T/err")"
is "$out" "EHOSTUNREACH=100 s200=100" "...100 answered, 100 rejected by the forced-open breaker, nothing else"
is "$(counts ok) / $(counts dead)" "100 0 0 / 0 0 100" "...status: exactly 100 calls and 100 rejections"

done_testing
