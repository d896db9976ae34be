/* config.c - libFuzzer harness: the config parser (shim/core/config.c,
 * value.c, pattern.c, match.c).
 *
 * The input is an INI file, any bytes, NULs included.  Each input is
 *  - parsed from memory (rc_config_load_string: the text up to its first
 *    NUL, as a C string),
 *  - written to a file and loaded through the file reader (rc_config_load:
 *    every byte),
 *  - peeked at (rc_config_peek_global, the path for a broken file).
 * Contracts checked:
 *  - The file reader closes the fd it opens.
 *  - A failure comes with problems, one "FILE:LINE: message" per line,
 *    sorted by line, each LINE within the file; a success with an empty
 *    message.
 *  - Without a NUL the two loads agree: both fail with the same messages,
 *    or both succeed with the same config.  With a NUL the file load
 *    fails with exactly "FILE:N: NUL byte in the file: not a text file".
 *  - A loaded config is sane: names valid and unique (rc_config_find finds
 *    each), every breaker has a pattern, the bounds of keys.def hold, the
 *    paths are absolute, open_duration_max >= open_duration.
 *  - Every pattern formats back into text that parses to the same pattern,
 *    and a destination it covers is matched (rc_match, rc_match_host,
 *    rc_match_any_name) by its breaker or an earlier one.
 *  - Every duration formats back into text that parses to the same value. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/dest.h"
#include "core/match.h"
#include "core/pattern.h"
#include "core/value.h"
#include "fuzz.h"

#define ERRLEN (1u << 17)

/* ---- a growing string, for comparing two configs ---- */

struct sb {
	char  *p;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		size_t room = s->cap - s->n;

		va_start(ap, fmt);
		k = vsnprintf(s->p ? s->p + s->n : NULL, room, fmt, ap);
		va_end(ap);
		FUZZ_CHECK(k >= 0, "vsnprintf failed");
		if ((size_t)k < room) {
			s->n += (size_t)k;
			return;
		}
		s->cap = (s->cap + (size_t)k + 1) * 2;
		s->p = realloc(s->p, s->cap);
		FUZZ_CHECK(s->p, "out of memory");
	}
}

static void dump_value(struct sb *s, const char *name, enum rc_value_type t, const void *v)
{
	sb_printf(s, " %s=", name);
	switch (t) {
	case RC_VALUE_DURATION:
		sb_printf(s, "%llu", (unsigned long long)*(const uint64_t *)v);
		break;
	case RC_VALUE_UINT:
	case RC_VALUE_PERCENT:
		sb_printf(s, "%u", *(const uint32_t *)v);
		break;
	case RC_VALUE_BOOL:
	case RC_VALUE_MODE:
	case RC_VALUE_LEVEL:
	case RC_VALUE_ERRNO:
		sb_printf(s, "%d", *(const int *)v);
		break;
	case RC_VALUE_STATUSES: { /* each config keeps its own copy of a set */
		const rc_statusset *set = *(const rc_statusset *const *)v;
		for (int i = 0; set && i < 8; i++)
			sb_printf(s, "%016llx", (unsigned long long)set->bits[i]);
		break;
	}
	case RC_VALUE_PATH:
		sb_printf(s, "'%s'", *(char *const *)v ? *(char *const *)v : "(null)");
		break;
	}
}

/* C as text, every field of it: equal texts, equal configs. */
static char *dump(const rc_config *c)
{
	struct sb s = { 0 };

	sb_printf(&s, "path='%s' breakers=%u\n", c->path, c->nbreakers);
#define RC_GLOBAL(n, t, ...) dump_value(&s, #n, RC_VALUE_##t, &c->n);
#include "core/keys.def"
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];

		sb_printf(&s, "\n[%s] line=%d npats=%u", b->name, b->line, b->npats);
#define RC_BREAKER(n, t, ...) dump_value(&s, #n, RC_VALUE_##t, &b->n);
#include "core/keys.def"
		for (unsigned j = 0; j < b->npats; j++) {
			char f[RC_PATTERN_MAX + 64];

			rc_format_pattern(&b->pats[j], f, sizeof f);
			sb_printf(&s, "\n  %s @%d", f, b->pats[j].line);
		}
	}
	sb_printf(&s, "\n");
	return s.p;
}

/* ---- the contracts ---- */

/* ERR is the problem list of a failed load of TEXT (LEN bytes, as the
 * parser saw them) named NAME. */
static void check_problems(const char *err, const char *name, const char *text, size_t len)
{
	size_t nl = strlen(name);
	long lines = 1, prev = -1;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	FUZZ_CHECK(err[0], "a failed load with no message");
	for (const char *l = err; *l;) {
		const char *end = strchr(l, '\n'), *q;
		size_t n = end ? (size_t)(end - l) : strlen(l);
		long line = 0;

		FUZZ_CHECK(n > nl + 3 && !strncmp(l, name, nl) && l[nl] == ':',
			   "problem line not 'FILE:LINE: message': '%.*s'", (int)n, l);
		q = l + nl + 1;
		FUZZ_CHECK(*q >= '0' && *q <= '9', "no LINE in '%.*s'", (int)n, l);
		for (; *q >= '0' && *q <= '9'; q++)
			line = line * 10 + (*q - '0');
		FUZZ_CHECK(q[0] == ':' && q[1] == ' ' && q + 2 < l + n && q[2] != '\n',
			   "problem line not 'FILE:LINE: message': '%.*s'", (int)n, l);
		FUZZ_CHECK(line <= lines, "line %ld beyond the file's %ld lines: '%.*s'",
			   line, lines, (int)n, l);
		FUZZ_CHECK(line >= prev, "problems not sorted by line: %ld after %ld", line, prev);
		prev = line;
		if (!end)
			break;
		FUZZ_CHECK(end[1], "problem list ends with a newline");
		l = end + 1;
	}
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= RC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!rc_value_isalnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

static void check_duration(const char *what, uint64_t ms)
{
	char buf[64], why[256];
	uint64_t back = ~0ull;

	rc_format_duration(ms, buf, sizeof buf);
	FUZZ_CHECK(rc_parse_duration(buf, &back, why, sizeof why) == 0 && back == ms,
		   "%s: %llu ms formats as '%s', which parses back to %llu (%s)", what,
		   (unsigned long long)ms, buf, (unsigned long long)back, why);
}

/* Pattern P of breaker I of C: it formats and parses back to itself, and
 * what it covers is matched by breaker I or an earlier one. */
static void check_pattern(const rc_config *c, unsigned i, const rc_pattern *p)
{
	char f[RC_PATTERN_MAX + 64], why[256], host[RC_HOST_MAX + 80];
	rc_pattern q;
	char qhost[RC_HOST_MAX];
	uint16_t port = p->port ? p->port : 4242;
	int r;

	rc_format_pattern(p, f, sizeof f);
	memset(&q, 0xa5, sizeof q);
	FUZZ_CHECK(rc_parse_pattern(f, &q, qhost, why, sizeof why) == 0,
		   "[%s]: pattern formats as '%s', which does not parse: %s",
		   c->breakers[i].name, f, why);
	FUZZ_CHECK(q.kind == p->kind && q.prefix == p->prefix && q.port == p->port,
		   "[%s]: '%s' parses back as kind %d prefix %d port %d, not %d %d %d",
		   c->breakers[i].name, f, q.kind, q.prefix, q.port, p->kind, p->prefix, p->port);
	switch (p->kind) {
	case RC_PAT_HOST:
	case RC_PAT_WILD:
		FUZZ_CHECK(!strcmp(q.host, p->host), "[%s]: '%s' parses back as host '%s', not '%s'",
			   c->breakers[i].name, f, q.host, p->host);
		snprintf(host, sizeof host, "%s%s", p->kind == RC_PAT_WILD ? "x" : "", p->host);
		if (strlen(host) >= RC_HOST_MAX - 1)
			break;
		{
			const char *names[1] = { host };
			static const uint8_t none[4];

			FUZZ_CHECK(rc_match_any_name(c, host), "[%s]: '%s' does not match name '%s'",
				   c->breakers[i].name, f, host);
			r = rc_match(c, AF_INET, none, port, names, 1);
			FUZZ_CHECK(r >= 0 && (unsigned)r <= i,
				   "[%s] (breaker %u): '%s' resolved to 0.0.0.0 matches breaker %d",
				   c->breakers[i].name, i, host, r);
			r = rc_match_host(c, host, port);
			FUZZ_CHECK(r >= 0 && (unsigned)r <= i,
				   "[%s] (breaker %u): rc_match_host('%s', %u) = %d",
				   c->breakers[i].name, i, host, port, r);
		}
		break;
	case RC_PAT_IP4:
	case RC_PAT_IP6: {
		int fam = p->kind == RC_PAT_IP4 ? AF_INET : AF_INET6;
		unsigned len = rc_dest_addr_len(fam);
		uint8_t a[16];
		char lit[INET6_ADDRSTRLEN];

		FUZZ_CHECK(p->prefix <= 8 * len, "[%s]: '%s' has prefix %u", c->breakers[i].name,
			   f, p->prefix);
		FUZZ_CHECK(!memcmp(q.addr, p->addr, len), "[%s]: '%s' parses back to another address",
			   c->breakers[i].name, f);
		memcpy(a, p->addr, len);
		if (rc_dest_fold(fam, a) != fam)
			break; /* a mapped network: its own address folds to IPv4 */
		FUZZ_CHECK(rc_pattern_match_addr(p, fam, p->addr), "[%s]: '%s' does not cover its address",
			   c->breakers[i].name, f);
		r = rc_match(c, fam, p->addr, port, NULL, 0);
		FUZZ_CHECK(r >= 0 && (unsigned)r <= i, "[%s] (breaker %u): '%s': rc_match = %d",
			   c->breakers[i].name, i, f, r);
		inet_ntop(fam, p->addr, lit, sizeof lit);
		snprintf(host, sizeof host, fam == AF_INET ? "%s" : "[%s]", lit);
		r = rc_match_host(c, host, port);
		FUZZ_CHECK(r >= 0 && (unsigned)r <= i, "[%s] (breaker %u): rc_match_host('%s', %u) = %d",
			   c->breakers[i].name, i, host, port, r);
		break;
	}
	default:
		FUZZ_CHECK(0, "[%s]: pattern of kind %d", c->breakers[i].name, p->kind);
	}
}

static void check_config(const rc_config *c)
{
	FUZZ_CHECK(c->nbreakers <= RC_MAX_BREAKERS, "%u breakers", c->nbreakers);
	FUZZ_CHECK(c->state_file && c->state_file[0] == '/', "state_file not absolute");
	FUZZ_CHECK(c->log_file && c->log_file[0] == '/', "log_file not absolute");
	FUZZ_CHECK(c->log_level >= RC_LOG_ERROR && c->log_level <= RC_LOG_DEBUG, "log_level %d",
		   c->log_level);
	check_duration("reload", c->reload);
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];

		FUZZ_CHECK(name_ok(b->name), "bad breaker name '%s' loaded", b->name);
		FUZZ_CHECK(rc_config_find(c, b->name) == (int)i, "[%s] is breaker %u, found as %d",
			   b->name, i, rc_config_find(c, b->name));
		FUZZ_CHECK(b->npats >= 1 && b->pats, "[%s] loaded without a pattern", b->name);
		FUZZ_CHECK(b->line >= 1 && (i == 0 || b->line > c->breakers[i - 1].line),
			   "[%s] at line %d", b->name, b->line);
		FUZZ_CHECK(b->mode >= RC_MODE_ENFORCE && b->mode <= RC_MODE_OFF, "mode %d", b->mode);
		FUZZ_CHECK(b->failure_rate <= 100, "failure_rate %u", b->failure_rate);
		FUZZ_CHECK(b->window >= 10, "window %llu", (unsigned long long)b->window);
		FUZZ_CHECK(b->half_open_probes >= 1 && b->half_open_probes <= RC_MAX_PROBES,
			   "half_open_probes %u", b->half_open_probes);
		FUZZ_CHECK(b->success_threshold >= 1, "success_threshold %u", b->success_threshold);
		FUZZ_CHECK(b->open_duration_max >= b->open_duration,
			   "[%s]: open_duration_max %llu < open_duration %llu", b->name,
			   (unsigned long long)b->open_duration_max,
			   (unsigned long long)b->open_duration);
		FUZZ_CHECK(b->reject_errno >= 1 && b->reject_errno <= 4095, "reject_errno %d",
			   b->reject_errno);
		FUZZ_CHECK(b->cut_idle == 0 || b->cut_idle == 1, "cut_idle %d", b->cut_idle);
		check_duration("window", b->window);
		check_duration("slow_call", b->slow_call);
		check_duration("connect_timeout", b->connect_timeout);
		check_duration("response_timeout", b->response_timeout);
		check_duration("open_duration", b->open_duration);
		check_duration("open_duration_max", b->open_duration_max);
		for (unsigned j = 0; j < b->npats; j++) {
			FUZZ_CHECK(b->pats[j].line >= b->line, "[%s] (line %d): a pattern of line %d",
				   b->name, b->line, b->pats[j].line);
			check_pattern(c, i, &b->pats[j]);
		}
	}
}

static void on_peek(void *user, const char *key, const char *value)
{
	FUZZ_CHECK(key && value, "peek gave a NULL key or value");
	*(size_t *)user += strlen(key) + strlen(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err_s[ERRLEN], err_f[ERRLEN];
	const char *path = fuzz_path("fuzz.ini");
	char *text = malloc(size + 1);
	const void *nul;
	rc_config *cs, *cf;
	size_t slen, peeked = 0;
	int fds;

	FUZZ_CHECK(text, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	slen = strlen(text);
	nul = memchr(data, '\0', size);

	/* from memory: the text up to the first NUL */
	cs = rc_config_load_string(text, path, err_s, sizeof err_s);
	if (cs) {
		FUZZ_CHECK(!err_s[0], "a loaded config with a message: %s", err_s);
		FUZZ_CHECK(!strcmp(cs->path, path), "config path '%s'", cs->path);
		check_config(cs);
	} else {
		check_problems(err_s, path, text, slen);
	}

	/* through the file reader: every byte */
	fuzz_write_file(path, data, size);
	fds = fuzz_nfds();
	cf = rc_config_load(path, err_f, sizeof err_f);
	FUZZ_CHECK(fuzz_nfds() == fds, "rc_config_load left %d fds open", fuzz_nfds() - fds);
	if (nul) {
		char want[8192];
		long line = 1;

		for (const uint8_t *q = data; q < (const uint8_t *)nul; q++)
			line += *q == '\n';
		snprintf(want, sizeof want, "%s:%ld: NUL byte in the file: not a text file",
			 path, line);
		FUZZ_CHECK(!cf && !strcmp(err_f, want), "file with a NUL at %zu: %s\n  want: %s",
			   (size_t)((const uint8_t *)nul - data), cf ? "(loaded)" : err_f, want);
	} else {
		FUZZ_CHECK(!cs == !cf, "from memory %s, from the file %s:\n  memory: %s\n  file: %s",
			   cs ? "loaded" : "failed", cf ? "loaded" : "failed", err_s, err_f);
		FUZZ_CHECK(!strcmp(err_s, err_f), "messages differ:\n  memory: %s\n  file: %s",
			   err_s, err_f);
		if (cs && cf) {
			char *a = dump(cs), *b = dump(cf);

			FUZZ_CHECK(!strcmp(a, b), "configs differ:\n--- memory\n%s--- file\n%s", a, b);
			free(a);
			free(b);
		}
	}
	rc_config_free(cs);
	rc_config_free(cf);

	/* the peek at [global] of a file too broken to load */
	FUZZ_CHECK(rc_config_peek_global(text, on_peek, &peeked) == 0, "peek failed");

	unlink(path);
	free(text);
	return 0;
}
