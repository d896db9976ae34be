#!/bin/bash
# Live reload (issue 5): one long-running python3 under the shim connects to a
# closed port every 100 ms while its config is edited under it (reload =
# 200ms).  A breaker appended for that port is picked up within a second; a
# broken edit is logged with its line and action=kept_previous, and the last
# good config stays in force; an edit that only changes a setting, or moves
# the breaker behind a new one, keeps its state by name (open stays open);
# a removed breaker stops matching.
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)
Q=$(closed_port)
write_config reload=200ms connect_timeout=2s
breaker other "match=127.0.0.1:1"
cp "$CFG" "$T/base.ini"

# replace_config FILE: the new config in one rename, as an editor does.
replace_config() { cp "$1" "$CFG.new" && mv "$CFG.new" "$CFG"; }

# The client: writes its pid to $T/client.pid, then one line per connect,
# "<ms since start> <outcome>" (ok, or the errno name), until $T/stop exists
# or 8 s have passed.
under_shim "$PY" -u -c '
import errno, os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
with open(stop.replace("stop", "client.pid"), "w") as f:
    f.write(str(os.getpid()))
t0 = time.monotonic()
while time.monotonic() - t0 < 8 and not os.path.exists(stop):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port)); r = "ok"
    except OSError as e:
        r = errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
    print(int((time.monotonic() - t0) * 1000), r)
    time.sleep(0.1)
print("done")
' "$P" "$T/stop" >"$T/client.out" 2>"$T/client.err" &
JOB=$!

# last_outcome: the outcome of the client's latest connect.
last_outcome() { tail -n 1 "$T/client.out" 2>/dev/null | awk '{print $2}'; }
outcome_is() { [ "$(last_outcome)" = "$1" ]; }
lines() { wc -l <"$T/client.out" | tr -d ' '; }
lines_ge() { [ "$(lines)" -ge "$1" ]; }
calls_gt0() { [ "$(json_field "$1" calls)" -gt 0 ] 2>/dev/null; }
count_ge() { [ "$(log_count "$1")" -ge "$2" ]; }
wait_until 5000 lines_ge 3 || bail_out "the client did not start: $(cat "$T/client.err")"
CLIENT=$(cat "$T/client.pid")
is "$(last_outcome)" ECONNREFUSED "before the edit: the port is refused by the kernel (no breaker matches)"
is "$(json_field dead calls)" NOBREAKER "no breaker 'dead' yet"

# 1. Append a breaker for the port; its rejections use a distinctive errno.
cat >"$T/add.ini" <<EOF

[dead]
match = 127.0.0.1:$P
failure_threshold = 3
open_duration = 60s
reject_errno = EHOSTUNREACH
EOF
cat "$T/add.ini" >>"$CFG"   # one write(2): appended in place
t0=$(now_ms)
wait_until 1000 calls_gt0 dead
took=$(elapsed_ms "$t0")
cmp_ok "$took" '<=' 1000 "the new breaker counts the running process's calls within a second ($took ms)"
wait_until 3000 outcome_is EHOSTUNREACH
is "$(last_outcome)" EHOSTUNREACH "...then rejects them with its reject_errno"
is "$(state_of dead)" open "dead is open"
is "$(counts dead | cut -d' ' -f1,2)" "3 3" "status --json: calls 3, failures 3 (failure_threshold)"
cmp_ok "$(json_field dead rejected)" '>' 0 "status --json: rejected > 0"
rl=$(grep 'event=reload' "$LOG" 2>/dev/null)
is "$(grep -c . <<<"$rl")" 1 "one event=reload line" || show_log
like "$rl" " pid=$CLIENT prog=python3 level=info event=reload " "...from the client, at info" || show_log
like "$rl" " breakers=2 " "...with breakers=2"
like "$(grep 'event=transition' "$LOG" | grep 'breaker=dead')" " pid=$CLIENT .*from=closed to=open reason=consecutive_failures" \
	"the client opened dead" || show_log
cp "$CFG" "$T/good.ini"

# 2. A broken edit: an unknown key.  Logged with its line, the last good
# config stays in force (dead keeps rejecting).
echo "bogus_key = 1" >>"$CFG"
bad_line=$(wc -l <"$CFG" | tr -d ' ')
# (the CLI cannot read the broken file either: it looks through the good one)
good() { CFG=$T/good.ini "$@"; }
r0=$(good json_field dead rejected)
wait_until 1500 count_ge 'event=config_error' 1
ce=$(grep 'event=config_error' "$LOG")
like "$ce" " pid=$CLIENT .*level=error event=config_error " "the broken edit: config_error from the client, at error" || show_log
like "$ce" " file=\"?$CFG\"? " "...with file="
like "$ce" " line=$bad_line " "...with line=$bad_line, the line of the unknown key"
like "$ce" "bogus_key" "...naming the key in msg="
like "$ce" " action=kept_previous" "...and action=kept_previous"
n=$(lines)
wait_until 3000 lines_ge $((n + 5))   # 5 more connects, 2.5 reload intervals
is "$(log_count 'event=config_error')" 1 "logged once for the edit, not at every check"
is "$(log_count 'event=reload')" 1 "no reload for the broken file"
is "$(last_outcome)" EHOSTUNREACH "the last good config is in force: dead still rejects"
rc status >/dev/null 2>&1
is "$?" 1 "(recloser status with the broken config: exit 1)"
r1=$(good json_field dead rejected)
cmp_ok "$r1" '>' "$r0" "...and counts the rejections ($r0 -> $r1)"
is "$(good state_of dead)" open "dead is still open"

# 3. A settings-only edit of the good config: a new reject_errno; the
# breaker's state is kept by name, so it stays open and counts nothing new.
sed "s/^reject_errno = EHOSTUNREACH$/reject_errno = ENETUNREACH/" "$T/good.ini" >"$T/edit.ini"
replace_config "$T/edit.ini"
wait_until 1500 outcome_is ENETUNREACH
is "$(last_outcome)" ENETUNREACH "a changed setting is picked up: rejections now ENETUNREACH"
is "$(log_count 'event=reload')" 2 "a second event=reload"
is "$(state_of dead)" open "the breaker's state is kept: open stays open"
is "$(counts dead | cut -d' ' -f1,2)" "3 3" "...and its counts: calls 3, failures 3, no call let through"
unlike "$(sed -n '/EHOSTUNREACH/,$p' "$T/client.out")" 'ECONNREFUSED|ok' \
	"from the first rejection on, no connect reached the port"

# 4. A new breaker in front of dead (dead moves in the file): state is found
# by name, not by position.
{
	cat "$T/base.ini"
	printf '\n[first]\nmatch = 127.0.0.1:%s\n' "$Q"
	sed -n '/^\[dead\]/,$p' "$T/edit.ini" | sed 's/^reject_errno = .*/reject_errno = ECONNABORTED/'
} >"$T/moved.ini"
rc check "$T/moved.ini" >/dev/null 2>&1 || diag "moved.ini does not check: $(rc check "$T/moved.ini" 2>&1)"
replace_config "$T/moved.ini"
wait_until 1500 outcome_is ECONNABORTED
is "$(last_outcome)" ECONNABORTED "dead moved behind a new breaker: picked up"
is "$(state_of dead)" open "...still open: state follows the name"
is "$(state_of first)" closed "the new breaker is closed"
is "$(counts dead | cut -d' ' -f1,2)" "3 3" "...dead's counts kept"

# 5. The breaker removed: the port is no longer matched; the kernel refuses.
replace_config "$T/base.ini"
wait_until 1500 outcome_is ECONNREFUSED
is "$(last_outcome)" ECONNREFUSED "dead removed from the config: connects reach the kernel again"
is "$(log_count 'event=reload')" 4 "four reloads in all"
like "$(grep 'event=reload' "$LOG" | tail -n 1)" ' breakers=1 ' "the last reload: breakers=1"

touch "$T/stop"
wait "$JOB"
is "$?" 0 "the client ran to the end, exit 0" || diag "$(cat "$T/client.err")"
is "$(tail -n 1 "$T/client.out")" done "...and printed done"
bad=$(grep -vE '^([0-9]+ [A-Z0-9a-z]+|done)$' "$T/client.out")
is "$bad" "" "every client line is well-formed"
is "$(grep -c 'event=reload' "$LOG")" "$(grep 'event=reload' "$LOG" | grep -c " pid=$CLIENT ")" \
	"every reload line comes from the client"

# reload = 0: never re-read.
write_config reload=0 connect_timeout=2s
breaker other "match=127.0.0.1:1"
rm -f "$T/stop"
: >"$LOG"
under_shim "$PY" -c '
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
def attempt():
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port)); return "ok"
    except OSError as e:
        return str(e.errno)
    finally:
        s.close()
first = attempt()
open(go + ".ready", "w").close()
for _ in range(100):
    if os.path.exists(go):
        break
    time.sleep(0.02)
out = [attempt()]
for _ in range(8):          # 0.8 s of connects after the edit
    time.sleep(0.1); out.append(attempt())
print(first, " ".join(sorted(set(out))))
' "$P" "$T/go" >"$T/zero.out" &
wait_until 5000 test -e "$T/go.ready"
cat "$T/add.ini" >>"$CFG"
touch "$T/go"
wait_clients
is "$(cat "$T/zero.out")" "111 111" "reload = 0: an appended breaker is never picked up (only kernel refusals)"
is "$(log_count 'event=reload')" 0 "...and nothing reloaded"

done_testing
