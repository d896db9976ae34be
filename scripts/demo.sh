#!/usr/bin/env bash
# demo.sh - `make demo`: a narrated tour of recloser against local services.
#
# Two little HTTP services on 127.0.0.1 (scripts/faultserver.py, never run
# under the shim): "inventory" stays healthy; "payments" goes down (its port
# drops every SYN, like a crashed host) and later comes back on the same port.
# The real /usr/bin/curl and /usr/bin/python3 call them, without and with the
# shim, and the demo shows the timings, the log, `recloser status`, and the
# breaker closing by itself.  Everything lives in a temp dir with its own
# config, state file and log; the defaults are never touched.
#
# It is also a smoke test: every step is checked, and the demo stops with a
# message and a non-zero exit status when recloser does not behave.
# RECLOSER_DEMO_KEEP=1 keeps the temp dir.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
SHIM=$ROOT/build/librecloser.so
RECLOSER=$ROOT/build/recloser
PY=/usr/bin/python3
CURL=/usr/bin/curl
FAULT=$ROOT/scripts/faultserver.py

# The story's knobs (they go into the config below).
CONNECT_TIMEOUT=1       # s
FAILURE_THRESHOLD=3
OPEN_DURATION=3         # s
SUCCESS_THRESHOLD=2
CURL_TIMEOUT=3          # s: the caller's own timeout, with or without recloser
STEP_LIMIT=20           # s: no single command may take longer than this
TOTAL_LIMIT=60          # s: the whole demo

# The demo itself never runs under the shim, and talks to 127.0.0.1 directly.
unset LD_PRELOAD RECLOSER_CONFIG RECLOSER_DISABLE
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export LC_NUMERIC=C

START_US=${EPOCHREALTIME/[.,]/}

# ---- presentation ----

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	B=$'\e[1m' RED=$'\e[31m' GRN=$'\e[32m' YEL=$'\e[33m' CYA=$'\e[36m' OFF=$'\e[0m'
else
	B='' RED='' GRN='' YEL='' CYA='' OFF=''
fi

SECTION=0
section() {
	SECTION=$((SECTION + 1))
	GAP=0
	printf '\n%s== %d. %s ==%s\n\n' "$B$CYA" "$SECTION" "$*" "$OFF"
}
# gap: a blank line after check marks, before what follows them.
GAP=0
gap() { ((GAP)) && echo; GAP=0; }
# say TEXT...: narration, one paragraph, wrapped.
say() { gap; printf '%s\n' "$*" | fmt -w 78; echo; }
good() { printf '  %s✔ %s%s\n' "$GRN" "$*" "$OFF"; GAP=1; }
indent() { sed 's/^/    /'; }

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# fmt_us MICROSECONDS: "42 µs", "3.1 ms", "1.02 s".
fmt_us() {
	local us=$1
	if ((us < 1000)); then
		printf '%d µs' "$us"
	elif ((us < 1000000)); then
		printf '%d.%d ms' $((us / 1000)) $((us % 1000 / 100))
	else
		printf '%d.%02d s' $((us / 1000000)) $((us % 1000000 / 10000))
	fi
}

# step CMD: print CMD, run it (bounded by STEP_LIMIT), print its output
# indented and its wall time.  Sets OUT, RC and US (wall time in µs).
step() {
	local cmd=$1 t0
	gap
	printf '%s$ %s%s\n' "$B" "$cmd" "$OFF"
	t0=$(now_us)
	OUT=$(timeout --foreground -k 2 "$STEP_LIMIT" bash -c "$cmd" 2>&1 </dev/null)
	RC=$?
	US=$(($(now_us) - t0))
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | indent
	printf '    %s[%s, exit %d]%s\n\n' "$YEL" "$(fmt_us "$US")" "$RC" "$OFF"
	if [ "$RC" = 130 ]; then
		echo "demo: interrupted" >&2
		exit 130
	fi
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "that command was still running after ${STEP_LIMIT}s and was killed"
	fi
}

# fail MESSAGE: the demo did not go as it should; say so and stop.
fail() {
	printf '\n%sDEMO FAILED: %s%s\n' "$B$RED" "$*" "$OFF" >&2
	if [ -s "${LOG:-}" ]; then
		printf '%sThe recloser log (%s):%s\n' "$RED" "$LOG" "$OFF" >&2
		indent <"$LOG" >&2
	fi
	if [ -x "$RECLOSER" ] && [ -f "${CFG:-}" ]; then
		printf '%srecloser status:%s\n' "$RED" "$OFF" >&2
		"$RECLOSER" -c "$CFG" status 2>&1 | indent >&2
	fi
	exit 1
}

# ---- checks (quiet: they only speak when something is wrong) ----

# field NAME FIELD: a field of the breaker in `recloser status --json`.
field() {
	"$RECLOSER" -c "$CFG" status --json 2>/dev/null | "$PY" -c '
import json, sys
try:
    data = json.load(sys.stdin)
except ValueError:
    print("(unreadable status --json)"); sys.exit(0)
for b in data:
    if b.get("name") == sys.argv[1]:
        print(b.get(sys.argv[2])); break
else:
    print("(no breaker %s)" % sys.argv[1])
' "$1" "$2"
}

# expect_state NAME STATE WHY
expect_state() {
	local s
	s=$(field "$1" state)
	[ "$s" = "$2" ] || fail "$3: breaker '$1' should be $2, but it is $s"
	good "breaker '$1' is $2"
}

# expect_failures NAME N: the breaker counted N failed calls so far.
expect_failures() {
	local f st
	f=$(field "$1" failures) st=$(field "$1" state)
	[ "$f" = "$2" ] || fail "breaker '$1' should have counted $2 failed calls, it counted $f"
	good "breaker '$1': $f failed call(s) counted, still $st"
}

# curl_us: the time_total curl reported last ("... after 0.000112s"), in µs.
curl_us() {
	local last=${OUT##*after }
	awk -v n="${last%%s*}" 'BEGIN { printf "%d\n", n * 1000000 }'
}

# python_us: the call time python printed last ("... (took 12 µs)"), in µs.
python_us() {
	local last=${OUT##*took }
	last=${last%%)*}
	awk -v n="${last%% *}" -v u="${last#* }" \
		'BEGIN { m = (u == "s") ? 1000000 : (u == "ms") ? 1000 : 1; printf "%d\n", n * m }'
}

# ---- set-up ----

if ! [ -f "$SHIM" ] || ! [ -x "$RECLOSER" ]; then
	echo "demo: build/librecloser.so or build/recloser is missing: run 'make demo'" >&2
	exit 1
fi
for p in "$PY" "$CURL"; do
	[ -x "$p" ] || { echo "demo: $p is missing: run 'bash scripts/deps.sh'" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/recloser-demo.XXXXXX") || exit 1
CFG=$T/recloser.ini
LOG=$T/log
STATE=$T/state
PIDS=()

# shellcheck disable=SC2317  # called by the trap
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "${RECLOSER_DEMO_KEEP:-}" = 1 ]; then
		echo "demo: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

# serve NAME MODE [ARGS]: start a fault server (NAME names its files), wait
# for its port; sets SRV_PORT and SRV_PID.
serve() {
	local name=$1 mode=$2 pf=$T/$1.port i pid
	shift 2
	rm -f "$pf"
	"$PY" "$FAULT" "$mode" --port-file "$pf" "$@" >/dev/null 2>"$T/$name.err" </dev/null &
	pid=$!
	PIDS+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$pf" ] || fail "the '$name' service ($mode) did not start: $(cat "$T/$name.err")"
	SRV_PORT=$(cat "$pf")
	SRV_PID=$pid
}

# A small Python client with nothing recloser-specific in it: plain urllib
# (or, with --socket, just socket.create_connection), no timeout at all,
# timing each call itself so that interpreter start-up is not counted.
# Exits 1 when a call failed.
cat >"$T/client.py" <<'PY'
import socket, sys, time, urllib.parse, urllib.request

def fmt(s):
    return "%d µs" % (s * 1e6) if s < 1e-3 else "%.1f ms" % (s * 1e3) if s < 1 else "%.2f s" % s

args = [a for a in sys.argv[1:] if a != "--socket"]
url, n = args[0], int(args[1]) if len(args) > 1 else 1
u = urllib.parse.urlsplit(url)
failed = 0
for i in range(n):
    t0 = time.perf_counter()
    try:
        if "--socket" in sys.argv:
            socket.create_connection((u.hostname, u.port)).close()
            result = "connected"
        else:
            with urllib.request.urlopen(url) as r:   # no timeout: wait as long as the OS does
                result = "HTTP %d, %s" % (r.status, r.read().decode().strip())
    except OSError as e:
        err = getattr(e, "reason", e)            # urllib wraps socket errors in URLError
        result = "%s: %s" % (type(err).__name__, err)
        failed = 1
    print("python: %s (took %s)" % (result, fmt(time.perf_counter() - t0)))
sys.exit(failed)
PY

# ---- the demo ----

printf '%srecloser demo: circuit breakers for programs that know nothing about them%s\n\n' "$B" "$OFF"
say "recloser is a shared library loaded with LD_PRELOAD. It watches a program's \
outgoing TCP connections, and when a service keeps failing it \"opens the \
breaker\": new calls to that service fail at once instead of hanging, until the \
service has had time to recover. The programs below are the ordinary curl and \
python3 of this machine, unmodified."

section "Two services and a config"
serve inventory http
INV=$SRV_PORT
serve payments http
PAY=$SRV_PORT PAY_PID=$SRV_PID
say "Two HTTP services are running on this machine: 'inventory' on \
127.0.0.1:$INV and 'payments' on 127.0.0.1:$PAY. Both \
answer, for now."
step "$CURL -sS http://127.0.0.1:$INV/ http://127.0.0.1:$PAY/"
[ "$RC" = 0 ] || fail "the services do not answer plain curl"

cat >"$CFG" <<INI
[global]
; the breakers' state, shared by every process that uses this file
state_file = $STATE
log_file = $LOG
log_level = info
; a blocking connect to a matched service gives up after this
connect_timeout = ${CONNECT_TIMEOUT}s

[payments]
match = 127.0.0.1:$PAY
failure_threshold = $FAILURE_THRESHOLD        ; open after $FAILURE_THRESHOLD failed calls in a row
open_duration = ${OPEN_DURATION}s           ; then reject calls for ${OPEN_DURATION}s before trying again
success_threshold = $SUCCESS_THRESHOLD        ; $SUCCESS_THRESHOLD good trial calls close it again

[inventory]
match = 127.0.0.1:$INV
INI
say "recloser gets one breaker per service. The demo uses its own config, state \
file and log in $T, never the system defaults:"
indent <"$CFG"
echo
step "$RECLOSER -c $CFG check"
[ "$RC" = 0 ] || fail "recloser check rejected the demo's config"

section "Payments goes down"
kill -TERM "$PAY_PID" 2>/dev/null
wait "$PAY_PID" 2>/dev/null
serve payments-down blackhole --port "$PAY"
PAY_PID=$SRV_PID
say "The payments service crashes, and its address now drops every connection \
attempt without an answer, as a dead host or a firewall does: a connect \
neither succeeds nor fails, it just waits. Without recloser, every caller \
waits for its own timeout (curl's is ${CURL_TIMEOUT}s here):"
step "$CURL -sS --max-time $CURL_TIMEOUT -o /dev/null -w 'HTTP %{http_code} after %{time_total}s\n' http://127.0.0.1:$PAY/"
[ "$RC" = 28 ] || fail "plain curl against the down service should time out (exit 28), got exit $RC"
((US >= CURL_TIMEOUT * 1000000 - 200000)) ||
	fail "plain curl should have waited its ${CURL_TIMEOUT}s timeout, it took $(fmt_us "$US")"
UNPROTECTED_US=$US
say "And a Python program that sets no timeout at all would wait for the kernel \
to give up, about two minutes. Every request that needs payments pays this \
price, again and again."

section "The same calls under recloser"
say "'recloser run' starts a program with the shim preloaded. The first calls \
still have to find out that payments is down. curl is a libcurl program: \
recloser gives each transfer the breaker's connect_timeout (${CONNECT_TIMEOUT}s) \
when the program's own is longer (curl's is ${CURL_TIMEOUT}s here), so the transfer \
gives up after one second, and recloser counts the failure:"
step "$RECLOSER run -c $CFG -- $CURL -sS --max-time $CURL_TIMEOUT -o /dev/null -w 'HTTP %{http_code} after %{time_total}s\n' http://127.0.0.1:$PAY/"
[ "$RC" = 28 ] || fail "curl under recloser should still time out against the down service (exit 28), got exit $RC"
FIRST_CURL_US=$US
((FIRST_CURL_US < CONNECT_TIMEOUT * 1000000 + 1500000)) ||
	fail "curl should have given up after about connect_timeout (${CONNECT_TIMEOUT}s), it took $(fmt_us "$FIRST_CURL_US")"
expect_failures payments 1
say "Python's urllib, with no timeout, makes a blocking connect. Under the shim \
(loaded by hand this time, with LD_PRELOAD and RECLOSER_CONFIG), \
connect_timeout = ${CONNECT_TIMEOUT}s bounds it: instead of two minutes, the \
call fails after one second."
T_FAILS=()
for i in 2 3; do
	step "LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $PY $T/client.py http://127.0.0.1:$PAY/"
	[[ $OUT == *"python: HTTP"* ]] && fail "python reached the down service"
	us=$(python_us)
	((us >= CONNECT_TIMEOUT * 800000 && us <= CONNECT_TIMEOUT * 1000000 + 800000)) ||
		fail "python's connect should have failed after about connect_timeout (${CONNECT_TIMEOUT}s), it took $(fmt_us "$us")"
	T_FAILS+=("$us")
	[ "$i" = "$FAILURE_THRESHOLD" ] || expect_failures payments "$i"
done
OPENED_US=$(now_us)
expect_state payments open "after $FAILURE_THRESHOLD failed calls in a row"
say "That was the ${FAILURE_THRESHOLD}rd failed call in a row (failure_threshold): \
the breaker is open."

section "The breaker is open: calls fail at once"
say "Now the shim refuses new connections to payments on the spot, before any \
packet is sent: the program sees an ordinary \"connection refused\" and can \
fall back, retry later or report the error, without waiting. The same curl \
command as before:"
step "$RECLOSER run -c $CFG -- $CURL -sS --max-time $CURL_TIMEOUT -o /dev/null -w 'HTTP %{http_code} after %{time_total}s\n' http://127.0.0.1:$PAY/"
[ "$RC" = 7 ] || fail "curl under recloser should be refused at once (exit 7), got exit $RC"
# libcurl refuses the transfer before it starts, so curl's own time_total
# is 0: time the whole curl process instead, start-up included
CURL_OPEN_US=$US
((CURL_OPEN_US < 200000)) || fail "the refused curl took $(fmt_us "$CURL_OPEN_US")"
say "(The transfer never started, so curl's own timer says 0: the shim refused it \
inside libcurl. The whole curl process, start-up included, took $(fmt_us "$CURL_OPEN_US").)"
say "The same with the shim loaded by hand:"
step "LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $CURL -sS --max-time $CURL_TIMEOUT -o /dev/null -w 'HTTP %{http_code} after %{time_total}s\n' http://127.0.0.1:$PAY/"
[ "$RC" = 7 ] || fail "curl with LD_PRELOAD should be refused at once (exit 7), got exit $RC"
say "Python gets a ConnectionRefusedError. Five urllib requests in one process, \
each timed by Python itself (the first one includes urllib's own set-up):"
step "LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $PY $T/client.py http://127.0.0.1:$PAY/ 5"
n=$(grep -c 'ConnectionRefusedError' <<<"$OUT")
[ "$n" = 5 ] || fail "python should have got ConnectionRefusedError 5 times, got it $n times"
say "And five bare socket.create_connection calls, to time the refusal itself:"
step "LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $PY $T/client.py --socket http://127.0.0.1:$PAY/ 5"
n=$(grep -c 'ConnectionRefusedError' <<<"$OUT")
[ "$n" = 5 ] || fail "python should have got ConnectionRefusedError 5 times, got it $n times"
PY_MIN_US=999999999 PY_MAX_US=0
while IFS= read -r line; do
	OUT=$line
	us=$(python_us)
	((us > PY_MAX_US)) && PY_MAX_US=$us
	((us < PY_MIN_US)) && PY_MIN_US=$us
done < <(grep 'took' <<<"$OUT")
((PY_MAX_US < 10000)) || fail "a refused python connect took $(fmt_us "$PY_MAX_US"); it should take microseconds"
good "refused connects took $(fmt_us "$PY_MIN_US") to $(fmt_us "$PY_MAX_US"); unprotected, curl waited $(fmt_us "$UNPROTECTED_US")"
expect_failures payments "$FAILURE_THRESHOLD"
say "(The time in brackets after each command includes starting the program; \
the refusal itself takes microseconds. Refused calls are counted apart, as \
'rejected', not as failures.)"

section "Inventory is not affected"
say "Only the payments breaker is open. Calls to inventory, from the same \
programs under the same shim, go through as usual:"
step "$RECLOSER run -c $CFG -- $CURL -sS http://127.0.0.1:$INV/"
{ [ "$RC" = 0 ] && [[ $OUT == *"status 200"* ]]; } || fail "curl under recloser could not reach the healthy service"
step "LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $PY $T/client.py http://127.0.0.1:$INV/"
[[ $OUT == *"python: HTTP 200"* ]] || fail "python under recloser could not reach the healthy service"
expect_state inventory closed "inventory answers"

section "What recloser saw"
say "Every state change is one line of the log, in logfmt (reject lines are \
rate-limited to one per second per process and breaker):"
step "grep -E 'event=(transition|reject)' $LOG"
grep -q 'event=transition .*breaker=payments .*from=closed to=open' "$LOG" ||
	fail "the log has no transition of payments from closed to open"
say "'recloser status' reads the shared state file: the same breakers that every \
process using this config feeds and obeys."
step "$RECLOSER -c $CFG status"
[ "$RC" = 0 ] || fail "recloser status failed"

section "Payments comes back"
kill -TERM "$PAY_PID" 2>/dev/null
wait "$PAY_PID" 2>/dev/null
serve payments-up http --port "$PAY"
say "The payments service is restarted on its old port and answers again. But \
the breaker stays open for open_duration (${OPEN_DURATION}s), leaving the \
service alone while it recovers, so a call right now is still refused:"
step "$RECLOSER run -c $CFG -- $CURL -sS -o /dev/null -w 'HTTP %{http_code} after %{time_total}s\n' http://127.0.0.1:$PAY/"
[ "$RC" = 7 ] || fail "the breaker should still refuse calls before open_duration has passed (exit 7), got exit $RC"
wait_us=$((OPENED_US + OPEN_DURATION * 1000000 + 300000 - $(now_us)))
if ((wait_us > 0)); then
	say "Waiting $(fmt_us "$wait_us") until ${OPEN_DURATION}s have passed since the breaker opened..."
	sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))"
fi
say "open_duration is over: the next call is let through as a trial, and the \
breaker goes half_open. $SUCCESS_THRESHOLD successful trials in a row close it:"
step "$RECLOSER run -c $CFG -- $CURL -sS http://127.0.0.1:$PAY/"
{ [ "$RC" = 0 ] && [[ $OUT == *"status 200"* ]]; } || fail "the first trial call to the restored service failed (exit $RC)"
expect_state payments half_open "after 1 successful trial of $SUCCESS_THRESHOLD"
step "LD_PRELOAD=$SHIM RECLOSER_CONFIG=$CFG $PY $T/client.py http://127.0.0.1:$PAY/"
[[ $OUT == *"python: HTTP 200"* ]] || fail "the second trial call to the restored service failed"
expect_state payments closed "after $SUCCESS_THRESHOLD successful trials"
step "grep event=transition $LOG"
grep -q 'event=transition .*breaker=payments .*from=open to=half_open' "$LOG" ||
	fail "the log has no transition of payments from open to half_open"
grep -q 'event=transition .*breaker=payments .*from=half_open to=closed' "$LOG" ||
	fail "the log has no transition of payments from half_open to closed"
step "$RECLOSER -c $CFG status"
[ "$RC" = 0 ] || fail "recloser status failed"

# ---- summary ----

TOTAL_US=$(($(now_us) - START_US))
section "Summary"
printf '  %-60s %s\n' \
	"payments down, plain curl (its own timeout):" "$(fmt_us "$UNPROTECTED_US")" \
	"under recloser, breaker closed: curl (connect_timeout):" "$(fmt_us "$FIRST_CURL_US")" \
	"under recloser, breaker closed: python (connect_timeout):" "$(fmt_us "${T_FAILS[0]}"), $(fmt_us "${T_FAILS[1]}")" \
	"under recloser, breaker open: whole curl process:" "$(fmt_us "$CURL_OPEN_US")" \
	"under recloser, breaker open: python connect refused after:" "$(fmt_us "$PY_MIN_US") to $(fmt_us "$PY_MAX_US")"
echo
next="The breaker opened after $FAILURE_THRESHOLD failures, refused calls while \
payments was down, and closed by itself once payments was back."
[ -f README.md ] && next="$next README.md has the whole story: what is and is not \
intercepted, the config reference, the log format and the CLI."
[ -f conf/recloser.ini ] && next="$next conf/recloser.ini is a fully commented config."
say "$next"
gap
((TOTAL_US <= TOTAL_LIMIT * 1000000)) || fail "the demo took $(fmt_us "$TOTAL_US"), more than ${TOTAL_LIMIT}s"
printf '%sDemo finished in %s.%s\n' "$B$GRN" "$(fmt_us "$TOTAL_US")" "$OFF"
exit 0
