#!/bin/bash
# recloser check and run; a bad config leaves the host program unaffected.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
URL=http://127.0.0.1:$HTTP/

# ---- check: a good config ----
write_config connect_timeout=2s
breaker payments "match=127.0.0.1:$HTTP, 10.20.0.0/16:8080" failure_threshold=5
breaker names "match=api.example.com:443" "match=*.example.org" "match=[2001:db8::7]:443"
out=$("$RECLOSER" check "$CFG" 2>&1); st=$?
is "$st" 0 "check FILE, good config: exit 0" || diag "$out"
like "$out" 'payments' "check lists breaker payments"
like "$out" 'names' "check lists breaker names"
like "$out" "127\.0\.0\.1:$HTTP" "check lists the pattern 127.0.0.1:$HTTP"
like "$out" '10\.20\.0\.0/16:8080' "check lists the CIDR pattern"
like "$out" 'api\.example\.com:443' "check lists a host:port pattern"
like "$out" '\*\.example\.org' "check lists a wildcard pattern"
like "$out" '2001:db8::7' "check lists the IPv6 pattern"
out=$(rc check 2>&1); is "$?" 0 "check with -c: exit 0"
out=$(RECLOSER_CONFIG=$CFG "$RECLOSER" check 2>&1); is "$?" 0 "check with RECLOSER_CONFIG: exit 0"

# ---- check: bad configs, FILE:LINE: message, exit 1 ----
bad() {   # bad DESC LINE INI-TEXT
	printf '%s' "$3" >"$T/bad.ini"
	out=$("$RECLOSER" check "$T/bad.ini" 2>&1); st=$?
	is "$st" 1 "check, $1: exit 1"
	like "$out" "$T/bad.ini:($2): [^ ]" "check, $1: 'FILE:$2: message'" || diag "$out"
}
bad "unknown key" 4 "[global]
log_file = $T/log

nonsense = 1
"
bad "bad duration" 3 "[svc]
match = 127.0.0.1:80
open_duration = 10 parsecs
"
bad "bad pattern" 2 "[svc]
match = 10.0.0.0/33:80
"
bad "bad port" 3 "[global]
[svc]
match = 127.0.0.1:99999
"
bad "section without match" "4|5" "[global]
log_file = $T/log

[svc]
failure_threshold = 3
"
bad "bad mode" 3 "[svc]
match = 127.0.0.1:80
mode = sometimes
"

out=$("$RECLOSER" check "$T/nonexistent.ini" 2>&1); st=$?
is "$st" 1 "check, missing file: exit 1"
like "$out" "$T/nonexistent.ini" "...names the file"

# ---- run ----
P=$(closed_port)
write_config connect_timeout=2s
breaker dead "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
for i in 1 2; do
	"$RECLOSER" run -c "$CFG" -- "$CURL" -s -m 5 -o /dev/null "http://127.0.0.1:$P/"
done
is "$(state_of dead)" open "recloser run -- curl: the shim is active (2 failures opened the breaker)"
"$RECLOSER" run -c "$CFG" -- "$CURL" -s -m 5 -o /dev/null "http://127.0.0.1:$P/"
is "$?" 7 "run passes the command's exit status (7)"
is "$(json_field dead rejected)" 1 "...the curl was rejected by the shim"
"$RECLOSER" run -c "$CFG" -- /bin/sh -c 'exit 42'
is "$?" 42 "run: exit status of the command"
out=$(LD_PRELOAD=libc.so.6 "$RECLOSER" run -c "$CFG" -- /bin/sh -c 'echo "$LD_PRELOAD|$RECLOSER_CONFIG"')
like "$out" "libc\.so\.6" "run keeps an existing LD_PRELOAD"
like "$out" "librecloser\.so" "...and appends the shim to it"
like "$out" "\|$CFG\$" "run sets RECLOSER_CONFIG to the config"
out=$(RECLOSER_CONFIG=$CFG "$RECLOSER" run -- /bin/sh -c 'echo "$RECLOSER_CONFIG"')
is "$out" "$CFG" "run without -c uses RECLOSER_CONFIG"

# invalid config: exit 2, the command is not started
printf '[svc]\nmatch = 127.0.0.1:80\nbogus_key = 1\n' >"$T/bad.ini"
out=$("$RECLOSER" run -c "$T/bad.ini" -- /usr/bin/touch "$T/ran" 2>&1); st=$?
is "$st" 2 "run with an invalid config: exit 2"
like "$out" "$T/bad.ini:3: " "...prints FILE:LINE: message"
ok "$([ ! -e "$T/ran" ]; echo $?)" "...and does not start the command"
out=$("$RECLOSER" run -c "$CFG" 2>&1); is "$?" 2 "run without a command: exit 2"

# ---- a bad config under the shim: pass-through, one config_error line ----
cat >"$CFG" <<EOF2
[global]
state_file = $STATE
log_file = $LOG

[svc]
match = 127.0.0.1:$HTTP
failure_threshold = lots
EOF2
rm -f "$LOG" "$STATE"
is "$(scurl "$URL")" 200 "bad config under the shim: curl works normally"
P=$(closed_port)
for i in 1 2 3 4 5 6; do scurl "http://127.0.0.1:$P/" >/dev/null; done
out=$(scurl "$URL"); is "$out" 200 "...and after failures it is still not rejected"
deflog=/tmp/recloser-$(id -u).log
if [ -f "$LOG" ]; then
	n=$(log_count "event=config_error")
	ok "$([ "$n" -ge 1 ]; echo $?)" "the log has a config_error line"
	line=$(grep -m1 'event=config_error' "$LOG")
	like "$line" "file=\"?$CFG\"?" "...with file=" || show_log
	like "$line" 'line=7( |$)' "...and line=7" || show_log
	pids=$(grep 'event=config_error' "$LOG" | sed 's/.* pid=\([0-9]*\) .*/\1/' | sort -u | wc -l)
	is "$pids" 8 "8 curl processes logged a config_error" || show_log
	is "$n" 8 "...one line each" || show_log
else
	ok 1 "the log file given in the bad config ($LOG) got the config_error line"
	grep -F "$CFG" "$deflog" 2>/dev/null | tail -3 | while IFS= read -r l; do diag "default log: $l"; done
	skip "no log" 4
fi

# ---- a match line longer than inih's 200 characters ----
long="match = 127.0.0.1:$HTTP"
for i in $(seq 1 30); do long="$long, 10.0.$i.0/24:8080"; done
printf '[global]\nstate_file = %s\nlog_file = %s\n\n[long]\n%s\n' "$STATE" "$LOG" "$long" >"$T/long.ini"
out=$("$RECLOSER" check "$T/long.ini" 2>&1); st=$?
note "match line of ${#long} characters: check exit $st"
if [ $st = 0 ]; then
	like "$out" '10\.0\.30\.0/24:8080' "a ${#long}-character match line works: its last pattern is listed"
else
	is "$st" 1 "a ${#long}-character match line is refused with exit 1"
	like "$out" "long\.ini:5: .*repeat" "...with FILE:LINE and a message saying to repeat the key" || diag "$out"
fi
# repeating the key always works
{ printf '[global]\nstate_file = %s\nlog_file = %s\n\n[rep]\n' "$STATE" "$LOG"
  for i in $(seq 1 30); do echo "match = 10.0.$i.0/24:8080"; done; } >"$T/rep.ini"
out=$("$RECLOSER" check "$T/rep.ini" 2>&1); st=$?
is "$st" 0 "match repeated 30 times: valid"
like "$out" '10\.0\.1\.0/24:8080' "...first pattern listed"
like "$out" '10\.0\.30\.0/24:8080' "...last pattern listed"

done_testing
