#!/bin/bash
# Chaos: fds with calls open closed or replaced in bulk
# (tests/clients/chaos_fds.py).  6 connections to a server that never
# answers carry a request each (calls open), 3 to a healthy one are idle
# after an answer; then all 9 are ended at once by close_range, closefrom,
# os.closerange, syscall(SYS_close_range), syscall(SYS_close), or dup2/dup3
# of /dev/null over them (close_range with CLOSE_RANGE_CLOEXEC closes
# nothing: the calls go on).  4 of the numbers are handed out again to
# /dev/null and a pipe and used; the process lingers past response_timeout
# and exits.  No crash; nothing on the unrelated fds is cut, bounded or
# judged; the calls closed before any answer are not judged (not at exit
# either: the shim must have seen the close), the answered ones count once.
# Also: a number closed where the shim cannot see it (fclose of an fdopen'ed
# socket) coming back as a pipe received over SCM_RIGHTS; dup2/dup3 between
# tracked fds; and a thread dup2()ing /dev/null over another thread's live
# connection at random moments.
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

FDS=$ROOT/tests/clients/chaos_fds.py
start_server OK http
start_server HANG hang
write_config
breaker hang "match=127.0.0.1:$HANG" response_timeout=1s failure_threshold=100
breaker ok "match=127.0.0.1:$OK" response_timeout=3s failure_threshold=100

signame() {
	if (($1 > 128 && $1 < 160)); then echo "SIG$(kill -l $(($1 - 128)))"; else echo "$1"; fi
}
# tmo: "timeouts" of hang and ok
tmo() { echo "$(json_field hang timeouts) $(json_field ok timeouts)"; }
fresh() { rm -f "$STATE"; }   # nothing is running: new counts

for how in close_range closefrom osclose sys_range sys_close dup2 cloexec; do
	case $how in
	close_range) what="close_range(lo, hi, 0)" ;;
	closefrom) what="closefrom(lo)" ;;
	osclose) what="os.closerange()" ;;
	sys_range) what="syscall(SYS_close_range)" ;;
	sys_close) what="syscall(SYS_close) on each" ;;
	dup2) what="dup2/dup3 of /dev/null over each" ;;
	cloexec) what="close_range(CLOSE_RANGE_CLOEXEC), then a second request on each idle connection" ;;
	esac
	fresh
	out=$(RUN_TIMEOUT=20 under_shim "$PY" "$FDS" "$how" "$HANG" "$OK" 2>"$T/err"); st=$?
	want="reused=4 io=ok" okc="3 0 0"
	[ $how = cloexec ] && want="reused=4 io=ok again=s200,s200,s200" okc="6 0 0"
	is "$(signame $st) $out" "0 $want" "$what over 9 tracked fds: exit 0; the reused numbers work as /dev/null and a pipe" ||
		diag "stderr: $(head -c 300 "$T/err")"
	is "$(counts hang)" "0 0 0" "...the 6 calls closed unanswered are not judged, at exit neither (hang: calls 0)"
	is "$(counts ok) / $(tmo)" "$okc / 0 0" "...the answered requests count once each (ok: calls ${okc%% *}), no timeouts"
done

# ---- an unseen close; the number comes back over SCM_RIGHTS ----
fresh
out=$(RUN_TIMEOUT=20 under_shim "$PY" "$FDS" scm "$HANG" "$OK" 2>"$T/err"); st=$?
like "$(signame $st) $out" '^0 reused=1 read=HTTP/1.1_500@[0-9]+$' \
	"a socket with a call open closed unseen (fclose), its number received as a pipe over SCM_RIGHTS: a blocking read on it gets the bytes written 1.5 s later ($out)" ||
	diag "stderr: $(head -c 300 "$T/err")"
ms=${out##*@}
cmp_ok "${ms:-0}" '>=' 1400 "...it waited for them: not cut at response_timeout (1 s) as if it were the socket ($ms ms)"
is "$(counts hang) / $(tmo)" "0 0 0 / 0 0" "...and judged nothing: not the HTTP 500 that came through the pipe, not a timeout"

# ---- dup2 / dup3 between tracked fds ----
fresh
out=$(RUN_TIMEOUT=20 under_shim "$PY" "$FDS" dup2x "$HANG" "$OK" 2>"$T/err"); st=$?
is "$(signame $st) $out" "0 null_over_call=EOF dup_of_ok=s200 self=ok answer=s200" \
	"dup2: /dev/null over a call in flight reads EOF; a dup of an answered connection over another call works; dup2(fd, fd) leaves the call" ||
	diag "stderr: $(head -c 300 "$T/err")"
is "$(counts hang)" "0 0 0" "...the calls replaced before any answer are not judged"
is "$(counts ok) / $(tmo)" "3 0 0 / 0 0" "...ok: 3 calls (the first answer, the request on the duplicate, the one dup2'ed onto itself)"

# ---- a thread dup2()ing /dev/null over another's live connections ----
fresh
N=300
out=$(RUN_TIMEOUT=40 under_shim "$PY" "$FDS" stress "$OK" $N 2>"$T/err"); st=$?
is "$(signame $st)" 0 "$N calls while another thread dup2()s /dev/null over the live connection at random: exit 0 ($out)" ||
	diag "stderr: $(head -c 300 "$T/err")"
other=
for w in $out; do
	case ${w%%=*} in s200 | ENOTSOCK | NORESPONSE | clobbered) ;; *) other="$other $w" ;; esac
done
is "$other" "" "...each call answered 200, or failed as a call on /dev/null does (ENOTSOCK, or no answer); nothing else"
cmp_ok "$(kv "$out" s200)" '>=' 1 "...some got their answer"
cmp_ok "$(kv "$out" clobbered)" '>=' 1 "...and some connections were clobbered"
calls=$(json_field ok calls)
cmp_ok "$calls" '<=' $N "status: at most one call per connection ($calls of $N)"
is "$(json_field ok failures) $(json_field ok timeouts)" "0 0" "...no failure, no timeout: nothing done on /dev/null was judged"
is "$(json_field ok successes)" "$calls" "...every call judged is a success"

done_testing
