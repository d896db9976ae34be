#!/bin/bash
# Threads, fork and exec: 8 threads connecting at once give exact counts; a
# forked child shares the breakers; an exec'd program is protected again
# through the inherited environment.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
write_config connect_timeout=5s
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=3 open_duration=60s

# ---- 8 threads x M calls, each a connect + one request ----
M=40
out=$(RUN_TIMEOUT=60 pyc connect 127.0.0.1 "$HTTP" --threads 8 -n $M --request)
is "$(kv "$out" s200)" $((8 * M)) "8 threads x $M: every request answered 200 ($out)"
is "$(counts svc)" "$((8 * M)) 0 0" "status: calls exactly $((8 * M)), no failure, no rejection"
is "$(conns HTTP)" $((8 * M)) "the server accepted exactly $((8 * M)) connections"

# ---- 4 processes x 4 threads at once ----
rc close svc >/dev/null
c0=$(conns HTTP)
start=$(($(now_ms) + 500))
for i in 1 2 3 4; do
	RUN_TIMEOUT=60 pyc connect 127.0.0.1 "$HTTP" --threads 4 -n 25 --request --start-at "$start" >"$T/mp$i" &
done
wait_clients
tot=0
for i in 1 2 3 4; do tot=$((tot + $(kv "$(cat "$T/mp$i")" s200))); done
is "$tot" 400 "4 processes x 4 threads x 25: all answered 200"
is "$(counts svc)" "400 0 0" "status: calls exactly 400 across processes"
is "$(($(conns HTTP) - c0))" 400 "server: 400 connections"

# ---- fork: a child shares the breaker and counts ----
P=$(closed_port)
write_config connect_timeout=5s
breaker dead "match=127.0.0.1:$P" failure_threshold=3 open_duration=60s
breaker svc "match=127.0.0.1:$HTTP"
rm -f "$STATE"             # fresh counts (nothing is running)
out=$(under_shim "$PY" -c '
import os, socket, sys
port, ok = int(sys.argv[1]), int(sys.argv[2])
def attempt(p):
    try:
        s = socket.create_connection(("127.0.0.1", p))
    except OSError as e:
        return e.__class__.__name__
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")   # a whole call: request and response
    r = s.recv(100)
    s.close()
    return "ok" if r.startswith(b"HTTP/1.1 200") else "bad"
r = [attempt(port)]                        # parent: 1 failure
pid = os.fork()
if pid == 0:
    res = [attempt(port), attempt(port), attempt(ok)]   # child: 2 failures, 1 success
    os.write(1, (" ".join(res) + "\n").encode())
    os._exit(0)
os.waitpid(pid, 0)
r.append(attempt(port))                     # parent again
print("parent:", " ".join(r))
' "$P" "$HTTP")
like "$out" 'ConnectionRefusedError ConnectionRefusedError ok' "fork: the child connects (its calls go through)"
is "$(counts svc)" "1 0 0" "fork: the child's successful call is counted"
is "$(counts dead)" "3 3 1" "fork: parent 1 + child 2 failures = 3 -> open; the parent's next call rejected"
is "$(state_of dead)" open "fork: open"
like "$out" 'parent: ConnectionRefusedError ConnectionRefusedError' "fork: the parent sees ECONNREFUSED for both"

# ---- exec: a program started by a shell, and by os.execv ----
P=$(closed_port)
write_config connect_timeout=5s
breaker ex "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
under_shim /bin/sh -c "for i in 1 2; do $CURL -s -o /dev/null http://127.0.0.1:$P/; done; $CURL -s -o /dev/null http://127.0.0.1:$P/"
is "$(counts ex)" "2 2 1" "sh -c 'curl x3': curls exec'd by the shell are protected (2 failures, then rejected)"
under_shim "$PY" -c '
import os, sys
os.execv(sys.argv[1], ["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%s/" % sys.argv[2]])' "$CURL" "$P"
is "$?" 7 "python os.execv -> curl: exit 7"
is "$(json_field ex rejected)" 2 "...rejected by the inherited shim"
# An exec'd child with an emptied environment is not protected (and works).
under_shim "$PY" -c '
import os, sys
os.execve(sys.argv[1], ["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%s/" % sys.argv[2]], {})' "$CURL" "$P"
is "$?" 7 "exec with an empty environment: curl runs unprotected (refused by the kernel)"
is "$(json_field ex rejected)" 2 "...not through the breaker"

# ---- breakers are found by name: configs in a different order agree ----
P=$(closed_port)
write_config connect_timeout=5s
breaker alpha "match=127.0.0.1:$HTTP"
breaker beta "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
cp "$CFG" "$T/one.ini"
write_config connect_timeout=5s
breaker beta "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
breaker gamma "match=127.0.0.1:1"
breaker alpha "match=127.0.0.1:$HTTP"
cp "$CFG" "$T/two.ini"
rm -f "$STATE"
for i in 1 2; do
	RECLOSER_CONFIG=$T/one.ini timeout 20 env LD_PRELOAD="$SHIM" "$CURL" -s -o /dev/null "http://127.0.0.1:$P/"
done
out=$(RECLOSER_CONFIG=$T/two.ini timeout 20 env LD_PRELOAD="$SHIM" "$PY" "$PYCLIENT" connect 127.0.0.1 "$P")
is "$(kv "$out" ECONNREFUSED)" 1 "beta opened under one config ..."
is "$("$RECLOSER" -c "$T/two.ini" status --json | "$PY" -c '
import json, sys
print(" ".join("%s:%s:%s" % (b["name"], b["state"], b["rejected"]) for b in json.load(sys.stdin)))')" \
	"beta:open:1 gamma:closed:0 alpha:closed:0" "...is open, with the rejection, under another config listing breakers in another order"

done_testing
