#!/bin/bash
# The log (SPEC section 5): every line is logfmt with ts pid prog level event;
# reject lines are rate limited per breaker per process with count=; call and
# start lines at debug; the shim never writes into a file of the application.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
P=$(closed_port)
write_config connect_timeout=2s log_level=debug
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s
breaker dead "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s

scurl "http://127.0.0.1:$HTTP/" >/dev/null
pyc connect 127.0.0.1 "$HTTP" --request >/dev/null
for i in 1 2; do scurl "http://127.0.0.1:$P/" >/dev/null; done
rc open svc >/dev/null
rc close svc >/dev/null

# Many rejections in well under a second, in each of two processes.
out1=$(pyc connect 127.0.0.1 "$P" -n 300)
out2=$(pyc connect 127.0.0.1 "$P" -n 300)
is "$(kv "$out1" ECONNREFUSED) $(kv "$out2" ECONNREFUSED)" "300 300" "two processes rejected 300 times each"
cmp_ok "$(ms_int "$(kv "$out1" total_ms)")" '<' 1000 "...each in less than a second ($(kv "$out1" total_ms) ms)"
is "$(json_field dead rejected)" 600 "status: rejected 600"

ok "$([ -s "$LOG" ]; echo $?)" "the log exists"
re='^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z pid=[0-9]+ prog=[^ ]+ level=(error|warn|info|debug) event=[^ ]+'
bad=0 total=0
while IFS= read -r l; do
	total=$((total + 1))
	[[ $l =~ $re ]] || { bad=$((bad + 1)); diag "bad line: $l"; }
	[[ $l =~ [[:cntrl:]] ]] && { bad=$((bad + 1)); diag "control char in: $l"; }
done <"$LOG"
cmp_ok "$total" '>' 5 "the log has lines ($total)"
is "$bad" 0 "every line matches ts= pid= prog= level= event="
is "$(tail -c 1 "$LOG" | od -An -c | tr -d ' ')" '\n' "the log ends with a newline (whole lines)"

# Every key=value of a line is logfmt: key=bare or key="quoted".
out=$("$PY" -c '
import re, sys
pair = re.compile(r"""[a-z_]+=("([^"\\]|\\.)*"|[^ "=]+)""")
bad = 0
for line in open(sys.argv[1]):
    rest = line.rstrip("\n")
    while rest:
        m = pair.match(rest)
        if not m:
            bad += 1; print("#", line, end="", file=sys.stderr); break
        rest = rest[m.end():].lstrip(" ")
print(bad)' "$LOG")
is "$out" 0 "every line is a sequence of logfmt key=value pairs"

# the line a process writes at exit (at_exit=1) carries what the rate limit
# held back; it is not one of the rate-limited lines
allrejects=$(grep 'event=reject' "$LOG" | grep 'breaker=dead')
rejects=$(grep -v ' at_exit=1' <<<"$allrejects")
total=$(sed -n 's/.* count=\([0-9]*\).*/\1/p' <<<"$allrejects" | awk '{s += $1} END {print s + 0}')
is "$total" "$(json_field dead rejected)" "the reject lines' counts add up to the rejected count: nothing lost"
pids=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' <<<"$rejects" | sort -u)
is "$(wc -l <<<"$pids" | tr -d ' ')" 2 "reject lines come from the 2 processes" || show_log
maxper=0
for p in $pids; do
	n=$(grep -c " pid=$p " <<<"$rejects")
	((n > maxper)) && maxper=$n
done
cmp_ok "$maxper" '<=' 2 "300 rejects in < 1 s: at most 2 reject lines per process ($maxper)"
like "$(head -n 1 <<<"$rejects")" ' count=[0-9]+' "reject lines carry count="
like "$(head -n 1 <<<"$rejects")" ' breaker=dead' "reject lines carry breaker="

like "$(grep -m1 'event=transition' "$LOG")" 'prog=curl .*level=info .*breaker=dead .*from=closed to=open reason=consecutive_failures' \
	"the curl that opened dead logged the transition (prog=curl, level=info)" || show_log
like "$(grep 'event=transition' "$LOG" | grep 'breaker=svc' | head -n 1)" 'from=closed to=open reason=cli' \
	"recloser open logged a transition with reason=cli" || show_log
like "$(grep 'event=transition' "$LOG" | grep 'breaker=svc' | sed -n 2p)" 'from=open to=closed reason=cli' \
	"recloser close logged a transition with reason=cli" || show_log

# debug: call lines with outcome, latency_us, dest; start lines.
for prog in curl python3; do
	call=$(grep 'event=call' "$LOG" | grep 'breaker=svc' | grep " prog=$prog " | head -n 1)
	like "$call" 'level=debug ' "$prog: a call line at debug" || show_log
	like "$call" ' outcome=[^ ]+' "$prog: ...with outcome="
	like "$call" ' latency_us=[0-9]+' "$prog: ...with latency_us="
	like "$call" " dest=\"?127\.0\.0\.1:$HTTP\"?( |$)" "$prog: ...with dest=127.0.0.1:$HTTP"
done
cmp_ok "$(log_count 'level=debug event=start')" '>=' 1 "start lines at debug"
cmp_ok "$(grep 'event=call' "$LOG" | grep -c 'breaker=dead')" '==' 2 "2 call lines for dead (the 2 let through)"

# log_level=info: no debug lines.
write_config connect_timeout=2s
breaker svc "match=127.0.0.1:$HTTP"
rm -f "$LOG"
scurl "http://127.0.0.1:$HTTP/" >/dev/null
rc force-open svc >/dev/null
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(log_count 'level=debug')" 0 "log_level = info: no debug line" || show_log

# The shim keeps no fd to the log or the state file that the application could
# inherit, close or reuse; fds it keeps are O_CLOEXEC.  An fd number the shim
# used, reused by the application, never gets a log line.
write_config connect_timeout=2s
breaker dead "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
rm -f "$STATE"
out=$(under_shim "$PY" -c '
import fcntl, os, socket, sys
log, state, port, app = sys.argv[1:5]
def attempt():
    try:
        socket.create_connection(("127.0.0.1", int(port))).close()
    except OSError:
        pass
for _ in range(3):
    attempt()                               # 2 failures open it, then rejects
mine = []
for fd in os.listdir("/proc/self/fd"):
    try:
        t = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        continue
    if t in (log, state):
        mine.append(int(fd))
noexec = [fd for fd in mine if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC]
# the application closes the fds and reuses their numbers for its own file
a = os.open(app, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for fd in mine:
    os.dup2(a, fd)
os.write(a, b"APP\n")
os.system("%s -c %s open dead >/dev/null; %s -c %s close dead >/dev/null" % (sys.argv[5], sys.argv[6], sys.argv[5], sys.argv[6]))
for _ in range(3):
    attempt()                               # more failures, a transition, rejects
print("kept=%d noexec=%d" % (len(mine), len(noexec)))
' "$LOG" "$STATE" "$P" "$T/app.txt" "$RECLOSER" "$CFG")
like "$out" 'noexec=0' "every fd the shim keeps on the log or state file is O_CLOEXEC ($out)"
is "$(cat "$T/app.txt")" "APP" "the application's file, on the reused fd numbers, got no log line"
diag "shim fds on log/state after use: $out"

done_testing
