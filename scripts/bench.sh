#!/usr/bin/env bash
# make bench: each comparison side by side in one run, as medians and ratios.
# This machine is noisy: read the ratios, not the absolute numbers.
#
#   1. connect+close to an accepting server: no shim, unmatched, matched,
#      unmatched among 10,000 patterns (end to end, and the connect hook
#      alone, each connect answered by a fake I/O library)
#   2. a connect rejected by an open breaker vs one refused by the kernel
#   3. 64-byte ping-pong on one blocking TCP connection: no shim, shim with
#      the fd unmatched, shim with the fd a breaker's (each round trip one
#      call); the breaker's calls count must equal the round trips made;
#      then the same inside one process, in blocks milliseconds apart;
#      then the same client's instructions (callgrind), which no noise moves
#   4. the data-path hooks alone: the same write/read pairs answered by a
#      fake I/O library loaded after the shim (no kernel, so no noise)
#   5. wrk against a local nginx, without and with the shim on wrk
#   6. the proxy way: wrk through an HAProxy hop (a breaker in the proxy) vs
#      wrk direct to the same nginx vs wrk under the shim (a breaker in the
#      client): requests/s and p99 latency; goal: shim >= 1.5x the hop
#   7. scale: destination lookups among 1,000 to 100,000 patterns; start-up
#      and memory of a process with a 4,096-breaker config
# The variants of each comparison run interleaved, rotating their order, so
# drift hits all alike.  Knobs: BENCH_N, BENCH_ROUNDS (1, 2), BENCH_PP_N,
# BENCH_PP_REPS, BENCH_MX_RUNS, BENCH_MX_TURNS, BENCH_PP_IR_N (3), BENCH_HC_N,
# BENCH_HC_REPS (4), BENCH_WRK_REPS, BENCH_WRK_SECS (5, 6), BENCH_HAP_REPS
# (6), BENCH_MATCH_N, BENCH_SU_N, BENCH_SU_REPS (7), BENCH_CPU (the CPU for
# ping-pong), BENCH_ONLY (haproxy: run only 6, with the nginx of 5 it
# needs; scale: only 7; pingpong: only 3; hooks: only 4, with the echo
# server of 3 it needs;
# unset: everything), BENCH_SHIM (the shim to measure, default
# build/librecloser.so: a copy of another build, to compare two).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
SHIM=${BENCH_SHIM:-$ROOT/build/librecloser.so}
CLI=$ROOT/build/recloser
BC=$ROOT/build/t/bench_connect
BP=$ROOT/build/t/bench_pingpong
BH=$ROOT/build/t/bench_hookcost
BM=$ROOT/build/t/bench_match
T=$(mktemp -d /tmp/recloser-bench.XXXXXX)
# config images (core/image.h) go with the bench's files, not to /dev/shm
export RECLOSER_CACHE_DIR=$T
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
	rm -f "${SHM_STATE:-/nonexistent}"*
}
trap cleanup EXIT
N=${BENCH_N:-20000}
ROUNDS=${BENCH_ROUNDS:-3}
PP_N=${BENCH_PP_N:-20000}
PP_REPS=${BENCH_PP_REPS:-9}
MX_RUNS=${BENCH_MX_RUNS:-5}
MX_TURNS=${BENCH_MX_TURNS:-300}
HC_N=${BENCH_HC_N:-1000000}
HC_REPS=${BENCH_HC_REPS:-9}
WRK_REPS=${BENCH_WRK_REPS:-7}
WRK_SECS=${BENCH_WRK_SECS:-3}
HAP_REPS=${BENCH_HAP_REPS:-5}
ONLY=${BENCH_ONLY-}
case $ONLY in
"" | haproxy | scale | hooks | pingpong) ;;
*) echo "bench.sh: BENCH_ONLY=$ONLY: only 'haproxy' (section 6), 'scale' (7), 'pingpong' (3) or 'hooks' (4) can run alone" >&2; exit 2 ;;
esac

"$BC" serve "$T/port" & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
CLOSED=$(/usr/bin/python3 scripts/faultserver.py closedport)

conf() { # conf FILE PORT
	cat > "$1" <<INI
[global]
state_file = $T/state
log_file = $T/log
[bench]
match = 127.0.0.1:$2
failure_threshold = 0
failure_rate = 0
INI
}
conf "$T/matched.ini" "$PORT"
conf "$T/unmatched.ini" 1   # a breaker exists, but not for this port
conf "$T/reject.ini" "$CLOSED"
# a config of 10,000 patterns, none of them 127.0.0.1 (tests/unit/bigconf.h:
# 100 breakers of IPv4 addresses with a port, IPv4 /24s, IPv6 /64s, names
# and wildcards)
"$BM" config 10000 "$T/state" "$T/log" > "$T/many.ini"
# the fake I/O library of the hooks-alone figures (sections 1 and 4)
${CC:-cc} -O2 -shared -fPIC -DBENCH_FAKEIO_LIB -o "$T/libfakeio.so" tests/progs/bench_hookcost.c

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
goal_min() { awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g ? "met" : "MISSED") }'; }
goal_max() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g ? "met" : "MISSED") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.0f", a - b }'; }
run_rounds() { # run_rounds OUTFILE CMD...
	local out=$1; shift
	for _ in $(seq "$ROUNDS"); do "$@"; done > "$out"
}

if [ -n "$ONLY" ]; then
	echo "recloser bench: $(nproc) cores, BENCH_ONLY=$ONLY (the other sections skipped)"
else
	echo "recloser bench: $(nproc) cores, N=$N per run, median of $ROUNDS runs x 5 rounds"
fi
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
# (gcc records the flags of each compile: the shim's objects say whether
# they were compiled with the training's counts, whatever build/pgo holds)
if readelf --debug-dump=info build/obj/engine/stream.o 2>/dev/null | grep -m1 DW_AT_producer |
	grep -q -- -fprofile-use; then
	echo "the shim: profile-guided (the Makefile's training run, scripts/pgo-train.c; PGO= builds without)"
else
	echo "the shim: built without a profile (PGO= or no gcc LTO, or its training run failed)"
fi
echo

# BENCH_ONLY set: sections 1 and 2 are skipped (this `if` ends after them;
# left unindented so the sections read as before)
if [ -z "$ONLY" ]; then

# 1. connect to an accepting local server: no shim / unmatched / matched,
#    interleaved so drift hits all three alike.
: > "$T/c0"; : > "$T/c1"; : > "$T/c2"; : > "$T/c3"
for _ in $(seq "$ROUNDS"); do
	"$BC" connect "$PORT" "$N" >> "$T/c0"
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/unmatched.ini "$BC" connect "$PORT" "$N" >> "$T/c1"
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/matched.ini "$BC" connect "$PORT" "$N" >> "$T/c2"
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/many.ini "$BC" connect "$PORT" "$N" >> "$T/c3"
done
c0=$(median < "$T/c0"); c1=$(median < "$T/c1"); c2=$(median < "$T/c2"); c3=$(median < "$T/c3")
# the connect hook alone: each connect answered at once by the fake I/O
# library (tests/progs/bench_hookcost.c, connect mode), to a destination
# neither config matches: 1 pattern vs 10,000; no kernel, so the lookup's
# cost is not lost in a connect's microseconds of noise
: > "$T/k0"; : > "$T/k1"; : > "$T/k3"
for _ in $(seq $((ROUNDS * 3))); do
	LD_PRELOAD=$T/libfakeio.so "$BH" connect "$PORT" 300000 >> "$T/k0"
	LD_PRELOAD="$SHIM $T/libfakeio.so" RECLOSER_CONFIG=$T/unmatched.ini "$BH" connect "$PORT" 300000 \
		>> "$T/k1"
	LD_PRELOAD="$SHIM $T/libfakeio.so" RECLOSER_CONFIG=$T/many.ini "$BH" connect "$PORT" 300000 \
		>> "$T/k3"
done
k0=$(cut -d' ' -f1 < "$T/k0" | median); k1=$(cut -d' ' -f1 < "$T/k1" | median)
k3=$(cut -d' ' -f1 < "$T/k3" | median)

# 2. rejecting a connect on an open breaker vs the kernel refusing one.
RECLOSER_CONFIG=$T/reject.ini "$CLI" force-open bench > /dev/null
: > "$T/r0"; : > "$T/r1"
for _ in $(seq "$ROUNDS"); do
	"$BC" refused "$CLOSED" "$N" >> "$T/r0"
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/reject.ini "$BC" reject "$CLOSED" $((N * 10)) >> "$T/r1"
done
r0=$(median < "$T/r0"); r1=$(median < "$T/r1")

# system calls made by 1000 rejected connects (strace, when installed)
sys="n/a (strace not installed)"
if command -v strace > /dev/null; then
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/reject.ini strace -f -c -o "$T/strace" \
		"$BC" reject "$CLOSED" 1000 > /dev/null
	sys=$(awk '$NF == "connect" {print $4} END {}' "$T/strace")
	sys=${sys:-0}
fi

printf '%-44s %12s %12s %10s\n' "comparison" "ns/op" "baseline" "ratio"
printf '%-44s %12s %12s %10s\n' "connect+close, unmatched dest vs no shim" "$c1" "$c0" "$(ratio "$c0" "$c1")x"
printf '%-44s %12s %12s %10s\n' "connect+close, matched dest vs no shim" "$c2" "$c0" "$(ratio "$c0" "$c2")x"
printf '%-44s %12s %12s %10s\n' "connect+close, unmatched, 10,000 patterns" "$c3" "$c1" "$(ratio "$c1" "$c3")x"
printf '%-44s %12s %12s %10s\n' "connect rejected by open breaker vs kernel" "$r1" "$r0" "$(ratio "$r0" "$r1")x"
echo
echo "added per connect: unmatched $(added "$c1" "$c0") ns, matched $(added "$c2" "$c0") ns"
echo "added by 10,000 patterns to an unmatched connect (vs 1 pattern), end to end: $(added "$c3" "$c1") ns" \
	"(a connect's own noise is microseconds)"
echo "the connect hook alone (no kernel), unmatched destination: no shim $k0 ns, 1 pattern $k1 ns," \
	"10,000 patterns $k3 ns; added by 10,000 patterns: $(added "$k3" "$k1") ns" \
	"(goal <= 100 ns: $(goal_max "$(added "$k3" "$k1")" 100))"
echo "reject: $r1 ns per connect (goal <= 1000 ns); connect(2) system calls in 1000 rejects: $sys"
echo "(ratio = baseline / shim throughput: 1.000x = no cost; above 1 = faster than baseline)"

fi # end of sections 1 and 2 (skipped when BENCH_ONLY is set)

# ---- helpers for the comparisons below ----

# col K: the Kth field of each line on stdin.
col() { awk -v k="$1" '{print $k}'; }
# pairdiff FILE_A FILE_B K: per interleaved repetition, field K of B minus A.
pairdiff() { paste -d' ' "$1" "$2" | awk -v k="$3" -v n="$(head -1 "$1" | wc -w)" '{print $(n + k) - $k}'; }
half() { awk -v a="$1" 'BEGIN { printf "%+.1f", a / 2 }'; }
# rotate I A B C: the variants in the order repetition I runs them.
rotate() { local i=$1; shift; local a=("$@") n=$#; for k in $(seq 0 $((n - 1))); do echo "${a[$(((i + k) % n))]}"; done; }
# await_http URL: wait (5 s at most) until URL answers 2xx; nonzero if never.
await_http() {
	for _ in $(seq 50); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}
# pin CPU: a taskset prefix, or nothing when CPU is empty or taskset missing.
pin() { if [ -n "$1" ] && command -v taskset > /dev/null; then echo "taskset -c $1"; fi; }
# instructions [VAR=VALUE...] -- CMD...: the user-space instructions CMD
# runs, counted by valgrind's callgrind (with VAR=VALUE... in its
# environment): the same count for the same binary and input whatever
# else the machine does.
instructions() {
	local e=()
	while [ "$1" != -- ]; do e+=("$1"); shift; done
	shift
	env "${e[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 > /dev/null |
		awk '/Collected :/ {print $NF}'
}
# json_field CONFIG BREAKER FIELD: a number from `recloser status --json`.
json_field() {
	"$CLI" -c "$1" status --json | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin):
    if b["name"] == sys.argv[1]:
        print(b[sys.argv[2]])' "$2" "$3"
}

NCPU=$(nproc)
# Ping-pong: client and echo server on the SAME CPU.  On this VM a wake-up
# across CPUs costs ~100 us and varies wildly; on one CPU a round trip is
# two context switches, which is faster and far steadier.
PP_CPU=${BENCH_CPU-$((NCPU - 1))}
# wrk and nginx: wrk on one CPU, nginx's worker on another.
if [ "$NCPU" -ge 2 ]; then WRK_CPU=0 NGX_CPU=1; else WRK_CPU="" NGX_CPU=""; fi

# BENCH_ONLY set: sections 3 and 4 are skipped too (unindented, as above),
# but for BENCH_ONLY=hooks: section 4, on the echo server of 3, and for
# BENCH_ONLY=pingpong: section 3
if [ -z "$ONLY" ] || [ "$ONLY" = hooks ] || [ "$ONLY" = pingpong ]; then

# ---- 3. 64-byte ping-pong on one blocking TCP connection ----

# shellcheck disable=SC2046
$(pin "$PP_CPU") "$BP" serve "$T/pp-port" > /dev/null & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/pp-port" ] && break; sleep 0.1; done
PP_PORT=$(cat "$T/pp-port")
# a second echo server: the unmatched port of the in-process comparison
# shellcheck disable=SC2046
$(pin "$PP_CPU") "$BP" serve "$T/pp-port2" > /dev/null & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/pp-port2" ] && break; sleep 0.1; done
PP_PORT2=$(cat "$T/pp-port2")
# a breaker with the default thresholds (all these calls succeed)
printf '[global]\nstate_file = %s\nlog_file = %s\n[pingpong]\nmatch = 127.0.0.1:%s\n' \
	"$T/pp-state" "$T/log" "$PP_PORT" > "$T/pp.ini"
printf '[global]\nstate_file = %s\nlog_file = %s\n[pingpong]\nmatch = 127.0.0.1:%s\n' \
	"$T/hc-state" "$T/log" "$PP_PORT" > "$T/hc.ini"
printf '[global]\nstate_file = %s\nlog_file = %s\n[pingpong]\nmatch = 127.0.0.1:%s\n' \
	"$T/mx-state" "$T/log" "$PP_PORT" > "$T/mx.ini"
# the same breaker with a response_timeout: every call arms a deadline at
# its request and clears it at its answer (the timer thread, engine/timer.h)
printf '[global]\nstate_file = %s\nlog_file = %s\n[pingpong]\nmatch = 127.0.0.1:%s\nresponse_timeout = 5s\n' \
	"$T/hd-state" "$T/log" "$PP_PORT" > "$T/hd.ini"
# the breaker with a bulkhead: every call takes a ticket at its request and
# gives it back at its answer (core/bulkhead.h)
printf '[global]\nstate_file = %s\nlog_file = %s\n[pingpong]\nmatch = 127.0.0.1:%s\nmax_concurrent = 64\n' \
	"$T/hk-state" "$T/log" "$PP_PORT" > "$T/hk.ini"

if [ "$ONLY" != hooks ]; then # BENCH_ONLY=hooks: the measurements of 3 are skipped

pp_run() { # pp_run VARIANT: one client run, appended to $T/pp.VARIANT
	local env=()
	case $1 in
	unmatched) env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/unmatched.ini") ;;
	breaker) env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/pp.ini") ;;
	esac
	# shellcheck disable=SC2046
	$(pin "$PP_CPU") env "${env[@]}" "$BP" client "$PP_PORT" "$PP_N" >> "$T/pp.$1"
}
: > "$T/pp.none"; : > "$T/pp.unmatched"; : > "$T/pp.breaker"
for i in $(seq "$PP_REPS"); do
	for v in $(rotate "$i" none unmatched breaker); do pp_run "$v"; done
done
pw_none=$(col 1 < "$T/pp.none" | median); pc_none=$(col 2 < "$T/pp.none" | median)
pw_unm=$(col 1 < "$T/pp.unmatched" | median); pc_unm=$(col 2 < "$T/pp.unmatched" | median)
pw_brk=$(col 1 < "$T/pp.breaker" | median); pc_brk=$(col 2 < "$T/pp.breaker" | median)
pdw_u=$(pairdiff "$T/pp.none" "$T/pp.unmatched" 1 | median)
pdc_u=$(pairdiff "$T/pp.none" "$T/pp.unmatched" 2 | median)
pdw_b=$(pairdiff "$T/pp.none" "$T/pp.breaker" 1 | median)
pdc_b=$(pairdiff "$T/pp.none" "$T/pp.breaker" 2 | median)
pp_made=$(col 3 < "$T/pp.breaker" | awk '{s += $1} END {print s}')
pp_calls=$(json_field "$T/pp.ini" pingpong calls)
pp_fail=$(json_field "$T/pp.ini" pingpong failures)
echo
echo "64-byte ping-pong, blocking, one TCP connection; client and echo server both on CPU ${PP_CPU:-any}"
echo "(median of $PP_REPS interleaved runs x $PP_N round trips; wall = elapsed, cpu = the client's own"
echo " CPU time; added = median of the paired differences to no shim, / 2 hooked calls per round trip)"
printf '%-20s %12s %12s %12s %12s %12s\n' "variant" "wall ns/rt" "cpu ns/rt" "throughput" "added/call" "added/call"
printf '%-20s %12s %12s %12s %12s %12s\n' "" "" "" "vs no shim" "wall ns" "cpu ns"
printf '%-20s %12s %12s %12s %12s %12s\n' "no shim" "$pw_none" "$pc_none" "1.000x" "" ""
printf '%-20s %12s %12s %12s %12s %12s\n' "shim, unmatched fd" "$pw_unm" "$pc_unm" \
	"$(ratio "$pw_none" "$pw_unm")x" "$(half "$pdw_u")" "$(half "$pdc_u")"
printf '%-20s %12s %12s %12s %12s %12s\n' "shim, breaker fd" "$pw_brk" "$pc_brk" \
	"$(ratio "$pw_none" "$pw_brk")x" "$(half "$pdw_b")" "$(half "$pdc_b")"
echo "throughput goal >= 0.99x: unmatched $(goal_min "$(ratio "$pw_none" "$pw_unm")" 0.99)," \
	"breaker $(goal_min "$(ratio "$pw_none" "$pw_brk")" 0.99)"
echo "(the no-shim runs alone spread from $(col 1 < "$T/pp.none" | sort -g | head -1) to" \
	"$(col 1 < "$T/pp.none" | sort -g | tail -1) ns per round trip: whole runs seconds apart differ by more than" \
	"the shim costs; the blocks in one process below are the steadier figure)"
if [ "$pp_calls" = "$pp_made" ] && [ "$pp_fail" = 0 ]; then verdict=ok; else verdict=WRONG; fi
echo "breaker fd counted: calls = $pp_calls, round trips made = $pp_made, failures = $pp_fail: $verdict"

# The same, inside one process under the shim: blocks of 100 round trips,
# milliseconds apart, through raw system calls (the shim never sees them),
# the unmatched fd's hooks and the breaker fd's hooks.  Steadier: drift and
# other load hit the three kinds of block alike.
: > "$T/mx.out"
for _ in $(seq "$MX_RUNS"); do
	# shellcheck disable=SC2046
	$(pin "$PP_CPU") env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/mx.ini" \
		"$BP" mixed "$PP_PORT" "$PP_PORT2" "$MX_TURNS" >> "$T/mx.out"
done
for k in $(seq 10); do mx[k]=$(col "$k" < "$T/mx.out" | median); done
mx_made=$(col 11 < "$T/mx.out" | awk '{s += $1} END {print s}')
mx_calls=$(json_field "$T/mx.ini" pingpong calls)
echo
echo "the same in one process under the shim: $MX_RUNS runs x $MX_TURNS turns of three blocks of 100 round"
echo "trips (raw system calls / unmatched fd / breaker fd, rotating); medians of blocks, then of runs;"
echo "added = median over the turns of (block - raw block of the same turn) / 2"
printf '%-20s %12s %12s %12s %12s %12s\n' "variant" "wall ns/rt" "cpu ns/rt" "throughput" "added/call" "added/call"
printf '%-20s %12s %12s %12s %12s %12s\n' "" "" "" "vs raw" "wall ns" "cpu ns"
printf '%-20s %12s %12s %12s %12s %12s\n' "raw (as no shim)" "${mx[1]}" "${mx[4]}" "1.000x" "" ""
printf '%-20s %12s %12s %12s %12s %12s\n' "shim, unmatched fd" "${mx[2]}" "${mx[5]}" \
	"$(ratio "${mx[1]}" "${mx[2]}")x" "$(half "${mx[7]}")" "$(half "${mx[9]}")"
printf '%-20s %12s %12s %12s %12s %12s\n' "shim, breaker fd" "${mx[3]}" "${mx[6]}" \
	"$(ratio "${mx[1]}" "${mx[3]}")x" "$(half "${mx[8]}")" "$(half "${mx[10]}")"
echo "throughput goal >= 0.99x: unmatched $(goal_min "$(ratio "${mx[1]}" "${mx[2]}")" 0.99)," \
	"breaker $(goal_min "$(ratio "${mx[1]}" "${mx[3]}")" 0.99);" \
	"added per hooked call goal <= 30 ns (cpu): unmatched $(goal_max "$(half "${mx[9]}")" 30)," \
	"breaker $(goal_max "$(half "${mx[10]}")" 30)"
if [ "$mx_calls" = "$mx_made" ]; then verdict=ok; else verdict=WRONG; fi
echo "breaker fd counted: calls = $mx_calls, hooked round trips made = $mx_made: $verdict"

# The same client counted in instructions, so what the hooks add is a
# figure free of the VM's noise: the client's instructions for 2 x PP_IR_N
# round trips less those for PP_IR_N, per round trip (start-up cancels
# out), with and without the shim.  The configs are the timed runs' (whose
# first process wrote their images, core/image.h: no run here does); the
# breaker's calls were counted above.
if command -v valgrind > /dev/null; then
	PP_IR_N=${BENCH_PP_IR_N:-2000}
	pp_ir() { # pp_ir VARIANT N: the client's instructions for N round trips
		local env=()
		case $1 in
		unmatched) env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/unmatched.ini") ;;
		breaker) env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/pp.ini") ;;
		esac
		instructions "${env[@]}" -- "$BP" client "$PP_PORT" "$2"
	}
	declare -A ir
	for v in none unmatched breaker; do
		a=$(pp_ir "$v" "$PP_IR_N"); b=$(pp_ir "$v" $((2 * PP_IR_N)))
		ir[$v]=$(awk -v a="$a" -v b="$b" -v n="$PP_IR_N" 'BEGIN { printf "%.1f", (b - a) / n }')
	done
	echo
	echo "the same client in instructions (callgrind: ($((2 * PP_IR_N)) - $PP_IR_N round trips) / $PP_IR_N; counted, not"
	echo "timed: the same figure, within a few instructions (when the clock takes a new base), in every"
	echo "run of the same build)"
	printf '%-20s %14s %14s\n' "variant" "instr/rt" "added/call"
	printf '%-20s %14s %14s\n' "no shim" "${ir[none]}" ""
	for v in unmatched breaker; do
		printf '%-20s %14s %14s\n' "shim, $v fd" "${ir[$v]}" \
			"$(awk -v a="${ir[none]}" -v b="${ir[$v]}" 'BEGIN { printf "%+.1f", (b - a) / 2 }')"
	done
else
	echo "(valgrind not installed: the instruction counts are skipped)"
fi
fi # end of section 3's measurements

# ---- 4. the hooks alone: fake I/O under the shim, no kernel ----
if [ "$ONLY" != pingpong ]; then

hc_run() { # hc_run VARIANT
	local pre=$T/libfakeio.so cfg=$T/unmatched.ini
	case $1 in
	unmatched) pre="$SHIM $T/libfakeio.so" ;;
	breaker) pre="$SHIM $T/libfakeio.so" cfg=$T/hc.ini ;;
	deadline) pre="$SHIM $T/libfakeio.so" cfg=$T/hd.ini ;;
	deadline_nb) pre="$SHIM $T/libfakeio.so" cfg=$T/hd.ini ;;
	bulkhead) pre="$SHIM $T/libfakeio.so" cfg=$T/hk.ini ;;
	esac
	local nb=0
	[ "$1" = deadline_nb ] && nb=1
	# shellcheck disable=SC2046
	$(pin "$PP_CPU") env BENCH_NONBLOCK=$nb LD_PRELOAD="$pre" RECLOSER_CONFIG="$cfg" \
		"$BH" "$PP_PORT" "$HC_N" >> "$T/hc.$1"
}
: > "$T/hc.none"; : > "$T/hc.unmatched"; : > "$T/hc.breaker"; : > "$T/hc.deadline"
: > "$T/hc.deadline_nb"; : > "$T/hc.bulkhead"
for i in $(seq "$HC_REPS"); do
	for v in $(rotate "$i" none unmatched breaker deadline deadline_nb bulkhead); do hc_run "$v"; done
done
best() { sort -g | head -1; }
hn=$(col 1 < "$T/hc.none" | median); hn_b=$(col 2 < "$T/hc.none" | best)
hu=$(col 1 < "$T/hc.unmatched" | median); hu_b=$(col 2 < "$T/hc.unmatched" | best)
hb=$(col 1 < "$T/hc.breaker" | median); hb_b=$(col 2 < "$T/hc.breaker" | best)
hd=$(col 1 < "$T/hc.deadline" | median); hd_b=$(col 2 < "$T/hc.deadline" | best)
# what arming and clearing a deadline adds per call: deadline - breaker
hdd=$(pairdiff "$T/hc.breaker" "$T/hc.deadline" 1 | median)
hdd_b=$(awk -v a="$hd_b" -v b="$hb_b" 'BEGIN { print a - b }')
hn2=$(col 1 < "$T/hc.deadline_nb" | median); hn2_b=$(col 2 < "$T/hc.deadline_nb" | best)
hdn=$(pairdiff "$T/hc.breaker" "$T/hc.deadline_nb" 1 | median)
hdu=$(pairdiff "$T/hc.none" "$T/hc.unmatched" 1 | median)
hdb=$(pairdiff "$T/hc.none" "$T/hc.breaker" 1 | median)
hdu_b=$(awk -v a="$hu_b" -v b="$hn_b" 'BEGIN { print a - b }')
hdb_b=$(awk -v a="$hb_b" -v b="$hn_b" 'BEGIN { print a - b }')
hk=$(col 1 < "$T/hc.bulkhead" | median); hk_b=$(col 2 < "$T/hc.bulkhead" | best)
# what taking and giving back a ticket adds per call: bulkhead - breaker
hkd=$(pairdiff "$T/hc.breaker" "$T/hc.bulkhead" 1 | median)
hkd_b=$(awk -v a="$hk_b" -v b="$hb_b" 'BEGIN { print a - b }')
hk_made=$(col 3 < "$T/hc.bulkhead" | awk '{s += $1} END {print s}')
hk_calls=$(json_field "$T/hk.ini" pingpong calls)
hk_rej=$(json_field "$T/hk.ini" pingpong rejected)
hc_made=$(col 3 < "$T/hc.breaker" | awk '{s += $1} END {print s}')
hc_calls=$(json_field "$T/hc.ini" pingpong calls)
echo
echo "the data-path hooks alone: write+read pairs on a real connected socket, answered by a fake"
echo "I/O library loaded after the shim (no system call, so no kernel noise); $HC_REPS interleaved runs"
echo "x $HC_N pairs in 9 rounds; median = of the runs' median rounds, best = the fastest round"
printf '%-20s %12s %12s %12s %12s\n' "variant" "ns/pair" "ns/pair" "added/call" "added/call"
printf '%-20s %12s %12s %12s %12s\n' "" "median" "best" "median" "best"
printf '%-20s %12s %12s %12s %12s\n' "no shim" "$hn" "$hn_b" "" ""
printf '%-20s %12s %12s %12s %12s\n' "shim, unmatched fd" "$hu" "$hu_b" "$(half "$hdu")" "$(half "$hdu_b")"
printf '%-20s %12s %12s %12s %12s\n' "shim, breaker fd" "$hb" "$hb_b" "$(half "$hdb")" "$(half "$hdb_b")"
printf '%-20s %12s %12s %12s %12s\n' "+ response_timeout" "$hd" "$hd_b" "" ""
printf '%-20s %12s %12s %12s %12s\n' "  non-blocking fd" "$hn2" "$hn2_b" "" ""
printf '%-20s %12s %12s %12s %12s\n' "+ max_concurrent" "$hk" "$hk_b" "$(ratio "$hk" "$hb")x" \
	"$(ratio "$hk_b" "$hb_b")x"
echo "arming and clearing a deadline, per call (pair), vs the same breaker without one:" \
	"non-blocking socket (an event loop's) median $(awk -v a="$hdn" 'BEGIN { printf "%+.0f", a }') ns;" \
	"blocking socket median $(awk -v a="$hdd" 'BEGIN { printf "%+.0f", a }') ns, best $(awk -v a="$hdd_b" 'BEGIN { printf "%+.0f", a }') ns" \
	"(its read also checks, with one fstat(2), that the fd still is the socket)"
echo "added per hooked call goal <= 30 ns (median / best): unmatched $(goal_max "$(half "$hdu")" 30) /" \
	"$(goal_max "$(half "$hdu_b")" 30), breaker $(goal_max "$(half "$hdb")" 30) / $(goal_max "$(half "$hdb_b")" 30)"
if [ "$hc_calls" = "$hc_made" ]; then verdict=ok; else verdict=WRONG; fi
echo "breaker fd counted: calls = $hc_calls, pairs made = $hc_made: $verdict"
echo "taking and giving back a bulkhead ticket (max_concurrent), per call (pair), vs the same breaker"
echo "without one (the + max_concurrent row's ratios are to the breaker fd's): median" \
	"$(awk -v a="$hkd" 'BEGIN { printf "%+.1f", a }') ns, best $(awk -v a="$hkd_b" 'BEGIN { printf "%+.1f", a }') ns;" \
	"goal <= 10 ns: $(goal_max "$hkd" 10) / $(goal_max "$hkd_b" 10)"
if [ "$hk_calls" = "$hk_made" ] && [ "$hk_rej" = 0 ]; then verdict=ok; else verdict=WRONG; fi
echo "bulkhead fd counted: calls = $hk_calls, pairs made = $hk_made, rejected = $hk_rej: $verdict"
fi # end of section 4 (skipped for BENCH_ONLY=pingpong)

fi # end of sections 3 and 4 (skipped when BENCH_ONLY is set)

# ---- 5. wrk against a local nginx ----

# HTTPS keep-alive: tests/clients/tls_nb.c (OpenSSL, a non-blocking
# session, one connection) makes TLS_N requests to nginx's TLS port, with
# and without the shim (a breaker on that port: each request judged in
# the TLS layer), interleaved; wall time per request, medians and ratio.
bench_https() {
	TLS_N=${BENCH_TLS_N:-5000}
	TLS_REPS=${BENCH_TLS_REPS:-7}
	if ! ${CC:-cc} -O2 -o "$T/tls_nb" tests/clients/tls_nb.c -lssl -lcrypto 2>/dev/null; then
		echo; echo "HTTPS keep-alive: skipped (cannot build tests/clients/tls_nb.c: libssl-dev)"
		return 0
	fi
	printf '[global]\nstate_file = %s\nlog_file = %s\n[https]\nmatch = 127.0.0.1:%s\n' \
		"$T/tls-state" "$T/log" "$NGX_TLS" > "$T/tls.ini"
	tls_run() { # tls_run VARIANT: ns per request, appended to $T/tls.VARIANT
		local env=() t0 t1 n
		[ "$1" = shim ] && env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/tls.ini")
		t0=$(date +%s%N)
		# shellcheck disable=SC2046
		n=$($(pin "$WRK_CPU") env "${env[@]}" "$T/tls_nb" "$NGX_TLS" "$TLS_N" | grep -c ' 200 ')
		t1=$(date +%s%N)
		[ "$n" = "$TLS_N" ] || echo "tls_nb ($1): $n of $TLS_N answered 200"
		echo $(((t1 - t0) / TLS_N)) >> "$T/tls.$1"
	}
	: > "$T/tls.none"; : > "$T/tls.shim"
	for i in $(seq "$TLS_REPS"); do
		for v in $(rotate "$i" none shim); do tls_run "$v"; done
	done
	local tn ts tpair tcalls
	tn=$(median < "$T/tls.none")
	ts=$(median < "$T/tls.shim")
	tpair=$(paste -d' ' "$T/tls.none" "$T/tls.shim" | awk '{printf "%.3f\n", $1 / $2}' | median)
	tcalls=$(json_field "$T/tls.ini" https calls)
	echo
	echo "HTTPS keep-alive, an OpenSSL client (non-blocking session, one connection) x $TLS_N requests to"
	echo "nginx's TLS port; median of $TLS_REPS interleaved runs; the shim judging each request in OpenSSL"
	printf '%-20s %12s %12s %12s\n' "variant" "ns/request" "vs no shim" "paired"
	printf '%-20s %12s %12s %12s\n' "no shim" "$tn" "1.000x" ""
	printf '%-20s %12s %12s %12s\n' "shim, breaker" "$ts" "$(ratio "$tn" "$ts")x" "${tpair}x"
	echo "throughput goal >= 0.99x: $(goal_min "$(ratio "$tn" "$ts")" 0.99)"
	if [ "$tcalls" = $((TLS_N * TLS_REPS)) ]; then verdict=ok; else verdict=WRONG; fi
	echo "judged in the TLS layer: calls = $tcalls, requests made = $((TLS_N * TLS_REPS)): $verdict"
}

bench_wrk() { # a function, so that a skip still lets the sections below run
	NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
	echo
	if ! command -v wrk > /dev/null || [ ! -x "$NGINX" ]; then
		echo "wrk vs nginx, and through HAProxy: skipped (wrk or nginx missing: run scripts/deps.sh)"
		return 0
	fi
	NGX_PORT=$(/usr/bin/python3 scripts/faultserver.py closedport)
	NGX_TLS=$(/usr/bin/python3 scripts/faultserver.py closedport)
	mkdir -p "$T/nginx/tmp"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/nginx/key.pem" -out "$T/nginx/cert.pem" -days 2 -subj /CN=127.0.0.1 \
		>/dev/null 2>&1
	user_line=""
	[ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
	sed -e "s|@PREFIX@|$T/nginx|g" -e "s|@PORT@|$NGX_PORT|g" -e "s|@TLSPORT@|$NGX_TLS|g" \
		-e "s|@USER@|$user_line|" \
		scripts/bench-nginx.conf.in > "$T/nginx/nginx.conf"
	# shellcheck disable=SC2046
	$(pin "$NGX_CPU") "$NGINX" -p "$T/nginx/" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" \
		> "$T/nginx/out" 2>&1 &
	local ngx=$!
	PIDS+=("$ngx")
	if ! await_http "http://127.0.0.1:$NGX_PORT/"; then
		echo "wrk vs nginx: nginx did not start:"; cat "$T/nginx/out" "$T/nginx/error.log" 2>/dev/null
		return 0
	fi
	printf '[global]\nstate_file = %s\nlog_file = %s\n[nginx]\nmatch = 127.0.0.1:%s\n' \
		"$T/ngx-state" "$T/log" "$NGX_PORT" > "$T/ngx.ini"
	if [ -n "$ONLY" ]; then # BENCH_ONLY=haproxy: only section 6, on this nginx
		bench_haproxy
		kill "$ngx" 2> /dev/null || true
		return 0
	fi

	wrk_run() { # wrk_run VARIANT: "requests/s requests cpu_ns/request", appended to $T/wrk.VARIANT
		local env=()
		[ "$1" = shim ] && env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/ngx.ini")
		# wrk's own CPU time (user + system): `times` in a subshell
		# shellcheck disable=SC2046
		($(pin "$WRK_CPU") env "${env[@]}" wrk -t1 -c16 -d"${WRK_SECS}s" \
			"http://127.0.0.1:$NGX_PORT/" > "$T/wrk.out"; times > "$T/wrk.times")
		if grep -qE 'Non-2xx|Socket errors' "$T/wrk.out"; then
			echo "wrk ($1) reported errors:"; cat "$T/wrk.out"
		fi
		awk '/Requests\/sec:/ {r = $2} / requests in / {n = $1} END {print r, n}' "$T/wrk.out" |
			paste -d' ' - <(awk 'NR == 2 { t = 0
				for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
				print t }' "$T/wrk.times") |
			awk '{printf "%s %s %.0f\n", $1, $2, $3 * 1e9 / $2}' >> "$T/wrk.$1"
	}
	: > "$T/wrk.none"; : > "$T/wrk.shim"
	for i in $(seq "$WRK_REPS"); do
		for v in $(rotate "$i" none shim); do wrk_run "$v"; done
	done
	wn=$(col 1 < "$T/wrk.none" | median)
	ws=$(col 1 < "$T/wrk.shim" | median)
	wpair=$(paste -d' ' "$T/wrk.none" "$T/wrk.shim" | awk '{printf "%.3f\n", $4 / $1}' | median)
	wc0=$(col 3 < "$T/wrk.none" | median)
	wc1=$(col 3 < "$T/wrk.shim" | median)
	wcpair=$(paste -d' ' "$T/wrk.none" "$T/wrk.shim" | awk '{printf "%.3f\n", $3 / $6}' | median)
	wcadd=$(paste -d' ' "$T/wrk.none" "$T/wrk.shim" | awk '{print $6 - $3}' | median)
	wreq=$(col 2 < "$T/wrk.shim" | awk '{s += $1} END {print s}')
	wcalls=$(json_field "$T/ngx.ini" nginx calls)
	wfail=$(json_field "$T/ngx.ini" nginx failures)
	bench_https
	echo "wrk -t1 -c16 -d${WRK_SECS}s against nginx on 127.0.0.1 (wrk on CPU ${WRK_CPU:-any}, nginx on CPU ${NGX_CPU:-any});"
	echo "median of $WRK_REPS interleaved runs each; the shim preloaded on wrk, a breaker matching nginx's port"
	printf '%-20s %12s %12s %12s %14s %12s\n' "variant" "requests/s" "vs no shim" "paired" \
		"wrk cpu ns/req" "paired"
	printf '%-20s %12s %12s %12s %14s %12s\n' "no shim" "$wn" "1.000x" "" "$wc0" ""
	printf '%-20s %12s %12s %12s %14s %12s\n' "shim, breaker" "$ws" "$(ratio "$ws" "$wn")x" \
		"${wpair}x" "$wc1" "${wcpair}x"
	echo "(paired = median over the repetitions of shim / no shim in the same repetition; wrk cpu ="
	echo " wrk's own user + system time per response, paired: $(printf '%+.0f' "$wcadd") ns per request," \
		"at least 2 hooked calls each)"
	echo "requests/s goal >= 0.99x: $(goal_min "$(ratio "$ws" "$wn")" 0.99);" \
		"breaker calls = $wcalls for $wreq responses wrk counted, failures = $wfail"
	bench_haproxy # while nginx still runs
	kill "$ngx" 2> /dev/null || true
}

# ---- 6. the proxy way: an HAProxy hop vs direct vs the shim ----

# A circuit breaker is often kept out of the client, in a proxy in front of
# the server: HAProxy's health checks plus `observe layer7` mark a failing
# server down and answer 503 instead.  The same wrk load against bench_wrk's
# nginx three ways, interleaved: direct; through an HAProxy hop on loopback
# (scripts/bench-haproxy.cfg.in, the breaker in the proxy); direct with the
# shim on wrk (a breaker matching nginx's port, the breaker in the client).
# Requests/s and wrk's p99 latency for each.  Called by bench_wrk while its
# nginx runs ($NGX_PORT, $NGX_CPU).
bench_haproxy() {
	local haproxy
	haproxy=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
	echo
	if [ ! -x "$haproxy" ]; then
		echo "wrk through HAProxy: skipped (haproxy missing: run scripts/deps.sh)"
		return 0
	fi
	local hport
	hport=$(/usr/bin/python3 scripts/faultserver.py closedport)
	mkdir -p "$T/haproxy"
	sed -e "s|@PORT@|$hport|g" -e "s|@NGXPORT@|$NGX_PORT|g" \
		scripts/bench-haproxy.cfg.in > "$T/haproxy/haproxy.cfg"
	if ! "$haproxy" -c -q -f "$T/haproxy/haproxy.cfg" > "$T/haproxy/out" 2>&1; then
		echo "wrk through HAProxy: skipped (haproxy rejects scripts/bench-haproxy.cfg.in):"
		cat "$T/haproxy/out"
		return 0
	fi
	# on nginx's CPU, as its one worker is: the server side, so that wrk
	# has its CPU to itself in all three variants (see the config's notes)
	# shellcheck disable=SC2046
	$(pin "$NGX_CPU") "$haproxy" -db -f "$T/haproxy/haproxy.cfg" > "$T/haproxy/out" 2>&1 &
	local hap=$!
	PIDS+=("$hap")
	if ! await_http "http://127.0.0.1:$hport/"; then
		echo "wrk through HAProxy: haproxy did not pass a request to nginx:"; cat "$T/haproxy/out"
		kill "$hap" 2> /dev/null || true
		return 0
	fi
	# its own state file, so that its calls are this section's alone
	printf '[global]\nstate_file = %s\nlog_file = %s\n[nginx]\nmatch = 127.0.0.1:%s\n' \
		"$T/hap-state" "$T/log" "$NGX_PORT" > "$T/hap.ini"

	hap_run() { # hap_run VARIANT: "requests/s p99_us requests", appended to $T/hap.VARIANT
		local env=() url=http://127.0.0.1:$NGX_PORT/
		case $1 in
		hop) url=http://127.0.0.1:$hport/ ;;
		shim) env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/hap.ini") ;;
		esac
		# shellcheck disable=SC2046
		$(pin "$WRK_CPU") env "${env[@]}" wrk -t1 -c16 -d"${WRK_SECS}s" --latency "$url" \
			> "$T/hap.out"
		if grep -qE 'Non-2xx|Socket errors' "$T/hap.out"; then
			echo "wrk ($1) reported errors:"; cat "$T/hap.out"
		fi
		# the "99%" line of --latency's distribution: wrk prints the
		# unit it chose (us, ms, s; m and h for very slow), all to us
		awk '/Requests\/sec:/ {r = $2} / requests in / {n = $1}
			$1 == "99%" { v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u)
				p = v * (u == "ms" ? 1e3 : u == "s" ? 1e6 : u == "m" ? 6e7 : u == "h" ? 3.6e9 : 1) }
			END {printf "%s %.0f %s\n", r, p, n}' "$T/hap.out" >> "$T/hap.$1"
	}
	: > "$T/hap.direct"; : > "$T/hap.hop"; : > "$T/hap.shim"
	for i in $(seq "$HAP_REPS"); do
		for v in $(rotate "$i" direct hop shim); do hap_run "$v"; done
	done
	kill "$hap" 2> /dev/null || true
	local rd rh rs pd ph ps hreq hcalls
	rd=$(col 1 < "$T/hap.direct" | median); pd=$(col 2 < "$T/hap.direct" | median)
	rh=$(col 1 < "$T/hap.hop" | median); ph=$(col 2 < "$T/hap.hop" | median)
	rs=$(col 1 < "$T/hap.shim" | median); ps=$(col 2 < "$T/hap.shim" | median)
	hreq=$(col 3 < "$T/hap.shim" | awk '{s += $1} END {print s}')
	hcalls=$(json_field "$T/hap.ini" nginx calls)
	echo "the proxy way: wrk -t1 -c16 -d${WRK_SECS}s --latency against the same nginx, direct, through an"
	echo "HAProxy hop on 127.0.0.1 (one thread, on nginx's CPU ${NGX_CPU:-any}; health checks, observe layer7,"
	echo "error-limit 10, on-error mark-down) and direct with the shim on wrk (a breaker matching nginx's"
	echo "port); wrk on CPU ${WRK_CPU:-any}; median of $HAP_REPS interleaved runs each"
	printf '%-20s %12s %12s %12s\n' "variant" "requests/s" "vs direct" "p99 (µs)"
	printf '%-20s %12s %12s %12s\n' "direct" "$rd" "1.000x" "$pd"
	printf '%-20s %12s %12s %12s\n' "HAProxy hop" "$rh" "$(ratio "$rh" "$rd")x" "$ph"
	printf '%-20s %12s %12s %12s\n' "shim, breaker" "$rs" "$(ratio "$rs" "$rd")x" "$ps"
	echo "p99 added to direct: the hop $(added "$ph" "$pd") µs, the shim $(added "$ps" "$pd") µs;" \
		"breaker calls = $hcalls for $hreq responses wrk counted under the shim"
	# judged on the figure shown, so the line never reads "1.50x ... MISSED"
	local rsh
	rsh=$(awk -v a="$rs" -v b="$rh" 'BEGIN { printf "%.2f", a / b }')
	echo "shim vs the HAProxy hop: ${rsh}x requests/s (goal >= 1.5x): $(goal_min "$rsh" 1.5)"
}

# ---- 7. scale: lookups among 100,000 patterns; 4,096 breakers ----
# tests/bench/bench_match.c times rc_match on configs of 1,000 to 100,000
# patterns (the compiled index; the linear scan it replaced up to 10,000).
# Then a process's start-up (exec to exit of bench_connect, 5 connects)
# and memory (bench_connect serving, after one connect reached it: its
# smaps_rollup: RSS, and the anonymous memory that is the process's own)
# without the shim, with a 1-breaker config and with a
# 4,096-breaker config (one pattern each), as on a host where the service
# ran before: its state file made, in /dev/shm where the default is, and
# its config image written (core/image.h) by an earlier process.  Knobs:
# BENCH_MATCH_N (200000 lookups per round), BENCH_SU_N (100 processes per
# round), BENCH_SU_REPS (9).
bench_scale() {
	echo
	if ! "$BM" "${BENCH_MATCH_N:-200000}" > "$T/match.out"; then
		echo "destination lookups: bench_match failed"
		return 0
	fi
	echo "destination lookups (rc_match: the compiled index; linear: the scan it replaced), median ns of 5 rounds"
	printf '%-10s %9s %12s %8s %8s %8s %8s %12s\n' patterns breakers "index bytes" "v4 hit" \
		"v4 miss" "v6 hit" "name" "linear miss"
	grep -v '^#' "$T/match.out" | while read -r p b ib h m v n l; do
		printf '%-10s %9s %12s %8s %8s %8s %8s %12s\n' "$p" "$b" "$ib" "$h" "$m" "$v" "$n" "$l"
	done
	local worst
	worst=$(awk '!/^#/ && $1 == 100000 { m = $4; for (i = 5; i <= 7; i++) if ($i > m) m = $i; print m }' \
		"$T/match.out")
	echo "lookup among 100,000 patterns, the slowest kind: $worst ns (goal <= 100 ns: $(goal_max "$worst" 100))"

	SHM_STATE=/dev/shm/recloser-bench-$$
	awk -v st="$SHM_STATE-4096" -v lf="$T/log" 'BEGIN {
		printf "[global]\nstate_file = %s\nlog_file = %s\n", st, lf
		for (i = 0; i < 4096; i++) printf "\n[s%d]\nmatch = 10.%d.%d.1:80\n", i, int(i / 256), i % 256
	}' > "$T/b4096.ini"
	printf '[global]\nstate_file = %s\nlog_file = %s\n[s0]\nmatch = 10.0.0.1:80\n' \
		"$SHM_STATE-1" "$T/log" > "$T/b1.ini"
	sleep 2.1 # a config changed in the last 2 s gets no image (core/image.h)
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/b4096.ini "$BC" connect "$PORT" 5 > /dev/null
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/b1.ini "$BC" connect "$PORT" 5 > /dev/null
	local nimg=0 f
	for f in "$T/b4096.ini" "$T/b1.ini"; do # core/image.c's name: the path's FNV-1a
		f=$(/usr/bin/python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode(): h = ((h ^ b) * 0x100000001b3) % 2**64
print("recloser-%s-%016x.config" % (sys.argv[2], h))' "$f" "$(id -u)")
		[ -f "$T/$f" ] && nimg=$((nimg + 1))
	done
	local sun=${BENCH_SU_N:-100} v i t0 t1
	su_run() { # su_run VARIANT: us per process, appended to $T/su.VARIANT
		local env=()
		[ "$1" != none ] && env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/$1.ini")
		t0=$(date +%s%N)
		for _ in $(seq "$sun"); do env "${env[@]}" "$BC" connect "$PORT" 5 > /dev/null; done
		t1=$(date +%s%N)
		echo $(((t1 - t0) / sun / 1000)) >> "$T/su.$1"
	}
	: > "$T/su.none"; : > "$T/su.b1"; : > "$T/su.b4096"
	for i in $(seq "${BENCH_SU_REPS:-9}"); do
		for v in $(rotate "$i" none b1 b4096); do su_run "$v"; done
	done
	mem_of() { # mem_of VARIANT: "rss_kib anonymous_kib" of a serving bench_connect
		local env=() pid
		[ "$1" != none ] && env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/$1.ini")
		rm -f "$T/mport"
		env "${env[@]}" "$BC" serve "$T/mport" & pid=$!
		for _ in $(seq 100); do [ -s "$T/mport" ] && break; sleep 0.02; done
		"$BC" connect "$(cat "$T/mport")" 5 > /dev/null
		awk '/^Rss:/ {r = $2} /^Anonymous:/ {p = $2} END {print r, p}' \
			"/proc/$pid/smaps_rollup"
		kill "$pid"; wait "$pid" 2> /dev/null || true
	}
	local m0 m1 m4 s0 s1 s4
	m0=$(mem_of none); m1=$(mem_of b1); m4=$(mem_of b4096)
	s0=$(median < "$T/su.none"); s1=$(median < "$T/su.b1"); s4=$(median < "$T/su.b4096")
	echo
	echo "a process (bench_connect, 5 connects), median of ${BENCH_SU_REPS:-9} interleaved rounds of $sun;"
	echo "memory: the same program serving, after a connect reached it (KiB, smaps_rollup)"
	printf '%-24s %14s %14s %10s %12s\n' variant "start-up (us)" "added (us)" "RSS" "anonymous"
	printf '%-24s %14s %14s %10s %12s\n' "no shim" "$s0" "" "${m0% *}" "${m0#* }"
	printf '%-24s %14s %14s %10s %12s\n' "shim, 1 breaker" "$s1" "$(added "$s1" "$s0")" "${m1% *}" "${m1#* }"
	printf '%-24s %14s %14s %10s %12s\n' "shim, 4096 breakers" "$s4" "$(added "$s4" "$s0")" "${m4% *}" "${m4#* }"
	local su_add priv_add rss_add su_add1
	# judged on the median of each round's difference (the variants of a
	# round run back to back, so a drift of the machine's speed between
	# rounds, larger here than what is measured, cancels)
	su_add=$(pairdiff "$T/su.none" "$T/su.b4096" 1 | median)
	su_add1=$(pairdiff "$T/su.none" "$T/su.b1" 1 | median)
	su_add=$(awk -v a="$su_add" 'BEGIN { printf "%+d", a }')
	priv_add=$((${m4#* } - ${m0#* })); rss_add=$((${m4% *} - ${m0% *}))
	echo "added, the median of the rounds' differences: 1 breaker $(awk -v a="$su_add1" 'BEGIN { printf "%+d", a }') us, 4,096 breakers $su_add us;" \
		"config images written by the first processes and used by the rest: $nimg of 2"
	echo "start-up added with 4,096 breakers: $su_add us (goal <= 1000 us: $(goal_max "$su_add" 1000));" \
		"memory added: $priv_add KiB anonymous (goal <= 1024 KiB: $(goal_max "$priv_add" 1024))," \
		"$rss_add KiB RSS (the rest: the shim's code and the state file's pages, shared by every process)"
}

if [ -z "$ONLY" ] || [ "$ONLY" = haproxy ]; then bench_wrk; fi
if [ -z "$ONLY" ] || [ "$ONLY" = scale ]; then bench_scale; fi
if [ -n "$ONLY" ]; then # BENCH_ONLY: the libcurl transfers are skipped too
	echo
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi

# ==== libcurl transfers (shim/hooks/curl.c) ===================================
# N x curl_easy_perform on one reused handle against a small keep-alive HTTP
# server (tests/curl/curl_bench.c, built here against the system's libcurl),
# without the shim and with it (a breaker matching the server: every transfer
# admitted, judged and counted).  The two run interleaved, alternating which
# goes first.  Shown per transfer: the wall clock, and the client's own CPU
# time (what the shim adds, whatever else the machine is doing).  Knobs:
# BENCH_CURL_N (4000), BENCH_CURL_REPS (15), BENCH_CURL_VALGRIND (1: count
# instructions with callgrind when installed).  Skipped without libcurl headers.
CB_N=${BENCH_CURL_N:-4000}
CB_REPS=${BENCH_CURL_REPS:-15}
echo
if ! printf '#include <curl/curl.h>\n' | cc -E -x c - > /dev/null 2>&1; then
	echo "libcurl transfers: skipped (no libcurl headers; scripts/deps.sh installs libcurl4-openssl-dev)"
else
	CB=$T/curl_bench
	cc -O2 -pthread -o "$CB" "$ROOT/tests/curl/curl_bench.c" -lcurl
	"$CB" serve "$T/cb.port" & cb_srv=$!
	PIDS+=("$cb_srv")
	for _ in $(seq 50); do [ -s "$T/cb.port" ] && break; sleep 0.1; done
	CB_PORT=$(cat "$T/cb.port")
	CB_URL=http://127.0.0.1:$CB_PORT/
	cat > "$T/cb.ini" <<INI
[global]
state_file = $T/cb.state
log_file = $T/cb.log
[curlbench]
match = 127.0.0.1:$CB_PORT
failure_threshold = 0
failure_rate = 0
INI
	cb_run() { # cb_run none|shim: "wall_ns cpu_ns" per transfer, appended to $T/cb.VARIANT
		if [ "$1" = shim ]; then
			LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/cb.ini "$CB" run "$CB_URL" "$CB_N"
		else
			"$CB" run "$CB_URL" "$CB_N"
		fi >> "$T/cb.$1"
	}
	cb_med() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	cb_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
	: > "$T/cb.none"; : > "$T/cb.shim"
	for i in $(seq "$CB_REPS"); do
		if [ $((i % 2)) = 1 ]; then cb_run none; cb_run shim; else cb_run shim; cb_run none; fi
	done
	cw0=$(awk '{print $1}' "$T/cb.none" | cb_med); cw1=$(awk '{print $1}' "$T/cb.shim" | cb_med)
	cu0=$(awk '{print $2}' "$T/cb.none" | cb_med); cu1=$(awk '{print $2}' "$T/cb.shim" | cb_med)
	cwp=$(paste -d' ' "$T/cb.none" "$T/cb.shim" | awk '{printf "%.3f\n", $1 / $3}' | cb_med)
	cup=$(paste -d' ' "$T/cb.none" "$T/cb.shim" | awk '{printf "%.3f\n", $2 / $4}' | cb_med)
	cb_calls=$(RECLOSER_CONFIG=$T/cb.ini "$CLI" status curlbench --json |
		/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["calls"])')
	cb_want=$((CB_N / 5 * 5 * CB_REPS))
	cb_wr=$(cb_ratio "$cw0" "$cw1")
	echo "libcurl: $CB_N x curl_easy_perform on one handle, keep-alive HTTP on 127.0.0.1;"
	echo "median of $CB_REPS interleaved runs (each the median of 5 rounds); shim: a breaker matching the server"
	printf '%-30s %12s %12s %10s %10s\n' "per transfer" "no shim ns" "shim ns" "ratio" "paired"
	printf '%-30s %12s %12s %10s %10s\n' "wall clock" "$cw0" "$cw1" "${cb_wr}x" "${cwp}x"
	printf '%-30s %12s %12s %10s %10s\n' "client CPU time" "$cu0" "$cu1" "$(cb_ratio "$cu0" "$cu1")x" "${cup}x"
	echo "(ratio = no shim / shim time per transfer: transfers/s relative to no shim; paired = median"
	echo " over the repetitions of that ratio within one repetition)"
	echo "transfers/s goal >= 0.99x: $(awk -v v="$cb_wr" 'BEGIN { print (v >= 0.99 ? "met" : "MISSED") }');" \
		"breaker calls = $cb_calls for $cb_want transfers made under the shim" \
		"($( [ "$cb_calls" = "$cb_want" ] && echo "one call per transfer" || echo "MISMATCH"))"
	# The same loop's user-space instructions per transfer, counted by
	# callgrind (no noise from the machine): the transfers of a long run
	# minus a short one, so start-up costs cancel.
	if command -v valgrind > /dev/null && [ "${BENCH_CURL_VALGRIND:-1}" != 0 ]; then
		cb_ir() { # cb_ir none|shim N: instructions of the whole run
			local env=()
			[ "$1" = shim ] && env=(LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/cb.ini")
			instructions "${env[@]}" -- "$CB" run "$CB_URL" "$2"
		}
		ci0=$(( ($(cb_ir none 1200) - $(cb_ir none 200)) / 1000 ))
		ci1=$(( ($(cb_ir shim 1200) - $(cb_ir shim 200)) / 1000 ))
		printf '%-30s %12s %12s %10s\n' "user instructions (callgrind)" "$ci0" "$ci1" "$(cb_ratio "$ci0" "$ci1")x"
		echo "(the shim adds $((ci1 - ci0)) user-space instructions per transfer; the kernel's share" \
			"of a transfer's CPU time is not counted here)"
	fi
	kill "$cb_srv" 2> /dev/null || true
fi
# ==== end of libcurl transfers ===============================================
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
