#!/bin/bash
# Host-name patterns match through the names the process resolved: a breaker
# on localhost:PORT trips on, and rejects, connects made by name; the same
# address reached by a process that did not resolve the name is not matched.
source "$(dirname "$0")/lib.sh"
need_build

start_server HTTP http
P=$(closed_port)

# ---- python: getaddrinfo("localhost") ----
write_config connect_timeout=2s
breaker byname "match=localhost:$P, localhost:$HTTP" failure_threshold=2 open_duration=60s
out=$(pyc connect localhost "$P" -n 2)
is "$(kv "$out" ECONNREFUSED)" 2 "python to localhost:$P (closed): refused twice ($out)"
is "$(state_of byname)" open "name pattern localhost:PORT: 2 failures by name opened it"
is "$(counts byname)" "2 2 0" "counted as 2 calls, 2 failures"
out=$(pyc connect localhost "$HTTP" -n 3 --request)
is "$(kv "$out" ECONNREFUSED)" 3 "open: python to localhost:$HTTP (a live server) is rejected ($out)"
is "$(conns HTTP)" 0 "...without a connection"
is "$(json_field byname rejected)" 3 "rejected 3"
out=$(pyc connect 127.0.0.1 "$HTTP" -n 2)
is "$(kv "$out" ok)" 2 "python to 127.0.0.1:$HTTP without resolving localhost: not matched, connects ($out)"
is "$(json_field byname rejected)" 3 "...nothing more rejected"

# ---- wildcard name pattern ----
write_config connect_timeout=2s
breaker wild2 "match=*.example.invalid:$HTTP" failure_threshold=2 open_duration=60s
rc force-open wild2 >/dev/null
out=$(pyc connect localhost "$HTTP")
is "$(kv "$out" ok)" 1 "a wildcard for other names does not match localhost ($out)"

# ---- curl with a name from /etc/hosts (resolved with getaddrinfo) ----
name=$(awk '$1 == "127.0.0.1" { for (i = 2; i <= NF; i++) if ($i != "localhost") { print $i; exit } }' /etc/hosts)
if [ -n "$name" ]; then
	write_config connect_timeout=2s
	breaker hostsname "match=$name:$P, $name:$HTTP" failure_threshold=2 open_duration=60s
	scurl "http://$name:$P/" >/dev/null
	scurl "http://$name:$P/" >/dev/null
	is "$(state_of hostsname)" open "curl http://$name:PORT (from /etc/hosts): 2 failures opened $name:PORT"
	n=$(conns HTTP)
	is "$(scurl "http://$name:$HTTP/"; echo " $?")" "000 7" "curl http://$name:$HTTP/ rejected"
	is "$(conns HTTP)" "$n" "...without a connection"
	is "$(scurl "http://127.0.0.1:$HTTP/")" 200 "curl by address (no name resolved): not matched"
else
	skip "no other name for 127.0.0.1 in /etc/hosts" 4
fi

# ---- curl http://localhost:PORT/ ----
# curl resolves "localhost" itself, without getaddrinfo: the shim knows the
# name from the libcurl URL (SPEC section 2).
write_config connect_timeout=2s
breaker lh "match=localhost:$P, localhost:$HTTP" failure_threshold=2 open_duration=60s
scurl "http://localhost:$P/" >/dev/null
scurl "http://localhost:$P/" >/dev/null
is "$(state_of lh)" open "curl http://localhost:$P/ twice: open (by the URL's name)"
is "$(scurl "http://localhost:$HTTP/"; echo " $?")" "000 7" "curl http://localhost:$HTTP/ rejected"

# ---- IPv6 literal and CIDR patterns ----
start_server V6 http --host ::1
n0=$(conns HTTP)
write_config connect_timeout=2s
breaker v6 "match=[::1]:$V6" failure_threshold=2 open_duration=60s
breaker cidr "match=127.0.0.0/8:$HTTP"
rc open v6 >/dev/null
rc open cidr >/dev/null
is "$(scurl "http://[::1]:$V6/"; echo " $?")" "000 7" "[::1]:PORT pattern: curl to [::1] rejected"
is "$(conns V6)" 0 "...without a connection"
out=$(pyc connect 127.0.0.2 "$HTTP" --timeout 2)
is "$(kv "$out" ECONNREFUSED)" 1 "127.0.0.0/8:PORT pattern: 127.0.0.2 rejected ($out)"
out=$(under_shim "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
try:
    s.connect(("::ffff:127.0.0.1", int(sys.argv[1]))); print("connected")
except OSError as e:
    print(e.__class__.__name__)' "$HTTP")
is "$out" ConnectionRefusedError "v4-mapped ::ffff:127.0.0.1 matches as IPv4: rejected"
is "$(conns HTTP)" "$n0" "the server saw none of them"
is "$(json_field cidr rejected)" 2 "cidr: 2 rejected"

# ---- IPv6: trip by failures to [::1] ----
P6=$("$PY" "$FAULT" closedport --host ::1)
write_config connect_timeout=2s
breaker v6dead "match=[::1]:$P6" failure_threshold=2 open_duration=60s
scurl "http://[::1]:$P6/" >/dev/null
scurl "http://[::1]:$P6/" >/dev/null
is "$(counts v6dead)" "2 2 0" "curl to [::1]:closed twice: 2 failures"
is "$(state_of v6dead)" open "...open"
out=$(pyc connect ::1 "$P6")
is "$(kv "$out" ECONNREFUSED) $(json_field v6dead rejected)" "1 1" "python to [::1] rejected"

done_testing
