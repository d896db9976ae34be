#!/bin/bash
# Chaos: the state file is truncated (truncate -s 0; and -s 4096, which
# keeps the header page but cuts the breaker's slot, the 10th) while 3
# processes x 2 threads make calls through a breaker.  Whatever the shim had
# mapped is then beyond the end of the file, where a load or store is a
# SIGBUS.  The programs must survive: every process exits 0 (not killed by
# SIGBUS), every call before and after is answered (the server always says
# 200: the shim passes through once it can no longer use the state), and
# each process logs the loss once (one state_error line, and at most one
# more if it then fails to map the file anew).  Afterwards `recloser status`
# and a new process do not die either.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

LOAD=$ROOT/tests/clients/chaos_load.py
start_server OK http

P=3        # processes
K=2        # threads each
AFTER=25   # calls each thread makes after the truncation

round() {
	local size=$1 i pid st out pids=() errs n
	STATE=$T/state.$size
	LOG=$T/log.$size
	CFG=$T/cfg.$size.ini
	write_config
	# svc takes slot 10, beyond the first 4 KiB: a truncation to 4096 cuts it
	for j in 1 2 3 4 5 6 7 8 9; do breaker "pad$j" "match=127.0.0.1:$((9000 + j))"; done
	breaker svc "match=127.0.0.1:$OK" failure_threshold=5 response_timeout=5s
	rc status >/dev/null || bail_out "cannot create the state file"
	rm -f "$T/trunc" "$T"/ready.*
	for ((i = 1; i <= P; i++)); do
		RUN_TIMEOUT=40 under_shim "$PY" "$LOAD" "$OK" --threads $K \
			--ready-file "$T/ready.$i" --after-file "$T/trunc" --after-n $AFTER \
			--max-seconds 30 --pause-ms 2 >"$T/out.$size.$i" 2>"$T/err.$size.$i" &
		pids+=($!)
	done
	local t0
	t0=$(now_ms)
	until [ "$(ls "$T"/ready.* 2>/dev/null | wc -l)" = $P ]; do
		(($(elapsed_ms "$t0") > 20000)) && bail_out "the clients did not start"
		sleep 0.05
	done
	local before
	before=$(json_field svc calls)
	cmp_ok "$before" '>=' $((P * K * 3)) "truncate -s $size: the $P clients ($K threads each) made calls through the breaker first ($before so far)"
	truncate -s "$size" "$STATE"
	touch "$T/trunc"
	errs=0
	for ((i = 1; i <= P; i++)); do
		wait "${pids[i - 1]}"
		st=$?
		out=$(cat "$T/out.$size.$i")
		is "$(signame $st)" 0 "truncate -s $size: client $i survived: exit status 0 ($out)" ||
			diag "stderr: $(head -c 400 "$T/err.$size.$i")"
		pid=$(kv "$out" pid)
		local calls s200 after
		calls=$(kv "$out" calls) s200=$(kv "$out" s200) after=$(kv "$out" after)
		if [ "$st" = 0 ]; then
			is "$s200" "$calls" "...each of its $calls calls was answered 200 ($after of them after the truncation)"
			is "$after" $((K * AFTER)) "...it went on with all $((K * AFTER)) calls after the truncation"
		else
			skip "client $i died" 2
		fi
		# one line for the loss; a process that then tries to map the
		# file anew (at a reload check) and cannot may say so once more
		n=$(grep -E 'event=state_error' "$LOG" 2>/dev/null | grep -c " pid=$pid ")
		cmp_ok "$n" '>=' 1 "...and logged the loss: a state_error line (pid $pid)" || errs=1
		cmp_ok "$n" '<=' 2 "...once: at most one more, for a failed re-map ($n lines)" || errs=1
	done
	[ "$errs" = 0 ] || show_log
	rc status >"$T/status.out" 2>"$T/status.err"
	st=$?
	cmp_ok "$st" '<' 128 "truncate -s $size: afterwards, recloser status does not die (status $(signame $st): $(head -c 200 "$T/status.err"))"
	out=$(RUN_TIMEOUT=20 under_shim "$PY" "$LOAD" "$OK" -n 3)
	st=$?
	is "$(signame $st) $(kv "$out" s200)" "0 3" "...and a new process under the shim gets its 3 answers and exits 0 ($out)"
}

round 0
round 4096

done_testing
