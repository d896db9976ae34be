#!/bin/bash
# Chaos: the holder of the only half-open probe is killed with SIGKILL, 100
# times over.  Each round puts breaker px in half_open, starts a victim whose
# trial call stays in flight (a connect to a blackhole, or a request to a
# server that never answers; connect_timeout and response_timeout are 30 s,
# so the probe's TTL (61 s) never frees it: only the holder's death can),
# checks that meanwhile another process is rejected, kills the victim, and
# then a new process must get the probe (within 5 s: a huge margin), succeed
# against a healthy server and close the breaker.  A killed trial is never
# judged, so at the end the counts are exact: calls = the successful trials,
# rejected = the rejections the clients saw.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

CALL=$T/chaos_call
${CC:-cc} -O1 -o "$CALL" "$ROOT/tests/clients/chaos_call.c" 2>"$T/cc.err" ||
	bail_out "cannot build chaos_call: $(head -c 300 "$T/cc.err")"

start_server OK http
start_server BH blackhole
start_server HANG hang
write_config
breaker px "match=127.0.0.1:$OK, 127.0.0.1:$BH, 127.0.0.1:$HANG" \
	connect_timeout=30s response_timeout=30s half_open_probes=1 success_threshold=1 \
	failure_threshold=1000 open_duration=60s reject_errno=EHOSTUNREACH

# field NAME: NAME's value in px's line of status --json (one breaker)
field() { rc status --json 2>/dev/null | sed -n "s/.*\"$1\": \"\{0,1\}\([^,\"}]*\).*/\1/p"; }
held() { [ "$(field probes_held)" = 1 ]; }
# sc CMD...: chaos_call under the shim, bounded
sc() { RUN_TIMEOUT=20 under_shim "$CALL" "$@"; }

ROUNDS=${CHAOS_ROUNDS:-100}
bad_setup=0 bad_held=0 bad_reject=0 bad_exit=0 bad_recover=0 bad_state=0
rejected_seen=0 ok_seen=0 maxtries=0
for ((i = 1; i <= ROUNDS; i++)); do
	rc half-open px >/dev/null || bad_setup=$((bad_setup + 1))
	if ((i % 2)); then
		target=$BH how="connect to a blackhole"
	else
		target=$HANG how="request to a hanging server"
	fi
	# no timeout wrapper: $! is the victim itself
	env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$CALL" hold "$target" >/dev/null 2>&1 &
	victim=$!
	if ! wait_until 5000 held; then
		bad_held=$((bad_held + 1))
		diag "round $i ($how): the victim never held the probe ($(field probes_held))"
	fi
	out=$(sc get "$OK")
	if [ "$out" = EHOSTUNREACH ]; then
		rejected_seen=$((rejected_seen + 1))
	else
		bad_reject=$((bad_reject + 1))
		diag "round $i ($how): while the probe is held, another process got '$out', not EHOSTUNREACH"
		[ "$out" = s200 ] && ok_seen=$((ok_seen + 1))
	fi
	# at a varying moment of its wait (0-40 ms on)
	sleep "0.0$((RANDOM % 5))"
	kill -KILL "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
	st=$?
	if [ "$st" != 137 ]; then
		bad_exit=$((bad_exit + 1))
		diag "round $i ($how): the victim ended with status $st before it was killed"
	fi
	# the probe of the dead holder is reclaimed: a new caller gets it
	tries=0 out=
	t0=$(now_ms)
	while :; do
		tries=$((tries + 1))
		out=$(sc get "$OK")
		[ "$out" = EHOSTUNREACH ] && rejected_seen=$((rejected_seen + 1))
		[ "$out" = s200 ] && { ok_seen=$((ok_seen + 1)); break; }
		(($(elapsed_ms "$t0") > 5000)) && break
		sleep 0.02
	done
	((tries > maxtries)) && maxtries=$tries
	if [ "$out" != s200 ]; then
		bad_recover=$((bad_recover + 1))
		diag "round $i ($how): no caller got the probe within 5 s after the kill (last: '$out')"
	fi
	s=$(field state)
	if [ "$s" != closed ]; then
		bad_state=$((bad_state + 1))
		diag "round $i ($how): after the successful trial the breaker is '$s', not closed"
	fi
	# stop early when it is clearly broken: 100 rounds of 5 s waits is too long
	if ((bad_recover + bad_held >= 3)); then
		diag "giving up after round $i"
		break
	fi
done
rounds=$((i > ROUNDS ? ROUNDS : i))

is "$bad_setup" 0 "$rounds rounds: recloser half-open worked every time"
is "$bad_held" 0 "each victim (odd rounds: blocking connect to a blackhole; even: a request that is never answered) held the only probe"
is "$bad_reject" 0 "while it held the probe, another process was rejected at once (EHOSTUNREACH), every round"
is "$bad_exit" 0 "each victim was still in its call when SIGKILL came (status 137)"
is "$bad_recover" 0 "after each kill, a new process got the probe (within 5 s) and its trial succeeded"
is "$bad_state" 0 "...and the breaker closed every round"
note "most attempts needed after a kill: $maxtries"
is "$(counts px)" "$ok_seen 0 $rejected_seen" \
	"status: calls = the $ok_seen successful trials, no failure (killed trials are never judged), rejected = the $rejected_seen rejections seen"
is "$(field probes_held)" 0 "no probe is left held"
is "$(field state)" closed "px ends closed"

# The last kill leaves a probe held by a dead process in a fresh half_open
# phase; a caller reclaims it at once, also when the dead holder's pid is
# the only thing that could free it (TTL 61 s) and several callers race.
rc half-open px >/dev/null
env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$CALL" hold "$HANG" >/dev/null 2>&1 &
victim=$!
wait_until 5000 held
kill -KILL "$victim"
wait "$victim" 2>/dev/null
start=$(($(now_ms) + 300))
for j in 1 2 3 4 5 6; do
	RUN_TIMEOUT=20 pyc connect 127.0.0.1 "$BH" --start-at "$start" --timeout 2 >"$T/race$j" &
done
wait_clients
got=$(cat "$T"/race*)
is "$(grep -c 'TIMEOUT=1' <<<"$got")" 1 "6 processes race for the dead holder's probe: exactly 1 gets it (its trial times out against the blackhole)" || diag "$got"
is "$(grep -c 'EHOSTUNREACH=1' <<<"$got")" 5 "...the other 5 are rejected" || diag "$got"

done_testing
