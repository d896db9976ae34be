#!/bin/bash
# Chaos: a signal every 100 us during the waits the shim bounds.
# tests/clients/chaos_sigstorm.c installs what an ASan build does (SIGSEGV,
# SIGBUS, SIGFPE handlers without SA_RESTART, on an alternate stack; they
# never run) and a SIGALRM handler with SA_RESTART fired by ITIMER_REAL
# every 100 us.  The kernel restarts a blocking call for such a signal, so
# the shim must too: a fault signal's handler cannot have interrupted a
# poll.  Each wait ends as the bound says (huge margins on the times):
#   - a blocking connect to a blackhole under connect_timeout 1 s: ETIMEDOUT
#   - a recv against a server that never answers, response_timeout 1 s:
#     ETIMEDOUT
#   - a recv against a server answering after 1.5 s, response_timeout 5 s:
#     the answer
# never a spurious EINTR, and the counts say so.  Also Python (its handlers
# have no SA_RESTART, so EINTR is right, and Python retries the recv itself,
# PEP 475): the recv still ends at response_timeout.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

STORM=$T/chaos_sigstorm
${CC:-cc} -O1 -pthread -o "$STORM" "$ROOT/tests/clients/chaos_sigstorm.c" 2>"$T/cc.err" ||
	bail_out "cannot build chaos_sigstorm: $(head -c 300 "$T/cc.err")"

start_server BH blackhole
start_server HANG hang
start_server SLOW slow --delay 1.5
write_config
breaker bh "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=100
breaker hang "match=127.0.0.1:$HANG" response_timeout=1s failure_threshold=100
breaker slow "match=127.0.0.1:$SLOW" response_timeout=5s failure_threshold=100

# res OUT: the result word of "RESULT@MS signals=N"; ms OUT; sigs OUT
res() { local w=${1%% *}; echo "${w%@*}"; }
ms() { local w=${1%% *}; echo "${w#*@}"; }
sigs() { kv "$1" signals; }
# tos NAME: "timeouts failures" of breaker NAME
tos() { echo "$(json_field "$1" timeouts) $(json_field "$1" failures)"; }

# ---- without the shim: the kernel restarts the recv through the storm ----
out=$("$STORM" read "$HANG" 1)
is "$(res "$out")" EOF "without the shim: a recv through a 100 us SIGALRM storm (SA_RESTART) is restarted, no EINTR, until the watchdog shuts the socket down at 1 s ($out)"
cmp_ok "$(sigs "$out")" '>=' 100 "...at least 100 signals came meanwhile"

# ---- connect under connect_timeout ----
out=$(RUN_TIMEOUT=20 under_shim "$STORM" connect "$BH")
is "$(res "$out")" ETIMEDOUT "under the shim: a blocking connect to a blackhole through the storm ends with ETIMEDOUT, not EINTR ($out)"
cmp_ok "$(ms "$out")" '>=' 900 "...at connect_timeout (1 s), not before ($(ms "$out") ms)"
cmp_ok "$(ms "$out")" '<' 10000 "...and well within 10 s ($(ms "$out") ms)"
cmp_ok "$(sigs "$out")" '>=' 100 "...at least 100 signals came meanwhile"
is "$(tos bh)" "1 1" "...counted as a timeout (timeouts 1, failures 1)"

# ---- recv under response_timeout ----
out=$(RUN_TIMEOUT=20 under_shim "$STORM" read "$HANG")
is "$(res "$out")" ETIMEDOUT "under the shim: a recv that is never answered, through the storm, ends with ETIMEDOUT, not EINTR ($out)"
cmp_ok "$(ms "$out")" '>=' 900 "...at response_timeout (1 s), not before ($(ms "$out") ms)"
cmp_ok "$(ms "$out")" '<' 10000 "...and well within 10 s ($(ms "$out") ms)"
cmp_ok "$(sigs "$out")" '>=' 100 "...at least 100 signals came meanwhile"
is "$(tos hang)" "1 1" "...counted as a timeout (timeouts 1, failures 1)"

# ---- recv answered within response_timeout ----
out=$(RUN_TIMEOUT=20 under_shim "$STORM" read "$SLOW")
is "$(res "$out")" s200 "under the shim: a recv answered after 1.5 s (response_timeout 5 s), through the storm, gets the answer ($out)"
cmp_ok "$(ms "$out")" '>=' 1400 "...after the server's 1.5 s ($(ms "$out") ms)"
cmp_ok "$(ms "$out")" '<' 10000 "...well within 10 s"
is "$(counts slow)" "1 0 0" "...counted as one successful call"

# ---- Python: handlers without SA_RESTART, EINTR retried by Python ----
PYSTORM='
import signal, socket, sys, time
n = [0]
def h(*a):
    n[0] += 1
signal.signal(signal.SIGALRM, h)
port, do_req = int(sys.argv[1]), sys.argv[2] == "read"
s = socket.socket()
t0 = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
try:
    s.connect(("127.0.0.1", port))
    r = "ok"
    if do_req:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        d = s.recv(100)
        r = "s" + d[9:12].decode() if d else "EOF"
except OSError as e:
    r = type(e).__name__
signal.setitimer(signal.ITIMER_REAL, 0, 0)
print("%s@%d signals=%d" % (r, (time.monotonic() - t0) * 1000, n[0]))
'
out=$(RUN_TIMEOUT=20 under_shim "$PY" -c "$PYSTORM" "$HANG" read)
is "$(res "$out")" TimeoutError "Python, SIGALRM every 100 us (no SA_RESTART: EINTR is right, Python retries): a recv never answered still ends at response_timeout ($out)"
cmp_ok "$(ms "$out")" '<' 10000 "...well within 10 s ($(ms "$out") ms)"
cmp_ok "$(sigs "$out")" '>=' 100 "...at least 100 signals came meanwhile"

# After a (right) EINTR from a blocking connect, Python waits for the
# connect itself, in poll(2): the shim's timer thread ends that wait at
# connect_timeout too.
out=$(RUN_TIMEOUT=6 under_shim "$PY" -c "$PYSTORM" "$BH" connect)
st=$?
is "$st $(res "$out")" "0 TimeoutError" "Python, the same storm: a blocking connect to a blackhole ends within 6 s (connect_timeout 1 s) ($st: $out)"

done_testing
