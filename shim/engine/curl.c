/* curl.c - libcurl: a transfer is one call (SPEC sections 3 and 4).
 *
 * The logic behind the libcurl hooks (hooks/curl.c forwards each exported
 * curl_* function to its rc_curl_* here).
 *
 * The shim never links libcurl.  Its headers give the types; the functions
 * are found at run time in the libcurl the process loaded: dlsym(RTLD_NEXT)
 * when it is in the global scope, else (pycurl: Python loads extensions
 * RTLD_LOCAL) the loaded libcurl* object found by dl_iterate_phdr.  A
 * process without libcurl never calls these hooks.
 *
 * Per easy handle (a bounded table keyed by the CURL pointer, no malloc)
 * the hooks remember where the next transfer goes (CURLOPT_URL, _CURLU,
 * _PORT, _DEFAULT_PROTOCOL), the app's error buffer and connect timeout.
 * A transfer is admitted by rc_transfer_begin at a top-level
 * curl_easy_perform or curl_multi_add_handle, and judged once by
 * rc_transfer_end: at the perform's return, or at its CURLMSG_DONE from
 * curl_multi_info_read (removed before that: no verdict).
 * libcurl runs curl_easy_perform on the multi interface and its internal
 * calls to its own exported functions reach these hooks too: every real
 * call is made with rc_curl_depth raised, and only depth 0 acts.  While the
 * depth is raised the socket layer counts nothing.
 *
 * A transfer rejected at perform never starts: CURLE_COULDNT_CONNECT, the
 * breaker named in the error buffer, and curl_easy_getinfo answering as
 * for a transfer that never happened.  One rejected at curl_multi_add_handle
 * fails through libcurl's own connect path: a fresh connection whose socket
 * cannot be opened (CURLOPT_OPENSOCKETFUNCTION), and, again, the socket
 * layer refusing connects to an open breaker. */

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "engine/curl.h"
#include "engine/curl_handle.h"
#include "engine/init.h"
#include "engine/real.h"
#include "engine/transfer.h"

/* ---- judging ---- */

/* Nonzero if B's breaker is open now: a connect refused inside libcurl was
 * then most likely refused by the socket layer, not by the service. */
static int open_now(const rc_transfer *tx)
{
	return rc_transfer_refusing(tx);
}

/* The verdict on a finished transfer of H: RC_OK, RC_FAIL, RC_FAIL_TIMEOUT,
 * RC_TRANSFER_REJECTED (its connect refused by an open breaker), or -1 for
 * none (the app's own doing: a write error, an abort by callback,
 * a bad URL...). */
static int outcome_of(CURL *h, CURLcode r, int http, const rc_transfer *tx)
{
	const rc_breaker_cfg *b = rc_transfer_breaker(tx);
	long code = 0;
	if (http && b && real_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
	    code >= 100 && code <= 599 && rc_status_in(b->http_failure_status, (int)code))
		return RC_FAIL;
	switch (r) {
	case CURLE_OK:
	case CURLE_HTTP_RETURNED_ERROR: /* a status outside http_failure_status */
		return RC_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return RC_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		/* refused by the socket layer: the breaker opened meanwhile */
		return open_now(tx) ? RC_TRANSFER_REJECTED : RC_FAIL;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_QUIC_CONNECT_ERROR:
	case CURLE_PROXY: {
		/* a socket of the transfer whose answer did not come within
		 * response_timeout was ended by the shim's timer (ETIMEDOUT) */
		long oe = 0;
		if (real_curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oe) == CURLE_OK && oe == ETIMEDOUT)
			return RC_FAIL_TIMEOUT;
		return RC_FAIL;
	}
	default:
		return -1;
	}
}

/* ---- options the shim sets for a transfer ---- */

/* The breaker's connect_timeout bounds a transfer whose own is unset or
 * longer; otherwise the app's own is in force.  Set lazily: a handle reused
 * for the same breaker costs no setopt. */
static void set_timeout(CURL *h, struct ch *c, const rc_breaker_cfg *b)
{
	long want = c->app_ct_ms;
	if (b && b->connect_timeout && (!want || (uint64_t)want > b->connect_timeout))
		want = b->connect_timeout > LONG_MAX ? LONG_MAX : (long)b->connect_timeout;
	if (want != c->cur_ct_ms &&
	    real_curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, want) == CURLE_OK)
		c->cur_ct_ms = want;
}

static curl_socket_t refuse_socket(void *clientp, curlsocktype purpose,
				   struct curl_sockaddr *address)
{
	int e = (int)(intptr_t)clientp;
	errno = e ? e : ECONNREFUSED;
	return CURL_SOCKET_BAD;
}

/* A rejected transfer in a multi handle: it will fail at connect, on a
 * fresh connection (never a pooled one), whose socket cannot be opened. */
static void set_refuse(CURL *h, struct ch *c)
{
	real_curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	real_curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, refuse_socket);
	real_curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)(intptr_t)c->rej_errno);
	c->refuse_set = 1;
}

/* Put back what set_refuse changed on H (C's app values). */
static void unset_refuse(CURL *h, const struct ch *c)
{
	real_curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, c->app_fresh);
	real_curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, c->app_osock);
	real_curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, c->app_osock_data);
}

static void clear_refuse(CURL *h, struct ch *c)
{
	if (c->refuse_set) {
		unset_refuse(h, c);
		c->refuse_set = 0;
	}
}

/* "recloser: breaker 'NAME' is open" into the app's error buffer. */
static void write_errbuf(const struct ch *c, const char *name)
{
	if (!c->errbuf || !name[0])
		return;
	static const char pre[] = "recloser: breaker '", post[] = "' is open";
	size_t n = strlen(name);
	if (sizeof pre + n + sizeof post > CURL_ERROR_SIZE)
		n = CURL_ERROR_SIZE - sizeof pre - sizeof post;
	char *p = c->errbuf;
	memcpy(p, pre, sizeof pre - 1);
	p += sizeof pre - 1;
	memcpy(p, name, n);
	p += n;
	memcpy(p, post, sizeof post); /* with its NUL */
}

/* C's transfer was rejected by breaker B: what the app is told of it. */
static void reject_of(struct ch *c, const rc_breaker_cfg *b)
{
	c->rej_errno = b ? b->reject_errno : ECONNREFUSED;
	snprintf(c->rej_name, sizeof c->rej_name, "%s", b ? b->name : "");
}

/* The multi transfer of C is over (DONE, removed, or its multi gone):
 * judge it with OUTCOME (< 0: no verdict) and put options back. */
static void multi_end(CURL *h, struct ch *c, int outcome)
{
	if (c->state == CH_ADMITTED)
		rc_transfer_end(&c->tx, outcome, rc_now_us());
	clear_refuse(h, c);
	c->state = CH_IDLE;
	c->multi = NULL;
}

/* ---- the hooks: easy handles ---- */

CURL *rc_curl_easy_init(void)
{
	if (!rc_curl_ready() || !real_curl_easy_init)
		return NULL;
	CURL *h;
	DEEP(h, curl_easy_init);
	if (h && rc_curl_depth == 0 && !rc_bypass())
		rc_ch_new(h);
	return h;
}

CURL *rc_curl_easy_duphandle(CURL *h)
{
	if (!rc_curl_ready() || !real_curl_easy_duphandle)
		return NULL;
	CURL *n;
	DEEP(n, curl_easy_duphandle, h);
	if (!n || rc_curl_depth > 0 || rc_bypass())
		return n;
	struct ch *c = rc_ch_find(h), *d = rc_ch_new(n);
	if (!c || !d)
		return n;
	/* the copy has the app's options, not ours */
	memcpy((char *)d + sizeof d->key, (char *)c + sizeof c->key, sizeof *d - sizeof d->key);
	d->state = CH_IDLE;
	d->rejected = 0;
	d->multi = NULL;
	d->tx.bk = NULL;
	if (d->cur_ct_ms != d->app_ct_ms) {
		real_curl_easy_setopt(n, CURLOPT_CONNECTTIMEOUT_MS, d->app_ct_ms);
		d->cur_ct_ms = d->app_ct_ms;
	}
	clear_refuse(n, d);
	return n;
}

void rc_curl_easy_reset(CURL *h)
{
	if (!rc_curl_ready() || !real_curl_easy_reset)
		return;
	struct ch *c = rc_curl_depth == 0 && !rc_bypass() ? rc_ch_find(h) : NULL;
	if (c) {
		if (c->state == CH_ADMITTED)
			rc_transfer_end(&c->tx, -1, 0);
		rc_ch_set_rejected(c, 0);
		memset((char *)c + sizeof c->key, 0, sizeof *c - sizeof c->key);
	}
	rc_curl_depth++;
	real_curl_easy_reset(h);
	rc_curl_depth--;
}

void rc_curl_easy_cleanup(CURL *h)
{
	if (!rc_curl_ready() || !real_curl_easy_cleanup)
		return;
	struct ch *c = h && !rc_bypass() ? rc_ch_find(h) : NULL;
	if (c) {
		if (c->state == CH_ADMITTED)
			rc_transfer_end(&c->tx, -1, 0);
		rc_ch_forget(c);
	}
	rc_curl_depth++;
	real_curl_easy_cleanup(h);
	rc_curl_depth--;
}

/* Remember the options that say where a transfer goes and how the app
 * wants it bounded (after libcurl took them). */
static void note_long(CURL *h, int opt, long v)
{
	struct ch *c = rc_ch_get(h);
	if (!c)
		return;
	switch (opt) {
	case CURLOPT_CONNECTTIMEOUT:
		v = v > LONG_MAX / 1000 ? LONG_MAX : v * 1000;
		/* fall through */
	case CURLOPT_CONNECTTIMEOUT_MS:
		c->app_ct_ms = c->cur_ct_ms = v;
		break;
	case CURLOPT_PORT:
		c->app_port = v;
		break;
	case CURLOPT_FRESH_CONNECT:
		c->app_fresh = v;
		break;
	}
}

static void note_ptr(CURL *h, int opt, void *v)
{
	struct ch *c = rc_ch_get(h);
	if (!c)
		return;
	switch (opt) {
	case CURLOPT_URL:
		rc_ch_note_url(c, v);
		break;
	case CURLOPT_CURLU:
		c->curlu = v;
		break;
	case CURLOPT_ERRORBUFFER:
		c->errbuf = v;
		break;
	case CURLOPT_OPENSOCKETDATA:
		c->app_osock_data = v;
		break;
	case CURLOPT_DEFAULT_PROTOCOL:
		if (v)
			rc_ch_lower_copy(c->defproto, sizeof c->defproto, v, strlen(v));
		else
			c->defproto[0] = 0;
		rc_ch_derive(c);
		break;
	}
}

CURLcode rc_curl_easy_setopt(CURL *h, CURLoption option, va_list ap)
{
	if (!rc_curl_ready())
		return CURLE_FAILED_INIT;
	int opt = (int)option, track = !rc_bypass();
	CURLcode r;
	/* the argument's type follows the option number's range */
	if (opt < CURLOPTTYPE_OBJECTPOINT) {
		long v = va_arg(ap, long);
		r = real_curl_easy_setopt(h, option, v);
		if (r == CURLE_OK && track &&
		    (opt == CURLOPT_CONNECTTIMEOUT || opt == CURLOPT_CONNECTTIMEOUT_MS ||
		     opt == CURLOPT_PORT || opt == CURLOPT_FRESH_CONNECT))
			note_long(h, opt, v);
	} else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
		void *v = va_arg(ap, void *);
		r = real_curl_easy_setopt(h, option, v);
		if (r == CURLE_OK && track &&
		    (opt == CURLOPT_URL || opt == CURLOPT_CURLU || opt == CURLOPT_ERRORBUFFER ||
		     opt == CURLOPT_OPENSOCKETDATA || opt == CURLOPT_DEFAULT_PROTOCOL))
			note_ptr(h, opt, v);
	} else if (opt < CURLOPTTYPE_OFF_T) {
		void (*v)(void) = va_arg(ap, void (*)(void));
		r = real_curl_easy_setopt(h, option, v);
		if (r == CURLE_OK && track && opt == CURLOPT_OPENSOCKETFUNCTION) {
			struct ch *c = rc_ch_get(h);
			if (c)
				c->app_osock = (curl_opensocket_callback)v;
		}
	} else if (opt < CURLOPTTYPE_BLOB) {
		curl_off_t v = va_arg(ap, curl_off_t);
		r = real_curl_easy_setopt(h, option, v);
	} else {
		struct curl_blob *v = va_arg(ap, struct curl_blob *);
		r = real_curl_easy_setopt(h, option, v);
	}
	return r;
}

/* getinfo after a rejected perform: as for a transfer that never happened.
 * Return 1 if answered into P, 0 to ask libcurl. */
static int blank_info(const struct ch *c, CURLINFO info, void *p)
{
	static struct curl_certinfo no_certs;
	static struct curl_tlssessioninfo no_tls = { CURLSSLBACKEND_NONE, NULL };
	switch (info) {
	case CURLINFO_PRIVATE:          /* the app's, not the transfer's */
	case CURLINFO_EFFECTIVE_URL:    /* the URL set: what was asked for */
	case CURLINFO_EFFECTIVE_METHOD:
	case CURLINFO_COOKIELIST:
	case CURLINFO_SSL_ENGINES:
	case CURLINFO_CAINFO:
	case CURLINFO_CAPATH:
		return 0;
	case CURLINFO_PRIMARY_IP:
	case CURLINFO_LOCAL_IP:
		*(const char **)p = "";
		return 1;
	case CURLINFO_FILETIME:
	case CURLINFO_LASTSOCKET:
		*(long *)p = -1;
		return 1;
	case CURLINFO_OS_ERRNO:
		*(long *)p = c->rej_errno;
		return 1;
	case CURLINFO_FILETIME_T:
	case CURLINFO_CONTENT_LENGTH_DOWNLOAD_T:
	case CURLINFO_CONTENT_LENGTH_UPLOAD_T:
		*(curl_off_t *)p = -1;
		return 1;
	case CURLINFO_CONTENT_LENGTH_DOWNLOAD:
	case CURLINFO_CONTENT_LENGTH_UPLOAD:
		*(double *)p = -1.0;
		return 1;
	case CURLINFO_CERTINFO:
		*(struct curl_certinfo **)p = &no_certs;
		return 1;
	case CURLINFO_TLS_SESSION:
	case CURLINFO_TLS_SSL_PTR:
		*(struct curl_tlssessioninfo **)p = &no_tls;
		return 1;
	default:
		break;
	}
	switch ((int)info & CURLINFO_TYPEMASK) {
	case CURLINFO_STRING:
		*(char **)p = NULL;
		return 1;
	case CURLINFO_LONG:
		*(long *)p = 0;
		return 1;
	case CURLINFO_DOUBLE:
		*(double *)p = 0.0;
		return 1;
	case CURLINFO_OFF_T:
		*(curl_off_t *)p = 0;
		return 1;
	case CURLINFO_SOCKET:
		*(curl_socket_t *)p = CURL_SOCKET_BAD;
		return 1;
	}
	return 0;
}

CURLcode rc_curl_easy_getinfo(CURL *h, CURLINFO info, void *p)
{
	if (!rc_curl_ready() || !real_curl_easy_getinfo)
		return CURLE_FAILED_INIT;
	if (__builtin_expect(__atomic_load_n(&rc_ch_nrejected, __ATOMIC_RELAXED) > 0, 0) && p &&
	    !rc_curl_depth) {
		struct ch *c = rc_ch_find(h);
		if (c && c->rejected && blank_info(c, info, p))
			return CURLE_OK;
	}
	return real_curl_easy_getinfo(h, info, p);
}

CURLcode rc_curl_easy_perform(CURL *h)
{
	if (!rc_curl_ready())
		return CURLE_FAILED_INIT;
	CURLcode r;
	struct ch *c;
	if (rc_curl_depth > 0 || rc_bypass() || !(c = rc_ch_get(h)) || c->state != CH_IDLE) {
		DEEP(r, curl_easy_perform, h);
		return r;
	}
	rc_ch_set_rejected(c, 0);
	clear_refuse(h, c);
	rc_transfer tx;
	int http = 0, v = rc_ch_begin(c, &tx, &http, 1);
	const rc_breaker_cfg *b = rc_transfer_breaker(&tx);
	if (v == 0) {
		/* rejected (counted): no network, no stale data */
		reject_of(c, b);
		rc_transfer_drop(&tx);
		write_errbuf(c, c->rej_name);
		rc_ch_set_rejected(c, 1);
		return CURLE_COULDNT_CONNECT;
	}
	set_timeout(h, c, v > 0 ? b : NULL);
	DEEP(r, curl_easy_perform, h);
	if (v > 0)
		rc_transfer_end(&tx, outcome_of(h, r, http, &tx), rc_now_us());
	return r;
}

/* ---- the hooks: the multi interface ---- */

CURLMcode rc_curl_multi_add_handle(CURLM *m, CURL *h)
{
	if (!rc_curl_ready() || !real_curl_multi_add_handle)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	struct ch *c;
	if (rc_curl_depth > 0 || rc_bypass() || !(c = rc_ch_get(h)) || c->state != CH_IDLE) {
		DEEP(r, curl_multi_add_handle, m, h);
		return r;
	}
	rc_ch_set_rejected(c, 0);
	clear_refuse(h, c);
	int http = 0, v = rc_ch_begin(c, &c->tx, &http, 0);
	const rc_breaker_cfg *b = rc_transfer_breaker(&c->tx);
	c->http = (uint8_t)http;
	if (v == 0) {
		/* rejected (counted): libcurl fails it at connect */
		reject_of(c, b);
		rc_transfer_drop(&c->tx); /* nothing to end: never rc_transfer_end it */
		set_refuse(h, c);
	}
	set_timeout(h, c, v > 0 ? b : NULL);
	DEEP(r, curl_multi_add_handle, m, h);
	if (r != CURLM_OK) {
		if (v > 0)
			rc_transfer_end(&c->tx, -1, 0);
		clear_refuse(h, c);
		return r;
	}
	if (v >= 0) {
		c->state = v > 0 ? CH_ADMITTED : CH_REFUSING;
		c->multi = m;
	}
	return r;
}

CURLMsg *rc_curl_multi_info_read(CURLM *m, int *left)
{
	if (!rc_curl_ready() || !real_curl_multi_info_read)
		return NULL;
	CURLMsg *msg;
	DEEP(msg, curl_multi_info_read, m, left);
	if (!msg || msg->msg != CURLMSG_DONE || rc_curl_depth > 0 || rc_bypass())
		return msg;
	CURL *h = msg->easy_handle;
	struct ch *c = rc_ch_find(h);
	if (!c || c->state == CH_IDLE || c->multi != m)
		return msg;
	if (c->state == CH_REFUSING)
		write_errbuf(c, c->rej_name);
	int outcome = c->state == CH_ADMITTED ? outcome_of(h, msg->data.result, c->http, &c->tx) : -1;
	multi_end(h, c, outcome);
	return msg;
}

CURLMcode rc_curl_multi_remove_handle(CURLM *m, CURL *h)
{
	if (!rc_curl_ready() || !real_curl_multi_remove_handle)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_remove_handle, m, h);
	if (rc_curl_depth > 0 || rc_bypass() || r != CURLM_OK)
		return r;
	struct ch *c = rc_ch_find(h);
	if (c && c->state != CH_IDLE && c->multi == m)
		multi_end(h, c, -1); /* removed before DONE: no verdict */
	return r;
}

CURLMcode rc_curl_multi_cleanup(CURLM *m)
{
	if (!rc_curl_ready() || !real_curl_multi_cleanup)
		return CURLM_INTERNAL_ERROR;
	if (m && rc_curl_depth == 0 && !rc_bypass()) {
		/* handles still in it are released from it: no verdict */
		for (unsigned i = 0; i < CH_SLOTS; i++) {
			struct ch *c = &rc_ch_tab[i];
			void *k = __atomic_load_n(&c->key, __ATOMIC_ACQUIRE);
			if (k && k != CH_BUSY && c->state != CH_IDLE && c->multi == m)
				multi_end(k, c, -1);
		}
	}
	CURLMcode r;
	DEEP(r, curl_multi_cleanup, m);
	return r;
}

CURLMcode rc_curl_multi_perform(CURLM *m, int *running)
{
	if (!rc_curl_ready() || !real_curl_multi_perform)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_perform, m, running);
	return r;
}

CURLMcode rc_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
	if (!rc_curl_ready() || !real_curl_multi_socket_action)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_socket_action, m, s, ev, running);
	return r;
}

CURLMcode rc_curl_multi_socket(CURLM *m, curl_socket_t s, int *running)
{
	if (!rc_curl_ready() || !real_curl_multi_socket)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_socket, m, s, running);
	return r;
}

CURLMcode rc_curl_multi_socket_all(CURLM *m, int *running)
{
	if (!rc_curl_ready() || !real_curl_multi_socket_all)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_socket_all, m, running);
	return r;
}

