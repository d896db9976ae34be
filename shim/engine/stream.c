/* stream.c - see stream.h.  On the call path: no malloc, no lock, no
 * stdio; errno is what the real call left, or what a refusal sets. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "core/clock.h"
#include "core/hot.h"
#include "engine/call.h"
#include "engine/gate.h"
#include "engine/real.h"
#include "engine/timer.h"
#include "engine/sig.h"
#include "engine/stream.h"
#include "engine/wait.h"

/* Nonzero if fd is still the connection e was made for (same peer). */
static int same_peer(int fd, const rc_fd *e)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	rc_dest d;
	RC_KEEP_ERRNO();
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       rc_dest_from_sockaddr(&d, (struct sockaddr *)&ss, sl) == 0 &&
	       rc_dest_equal(&d, &e->dest);
}

/* fd's number no longer holds the connection e was made for (closed
 * where the shim could not see it, and handed out again): end e's call
 * as at close, and forget the entry. */
static void stale(int fd, rc_fd *e)
{
	uint32_t ph = rc_fd_claim_open(e);
	if (ph == RC_FD_CONNECTING) {
		/* the socket to ask how the connect went is gone */
		rc_call_verdict(e, -1, 0, 0);
		rc_fd_conn_drop(e);
		rc_fd_release(e, RC_FD_NONE);
	} else if (ph != RC_FD_NONE) {
		rc_fd_release(e, rc_call_end(fd, e, ph, 0, 1));
	}
	rc_fd_forget(e);
}

/* What new_call holds while a request waits for a bulkhead's ticket (the
 * entry claimed, the breaker's admission), should a handler siglongjmp
 * out of the wait: given back, the entry IDLE, as if refused uncounted
 * (engine/sig.h). */
struct bh_held {
	rc_undo u; /* first */
	rc_fd *e;
	const rc_bk *bk;
};

static void bh_left(rc_undo *u)
{
	struct bh_held *h = (struct bh_held *)u;
	rc_gate_cancel(h->bk, &h->e->t);
	rc_fd_release(h->e, RC_FD_IDLE);
}

/* Start a new call on e (claimed, IDLE or STATUS) at the first write of a
 * request.  Return 0 (e released), or -1 with errno ECONNRESET (cut by an
 * open breaker, e back to IDLE). */
RC_HOT static int new_call(int fd, rc_fd *e, uint32_t ph, int dontwait)
{
	const rc_bk *bk = e->bk;
	if (ph == RC_FD_STATUS)
		rc_call_judge_partial(e); /* the previous response: judged by what came */
	/* inherited across fork: the parent judges its own calls; the entry
	 * is this process's from now on */
	e->pid = rc_self_pid();
	uint64_t now = rc_now_us();
	if (e->quiet) {
		/* judged above (a libcurl transfer): only its deadline here */
		rc_call_start(e, now);
		rc_fd_release(e, RC_FD_WAITING);
		return 0;
	}
	if (!rc_gate_closed(bk)) {
		if (!bk->cfg->cut_idle) {
			/* never cut: while not closed, requests go through uncounted */
			rc_fd_release(e, RC_FD_IDLE);
			return 0;
		}
		if (!same_peer(fd, e)) {
			/* the number was closed where the shim could not see it and
			 * now is something else: never cut what is not ours */
			rc_fd_conn_drop(e);
			rc_fd_release(e, RC_FD_NONE);
			return 0;
		}
	}
	/* into the entry itself (claimed): a copy from the stack was a
	 * store-forwarding stall on every request */
	if (rc_gate_admit(bk, now, e->dest.family, e->dest.addr, e->dest.port, &e->t) == RC_REJECT) {
		rc_fd_release(e, RC_FD_IDLE);
		return -1;
	}
	if (__builtin_expect(rc_gate_capped(bk), 0)) {
		if (bk->cfg->max_connections)
			rc_gate_conn_touch(bk, &e->cn);
		if (bk->cfg->max_concurrent && rc_gate_ticket(bk, &e->t, now) < 0) {
			if (!same_peer(fd, e)) {
				/* not the breaker's connection any more: never cut
				 * it, nor count it (before a refusal is counted) */
				rc_gate_cancel(bk, &e->t);
				rc_fd_conn_drop(e);
				rc_fd_release(e, RC_FD_NONE);
				return 0;
			}
			struct bh_held h = { .e = e, .bk = bk };
			rc_undo_push(&h.u, bh_left);
			int got = rc_gate_bulkhead(bk, &e->t, fd, dontwait || e->nonblock ? 0 : -1, 0,
						   NULL, &now, e->dest.family, e->dest.addr,
						   e->dest.port);
			rc_undo_pop(&h.u);
			if (got == RC_REJECT) {
				rc_fd_release(e, RC_FD_IDLE);
				return -1;
			}
		}
	}
	rc_call_start(e, now);
	rc_fd_release(e, RC_FD_WAITING);
	return 0;
}

/* The first bytes of e's request went out: from now on its answer is
 * awaited, bounded by response_timeout wherever the program waits. */
RC_HOT static void request_sent(rc_fd *e)
{
	rc_fd_flag_set(e, RC_CALL_WROTE);
	if (e->rt_ms)
		rc_timer_arm(e, e->start_us + e->rt_ms * 1000, RC_DL_RESPONSE);
}

/* A new call on e (claimed, IDLE) in the common case: the breaker closed,
 * no bulkhead, e this process's, nothing that could log.  Return nonzero
 * if started (e released, WAITING), 0 if new_call must decide (e still
 * claimed).  Outside a scope: it touches neither errno nor a hooked call
 * (the clock is the vDSO's), and a scope's guard and errno save were a
 * fifth of the write side's instructions. */
RC_HOT static inline int quick_call(rc_fd *e)
{
	const rc_bk *bk = e->bk;
	if (e->quiet || e->pid != rc_self_pid() || rc_gate_capped(bk) ||
	    !rc_gate_admit_quick(bk, &e->t))
		return 0;
	rc_call_start(e, rc_now_us());
	rc_fd_release(e, RC_FD_WAITING);
	return 1;
}

/* (flatten: the admission's layers below, gate.c and breaker.c, are
 * inlined here, and the verdict's into rc_read_end: 12% fewer
 * instructions per round trip than as calls; what is marked noinline,
 * the logging, stays out of line) */
RC_HOT __attribute__((flatten)) int rc_write_begin_(int fd, rc_fd *e, int dontwait)
{
	uint32_t ph = rc_fd_phase(e);
	if (ph == RC_FD_TIMEDOUT) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (ph != RC_FD_IDLE && ph != RC_FD_STATUS)
		return 0; /* a request under way, or a connect: nothing to start */
	if (!rc_fd_claim(e, ph))
		return 0; /* another thread is at it */
	if (ph == RC_FD_IDLE && quick_call(e))
		return 0;
	RC_SCOPE();
	if (new_call(fd, e, ph, dontwait) == 0)
		return 0;
	RC_ERRNO(ECONNRESET);
	return -1;
}

RC_HOT void rc_write_end_(int fd, rc_fd *e, ssize_t r, int err)
{
	uint32_t ph = rc_fd_phase(e);
	if (ph == RC_FD_WAITING) {
		if (r > 0 && !(e->flags & RC_CALL_WROTE))
			request_sent(e);
		else if (r < 0 && rc_is_net_failure(err) && rc_fd_claim(e, RC_FD_WAITING)) {
			RC_SCOPE();
			rc_fd_release(e, rc_call_end(fd, e, RC_FD_WAITING, err, 0));
		}
	} else if (ph == RC_FD_CONNECTING) {
		if ((r >= 0 || rc_is_net_failure(err)) && rc_fd_claim(e, RC_FD_CONNECTING)) {
			RC_SCOPE();
			rc_call_connected(e, r >= 0, err);
			if (r > 0 && rc_fd_phase(e) == RC_FD_WAITING)
				request_sent(e);
		}
	}
	errno = err;
}

int rc_read_begin_(int fd, rc_fd *e)
{
	if (rc_fd_phase(e) != RC_FD_WAITING || !e->rt_ms)
		return 0;
	/* A blocking read waiting for the first byte: bound it by what is
	 * left of response_timeout, unless the app's SO_RCVTIMEO is shorter. */
	RC_SCOPE();
	if (!rc_fd_same_socket(fd, e)) {
		stale(fd, e);
		return 0; /* not the breaker's connection: never bound it */
	}
	if (rc_timer_running())
		return 0; /* the timer thread ends the wait (engine/timer.h) */
	int fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK)) {
		/* made non-blocking where the shim did not see it (a dup, another
		 * process): never block it */
		e->nonblock = fl >= 0;
		return 0;
	}
	uint64_t deadline = e->start_us + e->rt_ms * 1000;
	uint64_t now = rc_now_us();
	struct timeval rcvto = { 0, 0 };
	socklen_t sl = sizeof rcvto;
	uint64_t left = now < deadline ? deadline - now : 0;
	if (left && REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rcvto, &sl) == 0 &&
	    (rcvto.tv_sec || rcvto.tv_usec) &&
	    (uint64_t)rcvto.tv_sec * 1000000 + (uint64_t)rcvto.tv_usec < left)
		return 0;
	int w = rc_wait_fd(fd, POLLIN, deadline);
	if (w != 0) {
		if (w < 0 && errno == EINTR) {
			RC_ERRNO(EINTR); /* as the read itself would have been */
			return -1;
		}
		return 0; /* something to read (or an error the read will tell) */
	}
	if (rc_fd_claim(e, RC_FD_WAITING)) {
		rc_call_verdict(e, RC_FAIL_TIMEOUT, rc_now_us(), ETIMEDOUT);
		rc_fd_release(e, RC_FD_IDLE);
	}
	RC_ERRNO(ETIMEDOUT);
	return -1;
}

RC_HOT __attribute__((flatten)) ssize_t rc_read_end(int fd, rc_fd *e, ssize_t r, int err,
						     const struct iovec *iov, int cnt)
{
	if (r <= 0 && (rc_fd_phase(e) == RC_FD_TIMEDOUT ||
		       __atomic_load_n(&e->expiring, __ATOMIC_ACQUIRE))) {
		/* woken by the timer thread's shutdown: the call timed out */
		errno = ETIMEDOUT;
		return -1;
	}
	if (r < 0 && !rc_is_net_failure(err))
		return r; /* EAGAIN, EINTR...: no news */
	if (r <= 0 && !rc_fd_same_socket(fd, e)) {
		/* an end or an error on what is no longer the breaker's
		 * connection: it judges nothing */
		RC_SCOPE();
		stale(fd, e);
		RC_ERRNO(err);
		return r;
	}
	uint32_t ph;
	if (r > 0 && rc_fd_claim(e, RC_FD_WAITING)) {
		/* the answer's first bytes, the common case: outside a scope
		 * (engine/real.h), as nothing here touches errno or calls a
		 * hook but the verdict's logging, which takes its own */
		rc_fd_release(e, rc_call_response(e, RC_FD_WAITING, iov, cnt, (size_t)r,
						  rc_now_us()));
		return r;
	}
	ph = rc_fd_claim_open(e);
	if (ph == RC_FD_NONE)
		return r;
	RC_SCOPE();
	if (ph == RC_FD_CONNECTING) {
		rc_call_connected(e, r >= 0, err);
		ph = RC_FD_WAITING;
		if (r < 0 || !rc_fd_claim(e, RC_FD_WAITING))
			goto out; /* failed (judged), or too late (judged) */
	}
	if (r > 0)
		rc_fd_release(e, rc_call_response(e, ph, iov, cnt, (size_t)r, rc_now_us()));
	else
		rc_fd_release(e, rc_call_end(fd, e, ph, r == 0 ? 0 : err, 0));
out:
	RC_ERRNO(err);
	return r;
}
