#!/bin/bash
# connect_timeout against a blackhole (a listener whose accept queue is full,
# so SYNs are dropped): a blocking connect is cut at connect_timeout with
# ETIMEDOUT instead of the kernel's minutes; a non-blocking connect (curl's,
# Python's with a timeout) is never blocked, and its outcome is still counted.
source "$(dirname "$0")/lib.sh"
need_build

start_server BH blackhole
write_config
breaker bh "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=2 open_duration=60s

# Blocking connect (Python socket.create_connection without a timeout).
out=$(RUN_TIMEOUT=20 pyc connect 127.0.0.1 "$BH"); st=$?
is "$st" 0 "python ran to the end (not killed by the 20 s guard)"
is "$(kv "$out" ETIMEDOUT)" 1 "blocking connect to the blackhole fails with ETIMEDOUT ($out)"
ms=$(ms_int "$(kv "$out" max_ms)")
cmp_ok "$ms" '>=' 800 "...after about connect_timeout = 1 s, not before ($ms ms)"
cmp_ok "$ms" '<' 5000 "...and not after the kernel's minutes ($ms ms)"
is "$(counts bh)" "1 1 0" "counted: 1 call, 1 failure"
is "$(state_of bh)" closed "1 of 2 failures: closed"

# curl: a libcurl transfer whose own connect timeout is longer than the
# breaker's gets the breaker's connect_timeout (issue 4), and the timed-out
# transfer is a failed call.
timed ms scurl "http://127.0.0.1:$BH/" --connect-timeout 4 >/dev/null; st=$?
is "$st" 28 "curl --connect-timeout 4 to the blackhole: times out (exit 28)"
cmp_ok "$ms" '>=' 800 "...not before the breaker's connect_timeout = 1 s ($ms ms)"
cmp_ok "$ms" '<' 3000 "...cut at the breaker's 1 s, not curl's own 4 s ($ms ms)"
is "$(state_of bh)" open "curl's timed-out connect was the 2nd failure: open"
is "$(counts bh)" "2 2 0" "counted: 2 calls, 2 failures"
is "$(log_count 'event=transition .*breaker=bh .*from=closed to=open reason=consecutive_failures')" 1 \
	"log: transition to open" || show_log

# Open: fail fast instead of waiting.
timed ms pyc connect 127.0.0.1 "$BH" >"$T/out"
out=$(cat "$T/out")
is "$(kv "$out" ECONNREFUSED)" 1 "open: the blocking connect is rejected with ECONNREFUSED"
cmp_ok "$(ms_int "$(kv "$out" max_ms)")" '<' 200 "...in < 200 ms against connect_timeout 1 s ($out)"
out=$(scurl "http://127.0.0.1:$BH/" -w ' %{time_total}'); st=$?
is "$st" 7 "open: curl is rejected (exit 7), no timeout"
like "${out#* }" '^0\.(0|1)[0-9]*$' "...in < 200 ms (time_total ${out#* } s)"

# Python's own longer timeout (non-blocking connect + poll) on a fresh
# breaker: the breaker's connect_timeout ends the wait (the timer thread
# aborts the connect), Python sees ETIMEDOUT, one timeout failure.
start_server BH2 blackhole
write_config
breaker bh2 "match=127.0.0.1:$BH2" connect_timeout=300ms failure_threshold=5 open_duration=60s
out=$(pyc connect 127.0.0.1 "$BH2" --timeout 1)
is "$(kv "$out" ETIMEDOUT)" 1 "python with a 1 s timeout: ETIMEDOUT at the breaker's 300 ms ($out)"
cmp_ok "$(ms_int "$(kv "$out" max_ms)")" '<' 900 "...before python's own 1 s: the shim ended the non-blocking connect"
cmp_ok "$(ms_int "$(kv "$out" max_ms)")" '>=' 250 "...not before connect_timeout"
is "$(counts bh2)" "1 1 0" "...and the timed-out connect counts as one failure"

# A blocking connect that succeeds: bounded, flags restored exactly.
start_server HTTP http
write_config
breaker svc "match=127.0.0.1:$HTTP" connect_timeout=2s
out=$(under_shim "$PY" -c '
import fcntl, os, socket, sys
s = socket.socket()
before = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
s.connect(("127.0.0.1", int(sys.argv[1])))
after = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(before == after, bool(after & os.O_NONBLOCK), s.recv(12).decode())
' "$HTTP")
is "$out" "True False HTTP/1.1 200" "blocking connect to a matched destination: works, O_NONBLOCK not left set"
out=$(under_shim "$PY" -c '
import fcntl, os, socket, sys
s = socket.socket()
fcntl.fcntl(s.fileno(), fcntl.F_SETFL, fcntl.fcntl(s.fileno(), fcntl.F_GETFL) | os.O_NONBLOCK | os.O_APPEND)
before = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
e = s.connect_ex(("127.0.0.1", int(sys.argv[1])))
after = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
print(e in (0, 115), before == after)
' "$HTTP")
is "$out" "True True" "non-blocking connect: EINPROGRESS or 0, flags untouched"
is "$(json_field svc failures)" 0 "no failure counted for the healthy service"

# A raw non-blocking connect (not libcurl) is settled from SO_ERROR or from
# the next I/O on the fd.
P=$(closed_port)
write_config
breaker nb "match=127.0.0.1:$P, 127.0.0.1:$HTTP" failure_threshold=10 connect_timeout=2s
out=$(under_shim "$PY" -c '
import errno, select, socket, sys
closed, live = int(sys.argv[1]), int(sys.argv[2])
res = []
def nb(port):
    s = socket.socket(); s.setblocking(False)
    e = s.connect_ex(("127.0.0.1", port))
    select.select([], [s], [], 5)
    return s, e
s, e = nb(closed)                          # 1: settled by getsockopt(SO_ERROR)
res.append(errno.errorcode.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0")); s.close()
s, e = nb(closed)                          # 2: settled by the next I/O
try:
    s.send(b"x"); res.append("sent")
except OSError as x:
    res.append(errno.errorcode[x.errno])
s.close()
s, e = nb(live)                            # 3: a success, settled by SO_ERROR
res.append(str(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
s.setblocking(True); s.settimeout(5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100); s.close()
print(" ".join(res))' "$P" "$HTTP")
like "$out" '^ECONNREFUSED (ECONNREFUSED|EPIPE) 0$' "raw non-blocking connects: refused, refused, connected ($out)"
is "$(counts nb)" "3 2 0" "counted: 3 calls, 2 failures (from SO_ERROR and from the next I/O)"

done_testing
