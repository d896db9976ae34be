#!/bin/bash
# HTTPS judged inside OpenSSL and GnuTLS (engine/tls.h), for programs that
# do not use libcurl, and for curl (still one call per transfer).  Against
# local TLS servers (scripts/faultserver.py --tls, a certificate made here)
# that answer 200, 503, a status line byte by byte, an interim 100 first,
# hang after the request, or fail the handshake (a certificate the client
# rejects, a plain-HTTP server, a reset at accept), keeping connections
# alive.  Each: exact counts (one call per request: the handshake is part
# of the connect's call, TLS 1.3 session tickets are no answer), 503s open
# the breaker, rejections are immediate and reach no server, response
# timeouts hold over TLS, bytes are identical with and without the shim.
source "$(dirname "$0")/lib.sh"
need_build

PYTLS="$PY $ROOT/tests/clients/tls_py.py"
pyt() { under_shim $PYTLS "$@"; }
# tc NAME: "calls failures timeouts rejected"
tc() {
	echo "$(json_field "$1" calls) $(json_field "$1" failures) $(json_field "$1" timeouts)" \
		"$(json_field "$1" rejected)"
}
# answers OUT STATUS: how many lines of OUT are answers with STATUS
answers() { grep -c "^[0-9]* $2 " <<<"$1"; }
# fresh NAME PORT [KEY=VALUE...]: a config with one breaker on PORT
fresh() {
	local name=$1 port=$2
	shift 2
	write_config log_level=debug
	breaker "$name" "match=127.0.0.1:$port" failure_threshold=3 open_duration=60s "$@"
}

make_cert
TLSARGS=(--tls "$T/cert.pem" "$T/key.pem")
start_server H http "${TLSARGS[@]}"
start_server BW bytewise "${TLSARGS[@]}" --status 503
start_server IM http "${TLSARGS[@]}" --interim 100 --control "$T/IM.ctl"
start_server PLAIN greet
start_server HS hang
start_server RST reset
URL=https://127.0.0.1:$H/

# ---- Python requests: a Session (keep-alive), then threads ----
fresh rq "$H"
control H 200
out=$(pyt requests "$URL" 5 --ca "$T/cert.pem")
is "$(answers "$out" 200)" 5 "requests Session, certificate verified: 5 x 200" || diag "$out"
is "$(tc rq)" "5 0 0 0" "...5 calls (the handshake is the first one's, no call of its own)"
is "$(conns H)" 1 "...on one kept-alive connection"
control H 503
out=$(pyt requests "$URL" 5 --ca "$T/cert.pem")
is "$(answers "$out" 503)" 3 "503 x 3 through TLS..." || diag "$out"
is "$(state_of rq)" open "...open the breaker (failure_threshold 3)"
is "$(grep -c ' ERR ' <<<"$out")" 2 "...the next 2 requests fail at once (rejected)"
is "$(tc rq)" "8 3 0 2" "calls 8, failures 3, rejected 2"
n=$(reqs H)
timed ms pyt requests "$URL" 1 --ca "$T/cert.pem" >/dev/null
cmp_ok "$ms" '<' 1500 "a new process while open: rejected at once ($ms ms)"
is "$(reqs H)" "$n" "...no request reached the server"

fresh rqt "$H"
control H 200
out=$(pyt requests "$URL" 5 --threads 4 --ca "$T/cert.pem")
is "$(answers "$out" 200)" 20 "requests, 4 threads x 5 (a Session each): 20 x 200" || diag "$out"
is "$(tc rqt)" "20 0 0 0" "...exactly 20 calls"

# ---- urllib, http.client over TLS 1.2 and 1.3 ----
fresh ul "$H"
control H 503
out=$(pyt urllib "$URL" 2)
is "$(answers "$out" 503) $(tc ul)" "2 2 2 0 0" "urllib: 2 x 503, 2 calls, 2 failures"
for v in 1.2 1.3; do
	fresh "hc$v" "$H" response_timeout=1s
	control H 200
	out=$(pyt httpclient "$URL" 3 --tls $v)
	is "$(answers "$out" 200) $(tc "hc$v")" "3 3 0 0 0" "http.client TLS $v: 3 x 200 kept alive, 3 calls"
	control H 503
	out=$(pyt httpclient "$URL" 2 --tls $v)
	is "$(answers "$out" 503) $(tc "hc$v")" "2 5 2 0 0" "http.client TLS $v: 2 x 503, 2 failures"
	control H hang
	t0=$(now_ms)
	out=$(pyt httpclient "$URL" 1 --tls $v)
	el=$(elapsed_ms "$t0")
	like "$out" '^0 ERR ' "http.client TLS $v, no answer: the wait ends in an error" || diag "$out"
	cmp_ok "$el" '<' 5000 "...within response_timeout (1 s) and a margin ($el ms)"
	is "$(tc "hc$v")" "6 3 1 0" "...judged a timeout (TLS $v: the session ticket is no answer)"
	is "$(log_count "breaker=hc$v outcome=timeout timeout=response")" 1 "...logged timeout=response"
done
control H 200

# ---- the status line byte by byte; an interim 100 first ----
fresh bw "$BW"
out=$(pyt httpclient "https://127.0.0.1:$BW/" 2)
is "$(answers "$out" 503) $(tc bw)" "2 2 2 0 0" "503 sent one byte at a time: 2 failures"
fresh im "$IM"
echo 503 >"$T/IM.ctl"
out=$(pyt httpclient "https://127.0.0.1:$IM/" 2)
is "$(answers "$out" 503) $(tc im)" "2 2 2 0 0" "100 Continue, then 503: the interim head is skipped, 2 failures"
echo 200 >"$T/IM.ctl"
out=$(pyt httpclient "https://127.0.0.1:$IM/" 2)
is "$(answers "$out" 200) $(tc im)" "2 4 2 0 0" "100 Continue, then 200: 2 successes"

# ---- a handshake that fails is a failed call ----
fresh badcert "$H"
out=$(pyt httpclient "$URL" 1 --ca default)
like "$out" 'ERR SSLCertVerificationError' "a certificate the client rejects: the handshake fails" || diag "$out"
is "$(tc badcert)" "1 1 0 0" "...one call, one failure"
fresh plain "$PLAIN"
out=$(pyt httpclient "https://127.0.0.1:$PLAIN/" 1)
like "$out" '^0 ERR ' "TLS to a server that speaks plain text: the handshake fails" || diag "$out"
is "$(tc plain)" "1 1 0 0" "...one call, one failure"
fresh hs "$HS" response_timeout=1s
t0=$(now_ms)
out=$(pyt httpclient "https://127.0.0.1:$HS/" 1)
el=$(elapsed_ms "$t0")
like "$out" '^0 ERR ' "a server that never answers the ClientHello: the handshake fails" || diag "$out"
cmp_ok "$el" '<' 5000 "...bounded by response_timeout ($el ms)"
is "$(tc hs)" "1 1 1 0" "...one call, a timeout"
fresh rst "$RST"
out=$(pyt httpclient "https://127.0.0.1:$RST/" 1)
like "$out" '^0 ERR ' "a reset at accept: the handshake fails" || diag "$out"
is "$(tc rst)" "1 1 0 0" "...one call, one failure"

# ---- curl (libcurl): still one call per transfer ----
fresh cu "$H" response_timeout=1s
control H 200
for i in 1 2 3; do scurl "$URL" --cacert "$T/cert.pem" >/dev/null; done
is "$(tc cu)" "3 0 0 0" "curl: 3 transfers, 3 calls (not counted again inside TLS)"
control H 503
scurl "$URL" --cacert "$T/cert.pem" >/dev/null
is "$(tc cu)" "4 1 0 0" "curl: a 503, one failure"
control H hang
t0=$(now_ms)
scurl "$URL" --cacert "$T/cert.pem" >/dev/null
st=$?
el=$(elapsed_ms "$t0")
is "$st" 56 "curl, no answer over TLS: cut by response_timeout (exit 56)"
cmp_ok "$el" '<' 5000 "...in $el ms"
is "$(tc cu)" "5 2 1 0" "...judged a timeout"
control H 200

# ---- wget (GnuTLS) ----
fresh wg "$H" response_timeout=1s
under_shim wget -q -t 1 --ca-certificate="$T/cert.pem" -O /dev/null "$URL"
is "$? $(tc wg)" "0 1 0 0 0" "wget (GnuTLS): 200, one call"
control H 503
under_shim wget -q -t 1 --ca-certificate="$T/cert.pem" -O /dev/null "$URL"
is "$? $(tc wg)" "8 2 1 0 0" "wget: 503 (exit 8), one failure"
control H hang
t0=$(now_ms)
under_shim wget -q -t 1 --ca-certificate="$T/cert.pem" -O /dev/null "$URL"
st=$?
el=$(elapsed_ms "$t0")
isnt "$st" 0 "wget, no answer over GnuTLS: it fails (exit $st)"
cmp_ok "$el" '<' 5000 "...within response_timeout and a margin ($el ms; its own read timeout is 900 s)"
is "$(tc wg)" "3 2 1 0" "...judged a timeout"
control H 200

# ---- Ruby net/http, PHP file_get_contents ----
if command -v ruby >/dev/null; then
	fresh rb "$H"
	control H 503
	out=$(under_shim ruby -rnet/http -ropenssl -e '
h = Net::HTTP.new("127.0.0.1", ARGV[0].to_i)
h.use_ssl = true
h.ca_file = ARGV[1]
h.start { 2.times { puts h.get("/").code } }' "$H" "$T/cert.pem" 2>&1)
	is "$(tr '\n' ' ' <<<"$out")$(tc rb)" "503 503 2 2 0 0" "Ruby net/http over TLS, kept alive: 2 x 503, 2 failures"
else
	skip "ruby not installed (scripts/deps.sh)" 1
fi
if command -v php >/dev/null; then
	fresh ph "$H"
	control H 503
	out=$(under_shim php -r '
$c = stream_context_create(["ssl" => ["cafile" => $argv[2]], "http" => ["ignore_errors" => true]]);
for ($i = 0; $i < 2; $i++) { file_get_contents("https://127.0.0.1:" . $argv[1] . "/", false, $c); echo explode(" ", $http_response_header[0])[1], "\n"; }' \
		"$H" "$T/cert.pem" 2>&1)
	is "$(tr '\n' ' ' <<<"$out")$(tc ph)" "503 503 2 2 0 0" "PHP file_get_contents(https://): 2 x 503, 2 failures"
else
	skip "php not installed (scripts/deps.sh)" 1
fi
control H 200

# ---- a C program on OpenSSL, non-blocking: WANT_READ/WANT_WRITE are no outcome ----
if "${CC:-cc}" -O2 -Wall -Werror -o "$T/tls_nb" "$ROOT/tests/clients/tls_nb.c" -lssl -lcrypto \
	2>"$T/cc.err"; then
	fresh nb "$H" response_timeout=1s
	out=$(under_shim "$T/tls_nb" "$H" 3)
	is "$(answers "$out" 200) $(tc nb)" "3 3 0 0 0" "non-blocking OpenSSL client: 3 x 200, 3 calls" || diag "$out"
	wants=$(awk 'END { print $4 }' <<<"$out")
	cmp_ok "${wants:-0}" '>' 0 "...through $wants WANT_READ/WANT_WRITE returns, none judged"
	# its connect never asked about (no SO_ERROR), the handshake made in
	# one call that reads the server's answer too: still one call per
	# request, the handshake the connect's
	fresh nbh "$H"
	out=$(TLS_NB_BLOCKING_HANDSHAKE=1 under_shim "$T/tls_nb" "$H" 2)
	is "$(answers "$out" 200) $(tc nbh)" "2 2 0 0 0" \
		"...its handshake in one blocking call: 2 x 200, 2 calls (the handshake is the connect's)" ||
		diag "$out"
	fresh nb "$H" response_timeout=1s
	control H hang
	t0=$(now_ms)
	out=$(under_shim "$T/tls_nb" "$H" 1)
	el=$(elapsed_ms "$t0")
	like "$out" '^0 ERR read ' "...no answer: its poll wakes, SSL_read fails" || diag "$out"
	cmp_ok "$el" '<' 5000 "...within response_timeout and a margin ($el ms)"
	is "$(tc nb)" "4 1 1 0" "...judged a timeout"
	control H 200
else
	skip "cannot build tests/clients/tls_nb.c (libssl-dev): $(head -c 200 "$T/cc.err")" 6
fi

# ---- a C program on GnuTLS, blocking: the whole handshake (several round
# trips) in one gnutls_handshake call, its session given only the fd: the
# shim learns the socket at the first socket call inside it, so none of
# the round trips is a call of the socket layer ----
if "${CC:-cc}" -O2 -Wall -Werror -o "$T/tls_gnutls" "$ROOT/tests/clients/tls_gnutls.c" -lgnutls \
	2>"$T/cc.err"; then
	fresh gb "$H"
	out=$(under_shim "$T/tls_gnutls" "$H" "$T/cert.pem" 2)
	is "$(answers "$out" 200) $(tc gb)" "2 2 0 0 0" \
		"blocking GnuTLS client: 2 x 200, 2 calls (the handshake's round trips are none)" ||
		diag "$out"
	fresh gb5 "$H"
	control H 503
	out=$(under_shim "$T/tls_gnutls" "$H" "$T/cert.pem" 2)
	is "$(answers "$out" 503) $(tc gb5)" "2 2 2 0 0" "...2 x 503: 2 calls, 2 failures" || diag "$out"
	control H 200
else
	skip "cannot build tests/clients/tls_gnutls.c (libgnutls28-dev): $(head -c 200 "$T/cc.err")" 2
fi

# ---- psql (libpq) with sslmode=require, against a PostgreSQL server of
# its own (initdb in $T, ssl = on, the certificate made here) ----
if [ -f "$T/cert.pem" ] && start_postgres; then
	PGPORT_=$PG_PORT
	pq() { # pq SSLMODE [CONNINFO...] SQL
		local mode=$1 sql=${!#}
		under_shim env -u PGSERVICE -u PGPASSWORD -u PGCONNECT_TIMEOUT psql -X -w -At \
			"host=127.0.0.1 port=$PGPORT_ user=postgres dbname=postgres sslmode=$mode ${*:2:$#-2}" \
			-c "$sql" 2>&1
	}
	fresh pgp "$PGPORT_"
	is "$(pq disable 'select 1')" 1 "psql sslmode=disable: answered"
	is "$(tc pgp)" "2 0 0 0" "...2 calls: connect with the startup, the query"
	fresh pgs "$PGPORT_"
	is "$(pq require 'select ssl from pg_stat_ssl where pid = pg_backend_pid()')" t \
		"psql sslmode=require: answered over TLS"
	is "$(tc pgs)" "3 0 0 0" \
		"...3 calls: connect with the SSLRequest, the handshake with the startup, the query"
	fresh pgv2 "$PGPORT_"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/okey.pem" -out "$T/other-ca.pem" -days 2 -subj /CN=other >/dev/null 2>&1
	out=$(pq verify-full "sslrootcert=$T/other-ca.pem" 'select 1')
	like "$out" 'certificate verify failed' "psql verify-full, the server's certificate not signed by that root: the handshake fails" ||
		diag "$out"
	is "$(tc pgv2)" "2 1 0 0" "...the SSLRequest's call, then the failed handshake: one failure"
	rc force-open pgv2 >/dev/null
	timed ms pq require 'select 1' >/dev/null
	cmp_ok "$ms" '<' 1500 "psql with the breaker open: refused at once ($ms ms)"
	is "$(json_field pgv2 rejected)" 1 "...counted as rejected"
else
	skip "psql over TLS needs root, PostgreSQL's server (postgresql) and psql" 8
fi

# ---- bytes: 16 MiB each way, identical with and without the shim ----
start_server BIG big "${TLSARGS[@]}" --body-size 16777216
start_server SINK sink "${TLSARGS[@]}"
fresh big "$BIG"
breaker sink "match=127.0.0.1:$SINK"
"$PY" -c '
import sys
with open(sys.argv[1], "wb") as f:
    f.write(bytes((i * 13 + 5) % 251 for i in range(16 << 20)))' "$T/up.bin"
$PYTLS get "https://127.0.0.1:$BIG/" --out "$T/down.plain" >/dev/null
pyt get "https://127.0.0.1:$BIG/" --out "$T/down.shim" >/dev/null
is "$(stat -c %s "$T/down.shim")" 16777216 "16 MiB body down through TLS under the shim"
is "$(sha256sum <"$T/down.shim" | cut -c1-64)" "$(sha256sum <"$T/down.plain" | cut -c1-64)" \
	"...byte for byte the same as without the shim"
want=$(sha256sum <"$T/up.bin" | cut -c1-64)
is "$($PYTLS put "https://127.0.0.1:$SINK/" --in "$T/up.bin")" "200 $want 16777216" \
	"16 MiB up without the shim: the server's hash"
is "$(pyt put "https://127.0.0.1:$SINK/" --in "$T/up.bin")" "200 $want 16777216" \
	"...and the same under the shim"
is "$(tc big) $(tc sink)" "1 0 0 0 1 0 0 0" "...one call each"

# ---- Node: linked to the system libssl, but through memory BIOs: its TLS
# calls never touch the socket, so the shim sees only the ciphertext (the
# README's "Works with" table says so; this keeps it true) ----
if command -v node >/dev/null; then
	write_config
	breaker nd "match=127.0.0.1:$H" failure_threshold=30
	control H 503
	out=$(under_shim env NODE_TLS_REJECT_UNAUTHORIZED=0 node -e '
const https = require("https"), agent = new https.Agent({ keepAlive: true });
let n = 0;
(function go() {
	https.get({ host: "127.0.0.1", port: process.argv[1], path: "/", agent }, (r) => {
		r.resume();
		r.on("end", () => { console.log(r.statusCode); if (++n < 3) go(); else agent.destroy(); });
	});
})();' "$H" 2>/dev/null)
	is "$(tr '\n' ' ' <<<"$out")" "503 503 503 " "node https: 3 x 503 on a kept connection"
	is "$(json_field nd failures)" 0 "...not judged as failures: Node's TLS runs in memory BIOs, the shim sees ciphertext only"
	control H 200
else
	skip "node not installed" 2
fi

# ---- libssl loaded after start (dlopen), or never ----
fresh late "$H"
out=$(pyt late "$URL" 2 --ca "$T/cert.pem")
is "$(answers "$out" 200) $(tc late)" "2 2 0 0 0" \
	"python3 importing ssl only after its start (dlopen of _ssl, libssl): judged, 2 calls"
out=$(under_shim "$PY" -c 'import socket, sys; print("ssl" in sys.modules)' 2>&1)
is "$out" False "a process that never loads libssl runs as before"

done_testing
