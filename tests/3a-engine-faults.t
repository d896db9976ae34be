#!/bin/bash
# Engine faults: the host program survives what happens around the shim.
#  A. The state file shrinks under a running process (truncate, `: >`,
#     cp /dev/null): no SIGBUS; its calls pass through; one state_error
#     line.  A program's own SIGBUS (a mapping of its own) is still its own.
#  B. connect() from a signal handler while a live reload is due: no heap
#     corruption, no crash, and the reload still happens.
#  C. A child made by _Fork() or a raw clone() makes no verdict on its
#     parent's open call, and does not give up the parent's half-open probe.
#  D. A storm of SA_RESTART signals, in a program that also has a handler
#     without SA_RESTART (SIGSEGV, as ASan builds have): a bounded blocking
#     connect or read never returns EINTR; it ends in ETIMEDOUT at its bound.
#  E. A socket waiting for its answer, closed where the shim cannot see it,
#     its number reused by a timerfd: the timer's blocking read gets its
#     expiration count, not the socket's response_timeout.
#  F. The state file deleted, or replaced by another process's, under a
#     running process: it rejoins the file at the path at its next reload
#     check, says so in one line, and its calls count where the CLI looks.
#  G. dup2() onto an fd another thread is making calls on: no crash, sane
#     counts, and no call line mixing one connection's breaker with another
#     connection's destination.
#  H. Memory stays bounded across hundreds of live reloads of a 41-breaker
#     config.
#  I. Handlers the signal mask cannot tell (SA_NODEFER, sysv_signal, on an
#     alternate stack) and jumps out of them (siglongjmp, longjmp,
#     _longjmp, __longjmp_chk): no reload inside one, the next call outside
#     reloads (also for a handler set by a handler that came during a
#     wait in the shim), and the program sees its own dispositions, also
#     when two threads set them at once, and no hang when a fault's handler
#     jumps out of a sigaction half done; a siglongjmp out of a hook's wait
#     (alarm around a blocking connect, around a request waiting for a
#     bulkhead's ticket) leaves the socket's flags as the program had them,
#     the bulkhead's waiter count right, and the shim counting afterwards.
# The programs are tests/clients/fault_*.c and fault_pyloop.py (usage in
# their headers).
source "$(dirname "$0")/lib.sh"
need_build

CL=$ROOT/tests/clients
for p in fault_loop fault_sigbus fault_sigconnect fault_fork fault_eintr fault_stalefd \
	fault_dup2race fault_handlers; do
	${CC:-cc} -O1 -pthread -o "$T/$p" "$CL/$p.c" 2>"$T/cc.err" ||
		bail_out "cannot build $p: $(head -c 300 "$T/cc.err")"
done

start_server OK http
start_server HANG hang

# use NAME: a fresh state file and log for the next part (nothing else
# running uses them).
use() { STATE=$T/state.$1; LOG=$T/log.$1; }

# loop_start NAME PORT INTERVAL_MS http|connect|py: tests/clients/fault_loop
# (py: fault_pyloop.py, HTTP, under python3 -X faulthandler) under the shim
# in the background; its output in $T/NAME.out, its pid in $LOOP_PID (the
# program's, not timeout's), the job in $LOOP_JOB.
loop_start() {
	local name=$1
	rm -f "$T/$name.stop" "$T/$name.pid"
	if [ "$4" = py ]; then
		RUN_TIMEOUT=60 under_shim "$PY" -X faulthandler "$CL/fault_pyloop.py" "$2" \
			"$T/$name.stop" "$T/$name.pid" "$3" >"$T/$name.out" 2>"$T/$name.err" &
	else
		RUN_TIMEOUT=60 under_shim "$T/fault_loop" "$2" "$T/$name.stop" "$T/$name.pid" "$3" "$4" 40 \
			>"$T/$name.out" 2>"$T/$name.err" &
	fi
	LOOP_JOB=$!
	wait_until 5000 test -s "$T/$name.pid" || bail_out "fault_loop did not start: $(cat "$T/$name.err")"
	LOOP_PID=$(cat "$T/$name.pid")
}
# loop_stop NAME: stop it; its exit status.
loop_stop() { touch "$T/$1.stop"; wait "$LOOP_JOB"; }
out_lines() { wc -l <"$T/$1.out" | tr -d ' '; }
out_lines_ge() { [ "$(out_lines "$1")" -ge "$2" ]; }
# grown_or_gone NAME N: NAME's output has N lines, or the program ended.
grown_or_gone() { out_lines_ge "$1" "$2" || ! kill -0 "$LOOP_PID" 2>/dev/null; }
calls_of() { json_field "$1" calls; }
calls_gt() { local c; c=$(calls_of "$1"); [[ $c =~ ^[0-9]+$ ]] && [ "$c" -gt "$2" ]; }
# log_lines_of PID FROM: the log's lines from line FROM+1 on written by PID.
log_lines_of() { tail -n +"$(($2 + 1))" "$LOG" 2>/dev/null | grep " pid=$1 "; }
nlines() { if [ -z "$1" ]; then echo 0; else grep -c . <<<"$1"; fi; }
log_len() { if [ -f "$LOG" ]; then wc -l <"$LOG"; else echo 0; fi; }

# ===================================================================
# A. The state file shrinks under a running process.
# ===================================================================
# The 4th: python3 -X faulthandler (as under pytest), whose own SIGBUS
# handler is installed after the shim started: the fault in the shim's
# state file is still the shim's to survive.
n=0
for how in "truncate -s 0" ": >" "cp /dev/null" "truncate -s 0"; do
	n=$((n + 1))
	use trunc$n
	write_config
	breaker svc "match=127.0.0.1:$OK" failure_threshold=100
	what=$([ $n = 4 ] && echo "a python3 -X faulthandler process" || echo "a process")
	loop_start trunc$n "$OK" 20 "$([ $n = 4 ] && echo py || echo http)"
	wait_until 5000 out_lines_ge trunc$n 5 || bail_out "fault_loop made no calls: $(cat "$T/trunc$n.err")"
	case $n in
	1 | 4) truncate -s 0 "$STATE" ;;
	2) : >"$STATE" ;;
	3) cp /dev/null "$STATE" ;;
	esac
	n0=$(out_lines trunc$n)
	wait_until 3000 grown_or_gone trunc$n $((n0 + 20))
	loop_stop trunc$n; st=$?
	is "$st" 0 "\`$how STATE\` under $what making calls: it goes on, exit 0 (not killed by SIGBUS)" ||
		diag "$(tail -n 3 "$T/trunc$n.err")"
	last=$(tail -n 1 "$T/trunc$n.out")
	like "$last" '^done ok=[0-9]+ fail=0$' "...every call it made succeeded ($last)"
	cmp_ok "$(grep -c '^ok$' "$T/trunc$n.out")" '>=' $((n0 + 20)) "...including at least 20 after the file shrank (pass-through)"
	se=$(grep 'event=state_error' "$LOG" 2>/dev/null)
	is "$(nlines "$se")" 1 "...exactly one event=state_error line" || show_log
	like "$se" " pid=$LOOP_PID " "...from that process"
done

# A program's own SIGBUS, in a mapping of its own, is its own.
use sigbus
write_config
breaker svc "match=127.0.0.1:$OK" failure_threshold=100
want="caught=1 addr=own after=ok"
base=$("$T/fault_sigbus" "$T/own.map" catch "$OK")
is "$base" "$want" "without the shim: its SIGBUS handler catches its own fault (siglongjmp), calls go on"
out=$(under_shim "$T/fault_sigbus" "$T/own.map" catch "$OK"); st=$?
is "$st $out" "0 $want" "under the shim: the program's SA_SIGINFO SIGBUS handler gets its own fault, with its address"
# (in a subshell: no "Bus error" report from this shell)
("$T/fault_sigbus" "$T/own.map" nocatch "$OK" >/dev/null 2>&1; exit $?) 2>/dev/null; base=$?
is "$base" 135 "without the shim: no handler, the fault kills it with SIGBUS (status 135)"
(under_shim "$T/fault_sigbus" "$T/own.map" nocatch "$OK" >/dev/null 2>&1; exit $?) 2>/dev/null; st=$?
is "$st" 135 "under the shim: killed by SIGBUS as well (status 135), not swallowed or looping"
pybus='
import mmap, os, sys
f = open(sys.argv[1], "w+b"); f.truncate(16384)
m = mmap.mmap(f.fileno(), 16384)
m[0] = 1
os.ftruncate(f.fileno(), 0)
print("read", m[8192])
'
("$PY" -X faulthandler -c "$pybus" "$T/own.py.map" >/dev/null 2>"$T/pybus.base"; exit $?) 2>/dev/null; base=$?
(under_shim "$PY" -X faulthandler -c "$pybus" "$T/own.py.map" >/dev/null 2>"$T/pybus.err"; exit $?) 2>/dev/null; st=$?
is "$base $st" "135 135" "python3 -X faulthandler touching its own truncated mmap: SIGBUS, with and without the shim"
like "$(head -n 1 "$T/pybus.err")" 'Fatal Python error: Bus error' "...its own handler (faulthandler) reports it under the shim"
is "$(log_count 'event=state_error')" 0 "...and the shim logs no state_error for faults not in its state file"

# ===================================================================
# B. connect() inside a signal handler while a live reload is due.
# ===================================================================
use sigconn
P=$(closed_port)
write_config reload=10ms
# every connect is refused by the kernel and counted; nothing ever opens
breaker dead "match=127.0.0.1:$P" failure_threshold=0 failure_rate=0
# MALLOC_PERTURB_ fills freed and new blocks, so a heap touched by a
# re-entered malloc shows at once; glibc's own checks abort on it.  With
# glibc >= 2.34 MALLOC_CHECK_=3 acts only with libc_malloc_debug.so
# preloaded: the second run, where a re-entered malloc deadlocks on the
# arena lock instead (the guard's timeout).
MDEBUG=
for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do
	[ -f "$d/libc_malloc_debug.so.0" ] && { MDEBUG=$d/libc_malloc_debug.so.0; break; }
done
SIGCFG=$(cat "$CFG")
rm -f "$T/sigconn.stop"
(
	# rewrite the config (atomically) every ~5 ms until told to stop
	i=0
	while [ ! -e "$T/sigconn.stop" ] && [ $i -lt 3000 ]; do
		i=$((i + 1))
		printf '%s\n# edit %s\n' "$SIGCFG" "$i" >"$CFG.tmp" && mv -f "$CFG.tmp" "$CFG"
		sleep 0.005
	done
) &
EDITOR_JOB=$!
# The third: the handler has SA_NODEFER too (SIGALRM is not blocked while
# it runs), so the mask cannot tell the shim it is in a handler: the
# shim's trampoline does (shim/engine/sig.h).
for variant in plain malloc_debug nodefer; do
	pre=$SHIM nd=
	if [ $variant = malloc_debug ]; then
		[ -n "$MDEBUG" ] || { skip "no libc_malloc_debug.so.0" 4; continue; }
		pre="$SHIM $MDEBUG"
	fi
	prog=$T/fault_sigconnect
	[ $variant = nodefer ] && nd=nodefer
	r0=$(log_count 'event=reload')
	timed ms timeout -k 2 8 env LD_PRELOAD="$pre" RECLOSER_CONFIG="$CFG" \
		MALLOC_CHECK_=3 MALLOC_PERTURB_=165 "$prog" "$P" 2 $nd \
		>"$T/sigconn.out" 2>"$T/sigconn.err"
	st=$?
	out=$(cat "$T/sigconn.out")
	is "$st" 0 "$variant: connect() in a 1 ms SIGALRM handler, reloads due (10ms, config rewritten every ~5 ms): exit 0, no heap corruption or deadlock" ||
		diag "stderr: $(head -c 300 "$T/sigconn.err")"
	like "$out" '^loops=[0-9]+ main_ok=0 handler_ok=0 handler_fail=[1-9][0-9]+ signals=[1-9][0-9]+$' \
		"...it ran to the end, its connects refused by the kernel ($out)"
	cmp_ok "$(($(log_count 'event=reload') - r0))" '>=' 1 "...and the config was reloaded meanwhile (event=reload)"
	ok $(((ms >= 1900 && ms < 6000) ? 0 : 1)) "...in about its 2 s, not cut short ($ms ms)"
done
touch "$T/sigconn.stop"
wait "$EDITOR_JOB"
is "$(log_count 'event=config_error')" 0 "every reload read a whole file (no config_error)"

# ===================================================================
# C. Children made by _Fork() or raw clone() and their parent's call.
# ===================================================================
use fork
CLI_RAW="env -u LD_PRELOAD $RECLOSER"
k=0
for how in fork _Fork clone; do
	for act in close exit; do
		k=$((k + 1))
		write_config
		breaker "f$k" "match=127.0.0.1:$HANG" response_timeout=200ms failure_threshold=100
		# the child lives 400 ms (> response_timeout) after the request, then
		# (closes the socket and) exits 0; the parent looks at the counts
		# once the child is gone, then closes the socket itself.  The
		# parent's own timer thread judges the call at response_timeout
		# (the parent waits elsewhere): one verdict, never the child's
		out=$(RUN_TIMEOUT=20 under_shim "$T/fault_fork" "$HANG" "$how" "$act" 400 \
			"$CLI_RAW -c $CFG status --json >$T/fork$k.json"); st=$?
		is "$st $out" "0 child=0" "$how(): the child ($([ $act = close ] && echo 'closes the socket, ')returns from main) exits 0"
		mid=$("$PY" -c '
import json, sys
for b in json.load(open(sys.argv[1])):
    if b["name"] == sys.argv[2]: print(b["calls"], b["failures"])' "$T/fork$k.json" "f$k" 2>/dev/null)
		is "$mid" "1 1" "...$how() child gone: the one verdict is the parent's timeout, none the child's (calls 1)"
		is "$(counts f$k | cut -d' ' -f1,2)" "1 1" "...the parent's own close after it adds none: calls 1, failures 1"
	done
done
# A half-open breaker's one probe, held by the parent: its child's exit
# must not give it up, so another process is still refused.
PROBE="$PY -c 'import errno, socket, sys
s = socket.socket()
try:
    s.connect((\"127.0.0.1\", int(sys.argv[1]))); print(\"admitted\")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
' $HANG"
k=0
for how in fork _Fork clone; do
	k=$((k + 1))
	write_config
	breaker "h$k" "match=127.0.0.1:$HANG" half_open_probes=1 success_threshold=1 \
		open_duration=60s open_duration_max=60s failure_threshold=1
	rc half-open "h$k" >/dev/null
	rm -f "$T/probe$k.out"
	out=$(RUN_TIMEOUT=20 under_shim "$T/fault_fork" "$HANG" "$how" exit 100 \
		"$PROBE >$T/probe$k.out"); st=$?
	is "$st $out" "0 child=0" "half-open, probes 1, the parent holds the probe; $how() child exits 0"
	is "$(cat "$T/probe$k.out" 2>/dev/null)" ECONNREFUSED \
		"...another process, after the child's exit: still refused (the live parent holds the probe)"
done

# ===================================================================
# D. SA_RESTART signals every 100 us, plus a SIGSEGV handler without it.
# ===================================================================
use eintr
start_server BH blackhole
write_config
breaker bh "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=100
breaker rt "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=100
timeout 1 "$T/fault_eintr" read "$HANG" >"$T/eintr.base"; base=$?
is "$base $(cat "$T/eintr.base")" "124 " "without the shim: the kernel restarts the recv after every SIGALRM: still blocked at 1 s"
out=$(RUN_TIMEOUT=20 under_shim "$T/fault_eintr" connect "$BH")
like "$out" '^ETIMEDOUT@[0-9]+ signals=[0-9]+$' "under the shim: blocking connect to a blackhole (connect_timeout 1s): ETIMEDOUT, no EINTR ($out)"
ms=$(at "$out" ETIMEDOUT)
ok $(((ms >= 900 && ms < 4000) ? 0 : 1)) "...at connect_timeout (1 s), neither before nor long after ($ms ms)"
cmp_ok "$(sed -n 's/.*signals=//p' <<<"$out")" '>' 100 "...through a storm of signals"
out=$(RUN_TIMEOUT=20 under_shim "$T/fault_eintr" read "$HANG")
like "$out" '^ETIMEDOUT@[0-9]+ signals=[0-9]+$' "under the shim: blocking recv (response_timeout 500ms): ETIMEDOUT, no EINTR ($out)"
ms=$(at "$out" ETIMEDOUT)
ok $(((ms >= 400 && ms < 3000) ? 0 : 1)) "...at response_timeout (500 ms), neither before nor long after ($ms ms)"
is "$(json_field bh timeouts) $(json_field rt timeouts)" "1 1" "both counted as timeouts"

# ===================================================================
# E. A stale fd entry and an unrelated blocking read.
# ===================================================================
use stale
write_config
breaker st "match=127.0.0.1:$HANG" response_timeout=300ms failure_threshold=100
base=$("$T/fault_stalefd" "$HANG" sys_close timerfd)
like "$base" '^reused=1 read=8 value=1@[0-9]+$' "without the shim: the timerfd takes the closed socket's number; read gets the count ($base)"
for cl in sys_close sys_close_range; do
	for tf in timerfd sys_timerfd; do
		out=$(RUN_TIMEOUT=10 under_shim "$T/fault_stalefd" "$HANG" "$cl" "$tf")
		like "$out" '^reused=1 read=8 value=1@[0-9]+$' \
			"under the shim: socket closed by $cl(2), number reused by $tf: read() gets the 8-byte count ($out)"
		ms=${out##*@}
		cmp_ok "${ms:-0}" '>=' 900 "...when the timer expires (~1 s), not at response_timeout ($ms ms)"
	done
done

# ===================================================================
# F. The state file deleted or replaced under a running process.
# ===================================================================
use rejoin
write_config reload=100ms
breaker svc "match=127.0.0.1:$OK" failure_threshold=100
loop_start rejoin "$OK" 20 http
wait_until 5000 calls_gt svc 0 || bail_out "fault_loop's calls are not counted: $(cat "$T/rejoin.err")"
# 1. deleted; the CLI makes a new file at the path
mark=$(log_len)
rm -f "$STATE"
rc status >/dev/null
ino1=$(stat -c %i "$STATE")
wait_until 3000 calls_gt svc 0
c1=$(calls_of svc)
cmp_ok "$c1" '>' 0 "state file deleted, a new one made by the CLI: the running process's calls count in it within 3 s (calls $c1)"
sleep 0.3
cmp_ok "$(calls_of svc)" '>' "$c1" "...and go on counting there"
got=$(log_lines_of "$LOOP_PID" "$mark")
is "$(nlines "$got")" 1 "...the process logs one line about it" || show_log
like "$got" 'state' "...about the state file ($got)"
# 2. replaced by a fresh file another process made
sed "s|^state_file = .*|state_file = $T/state.fresh|" "$CFG" >"$T/fresh.ini"
env -u LD_PRELOAD "$RECLOSER" -c "$T/fresh.ini" status >/dev/null
# looked at before it takes the path: once there, the process may rejoin
# it (reload = 100ms) and count a call before a check could read it
is "$(CFG=$T/fresh.ini calls_of svc)" 0 "(the fresh file has no calls yet)"
mark=$(log_len)
mv -f "$T/state.fresh" "$STATE"
isnt "$(stat -c %i "$STATE")" "$ino1" "(the path now names another file)"
wait_until 3000 calls_gt svc 0
c2=$(calls_of svc)
cmp_ok "$c2" '>' 0 "state file replaced by another process's fresh file: the calls count in it within 3 s (calls $c2)"
got=$(log_lines_of "$LOOP_PID" "$mark")
is "$(nlines "$got")" 1 "...the process logs one line about it" || show_log
like "$got" 'state' "...about the state file ($got)"
loop_stop rejoin; st=$?
is "$st" 0 "the process ran to the end, exit 0"
like "$(tail -n 1 "$T/rejoin.out")" '^done ok=[0-9]+ fail=0$' "...every call succeeded"

# ===================================================================
# G. dup2() onto an fd another thread is making calls on.
# ===================================================================
use dup2
start_server SB http
write_config log_level=debug
breaker ba "match=127.0.0.1:$OK" failure_threshold=0 failure_rate=0
breaker bb "match=127.0.0.1:$SB" failure_threshold=0 failure_rate=0
out=$(RUN_TIMEOUT=30 under_shim "$T/fault_dup2race" "$OK" "$SB" 3); st=$?
is "$st" 0 "a thread dup2()s sockets onto the fd another thread makes calls on, for 3 s: exit 0" ||
	diag "$out"
like "$out" '^writes=[1-9][0-9]* reads=[0-9]+ dups=[1-9][0-9]{3,}$' "...it ran ($out)"
writes=$(kv "$out" writes)
tot=0
for b in ba bb; do
	c=$(json_field $b calls) s=$(json_field $b successes) f=$(json_field $b failures)
	is "$c" "$((s + f))" "$b: calls ($c) = successes ($s) + failures ($f)"
	tot=$((tot + c))
done
cmp_ok "$tot" '<=' "$((writes + 3))" "calls in all ($tot) <= requests written + connects ($((writes + 3)))"
mixed=$(grep 'event=call ' "$LOG" | grep -vE "breaker=ba .*dest=127\.0\.0\.1:$OK( |$)|breaker=bb .*dest=127\.0\.0\.1:$SB( |$)" | head -n 3)
is "$mixed" "" "every call line's breaker and destination belong together"

# ===================================================================
# H. Memory across hundreds of live reloads of a 41-breaker config.
# ===================================================================
use mem
write_config reload=10ms
for i in $(seq 1 41); do
	breaker "m$i" "match=10.$i.0.0/16:80, 192.0.2.$i:443, *.svc$i.example.com" connect_timeout=2s
done
MEMCFG=$(cat "$CFG")
P=$(closed_port)
# connects to a closed port nothing matches, every 1 ms: each is a reload check
loop_start mem "$P" 1 connect
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$LOOP_PID/status" 2>/dev/null; }
reloads() { log_count " pid=$LOOP_PID .*event=reload "; }
reloads_ge() { [ "$(reloads)" -ge "$1" ]; }
edit() { printf '%s\n# edit %s\n' "$MEMCFG" "$1" >"$CFG.tmp" && mv -f "$CFG.tmp" "$CFG"; }
t0=$(now_ms)
for i in $(seq 1 20); do edit "$i"; sleep 0.02; done
wait_until 2000 reloads_ge 15
r0=$(reloads) rss0=$(rss)
for i in $(seq 21 540); do edit "$i"; sleep 0.015; done
sleep 0.1
r1=$(reloads) rss1=$(rss)
loop_stop mem; st=$?
is "$st" 0 "the process ran through the reloads, exit 0"
cmp_ok "$((r1 - r0))" '>=' 300 "it reloaded the 41-breaker config hundreds of times ($((r1 - r0)) reloads measured, $(elapsed_ms "$t0") ms)"
grow=$((rss1 - rss0))
cmp_ok "$grow" '<' 5120 "VmRSS grew by less than 5 MB over them ($rss0 kB -> $rss1 kB: +$grow kB, $((grow * 1024 / (r1 - r0 + 1))) bytes per reload)"

# ===================================================================
# I. Handlers the mask cannot tell, and jumps out of handlers.
# ===================================================================
use handlers
# every way to set a handler, asked back and called: the same under the shim
plain=$(timeout 10 "$T/fault_handlers" dispositions 2>&1)
write_config
P=$(closed_port)
breaker dead "match=127.0.0.1:$P"
shimmed=$(under_shim "$T/fault_handlers" dispositions 2>&1)
is "$shimmed" "$plain" "dispositions (sigaction with and without SA_NODEFER/SA_SIGINFO, signal, bsd_signal, sysv_signal, sigset), asked back and called: the same under the shim"
like "$plain" 'nodefer siginfo called: sig=[0-9]+ code_is_tkill=1' "...and the run says something (an SA_SIGINFO handler gets its siginfo)"
like "$plain" 're-entered: depth=0 max=3' "...(an SA_NODEFER handler re-entered by its own signal)"
like "$shimmed" 'ignored: still here' "...SIG_IGN set with SA_SIGINFO|SA_NODEFER stays ignored under the shim (not wrapped)"
# two threads setting one signal's SA_NODEFER handler at once: the calls
# are taken one at a time (each "before" is the one set last).
# racing_ok LINE: yes if "racing unbalanced=0 asked=A called=A"
racing_ok() {
	[[ $1 =~ ^racing\ unbalanced=0\ asked=([0-9])\ called=([0-9])$ ]] &&
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && echo yes || echo "no: $1"
}
plain=$(timeout 20 "$T/fault_handlers" racing 2>&1)
is "$(racing_ok "$plain")" yes "racing: two threads setting SIGUSR1's SA_NODEFER handler 20,000 times each, without the shim: what each call says was there before balances, the one asked back is the one called"
for i in 1 2 3; do
	out=$(under_shim "$T/fault_handlers" racing 2>&1)
	is "$(racing_ok "$out")" yes "...the same under the shim, run $i"
done
# a fault's handler that jumps out of a sigaction half done (300 SIGSEGV
# jumps in a thread setting a handler in a loop): no other thread waits for
# good for the piece that thread held
out=$(under_shim "$T/fault_handlers" faultjump 2>&1); st=$?
is "$st" 0 "faultjump: SIGSEGV handlers siglongjmp out of a loop of sigactions 300 times (some half done), then another thread sets a handler 100 times: no hang (a 10 s alarm would kill it), exit 0 ($out)"
like "$out" 'faultjump jumps=[1-9][0-9]* after_ms=[0-9]+$' "...the jumps were taken"
cmp_ok "$(sed -n 's/.*after_ms=\([0-9]*\).*/\1/p' <<<"$out")" '<' 2000 "...and those 100 calls took under 2 s (the jump gave the piece back; a piece left held is taken over after 50 ms)"
out=$(under_shim "$T/fault_handlers" faultjump ctx 2>&1); st=$?
is "$st" 0 "faultjump ctx: the same with handlers that leave by setcontext (a jump the shim does not see), then on the main thread, then a longjmp over that stack: no hang, exit 0 ($out)"
cmp_ok "$(sed -n 's/.*after_ms=\([0-9]*\).*/\1/p' <<<"$out")" '<' 2000 "...those 100 calls took under 2 s (the piece left is its thread's at its next call, or taken over after 50 ms)"
like "$out" 'deep blocked=0' "...and a longjmp over the stack those sigactions left, written over since, runs none of what it says (no crash, the mask the program's)"
# reloads: a breaker on a port nothing listens on, reload checks every 10 ms;
# one on a blackhole, for a handler set while a connect waits in the shim
start_server BH blackhole
write_config reload=10ms
breaker dead "match=127.0.0.1:$P" failure_threshold=0 failure_rate=0
breaker bh "match=127.0.0.1:$BH" connect_timeout=5s
out=$(RUN_TIMEOUT=40 under_shim "$T/fault_handlers" reloads "$CFG" "$LOG" "$P" "$BH" 2>&1); st=$?
is "$st" 0 "reloads: the program ran to the end" || diag "$out"
like "$out" 'wait_errno=EINTR' "...the connect to the blackhole was cut by the alarm whose handler set SIGUSR2's"
for kind in nodefer sysv_signal nodefer_onstack siglongjmp longjmp _longjmp __longjmp_chk nodefer_again sysv_in_wait; do
	line=$(grep "^$kind " <<<"$out")
	like "$line" '^[a-z_]+ in_handler=0 after=[1-9]' \
		"$kind: a connect in the handler does not reload (it waits), the next call outside it does ($line)"
done
is "$(log_count 'event=config_error')" 0 "...every reload read a whole config"
# out of a hook's wait: alarm(1) + siglongjmp out of a connect to a blackhole
start_server WEB http
write_config
breaker bh "match=127.0.0.1:$BH" connect_timeout=5s
breaker web "match=127.0.0.1:$WEB"
out=$(RUN_TIMEOUT=20 under_shim "$T/fault_handlers" jumpout "$BH" "$WEB" 2>&1); st=$?
is "$st" 0 "jumpout: alarm + siglongjmp out of two blocking connects (connect_timeout 5s), exit 0"
like "$out" 'nonblock=0' "...the sockets' flags after the jump are the program's (no O_NONBLOCK the shim set for its wait)"
like "$out" 'ok=3' "...then 3 requests elsewhere answered"
is "$(counts web | cut -d' ' -f1,2)" "3 0" "...and counted: the shim acts in that thread after the jump (calls 3, failures 0)"
# out of a request's wait for a bulkhead's ticket
write_config
breaker capped "match=127.0.0.1:$HANG, 127.0.0.1:$WEB" max_concurrent=1 max_wait=5s
PEEK=$ROOT/build/t/state_peek
[ -x "$PEEK" ] || bail_out "$PEEK missing: run make $PEEK"
out=$(RUN_TIMEOUT=20 under_shim "$T/fault_handlers" bulkjump "$HANG" "$WEB" "'$PEEK' '$STATE'" 2>&1); st=$?
is "$st" 0 "bulkjump: alarm + siglongjmp out of a request's wait for the one ticket (max_concurrent 1, max_wait 5s), exit 0" ||
	diag "$out"
like "$out" 'jumped=1' "...it jumped out of the wait"
like "$out" 'waiters=0' "...and left the wait: the bulkhead's waiter count is back to 0 at once (not one too many until a release wakes nobody)"
like "$out" 'b_ok=1' "...the request written again on that connection once the ticket is free is answered"
is "$(counts capped | cut -d' ' -f1,2,3)" "2 0 0" "...and counted: the connection's entry was given back (calls 2, failures 0, rejected 0)"

done_testing
