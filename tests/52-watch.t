#!/bin/bash
# recloser status --watch: timestamped tables without escape codes when
# stdout is not a terminal; on a terminal (tmux) a view redrawn in place,
# state names in colour (not with NO_COLOR), showing a `recloser open` and
# a breaker added meanwhile; SIGINT and SIGTERM end it cleanly.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
URL=http://127.0.0.1:$HTTP/
write_config connect_timeout=2s
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=3 open_duration=60s
breaker other "match=127.0.0.1:1"
for i in 1 2 3 4; do scurl "$URL" >/dev/null; done

# ---- not a terminal: a timestamped table per refresh, no escape codes ----
timed ms rc status --watch --interval 150ms --count 3 >"$T/plain" 2>&1; st=$?
is "$st" 0 "--watch --count 3 into a file: exit 0"
out=$(cat "$T/plain")
is "$(grep -cE '^# [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ' "$T/plain")" 3 \
	"three frames, each headed by a UTC timestamp"
is "$(grep -c '^NAME  *STATE  *CALLS  *FAILURES  *FAIL%  *REJECTED  *BULKHEAD  *P50  *P99  *IN-STATE  *IN-FLIGHT$' "$T/plain")" 3 \
	"...each with the table header (p50/p99, time in state, calls in flight)"
is "$(grep -cE '^svc  +closed  +4  +0  +0\.0%  +0  +-  +[0-9.]+(us|ms)  +[0-9.]+(us|ms)  +[0-9.]+s  +-$' "$T/plain")" 3 \
	"...and svc's row: closed, 4 calls, no bulkhead (-), p50 and p99 latencies, time in state, no cap (-)" || diag "$out"
is "$(grep -c '^other ' "$T/plain")" 3 "...and other's row"
grep -q $'\033' "$T/plain"; isnt "$?" 0 "no escape code at all"
cmp_ok "$ms" '>=' 290 "two pauses of 150ms between the 3 frames (took $ms ms)"
cmp_ok "$ms" '<' 3000 "...and then it stops"
out=$("$PY" -c '
import re, sys, datetime
ts = [datetime.datetime.strptime(m, "%Y-%m-%dT%H:%M:%S.%f")
      for m in re.findall(r"^# (\S+)Z ", open(sys.argv[1]).read(), re.M)]
d = [(b - a).total_seconds() for a, b in zip(ts, ts[1:])]
print("ok" if len(d) == 2 and all(0.12 <= x < 1.5 for x in d) else d)' "$T/plain")
is "$out" ok "the timestamps are an interval apart"
out=$(rc status svc --watch --count 1)
like "$out" $'\nsvc ' "status NAME --watch: that breaker..."
unlike "$out" $'\nother ' "...only"

# SIGTERM ends it at once, with status 0.
"$RECLOSER" -c "$CFG" status --watch --interval 10s >"$T/term" 2>&1 &
pid=$!
wait_until 3000 grep -q '^svc ' "$T/term"
t0=$(now_ms)
kill -TERM "$pid"
wait "$pid"; st=$?
is "$st" 0 "SIGTERM during a 10 s pause: exit 0"
cmp_ok "$(elapsed_ms "$t0")" '<' 1000 "...at once, not at the end of the pause"

# Usage errors and an unknown breaker.
rc status --watch --interval 0 >/dev/null 2>&1; is "$?" 2 "--interval 0: exit 2"
rc status --watch --interval soon >/dev/null 2>&1; is "$?" 2 "--interval soon: exit 2"
rc status --watch --interval >/dev/null 2>&1; is "$?" 2 "--interval without a value: exit 2"
rc status --watch --count 0 >/dev/null 2>&1; is "$?" 2 "--count 0: exit 2"
rc status --count 2 >/dev/null 2>&1; is "$?" 2 "--count without --watch: exit 2"
rc status --watch --json >/dev/null 2>&1; is "$?" 2 "--watch with --json: exit 2"
rc status nosuch --watch --count 1 >/dev/null 2>&1; is "$?" 1 "--watch of an unknown breaker: exit 1"

# ---- on a terminal (tmux) ----
if ! command -v tmux >/dev/null; then
	skip "tmux not installed (scripts/deps.sh installs it)" 16
	done_testing
fi
TSOCK=$T/tmux.sock
tm() { tmux -S "$TSOCK" "$@"; }
trap '_rc=$?; tm kill-server >/dev/null 2>&1; (exit $_rc); _cleanup' EXIT
screen() { tm capture-pane -p -t "$1" -S -1000 2>/dev/null; }
screen_e() { tm capture-pane -p -e -t "$1" 2>/dev/null; }
_shows() { screen "$_S" | grep -qE -- "$_P"; }
# shows SESSION ERE: wait (3 s at most) until the screen has a line matching ERE.
shows() { _S=$1 _P=$2; wait_until 3000 _shows; }
# watch SESSION [ENV=VALUE...]: the live view on a 160x40 terminal; its exit
# status goes to $T/SESSION.rc.
watch() {
	local s=$1
	shift
	tm new-session -d -s "$s" -x 160 -y 40 \
		"$(printf '%q ' env "$@" "$RECLOSER" -c "$CFG" status --watch --interval 100ms); echo \$? >$T/$s.rc; sleep 60" </dev/null
}

watch w1 -u NO_COLOR
shows w1 '^svc +closed +4 '
ok $? "the live view shows svc closed with its 4 calls" || screen w1 | sed 's/^/#   /' >&2
like "$(screen_e w1)" $'\033\\[32mclosed' "closed is green"
like "$(screen w1)" 'every 100ms' "the title says how often it refreshes"
is "$(tm display -p -t w1 '#{cursor_flag}')" 0 "the cursor is hidden while it runs"
rc open svc >/dev/null
shows w1 '^svc +open '
ok $? "after recloser open svc, the screen shows svc open" || screen w1 | sed 's/^/#   /' >&2
like "$(screen_e w1)" $'\033\\[31mopen' "open is red"
rc force-open other >/dev/null
shows w1 '^other +forced_open '
ok $? "after recloser force-open other, the screen shows it forced_open"
like "$(screen_e w1)" $'\033\\[1m(\033\\[31m)?forced_open' "forced_open is bold"
rc half-open svc >/dev/null
shows w1 '^svc +half_open '
like "$(screen_e w1)" $'\033\\[33mhalf_open' "half_open is yellow"
"$RECLOSER" -c "$CFG" add newbie 127.0.0.1:3 >/dev/null
shows w1 '^newbie +closed '
ok $? "a breaker added with recloser add shows up (the config is re-read)"
is "$(screen w1 | grep -c '^recloser status ')" 1 "redrawn in place: one title in the whole scrollback"
echo "[broken" >>"$CFG"
shows w1 'config not reloaded: .*:[0-9]+: '
ok $? "a broken edit is reported with FILE:LINE, and the last good config kept"
like "$(screen w1)" $'\nnewbie ' "...whose breakers are still shown"
sed -i '$d' "$CFG"
tm send-keys -t w1 C-c
wait_until 3000 test -s "$T/w1.rc"
is "$(cat "$T/w1.rc" 2>/dev/null)" 0 "Ctrl-C (SIGINT): exit 0"
is "$(tm display -p -t w1 '#{cursor_flag}')" 1 "...and the cursor is shown again"

rc close svc >/dev/null
watch w2 NO_COLOR=1
shows w2 '^svc +closed '
ok $? "with NO_COLOR set: the view works..."
unlike "$(screen_e w2)" $'\033\\[[0-9;]*m(closed|open|forced_open)' "...without colour"
tm send-keys -t w2 C-c

done_testing
