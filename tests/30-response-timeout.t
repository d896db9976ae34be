#!/bin/bash
# response_timeout: a blocking read waiting for the first byte of a response
# is cut at response_timeout (counted from the call's start) with ETIMEDOUT,
# not at the app's longer timeout; an app's shorter SO_RCVTIMEO is honoured;
# non-blocking clients are never cut, yet their late answers and abandoned
# calls count as timeouts; response timeouts open the breaker.
source "$(dirname "$0")/lib.sh"
need_build

RAW=$ROOT/tests/clients/rawhttp.py
raw() { under_shim "$PY" "$RAW" "$@"; }
# tcounts NAME: "calls failures timeouts rejected"
tcounts() {
	echo "$(json_field "$1" calls) $(json_field "$1" failures) $(json_field "$1" timeouts) $(json_field "$1" rejected)"
}

start_server HANG hang
start_server OK http

# ---- blocking reads against a server that never answers ----
write_config
breaker hang "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=3 open_duration=60s
breaker ok "match=127.0.0.1:$OK" response_timeout=500ms

# 1. No timeout of the app's own: without the shim it would wait forever.
out=$(RUN_TIMEOUT=10 raw "$HANG"); st=$?
is "$st" 0 "blocking recv without any app timeout: returns (not killed by the 10 s guard)"
ms=$(at "$out" ETIMEDOUT)
cmp_ok "$ms" '>=' 400 "...with ETIMEDOUT after about response_timeout = 500 ms, not before ($out)"
cmp_ok "$ms" '<' 2000 "...and well before any other timeout ($ms ms)"
is "$(tcounts hang)" "1 1 1 0" "counted: 1 call, 1 failure, 1 timeout"

# 2. The app's own SO_RCVTIMEO of 5 s is longer: the shim's 500 ms wins.
out=$(RUN_TIMEOUT=10 raw "$HANG" --rcvtimeo 5)
ms=$(at "$out" ETIMEDOUT)
cmp_ok "$ms" '>=' 400 "SO_RCVTIMEO 5 s: ETIMEDOUT at about 500 ms ($out)"
cmp_ok "$ms" '<' 2000 "...not at the app's 5 s"
is "$(tcounts hang)" "2 2 2 0" "counted: 2 calls, 2 failures, 2 timeouts"
is "$(state_of hang)" closed "2 of 3 failures: still closed"

# 3. The third timeout opens the breaker; the next call is rejected.
out=$(RUN_TIMEOUT=10 raw "$HANG")
like "$out" 'ETIMEDOUT@' "3rd blocking read: ETIMEDOUT ($out)"
is "$(state_of hang)" open "3 consecutive response timeouts: open"
is "$(log_count 'event=transition .*breaker=hang .*from=closed to=open reason=consecutive_failures')" 1 \
	"log: transition closed -> open, reason=consecutive_failures" || show_log
n=$(conns HANG)
out=$(RUN_TIMEOUT=10 raw "$HANG" 2>&1)
like "$out" 'ConnectionRefusedError' "open: the next connect is refused at once"
is "$(conns HANG)" "$n" "...without reaching the server"
is "$(tcounts hang)" "3 3 3 1" "3 calls, 3 failures, 3 timeouts, 1 rejected"

# 4. A healthy server under the same response_timeout: no false timeout.
out=$(raw "$OK")
like "$out" '^s200@' "blocking read of a prompt answer: 200 ($out)"
out=$(raw "$OK" --requests 3)
like "$out" '^s200@' "3 requests on one connection: 200"
is "$(tcounts ok)" "4 0 0 0" "ok: 4 calls, no failure, no timeout"

# ---- every blocking read call is bounded, and sees the status line ----
start_server F503 http --status 503
write_config
breaker via "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=100
breaker v503 "match=127.0.0.1:$F503" failure_threshold=100
n=0
for via in recv_into recvmsg read readv; do
	n=$((n + 1))
	out=$(RUN_TIMEOUT=10 raw "$HANG" --via "$via")
	ms=$(at "$out" ETIMEDOUT)
	ok $(((ms >= 400 && ms < 2000) ? 0 : 1)) "python $via (blocking): ETIMEDOUT at ~500 ms ($out)"
	out=$(raw "$F503" --via "$via")
	like "$out" '^s503@' "python $via: the 503 read ($out)"
	is "$(counts via) $(counts v503)" "$n $n 0 $n $n 0" "...counted: a timeout failure and a 503 failure"
done
# The fortified variants (__recv_chk, __read_chk, __recvfrom_chk), from a C
# client built with _FORTIFY_SOURCE.
FORT=$T/fortified
if ${CC:-cc} -O2 -D_FORTIFY_SOURCE=2 -o "$FORT" "$ROOT/tests/clients/fortified.c" 2>"$T/cc.err" &&
	nm -D "$FORT" | grep -q __recv_chk; then
	for via in recv read recvfrom; do
		n=$((n + 1))
		out=$(RUN_TIMEOUT=10 under_shim "$FORT" "$HANG" "$via")
		ms=$(at "$out" ETIMEDOUT)
		ok $(((ms >= 400 && ms < 2000) ? 0 : 1)) "C __${via}_chk (blocking): ETIMEDOUT at ~500 ms ($out)"
		out=$(under_shim "$FORT" "$F503" "$via")
		like "$out" '^s503@' "C __${via}_chk: the 503 read ($out)"
		is "$(counts via) $(counts v503)" "$n $n 0 $n $n 0" "...counted: a timeout failure and a 503 failure"
	done
else
	skip "no C compiler with _FORTIFY_SOURCE: $(head -c 200 "$T/cc.err")" 9
fi

# ---- the app's shorter SO_RCVTIMEO is honoured ----
write_config
breaker short "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=10
# It gives up at its first EAGAIN (200 ms < 500 ms): the kernel's EAGAIN is
# returned, and a call abandoned before response_timeout is no verdict.
out=$(RUN_TIMEOUT=10 raw "$HANG" --rcvtimeo 0.2)
ms=$(at "$out" EAGAIN)
cmp_ok "$ms" '>=' 150 "SO_RCVTIMEO 200 ms: the kernel's EAGAIN after ~200 ms ($out)"
cmp_ok "$ms" '<' 450 "...not held until response_timeout"
is "$(tcounts short)" "0 0 0 0" "the app gave up before response_timeout: no verdict, nothing counted"
# It retries on EAGAIN: 200 ms, 400 ms, then what is left of the 500 ms is
# less than its SO_RCVTIMEO, so the shim's ETIMEDOUT comes at ~500 ms.
out=$(RUN_TIMEOUT=10 raw "$HANG" --rcvtimeo 0.2 --retry)
like "$out" '^EAGAIN@[0-9]+ (EAGAIN@[0-9]+ )*ETIMEDOUT@[0-9]+ ' \
	"retrying on EAGAIN: EAGAIN (app's timeout), then ETIMEDOUT ($out)"
ms=$(at "$out" ETIMEDOUT)
cmp_ok "$ms" '>=' 400 "...ETIMEDOUT at ~500 ms from the request, not before ($ms ms)"
cmp_ok "$ms" '<' 1000 "...and not after ($ms ms)"
is "$(tcounts short)" "1 1 1 0" "the EAGAINs are not outcomes; the timeout is 1 failure"

# ---- on a keep-alive connection the clock starts at the request ----
start_server KA http
write_config
breaker ka "match=127.0.0.1:$KA" response_timeout=500ms failure_threshold=10
# Request 1 is answered; 0.8 s idle (longer than response_timeout); then the
# server hangs request 2: ETIMEDOUT ~500 ms after request 2 was sent.
out=$(RUN_TIMEOUT=10 raw "$KA" --requests 2 --gap 0.8 --ctl "$T/KA.ctl" --ctl-last hang)
ms=$(at "$out" ETIMEDOUT)
cmp_ok "$ms" '>=' 400 "2nd request on an idle kept-alive connection: ETIMEDOUT ~500 ms after it was sent ($out)"
cmp_ok "$ms" '<' 2000 "...not at once (the clock is the request's, not the connection's)"
is "$(tcounts ka)" "2 1 1 0" "2 calls: the answered one a success, the hung one a timeout"

# The same with an interim "100 Continue" in the same segment as each
# answer: the 1xx must not leave the call open, or the 2nd request's
# blocking read is judged against the 1st request's clock.
start_server KI http --interim 100
write_config
breaker ki "match=127.0.0.1:$KI" response_timeout=500ms failure_threshold=10
out=$(RUN_TIMEOUT=10 raw "$KI" --requests 2 --gap 0.8)
like "$out" '^i100 s200@' "100 + 200 in one segment, 2nd request after 0.8 s idle: answered 200, no ETIMEDOUT ($out)"
is "$(tcounts ki)" "2 0 0 0" "...2 calls, no failure, no timeout"
# ---- non-blocking clients are bounded too (the timer thread) ----
start_server SLOW slow --delay 0.8
write_config
breaker nbh "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=10
breaker nbs "match=127.0.0.1:$SLOW" response_timeout=300ms failure_threshold=10
# Python's own 1 s timeout (non-blocking fd + poll) against the hang server:
# the breaker's 500 ms ends the wait first.
out=$(RUN_TIMEOUT=10 raw "$HANG" --pytimeout 1)
ms=$(at "$out" ETIMEDOUT)
cmp_ok "$ms" '>=' 400 "python waiting with its own 1 s timeout: ETIMEDOUT at the breaker's 500 ms ($out)"
cmp_ok "$ms" '<' 900 "...before python's own timeout"
is "$(tcounts nbh)" "1 1 1 0" "...1 timeout failure"
# The same, giving up before response_timeout: no verdict.
write_config
breaker nbh2 "match=127.0.0.1:$HANG" response_timeout=2s failure_threshold=10
out=$(RUN_TIMEOUT=10 raw "$HANG" --pytimeout 0.3)
like "$out" 'TIMEOUT@' "python's 300 ms timeout, response_timeout 2 s ($out)"
is "$(tcounts nbh2)" "0 0 0 0" "abandoned before response_timeout: not counted"
# A late answer (0.8 s) to a non-blocking client with response_timeout
# 300 ms: the call ends at 300 ms, before the answer.
write_config
breaker nbs "match=127.0.0.1:$SLOW" response_timeout=300ms failure_threshold=10
out=$(RUN_TIMEOUT=10 raw "$SLOW" --pytimeout 3)
ms=$(at "$out" ETIMEDOUT)
cmp_ok "$ms" '<' 700 "non-blocking: ETIMEDOUT at the breaker's 300 ms, before the 0.8 s answer ($out)"
is "$(tcounts nbs)" "1 1 1 0" "...and counted as a timeout failure"

# ---- calls still open at process exit are judged as close would ----
# The fd is detached from its Python socket object, so it is still open
# when the process exits: the shim's exit handler judges the open call.
atexit_py='
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
if sys.argv[3] == "write":
    s.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
time.sleep(float(sys.argv[2]))
s.detach()
'
write_config
breaker ex "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=10
under_shim "$PY" -c "$atexit_py" "$HANG" 0.7 write
is "$(tcounts ex)" "1 1 1 0" "exit 0.7 s after a request, no answer, response_timeout 500 ms: a timeout failure"
under_shim "$PY" -c "$atexit_py" "$HANG" 0.1 write
is "$(tcounts ex)" "1 1 1 0" "exit 0.1 s after a request (before response_timeout): no verdict"
under_shim "$PY" -c "$atexit_py" "$HANG" 0.1 nowrite
is "$(tcounts ex)" "2 1 1 0" "exit 0.1 s after connecting, nothing written: a success"
# A connection that asked nothing is not waiting for an answer: however long
# it sat unused (a pool's spare connection), the connect worked: a success.
# (A blocking read for a speak-first server's greeting is still bounded by
# response_timeout, and counted as a timeout, when the client waits for it.)
under_shim "$PY" -c "$atexit_py" "$HANG" 0.7 nowrite
is "$(tcounts ex)" "3 1 1 0" "exit 0.7 s after connecting, nothing written: unused, not waiting: a success"

# curl (non-blocking, poll) against the hang server: with its own 3 s
# limit the breaker's 500 ms comes first (the shim's timer ends the wait:
# curl's "Recv failure: Connection timed out", exit 56); with its own
# 0.3 s, curl's wins (exit 28).  Either way a timeout failure.
write_config
breaker ch "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=3 open_duration=60s
timed ms scurl "http://127.0.0.1:$HANG/" -m 3 >/dev/null; st=$?
is "$st" 56 "curl -m 3 against the hang server: cut by response_timeout (exit 56, recv failure)"
cmp_ok "$ms" '<' 2500 "...at the breaker's 500 ms, before curl's own 3 s ($ms ms)"
is "$(tcounts ch)" "1 1 1 0" "...counted as 1 timeout failure"
timed ms scurl "http://127.0.0.1:$HANG/" -m 0.3 >/dev/null; st=$?
is "$st" 28 "curl -m 0.3: its own shorter timeout wins (exit 28)"
is "$(tcounts ch)" "2 2 2 0" "...counted as a timeout failure too"
scurl "http://127.0.0.1:$HANG/" -m 3 >/dev/null
is "$(state_of ch)" open "2nd curl timeout: open"
timed ms scurl "http://127.0.0.1:$HANG/" -m 1 >/dev/null; st=$?
is "$st" 7 "open: curl is rejected (exit 7)"
cmp_ok "$ms" '<' 500 "...at once ($ms ms)"

# A read that starts only after response_timeout has already passed (the
# program was busy) times out at once, even with a longer SO_RCVTIMEO of
# the app's own: the wait is measured from the request, not from the read.
write_config
breaker late "match=127.0.0.1:$HANG" response_timeout=300ms failure_threshold=10
out=$(raw "$HANG" --late 0.6 --rcvtimeo 5)
like "$out" '^ETIMEDOUT@[0-9]+ ' "read begun 0.6 s after the request, response_timeout 300 ms, SO_RCVTIMEO 5 s: ETIMEDOUT ($out)"
ms=$(sed -n 's/^ETIMEDOUT@\([0-9]*\).*/\1/p' <<<"$out")
cmp_ok "${ms:-99999}" '<' 1500 "...at once, not after the app's 5 s ($ms ms after the request)"
is "$(json_field late timeouts)" 1 "...counted as a timeout"

done_testing
