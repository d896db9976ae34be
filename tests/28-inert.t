#!/bin/bash
# Inert cases: no readable config, RECLOSER_DISABLE=1: pure pass-through,
# no state file, no log.  And what the shim links and exports.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
URL=http://127.0.0.1:$HTTP/
P=$(closed_port)
uid=$(id -u)
defs="/tmp/recloser-$uid.log /dev/shm/recloser-$uid"
snap() { local f; for f in $defs; do stat -c '%n %s %Y' "$f" 2>/dev/null || echo "$f none"; done; }

# No config at RECLOSER_CONFIG.
before=$(snap)
out=$(timeout 20 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/nonexistent.ini" \
	"$CURL" -s -o /dev/null -w '%{http_code}' "$URL")
is "$out" 200 "no config: curl works"
for i in 1 2 3 4 5 6; do
	timeout 20 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/nonexistent.ini" \
		"$CURL" -s -o /dev/null "http://127.0.0.1:$P/"
done
out=$(timeout 20 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/nonexistent.ini" "$PY" "$PYCLIENT" connect 127.0.0.1 "$HTTP" -n 3)
is "$(kv "$out" ok)" 3 "no config: python connects"
is "$(snap)" "$before" "no config: the default log and state file were not created or touched"
is "$(ls "$T" | grep -cv '^HTTP\.')" 0 "no config: no file appeared in the test dir"

# An unreadable config (a directory) is no config either.
out=$(timeout 20 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T" \
	"$CURL" -s -o /dev/null -w '%{http_code}' "$URL")
is "$out" 200 "config is a directory: curl works"

# RECLOSER_DISABLE=1 with a valid config that would trip.
write_config log_level=debug
breaker svc "match=127.0.0.1" failure_threshold=1 open_duration=60s
for i in 1 2 3; do
	RECLOSER_DISABLE=1 under_shim "$CURL" -s -o /dev/null "http://127.0.0.1:$P/"
done
out=$(RECLOSER_DISABLE=1 scurl "$URL")
is "$out" 200 "RECLOSER_DISABLE=1: curl works after failures (nothing trips)"
out=$(RECLOSER_DISABLE=1 pyc connect 127.0.0.1 "$P" -n 2)
is "$(kv "$out" ECONNREFUSED)" 2 "RECLOSER_DISABLE=1: python sees the real refusals"
ok "$([ ! -e "$STATE" ]; echo $?)" "RECLOSER_DISABLE=1: no state file"
ok "$([ ! -e "$LOG" ]; echo $?)" "RECLOSER_DISABLE=1: no log, even at log_level debug"
out=$(RECLOSER_DISABLE=1 "$RECLOSER" run -c "$CFG" -- "$CURL" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
ok "$([ ! -e "$STATE" ]; echo $?)" "RECLOSER_DISABLE=1 with recloser run: no state file"

# The same config without RECLOSER_DISABLE is active (the cases above mean something).
scurl "http://127.0.0.1:$P/" >/dev/null
is "$(state_of svc)" open "without RECLOSER_DISABLE the same config is active"

# mode = off: never counted, never rejected
write_config
breaker offb "match=127.0.0.1" failure_threshold=1 mode=off
rm -f "$STATE"
for i in 1 2 3; do scurl "http://127.0.0.1:$P/" >/dev/null; done
is "$(scurl "$URL")" 200 "mode = off: nothing trips"
st=$(state_of offb)
like "$st" '^(closed|NOBREAKER)$' "mode = off: stays closed ($st)"

# What the shim links and exports.
libs=$(ldd "$SHIM" | awk '{print $1}' | sed 's,.*/,,' | sort)
bad=$(grep -vE '^(linux-vdso\.so\.1|libc\.so\.6|libdl\.so\.2|libpthread\.so\.0|ld-linux-x86-64\.so\.2|libinih\.so\.[0-9]+)$' <<<"$libs")
is "$bad" "" "ldd: only libc (and libdl/libpthread/inih)" || diag "$libs"
unlike "$libs" 'curl' "ldd: no libcurl"
syms=$(nm -D --defined-only "$SHIM" | awk '{print $3}')
is "$(grep -cE '^(ini_|rc_)' <<<"$syms")" 0 "no internal (rc_*) or inih (ini_*) symbol exported" || diag "$(grep -E '^(ini_|rc_)' <<<"$syms" | head)"
like "$(tr '\n' ' ' <<<"$syms")" '(^| )connect( |@)' "connect is exported"

# An application with its own ini_parse is unaffected: a Python ctypes lookup
# of ini_parse through the global namespace does not find the shim's.
out=$(under_shim "$PY" -c '
import ctypes
try:
    ctypes.CDLL(None).ini_parse; print("found")
except AttributeError:
    print("none")')
is "$out" none "the shim's inih is not visible to the application"

done_testing
