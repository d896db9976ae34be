#!/bin/bash
# fuzz.sh - build the libFuzzer harnesses of tests/fuzz/ and run each for a
# bounded time (`make fuzz` runs it; so does CI).
#
#   FUZZ_SECS=60        seconds per harness (-max_total_time)
#   FUZZ_HARNESSES=...  which ones, default "config http shm cli"
#   FUZZ_ARGS=...       more libFuzzer flags for every harness
#
# Each harness NAME runs on a fresh copy of its seed corpus in
# build/fuzz/corpus/NAME (tests/fuzz/corpus/NAME is never written; the
# config harness also gets conf/'s INI files, the shm harness the state
# files it makes itself, see tests/fuzz/shm.c) with tests/fuzz/NAME.dict.
# Its files go under build/fuzz/tmp/NAME, its output to build/fuzz/NAME.log,
# a crashing input to build/fuzz/artifacts/NAME/.  Prints, per harness, the
# runs, the time, the corpus at the end and the coverage; exits 1 if any
# harness crashed (a sanitizer report, a leak, a timeout or a contract the
# harness checks), with the report and how to replay the input.
set -u
cd "$(dirname "$0")/.." || exit 1

secs=${FUZZ_SECS:-60}
harnesses=${FUZZ_HARNESSES:-"config http shm cli"}
F=build/fuzz
root=$(pwd)

case "$secs" in
'' | *[!0-9]*) echo "fuzz.sh: FUZZ_SECS must be a number of seconds, not '$secs'" >&2; exit 2 ;;
esac
command -v "${FUZZ_CC:-clang}" >/dev/null || {
	echo "fuzz.sh: ${FUZZ_CC:-clang} not found: run scripts/deps.sh (clang, libclang-rt-14-dev)" >&2
	exit 1
}

targets=""
for h in $harnesses; do
	[ -f "tests/fuzz/$h.c" ] || { echo "fuzz.sh: no harness tests/fuzz/$h.c" >&2; exit 2; }
	targets="$targets $F/$h"
done
# shellcheck disable=SC2086
${MAKE:-make} -s --no-print-directory $targets || exit 1

# Readable stacks; UBSan stops at its first report (the build also says so).
for s in /usr/lib/llvm-14/bin/llvm-symbolizer "$(command -v llvm-symbolizer 2>/dev/null)"; do
	if [ -n "$s" ] && [ -x "$s" ]; then
		export ASAN_SYMBOLIZER_PATH="$s" UBSAN_SYMBOLIZER_PATH="$s"
		break
	fi
done
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}strict_string_checks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

# stat::NAME of a libFuzzer log
lstat_() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }

failed=""
printf '%-7s %10s %6s %8s %13s %6s %7s\n' harness runs time exec/s corpus cov ft
for h in $harnesses; do
	corpus=$F/corpus/$h art=$F/artifacts/$h tmp=$F/tmp/$h log=$F/$h.log
	rm -rf "$corpus" "$art" "$tmp"
	mkdir -p "$corpus" "$art" "$tmp"
	cp tests/fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null
	extra=()
	case $h in
	config)
		for f in $(find conf -name '*.ini' | LC_ALL=C sort); do
			cp "$f" "$corpus/conf-$(echo "${f#conf/}" | tr / -)"
		done
		;;
	shm)
		# fresh and used state files, made by rc_shm_open itself
		TMPDIR=$root/$tmp RECLOSER_FUZZ_SEEDS=$corpus "$F/shm" || { echo "fuzz.sh: shm seeds failed" >&2; exit 1; }
		extra+=(-max_len=80000)
		;;
	cli)
		# the CLI's stderr (usage texts) is closed; libFuzzer's and the
		# sanitizers' output is kept
		extra+=(-close_fd_mask=2)
		;;
	esac
	start=$(date +%s)
	# shellcheck disable=SC2086
	TMPDIR=$root/$tmp "$F/$h" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
		-dict=tests/fuzz/"$h".dict -artifact_prefix="$root/$art/" "${extra[@]}" ${FUZZ_ARGS:-} \
		"$corpus" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	files=$(find "$corpus" -type f | wc -l)
	kb=$(find "$corpus" -type f -printf '%s\n' | awk '{ n += $1 } END { printf "%.1f", n / 1024 }')
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	printf '%-7s %10s %5ss %8s %13s %6s %7s\n' "$h" "$(lstat_ number_of_executed_units "$log")" \
		"$took" "$(lstat_ average_exec_per_sec "$log")" "$files/${kb}K" "${cov:--}" "${ft:--}"
	if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$art")" ]; then
		failed="$failed $h"
		echo "--- $h failed (exit $rc); from $log:"
		awk '/contract broken|ERROR: |runtime error|WARNING: / { p = 1 } p' "$log" |
			grep -v -E '^#[0-9]+ |^"|^###### |^stat::' | head -n 45
		for a in "$art"/*; do
			[ -e "$a" ] && echo "--- replay: TMPDIR=$F/tmp $F/$h ${extra[*]} $a"
		done
	fi
	rm -rf "$tmp"
done

if [ -n "$failed" ]; then
	echo "fuzz.sh: FAILED:$failed" >&2
	exit 1
fi
echo "fuzz.sh: no crash in" "$harnesses" "(${secs}s each)"
