/* value.c - the value types of the INI keys: parse and format them.
 *
 * Choices the SPEC leaves open (also stated in conf/recloser.ini):
 *  - Durations must be whole milliseconds: "1.0005s" is rejected, never
 *    rounded.  At most 576h (24 days), so any timeout fits poll()'s int.
 *  - Enumerated values (modes, levels, booleans, errno names) ignore ASCII
 *    case.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/value.h"

#define DURATION_MAX_MS (576ull * 3600 * 1000) /* 24 days */

/* ---- small helpers ---- */

int rc_value_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void rc_value_trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

bool rc_value_word_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && rc_value_ncaseeq(s, word, n);
}

int rc_value_decimal(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
		if (x > max)
			return -2;
	}
	*v = x;
	return 0;
}

/* ---- durations ---- */

static const struct { const char *unit; uint64_t ms; } units[] = {
	{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
};

int rc_parse_duration(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	static const char expect[] =
		"expected a duration like 250ms, 2s, 1.5s, 5m or 1h (0 = off)";
	const char *p, *e;
	size_t n;
	uint64_t whole = 0, frac = 0, scale = 1, mult = 0;
	int ndec = 0;

	if (!s)
		return rc_value_fail(err, errlen, "%s", expect);
	p = s;
	n = strlen(s);
	rc_value_trim(&p, &n);
	e = p + n;
	if (p < e && *p == '-')
		return rc_value_fail(err, errlen, "a duration cannot be negative");
	if (p == e || !isdigit((unsigned char)*p))
		return rc_value_fail(err, errlen, "%s", expect);
	for (; p < e && isdigit((unsigned char)*p); p++) {
		if (whole > DURATION_MAX_MS) /* keeps whole * mult in range */
			return rc_value_fail(err, errlen, "too long: at most 576h");
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (p < e && *p == '.') {
		p++;
		if (p == e || !isdigit((unsigned char)*p))
			return rc_value_fail(err, errlen, "%s", expect);
		for (; p < e && isdigit((unsigned char)*p); p++) {
			if (ndec < 9) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
				ndec++;
			} else if (*p != '0') {
				return rc_value_fail(err, errlen,
						     "not a whole number of milliseconds");
			}
		}
	}
	if (p == e) {
		mult = 1000; /* a bare number is seconds */
	} else {
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].unit) == (size_t)(e - p) &&
			    memcmp(p, units[i].unit, (size_t)(e - p)) == 0)
				mult = units[i].ms;
		if (!mult)
			return rc_value_fail(err, errlen,
					     "unknown unit '%.*s': use ms, s, m or h",
					     (int)(e - p > 20 ? 20 : e - p), p);
	}
	/* Sub-millisecond parts are refused rather than rounded: a config
	 * should mean exactly what it says. */
	if (frac * mult % scale)
		return rc_value_fail(err, errlen, "not a whole number of milliseconds");
	whole = whole * mult + frac * mult / scale;
	if (whole > DURATION_MAX_MS)
		return rc_value_fail(err, errlen, "too long: at most 576h");
	*ms = whole;
	return 0;
}

/* The shortest form that parses back to MS, with no "0." in front; on a
 * tie, fewer decimals, then the larger unit ("1001ms", "90s", "1.5s"). */
void rc_format_duration(uint64_t ms, char *buf, size_t len)
{
	char best[48] = "0", cand[48], fr[4];
	size_t bestlen = SIZE_MAX;
	int bestdec = 0;

	if (!buf || !len)
		return;
	for (size_t i = 0; ms && i < sizeof units / sizeof units[0]; i++) {
		uint64_t u = units[i].ms, w = ms / u, r = ms % u, f = 0, pow = 1;
		int dec = 0;

		if (r && !w)
			continue; /* "100ms", not "0.1s" */
		if (r) {
			for (dec = 1; dec <= 3; dec++) {
				pow *= 10;
				if (r * pow % u == 0) {
					f = r * pow / u;
					break;
				}
			}
			if (dec > 3)
				continue;
			for (int d = dec - 1; d >= 0; d--, f /= 10)
				fr[d] = (char)('0' + f % 10);
			fr[dec] = '\0';
			snprintf(cand, sizeof cand, "%llu.%s%s",
				 (unsigned long long)w, fr, units[i].unit);
		} else {
			snprintf(cand, sizeof cand, "%llu%s",
				 (unsigned long long)w, units[i].unit);
		}
		/* Shortest wins; on a tie fewer decimals, then the larger unit. */
		if (strlen(cand) < bestlen ||
		    (strlen(cand) == bestlen && dec < bestdec)) {
			memcpy(best, cand, sizeof best);
			bestlen = strlen(cand);
			bestdec = dec;
		}
	}
	snprintf(buf, len, "%s", best);
}

/* ---- the other value types ---- */

static int parse_uint(const char *s, void *dst, char *err, size_t errlen)
{
	size_t n = strlen(s);
	uint64_t v;
	int r;

	rc_value_trim(&s, &n);
	r = rc_value_decimal(s, n, UINT32_MAX, &v);
	if (r == -2)
		return rc_value_fail(err, errlen, "too large: at most %u", UINT32_MAX);
	if (r < 0)
		return rc_value_fail(err, errlen, "expected a whole number >= 0");
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

static int parse_percent(const char *s, void *dst, char *err, size_t errlen)
{
	size_t n = strlen(s);
	uint64_t v;

	rc_value_trim(&s, &n);
	if (n && s[n - 1] == '%')
		n--;
	if (rc_value_decimal(s, n, 100, &v) < 0)
		return rc_value_fail(err, errlen, "expected a percentage 0-100");
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

/* Look [S, S + N) up in the NULL-terminated WORDS; return its index or -1. */
static int lookup(const char *s, const char *const *words)
{
	size_t n = strlen(s);

	rc_value_trim(&s, &n);
	for (int i = 0; words[i]; i++)
		if (rc_value_word_eq(s, n, words[i]))
			return i;
	return -1;
}

static int parse_bool(const char *s, void *dst, char *err, size_t errlen)
{
	static const char *const words[] = {
		"no", "yes", "false", "true", "off", "on", "0", "1", NULL,
	};
	int i = lookup(s, words);

	if (i < 0)
		return rc_value_fail(err, errlen,
				     "expected yes or no (true/false, on/off, 1/0)");
	*(int *)dst = i & 1;
	return 0;
}

static int parse_mode(const char *s, void *dst, char *err, size_t errlen)
{
	static const char *const words[] = { "enforce", "observe", "off", NULL };
	int i = lookup(s, words);

	if (i < 0)
		return rc_value_fail(err, errlen, "expected enforce, observe or off");
	*(int *)dst = i; /* the order of enum rc_mode */
	return 0;
}

static int parse_level(const char *s, void *dst, char *err, size_t errlen)
{
	static const char *const words[] = { "error", "warn", "info", "debug", NULL };
	int i = lookup(s, words);

	if (i < 0)
		return rc_value_fail(err, errlen, "expected error, warn, info or debug");
	*(int *)dst = i; /* the order of enum rc_level */
	return 0;
}

/* The errnos a rejected connect may fail with: each a connect failure a
 * caller handles as "this destination is unreachable now" (gives up, tries
 * the next address, backs off).  In the order the messages list them. */
static const struct { const char *name; int value; } errnos[] = {
	{ "ECONNREFUSED", ECONNREFUSED }, { "ETIMEDOUT", ETIMEDOUT },
	{ "EHOSTUNREACH", EHOSTUNREACH }, { "ENETUNREACH", ENETUNREACH },
	{ "ECONNRESET", ECONNRESET },     { "ECONNABORTED", ECONNABORTED },
	{ "EACCES", EACCES },             { "EPERM", EPERM },
	{ "ENETDOWN", ENETDOWN },         { "EHOSTDOWN", EHOSTDOWN },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENOBUFS", ENOBUFS },
};

/* The errnos refused, and why: a caller retries the first ones at once
 * (a loop of millions of rejections a second), and takes the others for a
 * connect still pending or done. */
static const struct { const char *name; int value; const char *why; } refused[] = {
	{ "EINTR", EINTR, "makes callers retry at once (a spin of rejections)" },
	{ "EAGAIN", EAGAIN, "makes callers retry at once (a spin of rejections)" },
	{ "EWOULDBLOCK", EWOULDBLOCK, "makes callers retry at once (a spin of rejections)" },
	{ "EINPROGRESS", EINPROGRESS, "makes a rejected connect look pending "
	  "(and then connected)" },
	{ "EALREADY", EALREADY, "makes a rejected connect look pending "
	  "(callers wait or retry at once)" },
	{ "EISCONN", EISCONN, "makes a rejected connect look successful" },
};

#define ERRNO_ADVICE "use a connect failure such as ECONNREFUSED (the default), " \
	"ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET or ECONNABORTED"

/* Refuse errno V for the reason in refused[I]; the name shown is the
 * first of that value (EWOULDBLOCK is EAGAIN on Linux). */
static int refuse_errno(size_t i, char *err, size_t errlen)
{
	size_t j = 0;

	while (refused[j].value != refused[i].value)
		j++;
	return rc_value_fail(err, errlen, "%s %s; " ERRNO_ADVICE, refused[j].name,
			     refused[i].why);
}

static int parse_errno(const char *s, void *dst, char *err, size_t errlen)
{
	size_t n = strlen(s);
	uint64_t v;

	rc_value_trim(&s, &n);
	for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
		if (rc_value_word_eq(s, n, errnos[i].name)) {
			*(int *)dst = errnos[i].value;
			return 0;
		}
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (rc_value_word_eq(s, n, refused[i].name))
			return refuse_errno(i, err, errlen);
	if (rc_value_decimal(s, n, 4095, &v) == 0 && v > 0) {
		for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
			if ((uint64_t)errnos[i].value == v) {
				*(int *)dst = (int)v;
				return 0;
			}
		for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
			if ((uint64_t)refused[i].value == v)
				return refuse_errno(i, err, errlen);
		return rc_value_fail(err, errlen, "errno %llu is not a connect failure; "
				     ERRNO_ADVICE, (unsigned long long)v);
	}
	return rc_value_fail(err, errlen, "expected an errno name (ECONNREFUSED, "
			     "ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET, "
			     "ECONNABORTED, EACCES, EPERM, ENETDOWN, EHOSTDOWN, "
			     "EADDRNOTAVAIL, ENOBUFS) or its number");
}

int rc_status_in(const rc_statusset *set, int status)
{
	if (!set || status < 100 || status > 599)
		return 0;
	status -= 100;
	return (int)((set->bits[status / 64] >> (status % 64)) & 1);
}

static int parse_status(const char *s, size_t n, uint64_t *v, char *err, size_t errlen)
{
	int r;

	rc_value_trim(&s, &n);
	r = rc_value_decimal(s, n, 999, v);
	if (r == -1)
		return rc_value_fail(err, errlen, "expected statuses like 500-599 "
				     "or 502,503 (empty = none)");
	if (r == -2 || *v < 100 || *v > 599)
		return rc_value_fail(err, errlen, "status %.*s is outside 100-599",
				     (int)(n > 10 ? 10 : n), s);
	return 0;
}

static int parse_statuses(const char *s, void *dst, char *err, size_t errlen)
{
	rc_statusset set;
	size_t n = strlen(s);
	const char *end;

	memset(&set, 0, sizeof set);
	rc_value_trim(&s, &n);
	end = s + n;
	while (n) {
		const char *item = s, *comma = memchr(s, ',', (size_t)(end - s));
		const char *iend = comma ? comma : end, *dash;
		size_t in = (size_t)(iend - item);
		uint64_t lo = 0, hi = 0;

		rc_value_trim(&item, &in);
		if (!in)
			return rc_value_fail(err, errlen,
					     "empty item in the list of statuses");
		dash = memchr(item, '-', in);
		if (parse_status(item, dash ? (size_t)(dash - item) : in, &lo, err, errlen) < 0)
			return -1;
		hi = lo;
		if (dash && parse_status(dash + 1, (size_t)(item + in - dash - 1),
					 &hi, err, errlen) < 0)
			return -1;
		if (hi < lo)
			return rc_value_fail(err, errlen, "range %llu-%llu runs backwards",
					     (unsigned long long)lo,
					     (unsigned long long)hi);
		for (uint64_t st = lo; st <= hi; st++)
			set.bits[(st - 100) / 64] |= 1ull << ((st - 100) % 64);
		if (!comma)
			break;
		s = comma + 1;
		if (s == end)
			return rc_value_fail(err, errlen,
					     "empty item in the list of statuses");
	}
	*(rc_statusset *)dst = set;
	return 0;
}

/* Replace every "<uid>" by the real uid; the result must be absolute. */
static int parse_path(const char *s, void *dst, char *err, size_t errlen)
{
	char out[PATH_MAX], uid[24];
	size_t n = strlen(s), o = 0, ul;

	rc_value_trim(&s, &n);
	if (!n || s[0] != '/')
		return rc_value_fail(err, errlen, "expected an absolute path (\"<uid>\" "
				     "stands for the user id)");
	ul = (size_t)snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
	for (size_t i = 0; i < n; ) {
		const char *piece = s + i;
		size_t pl = 1;

		if (n - i >= 5 && memcmp(s + i, "<uid>", 5) == 0) {
			piece = uid;
			pl = ul;
			i += 5;
		} else {
			i++;
		}
		if (o + pl >= sizeof out)
			return rc_value_fail(err, errlen, "path too long");
		memcpy(out + o, piece, pl);
		o += pl;
	}
	out[o] = '\0';
	{
		char *copy = strdup(out);

		if (!copy)
			return rc_value_fail(err, errlen, "out of memory");
		free(*(char **)dst);
		*(char **)dst = copy;
	}
	return 0;
}

static int parse_duration_v(const char *s, void *dst, char *err, size_t errlen)
{
	return rc_parse_duration(s, dst, err, errlen);
}

typedef int (*parse_fn)(const char *s, void *dst, char *err, size_t errlen);

static const parse_fn parsers[] = {
	[RC_VALUE_DURATION] = parse_duration_v, [RC_VALUE_UINT] = parse_uint,
	[RC_VALUE_PERCENT] = parse_percent,     [RC_VALUE_BOOL] = parse_bool,
	[RC_VALUE_MODE] = parse_mode,           [RC_VALUE_LEVEL] = parse_level,
	[RC_VALUE_ERRNO] = parse_errno,         [RC_VALUE_STATUSES] = parse_statuses,
	[RC_VALUE_PATH] = parse_path,
};

int rc_value_parse(enum rc_value_type type, const char *s, void *dst,
		   char *err, size_t errlen)
{
	return parsers[type](s, dst, err, errlen);
}
