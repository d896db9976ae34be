/* tls.c - see tls.h.  On the call path: no malloc, no lock, no stdio. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/clock.h"
#include "core/hash.h"
#include "engine/call.h"
#include "engine/connect.h"
#include "engine/gate.h"
#include "engine/init.h"
#include "engine/lib.h"
#include "engine/real.h"
#include "engine/stream.h"
#include "engine/timer.h"
#include "engine/tls.h"

#define RC_TLS(lib, ret, name, params) ret (*real_##name) params;
#define RC_TLS_USE RC_TLS
#include "hooks/tls.def"

__thread int rc_tls_depth __attribute__((tls_model("initial-exec")));
__thread rc_tls_op *rc_tls_cur __attribute__((tls_model("initial-exec")));

/* ---- finding the libraries ---- */

static int resolved[2]; /* per enum rc_tls_lib: 1 once its functions are set */

static int ready(int lib)
{
	if (__builtin_expect(__atomic_load_n(&resolved[lib], __ATOMIC_ACQUIRE), 1))
		return 1;
	RC_SCOPE();
	void *h = rc_lib_find(lib == RC_TLS_OSSL ? "SSL_read" : "gnutls_record_recv");
	if (!h)
		return 0;
	enum { OSSL = RC_TLS_OSSL, GNUTLS = RC_TLS_GNUTLS };
#define RC_TLS(l, ret, name, params) \
	if (l == lib) \
		__atomic_store_n(&real_##name, (ret(*) params)dlsym(h, #name), __ATOMIC_RELAXED);
#define RC_TLS_USE RC_TLS
#include "hooks/tls.def"
	int ok = lib == RC_TLS_OSSL
		? real_SSL_write && real_SSL_write_ex && real_SSL_read && real_SSL_read_ex &&
		  real_SSL_connect && real_SSL_do_handshake && real_SSL_free && real_SSL_get_fd &&
		  real_SSL_get_error
		: real_gnutls_record_send && real_gnutls_record_recv && real_gnutls_handshake &&
		  real_gnutls_deinit && real_gnutls_error_is_fatal;
	if (ok)
		__atomic_store_n(&resolved[lib], 1, __ATOMIC_RELEASE);
	return ok;
}

/* ---- sessions SSL_get_fd cannot map: session -> fd ---- */

#define TS_SLOTS 4096u
#define TS_PROBE 32u
#define TS_GONE ((void *)1)

static struct { void *sess; int fd; } ts[TS_SLOTS];

static int ts_get(const void *s)
{
	unsigned h = rc_hash_ptr(s);
	for (unsigned i = 0; i < TS_PROBE; i++) {
		unsigned k = (h + i) % TS_SLOTS;
		void *v = __atomic_load_n(&ts[k].sess, __ATOMIC_ACQUIRE);
		if (v == s)
			return __atomic_load_n(&ts[k].fd, __ATOMIC_RELAXED);
		if (!v)
			return -1;
	}
	return -1;
}

static void ts_put(void *s, int fd)
{
	unsigned h = rc_hash_ptr(s);
	for (unsigned i = 0; i < TS_PROBE; i++) {
		unsigned k = (h + i) % TS_SLOTS;
		void *v = __atomic_load_n(&ts[k].sess, __ATOMIC_ACQUIRE);
		if (v == s) {
			__atomic_store_n(&ts[k].fd, fd, __ATOMIC_RELAXED);
			return;
		}
		if (v && v != TS_GONE)
			continue;
		__atomic_store_n(&ts[k].fd, fd, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&ts[k].sess, &v, s, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return;
	}
	/* full around its hash: this session stays unmapped (judged by the
	 * socket layer, as without the TLS hooks) */
}

static void ts_del(const void *s)
{
	unsigned h = rc_hash_ptr(s);
	for (unsigned i = 0; i < TS_PROBE; i++) {
		unsigned k = (h + i) % TS_SLOTS;
		void *v = __atomic_load_n(&ts[k].sess, __ATOMIC_ACQUIRE);
		if (v == s) {
			__atomic_compare_exchange_n(&ts[k].sess, &v, TS_GONE, 0, __ATOMIC_ACQ_REL,
						    __ATOMIC_RELAXED);
			return;
		}
		if (!v)
			return;
	}
}

/* The socket of SESS, or -1. */
static int session_fd(void *sess, int lib)
{
	if (lib == RC_TLS_OSSL) {
		RC_KEEP_ERRNO();
		int fd = real_SSL_get_fd(sess);
		if (fd >= 0)
			return fd;
	}
	return ts_get(sess);
}

/* ---- a session's socket taken over from the socket layer ---- */

/* SESS is first seen on fd's entry e: what the socket layer had open on
 * it was ciphertext (no call).  A connect's call still open goes on,
 * through the handshake to its first request's answer, as on a plain
 * socket.  Return nonzero if the TLS layer drives e from now on. */
static int take_over(rc_fd *e, void *sess)
{
	if (__atomic_load_n(&e->tls, __ATOMIC_ACQUIRE) == sess)
		return 1;
	uint32_t ph = rc_fd_phase(e);
	if (ph == RC_FD_WAITING || ph == RC_FD_STATUS) {
		if (!rc_fd_claim(e, ph))
			return 0; /* another thread is at it: not this call */
		if (ph == RC_FD_WAITING && !(e->flags & RC_CALL_WROTE)) {
			/* the connect's call goes on: the handshake, or a first
			 * request that makes it */
			__atomic_store_n(&e->tls, sess, __ATOMIC_RELEASE);
			rc_fd_release(e, RC_FD_WAITING);
			return 1;
		} else {
			rc_call_verdict(e, -1, 0, 0); /* ciphertext: no call */
		}
		__atomic_store_n(&e->tls, sess, __ATOMIC_RELEASE);
		rc_fd_release(e, RC_FD_IDLE);
		return 1;
	}
	if (ph != RC_FD_IDLE)
		return 0;
	__atomic_store_n(&e->tls, sess, __ATOMIC_RELEASE);
	return 1;
}

/* The session of OP is on fd (entry e): drive e from this call on, as
 * its phase allows.  Return 0, or -1 with errno ECONNRESET: a request
 * this call starts was cut by an open breaker (op->e stays NULL). */
static int drive(rc_tls_op *op, int fd, rc_fd *e)
{
	uint32_t ph = rc_fd_phase(e);
	if (ph == RC_FD_CONNECTING) {
		/* a non-blocking connect the program waited for but did not ask
		 * about (no SO_ERROR): if it is connected, settle that now, so the
		 * handshake is the connect's call whatever the server's speed
		 * (getpeername consumes no pending error) */
		rc_settle_so_error(fd, e, 0);
		ph = rc_fd_phase(e);
	}
	if (ph == RC_FD_NONE || ph == RC_FD_BUSY || ph == RC_FD_CONNECTING)
		return 0; /* not a breaker's; or its connect is the socket layer's yet */
	op->fd = fd;
	if (ph == RC_FD_TIMEDOUT) {
		/* the call timed out (engine/timer.h): the library's own socket
		 * call tells it ETIMEDOUT, so that its state says so too (a call
		 * refused here would leave it believing an old WANT_READ) */
		op->e = e;
		return 0;
	}
	if (!take_over(e, op->sess))
		return 0;
	/* a request starts a call, and so does a handshake on a connection
	 * whose connect's call is over (after a STARTTLS-like exchange, as
	 * libpq's SSLRequest): it goes on to the first request's answer */
	if ((op->kind == RC_TLS_WRITE ||
	     (op->kind == RC_TLS_HANDSHAKE && rc_fd_phase(e) == RC_FD_IDLE)) &&
	    rc_write_begin(fd, e) < 0)
		return -1; /* errno: ECONNRESET (cut by an open breaker) */
	op->e = e;
	/* a handshake is bounded by response_timeout */
	if (op->kind == RC_TLS_HANDSHAKE && e->rt_ms && rc_fd_phase(e) == RC_FD_WAITING &&
	    !(e->flags & RC_CALL_WROTE) && !__atomic_load_n(&e->deadline, __ATOMIC_RELAXED))
		rc_timer_arm(e, rc_now_us() + e->rt_ms * 1000, RC_DL_RESPONSE);
	return 0;
}

int rc_tls_begin(rc_tls_op *op, void *sess, int lib, int kind)
{
	op->sess = sess;
	op->lib = lib;
	op->kind = kind;
	op->fd = -1;
	op->e = NULL;
	op->outer = 0;
	if (__builtin_expect(!ready(lib), 0)) {
		errno = ENOSYS;
		return -1;
	}
	op->outer = rc_tls_depth++ == 0;
	if (!op->outer || rc_guard || rc_bypass())
		return 0;
	int fd = session_fd(sess, lib);
	if (fd < 0) {
		/* not mapped yet: its first tracked socket call maps it */
		rc_tls_cur = op;
		return 0;
	}
	rc_fd *e = rc_fd_peek(fd);
	if (e && drive(op, fd, e) < 0) {
		rc_tls_depth--;
		op->outer = 0;
		return -1;
	}
	return 0;
}

int rc_tls_met(int fd, rc_fd *e)
{
	rc_tls_op *op = rc_tls_cur;
	rc_tls_cur = NULL; /* the first one only: the session's own socket */
	int saved = errno;
	ts_put(op->sess, fd);
	if (drive(op, fd, e) < 0)
		return -1;
	errno = saved;
	return 0;
}

/* What a failed call (RET) means: 0 no outcome (WANT_READ, WANT_WRITE, a
 * non-fatal GnuTLS code), 1 the end of the stream, 2 an error (*ERR). */
static int failure_of(const rc_tls_op *op, long ret, int *err)
{
	if (op->lib == RC_TLS_OSSL) {
		int saved = errno;
		int k = real_SSL_get_error(op->sess, (int)ret);
		errno = saved;
		switch (k) {
		case 6: /* SSL_ERROR_ZERO_RETURN: close_notify */
			return 1;
		case 5: /* SSL_ERROR_SYSCALL */
			if (!saved)
				return 1; /* an end of stream without close_notify */
			*err = saved;
			return rc_is_net_failure(saved) ? 2 : 0;
		case 1: /* SSL_ERROR_SSL: a protocol error, an alert */
			*err = EPROTO;
			return 2;
		default: /* WANT_READ, WANT_WRITE, WANT_X509_LOOKUP, ... */
			return 0;
		}
	}
	if (op->kind == RC_TLS_READ && ret == 0)
		return 1;
	if (!real_gnutls_error_is_fatal((int)ret))
		return 0; /* GNUTLS_E_AGAIN, _INTERRUPTED, a warning alert */
	if (ret == -110) /* GNUTLS_E_PREMATURE_TERMINATION */
		return 1;
	if (ret == -53 || ret == -54) { /* GNUTLS_E_PUSH_ERROR, _PULL_ERROR */
		*err = rc_is_net_failure(errno) ? errno : ECONNRESET;
		return 2;
	}
	*err = EPROTO;
	return 2;
}

void rc_tls_end(rc_tls_op *op, long ret, int ok, size_t n, const void *buf)
{
	rc_tls_depth--;
	if (!op->outer)
		return;
	rc_tls_cur = NULL;
	rc_fd *e = op->e;
	if (!e)
		return;
	int saved = errno;
	int fd = op->fd, err = 0;
	if (rc_fd_phase(e) == RC_FD_TIMEDOUT) {
		errno = ok ? saved : ETIMEDOUT;
		return;
	}
	int what = ok ? 3 : failure_of(op, ret, &err);
	if (op->kind == RC_TLS_WRITE) {
		ssize_t r = what == 3 ? (ssize_t)n : -1;
		rc_write_end(fd, e, r, what == 3 ? 0 : what == 1 ? EPIPE : what == 2 ? err : EAGAIN);
	} else if (op->kind == RC_TLS_READ) {
		uint32_t ph = rc_fd_phase(e);
		if (ph != RC_FD_NONE && ph != RC_FD_IDLE) {
			struct iovec iov = { (void *)buf, n };
			ssize_t r = what == 3 ? (ssize_t)n : what == 1 ? 0 : -1;
			rc_read_end(fd, e, r, what == 2 ? err : EAGAIN, &iov, what == 3 && buf ? 1 : 0);
		}
	} else if (what != 0 && !(e->flags & RC_CALL_WROTE) && rc_fd_claim(e, RC_FD_WAITING)) {
		/* the handshake of a connect's call: failed, the call failed;
		 * done, the call goes on to its first request's answer, as on a
		 * plain socket (a connection closed unused: a success) */
		if (what == 3) {
			rc_fd_disarm(e);
			rc_fd_release(e, RC_FD_WAITING);
		} else {
			rc_fd_release(e, rc_call_end(fd, e, RC_FD_WAITING, what == 2 ? err : ECONNRESET, 0));
		}
	}
	errno = !ok && rc_fd_phase(e) == RC_FD_TIMEDOUT ? ETIMEDOUT : saved;
}

void rc_tls_forget(void *sess, int lib)
{
	if (!sess || !ready(lib))
		return;
	RC_KEEP_ERRNO();
	int fd = session_fd(sess, lib);
	rc_fd *e = fd >= 0 ? rc_fd_peek(fd) : NULL;
	void *was = sess;
	if (e)
		__atomic_compare_exchange_n(&e->tls, &was, NULL, 0, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED);
	ts_del(sess);
}
