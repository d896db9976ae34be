#!/bin/bash
# half_open_probes bounds the trial calls host-wide: with 1 probe, of several
# processes calling at once only one gets through.  The trial goes to a
# blackhole, so it stays in flight for connect_timeout: every other call made
# meanwhile must be rejected; after the trial fails the breaker is open for
# 60 s, so a late process is rejected too: the counts are exact whatever the
# timing.  A trial held by a process that died does not wedge the breaker.
source "$(dirname "$0")/lib.sh"
need_build

start_server BH blackhole
write_config
breaker bh "match=127.0.0.1:$BH" connect_timeout=1500ms failure_threshold=1 \
	open_duration=60s open_duration_max=60s half_open_probes=1 success_threshold=1

rc half-open bh >/dev/null
is "$(state_of bh)" half_open "recloser half-open: half_open"

N=5
start=$(($(now_ms) + 700))
for i in $(seq $N); do
	pyc connect 127.0.0.1 "$BH" --start-at "$start" >"$T/p$i" &
done
wait_clients
got=$(cat "$T"/p*)
admitted=0 rejected=0 fast=0
for i in $(seq $N); do
	o=$(cat "$T/p$i")
	[ "$(kv "$o" ETIMEDOUT)" = 1 ] && admitted=$((admitted + 1))
	if [ "$(kv "$o" ECONNREFUSED)" = 1 ]; then
		rejected=$((rejected + 1))
		(($(ms_int "$(kv "$o" max_ms)") < 200)) && fast=$((fast + 1))
	fi
done
is "$admitted" 1 "$N processes at once in half_open: exactly 1 trial admitted (timed out)" || diag "$got"
is "$rejected" $((N - 1)) "...the other $((N - 1)) rejected" || diag "$got"
is "$fast" $((N - 1)) "...each at once (< 200 ms)" || diag "$got"
is "$(counts bh)" "1 1 $((N - 1))" "status: calls 1, failures 1, rejected $((N - 1))"
is "$(state_of bh)" open "the failed trial opened it again"
is "$(log_count 'event=transition .*breaker=bh .*from=half_open to=open reason=probe_failed')" 1 \
	"log: probe_failed" || show_log

# Several probes: half_open_probes = 3 lets 3 through, not more.
start_server BH2 blackhole
write_config
breaker bh3 "match=127.0.0.1:$BH2" connect_timeout=1500ms failure_threshold=1 \
	open_duration=60s open_duration_max=60s half_open_probes=3 success_threshold=1
rc half-open bh3 >/dev/null
N=6
start=$(($(now_ms) + 700))
for i in $(seq $N); do
	pyc connect 127.0.0.1 "$BH2" --start-at "$start" >"$T/q$i" &
done
wait_clients
got=$(cat "$T"/q*)
admitted=$(grep -c 'ETIMEDOUT=1' <<<"$got")
rejected=$(grep -c 'ECONNREFUSED=1' <<<"$got")
cmp_ok "$admitted" '<=' 3 "half_open_probes = 3: at most 3 of $N admitted" || diag "$got"
cmp_ok "$admitted" '>=' 1 "...at least 1" || diag "$got"
is "$((admitted + rejected))" "$N" "...the rest rejected" || diag "$got"
is "$(json_field bh3 rejected)" "$rejected" "status: rejected = $rejected"

# A trial held by a process that is killed is reclaimed.
start_server BH3 blackhole
write_config
breaker dead "match=127.0.0.1:$BH3" connect_timeout=10s failure_threshold=1 \
	open_duration=60s half_open_probes=1 success_threshold=1
rc half-open dead >/dev/null
# started without the timeout wrapper so that $! is the python process itself
env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$PY" "$PYCLIENT" connect 127.0.0.1 "$BH3" >/dev/null &
victim=$!
sleep 0.7                  # the trial is in flight, holding the only probe
out=$(pyc connect 127.0.0.1 "$BH3" --timeout 0.3)
is "$(kv "$out" ECONNREFUSED)" 1 "while the trial is in flight, another process is rejected ($out)"
kill -KILL "$victim"
wait "$victim" 2>/dev/null
out=$(pyc connect 127.0.0.1 "$BH3" --timeout 0.5)
is "$(kv "$out" TIMEOUT)" 1 "trial's process killed: the next process gets the probe (admitted, times out itself) ($out)"

done_testing
