/* http.c - see http.h.
 *
 * The same reading as the engine's status_prefix/judge_response/
 * response_bytes did with an fd's hbuf: a status line is collected up to
 * 12 bytes and checked against "HTTP/1.? ???" ('?' a digit); a 100, 102 or
 * 103 starts an interim head, skipped (from the byte after its 12th) up to
 * "\r\n\r\n" only, and the next response is read from its first byte. */
#include <string.h>

#include "core/hot.h"
#include "core/http.h"

#define LINE 12        /* bytes of "HTTP/1.x NNN" */
#define NOT_HTTP 13    /* h->len once the answer is known not to be HTTP */

static const char pat[] = "HTTP/1.? ???";
static const char eoh[4] = { '\r', '\n', '\r', '\n' };

/* Return nonzero if C may be byte I (< LINE) of a status line. */
static int fits(unsigned i, unsigned char c)
{
	if (pat[i] == '?')
		return c >= '0' && c <= '9';
	return c == (unsigned char)pat[i];
}

/* Return the status of the whole status line in h->line. */
static int code(const rc_http *h)
{
	return (h->line[9] - '0') * 100 + (h->line[10] - '0') * 10 + (h->line[11] - '0');
}

/* Return nonzero if STATUS starts an interim head (101 ends the exchange). */
static int interim_status(int status)
{
	return status == 100 || status == 102 || status == 103;
}

RC_HOT void rc_http_init(rc_http *h)
{
	memset(h, 0, sizeof *h);
}

/* Nonzero if the LINE bytes at S are a whole status line (the digits
 * checked by subtraction: an unsigned c - '0' above 9 is not one). */
static int whole_line(const unsigned char *s)
{
	return memcmp(s, "HTTP/1.", 7) == 0 && (unsigned)(s[7] - '0') <= 9 && s[8] == ' ' &&
	       (unsigned)(s[9] - '0') <= 9 && (unsigned)(s[10] - '0') <= 9 &&
	       (unsigned)(s[11] - '0') <= 9;
}

RC_HOT int rc_http_feed(rc_http *h, const void *p, size_t n, int *status)
{
	const unsigned char *s = p, *end = s + n;
	uint8_t mark = h->began == 1 ? 2 : 1; /* began's, for an answer beginning here */

	/* the common cases at once, not byte by byte (what the loop below
	 * would make of them, to the byte): a first byte that is not 'H' (not
	 * HTTP), and a whole status line at the start of a feed that begins it */
	if (!h->len && !h->interim && n && s[0] != 'H') {
		h->began = mark;
		h->len = NOT_HTTP;
		return RC_HTTP_OTHER;
	}
	if (!h->len && !h->interim && n >= LINE && whole_line(s)) {
		memcpy(h->line, s, LINE);
		h->len = LINE;
		h->began = mark;
		if (!interim_status(code(h))) {
			*status = code(h);
			return RC_HTTP_STATUS;
		}
		h->interim = 1;
		h->skip = 0;
		h->began = 0; /* not the answer: the call still waits */
		s += LINE;
	}

	for (;;) {
		if (h->len == NOT_HTTP)
			return RC_HTTP_OTHER;
		if (h->len == LINE && !h->interim) {
			*status = code(h);
			return RC_HTTP_STATUS;
		}
		if (s == end)
			return RC_HTTP_MORE;
		unsigned char c = *s++;
		if (h->interim) {
			h->skip = c == eoh[h->skip] ? h->skip + 1 : c == '\r';
			if (h->skip == 4) {
				/* the head is over: the next byte starts a response */
				h->interim = 0;
				h->skip = 0;
				h->len = 0;
			}
			continue;
		}
		if (!h->len)
			h->began = mark;
		if (!fits(h->len, c)) {
			h->len = NOT_HTTP;
			continue;
		}
		h->line[h->len++] = (char)c;
		if (h->len == LINE && interim_status(code(h))) {
			h->interim = 1;
			h->skip = 0;
			h->began = 0; /* not the answer: the call still waits */
		}
	}
}

RC_HOT int rc_http_end(const rc_http *h, int *status)
{
	if (h->len != LINE)
		return RC_HTTP_OTHER;
	*status = code(h);
	return RC_HTTP_STATUS;
}
