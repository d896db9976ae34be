/* connect.c - see connect.h.  A blocking connect is bounded by
 * connect_timeout (done non-blocking plus a bounded wait, the socket's
 * flags restored exactly); a non-blocking one is settled later by the
 * first I/O, getsockopt(SO_ERROR) or close. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>

#include "core/clock.h"
#include "core/match.h"
#include "engine/call.h"
#include "engine/connect.h"
#include "engine/gate.h"
#include "engine/names.h"
#include "engine/real.h"
#include "engine/sig.h"
#include "engine/timer.h"
#include "engine/wait.h"

/* No verdict yet (still in flight), and not the service's failure. */
#define PENDING (-1)
#define NOT_OURS (-2)

static int outcome_of_err(int err)
{
	return rc_is_net_failure(err) ? RC_FAIL : NOT_OURS;
}

/* A connect on an fd whose earlier connect is still in flight: the app is
 * asking how it went (or retrying after EINTR).  Pass through; settle. */
static int connect_again(int fd, rc_fd *e, const struct sockaddr *sa, socklen_t len)
{
	int fl = REAL(fcntl)(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK) && e->ct_ms) {
		/* a blocking retry (after EINTR): wait, bounded by what is left */
		int w = rc_wait_fd(fd, POLLOUT, e->start_us + e->ct_ms * 1000);
		if (w == 0) {
			if (rc_fd_claim(e, RC_FD_CONNECTING)) {
				RC_SCOPE();
				rc_call_verdict(e, RC_CONNECT_TIMEOUT, rc_now_us(), ETIMEDOUT);
				rc_fd_conn_drop(e);
				rc_fd_release(e, RC_FD_NONE);
			}
			errno = ETIMEDOUT;
			return -1;
		}
		if (w < 0 && errno == EINTR)
			return -1;
	}
	int r = REAL(connect)(fd, sa, len), err = errno;
	if ((r == 0 || err == EISCONN || rc_is_net_failure(err)) && rc_fd_claim(e, RC_FD_CONNECTING)) {
		RC_SCOPE();
		rc_call_connected(e, r == 0 || err == EISCONN, err);
	}
	errno = err;
	return r;
}

/* Blocking connect bounded by TIMEOUT_MS from START_US.  Return as
 * connect does; *OUTCOME is RC_OK, RC_FAIL, RC_CONNECT_TIMEOUT, PENDING or
 * NOT_OURS. */
static int bounded_connect(int fd, int flags, const struct sockaddr *sa, socklen_t len,
			   uint64_t start_us, uint64_t timeout_ms, int *outcome)
{
	if (REAL(fcntl)(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int r = REAL(connect)(fd, sa, len); /* cannot bound it: plain connect */
		*outcome = r == 0 ? RC_OK : outcome_of_err(errno);
		return r;
	}
	int r = REAL(connect)(fd, sa, len), err = errno;
	if (r == 0 || err != EINPROGRESS) {
		REAL(fcntl)(fd, F_SETFL, flags);
		*outcome = r == 0 ? RC_OK : outcome_of_err(err);
		errno = err;
		return r;
	}
	int w = rc_wait_fd(fd, POLLOUT, start_us + timeout_ms * 1000);
	err = errno;
	if (w <= 0) {
		REAL(fcntl)(fd, F_SETFL, flags);
		/* timed out; or EINTR, as the kernel does: the connect goes on */
		*outcome = w == 0 ? RC_CONNECT_TIMEOUT : err == EINTR ? PENDING : NOT_OURS;
		errno = w == 0 ? ETIMEDOUT : err;
		return -1;
	}
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	REAL(fcntl)(fd, F_SETFL, flags);
	if (soerr == 0) {
		*outcome = RC_OK;
		return 0;
	}
	*outcome = outcome_of_err(soerr);
	errno = soerr;
	return -1;
}

/* The breaker for D, or NULL: the first in file order, by address or by
 * a name this process resolved to it. */
static const rc_bk *breaker_for(const rc_live *L, const rc_dest *d)
{
	char names[4][RC_HOST_MAX];
	const char *np[4];
	unsigned nn = rc_names_lookup(d->family, d->addr, names, 4);
	for (unsigned i = 0; i < nn; i++)
		np[i] = names[i];
	return rc_live_breaker(L, rc_match(L->cfg, d->family, d->addr, d->port, np, nn));
}

/* Nonzero if fd is a stream socket (the type cached by socket(), else
 * asked). */
static int is_stream(int fd, const rc_fd *e)
{
	int type = e ? e->sotype : 0;
	if (!type) { /* a socket made where socket() was not seen */
		RC_KEEP_ERRNO();
		socklen_t tl = sizeof type;
		if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
			type = 0;
	}
	return type == SOCK_STREAM;
}

/* Nonzero if the app's own SO_SNDTIMEO bounds a blocking connect at
 * least as tightly as B's connect_timeout. */
static int app_bounds_it(int fd, const rc_breaker_cfg *b, uint64_t *app_msp)
{
	struct timeval sndto = { 0, 0 };
	socklen_t sl = sizeof sndto;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &sndto, &sl) != 0 ||
	    !(sndto.tv_sec || sndto.tv_usec))
		return 0;
	uint64_t app_ms = (uint64_t)sndto.tv_sec * 1000 + (uint64_t)sndto.tv_usec / 1000;
	*app_msp = app_ms ? app_ms : 1;
	return !b->connect_timeout || app_ms <= b->connect_timeout;
}

/* Make e (claimed) the entry of fd, connected or connecting to D of BK,
 * its call started at START_US; QUIET: judged above the socket (a libcurl
 * transfer), tracked for its deadlines only. */
static void track(int fd, rc_fd *e, const rc_bk *bk, const rc_dest *d, uint64_t start_us,
		  int quiet)
{
	const rc_breaker_cfg *b = bk->cfg;
	e->bk = bk;
	e->pid = rc_self_pid();
	e->dest = *d;
	e->ino = rc_fd_inode(fd);
	e->quiet = (uint8_t)quiet;
	__atomic_store_n(&e->tls, NULL, __ATOMIC_RELAXED);
	e->rt = b->response_timeout != 0;
	e->ct_ms = b->connect_timeout;
	e->rt_ms = b->response_timeout;
	e->cn.i = -1;
	rc_call_start(e, start_us);
}

/* The end of rc_connect's call on fd to D of BK, started at START_US
 * (FLAGS: the socket's, BLOCKING if it was), with OUTCOME (errno ERR):
 * tracked as connected or still connecting, or judged, or given up. */
static void settle(int fd, const rc_bk *bk, const rc_dest *d, uint64_t start_us, int blocking,
		   int flags, rc_ticket *t, rc_bh_hold *cn, int outcome, int err)
{
	const rc_breaker_cfg *b = bk->cfg;
	rc_fd *ne = (outcome == RC_OK || outcome == PENDING) ? rc_fd_get(fd) : NULL;
	if (ne && !rc_fd_claim_any(ne))
		ne = NULL; /* another thread is at the entry: leave it untracked */
	if (ne) {
		/* connected (the call goes on until the first response byte) or
		 * still connecting (settled by I/O, SO_ERROR or close) */
		track(fd, ne, bk, d, start_us, 0);
		ne->nonblock = !blocking && flags >= 0;
		ne->t = *t;
		ne->cn = *cn;
		rc_fd_release(ne, outcome == RC_OK ? RC_FD_WAITING : RC_FD_CONNECTING);
		if (outcome == PENDING && b->connect_timeout)
			rc_timer_arm(ne, start_us + b->connect_timeout * 1000, RC_DL_CONNECT);
	} else if (outcome == RC_OK || outcome == PENDING || outcome == NOT_OURS) {
		rc_gate_cancel(bk, t); /* untracked, or the app's own error */
		rc_gate_conn_give(bk, cn);
	} else {
		rc_gate_verdict(bk, t, outcome, start_us, rc_now_us(), d->family, d->addr, d->port,
				err);
		rc_gate_conn_give(bk, cn);
	}
}

/* What rc_connect holds from its admission on, should a handler
 * siglongjmp out of a wait in it (for a bulkhead's ticket, for the
 * connect itself): given up as when the wait ends with EINTR
 * (engine/sig.h).  Admitted only: the ticket is cancelled.  Connecting:
 * the socket's flags are put back, the wait's record in the slot dropped,
 * and the socket tracked as still connecting, as the kernel leaves it
 * (judged by its connect_timeout, its first I/O or its close). */
enum { HELD_ADMITTED = 1, HELD_BOUNDED = 2, HELD_KERNEL = 3 };
struct held {
	rc_undo u; /* first */
	int stage, fd, flags, blocking, pi;
	uint64_t pv, start_us;
	const rc_bk *bk;
	const rc_dest *d;
	rc_ticket *t;
	rc_bh_hold *cn;
	rc_live **L;
};

static void connect_left(rc_undo *u)
{
	struct held *h = (struct held *)u;
	if (h->stage == HELD_ADMITTED) {
		rc_gate_cancel(h->bk, h->t);
		rc_gate_conn_give(h->bk, h->cn);
	} else {
		if (h->stage == HELD_BOUNDED) {
			REAL(fcntl)(h->fd, F_SETFL, h->flags);
			rc_breaker_pend_drop(h->bk->slot, h->pi, h->pv);
		}
		settle(h->fd, h->bk, h->d, h->start_us, h->blocking, h->flags, h->t, h->cn, PENDING,
		       EINTR);
	}
	rc_live_unuse_at(h->L);
}

int rc_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	rc_dest d;
	if (rc_dest_from_sockaddr(&d, sa, len) < 0) {
		if (rc_fd_tracked(fd))
			rc_fd_closing(fd); /* AF_UNSPEC dissolves the association */
		return REAL(connect)(fd, sa, len);
	}
	rc_fd *e = rc_fd_peek(fd);
	if (e) {
		uint32_t ph = rc_fd_phase(e);
		if (ph == RC_FD_CONNECTING)
			return connect_again(fd, e, sa, len);
		if (ph == RC_FD_TIMEDOUT && e->dl_kind == RC_DL_CONNECT) {
			errno = ETIMEDOUT; /* how the connect went: it timed out */
			return -1;
		}
		if (ph != RC_FD_NONE)
			rc_fd_closing(fd); /* reconnected: what it was is over */
	}
	rc_live_maybe_reload(rc_now_ms());
	RC_LIVE_USE(L); /* held until the entry refers to the breaker */
	const rc_bk *bk = L ? breaker_for(L, &d) : NULL;
	if (!bk || !is_stream(fd, e))
		return REAL(connect)(fd, sa, len); /* unmatched, UDP and friends: untouched */
	const rc_breaker_cfg *b = bk->cfg;
	if (rc_curl_depth > 0) {
		/* inside a libcurl transfer: it is judged whole, at the transfer
		 * level; here only an open breaker's refusal applies, and the
		 * socket is tracked quietly for response_timeout's sake */
		if (rc_gate_refusing(bk)) {
			errno = b->reject_errno;
			return -1;
		}
		int r = REAL(connect)(fd, sa, len), err = errno;
		if (b->response_timeout && (r == 0 || err == EINPROGRESS)) {
			RC_SCOPE();
			rc_fd *ne = rc_fd_get(fd);
			if (ne && rc_fd_claim_any(ne)) {
				track(fd, ne, bk, &d, rc_now_us(), 1);
				rc_fd_release(ne, r == 0 ? RC_FD_IDLE : RC_FD_CONNECTING);
			}
		}
		errno = err;
		return r;
	}
	RC_SCOPE();
	rc_ticket t;
	uint64_t start_us = rc_now_us();
	if (rc_gate_admit(bk, start_us, d.family, d.addr, d.port, &t) == RC_REJECT) {
		RC_ERRNO(b->reject_errno);
		return -1;
	}
	int flags = REAL(fcntl)(fd, F_GETFL);
	int blocking = flags >= 0 && !(flags & O_NONBLOCK);
	int r, err, outcome;
	rc_bh_hold cn = { -1, 0 };
	int waited = 0;
	struct held h = { .stage = HELD_ADMITTED, .fd = fd, .flags = flags, .blocking = blocking,
			  .pi = -1, .start_us = start_us, .bk = bk, .d = &d, .t = &t, .cn = &cn,
			  .L = &L };
	rc_undo_push(&h.u, connect_left);
	if (__builtin_expect(rc_gate_capped(bk), 0)) {
		/* bulkheads: a ticket (and a connection record), waited for
		 * no longer than the connect itself may take; the wait is part
		 * of the connect: its deadline runs from before it */
		uint64_t w = start_us;
		if (rc_gate_bulkhead(bk, &t, fd, blocking, b->connect_timeout, &cn, &w,
				     d.family, d.addr, d.port) == RC_REJECT) {
			rc_undo_pop(&h.u);
			RC_ERRNO(b->reject_errno);
			return -1;
		}
		waited = w != start_us;
	}
	uint64_t app_ms = 0, bound_ms = b->connect_timeout;
	int app = blocking && (b->connect_timeout || waited) && app_bounds_it(fd, b, &app_ms);
	if (app && waited) {
		/* the program's SO_SNDTIMEO, less what the wait for a ticket
		 * took: the shim bounds the rest itself, not the kernel anew */
		bound_ms = app_ms;
		app = 0;
	}
	if (!blocking || !bound_ms || app) {
		/* non-blocking, or the kernel's own bound applies: pass through */
		h.stage = HELD_KERNEL;
		r = REAL(connect)(fd, sa, len);
		err = errno;
		outcome = r == 0 ? RC_OK
			: (err == EINPROGRESS || err == EINTR) ? PENDING : outcome_of_err(err);
	} else {
		/* the wait is kept in the slot: judged even if the process dies in it */
		uint64_t pv = 0;
		int pi = rc_breaker_pend_add(bk->slot, rc_self_pid(),
					     start_us / 1000 + bound_ms + 1, 1, &t, &pv);
		h.pi = pi;
		h.pv = pv;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		h.stage = HELD_BOUNDED;
		r = bounded_connect(fd, flags, sa, len, start_us, bound_ms, &outcome);
		err = errno;
		rc_breaker_pend_drop(bk->slot, pi, pv);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		h.stage = HELD_KERNEL; /* the flags are the program's again */
	}
	rc_undo_pop(&h.u);
	settle(fd, bk, &d, start_us, blocking, flags, &t, &cn, outcome, err);
	if (r != 0)
		RC_ERRNO(err);
	return r;
}

void rc_settle_so_error(int fd, rc_fd *e, int val)
{
	RC_SCOPE();
	if (val != 0) {
		if (rc_fd_claim(e, RC_FD_CONNECTING))
			rc_call_connected(e, 0, val);
	} else {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    rc_fd_claim(e, RC_FD_CONNECTING))
			rc_call_connected(e, 1, 0);
	}
}

rc_fd *rc_fd_adopt(int fd)
{
	rc_fd *e = rc_fd_get(fd);
	if (!e || rc_guard || rc_curl_depth > 0)
		return e;
	RC_SCOPE();
	uint32_t ph = rc_fd_phase(e);
	if (ph != RC_FD_NONE || e->checked)
		return e;
	e->checked = 1;
	int type = 0;
	socklen_t tl = sizeof type;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	rc_dest d;
	/* SO_TYPE fails (ENOTSOCK) on what is no socket; the one fstat is
	 * track's, for the inode */
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
	    getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    rc_dest_from_sockaddr(&d, (struct sockaddr *)&ss, sl) < 0)
		return e; /* not a connected TCP socket */
	rc_live_maybe_reload(rc_now_ms());
	RC_LIVE_USE(L);
	const rc_bk *bk = L ? breaker_for(L, &d) : NULL;
	if (!bk || !rc_fd_claim(e, RC_FD_NONE))
		return e;
	track(fd, e, bk, &d, rc_now_us(), 0);
	e->sotype = SOCK_STREAM;
	int fl = REAL(fcntl)(fd, F_GETFL);
	e->nonblock = fl >= 0 && (fl & O_NONBLOCK);
	rc_fd_release(e, RC_FD_IDLE);
	return e;
}
