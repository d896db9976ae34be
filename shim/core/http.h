/* http.h - the HTTP/1.x status line of a response, read byte by byte.
 *
 * A pure reader: fed the bytes of a response as they come, in pieces of
 * any size, it answers "need more", "status N", or "not HTTP", and nothing
 * else.  It allocates nothing, makes no call, and keeps its whole state in
 * an rc_http the caller owns (inside an fd's table entry), so the answer
 * never depends on how the bytes were split.
 *
 * What it reads (SPEC section 3):
 *  - A response that begins "HTTP/1.x NNN" (x and each N a digit) has
 *    status NNN, known once those 12 bytes are there.
 *  - An informational head (100, 102, 103; not 101, which ends the
 *    exchange) is skipped up to its blank line ("\r\n\r\n"); the answer is
 *    the response after it, read again from its first byte.
 *  - Any other first bytes: not HTTP.  So are bytes that stop matching
 *    "HTTP/1.? ???" before the 12th. */
#ifndef RC_HTTP_H
#define RC_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum rc_http_result {
	RC_HTTP_MORE = 0,   /* more bytes are needed to know */
	RC_HTTP_STATUS = 1, /* an HTTP/1.x answer with the status given */
	RC_HTTP_OTHER = 2,  /* the answer is not HTTP/1.x */
};

typedef struct rc_http {
	uint8_t len;      /* bytes of the status line collected in line[];
			   * 13 once the answer is known not to be HTTP */
	uint8_t skip;     /* "\r\n\r\n" matched so far in an interim head */
	uint8_t interim;  /* inside an interim (1xx) head */
	uint8_t began;    /* nonzero: the answer's first byte has been fed */
	char    line[12];
} rc_http;

/* Start reading a new response. */
void rc_http_init(rc_http *h);

/* Feed the N bytes at P, the next of the response.  Return RC_HTTP_MORE,
 * or the result once known (RC_HTTP_STATUS with *STATUS set, or
 * RC_HTTP_OTHER); once known, the bytes after it are not looked at and
 * the same result is returned again for any later feed.  h->began turns
 * nonzero at the first byte of the answer (after any interim heads), and
 * back to 0 when those bytes prove to be an interim head's (the call still
 * waits).  A feed in which the answer begins leaves h->began nonzero and
 * different from its value before the feed (1 or 2), even if an interim
 * head's first bytes had made it nonzero in an earlier feed: the caller
 * takes a feed that changes h->began to nonzero as the end of the call's
 * wait. */
int rc_http_feed(rc_http *h, const void *p, size_t n, int *status);

/* No more bytes will come (end of stream, reset, close, or the next
 * request).  Return the result from what was fed: RC_HTTP_STATUS if a
 * whole status line came (an interim one included: the answer ended
 * there), else RC_HTTP_OTHER. */
int rc_http_end(const rc_http *h, int *status);

#endif
