#!/bin/bash
# recloser metrics: the Prometheus text exposition of real traffic (curl
# under the shim), checked value by value against `status --json`, linted
# by `promtool check metrics`; --textfile writes atomically; the alert
# rules in conf/alerts.yml pass `promtool check rules` and fire (promtool
# test rules) on series taken from the real exposition.
source "$(dirname "$0")/lib.sh"
need_build

PROMTOOL=$(command -v promtool)

start_server HTTP http
URL=http://127.0.0.1:$HTTP/
write_config connect_timeout=2s
breaker svc "match=127.0.0.1:$HTTP" failure_threshold=2 open_duration=60s
breaker idle "match=127.0.0.1:1"
breaker quiet "match=127.0.0.1:2"

# metric FAMILY-OR-SERIES LABELS: the value of one sample in $M, or NONE.
metric() {
	"$PY" -c '
import re, sys
name, want = sys.argv[1], sys.argv[2]
for line in open(sys.argv[3]):
    if line.startswith("#"):
        continue
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line.rstrip("\n"))
    if m and m.group(1) == name and (m.group(2) or "{}") == "{" + want + "}":
        print(m.group(3)); break
else:
    print("NONE")' "$1" "$2" "$M"
}
M=$T/m.prom

# ---- before any call ----
rc metrics >"$M"; st=$?
is "$st" 0 "metrics: exit 0"
is "$(metric recloser_breaker_state 'breaker="svc",state="closed"')" 1 "svc: state closed = 1"
is "$(metric recloser_breaker_state 'breaker="svc",state="open"')" 0 "svc: state open = 0"
is "$(metric recloser_calls_total 'breaker="svc",outcome="success"')" 0 "no calls yet"
is "$(metric recloser_call_duration_seconds_bucket 'breaker="svc",le="+Inf"')" 0 "empty histogram"
if [ -n "$PROMTOOL" ]; then
	out=$("$PROMTOOL" check metrics <"$M" 2>&1); st=$?
	is "$st" 0 "promtool check metrics: clean before any call" || diag "$out"
else
	skip "promtool not installed (scripts/deps.sh installs Debian's prometheus)"
fi

# ---- real traffic: 3 successes, 2 failures that open svc, 2 rejections ----
for i in 1 2 3; do scurl "$URL" >/dev/null; done
control HTTP down
scurl "$URL" >/dev/null
scurl "$URL" >/dev/null
is "$(state_of svc)" open "svc opened after 2 failures"
scurl "$URL" >/dev/null
pyc connect 127.0.0.1 "$HTTP" -n 1 >/dev/null
rc force-open idle >/dev/null
sleep 0.3

rc metrics >"$M"; st=$?
is "$st" 0 "metrics after traffic: exit 0"
is "$(metric recloser_breaker_state 'breaker="svc",state="open"')" 1 "svc: state open = 1"
n=0
for s in closed half_open forced_open forced_closed; do
	n=$((n + $(metric recloser_breaker_state "breaker=\"svc\",state=\"$s\"")))
done
is "$n" 0 "svc: every other state = 0"
is "$(metric recloser_breaker_state 'breaker="idle",state="forced_open"')" 1 "idle: forced_open = 1"
is "$(metric recloser_breaker_state 'breaker="quiet",state="closed"')" 1 "quiet: closed = 1"
is "$(metric recloser_calls_total 'breaker="svc",outcome="success"')" 3 "calls_total{outcome=success} 3"
is "$(metric recloser_calls_total 'breaker="svc",outcome="failure"')" 2 "calls_total{outcome=failure} 2"
is "$(metric recloser_rejected_total 'breaker="svc"')" 2 "rejected_total 2 (curl and python)"
is "$(metric recloser_transitions_total 'breaker="svc"')" 1 "transitions_total 1"
is "$(metric recloser_opened_total 'breaker="svc"')" 1 "opened_total 1"
is "$(metric recloser_opened_total 'breaker="idle"')" 1 "idle: opened_total 1 (forced_open counts)"
is "$(metric recloser_opened_total 'breaker="quiet"')" 0 "quiet: opened_total 0"
is "$(metric recloser_slow_calls_total 'breaker="svc"')" 0 "slow_calls_total present, 0"
is "$(metric recloser_timeouts_total 'breaker="svc"')" 0 "timeouts_total present, 0"
# The same numbers as status --json.
is "$(json_field svc calls) $(json_field svc failures) $(json_field svc rejected)" \
	"5 2 2" "status --json agrees: calls 5, failures 2, rejected 2"
s=$(metric recloser_state_seconds 'breaker="svc"')
like "$s" '^[0-9]+(\.[0-9]+)?$' "state_seconds is a number ($s)"
"$PY" -c 'import sys; v = float(sys.argv[1]); sys.exit(0 if 0.25 <= v < 30 else 1)' "$s"
ok $? "svc has been open for 0.25 s to 30 s ($s)"

# The histogram: cumulative, ending at +Inf = _count = calls, bounds rising.
out=$("$PY" -c '
import re, sys
b, total, sum_ = [], None, None
for line in open(sys.argv[1]):
    m = re.match(r"recloser_call_duration_seconds_bucket\{breaker=\"svc\",le=\"([^\"]+)\"\} (\d+)$", line)
    if m:
        b.append((float(m.group(1)), int(m.group(2))))
    m = re.match(r"recloser_call_duration_seconds_count\{breaker=\"svc\"\} (\d+)$", line)
    if m: total = int(m.group(1))
    m = re.match(r"recloser_call_duration_seconds_sum\{breaker=\"svc\"\} (\S+)$", line)
    if m: sum_ = float(m.group(1))
probs = []
if len(b) < 2 or b[-1][0] != float("inf"): probs.append("no +Inf bucket last")
if any(b[i][0] >= b[i + 1][0] for i in range(len(b) - 1)): probs.append("bounds not rising")
if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)): probs.append("counts not cumulative")
if total != 5 or b[-1][1] != 5: probs.append("count %r, +Inf %r, want 5" % (total, b[-1][1] if b else None))
if sum_ is None or not 0 < sum_ < 10: probs.append("sum %r" % sum_)
print(" ".join(probs) or "ok %d buckets" % len(b))' "$M")
like "$out" '^ok [0-9]+ buckets$' "histogram: rising bounds, cumulative counts, +Inf = _count = 5 calls, 0 < _sum < 10 s ($out)"

# Format: HELP and TYPE once per family, the right types, no duplicate series.
out=$("$PY" -c '
import re, sys
want = {"recloser_breaker_state": "gauge", "recloser_calls_total": "counter",
        "recloser_slow_calls_total": "counter", "recloser_timeouts_total": "counter",
        "recloser_rejected_total": "counter", "recloser_transitions_total": "counter",
        "recloser_opened_total": "counter", "recloser_state_seconds": "gauge",
        "recloser_call_duration_seconds": "histogram", "recloser_log_dropped_total": "counter",
        "recloser_rejected_reason_total": "counter", "recloser_in_flight": "gauge",
        "recloser_in_flight_max": "gauge", "recloser_open_connections": "gauge",
        "recloser_open_connections_max": "gauge"}
helps, types, seen, probs = {}, {}, set(), []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        n = line.split()[2]; helps[n] = helps.get(n, 0) + 1
    elif line.startswith("# TYPE "):
        n, t = line.split()[2:4]; types.setdefault(n, []).append(t)
    else:
        series = line.rsplit(" ", 1)[0]
        if series in seen: probs.append("duplicate " + series)
        seen.add(series)
for n, t in want.items():
    if helps.get(n) != 1: probs.append("HELP %s x%s" % (n, helps.get(n)))
    if types.get(n) != [t]: probs.append("TYPE %s %s" % (n, types.get(n)))
for n in types:
    if n not in want: probs.append("unexpected family " + n)
print(" ".join(probs) or "ok")' "$M")
is "$out" ok "one HELP and one TYPE per family, the expected types, no duplicate series"

if [ -n "$PROMTOOL" ]; then
	out=$("$PROMTOOL" check metrics <"$M" 2>&1); st=$?
	is "$st" 0 "promtool check metrics: clean after traffic" || diag "$out"
	is "$out" "" "...without a single lint remark"
	grep -v '^# HELP recloser_rejected_total' "$M" | "$PROMTOOL" check metrics >/dev/null 2>&1
	isnt "$?" 0 "(promtool does fail a copy without a HELP line)"
else
	skip "promtool not installed (scripts/deps.sh installs Debian's prometheus)" 3
fi

# ---- --textfile DIR ----
mkdir "$T/tf"
rc metrics --textfile "$T/tf" >"$T/tf.out" 2>&1; st=$?
is "$st" 0 "metrics --textfile DIR: exit 0"
is "$(cat "$T/tf.out")" "" "...prints nothing"
[ -f "$T/tf/recloser.prom" ]; ok $? "...writes DIR/recloser.prom"
is "$(ls -A "$T/tf")" recloser.prom "...and nothing else (no temporary file left)"
is "$(stat -c %a "$T/tf/recloser.prom")" 644 "...readable by node_exporter (0644)"
is "$(grep -v state_seconds "$T/tf/recloser.prom")" "$(grep -v state_seconds "$M")" \
	"...the same exposition as stdout (but for the time in state)"
ino=$(stat -c %i "$T/tf/recloser.prom")
rc close svc >/dev/null
rc metrics --textfile="$T/tf"; st=$?
is "$st" 0 "--textfile=DIR again: exit 0"
isnt "$(stat -c %i "$T/tf/recloser.prom")" "$ino" "the file was replaced by a rename, not rewritten in place"
M=$T/tf/recloser.prom
is "$(metric recloser_breaker_state 'breaker="svc",state="closed"')" 1 "...and shows the new state (closed)"
# A reader polling the file during 50 rewrites never sees a partial one.
(
	for i in $(seq 50); do rc metrics --textfile "$T/tf"; done
	touch "$T/tf.done"
) &
bad=0 reads=0
while [ ! -e "$T/tf.done" ]; do
	n=$(grep -c '^recloser_call_duration_seconds_count' "$T/tf/recloser.prom")
	[ "$n" = 3 ] || bad=$((bad + 1))
	reads=$((reads + 1))
done
wait_clients
is "$bad" 0 "$reads reads during 50 rewrites: every one saw a whole file"

rc metrics --textfile "$T/nonexistent" 2>"$T/err"; st=$?
is "$st" 1 "--textfile to a missing directory: exit 1"
like "$(cat "$T/err")" 'nonexistent' "...says which"
rc metrics --textfile "$CFG" >/dev/null 2>&1; is "$?" 1 "--textfile to a file: exit 1"
rc metrics --textfile >/dev/null 2>&1; is "$?" 2 "--textfile without DIR: exit 2"
rc metrics --bogus >/dev/null 2>&1; is "$?" 2 "unknown option: exit 2"
"$RECLOSER" -c "$T/none.ini" metrics >/dev/null 2>&1; is "$?" 1 "missing config: exit 1"

# ---- the alert rules ----
RULES=$ROOT/conf/alerts.yml
if [ -z "$PROMTOOL" ]; then
	skip "promtool not installed (scripts/deps.sh installs Debian's prometheus)" 4
	done_testing
fi
out=$("$PROMTOOL" check rules "$RULES" 2>&1); st=$?
is "$st" 0 "promtool check rules conf/alerts.yml: exit 0" || diag "$out"
like "$out" 'SUCCESS: [0-9]+ rules found' "...rules found ($out)"

# Series for `promtool test rules`, from the real exposition above (svc
# open, idle forced_open, quiet closed): states held, opened_total going
# from 0 to its value, rejected_total rising by its value each minute.
rc open svc >/dev/null
scurl "$URL" >/dev/null   # rejected
rc metrics >"$T/now.prom"
"$PY" - "$T/now.prom" >"$T/series.yml" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"(recloser_breaker_state|recloser_opened_total|recloser_rejected_total)\{(.*)\} (\d+)$", line)
    if not m:
        continue
    name, labels, v = m.group(1), m.group(2) + ',instance="host1"', int(m.group(3))
    values = {"recloser_breaker_state": "%dx10" % v,
              "recloser_opened_total": "0 %dx10" % v,
              "recloser_rejected_total": "0+%dx10" % v}[name]
    print("      - series: '%s{%s}'\n        values: '%s'" % (name, labels, values))
EOF
# The rules without their annotations (promtool compares annotations too;
# their templates are checked by `check rules` above).
awk '/^        annotations:/ { skip = 1; next }
     skip && /^          / { next }
     { skip = 0; print }' "$RULES" >"$T/rules.yml"
cat >"$T/test.yml" <<EOF
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
$(cat "$T/series.yml")
      - series: 'recloser_in_flight{breaker="bh",instance="host1"}'
        values: '5x10'
      - series: 'recloser_in_flight_max{breaker="bh",instance="host1"}'
        values: '5x10'
      - series: 'recloser_rejected_reason_total{breaker="bh",instance="host1",reason="bulkhead"}'
        values: '0+4x10'
      - series: 'recloser_in_flight{breaker="bq",instance="host1"}'
        values: '5 4 5 5 5 5 5 5 5 5'
      - series: 'recloser_in_flight_max{breaker="bq",instance="host1"}'
        values: '5x10'
      - series: 'recloser_rejected_reason_total{breaker="bq",instance="host1",reason="bulkhead"}'
        values: '0+4x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: RecloserBulkheadSaturated
        exp_alerts:
          - exp_labels: {severity: warning, instance: host1, breaker: bh}
      - eval_time: 5m
        alertname: RecloserBreakerOpen
        exp_alerts:
          - exp_labels: {severity: critical, instance: host1, breaker: idle, state: forced_open}
          - exp_labels: {severity: critical, instance: host1, breaker: svc, state: open}
      - eval_time: 5m
        alertname: RecloserBreakerOpened
        exp_alerts:
          - exp_labels: {severity: warning, instance: host1, breaker: idle}
          - exp_labels: {severity: warning, instance: host1, breaker: svc}
      - eval_time: 5m
        alertname: RecloserRejectionsRising
        exp_alerts:
          - exp_labels: {severity: warning, instance: host1, breaker: svc}
      - eval_time: 5m
        alertname: RecloserMetricsStale
        exp_alerts: []
EOF
out=$(cd "$T" && "$PROMTOOL" test rules test.yml 2>&1); st=$?
is "$st" 0 "promtool test rules: open/forced_open, opened and rejections alerts fire for svc and idle, none for quiet; a bulkhead full for 5 minutes and refusing alerts, one that had a free ticket does not" || diag "$out"
# ...and the test can fail: with quiet expected to alert too, it does.
sed 's/breaker: svc, state: open}/breaker: svc, state: open}\n          - exp_labels: {severity: critical, instance: host1, breaker: quiet, state: closed}/' \
	"$T/test.yml" >"$T/test-wrong.yml"
out=$(cd "$T" && "$PROMTOOL" test rules test-wrong.yml 2>&1)
isnt "$?" 0 "(a test expecting an alert for the closed breaker fails)"

done_testing
