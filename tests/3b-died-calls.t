#!/bin/bash
# A call still open when its process dies of a signal it does not catch
# (SIGKILL, a default-action SIGTERM) is judged all the same: the shim
# keeps each armed deadline in the breaker's slot (core/slot.h, RC_PEND),
# and once the deadline has passed, the first process to look (any shim
# process admitting a call to the breaker, or `recloser status`, `metrics`,
# `watch`) judges it a timeout, exactly once, and logs it with
# settled_for=PID reason=process_died.  A process that is alive (even
# stopped) is never judged for: its own timer does it when it runs again.
source "$(dirname "$0")/lib.sh"
need_build

start_server BH blackhole
start_server HANG hang
start_server HTTP http

# tcounts NAME: "calls failures timeouts"
tcounts() { echo "$(json_field "$1" calls) $(json_field "$1" failures) $(json_field "$1" timeouts)"; }

# py_call MODE PORT: a python3 client under the shim that starts one call
# and then waits: nbconnect (a non-blocking connect, pending), request (a
# GET written, no answer read), answered (a GET and its answer read).  It
# prints READY once the call is under way, then sleeps 30 s (the test
# kills it first) or, with a third argument "self", kills itself with
# SIGKILL.
# Run directly (exec env execs python: $! is its pid), so that the signals the
# test sends reach it, not a wrapper.
py_call() {
	exec env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$PY" -c '
import os, signal, socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
if mode == "nbconnect":
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
else:
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    if mode == "answered":
        s.recv(4096)
print("READY", flush=True)
if len(sys.argv) > 3:
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(30)
' "$@"
}

# 1. A pending non-blocking connect; the process kills itself at once
#    (SIGKILL), long before connect_timeout: the record stays in the slot.
write_config
: >"$LOG"
breaker bh "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=1 open_duration=60s
out=$(py_call nbconnect "$BH" self 2>&1)
is "$out" READY "a pending connect, then SIGKILL: the process is gone"
is "$(tcounts bh)" "0 0 0" "before the deadline: not judged (status looks, leaves it)"
sleep 1.3
is "$(tcounts bh)" "1 1 1" "after connect_timeout: \`recloser status\` judges it a timeout, once"
is "$(tcounts bh)" "1 1 1" "...and only once"
is "$(state_of bh)" open "...which opens the breaker (failure_threshold 1)"
like "$(grep 'settled_for=' "$LOG")" \
	'event=call breaker=bh outcome=timeout timeout=connect settled_for=[0-9]+ late_ms=[0-9]+ reason=process_died' \
	"the log's call line names the dead process and the connect timeout"
is "$(grep -c 'event=transition breaker=bh from=closed to=open' "$LOG")" 1 "...and the transition is logged"

# 2. A blocking connect (bounded in the thread by connect_timeout) killed
#    from outside; then another shim process admits a call to the breaker
#    after the deadline: it judges the dead one's call first, which opens
#    the breaker, so its own call is rejected.
write_config
: >"$LOG"
breaker bh2 "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=1 open_duration=60s
env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$PY" -c '
import socket, sys
s = socket.socket()
s.connect(("127.0.0.1", int(sys.argv[1])))' "$BH" >/dev/null 2>&1 &
pid=$!
sleep 0.4
kill -KILL $pid
wait $pid 2>/dev/null
sleep 1
timed ms scurl "http://127.0.0.1:$BH/" >/dev/null
st=$?
is "$st" 7 "a blocking connect killed by SIGKILL; the next process's call is rejected (curl exit 7)"
cmp_ok "$ms" '<' 1000 "...at once ($ms ms): the dead call was judged at its admission"
is "$(tcounts bh2)" "1 1 1" "...one call, one timeout (the dead one's); curl's was no call"
is "$(json_field bh2 rejected)" 1 "...and curl's rejected"
like "$(grep 'settled_for=' "$LOG" | tail -n 1)" "breaker=bh2 outcome=timeout timeout=connect settled_for=$pid " \
	"...logged as the dead process's ($pid)"

# 3. A request written, no answer; the process dies of a SIGTERM it does
#    not catch: judged after response_timeout.
write_config
: >"$LOG"
breaker hang "match=127.0.0.1:$HANG" response_timeout=1s failure_threshold=5 open_duration=60s
py_call request "$HANG" >"$T/3.out" 2>&1 &
pid=$!
wait_until 5000 grep -q READY "$T/3.out"
kill -TERM $pid
wait $pid 2>/dev/null
st=$?
is "$st" 143 "a request waiting for its answer; an uncaught SIGTERM ends the process (143)"
is "$(tcounts hang)" "0 0 0" "...before response_timeout: nothing judged yet"
sleep 1.2
is "$(tcounts hang)" "1 1 1" "after response_timeout: judged a timeout"
like "$(grep 'settled_for=' "$LOG")" "breaker=hang outcome=timeout timeout=response settled_for=$pid " \
	"...logged with timeout=response"

# 4. A call that got its answer, then SIGKILL: no deadline was left, so
#    nothing is judged for the dead process (the call was a success).
write_config log_level=debug
: >"$LOG"
breaker ok "match=127.0.0.1:$HTTP" response_timeout=500ms failure_threshold=5 open_duration=60s
{ (py_call answered "$HTTP" self) >/dev/null 2>&1; } 2>/dev/null
sleep 0.8
is "$(tcounts ok)" "1 0 0" "an answered call, then SIGKILL: one success, no timeout after its deadline"
is "$(grep -c 'settled_for=' "$LOG")" 0 "...and nothing settled"

# 5. A process stopped (SIGSTOP: its timer cannot run) past its deadline
#    is alive: no other process judges for it.  Resumed, it judges its
#    own call: one timeout, not two.
write_config
: >"$LOG"
breaker stop "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=5 open_duration=60s
py_call request "$HANG" >"$T/5.out" 2>&1 &
pid=$!
wait_until 5000 grep -q READY "$T/5.out"
kill -STOP $pid
sleep 1
is "$(tcounts stop)" "0 0 0" "stopped past its deadline: alive, so nobody judges for it"
kill -CONT $pid
wait_until 5000 eval '[ "$(json_field stop timeouts)" = 1 ]'
is "$(tcounts stop)" "1 1 1" "resumed: its own timer judges it, one timeout"
kill -KILL $pid
wait $pid 2>/dev/null
sleep 0.2
is "$(tcounts stop)" "1 1 1" "killed after its own verdict: nothing left to judge (no double count)"
is "$(grep -c 'settled_for=' "$LOG")" 0 "...no settled line"

# 6. More calls die than the slot keeps deadlines for (3): the first 3
#    are judged, the rest are not (and nothing is counted twice).
write_config
: >"$LOG"
breaker many "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=0 failure_rate=0 open_duration=60s
for i in 1 2 3 4 5; do
	{ (py_call nbconnect "$BH" self) >/dev/null 2>&1; } 2>/dev/null
done
sleep 1.3
is "$(tcounts many)" "3 3 3" "5 processes die with a connect pending: 3 (the slot's records) judged"
is "$(tcounts many)" "3 3 3" "...once"

done_testing
