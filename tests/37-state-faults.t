#!/bin/bash
# The state file under faults the host program must never pay for:
#
#  1. A full filesystem (a 32 KiB tmpfs, smaller than the state file): the
#     first process cannot back the file it creates, says so (state_error)
#     and passes through; it leaves no file behind that looks valid, so no
#     later process and no `recloser status` dies of SIGBUS.  A full-size
#     sparse file (as an older version left one) is refused the same way
#     while it cannot be backed, and used once it can.
#  2. pid namespaces: a half-open probe held by a live process in another
#     pid namespace (`unshare --pid`, kill(pid, 0) there says ESRCH) is not
#     taken by a caller outside it; it is freed by its lifetime (connect +
#     response timeout + 1 s) once its holder is gone.
#  3. A full slot table (128 names have used the state file): a breaker of
#     the config without a slot is `unprotected` in status (table and
#     --json) and status exits 1; `recloser forget NAME` frees the slot of
#     a name no longer in the config (refusing one in use unless --force,
#     and one the config lists), and the new breaker then gets it.
#
# Parts 1 and 2 need root (mount, unshare); they are skipped otherwise.
source "$(dirname "$0")/lib.sh"
need_build

SIZE=$((144 + 4096 * 600 + 128 * 2112))  # rc_shm_file_size(): header, slots, bulkhead tables
start_server HTTP http
URL=http://127.0.0.1:$HTTP/

# ---------------------------------------------------------------- 1. full fs

SMALL=$T/small
mounted=
_state_cleanup() {
	local r=$?
	[ -n "$mounted" ] && umount "$SMALL" 2>/dev/null
	(exit $r)
	_cleanup
}
trap _state_cleanup EXIT

mkdir -p "$SMALL"
if [ "$(id -u)" != 0 ]; then
	skip "not root: cannot mount a small tmpfs" 15
elif ! mount -t tmpfs -o size=32k,mode=0700 tmpfs "$SMALL" 2>"$T/mount.err"; then
	skip "cannot mount a tmpfs: $(head -c 100 "$T/mount.err")" 15
else
	mounted=1
	STATE=$SMALL/state
	write_config
	breaker svc "match=127.0.0.1" failure_threshold=2 open_duration=60s
	lines() { grep -c 'event=state_error' "$LOG" 2>/dev/null || true; }

	out=$(scurl "$URL"); st=$?
	is "$(signame $st) $out" "0 200" "full tmpfs: the first process gets its answer (exit 0, 200)"
	is "$(lines)" 1 "...and logs one state_error line" || show_log
	like "$(grep -m1 state_error "$LOG")" 'cannot allocate.*No space left on device.*action=pass_through' \
		"...saying the file cannot be allocated (ENOSPC), passing through" || show_log
	ok "$([ ! -e "$STATE" ] || [ "$(stat -c %s "$STATE")" = 0 ]; echo $?)" \
		"...and leaves no full-size file behind ($(stat -c '%s bytes, %b blocks' "$STATE" 2>&1))"
	out=$(scurl "$URL"); st=$?
	is "$(signame $st) $out" "0 200" "a second process: not killed (SIGBUS), gets 200"
	is "$(lines)" 2 "...and logs its own state_error" || show_log
	rc status >"$T/st.out" 2>"$T/st.err"; st=$?
	is "$(signame $st)" 1 "recloser status: exit 1, not a signal"
	like "$(cat "$T/st.err")" "state file $STATE: cannot allocate" "...saying why: $(cat "$T/st.err")"

	# a full-size sparse file, as an older version left one
	rm -f "$STATE"
	truncate -s "$SIZE" "$STATE" && chmod 600 "$STATE"
	out=$(scurl "$URL"); st=$?
	is "$(signame $st) $out" "0 200" "a sparse full-size file on a full tmpfs: the process survives, 200"
	like "$(grep state_error "$LOG" | tail -n 1)" 'not fully allocated.*No space left on device' \
		"...and logs that the file cannot be backed" || show_log
	rc status >"$T/st.out" 2>"$T/st.err"; st=$?
	is "$(signame $st)" 1 "...recloser status: exit 1, not a signal ($(cat "$T/st.err"))"
	for i in 1 2 3; do under_shim "$CURL" -s -o /dev/null "http://127.0.0.1:$(closed_port)/"; done
	out=$(scurl "$URL"); st=$?
	is "$(signame $st) $out" "0 200" "...failures trip nothing: pass-through"

	# room again: the same sparse file is backed and used
	mount -o remount,size=4m "$SMALL"
	out=$(scurl "$URL"); st=$?
	is "$(signame $st) $out" "0 200" "room on the tmpfs again: a process works"
	cmp_ok "$(($(stat -c '%b * %B' "$STATE")))" '>=' "$SIZE" "...and the sparse file is now fully allocated"
	P=$(closed_port)
	for i in 1 2; do under_shim "$CURL" -s -o /dev/null "http://127.0.0.1:$P/"; done
	is "$(state_of svc)" open "...and shared: 2 failures opened svc"
	umount "$SMALL" && mounted=
	STATE=$T/state
fi

# ------------------------------------------------------- 2. pid namespaces

pid_free() { ! kill -0 "$1" 2>/dev/null && [ ! -e "/proc/$1" ]; }

if [ "$(id -u)" != 0 ]; then
	skip "not root: cannot unshare a pid namespace" 6
elif ! unshare --pid --fork --mount-proc true 2>"$T/unshare.err"; then
	skip "unshare --pid: $(head -c 100 "$T/unshare.err")" 6
else
	# a pid that is free here: the holder gets it in its own namespace
	pidmax=$(cat /proc/sys/kernel/pid_max)
	N=$((pidmax - 1000))
	while ((N > 300)) && ! pid_free "$N"; do N=$((N - 7)); done
	start_server BH blackhole
	STATE=$T/state.ns
	write_config
	# probe lifetime: 4 s + 1 s + 1 s = 6 s
	breaker ns "match=127.0.0.1:$BH" connect_timeout=4s response_timeout=1s \
		failure_threshold=1 open_duration=60s half_open_probes=1 success_threshold=1
	rc half-open ns >/dev/null
	unshare --pid --fork --mount-proc --kill-child sh -c '
		echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid || exit 9
		shift
		"$@" &
		echo $! >"$0"
		wait' "$T/holder.pid" "$N" env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" \
		"$PY" "$PYCLIENT" connect 127.0.0.1 "$BH" >"$T/holder.out" 2>&1 &
	ushare=$!
	held() { [ "$(json_field ns probes_held)" = 1 ]; }
	wait_until 5000 held
	t0=$(now_ms)    # the probe was taken before this
	is "$(json_field ns probes_held) $(cat "$T/holder.pid" 2>/dev/null)" "1 $N" \
		"a process in another pid namespace (pid $N there, free here) holds the probe"
	out=$(pyc connect 127.0.0.1 "$BH" --timeout 0.3)
	is "$(kv "$out" ECONNREFUSED)" 1 "while it lives, a caller here is rejected: the probe is held ($out)"
	kill -KILL "$ushare"
	wait "$ushare" 2>/dev/null
	wait_until 2000 pid_free "$ushare"
	out=$(pyc connect 127.0.0.1 "$BH" --timeout 0.3)
	is "$(kv "$out" ECONNREFUSED)" 1 "its holder killed: still held (death in another namespace is not seen) ($out)"
	# past the probe lifetime from the holder's start
	while (($(elapsed_ms "$t0") < 6400)); do sleep 0.1; done
	out=$(pyc connect 127.0.0.1 "$BH" --timeout 0.5)
	is "$(kv "$out" TIMEOUT)" 1 "after the probe lifetime a caller gets the probe (admitted, times out itself) ($out)"
	is "$(json_field ns state)" half_open "...still half_open"
	is "$(json_field ns rejected)" 2 "status: the 2 rejections counted"
	STATE=$T/state
fi

# ------------------------------------------------- 3. a full slot table

STATE=$T/state.full
OLD=$T/old.ini
{
	echo "[global]"
	echo "state_file = $STATE"
	echo "log_file = $LOG"
	for i in $(seq 0 4095); do
		printf '\n[old%d]\nmatch = 10.%d.%d.1:80\n' "$i" "$((i / 256))" "$((i % 256))"
	done
} >"$OLD"
"$RECLOSER" -c "$OLD" status >/dev/null; st=$?
is "$st" 0 "a config of 4096 breakers takes all 4096 slots (status exit 0)"

P=$(closed_port)
write_config
breaker fresh "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
breaker old7 "match=192.0.2.200:80"
rc status >"$T/full.out" 2>"$T/full.err"; st=$?
is "$st" 1 "a breaker without a slot: status exits 1"
like "$(grep '^fresh ' "$T/full.out")" '^fresh +unprotected ' "...its row says unprotected: $(grep '^fresh' "$T/full.out")"
like "$(grep '^old7 ' "$T/full.out")" '^old7 +closed ' "...a breaker of the config that has its slot is shown as usual"
like "$(cat "$T/full.err")" "no slot for 'fresh' .*all 4096 are taken" "...and stderr says why: $(cat "$T/full.err")"
is "$(json_field fresh state)" unprotected "status --json: state unprotected"
rc status --json >/dev/null 2>&1; is "$?" 1 "status --json exits 1 too"
rc status old7 >/dev/null 2>&1; is "$?" 0 "status of a protected breaker only: exit 0"

for i in 1 2 3; do under_shim "$CURL" -s -o /dev/null "http://127.0.0.1:$P/"; done
is "$(log_count 'event=(transition|reject) .*breaker=fresh')" 0 \
	"the unprotected breaker's 3 failed calls (threshold 2) pass through: no transition, no reject"
like "$(grep 'event=state_error' "$LOG" | grep -m1 'breaker=fresh')" 'no slot' "...and the shim logs state_error for it" || show_log

# forget
rc forget old7 >/dev/null 2>"$T/f.err"; st=$?
is "$st" 1 "forget refuses a name the config lists ($(cat "$T/f.err"))"
rc forget nosuch >/dev/null 2>"$T/f.err"; st=$?
is "$st" 1 "forget of a name without a slot: exit 1 ($(cat "$T/f.err"))"
rc forget old3 >/dev/null 2>"$T/f.err"; st=$?
is "$st" 1 "forget refuses a slot in use moments ago ($(cat "$T/f.err"))"
like "$(cat "$T/f.err")" 'old3.*--force' "...and says how to go on"
rc status >/dev/null 2>&1; is "$?" 1 "...nothing changed: still unprotected"
out=$(rc forget old3 --force); st=$?
is "$st" 0 "forget --force old3: exit 0 ($out)"
rc status >"$T/full.out" 2>"$T/full.err"; st=$?
is "$st" 0 "status exits 0 again ($(cat "$T/full.err"))"
like "$(grep '^fresh ' "$T/full.out")" '^fresh +closed ' "...fresh has a slot: closed"
"$RECLOSER" -c "$OLD" status --json 2>"$T/old.err" | grep -q '"name": "old3", "state": "unprotected"'
is "$?" 0 "old3 is unprotected in the old config now (its slot is fresh's)"
# the reload: running processes pick fresh up when the config changes
for i in 1 2; do under_shim "$CURL" -s -o /dev/null "http://127.0.0.1:$P/"; done
is "$(state_of fresh)" open "new processes: 2 failures open fresh (protected)"
is "$(counts fresh)" "2 2 0" "...counted from zero, nothing of old3's"
out=$(under_shim "$CURL" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/"; echo " $?")
is "$out" "000 7" "...and the next call is refused"
is "$(json_field fresh rejected) $(log_count 'event=reject .*breaker=fresh')" "1 1" \
	"...by the breaker: counted as rejected, logged"

done_testing
