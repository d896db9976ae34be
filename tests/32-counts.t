#!/bin/bash
# Counts are exact: one call per request on keep-alive connections (python
# http.client, node fetch, python asyncio, a hand-polled non-blocking socket)
# and under wrk's load; EAGAIN is never an outcome (non-blocking clients
# against a healthy server: no failure at all).
source "$(dirname "$0")/lib.sh"
need_build

PYHTTP=$ROOT/tests/clients/pyhttp.py
FETCH=$ROOT/tests/clients/fetch.mjs
NODE=/usr/bin/node
WRK=/usr/bin/wrk
pyh() { under_shim "$PY" "$PYHTTP" "$@"; }
c3() { counts "$1"; }

start_server H http
write_config
breaker ka "match=127.0.0.1:$H" failure_threshold=3 response_timeout=5s

# delta VAR: what conns/reqs of server H grew by since the last mark
mark() { C0=$(conns H); R0=$(reqs H); }
dconns() { echo $(($(conns H) - C0)); }
dreqs() { echo $(($(reqs H) - R0)); }

# ---- python http.client: 25 requests on one keep-alive connection ----
mark
out=$(pyh keepalive "$H" -n 25)
is "$out" "s200=25" "http.client: 25 answers ($out)"
is "$(dconns) $(dreqs)" "1 25" "...over 1 connection, 25 requests at the server"
is "$(c3 ka)" "25 0 0" "25 calls, no failure"

# The same connection while the program runs a subprocess in between
# (subprocess.run: vfork, and the child calls close_range() in the parent's
# memory before exec).  Each request is still one call; a request in flight
# across the spawn is still judged.
write_config
breaker vf "match=127.0.0.1:$H" failure_threshold=3
out=$(pyh script "conn:a:$H" get:a spawn:true get:a get:a send:a spawn:true recv:a)
is "$out" "a1=200 a2=200 a3=200 a4=200" "http.client with subprocess.run between requests: 4 answers"
is "$(c3 vf)" "4 0 0" "4 calls (each request one call, also after a subprocess)"

# ---- node fetch (undici keep-alive, libuv non-blocking) ----
write_config
breaker nd "match=127.0.0.1:$H" failure_threshold=3
mark
out=$(under_shim "$NODE" "$FETCH" "http://127.0.0.1:$H/" 20)
is "$out" "s200=20" "node fetch: 20 answers, one after another ($out)"
# (undici spreads sequential requests over a couple of pooled connections,
# without the shim too; what matters is that connections are reused)
is "$(dreqs)" 20 "...20 requests at the server"
c=$(dconns)
cmp_ok "$c" '<=' 4 "...over few kept-alive connections ($c for 20 requests)"
is "$(c3 nd)" "20 0 0" "20 calls, no failure (EAGAIN is not an outcome)"
mark
out=$(under_shim "$NODE" "$FETCH" "http://127.0.0.1:$H/" 40 4)
is "$out" "s200=40" "node fetch: 40 answers, 4 at a time ($out)"
is "$(dreqs)" 40 "...40 requests at the server"
c=$(dconns)
cmp_ok "$c" '<=' 12 "...over kept-alive connections ($c for 40 requests)"
is "$(c3 nd)" "60 0 0" "60 calls in all, no failure"

# ---- python asyncio streams ----
write_config
breaker as "match=127.0.0.1:$H" failure_threshold=3
mark
out=$(pyh asyncio "$H" -n 30)
is "$out" "s200=30" "asyncio: 30 requests on one connection ($out)"
is "$(dconns) $(dreqs)" "1 30" "...1 connection, 30 requests at the server"
is "$(c3 as)" "30 0 0" "30 calls, no failure"
mark
out=$(pyh asyncio "$H" -n 60 --conns 6)
is "$out" "s200=60" "asyncio: 60 requests over 6 concurrent connections ($out)"
is "$(dconns) $(dreqs)" "6 60" "...6 connections, 60 requests"
is "$(c3 as)" "90 0 0" "90 calls in all, no failure"

# ---- a raw non-blocking socket polled by hand: EAGAIN, then the answer ----
start_server SL slow --delay 0.05
write_config
breaker nb "match=127.0.0.1:$SL" failure_threshold=1 response_timeout=2s
out=$(pyh nonblock "$SL" -n 5)
like "$out" 's200=5' "non-blocking recv polled by hand: 5 answers ($out)"
e=$(kv "$out" eagain)
cmp_ok "$e" '>=' 5 "...each request saw EAGAIN first ($e EAGAINs)"
is "$(c3 nb)" "5 0 0" "5 calls, no failure: EAGAIN is not an outcome"
is "$(state_of nb)" closed "failure_threshold = 1, still closed"

# ---- wrk: 2 threads, 8 connections, 2 s ----
# What can be asserted exactly: wrk first makes one connection of its own
# (main() connects and closes it, to check the address), which by SPEC
# section 3 is a call ("connected, nothing written" = success).  Then each
# answer wrk reads is one call.  At the end wrk exits with at most one
# request in flight per connection: written (perhaps answered by the server)
# but not read; such a call has no verdict (no response_timeout), so it is
# not counted.  Hence, with E = connections the server accepted beyond the
# 8 (wrk's check connection, E >= 1):
#   calls == wrk's "requests" + E          (exact; answers are tiny, so a
#                                          response is never half read)
#   answered - 8 <= calls - E <= answered  (the server's count)
write_config
breaker wk "match=127.0.0.1:$H" failure_threshold=3
mark
out=$(RUN_TIMEOUT=20 under_shim "$WRK" -t2 -c8 -d2s "http://127.0.0.1:$H/" 2>&1)
nreq=$(echo "$out" | awk '/requests in/ {print $1}')
like "$nreq" '^[0-9]+$' "wrk ran and reported its requests ($nreq)"
cmp_ok "${nreq:-0}" '>' 200 "...a real load (> 200 requests)"
unlike "$out" 'Socket errors|Non-2xx' "wrk saw no socket error and no non-2xx answer"
c=$(dconns)
E=$((c - 8))
cmp_ok "$E" '>=' 1 "the server accepted the 8 connections plus wrk's check connection(s) ($c)"
cmp_ok "$E" '<=' 2 "...and no reconnections ($c)"
calls=$(json_field wk calls)
answered=$(dreqs)
is "$calls" "$((nreq + E))" "calls == wrk's requests ($nreq) + its $E check connection(s) (answered: $answered)"
cmp_ok "$((calls - E))" '<=' "$answered" "calls - $E <= the server's answered requests"
cmp_ok "$((calls - E))" '>=' "$((answered - 8))" "...and >= answered - 8 (at most one unread answer per connection)"
is "$(json_field wk failures)" 0 "no failure under load (EAGAIN is not an outcome)"
is "$(json_field wk rejected)" 0 "nothing rejected"

done_testing
