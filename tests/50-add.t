#!/bin/bash
# recloser add: appends a validated breaker section with every key spelled
# out (defaults from [global], else built in), keeps the file's bytes, mode
# and comments; the new breaker is used by the shim; every kind of bad
# input changes nothing; the interactive questions on a terminal (tmux).
source "$(dirname "$0")/lib.sh"
need_build
umask 022

# The breaker keys of keys.def, in order.
KEYS=$(sed -n 's/^RC_BREAKER(\([a-z_]*\),.*/\1/p' "$ROOT/shim/core/keys.def")
[ "$(echo "$KEYS" | wc -l)" -ge 10 ] || bail_out "cannot read the keys of shim/core/keys.def"

# unchanged DESC: the config is byte for byte and inode for inode the snapshot.
unchanged() {
	cmp -s "$CFG" "$T/snap" && [ "$(stat -c %i "$CFG")" = "$SNAP_INO" ]
	ok $? "$1: the file is unchanged (same bytes, not rewritten)"
}
snapshot() { cp "$CFG" "$T/snap"; SNAP_INO=$(stat -c %i "$CFG"); }
lines_of() { wc -l <"$1" | tr -d ' '; }

start_server HTTP http
URL=http://127.0.0.1:$HTTP/

# ---- a config with comments, odd spacing, [global] defaults, no final newline ----
printf '%s\n' \
	"; my breakers: comments and layout must survive" \
	"[global]" \
	"state_file = $STATE    ; the test's own" \
	"log_file   = $LOG" \
	"connect_timeout = 2s   " \
	"Open_Duration = 300ms" \
	"http_failure_status = 502, 503 ; gateways only" \
	"" \
	"# the breaker that was there" \
	"[old]" \
	"match = 127.0.0.1:1,"  \
	"        127.0.0.1:2" >"$CFG"
printf 'failure_threshold = 9' >>"$CFG"   # no newline at the end
cp "$CFG" "$T/orig"
chmod 640 "$CFG"

out=$(rc add svc "127.0.0.1:$HTTP" failure_threshold=2 success_threshold=1 2>&1); st=$?
is "$st" 0 "add svc PATTERN key=value: exit 0" || diag "$out"
like "$out" "added breaker \[svc\] to $CFG \(lines 15-35\)" "says what it added and where"
n=$(stat -c %s "$T/orig")
head -c "$n" "$CFG" | cmp -s - "$T/orig"
ok $? "the old text is kept byte for byte (comments, spacing, continuation lines)"
expected="$(cat "$T/orig")

[svc]
match = 127.0.0.1:$HTTP
mode = enforce
failure_threshold = 2
failure_rate = 50
minimum_calls = 20
window = 10s
slow_call = 0
connect_timeout = 2s
response_timeout = 0
open_duration = 300ms
; open_duration_max empty: the same as open_duration
open_duration_max =
half_open_probes = 1
success_threshold = 1
http_failure_status = 502, 503
reject_errno = ECONNREFUSED
cut_idle = yes
max_concurrent = 0
max_wait = 0
max_connections = 0"
is "$(cat "$CFG")" "$expected" \
	"appended after a newline and a blank line: every key, given values, [global]'s values as written, built-in defaults"
is "$(tail -c 1 "$CFG" | od -An -c | tr -d ' ')" '\n' "the file ends with a newline"
sect=$(sed -n '/^\[svc\]/,$p' "$CFG")
for k in $KEYS; do
	c=$(grep -c "^$k =" <<<"$sect")
	[ "$c" = 1 ] || { ok 1 "key $k spelled out once in [svc] (found $c)"; continue; }
done
ok 0 "every breaker key of keys.def ($(echo $KEYS | wc -w)) is spelled out exactly once"
is "$(stat -c %a "$CFG")" 640 "the file's mode (640) is kept"
is "$(find "$T" -maxdepth 1 -name '.recloser.ini.*' | wc -l)" 0 "no temporary file is left behind"
out=$(rc check 2>&1); st=$?
is "$st" 0 "recloser check accepts the result" || diag "$out"
like "$out" "svc: 127\.0\.0\.1:$HTTP " "check lists the new breaker and its pattern"

# ---- the shim uses the added breaker ----
is "$(scurl "$URL")" 200 "curl under the shim: 200 through [svc]"
is "$(counts svc)" "1 0 0" "counted by [svc]"
control HTTP down
scurl "$URL" >/dev/null
scurl "$URL" >/dev/null
is "$(state_of svc)" open "2 failures open it (failure_threshold = 2 from add)"
n=$(conns HTTP)
is "$(scurl "$URL"; echo " $?")" "000 7" "open: the next curl is rejected"
control HTTP 200
sleep 0.4
is "$(scurl "$URL")" 200 "after open_duration (300ms, [global]'s) a trial goes through"
is "$(state_of svc)" closed "one success closes it (success_threshold = 1 from add)"

# ---- bad input: exit 1, says why, changes nothing ----
snapshot
L=$(($(lines_of "$CFG") + 2))   # where the next [section] would go

out=$(rc add svc 127.0.0.1:9 2>&1); st=$?
is "$st" 1 "duplicate breaker: exit 1"
like "$out" "breaker \[svc\] already exists in $CFG \(line 15\)" "...says it exists, and where"
unchanged "duplicate"

out=$(rc add 'bad name' 127.0.0.1:9 2>&1); st=$?
is "$st" 1 "bad name: exit 1"
like "$out" "$CFG:$L: bad breaker name \[bad name\]" "...FILE:LINE: message from the parser" || diag "$out"
unchanged "bad name"

out=$(rc add x 10.1.2.3/8 2>&1); st=$?
is "$st" 1 "bad pattern: exit 1"
like "$out" "$CFG:$((L + 1)): bad pattern '10\.1\.2\.3/8' in match: host bits set" "...FILE:LINE of the match line" || diag "$out"
unchanged "bad pattern"

out=$(rc add x 127.0.0.1:9 api.example.com:99999 2>&1); st=$?
is "$st" 1 "bad port in the second pattern: exit 1"
like "$out" "bad pattern 'api\.example\.com:99999'" "...names that pattern"
unchanged "bad port"

out=$(rc add x 127.0.0.1:9 failure_threshold=abc 2>&1); st=$?
is "$st" 1 "bad value: exit 1"
like "$out" "$CFG:$((L + 3)): bad value 'abc' for failure_threshold" "...FILE:LINE of that key in the would-be section" || diag "$out"
like "$out" "lines $L-$((L + 20))" "...and says which lines the section would have been"
unchanged "bad value"

out=$(rc add x 127.0.0.1:9 open_duration=5parsecs 2>&1); st=$?
is "$st" 1 "bad duration: exit 1"
like "$out" "bad value '5parsecs' for open_duration" "...says why"
unchanged "bad duration"

out=$(rc add x 127.0.0.1:9 open_duration_max=100ms 2>&1); st=$?
is "$st" 1 "open_duration_max below [global]'s open_duration: exit 1"
like "$out" "open_duration_max \(100ms\) is shorter than open_duration \(300ms\)" "...checked against the effective default"
unchanged "open_duration_max"

out=$(rc add x 127.0.0.1:9 bogus=1 2>&1); st=$?
is "$st" 1 "unknown key: exit 1"
like "$out" "unknown key 'bogus' in \[x\]" "...says which"
unchanged "unknown key"

out=$(rc add x 127.0.0.1:9 log_file=/tmp/x 2>&1); st=$?
is "$st" 1 "a [global] key in a breaker: exit 1"
like "$out" "'log_file' is a \[global\] setting" "...says so"
unchanged "global key"

out=$(rc add x 127.0.0.1:9 'mode=observe ; sneaky' 2>&1); st=$?
is "$st" 1 "a value with ';' (a comment): exit 1"
like "$out" "contains ';'" "...says why"
unchanged "comment in a value"

out=$(rc add x 127.0.0.1:9 "$(printf 'mode=observe\n[evil]\nmatch = 127.0.0.1:3')" 2>&1); st=$?
is "$st" 1 "a value with a newline (a section smuggled in): exit 1"
like "$out" "control character" "...says why"
unchanged "newline in a value"
unlike "$(cat "$CFG")" 'evil' "no [evil] section anywhere"

out=$(rc add global 127.0.0.1:9 2>&1); st=$?
is "$st" 1 "the name 'global': exit 1"
unchanged "name global"

out=$(rc add x '' 2>&1); st=$?
is "$st" 1 "an empty pattern: exit 1"
like "$out" "empty pattern" "...says so"
rc add x 127.0.0.1:9 'match= ' >/dev/null 2>&1; is "$?" 1 "an empty match=: exit 1"
unchanged "empty patterns"

# ---- usage errors: exit 2 ----
rc add >/dev/null 2>&1; is "$?" 2 "add without NAME: exit 2"
out=$(rc add x </dev/null 2>&1); st=$?
is "$st" 2 "add NAME without patterns and no terminal: exit 2"
like "$out" "no PATTERN given" "...says why"
rc add x 127.0.0.1:9 failure_threshold=1 failure_threshold=2 >/dev/null 2>&1
is "$?" 2 "the same key twice: exit 2"
rc add --frob x 127.0.0.1:9 >/dev/null 2>&1; is "$?" 2 "an option as NAME: exit 2"
rc add x 127.0.0.1:9 =5 >/dev/null 2>&1; is "$?" 2 "a setting without a KEY: exit 2"
unchanged "usage errors"

# ---- a config that is already broken is not touched ----
printf '[global]\nstate_file = %s\n[a]\nmatch = 127.0.0.1:1\nnonsense = 1\n' "$STATE" >"$T/broken.ini"
cp "$T/broken.ini" "$T/broken.orig"
out=$("$RECLOSER" -c "$T/broken.ini" add b 127.0.0.1:2 2>&1); st=$?
is "$st" 1 "a broken config: exit 1"
like "$out" "fix them first" "...says to fix it first"
like "$out" "$T/broken.ini:5: unknown key 'nonsense'" "...with the existing problem's FILE:LINE"
cmp -s "$T/broken.ini" "$T/broken.orig"; ok $? "...and leaves it alone"

# ---- a new file; a symlink; the reference config ----
out=$("$RECLOSER" -c "$T/new.ini" add first 127.0.0.1:7 'match=*.example.com:443' 2>&1); st=$?
is "$st" 0 "add to a file that does not exist: exit 0" || diag "$out"
is "$(head -2 "$T/new.ini")" "[first]
match = 127.0.0.1:7, *.example.com:443" "it is created with the section (match= args join the patterns)"
is "$(stat -c %a "$T/new.ini")" 644 "a new file is 0644 less the umask"
is "$(grep -c '^connect_timeout = 5s$' "$T/new.ini")" 1 "no [global]: the built-in defaults"
"$RECLOSER" check "$T/new.ini" >/dev/null 2>&1; ok $? "the new file is valid"

mkdir "$T/etc"
cp "$T/new.ini" "$T/etc/real.ini"
ln -s "$T/etc/real.ini" "$T/link.ini"
"$RECLOSER" -c "$T/link.ini" add second 127.0.0.1:8 >/dev/null 2>&1
ok $? "add through a symlink: exit 0"
[ -L "$T/link.ini" ]; ok $? "the symlink is still a symlink"
is "$(grep -c '^\[second\]$' "$T/etc/real.ini")" 1 "its target got the section"

cp "$ROOT/conf/recloser.ini" "$T/ref.ini"
out=$("$RECLOSER" -c "$T/ref.ini" add web api.example.org:443 mode=observe 2>&1); st=$?
is "$st" 0 "add to a copy of the fully commented reference config: exit 0" || diag "$out"
head -c "$(stat -c %s "$ROOT/conf/recloser.ini")" "$T/ref.ini" | cmp -s - "$ROOT/conf/recloser.ini"
ok $? "...its text is kept byte for byte"
is "$(sed -n '/^\[web\]/,$p' "$T/ref.ini" | grep -E '^(mode|failure_rate|reject_errno) ')" "mode = observe
failure_rate = 50
reject_errno = ECONNREFUSED" "...the commented-out defaults are not taken for settings"
out=$("$RECLOSER" check "$T/ref.ini" 2>&1); ok $? "...and the result is valid" || diag "$out"

# ---- interactive, on a terminal (tmux) ----
if ! command -v tmux >/dev/null; then
	skip "tmux not installed (scripts/deps.sh installs it)" 14
	done_testing
fi
TSOCK=$T/tmux.sock
tm() { tmux -S "$TSOCK" "$@"; }
trap '_rc=$?; tm kill-server >/dev/null 2>&1; (exit $_rc); _cleanup' EXIT
screen() { tm capture-pane -p -J -t "$1" -S -300 2>/dev/null; }
last_line() { screen "$1" | sed '/^$/d' | tail -1; }
# answer SESSION PROMPT-ERE TEXT: wait for the prompt on the last line, type TEXT, Enter.
_prompt_is() { [[ $(last_line "$_S") =~ $_P ]]; }
answer() {
	_S=$1 _P=$2
	if ! wait_until 5000 _prompt_is; then
		diag "no prompt /$2/; the screen:"
		screen "$1" | sed 's/^/#   /' >&2
		return 1
	fi
	[ -n "$3" ] && tm send-keys -t "$1" -l -- "$3"
	tm send-keys -t "$1" Enter
}
# start SESSION CONFIG: `recloser -c CONFIG add web` on a terminal; its
# exit status goes to $T/SESSION.rc.
start_add() {
	tm new-session -d -s "$1" -x 200 -y 60 \
		"$(printf '%q ' "$RECLOSER" -c "$2" add web); echo \$? >$T/$1.rc; sleep 60" </dev/null
}

printf '; interactive\n[global]\nstate_file = %s\nlog_file = %s\nconnect_timeout = 750ms\n' \
	"$STATE" "$LOG" >"$T/i.ini"
cp "$T/i.ini" "$T/i.orig"
start_add s1 "$T/i.ini"
answer s1 '^match \(.*\): $' '10.1.2.3/8'
wait_until 3000 eval 'screen s1 | grep -q "bad pattern .10.1.2.3/8."'
ok $? "a bad pattern is explained at once..."
answer s1 '^match \(.*\): $' "127.0.0.1:$HTTP, api.example.com:443"
ok $? "...and asked again"
answer s1 '^mode \[enforce\]: $' observe
answer s1 '^failure_threshold \[5\]: $' x
wait_until 3000 eval 'screen s1 | grep -q "bad value .x. for failure_threshold"'
ok $? "a bad value is explained at once and asked again"
answer s1 '^failure_threshold \[5\]: $' 4
st=0
for k in $KEYS; do
	case $k in mode|failure_threshold) continue ;; esac
	case $k in
	connect_timeout) want='\[750ms\]' ;;   # [global]'s value is the offered default
	open_duration_max) want='\[same as open_duration\]' ;;
	*) want='\[[^]]*\]' ;;
	esac
	if [ "$k" = window ]; then
		answer s1 "^$k $want: \$" 20s || st=1
	else
		answer s1 "^$k $want: \$" '' || st=1
	fi
done
ok "$st" "every other setting is asked for, its default in brackets ([global]'s connect_timeout: 750ms)"
answer s1 '^Append this to .*\? \[Y/n\] $' y
wait_until 5000 test -s "$T/s1.rc"
is "$(cat "$T/s1.rc" 2>/dev/null)" 0 "confirmed: exit 0"
sect=$(sed -n '/^\[web\]/,$p' "$T/i.ini")
is "$(grep -E '^(match|mode|failure_threshold|window|connect_timeout|cut_idle) ' <<<"$sect")" \
	"match = 127.0.0.1:$HTTP, api.example.com:443
mode = observe
failure_threshold = 4
window = 20s
connect_timeout = 750ms
cut_idle = yes" "the section holds the answers and the defaults"
head -c "$(stat -c %s "$T/i.orig")" "$T/i.ini" | cmp -s - "$T/i.orig"
ok $? "the old text is kept"
"$RECLOSER" check "$T/i.ini" >/dev/null 2>&1; ok $? "the result is valid"

# Saying no at the end, or ending the input, changes nothing.
cp "$T/i.orig" "$T/j.ini"
start_add s2 "$T/j.ini"
answer s2 '^match \(.*\): $' 127.0.0.1:9
for k in $KEYS; do answer s2 "^$k \[" '' || break; done
answer s2 '^Append this to .*\? \[Y/n\] $' n
wait_until 5000 test -s "$T/s2.rc"
is "$(cat "$T/s2.rc" 2>/dev/null)" 1 "answering n: exit 1"
cmp -s "$T/j.ini" "$T/i.orig"; ok $? "...and the file is unchanged"
# Someone else edits the file while the questions are asked: nothing added.
start_add s4 "$T/j.ini"
answer s4 '^match \(.*\): $' 127.0.0.1:9
echo "; edited meanwhile" >>"$T/j.ini"
cp "$T/j.ini" "$T/j.edited"
for k in $KEYS; do answer s4 "^$k \[" '' || break; done
answer s4 '^Append this to .*\? \[Y/n\] $' y
wait_until 5000 test -s "$T/s4.rc"
is "$(cat "$T/s4.rc" 2>/dev/null)" 1 "the file changed during the questions: exit 1"
like "$(screen s4)" 'changed meanwhile; nothing added' "...says so"
cmp -s "$T/j.ini" "$T/j.edited"; ok $? "...and the other edit is kept as it was"
start_add s3 "$T/j.ini"
_S=s3 _P='^match'; wait_until 5000 _prompt_is
tm send-keys -t s3 C-d
wait_until 5000 test -s "$T/s3.rc"
is "$(cat "$T/s3.rc" 2>/dev/null)" 1 "end of input (Ctrl-D) at the first question: exit 1, nothing added"

done_testing
