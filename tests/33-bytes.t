#!/bin/bash
# Bytes pass through unmodified: a 24 MiB download and an 8 MiB upload are
# byte-identical under the shim (sha256 at both ends), with curl, python
# (urllib, http.client) and a raw python socket using MSG_WAITALL, readv,
# sendmsg and writev; each transfer is one call, a success.
source "$(dirname "$0")/lib.sh"
need_build

PYHTTP=$ROOT/tests/clients/pyhttp.py
VECIO=$ROOT/tests/clients/vecio.py
pyh() { under_shim "$PY" "$PYHTTP" "$@"; }
export RUN_TIMEOUT=60

DL=$((24 << 20))
UL=$((8 << 20))
start_server BIG big --body-size "$DL"
start_server SINK sink
write_config
breaker big "match=127.0.0.1:$BIG" failure_threshold=1 response_timeout=5s slow_call=10s
breaker sink "match=127.0.0.1:$SINK" failure_threshold=1 response_timeout=5s slow_call=10s

# The body faultserver's big mode sends: byte i is (i * 7 + 3) % 256.
want=$("$PY" -c '
import hashlib, sys
n = int(sys.argv[1])
b = bytes((i * 7 + 3) % 256 for i in range(256)) * (n // 256 + 1)
print(hashlib.sha256(b[:n]).hexdigest())' "$DL")
like "$want" '^[0-9a-f]{64}$' "expected sha256 of the 24 MiB body computed"

# ---- 24 MiB download ----
under_shim "$CURL" -s -m 60 -o "$T/dl.bin" "http://127.0.0.1:$BIG/"
is "$?" 0 "curl: 24 MiB download finished"
is "$(stat -c %s "$T/dl.bin" 2>/dev/null)" "$DL" "curl: $DL bytes"
is "$(sha256sum <"$T/dl.bin" | cut -d' ' -f1)" "$want" "curl: sha256 identical"
rm -f "$T/dl.bin"

out=$(pyh download "http://127.0.0.1:$BIG/")
is "$out" "sha=$want len=$DL status=200" "python urllib: 24 MiB, sha256 identical"

out=$(under_shim "$PY" "$VECIO" download "$BIG")
is "$out" "sha=$want len=$DL status=200" "python recv(MSG_WAITALL) + readv: 24 MiB, sha256 identical"

out=$(under_shim /usr/bin/node -e '
import { createHash } from "node:crypto";
const r = await fetch(process.argv[1]);
const b = Buffer.from(await r.arrayBuffer());
const h = createHash("sha256").update(b).digest("hex");
console.log(`sha=${h} len=${b.length} status=${r.status}`);
' --input-type=module "http://127.0.0.1:$BIG/" 2>&1)
is "$out" "sha=$want len=$DL status=200" "node fetch (libuv reads): 24 MiB, sha256 identical"

is "$(counts big)" "4 0 0" "4 downloads: 4 calls, no failure"

# ---- 8 MiB upload ----
head -c "$UL" /dev/urandom >"$T/up.bin"
usha=$(sha256sum <"$T/up.bin" | cut -d' ' -f1)
out=$(under_shim "$CURL" -s -m 60 -H 'Expect:' --data-binary "@$T/up.bin" "http://127.0.0.1:$SINK/")
is "$out" "$usha $UL" "curl: the server received 8 MiB with an identical sha256"

out=$(pyh upload "$SINK" "$T/up.bin")
is "$out" "status=200 reply=$usha:$UL" "python http.client: 8 MiB upload, sha256 identical"

out=$(under_shim "$PY" "$VECIO" upload "$SINK" "$T/up.bin")
is "$out" "status=200 reply=$usha:$UL" "python sendmsg + writev: 8 MiB upload, sha256 identical"

out=$(under_shim /usr/bin/node -e '
import { readFileSync } from "node:fs";
const body = readFileSync(process.argv[2]);
const r = await fetch(process.argv[1], { method: "POST", body });
console.log(`status=${r.status} reply=${(await r.text()).trim().replace(" ", ":")}`);
' --input-type=module "http://127.0.0.1:$SINK/" "$T/up.bin" 2>&1)
is "$out" "status=200 reply=$usha:$UL" "node fetch (libuv writev): 8 MiB upload, sha256 identical"

is "$(counts sink)" "4 0 0" "4 uploads: 4 calls, no failure"
is "$(reqs SINK)" 4 "the server answered 4 requests"

done_testing
