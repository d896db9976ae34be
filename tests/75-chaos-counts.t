#!/bin/bash
# Chaos: 8 processes x 4 threads on one breaker, while the server flips
# between 200 and 503 every 150 ms and the CLI opens the breaker every
# 0.9 s and makes it half-open 0.3 s later (never close, which clears the
# counts); each thread
# pauses 50 ms between calls, so the run spans about 4 s.  The breaker
# trips, rejects, probes and closes again many times over; whatever the
# interleaving, the counts are exact: calls + rejected in `recloser status
# --json` equal the calls the clients made, successes and failures equal the
# 200s and 503s they got, rejected the EHOSTUNREACHs (reject_errno), and the
# server answered exactly the calls let through.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

start_server OK http --control "$T/OK.ctl"
write_config
breaker svc "match=127.0.0.1:$OK" failure_threshold=3 open_duration=200ms \
	open_duration_max=400ms half_open_probes=2 success_threshold=1 response_timeout=5s \
	reject_errno=EHOSTUNREACH

NP=8 NT=4 N=${CHAOS_N:-60}
start=$(($(now_ms) + 800))
start_load "$T/c" 60 "$OK" --threads $NT -n "$N" --start-at "$start" --max-seconds 50 \
	--pause-ms 50
# the chaos, until the clients are done
(
	flip=0
	while [ ! -e "$T/done" ]; do
		flip=$((flip + 1))
		if ((flip % 2)); then v=503; else v=200; fi
		echo $v >"$T/OK.ctl.tmp" && mv "$T/OK.ctl.tmp" "$T/OK.ctl"
		case $((flip % 6)) in
		2) rc open svc >/dev/null 2>&1 ;;
		4) rc half-open svc >/dev/null 2>&1 ;;
		esac
		sleep 0.15
	done
) &
chaos=$!
wait_load "$T/c"
touch "$T/done"
wait "$chaos"

is "$LOAD_BAD" 0 "$NP processes x $NT threads x $N calls: every client exited 0"
made=0 s200=0 s503=0 rej=0 other=
for ((i = 1; i <= NP; i++)); do
	o=$(cat "$T/c.out.$i")
	made=$((made + $(kv "$o" calls)))
	s200=$((s200 + $(kv "$o" s200)))
	s503=$((s503 + $(kv "$o" s503)))
	rej=$((rej + $(kv "$o" EHOSTUNREACH)))
	for w in $o; do
		case ${w%%=*} in pid | calls | after | s200 | s503 | EHOSTUNREACH) ;; *) other="$other $w" ;; esac
	done
done
is "$made" $((NP * NT * N)) "the clients made $((NP * NT * N)) calls"
is "$other" "" "...each answered 200 or 503, or rejected with EHOSTUNREACH; nothing else"
note "clients saw: s200=$s200 s503=$s503 rejected=$rej"
calls=$(json_field svc calls) rejected=$(json_field svc rejected)
is "$((calls + rejected))" "$made" "status: calls ($calls) + rejected ($rejected) = the $made calls made, exactly"
is "$(json_field svc successes) $(json_field svc failures) $rejected" "$s200 $s503 $rej" \
	"status: successes, failures, rejected = the 200s, 503s and rejections the clients saw ($s200 $s503 $rej)"
is "$(json_field svc timeouts)" 0 "status: no timeouts"
is "$(reqs OK)" "$calls" "the server answered exactly the $calls calls let through"
cmp_ok "$(json_field svc transitions)" '>=' 2 "the breaker moved meanwhile ($(json_field svc transitions) transitions)"
is "$(json_field svc probes_held)" 0 "no probe is left held"

done_testing
