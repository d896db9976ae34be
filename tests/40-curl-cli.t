#!/bin/bash
# libcurl through /usr/bin/curl: a transfer is one call, judged by its HTTP
# status also over HTTPS (where the socket layer sees only ciphertext); an
# open breaker rejects a transfer at once, without a connection, with
# "recloser: breaker 'NAME' is open"; serial, -Z (the multi interface) and
# --retry.  Host-name patterns match the URL's host without DNS.
source "$(dirname "$0")/lib.sh"
need_build

# a self-signed certificate for localhost and 127.0.0.1
make_cert

start_server TLS http --tls "$T/cert.pem" "$T/key.pem"
start_server HTTP http
write_config
breaker tls "match=localhost:$TLS" failure_threshold=3 open_duration=60s
breaker web "match=127.0.0.1:$HTTP" failure_threshold=3 open_duration=60s

TURL=https://localhost:$TLS/
tcurl() { scurl "$TURL" --cacert "$T/cert.pem" "$@"; }

# ---- HTTPS: 200s keep it closed, one call per transfer ----
for i in 1 2 3 4; do
	is "$(tcurl)" 200 "https $i: 200 (certificate verified)"
done
out=$(under_shim "$CURL" -s --cacert "$T/cert.pem" -o /dev/null -o /dev/null -o /dev/null \
	-w '%{http_code} ' "$TURL" "${TURL}b" "${TURL}c")
is "$out" "200 200 200 " "one curl, three https transfers on one connection"
is "$(counts tls)" "7 0 0" "7 transfers: calls 7, failures 0 (no second count from the sockets)"
is "$(reqs TLS)" 7 "the server answered 7 requests"
is "$(conns TLS)" 5 "...on 5 connections (keep-alive reused one)"
is "$(state_of tls)" closed "HTTPS 200s: closed"

# ---- HTTPS 503s open it ----
control TLS 503
for i in 1 2; do
	is "$(tcurl)" 503 "https 503 #$i"
done
is "$(state_of tls)" closed "2 of 3 failures: closed"
is "$(tcurl)" 503 "https 503 #3"
is "$(state_of tls)" open "3 HTTPS 503s (invisible to the socket layer): open"
is "$(counts tls)" "10 3 0" "calls 10, failures 3"
is "$(log_count 'event=transition .*breaker=tls .*from=closed to=open reason=consecutive_failures')" 1 \
	"log: transition to open" || show_log

# ---- rejected: at once, no connection, the breaker named ----
control TLS 200
n=$(conns TLS)
out=$(tcurl -S -w '%{http_code} %{time_total} [%{remote_ip}]' 2>"$T/err"); st=$?
is "$st" 7 "open: curl exits 7 (CURLE_COULDNT_CONNECT)"
is "${out%% *}" 000 "...no HTTP status"
like "$out" ' \[\]$' "...no remote IP"
like "$(echo "$out" | cut -d' ' -f2)" '^0\.(0|1)[0-9]*$' "...in < 200 ms ($out)"
is "$(cat "$T/err")" "curl: (7) recloser: breaker 'tls' is open" "...and says so: the error buffer"
is "$(conns TLS)" "$n" "no connection reached the server"
is "$(counts tls)" "10 3 1" "counted as rejected, not as a call"

# ---- -Z: the multi interface ----
par() { under_shim "$CURL" -s -S -Z -m 10 "$@" 2>"$T/perr"; }
urls=()
for i in 1 2 3 4; do urls+=(-o /dev/null "http://127.0.0.1:$HTTP/$i"); done
out=$(par -w '%{http_code} ' "${urls[@]}"); st=$?
is "$st $out" "0 200 200 200 200 " "curl -Z: 4 parallel transfers, 200 each"
is "$(counts web)" "4 0 0" "...4 calls, judged at CURLMSG_DONE"
control HTTP 503
out=$(par -w '%{http_code} ' "${urls[@]}")
is "$out" "503 503 503 503 " "curl -Z: 4 parallel 503s"
is "$(counts web)" "8 4 0" "...4 failures, each counted once"
is "$(state_of web)" open "...open"
n=$(reqs HTTP); c=$(conns HTTP)
control HTTP 200
out=$(par -w '%{http_code} ' "${urls[@]}"); st=$?
is "$st $out" "7 000 000 000 000 " "curl -Z on an open breaker: every transfer fails to connect"
is "$(grep -c "recloser: breaker 'web' is open" "$T/perr")" 4 "...each error names the breaker" ||
	diag "$(cat "$T/perr")"
is "$(conns HTTP) $(reqs HTTP)" "$c $n" "...and no connection reached the server"
is "$(counts web)" "8 4 4" "...4 rejected, no call counted"

# ---- --retry: retries until the breaker opens, then stops at once ----
start_server RETRY http
write_config
breaker retry "match=127.0.0.1:$RETRY" failure_threshold=2 open_duration=60s
control RETRY 503
timed ms under_shim "$CURL" -s -S -o "$T/body" -w '%{http_code}' --retry 5 --retry-delay 1 \
	"http://127.0.0.1:$RETRY/" >"$T/out" 2>"$T/err"
st=$?
is "$st $(cat "$T/out")" "7 000" "curl --retry against 503s: exit 7 once the breaker opened"
is "$(reqs RETRY)" 2 "...after 2 requests (failure_threshold 2), not 6"
is "$(counts retry)" "2 2 1" "...2 failed calls, then 1 rejected attempt"
cmp_ok "$ms" '<' 4000 "...without the remaining retries' waits ($ms ms)"
like "$(tail -n 1 "$T/err")" "recloser: breaker 'retry' is open" "...curl says why"

# ---- a URL's host name against an address pattern ----
write_config
breaker byaddr "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s
is "$(scurl "http://localhost:$HTTP/")" 200 "http://localhost against a 127.0.0.1 pattern: 200"
is "$(counts byaddr)" "1 0 0" "...matched through the name's address: 1 call"

# ---- connect_timeout bounds transfers whose own is unset or longer ----
start_server BH blackhole
write_config
breaker bh "match=127.0.0.1:$BH" connect_timeout=1s failure_threshold=5 open_duration=60s
timed ms under_shim "$CURL" -s -o /dev/null -m 20 "http://127.0.0.1:$BH/"; st=$?
is "$st" 28 "blackhole, curl without a connect timeout: times out (exit 28)"
cmp_ok "$ms" '>=' 900 "...after the breaker's 1 s ($ms ms)"
cmp_ok "$ms" '<' 4000 "...not curl's default 300 s"
timed ms under_shim "$CURL" -s -o /dev/null --connect-timeout 5 "http://127.0.0.1:$BH/"; st=$?
is "$st" 28 "curl with a longer --connect-timeout 5: times out"
cmp_ok "$ms" '<' 4000 "...at the breaker's 1 s ($ms ms)"
timed ms under_shim "$CURL" -s -o /dev/null --connect-timeout 0.3 "http://127.0.0.1:$BH/"; st=$?
is "$st" 28 "curl with a shorter --connect-timeout 0.3: times out"
cmp_ok "$ms" '<' 850 "...at its own 300 ms ($ms ms)"
is "$(counts bh)" "3 3 0" "3 timeouts counted as 3 failed calls"

done_testing
