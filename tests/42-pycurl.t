#!/bin/bash
# pycurl (Debian's python3-pycurl, run by /usr/bin/python3): Python loads
# the extension, and with it libcurl, RTLD_LOCAL, so dlsym(RTLD_NEXT) cannot
# find libcurl: the shim finds the loaded libcurl* object itself.  HTTPS
# 503s open the breaker; a reused handle is then rejected with pycurl.error
# (7, "recloser: breaker 'NAME' is open") and getinfo shows nothing stale.
source "$(dirname "$0")/lib.sh"
need_build

"$PY" -c 'import pycurl' 2>/dev/null ||
	skip_all "python3-pycurl missing (scripts/deps.sh installs it)"

make_cert
start_server TLS http --tls "$T/cert.pem" "$T/key.pem"
write_config
breaker py "match=localhost:$TLS" failure_threshold=2 open_duration=60s

cat >"$T/pc.py" <<'EOF'
import io, sys, pycurl
url, ctl, seq, cafile = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
c = pycurl.Curl()
c.setopt(pycurl.CAINFO, cafile)
for i, v in enumerate(seq, 1):
    with open(ctl + ".tmp", "w") as f:
        f.write(v + "\n")
    __import__("os").rename(ctl + ".tmp", ctl)
    c.setopt(pycurl.URL, url)
    c.setopt(pycurl.WRITEDATA, io.BytesIO())
    try:
        c.perform()
        code, err = 0, ""
    except pycurl.error as e:
        code, err = e.args
    print("i=%d code=%d http=%d ip=%s connects=%d total=%g err=%s" % (
        i, code, c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.PRIMARY_IP) or "",
        c.getinfo(pycurl.NUM_CONNECTS), c.getinfo(pycurl.TOTAL_TIME), err))
    sys.stdout.flush()
c.close()
# the libcurl pycurl uses, as mapped
for l in open("/proc/self/maps"):
    if "libcurl" in l:
        print("lib=" + l.split()[-1].rsplit("/", 1)[-1])
        break
EOF

out=$(under_shim "$PY" "$T/pc.py" "https://localhost:$TLS/" "$T/TLS.ctl" 200,200,503,503,200,200 "$T/cert.pem")
line() { sed -n "${1}p" <<<"$out"; }
note "pycurl's $(grep '^lib=' <<<"$out")"
is "$(kv "$(line 1)" http) $(kv "$(line 2)" http)" "200 200" "pycurl https: 200, 200 (certificate verified)"
is "$(kv "$(line 3)" http) $(kv "$(line 4)" http)" "503 503" "...then 503, 503"
l=$(line 5)
is "$(kv "$l" code)" 7 "open: the same handle's perform raises pycurl.error 7"
is "${l#* err=}" "recloser: breaker 'py' is open" "...with the breaker named"
is "$(kv "$l" http) $(kv "$l" ip) $(kv "$l" connects) $(kv "$l" total)" "0  0 0" \
	"...getinfo: RESPONSE_CODE 0, PRIMARY_IP empty, NUM_CONNECTS 0, TOTAL_TIME 0 (not the stale 503)"
is "$(kv "$(line 6)" code)" 7 "...and again"
is "$(reqs TLS)" 4 "the server saw 4 requests, none while open"
is "$(counts py)" "4 2 2" "calls 4 (one per transfer), failures 2, rejected 2"
is "$(state_of py)" open "HTTPS 503s through pycurl opened the breaker"

done_testing
