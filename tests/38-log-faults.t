#!/bin/bash
# The log path is not to be trusted (it is usually in /tmp): whatever sits
# there, the shim and the CLI never block on it and never write into
# anything but a regular file of their own with one link.
#  - a FIFO with no reader does not hang the shim's start, a connect or
#    the CLI; a FIFO with a reader gets nothing;
#  - a hard link (a second name of a file of ours, as another user can
#    plant where fs.protected_hardlinks = 0) gets nothing;
#  - a world-writable file of another user gets nothing;
#  - each line that could not be written is counted (rc_log_dropped()),
#    errno is kept, and an ordinary log still gets every line.
# Part 2 drives core/log.c directly (build/obj/core/log.o and sys.o).
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)
# cfg LOGPATH: a config whose log is LOGPATH, at debug (a start line at
# the shim's constructor, a call line per connect), breaker dead on $P.
cfg() {
	write_config log_level=debug connect_timeout=2s
	sed -i "s|^log_file = .*|log_file = $1|" "$CFG"
	breaker dead "match=127.0.0.1:$P" failure_threshold=1 open_duration=60s
}
# exercise: a start line, a failed connect that opens dead (call and
# transition lines), a rejected one, a CLI flip (a transition line), all
# bounded; prints the exit statuses.
exercise() {
	local a b c
	RUN_TIMEOUT=10 pyc connect 127.0.0.1 "$P" -n 2 >/dev/null; a=$?
	timeout -k 2 10 "$RECLOSER" -c "$CFG" force-open dead >/dev/null; b=$?
	timeout -k 2 10 "$RECLOSER" -c "$CFG" close dead >/dev/null; c=$?
	echo "$a $b $c"
}

# release PID: end the FIFO reader PID (a cat), whether it still waits for
# a writer or not; never blocks.
release() {
	timeout -k 1 2 bash -c 'exec 3>"$1"' _ "$FIFO" 2>/dev/null
	wait_until 2000 eval "! kill -0 $1 2>/dev/null"   # it drains, sees EOF
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ---- 1. a FIFO with no reader at the log path ----
FIFO=$T/fifo.log
mkfifo -m 0600 "$FIFO"
cfg "$FIFO"
timed ms exercise >"$T/rcs"
is "$(cat "$T/rcs")" "0 0 0" "FIFO at log_file, no reader: the program and the CLI finish (no timeout)"
cmp_ok "$ms" '<' 8000 "...at once (${ms} ms)"
ok "$([ -p "$FIFO" ]; echo $?)" "...and the FIFO is left as it was"

# ---- 2. a FIFO with a reader ----
cat "$FIFO" >"$T/fifo.out" &
READER=$!
sleep 0.2
timed ms exercise >"$T/rcs"
is "$(cat "$T/rcs")" "0 0 0" "FIFO with a reader: the program and the CLI finish"
release "$READER"
is "$(wc -c <"$T/fifo.out" | tr -d ' ')" 0 "...and the reader got no byte"

# ---- 3. a hard link at the log path ----
VICTIM=$T/victim.txt
printf 'VICTIM\n' >"$VICTIM"
chmod 600 "$VICTIM"
ln "$VICTIM" "$T/link.log"
cfg "$T/link.log"
is "$(exercise)" "0 0 0" "hard link at log_file: the program and the CLI finish"
is "$(cat "$VICTIM")" "VICTIM" "...and the linked file got no line"
is "$(stat -c %h "$VICTIM")" 2 "...and is left as it was (2 links)"

# ---- 4. a world-writable file of another user ----
OTHER=$(id -u nobody 2>/dev/null || echo 65534)
if [ "$(id -u)" = 0 ]; then
	printf 'THEIRS\n' >"$T/theirs.log"
	chown "$OTHER" "$T/theirs.log"
	chmod 666 "$T/theirs.log"
	cfg "$T/theirs.log"
	is "$(exercise)" "0 0 0" "world-writable log of uid $OTHER: the program and the CLI finish"
	is "$(cat "$T/theirs.log")" "THEIRS" "...and it got no line"
else
	skip "not root: cannot make a file of another user" 2
fi

# ---- 5. our own regular file still gets every line ----
cfg "$LOG"
rm -f "$LOG"
is "$(exercise)" "0 0 0" "an ordinary log: the program and the CLI finish"
cmp_ok "$(log_count 'event=start')" '>=' 1 "...the start line is written"
cmp_ok "$(log_count 'event=transition.*reason=cli')" '==' 2 "...the CLI's two transition lines are written"
is "$(stat -c '%a %h' "$LOG")" "600 1" "...to a file made 0600 with one link"

# ---- part 2: core/log.c itself ----
cat >"$T/logt.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "core/log.h"
#include "core/value.h"
static long ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
/* logt PATH N: write N lines to PATH; print "ok=K dropped=D
 * errno_changed=E ms=T why=REASON" (the first refusal, rc_log_refusal) */
int main(int argc, char **argv)
{
	int n = atoi(argv[2]), k = 0, bad = 0;
	unsigned long d0 = rc_log_dropped();
	rc_log_setup(argv[1], RC_LOG_INFO, "logt");
	long t0 = ms();
	for (int i = 0; i < n; i++) {
		errno = EADDRINUSE;
		if (rc_log(RC_LOG_INFO, "test", "i=%d", i) == 0)
			k++;
		if (errno != EADDRINUSE)
			bad++;
	}
	/* a level not enabled is no dropped line */
	rc_log(RC_LOG_DEBUG, "test", "debug=1");
	const char *why = rc_log_refusal();
	printf("ok=%d dropped=%lu errno_changed=%d ms=%ld why=\"%s\"\n", k,
	       rc_log_dropped() - d0, bad, ms() - t0, why ? why : "");
	return 0;
}
EOF
O=$ROOT/build/obj/core
if ${CC:-cc} -O1 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/shim" -o "$T/logt" "$T/logt.c" \
	"$O/log.o" "$O/sys.o" 2>"$T/cc.err"; then
	built=0
else
	built=1
	diag "$(head -c 600 "$T/cc.err")"
fi
ok "$built" "a program using core/log.c (rc_log, rc_log_dropped, rc_log_refusal) builds"
logt() { timeout -k 2 10 "$T/logt" "$@" || echo "exit=$?"; }

out=$(logt "$FIFO" 3)
like "$out" '^ok=0 dropped=3 errno_changed=0 ' "FIFO, no reader: 3 lines refused, 3 counted dropped, errno kept ($out)"
cmp_ok "$(kv "$out" ms)" '<' 2000 "...without blocking"
like "$out" 'why="not a regular file"' "...why: not a regular file"
cat "$FIFO" >"$T/fifo2.out" &
READER=$!
sleep 0.2
out=$(logt "$FIFO" 3)
like "$out" '^ok=0 dropped=3 errno_changed=0 ' "FIFO with a reader: 3 lines refused and counted ($out)"
release "$READER"
is "$(wc -c <"$T/fifo2.out" | tr -d ' ')" 0 "...the reader got no byte"

out=$(logt "$T/link.log" 2)
like "$out" '^ok=0 dropped=2 errno_changed=0 ' "hard link: 2 lines refused and counted ($out)"
like "$out" 'why="more than one link' "...why: more than one link"
is "$(cat "$VICTIM")" "VICTIM" "...the linked file got no line"

ln -s "$T/own.log" "$T/sym.log"
out=$(logt "$T/sym.log" 2)
like "$out" '^ok=0 dropped=2 ' "symlink: refused and counted ($out)"
ok "$([ ! -e "$T/own.log" ]; echo $?)" "...nothing created through it"

if [ "$(id -u)" = 0 ]; then
	out=$(logt "$T/theirs.log" 2)
	like "$out" '^ok=0 dropped=2 errno_changed=0 ' "a world-writable file of uid $OTHER: refused and counted ($out)"
	like "$out" 'why="owned by another user"' "...why: owned by another user"
	is "$(cat "$T/theirs.log")" "THEIRS" "...it got no line"
else
	skip "not root" 3
fi

out=$(logt "$T/nodir/x.log" 2)
like "$out" '^ok=0 dropped=2 ' "a directory that does not exist: counted dropped ($out)"

out=$(logt "$T/own.log" 4)
like "$out" '^ok=4 dropped=0 errno_changed=0 .* why=""$' "an ordinary file: every line written, none dropped, errno kept ($out)"
is "$(wc -l <"$T/own.log" | tr -d ' ')" 4 "...4 whole lines"
is "$(stat -c '%a %h' "$T/own.log")" "600 1" "...in a file made 0600"

done_testing
