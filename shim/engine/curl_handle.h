/* curl_handle.h - libcurl inside the shim: finding the process's own
 * libcurl, and what the shim remembers per easy handle (where its next
 * transfer goes, the app's options the shim changes).  Shared by
 * engine/curl_handle.c and engine/curl.c only. */
#ifndef RC_CURL_HANDLE_H
#define RC_CURL_HANDLE_H

#include <arpa/inet.h>
#include <stdint.h>

/* as engine/curl.h includes it */
#define CURL_DISABLE_TYPECHECK 1
#define CURL_DISABLE_DEPRECATION 1
#define CURL_ALLOW_OLD_MULTI_SOCKET 1
#include <curl/curl.h>

#include "engine/live.h"
#include "engine/transfer.h"

/* The real functions, found once libcurl is there to be found. */
#define RC_CURL(ret, name, params) extern ret (*real_##name) params;
#define RC_CURL_USE(ret, name, params) extern ret (*real_##name) params;
#include "hooks/curl.def"

/* Resolve the real functions if not done yet.  Return nonzero when they
 * are there (at least curl_easy_setopt and curl_easy_perform). */
int rc_curl_ready(void);

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
	char      rej_name[RC_NAME_MAX]; /* that breaker's name ("": none) */
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
	unsigned  addr_gen;    /* under which config (its gen), */
	uint64_t  addr_exp_ms; /* until when the answer holds, */
	char      addr_lit[INET6_ADDRSTRLEN]; /* and the answer ("" none) */
	char      defproto[16];/* CURLOPT_DEFAULT_PROTOCOL, lowercase */
	char      scheme[16];  /* from the URL, lowercase; "" none */
	char      host[RC_HOST_MAX];
};

#define CH_SLOTS 4096u  /* a power of 2 */

/* The table (scanned by curl_multi_cleanup), and how many handles have
 * .rejected set (0 spares getinfo a lookup). */
extern struct ch rc_ch_tab[CH_SLOTS];
extern int rc_ch_nrejected;

/* The entry of H, or NULL. */
struct ch *rc_ch_find(const void *h);
/* A fresh entry for H (an existing one is emptied).  NULL if the table is
 * full around H's hash: H is then not tracked (its transfers pass through,
 * uncounted). */
struct ch *rc_ch_new(void *h);
/* H's entry; one is made for a handle first seen at depth 0. */
struct ch *rc_ch_get(void *h);
void rc_ch_forget(struct ch *c);
void rc_ch_set_rejected(struct ch *c, int on);

/* Copy N bytes of SRC into DST (LEN bytes), lowercase, NUL-terminated. */
void rc_ch_lower_copy(char *dst, size_t len, const char *src, size_t n);
/* Remember URL's scheme, host and port in C. */
void rc_ch_note_url(struct ch *c, const char *url);
/* Derive C's port and protocol again (CURLOPT_DEFAULT_PROTOCOL changed). */
void rc_ch_derive(struct ch *c);

/* Ask whether C's next transfer may start.  Return as rc_transfer_begin;
 * *HTTP tells whether its HTTP status is to be judged.  BLOCK: a name
 * lookup is allowed (the multi interface's callers must not block). */
int rc_ch_begin(struct ch *c, rc_transfer *tx, int *http, int block);

#endif
