#!/bin/bash
# nginx as a reverse proxy under the shim, a breaker on its upstream: the
# master runs as root and its worker as nobody (it changes its user after
# the master opened the log: the shim keeps the log open across that,
# core/log.h rc_log_keep).  A 503 or hung upstream opens the breaker, then
# nginx answers 502 at once without touching the upstream, and the
# worker's lines (transition, rejections) are in the log.  A process whose
# log is not its own drops its lines, and says how many (log_dropped in
# `recloser status` and `metrics`).
source "$(dirname "$0")/lib.sh"
need_build

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx not installed (scripts/deps.sh)"
[ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 || skip_all "needs root (an nginx master with a nobody worker)"

start_server UP http
NGX=$(closed_port)
N=$T/nginx
mkdir -p "$N/tmp"
chmod o+x "$T"
cat >"$N/nginx.conf" <<EOF
user nobody nogroup;
daemon off;
master_process on;
worker_processes 1;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	server {
		listen 127.0.0.1:$NGX;
		location / {
			proxy_pass http://127.0.0.1:$UP;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
write_config log_level=debug
breaker up "match=127.0.0.1:$UP" failure_threshold=2 open_duration=60s response_timeout=1s
chmod 644 "$CFG"

LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" "$NGINX" -p "$N/" -c "$N/nginx.conf" -e "$N/error.log" \
	>"$N/out" 2>&1 &
NPID=$!
_srv_pids+=("$NPID")
wait_until 5000 curl -s -o /dev/null "http://127.0.0.1:$NGX/" ||
	bail_out "nginx did not start: $(cat "$N/out" "$N/error.log" 2>/dev/null | head -c 400)"
worker=$(pgrep -P "$NPID" | head -n 1)
is "$(ps -o user= -p "$worker" | tr -d ' ')" nobody "nginx's worker runs as nobody (its master as root)"

# code URL: the HTTP status curl (not under the shim) gets from nginx
code() { curl -s -o /dev/null -m 20 -w '%{http_code}' "$1"; }
URL=http://127.0.0.1:$NGX/
c0=$(json_field up calls) # the start-up probe's
is "$(code "$URL")" 200 "a request through nginx: 200 from the upstream"
is "$(json_field up calls)" $((c0 + 1)) "...one call to the upstream (the worker's)"

control UP 503
is "$(code "$URL") $(code "$URL")" "503 503" "the upstream answers 503, twice"
is "$(state_of up)" open "...which opens the upstream's breaker"
n=$(reqs UP)
timed ms code "$URL" >"$T/c.out"
is "$(cat "$T/c.out")" 502 "open: nginx answers 502 Bad Gateway"
cmp_ok "$ms" '<' 1000 "...at once ($ms ms)"
is "$(reqs UP)" "$n" "...without reaching the upstream"
is "$(counts up)" "$((c0 + 3)) 2 1" "calls $((c0 + 3)), failures 2, rejected 1"

# the worker (nobody) logged, through the log it kept across the change
wpid=$worker
is "$(stat -c %U "$LOG")" root "the log is root's (the master made it)"
is "$(log_count "pid=$wpid .*event=transition breaker=up from=closed to=open")" 1 \
	"the worker's transition line is in the log" || show_log
is "$(log_count "pid=$wpid .*event=call breaker=up outcome=failure")" 2 "...and its 2 failed calls"
is "$(json_field up log_dropped)" 0 "...no line dropped"

# a hung upstream: bounded by response_timeout in nginx's event loop
rc close up >/dev/null
control UP hang
timed ms code "$URL" >"$T/c.out"
is "$(cat "$T/c.out")" 502 "a hung upstream: nginx answers 502 (its read failed)"
cmp_ok "$ms" '<' 5000 "...after the breaker's response_timeout (1 s), not nginx's 60 s ($ms ms)"
is "$(json_field up timeouts)" 1 "...judged a timeout"
like "$(cat "$N/error.log")" 'recv\(\) failed \(110: Connection timed out\) while reading response header from upstream' \
	"...nginx's error log: its recv() failed with ETIMEDOUT"
control UP 200
kill -TERM "$NPID"
wait "$NPID" 2>/dev/null

# a log that is not the process's own: its lines are dropped, and counted
write_config log_level=debug
breaker dl "match=127.0.0.1:$UP"
: >"$LOG"
chown nobody "$LOG"
under_shim "$PY" "$PYCLIENT" connect 127.0.0.1 "$(closed_port)" -n 1 >/dev/null 2>&1
under_shim curl -s -o /dev/null "http://127.0.0.1:$UP/"
is "$(stat -c %s "$LOG")" 0 "a log owned by another user gets no line"
d=$(json_field dl log_dropped)
cmp_ok "${d:-0}" '>=' 2 "...recloser status counts them: log_dropped $d"
like "$(rc status)" "log_dropped: $d log lines could not be written" "...and its table says so"
like "$(rc metrics)" "recloser_log_dropped_total $d" "...and metrics"

done_testing
