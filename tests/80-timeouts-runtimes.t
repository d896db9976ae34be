#!/bin/bash
# A timeout on every call, whatever the program's I/O model.  Real runtimes
# and tools, each with its DEFAULT timeouts (no client-side timeout option
# anywhere), under a breaker with connect_timeout = 1s, response_timeout =
# 1s and failure_threshold = 2 on the fault server's loopback port:
#
#   connect    to a blackhole (faultserver.py blackhole: a listener whose
#              accept queue is full, so the kernel drops the SYNs)
#   request    to a server that accepts, reads and never answers (hang)
#   keepalive  (where the program keeps connections) one request answered,
#              then the server hangs after the next request, which goes on
#              the kept-alive connection (http with its control file)
#
# For each, every timed-out wait ends within the breaker's timeout plus a
# generous margin (< 6 s against 1 s, where the programs' own defaults are
# 10 s to forever); the shim counts them as timeouts (status --json, and
# the log's debug call lines say outcome=timeout); 2 of them open the
# breaker; a later call is rejected at once (< 1 s) without reaching the
# server (its connection count does not move).
#
# Programs that block in connect() (Java's HttpURLConnection, wget,
# requests) are bounded in the calling thread, curl's connect by the
# connect timeout the shim gives its libcurl transfers; blocking reads
# (HttpURLConnection, redis-cli, requests) and every other wait, in
# poll/select/epoll, by the shim's timer thread: Java's HttpClient (NIO, a
# selector), Node's fetch (undici) and http with a keep-alive Agent, Ruby's
# net/http (Ruby 3 sockets are non-blocking), PHP's file_get_contents, psql
# (libpq), redis-cli's connect (hiredis), wget's reads (select before
# read), curl's reads, Python asyncio, and the C clients
# tests/clients/to_{poll,select,epoll}.c, whose waiter runs on another
# thread than the one that connects and writes.
#
# A program's call is one line of its client, "I MS OUTCOME DETAIL" (see
# tests/clients/to_*), or one run of a command-line tool.  A call the
# program itself tries again (Java's HttpClient and HttpURLConnection and
# Ruby's net/http retry an idempotent GET once, wget tries 20 times; see
# the table at the end) is expected to take two timeouts, and the calls
# after it are rejected.
#
# Every program run is bounded by `timeout 20` (a wait the shim does not
# bound shows as a failure after 20 s, never as a hung test).  The
# scenarios run side by side, RC_TO_JOBS at a time (default 6; each has its
# own servers, config, state file and log); their TAP lines are replayed
# in order at the end.  RC_TO_ONLY="java_httpclient psql ..." runs only
# those programs.
source "$(dirname "$0")/lib.sh"
need_build

CL=$ROOT/tests/clients
BIN=$T/bin
GUARD=20
RUN_TIMEOUT=$GUARD
JOBS=${RC_TO_JOBS:-6}
ONLY=${RC_TO_ONLY:-}

# No inherited defaults of the tools' own (libpq reads PG*; wget a wgetrc).
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
unset WGETRC REDISCLI_AUTH NODE_OPTIONS JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS RUBYOPT

mkdir -p "$BIN"
for w in poll select epoll; do
	${CC:-cc} -O1 -pthread -o "$BIN/to_$w" "$CL/to_$w.c" 2>"$T/cc.err" ||
		bail_out "cannot build to_$w: $(head -c 300 "$T/cc.err")"
done

# ---- the programs: RUNNER MODE PORT N CTL prints one line per call ----

r_java_httpclient() { under_shim java "$CL/to_httpclient.java" "$@"; }
r_java_urlconn() { under_shim java "$CL/to_urlconn.java" "$@"; }
r_node_fetch() { under_shim node "$CL/to_fetch.mjs" "$@"; }
r_node_http() { under_shim node "$CL/to_http.mjs" "$@"; }
r_ruby_net_http() { under_shim ruby "$CL/to_net_http.rb" "$@"; }
r_php_fgc() { under_shim php "$CL/to_fgc.php" "$@"; }
r_py_asyncio() { under_shim "$PY" "$CL/to_asyncio.py" "$@"; }
r_py_requests() { under_shim "$PY" "$CL/to_requests.py" "$@"; }
r_c_poll() { under_shim "$BIN/to_poll" "$@"; }
r_c_select() { under_shim "$BIN/to_select" "$@"; }
r_c_epoll() { under_shim "$BIN/to_epoll" "$@"; }

# cli_calls N CMD...: CMD run N times under the shim, one after the other,
# each bounded by the guard: one line per run, "I MS rc=STATUS OUTPUT" (its
# output on one line, cut at 200 bytes).  Stops after a run the guard
# killed, returning 124.
cli_calls() {
	local n=$1 i ms st
	shift
	for ((i = 1; i <= n; i++)); do
		timed ms under_shim "$@" >"$T/cli.out" 2>&1 </dev/null
		st=$?
		echo "$i $ms rc=$st $(tr -s '\n\t' '  ' <"$T/cli.out" | head -c 200)"
		if [ "$st" = 124 ] || [ "$st" = 137 ]; then return 124; fi
	done
	return 0
}
# psql: libpq's defaults (no connect_timeout: forever; sslmode=prefer, so
# its first packet is an SSLRequest the hang server never answers); -X: no
# psqlrc, -w: never prompt for a password.
r_psql() { cli_calls "$3" psql -X -w -h 127.0.0.1 -p "$2" -U recloser -d recloser -c 'select 1'; }
# redis-cli: hiredis's defaults (no connect or read timeout).
r_redis_cli() { cli_calls "$3" redis-cli -h 127.0.0.1 -p "$2" PING; }
# wget: its defaults (no connect timeout, a 900 s read timeout, 20 tries
# with 1, 2, ... s between them; a refused connect is not tried again).
r_wget() { cli_calls "$3" wget --no-config -O /dev/null "http://127.0.0.1:$2/"; }
# curl: its defaults (a 300 s connect timeout, none for the transfer).
r_curl() { cli_calls "$3" "$CURL" -sS -o /dev/null "http://127.0.0.1:$2/"; }

# the command each runner needs (a missing one skips its scenarios)
declare -A NEED=([java_httpclient]=java [java_urlconn]=java [node_fetch]=node
	[node_http]=node [ruby_net_http]=ruby [php_fgc]=php [py_asyncio]="$PY" [py_requests]="$PY"
	[c_poll]="$BIN/to_poll" [c_select]="$BIN/to_select" [c_epoll]="$BIN/to_epoll"
	[psql]=psql [redis_cli]=redis-cli [wget]=wget [curl]="$CURL")

# ---- what each program is told (the README's "Works with" table) ----

# TOLD_T[PROG-MODE]: an ERE the first timed-out call's line matches;
# TOLD_R[PROG]: one the first rejected call's matches.
declare -A TOLD_T=(
	[node_fetch-connect]='TypeError/ETIMEDOUT connect ETIMEDOUT'
	[node_http-connect]=' ETIMEDOUT connect ETIMEDOUT'
	[java_httpclient-connect]='java\.net\.ConnectException'
	[java_httpclient-request]='java\.io\.IOException.* Connection timed out'
	[java_urlconn-connect]='java\.net\.ConnectException Connection timed out'
	[java_urlconn-request]='java\.net\.SocketException Connection timed out'
	[ruby_net_http-connect]='Net::OpenTimeout .*Connection timed out'
	[ruby_net_http-request]='Errno::ETIMEDOUT Connection timed out'
	[php_fgc-connect]='Failed to open stream: Connection timed out'
	[php_fgc-request]='Failed to open stream: HTTP request failed!'
	[psql-connect]='failed: Connection timed out'
	[psql-request]='could not receive data from server: Connection timed out'
	[wget-connect]='failed: Connection timed out'
	[wget-request]='Read error \(Connection timed out\)'
	[redis_cli-connect]='Could not connect to Redis at .*: Connection timed out'
	[redis_cli-request]='Error: recv timeout'
	[curl-connect]='rc=28 curl: \(28\) Failed to connect .*Timeout was reached'
	[curl-request]='rc=56 curl: \(56\) Recv failure: Connection timed out'
)
for m in request keepalive; do
	TOLD_T[node_fetch-$m]='TypeError/ETIMEDOUT read ETIMEDOUT'
	TOLD_T[node_http-$m]=' ETIMEDOUT read ETIMEDOUT'
done
TOLD_T[java_httpclient-keepalive]=${TOLD_T[java_httpclient-request]}
TOLD_T[java_urlconn-keepalive]=${TOLD_T[java_urlconn-request]}
TOLD_T[ruby_net_http-keepalive]=${TOLD_T[ruby_net_http-request]}
TOLD_T[py_requests-connect]='requests\.exceptions\.ConnectTimeout ETIMEDOUT'
TOLD_T[py_requests-request]='requests\.exceptions\.ReadTimeout ETIMEDOUT'
TOLD_T[py_requests-keepalive]=${TOLD_T[py_requests-request]}
for m in connect request keepalive; do
	TOLD_T[py_asyncio-$m]='TimeoutError ETIMEDOUT'
	for c in c_poll c_select c_epoll; do TOLD_T[$c-$m]=' ETIMEDOUT$'; done
done
declare -A TOLD_R=(
	[node_fetch]='TypeError/ECONNREFUSED connect ECONNREFUSED' [node_http]=' ECONNREFUSED connect ECONNREFUSED'
	[py_asyncio]='ConnectionRefusedError ECONNREFUSED' [c_poll]=' ECONNREFUSED$'
	[py_requests]='requests\.exceptions\.ConnectionError ECONNREFUSED'
	[c_select]=' ECONNREFUSED$' [c_epoll]=' ECONNREFUSED$'
	[java_httpclient]='java\.net\.ConnectException.* Connection refused'
	[java_urlconn]='java\.net\.ConnectException Connection refused'
	[ruby_net_http]='Errno::ECONNREFUSED .*Connection refused' [php_fgc]='Failed to open stream: Connection refused'
	[psql]='failed: Connection refused' [wget]='failed: Connection refused\.'
	[redis_cli]='Could not connect to Redis at .*: Connection refused'
	[curl]="rc=7 curl: \\(7\\) recloser: breaker '[^']+' is open"
)

# ---- one scenario ----

# window WORD: "LO HI" ms for an expected call: T a timeout (one attempt),
# T2 a call the program makes twice (two timeouts), W wget's tries (two
# timeouts, 1 + 2 s apart, then the rejected third try), R a rejection.
window() {
	case $1 in
	T) echo "800 6000" ;;
	T2) echo "1600 12000" ;;
	W) echo "2500 15000" ;;
	R) echo "0 1000" ;;
	esac
}

# scenario PROG MODE EXPECT...: run PROG's client in MODE (one program call
# per EXPECT word, see window) and check the calls and the breaker.
scenario() {
	local prog=$1 mode=$2
	shift 2
	local exp=("$@") n=$# what="$prog $mode" name="${prog}-${mode}"
	local need=${NEED[$prog]}
	if ! command -v "$need" >/dev/null 2>&1; then
		skip "$need is not installed" 1
		return
	fi
	case $mode in
	connect) start_server S blackhole ;;
	request) start_server S hang ;;
	keepalive) start_server S http --control "$T/S.ctl" ;;
	esac
	write_config log_level=debug
	breaker "$name" "match=127.0.0.1:$S" connect_timeout=1s response_timeout=1s \
		failure_threshold=2 open_duration=60s
	local out st t0 ms
	t0=$(now_ms)
	out=$("r_$prog" "$mode" "$S" "$n" "$T/S.ctl" 2>"$T/client.err")
	st=$?
	ms=$(elapsed_ms "$t0")
	ok $(((st == 124 || st == 137) ? 1 : 0)) \
		"$what: the program ends by itself, not killed by the ${GUARD} s guard (exit $st, $ms ms)"
	if [ "$mode" = keepalive ]; then
		like "$(sed -n 's/^0 //p' <<<"$out")" '^[0-9]+ s200' \
			"$what: call 0 answered 200 (the connection kept for call 1)"
	fi
	local i line lo hi rejects=0 word first_t="" first_r=""
	for ((i = 1; i <= n; i++)); do
		word=${exp[i - 1]}
		read -r lo hi <<<"$(window "$word")"
		line=$(sed -n "s/^$i //p" <<<"$out")
		if [ "$word" = R ]; then
			[ -n "$first_r" ] || first_r=$line
		else
			[ -n "$first_t" ] || first_t=$line
		fi
		ms=${line%% *}
		[[ $ms =~ ^[0-9]+$ ]] || ms=-1
		case $word in
		R)
			rejects=$((rejects + 1))
			ok $(((ms >= lo && ms < hi) ? 0 : 1)) \
				"$what: call $i, the breaker open, is rejected at once, < ${hi} ms (${line:-no line: not reached})"
			;;
		*)
			[ "$word" = W ] && rejects=$((rejects + 1))
			ok $(((ms >= lo && ms < hi) ? 0 : 1)) \
				"$what: call $i times out in >= ${lo} ms and < ${hi} ms (${line:-no line: not reached})"
			;;
		esac
	done
	if [ -n "${TOLD_T[$prog-$mode]:-}" ]; then
		like "$first_t" "${TOLD_T[$prog-$mode]}" "$what: on a timeout the program is told: ${TOLD_T[$prog-$mode]}"
	fi
	if [ -n "${TOLD_R[$prog]:-}" ] && [ -n "$first_r" ]; then
		like "$first_r" "${TOLD_R[$prog]}" "$what: rejected, it is told: ${TOLD_R[$prog]}"
	fi
	is "$(json_field "$name" timeouts)" 2 "$what: the shim counts 2 timeouts"
	local calls=2
	[ "$mode" = keepalive ] && calls=3     # call 0, a success
	is "$(json_field "$name" calls) $(json_field "$name" failures)" "$calls 2" \
		"$what: ...$calls calls, 2 failures (rejected calls are no calls)"
	cmp_ok "$(json_field "$name" rejected)" '>=' "$rejects" "$what: ...and at least $rejects rejected"
	is "$(log_count "event=call .*breaker=$name .*outcome=timeout")" 2 \
		"$what: the log's debug call lines say outcome=timeout, twice"
	is "$(state_of "$name")" open "$what: the breaker is open"
	is "$(log_count "event=transition .*breaker=$name .*from=closed to=open reason=consecutive_failures")" 1 \
		"$what: log: closed -> open after consecutive failures"
	if [ "$mode" != connect ]; then
		# request: one connection per timed-out attempt; keepalive: call 0's
		# (timed out once more) and one new one
		is "$(conns S)" 2 "$what: the server saw 2 connections, none once the breaker was open"
	fi
	if [ "$_tap_fail" -gt 0 ]; then
		diag "$what: client output:"
		while IFS= read -r line; do diag "  $line"; done <<<"$out"
		while IFS= read -r line; do diag "  stderr: $line"; done < <(head -c 2000 "$T/client.err")
		show_log
	fi
}

# ---- scenarios side by side ----

_dirs=()
# run PROG MODE EXPECT...: scenario in a background subshell of its own.
run() {
	local prog=$1 mode=$2 dir
	if [ -n "$ONLY" ] && [[ " $ONLY " != *" $prog "* ]]; then
		return
	fi
	dir=$T/$((${#_dirs[@]} + 1))-$prog-$mode
	_dirs+=("$dir")
	mkdir -p "$dir"
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	(
		T=$dir CFG=$dir/recloser.ini STATE=$dir/state LOG=$dir/log
		_srv_pids=() _tap_n=0 _tap_fail=0
		trap 'for p in "${_srv_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait' EXIT
		trap 'exit 143' TERM
		scenario "$@"
	) >"$dir/tap" 2>&1 </dev/null &
}

# replay: every scenario's TAP lines, renumbered, in order.
replay() {
	local dir line
	for dir in "${_dirs[@]}"; do
		while IFS= read -r line; do
			case $line in
			"Bail out!"*)
				echo "$line"
				exit 255
				;;
			"ok "*" # skip "*) skip "${line#* # skip }" ;;
			"ok "*)
				_tap_n=$((_tap_n + 1))
				echo "ok $_tap_n - ${line#* - }"
				;;
			"not ok "*)
				_tap_n=$((_tap_n + 1))
				_tap_fail=$((_tap_fail + 1))
				echo "not ok $_tap_n - ${line#* - }"
				;;
			*) echo "$line" >&2 ;;
			esac
		done <"$dir/tap"
	done
}

t_all=$(now_ms)
# Programs that make one network attempt per call.
for m in connect request keepalive; do
	run node_fetch "$m" T T R
	run node_http "$m" T T R
	run py_asyncio "$m" T T R
	run py_requests "$m" T T R
	run c_poll "$m" T T R
	run c_select "$m" T T R
	run c_epoll "$m" T T R
done
# HttpClient (JDK 17): a ConnectException is tried again once, on a new
# connection (jdk.httpclient.disableRetryConnect unset; its first retry,
# on the same channel, finds it closed), and so is a GET whose connection
# fails with an IOException before any byte of the answer, pooled or new
# (a ConnectionExpiredException): one call, two timeouts.  (Seen without
# the shim: 2 connects per call to a closed port, 2 connections per call
# to a server that resets after the request.)
run java_httpclient connect T2 R R
run java_httpclient request T2 R R
run java_httpclient keepalive T2 R R
# HttpURLConnection: a connect that times out is not tried again; a GET
# whose read fails with an IOException (not its own SocketTimeoutException)
# is, once, on a new connection: one call, two timeouts.
run java_urlconn connect T T R
run java_urlconn request T2 R R
run java_urlconn keepalive T2 R R
# net/http: a connect that times out is not tried again (Net::OpenTimeout);
# a GET whose read fails is (max_retries = 1), on a new connection.
run ruby_net_http connect T T R
run ruby_net_http request T2 R R
run ruby_net_http keepalive T2 R R
for m in connect request; do
	run php_fgc "$m" T T R
	run psql "$m" T T R
	# wget's first run makes 3 tries (2 time out, the 3rd is refused: it
	# gives up); the next run is refused at once.
	run wget "$m" W R
done
run redis_cli request T T R
# redis-cli's connect that fails is made again once before it gives up
# (a command needs a connection): one run, two timeouts.
run redis_cli connect T2 R R
run curl connect T T R
run curl request T T R
wait
replay
note "all scenarios: $(elapsed_ms "$t_all") ms"
done_testing
