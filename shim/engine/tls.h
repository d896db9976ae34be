/* tls.h - HTTPS judged inside the TLS libraries (OpenSSL 3, GnuTLS).
 *
 * On a breaker's socket that carries a TLS session, the calls are judged
 * on the plaintext, exactly as on a plain socket (engine/stream.h): a
 * request starts at the first plaintext write after the previous response
 * began and ends at the first plaintext bytes of the response, its HTTP
 * status read there.  From the session's first sight on, the socket layer
 * stands back on that fd (its ciphertext is no call: neither the
 * handshake's round trips nor a TLS 1.3 session ticket), except that a
 * call the timer thread ended answers ETIMEDOUT there too.  The handshake
 * is part of the connect's call: completed, the connect succeeded; failed
 * (an alert, a reset, the end of the stream), it failed; bounded by
 * response_timeout.  WANT_READ/WANT_WRITE (non-blocking sessions) and
 * GnuTLS's non-fatal codes are no outcome.
 *
 * A session is mapped to its socket by SSL_get_fd, else (libcurl's own
 * BIO, GnuTLS) by the first tracked socket the same thread reads or writes
 * inside the session's calls, at that socket call (before its bytes
 * move), remembered per session in a bounded table.
 * Only the outermost TLS call of a thread acts (libssl calling its own
 * exported functions reaches the hooks again).  Inside libcurl the fd is
 * quiet (engine/transfer.h): the TLS layer only keeps its deadlines.
 *
 * The real functions are found at run time (engine/lib.h): the shim
 * never links a TLS library, and a process without one never calls these
 * hooks. */
#ifndef RC_TLS_H
#define RC_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "engine/fdtable.h"

typedef struct rc_ossl rc_ossl;     /* OpenSSL's SSL */
typedef struct rc_gnutls rc_gnutls; /* GnuTLS's gnutls_session_t target */

#define RC_TLS(lib, ret, name, params) extern ret (*real_##name) params;
#define RC_TLS_USE RC_TLS
#include "hooks/tls.def"

enum rc_tls_lib { RC_TLS_OSSL = 0, RC_TLS_GNUTLS = 1 };
enum rc_tls_kind { RC_TLS_WRITE = 1, RC_TLS_READ = 2, RC_TLS_HANDSHAKE = 3 };

/* One hooked TLS call, from rc_tls_begin to rc_tls_end. */
typedef struct rc_tls_op {
	void  *sess;
	int    lib, kind;
	int    outer;  /* the thread's outermost TLS call: it acts */
	int    fd;     /* the session's socket, or -1 */
	rc_fd *e;      /* its entry, when this call drives it */
} rc_tls_op;

/* Before the real call to a session SESS of LIB, of KIND.  Return 0 to
 * make it, or -1 with errno set and the call not to be made: the library
 * cannot be found (ENOSYS), or a request cut by an open breaker
 * (ECONNRESET, as on a plain socket).  On a call that timed out, the
 * library's own socket I/O gets ETIMEDOUT. */
int rc_tls_begin(rc_tls_op *op, void *sess, int lib, int kind);

/* After it (only when rc_tls_begin returned 0): RET is what the library returned; OK nonzero if the call
 * succeeded, having moved N plaintext bytes (BUF: those read).  errno is
 * what the library left, or ETIMEDOUT when the call timed out. */
void rc_tls_end(rc_tls_op *op, long ret, int ok, size_t n, const void *buf);

/* SESS of LIB is freed: forget it. */
void rc_tls_forget(void *sess, int lib);

/* The thread's TLS call depth; and its outermost call while its session
 * is not mapped to a socket yet (else NULL). */
extern __thread int rc_tls_depth __attribute__((tls_model("initial-exec")));
extern __thread rc_tls_op *rc_tls_cur __attribute__((tls_model("initial-exec")));

/* A data-path hook's tracked socket fd (entry e), met while rc_tls_cur is
 * set: the session is on it (the first such socket of the call, before
 * any of its bytes moved: the socket layer never sees the handshake's
 * round trips as calls).  Map it and drive e as rc_tls_begin would.
 * Return 0, or -1 with errno ECONNRESET: the socket call must fail (a
 * request cut by an open breaker). */
int rc_tls_met(int fd, rc_fd *e);

#endif
