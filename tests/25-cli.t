#!/bin/bash
# Every CLI flip, seen by new processes and by a running one at its next
# call; `close` clears the counts; status --json; exit codes 1 and 2.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
URL=http://127.0.0.1:$HTTP/
write_config connect_timeout=2s
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=3 open_duration=1500ms success_threshold=1
breaker other "match=127.0.0.1:1"

# status --json before any call
out=$(rc status --json); st=$?
is "$st" 0 "status --json exits 0"
ok "$("$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
need = {"name", "state", "calls", "failures", "rejected"}
sys.exit(0 if isinstance(d, list) and [b["name"] for b in d] == ["svc", "other"]
         and all(need <= set(b) for b in d) else 1)' "$out" >/dev/null 2>&1; echo $?)" \
	"status --json: a list of both breakers in file order, each with name state calls failures rejected" || diag "$out"
is "$(state_of svc)" closed "svc starts closed"
is "$(scurl "$URL")" 200 "closed: curl gets 200"
is "$(counts svc)" "1 0 0" "one call counted"
out=$(rc status); st=$?
is "$st" 0 "status (table) exits 0"
is "$(grep -cE '^svc[[:space:]]' <<<"$out")" 1 "status table: a row for svc, name first" || diag "$out"
is "$(grep -cE '^other[[:space:]]' <<<"$out")" 1 "status table: a row for other" || diag "$out"
out=$(rc status svc --json)
like "$out" '"svc"' "status svc --json shows svc"
unlike "$out" '"other"' "...and not other"

# open
rc open svc >/dev/null; is "$?" 0 "open svc: exit 0"
is "$(state_of svc)" open "status: open"
n=$(conns HTTP)
is "$(scurl "$URL"; echo " $?")" "000 7" "open: a new curl is rejected"
is "$(conns HTTP)" "$n" "...without reaching the service"
is "$(json_field svc rejected)" 1 "rejected 1"
like "$(cat "$LOG" 2>/dev/null)" 'event=transition [^
]*breaker=svc [^
]*from=closed to=open reason=cli' "log: transition closed -> open reason=cli" || show_log
# open_duration elapses: the next call is a trial (success_threshold 1).
sleep 1.6
is "$(scurl "$URL")" 200 "open_duration passed after recloser open: the trial goes through"
is "$(state_of svc)" closed "...and closes it"

# half-open
rc half-open svc >/dev/null; is "$?" 0 "half-open svc: exit 0"
is "$(state_of svc)" half_open "status: half_open"
is "$(scurl "$URL")" 200 "half_open: a trial goes through"
is "$(state_of svc)" closed "one success (success_threshold 1): closed"

# force-open: stays open past open_duration
rc force-open svc >/dev/null; is "$?" 0 "force-open svc: exit 0"
is "$(state_of svc)" forced_open "status: forced_open"
is "$(scurl "$URL"; echo " $?")" "000 7" "forced_open: rejected"
sleep 1.6
is "$(scurl "$URL"; echo " $?")" "000 7" "forced_open past open_duration: still rejected"
is "$(state_of svc)" forced_open "still forced_open"

# force-close: failures do not open it
rc force-close svc >/dev/null; is "$?" 0 "force-close svc: exit 0"
is "$(state_of svc)" forced_closed "status: forced_closed"
control HTTP down
r0=$(json_field svc rejected)
for i in 1 2 3 4 5; do scurl "$URL" >/dev/null; done
is "$(state_of svc)" forced_closed "5 failures (threshold 3): still forced_closed"
is "$(json_field svc rejected)" "$r0" "nothing rejected while forced_closed"
control HTTP 200
is "$(scurl "$URL")" 200 "forced_closed: calls go through"

# close: ends the forced state, clears counts
rc close svc >/dev/null; is "$?" 0 "close svc: exit 0"
is "$(state_of svc)" closed "status: closed"
is "$(counts svc)" "0 0 0" "close clears calls, failures, rejected"
is "$(scurl "$URL")" 200 "closed: curl works"
is "$(counts svc)" "1 0 0" "counting again from 0"

# A running process sees a flip at its next call.
under_shim "$PY" "$ROOT/tests/clients/next_call.py" "$HTTP" "$T/go" >"$T/running.out" &
wait_until 5000 test -e "$T/go.ready"
rc open svc >/dev/null
touch "$T/go"
wait_clients
is "$(cat "$T/running.out")" "ok ConnectionRefusedError" "a running process: connects, then after recloser open is rejected at its next call"
rc close svc >/dev/null

# Errors and usage
rc open nosuch 2>"$T/err"; is "$?" 1 "open unknown breaker: exit 1"
like "$(cat "$T/err")" 'nosuch' "...says which"
rc status nosuch >/dev/null 2>&1; is "$?" 1 "status unknown breaker: exit 1"
for v in close half-open force-open force-close; do
	rc "$v" nosuch >/dev/null 2>&1; is "$?" 1 "$v unknown breaker: exit 1"
done
"$RECLOSER" >/dev/null 2>&1; is "$?" 2 "no command: exit 2"
rc frobnicate >/dev/null 2>&1; is "$?" 2 "unknown command: exit 2"
rc open >/dev/null 2>&1; is "$?" 2 "open without NAME: exit 2"
rc open svc other >/dev/null 2>&1; is "$?" 2 "open with two names: exit 2"
rc status --bogus >/dev/null 2>&1; is "$?" 2 "status --bogus: exit 2"
"$RECLOSER" -c >/dev/null 2>&1; is "$?" 2 "-c without FILE: exit 2"
is "$(state_of svc)" closed "none of that changed svc"
"$RECLOSER" -c "$T/nonexistent.ini" status >/dev/null 2>&1; is "$?" 1 "status with a missing config: exit 1"

# RECLOSER_CONFIG is the config when there is no -c
out=$(RECLOSER_CONFIG=$CFG "$RECLOSER" status --json)
like "$out" '"svc"' "without -c: RECLOSER_CONFIG is used"

done_testing
