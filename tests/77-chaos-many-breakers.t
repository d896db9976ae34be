#!/bin/bash
# Chaos over many breakers: a config of 4,096 breakers (the most a config
# and a state file hold), 8 of them on 8 servers of this test at indexes
# spread over the file, the rest on addresses nothing here reaches.  8
# processes x 4 threads go round the 8 servers while each server flips
# between 200 and 503 on its own beat and the CLI opens and half-opens a
# few of the breakers; the counts of each of the 8 are exact: calls +
# rejected = the calls made to its server, successes and failures = the
# 200s and 503s, rejected = the EHOSTUNREACHs, and its server answered
# exactly the calls let through.  (tests/75 does the same on one breaker;
# this one is also the compiled matcher, and each breaker's binding to its
# slot at its first call, 8 processes x 4 threads racing to it, with make
# bench's 4,096 breakers, under load.)
#
# RC_BUILD=DIR runs the test against the shim and CLI in DIR.
source "$(dirname "$0")/lib.sh"
need_build

NS=8
ports=()
for ((k = 0; k < NS; k++)); do
	start_server "S$k" http --control "$T/S$k.ctl"
	v=S$k
	ports+=("${!v}")
done
write_config
# 4,096 breakers: the servers' at 0, 585, 1170, ... 4095, fillers between
awk -v ports="${ports[*]}" 'BEGIN {
	n = split(ports, p, " ")
	for (k = 1; k <= n; k++) at[int((k - 1) * 4095 / (n - 1))] = p[k]
	for (i = 0; i < 4096; i++) {
		if (i in at) {
			printf "\n[srv%d]\nmatch = 127.0.0.1:%d\nfailure_threshold = 3\n", i, at[i]
			printf "open_duration = 200ms\nopen_duration_max = 400ms\nhalf_open_probes = 2\n"
			printf "success_threshold = 1\nresponse_timeout = 5s\nreject_errno = EHOSTUNREACH\n"
		} else {
			printf "\n[f%d]\nmatch = 10.%d.%d.1:80, f%d.example.com\n", i, int(i / 256), i % 256, i
		}
	}
}' >>"$CFG"
is "$(grep -c '^\[' "$CFG")" 4097 "the config: [global] and 4,096 breakers"
names=$(grep -o '^\[srv[0-9]*\]' "$CFG" | tr -d '[]' | tr '\n' ' ')
note "the servers' breakers: $names"

NP=8 NT=4 N=${CHAOS_N:-48}
start=$(($(now_ms) + 1500))
plist=$(
	IFS=,
	echo "${ports[*]}"
)
start_load "$T/c" 90 "$plist" --threads $NT -n "$N" --start-at "$start" --max-seconds 70 \
	--pause-ms 40
(
	flip=0
	set -- $names
	while [ ! -e "$T/done" ]; do
		flip=$((flip + 1))
		for ((k = 0; k < NS; k++)); do
			if (((flip + k) % 2)); then v=503; else v=200; fi
			echo $v >"$T/S$k.ctl.tmp" && mv "$T/S$k.ctl.tmp" "$T/S$k.ctl"
		done
		case $((flip % 6)) in
		2) rc open "$2" >/dev/null 2>&1 ;;
		4) rc half-open "$2" >/dev/null 2>&1 ;;
		5) rc open "$7" >/dev/null 2>&1 ;;
		esac
		sleep 0.15
	done
) &
chaos=$!
wait_load "$T/c"
touch "$T/done"
wait "$chaos"
is "$LOAD_BAD" 0 "$NP processes x $NT threads x $N calls round $NS servers: every client exited 0"

rc status --json >"$T/status.json" 2>"$T/status.err"
for ((k = 0; k < NS; k++)); do echo "${ports[k]} $(reqs "S$k")"; done >"$T/served"
# per server: made, s200, s503, rejected, what else; against the breaker's counts
out=$("$PY" - "$T" "$NP" "$CFG" <<'EOF'
import json, re, sys
t, np, cfg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
port_of = {}
name = None
for line in open(cfg):
    m = re.match(r"\[(.*)\]", line)
    if m:
        name = m.group(1)
    m = re.match(r"match = 127\.0\.0\.1:(\d+)$", line.strip())
    if m:
        port_of[name] = int(m.group(1))
seen = {}
for i in range(1, np + 1):
    for w in open("%s/c.out.%d" % (t, i)).read().split():
        k, v = w.split("=")
        if "." in k:
            p, what = k.split(".", 1)
            d = seen.setdefault(int(p), {})
            d[what] = d.get(what, 0) + int(v)
served = dict(tuple(map(int, l.split())) for l in open(t + "/served"))
st = {b["name"]: b for b in json.load(open(t + "/status.json"))}
total = 0
for n, p in sorted(port_of.items(), key=lambda x: x[1]):
    d, b = seen.get(p, {}), st.get(n, {})
    made, s200, s503, rej = d.get("calls", 0), d.get("s200", 0), d.get("s503", 0), d.get("EHOSTUNREACH", 0)
    other = sorted(k for k in d if k not in ("calls", "s200", "s503", "EHOSTUNREACH"))
    total += made
    print("%s made=%d got=%d/%d/%d status=%s/%s/%s/%s served=%d other=%s" % (
        n, made, s200, s503, rej, b.get("calls"), b.get("successes"), b.get("failures"),
        b.get("rejected"), served.get(p, -1), ",".join(other) or "-"))
    ok = (b.get("calls", -1) + b.get("rejected", -1) == made and b.get("successes") == s200 and
          b.get("failures") == s503 and b.get("rejected") == rej and served.get(p) == b.get("calls")
          and not other and b.get("timeouts") == 0)
    print("VERDICT %s %s" % (n, "exact" if ok else "WRONG"))
print("TOTAL %d" % total)
EOF
)
note "$(grep -v '^VERDICT' <<<"$out")"
is "$(grep -c 'VERDICT .* exact' <<<"$out")" "$NS" \
	"each of the $NS breakers: calls + rejected = the calls made to it, successes/failures/rejected = the 200s/503s/EHOSTUNREACHs, its server answered exactly its calls"
is "$(awk '/^TOTAL/ {print $2}' <<<"$out")" $((NP * NT * N)) "the clients made $((NP * NT * N)) calls in all"
is "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/status.json")" 4096 \
	"status --json lists all 4,096 breakers"
tr=0
for n in $names; do tr=$((tr + $(json_field "$n" transitions))); done
cmp_ok "$tr" '>=' 8 "the breakers moved meanwhile ($tr transitions in all)"
done_testing
