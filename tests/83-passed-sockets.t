#!/bin/bash
# Sockets the program never connected itself: received over a Unix socket
# (SCM_RIGHTS, as from a supervisor or a connection broker) or inherited
# across exec.  The shim maps such a socket to its breaker by its peer at
# its first use (engine/connect.h, rc_fd_adopt): its requests are calls,
# judged, and cut while the breaker is open, like any other.  What is not
# a breaker's (the Unix socket itself, pipes, files) is left alone.
source "$(dirname "$0")/lib.sh"
need_build

P="$PY $ROOT/tests/clients/passed.py"
start_server H http

# passed HOW N: the client's N requests on a connection handed to it the
# HOW way (scm: by a broker over a Unix socket; exec: inherited), its
# lines on stdout.  Neither broker runs under the shim.
passed() {
	if [ "$1" = scm ]; then
		local sock=$T/broker.sock bpid
		rm -f "$sock"
		$P broker scm "$H" "$sock" >"$T/broker.out" 2>&1 &
		bpid=$!
		wait_until 5000 grep -q READY "$T/broker.out" || bail_out "the broker did not start"
		under_shim $P client scm "$sock" "$2" 2>&1
		wait $bpid
	else
		$P broker exec "$H" -- env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$CFG" \
			$P client exec 3 "$2" 2>&1
	fi
}

for how in scm exec; do
	write_config
	breaker "p$how" "match=127.0.0.1:$H" failure_threshold=2 open_duration=60s
	control H 200
	n=$(reqs H)
	out=$(passed $how 2)
	what="a socket inherited across exec"
	[ $how = scm ] && what="a socket received over SCM_RIGHTS"
	is "$(tr '\n' ' ' <<<"$out")" "0 200 1 200 " "$what: 2 requests answered" || diag "$out"
	is "$(counts "p$how")" "2 0 0" "...seen by the shim: 2 calls"
	control H 503
	out=$(passed $how 4)
	is "$(tr '\n' ' ' <<<"$out")" "0 503 1 503 2 ERR ECONNRESET 3 ERR ECONNRESET " \
		"$what: 503, 503 open the breaker; the next requests on it are cut (ECONNRESET)" || diag "$out"
	is "$(counts "p$how")" "4 2 2" "...4 calls, 2 failures, 2 rejected"
	is "$(reqs H)" $((n + 4)) "...the cut requests never reached the server"
done
control H 200

# the Unix socket that carried it, and pipes, are no breaker's: untouched
write_config
breaker any "match=127.0.0.1:*" failure_threshold=1
out=$(under_shim "$PY" -c '
import os, socket
a, b = socket.socketpair()
r, w = os.pipe()
socket.send_fds(a, [b"x"], [w])
_, fds, _, _ = socket.recv_fds(b, 16, 1)
os.write(fds[0], b"through a received pipe")
print(os.read(r, 100).decode())' 2>&1)
is "$out" "through a received pipe" "a pipe received over SCM_RIGHTS works as before"
is "$(counts any)" "0 0 0" "...and is no call"

done_testing
