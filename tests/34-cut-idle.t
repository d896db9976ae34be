#!/bin/bash
# cut_idle: while a breaker is open (or half-open with no probe free), the
# first write of a new request on an idle pooled connection fails with
# ECONNRESET before any byte is sent, counted as rejected; and nothing else
# is cut: a request in flight, a request already started, another breaker's
# connection, a breaker with cut_idle = no.
source "$(dirname "$0")/lib.sh"
need_build

PYHTTP=$ROOT/tests/clients/pyhttp.py
# sess ACTION...: a scripted http.client session under the shim (see pyhttp.py)
sess() { under_shim "$PY" "$PYHTTP" script "$@"; }
RC="$RECLOSER -c $CFG"
# c3 NAME: "calls failures rejected"
c3() { counts "$1"; }

start_server A http
start_server B http
start_server S slow --delay 0.6

# ---- an idle kept-alive connection is cut when the breaker opens ----
write_config
breaker a "match=127.0.0.1:$A" failure_threshold=5 open_duration=60s
out=$(sess "conn:a:$A" get:a "run:$RC force-open a" get:a)
is "$out" "a1=200 a2=ECONNRESET" \
	"http.client: request 1 answered; after force-open, request 2 on the same connection: ConnectionResetError"
is "$(conns A) $(reqs A)" "1 1" "the server saw 1 connection and only request 1: nothing of request 2 was sent"
is "$(c3 a)" "1 0 1" "calls 1 (request 1), failures 0, rejected 1 (the cut)"
is "$(state_of a)" forced_open "a is forced_open"
is "$(log_count 'event=reject .*breaker=a')" 1 "log: the reject is logged" || show_log
# And the pool's reconnect goes into the open breaker: refused, no traffic.
out=$(sess "conn:n:$A")
is "$out" "n1=ECONNREFUSED" "a new connection to a: refused"
is "$(conns A) $(reqs A)" "1 1" "...no connection reached the server"
is "$(c3 a)" "1 0 2" "rejected 2"

# The same when the CLI is started the usual Python way, subprocess.run
# with close_fds=True: Python vforks, and the child calls close_range() (a
# hooked libc function) while it still shares this process's memory; the
# shim must leave this process's fd entries alone then, or the connection
# is no longer tracked: neither cut nor counted.  (The other tests here use
# close_fds=False, to test cut_idle apart from that.)
write_config
breaker av "match=127.0.0.1:$A" failure_threshold=5 open_duration=60s
r0=$(reqs A)
out=$(sess "conn:a:$A" get:a "spawn:$RC force-open av" get:a)
is "$out" "a1=200 a2=ECONNRESET" "CLI run by subprocess.run (vfork + close_range): the idle connection is still cut"
is "$(($(reqs A) - r0)) $(c3 av)" "1 1 0 1" "...the server saw 1 request; calls 1, rejected 1"

# ---- nothing else is cut ----
# A request in flight when the breaker opens (the server answers after
# 0.6 s; force-open 0.2 s after the request was sent) completes normally;
# the next request on that connection is cut.
write_config
breaker s "match=127.0.0.1:$S" failure_threshold=5 open_duration=60s
timed ms sess "conn:s:$S" send:s "run:sleep 0.2; $RC force-open s" recv:s get:s >"$T/out"
out=$(cat "$T/out")
is "$out" "s1=200 s2=ECONNRESET" "a request in flight at force-open is answered (200); the next one is cut"
cmp_ok "$ms" '>=' 550 "...the answer came after the server's 0.6 s ($ms ms in all)"
is "$(reqs S)" 1 "the server received 1 request"
is "$(c3 s)" "1 0 1" "the in-flight call counted as a success; 1 rejected"

# A request whose head is already sent when the breaker opens: its body
# still goes through, and it is answered.
write_config
breaker a2 "match=127.0.0.1:$A" failure_threshold=5 open_duration=60s
r0=$(reqs A)
out=$(sess "conn:a:$A" get:a head:a "run:$RC force-open a2" body:a get:a)
is "$out" "a1=200 a2=200 a3=ECONNRESET" \
	"POST head sent, force-open, then its body: not refused, answered 200; the next request is cut"
is "$(($(reqs A) - r0))" 2 "the server received both complete requests, not the 3rd"
is "$(c3 a2)" "2 0 1" "2 calls, 1 rejected"

# Another breaker's connection in the same process is untouched.
write_config
breaker a3 "match=127.0.0.1:$A" failure_threshold=5 open_duration=60s
breaker b "match=127.0.0.1:$B" failure_threshold=5 open_duration=60s
ra=$(reqs A) rb=$(reqs B)
out=$(sess "conn:a:$A" "conn:b:$B" get:a get:b "run:$RC force-open a3" get:b get:a get:b)
is "$out" "a1=200 b1=200 b2=200 a2=ECONNRESET b3=200" \
	"a3 forced open: a's idle connection is cut, b's goes on (200, 200)"
is "$(($(reqs A) - ra)) $(($(reqs B) - rb))" "1 3" "servers: 1 request on a, 3 on b"
is "$(c3 b)" "3 0 0" "b: 3 calls, nothing rejected"
is "$(c3 a3)" "1 0 1" "a3: 1 call, 1 rejected"
is "$(state_of b)" closed "b is closed"

# cut_idle = no: requests on established connections go through, uncounted
# while the breaker is not closed.
write_config
breaker nc "match=127.0.0.1:$A" failure_threshold=5 open_duration=60s cut_idle=no
r0=$(reqs A)
out=$(sess "conn:a:$A" get:a "run:$RC force-open nc" get:a get:a)
is "$out" "a1=200 a2=200 a3=200" "cut_idle = no: requests after force-open go through"
is "$(($(reqs A) - r0))" 3 "the server answered all 3"
is "$(c3 nc)" "1 0 0" "only the request made while closed is counted; nothing rejected"
out=$(sess "conn:n:$A")
is "$out" "n1=ECONNREFUSED" "...but a new connection is still refused"

# ---- half_open: no probe free means cut; a probe is not ----
# x and y are two idle connections; in half_open (1 probe), x's request takes
# the probe (the server answers after 0.6 s); y's request meanwhile is cut;
# x's probe succeeds; with success_threshold 2, x's next probe closes it.
write_config
breaker h "match=127.0.0.1:$S" failure_threshold=5 open_duration=60s \
	half_open_probes=1 success_threshold=2
r0=$(reqs S)
out=$(sess "conn:x:$S" "conn:y:$S" get:x get:y "run:$RC half-open h" send:x get:y recv:x get:x)
is "$out" "x1=200 y1=200 y2=ECONNRESET x2=200 x3=200" \
	"half-open: y is cut while x holds the only probe; x's probes answered"
is "$(($(reqs S) - r0))" 4 "the server received the 4 requests let through, not y's 2nd"
is "$(state_of h)" closed "2 successful probes: closed"
is "$(log_count 'event=transition .*breaker=h .*from=half_open to=closed')" 1 \
	"log: half_open -> closed" || show_log

done_testing
