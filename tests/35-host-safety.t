#!/bin/bash
# Host safety: under the shim, a program's own calls behave as without it,
# at the edges too: recv/recvmsg with MSG_TRUNC and no buffer, recvmsg with
# a bad msghdr; an fd number reused after the socket was closed inside libc
# (fdopen + fclose) is never treated as the socket; a blocking read hit by
# a signal without SA_RESTART fails with EINTR, and goes on with SA_RESTART;
# O_NONBLOCK set through a dup is honoured; a successful connect leaves no
# EINPROGRESS in errno; a FIFO at the config path does not hang the start;
# a plugin with libcurl built in keeps its own curl_easy_init.
# The C programs are tests/clients/safety_*.c (usage in their headers).
source "$(dirname "$0")/lib.sh"
need_build

CL=$ROOT/tests/clients
for p in safety_trunc safety_recvmsg safety_fdreuse safety_eintr safety_dupnb \
	safety_errno safety_curlhost; do
	${CC:-cc} -O1 -o "$T/$p" "$CL/$p.c" 2>"$T/cc.err" ||
		bail_out "cannot build $p: $(head -c 300 "$T/cc.err")"
done
PLUGIN=$T/libsafety_curlplug.so
${CC:-cc} -O1 -shared -fPIC -o "$PLUGIN" "$CL/safety_curlplug.c" 2>"$T/cc.err" ||
	bail_out "cannot build the plugin: $(head -c 300 "$T/cc.err")"

# cf NAME: "calls failures" of breaker NAME
cf() { echo "$(json_field "$1" calls) $(json_field "$1" failures)"; }

start_server OK http
start_server HANG hang
start_server SLOW slow --delay 1.5

# ---- 1. recv*(MSG_TRUNC) into a NULL buffer ----
# On TCP the kernel discards the bytes without writing the buffer; the shim
# must not look into it (it used to parse the "answer" at NULL: SIGSEGV).
write_config
breaker trunc "match=127.0.0.1:$OK" response_timeout=3s failure_threshold=100
n=0
for via in recv recvfrom recvmsg; do
	n=$((n + 1))
	base=$("$T/safety_trunc" "$OK" "$via")
	is "$base" "trunc=16" "without the shim: $via(NULL buffer, 16, MSG_TRUNC) discards 16 bytes"
	out=$(under_shim "$T/safety_trunc" "$OK" "$via"); st=$?
	is "$st" 0 "under the shim: $via with MSG_TRUNC and a NULL buffer does not crash (exit 0)"
	is "$out" "trunc=16" "...and returns the byte count, as without the shim"
	is "$(cf trunc)" "$n 0" "...counted once, as a success (calls $n, failures 0)"
done

# ---- 2. recvmsg with a bad msghdr: EFAULT, as the kernel says ----
write_config
breaker rmsg "match=127.0.0.1:$OK" response_timeout=3s failure_threshold=100
want="null=-1/EFAULT iovnull=-1/EFAULT then=HTTP/1.1"
base=$("$T/safety_recvmsg" "$OK")
is "$base" "$want" "without the shim: recvmsg(fd, NULL, 0) and msg_iov NULL/msg_iovlen 1 fail with EFAULT"
out=$(under_shim "$T/safety_recvmsg" "$OK"); st=$?
is "$st" 0 "under the shim: recvmsg with a NULL msghdr / NULL msg_iov does not crash (exit 0)"
is "$out" "$want" "...both return -1/EFAULT, and the answer is read after them"
is "$(cf rmsg)" "1 0" "...the app's EFAULTs are no failures: 1 call (the answer), a success"

# ---- 3. a socket closed inside libc, its number reused ----
# fclose() closes the fd without going through close(): the shim still
# thinks the number is the (idle, kept-alive) connection.  Whatever takes
# the number next is not that connection: never cut (cut_idle) by the
# breaker, never counted in it.
write_config
breaker reuse "match=127.0.0.1:$OK" failure_threshold=100 open_duration=60s
FORCE="$RECLOSER -c $CFG force-open reuse >/dev/null"
for kind in open fopen pipe mkstemp; do
	want="reused=1 w=1,1,1 r=0,0,0"
	[ "$kind" = pipe ] && want="reused=1 w=1,1,1 r=-"
	what="the socket's number reused by $kind()"
	[ "$kind" = pipe ] && what="the socket's number reused by pipe()'s write end"
	base=$("$T/safety_fdreuse" "$OK" "$kind" "$T/reuse.$kind")
	is "$base" "$want" "without the shim: $what; writes and reads at EOF work"
	rc close reuse >/dev/null
	out=$(under_shim "$T/safety_fdreuse" "$OK" "$kind" "$T/reuse.$kind"); st=$?
	is "$st $out" "0 $want" "under the shim, breaker closed: $what; writes and reads at EOF as without the shim"
	# (mkstemp opens its file inside libc: the shim hooks mkstemp itself)
	is "$(counts reuse)" "1 0 0" "...the writes and EOF reads on it are not calls of the breaker (only the request: calls 1, failures 0)"
	rc close reuse >/dev/null
	out=$(under_shim "$T/safety_fdreuse" "$OK" "$kind" "$T/reuse.$kind" "$FORCE"); st=$?
	is "$(state_of reuse)" forced_open "(the program force-opened the breaker between the reuse and the writes)"
	is "$st $out" "0 $want" "breaker force-opened: writes on $what succeed, no ECONNRESET"
	is "$(counts reuse)" "1 0 0" "...nothing rejected, nothing counted but the request"
done
rc close reuse >/dev/null

# ---- 4. a blocking read and signals ----
write_config
breaker eh "match=127.0.0.1:$HANG" response_timeout=3s failure_threshold=100
breaker es "match=127.0.0.1:$SLOW" response_timeout=3s failure_threshold=100
# A handler without SA_RESTART: the kernel fails the recv with EINTR at the
# signal; the shim's wait for the answer must too, not wait on to 3 s.
base=$("$T/safety_eintr" "$HANG" norestart 1)
like "$base" '^EINTR@[0-9]+ signals=1$' "without the shim: SIGALRM (no SA_RESTART) at 1 s: recv fails with EINTR ($base)"
out=$(RUN_TIMEOUT=10 under_shim "$T/safety_eintr" "$HANG" norestart 1)
like "$out" '^EINTR@[0-9]+ signals=1$' "under the shim (response_timeout 3 s): recv fails with EINTR ($out)"
ms=$(at "$out" EINTR)
cmp_ok "$ms" '>=' 900 "...at the signal (~1 s), not before ($ms ms)"
cmp_ok "$ms" '<' 2000 "...and not at response_timeout ($ms ms)"
is "$(cf eh)" "0 0" "...abandoned before response_timeout: not counted"
# Only SA_RESTART handlers: the kernel restarts the recv, which gets the
# answer (1.5 s) after the signal (0.5 s).
base=$("$T/safety_eintr" "$SLOW" restart 0.5)
like "$base" '^s200@[0-9]+ signals=1$' "without the shim: SIGALRM (SA_RESTART) at 0.5 s: recv goes on, gets the answer ($base)"
out=$(RUN_TIMEOUT=10 under_shim "$T/safety_eintr" "$SLOW" restart 0.5)
like "$out" '^s200@[0-9]+ signals=1$' "under the shim: the SA_RESTART signal does not end the recv: the answer, not EINTR ($out)"
ms=$(at "$out" s200)
cmp_ok "$ms" '>=' 1400 "...after the server's 1.5 s ($ms ms)"
is "$(cf es)" "1 0" "...counted: 1 call, a success"

# ---- 5. O_NONBLOCK set through a dup ----
# The flag belongs to the open file description: the original fd is
# non-blocking too, though the shim saw no fcntl on it.
write_config
breaker dn "match=127.0.0.1:$HANG" response_timeout=3s failure_threshold=100
base=$("$T/safety_dupnb" "$HANG")
like "$base" '^nonblock=1 EAGAIN@' "without the shim: O_NONBLOCK set on a dup; recv on the original: EAGAIN ($base)"
out=$(RUN_TIMEOUT=10 under_shim "$T/safety_dupnb" "$HANG")
like "$out" '^nonblock=1 EAGAIN@' "under the shim (response_timeout 3 s): recv on the original: EAGAIN, not held ($out)"
ms=$(at "${out#* }" EAGAIN)
cmp_ok "$ms" '<' 200 "...at once ($ms ms)"
is "$(cf dn)" "0 0" "...given up at once, before response_timeout: not counted"

# ---- 6. errno after a successful blocking connect ----
# The shim bounds a blocking connect with a non-blocking one (EINPROGRESS)
# and a poll; that errno must not leak out of a connect that succeeded.
write_config
breaker en "match=127.0.0.1:$OK" connect_timeout=3s failure_threshold=100
base=$("$T/safety_errno" "$OK")
is "$base" "connect=0 errno=12345/-" "without the shim: a successful connect leaves errno (12345) alone"
out=$(under_shim "$T/safety_errno" "$OK")
like "$out" '^connect=0 ' "under the shim (connect_timeout 3 s): the connect succeeds ($out)"
unlike "$out" 'EINPROGRESS' "...errno is not left at EINPROGRESS"
is "$out" "$base" "...errno is unchanged (12345), as without the shim"

# ---- 7. a FIFO at the config path ----
# Opening a FIFO for reading blocks until a writer comes: the shim must not
# do that at the program's start (it reads regular files only).
mkfifo "$T/fifo.ini"
timed ms timeout 5 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/fifo.ini" /bin/true; st=$?
is "$st" 0 "RECLOSER_CONFIG is a FIFO: /bin/true exits 0 (not killed by the 5 s guard)"
cmp_ok "$ms" '<' 2000 "...at once ($ms ms)"
t0=$(now_ms)
out=$(timeout 5 env LD_PRELOAD="$SHIM" RECLOSER_CONFIG="$T/fifo.ini" \
	"$CURL" -s -o /dev/null -m 4 -w '%{http_code}' "http://127.0.0.1:$OK/"); st=$?
ms=$(elapsed_ms "$t0")
is "$st $out" "0 200" "...and curl under it gets its 200"
cmp_ok "$ms" '<' 2000 "...at once ($ms ms)"

# ---- 8. a plugin with libcurl built in, loaded RTLD_LOCAL ----
# The shim's curl_easy_init takes the plugin's internal call (preloaded
# symbols come first); it must hand it to the plugin's own, not return NULL
# for want of a file named libcurl*.so.
want="dlsym=ok plugin_fn=ok"
base=$("$T/safety_curlhost" "$PLUGIN")
is "$base" "$want" "without the shim: the plugin's curl_easy_init returns its marker"
out=$(under_shim "$T/safety_curlhost" "$PLUGIN"); st=$?
is "$st $out" "0 $want" "under the shim: through dlsym on the plugin and from inside the plugin, the plugin's marker, not NULL"
out=$(under_shim env RECLOSER_DISABLE=1 "$T/safety_curlhost" "$PLUGIN"); st=$?
is "$st $out" "0 $want" "under the shim with RECLOSER_DISABLE=1: the same"

done_testing
