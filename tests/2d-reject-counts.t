#!/bin/bash
# Reject counts add up (regressions): the reject lines of a breaker (rate
# limited to one per breaker per second per process, plus the at_exit=1 line
# and the carried=1 line a process writes at start) carry counts whose sum is
# the breaker's `rejected` in status --json, also when
#   1. the config is reloaded while rejections wait for their line (they were
#      kept in the per-config object the reload replaced, and lost);
#   2. a process rejected ends with _exit(), without its destructor (a forked
#      child, or the process itself): a later process under the shim, or the
#      parent's own exit, writes them (carried=1 / at_exit=1);
#   3. a line cannot be written (the process is out of fds: EMFILE on the
#      log): the line's count is kept for the next line.
# Each case has a state file and log of its own.  Rejections use
# reject_errno = EHOSTUNREACH, so the client tells them from the kernel's
# refusals of the closed port.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR (default
# $ROOT/build), e.g. a build of an older commit.
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)

# setup NAME [KEY=VALUE...]: a fresh state file, log and config for one case,
# with breaker NAME for 127.0.0.1:$P, forced open.
setup() {
	local name=$1
	shift
	STATE=$T/state.$name
	LOG=$T/log.$name
	CFG=$T/$name.ini
	write_config connect_timeout=2s "$@"
	breaker "$name" "match=127.0.0.1:$P" reject_errno=EHOSTUNREACH
	rc force-open "$name" >/dev/null || bail_out "force-open $name failed"
}

# reject_lines NAME: the reject lines of breaker NAME in $LOG.
reject_lines() { grep 'event=reject' "$LOG" 2>/dev/null | grep " breaker=$1 "; }

# logged NAME: the sum of count= over the reject lines of NAME.
logged() {
	reject_lines "$1" | sed -n 's/.* count=\([0-9]*\).*/\1/p' |
		awk '{s += $1} END {print s + 0}'
}

# Python helpers every client script starts with: reject() makes one connect
# to the matched port on socket S (a new one when S is None) and returns the
# errno name ("ok" if it connected).
PYLIB='
import errno, os, socket, sys, time
PORT = int(sys.argv[1])
def reject(s=None):
    own = s is None
    if own:
        s = socket.socket()
    try:
        s.connect(("127.0.0.1", PORT))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        if own:
            s.close()
def many(n, s=None, pause=0):
    got = {}
    for _ in range(n):
        r = reject(s)
        got[r] = got.get(r, 0) + 1
        if pause:
            time.sleep(pause)
    return got
seen = {}
def add(got):
    for k, v in got.items():
        seen[k] = seen.get(k, 0) + v
def report(**kw):
    print(" ".join("%s=%s" % kv for kv in sorted(list(seen.items()) + list(kw.items()))))
    sys.stdout.flush()
'

# check_sum NAME DESC: rejected > 0 and the lines' counts add up to it.
check_sum() {
	local r l
	r=$(json_field "$1" rejected)
	l=$(logged "$1")
	cmp_ok "$r" '>' 0 "$2: rejected > 0 ($r)"
	is "$l" "$r" "$2: the reject lines' counts add up to rejected" || show_log
}

# ---- 1. a reload while rejections wait for their line ----
# The client rejects 300 times in a burst, appends a comment to its config
# and keeps rejecting (every 2 ms) until its reload line appears; then
# another burst, then a second edit (a new breaker) the same way, a last
# burst, and a normal exit.
setup rl reload=100ms
out=$(RUN_TIMEOUT=40 under_shim "$PY" -c "$PYLIB"'
cfg, log = sys.argv[2], sys.argv[3]
me = " pid=%d " % os.getpid()
def reloads():
    try:
        with open(log) as f:
            return sum(1 for l in f if me in l and " event=reload " in l)
    except OSError:
        return 0
def edit_and_wait(text):
    n = reloads()
    with open(cfg, "a") as f:
        f.write(text)
    t0 = time.monotonic()
    while reloads() == n and time.monotonic() - t0 < 10:
        add(many(5, pause=0.002))
    return reloads() > n
add(many(300))
r1 = edit_and_wait("\n; a comment, appended\n")
add(many(300))
r2 = edit_and_wait("\n[other]\nmatch = 127.0.0.1:1\n")
add(many(300))
report(reload1=int(r1), reload2=int(r2))
' "$P" "$CFG" "$LOG")
rcode=$?
is "$rcode" 0 "reload: the client ran to the end (exit 0)"
is "$(kv "$out" reload1) $(kv "$out" reload2)" "1 1" "reload: the client saw both of its reloads in the log ($out)" || show_log
is "$(kv "$out" ok)$(kv "$out" ECONNREFUSED)" 00 "reload: no connect got through or reached the kernel"
n=$(kv "$out" EHOSTUNREACH)
cmp_ok "$n" '>=' 900 "reload: the client was rejected at least 900 times ($n)"
is "$(json_field rl rejected)" "$n" "reload: rejected == the client's rejections"
is "$(log_count 'event=reload')" 2 "reload: two event=reload lines" || show_log
check_sum rl "reload"

# ---- 2. _exit ----
# 2a: a forked child is rejected 200 times within a second and ends with
# os._exit(0); the parent, not rejected itself, exits normally.
setup fk reload=0
out=$(under_shim "$PY" -c "$PYLIB"'
pid = os.fork()
if pid == 0:
    add(many(200))
    report()
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("child_status=%d" % st)
' "$P" | tr '\n' ' ')
is "$(kv "$out" EHOSTUNREACH) $(kv "$out" child_status)" "200 0" "fork+_exit: the child was rejected 200 times and _exited 0 ($out)"
is "$(json_field fk rejected)" 200 "fork+_exit: rejected 200"
check_sum fk "fork+_exit, the parent exited normally"

# 2b: the process itself is rejected 200 times and ends with os._exit(0);
# then another process starts under the shim with the same config.
setup ex reload=0
out=$(under_shim "$PY" -c "$PYLIB"'
add(many(200))
report()
os._exit(0)
' "$P")
is "$(kv "$out" EHOSTUNREACH)" 200 "_exit: the process was rejected 200 times ($out)"
is "$(json_field ex rejected)" 200 "_exit: rejected 200"
l=$(logged ex)
cmp_ok "$l" '<' 200 "_exit: before another process runs, the lines carry fewer ($l): the rest waits"
under_shim "$PY" -c 'import os; print(os.getpid())' >"$T/later.pid"
later=$(cat "$T/later.pid")
check_sum ex "_exit, then another process started"
carried=$(reject_lines ex | grep " pid=$later ")
like "$carried" ' carried=1( |$)' "_exit: the later process wrote the waiting rejections, carried=1" || show_log
is "$(kv "$carried" count)" "$((200 - l))" "...with count=$((200 - l))"

# ---- 3. EMFILE: a line that cannot be written keeps its count ----
# The client lowers RLIMIT_NOFILE to 64, keeps one socket, opens /dev/null
# until EMFILE, and is rejected (on the kept socket) every 10 ms for 2.5 s:
# the rate-limited lines of at least two seconds are attempted and cannot
# open the log.  Then it closes those fds and either (a) waits for a new
# second and is rejected once more, then exits, or (b) just exits.
emfile_client() {
	under_shim "$PY" -c "$PYLIB"'
import resource
then = sys.argv[2]
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
s = socket.socket()
fds = []
emfile = 0
for _ in range(100):
    try:
        fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as e:
        emfile = int(e.errno == errno.EMFILE)
        break
# the log cannot be opened now
try:
    os.close(os.open(os.devnull, os.O_RDONLY)); blocked = 0
except OSError:
    blocked = 1
add(many(250, s, pause=0.01))
for fd in fds:
    os.close(fd)
if then == "again":
    time.sleep(1.1)
    add(many(1, s))
s.close()
report(emfile=emfile, blocked=blocked)
' "$P" "$1"
}

setup mf reload=0
out=$(emfile_client again)
is "$(kv "$out" emfile) $(kv "$out" blocked)" "1 1" "EMFILE: the client ran out of fds ($out)"
is "$(kv "$out" EHOSTUNREACH)" 251 "EMFILE: rejected 251 times (250 without fds, 1 after)"
is "$(json_field mf rejected)" 251 "EMFILE: rejected 251"
check_sum mf "EMFILE, then rejected again"

setup mx reload=0
out=$(emfile_client exit)
is "$(kv "$out" emfile) $(kv "$out" blocked)" "1 1" "EMFILE+exit: the client ran out of fds ($out)"
is "$(kv "$out" EHOSTUNREACH)" 250 "EMFILE+exit: rejected 250 times"
is "$(json_field mx rejected)" 250 "EMFILE+exit: rejected 250"
check_sum mx "EMFILE, then a normal exit"
like "$(reject_lines mx | tail -n 1)" ' at_exit=1( |$)' "EMFILE+exit: the last reject line is the at_exit=1 line" || show_log

done_testing
