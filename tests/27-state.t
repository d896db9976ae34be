#!/bin/bash
# The state file: created 0600; a corrupt, foreign, symlinked, writable by
# others or foreign-owned state file is refused with a log line, left
# untouched, and the host program keeps working as if there were no shim.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
URL=http://127.0.0.1:$HTTP/
P=$(closed_port)
write_config connect_timeout=2s
breaker svc "match=127.0.0.1" failure_threshold=2 open_duration=60s

# what a refusal must leave as it was: size, mode, owner, bytes; and mtime
fingerprint() { stat -c '%s %a %u' "$1"; sha256sum <"$1"; }
mtime() { stat -c '%.9Y' "$1"; }

# refused NAME: with the state file as it is now, curl works, nothing trips,
# the file is not modified, the log says why.
refused() {
	local fp mt lines
	fp=$(fingerprint "$STATE")
	mt=$(mtime "$STATE")
	lines=$(cat "$LOG" 2>/dev/null | wc -l)
	is "$(scurl "$URL")" 200 "$1: curl works"
	for i in 1 2 3; do scurl "http://127.0.0.1:$P/" >/dev/null; done
	is "$(scurl "$URL")" 200 "$1: 3 failures (threshold 2) trip nothing: pass-through"
	is "$(fingerprint "$STATE")" "$fp" "$1: the file is not modified (size, mode, owner, bytes)"
	is "$(mtime "$STATE")" "$mt" "$1: ...not even its mtime (no write, truncate or fallocate)"
	cmp_ok "$(cat "$LOG" 2>/dev/null | wc -l)" '>' "$lines" "$1: the log says so"
	like "$(tail -n 1 "$LOG" 2>/dev/null)" 'level=(error|warn) ' "$1: ...at level error or warn" || show_log
}

# A good state file, for comparison: created 0600 on first use.
is "$(scurl "$URL")" 200 "curl works under the shim"
ok "$([ -f "$STATE" ] && [ ! -L "$STATE" ]; echo $?)" "state file created"
is "$(stat -c %a "$STATE")" 600 "...with mode 0600"
is "$(stat -c %u "$STATE")" "$(id -u)" "...owned by the user"
size=$(stat -c %s "$STATE")
cp "$STATE" "$T/good"

# garbage of the right size
head -c "$size" /dev/urandom >"$STATE"
chmod 600 "$STATE"
refused "random bytes"

# a short file of garbage
printf 'not a recloser state file\n' >"$STATE"
refused "a short text file"

# a valid state file cut short
head -c $((size / 2)) "$T/good" >"$STATE"
refused "a truncated state file"

# the right layout, another magic number
cp "$T/good" "$STATE"
printf 'XXXXXXXX' | dd of="$STATE" bs=1 seek=0 conv=notrunc status=none
refused "a wrong magic number"

# another version
cp "$T/good" "$STATE"
printf '\377\377\0\0' | dd of="$STATE" bs=1 seek=8 conv=notrunc status=none
refused "a wrong version"

# writable by others
cp "$T/good" "$STATE"
chmod 666 "$STATE"
refused "mode 0666"

# a symlink to a good state file
rm -f "$STATE"
cp "$T/good" "$T/target"
chmod 600 "$T/target"
ln -s "$T/target" "$STATE"
fp="$(fingerprint "$T/target") $(mtime "$T/target")"
is "$(scurl "$URL")" 200 "symlink: curl works"
for i in 1 2 3; do scurl "http://127.0.0.1:$P/" >/dev/null; done
is "$(scurl "$URL")" 200 "symlink: nothing trips"
is "$(fingerprint "$T/target") $(mtime "$T/target")" "$fp" "symlink: the target is not modified"
ok "$([ -L "$STATE" ]; echo $?)" "symlink: still a symlink"
like "$(tail -n 1 "$LOG" 2>/dev/null)" 'level=(error|warn) ' "symlink: logged" || show_log

# a dangling symlink: the target is not created
rm -f "$STATE" "$T/target"
ln -s "$T/target" "$STATE"
is "$(scurl "$URL")" 200 "dangling symlink: curl works"
ok "$([ ! -e "$T/target" ]; echo $?)" "dangling symlink: its target is not created"

# owned by another user
rm -f "$STATE"
if [ "$(id -u)" = 0 ]; then
	cp "$T/good" "$STATE"
	chmod 600 "$STATE"
	chown 65534:65534 "$STATE"
	refused "owned by uid 65534"
	is "$(stat -c %u "$STATE")" 65534 "owned by uid 65534: still theirs"
else
	skip "not root: cannot chown" 7
fi

# back to the good file: everything works again
rm -f "$STATE"
cp "$T/good" "$STATE"
chmod 600 "$STATE"
for i in 1 2; do scurl "http://127.0.0.1:$P/" >/dev/null; done
is "$(state_of svc)" open "a good state file again: 2 failures open svc"
is "$(scurl "$URL"; echo " $?")" "000 7" "...and curl is rejected"

# the CLI refuses a bad state file too, with exit 1
head -c "$size" /dev/urandom >"$STATE"
chmod 600 "$STATE"
rc status >/dev/null 2>&1; is "$?" 1 "recloser status on a corrupt state file: exit 1"

done_testing
