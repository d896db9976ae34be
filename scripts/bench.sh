#!/usr/bin/env bash
# make bench: each comparison side by side in one run, as medians and ratios.
# This machine is noisy: read the ratios, not the absolute numbers.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
SHIM=$ROOT/build/librecloser.so
CLI=$ROOT/build/recloser
BC=$ROOT/build/t/bench_connect
T=$(mktemp -d /tmp/recloser-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
N=${BENCH_N:-20000}
ROUNDS=${BENCH_ROUNDS:-3}

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

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_rounds() { # run_rounds OUTFILE CMD...
	local out=$1; shift
	for _ in $(seq "$ROUNDS"); do "$@"; done > "$out"
}

echo "recloser bench: $(nproc) cores, N=$N per run, median of $ROUNDS runs x 5 rounds"
echo

# 1. connect to an accepting local server: no shim / unmatched / matched,
#    interleaved so drift hits all three alike.
: > "$T/c0"; : > "$T/c1"; : > "$T/c2"
for _ in $(seq "$ROUNDS"); do
	"$BC" connect "$PORT" "$N" >> "$T/c0"
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/unmatched.ini "$BC" connect "$PORT" "$N" >> "$T/c1"
	LD_PRELOAD=$SHIM RECLOSER_CONFIG=$T/matched.ini "$BC" connect "$PORT" "$N" >> "$T/c2"
done
c0=$(median < "$T/c0"); c1=$(median < "$T/c1"); c2=$(median < "$T/c2")

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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.0f", a - b }'; }

printf '%-44s %12s %12s %10s\n' "comparison" "ns/op" "baseline" "ratio"
printf '%-44s %12s %12s %10s\n' "connect+close, unmatched dest vs no shim" "$c1" "$c0" "$(ratio "$c0" "$c1")x"
printf '%-44s %12s %12s %10s\n' "connect+close, matched dest vs no shim" "$c2" "$c0" "$(ratio "$c0" "$c2")x"
printf '%-44s %12s %12s %10s\n' "connect rejected by open breaker vs kernel" "$r1" "$r0" "$(ratio "$r0" "$r1")x"
echo
echo "added per connect: unmatched $(added "$c1" "$c0") ns, matched $(added "$c2" "$c0") ns"
echo "reject: $r1 ns per connect (goal <= 1000 ns); connect(2) system calls in 1000 rejects: $sys"
echo "(ratio = baseline / shim throughput: 1.000x = no cost; above 1 = faster than baseline)"
