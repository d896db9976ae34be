/* http.c - libFuzzer harness: the HTTP/1.x status-line reader
 * (shim/core/http.c), whose answer must not depend on how the bytes of a
 * response are split across reads.
 *
 * Input: byte 0 gives the number of cuts (its low 3 bits, 0-7), the next
 * that many bytes their places (each modulo the response's length + 1;
 * pieces may be empty), the rest is the response.  It is fed whole, byte
 * by byte, and in the pieces between the cuts.  Contracts (http.h, and
 * tests/unit/http_test.c, which does the same for a table and random
 * inputs):
 *  - the three feedings agree on the result, the status and rc_http_end;
 *  - each agrees with a reading of the whole response written from http.h
 *    alone (ref() below: the status line, interim 100/102/103 heads
 *    skipped to their blank line);
 *  - h->began: the answer's first byte (its offset is where the byte by
 *    byte feeding saw began change to nonzero last) lies in the feed that
 *    last changed began to nonzero, in every feeding; began is nonzero at
 *    the end exactly when an answer byte came;
 *  - once a result is known, later feeds (the input's bytes again, then
 *    more) return it again and leave began as it is;
 *  - the reader's state stays in range (len <= 13, skip < 4, began <= 2). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/http.h"
#include "fuzz.h"

#define MAXCUT 7

static const char *rname(int r)
{
	return r == RC_HTTP_MORE ? "MORE" : r == RC_HTTP_STATUS ? "STATUS" : r == RC_HTTP_OTHER ? "OTHER" : "?";
}

/* ---- the reading, from http.h alone ---- */

struct want {
	int  r, status;      /* the result, status -1 unless STATUS */
	int  end_r, end_st;  /* rc_http_end after all of it */
	long began;          /* offset of the answer's first byte, -1: none */
};

static int digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static void ref(const unsigned char *p, size_t n, struct want *w)
{
	static const char pat[] = "HTTP/1.? ???";
	size_t pos = 0;

	for (;;) {
		size_t start = pos, i;
		int st;

		w->began = start < n ? (long)start : -1;
		for (i = 0; i < 12; i++) {
			if (start + i >= n) { /* cut short: not known yet */
				w->r = RC_HTTP_MORE;
				w->status = -1;
				w->end_r = RC_HTTP_OTHER;
				w->end_st = -1;
				return;
			}
			if (pat[i] == '?' ? !digit(p[start + i]) : p[start + i] != (unsigned char)pat[i]) {
				w->r = w->end_r = RC_HTTP_OTHER;
				w->status = w->end_st = -1;
				return;
			}
		}
		st = (p[start + 9] - '0') * 100 + (p[start + 10] - '0') * 10 + (p[start + 11] - '0');
		if (st != 100 && st != 102 && st != 103) {
			w->r = w->end_r = RC_HTTP_STATUS;
			w->status = w->end_st = st;
			return;
		}
		/* an interim head: skipped up to its blank line, the call still waits */
		const unsigned char *eoh = memmem(p + start + 12, n - start - 12, "\r\n\r\n", 4);

		if (!eoh) {
			w->r = RC_HTTP_MORE;
			w->status = -1;
			w->end_r = RC_HTTP_STATUS; /* a whole (interim) status line came */
			w->end_st = st;
			w->began = -1;
			return;
		}
		pos = (size_t)(eoh - p) + 4;
	}
}

/* ---- feeding the reader ---- */

struct run {
	int  r, status;      /* after the last feed; status -1 unless STATUS */
	int  end_r, end_st;
	int  began;          /* h.began at the end */
	long from, to;       /* the feed that last changed began to nonzero */
};

static void check_state(const rc_http *h)
{
	FUZZ_CHECK(h->len <= 13 && h->skip < 4 && h->began <= 2 && h->interim <= 1,
		   "reader state out of range: len %u skip %u began %u interim %u", h->len, h->skip,
		   h->began, h->interim);
}

/* Feed the N bytes at P in the pieces between the NCUT offsets CUT
 * (ascending, within 0..N). */
static void feed(const unsigned char *p, size_t n, const size_t *cut, size_t ncut, struct run *o)
{
	rc_http h;
	size_t start = 0;

	rc_http_init(&h);
	o->r = RC_HTTP_MORE;
	o->status = -1;
	o->from = o->to = -1;
	for (size_t k = 0; k <= ncut; k++) {
		size_t end = k < ncut ? cut[k] : n;
		uint8_t b0 = h.began;
		int st = -1, r = rc_http_feed(&h, p + start, end - start, &st);

		FUZZ_CHECK(r == RC_HTTP_MORE || r == RC_HTTP_STATUS || r == RC_HTTP_OTHER,
			   "rc_http_feed returned %d", r);
		if (r != RC_HTTP_STATUS)
			st = -1;
		else
			FUZZ_CHECK(st >= 0 && st <= 999, "status %d", st);
		check_state(&h);
		if (o->r != RC_HTTP_MORE)
			FUZZ_CHECK(r == o->r && st == o->status && h.began == b0,
				   "feed [%zu,%zu) after the result %s %d changed it to %s %d "
				   "(began %u -> %u)", start, end, rname(o->r), o->status, rname(r), st,
				   b0, h.began);
		if (h.began != b0) {
			o->from = h.began ? (long)start : -1;
			o->to = h.began ? (long)end : -1;
		}
		o->r = r;
		o->status = st;
		start = end;
	}
	o->began = h.began;
	o->end_st = -1;
	o->end_r = rc_http_end(&h, &o->end_st);
	if (o->end_r != RC_HTTP_STATUS)
		o->end_st = -1;
	FUZZ_CHECK(o->r == RC_HTTP_MORE || (o->end_r == o->r && o->end_st == o->status),
		   "rc_http_end %s %d after the result %s %d", rname(o->end_r), o->end_st, rname(o->r),
		   o->status);

	/* once known, the bytes after it are not looked at */
	if (o->r != RC_HTTP_MORE) {
		static const char later[] = "HTTP/1.1 200 OK\r\n\r\n";
		uint8_t b = h.began;

		for (int k = 0; k < 2; k++) {
			int st = -1, r = rc_http_feed(&h, k ? (const void *)later : p,
						      k ? sizeof later - 1 : n, &st);

			if (r != RC_HTTP_STATUS)
				st = -1;
			FUZZ_CHECK(r == o->r && st == o->status && h.began == b,
				   "a feed after the result %s %d gave %s %d", rname(o->r), o->status,
				   rname(r), st);
		}
	}
}

static void print_run(const char *what, const struct run *o)
{
	fprintf(stderr, "  %-12s %s %d, end %s %d, began %d in feed [%ld,%ld)\n", what, rname(o->r),
		o->status, rname(o->end_r), o->end_st, o->began, o->from, o->to);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t ones[1 << 16];
	size_t ncut = size ? data[0] & MAXCUT : 0, cut[MAXCUT], n;
	const unsigned char *p;
	struct run whole, bytes, split;
	struct want w;

	if (size < 1 + ncut)
		return 0;
	p = data + 1 + ncut;
	n = size - 1 - ncut;
	if (n > sizeof ones / sizeof ones[0])
		return 0;
	for (size_t i = 0; i < ncut; i++)
		cut[i] = data[1 + i] % (n + 1);
	for (size_t i = 1; i < ncut; i++) /* ascending */
		for (size_t j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			size_t x = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = x;
		}
	for (size_t i = 1; i < n; i++)
		ones[i - 1] = i;

	ref(p, n, &w);
	feed(p, n, NULL, 0, &whole);
	feed(p, n, ones, n > 1 ? n - 1 : 0, &bytes);
	feed(p, n, cut, ncut, &split);

	const struct run *all[3] = { &whole, &bytes, &split };
	static const char *const names[3] = { "whole", "byte by byte", "cut" };

	for (int k = 0; k < 3; k++) {
		const struct run *o = all[k];
		int bad = o->r != w.r || o->status != w.status || o->end_r != w.end_r ||
			  o->end_st != w.end_st || !o->began != (w.began < 0) ||
			  (w.began >= 0 && (w.began < o->from || w.began >= o->to));

		if (bad) {
			fprintf(stderr, "\n%zu response bytes, cut at", n);
			for (size_t i = 0; i < ncut; i++)
				fprintf(stderr, " %zu", cut[i]);
			fprintf(stderr, "\n  %-12s %s %d, end %s %d, answer began at %ld\n", "http.h says",
				rname(w.r), w.status, rname(w.end_r), w.end_st, w.began);
			for (int j = 0; j < 3; j++)
				print_run(names[j], all[j]);
		}
		FUZZ_CHECK(!bad, "fed %s, the reader disagrees with http.h's reading", names[k]);
	}
	/* byte by byte pins the answer's first byte down to one offset */
	FUZZ_CHECK(bytes.from == w.began && (w.began < 0 || bytes.to == w.began + 1),
		   "byte by byte: began in [%ld,%ld), the answer began at %ld", bytes.from, bytes.to,
		   w.began);
	return 0;
}
