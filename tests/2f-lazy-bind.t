#!/bin/bash
# Breakers bound to their slots at first use (engine/live.c, rc_shm_bind):
#   A. a process of a 4,096-breaker config that calls none of them writes
#      nothing in the state file; one that calls one writes that slot only,
#      and its breaker works (trips, rejects) there;
#   B. in a state file whose slots were claimed in another order (another
#      config, reversed), every breaker still finds its own slot;
#   C. a damaged slot is its breaker's alone: that breaker passes through,
#      with one state_error line per process naming the slot, its bytes are
#      not written; the file's other breakers work; the CLI (which checks
#      every slot) refuses the file;
#   D. 8 threads making their first call to one breaker at once: every call
#      counted, once;
#   E. bulkhead refusals not yet in a line when the config is reloaded
#      (its new live config has not bound the breaker) are logged at exit.
source "$(dirname "$0")/lib.sh"
need_build

P=$(closed_port)
Q=$(closed_port)

# slot_info NAME...: "HEADER_SIZE SLOT_SIZE" of $STATE, found from where
# the names of the breakers f0 and f1 (slots 0 and 1) are: a slot's name is
# 8 bytes in.
slot_geom() {
	"$PY" -c '
import sys
d = open(sys.argv[1], "rb").read()
a = d.find(b"\0f0\0") + 1
b = d.find(b"\0f1\0") + 1
print(a - 8, b - a)
' "$STATE"
}

# changed_slots OLD NEW HDR SLOT: the numbers of the slots whose bytes differ
# (and "hdr" if the header does), space-separated.
changed_slots() {
	"$PY" -c '
import sys
o = open(sys.argv[1], "rb").read(); n = open(sys.argv[2], "rb").read()
h, s = int(sys.argv[3]), int(sys.argv[4])
out = []
if o[:h] != n[:h]: out.append("hdr")
for i in range(4096):
    if o[h + i * s:h + (i + 1) * s] != n[h + i * s:h + (i + 1) * s]: out.append(str(i))
if o[h + 4096 * s:] != n[h + 4096 * s:]: out.append("tail")
print(" ".join(out))
' "$@"
}

# big_config FILE ORDER: 4,096 breakers, f0..f4095 on addresses nothing here
# reaches, but f4000 on $P (threshold 2); ORDER "rev" lists them backwards.
big_config() {
	{
		echo "[global]"
		echo "state_file = $STATE"
		echo "log_file = $LOG"
		echo "log_level = info"
	} >"$1"
	awk -v p="$P" -v order="$2" 'BEGIN {
		for (k = 0; k < 4096; k++) {
			i = order == "rev" ? 4095 - k : k
			if (i == 4000)
				printf "\n[f%d]\nmatch = 127.0.0.1:%d\nfailure_threshold = 2\nopen_duration = 60s\n", i, p
			else
				printf "\n[f%d]\nmatch = 10.%d.%d.1:80\n", i, int(i / 256), i % 256
		}
	}' >>"$1"
}

# ---- A ----
big_config "$CFG" fwd
rc status >/dev/null
is "$?" 0 "A: the CLI claims the 4,096 breakers' slots, in the config's order"
read -r HDR SLOT <<<"$(slot_geom)"
note "header $HDR bytes, slot $SLOT bytes"
ok "$( ((HDR > 0 && SLOT >= 64)) ; echo $?)" "A: the slots found in the file (header $HDR, slot $SLOT)"
sleep 1.1 # a bind marks its slot seen in a new second: visible
cp "$STATE" "$T/before"
out=$(under_shim "$PY" -c 'print("ran")')
is "$out" ran "A: a python under the shim, calling no breaker, ran"
is "$(changed_slots "$T/before" "$STATE" "$HDR" "$SLOT")" "" \
	"A: ...and wrote nothing in the state file (no slot bound, none marked seen)"
cp "$STATE" "$T/before"
for i in 1 2; do scurl "http://127.0.0.1:$P/" >/dev/null; done
t0=$(now_ms)
scurl "http://127.0.0.1:$P/" >/dev/null
st=$?
ms=$(($(now_ms) - t0))
# before the CLI looks (it marks every slot it shows seen)
changed=$(changed_slots "$T/before" "$STATE" "$HDR" "$SLOT")
is "$(state_of f4000)" open "A: 2 failed calls to breaker 4000 of 4,096 open it"
is "$(counts f4000)" "2 2 1" "A: ...counted in its slot: 2 calls, 2 failures, 1 rejected"
is "$st" 7 "A: the third call is rejected (curl exit 7)"
cmp_ok "$ms" '<' 2000 "A: ...at once"
like "$changed" '^(hdr )?4000$' \
	"A: the only slot written is breaker f4000's (4000; the header: its count of unlogged rejections) ($changed)"

# ---- B ----
rm -f "$STATE"
big_config "$T/rev.ini" rev
"$RECLOSER" -c "$T/rev.ini" status >/dev/null
is "$?" 0 "B: a config listing the breakers backwards claimed the slots first"
is "$("$PY" -c '
import sys
d = open(sys.argv[1], "rb").read()
print((d.find(b"\0f4000\0") + 1 - d.find(b"\0f4095\0") - 1) // int(sys.argv[2]))
' "$STATE" "$SLOT")" 95 "B: ...so f4000 is in slot 95, and slot 4000 holds f95"
for i in 1 2; do scurl "http://127.0.0.1:$P/" >/dev/null; done
is "$(counts f4000)" "2 2 0" "B: the forward config's f4000 counted its 2 calls in its own slot"
is "$(state_of f4000)" open "B: ...and is open"
is "$(counts f95)" "0 0 0" "B: f95, in the slot where the config's order would put f4000, counted nothing"

# ---- C ----
rm -f "$STATE"
write_config
breaker svc "match=127.0.0.1:$P" failure_threshold=2 open_duration=60s
breaker other "match=127.0.0.1:$Q" failure_threshold=2 open_duration=60s
rc status >/dev/null
is "$?" 0 "C: a 2-breaker state file"
soff=$("$PY" -c '
import sys
d = open(sys.argv[1], "rb").read()
print(d.find(b"\0svc\0") + 1 - 8)' "$STATE")
# the state word: 72 bytes into the slot (core/slot.h); state 7 is none
printf '\007\0\0\0\0\0\0\0' | dd of="$STATE" bs=1 seek=$((soff + 72)) conv=notrunc status=none
slot_sum() { dd if="$STATE" bs=1 skip="$soff" count="$SLOT" status=none | sha256sum; }
before=$(slot_sum)
rc status >/dev/null 2>"$T/c.err"
is "$?" 1 "C: the CLI refuses the file with svc's slot damaged (exit 1)"
like "$(cat "$T/c.err")" 'corrupt slot 0 \(state 7\)' "C: ...and says which slot: $(cat "$T/c.err")"
e0=$(log_count 'event=state_error')
under_shim "$CURL" -s -m 10 -o /dev/null -o /dev/null -o /dev/null \
	"http://127.0.0.1:$P/a" "http://127.0.0.1:$P/b" "http://127.0.0.1:$P/c"
is "$?" 7 "C: one curl, 3 calls to svc: each refused by the kernel, none rejected (exit 7)"
is "$(($(log_count 'event=state_error') - e0))" 1 "C: ...one state_error line for that process" || show_log
like "$(grep 'event=state_error' "$LOG" | tail -n 1)" \
	'breaker=svc msg="slot 0 of the state file is damaged.*action=pass_through' \
	"C: ...naming the breaker and its slot, action=pass_through" || show_log
is "$(log_count 'event=(transition|reject) .*breaker=svc')" 0 "C: svc's calls pass through: no transition, no reject"
is "$(slot_sum)" "$before" "C: svc's slot is not written"
for i in 1 2; do scurl "http://127.0.0.1:$Q/" >/dev/null; done
scurl "http://127.0.0.1:$Q/" >/dev/null
is "$?" 7 "C: the other breaker of the file trips and rejects as usual"
is "$(log_count 'event=transition .*breaker=other .*to=open')" 1 "C: ...other: closed -> open, logged"

# ---- D ----
rm -f "$STATE"
write_config
breaker svc "match=127.0.0.1:$P" failure_threshold=1000
e0=$(log_count 'event=state_error')
out=$(pyc connect 127.0.0.1 "$P" --threads 8 -n 1)
is "$(kv "$out" ECONNREFUSED)" 8 "D: 8 threads' first calls, at once: 8 refused ($out)"
is "$(counts svc)" "8 8 0" "D: ...all 8 counted, once each, in one slot"
is "$(($(log_count 'event=state_error') - e0))" 0 "D: no state_error"

# ---- E ----
start_server SLOW slow --delay 0.3
rm -f "$STATE"
write_config reload=50ms
breaker cap "match=127.0.0.1:$SLOW" max_concurrent=1 response_timeout=5s failure_threshold=1000
out=$(under_shim "$PY" -c '
import socket, sys, threading, time
port, cfg, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def call(res):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        r = s.recv(100)
        s.close()
        res.append("served" if r else "empty")
    except OSError as e:
        res.append("refused")
res = []
ts = [threading.Thread(target=call, args=(res,)) for _ in range(6)]
for t in ts: t.start()
for t in ts: t.join()
reloads = lambda: open(log).read().count(" event=reload ")
n = reloads()
with open(cfg, "a") as f:
    f.write("\n; edited\n")
t0 = time.time()
while reloads() == n and time.time() - t0 < 5:
    try:
        socket.create_connection(("127.0.0.1", 1), timeout=0.2).close()  # a call of no breaker
    except OSError:
        pass
    time.sleep(0.02)
print("served=%d refused=%d reloaded=%d" % (res.count("served"), res.count("refused"), reloads() > n))
' "$SLOW" "$CFG" "$LOG")
refused=$(kv "$out" refused)
is "$(kv "$out" served) $(kv "$out" reloaded)" "1 1" "E: 6 threads, max_concurrent 1: one served, then the config reloaded ($out)"
cmp_ok "$refused" '>=' 2 "E: ...the others refused by the bulkhead ($refused)"
is "$(json_field cap rejected_bulkhead)" "$refused" "E: status: rejected_bulkhead = $refused"
logged=$(grep 'event=reject' "$LOG" | grep ' breaker=cap ' | grep 'reason=bulkhead' |
	grep -o ' count=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
is "$logged" "$refused" "E: the reject lines carry all $refused refusals, the last at exit under the reloaded config" || show_log

done_testing
