#!/bin/bash
# Log rotation (issue 5): a running process logs a call line every 50 ms
# (log_level = debug) while its log is rotated under it, first logrotate's
# way (mv log log.1), then by removing the name (rm log).  New lines go to a
# new `log` at once; the old files hold the earlier lines and stop growing;
# no line is lost or torn: the lines of all files add up to the calls made.
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)
write_config log_level=debug connect_timeout=2s
# never opens: every connect is a call, and a call line
breaker dead "match=127.0.0.1:$P" failure_threshold=0 failure_rate=0
breaker other "match=127.0.0.1:1"

# The client: its pid to $T/client.pid; a connect every 50 ms until
# $T/stop exists or 8 s have passed; then "calls=N".
under_shim "$PY" -c '
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
with open(stop.replace("stop", "client.pid"), "w") as f:
    f.write(str(os.getpid()))
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < 8 and not os.path.exists(stop):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    finally:
        s.close()
    n += 1
    time.sleep(0.05)
print("calls=%d" % n)
' "$P" "$T/stop" >"$T/client.out" 2>"$T/client.err" &
JOB=$!

# calls_in FILE: call lines of the client in FILE.
calls_in() {
	local n
	n=$(grep -c " pid=$CLIENT .* event=call .*breaker=dead" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}
calls_ge() { [ "$(calls_in "$1")" -ge "$2" ]; }

wait_until 5000 test -s "$T/client.pid" || bail_out "the client did not start: $(cat "$T/client.err")"
CLIENT=$(cat "$T/client.pid")
wait_until 3000 calls_ge "$LOG" 5
cmp_ok "$(calls_in "$LOG")" '>=' 5 "the client logs call lines"

# 1. logrotate: rename.
mv "$LOG" "$LOG.1"
t0=$(now_ms)
wait_until 2000 test -e "$LOG"
took=$(elapsed_ms "$t0")
ok "$([ -f "$LOG" ]; echo $?)" "after mv log log.1, a new log appears ($took ms)"
is "$(stat -c %a "$LOG" 2>/dev/null)" 600 "...created mode 0600"
rc force-open other >/dev/null   # another process logs too (reason=cli)
wait_until 2000 calls_ge "$LOG" 5
cmp_ok "$(calls_in "$LOG")" '>=' 5 "new call lines go to the new log"
s1=$(stat -c %s "$LOG.1")
like "$(grep 'breaker=other' "$LOG")" 'event=transition .*reason=cli' "the CLI's transition went to the new log"
is "$(grep -c 'breaker=other' "$LOG.1")" 0 "...not to log.1"

# 2. The name removed (moved aside here to count its lines: a second link
# to the log, even for a moment, would make the shim refuse it).
mv "$LOG" "$T/removed"
wait_until 2000 calls_ge "$LOG" 5
cmp_ok "$(calls_in "$LOG")" '>=' 5 "after rm log, new lines go to a new log"
s2=$(stat -c %s "$T/removed")

sleep 0.3
touch "$T/stop"
wait "$JOB"
is "$?" 0 "the client ran to the end" || diag "$(cat "$T/client.err")"
n=$(sed -n 's/^calls=//p' "$T/client.out")
cmp_ok "${n:-0}" '>=' 15 "the client made ${n:-0} calls"

is "$(stat -c %s "$LOG.1")" "$s1" "log.1 stopped growing once the new log was in use"
is "$(stat -c %s "$T/removed")" "$s2" "the removed file stopped growing too"
c1=$(calls_in "$LOG.1") c2=$(calls_in "$T/removed") c3=$(calls_in "$LOG")
is "$((c1 + c2 + c3))" "$n" "no call line lost: $c1 + $c2 + $c3 = $n calls"
cmp_ok "$c1" '>=' 5 "log.1 has the earlier lines ($c1)"

# Every line of every file is whole and well-formed, and the files follow
# each other in time.
re='^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z pid=[0-9]+ prog=[^ ]+ level=(error|warn|info|debug) event=[a-z_]+( [a-z_]+=("[^"]*"|[^ "]+))*$'
bad=0 total=0
for f in "$LOG.1" "$T/removed" "$LOG"; do
	while IFS= read -r l; do
		total=$((total + 1))
		[[ $l =~ $re ]] || { bad=$((bad + 1)); diag "bad line in ${f##*/}: $l"; }
	done <"$f"
	is "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" '\n' "${f##*/} ends with a whole line"
done
is "$bad" 0 "all $total lines are well-formed logfmt"
ts() { sed -n 's/^ts=\([^ ]*\) .*/\1/p' "$1" | LC_ALL=C sort | sed -n "$2"; }
ok "$([[ ! "$(ts "$LOG.1" '$p')" > "$(ts "$T/removed" 1p)" ]]; echo $?)" \
	"log.1 ends before the next file begins ($(ts "$LOG.1" '$p') <= $(ts "$T/removed" 1p))"
ok "$([[ ! "$(ts "$T/removed" '$p')" > "$(ts "$LOG" 1p)" ]]; echo $?)" \
	"the removed file ends before the new log begins ($(ts "$T/removed" '$p') <= $(ts "$LOG" 1p))"

done_testing
