#!/bin/bash
# A config's image (core/image.h): the first process to load a config two
# seconds old or more writes it; later processes map it instead of parsing
# and behave exactly the same; an edited config is parsed again (its old
# image never used); a damaged image is refused with one log line and
# written anew; a reload replaces an image config; no fd is left open; and
# RECLOSER_CACHE_DIR=off, or a directory that cannot be written, changes
# nothing but the speed.
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)
start_server HTTP http
write_config log_level=debug
breaker dead "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
breaker web "match=127.0.0.1:$HTTP"
sleep 2.1 # an image is written only for a config whose ctime is 2 s old
images() { ls "$RECLOSER_CACHE_DIR" | grep -c '^recloser-.*\.config$'; }
starts() { log_count "event=start .* image=$1\$"; }

is "$(images)" 0 "no image before a process loaded the config"
is "$(scurl "http://127.0.0.1:$HTTP/")" 200 "the first process: curl through breaker web"
is "$(images)" 1 "...and it wrote the config's image into RECLOSER_CACHE_DIR"
img=$(ls "$RECLOSER_CACHE_DIR"/recloser-*.config)
is "$(stat -c '%a %u' "$img")" "400 $(id -u)" "...mode 0400, the user's"
is "$(starts no)" 1 "...it parsed the config (start ... image=no)"

scurl "http://127.0.0.1:$P/" >/dev/null
scurl "http://127.0.0.1:$P/" >/dev/null
is "$(starts yes)" 2 "the next processes mapped the image (image=yes)"
is "$(state_of dead)" open "...and judged as the config says: failure_threshold = 2 opened dead"
out=$(pyc connect 127.0.0.1 "$P" -n 1)
is "$(kv "$out" ECONNREFUSED)" 1 "...python under the image config is refused at once"
is "$(state_of web)" closed "...web, closed"

# what a running process has: the image mapped read-only, no fd on it
under_shim "$PY" -c 'import os, socket, sys, time
s = socket.socket(); s.connect(("127.0.0.1", int(sys.argv[1]))); s.close()
open(sys.argv[2], "w").write(str(os.getpid()))
time.sleep(3)' "$HTTP" "$T/py.pid" &
job=$!
wait_until 5000 test -s "$T/py.pid"
pid=$(cat "$T/py.pid")
maps=$(grep -F "$img" "/proc/$pid/maps")
like "$maps" '^3f[0-9a-f]+-[0-9a-f]+ r--p ' "a running process maps the image read-only at its place" ||
	diag "maps: $maps"
is "$(ls -l "/proc/$pid/fd" | grep -c -F "$img")" 0 "...and keeps no fd on it"
anon=$(awk '/^Anonymous:/ {print $2}' "/proc/$pid/smaps_rollup")
kill "$pid" 2>/dev/null
wait "$job"

# an edit: the old image is not used; the new config is what counts
write_config log_level=debug
breaker dead "match=127.0.0.1:$P" mode=off
breaker web "match=127.0.0.1:$HTTP"
rm -f "$STATE"
: >"$LOG"
for i in 1 2 3; do scurl "http://127.0.0.1:$P/" >/dev/null; done
is "$(state_of dead)" closed "an edited config (dead: mode = off) is parsed: dead stays closed"
is "$(starts yes)/$(starts no)" 0/3 "...no process used the old image"
sleep 2.1
scurl "http://127.0.0.1:$HTTP/" >/dev/null
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(starts yes)/$(starts no)" 1/4 "two seconds on, its new image is written and used"

# damaged: one byte of the block flipped
chmod u+w "$img"
printf 'X' | dd of="$img" bs=1 seek=$(($(stat -c %s "$img") - 50)) conv=notrunc 2>/dev/null
chmod 400 "$img"
: >"$LOG"
is "$(scurl "http://127.0.0.1:$HTTP/")" 200 "a damaged image: curl works"
is "$(log_count 'config_image .*msg="checksum mismatch" action=parsed')" 1 \
	"...one line says the image was refused and the config parsed" || show_log
is "$(starts no)" 1 "...the config was parsed"
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(starts yes)" 1 "...and the next process maps the image written anew"
is "$(log_count config_image)" 1 "...without another word"

# a reload replaces a config mapped from its image
write_config log_level=debug reload=200ms
breaker web "match=127.0.0.1:$HTTP"
sleep 2.1
scurl "http://127.0.0.1:$HTTP/" >/dev/null
under_shim "$PY" "$ROOT/tests/clients/connect_loop.py" "$P" 4 0.1 >"$T/reload.out" &
pid=$!
sleep 1
breaker dead "match=127.0.0.1:$P" failure_threshold=1 open_duration=60s
wait $pid
rc_=$?
is "$rc_" 0 "a process started from an image reloads its config and runs on"
first=$(head -n 1 "$T/reload.out")
last=$(tail -n 1 "$T/reload.out")
is "$first/$last" "ECONNREFUSED/ECONNREFUSED" "...refused by the port, then by the breaker it added"
is "$(log_count 'reload config=')" 1 "...the reload is logged once"
is "$(state_of dead)" open "...and the added breaker opened"

# the image truncated under a running process: it passes through, then
# parses the config again and the breaker is back
write_config log_level=debug reload=200ms
breaker dead "match=127.0.0.1:$P" failure_threshold=1 open_duration=60s reject_errno=ETIMEDOUT
sleep 2.1
: >"$LOG"
scurl "http://127.0.0.1:$P/" >/dev/null # writes the image, opens dead
img=$(ls "$RECLOSER_CACHE_DIR"/recloser-*.config)
under_shim "$PY" "$ROOT/tests/clients/connect_loop.py" "$P" 4 0.05 "$T/truncated" >"$T/trunc.out" &
job=$!
sleep 1
touch "$T/truncated" # before the truncation: a "before" line is never after it
: >"$img"
wait "$job"
rc_=$?
is "$(signame $rc_)" 0 "the image truncated under a running process: it runs on (no SIGBUS)"
is "$(grep -c '^before ETIMEDOUT' "$T/trunc.out")" "$(grep -c '^before' "$T/trunc.out")" \
	"...before: every connect refused by the open breaker (ETIMEDOUT)"
like "$(grep '^after' "$T/trunc.out" | uniq | tr '\n' ' ')" '^(after ETIMEDOUT )?(after ECONNREFUSED )+after ETIMEDOUT ' \
	"...after: passed through (the port refuses), then refused by the breaker again"
is "$(grep '^after' "$T/trunc.out" | tail -n 1)" "after ETIMEDOUT" "...to the end"
is "$(log_count 'config_image .*shrank under the process.* action=parse_again')" 1 \
	"...one line says so" || show_log
is "$(log_count 'event=reload ')" 1 "...and the config was parsed again"

# off, and a directory that cannot be written
: >"$LOG"
rm -f "$RECLOSER_CACHE_DIR"/recloser-*.config
RECLOSER_CACHE_DIR=off scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(images)" 0 "RECLOSER_CACHE_DIR=off: no image written"
out=$(RECLOSER_CACHE_DIR=$T/missing/dir scurl "http://127.0.0.1:$HTTP/")
is "$out" 200 "RECLOSER_CACHE_DIR a missing directory: curl works"
is "$(log_count config_image)" 0 "...and nothing is logged about it"

note "anonymous memory of a process on the image: $anon kB"
done_testing
