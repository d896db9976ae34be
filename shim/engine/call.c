/* call.c - see call.h.  Each fd entry changes under a BUSY claim taken by
 * CAS, so a call is judged exactly once even when threads share the fd. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hot.h"
#include "core/log.h"
#include "engine/call.h"
#include "engine/gate.h"
#include "engine/real.h"
#include "engine/sig.h"

RC_HOT void rc_call_verdict(rc_fd *e, int outcome, uint64_t end_us, int err)
{
	rc_fd_disarm(e);
	if (e->quiet || e->pid != rc_self_pid() || !e->bk)
		return;
	if (outcome < 0)
		rc_gate_cancel(e->bk, &e->t);
	else
		rc_gate_verdict(e->bk, &e->t, outcome, e->start_us, end_us, e->dest.family,
				e->dest.addr, e->dest.port, err);
}

RC_HOT void rc_call_start(rc_fd *e, uint64_t now_us)
{
	rc_fd_disarm(e);
	e->expiring = 0;
	e->start_us = now_us;
	e->flags = 0;
	rc_http_init(&e->http);
}

/* The answer of e's call began at e->first_us; the reader said R (with
 * STATUS): judge the call. */
RC_HOT static void judge(rc_fd *e, int r, int status)
{
	const rc_breaker_cfg *b = e->bk->cfg;
	int outcome = RC_OK;
	if (r == RC_HTTP_STATUS && rc_status_in(b->http_failure_status, status))
		outcome = RC_FAIL;
	else if (b->response_timeout && e->first_us - e->start_us > b->response_timeout * 1000)
		outcome = RC_FAIL_TIMEOUT; /* it answered, but too late */
	rc_call_verdict(e, outcome, e->first_us, 0);
}

RC_HOT void rc_call_judge_partial(rc_fd *e)
{
	int status = 0, r = rc_http_end(&e->http, &status);
	judge(e, r, status);
}

RC_HOT uint32_t rc_call_response(rc_fd *e, uint32_t ph, const struct iovec *iov, int cnt, size_t n,
			  uint64_t now_us)
{
	int status = 0, r = RC_HTTP_MORE;
	if (!cnt) {
		/* bytes came but cannot be looked at (MSG_TRUNC): the answer
		 * began; nothing more can be told of it */
		if (!e->http.began)
			e->first_us = now_us;
		judge(e, RC_HTTP_OTHER, 0);
		return RC_FD_IDLE;
	}
	for (int i = 0; i < cnt && n > 0 && r == RC_HTTP_MORE; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
		int began = e->http.began;
		r = rc_http_feed(&e->http, iov[i].iov_base, k, &status);
		if (e->http.began && e->http.began != began)
			e->first_us = now_us; /* the answer (after any 1xx) began */
		n -= k;
	}
	if (r == RC_HTTP_MORE)
		return e->http.began ? RC_FD_STATUS : RC_FD_WAITING;
	judge(e, r, status);
	return RC_FD_IDLE;
}

static int is_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

void rc_call_connected(rc_fd *e, int ok, int err)
{
	uint64_t now = rc_now_us();
	const rc_breaker_cfg *b = e->bk->cfg;
	if (ok) {
		if (b->connect_timeout && now - e->start_us > b->connect_timeout * 1000) {
			rc_call_verdict(e, RC_CONNECT_TIMEOUT, now, ETIMEDOUT);
			rc_fd_release(e, RC_FD_IDLE);
		} else {
			e->flags = 0;
			rc_fd_disarm(e); /* connected: a response deadline comes with a request */
			rc_http_init(&e->http);
			rc_fd_release(e, RC_FD_WAITING);
		}
		return;
	}
	rc_call_verdict(e, rc_is_net_failure(err) ? RC_FAIL : -1, now, err);
	rc_fd_conn_drop(e);
	rc_fd_release(e, RC_FD_NONE);
}

uint32_t rc_call_end(int fd, rc_fd *e, uint32_t ph, int err, int closing)
{
	const rc_breaker_cfg *b = e->bk->cfg;
	uint64_t now = rc_now_us();
	if (ph == RC_FD_STATUS) {
		rc_call_judge_partial(e); /* it answered; what came decides */
		return RC_FD_IDLE;
	}
	if (ph == RC_FD_CONNECTING) {
		/* closed (or exiting) while connecting */
		int soerr = 0, outcome = -1;
		socklen_t sl = sizeof soerr;
		if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
			outcome = rc_is_net_failure(soerr) ? RC_FAIL : -1;
		else if (is_connected(fd))
			outcome = RC_OK;
		else if (b->connect_timeout && now - e->start_us > b->connect_timeout * 1000)
			outcome = RC_CONNECT_TIMEOUT; /* given up on after waiting too long */
		if (outcome == RC_OK && b->connect_timeout &&
		    now - e->start_us > b->connect_timeout * 1000)
			outcome = RC_CONNECT_TIMEOUT;
		rc_call_verdict(e, outcome, now, soerr);
		rc_fd_conn_drop(e);
		return RC_FD_NONE;
	}
	/* WAITING: no response byte */
	if (!closing) {
		/* EOF, reset or error before any response byte */
		rc_call_verdict(e, RC_FAIL, now, err);
		return RC_FD_IDLE;
	}
	uint64_t timeout = b->response_timeout;
	if (!(e->flags & RC_CALL_WROTE))
		rc_call_verdict(e, RC_OK, now, 0); /* connected, asked nothing: it worked */
	else if (timeout && now - e->start_us > timeout * 1000)
		rc_call_verdict(e, RC_FAIL_TIMEOUT, now, ETIMEDOUT); /* waited too long */
	else
		rc_call_verdict(e, -1, now, 0); /* the app gave up first: no verdict */
	rc_fd_conn_drop(e); /* NONE: the connection is no longer tracked */
	return RC_FD_NONE;
}

/* ---- fd bookkeeping ---- */

/* Nonzero in a vfork child (posix_spawn, Python's subprocess): it runs in
 * its parent's memory until it execs, so it must not touch the parent's
 * fd table when it closes or dups fds.  Only asked on a tracked fd. */
static int in_vfork_child(void)
{
	RC_KEEP_ERRNO();
	return (uint32_t)getpid() != rc_self_pid();
}

void rc_fd_closing(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	if (!e || in_vfork_child())
		return;
	RC_SCOPE();
	uint32_t ph = rc_fd_claim_open(e);
	if (ph != RC_FD_NONE)
		rc_fd_release(e, rc_call_end(fd, e, ph, 0, 1));
	/* IDLE (or a claim another thread holds): just forget it */
	rc_fd_forget(e);
}

/* The program closes (or dups over) FD: if it is the log the shim kept
 * (core/log.h), the shim gives it up. */
static inline void kept_log_gone(int fd)
{
	if (__builtin_expect(fd == rc_log_kept_fd(), 0))
		rc_log_fd_gone(fd);
}

void rc_fd_close_seen(int fd)
{
	kept_log_gone(fd);
	rc_fd *e = rc_fd_peek(fd);
	if (!e)
		return;
	if (rc_fd_phase(e) != RC_FD_NONE && !rc_guard)
		rc_fd_closing(fd);
	e->sotype = 0;
	e->checked = 0; /* whatever gets the number next may come unseen */
}


static int close_tracked(int fd, rc_fd *e, void *ctx)
{
	if (rc_fd_phase(e) != RC_FD_NONE)
		rc_fd_closing(fd);
	e->checked = 0;
	return 0;
}

void rc_fd_close_range_seen(unsigned first, unsigned last)
{
	int k = rc_log_kept_fd();
	if (k >= 0 && (unsigned)k >= first && (unsigned)k <= last)
		rc_log_fd_gone(k);
	if (!rc_guard)
		rc_fd_each(first, last, close_tracked, NULL);
}

void rc_fd_duped(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return;
	kept_log_gone(newfd);
	rc_fd *o = rc_fd_peek(oldfd);
	uint32_t ph = o ? rc_fd_phase(o) : RC_FD_NONE;
	if (ph == RC_FD_NONE || ph == RC_FD_CONNECTING || ph == RC_FD_BUSY) {
		/* a connect in flight stays with the fd it was made on */
		rc_fd *n = rc_fd_peek(newfd);
		if (n && rc_fd_phase(n) != RC_FD_NONE && !in_vfork_child())
			rc_fd_forget(n);
		return;
	}
	if (in_vfork_child())
		return;
	rc_fd *n = rc_fd_get(newfd);
	if (!n || !rc_fd_claim_any(n))
		return; /* another thread is changing it: it stays untracked */
	/* the duplicate shares the connection; the open call stays with oldfd */
	n->bk = o->bk;
	n->pid = rc_self_pid();
	n->dest = o->dest;
	n->ino = o->ino;
	n->nonblock = o->nonblock;
	n->rt = o->rt;
	n->quiet = o->quiet;
	n->checked = 1;
	n->ct_ms = o->ct_ms;
	n->rt_ms = o->rt_ms;
	n->sotype = SOCK_STREAM;
	n->cn.i = -1; /* the connection's record stays with oldfd */
	rc_fd_release(n, ph == RC_FD_TIMEDOUT ? RC_FD_TIMEDOUT : RC_FD_IDLE);
}

void rc_fd_fresh(int fd, int sotype, int active)
{
	/* ACTIVE (the shim is), every fd made where the shim sees it is
	 * marked checked (an accepted connection is never taken for an
	 * outgoing one) */
	rc_fd *e = sotype || active ? rc_fd_get(fd) : rc_fd_peek(fd);
	if (!e)
		return;
	rc_fd_forget(e);
	if (e->pend)
		rc_fd_pend_drop(e); /* a number closed unseen: its record goes */
	e->sotype = (uint8_t)sotype;
	e->nonblock = 0;
	e->checked = 1;
	__atomic_store_n(&e->tls, NULL, __ATOMIC_RELAXED);
	if (sotype == SOCK_STREAM)
		rc_sig_first_look(); /* before any deadline of this thread's */
}

void rc_fd_nonblock(int fd, int nb)
{
	rc_fd *e = rc_fd_peek(fd);
	if (e && e->nonblock != nb)
		e->nonblock = (uint8_t)nb;
}

static int end_at_exit(int fd, rc_fd *e, void *ctx)
{
	if (e->pid != rc_self_pid())
		return 0;
	uint32_t ph = rc_fd_claim_open(e);
	if (ph != RC_FD_NONE)
		rc_fd_release(e, rc_call_end(fd, e, ph, 0, 1));
	return 0;
}

void rc_calls_at_exit(void)
{
	rc_fd_each(0, ~0u, end_at_exit, NULL);
}

void rc_fd_received(const struct msghdr *m)
{
	if (in_vfork_child())
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const int *fds = (const int *)(const void *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, fds + i, sizeof fd);
			rc_fd *e = rc_fd_peek(fd);
			if (!e)
				continue;
			if (rc_fd_phase(e) != RC_FD_NONE)
				rc_fd_closing(fd); /* the number was closed unseen */
			e->checked = 0; /* looked at on its first use */
		}
	}
}
