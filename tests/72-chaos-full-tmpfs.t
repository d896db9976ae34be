#!/bin/bash
# Chaos: a full file system under the state file and under the log.  Tiny
# tmpfs mounts in $T (root only: skipped when mount is not permitted):
#   1. The state file on a 64 KiB tmpfs, smaller than the file: the first
#      process cannot allocate the file, logs state_error and passes
#      through.  Later processes, `recloser status` and `recloser open` must
#      not die (a store to a page of a sparse file that the tmpfs cannot
#      back is a SIGBUS), whatever the first one left behind.
#   2. The state file on a 4 MiB tmpfs filled to the brim: the same; once
#      space is freed, the breaker works again.
#   3. A sparse state file of the right size already there (what a process
#      that could size the file but not allocate it leaves), on a full
#      tmpfs: the same.
#   4. The log on a full tmpfs: no line can be written; the program's calls,
#      errnos and exit status are exactly those with a writable log, and the
#      counts are exact.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

LOAD=$ROOT/tests/clients/chaos_load.py
MNTS=()
umount_all() {
	local m
	for m in "${MNTS[@]}"; do umount -l "$m" 2>/dev/null; done
}
trap '_st=$?; umount_all; (exit $_st); _cleanup' EXIT

# tiny_tmpfs DIR SIZE: mount a tmpfs of SIZE on DIR, or skip everything.
tiny_tmpfs() {
	mkdir -p "$1"
	if ! mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>"$T/mount.err"; then
		skip_all "cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): $(head -c 200 "$T/mount.err")"
	fi
	MNTS+=("$1")
}
# fill DIR: write a filler file until the file system is full.
fill() {
	dd if=/dev/zero of="$1/filler.$RANDOM" bs=1k count=100000 2>/dev/null
	local avail
	avail=$(df --output=avail -k "$1" | tail -1 | tr -d ' ')
	[ "$avail" = 0 ] || bail_out "could not fill $1 (avail $avail KiB)"
}
# errors_of PID: the state_error lines of process PID in $LOG
errors_of() { grep 'event=state_error' "$LOG" 2>/dev/null | grep -c " pid=$1 "; }

start_server OK http
P=$(closed_port)

# the state file's size, from one made where there is room
write_config
breaker svc "match=127.0.0.1:$OK"
rc status >/dev/null || bail_out "cannot make a state file in $T"
SIZE=$(stat -c %s "$STATE")
note "state file size: $SIZE bytes"

SMALL=$T/small
FULL=$T/full
FULL2=$T/fulllog
tiny_tmpfs "$SMALL" 64k
tiny_tmpfs "$FULL" 4m
tiny_tmpfs "$FULL2" 16k

# procs WHAT N: N processes one after the other under the shim, 3 calls
# each: they must exit 0, get their answers and log one state_error each.
procs() {
	local what=$1 n=$2 i out st
	for ((i = 1; i <= n; i++)); do
		out=$(RUN_TIMEOUT=20 under_shim "$PY" "$LOAD" "$OK" -n 3 2>"$T/err")
		st=$?
		is "$(signame $st)" 0 "$what: process $i exits 0 ($out)" ||
			diag "stderr: $(head -c 300 "$T/err")"
		is "$(kv "$out" s200)" 3 "...its 3 calls pass through and are answered"
		is "$(errors_of "$(kv "$out" pid)")" 1 "...it logs one state_error line" ||
			diag "$(grep state_error "$LOG" 2>/dev/null | tail -n 2)"
		note "left in $(dirname "$STATE"): $(ls -ls "$(dirname "$STATE")" | grep -v filler | tail -n +2 | tr '\n' ' ')"
	done
}
# cli WHAT: recloser status and open must not die: exit 1 (unusable state)
cli() {
	local st
	rc status >"$T/st.out" 2>"$T/st.err"
	st=$?
	is "$(signame $st)" 1 "$1: recloser status does not die: exit 1, an unusable state file ($(head -c 200 "$T/st.err"))"
	rc open svc >"$T/st.out" 2>"$T/st.err"
	st=$?
	is "$(signame $st)" 1 "$1: recloser open does not die either: exit 1 ($(head -c 200 "$T/st.err"))"
}

# ---- 1. the state file on a tmpfs smaller than it ----
STATE=$SMALL/state
LOG=$T/log.1
write_config
breaker svc "match=127.0.0.1:$OK" failure_threshold=3
procs "state file on a 64 KiB tmpfs" 3
cli "state file on a 64 KiB tmpfs"

# ---- 2. the state file on a full tmpfs, then space freed ----
fill "$FULL"
STATE=$FULL/state
LOG=$T/log.2
write_config
breaker svc "match=127.0.0.1:$OK" failure_threshold=3
procs "state file on a full 4 MiB tmpfs" 2
cli "state file on a full 4 MiB tmpfs"
rm -f "$FULL"/filler.*
out=$(RUN_TIMEOUT=20 under_shim "$PY" "$LOAD" "$OK" -n 3)
st=$?
is "$(signame $st) $(kv "$out" s200)" "0 3" "space freed: a new process exits 0 with its 3 answers ($out)"
is "$(counts svc)" "3 0 0" "...and its calls are counted again (status: calls 3)"
is "$(errors_of "$(kv "$out" pid)")" 0 "...with no state_error"

# ---- 3. a sparse state file of the right size, on a full tmpfs ----
rm -f "$FULL"/*
truncate -s "$SIZE" "$FULL/sparse"
chmod 600 "$FULL/sparse"
fill "$FULL"
STATE=$FULL/sparse
LOG=$T/log.3
write_config
breaker svc "match=127.0.0.1:$OK" failure_threshold=3
note "sparse file: $(stat -c '%s bytes, %b blocks' "$STATE")"
procs "a sparse state file of $SIZE bytes on a full tmpfs" 2
cli "a sparse state file on a full tmpfs"

# ---- 4. the log on a full tmpfs ----
fill "$FULL2"
SCRIPT='
import errno, socket, sys
ok, dead = int(sys.argv[1]), int(sys.argv[2])
res = []
def conn(port, req=False):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        if not req:
            return "ok"
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return "s" + s.recv(100)[9:12].decode()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
for _ in range(3):
    res.append(conn(dead))     # refused, refused (opens), rejected
res.append(conn(ok, True))
for _ in range(20):
    res.append(conn(dead))     # rejected
print(" ".join(res))
'
run_case() {
	STATE=$T/state.$1
	LOG=$2
	write_config log_level=debug
	breaker dead "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s reject_errno=EHOSTUNREACH
	breaker ok "match=127.0.0.1:$OK"
	out=$(RUN_TIMEOUT=20 under_shim "$PY" -c "$SCRIPT" "$OK" "$P" 2>"$T/err.$1")
	st=$?
}
run_case base "$T/log.base"
base="$st $out"
base_counts="$(counts dead) / $(counts ok)"
base_lines=$(wc -l <"$T/log.base")
want="0 ECONNREFUSED ECONNREFUSED EHOSTUNREACH s200$(printf ' EHOSTUNREACH%.0s' $(seq 20))"
is "$base" "$want" "with a writable log: refused twice, then rejected; the other breaker answers 200"
cmp_ok "$base_lines" '>=' 4 "...and the log has its lines ($base_lines)"
run_case full "$FULL2/log"
is "$st $out" "$base" "log on a full tmpfs: the same results and exit status 0" ||
	diag "stderr: $(head -c 300 "$T/err.full")"
is "$(counts dead) / $(counts ok)" "$base_counts" "...the same counts ($base_counts)"
n=$(cat "$FULL2/log" 2>/dev/null | wc -c)
is "$n" 0 "...and nothing could be written to the log"

done_testing
