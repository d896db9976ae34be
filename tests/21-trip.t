#!/bin/bash
# Tripping: by consecutive failures and by failure rate; an open breaker
# rejects at once, without traffic, in every process that shares the state.
source "$(dirname "$0")/lib.sh"
need_build

# ---- consecutive failures: curl to a closed port ----
P=$(closed_port)
write_config connect_timeout=2s
breaker dead "match=127.0.0.1:$P" failure_threshold=3 open_duration=60s

for i in 1 2; do
	out=$(scurl "http://127.0.0.1:$P/"); st=$?
	is "$st" 7 "curl $i to a closed port: could not connect (exit 7)"
done
is "$(state_of dead)" closed "after 2 of 3 failures: still closed"
scurl "http://127.0.0.1:$P/" >/dev/null
is "$(state_of dead)" open "after the 3rd consecutive failure: open"
is "$(counts dead)" "3 3 0" "calls 3, failures 3, rejected 0"
is "$(log_count 'event=transition .*breaker=dead .*from=closed to=open reason=consecutive_failures')" 1 \
	"log: one transition closed -> open, reason=consecutive_failures" || show_log

# The next calls are rejected by the shim, in this and other processes.
out=$(scurl "http://127.0.0.1:$P/" -w ' %{time_total}'); st=$?
is "$st" 7 "open: curl fails to connect (exit 7)"
is "$(counts dead)" "3 3 1" "...counted as rejected, not as a call"
out=$(pyc connect 127.0.0.1 "$P" -n 5)
is "$(kv "$out" ECONNREFUSED)" 5 "open: a python process gets ECONNREFUSED 5 times ($out)"
is "$(counts dead)" "3 3 6" "...6 rejections in all"

# ---- rejection without traffic, fast, against a real service ----
start_server HTTP http
control HTTP down
write_config connect_timeout=2s
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s
scurl "http://127.0.0.1:$HTTP/" >/dev/null
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(state_of svc)" open "service down: 2 refused connects open svc"
control HTTP 200
is "$(conns HTTP)" 0 "the service saw no connection yet"
out=$(scurl "http://127.0.0.1:$HTTP/" -w ' %{time_total}'); st=$?
is "$st" 7 "service back up, breaker open: curl is rejected (exit 7)"
t=${out#* }
like "$t" '^0\.(0|1)[0-9]*$' "curl's rejected transfer took < 200 ms (time_total $t s)"
out=$(pyc connect 127.0.0.1 "$HTTP" -n 20 --request)
is "$(kv "$out" ECONNREFUSED)" 20 "python: 20 connects rejected with ECONNREFUSED"
cmp_ok "$(ms_int "$(kv "$out" max_ms)")" '<' 200 \
	"python: the slowest rejected connect took < 200 ms against a 2 s timeout ($out)"
out=$(pyc connect 127.0.0.1 "$HTTP" -n 3 --timeout 5 --request)
is "$(kv "$out" ECONNREFUSED)" 3 "python with its own timeout (non-blocking connect): rejected too"
is "$(conns HTTP)" 0 "the service accepted no connection: no traffic reached it"
is "$(json_field svc rejected)" 24 "rejected = 1 + 20 + 3"
is "$(json_field svc calls)" 2 "calls = the 2 that were let through"

# A second process that did not see any failure is rejected too.
under_shim /bin/sh -c "$CURL -s -o /dev/null -m 5 http://127.0.0.1:$HTTP/"
is "$?" 7 "a curl started by another program is rejected as well"
is "$(conns HTTP)" 0 "still no connection at the service"

# ---- failure rate: failure_threshold = 0, failure_rate, minimum_calls ----
start_server OK http
P2=$(closed_port)
write_config connect_timeout=2s
breaker rate "match=127.0.0.1" failure_threshold=0 failure_rate=50 \
	minimum_calls=10 window=60s open_duration=60s
for i in 1 2 3 4; do scurl "http://127.0.0.1:$OK/" >/dev/null; done
for i in 1 2 3 4 5; do scurl "http://127.0.0.1:$P2/" >/dev/null; done
is "$(counts rate)" "9 5 0" "4 successes then 5 failures counted"
is "$(state_of rate)" closed "5 consecutive failures with failure_threshold = 0: still closed (9 < minimum_calls)"
scurl "http://127.0.0.1:$P2/" >/dev/null
is "$(state_of rate)" open "10th call, 6 of 10 failed (60% >= 50%): open"
is "$(log_count 'event=transition .*breaker=rate .*from=closed to=open reason=failure_rate')" 1 \
	"log: transition reason=failure_rate" || show_log
n=$(conns OK)
is "$(scurl "http://127.0.0.1:$OK/"; echo " $?")" "000 7" "the healthy port under the same breaker is now rejected"
is "$(conns OK)" "$n" "...without a connection"

# Below the rate, it stays closed however many calls.
write_config connect_timeout=2s
breaker rate2 "match=127.0.0.1" failure_threshold=0 failure_rate=50 \
	minimum_calls=4 window=60s open_duration=60s
for i in 1 2 3 4 5 6; do
	scurl "http://127.0.0.1:$OK/" >/dev/null
	[ $((i % 3)) = 0 ] && scurl "http://127.0.0.1:$P2/" >/dev/null
done
is "$(counts rate2)" "8 2 0" "6 successes, 2 failures"
is "$(state_of rate2)" closed "25% < 50%: closed"

# ---- reject_errno ----
P3=$(closed_port)
write_config connect_timeout=2s
breaker unreach "match=127.0.0.1:$P3" failure_threshold=1 open_duration=60s reject_errno=EHOSTUNREACH
scurl "http://127.0.0.1:$P3/" >/dev/null
out=$(pyc connect 127.0.0.1 "$P3")
is "$(kv "$out" EHOSTUNREACH)" 1 "reject_errno = EHOSTUNREACH: a rejected connect fails with it ($out)"

# ---- mode = observe: counts, logs and changes state, never rejects ----
start_server OBS http
control OBS down
write_config connect_timeout=2s
breaker obs "match=127.0.0.1:$OBS" failure_threshold=2 open_duration=60s mode=observe
scurl "http://127.0.0.1:$OBS/" >/dev/null
scurl "http://127.0.0.1:$OBS/" >/dev/null
is "$(state_of obs)" open "mode = observe: 2 failures open it"
is "$(log_count 'event=transition .*breaker=obs .*to=open')" 1 "mode = observe: the transition is logged"
control OBS 200
is "$(scurl "http://127.0.0.1:$OBS/")" 200 "mode = observe, open: the call still goes through"
is "$(conns OBS)" 1 "...and reaches the service"
is "$(json_field obs rejected)" 0 "...nothing counted as rejected"

done_testing
