#!/bin/bash
# Bulkheads (max_concurrent, max_wait, max_connections): a host-wide cap on
# the calls in flight, and on the connections open, to one breaker's
# destinations, across every process sharing the state file.
#   1. 8 processes x 4 threads against a server that answers after 200 ms,
#      max_concurrent = 5: the server never has more than 5 requests in hand
#      at once; every call is served or refused (ECONNREFUSED, the
#      reject_errno); served + refused = the calls made, and the state
#      file's counts agree exactly; the same with max_wait (some calls wait
#      for a ticket and are served).
#   2. kill -9 of the processes holding every ticket, 100 times: the
#      capacity always comes back (their holders are known dead).
#   3. max_wait: a refused call waited about max_wait (no longer than it
#      plus a margin); a call that gets a ticket while waiting succeeds; a
#      non-blocking connect over the cap is refused at once; a request on an
#      established connection over the cap fails with ECONNRESET, no byte
#      sent.
#   4. A stopped holder (SIGSTOP): its ticket is reclaimed once the call's
#      timeouts have passed, not before.
#   4a. A holder in another pid namespace, killed there: its ticket comes
#       back when it expires.
#   5. max_connections with connections held open; closed, killed.
#   6. wrk with a cap larger than its connections: no refusal, exact counts.
#   7. status, --json and metrics show in-flight, caps and refusals by reason.
#   8. both caps on one breaker; send(MSG_DONTWAIT); the wait within
#      SO_SNDTIMEO (three findings of a review, each failed before its fix).
source "$(dirname "$0")/lib.sh"
need_build

CALL=$T/chaos_call
${CC:-cc} -O1 -o "$CALL" "$ROOT/tests/clients/chaos_call.c" 2>"$T/cc.err" ||
	bail_out "cannot build chaos_call: $(head -c 300 "$T/cc.err")"
# sc MODE PORT: one chaos_call under the shim, bounded
sc() { RUN_TIMEOUT=20 under_shim "$CALL" "$@"; }
# holder OUT PORT: a chaos_call holding a call in flight to PORT (a hang
# server), in the background, its output in OUT; $! is its own pid (env
# execs it), for kill -9 and SIGSTOP.  It ends when the test kills it or
# when the server goes (EOF).
# (OUT is removed first: a waiter must not read the last holder's output)
holder() {
	rm -f "$1"
	env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$CALL" hold "$2" >"$1" &
}

# ---- 1. 8 x 4 against a slow server, max_concurrent = 5 ----
NP=8 NT=4 N=5
# load TAG PORT: NP clients of NT threads x N calls at once; sums in
# made/s200/refused/other
load() {
	local tag=$1 port=$2 i start o w
	start=$(($(now_ms) + 600))
	start_load "$T/$tag" 60 "$port" --threads $NT -n $N --start-at "$start" --max-seconds 50
	wait_load "$T/$tag"
	bad=$LOAD_BAD
	made=0 s200=0 refused=0 other=
	for ((i = 1; i <= NP; i++)); do
		o=$(cat "$T/$tag.out.$i")
		made=$((made + $(kv "$o" calls)))
		s200=$((s200 + $(kv "$o" s200)))
		refused=$((refused + $(kv "$o" ECONNREFUSED)))
		for w in $o; do
			case ${w%%=*} in pid | calls | after | s200 | ECONNREFUSED) ;; *) other="$other $w" ;; esac
		done
	done
}

start_server SLOW slow --delay 0.2 --max-file "$T/SLOW.max"
start_server SLOW2 slow --delay 0.2 --max-file "$T/SLOW2.max"
write_config
breaker cap5 "match=127.0.0.1:$SLOW" max_concurrent=5 response_timeout=5s failure_threshold=100000
breaker wait5 "match=127.0.0.1:$SLOW2" max_concurrent=5 max_wait=350ms response_timeout=5s \
	failure_threshold=100000

load a "$SLOW"
is "$bad" 0 "$NP processes x $NT threads: every client exited 0"
is "$made" $((NP * NT * N)) "the clients made $((NP * NT * N)) calls"
is "$other" "" "...each served (200) or refused (ECONNREFUSED); nothing else"
is "$((s200 + refused))" "$made" "served ($s200) + refused ($refused) = the $made calls made"
max=$(cat "$T/SLOW.max")
cmp_ok "$max" '<=' 5 "the server never had more than 5 requests in hand at once (most: $max)"
cmp_ok "$max" '>=' 2 "...and did have several at once (the cap, not a queue of one)"
cmp_ok "$refused" '>' 0 "some calls were refused (32 threads for 5 tickets, max_wait 0)"
is "$(reqs SLOW)" "$s200" "the server answered exactly the $s200 calls served"
is "$(json_field cap5 calls) $(json_field cap5 successes) $(json_field cap5 failures)" "$s200 $s200 0" \
	"status: calls = successes = $s200, no failures"
is "$(json_field cap5 rejected) $(json_field cap5 rejected_bulkhead) $(json_field cap5 rejected_open)" \
	"$refused $refused 0" "status: rejected = rejected_bulkhead = $refused, none by the breaker"
is "$(json_field cap5 in_flight)" 0 "no ticket left held"
lines=$(grep 'event=reject' "$LOG" | grep ' breaker=cap5 ' | grep -c 'reason=bulkhead')
logged=$(grep 'event=reject' "$LOG" | grep ' breaker=cap5 ' | grep -o ' count=[0-9]*' |
	awk -F= '{s += $2} END {print s + 0}')
is "$logged" "$refused" "log: the reject lines (reason=bulkhead, $lines of them) carry the $refused refusals"

load b "$SLOW2"
is "$bad $made $other" "0 $((NP * NT * N)) " "max_wait 350ms: the $made calls made, each served or refused"
max=$(cat "$T/SLOW2.max")
cmp_ok "$max" '<=' 5 "max_wait: the server never had more than 5 in hand (most: $max)"
is "$((s200 + refused))" "$made" "max_wait: served ($s200) + refused ($refused) = $made"
cmp_ok "$s200" '>' "$(json_field cap5 calls)" \
	"max_wait: more served than without waiting ($s200 > $(json_field cap5 calls))"
is "$(json_field wait5 calls) $(json_field wait5 rejected_bulkhead) $(reqs SLOW2)" "$s200 $refused $s200" \
	"max_wait: the state file and the server agree exactly"

# ---- 2. kill -9 of the holders, 100 times ----
start_server HANG hang
write_config
breaker hold "match=127.0.0.1:$HANG" max_concurrent=2 response_timeout=60s connect_timeout=5s
held_ok=0 refused_ok=0
for ((k = 1; k <= 100; k++)); do
	holder "$T/h1" "$HANG"; p1=$!
	holder "$T/h2" "$HANG"; p2=$!
	wait_until 5000 grep -qs . "$T/h1" && wait_until 5000 grep -qs . "$T/h2"
	[ "$(cat "$T/h1")$(cat "$T/h2")" = holdingholding ] && held_ok=$((held_ok + 1)) ||
		diag "round $k: $(cat "$T/h1") $(cat "$T/h2")"
	if ((k % 10 == 1)); then
		[ "$(sc connect "$HANG")" = ECONNREFUSED ] && refused_ok=$((refused_ok + 1))
	fi
	kill -9 "$p1" "$p2" 2>/dev/null # in mid-call, tickets held
	wait "$p1" "$p2" 2>/dev/null
done
is "$held_ok" 100 "100 rounds: both tickets taken every time, though the last round's holders were killed"
is "$refused_ok" 10 "...and a third call was refused while they held them (10 rounds checked)"
is "$(json_field hold in_flight)" 0 "status: no ticket held after the last kill"

# ---- 3. max_wait ----
start_server S1 slow --delay 0.4
start_server S3 slow --delay 0.4
write_config
breaker h "match=127.0.0.1:$HANG" max_concurrent=1 max_wait=300ms response_timeout=60s
breaker w "match=127.0.0.1:$S1" max_concurrent=1 max_wait=2s response_timeout=5s
breaker k "match=127.0.0.1:$S3" max_concurrent=1 response_timeout=5s
holder "$T/h1" "$HANG"; p1=$!
wait_until 5000 grep -qs holding "$T/h1"
timed ms sc connect "$HANG" >"$T/c.out"
is "$(cat "$T/c.out")" ECONNREFUSED "over the cap, max_wait 300ms: refused with reject_errno"
cmp_ok "$ms" '>=' 280 "...after waiting for a ticket (${ms} ms)"
cmp_ok "$ms" '<' 1300 "...no longer than max_wait plus a margin (${ms} ms)"
out=$(RUN_TIMEOUT=20 under_shim "$PY" -c '
import socket, errno, time, sys
s = socket.socket(); s.setblocking(False)
t = time.monotonic(); e = s.connect_ex(("127.0.0.1", int(sys.argv[1])))
print(errno.errorcode.get(e, e), int((time.monotonic() - t) * 1000))' "$HANG")
is "${out% *}" ECONNREFUSED "a non-blocking connect over the cap: refused"
cmp_ok "${out#* }" '<' 100 "...at once (${out#* } ms)"
kill -9 "$p1" 2>/dev/null; wait "$p1" 2>/dev/null
is "$(json_field h rejected_bulkhead)" 2 "both refusals counted, reason bulkhead"
# a caller waiting for the ticket of a process that is then killed
write_config
breaker h "match=127.0.0.1:$HANG" max_concurrent=1 max_wait=5s response_timeout=60s
breaker w "match=127.0.0.1:$S1" max_concurrent=1 max_wait=2s response_timeout=5s
breaker k "match=127.0.0.1:$S3" max_concurrent=1 response_timeout=5s
holder "$T/h1" "$HANG"; p1=$!
wait_until 5000 grep -qs holding "$T/h1"
t0=$(now_ms)
sc connect "$HANG" >"$T/c.out" & cp=$!
sleep 0.3
kill -9 "$p1"; wait "$p1" 2>/dev/null
wait "$cp"
ms=$(elapsed_ms "$t0")
is "$(cat "$T/c.out")" ok "a caller waiting (max_wait 5s) gets the ticket of a holder killed meanwhile"
cmp_ok "$ms" '<' 1500 "...soon after the kill, not at the ticket's expiry (61 s) nor at max_wait (${ms} ms)"
cmp_ok "$ms" '>=' 250 "...and not before it (${ms} ms)"

# pyreq PORT: a connection made while a ticket is free; its first request
# served; then another process takes the only ticket (a request to the
# slow server, 0.4 s) and, 0.15 s later, this connection's second request:
# prints "ANSWER2 MS OTHER" (the second answer's status or the exception,
# how long it took, what the other process got)
pyreq() {
	RUN_TIMEOUT=20 under_shim "$PY" -c '
import socket, sys, time, subprocess
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); s.recv(4096)
h = subprocess.Popen([sys.argv[2], "get", str(port)], stdout=subprocess.PIPE)
time.sleep(0.15)
t = time.monotonic()
try:
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); r = s.recv(4096)[9:12].decode()
except OSError as e:
    r = type(e).__name__
print(r, int((time.monotonic() - t) * 1000), h.communicate()[0].decode().strip())' "$1" "$CALL"
}
set -- $(pyreq "$S1")
is "$1 $3" "200 s200" "max_wait 2s: a request waits while another process holds the only ticket, then is served; so is the other"
cmp_ok "$2" '>=' 150 "...after waiting for the ticket ($2 ms)"
is "$(json_field w rejected) $(json_field w calls)" "0 3" "...nothing refused: 3 calls"
set -- $(pyreq "$S3")
is "$1 $3" "ConnectionResetError s200" \
	"max_wait 0: a request on an established connection over the cap fails with ECONNRESET"
is "$(reqs S3)" 2 "...before any byte of it was sent (the server saw 2 requests: the first, and the other's)"
is "$(json_field k rejected_bulkhead) $(json_field k calls)" "1 2" "...counted as a bulkhead refusal"

# back_after_expiry T0 WHAT: a connect to HANG gets through once the held
# ticket expires: the call's timeouts (2.5 s) after T0, not before
back_after_expiry() {
	local t0=$1 got ms
	wait_until 6000 sh -c "[ \"\$(RUN_TIMEOUT=5 env LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $CALL connect $HANG)\" = ok ]"
	got=$?
	ms=$(elapsed_ms "$t0")
	is "$got" 0 "$2"
	cmp_ok "$ms" '>=' 1800 "...once the call's timeouts have passed (2.5 s; after ${ms} ms)"
	cmp_ok "$ms" '<' 4500 "...not much later (${ms} ms)"
}

# ---- 4. a stopped holder ----
write_config
breaker st "match=127.0.0.1:$HANG" max_concurrent=1 connect_timeout=500ms response_timeout=1s
# ticket lifetime: connect_timeout + response_timeout + 1 s = 2.5 s
holder "$T/h1" "$HANG"; hp=$!
wait_until 5000 grep -qs holding "$T/h1"
kill -STOP "$hp" 2>/dev/null
t0=$(now_ms)
is "$(sc connect "$HANG")" ECONNREFUSED "a stopped process holds the ticket: refused"
back_after_expiry "$t0" "...its ticket is reclaimed, a connect gets through"
kill -9 "$hp" 2>/dev/null; kill -CONT "$hp" 2>/dev/null; wait "$hp" 2>/dev/null

# ---- 4a. a holder in another pid namespace ----
# Its pid means nothing here (kill(2) cannot tell it dead): its ticket goes
# when it expires, after the call's timeouts, whether the holder still
# runs or was killed.  (Needs unshare --pid: root, as in CI.)
if unshare --pid --fork --mount-proc true 2>/dev/null; then
	write_config
	breaker ns "match=127.0.0.1:$HANG" max_concurrent=1 connect_timeout=500ms response_timeout=1s
	rm -f "$T/ns.hold"
	unshare --pid --fork --mount-proc --kill-child env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" \
		"$CALL" hold "$HANG" >"$T/ns.hold" &
	np=$!
	wait_until 5000 grep -qs holding "$T/ns.hold"
	t0=$(now_ms)
	is "$(sc connect "$HANG")" ECONNREFUSED "a holder in another pid namespace: its ticket refuses the next call"
	kill -9 "$np" 2>/dev/null; wait "$np" 2>/dev/null # --kill-child: the holder goes with it
	back_after_expiry "$t0" "...killed there, its ticket comes back"
else
	skip "unshare --pid not allowed here: no other pid namespace" 4
fi

# ---- 4b. half-open: the probe limit stays, the bulkhead applies on top ----
start_server S4 slow --delay 0.5
write_config
breaker pr "match=127.0.0.1:$S4" half_open_probes=2 success_threshold=5 max_concurrent=1 \
	open_duration=60s response_timeout=5s
# two calls at once to a half-open breaker; "A B" sorted
two() {
	local a b
	rc half-open "$1" >/dev/null
	sc get "$S4" >"$T/two.1" & a=$!
	sc get "$S4" >"$T/two.2" & b=$!
	wait "$a" "$b"
	sort "$T/two.1" "$T/two.2" | tr '\n' ' '
}
is "$(two pr)" "ECONNREFUSED s200 " "half-open, 2 probes free, max_concurrent 1: one call is served, the other refused"
is "$(json_field pr rejected_bulkhead) $(json_field pr rejected_open) $(json_field pr probes_held)" "1 0 0" \
	"...by the bulkhead; the refused call's probe is given back"
write_config
breaker pq "match=127.0.0.1:$S4" half_open_probes=1 success_threshold=5 max_concurrent=2 \
	open_duration=60s response_timeout=5s
is "$(two pq)" "ECONNREFUSED s200 " "half-open, 1 probe, max_concurrent 2: one call is served, the other refused"
is "$(json_field pq rejected_open) $(json_field pq rejected_bulkhead) $(json_field pq in_flight)" "1 0 0" \
	"...by the breaker (its probe limit), not the bulkhead; no ticket left held"

# ---- 5. max_connections ----
start_server KA http
write_config
breaker cn "match=127.0.0.1:$KA" max_connections=3 response_timeout=5s
RUN_TIMEOUT=30 under_shim "$PY" -c '
import socket, sys, os, time
port, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def get(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); return s.recv(4096)[9:12].decode()
def conn():
    try:
        return socket.create_connection(("127.0.0.1", port))
    except OSError as e:
        return type(e).__name__
cs = [conn() for _ in range(3)]
print("three", " ".join(get(c) for c in cs))
x = conn(); print("fourth", x if isinstance(x, str) else "connected")
open(ready, "w").close()
while not os.path.exists(go): time.sleep(0.02)
cs[0].close()
x = conn(); print("after_close", x if isinstance(x, str) else get(x))
sys.stdout.flush(); os.kill(os.getpid(), 9)' "$KA" "$T/ready" "$T/go" >"$T/cn.out" 2>"$T/cn.err" &
cnp=$!
wait_until 10000 test -e "$T/ready"
is "$(json_field cn open_connections) $(json_field cn max_connections)" "3 3" "status: 3 connections open of 3"
touch "$T/go"
wait "$cnp" 2>/dev/null
is "$(tr '\n' ' ' <"$T/cn.out")" "three 200 200 200 fourth ConnectionRefusedError after_close 200 " \
	"three connections held open: a fourth refused; one closed, another gets through"
is "$(json_field cn open_connections)" 0 "killed with its connections open: none counted open any more"
is "$(json_field cn rejected_bulkhead) $(json_field cn rejected)" "1 1" "the refused connect counted, reason bulkhead"
# a connection closed with a call in flight gives its record back too
write_config
breaker cm "match=127.0.0.1:$HANG" max_connections=1 response_timeout=60s
out=$(RUN_TIMEOUT=30 under_shim "$PY" -c '
import socket, sys
port = int(sys.argv[1])
def conn():
    try:
        return socket.create_connection(("127.0.0.1", port))
    except OSError as e:
        return type(e).__name__
a = conn(); a.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")   # in flight, never answered
b = conn(); print("second", b if isinstance(b, str) else "connected")
a.close()
c = conn(); print("after_close", c if isinstance(c, str) else "connected")' "$HANG" | tr '\n' ' ')
is "$out" "second ConnectionRefusedError after_close connected " \
	"max_connections 1: a second connection is refused; the first closed mid-call, a third gets through"
write_config
breaker cn "match=127.0.0.1:$KA" max_connections=3 response_timeout=5s
m=$(rc metrics)
like "$m" 'recloser_open_connections\{breaker="cn"\} 0' "metrics: recloser_open_connections"
like "$m" 'recloser_open_connections_max\{breaker="cn"\} 3' "metrics: recloser_open_connections_max"

# ---- 6. wrk with a cap larger than its connections ----
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if ! command -v wrk >/dev/null || [ ! -x "$NGINX" ]; then
	skip "wrk or nginx missing (scripts/deps.sh)" 5
else
	NG=$T/ngx
	mkdir -p "$NG/tmp"
	NGX_PORT=$(closed_port)
	user_line=""
	[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
	cat >"$NG/nginx.conf" <<EOF
$user_line
daemon off;
master_process off;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 256; }
http {
	access_log $NG/access.log;
	client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi; uwsgi_temp_path $NG/tmp/uwsgi; scgi_temp_path $NG/tmp/scgi;
	keepalive_requests 1000000;
	server { listen 127.0.0.1:$NGX_PORT; default_type text/plain; location / { return 200 "ok\n"; } }
}
EOF
	"$NGINX" -p "$NG/" -c "$NG/nginx.conf" -e "$NG/error.log" >"$NG/out" 2>&1 &
	ngx=$!
	_cleanup_hooks+=("kill $ngx 2>/dev/null")
	wait_until 5000 sh -c "curl -s -o /dev/null http://127.0.0.1:$NGX_PORT/"
	write_config
	breaker ng "match=127.0.0.1:$NGX_PORT" max_concurrent=16 max_connections=16
	RUN_TIMEOUT=30 under_shim wrk -t2 -c8 -d2s "http://127.0.0.1:$NGX_PORT/" >"$T/wrk.out" 2>&1
	wreq=$(awk '/ requests in / {print $1}' "$T/wrk.out")
	note "wrk: $(grep -E 'requests in|Requests/sec|errors' "$T/wrk.out" | tr '\n' ' ')"
	is "$(grep -cE 'Non-2xx|Socket errors' "$T/wrk.out")" 0 "wrk -c8, caps 16: no errors"
	is "$(json_field ng rejected)" 0 "...no refusal"
	calls=$(json_field ng calls)
	lines=$(wc -l <"$NG/access.log")
	cmp_ok "$wreq" '>' 1000 "wrk made many requests ($wreq)"
	# wrk stops with a request in flight on each of its 8 connections: nginx
	# may have answered it (logged) and the shim seen its first byte
	# (judged) while wrk counts none of them; nothing else may differ
	d1=$((lines - calls)) d2=$((calls - wreq))
	ok "$((d1 >= 0 && d1 <= 8 && d2 >= 0 && d2 <= 8 ? 0 : 1))" \
		"calls ($calls) = the $lines requests nginx answered and the $wreq wrk counted, but for the 8 in flight when wrk stopped"
	is "$(json_field ng in_flight) $(json_field ng open_connections)" "0 0" "...no ticket or connection left held"
	kill "$ngx" 2>/dev/null
fi

# ---- 6b. more capped breakers than the state file has tables ----
# (a state file of its own: the sections above bound tables of their own;
# ports below the kernel's ephemeral range, where no server of this test or
# any other lands)
STATE0=$STATE STATE=$T/state-tables
write_config
for ((i = 1; i <= 129; i++)); do
	breaker "b$i" "match=127.0.0.1:$((21000 + i))" max_concurrent=1 connect_timeout=1s \
		reject_errno=EHOSTUNREACH
done
out=$(RUN_TIMEOUT=60 under_shim "$PY" -c '
import socket, collections
c = collections.Counter()
for i in range(1, 130):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 21000 + i)); c["connected"] += 1
    except OSError as e:
        c[type(e).__name__] += 1
    s.close()
print(sorted(c.items()))')
is "$out" "[('ConnectionRefusedError', 129)]" \
	"129 capped breakers, one connect each to a closed port: each refused by the kernel, none by a bulkhead ($out)"
is "$(log_count 'event=state_error .*breaker=b129 .*every bulkhead table')" 1 \
	"the 129th capped breaker: one state_error line, its cap not enforced (128 tables)"
is "$(log_count 'event=state_error .*every bulkhead table')" 1 "...and only it"
STATE=$STATE0

# ---- 8. both caps on one breaker; MSG_DONTWAIT; the wait within SO_SNDTIMEO ----
# A connect refused by max_connections gives back the call ticket it took
# (review finding: it stayed held until the ticket expired).
write_config
breaker both "match=127.0.0.1:$KA" max_concurrent=3 max_connections=1 response_timeout=5s
out=$(RUN_TIMEOUT=20 under_shim "$PY" -c '
import socket, sys
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port))
a.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
r = [a.recv(100)[9:12].decode()]
for i in range(3):
    try:
        socket.create_connection(("127.0.0.1", port)); r.append("connected")
    except OSError as e:
        r.append(type(e).__name__)
try:
    a.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); r.append(a.recv(100)[9:12].decode())
except OSError as e:
    r.append(type(e).__name__)
print(" ".join(r))' "$KA" 2>&1)
is "$out" "200 ConnectionRefusedError ConnectionRefusedError ConnectionRefusedError 200" \
	"both caps: 3 connects over max_connections refused, and the held connection's next request is served (no call ticket left behind)"
is "$(json_field both in_flight) $(json_field both rejected_bulkhead)" "0 3" "...in_flight 0, 3 refused by the bulkhead"

# send(MSG_DONTWAIT) on a blocking socket cannot block: refused at once,
# not after max_wait (review finding: it waited max_wait)
write_config
breaker dw "match=127.0.0.1:$KA" max_concurrent=1 max_wait=2s response_timeout=60s
breaker dh "match=127.0.0.1:$HANG" max_concurrent=1 max_wait=2s response_timeout=60s
out=$(RUN_TIMEOUT=30 under_shim "$PY" -c '
import socket, sys, time
ka, hang = int(sys.argv[1]), int(sys.argv[2])
a = socket.create_connection(("127.0.0.1", ka))
a.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); a.recv(100)
# this process holds dw'"'"'s one ticket with a request its server answers
# after it is read: a second connection, its request in flight
h = socket.create_connection(("127.0.0.1", ka))
h.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
t = time.monotonic()
try:
    a.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", socket.MSG_DONTWAIT); r = "sent"
except OSError as e:
    r = type(e).__name__
print(r, int((time.monotonic() - t) * 1000))' "$KA" "$HANG" 2>&1)
ms=${out##* }
is "${out% *}" ConnectionResetError "send(MSG_DONTWAIT) over max_concurrent on a blocking socket: refused (ECONNRESET)"
cmp_ok "${ms:-99999}" '<' 1000 "...at once (${ms} ms; max_wait is 2 s)"

# A blocking connect under SO_SNDTIMEO = 2 s: the wait for a ticket and
# the connect share the 2 s (review finding: the connect got 2 s more after
# the wait).  The holder is killed 1 s into the wait; the connect then goes
# to a blackhole: it ends at the program's 2 s, not 3.
start_server BH blackhole
write_config
breaker sn "match=127.0.0.1:$HANG, 127.0.0.1:$BH" max_concurrent=1 max_wait=5s connect_timeout=10s \
	response_timeout=60s
holder "$T/sn.hold" "$HANG"
hp=$!
wait_until 5000 grep -qs holding "$T/sn.hold"
(sleep 1; kill -9 $hp) &
killer=$!
out=$(RUN_TIMEOUT=30 under_shim "$PY" -c '
import socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 2, 0))
t = time.monotonic()
try:
    s.connect(("127.0.0.1", int(sys.argv[1]))); r = "connected"
except OSError as e:
    r = type(e).__name__
print(r, int((time.monotonic() - t) * 1000))' "$BH" 2>&1)
wait $killer 2>/dev/null; wait $hp 2>/dev/null
ms=${out##* }
note "SO_SNDTIMEO 2 s, a ticket after about 1 s, then a blackhole: $out"
cmp_ok "${ms:-99999}" '>=' 1500 "the connect waited for its ticket and then for the blackhole (${ms} ms)"
cmp_ok "${ms:-99999}" '<' 2600 "...within the program's 2 s in all, not 2 s more after the wait"

# ---- 7. the CLI ----
start_server SLOW3 slow --delay 3
write_config
breaker cap5 "match=127.0.0.1:$SLOW3" max_concurrent=5 response_timeout=5s failure_threshold=100000
breaker plain "match=127.0.0.1:$KA"
for i in 1 2 3; do sc get "$SLOW3" >/dev/null & done
wait_until 5000 sh -c "[ \"\$($RECLOSER -c $CFG status --json | grep -o '\"in_flight\": 3')\" ]"
row=$(rc status | awk '$1 == "cap5"')
like "$row" ' 3/5$' "status: cap5's row ends with IN-FLIGHT 3/5 while 3 calls are in flight ($row)"
like "$(rc status | awk '$1 == "plain"')" ' -$' "...and a breaker without a cap shows -"
like "$(rc status | head -n 1)" 'IN-FLIGHT$' "...under an IN-FLIGHT header"
like "$row" " $(json_field cap5 rejected) +$(json_field cap5 rejected_bulkhead) " \
	"status: REJECTED, then BULKHEAD: of them, those the bulkhead refused ($row)"
like "$(rc status | head -n 1)" ' REJECTED +BULKHEAD ' "...under a BULKHEAD header"
is "$(json_field cap5 in_flight) $(json_field cap5 max_concurrent)" "3 5" "--json: in_flight 3, max_concurrent 5"
m=$(rc metrics)
like "$m" 'recloser_in_flight\{breaker="cap5"\} 3' "metrics: recloser_in_flight 3"
like "$m" 'recloser_in_flight_max\{breaker="cap5"\} 5' "metrics: recloser_in_flight_max 5"
unlike "$m" 'recloser_in_flight\{breaker="plain"\}' "metrics: no in_flight for a breaker without a cap"
like "$m" "recloser_rejected_reason_total\\{breaker=\"cap5\",reason=\"bulkhead\"\\} $(json_field cap5 rejected_bulkhead)" \
	"metrics: refusals by reason, bulkhead"
like "$m" 'recloser_rejected_reason_total\{breaker="cap5",reason="open"\} 0' "metrics: ...and open"
wait_clients
is "$(json_field cap5 in_flight)" 0 "the calls ended: in_flight 0"

done_testing
