/* calls.c - what a call is (SPEC section 3): connect, the first response
 * byte, the HTTP status line, timeouts, cut_idle, close.
 *
 * Runs inside the host program's socket calls: no malloc, no lock, no
 * stdio on these paths; errno is what the real call left, or what a
 * rejection sets.  Each fd entry changes under a BUSY claim taken by CAS,
 * so a call is judged exactly once even when threads share the fd. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine/engine.h"

/* ---- the entry's claim ---- */

/* Move e from FROM to BUSY.  Return nonzero if this thread got it. */
static int claim(rc_fd *e, uint32_t from)
{
	return __atomic_compare_exchange_n(&e->phase, &from, RC_FD_BUSY, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

static void release(rc_fd *e, uint32_t to)
{
	__atomic_store_n(&e->phase, to, __ATOMIC_RELEASE);
}

/* Claim whatever open phase e is in (CONNECTING, WAITING, STATUS).
 * Return the phase claimed, or RC_FD_NONE. */
static uint32_t claim_open(rc_fd *e)
{
	for (;;) {
		uint32_t ph = rc_fd_phase(e);
		if (ph != RC_FD_CONNECTING && ph != RC_FD_WAITING && ph != RC_FD_STATUS)
			return RC_FD_NONE;
		if (claim(e, ph))
			return ph;
	}
}

/* The flags byte is also set, without the claim, by a thread that writes
 * while another reads: every change to it is an atomic or/and. */
static void flag_set(rc_fd *e, uint8_t f)
{
	__atomic_or_fetch(&e->flags, f, __ATOMIC_RELAXED);
}

static void flag_clear(rc_fd *e, uint8_t f)
{
	__atomic_and_fetch(&e->flags, (uint8_t)~f, __ATOMIC_RELAXED);
}

static const rc_breaker_cfg *breaker_of(const rc_fd *e)
{
	return &e->live->cfg->breakers[e->bidx];
}

/* Judge e's open call (claimed) if this process opened it; else drop it.
 * OUTCOME < 0: release it without a verdict. */
static void verdict(rc_fd *e, int outcome, uint64_t end_us, int err)
{
	rc_live *L = e->live;
	if (e->pid != rc_pid || !L || !L->slots[e->bidx])
		return;
	if (outcome < 0)
		rc_cancel(L->slots[e->bidx], &e->t);
	else
		rc_judge(L, e->bidx, &e->t, outcome, e->start_us, end_us, e->family, e->addr,
			 e->port, err);
}

/* ---- HTTP/1.x status line ---- */

/* Return 1 if the LEN bytes in H may still begin "HTTP/1.x NNN", 0 if
 * they cannot; *STATUS gets the code once 12 bytes are there. */
static int status_prefix(const char *h, size_t len, int *status)
{
	static const char pat[] = "HTTP/1.? ???";
	*status = 0;
	for (size_t i = 0; i < len && i < 12; i++) {
		char c = h[i];
		if (pat[i] == '?' ? (c < '0' || c > '9') : c != pat[i])
			return 0;
	}
	if (len >= 12)
		*status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	return 1;
}

/* The response of e's open call began at e->first_us with the bytes in
 * e->hbuf.  Return RC_FD_STATUS if more bytes are needed to know, else
 * judge the call and return RC_FD_IDLE.  FINAL: no more bytes will come. */
static uint32_t judge_response(rc_fd *e, int final)
{
	const rc_breaker_cfg *b = breaker_of(e);
	int status, http = status_prefix(e->hbuf, e->hlen, &status);
	if (http && !status && !final)
		return RC_FD_STATUS;
	if (!final && (status == 100 || status == 102 || status == 103))
		return RC_FD_WAITING; /* informational: the answer is still to come */
	int outcome = RC_OK;
	if (status && rc_status_in(&b->http_failure_status, status))
		outcome = RC_FAIL;
	else if (b->response_timeout && e->first_us - e->start_us > b->response_timeout * 1000)
		outcome = RC_FAIL_TIMEOUT; /* it answered, but too late */
	verdict(e, outcome, e->first_us, 0);
	return RC_FD_IDLE;
}

/* Feed response bytes to e's open call (claimed, phase PH): the first
 * bytes end it, once its HTTP status line (if any) is complete.  An
 * informational head (100, 102, 103) is skipped to its blank line: the
 * answer is the response after it, in the same read or a later one.
 * Return the phase to release e to. */
static uint32_t response_bytes(rc_fd *e, uint32_t ph, const struct iovec *iov, int cnt,
			       size_t n, uint64_t now_us)
{
	static const char eoh[4] = { '\r', '\n', '\r', '\n' };
	int i = 0;
	size_t off = 0;
	if (!cnt) {
		/* bytes came but cannot be looked at (MSG_TRUNC): the answer
		 * began; nothing more can be told of it */
		if (ph == RC_FD_WAITING)
			e->first_us = now_us;
		flag_clear(e, RC_CALL_INTERIM);
		e->hlen = 0;
		return judge_response(e, 1);
	}
	if (ph == RC_FD_WAITING && !(e->flags & RC_CALL_INTERIM)) {
		e->first_us = now_us;
		e->hlen = 0;
		if (cnt >= 1 && n >= 12 && iov[0].iov_len >= 12) {
			/* the common case: the whole status line in one buffer */
			memcpy(e->hbuf, iov[0].iov_base, 12);
			e->hlen = 12;
			off = 12;
			n -= 12;
		}
	}
	for (;;) {
		/* the next byte, across the vector */
		while (i < cnt && off >= iov[i].iov_len)
			i++, off = 0;
		int more = n > 0 && i < cnt;
		if (e->flags & RC_CALL_INTERIM) {
			if (!more)
				return RC_FD_WAITING;
			char c = ((const char *)iov[i].iov_base)[off++];
			n--;
			e->skip = c == eoh[e->skip] ? e->skip + 1 : c == '\r' ? 1 : 0;
			if (e->skip == 4) {
				flag_clear(e, RC_CALL_INTERIM);
				e->skip = 0;
				e->hlen = 0;
				e->first_us = now_us; /* the answer starts here */
			}
			continue;
		}
		if (more && e->hlen < 12) {
			e->hbuf[e->hlen++] = ((const char *)iov[i].iov_base)[off++];
			n--;
			continue;
		}
		if (!e->hlen)
			return RC_FD_WAITING; /* only an interim head so far */
		uint32_t to = judge_response(e, 0);
		if (to != RC_FD_WAITING)
			return to;
		flag_set(e, RC_CALL_INTERIM); /* a 1xx: skip its head */
		e->skip = 0;
	}
}

/* The call of e (claimed, in phase PH) ends without more bytes: EOF,
 * error, close, exit.  ERR is the errno, 0 for EOF/close. */
static uint32_t end_without_response(int fd, rc_fd *e, uint32_t ph, int err, int closing);

/* ---- signals ---- */

/* A poll the shim added to a blocking call was interrupted by a signal.
 * The kernel would restart the call itself only if the handler had
 * SA_RESTART; which signal it was is unknown, so: nonzero (restart) only
 * if every caught signal's handler has SA_RESTART.  Rare: only on EINTR. */
static int restart_after_signal(void)
{
	int saved = errno;
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sigaction(sig, NULL, &sa) != 0)
			continue;
		int caught = (sa.sa_flags & SA_SIGINFO) ? sa.sa_sigaction != NULL
							 : (sa.sa_handler != SIG_DFL &&
							    sa.sa_handler != SIG_IGN);
		if (caught && !(sa.sa_flags & SA_RESTART)) {
			errno = saved;
			return 0;
		}
	}
	errno = saved;
	return 1;
}

/* ---- connect ---- */

static int is_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/* Extract a normalised destination.  Return 0, or -1 if not IPv4/IPv6. */
static int dest_of(const struct sockaddr *sa, socklen_t len, int *family, uint8_t *addr,
		   uint16_t *port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		*family = AF_INET;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		*port = ntohs(s6->sin6_port);
		if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
			*family = AF_INET;
			memcpy(addr, (const uint8_t *)&s6->sin6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

/* A connect on e (claimed CONNECTING) finished: success moves the call on
 * to WAITING for its first response byte (too late: a timeout, judged);
 * a service failure judges it; anything else releases it unjudged. */
static void connect_done(rc_fd *e, int ok, int err)
{
	uint64_t now = rc_now_us();
	const rc_breaker_cfg *b = breaker_of(e);
	if (ok) {
		if (b->connect_timeout && now - e->start_us > b->connect_timeout * 1000) {
			verdict(e, RC_FAIL_TIMEOUT, now, ETIMEDOUT);
			release(e, RC_FD_IDLE);
		} else {
			e->flags = 0;
			release(e, RC_FD_WAITING);
		}
		return;
	}
	verdict(e, rc_is_net_failure(err) ? RC_FAIL : -1, now, err);
	release(e, RC_FD_NONE);
}

/* A connect on an fd whose earlier connect is still in flight: the app is
 * asking how it went (or retrying after EINTR).  Pass through; settle. */
static int connect_again(int fd, rc_fd *e, const struct sockaddr *sa, socklen_t len)
{
	int r, err;
	const rc_breaker_cfg *b = breaker_of(e);
	int fl = real_fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK) && b->connect_timeout) {
		/* a blocking retry (after EINTR): wait, bounded by what is left */
		uint64_t deadline = e->start_us + b->connect_timeout * 1000;
		for (;;) {
			uint64_t now = rc_now_us();
			if (now >= deadline) {
				if (claim(e, RC_FD_CONNECTING)) {
					rc_guard++;
					verdict(e, RC_FAIL_TIMEOUT, now, ETIMEDOUT);
					release(e, RC_FD_NONE);
					rc_guard--;
				}
				errno = ETIMEDOUT;
				return -1;
			}
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int n = poll(&p, 1, (int)((deadline - now + 999) / 1000));
			if (n > 0)
				break;
			if (n < 0 && errno == EINTR && !restart_after_signal()) {
				errno = EINTR;
				return -1;
			}
		}
	}
	r = real_connect(fd, sa, len);
	err = errno;
	if ((r == 0 || err == EISCONN || rc_is_net_failure(err)) && claim(e, RC_FD_CONNECTING)) {
		rc_guard++;
		connect_done(e, r == 0 || err == EISCONN, err);
		rc_guard--;
	}
	errno = err;
	return r;
}

/* Blocking connect bounded by TIMEOUT_MS: done non-blocking plus poll, the
 * socket's flags restored exactly.  Return as connect does; *OUTCOME is
 * RC_OK, RC_FAIL, RC_FAIL_TIMEOUT, -1 (no verdict yet: still in flight) or
 * -2 (not the service's failure: no verdict). */
static int bounded_connect(int fd, int flags, const struct sockaddr *sa, socklen_t len,
			   uint64_t start_us, uint64_t timeout_ms, int *outcome)
{
	if (real_fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int r = real_connect(fd, sa, len); /* cannot bound it: plain connect */
		*outcome = r == 0 ? RC_OK : rc_is_net_failure(errno) ? RC_FAIL : -2;
		return r;
	}
	int r = real_connect(fd, sa, len), err = errno;
	if (r == 0 || err != EINPROGRESS) {
		real_fcntl(fd, F_SETFL, flags);
		*outcome = r == 0 ? RC_OK : rc_is_net_failure(err) ? RC_FAIL : -2;
		errno = err;
		return r;
	}
	uint64_t deadline = start_us + timeout_ms * 1000;
	for (;;) {
		uint64_t now = rc_now_us();
		if (now >= deadline) {
			real_fcntl(fd, F_SETFL, flags);
			*outcome = RC_FAIL_TIMEOUT;
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n = poll(&p, 1, (int)((deadline - now + 999) / 1000));
		if (n < 0 && errno == EINTR) {
			if (restart_after_signal())
				continue; /* as the kernel restarts it for SA_RESTART */
			/* as the kernel does: EINTR, and the connect goes on */
			real_fcntl(fd, F_SETFL, flags);
			*outcome = -1;
			errno = EINTR;
			return -1;
		}
		if (n < 0) {
			err = errno;
			real_fcntl(fd, F_SETFL, flags);
			*outcome = -2;
			errno = err;
			return -1;
		}
		if (n == 0)
			continue;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		real_fcntl(fd, F_SETFL, flags);
		if (soerr == 0) {
			*outcome = RC_OK;
			return 0;
		}
		*outcome = rc_is_net_failure(soerr) ? RC_FAIL : -2;
		errno = soerr;
		return -1;
	}
}

int rc_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int family;
	uint8_t addr[16];
	uint16_t port;
	if (dest_of(sa, len, &family, addr, &port) < 0) {
		if (rc_fd_tracked(fd))
			rc_fd_closing(fd); /* AF_UNSPEC dissolves the association */
		return real_connect(fd, sa, len);
	}
	rc_fd *e = rc_fd_peek(fd);
	if (e) {
		uint32_t ph = rc_fd_phase(e);
		if (ph == RC_FD_CONNECTING)
			return connect_again(fd, e, sa, len);
		if (ph != RC_FD_NONE)
			rc_fd_closing(fd); /* reconnected: what it was is over */
	}
	char names[4][RC_HOST_MAX];
	const char *np[4];
	unsigned nn = rc_names_lookup(family, addr, names, 4);
	for (unsigned i = 0; i < nn; i++)
		np[i] = names[i];
	rc_maybe_reload(rc_now_ms());
	rc_live *L = rc_current();
	int idx = rc_match(L->cfg, family, addr, port, np, nn);
	if (idx < 0 || !L->slots[idx] || L->cfg->breakers[idx].mode == RC_MODE_OFF)
		return real_connect(fd, sa, len);

	int saved = errno;
	int type = e ? e->sotype : 0;
	if (!type) { /* a socket made where socket() was not seen */
		socklen_t tl = sizeof type;
		if (real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
			type = 0;
		errno = saved;
	}
	if (type != SOCK_STREAM)
		return real_connect(fd, sa, len); /* UDP and friends: untouched */

	const rc_breaker_cfg *b = &L->cfg->breakers[idx];
	rc_slot *slot = L->slots[idx];
	if (rc_curl_depth > 0) {
		/* inside a libcurl transfer: it is judged whole, at the transfer
		 * level; here only an open breaker's refusal applies */
		unsigned st = RC_W_STATE(__atomic_load_n(&slot->word, __ATOMIC_ACQUIRE));
		if (b->mode == RC_MODE_ENFORCE && (st == RC_OPEN || st == RC_FORCED_OPEN)) {
			errno = b->reject_errno;
			return -1;
		}
		return real_connect(fd, sa, len);
	}
	rc_guard++;
	rc_ticket t;
	rc_transition tr;
	tr.to = -1;
	uint64_t start_us = rc_now_us();
	int v = rc_admit(slot, b, start_us / 1000, rc_pid, &t, &tr);
	rc_log_transition(b, &tr);
	if (v == RC_REJECT) {
		rc_note_reject(L, (unsigned)idx, family, addr, port);
		rc_guard--;
		errno = b->reject_errno;
		return -1;
	}

	int flags = real_fcntl(fd, F_GETFL);
	int app_timeout = 0;
	if (flags >= 0 && !(flags & O_NONBLOCK)) {
		struct timeval sndto = { 0, 0 };
		socklen_t sl = sizeof sndto;
		if (real_getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sndto, &sl) == 0 &&
		    (sndto.tv_sec || sndto.tv_usec)) {
			uint64_t app_ms = (uint64_t)sndto.tv_sec * 1000 + (uint64_t)sndto.tv_usec / 1000;
			app_timeout = !b->connect_timeout || app_ms <= b->connect_timeout;
		}
	}
	errno = saved;

	int r, err, outcome;
	if (flags < 0 || (flags & O_NONBLOCK) || !b->connect_timeout || app_timeout) {
		/* non-blocking, or the kernel's own bound applies: pass through */
		r = real_connect(fd, sa, len);
		err = errno;
		if (r == 0)
			outcome = RC_OK;
		else if (err == EINPROGRESS || err == EINTR)
			outcome = -1;
		else
			outcome = rc_is_net_failure(err) ? RC_FAIL : -2;
	} else {
		r = bounded_connect(fd, flags, sa, len, start_us, b->connect_timeout, &outcome);
		err = errno;
	}

	rc_fd *ne = (outcome == RC_OK || outcome == -1) ? rc_fd_get(fd) : NULL;
	if (ne) {
		/* connected (the call goes on until the first response byte) or
		 * still connecting (settled by I/O, SO_ERROR or close) */
		ne->bidx = (uint16_t)idx;
		ne->live = L;
		ne->pid = rc_pid;
		ne->port = port;
		ne->family = (uint8_t)family;
		memcpy(ne->addr, addr, 16);
		ne->nonblock = flags >= 0 && (flags & O_NONBLOCK);
		ne->flags = 0;
		ne->hlen = 0;
		ne->rt = b->response_timeout != 0;
		ne->start_us = start_us;
		ne->t = t;
		release(ne, outcome == RC_OK ? RC_FD_WAITING : RC_FD_CONNECTING);
	} else if (outcome == RC_OK || outcome == -1 || outcome == -2) {
		rc_cancel(slot, &t); /* untracked, or the app's own error */
	} else {
		rc_judge(L, (unsigned)idx, &t, outcome, start_us, rc_now_us(), family, addr, port,
			 err);
	}
	rc_guard--;
	errno = r == 0 ? saved : err;
	return r;
}

void rc_settle_so_error(int fd, rc_fd *e, int val)
{
	int saved = errno;
	rc_guard++;
	if (val != 0) {
		if (claim(e, RC_FD_CONNECTING))
			connect_done(e, 0, val);
	} else if (is_connected(fd) && claim(e, RC_FD_CONNECTING)) {
		connect_done(e, 1, 0);
	}
	rc_guard--;
	errno = saved;
}

/* ---- the data path ---- */

/* Start a new call on e (claimed, IDLE or STATUS) at the first write of a
 * request.  Return 0 (phase set), or -1 with errno ECONNRESET (cut by an
 * open breaker, phase back to IDLE). */
/* Nonzero if fd is still the connection e was made for (same peer). */
static int same_peer(int fd, const rc_fd *e)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int family;
	uint8_t addr[16];
	uint16_t port;
	int saved = errno, ok = getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
			       dest_of((struct sockaddr *)&ss, sl, &family, addr, &port) == 0 &&
			       family == e->family && port == e->port &&
			       memcmp(addr, e->addr, family == AF_INET ? 4 : 16) == 0;
	errno = saved;
	return ok;
}

static int new_call(int fd, rc_fd *e, uint32_t ph)
{
	rc_live *L = e->live;
	const rc_breaker_cfg *b = breaker_of(e);
	rc_slot *slot = L->slots[e->bidx];
	if (ph == RC_FD_STATUS)
		judge_response(e, 1); /* the previous response: judged by what came */
	if (e->pid != rc_pid) {
		/* inherited across fork: the parent judges its own calls; the
		 * entry is this process's from now on */
		e->pid = rc_pid;
	}
	uint64_t now = rc_now_us();
	unsigned st = RC_W_STATE(__atomic_load_n(&slot->word, __ATOMIC_ACQUIRE));
	if (st != RC_CLOSED && st != RC_FORCED_CLOSED) {
		if (!b->cut_idle) {
			/* never cut: while not closed, requests go through uncounted */
			release(e, RC_FD_IDLE);
			return 0;
		}
		if (!same_peer(fd, e)) {
			/* the number was closed where the shim could not see it and
			 * now is something else: never cut what is not ours */
			release(e, RC_FD_NONE);
			return 0;
		}
	}
	rc_ticket t;
	rc_transition tr;
	tr.to = -1;
	int v = rc_admit(slot, b, now / 1000, rc_pid, &t, &tr);
	rc_log_transition(b, &tr);
	if (v == RC_REJECT) {
		rc_note_reject(L, e->bidx, e->family, e->addr, e->port);
		release(e, RC_FD_IDLE);
		errno = ECONNRESET;
		return -1;
	}
	e->t = t;
	e->start_us = now;
	e->flags = 0;
	e->hlen = 0;
	release(e, RC_FD_WAITING);
	return 0;
}

int rc_write_begin(int fd, rc_fd *e)
{
	uint32_t ph = rc_fd_phase(e);
	if (ph != RC_FD_IDLE && ph != RC_FD_STATUS)
		return 0; /* a request under way, or a connect: nothing to start */
	if (!claim(e, ph))
		return 0; /* another thread is at it */
	int saved = errno;
	rc_guard++;
	int r = new_call(fd, e, ph);
	rc_guard--;
	if (r == 0)
		errno = saved;
	return r;
}

void rc_write_end(int fd, rc_fd *e, ssize_t r, int err)
{
	uint32_t ph = rc_fd_phase(e);
	if (ph == RC_FD_WAITING) {
		if (r > 0 && !(e->flags & RC_CALL_WROTE))
			flag_set(e, RC_CALL_WROTE);
		else if (r < 0 && rc_is_net_failure(err) && claim(e, RC_FD_WAITING)) {
			rc_guard++;
			release(e, end_without_response(fd, e, RC_FD_WAITING, err, 0));
			rc_guard--;
		}
	} else if (ph == RC_FD_CONNECTING) {
		if ((r >= 0 || rc_is_net_failure(err)) && claim(e, RC_FD_CONNECTING)) {
			rc_guard++;
			connect_done(e, r >= 0, err);
			if (r > 0 && rc_fd_phase(e) == RC_FD_WAITING)
				flag_set(e, RC_CALL_WROTE);
			rc_guard--;
		}
	}
	errno = err;
}

int rc_read_begin_(int fd, rc_fd *e)
{
	if (rc_fd_phase(e) != RC_FD_WAITING)
		return 0;
	const rc_breaker_cfg *b = breaker_of(e);
	if (!b->response_timeout)
		return 0;
	/* A blocking read waiting for the first byte: bound it by what is
	 * left of response_timeout, unless the app's SO_RCVTIMEO is shorter. */
	int saved = errno;
	int fl = real_fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK)) {
		/* made non-blocking where the shim did not see it (a dup, another
		 * process): never block it */
		e->nonblock = fl >= 0;
		errno = saved;
		return 0;
	}
	uint64_t deadline = e->start_us + b->response_timeout * 1000;
	uint64_t now = rc_now_us();
	struct timeval rcvto = { 0, 0 };
	socklen_t sl = sizeof rcvto;
	uint64_t left = now < deadline ? deadline - now : 0;
	if (left && real_getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcvto, &sl) == 0 &&
	    (rcvto.tv_sec || rcvto.tv_usec) &&
	    (uint64_t)rcvto.tv_sec * 1000000 + (uint64_t)rcvto.tv_usec < left) {
		errno = saved;
		return 0;
	}
	for (;;) {
		int ms = now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, ms);
		if (n > 0 || (n < 0 && errno != EINTR)) {
			errno = saved;
			return 0; /* something to read (or an error the read will tell) */
		}
		if (n < 0 && !restart_after_signal()) {
			errno = EINTR; /* as the read itself would have been */
			return -1;
		}
		now = rc_now_us();
		if (n == 0 && now >= deadline)
			break;
	}
	if (claim(e, RC_FD_WAITING)) {
		rc_guard++;
		verdict(e, RC_FAIL_TIMEOUT, now, ETIMEDOUT);
		release(e, RC_FD_IDLE);
		rc_guard--;
	}
	errno = ETIMEDOUT;
	return -1;
}

void rc_read_end(int fd, rc_fd *e, ssize_t r, int err, const struct iovec *iov, int cnt)
{
	if (r < 0 && !rc_is_net_failure(err))
		return; /* EAGAIN, EINTR...: no news */
	uint32_t ph = claim_open(e);
	if (ph == RC_FD_NONE)
		return;
	rc_guard++;
	if (ph == RC_FD_CONNECTING) {
		connect_done(e, r >= 0, err);
		ph = RC_FD_WAITING;
		if (r < 0 || !claim(e, RC_FD_WAITING))
			goto out; /* failed (judged), or too late (judged) */
	}
	uint64_t now = rc_now_us();
	if (r > 0)
		release(e, response_bytes(e, ph, iov, cnt, (size_t)r, now));
	else
		release(e, end_without_response(fd, e, ph, r == 0 ? 0 : err, 0));
out:
	rc_guard--;
	errno = err;
}

static uint32_t end_without_response(int fd, rc_fd *e, uint32_t ph, int err, int closing)
{
	const rc_breaker_cfg *b = breaker_of(e);
	uint64_t now = rc_now_us();
	if (ph == RC_FD_STATUS) {
		judge_response(e, 1); /* it answered; what came decides */
		return RC_FD_IDLE;
	}
	if (ph == RC_FD_CONNECTING) {
		/* closed (or exiting) while connecting */
		int soerr = 0, outcome = -1;
		socklen_t sl = sizeof soerr;
		if (real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
			outcome = rc_is_net_failure(soerr) ? RC_FAIL : -1;
		else if (is_connected(fd))
			outcome = RC_OK;
		else if (b->connect_timeout && now - e->start_us > b->connect_timeout * 1000)
			outcome = RC_FAIL_TIMEOUT; /* given up on after waiting too long */
		if (outcome == RC_OK && b->connect_timeout &&
		    now - e->start_us > b->connect_timeout * 1000)
			outcome = RC_FAIL_TIMEOUT;
		verdict(e, outcome, now, soerr);
		return RC_FD_NONE;
	}
	/* WAITING: no response byte */
	if (!closing) {
		/* EOF, reset or error before any response byte */
		verdict(e, RC_FAIL, now, err);
		return RC_FD_IDLE;
	}
	uint64_t timeout = b->response_timeout;
	if (!(e->flags & RC_CALL_WROTE))
		verdict(e, RC_OK, now, 0); /* connected, asked nothing: it worked */
	else if (timeout && now - e->start_us > timeout * 1000)
		verdict(e, RC_FAIL_TIMEOUT, now, ETIMEDOUT); /* waited too long */
	else
		verdict(e, -1, now, 0); /* the app gave up first: no verdict */
	return RC_FD_NONE;
}

/* ---- fd bookkeeping ---- */

/* Nonzero in a vfork child (posix_spawn, Python's subprocess): it runs in
 * its parent's memory until it execs, so it must not touch the parent's
 * fd table when it closes or dups fds.  Only asked on a tracked fd. */
static int in_vfork_child(void)
{
	return (uint32_t)getpid() != rc_pid;
}

void rc_fd_closing(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	if (!e)
		return;
	int saved = errno;
	if (in_vfork_child()) {
		errno = saved;
		return;
	}
	rc_guard++;
	uint32_t ph = claim_open(e);
	if (ph != RC_FD_NONE)
		release(e, end_without_response(fd, e, ph, 0, 1));
	/* IDLE (or a claim another thread holds): just forget it */
	uint32_t cur = rc_fd_phase(e);
	if (cur != RC_FD_BUSY)
		release(e, RC_FD_NONE);
	rc_guard--;
	errno = saved;
}

void rc_fd_duped(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return;
	rc_fd *o = rc_fd_peek(oldfd);
	uint32_t ph = o ? rc_fd_phase(o) : RC_FD_NONE;
	if (ph == RC_FD_NONE || ph == RC_FD_CONNECTING || ph == RC_FD_BUSY) {
		/* a connect in flight stays with the fd it was made on */
		rc_fd *n = rc_fd_peek(newfd);
		if (n && rc_fd_phase(n) != RC_FD_NONE) {
			int saved = errno;
			if (!in_vfork_child())
				release(n, RC_FD_NONE);
			errno = saved;
		}
		return;
	}
	int saved = errno;
	int child = in_vfork_child();
	errno = saved;
	if (child)
		return;
	rc_fd *n = rc_fd_get(newfd);
	if (!n)
		return;
	/* the duplicate shares the connection; the open call stays with oldfd */
	n->bidx = o->bidx;
	n->live = o->live;
	n->pid = rc_pid;
	n->port = o->port;
	n->family = o->family;
	memcpy(n->addr, o->addr, 16);
	n->nonblock = o->nonblock;
	n->rt = o->rt;
	n->sotype = SOCK_STREAM;
	release(n, RC_FD_IDLE);
}

void rc_fd_fresh(int fd, int sotype)
{
	rc_fd *e = sotype ? rc_fd_get(fd) : rc_fd_peek(fd);
	if (!e)
		return;
	if (rc_fd_phase(e) != RC_FD_NONE)
		release(e, RC_FD_NONE);
	e->sotype = (uint8_t)sotype;
	e->nonblock = 0;
}

void rc_fd_nonblock(int fd, int nb)
{
	rc_fd *e = rc_fd_peek(fd);
	if (e && e->nonblock != nb)
		e->nonblock = (uint8_t)nb;
}

void rc_calls_at_exit(void)
{
	for (unsigned c = 0; c < RC_FD_TOP; c++) {
		rc_fd *chunk = __atomic_load_n(&rc_fd_top[c], __ATOMIC_ACQUIRE);
		if (!chunk)
			continue;
		for (unsigned i = 0; i < (1u << RC_FD_CHUNK_BITS); i++) {
			rc_fd *e = &chunk[i];
			if (e->pid != rc_pid)
				continue;
			uint32_t ph = claim_open(e);
			if (ph != RC_FD_NONE)
				release(e, end_without_response((int)((c << RC_FD_CHUNK_BITS) | i), e,
								ph, 0, 1));
		}
	}
}

/* ---- transfers (libcurl): one call per transfer ---- */

__thread int rc_curl_depth __attribute__((tls_model("initial-exec")));

/* The first breaker, in file order, for HOST (a name, or an IPv4/IPv6
 * literal, brackets allowed) and PORT; -1 if none. */
static int match_host(const rc_config *c, const char *host, uint16_t port)
{
	char h[RC_HOST_MAX];
	size_t n = strlen(host);
	if (n >= sizeof h)
		return -1;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = 0;
	} else {
		memcpy(h, host, n + 1);
	}
	uint8_t a[16];
	if (inet_pton(AF_INET, h, a) == 1)
		return rc_match(c, AF_INET, a, port, NULL, 0);
	if (inet_pton(AF_INET6, h, a) == 1)
		return rc_match(c, AF_INET6, a, port, NULL, 0);
	for (unsigned i = 0; i < c->nbreakers; i++)
		for (unsigned k = 0; k < c->breakers[i].npats; k++) {
			const rc_pattern *p = &c->breakers[i].pats[k];
			if ((p->kind == RC_PAT_HOST || p->kind == RC_PAT_WILD) &&
			    (!p->port || p->port == port) && rc_pattern_match_name(p, h))
				return (int)i;
		}
	return -1;
}

int rc_transfer_begin(const char *host, uint16_t port, rc_transfer *tx)
{
	tx->live = NULL;
	tx->bidx = -1;
	if (rc_bypass() || !host)
		return -1;
	int saved = errno;
	rc_guard++;
	uint64_t now = rc_now_us();
	rc_maybe_reload(now / 1000);
	rc_live *L = rc_current();
	int idx = match_host(L->cfg, host, port);
	int r = -1;
	if (idx >= 0 && L->slots[idx] && L->cfg->breakers[idx].mode != RC_MODE_OFF) {
		const rc_breaker_cfg *b = &L->cfg->breakers[idx];
		rc_transition tr;
		tr.to = -1;
		tx->live = L;
		tx->bidx = idx;
		tx->pid = rc_pid;
		tx->start_us = now;
		r = rc_admit(L->slots[idx], b, now / 1000, rc_pid, &tx->t, &tr) == RC_ADMIT;
		rc_log_transition(b, &tr);
		size_t hl = strnlen(host, sizeof tx->host - 1);
		memcpy(tx->host, host, hl);
		tx->host[hl] = 0;
		tx->port = port;
		if (!r)
			rc_note_reject(L, (unsigned)idx, 0, (const uint8_t *)tx->host, port);
	}
	rc_guard--;
	errno = saved;
	return r;
}

void rc_transfer_end(rc_transfer *tx, int outcome, uint64_t end_us)
{
	if (!tx->live || tx->bidx < 0 || tx->pid != rc_pid)
		return;
	int saved = errno;
	rc_guard++;
	rc_slot *s = tx->live->slots[tx->bidx];
	if (outcome == RC_TRANSFER_REJECTED) {
		rc_cancel(s, &tx->t);
		rc_count_reject(s);
		rc_note_reject(tx->live, (unsigned)tx->bidx, 0, (const uint8_t *)tx->host, tx->port);
	} else if (outcome < 0) {
		rc_cancel(s, &tx->t);
	} else {
		rc_judge(tx->live, (unsigned)tx->bidx, &tx->t, outcome, tx->start_us, end_us, 0,
			 (const uint8_t *)tx->host, tx->port, 0);
	}
	tx->live = NULL;
	rc_guard--;
	errno = saved;
}

const rc_breaker_cfg *rc_transfer_breaker(const rc_transfer *tx)
{
	return tx->live && tx->bidx >= 0 ? &tx->live->cfg->breakers[tx->bidx] : NULL;
}
