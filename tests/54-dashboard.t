#!/bin/bash
# recloser dashboard, in a real browser: headless Chromium (driven through
# its DevTools protocol by tests/cdp.js) against breakers fed by real
# traffic (curl and a Python client under the shim).  The table shows the
# right states; a flip from the page (click, confirm) is seen by a running
# client at its next call and logged with via=dashboard; an add with a bad
# pattern shows FILE:LINE: and changes nothing; HTML from the log and from
# an error message is shown as text; POSTs without the token, from another
# origin or to a read-only dashboard are refused; /metrics passes promtool
# and /api/breakers is status --json.  Screenshots of the table and of a
# breaker's view go to build/screenshots/.  Many pollers: the dashboard's
# CPU, as a diagnostic.
source "$(dirname "$0")/lib.sh"
need_build

CHROMIUM=
for c in /usr/lib/chromium/chromium "$(command -v chromium 2>/dev/null)" \
	 "$(command -v chromium-browser 2>/dev/null)"; do
	[ -n "$c" ] && [ -x "$c" ] && { CHROMIUM=$c; break; }
done
NODE=$(command -v node)
[ -n "$CHROMIUM" ] || skip_all "no chromium (scripts/deps.sh installs Debian's chromium)"
[ -n "$NODE" ] || skip_all "no node (scripts/deps.sh installs Debian's nodejs)"
PROMTOOL=$(command -v promtool)
SHOTS=$ROOT/build/screenshots

start_server HTTP http
start_server BAD http --status 503
write_config connect_timeout=2s
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=3 open_duration=60s
breaker flaky "match=127.0.0.1:$BAD" failure_threshold=2 open_duration=60s
breaker idle "match=127.0.0.1:1"

# ---- real traffic: svc closed with 3 calls, flaky opened by 503s ----
for i in 1 2 3; do scurl "http://127.0.0.1:$HTTP/" >/dev/null; done
for i in 1 2 3; do scurl "http://127.0.0.1:$BAD/" >/dev/null; done
is "$(state_of svc) $(state_of flaky)" "closed open" "traffic: svc closed, flaky opened by its 503s"

# HTML from a file the dashboard reads: a log line (names allow only
# [A-Za-z0-9_.-], so no markup can come in through a breaker's name)
printf '[x<b>y]\nmatch = 127.0.0.1:3\n' >"$T/html.ini"
"$RECLOSER" check "$T/html.ini" >/dev/null 2>&1
isnt "$?" 0 "a breaker name with < and > is refused by the config"
echo 'ts=2026-12-01T00:00:00.000000Z pid=1 prog=x level=info event=transition breaker=svc from=closed to=closed reason="<img src=x id=pwned onerror=document.title=1>"' >>"$LOG"

# start_dash VAR ARGS: a dashboard on a free port; VAR_URL is the URL it
# printed, VAR_PID its pid, VAR_BASE http://127.0.0.1:PORT.
start_dash() {
	local var=$1 i url
	shift
	"$RECLOSER" -c "$CFG" dashboard --listen 127.0.0.1:0 "$@" >"$T/$var.out" 2>"$T/$var.err" &
	printf -v "${var}_PID" %s "$!"
	_srv_pids+=("$!")
	for ((i = 0; i < 100; i++)); do
		url=$(grep -o 'http://[^ ]*' "$T/$var.out" 2>/dev/null | head -n 1)
		[ -n "$url" ] && break
		sleep 0.05
	done
	[ -n "$url" ] || bail_out "recloser dashboard did not start: $(cat "$T/$var.err")"
	printf -v "${var}_URL" %s "$url"
	url=${url#http://}
	printf -v "${var}_BASE" %s "http://${url%%/*}"
}
start_dash D
TOKEN=${D_URL##*token=}
TOKFILE=$STATE.dashboard-${D_BASE##*:}.token
like "$D_URL" '^http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]{64}$' "dashboard prints its URL with a token, on 127.0.0.1"
is "$(stat -c %a "$TOKFILE" 2>/dev/null) $(cat "$TOKFILE" 2>/dev/null)" "600 $TOKEN" \
	"the token is kept mode 0600 beside the state file"

# ---- the endpoints for machines ----
is "$(curl -s -m 5 "$D_BASE/healthz")" ok "/healthz: ok"
same=$("$PY" -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
key = lambda l: [(x["name"], x["state"], x["calls"], x["failures"], x["rejected"], sorted(x)) for x in l]
print("same" if key(a) == key(b) else "differ")' "$(curl -s -m 5 "$D_BASE/api/breakers")" \
	"$(rc status --json)" 2>&1)
is "$same" same "/api/breakers is status --json (fields, names, states, counts)"
curl -s -m 5 "$D_BASE/metrics" >"$T/m.prom"
rc metrics >"$T/cli.prom"
series() { grep -v '^#' "$1" | sed -E 's/ [^ ]+$//' | sort; }
is "$(series "$T/m.prom" | md5sum)" "$(series "$T/cli.prom" | md5sum)" \
	"/metrics has exactly the series of recloser metrics"
is "$(grep -c '^# ' "$T/m.prom")" "$(grep -c '^# ' "$T/cli.prom")" "...and the same HELP and TYPE lines"
if [ -n "$PROMTOOL" ]; then
	out=$("$PROMTOOL" check metrics <"$T/m.prom" 2>&1); st=$?
	is "$st" 0 "/metrics: promtool check metrics is clean" || diag "$out"
else
	skip "promtool not installed (scripts/deps.sh installs Debian's prometheus)"
fi

# ---- the browser ----
coproc CDP { exec "$NODE" "$ROOT/tests/cdp.js" "$CHROMIUM" "$T/chrome" 2>"$T/cdp.err"; }
CDP_PID_=$CDP_PID
_cleanup_hooks+=("kill -KILL $CDP_PID_")
# b COMMAND: one command to the browser; its value on stdout, 1 if it failed
b() {
	local line
	printf '%s\n' "$1" >&"${CDP[1]}" || { echo "browser gone"; return 1; }
	IFS= read -r -t 60 line <&"${CDP[0]}" || { echo "no answer to: $1"; return 1; }
	"$PY" -c '
import json, sys
r = json.loads(sys.argv[1])
v = r.get("value") if r.get("ok") else r.get("error")
print(v if isinstance(v, str) else json.dumps(v))
sys.exit(0 if r.get("ok") else 1)' "$line"
}
# cdp.js tries a start that does not answer in 45 s twice more
IFS= read -r -t 200 ready <&"${CDP[0]}"
like "$ready" '"ready"' "headless Chromium started" || bail_out "chromium: $ready $(cat "$T/cdp.err")"
diag "$(grep '^cdp.js:' "$T/cdp.err")"

# background traffic while the browser looks (bounded: 60 s at most)
(
	for ((i = 0; i < 240; i++)); do
		[ -e "$T/stop-traffic" ] && break
		scurl "http://127.0.0.1:$HTTP/" >/dev/null
		scurl "http://127.0.0.1:$BAD/" >/dev/null
		sleep 0.25
	done
) &
TRAFFIC=$!
_cleanup_hooks+=("touch $T/stop-traffic")
sleep 3

ROWS='[...document.querySelectorAll("#breakers tbody tr")].map(t => t.dataset.name + "=" + t.querySelector(".state").textContent).join(" ")'
b "goto $D_URL" >/dev/null
out=$(b "wait 10000 document.querySelectorAll('#breakers tbody tr').length === 3 && $ROWS")
is "$out" "svc=closed flaky=open idle=closed" "the table: every breaker with its state"
is "$(b 'eval getComputedStyle(document.querySelector("tr[data-name=flaky] .state")).backgroundColor')" \
	"rgb(212, 61, 61)" "...open in red"
is "$(b 'eval location.search')" "" "the token is taken off the address bar"

# A running client sees a flip made on the page at its next call.
under_shim "$PY" "$ROOT/tests/clients/next_call.py" "$HTTP" "$T/go" 10 >"$T/running.out" &
RUNNING=$!
wait_until 5000 test -e "$T/go.ready"
FO='button[data-name=svc][data-to=force-open]'
b "click $FO" >/dev/null
b 'wait 3000 document.getElementById("confirm").open' >/dev/null
b 'click #confirm-cancel' >/dev/null
sleep 0.5
is "$(state_of svc)" closed "a flip cancelled in the confirmation changes nothing"
b "click $FO" >/dev/null
out=$(b 'wait 3000 document.getElementById("confirm").open && document.getElementById("confirm-text").textContent')
like "$out" "force-open breaker 'svc'" "clicking force-open asks for confirmation"
b 'click #confirm-ok' >/dev/null
out=$(b 'wait 5000 document.querySelector("tr[data-name=svc] .state").textContent === "forced_open"')
is "$out" true "confirmed: the page shows svc forced_open"
is "$(state_of svc)" forced_open "...and so does status"
touch "$T/go"
wait "$RUNNING"   # not wait_clients: the browser is a job too
is "$(cat "$T/running.out")" "ok ConnectionRefusedError" "a running client is rejected at its next call after the page's flip"
like "$(grep 'event=transition' "$LOG" | grep 'breaker=svc' | tail -n 1)" \
	'from=closed to=forced_open reason=cli via=dashboard' "the flip is logged like the CLI's, with via=dashboard" || show_log
out=$(b 'wait 5000 document.querySelector("tr[data-name=svc]").classList.contains("recent")')
is "$out" true "a breaker that changed state in the last minute is highlighted"

# add: a bad pattern (with markup in it) shows FILE:LINE: and changes nothing
cp "$CFG" "$T/cfg.before"
b 'type #add-name bad1' >/dev/null
b 'type #add-match <img src=x id=inj2>' >/dev/null
b 'click #add-button' >/dev/null
out=$(b 'wait 5000 !document.getElementById("add-result").hidden && document.getElementById("add-result").textContent')
like "$out" "$CFG:[0-9]+: bad pattern '<img src=x id=inj2>'" "add with a bad pattern: the page shows FILE:LINE: message"
cmp -s "$CFG" "$T/cfg.before"
ok $? "...and the config is unchanged, byte for byte"
is "$(b 'eval document.getElementById("inj2") === null && document.querySelectorAll("#add-result *").length')" 0 \
	"...the markup in the message is text, not an element"
b 'type #add-name added1' >/dev/null
b 'type #add-match 127.0.0.1:9' >/dev/null
b 'type #add-settings failure_threshold=7\nwindow=5s' >/dev/null
b 'click #add-button' >/dev/null
out=$(b 'wait 5000 document.getElementById("add-result").className === "ok" && document.getElementById("add-result").textContent')
like "$out" "added breaker \[added1\]" "add with good values: added"
like "$(rc check 2>&1)" 'added1' "...recloser check lists it"
out=$(b 'wait 5000 document.querySelector("tr[data-name=added1] .state") && document.querySelector("tr[data-name=added1] .state").textContent')
is "$out" closed "...and the table shows it at once"
mkdir -p "$SHOTS"
b "shot $SHOTS/dashboard.png" >/dev/null
ok $? "screenshot of the table: $SHOTS/dashboard.png"

# a breaker's view: charts, settings with defaults marked, log lines as text
b "goto $D_BASE/breaker/svc" >/dev/null
out=$(b 'wait 10000 document.querySelectorAll("#d-settings tbody tr").length > 10 && document.getElementById("d-state").textContent')
is "$out" forced_open "the breaker view shows svc's state"
is "$(b 'eval [...document.querySelectorAll("canvas")].filter(c => Chart.getChart(c)).length')" 3 \
	"...three Chart.js charts (calls by outcome, latency, state)"
is "$(b 'eval [...document.querySelectorAll("#d-settings tr")].filter(r => /^failure_threshold/.test(r.cells[0].textContent)).map(r => r.cells[1].textContent + "|" + r.cells[1].className)[0]')" \
	"3|from-section" "...failure_threshold 3 from the section"
is "$(b 'eval [...document.querySelectorAll("#d-settings tr")].filter(r => r.cells[0].textContent === "open_duration_max").map(r => r.cells[1].className)[0]')" \
	"from-default" "...open_duration_max marked as a default"
out=$(b 'wait 5000 [...document.querySelectorAll("#d-log li")].map(l => l.textContent).join("\n")')
like "$out" 'to=forced_open reason=cli via=dashboard' "...its recent log lines"
like "$out" 'reason="<img src=x id=pwned' "...the log line with markup is shown as text"
is "$(b 'eval document.getElementById("pwned") === null && document.querySelectorAll("#d-log img, #d-log b").length')" 0 \
	"...and no element was made from it"
is "$(b 'eval document.title')" "recloser dashboard" "...and no script of it ran"
out=$(b "wait 3000 Chart.getChart(document.getElementById('c-calls')).data.labels.length > 1 && Chart.getChart(document.getElementById('c-lat')).data.datasets[0].data.filter(v => v > 0).length")
like "$out" '^[1-9][0-9]*$' "...the latency chart has the p50 of the seconds with calls"
b "shot $SHOTS/dashboard-breaker.png" >/dev/null
ok $? "screenshot of a breaker's view: $SHOTS/dashboard-breaker.png"
note "screenshots: $SHOTS/dashboard.png $SHOTS/dashboard-breaker.png"
out=$(b errors)
is "$out" "[]" "no script error or CSP violation on the pages" || diag "$out"

touch "$T/stop-traffic"
wait "$TRAFFIC"

# ---- refused changes (curl) ----
post() { curl -s -m 5 -o "$T/post.out" -w '%{http_code}' -X POST "$@"; }
is "$(post -d 'name=svc&to=close' "$D_BASE/api/flip")" 403 "a POST without the token: 403"
# the token with its last character changed (to 0, or to 1 when it is a 0:
# a token ending in 0 once made this "wrong" token the right one)
wrong=${TOKEN%?}0
[ "$wrong" = "$TOKEN" ] && wrong=${TOKEN%?}1
is "$(post -H "X-Recloser-Token: $wrong" -d 'name=svc&to=close' "$D_BASE/api/flip")" 403 "...with a wrong token: 403"
is "$(post -H "X-Recloser-Token: $TOKEN" -H 'Origin: http://evil.example' -d 'name=svc&to=close' \
	"$D_BASE/api/flip")" 403 "...with the token but another Origin: 403"
is "$(post -H "X-Recloser-Token: $TOKEN" -H 'Sec-Fetch-Site: cross-site' -d 'name=svc&to=close' \
	"$D_BASE/api/flip")" 403 "...with the token but Sec-Fetch-Site cross-site: 403"
is "$(post -H "X-Recloser-Token: $TOKEN" -H 'Host: rebound.example' -d 'name=svc&to=close' \
	"$D_BASE/api/flip")" 421 "...to another Host name (DNS rebinding): 421"
is "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Host: rebound.example' "$D_BASE/api/dash")" 421 \
	"a GET for another Host name: 421"
is "$(state_of svc)" forced_open "none of them changed anything"
is "$(post -H "X-Recloser-Token: $TOKEN" -H "Origin: $D_BASE" -d 'name=svc&to=close' "$D_BASE/api/flip")" 200 \
	"the token from its own origin: 200"
is "$(state_of svc)" closed "...and svc is closed"

# ---- --read-only ----
start_dash R --read-only
like "$R_URL" '^http://127\.0\.0\.1:[0-9]+/$' "--read-only prints a URL without a token"
is "$(post -H "X-Recloser-Token: $TOKEN" -H "Origin: $R_BASE" -d 'name=svc&to=force-open' "$R_BASE/api/flip")" 403 \
	"--read-only: a flip is refused (403), even with a token"
like "$(cat "$T/post.out")" 'read-only' "...saying it is read-only"
is "$(state_of svc)" closed "...and nothing changed"
b "goto $R_URL" >/dev/null
out=$(b 'wait 10000 document.querySelectorAll("#breakers tbody tr").length >= 4 && [document.getElementById("add").hidden, document.querySelector("td.act").hidden, document.getElementById("mode-badge").textContent].join(" ")')
is "$out" "true true read-only" "--read-only: the page offers no flip and no add"

# ---- many pollers: the dashboard's CPU ----
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
urls=()
for ((i = 0; i < 200; i++)); do urls+=(-o /dev/null "$D_BASE/api/dash"); done
t0=$(ticks "$D_PID"); w0=$(now_ms)
pollers=()
for ((p = 0; p < 20; p++)); do
	timeout 30 curl -s --rate 10/s "${urls[@]}" >/dev/null 2>&1 &
	pollers+=("$!")
done
wait "${pollers[@]}"
t1=$(ticks "$D_PID"); w1=$(now_ms)
hz=$(getconf CLK_TCK)
pct=$(((t1 - t0) * 100000 / hz / (w1 - w0 + 1)))
note "20 pollers, 10 requests/s each (/api/dash) for $(((w1 - w0) / 1000)) s: the dashboard used $pct% of a CPU"
cmp_ok "$pct" '<' 50 "many pollers leave the dashboard's CPU low (< 50% of one core; see the note)"

# ---- the config changes under it ----
cp "$CFG" "$T/cfg.good"
printf '\n[broken]\nmatch = 127.0.0.1:4\nfailure_threshold = lots\n' >>"$CFG"
out=$(wait_until 5000 sh -c "curl -s -m 5 '$D_BASE/api/dash' | grep -q 'config_error\": \"[^\"]'"; \
	curl -s -m 5 "$D_BASE/api/dash")
like "$out" "\"config_error\": \"$CFG:[0-9]+: " "a config that stops loading: its FILE:LINE: problem is shown"
unlike "$out" '"name": "broken"' "...and the last good config is still the one shown"
cp "$T/cfg.good" "$CFG"
printf '\n[later]\nmatch = 127.0.0.1:5\n' >>"$CFG"
wait_until 5000 sh -c "curl -s -m 5 '$D_BASE/api/dash' | grep -q '\"name\": \"later\"'"
ok $? "a breaker added to the file by hand shows up"

# ---- a bulkhead's refusals, by their reason ----
start_server HANG hang
printf '\n[bh]\nmatch = 127.0.0.1:%s\nmax_concurrent = 1\nresponse_timeout = 20s\n' "$HANG" >>"$CFG"
wait_until 5000 sh -c "curl -s -m 5 '$D_BASE/api/dash' | grep -q '\"name\": \"bh\"'"
ok $? "a capped breaker added: shown"
under_shim "$CURL" -s -m 8 -o /dev/null "http://127.0.0.1:$HANG/" &
HOLDER=$!
_cleanup_hooks+=("kill $HOLDER")
wait_until 5000 sh -c "'$RECLOSER' -c '$CFG' status --json | grep -q '\"name\": \"bh\".*\"in_flight\": 1'"
for i in 1 2 3; do under_shim "$CURL" -s -m 5 -o /dev/null "http://127.0.0.1:$HANG/"; done
is "$(json_field bh rejected_bulkhead)" 3 "the holder keeps the one ticket: 3 calls refused by the bulkhead"
out=$(wait_until 5000 sh -c "curl -s -m 5 '$D_BASE/api/dash' | grep -q '\"bulkhead\": [1-9]'"; \
	curl -s -m 5 "$D_BASE/api/dash")
"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
bs = d["breakers"] if isinstance(d, dict) else d
b = [x for x in bs if x.get("name") == "bh"][0]
r = b["rej_by"]
print("ok" if r["bulkhead"] > 0 and r["open"] == 0 and b["in_flight"] == 1 and b["max_concurrent"] == 1
      else json.dumps(b))' "$out" >"$T/bh.out" 2>&1
is "$(cat "$T/bh.out")" ok "the dashboard tells rejections by reason: bulkhead, not open; 1 of 1 in flight"
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null

# ---- bad arguments ----
out=$("$RECLOSER" -c "$CFG" dashboard --listen example.com:80 2>&1); st=$?
is "$st" 2 "--listen with a host name: exit 2"
like "$out" "bad --listen 'example.com:80': expected an IP address" "...saying why"
out=$("$RECLOSER" -c "$CFG" dashboard --listen 127.0.0.1:99999 2>&1); st=$?
is "$st:$out" "2:recloser: dashboard: bad --listen '127.0.0.1:99999': the port must be a number from 0 to 65535" \
	"--listen with port 99999: exit 2, saying why"
out=$(timeout 10 "$RECLOSER" -c "$CFG" dashboard --listen "${D_BASE#http://}" 2>&1); st=$?
is "$st" 1 "a port already in use: exit 1"
like "$out" "cannot listen on ${D_BASE#http://}" "...saying where"
is "$(cat "$TOKFILE" 2>/dev/null)" "$TOKEN" "...leaving the running dashboard's token file alone"

# ---- clean exit ----
kill -INT "$D_PID"
wait "$D_PID"; st=$?
is "$st" 0 "SIGINT: the dashboard exits 0"
test ! -e "$TOKFILE"
ok $? "...and removes its token file"
b quit >/dev/null
wait "$CDP_PID_" 2>/dev/null
done_testing
