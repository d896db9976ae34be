/* curl_handle.c - see curl_handle.h. */
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
#include "engine/curl_handle.h"
#include "engine/init.h"
#include "engine/lib.h"
#include "engine/real.h"

#define RC_CURL(ret, name, params) ret (*real_##name) params;
#define RC_CURL_USE(ret, name, params) ret (*real_##name) params;
#include "hooks/curl.def"

/* ---- finding libcurl ---- */

static int curl_resolved;  /* 1 once the real functions are set */

/* Resolve the real functions if not done yet.  Return nonzero when they
 * are there (at least curl_easy_setopt and curl_easy_perform). */
int rc_curl_ready(void)
{
	if (__builtin_expect(__atomic_load_n(&curl_resolved, __ATOMIC_ACQUIRE), 1))
		return 1;
	RC_SCOPE();
	void *h = rc_lib_find("curl_easy_perform");
	if (h) {
#define RC_CURL(ret, name, params) \
		__atomic_store_n(&real_##name, (ret(*) params)dlsym(h, #name), __ATOMIC_RELAXED);
#define RC_CURL_USE RC_CURL
#include "hooks/curl.def"
		if (real_curl_easy_setopt && real_curl_easy_perform)
			__atomic_store_n(&curl_resolved, 1, __ATOMIC_RELEASE);
	}
	return curl_resolved;
}

#define CH_PROBE 32u    /* a handle lives within this many slots of its hash */

struct ch rc_ch_tab[CH_SLOTS];
int rc_ch_nrejected;  /* handles with .rejected set: 0 spares getinfo a lookup */
static int ch_full_logged;

/* The entry of H, or NULL. */
struct ch *rc_ch_find(const void *h)
{
	unsigned i0 = rc_hash_ptr(h);
	for (unsigned i = 0; i < CH_PROBE; i++) {
		struct ch *c = &rc_ch_tab[(i0 + i) & (CH_SLOTS - 1)];
		if (__atomic_load_n(&c->key, __ATOMIC_ACQUIRE) == h)
			return c;
	}
	return NULL;
}

void rc_ch_set_rejected(struct ch *c, int on)
{
	if (c->rejected == on)
		return;
	c->rejected = (uint8_t)on;
	__atomic_add_fetch(&rc_ch_nrejected, on ? 1 : -1, __ATOMIC_RELAXED);
}

/* A fresh entry for H (an existing one is emptied).  NULL if the table is
 * full around H's hash: H is then not tracked (its transfers pass through,
 * uncounted). */
struct ch *rc_ch_new(void *h)
{
	struct ch *c = rc_ch_find(h);
	if (c) {
		rc_ch_set_rejected(c, 0);
		memset((char *)c + sizeof c->key, 0, sizeof *c - sizeof c->key);
		return c;
	}
	unsigned i0 = rc_hash_ptr(h);
	for (unsigned i = 0; i < CH_PROBE; i++) {
		c = &rc_ch_tab[(i0 + i) & (CH_SLOTS - 1)];
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

void rc_ch_forget(struct ch *c)
{
	rc_ch_set_rejected(c, 0);
	__atomic_store_n(&c->key, NULL, __ATOMIC_RELEASE);
}

/* H's entry; one is made for a handle first seen at depth 0 (a handle
 * libcurl made for itself, like a DoH probe, is left alone). */
struct ch *rc_ch_get(void *h)
{
	struct ch *c = rc_ch_find(h);
	if (!c && rc_curl_depth == 0 && h)
		c = rc_ch_new(h);
	return c;
}

/* ---- where a transfer goes ---- */

void rc_ch_lower_copy(char *dst, size_t len, const char *src, size_t n)
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
void rc_ch_derive(struct ch *c)
{
	const char *s = c->scheme[0] ? c->scheme : guess_scheme(c, c->host);
	int dp = scheme_port(s);
	c->nonet = dp < 0;
	c->dport = c->url_port ? c->url_port : (uint16_t)(dp > 0 ? dp : 0);
	c->url_http = (uint8_t)is_http(s);
}

/* Remember URL's scheme, host (no brackets, no zone) and port in C. */
void rc_ch_note_url(struct ch *c, const char *url)
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
		rc_ch_lower_copy(c->scheme, sizeof c->scheme, url, (size_t)(p - url));
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
	rc_ch_lower_copy(c->host, sizeof c->host, h, (size_t)(he - h));
	if (port) {
		unsigned v = 0;
		const char *q = port;
		for (; q < end && *q >= '0' && *q <= '9' && v <= 65535; q++)
			v = v * 10 + (unsigned)(*q - '0');
		if (q > port && v > 0 && v <= 65535)
			c->url_port = (uint16_t)v;
	}
	c->have_url = 1;
	rc_ch_derive(c);
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
		rc_ch_lower_copy(buf, len, s, n);
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
			rc_ch_lower_copy(scheme, sizeof scheme, guess_scheme(c, host),
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
	RC_LIVE_USE(L);
	if (!L || !rc_match_wants_address(L->cfg, host, port))
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
			if (ad && rc_match(L->cfg, fam, ad, port, NULL, 0) >= 0 &&
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
	rc_live *L = rc_live_current();
	unsigned gen = L ? L->gen : 0; /* compared, never followed */
	if (c->addr_key == key && c->addr_gen == gen && now < c->addr_exp_ms) {
		if (!c->addr_lit[0])
			return 0;
		snprintf(lit, len, "%s", c->addr_lit);
		return 1;
	}
	if (!block)
		return 0;
	int found = by_address(host, port, lit, len);
	c->addr_key = key;
	c->addr_gen = gen;
	c->addr_exp_ms = now + ADDR_TTL_MS;
	snprintf(c->addr_lit, sizeof c->addr_lit, "%s", found ? lit : "");
	return found;
}

/* Ask whether C's next transfer may start.  Return as rc_transfer_begin;
 * *HTTP tells whether its HTTP status is to be judged.  BLOCK: a name
 * lookup is allowed (see by_address_cached). */
int rc_ch_begin(struct ch *c, rc_transfer *tx, int *http, int block)
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

