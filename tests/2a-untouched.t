#!/bin/bash
# Unix sockets, UDP and unmatched destinations are untouched, even while
# breakers that match every IPv4 and IPv6 address are forced open.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
start_server OTHER http
P=$(closed_port)
write_config connect_timeout=2s
breaker all4 "match=0.0.0.0/0:$HTTP, 0.0.0.0/0:$P" failure_threshold=2 open_duration=60s
breaker allv6 "match=[::/0]:$HTTP"

rc force-open all4 >/dev/null
rc force-open allv6 >/dev/null

out=$(pyc unix "$T")
is "$out" unix=ok "AF_UNIX listener and socketpair work under forced-open breakers"
out=$(pyc udp 127.0.0.1)
is "$out" udp=ok "UDP connect/send/recv on 127.0.0.1 works"
out=$(pyc udp ::1)
is "$out" udp=ok "UDP on ::1 works"
out=$(under_shim "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
print("connected")' "$HTTP")
is "$out" connected "UDP connect to a matched address:port is not rejected"
is "$(counts all4)" "0 0 0" "none of that was counted"

# Unmatched TCP destination while the breaker is open.
is "$(scurl "http://127.0.0.1:$OTHER/")" 200 "curl to an unmatched port works while all4 is forced open"
out=$(pyc connect 127.0.0.1 "$OTHER" -n 5 --request)
is "$(kv "$out" s200)" 5 "python to an unmatched port: 5 requests answered ($out)"
is "$(conns OTHER)" 6 "the unmatched server saw all 6 connections"
# ... and the matched one is indeed rejected (the breakers are live).
is "$(scurl "http://127.0.0.1:$HTTP/"; echo " $?")" "000 7" "curl to the matched port: rejected"
is "$(json_field all4 rejected)" 1 "all4: 1 rejected"
is "$(json_field all4 calls)" 0 "all4: no call counted for the unmatched traffic"

# Failures to unmatched destinations count nowhere.
rc close all4 >/dev/null
P2=$(closed_port)
for i in 1 2 3; do scurl "http://127.0.0.1:$P2/" >/dev/null; done
is "$(counts all4)" "0 0 0" "failures to an unmatched port are not counted"
is "$(state_of all4)" closed "...and open nothing"

# The first matching breaker in file order wins.
write_config connect_timeout=2s
breaker first "match=127.0.0.1:$HTTP"
breaker second "match=127.0.0.0/8"
scurl "http://127.0.0.1:$HTTP/" >/dev/null
scurl "http://127.0.0.1:$OTHER/" >/dev/null
is "$(json_field first calls) $(json_field second calls)" "1 1" "first match in file order wins"

done_testing
