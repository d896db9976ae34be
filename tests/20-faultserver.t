#!/bin/bash
# The test infrastructure itself, without the shim: the fault servers behave
# as the other tests assume (scripts/faultserver.py, tests/lib.sh).
source "$(dirname "$0")/lib.sh"

# curl without the shim: prints "HTTP_CODE EXIT" .
pcurl() { "$CURL" -s -o /dev/null -m 5 --connect-timeout 3 -w '%{http_code}' "$@"; echo " $?"; }

start_server HTTP http
like "$HTTP" '^[0-9]+$' "http server reports its port"
is "$(pcurl "http://127.0.0.1:$HTTP/")" "200 0" "http answers 200"
is "$(conns HTTP) $(reqs HTTP)" "1 1" "count file: 1 connection, 1 request"
is "$("$CURL" -s -m 5 "http://127.0.0.1:$HTTP/a" "http://127.0.0.1:$HTTP/b")" \
	"status 200
status 200" "keep-alive: two requests"
is "$(conns HTTP) $(reqs HTTP)" "2 3" "...on one connection"

control HTTP 503
is "$(pcurl "http://127.0.0.1:$HTTP/")" "503 0" "control file: 503"
control HTTP down
is "$(pcurl "http://127.0.0.1:$HTTP/")" "000 7" "control file: down = refused"
control HTTP 200
is "$(pcurl "http://127.0.0.1:$HTTP/")" "200 0" "up again on the same port"
control HTTP reset
is "$(pcurl "http://127.0.0.1:$HTTP/")" "000 56" "control file: reset"
control HTTP close
is "$(pcurl "http://127.0.0.1:$HTTP/")" "000 52" "control file: close = empty reply"
control HTTP hang
is "$(pcurl -m 1 "http://127.0.0.1:$HTTP/")" "000 28" "control file: hang"

start_server STAT http --status 500
is "$(pcurl "http://127.0.0.1:$STAT/")" "500 0" "--status 500"

start_server HANG hang
is "$(pcurl -m 1 "http://127.0.0.1:$HANG/")" "000 28" "hang: never answers"
is "$(conns HANG)" 1 "hang: accepted the connection"

start_server RST reset
like "$(pcurl "http://127.0.0.1:$RST/")" "^000 (7|55|56)$" "reset: connection reset (curl may see it at connect, send or recv)"

start_server BH blackhole
timed ms pcurl --connect-timeout 1 "http://127.0.0.1:$BH/" >"$T/out"
is "$(cat "$T/out")" "000 28" "blackhole: curl's connect times out"
cmp_ok "$ms" '>=' 900 "blackhole: ...after its 1 s connect timeout ($ms ms)"
out=$("$PY" -c '
import socket, sys
s = socket.socket(); s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1]))); print("connected")
except socket.timeout:
    print("timeout")
' "$BH")
is "$out" timeout "blackhole: a python connect times out too"

start_server BH6 blackhole --host ::1
is "$(pcurl --connect-timeout 1 "http://[::1]:$BH6/")" "000 28" "blackhole on ::1"

start_server G greet
out=$("$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
a = s.recv(100); s.sendall(b"HELO x\r\n"); b = s.recv(100)
print((a + b).decode().replace("\r\n", "|"))
' "$G")
is "$out" "220 faultserver ready|250 ok|" "greet: banner first, then answers"

start_server SLOW slow --delay 0.5
timed ms pcurl "http://127.0.0.1:$SLOW/" >"$T/out"
is "$(cat "$T/out")" "200 0" "slow: answers"
cmp_ok "$ms" '>=' 450 "slow: ...after --delay ($ms ms)"

start_server BW bytewise
is "$(pcurl "http://127.0.0.1:$BW/")" "200 0" "bytewise: a whole response"

start_server BIG big --body-size 300000
"$CURL" -s -m 5 -o "$T/big" "http://127.0.0.1:$BIG/"
out=$("$PY" -c '
import sys
d = open(sys.argv[1], "rb").read()
print(len(d), d == bytes((i * 7 + 3) % 256 for i in range(len(d))))' "$T/big")
is "$out" "300000 True" "big: --body-size bytes of the pattern"

start_server V6 http --host ::1
is "$(pcurl "http://[::1]:$V6/")" "200 0" "http on ::1"

P=$(closed_port)
is "$(pcurl "http://127.0.0.1:$P/")" "000 7" "closedport: refused"

kill -TERM "$HTTP_PID"
wait "$HTTP_PID"
is "$?" 0 "SIGTERM: exits 0"

done_testing
