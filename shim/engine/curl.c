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
#include "core/hash.h"
#include "core/log.h"
#include "core/match.h"
#include "engine/curl.h"
#include "engine/init.h"
#include "engine/live.h"
#include "engine/real.h"
#include "engine/transfer.h"

/* The real functions, found once libcurl is there to be found. */
#define RC_CURL(ret, name, params) static ret (*real_##name) params;
#define RC_CURL_USE(ret, name, params) static ret (*real_##name) params;
#include "hooks/curl.def"


/* ---- finding libcurl ---- */

static int curl_resolved;  /* 1 once the real functions are set */

/* dl_iterate_phdr callback: the first loaded object, other than the
 * program and the shim, that itself defines curl_easy_perform: a libcurl
 * loaded RTLD_LOCAL (pycurl), or a library with libcurl built in.  DATA is
 * a PATH_MAX buffer; on entry it holds the shim's own file name. */
static int find_curl(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *p = info->dlpi_name;
	char *out = data;
	if (!p || !*p || strcmp(p, out) == 0 || strlen(p) >= PATH_MAX)
		return 0;
	void *h = dlopen(p, RTLD_NOLOAD | RTLD_LAZY);
	if (!h)
		return 0;
	void *f = dlsym(h, "curl_easy_perform");
	Dl_info di;
	int own = f && dladdr(f, &di) && di.dli_fname && strcmp(di.dli_fname, p) == 0;
	dlclose(h);
	if (!own)
		return 0;
	memcpy(out, p, strlen(p) + 1);
	return 1;
}

/* Resolve the real functions if not done yet.  Return nonzero when they
 * are there (at least curl_easy_setopt and curl_easy_perform). */
static int curl_ready(void)
{
	if (__builtin_expect(__atomic_load_n(&curl_resolved, __ATOMIC_ACQUIRE), 1))
		return 1;
	RC_SCOPE();
	void *h = RTLD_NEXT;
	if (!dlsym(RTLD_NEXT, "curl_easy_perform")) {
		/* loaded RTLD_LOCAL: look in the object itself */
		static char path[PATH_MAX];
		Dl_info self;
		path[0] = 0;
		if (dladdr((void *)curl_ready, &self) && self.dli_fname &&
		    strlen(self.dli_fname) < sizeof path)
			strcpy(path, self.dli_fname);
		if (dl_iterate_phdr(find_curl, path) != 1)
			path[0] = 0;
		h = path[0] ? dlopen(path, RTLD_NOLOAD | RTLD_LAZY) : NULL;
	}
	if (h) {
#define RC_CURL(ret, name, params) \
		__atomic_store_n(&real_##name, (ret(*) params)dlsym(h, #name), __ATOMIC_RELAXED);
#define RC_CURL_USE RC_CURL
#include "hooks/curl.def"
		if (real_curl_easy_setopt && real_curl_easy_perform)
			__atomic_store_n(&curl_resolved, 1, __ATOMIC_RELEASE);
		/* hold a reference: a dlclose by the app must not unmap what
		 * the pointers point into (never released) */
		Dl_info di;
		if (h == RTLD_NEXT && real_curl_easy_perform &&
		    dladdr((void *)real_curl_easy_perform, &di) && di.dli_fname)
			dlopen(di.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
	}
	return curl_resolved;
}

/* The real call NAME(ARGS) made with rc_curl_depth raised, into R. */
#define DEEP(r, name, ...) \
	do { \
		rc_curl_depth++; \
		r = real_##name(__VA_ARGS__); \
		rc_curl_depth--; \
	} while (0)

/* ---- the easy handles ---- */

enum ch_state {
	CH_IDLE = 0,      /* no transfer of ours in a multi handle */
	CH_ADMITTED = 1,  /* in a multi handle, admitted: tx waits for DONE */
	CH_REFUSING = 2,  /* in a multi handle, rejected: fails at connect */
};

#define CH_BUSY ((void *)1) /* a slot being filled */

struct ch {
	void     *key;         /* the CURL *; NULL free; CH_BUSY being filled */
	uint8_t   state;       /* enum ch_state */
	uint8_t   rejected;    /* the last perform was rejected: getinfo blank */
	uint8_t   refuse_set;  /* our opensocket + fresh_connect are in force */
	uint8_t   have_url;
	uint16_t  url_port;    /* from the URL; 0 = the scheme's */
	uint16_t  dport;       /* where it goes: url_port, else the scheme's */
	uint8_t   url_http;    /* the URL's scheme speaks HTTP */
	uint8_t   nonet;       /* the URL's scheme has no destination (file:) */
	int       rej_errno;   /* reject_errno of the breaker that rejected */
	const rc_breaker_cfg *rej_b; /* that breaker (its config lives on) */
	long      app_port;    /* CURLOPT_PORT; 0 unset */
	long      app_ct_ms;   /* the app's connect timeout; 0 unset */
	long      cur_ct_ms;   /* the one in force in libcurl */
	long      app_fresh;   /* CURLOPT_FRESH_CONNECT */
	char     *errbuf;      /* CURLOPT_ERRORBUFFER */
	CURLU    *curlu;       /* CURLOPT_CURLU */
	curl_opensocket_callback app_osock;
	void     *app_osock_data;
	CURLM    *multi;       /* where CH_ADMITTED / CH_REFUSING lives */
	rc_transfer tx;        /* CH_ADMITTED */
	uint8_t   http;        /* the admitted transfer speaks HTTP */
	uint64_t  addr_key;    /* by_address_cached: host and port asked, */
	const rc_live *addr_live; /* under which config, */
	uint64_t  addr_exp_ms; /* until when the answer holds, */
	char      addr_lit[INET6_ADDRSTRLEN]; /* and the answer ("" none) */
	char      defproto[16];/* CURLOPT_DEFAULT_PROTOCOL, lowercase */
	char      scheme[16];  /* from the URL, lowercase; "" none */
	char      host[RC_HOST_MAX];
};

#define CH_SLOTS 4096u  /* a power of 2 */
#define CH_PROBE 32u    /* a handle lives within this many slots of its hash */

static struct ch ch_tab[CH_SLOTS];
static int ch_nrejected;  /* handles with .rejected set: 0 spares getinfo a lookup */
static int ch_full_logged;

static unsigned ch_hash(const void *h)
{
	uint64_t x = (uint64_t)(uintptr_t)h;
	x ^= x >> 29;
	x *= 0x9e3779b97f4a7c15ull;
	return (unsigned)(x >> 40);
}

/* The entry of H, or NULL. */
static struct ch *ch_find(const void *h)
{
	unsigned i0 = ch_hash(h);
	for (unsigned i = 0; i < CH_PROBE; i++) {
		struct ch *c = &ch_tab[(i0 + i) & (CH_SLOTS - 1)];
		if (__atomic_load_n(&c->key, __ATOMIC_ACQUIRE) == h)
			return c;
	}
	return NULL;
}

static void set_rejected(struct ch *c, int on)
{
	if (c->rejected == on)
		return;
	c->rejected = (uint8_t)on;
	__atomic_add_fetch(&ch_nrejected, on ? 1 : -1, __ATOMIC_RELAXED);
}

/* A fresh entry for H (an existing one is emptied).  NULL if the table is
 * full around H's hash: H is then not tracked (its transfers pass through,
 * uncounted). */
static struct ch *ch_new(void *h)
{
	struct ch *c = ch_find(h);
	if (c) {
		set_rejected(c, 0);
		memset((char *)c + sizeof c->key, 0, sizeof *c - sizeof c->key);
		return c;
	}
	unsigned i0 = ch_hash(h);
	for (unsigned i = 0; i < CH_PROBE; i++) {
		c = &ch_tab[(i0 + i) & (CH_SLOTS - 1)];
		void *free_ = NULL;
		if (__atomic_load_n(&c->key, __ATOMIC_RELAXED) == NULL &&
		    __atomic_compare_exchange_n(&c->key, &free_, CH_BUSY, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			memset((char *)c + sizeof c->key, 0, sizeof *c - sizeof c->key);
			__atomic_store_n(&c->key, h, __ATOMIC_RELEASE);
			return c;
		}
	}
	if (!__atomic_exchange_n(&ch_full_logged, 1, __ATOMIC_RELAXED))
		rc_log(RC_LOG_WARN, "curl_untracked",
		       "msg=\"too many libcurl handles at once; the others pass through\" max=%u",
		       CH_SLOTS);
	return NULL;
}

static void ch_forget(struct ch *c)
{
	set_rejected(c, 0);
	__atomic_store_n(&c->key, NULL, __ATOMIC_RELEASE);
}

/* H's entry; one is made for a handle first seen at depth 0 (a handle
 * libcurl made for itself, like a DoH probe, is left alone). */
static struct ch *ch_get(void *h)
{
	struct ch *c = ch_find(h);
	if (!c && rc_curl_depth == 0 && h)
		c = ch_new(h);
	return c;
}

/* ---- where a transfer goes ---- */

static void lower_copy(char *dst, size_t len, const char *src, size_t n)
{
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = src[i];
		dst[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	dst[n] = 0;
}

/* The default port of SCHEME (lowercase), as libcurl knows it; 0 unknown;
 * -1 for a scheme without a network destination (file). */
static int scheme_port(const char *s)
{
	static const struct { const char *name; int port; } tab[] = {
		{ "http", 80 }, { "https", 443 }, { "ws", 80 }, { "wss", 443 },
		{ "ftp", 21 }, { "ftps", 990 }, { "sftp", 22 }, { "scp", 22 },
		{ "smtp", 25 }, { "smtps", 465 }, { "imap", 143 }, { "imaps", 993 },
		{ "pop3", 110 }, { "pop3s", 995 }, { "ldap", 389 }, { "ldaps", 636 },
		{ "gopher", 70 }, { "gophers", 70 }, { "telnet", 23 }, { "dict", 2628 },
		{ "mqtt", 1883 }, { "rtsp", 554 }, { "rtmp", 1935 }, { "smb", 445 },
		{ "smbs", 445 }, { "tftp", 69 }, { "file", -1 },
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(s, tab[i].name) == 0)
			return tab[i].port;
	return 0;
}

static int is_http(const char *s)
{
	return !strcmp(s, "http") || !strcmp(s, "https") || !strcmp(s, "ws") || !strcmp(s, "wss");
}

static int prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* The scheme libcurl guesses for a URL without one. */
static const char *guess_scheme(const struct ch *c, const char *host)
{
	if (c->defproto[0])
		return c->defproto;
	if (prefix_ci(host, "ftp."))
		return "ftp";
	if (prefix_ci(host, "dict."))
		return "dict";
	if (prefix_ci(host, "ldap."))
		return "ldap";
	if (prefix_ci(host, "imap."))
		return "imap";
	if (prefix_ci(host, "smtp."))
		return "smtp";
	if (prefix_ci(host, "pop3."))
		return "pop3";
	return "http";
}

/* From C's URL: the port a transfer goes to (the URL's, else the scheme's;
 * 0 unknown), whether it speaks HTTP, whether it uses the network at all.
 * Again when CURLOPT_DEFAULT_PROTOCOL changes the guess. */
static void derive(struct ch *c)
{
	const char *s = c->scheme[0] ? c->scheme : guess_scheme(c, c->host);
	int dp = scheme_port(s);
	c->nonet = dp < 0;
	c->dport = c->url_port ? c->url_port : (uint16_t)(dp > 0 ? dp : 0);
	c->url_http = (uint8_t)is_http(s);
}

/* Remember URL's scheme, host (no brackets, no zone) and port in C. */
static void note_url(struct ch *c, const char *url)
{
	c->have_url = 0;
	c->scheme[0] = c->host[0] = 0;
	c->url_port = 0;
	if (!url)
		return;
	while (*url == ' ' || *url == '\t')
		url++;
	const char *p = url;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	const char *auth = url;
	if (p > url && p[0] == ':' && p[1] == '/' && p[2] == '/') {
		lower_copy(c->scheme, sizeof c->scheme, url, (size_t)(p - url));
		auth = p + 3;
	}
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *q = auth; q < auth + alen; q++)
		if (*q == '@')
			at = q;
	const char *h = at ? at + 1 : auth, *end = auth + alen, *he, *port = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return;
		he = memchr(h, '%', (size_t)(rb - h));
		if (!he)
			he = rb;
		h++;
		if (rb + 1 < end && rb[1] == ':')
			port = rb + 2;
	} else {
		he = memchr(h, ':', (size_t)(end - h));
		if (he)
			port = he + 1;
		else
			he = end;
	}
	if (he <= h || (size_t)(he - h) >= sizeof c->host)
		return;
	lower_copy(c->host, sizeof c->host, h, (size_t)(he - h));
	if (port) {
		unsigned v = 0;
		const char *q = port;
		for (; q < end && *q >= '0' && *q <= '9' && v <= 65535; q++)
			v = v * 10 + (unsigned)(*q - '0');
		if (q > port && v > 0 && v <= 65535)
			c->url_port = (uint16_t)v;
	}
	c->have_url = 1;
	derive(c);
}

/* Copy a CURLU part into BUF; 0 on success. */
static int url_part(CURLU *u, CURLUPart what, unsigned flags, char *buf, size_t len)
{
	if (!real_curl_url_get)
		return -1;
	char *s = NULL;
	if (real_curl_url_get(u, what, &s, flags) != CURLUE_OK || !s)
		return -1;
	size_t n = strlen(s);
	int r = n < len ? 0 : -1;
	if (!r)
		lower_copy(buf, len, s, n);
	if (real_curl_free)
		real_curl_free(s);
	return r;
}

/* Where C's next transfer goes: its host (C's own, or one copied into BUF
 * from a CURLU handle), *PORT and whether it speaks HTTP.  Return NULL when
 * it has no network destination we know. */
static const char *target(const struct ch *c, char *buf, size_t blen, uint16_t *port, int *http)
{
	const char *host = c->host;
	int p = c->dport;
	*http = c->url_http;
	if (c->curlu) {
		char ps[8], scheme[16];
		if (url_part(c->curlu, CURLUPART_HOST, 0, buf, blen) < 0)
			return NULL;
		host = buf;
		if (url_part(c->curlu, CURLUPART_SCHEME, 0, scheme, sizeof scheme) < 0)
			lower_copy(scheme, sizeof scheme, guess_scheme(c, host),
				   strlen(guess_scheme(c, host)));
		p = 0;
		if (url_part(c->curlu, CURLUPART_PORT, CURLU_DEFAULT_PORT, ps, sizeof ps) == 0)
			p = atoi(ps);
		if (!p)
			p = scheme_port(scheme);
		if (p < 0)
			return NULL;
		*http = is_http(scheme);
	} else if (!c->have_url || c->nonet) {
		return NULL;
	}
	if (c->app_port > 0 && c->app_port <= 65535)
		p = (int)c->app_port;
	*port = (uint16_t)(p > 0 && p <= 65535 ? p : 0);
	return host;
}

/* A host name that no name pattern matched: the first of its addresses
 * that an address pattern matches, as a literal in LIT; 0 if none.  Looks
 * the name up (getaddrinfo, blocking) only when the config has an address
 * pattern for PORT. */
static int by_address(const char *host, uint16_t port, char *lit, size_t len)
{
	uint8_t a[16];
	if (host[0] == '[' || inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
		return 0; /* a literal: already matched by address */
	const rc_config *cfg = rc_live_current()->cfg;
	if (!rc_match_wants_address(cfg, host, port))
		return 0;
	int found = 0;
	RC_SCOPE();
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (REAL(getaddrinfo)(host, NULL, &hints, &res) == 0) {
		for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next) {
			const void *ad = NULL;
			int fam = ai->ai_family;
			if (fam == AF_INET)
				ad = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
			else if (fam == AF_INET6)
				ad = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
			if (ad && rc_match(cfg, fam, ad, port, NULL, 0) >= 0 &&
			    inet_ntop(fam, ad, lit, (socklen_t)len))
				found = 1;
		}
		freeaddrinfo(res);
	}
	return found;
}

#define ADDR_TTL_MS 30000  /* how long a handle trusts its by_address answer */

static uint64_t fnv1a(const char *s, uint16_t port)
{
	return rc_fnv1a(RC_FNV_INIT ^ port, s, strlen(s));
}

/* by_address, remembered per handle for ADDR_TTL_MS (and one config): a
 * handle reused for one host costs one name lookup per TTL.  With BLOCK 0
 * (the multi interface, whose callers must not block) only what is
 * remembered is used. */
static int by_address_cached(struct ch *c, const char *host, uint16_t port, char *lit,
			     size_t len, int block)
{
	uint64_t key = fnv1a(host, port), now = rc_now_ms();
	const rc_live *L = rc_live_current();
	if (c->addr_key == key && c->addr_live == L && now < c->addr_exp_ms) {
		if (!c->addr_lit[0])
			return 0;
		snprintf(lit, len, "%s", c->addr_lit);
		return 1;
	}
	if (!block)
		return 0;
	int found = by_address(host, port, lit, len);
	c->addr_key = key;
	c->addr_live = L;
	c->addr_exp_ms = now + ADDR_TTL_MS;
	snprintf(c->addr_lit, sizeof c->addr_lit, "%s", found ? lit : "");
	return found;
}

/* Ask whether C's next transfer may start.  Return as rc_transfer_begin;
 * *HTTP tells whether its HTTP status is to be judged.  BLOCK: a name
 * lookup is allowed (see by_address_cached). */
static int begin(struct ch *c, rc_transfer *tx, int *http, int block)
{
	char buf[RC_HOST_MAX], lit[INET6_ADDRSTRLEN];
	uint16_t port;
	tx->bk = NULL;
	const char *host = target(c, buf, sizeof buf, &port, http);
	if (!host)
		return -1;
	int v = rc_transfer_begin(host, port, tx);
	if (v < 0 && by_address_cached(c, host, port, lit, sizeof lit, block))
		v = rc_transfer_begin(lit, port, tx);
	return v;
}

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
	    code >= 100 && code <= 599 && rc_status_in(&b->http_failure_status, (int)code))
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
	case CURLE_PROXY:
		return RC_FAIL;
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
static void write_errbuf(const struct ch *c, const rc_breaker_cfg *b)
{
	if (!c->errbuf || !b)
		return;
	static const char pre[] = "recloser: breaker '", post[] = "' is open";
	size_t n = strlen(b->name);
	if (sizeof pre + n + sizeof post > CURL_ERROR_SIZE)
		n = CURL_ERROR_SIZE - sizeof pre - sizeof post;
	char *p = c->errbuf;
	memcpy(p, pre, sizeof pre - 1);
	p += sizeof pre - 1;
	memcpy(p, b->name, n);
	p += n;
	memcpy(p, post, sizeof post); /* with its NUL */
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
	if (!curl_ready() || !real_curl_easy_init)
		return NULL;
	CURL *h;
	DEEP(h, curl_easy_init);
	if (h && rc_curl_depth == 0 && !rc_bypass())
		ch_new(h);
	return h;
}

CURL *rc_curl_easy_duphandle(CURL *h)
{
	if (!curl_ready() || !real_curl_easy_duphandle)
		return NULL;
	CURL *n;
	DEEP(n, curl_easy_duphandle, h);
	if (!n || rc_curl_depth > 0 || rc_bypass())
		return n;
	struct ch *c = ch_find(h), *d = ch_new(n);
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
	if (!curl_ready() || !real_curl_easy_reset)
		return;
	struct ch *c = rc_curl_depth == 0 && !rc_bypass() ? ch_find(h) : NULL;
	if (c) {
		if (c->state == CH_ADMITTED)
			rc_transfer_end(&c->tx, -1, 0);
		set_rejected(c, 0);
		memset((char *)c + sizeof c->key, 0, sizeof *c - sizeof c->key);
	}
	rc_curl_depth++;
	real_curl_easy_reset(h);
	rc_curl_depth--;
}

void rc_curl_easy_cleanup(CURL *h)
{
	if (!curl_ready() || !real_curl_easy_cleanup)
		return;
	struct ch *c = h && !rc_bypass() ? ch_find(h) : NULL;
	if (c) {
		if (c->state == CH_ADMITTED)
			rc_transfer_end(&c->tx, -1, 0);
		ch_forget(c);
	}
	rc_curl_depth++;
	real_curl_easy_cleanup(h);
	rc_curl_depth--;
}

/* Remember the options that say where a transfer goes and how the app
 * wants it bounded (after libcurl took them). */
static void note_long(CURL *h, int opt, long v)
{
	struct ch *c = ch_get(h);
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
	struct ch *c = ch_get(h);
	if (!c)
		return;
	switch (opt) {
	case CURLOPT_URL:
		note_url(c, v);
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
			lower_copy(c->defproto, sizeof c->defproto, v, strlen(v));
		else
			c->defproto[0] = 0;
		derive(c);
		break;
	}
}

CURLcode rc_curl_easy_setopt(CURL *h, CURLoption option, va_list ap)
{
	if (!curl_ready())
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
			struct ch *c = ch_get(h);
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
	if (!curl_ready() || !real_curl_easy_getinfo)
		return CURLE_FAILED_INIT;
	if (__builtin_expect(__atomic_load_n(&ch_nrejected, __ATOMIC_RELAXED) > 0, 0) && p &&
	    !rc_curl_depth) {
		struct ch *c = ch_find(h);
		if (c && c->rejected && blank_info(c, info, p))
			return CURLE_OK;
	}
	return real_curl_easy_getinfo(h, info, p);
}

CURLcode rc_curl_easy_perform(CURL *h)
{
	if (!curl_ready())
		return CURLE_FAILED_INIT;
	CURLcode r;
	struct ch *c;
	if (rc_curl_depth > 0 || rc_bypass() || !(c = ch_get(h)) || c->state != CH_IDLE) {
		DEEP(r, curl_easy_perform, h);
		return r;
	}
	set_rejected(c, 0);
	clear_refuse(h, c);
	rc_transfer tx;
	int http = 0, v = begin(c, &tx, &http, 1);
	const rc_breaker_cfg *b = rc_transfer_breaker(&tx);
	if (v == 0) {
		/* rejected (counted): no network, no stale data */
		c->rej_b = b;
		c->rej_errno = b ? b->reject_errno : ECONNREFUSED;
		write_errbuf(c, b);
		set_rejected(c, 1);
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
	if (!curl_ready() || !real_curl_multi_add_handle)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	struct ch *c;
	if (rc_curl_depth > 0 || rc_bypass() || !(c = ch_get(h)) || c->state != CH_IDLE) {
		DEEP(r, curl_multi_add_handle, m, h);
		return r;
	}
	set_rejected(c, 0);
	clear_refuse(h, c);
	int http = 0, v = begin(c, &c->tx, &http, 0);
	const rc_breaker_cfg *b = rc_transfer_breaker(&c->tx);
	c->http = (uint8_t)http;
	if (v == 0) {
		/* rejected (counted): libcurl fails it at connect */
		c->tx.bk = NULL; /* nothing to end: never rc_transfer_end it */
		c->rej_b = b;
		c->rej_errno = b ? b->reject_errno : ECONNREFUSED;
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
	if (!curl_ready() || !real_curl_multi_info_read)
		return NULL;
	CURLMsg *msg;
	DEEP(msg, curl_multi_info_read, m, left);
	if (!msg || msg->msg != CURLMSG_DONE || rc_curl_depth > 0 || rc_bypass())
		return msg;
	CURL *h = msg->easy_handle;
	struct ch *c = ch_find(h);
	if (!c || c->state == CH_IDLE || c->multi != m)
		return msg;
	if (c->state == CH_REFUSING)
		write_errbuf(c, c->rej_b);
	int outcome = c->state == CH_ADMITTED ? outcome_of(h, msg->data.result, c->http, &c->tx) : -1;
	multi_end(h, c, outcome);
	return msg;
}

CURLMcode rc_curl_multi_remove_handle(CURLM *m, CURL *h)
{
	if (!curl_ready() || !real_curl_multi_remove_handle)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_remove_handle, m, h);
	if (rc_curl_depth > 0 || rc_bypass() || r != CURLM_OK)
		return r;
	struct ch *c = ch_find(h);
	if (c && c->state != CH_IDLE && c->multi == m)
		multi_end(h, c, -1); /* removed before DONE: no verdict */
	return r;
}

CURLMcode rc_curl_multi_cleanup(CURLM *m)
{
	if (!curl_ready() || !real_curl_multi_cleanup)
		return CURLM_INTERNAL_ERROR;
	if (m && rc_curl_depth == 0 && !rc_bypass()) {
		/* handles still in it are released from it: no verdict */
		for (unsigned i = 0; i < CH_SLOTS; i++) {
			struct ch *c = &ch_tab[i];
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
	if (!curl_ready() || !real_curl_multi_perform)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_perform, m, running);
	return r;
}

CURLMcode rc_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
	if (!curl_ready() || !real_curl_multi_socket_action)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_socket_action, m, s, ev, running);
	return r;
}

CURLMcode rc_curl_multi_socket(CURLM *m, curl_socket_t s, int *running)
{
	if (!curl_ready() || !real_curl_multi_socket)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_socket, m, s, running);
	return r;
}

CURLMcode rc_curl_multi_socket_all(CURLM *m, int *running)
{
	if (!curl_ready() || !real_curl_multi_socket_all)
		return CURLM_INTERNAL_ERROR;
	CURLMcode r;
	DEEP(r, curl_multi_socket_all, m, running);
	return r;
}
