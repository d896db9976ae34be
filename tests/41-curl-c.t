#!/bin/bash
# libcurl from C (tests/curl/curl_client.c, built here against the system's
# libcurl): one easy handle reused across an open breaker (the code, the
# error buffer, and getinfo showing nothing stale from the transfer before),
# CURLOPT_CURLU, and the multi interface, driven by curl_multi_perform and
# by curl_multi_socket_action: admitted at curl_multi_add_handle, judged
# once at CURLMSG_DONE, rejected ones failing through libcurl's own connect.
source "$(dirname "$0")/lib.sh"
need_build

[ -f /usr/include/curl/curl.h ] || [ -f "/usr/include/$(gcc -print-multiarch 2>/dev/null)/curl/curl.h" ] ||
	skip_all "libcurl headers missing (scripts/deps.sh installs libcurl4-openssl-dev)"
CC_=${CC:-cc}
"$CC_" -O2 -Wall -Werror -o "$T/curl_client" "$ROOT/tests/curl/curl_client.c" -lcurl 2>"$T/cc.err" ||
	bail_out "cannot build curl_client: $(cat "$T/cc.err")"
CLIENT=$T/curl_client
cli() { under_shim "$CLIENT" "$@"; }
line() { sed -n "${2}p" <<<"$1"; }      # line TEXT N
field() { kv "$(line "$1" "$2")" "$3"; } # field TEXT N KEY
err_of() { local l; l=$(line "$1" "$2"); echo "${l#* err=}"; }

start_server HTTP http
write_config
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s
URL=http://127.0.0.1:$HTTP/

# ---- easy: one handle, 200, 503, 503 (opens), then rejected twice ----
out=$(cli easy "$URL" 5 --ctl "$T/HTTP.ctl" 200,503,503,200,200)
is "$(field "$out" 1 http) $(field "$out" 1 code)" "200 0" "transfer 1: 200"
is "$(field "$out" 3 http) $(field "$out" 3 ip)" "503 127.0.0.1" "transfer 3: 503 from 127.0.0.1"
is "$(state_of svc)" open "two 503s: open"
l4=$(line "$out" 4)
is "$(kv "$l4" code)" 7 "transfer 4 on the same handle: CURLE_COULDNT_CONNECT"
is "$(err_of "$out" 4)" "recloser: breaker 'svc' is open" "...the error buffer names the breaker"
is "$(kv "$l4" http)" 0 "...getinfo RESPONSE_CODE 0, not the stale 503"
is "$(kv "$l4" ip)" "" "...getinfo PRIMARY_IP empty, not the stale 127.0.0.1"
is "$(kv "$l4" port) $(kv "$l4" connects) $(kv "$l4" total_us)" "0 0 0" \
	"...PRIMARY_PORT, NUM_CONNECTS and TOTAL_TIME_T 0"
is "$(kv "$l4" oserr)" 111 "...OS_ERRNO is reject_errno (ECONNREFUSED)"
is "$(field "$out" 5 code) $(field "$out" 5 http)" "7 0" "transfer 5: rejected too"
is "$(reqs HTTP)" 3 "the server saw the 3 requests let through, no more"
is "$(counts svc)" "3 2 2" "calls 3 (one per transfer), failures 2, rejected 2"

# ---- the same handle after the breaker closes: real data again ----
rc close svc >/dev/null
out=$(cli easy "$URL" 1 --ctl "$T/HTTP.ctl" 200)
is "$(field "$out" 1 http) $(field "$out" 1 ip) $(err_of "$out" 1)" "200 127.0.0.1 " \
	"closed again: 200, the IP, an empty error buffer"

# ---- CURLOPT_CURLU ----
write_config
breaker byu "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s
control HTTP 503
out=$(cli easy "$URL" 3 --curlu)
is "$(field "$out" 1 http) $(field "$out" 2 http) $(field "$out" 3 code)" "503 503 7" \
	"CURLOPT_CURLU: the URL handle's host and port choose the breaker"
is "$(counts byu)" "2 2 1" "...2 calls, 1 rejected"
control HTTP 200

# ---- multi (curl_multi_perform) and curl_multi_socket_action ----
for mode in multi socket; do
	write_config
	breaker "$mode" "match=127.0.0.1:$HTTP" failure_threshold=3 open_duration=60s half_open_probes=1 \
		success_threshold=1
	out=$(cli $mode "$URL" 4)
	is "$(grep -c 'code=0 http=200' <<<"$out")" 4 "$mode: 4 transfers at once, 200 each"
	is "$(counts $mode)" "4 0 0" "$mode: 4 calls (judged at CURLMSG_DONE, once)"
	control HTTP 503
	out=$(cli $mode "$URL" 3)
	is "$(grep -c 'code=0 http=503' <<<"$out")" 3 "$mode: 3 x 503"
	is "$(counts $mode)" "7 3 0" "$mode: 3 failures"
	is "$(state_of $mode)" open "$mode: open"
	control HTTP 200
	n=$(conns HTTP)
	out=$(cli $mode "$URL" 3)
	is "$(grep -c "code=7 http=0 ip= .*err=recloser: breaker '$mode' is open$" <<<"$out")" 3 \
		"$mode on an open breaker: each fails to connect, the error buffer names the breaker" ||
		diag "$out"
	is "$(conns HTTP)" "$n" "$mode: no connection reached the server"
	is "$(counts $mode)" "7 3 3" "$mode: 3 rejected, no call"
	# half-open: one probe among 3 handles added at once
	rc half-open "$mode" >/dev/null
	out=$(cli $mode "$URL" 3)
	is "$(grep -c 'code=0 http=200' <<<"$out") $(grep -c 'code=7 ' <<<"$out")" "1 2" \
		"$mode, half-open with 1 probe: 1 transfer let through, 2 rejected" || diag "$out"
	is "$(counts $mode)" "8 3 5" "$mode: the probe is 1 call"
	is "$(state_of $mode)" closed "$mode: the probe succeeded: closed"
done

# ---- HTTPS with the multi interface: status seen through TLS ----
make_cert
start_server TLS http --tls "$T/cert.pem" "$T/key.pem"
write_config
breaker tls "match=127.0.0.1:$TLS" failure_threshold=2 open_duration=60s
control TLS 503
out=$(cli multi "https://127.0.0.1:$TLS/" 2 --insecure)
is "$(grep -c 'code=0 http=503' <<<"$out")" 2 "https multi: 2 x 503"
is "$(state_of tls)" open "...open the breaker"
out=$(cli easy "https://127.0.0.1:$TLS/" 1 --insecure)
is "$(field "$out" 1 code) $(err_of "$out" 1)" "7 recloser: breaker 'tls' is open" "https easy: rejected"
is "$(counts tls)" "2 2 1" "calls 2, failures 2, rejected 1"

# ---- admitted at curl_multi_add_handle, then the breaker opens before the
# connect: the socket layer refuses it; the transfer counts as rejected, not
# as a failed call, and nothing reaches the server ----
write_config
breaker late "match=127.0.0.1:$HTTP" failure_threshold=5 open_duration=60s
n=$(conns HTTP)
out=$(cli multi "$URL" 1 --after-add "$RECLOSER -c $CFG force-open late >/dev/null")
is "$(field "$out" 1 code)" 7 "multi: admitted, then force-open before the connect: COULDNT_CONNECT" ||
	diag "$out"
is "$(conns HTTP)" "$n" "...no connection reached the server"
is "$(counts late)" "0 0 1" "...counted as 1 rejected, no call, no failure"

# ---- response_timeout for transfers: easy, multi (curl_multi_perform) and
# curl_multi_socket_action, against a server that reads the request and
# never answers.  The program sets no timeout of its own: the shim's timer
# ends the wait (curl: CURLE_RECV_ERROR, OS_ERRNO ETIMEDOUT), the transfer
# is judged a timeout, 2 open the breaker, the next one is rejected ----
start_server HANG hang
for mode in easy multi socket; do
	write_config log_level=debug
	breaker "rt$mode" "match=127.0.0.1:$HANG" response_timeout=500ms failure_threshold=2 \
		open_duration=60s
	t0=$(now_ms)
	out=$(RUN_TIMEOUT=20 cli $mode "http://127.0.0.1:$HANG/" 2)
	st=$?
	el=$(elapsed_ms "$t0")
	is "$(grep -c 'code=56 http=0 .*oserr=110 ' <<<"$out")" 2 \
		"$mode, no answer: 2 transfers end CURLE_RECV_ERROR with OS_ERRNO ETIMEDOUT" ||
		diag "curl_client exit $st ($(signame $st)): $out"
	lim=$([ $mode = easy ] && echo 6000 || echo 4000)
	cmp_ok "$el" "<" "$lim" "...within the 500 ms response_timeout and a margin ($el ms, < $lim)"
	is "$(json_field "rt$mode" timeouts) $(json_field "rt$mode" failures)" "2 2" \
		"...judged 2 timeouts, 2 failures"
	is "$(state_of "rt$mode")" open "...which open the breaker"
	is "$(grep -c "event=call breaker=rt$mode outcome=timeout timeout=response" "$LOG")" 2 \
		"...the log's call lines say outcome=timeout timeout=response" || show_log
	n=$(conns HANG)
	t0=$(now_ms)
	out=$(cli $mode "http://127.0.0.1:$HANG/" 1)
	el=$(elapsed_ms "$t0")
	is "$(field "$out" 1 code)" 7 "$mode: the next transfer is rejected" || diag "$out"
	cmp_ok "$el" "<" 1000 "...at once ($el ms)"
	is "$(conns HANG)" "$n" "...without reaching the server"
done

done_testing
