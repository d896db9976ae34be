/* http_test.c - the HTTP/1.x status-line reader (shim/core/http.c).
 *
 * Every input of a table is fed whole, byte by byte, and cut at every one
 * and every two places; each way must give the table's result, status and
 * moment of h->began (the feed holding the answer's first byte), and agree
 * after every feed with a copy of the engine code the reader replaces
 * (status_prefix, judge_response and response_bytes of
 * shim/engine/calls.c), which is also run against the reader on random
 * inputs.  rc_http_end is checked on every prefix of every input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "core/http.h"

/* ---- the engine's reading, as it was ---- */

/* The phases of an fd's open call that the reading decides. */
enum { M_WAITING, M_STATUS, M_IDLE };

typedef struct model {
	int  phase;   /* M_* */
	int  interim; /* RC_CALL_INTERIM */
	int  skip;
	int  hlen;
	char hbuf[12];
	int  first;   /* first_us: the index of the read that set it */
	int  status;  /* the judged status (0: none), once M_IDLE */
} model;

/* status_prefix, unchanged. */
static int m_prefix(const char *h, size_t len, int *status)
{
	static const char pat[] = "HTTP/1.? ???";
	*status = 0;
	for (size_t i = 0; i < len && i < 12; i++) {
		char c = h[i];
		if (pat[i] == '?' ? (c < '0' || c > '9') : c != pat[i])
			return 0;
	}
	if (len >= 12)
		*status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	return 1;
}

/* judge_response, the verdict reduced to the status it is given.  One
 * change: the engine asks for more bytes while !status, so "HTTP/1.1 000"
 * waited for more or the end and was then judged with no status; the
 * reader answers status 0 at its 12th byte (the same verdict). */
static int m_judge(model *e, int final)
{
	int status, http = m_prefix(e->hbuf, (size_t)e->hlen, &status);
	if (http && e->hlen < 12 && !final)
		return M_STATUS;
	if (!final && (status == 100 || status == 102 || status == 103))
		return M_WAITING;
	e->status = status;
	return M_IDLE;
}

/* response_bytes for one buffer of N > 0 bytes, read number NOW. */
static int m_bytes(model *e, const char *p, size_t n, int now)
{
	static const char eoh[4] = { '\r', '\n', '\r', '\n' };
	size_t off = 0;
	if (e->phase == M_WAITING && !e->interim) {
		e->first = now;
		e->hlen = 0;
		if (n >= 12) {
			memcpy(e->hbuf, p, 12);
			e->hlen = 12;
			off = 12;
		}
	}
	for (;;) {
		int more = off < n;
		if (e->interim) {
			if (!more)
				return M_WAITING;
			char c = p[off++];
			e->skip = c == eoh[e->skip] ? e->skip + 1 : c == '\r' ? 1 : 0;
			if (e->skip == 4) {
				e->interim = 0;
				e->skip = 0;
				e->hlen = 0;
				e->first = now;
			}
			continue;
		}
		if (more && e->hlen < 12) {
			e->hbuf[e->hlen++] = p[off++];
			continue;
		}
		if (!e->hlen)
			return M_WAITING;
		int to = m_judge(e, 0);
		if (to != M_WAITING)
			return to;
		e->interim = 1;
		e->skip = 0;
	}
}

/* ---- feeding the reader ---- */

struct run {
	int  r, status;   /* the last feed's result; status -1 unless STATUS */
	int  began;       /* h.began after the last feed */
	long from, to;    /* the feed [from, to) that last made began change to
			   * nonzero; -1, -1 if began is 0 */
	int  steady;      /* 0: a later feed changed a known result or began */
	int  end_r, end_status;     /* rc_http_end after the last feed */
	char why[160];    /* "": the engine's reading agreed after every feed */
};

/* Feed the LEN bytes at P to a new reader, in the pieces between the NCUT
 * offsets CUT (ascending, 0..LEN; pieces may be empty), and the engine's
 * reading alongside.  Fill O. */
static void feed(const char *p, size_t len, const size_t *cut, int ncut, struct run *o)
{
	rc_http h;
	model m;
	memset(&m, 0, sizeof m);
	rc_http_init(&h);
	o->r = RC_HTTP_MORE;
	o->status = -1;
	o->from = o->to = -1;
	o->steady = 1;
	o->why[0] = 0;
	int mk = -1; /* the piece that last made began change to nonzero */
	size_t start = 0;
	for (int k = 0; k <= ncut; k++) {
		size_t end = k < ncut ? cut[k] : len;
		uint8_t b0 = h.began;
		int st = -1, r = rc_http_feed(&h, p + start, end - start, &st);
		if (r != RC_HTTP_STATUS)
			st = -1;
		if (o->r != RC_HTTP_MORE && (r != o->r || st != o->status || h.began != b0))
			o->steady = 0;
		if (h.began != b0) {
			o->from = h.began ? (long)start : -1;
			o->to = h.began ? (long)end : -1;
			mk = h.began ? k : -1;
		}
		o->r = r;
		o->status = st;
		if (end > start && m.phase != M_IDLE)
			m.phase = m_bytes(&m, p + start, end - start, k);
		int want = r != RC_HTTP_MORE ? M_IDLE : h.began ? M_STATUS : M_WAITING;
		if (!o->why[0] && m.phase != want)
			snprintf(o->why, sizeof o->why, "piece %d [%zu,%zu): engine phase %d, reader %d",
				 k, start, end, m.phase, want);
		if (!o->why[0] && m.phase != M_WAITING && m.first != mk)
			snprintf(o->why, sizeof o->why, "piece %d: engine first byte in piece %d, reader %d",
				 k, m.first, mk);
		if (!o->why[0] && m.phase == M_IDLE && m.status != (st < 0 ? 0 : st))
			snprintf(o->why, sizeof o->why, "piece %d: engine status %d, reader %d", k,
				 m.status, st);
		start = end;
	}
	o->began = h.began;
	o->end_status = -1;
	o->end_r = rc_http_end(&h, &o->end_status);
	if (o->end_r != RC_HTTP_STATUS)
		o->end_status = -1;
	if (!o->why[0] && m.phase == M_STATUS) {
		/* the stream ends: the engine judges what came, and so does a
		 * caller of rc_http_end once the answer began */
		m_judge(&m, 1);
		if (m.status != (o->end_status < 0 ? 0 : o->end_status))
			snprintf(o->why, sizeof o->why, "at the end: engine status %d, reader %d",
				 m.status, o->end_status);
	}
}

/* ---- the table ---- */

struct input {
	const char *name;
	const char *p;
	size_t len;
	int r;         /* the result once it all came */
	int status;    /* with RC_HTTP_STATUS */
	long began;    /* offset of the answer's first byte; -1: none came */
};

/* HEAD: the interim heads (or nothing) before the answer REST. */
#define T(name, head, rest, r, st) { name, head rest, sizeof(head rest) - 1, r, st, sizeof(head) - 1 }
/* No answer byte: nothing, or interim heads only. */
#define N(name, all) { name, all, sizeof(all) - 1, RC_HTTP_MORE, 0, -1 }

#define C100 "HTTP/1.1 100 Continue\r\n\r\n"
#define S RC_HTTP_STATUS
#define O RC_HTTP_OTHER
#define M RC_HTTP_MORE

static const struct input table[] = {
	T("200", "", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", S, 200),
	T("503", "", "HTTP/1.1 503 Service Unavailable\r\n\r\n", S, 503),
	T("100 then 503", C100, "HTTP/1.1 503 Service Unavailable\r\n\r\n", S, 503),
	T("102 and 103 then 200",
	  "HTTP/1.1 102 Processing\r\n\r\n"
	  "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
	  "HTTP/1.1 200 OK\r\n\r\n", S, 200),
	T("101 is final", "", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", S,
	  101),
	T("HTTP/1.0 404", "", "HTTP/1.0 404 Not Found\r\n\r\n", S, 404),
	T("HTTP/1.9 is 1.x", "", "HTTP/1.9 200", S, 200),
	T("104 is final", "", "HTTP/1.1 104 X\r\n\r\n", S, 104),
	T("199 is final", "", "HTTP/1.1 199 X\r\n\r\n", S, 199),
	T("000: status 0", "", "HTTP/1.1 000 Zero\r\n\r\n", S, 0),
	T("exactly 12 bytes", "", "HTTP/1.1 429", S, 429),
	T("SSH greeting", "", "SSH-2.0-OpenSSH_9.6\r\n", O, 0),
	T("HTTP/2", "", "HTTP/2 200\r\n\r\n", O, 0),
	T("HTTP/1.x", "", "HTTP/1.x 200 OK\r\n\r\n", O, 0),
	T("lower case", "", "http/1.1 200 OK\r\n\r\n", O, 0),
	T("5x3", "", "HTTP/1.1 5x3 Odd\r\n\r\n", O, 0),
	T("two spaces", "", "HTTP/1.1  200 OK\r\n\r\n", O, 0),
	T("colon for a digit", "", "HTTP/1.1 20: X\r\n\r\n", O, 0),
	T("slash for a digit", "", "HTTP/1./ 200 X\r\n\r\n", O, 0),
	T("binary", "", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\x00\x80", O, 0),
	T("NUL first", "", "\0HTTP/1.1 200 OK\r\n\r\n", O, 0),
	T("partial status line", "", "HTTP/1.1 5", M, 0),
	T("partial HTTP", "", "HTT", M, 0),
	T("partial 1xx", "", "HTTP/1.1 10", M, 0),
	N("empty", ""),
	N("interim status only", "HTTP/1.1 100"),
	N("interim head cut short", "HTTP/1.1 100 Continue\r\n\r"),
	N("interim head only", C100),
	T("after interim, partial", C100, "HTTP/1.", M, 0),
	T("interim, stray CRs", "HTTP/1.1 100 Continue\r\nX: a\r\r\n\r\r\n\r\n",
	  "HTTP/1.1 429 Too Many Requests\r\n\r\n", S, 429),
	T("interim, bare LF does not end it", "HTTP/1.1 100 Continue\n\nHTTP/1.1 500 X\r\n\r\n",
	  "HTTP/1.1 200 OK\r\n\r\n", S, 200),
	T("interim, CR LF LF CR LF", "HTTP/1.1 103 Hints\r\n\n\r\nx\r\n\r\n", "HTTP/1.1 204 None\r\n\r\n",
	  S, 204),
	T("minimal interim", "HTTP/1.1 100\r\n\r\n", "HTTP/1.1 200", S, 200),
	T("interim read by 12 bytes", "HTTP/1.1 1000\r\n\r\n", "HTTP/1.1 201 Created\r\n\r\n", S,
	  201),
	T("three interims then 502", C100 C100 C100, "HTTP/1.1 502 Bad Gateway\r\n\r\n", S, 502),
	T("interim then not HTTP", C100, "SSH-2.0-x\r\n", O, 0),
	T("interim then binary", "HTTP/1.1 103 Early\r\n\r\n", "\x00\x01\xff", O, 0),
	T("interim then 101", "HTTP/1.1 102 P\r\n\r\n", "HTTP/1.1 101 Up\r\n\r\n", S, 101),
};

#define NTAB (sizeof table / sizeof table[0])

/* Return NULL if run O is what IN expects, else why not. */
static const char *wrong(const struct input *in, const struct run *o)
{
	static char buf[200];
	if (o->why[0])
		return o->why;
	if (o->r != in->r) {
		snprintf(buf, sizeof buf, "result %d, want %d", o->r, in->r);
		return buf;
	}
	if (in->r == RC_HTTP_STATUS && o->status != in->status) {
		snprintf(buf, sizeof buf, "status %d, want %d", o->status, in->status);
		return buf;
	}
	if (in->began < 0 ? o->began || o->from >= 0
			  : !o->began || in->began < o->from || in->began >= o->to) {
		snprintf(buf, sizeof buf, "began %d in feed [%ld,%ld), want at %ld", o->began,
			 o->from, o->to, in->began);
		return buf;
	}
	if (!o->steady)
		return "a feed after the result changed it";
	if (in->r != RC_HTTP_MORE &&
	    (o->end_r != in->r || (in->r == RC_HTTP_STATUS && o->end_status != in->status)))
		return "rc_http_end differs from the result";
	return NULL;
}

static void print_cuts(const size_t *cut, int ncut)
{
	printf("#   cut at");
	for (int i = 0; i < ncut; i++)
		printf(" %zu", cut[i]);
	printf("\n");
}

/* Feed IN cut at CUT; on the first failure (*BAD still NULL) say why. */
static void try(const struct input *in, const size_t *cut, int ncut, const char **bad)
{
	struct run o;
	feed(in->p, in->len, cut, ncut, &o);
	const char *w = wrong(in, &o);
	if (w && !*bad) {
		*bad = w;
		printf("# %s: %s\n", in->name, w);
		print_cuts(cut, ncut);
	}
}

static void test_input(const struct input *in)
{
	size_t cut[256];
	const char *bad;
	size_t n = in->len;

	bad = NULL;
	try(in, NULL, 0, &bad);
	ok(!bad, "%s: whole", in->name);

	bad = NULL;
	for (size_t i = 1; i < n && i <= 256; i++)
		cut[i - 1] = i;
	try(in, cut, n > 1 ? (int)n - 1 : 0, &bad);
	ok(!bad, "%s: byte by byte", in->name);

	bad = NULL;
	for (size_t a = 0; a <= n; a++) {
		cut[0] = a;
		try(in, cut, 1, &bad);
	}
	ok(!bad, "%s: every cut in two", in->name);

	bad = NULL;
	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			cut[0] = a;
			cut[1] = b;
			try(in, cut, 2, &bad);
		}
	ok(!bad, "%s: every cut in three", in->name);

	/* the bytes after a result are not looked at */
	if (in->r != RC_HTTP_MORE) {
		static const char *const later[] = { "HTTP/1.1 500 X\r\n\r\n", "", "\x00\xff", C100,
						     "HTTP/1.1 2" };
		rc_http h;
		int st = -1, good = 1;
		rc_http_init(&h);
		int r = rc_http_feed(&h, in->p, n, &st);
		uint8_t b = h.began;
		for (int k = 0; k < 3; k++)
			for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
				int s2 = -1, r2 = rc_http_feed(&h, later[i], strlen(later[i]), &s2);
				if (r2 != r || (r == RC_HTTP_STATUS && s2 != st) || h.began != b)
					good = 0;
			}
		int se = -1, re = rc_http_end(&h, &se);
		if (re != r || (r == RC_HTTP_STATUS && se != st))
			good = 0;
		ok(good, "%s: later feeds give the same result", in->name);
	}

	/* every prefix: rc_http_end, whole and byte by byte, and after a
	 * result known or an answer begun but not yet known */
	bad = NULL;
	for (size_t k = 0; k <= n && !bad; k++) {
		struct run w, o;
		for (size_t i = 1; i < k && i <= 256; i++)
			cut[i - 1] = i;
		feed(in->p, k, NULL, 0, &w);
		feed(in->p, k, cut, k > 1 ? (int)k - 1 : 0, &o);
		if (w.why[0] || o.why[0])
			bad = w.why[0] ? w.why : o.why;
		else if (w.r != o.r || w.status != o.status || w.began != o.began ||
			 w.end_r != o.end_r || w.end_status != o.end_status)
			bad = "whole and byte by byte differ";
		else if (w.r != RC_HTTP_MORE && (w.end_r != w.r || w.end_status != w.status))
			bad = "rc_http_end differs from the result";
		else if (w.r == RC_HTTP_MORE && w.began && w.end_r != RC_HTTP_OTHER)
			bad = "rc_http_end of a status line cut short is not OTHER";
		if (bad)
			printf("# %s: prefix of %zu bytes: %s\n", in->name, k, bad);
	}
	ok(!bad, "%s: rc_http_end on every prefix", in->name);
}

/* rc_http_end for inputs that stop early. */
static void test_end(void)
{
	static const struct {
		const char *p;
		int r, status;
	} t[] = {
		{ "", O, 0 },
		{ "H", O, 0 },
		{ "HTTP/1.1 5", O, 0 },
		{ "HTTP/1.1 50", O, 0 },
		{ "HTTP/1.1 503", S, 503 },
		{ "HTTP/1.1 101", S, 101 },
		{ "SSH-", O, 0 },
		{ "HTTP/1.1 5x", O, 0 },
		{ "HTTP/1.1 100", S, 100 },
		{ "HTTP/1.1 103 Early Hints\r\n", S, 103 },
		{ C100 "", O, 0 },
		{ C100 "HTTP/1.1 2", O, 0 },
		{ C100 "HTTP/1.1 204", S, 204 },
		{ C100 "HTTP/1.1 102 P\r\n\r", S, 102 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rc_http h;
		int st = -1, se = -1;
		rc_http_init(&h);
		rc_http_feed(&h, t[i].p, strlen(t[i].p), &st);
		int r = rc_http_end(&h, &se);
		ok(r == t[i].r && (r != S || se == t[i].status), "rc_http_end after \"%.*s\"",
		   (int)strcspn(t[i].p, "\r\n"), t[i].p);
		if (r != t[i].r || (r == S && se != t[i].status))
			printf("#   got %d status %d, want %d status %d\n", r, se, t[i].r, t[i].status);
	}
}

/* A reader used once reads the next response from scratch after init. */
static void test_reuse(void)
{
	rc_http h;
	int st = -1;
	rc_http_init(&h);
	rc_http_feed(&h, "SSH-2.0", 7, &st);
	rc_http_init(&h);
	int r = rc_http_feed(&h, "HTTP/1.1 503", 12, &st);
	ok(r == S && st == 503 && h.began, "rc_http_init starts afresh");
}

/* began takes a new nonzero value when the answer begins in a feed after
 * an interim status line that made it nonzero in an earlier one. */
static void test_began_value(void)
{
	rc_http h;
	int st = -1;
	rc_http_init(&h);
	rc_http_feed(&h, "HTTP/1.1 1", 10, &st);
	uint8_t b0 = h.began;
	static const char rest[] = "00 Continue\r\n\r\nHTTP/1.1 200";
	int r = rc_http_feed(&h, rest, sizeof rest - 1, &st);
	ok(b0 && h.began && h.began != b0 && r == S && st == 200,
	   "answer after a split interim status line: began %d then %d", b0, h.began);
}

/* ---- random inputs against the engine's reading ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void test_random(void)
{
	static const char *const tok[] = {
		"HTTP/1.1 ", "HTTP/1.0 ", "HTTP/1.", "HTTP/2 ", "HTTP", "100", "101", "102",
		"103", "200", "503", "1", "0", "9", "/", ":", " ", "\r", "\n", "\r\n",
		"\r\n\r\n", " Continue", "x", "\0",
	};
	int runs = 20000, bad = 0;
	for (int t = 0; t < runs && !bad; t++) {
		char p[96];
		size_t n = 0, cut[6];
		int parts = (int)rnd(12);
		for (int i = 0; i < parts; i++) {
			if (rnd(8) == 0) {
				if (n < sizeof p)
					p[n++] = (char)rnd(256);
				continue;
			}
			const char *s = tok[rnd(sizeof tok / sizeof tok[0])];
			size_t l = s[0] ? strlen(s) : 1;
			if (n + l > sizeof p)
				break;
			memcpy(p + n, s, l);
			n += l;
		}
		int ncut = (int)rnd(7);
		for (int i = 0; i < ncut; i++)
			cut[i] = rnd((unsigned)n + 1);
		for (int i = 1; i < ncut; i++)
			for (int j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
				size_t x = cut[j];
				cut[j] = cut[j - 1];
				cut[j - 1] = x;
			}
		struct run o, w;
		feed(p, n, cut, ncut, &o);
		feed(p, n, NULL, 0, &w);
		if (o.why[0] || w.why[0] || o.r != w.r || o.status != w.status || !o.steady ||
		    o.end_r != w.end_r || o.end_status != w.end_status || !o.began != !w.began) {
			bad = 1;
			printf("# random input %d (%zu bytes): %s\n", t, n, o.why[0] ? o.why : w.why);
			print_cuts(cut, ncut);
		}
	}
	ok(!bad, "%d random inputs, randomly cut: as the engine read them", runs);
}

int main(void)
{
	for (size_t i = 0; i < NTAB; i++)
		test_input(&table[i]);
	test_end();
	test_reuse();
	test_began_value();
	test_random();
	return done_testing();
}
