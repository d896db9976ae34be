#!/bin/bash
# Objects loaded with dlopen(RTLD_DEEPBIND) (PHP loads every extension so)
# resolve their own symbols before the global scope, so their calls, and
# their libraries' calls, would skip the preloaded shim.  While active the
# shim clears RTLD_DEEPBIND (shim/hooks/dl.c): what such an object calls
# reaches the hooks, and a symbol the program defines too now binds to the
# program's, as it would without RTLD_DEEPBIND.  Inert, the flag is kept.
source "$(dirname "$0")/lib.sh"
need_build

CC_=${CC:-cc}
"$CC_" -O2 -Wall -Werror -shared -fPIC -o "$T/libdeep.so" "$ROOT/tests/clients/deep_lib.c" &&
	"$CC_" -O2 -Wall -Werror -rdynamic -o "$T/deep_main" "$ROOT/tests/clients/deep_main.c" \
		2>"$T/cc.err" || bail_out "cannot build the deepbind programs: $(cat "$T/cc.err")"
CP=$(closed_port)
write_config
breaker deep "match=127.0.0.1:$CP" failure_threshold=2 open_duration=60s reject_errno=EHOSTUNREACH

# ---- a C library loaded with RTLD_DEEPBIND, connecting itself ----
out=$(under_shim "$T/deep_main" "$T/libdeep.so" deepbind "$CP" 4 | tr '\n' ' ')
is "$out" "bound=main 0 ECONNREFUSED 1 ECONNREFUSED 2 EHOSTUNREACH 3 EHOSTUNREACH " \
	"a library dlopened with RTLD_DEEPBIND: its connects reach the shim (2 refused, open, 2 rejected); it binds as without the flag"
is "$(counts deep)" "2 2 2" "...counted: 2 calls, 2 failures, 2 rejected"
rm -f "$STATE"
out=$(under_shim "$T/deep_main" "$T/libdeep.so" plain "$CP" 3 | tr '\n' ' ')
is "$out" "bound=main 0 ECONNREFUSED 1 ECONNREFUSED 2 EHOSTUNREACH " "the same library loaded plainly: the same"
out=$("$T/deep_main" "$T/libdeep.so" deepbind "$CP" 1 | tr '\n' ' ')
is "$out" "bound=lib 0 ECONNREFUSED " "without the shim, RTLD_DEEPBIND binds the library to itself"
out=$(env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/none.ini" "$T/deep_main" "$T/libdeep.so" deepbind "$CP" 1 |
	tr '\n' ' ')
is "$out" "bound=lib 0 ECONNREFUSED " "the shim inert (no config): the flag is kept"

# ---- PHP: curl_exec (the curl extension is loaded RTLD_DEEPBIND) ----
if command -v php >/dev/null && php -m 2>/dev/null | grep -qx curl; then
	start_server H http
	start_server HANG hang
	php_curl() { # php_curl URL N: N curl_exec calls on one handle; "CODE ERRNO MS" each
		under_shim php -r '
$h = curl_init($argv[1]);
curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
for ($i = 0; $i < (int)$argv[2]; $i++) {
	$t = microtime(true);
	curl_exec($h);
	printf("%d %d %d\n", curl_getinfo($h, CURLINFO_RESPONSE_CODE), curl_errno($h), (microtime(true) - $t) * 1000);
}' "$@" 2>&1
	}
	write_config log_level=debug
	breaker php "match=127.0.0.1:$H" failure_threshold=2 open_duration=60s
	control H 503
	out=$(php_curl "http://127.0.0.1:$H/" 3)
	is "$(awk '{print $1, $2}' <<<"$out" | tr '\n' ' ')" "503 0 503 0 0 7 " \
		"PHP curl_exec: 503, 503 (open), then rejected (CURLE_COULDNT_CONNECT)" || diag "$out"
	is "$(counts php)" "2 2 1" "...counted once per transfer: 2 calls, 2 failures, 1 rejected"
	write_config
	breaker phpc "match=127.0.0.1:$CP" failure_threshold=2 open_duration=60s
	out=$(php_curl "http://127.0.0.1:$CP/" 3)
	is "$(awk '{print $2}' <<<"$out" | tr '\n' ' ')" "7 7 7 " "PHP curl_exec to a closed port: 3 x CURLE_COULDNT_CONNECT"
	is "$(counts phpc)" "2 2 1" "...2 failures open the breaker, the 3rd is rejected"
	write_config
	breaker phph "match=127.0.0.1:$HANG" response_timeout=1s failure_threshold=2 open_duration=60s
	t0=$(now_ms)
	out=$(RUN_TIMEOUT=20 php_curl "http://127.0.0.1:$HANG/" 1)
	el=$(elapsed_ms "$t0")
	is "$(awk '{print $2}' <<<"$out")" 56 "PHP curl_exec to a server that never answers: cut by response_timeout" ||
		diag "$out"
	cmp_ok "$el" '<' 6000 "...in $el ms (no timeout of its own)"
	is "$(json_field phph timeouts)" 1 "...judged a timeout"
	write_config
	breaker phpf "match=127.0.0.1:$H" failure_threshold=2 open_duration=60s
	out=$(under_shim php -r '
$c = stream_context_create(["http" => ["ignore_errors" => true]]);
for ($i = 0; $i < 3; $i++) { $r = @file_get_contents("http://127.0.0.1:" . $argv[1] . "/", false, $c); echo $r === false ? "fail" : "ok", " "; }' \
		"$H" 2>&1)
	is "$out" "ok ok fail " "PHP file_get_contents: 503, 503, then rejected"
	is "$(counts phpf)" "2 2 1" "...2 calls, 2 failures, 1 rejected"
	control H 200
else
	skip "php with its curl extension (php-curl) not installed (scripts/deps.sh)" 9
fi

# ---- PHP's pgsql extension, against a PostgreSQL server of our own ----
if command -v php >/dev/null && php -m 2>/dev/null | grep -qx pgsql && start_postgres; then
	write_config
	breaker pg "match=127.0.0.1:$PG_PORT" failure_threshold=2 open_duration=60s
	out=$(under_shim php -r '
$c = pg_connect("host=127.0.0.1 port=" . $argv[1] . " user=postgres dbname=postgres sslmode=disable");
echo pg_fetch_result(pg_query($c, "select 40 + 2"), 0, 0);' "$PG_PORT" 2>&1)
	is "$out" 42 "PHP pg_connect/pg_query (pgsql extension, RTLD_DEEPBIND): answered"
	is "$(counts pg)" "2 0 0" "...seen by the shim: 2 calls (connect with the startup, the query)"
	rc force-open pg >/dev/null
	timed ms under_shim php -r '$c = @pg_connect("host=127.0.0.1 port=" . $argv[1] . " user=postgres dbname=postgres sslmode=disable"); echo $c ? "connected" : "refused";' \
		"$PG_PORT" >"$T/pg.out" 2>&1
	is "$(cat "$T/pg.out")" refused "...with the breaker open, pg_connect is refused"
	cmp_ok "$ms" '<' 2000 "...at once ($ms ms)"
	is "$(json_field pg rejected)" 1 "...counted as rejected"
else
	skip "php-pgsql, or a PostgreSQL server (postgresql, as root), not available" 5
fi

done_testing
