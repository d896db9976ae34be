# tests/lib.sh - sourced by the integration tests (tests/2*.t).
#
# TAP output for prove, fault servers on loopback, a private config, state
# file and log per test, and helpers to run real programs under the shim.
# Every test gets its own temp dir $T, removed at exit together with every
# server and background job the test started (RECLOSER_TEST_KEEP=1 keeps $T).
#
#   source "$(dirname "$0")/lib.sh"
#   need_build
#   start_server HTTP http            # $HTTP = port, $HTTP_PID
#   write_config connect_timeout=2s   # [global] with $STATE and $LOG
#   breaker svc "match=127.0.0.1:$HTTP" failure_threshold=3
#   out=$(scurl "http://127.0.0.1:$HTTP/"); is "$out" 200 "curl gets 200"
#   is "$(state_of svc)" closed "svc is closed"
#   done_testing

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RC_BUILD=DIR: the shim and the CLI under test are DIR/librecloser.so and
# DIR/recloser (default $ROOT/build), e.g. a sanitizer build (scripts/sanitize.sh).
# RC_PRELOAD_FIRST="LIB...": libraries under_shim preloads before the shim
# (an ASan build of the shim wants the ASan runtime first); default none.
SHIM=${RECLOSER_TEST_SHIM:-${RC_BUILD:-$ROOT/build}/librecloser.so}   # override: sanity runs
RECLOSER=${RC_BUILD:-$ROOT/build}/recloser
if [ -n "${RC_BUILD:-}" ]; then echo "# build under test: $RC_BUILD"; fi
PY=/usr/bin/python3          # never a pyenv shim: the tests run the system one
CURL=/usr/bin/curl
FAULT=$ROOT/scripts/faultserver.py
PYCLIENT=$ROOT/tests/pyclient.py

# The test itself never runs under the shim; only under_shim's commands do.
unset LD_PRELOAD RECLOSER_CONFIG RECLOSER_DISABLE
export LC_ALL=C

T=$(mktemp -d "${TMPDIR:-/tmp}/recloser-t.XXXXXX")
# config images (core/image.h) go with the test's files, not to /dev/shm
export RECLOSER_CACHE_DIR=$T
CFG=$T/recloser.ini
STATE=$T/state
LOG=$T/log

_tap_n=0
_tap_fail=0
_tap_planned=
_srv_pids=()
_cleanup_hooks=()  # commands a test adds, run first at exit (eval'd)
TODO=

_cleanup() {
	local rc=$? p
	for p in "${_cleanup_hooks[@]}"; do
		eval "$p" >/dev/null 2>&1
	done
	for p in "${_srv_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $(jobs -p); do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "${RECLOSER_TEST_KEEP:-}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap _cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- TAP ----

# ok STATUS DESC: passes when STATUS (an exit status) is 0.
ok() {
	local st=$1 desc=$2
	_tap_n=$((_tap_n + 1))
	local dir=""
	[ -n "$TODO" ] && dir=" # TODO $TODO"
	if [ "$st" = 0 ]; then
		echo "ok $_tap_n - $desc$dir"
		return 0
	fi
	echo "not ok $_tap_n - $desc$dir"
	[ -z "$TODO" ] && _tap_fail=$((_tap_fail + 1))
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [ "${BASH_SOURCE[i]}" != "${BASH_SOURCE[0]}" ]; then
			echo "#   failed at ${BASH_SOURCE[i]} line ${BASH_LINENO[i - 1]}" >&2
			break
		fi
	done
	return 1
}

# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "     got: '$1'"
	diag "expected: '$2'"
	return 1
}

# isnt GOT UNWANTED DESC
isnt() {
	if [ "$1" != "$2" ]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "     got: '$1' (unwanted)"
	return 1
}

# like STR ERE DESC
like() {
	if [[ $1 =~ $2 ]]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "     got: '$1'"
	diag "expected to match: /$2/"
	return 1
}

# unlike STR ERE DESC
unlike() {
	if ! [[ $1 =~ $2 ]]; then ok 0 "$3"; return 0; fi
	ok 1 "$3"
	diag "     got: '$1'"
	diag "expected not to match: /$2/"
	return 1
}

# cmp_ok A OP B DESC: integer comparison, OP one of < <= > >= == !=
cmp_ok() {
	local a=$1 op=$2 b=$3 desc=$4 r=1
	if [[ $a =~ ^-?[0-9]+$ && $b =~ ^-?[0-9]+$ ]]; then
		case $op in
		'<') ((a < b)) && r=0 ;; '<=') ((a <= b)) && r=0 ;;
		'>') ((a > b)) && r=0 ;; '>=') ((a >= b)) && r=0 ;;
		'==') ((a == b)) && r=0 ;; '!=') ((a != b)) && r=0 ;;
		*) diag "cmp_ok: bad operator '$op'" ;;
		esac
	fi
	if [ $r = 0 ]; then ok 0 "$desc"; return 0; fi
	ok 1 "$desc"
	diag "    '$a'"
	diag "        $op"
	diag "    '$b'"
	return 1
}

diag() { echo "# $*" >&2; }
note() { echo "# $*"; }

# skip REASON [COUNT]
skip() {
	local i n=${2:-1}
	for ((i = 0; i < n; i++)); do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # skip $1"
	done
}

skip_all() { echo "1..0 # SKIP $*"; _tap_planned=1; exit 0; }
bail_out() { echo "Bail out! $*"; exit 255; }

# plan N (optional: done_testing prints the plan otherwise)
plan() { echo "1..$1"; _tap_planned=$1; }

done_testing() {
	[ -z "$_tap_planned" ] && echo "1..$_tap_n"
	if [ "$_tap_fail" -gt 0 ]; then
		diag "Looks like you failed $_tap_fail test(s) of $_tap_n."
		exit 1
	fi
	exit 0
}

# need_build: the shim and the CLI must exist (make test builds them first).
# make_cert: a self-signed certificate for localhost and 127.0.0.1 in
# $T/cert.pem, its key in $T/key.pem (for faultserver.py --tls).
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 ||
		bail_out "openssl could not make a certificate"
}

# at WORDS KEY: the ms of KEY@MS in WORDS (the first one), else -1
at() {
	local w
	for w in $1; do
		[ "${w%%@*}" = "$2" ] && { echo "${w#*@}"; return; }
	done
	echo -1
}

need_build() {
	[ -f "$SHIM" ] || bail_out "$SHIM missing: run make"
	[ -x "$RECLOSER" ] || bail_out "$RECLOSER missing: run make"
}

# ---- time ----

now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
elapsed_ms() { echo $(($(now_ms) - $1)); }

# timed VAR CMD...: run CMD, put its wall time in ms in VAR, return its status.
timed() {
	local __v=$1 __t0 __rc
	shift
	__t0=$(now_ms)
	"$@"
	__rc=$?
	printf -v "$__v" %s "$(elapsed_ms "$__t0")"
	return $__rc
}

# wait_clients: wait for the background jobs the test started, not the
# servers (a bare `wait` would wait for the servers too, forever).
wait_clients() {
	local p s
	for p in $(jobs -p); do
		for s in "${_srv_pids[@]}"; do
			[ "$p" = "$s" ] && continue 2
		done
		wait "$p"
	done
}

# start_load PREFIX SECS PORT ARGS...: $NP clients of tests/clients/chaos_load.py
# (PORT ARGS) under the shim in the background, each bounded by SECS: their
# output in PREFIX.out.N, their stderr in PREFIX.err.N (N = 1..$NP).
start_load() {
	local pre=$1 secs=$2 i
	shift 2
	_load_pids=()
	for ((i = 1; i <= NP; i++)); do
		RUN_TIMEOUT=$secs under_shim "$PY" "$ROOT/tests/clients/chaos_load.py" "$@" \
			>"$pre.out.$i" 2>"$pre.err.$i" &
		_load_pids+=($!)
	done
}

# wait_load PREFIX: wait for start_load's clients; LOAD_BAD is how many did
# not exit 0 (each said, with its status and stderr).
wait_load() {
	local i=0 p st
	LOAD_BAD=0
	for p in "${_load_pids[@]}"; do
		i=$((i + 1))
		wait "$p" || {
			st=$?
			LOAD_BAD=$((LOAD_BAD + 1))
			diag "client $i: status $st $(head -c 300 "$1.err.$i")"
		}
	done
}

# wait_until TIMEOUT_MS CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
	local limit=$1 t0
	shift
	t0=$(now_ms)
	until "$@"; do
		(($(elapsed_ms "$t0") > limit)) && return 1
		sleep 0.05
	done
}

# ---- fault servers (scripts/faultserver.py, never under the shim) ----

# start_server VAR MODE [faultserver args]: start it, wait (5 s at most) for
# its port; set VAR to the port and VAR_PID to its pid.  Its connection count
# goes to $T/VAR.count (see conns), its control file is $T/VAR.ctl.
start_server() {
	local var=$1 mode=$2 pf i pid
	shift 2
	pf=$T/$var.port
	rm -f "$pf"
	"$PY" "$FAULT" "$mode" --port-file "$pf" --count-file "$T/$var.count" \
		--control "$T/$var.ctl" "$@" >/dev/null 2>"$T/$var.err" </dev/null &
	pid=$!
	_srv_pids+=("$pid")
	for ((i = 0; i < 100; i++)); do
		[ -s "$pf" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! [ -s "$pf" ]; then
		diag "$(cat "$T/$var.err" 2>/dev/null)"
		bail_out "fault server '$mode' did not start"
	fi
	printf -v "$var" %s "$(cat "$pf")"
	printf -v "${var}_PID" %s "$pid"
}

# stop_server VAR
stop_server() {
	local pidvar=${1}_PID
	kill -TERM "${!pidvar}" 2>/dev/null
	wait "${!pidvar}" 2>/dev/null
	return 0
}

# control VAR VALUE: what an http server answers from now on (a status, hang,
# reset, close, down).  Waits long enough for the accept loop to see it.
control() {
	echo "$2" >"$T/$1.ctl.tmp" && mv "$T/$1.ctl.tmp" "$T/$1.ctl"
	sleep 0.25
}

# conns VAR / reqs VAR: connections accepted / HTTP requests answered so far.
conns() { local a b; read -r a b <"$T/$1.count" 2>/dev/null || a=0; echo "${a:-0}"; }
reqs() { local a b; read -r a b <"$T/$1.count" 2>/dev/null || b=0; echo "${b:-0}"; }

# closed_port: a port on 127.0.0.1 nothing listens on.
closed_port() { "$PY" "$FAULT" closedport; }

# start_postgres: a PostgreSQL server of the test's own (never under the
# shim): initdb in $T/pg as user postgres, trust authentication, listening
# on 127.0.0.1 only, ssl = on with $T/cert.pem and $T/key.pem when they
# exist (make_cert); stopped at exit.  Sets PG_PORT.  Returns 1 (nothing
# started) without root, the postgresql package or a postgres user.
start_postgres() {
	local pgb
	pgb=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ "$(id -u)" = 0 ] && [ -n "$pgb" ] && [ -x "$pgb/initdb" ] && id postgres >/dev/null 2>&1 &&
		command -v psql >/dev/null || return 1
	chmod o+x "$T"
	local d=$T/pg
	mkdir -p "$d" && chown postgres "$d"
	runuser -u postgres -- "$pgb/initdb" -D "$d/data" -A trust -U postgres >"$T/initdb.log" 2>&1 ||
		bail_out "initdb failed: $(tail -n 3 "$T/initdb.log")"
	PG_PORT=$(closed_port)
	printf '%s\n' "listen_addresses = '127.0.0.1'" "port = $PG_PORT" \
		"unix_socket_directories = '$d'" "fsync = off" >>"$d/data/postgresql.conf"
	if [ -f "$T/cert.pem" ]; then
		cp "$T/cert.pem" "$T/key.pem" "$d/data/" && chown postgres "$d/data/"*.pem &&
			chmod 600 "$d/data/key.pem"
		printf '%s\n' "ssl = on" "ssl_cert_file = 'cert.pem'" "ssl_key_file = 'key.pem'" \
			>>"$d/data/postgresql.conf"
	fi
	_cleanup_hooks+=("runuser -u postgres -- '$pgb/pg_ctl' -D '$d/data' -m immediate stop")
	runuser -u postgres -- "$pgb/pg_ctl" -D "$d/data" -l "$d/log" -w -t 30 start >/dev/null ||
		bail_out "the PostgreSQL server did not start: $(tail -n 3 "$d/log")"
}

# ---- config ----

# write_config [KEY=VALUE...]: a fresh $CFG whose [global] points the state
# file and the log into $T (never the defaults), log_level info, plus KEYs.
write_config() {
	local kv
	{
		echo "[global]"
		echo "state_file = $STATE"
		echo "log_file = $LOG"
		case " $* " in *" log_level="*) ;; *) echo "log_level = info" ;; esac
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$CFG"
}

# breaker NAME KEY=VALUE...: append a breaker section to $CFG.
breaker() {
	local kv
	{
		echo
		echo "[$1]"
		shift
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >>"$CFG"
}

# ---- running things ----

# under_shim CMD...: run CMD preloaded with the shim and our config, bounded.
under_shim() {
	timeout -k 5 "${RUN_TIMEOUT:-30}" \
		env LD_PRELOAD="${RC_PRELOAD_FIRST:+$RC_PRELOAD_FIRST }$SHIM" RECLOSER_CONFIG="$CFG" "$@"
}

# rc ARGS...: the CLI with our config.
rc() { "$RECLOSER" -c "$CFG" "$@"; }

# scurl URL [CURL ARGS]: curl under the shim; prints the HTTP code (000 when
# none) and returns curl's exit status (7 = could not connect, 28 = timeout).
scurl() {
	local url=$1
	shift
	under_shim "$CURL" -s -o /dev/null -m 10 --connect-timeout 5 \
		-w '%{http_code}' "$@" "$url"
}

# pyc ARGS: tests/pyclient.py under the shim (see its header).
pyc() { under_shim "$PY" "$PYCLIENT" "$@"; }

# signame STATUS: "SIGBUS" for 135 etc., else the status
signame() {
	if (($1 > 128 && $1 < 160)); then echo "SIG$(kill -l $(($1 - 128)))"; else echo "$1"; fi
}

# kv LINE KEY: the value of KEY=... in a "k=v k=v" line, else 0.
kv() {
	local w
	for w in $1; do
		[ "${w%%=*}" = "$2" ] && { echo "${w#*=}"; return; }
	done
	echo 0
}

# ms_int "1.234" -> 1 (integer part of a decimal number of ms).
ms_int() { echo "${1%%.*}"; }

# ---- status and log ----

# json_field NAME FIELD: FIELD of breaker NAME in `recloser status --json`;
# NOBREAKER when it is not listed, MISSING when it has no such field,
# BADJSON when the output is not a JSON list.
json_field() {
	rc status --json 2>"$T/status.err" | "$PY" -c '
import json, sys
name, field = sys.argv[1], sys.argv[2]
try:
    data = json.load(sys.stdin)
    assert isinstance(data, list)
except Exception:
    print("BADJSON"); sys.exit(0)
for b in data:
    if isinstance(b, dict) and b.get("name") == name:
        v = b.get(field, "MISSING")
        print(str(v).lower() if isinstance(v, bool) else v)
        break
else:
    print("NOBREAKER")
' "$1" "$2"
}

state_of() { json_field "$1" state; }

# counts NAME: "calls failures rejected" of breaker NAME.
counts() {
	rc status --json 2>"$T/status.err" | "$PY" -c '
import json, sys
try:
    data = json.load(sys.stdin)
except Exception:
    print("BADJSON"); sys.exit(0)
for b in data:
    if b.get("name") == sys.argv[1]:
        print(b.get("calls"), b.get("failures"), b.get("rejected")); break
else:
    print("NOBREAKER")
' "$1"
}

# log_count ERE: lines of $LOG matching ERE (0 when there is no log).
log_count() {
	local n
	n=$(grep -cE -- "$1" "$LOG" 2>/dev/null) || true
	echo "${n:-0}"
}

# show_log: the log as diagnostics (on failure).
show_log() {
	[ -f "$LOG" ] || { diag "(no log at $LOG)"; return; }
	local l
	while IFS= read -r l; do diag "log: $l"; done <"$LOG"
}
