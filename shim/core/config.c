/* config.c - the recloser INI file: parse, validate, match destinations.
 *
 * The text is parsed by inih (Debian's libinih, linked statically).  The
 * whole file is read into memory first and handed to inih by our own
 * reader, one physical line at a time, so we always know the line number
 * and can note what inih does not tell its handler: where each [section]
 * header is (inih also cuts section names to 49 characters), which lines
 * are indented continuation lines, and which lines inih rejected.  Every
 * problem is collected and reported at once, sorted by line.
 *
 * Long lines.  Debian builds inih with a 200-byte line buffer, but libinih
 * 55 exposes its options as run-time variables.  Before each parse we set
 * ini_use_stack = 0 and ini_allow_realloc = 1 and raise ini_max_line above
 * the longest line of the file (it only ever grows, so concurrent parses
 * cannot shrink it under each other).  inih then grows its heap buffer to
 * hold any line, and its line count stays equal to ours.  Should a line
 * still reach the handler in pieces, the reader notices (it has not handed
 * out the whole line yet) and the line is reported as too long, with the
 * advice to repeat the match key or continue it on indented lines.
 *
 * Choices the SPEC leaves open (also stated in conf/recloser.ini):
 *  - Durations must be whole milliseconds: "1.0005s" is rejected, never
 *    rounded.  At most 576h (24 days), so any timeout fits poll()'s int.
 *  - A CIDR with host bits set ("10.1.2.3/8") is rejected, naming the
 *    network that was probably meant.
 *  - "*.example.com" matches names below example.com at any depth, never
 *    example.com itself.
 *  - An IPv4-mapped IPv6 pattern ([::ffff:192.0.2.7], prefix >= 96) is
 *    stored as the IPv4 pattern it stands for, since a mapped destination
 *    matches as IPv4.
 *  - Host names may hold letters, digits, '-' and '_' (container and
 *    compose service names); the last label may not be all digits.
 *  - Breaker names are case-sensitive (the state file finds breakers by
 *    name); [global], key names and enumerated values ignore ASCII case.
 *  - A match line may end with ',' (or be empty) only when an indented
 *    continuation line follows.  libinih 55 leaves " ; comments" on
 *    continuation lines: they are cut off here.
 *  - After a broken section header, its keys are still checked, but
 *    belong to no breaker.
 *
 * Nothing here prints, exits or aborts; errno is left as it was.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

#define FILE_MAX        (1u << 20)             /* bytes in a config file */
#define DURATION_MAX_MS (576ull * 3600 * 1000) /* 24 days */
#define DERIVED         UINT64_MAX             /* "computed in finish()" */
#define PATS_MAX        4096                   /* patterns per breaker */
#define PATTERN_MAX     300                    /* characters in one pattern */
#define ERRS_MAX        1000                   /* problems kept */
#define SHOW_MAX        60                     /* value characters quoted */
#define MSG_MAX         512

/* ---- the keys, expanded from keys.def ---- */

enum key_type {
	T_DURATION, T_UINT, T_PERCENT, T_BOOL, T_MODE, T_LEVEL, T_ERRNO,
	T_STATUSES, T_PATH,
};

enum key_id {
#define RC_GLOBAL(n, t, d)  K_##n,
#define RC_BREAKER(n, t, d) K_##n,
#include "core/keys.def"
	K_COUNT
};
_Static_assert(K_COUNT <= 64, "sets of keys are 64-bit masks");

struct key {
	const char   *name;
	enum key_type type;
	bool          global;  /* only in [global] */
	const char   *dflt;    /* "" = derived, see finish() */
	size_t        off;     /* in rc_config (global) or rc_breaker_cfg */
	size_t        size;
};

static const struct key keys[K_COUNT] = {
#define RC_GLOBAL(n, t, d) \
	[K_##n] = { #n, T_##t, true, d, offsetof(rc_config, n), sizeof(RC_CTYPE_##t) },
#define RC_BREAKER(n, t, d) \
	[K_##n] = { #n, T_##t, false, d, offsetof(rc_breaker_cfg, n), sizeof(RC_CTYPE_##t) },
#include "core/keys.def"
};

#define BIT(k) (1ull << (k))

/* ---- small helpers ---- */

/* Write a message into ERR and return -1. */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ASCII only, whatever locale the host program set. */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Return nonzero if the N bytes at A and B are equal, ignoring ASCII case. */
static bool ncaseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* Narrow [*S, *S + *N) to its part without surrounding white space
 * (isspace(), as inih does). */
static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Compare [S, S + N) with the NUL-terminated WORD, ignoring case. */
static bool word_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && ncaseeq(s, word, n);
}

/* Parse the decimal digits [S, S + N) into *V, at most MAX.
 * Return 0, -1 when not all digits (or none), -2 when above MAX. */
static int parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *v)
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

/* V itself, or its first SHOW_MAX characters and "..." in BUF. */
static const char *show(const char *v, char *buf, size_t len)
{
	if (strlen(v) <= SHOW_MAX)
		return v;
	snprintf(buf, len, "%.*s...", SHOW_MAX, v);
	return buf;
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
		return fail(err, errlen, "%s", expect);
	p = s;
	n = strlen(s);
	trim(&p, &n);
	e = p + n;
	if (p < e && *p == '-')
		return fail(err, errlen, "a duration cannot be negative");
	if (p == e || !isdigit((unsigned char)*p))
		return fail(err, errlen, "%s", expect);
	for (; p < e && isdigit((unsigned char)*p); p++) {
		if (whole > DURATION_MAX_MS) /* keeps whole * mult in range */
			return fail(err, errlen, "too long: at most 576h");
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (p < e && *p == '.') {
		p++;
		if (p == e || !isdigit((unsigned char)*p))
			return fail(err, errlen, "%s", expect);
		for (; p < e && isdigit((unsigned char)*p); p++) {
			if (ndec < 9) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
				ndec++;
			} else if (*p != '0') {
				return fail(err, errlen,
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
			return fail(err, errlen,
				    "unknown unit '%.*s': use ms, s, m or h",
				    (int)(e - p > 20 ? 20 : e - p), p);
	}
	/* Sub-millisecond parts are refused rather than rounded: a config
	 * should mean exactly what it says. */
	if (frac * mult % scale)
		return fail(err, errlen, "not a whole number of milliseconds");
	whole = whole * mult + frac * mult / scale;
	if (whole > DURATION_MAX_MS)
		return fail(err, errlen, "too long: at most 576h");
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

	trim(&s, &n);
	r = parse_decimal(s, n, UINT32_MAX, &v);
	if (r == -2)
		return fail(err, errlen, "too large: at most %u", UINT32_MAX);
	if (r < 0)
		return fail(err, errlen, "expected a whole number >= 0");
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

static int parse_percent(const char *s, void *dst, char *err, size_t errlen)
{
	size_t n = strlen(s);
	uint64_t v;

	trim(&s, &n);
	if (n && s[n - 1] == '%')
		n--;
	if (parse_decimal(s, n, 100, &v) < 0)
		return fail(err, errlen, "expected a percentage 0-100");
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

/* Look [S, S + N) up in the NULL-terminated WORDS; return its index or -1. */
static int lookup(const char *s, const char *const *words)
{
	size_t n = strlen(s);

	trim(&s, &n);
	for (int i = 0; words[i]; i++)
		if (word_eq(s, n, words[i]))
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
		return fail(err, errlen, "expected yes or no (true/false, on/off, 1/0)");
	*(int *)dst = i & 1;
	return 0;
}

static int parse_mode(const char *s, void *dst, char *err, size_t errlen)
{
	static const char *const words[] = { "enforce", "observe", "off", NULL };
	int i = lookup(s, words);

	if (i < 0)
		return fail(err, errlen, "expected enforce, observe or off");
	*(int *)dst = i; /* the order of enum rc_mode */
	return 0;
}

static int parse_level(const char *s, void *dst, char *err, size_t errlen)
{
	static const char *const words[] = { "error", "warn", "info", "debug", NULL };
	int i = lookup(s, words);

	if (i < 0)
		return fail(err, errlen, "expected error, warn, info or debug");
	*(int *)dst = i; /* the order of enum rc_level */
	return 0;
}

static const struct { const char *name; int value; } errnos[] = {
	{ "ECONNREFUSED", ECONNREFUSED }, { "ECONNRESET", ECONNRESET },
	{ "ETIMEDOUT", ETIMEDOUT },       { "EHOSTUNREACH", EHOSTUNREACH },
	{ "ENETUNREACH", ENETUNREACH },   { "ECONNABORTED", ECONNABORTED },
	{ "EAGAIN", EAGAIN },             { "EACCES", EACCES },
	{ "EPERM", EPERM },               { "ENETDOWN", ENETDOWN },
	{ "EHOSTDOWN", EHOSTDOWN },       { "EADDRNOTAVAIL", EADDRNOTAVAIL },
	{ "ENOBUFS", ENOBUFS },           { "EINTR", EINTR },
};

static int parse_errno(const char *s, void *dst, char *err, size_t errlen)
{
	size_t n = strlen(s);
	uint64_t v;

	trim(&s, &n);
	for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
		if (word_eq(s, n, errnos[i].name)) {
			*(int *)dst = errnos[i].value;
			return 0;
		}
	if (parse_decimal(s, n, 4095, &v) == 0 && v > 0) {
		*(int *)dst = (int)v;
		return 0;
	}
	return fail(err, errlen, "expected an errno name (ECONNREFUSED, "
		    "ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, "
		    "ECONNABORTED, EAGAIN, EACCES, EPERM, ...) or a number 1-4095");
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

	trim(&s, &n);
	r = parse_decimal(s, n, 999, v);
	if (r == -1)
		return fail(err, errlen, "expected statuses like 500-599 or 502,503 "
			    "(empty = none)");
	if (r == -2 || *v < 100 || *v > 599)
		return fail(err, errlen, "status %.*s is outside 100-599",
			    (int)(n > 10 ? 10 : n), s);
	return 0;
}

static int parse_statuses(const char *s, void *dst, char *err, size_t errlen)
{
	rc_statusset set;
	size_t n = strlen(s);
	const char *end;

	memset(&set, 0, sizeof set);
	trim(&s, &n);
	end = s + n;
	while (n) {
		const char *item = s, *comma = memchr(s, ',', (size_t)(end - s));
		const char *iend = comma ? comma : end, *dash;
		size_t in = (size_t)(iend - item);
		uint64_t lo = 0, hi = 0;

		trim(&item, &in);
		if (!in)
			return fail(err, errlen, "empty item in the list of statuses");
		dash = memchr(item, '-', in);
		if (parse_status(item, dash ? (size_t)(dash - item) : in, &lo, err, errlen) < 0)
			return -1;
		hi = lo;
		if (dash && parse_status(dash + 1, (size_t)(item + in - dash - 1),
					 &hi, err, errlen) < 0)
			return -1;
		if (hi < lo)
			return fail(err, errlen, "range %llu-%llu runs backwards",
				    (unsigned long long)lo, (unsigned long long)hi);
		for (uint64_t st = lo; st <= hi; st++)
			set.bits[(st - 100) / 64] |= 1ull << ((st - 100) % 64);
		if (!comma)
			break;
		s = comma + 1;
		if (s == end)
			return fail(err, errlen, "empty item in the list of statuses");
	}
	*(rc_statusset *)dst = set;
	return 0;
}

/* Replace every "<uid>" by the real uid; the result must be absolute. */
static int parse_path(const char *s, void *dst, char *err, size_t errlen)
{
	char out[PATH_MAX], uid[24];
	size_t n = strlen(s), o = 0, ul;

	trim(&s, &n);
	if (!n || s[0] != '/')
		return fail(err, errlen, "expected an absolute path (\"<uid>\" "
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
			return fail(err, errlen, "path too long");
		memcpy(out + o, piece, pl);
		o += pl;
	}
	out[o] = '\0';
	{
		char *copy = strdup(out);

		if (!copy)
			return fail(err, errlen, "out of memory");
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
	[T_DURATION] = parse_duration_v, [T_UINT] = parse_uint,
	[T_PERCENT] = parse_percent,     [T_BOOL] = parse_bool,
	[T_MODE] = parse_mode,           [T_LEVEL] = parse_level,
	[T_ERRNO] = parse_errno,         [T_STATUSES] = parse_statuses,
	[T_PATH] = parse_path,
};

/* Bounds of single keys beyond their type. */
static int check_key(enum key_id k, const void *v, char *err, size_t errlen)
{
	switch (k) {
	case K_half_open_probes:
		if (*(const uint32_t *)v < 1 || *(const uint32_t *)v > RC_MAX_PROBES)
			return fail(err, errlen, "expected 1-%d", RC_MAX_PROBES);
		break;
	case K_success_threshold:
		if (*(const uint32_t *)v < 1)
			return fail(err, errlen, "expected at least 1");
		break;
	case K_window:
		/* The window is RC_WINDOW_BUCKETS buckets of window/10. */
		if (*(const uint64_t *)v < 10)
			return fail(err, errlen, "expected at least 10ms");
		break;
	default:
		break;
	}
	return 0;
}

/* ---- patterns ---- */

static int parse_port(const char *s, size_t n, uint16_t *port, char *err, size_t errlen)
{
	uint64_t v;

	if (n == 1 && s[0] == '*') {
		*port = 0;
		return 0;
	}
	if (!n)
		return fail(err, errlen, "missing port after ':'");
	if (parse_decimal(s, n, 65535, &v) < 0 || v == 0)
		return fail(err, errlen, "port must be 1-65535 or *");
	*port = (uint16_t)v;
	return 0;
}

/* Return nonzero if ADDR (NBYTES) has bits set beyond PREFIX; with FIX,
 * clear them. */
static int host_bits(uint8_t *addr, unsigned nbytes, unsigned prefix, int fix)
{
	int set = 0;

	for (unsigned i = 0; i < nbytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(keep ? 0xffu << (8 - keep) : 0);

		if (addr[i] & (uint8_t)~mask)
			set = 1;
		if (fix)
			addr[i] &= mask;
	}
	return set;
}

/* Parse "ADDR" or "ADDR/PREFIX" of FAMILY into P. */
static int parse_ip(int family, const char *s, size_t n, rc_pattern *p,
		    char *err, size_t errlen)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	unsigned max = family == AF_INET ? 32 : 128, nbytes = max / 8;
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	char buf[INET6_ADDRSTRLEN + 8];
	uint64_t prefix = max;

	if (an >= sizeof buf)
		return fail(err, errlen, "bad %s address", fam);
	memcpy(buf, s, an);
	buf[an] = '\0';
	if (inet_pton(family, buf, p->addr) != 1)
		return fail(err, errlen, "bad %s address '%s'", fam, buf);
	if (slash && parse_decimal(slash + 1, n - an - 1, max, &prefix) < 0)
		return fail(err, errlen, "prefix length must be 0-%u", max);
	p->kind = family == AF_INET ? RC_PAT_IP4 : RC_PAT_IP6;
	p->prefix = (uint8_t)prefix;
	if (host_bits(p->addr, nbytes, (unsigned)prefix, 0)) {
		uint8_t net[16];
		char nb[INET6_ADDRSTRLEN];

		memcpy(net, p->addr, nbytes);
		host_bits(net, nbytes, (unsigned)prefix, 1);
		inet_ntop(family, net, nb, sizeof nb);
		return fail(err, errlen, "host bits set beyond /%u (the network is %s/%u)",
			    (unsigned)prefix, nb, (unsigned)prefix);
	}
	return 0;
}

/* Check host name [S, S + N) and store it, lowercase, at OUT (room for
 * ROOM characters and a NUL). */
static int parse_name(const char *s, size_t n, char *out, size_t room,
		      char *err, size_t errlen)
{
	size_t label = 0;
	bool digits_only = true;

	if (n && s[n - 1] == '.')
		n--;             /* an absolute name: the same host */
	if (!n)
		return fail(err, errlen, "empty host name");
	if (n > room)
		return fail(err, errlen, "host name longer than %zu characters", room);
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? lower(s[i]) : '.';

		if (c == '.') {
			if (!label)
				return fail(err, errlen, "empty label in host name");
			if (s[i - 1] == '-')
				return fail(err, errlen, "a label of a host name "
					    "cannot end with '-'");
			if (i < n) {
				label = 0;
				digits_only = true;
			}
		} else if (alnum(c) || c == '-' || c == '_') {
			if (c == '-' && !label)
				return fail(err, errlen, "a label of a host name "
					    "cannot start with '-'");
			if (++label > 63)
				return fail(err, errlen, "label longer than 63 "
					    "characters in host name");
			if (c < '0' || c > '9')
				digits_only = false;
		} else if (c == '*') {
			return fail(err, errlen, "'*' is only allowed as the "
				    "whole first label, as in *.example.com");
		} else if (c == '/') {
			return fail(err, errlen, "invalid character '/' in host "
				    "name (a network is written a.b.c.d/prefix)");
		} else {
			return fail(err, errlen, "invalid character '%c' in "
				    "host name", c >= 0x20 && c < 0x7f ? c : '?');
		}
		if (i < n)
			out[i] = c;
	}
	if (digits_only)
		return fail(err, errlen, "not a valid IPv4 address or host name");
	out[n] = '\0';
	return 0;
}

int rc_parse_pattern(const char *s, rc_pattern *out, char *err, size_t errlen)
{
	rc_pattern p;
	size_t n;
	const char *host, *colon = NULL;
	size_t hn;

	memset(&p, 0, sizeof p);
	if (!s)
		return fail(err, errlen, "empty pattern");
	n = strlen(s);
	trim(&s, &n);
	if (!n)
		return fail(err, errlen, "empty pattern");
	if (n > PATTERN_MAX)
		return fail(err, errlen, "pattern longer than %d characters", PATTERN_MAX);

	if (s[0] == '[') {
		const char *close = memchr(s, ']', n), *after;

		if (!close)
			return fail(err, errlen, "missing ']' after the IPv6 address");
		after = close + 1;
		if (after < s + n) {
			if (*after != ':')
				return fail(err, errlen, "unexpected text after ']'"
					    " (expected :port)");
			if (parse_port(after + 1, (size_t)(s + n - after - 1),
				       &p.port, err, errlen) < 0)
				return -1;
		}
		if (parse_ip(AF_INET6, s + 1, (size_t)(close - s - 1), &p, err, errlen) < 0)
			return -1;
		/* ::ffff:a.b.c.d/96+ is an IPv4 pattern: mapped destinations
		 * are matched as IPv4. */
		if (p.prefix >= 96 && !memcmp(p.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			memmove(p.addr, p.addr + 12, 4);
			memset(p.addr + 4, 0, 12);
			p.kind = RC_PAT_IP4;
			p.prefix = (uint8_t)(p.prefix - 96);
		}
		*out = p;
		return 0;
	}

	host = s;
	hn = n;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':') {
			if (colon)
				return fail(err, errlen, "an IPv6 address must be "
					    "in brackets, as in [2001:db8::1]:443");
			colon = s + i;
		}
	if (colon) {
		hn = (size_t)(colon - s);
		if (parse_port(colon + 1, n - hn - 1, &p.port, err, errlen) < 0)
			return -1;
	}
	if (!hn)
		return fail(err, errlen, "missing host before ':'");
	if (memchr(host, '/', hn) && !memchr(host, '*', hn)) {
		if (parse_ip(AF_INET, host, hn, &p, err, errlen) < 0)
			return -1;
	} else if (hn < INET_ADDRSTRLEN) {
		char buf[INET_ADDRSTRLEN];

		memcpy(buf, host, hn);
		buf[hn] = '\0';
		if (inet_pton(AF_INET, buf, p.addr) == 1) {
			p.kind = RC_PAT_IP4;
			p.prefix = 32;
		}
	}
	if (!p.kind) {
		if (hn >= 2 && host[0] == '*' && host[1] == '.') {
			p.kind = RC_PAT_WILD;
			p.host[0] = '.';
			if (parse_name(host + 2, hn - 2, p.host + 1,
				       RC_HOST_MAX - 2, err, errlen) < 0)
				return -1;
		} else if (hn == 1 && host[0] == '*') {
			return fail(err, errlen, "a wildcard needs a domain, as "
				    "in *.example.com");
		} else {
			p.kind = RC_PAT_HOST;
			if (parse_name(host, hn, p.host, RC_HOST_MAX - 1, err, errlen) < 0)
				return -1;
		}
	}
	*out = p;
	return 0;
}

void rc_format_pattern(const rc_pattern *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", pfx[8] = "", port[8] = "";

	if (!buf || !len)
		return;
	if (!p) {
		snprintf(buf, len, "?");
		return;
	}
	if (p->port)
		snprintf(port, sizeof port, ":%u", (unsigned)p->port);
	switch (p->kind) {
	case RC_PAT_HOST:
		snprintf(buf, len, "%s%s", p->host, port);
		break;
	case RC_PAT_WILD:
		snprintf(buf, len, "*%s%s", p->host, port);
		break;
	case RC_PAT_IP4:
		inet_ntop(AF_INET, p->addr, a, sizeof a);
		if (p->prefix != 32)
			snprintf(pfx, sizeof pfx, "/%u", (unsigned)p->prefix);
		snprintf(buf, len, "%s%s%s", a, pfx, port);
		break;
	case RC_PAT_IP6:
		inet_ntop(AF_INET6, p->addr, a, sizeof a);
		if (p->prefix != 128)
			snprintf(pfx, sizeof pfx, "/%u", (unsigned)p->prefix);
		snprintf(buf, len, "[%s%s]%s", a, pfx, port);
		break;
	default:
		snprintf(buf, len, "?");
	}
}

/* ---- the parser ---- */

struct problem { int line; unsigned seq; char *msg; };

/* What was set in one section: keys and the lines that set them. */
struct bmeta {
	uint64_t set;
	int      setline[K_COUNT];
	bool     has_match;
	unsigned patcap;
};

enum sect_kind { SEC_NONE, SEC_GLOBAL, SEC_BREAKER };

struct sect {
	enum sect_kind  kind;
	char            name[RC_NAME_MAX + 4]; /* for messages */
	rc_config      *g;  /* global keys go here */
	rc_breaker_cfg *b;  /* breaker keys go here ([global]: the defaults) */
	struct bmeta   *m;
};

/* What the reader learnt about the current physical line. */
enum line_class { CLS_BLANK, CLS_CONT, CLS_SECTION, CLS_KEY, CLS_BAD };

struct parser {
	const char *file;
	/* the reader */
	const char *text;
	size_t      len, pos, line_end;
	int         lineno;
	enum line_class cls;
	bool        line_done;
	bool        prev_name;      /* inih's prev_name is not empty */
	int         handled_line;   /* last line the handler was called for */
	int         too_long_line;
	int         pending_comma;  /* line of a match awaiting a continuation */
	bool        pending_empty;
	/* the result */
	rc_config      *cfg;
	struct bmeta   *meta;       /* per breaker */
	rc_breaker_cfg  dflt;       /* built-in defaults */
	rc_breaker_cfg  gtmpl;      /* breaker keys set in [global] */
	struct bmeta    gmeta;
	int             global_line;
	bool            too_many;
	/* sections whose keys are checked and dropped */
	rc_config       scratch_g;
	rc_breaker_cfg  scratch_b;
	struct bmeta    scratch_m;
	struct sect     cur;
	/* problems */
	struct problem *errs;
	size_t          nerrs, caperrs, dropped;
	bool            oom;
};

__attribute__((format(printf, 3, 4)))
static void perr(struct parser *P, int line, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	if (P->nerrs >= ERRS_MAX) {
		P->dropped++;
		return;
	}
	if (P->nerrs == P->caperrs) {
		size_t cap = P->caperrs ? P->caperrs * 2 : 16;
		struct problem *e = realloc(P->errs, cap * sizeof *e);

		if (!e) {
			P->oom = true;
			return;
		}
		P->errs = e;
		P->caperrs = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	P->errs[P->nerrs].msg = strdup(msg);
	if (!P->errs[P->nerrs].msg) {
		P->oom = true;
		return;
	}
	P->errs[P->nerrs].line = line;
	P->errs[P->nerrs].seq = (unsigned)P->nerrs;
	P->nerrs++;
}

static bool has_err_at(const struct parser *P, int line)
{
	for (size_t i = 0; i < P->nerrs; i++)
		if (P->errs[i].line == line)
			return true;
	return false;
}

static void *field(const struct key *k, rc_config *g, rc_breaker_cfg *b)
{
	return (char *)(k->global ? (void *)g : (void *)b) + k->off;
}

/* Free the PATH fields of G's global keys (G may be NULL) and of B's
 * breaker keys (B may be NULL). */
static void free_fields(rc_config *g, rc_breaker_cfg *b)
{
	for (int k = 0; k < K_COUNT; k++) {
		char **pp;

		if (keys[k].type != T_PATH || (keys[k].global ? !g : !b))
			continue;
		pp = field(&keys[k], g, b);
		free(*pp);
		*pp = NULL;
	}
}

/* Copy breaker key K from SRC to DST. */
static void copy_key(struct parser *P, int k, rc_breaker_cfg *dst,
		     const rc_breaker_cfg *src)
{
	const void *from = (const char *)src + keys[k].off;
	void *to = (char *)dst + keys[k].off;

	if (keys[k].type == T_PATH) {
		char *s = *(char *const *)from ? strdup(*(char *const *)from) : NULL;

		if (*(char *const *)from && !s)
			P->oom = true;
		free(*(char **)to);
		*(char **)to = s;
	} else {
		memcpy(to, from, keys[k].size);
	}
}

static void pending_comma_error(struct parser *P)
{
	if (!P->pending_comma)
		return;
	if (P->pending_empty)
		perr(P, P->pending_comma, "'match' has no patterns");
	else
		perr(P, P->pending_comma, "match list ends with ',' but no "
		     "indented continuation line follows");
	P->pending_comma = 0;
}

static void reset_scratch(struct parser *P)
{
	free_fields(&P->scratch_g, &P->scratch_b);
	free(P->scratch_b.pats);
	memset(&P->scratch_g, 0, sizeof P->scratch_g);
	memset(&P->scratch_b, 0, sizeof P->scratch_b);
	memset(&P->scratch_m, 0, sizeof P->scratch_m);
}

static void use_scratch(struct parser *P, enum sect_kind kind)
{
	reset_scratch(P);
	P->cur.kind = kind;
	P->cur.g = &P->scratch_g;
	P->cur.b = &P->scratch_b;
	P->cur.m = &P->scratch_m;
}

static bool valid_name(const char *s, size_t n)
{
	if (n < 1 || n >= RC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* A [NAME] header (N characters at S) on the current line. */
static void begin_section(struct parser *P, const char *s, size_t n)
{
	int line = P->lineno;
	rc_config *c = P->cfg;
	char shown[SHOW_MAX + 4];

	pending_comma_error(P);
	trim(&s, &n);
	snprintf(shown, sizeof shown, "%.*s%s", (int)(n > SHOW_MAX ? SHOW_MAX : n),
		 s, n > SHOW_MAX ? "..." : "");
	snprintf(P->cur.name, sizeof P->cur.name, "%s", shown);

	if (word_eq(s, n, "global")) {
		if (P->global_line) {
			perr(P, line, "duplicate section [global] (first at line %d)",
			     P->global_line);
			use_scratch(P, SEC_GLOBAL);
			return;
		}
		P->global_line = line;
		P->cur.kind = SEC_GLOBAL;
		P->cur.g = c;
		P->cur.b = &P->gtmpl;
		P->cur.m = &P->gmeta;
		return;
	}
	use_scratch(P, SEC_BREAKER);
	if (!valid_name(s, n)) {
		perr(P, line, "bad breaker name [%s]: use 1-%d characters of "
		     "A-Z a-z 0-9 _ . -", shown, RC_NAME_MAX - 1);
		return;
	}
	for (unsigned i = 0; i < c->nbreakers; i++)
		if (strlen(c->breakers[i].name) == n &&
		    memcmp(c->breakers[i].name, s, n) == 0) {
			perr(P, line, "duplicate section [%s] (first at line %d)",
			     shown, c->breakers[i].line);
			return;
		}
	if (c->nbreakers == RC_MAX_BREAKERS) {
		if (!P->too_many)
			perr(P, line, "too many breakers: at most %d",
			     RC_MAX_BREAKERS);
		P->too_many = true;
		return;
	}
	{
		rc_breaker_cfg *b = &c->breakers[c->nbreakers];

		memcpy(b->name, s, n);
		b->name[n] = '\0';
		b->line = line;
		P->cur.b = b;
		P->cur.m = &P->meta[c->nbreakers];
		P->cur.g = NULL;
		c->nbreakers++;
	}
}

/* Sort out the physical line [S, S + N) (without its '\n') the way inih
 * will: blank or comment, indented continuation, [section], key line. */
static void classify(struct parser *P, const char *s, size_t n)
{
	const char *line = s, *end;

	if (P->lineno == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;  /* a UTF-8 BOM, skipped by inih too */
		n -= 3;
	}
	end = s + n;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s == end || *s == ';' || *s == '#') {
		P->cls = CLS_BLANK;
	} else if (P->prev_name && s > line) {
		P->cls = CLS_CONT;
	} else if (*s == '[') {
		const char *q = s + 1;
		bool was_space = false;

		/* inih ends the name at ']' or at an inline ';' comment. */
		while (q < end && *q != ']' && !(was_space && *q == ';')) {
			was_space = isspace((unsigned char)*q);
			q++;
		}
		if (q == end || *q != ']') {
			P->cls = CLS_BAD;
			perr(P, P->lineno, "section header without closing ']'");
			/* Its keys are still checked, without a cascade of
			 * "before any section" or "duplicate key". */
			pending_comma_error(P);
			use_scratch(P, SEC_BREAKER);
			snprintf(P->cur.name, sizeof P->cur.name, "?");
			return;
		}
		P->cls = CLS_SECTION;
		P->prev_name = false;
		begin_section(P, s + 1, (size_t)(q - s - 1));
		for (q++; q < end && isspace((unsigned char)*q); q++)
			;
		if (q < end && *q != ';' && *q != '#')
			perr(P, P->lineno, "unexpected text after ']' in section header");
	} else {
		P->cls = CLS_KEY;
	}
}

/* The current line was handed out completely and inih is done with it. */
static void end_line(struct parser *P)
{
	if (!P->lineno || P->line_done)
		return;
	P->line_done = true;
	if (P->cls == CLS_KEY && P->handled_line != P->lineno &&
	    P->too_long_line != P->lineno)
		perr(P, P->lineno, "expected 'key = value', a [section] header "
		     "or a comment");
}

/* inih's fgets: the next piece of the current physical line, or the start
 * of the next one. */
static char *reader(char *str, int num, void *stream)
{
	struct parser *P = stream;
	size_t n;

	if (num < 2)
		return NULL;
	if (P->pos == P->line_end) {
		const char *nl;

		if (P->pos >= P->len)
			return NULL;
		end_line(P);
		nl = memchr(P->text + P->pos, '\n', P->len - P->pos);
		P->line_end = nl ? (size_t)(nl - P->text) + 1 : P->len;
		P->lineno++;
		P->line_done = false;
		classify(P, P->text + P->pos,
			 (nl ? (size_t)(nl - P->text) : P->len) - P->pos);
	}
	n = P->line_end - P->pos;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, P->text + P->pos, n);
	str[n] = '\0';
	P->pos += n;
	return str;
}

static void add_pattern(struct parser *P, const rc_pattern *p)
{
	rc_breaker_cfg *b = P->cur.b;
	struct bmeta *m = P->cur.m;

	if (b->npats == PATS_MAX) {
		perr(P, p->line, "too many patterns in [%s]: at most %d",
		     P->cur.name, PATS_MAX);
		return;
	}
	if (b->npats == m->patcap) {
		unsigned cap = m->patcap ? m->patcap * 2 : 4;
		rc_pattern *np = realloc(b->pats, cap * sizeof *np);

		if (!np) {
			P->oom = true;
			return;
		}
		b->pats = np;
		m->patcap = cap;
	}
	b->pats[b->npats++] = *p;
}

/* The end of VALUE without an inline comment (" ;..."), which libinih 55
 * leaves on continuation lines. */
static const char *value_end(const char *value)
{
	const char *e = value;
	bool was_space = false;

	while (*e && !(was_space && *e == ';')) {
		was_space = isspace((unsigned char)*e);
		e++;
	}
	while (e > value && isspace((unsigned char)e[-1]))
		e--;
	return e;
}

static void do_match(struct parser *P, const char *value, int line, bool cont)
{
	const char *s = value, *end = cont ? value_end(value) : value + strlen(value);
	char msg[MSG_MAX], sb[SHOW_MAX + 4];

	if (P->cur.kind == SEC_GLOBAL) {
		if (!cont)
			perr(P, line, "'match' is not allowed in [global]: "
			     "patterns belong in a breaker section");
		return;
	}
	P->cur.m->has_match = true;
	P->pending_comma = 0;
	if (cont && memchr(value, '=', (size_t)(end - value))) {
		perr(P, line, "indented line '%.*s' is read as a continuation of "
		     "'match': remove the indentation to start a new key",
		     (int)(end - value > SHOW_MAX ? SHOW_MAX : end - value), value);
		return;
	}
	if (s == end) {  /* "match =": the patterns may follow, indented */
		P->pending_comma = line;
		P->pending_empty = true;
		return;
	}
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item = s;
		size_t n = (size_t)((comma ? comma : end) - s);
		rc_pattern p;

		trim(&item, &n);
		if (!n) {
			if (!comma && s != value) { /* "a.com," */
				P->pending_comma = line;
				P->pending_empty = false;
			} else {
				perr(P, line, "empty pattern in match list");
			}
		} else {
			char it[PATTERN_MAX + 8];

			snprintf(it, sizeof it, "%.*s", (int)n, item);
			if (rc_parse_pattern(it, &p, msg, sizeof msg) < 0) {
				perr(P, line, "bad pattern '%s' in match: %s",
				     show(it, sb, sizeof sb), msg);
			} else {
				p.line = line;
				add_pattern(P, &p);
			}
		}
		if (!comma)
			break;
		s = comma + 1;
	}
}

static int find_key(const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (word_eq(name, strlen(name), keys[k].name))
			return k;
	return -1;
}

static int on_kv(void *user, const char *section, const char *name,
		 const char *value)
{
	struct parser *P = user;
	int line = P->lineno, k;
	bool cont = P->cls == CLS_CONT, is_match;
	char msg[MSG_MAX], sb[SHOW_MAX + 4], nb[SHOW_MAX + 4];
	struct bmeta *m;
	void *dst;

	(void)section; /* cut to 49 characters by inih: the reader's is used */
	P->handled_line = line;
	P->prev_name = name[0] != '\0';
	if (P->pos != P->line_end && P->too_long_line != line) {
		P->too_long_line = line;
		perr(P, line, "line too long for the INI parser: repeat the "
		     "'match' key, or continue it on indented lines");
	}
	if (P->too_long_line == line)
		return 1;

	is_match = word_eq(name, strlen(name), "match");
	if (!(cont && is_match))
		pending_comma_error(P);
	if (P->cur.kind == SEC_NONE) {
		perr(P, line, "key '%s' before any section: put it under "
		     "[global] or a breaker section", show(name, nb, sizeof nb));
		return 1;
	}
	if (!name[0]) {
		perr(P, line, "missing key name before '='");
		return 1;
	}
	if (cont && !is_match) {
		perr(P, line, "indented line continues '%s': only 'match' may "
		     "continue on indented lines", show(name, nb, sizeof nb));
		return 1;
	}
	if (is_match) {
		do_match(P, value, line, cont);
		return 1;
	}
	k = find_key(name);
	if (k < 0) {
		perr(P, line, "unknown key '%s' in [%s]",
		     show(name, nb, sizeof nb), P->cur.name);
		return 1;
	}
	if (keys[k].global && P->cur.kind == SEC_BREAKER) {
		perr(P, line, "'%s' is a [global] setting, not allowed in "
		     "breaker [%s]", keys[k].name, P->cur.name);
		return 1;
	}
	m = P->cur.m;
	if (m->set & BIT(k)) {
		perr(P, line, "duplicate key '%s' in [%s] (first at line %d)",
		     keys[k].name, P->cur.name, m->setline[k]);
		return 1;
	}
	m->set |= BIT(k);
	m->setline[k] = line;
	dst = field(&keys[k], P->cur.g, P->cur.b);
	if (!keys[k].dflt[0] && !*value) {  /* explicitly "derived" */
		*(uint64_t *)dst = DERIVED;
		return 1;
	}
	if (parsers[keys[k].type](value, dst, msg, sizeof msg) < 0 ||
	    check_key((enum key_id)k, dst, msg, sizeof msg) < 0)
		perr(P, line, "bad value '%s' for %s: %s",
		     show(value, sb, sizeof sb), keys[k].name, msg);
	return 1;
}

/* Parse the built-in defaults: global keys into the config, breaker keys
 * into P->dflt.  An empty default is "derived" (DURATION only). */
static void load_defaults(struct parser *P)
{
	char msg[MSG_MAX];

	for (int k = 0; k < K_COUNT; k++) {
		void *dst = field(&keys[k], P->cfg, &P->dflt);

		if (!keys[k].dflt[0]) {
			if (keys[k].type != T_DURATION)
				perr(P, 0, "internal error: empty default for %s",
				     keys[k].name);
			else
				*(uint64_t *)dst = DERIVED;
		} else if (parsers[keys[k].type](keys[k].dflt, dst, msg, sizeof msg) < 0) {
			perr(P, 0, "internal error: bad default for %s: %s",
			     keys[k].name, msg);
		}
	}
}

/* open_duration_max must not be shorter than open_duration. */
static void check_open_max(struct parser *P, const rc_breaker_cfg *b,
			   int line, const char *where)
{
	char a[32], o[32];

	if (b->open_duration_max >= b->open_duration)
		return;
	rc_format_duration(b->open_duration_max, a, sizeof a);
	rc_format_duration(b->open_duration, o, sizeof o);
	perr(P, line, "open_duration_max (%s) is shorter than open_duration "
	     "(%s) in [%s]", a, o, where);
}

/* After the parse: apply [global] and built-in defaults, derive what is
 * derived, check what spans keys. */
static void finish(struct parser *P)
{
	rc_config *c = P->cfg;
	uint64_t both = BIT(K_open_duration) | BIT(K_open_duration_max);
	rc_breaker_cfg eff; /* [global]'s breaker keys over the defaults */

	memset(&eff, 0, sizeof eff);
	for (int k = 0; k < K_COUNT; k++)
		if (!keys[k].global)
			copy_key(P, k, &eff, (P->gmeta.set & BIT(k)) ? &P->gtmpl : &P->dflt);
	if (eff.open_duration_max == DERIVED)
		eff.open_duration_max = eff.open_duration;
	if (P->gmeta.set & both)
		check_open_max(P, &eff, P->gmeta.setline[(P->gmeta.set &
			       BIT(K_open_duration_max)) ? K_open_duration_max :
			       K_open_duration], "global");
	free_fields(NULL, &eff);

	for (unsigned i = 0; i < c->nbreakers; i++) {
		rc_breaker_cfg *b = &c->breakers[i];
		struct bmeta *m = &P->meta[i];

		if (!m->has_match)
			perr(P, b->line, "section [%s] has no 'match' key: a "
			     "breaker needs at least one pattern", b->name);
		for (int k = 0; k < K_COUNT; k++)
			if (!keys[k].global && !(m->set & BIT(k)))
				copy_key(P, k, b, (P->gmeta.set & BIT(k)) ?
					 &P->gtmpl : &P->dflt);
		if (b->open_duration_max == DERIVED)
			b->open_duration_max = b->open_duration;
		if (m->set & both)
			check_open_max(P, b, m->setline[(m->set &
				       BIT(K_open_duration_max)) ?
				       K_open_duration_max : K_open_duration],
				       b->name);
	}
}

static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Write the problems into ERR, one "FILE:LINE: message" per line (joined
 * by '\n', no final newline), whole lines while they fit; the first one
 * is always there, truncated if it must be. */
static void format_problems(struct parser *P, char *err, size_t errlen)
{
	size_t off = 0;

	if (!err || !errlen)
		return;
	err[0] = '\0';
	if (P->oom)
		perr(P, 0, "out of memory");
	if (!P->nerrs) { /* out of memory even for the message */
		snprintf(err, errlen, "%s:0: out of memory", P->file);
		return;
	}
	qsort(P->errs, P->nerrs, sizeof *P->errs, cmp_problem);
	for (size_t i = 0; i < P->nerrs; i++) {
		const struct problem *e = &P->errs[i];
		int n = snprintf(NULL, 0, "%s%s:%d: %s", i ? "\n" : "",
				 P->file, e->line, e->msg);

		if (n < 0 || (i && off + (size_t)n >= errlen))
			break;
		snprintf(err + off, errlen - off, "%s%s:%d: %s", i ? "\n" : "",
			 P->file, e->line, e->msg);
		off += (size_t)n;
		if (off >= errlen)
			break;
	}
}

/* Let Debian's inih read lines of any length up to LONGEST bytes. */
static void tune_inih(size_t longest)
{
	int want = longest + 4 > 200 ? (int)(longest + 4) : 200; /* <= FILE_MAX + 4 */
	int cur = __atomic_load_n(&ini_max_line, __ATOMIC_RELAXED);

	while (cur < want &&
	       !__atomic_compare_exchange_n(&ini_max_line, &cur, want, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	__atomic_store_n(&ini_use_stack, false, __ATOMIC_RELAXED);
	__atomic_store_n(&ini_allow_realloc, true, __ATOMIC_RELAXED);
	/* What the reader's classify() assumes (inih's defaults). */
	__atomic_store_n(&ini_allow_multiline, true, __ATOMIC_RELAXED);
	__atomic_store_n(&ini_allow_bom, true, __ATOMIC_RELAXED);
	__atomic_store_n(&ini_allow_inline_comments, true, __ATOMIC_RELAXED);
	__atomic_store_n(&ini_stop_on_first_error, false, __ATOMIC_RELAXED);
	__atomic_store_n(&ini_allow_no_value, false, __ATOMIC_RELAXED);
}

static rc_config *load_text(const char *text, size_t len, const char *file,
			    char *err, size_t errlen)
{
	struct parser P;
	size_t longest = 0;
	const char *nul;
	int rc;

	memset(&P, 0, sizeof P);
	P.file = file;
	P.text = text;
	P.len = len;
	P.cfg = calloc(1, sizeof *P.cfg);
	P.meta = calloc(RC_MAX_BREAKERS, sizeof *P.meta);
	if (!P.cfg || !P.meta ||
	    !(P.cfg->path = strdup(file)) ||
	    !(P.cfg->breakers = calloc(RC_MAX_BREAKERS, sizeof *P.cfg->breakers))) {
		P.oom = true;
		goto out;
	}
	load_defaults(&P);

	if (len > FILE_MAX) {
		perr(&P, 0, "file too large (over 1 MiB)");
		goto out;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;

		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		perr(&P, line, "NUL byte in the file: not a text file");
		goto out;
	}
	for (size_t i = 0, start = 0; i <= len; i++)
		if (i == len || text[i] == '\n') {
			if (i + 1 - start > longest)
				longest = i + 1 - start;
			start = i + 1;
		}
	tune_inih(longest);

	rc = ini_parse_stream(reader, &P, on_kv, &P);
	end_line(&P);
	pending_comma_error(&P);
	if (rc == -2)
		P.oom = true;
	else if (rc > 0 && !has_err_at(&P, rc))
		perr(&P, rc, "syntax error");
	finish(&P);

out:
	reset_scratch(&P);
	free_fields(NULL, &P.dflt);
	free_fields(NULL, &P.gtmpl);
	free(P.gtmpl.pats);
	free(P.meta);
	if (P.nerrs || P.dropped || P.oom) {
		format_problems(&P, err, errlen);
		for (size_t i = 0; i < P.nerrs; i++)
			free(P.errs[i].msg);
		free(P.errs);
		rc_config_free(P.cfg);
		return NULL;
	}
	free(P.errs);
	if (err && errlen)
		err[0] = '\0';
	if (P.cfg->nbreakers < RC_MAX_BREAKERS) {
		rc_breaker_cfg *b = realloc(P.cfg->breakers,
					    (P.cfg->nbreakers ? P.cfg->nbreakers : 1) *
					    sizeof *b);
		if (b)
			P.cfg->breakers = b;
	}
	return P.cfg;
}

int rc_read_file(const char *path, char **text, size_t *len)
{
	/* O_NONBLOCK: a FIFO or a device at the path must not block the
	 * host program's start; only a regular file is read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	struct stat st;
	int e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (!(buf = malloc(cap)))
		goto fail;
	for (;;) {
		ssize_t r;

		if (n + 1 == cap) {
			char *nb;

			if (cap > FILE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			if (!(nb = realloc(buf, cap * 2)))
				goto fail;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > FILE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return -1;
}

rc_config *rc_config_load(const char *path, char *err, size_t errlen)
{
	int saved = errno;
	char *text;
	size_t len;
	rc_config *c;

	if (!path)
		path = "(null)";
	if (rc_read_file(path, &text, &len) < 0) {
		char eb[128];
		const char *why = errno == EFBIG ? "file too large (over 1 MiB)"
			: strerror_r(errno, eb, sizeof eb);

		if (err && errlen)
			snprintf(err, errlen, "%s:0: cannot read: %s", path, why);
		errno = saved;
		return NULL;
	}
	c = load_text(text, len, path, err, errlen);
	free(text);
	errno = saved;
	return c;
}

rc_config *rc_config_load_string(const char *text, const char *name,
				 char *err, size_t errlen)
{
	int saved = errno;
	rc_config *c = load_text(text ? text : "", text ? strlen(text) : 0,
				 name ? name : "<string>", err, errlen);

	errno = saved;
	return c;
}

void rc_config_free(rc_config *c)
{
	if (!c)
		return;
	free_fields(c, NULL);
	for (unsigned i = 0; c->breakers && i < c->nbreakers; i++) {
		free_fields(NULL, &c->breakers[i]);
		free(c->breakers[i].pats);
	}
	free(c->breakers);
	free(c->path);
	free(c);
}

int rc_config_find(const rc_config *c, const char *name)
{
	if (!c || !name)
		return -1;
	for (unsigned i = 0; i < c->nbreakers; i++)
		if (strcmp(c->breakers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- matching: no allocation, no system call ---- */

int rc_pattern_match_name(const rc_pattern *p, const char *name)
{
	size_t n, hn;

	if (!p || !name || (p->kind != RC_PAT_HOST && p->kind != RC_PAT_WILD))
		return 0;
	n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	hn = strlen(p->host);
	if (p->kind == RC_PAT_HOST)
		return n == hn && ncaseeq(name, p->host, n);
	/* ".example.com": at least one label before it. */
	return n > hn && ncaseeq(name + n - hn, p->host, hn);
}

static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, bytes))
		return 0;
	return !rem || !((a[bytes] ^ b[bytes]) & (uint8_t)(0xffu << (8 - rem)));
}

int rc_match(const rc_config *c, int family, const uint8_t *addr,
	     uint16_t port, const char *const *names, unsigned nnames)
{
	int kind;

	if (!c || !addr)
		return -1;
	if (family == AF_INET) {
		kind = RC_PAT_IP4;
	} else if (family == AF_INET6) {
		kind = RC_PAT_IP6;
		if (!memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			kind = RC_PAT_IP4;
			addr += 12;
		}
	} else {
		return -1;
	}
	if (!names)
		nnames = 0;
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];

		for (unsigned j = 0; j < b->npats; j++) {
			const rc_pattern *p = &b->pats[j];

			if (p->port && p->port != port)
				continue;
			if (p->kind == kind) {
				if (prefix_eq(p->addr, addr, p->prefix))
					return (int)i;
			} else if (p->kind == RC_PAT_HOST || p->kind == RC_PAT_WILD) {
				for (unsigned k = 0; k < nnames; k++)
					if (rc_pattern_match_name(p, names[k]))
						return (int)i;
			}
		}
	}
	return -1;
}

int rc_match_any_name(const rc_config *c, const char *name)
{
	if (!c || !name)
		return 0;
	for (unsigned i = 0; i < c->nbreakers; i++)
		for (unsigned j = 0; j < c->breakers[i].npats; j++)
			if (rc_pattern_match_name(&c->breakers[i].pats[j], name))
				return 1;
	return 0;
}
