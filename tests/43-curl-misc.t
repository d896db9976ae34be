#!/bin/bash
# libcurl, the rest: the shim links no libcurl and exports only the hooked
# curl names; programs without libcurl are accounted by the socket layer as
# before; an inert shim passes transfers through; observe, off, slow_call
# and libcurl's own internal handles (DNS-over-HTTPS) with transfers.
source "$(dirname "$0")/lib.sh"
need_build

# ---- what the shim links and exports ----
is "$(ldd "$SHIM" | grep -c curl)" 0 "ldd librecloser.so: no libcurl"
exp=$(nm -D --defined-only "$SHIM" | awk '$3 ~ /curl/ {print $3}' | sort | tr '\n' ' ')
like "$exp" '^curl_easy_cleanup curl_easy_duphandle curl_easy_getinfo curl_easy_init curl_easy_perform ' \
	"the curl hooks are exported"
unlike "$exp" '(^| )(curl_url_get|curl_free|real_|ch_)' "...and nothing else of the curl family"

start_server HTTP http
write_config
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s

# ---- a program without libcurl: the socket layer, unchanged ----
out=$(pyc connect 127.0.0.1 "$HTTP" -n 3 --request)
is "$(kv "$out" s200)" 3 "python (no libcurl): 3 requests, 200 ($out)"
is "$(counts svc)" "3 0 0" "...3 calls, counted by the socket layer"
control HTTP 503
out=$(pyc connect 127.0.0.1 "$HTTP" -n 2 --request)
is "$(state_of svc)" open "...2 x 503 seen in the plain-text status line: open"
out=$(pyc connect 127.0.0.1 "$HTTP" -n 1)
is "$(kv "$out" ECONNREFUSED)" 1 "...and its connects are rejected as before"
control HTTP 200

# ---- inert: no config ----
out=$(timeout 20 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/none.ini" "$CURL" -s -o /dev/null \
	-w '%{http_code}' "http://127.0.0.1:$HTTP/")
is "$out" 200 "no config: curl passes through"
out=$(RECLOSER_DISABLE=1 scurl "http://127.0.0.1:$HTTP/")
is "$out" 200 "RECLOSER_DISABLE=1: curl passes through the open breaker"

# ---- observe: counted, opens, never rejects ----
write_config
breaker obs "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s mode=observe
control HTTP 503
for i in 1 2 3; do scurl "http://127.0.0.1:$HTTP/" >/dev/null; done
is "$(state_of obs)" open "mode = observe: 503s open it"
is "$(scurl "http://127.0.0.1:$HTTP/")" 503 "...but the transfer still goes through"
is "$(counts obs)" "4 4 0" "...counted, never rejected"
control HTTP 200

# ---- off: not counted at all ----
write_config
breaker off "match=127.0.0.1:$HTTP" mode=off
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(counts off)" "0 0 0" "mode = off: the transfer is not counted"

# ---- slow_call: the transfer's total time ----
start_server SLOW slow --delay 0.3
write_config
breaker slow "match=127.0.0.1:$SLOW" slow_call=100ms failure_threshold=2 open_duration=60s
for i in 1 2; do is "$(scurl "http://127.0.0.1:$SLOW/")" 200 "slow 200 #$i"; done
is "$(counts slow)" "2 2 0" "transfers slower than slow_call count as failed"
is "$(state_of slow)" open "...and open the breaker"

# ---- failure_rate and half-open trials, by transfers ----
write_config
breaker rate "match=127.0.0.1:$HTTP" failure_threshold=0 failure_rate=50 minimum_calls=4 \
	window=60s open_duration=60s half_open_probes=1 success_threshold=1
for i in 1 2; do scurl "http://127.0.0.1:$HTTP/" >/dev/null; done
control HTTP 503
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(state_of rate)" closed "2 of 3 transfers failed, minimum_calls 4: closed"
scurl "http://127.0.0.1:$HTTP/" >/dev/null
is "$(state_of rate)" open "2 of 4 failed (50%): open by failure_rate"
control HTTP 200
rc half-open rate >/dev/null
is "$(scurl "http://127.0.0.1:$HTTP/")" 200 "half-open: the trial transfer goes through"
is "$(state_of rate)" closed "...and closes it (success_threshold 1)"
is "$(counts rate)" "5 2 0" "5 transfers, 5 calls"

# ---- DNS-over-HTTPS: libcurl's internal handles are tolerated ----
make_cert
start_server DOH http --tls "$T/cert.pem" "$T/key.pem"
write_config
breaker named "match=svc.invalid:$HTTP" failure_threshold=5
breaker doh "match=127.0.0.1:$DOH"
under_shim "$CURL" -s -o /dev/null -m 10 --doh-url "https://127.0.0.1:$DOH/dns-query" --doh-insecure \
	"http://svc.invalid:$HTTP/"
st=$?
is "$st" 6 "curl --doh-url (a DoH server answering nonsense): cannot resolve (exit 6), no crash"
cmp_ok "$(reqs DOH)" '>=' 1 "...its DoH probes reached the DoH server"
is "$(counts doh)" "0 0 0" "...libcurl's internal probe handles are not counted as transfers"
is "$(counts named)" "1 1 0" "...the transfer itself is one failed call"

done_testing
