/* tls.c - the exported TLS library functions (hooks/tls.def), each one
 * real call between rc_tls_begin and rc_tls_end (engine/tls.h).  The shim
 * never links a TLS library: these are reached only in a process that
 * loaded one. */
#include <errno.h>

#include "engine/tls.h"

#define RC_EXPORT __attribute__((visibility("default")))

#define RC_TLS(lib, ret, name, params) RC_EXPORT ret name params;
#include "hooks/tls.def"

/* What GnuTLS returns for a call the shim does not make. */
#define GNUTLS_E_PUSH_ERROR (-53)
#define GNUTLS_E_PULL_ERROR (-54)

/* A hook whose call is made whole between rc_tls_begin and rc_tls_end:
 * REFUSED is returned when rc_tls_begin says no; OK (an expression of r)
 * tells success, N (of r) the plaintext bytes it moved, BUF those read. */
#define TLS_CALL(ret, name, params, args, lib, kind, refused, ok, n, buf)                  \
	RC_EXPORT ret name params                                                        \
	{                                                                                \
		rc_tls_op op;                                                            \
		if (rc_tls_begin(&op, s, lib, kind) < 0)                                 \
			return refused;                                                  \
		ret r = real_##name args;                                                \
		rc_tls_end(&op, r, (ok), (ok) ? (size_t)(n) : 0, buf);                   \
		return r;                                                                \
	}

/* ---- OpenSSL ---- */

TLS_CALL(int, SSL_write, (rc_ossl *s, const void *buf, int n), (s, buf, n), RC_TLS_OSSL,
	 RC_TLS_WRITE, -1, r > 0, r, NULL)
TLS_CALL(int, SSL_read, (rc_ossl *s, void *buf, int n), (s, buf, n), RC_TLS_OSSL, RC_TLS_READ,
	 -1, r > 0, r, buf)
TLS_CALL(int, SSL_connect, (rc_ossl *s), (s), RC_TLS_OSSL, RC_TLS_HANDSHAKE, -1, r == 1, 0, NULL)
TLS_CALL(int, SSL_do_handshake, (rc_ossl *s), (s), RC_TLS_OSSL, RC_TLS_HANDSHAKE, -1, r == 1, 0,
	 NULL)

/* The _ex forms: the count comes back through a pointer. */
RC_EXPORT int SSL_write_ex(rc_ossl *s, const void *buf, size_t n, size_t *written)
{
	rc_tls_op op;
	if (rc_tls_begin(&op, s, RC_TLS_OSSL, RC_TLS_WRITE) < 0)
		return 0;
	size_t w = 0;
	int r = real_SSL_write_ex(s, buf, n, &w);
	if (written)
		*written = w;
	rc_tls_end(&op, r, r == 1, r == 1 ? w : 0, NULL);
	return r;
}

RC_EXPORT int SSL_read_ex(rc_ossl *s, void *buf, size_t n, size_t *got)
{
	rc_tls_op op;
	if (rc_tls_begin(&op, s, RC_TLS_OSSL, RC_TLS_READ) < 0)
		return 0;
	size_t g = 0;
	int r = real_SSL_read_ex(s, buf, n, &g);
	if (got)
		*got = g;
	rc_tls_end(&op, r, r == 1, r == 1 ? g : 0, buf);
	return r;
}

RC_EXPORT void SSL_free(rc_ossl *s)
{
	rc_tls_forget(s, RC_TLS_OSSL);
	if (real_SSL_free)
		real_SSL_free(s);
}

/* ---- GnuTLS ---- */

TLS_CALL(ssize_t, gnutls_record_send, (rc_gnutls *s, const void *buf, size_t n), (s, buf, n),
	 RC_TLS_GNUTLS, RC_TLS_WRITE, GNUTLS_E_PUSH_ERROR, r >= 0, r, NULL)
TLS_CALL(ssize_t, gnutls_record_recv, (rc_gnutls *s, void *buf, size_t n), (s, buf, n),
	 RC_TLS_GNUTLS, RC_TLS_READ, GNUTLS_E_PULL_ERROR, r > 0, r, buf)
TLS_CALL(int, gnutls_handshake, (rc_gnutls *s), (s), RC_TLS_GNUTLS, RC_TLS_HANDSHAKE,
	 GNUTLS_E_PUSH_ERROR, r == 0, 0, NULL)

RC_EXPORT void gnutls_deinit(rc_gnutls *s)
{
	rc_tls_forget(s, RC_TLS_GNUTLS);
	if (real_gnutls_deinit)
		real_gnutls_deinit(s);
}
