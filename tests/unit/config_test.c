/* config_test.c - unit tests of the INI parser, the value parsers and the
 * matcher (shim/core/config.c).  TAP, run by prove from the repository root. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/match.h"
#include "core/pattern.h"
#include "core/value.h"
#include "tap.h"

static char E[16384];

/* ---- helpers ---- */

/* Does E hold a line that starts with WHERE ("t.ini:3: ") and contains SUB? */
static int has_line(const char *where, const char *sub)
{
	const char *l = E;

	while (*l) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char line[4096];

		if (n >= sizeof line)
			n = sizeof line - 1;
		memcpy(line, l, n);
		line[n] = '\0';
		if (!strncmp(line, where, strlen(where)) && strstr(line, sub))
			return 1;
		if (!nl)
			break;
		l = nl + 1;
	}
	return 0;
}

/* Print E as TAP diagnostics, one "#" line per line. */
static void diag_E(void)
{
	const char *l = E;

	printf("#   got:\n");
	while (*l) {
		const char *nl = strchr(l, '\n');
		int n = nl ? (int)(nl - l) : (int)strlen(l);

		printf("#     %.*s\n", n, l);
		if (!nl)
			break;
		l = nl + 1;
	}
}

/* ok() on COND, with E shown when it fails. */
#define okE(cond, ...) do { int c_ = !!(cond); ok(c_, __VA_ARGS__); if (!c_) diag_E(); } while (0)

static int nlines(const char *s)
{
	int n = *s ? 1 : 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* TEXT must fail with a line WHERE...SUB. */
static void bad(const char *text, const char *where, const char *sub, const char *what)
{
	rc_config *c = rc_config_load_string(text, "t.ini", E, sizeof E);
	int good = !c && has_line(where, sub);

	ok(good, "error: %s", what);
	if (!good)
		printf("#   want '%s...%s'%s\n", where, sub, c ? "; got success" : ""), diag_E();
	rc_config_free(c);
}

/* TEXT must fail, with exactly one problem: WHERE...SUB. */
static void bad1(const char *text, const char *where, const char *sub, const char *what)
{
	rc_config *c = rc_config_load_string(text, "t.ini", E, sizeof E);
	int good = !c && has_line(where, sub) && nlines(E) == 1;

	ok(good, "only error: %s", what);
	if (!good)
		printf("#   want '%s...%s'%s\n", where, sub, c ? "; got success" : ""), diag_E();
	rc_config_free(c);
}

/* TEXT must load; the caller frees. */
static rc_config *good(const char *text, const char *what)
{
	rc_config *c = rc_config_load_string(text, "t.ini", E, sizeof E);

	ok(c != NULL && E[0] == '\0', "loads: %s", what);
	if (!c)
		diag_E();
	return c;
}

/* Load "[global]\nKEY = VALUE\n[b]\nmatch = x.example\n" and return breaker
 * b, or NULL; *G gets the config (caller frees). */
static const rc_breaker_cfg *with_key(const char *key, const char *value, rc_config **g)
{
	char text[1024];

	snprintf(text, sizeof text, "[b]\nmatch = x.example\n%s = %s\n", key, value);
	*g = rc_config_load_string(text, "t.ini", E, sizeof E);
	return *g ? &(*g)->breakers[0] : NULL;
}

static void key_bad(const char *key, const char *value, const char *sub)
{
	char what[256];

	snprintf(what, sizeof what, "%s = '%s' is refused", key, value);
	{
		char text[1024], where[64];

		snprintf(text, sizeof text, "[b]\nmatch = x.example\n%s = %s\n", key, value);
		snprintf(where, sizeof where, "t.ini:3: bad value ");
		bad1(text, where, sub, what);
		/* and the message names key and value */
		snprintf(where, sizeof where, "t.ini:3: bad value '%s' for %s:", value, key);
		if (strlen(value) < 50 && !strchr(value, ';'))
			ok(has_line(where, ""), "  message names value and key (%s)", where);
	}
}

static uint64_t dur(const char *s, int *rc)
{
	uint64_t ms = 12345;
	char err[256];

	*rc = rc_parse_duration(s, &ms, err, sizeof err);
	return ms;
}

static char pat_host[RC_HOST_MAX]; /* the last name pat() parsed */

static int pat(const char *s, rc_pattern *p, char *err, size_t len)
{
	return rc_parse_pattern(s, p, pat_host, err, len);
}

static char *write_temp(const char *data, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/rc_config_test.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

/* ---- keys.def, expanded here too ---- */

static const struct { const char *name, *dflt; int global; } kd[] = {
#define RC_GLOBAL(n, t, d, ...)  { #n, d, 1 },
#define RC_BREAKER(n, t, d, ...) { #n, d, 0 },
#include "core/keys.def"
};
#define NKEYS ((int)(sizeof kd / sizeof kd[0]))

/* A breaker key's values: the same bytes, or (a set of statuses, kept
 * by each config) the same set. */
#define SAME_FIELD_STATUSES(x, y) ((x) && (y) && !memcmp((x), (y), sizeof *(x)))
#define SAME_FIELD_DURATION(x, y) ((x) == (y))
#define SAME_FIELD_UINT(x, y)     ((x) == (y))
#define SAME_FIELD_PERCENT(x, y)  ((x) == (y))
#define SAME_FIELD_BOOL(x, y)     ((x) == (y))
#define SAME_FIELD_MODE(x, y)     ((x) == (y))
#define SAME_FIELD_ERRNO(x, y)    ((x) == (y))

static int same_breaker(const rc_breaker_cfg *a, const rc_breaker_cfg *b)
{
#define RC_BREAKER(n, t, d, ...) \
	if (!SAME_FIELD_##t(a->n, b->n)) { printf("#   %s differs\n", #n); return 0; }
#include "core/keys.def"
	return 1;
}

#define SAME_PATH(a, b)     ((a) && (b) && !strcmp((a), (b)))
#define SAME_DURATION(a, b) ((a) == (b))
#define SAME_LEVEL(a, b)    ((a) == (b))

static int same_globals(const rc_config *a, const rc_config *b)
{
#define RC_GLOBAL(n, t, d, ...) \
	if (!SAME_##t(a->n, b->n)) { printf("#   %s differs\n", #n); return 0; }
#include "core/keys.def"
	return 1;
}

/* ---- the tests ---- */

static void test_errors(void)
{
	char text[65536], *p;

	bad1("[global]\nfoo = 1\n", "t.ini:2: ", "unknown key 'foo' in [global]", "unknown key in [global]");
	bad1("[api]\nmatch = a.example\n\nbar = 2\n", "t.ini:4: ", "unknown key 'bar' in [api]", "unknown key in a breaker");
	bad1("[api]\nmatch = a.example\nmode = sometimes\n", "t.ini:3: ",
	     "bad value 'sometimes' for mode: expected enforce, observe or off", "bad value");
	bad1("[api]\nmatch = a.example, 10.0.0.0/33\n", "t.ini:2: ",
	     "bad pattern '10.0.0.0/33' in match: prefix length must be 0-32", "bad pattern");
	bad1("[global]\nreload = 2s\n\n[api]\nmode = observe\n", "t.ini:4: ",
	     "section [api] has no 'match' key", "section without match: line of its header");
	bad1("[a]\nmatch = a.example\n[b]\nmatch = b.example\n[a]\nmatch = c.example\n",
	     "t.ini:5: ", "duplicate section [a] (first at line 1)", "duplicate section");
	bad("[a]\nmatch = a.example\n[a]\nmode = nope\n", "t.ini:4: ", "bad value 'nope' for mode",
	    "keys of a duplicate section are still checked");
	bad1("[global]\nreload = 1s\n[global]\nreload = 2s\n", "t.ini:3: ",
	     "duplicate section [global] (first at line 1)", "duplicate [global]");
	bad1("[a]\nmatch = a.example\nmode = off\nmode = observe\n", "t.ini:4: ",
	     "duplicate key 'mode' in [a] (first at line 3)", "duplicate key");
	bad1("[global]\nmode = off\nMode = observe\n", "t.ini:3: ",
	     "duplicate key 'mode' in [global] (first at line 2)", "duplicate key, other case");
	bad1("[a]\nmatch = a.example\nlog_file = /tmp/x\n", "t.ini:3: ",
	     "'log_file' is a [global] setting, not allowed in breaker [a]", "global key in a breaker");
	bad1("[a]\nmatch = a.example\nreload = 1s\n", "t.ini:3: ",
	     "'reload' is a [global] setting", "reload in a breaker");
	bad1("[global]\nmatch = a.example\n", "t.ini:2: ",
	     "'match' is not allowed in [global]", "match in [global]");
	bad1("\n; comment\nmode = off\n[a]\nmatch = a.example\n", "t.ini:3: ",
	     "key 'mode' before any section", "key before any section");
	bad1("[a]\nmatch = a.example\nthis is not a key\n", "t.ini:3: ",
	     "expected 'key = value', a [section] header or a comment", "inih: line without '='");
	bad1("[a]\nmatch = a.example\n\n[b\nmatch = b.example\n", "t.ini:4: ",
	     "section header without closing ']'", "inih: header without ']'");
	bad1("[a ;comment]\nmatch = a.example\n", "t.ini:1: ",
	     "section header without closing ']'", "inih: ']' hidden by an inline comment");
	bad("[a\nmatch = a.example\nmode = bad\nmode = off\n", "t.ini:3: ", "bad value 'bad' for mode",
	    "keys after a broken header are still checked");
	ok(nlines(E) == 3 && has_line("t.ini:4: ", "duplicate key 'mode' in [?]"), "  without a cascade");
	bad1("[a] junk\nmatch = a.example\n", "t.ini:1: ",
	     "unexpected text after ']'", "text after a section header");
	bad1("[a]\nmatch = a.example\n= value\n", "t.ini:3: ", "missing key name", "empty key name");
	bad1("[a]\nmatch = a.example\nmode = off\n   observe\n", "t.ini:4: ",
	     "indented line continues 'mode': only 'match' may continue", "continuation of a non-match key");
	bad1("[a]\nmatch = a.example\n   mode = observe\n", "t.ini:3: ",
	     "is read as a continuation of 'match'", "indented key after match");

	/* bulkhead keys: defaults 0, bounds */
	{
		rc_config *c = good("[global]\nmax_wait = 250ms\n[a]\nmatch = a.example\n"
				    "max_concurrent = 256\nmax_connections = 3\n[b]\nmatch = b.example\n",
				    "bulkhead keys");
		if (c) {
			is_int(c->breakers[0].max_concurrent, 256, "max_concurrent = 256");
			is_int(c->breakers[0].max_connections, 3, "max_connections = 3");
			is_int(c->breakers[0].max_wait, 250, "max_wait from [global]: 250 ms");
			is_int(c->breakers[1].max_concurrent, 0, "max_concurrent defaults to 0 (no cap)");
			is_int(c->breakers[1].max_connections, 0, "max_connections defaults to 0");
			rc_config_free(c);
		}
	}
	bad1("[a]\nmatch = a.example\nmax_concurrent = 257\n", "t.ini:3: ",
	     "bad value '257' for max_concurrent: expected at most 256", "max_concurrent 257");
	bad1("[a]\nmatch = a.example\nmax_connections = 1000\n", "t.ini:3: ",
	     "for max_connections", "max_connections 1000");
	bad1("[a]\nmatch = a.example\nmax_wait = 61s\n", "t.ini:3: ",
	     "for max_wait", "max_wait 61s");
	bad1("[a]\nmatch = a.example\nmax_concurrent = -1\n", "t.ini:3: ",
	     "for max_concurrent", "max_concurrent -1");

	/* half_open_probes bounds */
	bad1("[a]\nmatch = a.example\nhalf_open_probes = 0\n", "t.ini:3: ",
	     "bad value '0' for half_open_probes: expected 1-16", "half_open_probes 0");
	bad1("[a]\nmatch = a.example\nhalf_open_probes = 17\n", "t.ini:3: ",
	     "bad value '17' for half_open_probes: expected 1-16", "half_open_probes 17");
	bad1("[global]\nhalf_open_probes = 99\n", "t.ini:2: ",
	     "for half_open_probes", "half_open_probes 99 in [global]");
	{
		rc_config *c = good("[a]\nmatch = a.example\nhalf_open_probes = 16\n[b]\nmatch = b.example\nhalf_open_probes = 1\n",
				    "half_open_probes 16 and 1");
		if (c) {
			is_int(c->breakers[0].half_open_probes, 16, "half_open_probes = 16");
			is_int(c->breakers[1].half_open_probes, 1, "half_open_probes = 1");
		}
		rc_config_free(c);
	}

	/* breaker names */
	bad1("[my api]\nmatch = a.example\n", "t.ini:1: ", "bad breaker name [my api]", "name with a space");
	bad1("[]\nmatch = a.example\n", "t.ini:1: ", "bad breaker name []", "empty name");
	bad1("[a/b]\nmatch = a.example\n", "t.ini:1: ", "bad breaker name [a/b]", "name with '/'");
	bad1("[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nmatch = a.example\n",
	     "t.ini:1: ", "bad breaker name", "64-character name");
	{
		const char *n63 = "A23456789.123456789_123456789-123456789012345678901234567890123";
		rc_config *c;

		snprintf(text, sizeof text, "[%s]\nmatch = a.example\n[ spaced ]\nmatch = b.example\n", n63);
		c = good(text, "63-character name and a name with spaces inside the brackets");
		if (c) {
			is_str(c->breakers[0].name, n63, "63-character name kept whole (inih cuts at 49)");
			is_str(c->breakers[1].name, "spaced", "[ spaced ] is breaker 'spaced'");
			is_int(rc_config_find(c, n63), 0, "rc_config_find: long name");
			is_int(rc_config_find(c, "spaced"), 1, "rc_config_find: second");
			is_int(rc_config_find(c, "Spaced"), -1, "rc_config_find: case-sensitive");
			is_int(rc_config_find(c, "nope"), -1, "rc_config_find: missing");
		}
		rc_config_free(c);
	}
	{
		rc_config *c = good("[GLOBAL]\nconnect_timeout = 1s\n[a]\nmatch = a.example\n", "[GLOBAL] is [global]");

		if (c)
			is_int(c->breakers[0].connect_timeout, 1000, "[GLOBAL] default applied");
		rc_config_free(c);
	}

	/* too many breakers */
	{
		char *big = malloc((RC_MAX_BREAKERS + 2) * 40);

		p = big;
		for (int i = 0; i <= RC_MAX_BREAKERS + 1; i++)
			p += sprintf(p, "[b%d]\nmatch = h%d.example\n", i, i);
		bad1(big, "t.ini:8193: ", "too many breakers: at most 4096",
		     "too many breakers: once, at the 4097th");
		p = big;
		for (int i = 0; i < RC_MAX_BREAKERS; i++)
			p += sprintf(p, "[b%d]\nmatch = h%d.example\n", i, i);
		rc_config *c = good(big, "exactly 4096 breakers");

		if (c) {
			is_int(c->nbreakers, RC_MAX_BREAKERS, "4096 breakers loaded");
			uint8_t a[4] = { 192, 0, 2, 1 };
			const char *nm[1] = { "h4095.example" };
			is_int(rc_match(c, AF_INET, a, 80, nm, 1), 4095, "...the last one matched by name");
		}
		rc_config_free(c);
		p = big;
		for (int i = 0; i < 3; i++)
			p += sprintf(p, "[b%d]\nmatch = h%d.example\n", i % 2 ? i : 0, i);
		bad1(big, "t.ini:5: ", "duplicate section [b0] (first at line 1)", "a duplicate section");
		free(big);
	}

	/* several problems: all of them, sorted by line */
	{
		rc_config *c = rc_config_load_string(
			"[a]\nmode = off\n[b]\nmatch = b.example\nfoo = 1\nwindow = x\n[c]\nmatch = 300.1.1.1\n",
			"t.ini", E, sizeof E);

		ok(!c, "several problems fail the load");
		is_int(nlines(E), 4, "four problems, one line each");
		ok(!strncmp(E, "t.ini:1: section [a] has no 'match' key", 39),
		   "first problem first (found after the parse)");
		ok(has_line("t.ini:5: ", "unknown key 'foo' in [b]") && has_line("t.ini:6: ", "for window") &&
		   has_line("t.ini:8: ", "bad pattern '300.1.1.1'"), "and the others");
		ok(strstr(E, "t.ini:5:") < strstr(E, "t.ini:6:") && strstr(E, "t.ini:6:") < strstr(E, "t.ini:8:"),
		   "in line order");
		rc_config_free(c);
	}
	/* truncation to errlen */
	{
		char small[48];
		rc_config *c = rc_config_load_string("[a]\nmode = off\n", "t.ini", small, sizeof small);

		ok(!c && strlen(small) == sizeof small - 1 && !strncmp(small, "t.ini:1: section [a]", 20),
		   "a too small buffer holds the first problem, truncated");
		c = rc_config_load_string("[a]\nmatch = a.example\nfoo = 1\nbar = 2\n", "t.ini", small, sizeof small);
		ok(!c && !strcmp(small, "t.ini:3: unknown key 'foo' in [a]"),
		   "whole lines only after the first: '%s'", small);
		c = rc_config_load_string("[a]\nmode = off\n", "t.ini", NULL, 0);
		ok(!c, "no buffer at all is fine");
	}

	/* match lists */
	bad1("[a]\nmatch = a.example,,b.example\n", "t.ini:2: ", "empty pattern in match list", "empty item");
	bad1("[a]\nmatch = , a.example\n", "t.ini:2: ", "empty pattern in match list", "leading comma");
	bad1("[a]\nmatch = a.example,\nmode = off\n", "t.ini:2: ",
	     "match list ends with ',' but no indented continuation line follows", "trailing comma, no continuation");
	bad1("[a]\nmatch = a.example,\n", "t.ini:2: ", "ends with ','", "trailing comma at the end of the file");
	bad1("[a]\nmatch = a.example,\n[b]\nmatch = b.example\n", "t.ini:2: ", "ends with ','",
	     "trailing comma before a section");
	bad1("[a]\nmatch =\n", "t.ini:2: ", "'match' has no patterns", "empty match");
	bad1("[a]\nmatch = a.example\nmatch =\nmode = off\n", "t.ini:3: ", "'match' has no patterns",
	     "empty repeated match");

	/* open_duration_max against open_duration */
	bad1("[a]\nmatch = a.example\nopen_duration = 30s\nopen_duration_max = 20s\n", "t.ini:4: ",
	     "open_duration_max (20s) is shorter than open_duration (30s) in [a]", "open_duration_max < open_duration");
	bad1("[a]\nmatch = a.example\nopen_duration = 1m\n[global]\nopen_duration_max = 30s\n", "t.ini:3: ",
	     "open_duration_max (30s) is shorter than open_duration (1m) in [a]", "breaker open_duration over [global]'s max");
	bad1("[global]\nopen_duration_max = 5s\n[a]\nmatch = a.example\n[b]\nmatch = b.example\n", "t.ini:2: ",
	     "open_duration_max (5s) is shorter than open_duration (10s) in [global]",
	     "[global] max below the default open_duration: reported once");

	/* whole-file problems */
	{
		char *path;
		rc_config *c;
		char want[128];

		c = rc_config_load("/nonexistent/recloser.ini", E, sizeof E);
		okE(!c && !strcmp(E, "/nonexistent/recloser.ini:0: cannot read: No such file or directory"),
		    "missing file: LINE 0 and strerror");
		c = rc_config_load("/tmp", E, sizeof E);
		okE(!c && !strcmp(E, "/tmp:0: cannot read: Is a directory"), "a directory");
		errno = 4242;
		c = rc_config_load(NULL, E, sizeof E);
		okE(!c && !strncmp(E, "(null):0: cannot read", 21), "NULL path");
		is_int(errno, 4242, "errno is left alone");

		path = write_temp("[a]\nmatch = a.example\nmode = \0off\n", 34);
		c = rc_config_load(path, E, sizeof E);
		snprintf(want, sizeof want, "%s:3: NUL byte", path);
		okE(!c && !strncmp(E, want, strlen(want)), "NUL byte");
		unlink(path);

		{
			size_t big = (16u << 20) + 10;
			char *buf = malloc(big);

			memset(buf, '\n', big);
			memcpy(buf, "[a]\nmatch = a.example\n", 22);
			path = write_temp(buf, big);
			c = rc_config_load(path, E, sizeof E);
			snprintf(want, sizeof want, "%s:0: cannot read: file too large", path);
			okE(!c && !strncmp(E, want, strlen(want)), "file over 16 MiB");
			unlink(path);
			buf[big - 1] = '\0';
			c = rc_config_load_string(buf, "s.ini", E, sizeof E);
			okE(!c && !strcmp(E, "s.ini:0: file too large (over 16 MiB)"), "string over 16 MiB");
			path = write_temp(buf, big - 20);
			c = rc_config_load(path, E, sizeof E);
			ok(c != NULL, "file just under 1 MiB loads");
			rc_config_free(c);
			unlink(path);
			free(buf);
		}
		path = write_temp("[a]\nmatch = a.example\nmode = bad\n", 33);
		c = rc_config_load(path, E, sizeof E);
		snprintf(want, sizeof want, "%s:3: bad value 'bad' for mode", path);
		okE(!c && !strncmp(E, want, strlen(want)), "file errors name the file");
		unlink(path);
		path = write_temp("[a]\nmatch = a.example\n", 22);
		c = rc_config_load(path, E, sizeof E);
		ok(c && !strcmp(c->path, path) && E[0] == '\0', "a good file loads; path kept");
		rc_config_free(c);
		unlink(path);
	}

	/* loading never writes to stdout or stderr */
	{
		char *path = write_temp("", 0);
		int fd = open(path, O_WRONLY | O_TRUNC), o1, o2;
		rc_config *c;
		FILE *f;
		long size;

		fflush(stdout);
		o1 = dup(1);
		o2 = dup(2);
		dup2(fd, 1);
		dup2(fd, 2);
		c = rc_config_load_string("[a]\nfoo\nbar = 1\n[b\n", "t.ini", E, sizeof E);
		rc_config_free(c);
		c = rc_config_load("/nonexistent", E, sizeof E);
		fflush(stdout);
		dup2(o1, 1);
		dup2(o2, 2);
		close(o1);
		close(o2);
		close(fd);
		f = fopen(path, "r");
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
		unlink(path);
		is_int(size, 0, "loading bad configs prints nothing");
	}

	/* syntax that inih accepts */
	{
		rc_config *c = good("\xef\xbb\xbf[a]\r\nmatch: a.example ; comment\r\nmode = observe ; comment\r\n"
				    "# hash comment\r\n; semicolon comment\r\n\r\n", "BOM, CRLF, ':' and comments");

		if (c) {
			is_int(c->breakers[0].npats, 1, "one pattern");
			is_int(c->breakers[0].mode, RC_MODE_OBSERVE, "mode with inline comment");
		}
		rc_config_free(c);
		c = good("", "an empty config");
		if (c)
			ok(c->nbreakers == 0 && c->log_level == RC_LOG_INFO, "no breakers, global defaults");
		rc_config_free(c);
		c = good("[global]\n", "only [global]");
		rc_config_free(c);
	}
}

static void test_durations(void)
{
	static const struct { const char *s; uint64_t ms; } goods[] = {
		{ "0", 0 }, { "0ms", 0 }, { "0s", 0 }, { "250ms", 250 }, { "2s", 2000 },
		{ "1.5s", 1500 }, { "5m", 300000 }, { "1h", 3600000 }, { "10", 10000 },
		{ "0.25s", 250 }, { "0.001s", 1 }, { "1.5m", 90000 }, { "1.5h", 5400000 },
		{ " 2s ", 2000 }, { "1.000s", 1000 }, { "007s", 7000 }, { "1.5", 1500 },
		{ "0.5m", 30000 }, { "576h", 2073600000 }, { "1.0000000000s", 1000 },
		{ "0.0001m", 6 }, { "2073600000ms", 2073600000 },
	};
	static const char *bads[] = {
		"", " ", "-1s", "-0", "1.5ms", "0.0005s", "1.0001s", "0.00001m", "1x", "s",
		"1.s", ".5s", "1e3", "2 s", "577h", "2073600001ms", "99999999999999999999",
		"5M", "+1s", "1ss", "1.2.3s", "1,5s", "0x10", "1d", "ms",
	};
	char buf[64], err[256];
	int rc;
	uint64_t v;

	for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		v = dur(goods[i].s, &rc);
		ok(rc == 0 && v == goods[i].ms, "duration '%s' = %llu ms", goods[i].s,
		   (unsigned long long)goods[i].ms);
	}
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		v = dur(bads[i], &rc);
		ok(rc == -1 && v == 12345, "duration '%s' refused, output untouched", bads[i]);
	}
	rc_parse_duration("-1s", &v, err, sizeof err);
	is_str(err, "a duration cannot be negative", "negative: message");
	rc_parse_duration("1.5ms", &v, err, sizeof err);
	is_str(err, "not a whole number of milliseconds", "sub-millisecond: message");
	rc_parse_duration("3d", &v, err, sizeof err);
	is_str(err, "unknown unit 'd': use ms, s, m or h", "unknown unit: message");
	rc_parse_duration("999h", &v, err, sizeof err);
	is_str(err, "too long: at most 576h", "too long: message");
	rc_parse_duration("abc", &v, err, sizeof err);
	ok(strstr(err, "250ms, 2s, 1.5s, 5m or 1h") != NULL, "garbage: message shows the forms");

	{
		static const struct { uint64_t ms; const char *s; } fmts[] = {
			{ 0, "0" }, { 1, "1ms" }, { 250, "250ms" }, { 1000, "1s" }, { 1500, "1.5s" },
			{ 2000, "2s" }, { 60000, "1m" }, { 90000, "90s" }, { 300000, "5m" },
			{ 3600000, "1h" }, { 5400000, "90m" }, { 1001, "1001ms" }, { 61000, "61s" },
			{ 86400000, "24h" }, { 12345, "12345ms" }, { 12300, "12.3s" }, { 500, "500ms" }, { 30000, "30s" }, { 100, "100ms" }, { 10000, "10s" },
			{ 150000, "150s" }, { 9000000, "150m" }, { 5430000, "5430s" }, { 5400000, "90m" }, { 2073600000, "576h" }, { 1800000, "30m" }, { 45000, "45s" },
		};
		for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
			rc_format_duration(fmts[i].ms, buf, sizeof buf);
			is_str(buf, fmts[i].s, "format %llu ms", (unsigned long long)fmts[i].ms);
		}
		rc_format_duration(1500, buf, 3);
		is_str(buf, "1.", "format truncates to the buffer");
	}
	{
		int fails = 0;
		uint64_t x = 0;

		for (uint64_t ms = 0; ms <= 200000; ms++) {
			rc_format_duration(ms, buf, sizeof buf);
			if (rc_parse_duration(buf, &x, err, sizeof err) || x != ms)
				fails++;
		}
		srand(42);
		for (int i = 0; i < 200000; i++) {
			uint64_t ms = ((uint64_t)rand() << 16 ^ (uint64_t)rand()) % 2073600001ull;

			if (i % 3 == 0)
				ms -= ms % 1000;
			if (i % 5 == 0)
				ms -= ms % 60000;
			rc_format_duration(ms, buf, sizeof buf);
			if (rc_parse_duration(buf, &x, err, sizeof err) || x != ms)
				fails++;
		}
		is_int(fails, 0, "format/parse round trip: 0-200s and 200000 random durations");
	}
}

static void test_values(void)
{
	rc_config *c;
	const rc_breaker_cfg *b;
	char want[256];

	/* UINT */
	b = with_key("failure_threshold", "0", &c);
	ok(b && b->failure_threshold == 0, "UINT 0");
	rc_config_free(c);
	b = with_key("minimum_calls", "4294967295", &c);
	ok(b && b->minimum_calls == 4294967295u, "UINT max");
	rc_config_free(c);
	key_bad("minimum_calls", "4294967296", "too large");
	key_bad("minimum_calls", "-1", "expected a whole number");
	key_bad("minimum_calls", "1.5", "expected a whole number");
	key_bad("failure_threshold", "five", "expected a whole number");
	key_bad("failure_threshold", "5 5", "expected a whole number");
	bad1("[b]\nmatch = x.example\nfailure_threshold =\n", "t.ini:3: ", "bad value '' for failure_threshold",
	     "UINT empty");
	key_bad("success_threshold", "0", "expected at least 1");
	b = with_key("success_threshold", "3", &c);
	ok(b && b->success_threshold == 3, "success_threshold 3");
	rc_config_free(c);

	/* PERCENT */
	b = with_key("failure_rate", "0", &c);
	ok(b && b->failure_rate == 0, "PERCENT 0");
	rc_config_free(c);
	b = with_key("failure_rate", "100", &c);
	ok(b && b->failure_rate == 100, "PERCENT 100");
	rc_config_free(c);
	b = with_key("failure_rate", "35%", &c);
	ok(b && b->failure_rate == 35, "PERCENT with %%");
	rc_config_free(c);
	key_bad("failure_rate", "101", "expected a percentage 0-100");
	key_bad("failure_rate", "-5", "expected a percentage 0-100");
	key_bad("failure_rate", "half", "expected a percentage 0-100");

	/* BOOL */
	{
		static const struct { const char *s; int v; } bools[] = {
			{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 }, { "on", 1 },
			{ "off", 0 }, { "1", 1 }, { "0", 0 }, { "YES", 1 }, { "False", 0 },
		};
		for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
			b = with_key("cut_idle", bools[i].s, &c);
			ok(b && b->cut_idle == bools[i].v, "BOOL %s = %d", bools[i].s, bools[i].v);
			rc_config_free(c);
		}
		key_bad("cut_idle", "maybe", "expected yes or no");
		key_bad("cut_idle", "2", "expected yes or no");
	}

	/* MODE */
	b = with_key("mode", "enforce", &c);
	ok(b && b->mode == RC_MODE_ENFORCE, "MODE enforce");
	rc_config_free(c);
	b = with_key("mode", "observe", &c);
	ok(b && b->mode == RC_MODE_OBSERVE, "MODE observe");
	rc_config_free(c);
	b = with_key("mode", "OFF", &c);
	ok(b && b->mode == RC_MODE_OFF, "MODE OFF");
	rc_config_free(c);
	key_bad("mode", "on", "expected enforce, observe or off");

	/* LEVEL */
	{
		static const char *levels[] = { "error", "warn", "info", "debug" };
		char text[128];

		for (int i = 0; i < 4; i++) {
			snprintf(text, sizeof text, "[global]\nlog_level = %s\n", levels[i]);
			c = rc_config_load_string(text, "t.ini", E, sizeof E);
			ok(c && c->log_level == i, "LEVEL %s = %d", levels[i], i);
			rc_config_free(c);
		}
		bad1("[global]\nlog_level = warning\n", "t.ini:2: ",
		     "bad value 'warning' for log_level: expected error, warn, info or debug", "LEVEL warning");
		bad1("[global]\nlog_level = trace\n", "t.ini:2: ", "for log_level", "LEVEL trace");
	}

	/* ERRNO */
	{
		static const struct { const char *s; int v; } errs[] = {
			{ "ECONNREFUSED", ECONNREFUSED }, { "ECONNRESET", ECONNRESET },
			{ "ETIMEDOUT", ETIMEDOUT }, { "EHOSTUNREACH", EHOSTUNREACH },
			{ "ENETUNREACH", ENETUNREACH }, { "ECONNABORTED", ECONNABORTED },
			{ "EACCES", EACCES }, { "EPERM", EPERM },
			{ "ENETDOWN", ENETDOWN }, { "EHOSTDOWN", EHOSTDOWN },
			{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "ENOBUFS", ENOBUFS },
			{ "econnreset", ECONNRESET }, { "111", 111 },
			{ " ETIMEDOUT ", ETIMEDOUT },
		};
		for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
			b = with_key("reject_errno", errs[i].s, &c);
			ok(b && b->reject_errno == errs[i].v, "ERRNO %s = %d", errs[i].s, errs[i].v);
			rc_config_free(c);
		}
		key_bad("reject_errno", "EFOO", "expected an errno name");
		key_bad("reject_errno", "0", "expected an errno name");
		key_bad("reject_errno", "-1", "expected an errno name");
		key_bad("reject_errno", "4096", "expected an errno name");

		/* An errno that callers retry at once turns every retry loop
		 * into a spin of rejections; one that means "pending" or
		 * "connected" makes a rejected connect look like a success;
		 * any other number is no connect failure.  Refused by name and
		 * by number, saying why, as FILE:LINE: like any bad value. */
		static const struct { const char *s, *why; } spin[] = {
			{ "EINTR", "EINTR makes callers retry at once" },
			{ "eintr", "EINTR makes callers retry at once" },
			{ "EAGAIN", "EAGAIN makes callers retry at once" },
			{ "EWOULDBLOCK", "EAGAIN makes callers retry at once" },
			{ "EINPROGRESS", "EINPROGRESS makes a rejected connect look pending" },
			{ "EALREADY", "EALREADY makes a rejected connect look pending" },
			{ "EISCONN", "EISCONN makes a rejected connect look successful" },
		};
		for (size_t i = 0; i < sizeof spin / sizeof spin[0]; i++) {
			key_bad("reject_errno", spin[i].s, spin[i].why);
			key_bad("reject_errno", spin[i].s, "use a connect failure such as ECONNREFUSED");
		}
		char num[16];
		snprintf(num, sizeof num, "%d", EINTR);
		key_bad("reject_errno", num, "EINTR makes callers retry at once");
		snprintf(num, sizeof num, "%d", EAGAIN);
		key_bad("reject_errno", num, "EAGAIN makes callers retry at once");
		snprintf(num, sizeof num, "%d", EINPROGRESS);
		key_bad("reject_errno", num, "EINPROGRESS makes a rejected connect look pending");
		snprintf(num, sizeof num, "%d", EISCONN);
		key_bad("reject_errno", num, "EISCONN makes a rejected connect look successful");
		key_bad("reject_errno", "4095", "errno 4095 is not a connect failure");
		snprintf(num, sizeof num, "%d", ENOENT);
		key_bad("reject_errno", num, "is not a connect failure");
		/* in [global] too, as the default of every breaker, at its line */
		bad1("[global]\nreject_errno = EINTR\n[b]\nmatch = x.example\n", "t.ini:2: ",
		     "bad value 'EINTR' for reject_errno: EINTR makes callers retry at once",
		     "reject_errno = EINTR in [global]");
	}

	/* STATUSES */
	{
		b = with_key("http_failure_status", "500-599", &c);
		ok(b && rc_status_in(b->http_failure_status, 500) && rc_status_in(b->http_failure_status, 599) &&
		   rc_status_in(b->http_failure_status, 550) && !rc_status_in(b->http_failure_status, 499) &&
		   !rc_status_in(b->http_failure_status, 600), "STATUSES 500-599");
		rc_config_free(c);
		b = with_key("http_failure_status", "502,503,504", &c);
		ok(b && !rc_status_in(b->http_failure_status, 501) && rc_status_in(b->http_failure_status, 502) &&
		   rc_status_in(b->http_failure_status, 503) && rc_status_in(b->http_failure_status, 504) &&
		   !rc_status_in(b->http_failure_status, 505), "STATUSES 502,503,504");
		rc_config_free(c);
		b = with_key("http_failure_status", "429, 500 - 599", &c);
		ok(b && rc_status_in(b->http_failure_status, 429) && !rc_status_in(b->http_failure_status, 430) &&
		   rc_status_in(b->http_failure_status, 503), "STATUSES 429, 500 - 599");
		rc_config_free(c);
		b = with_key("http_failure_status", "", &c);
		ok(b != NULL, "STATUSES empty loads");
		if (b) {
			int any = 0;

			for (int s = 0; s < 1000; s++)
				any |= rc_status_in(b->http_failure_status, s);
			ok(!any, "STATUSES empty = none");
		}
		rc_config_free(c);
		b = with_key("http_failure_status", "100-599", &c);
		ok(b && rc_status_in(b->http_failure_status, 100) && rc_status_in(b->http_failure_status, 599) &&
		   rc_status_in(b->http_failure_status, 163) && rc_status_in(b->http_failure_status, 164),
		   "STATUSES 100-599 (word boundaries)");
		rc_config_free(c);
		ok(!rc_status_in(NULL, 500) && !rc_status_in(&(rc_statusset){ { ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull } }, 600) &&
		   !rc_status_in(&(rc_statusset){ { ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull } }, 99) &&
		   !rc_status_in(&(rc_statusset){ { ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull } }, -1),
		   "rc_status_in out of range is 0");
		key_bad("http_failure_status", "600", "outside 100-599");
		key_bad("http_failure_status", "99", "outside 100-599");
		key_bad("http_failure_status", "1000", "outside 100-599");
		key_bad("http_failure_status", "500-", "expected statuses like 500-599");
		key_bad("http_failure_status", "599-500", "runs backwards");
		key_bad("http_failure_status", "500,,502", "empty item");
		key_bad("http_failure_status", "500,", "empty item");
		key_bad("http_failure_status", "5xx", "expected statuses like 500-599");
	}

	/* PATH */
	{
		char uid[32];

		snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
		c = good("[global]\nlog_file = /var/tmp/r-<uid>/x-<uid>.log\nstate_file = /dev/shm/plain\n", "PATH values");
		snprintf(want, sizeof want, "/var/tmp/r-%s/x-%s.log", uid, uid);
		ok(c && !strcmp(c->log_file, want), "PATH: every <uid> replaced: %s", c ? c->log_file : "");
		ok(c && !strcmp(c->state_file, "/dev/shm/plain"), "PATH without <uid>");
		rc_config_free(c);
		bad1("[global]\nlog_file = relative/x.log\n", "t.ini:2: ", "expected an absolute path", "PATH relative");
		bad1("[global]\nstate_file =\n", "t.ini:2: ", "expected an absolute path", "PATH empty");
		c = good("", "defaults");
		snprintf(want, sizeof want, "/tmp/recloser-%s.log", uid);
		ok(c && !strcmp(c->log_file, want), "default log_file %s", want);
		snprintf(want, sizeof want, "/dev/shm/recloser-%s", uid);
		ok(c && !strcmp(c->state_file, want), "default state_file %s", want);
		ok(c && c->reload == 1000 && c->log_level == RC_LOG_INFO, "default reload and log_level");
		rc_config_free(c);
		{
			char text[8192], longp[5000];

			memset(longp, 'a', sizeof longp - 1);
			longp[0] = '/';
			longp[sizeof longp - 1] = '\0';
			snprintf(text, sizeof text, "[global]\nlog_file = %s\n", longp);
			bad1(text, "t.ini:2: ", "path too long", "PATH over PATH_MAX");
		}
	}

	/* DURATION keys */
	b = with_key("connect_timeout", "250ms", &c);
	ok(b && b->connect_timeout == 250, "DURATION key");
	rc_config_free(c);
	key_bad("connect_timeout", "-2s", "cannot be negative");
	key_bad("slow_call", "1.5ms", "not a whole number of milliseconds");
	key_bad("window", "5ms", "expected at least 10ms");
	key_bad("window", "0", "expected at least 10ms");
	b = with_key("window", "10ms", &c);
	ok(b && b->window == 10, "window 10ms");
	rc_config_free(c);
}

static void test_defaults(void)
{
	rc_config *c, *d;
	const rc_breaker_cfg *b;

	c = good("[a]\nmatch = a.example\n", "one breaker, no [global]");
	b = c ? &c->breakers[0] : NULL;
	ok(b && b->mode == RC_MODE_ENFORCE && b->failure_threshold == 5 && b->failure_rate == 50 &&
	   b->minimum_calls == 20 && b->window == 10000 && b->slow_call == 0 &&
	   b->connect_timeout == 5000 && b->response_timeout == 0 && b->open_duration == 10000 &&
	   b->open_duration_max == 10000 && b->half_open_probes == 1 && b->success_threshold == 2 &&
	   rc_status_in(b->http_failure_status, 500) && !rc_status_in(b->http_failure_status, 499) &&
	   b->reject_errno == ECONNREFUSED && b->cut_idle == 1, "built-in defaults (SPEC table)");
	ok(b && b->line == 1 && !strcmp(b->name, "a"), "name and header line");
	rc_config_free(c);

	{
		static const char *orders[2] = {
			"[global]\nconnect_timeout = 2s\nmode = observe\nreject_errno = ETIMEDOUT\n"
			"[a]\nmatch = a.example\n[b]\nmatch = b.example\nconnect_timeout = 3s\n",
			"[a]\nmatch = a.example\n[b]\nmatch = b.example\nconnect_timeout = 3s\n"
			"[global]\nconnect_timeout = 2s\nmode = observe\nreject_errno = ETIMEDOUT\n",
		};
		for (int i = 0; i < 2; i++) {
			c = good(orders[i], i ? "[global] after the breakers" : "[global] first");
			ok(c && c->nbreakers == 2 &&
			   c->breakers[0].connect_timeout == 2000 && c->breakers[0].mode == RC_MODE_OBSERVE &&
			   c->breakers[0].reject_errno == ETIMEDOUT &&
			   c->breakers[1].connect_timeout == 3000 && c->breakers[1].mode == RC_MODE_OBSERVE,
			   "  [global] gives defaults, a breaker's own key wins (%s)", i ? "after" : "before");
			ok(c && c->breakers[0].failure_threshold == 5, "  untouched keys keep built-in defaults");
			rc_config_free(c);
		}
	}

	/* open_duration_max */
	c = good("[global]\nopen_duration = 20s\n[a]\nmatch = a.example\n[b]\nmatch = b.example\nopen_duration = 30s\n"
		 "[c]\nmatch = c.example\nopen_duration_max = 5m\n[d]\nmatch = d.example\nopen_duration_max =\n"
		 "open_duration = 1s\n", "open_duration_max derivations");
	ok(c && c->breakers[0].open_duration == 20000 && c->breakers[0].open_duration_max == 20000,
	   "max = [global] open_duration");
	ok(c && c->breakers[1].open_duration_max == 30000, "max = the breaker's own open_duration");
	ok(c && c->breakers[2].open_duration == 20000 && c->breakers[2].open_duration_max == 300000, "explicit max");
	ok(c && c->breakers[3].open_duration_max == 1000, "empty max = derived");
	rc_config_free(c);
	c = good("[global]\nopen_duration_max = 1m\n[a]\nmatch = a.example\nopen_duration = 5s\n[b]\nmatch = b.example\n"
		 "open_duration = 1m\n", "max from [global], open_duration per breaker");
	ok(c && c->breakers[0].open_duration_max == 60000 && c->breakers[1].open_duration_max == 60000,
	   "[global] max applies; equal is fine");
	rc_config_free(c);

	/* the defaults in keys.def, as a config, give the built-in values */
	{
		char text[4096], *p = text;

		p += sprintf(p, "[global]\n");
		for (int i = 0; i < NKEYS; i++)
			p += sprintf(p, "%s = %s\n", kd[i].name, kd[i].dflt);
		p += sprintf(p, "[a]\nmatch = a.example\n");
		c = good(text, "every keys.def default written out");
		d = good("[a]\nmatch = a.example\n", "nothing written out");
		ok(c && d && same_globals(c, d) && same_breaker(&c->breakers[0], &d->breakers[0]),
		   "the same configuration");
		rc_config_free(c);
		rc_config_free(d);
	}
	/* key names are case-insensitive */
	c = good("[a]\nMATCH = a.example\nMode = observe\n", "key names ignore case");
	ok(c && c->breakers[0].mode == RC_MODE_OBSERVE && c->breakers[0].npats == 1, "  and take effect");
	rc_config_free(c);
}

static void test_long_lines(void)
{
	static char text[300000];
	char *p;
	rc_config *c;
	int fails;

	/* a ~1000-character match line, then a problem two lines later */
	p = text;
	p += sprintf(p, "[global]\nconnect_timeout = 1s\n[api]\nmatch = ");
	for (int i = 0; i < 55; i++)
		p += sprintf(p, "%sh%03d.example.com", i ? ", " : "", i);
	p += sprintf(p, "\nmode = observe\n[next]\nmatch = n.example\nfoo = 1\n");
	ok(strlen(strstr(text, "match = ")) > 1000, "the match line is over 1000 characters");
	c = rc_config_load_string(text, "t.ini", E, sizeof E);
	okE(!c && !strcmp(E, "t.ini:8: unknown key 'foo' in [next]"), "line numbers after a long line");
	*strstr(text, "foo = 1\n") = '\0';
	c = good(text, "a 1000-character match line");
	if (c) {
		char buf[300];

		is_int(c->breakers[0].npats, 55, "55 patterns from one line");
		rc_format_pattern(&c->breakers[0].pats[54], buf, sizeof buf);
		is_str(buf, "h054.example.com", "the last one whole");
		ok(c->breakers[0].pats[54].line == 4 && c->breakers[0].pats[0].line == 4, "each from line 4");
		is_int(c->breakers[0].mode, RC_MODE_OBSERVE, "the key after it");
		is_int(c->breakers[1].line, 6, "the next section's line");
	}
	rc_config_free(c);

	/* the same from a file, with CRLF */
	{
		char *path, want[128];

		p = text;
		p += sprintf(p, "[api]\r\nmatch = ");
		for (int i = 0; i < 60; i++)
			p += sprintf(p, "%s10.%d.0.0/16:%d", i ? " , " : "", i, 1000 + i);
		p += sprintf(p, "\r\n\r\nmode = nope\r\n");
		path = write_temp(text, strlen(text));
		c = rc_config_load(path, E, sizeof E);
		snprintf(want, sizeof want, "%s:4: bad value 'nope' for mode", path);
		okE(!c && !strncmp(E, want, strlen(want)) && nlines(E) == 1, "long CRLF line in a file");
		unlink(path);
	}

	/* a 100 KB line */
	p = text;
	p += sprintf(p, "[big]\nmatch = ");
	for (int i = 0; i < 4000; i++)
		p += sprintf(p, "%shost%04d.example.org:%d", i ? ", " : "", i, 1 + i);
	p += sprintf(p, "\n[after]\nmatch = after.example\nwindow = 1ms\n");
	ok(strlen(text) > 100000, "a line over 100 KB");
	c = rc_config_load_string(text, "t.ini", E, sizeof E);
	okE(!c && !strcmp(E, "t.ini:5: bad value '1ms' for window: expected at least 10ms"),
	    "line number after a 100 KB line");
	*strstr(text, "window = 1ms\n") = '\0';
	c = good(text, "a 100 KB match line");
	ok(c && c->breakers[0].npats == 4000 && c->breakers[0].pats[3999].port == 4000, "4000 patterns");
	rc_config_free(c);

	/* patterns per breaker are bounded */
	p = text;
	p += sprintf(p, "[big]\nmatch = ");
	for (int i = 0; i < 4097; i++)
		p += sprintf(p, "%sh%d.io", i ? "," : "", i);
	p += sprintf(p, "\n");
	bad1(text, "t.ini:2: ", "too many patterns in [big]: at most 4096", "4097 patterns");

	/* a long bad line and a long header are reported on their own line */
	p = text;
	p += sprintf(p, "[a]\nmatch = a.example\n");
	memset(p, 'x', 3000);
	p += 3000;
	p += sprintf(p, "\nmode = bad\n[");
	memset(p, 'n', 500);
	p += 500;
	p += sprintf(p, "]\nmatch = b.example\n");
	c = rc_config_load_string(text, "t.ini", E, sizeof E);
	ok(!c && nlines(E) == 3 && has_line("t.ini:3: ", "expected 'key = value'") &&
	   has_line("t.ini:4: ", "bad value 'bad' for mode") && has_line("t.ini:5: ", "bad breaker name"),
	   "long garbage line and long header: right lines");
	if (c || nlines(E) != 3)
		diag_E();

	/* every line length around inih's buffer sizes (200, 400, 800, 1600) */
	fails = 0;
	for (int crlf = 0; crlf < 2; crlf++)
		for (int len = 150; len < 1700; len++) {
			const char *nl = crlf ? "\r\n" : "\n";
			int n;

			if (!(len < 260 || (len > 380 && len < 420) || (len > 780 && len < 820) ||
			      (len > 1580 && len < 1620)))
				continue;
			p = text;
			p += sprintf(p, "[a]%smatch = x.example ;", nl);
			n = len - 19;
			memset(p, 'p', (size_t)n);
			p += n;
			p += sprintf(p, "%smatch = y.example%smode = bad%s", nl, nl, nl);
			c = rc_config_load_string(text, "t.ini", E, sizeof E);
			if (c || strcmp(E, "t.ini:4: bad value 'bad' for mode: expected enforce, observe or off"))
				fails++;
			rc_config_free(c);
			strstr(text, "mode = bad")[7] = 'o';
			strstr(text, "mode = oad")[8] = 'f';
			strstr(text, "mode = ofd")[9] = 'f';
			c = rc_config_load_string(text, "t.ini", E, sizeof E);
			if (!c || c->breakers[0].npats != 2 || c->breakers[0].pats[0].line != 2 ||
			    c->breakers[0].pats[1].line != 3)
				fails++;
			rc_config_free(c);
		}
	is_int(fails, 0, "lines of 150-260, 380-420, 780-820, 1580-1620 chars, LF and CRLF");
}

static void test_multiline(void)
{
	rc_config *c;

	c = good("[api]\nmatch = a.example:443,\n    b.example,\n\t10.0.0.0/8 ; comment\n; a comment\n  [2001:db8::1]\n"
		 "mode = observe\n", "match continued on indented lines");
	if (c) {
		const rc_breaker_cfg *b = &c->breakers[0];

		is_int(b->npats, 4, "four patterns");
		ok(b->pats[0].line == 2 && b->pats[1].line == 3 && b->pats[2].line == 4 && b->pats[3].line == 6,
		   "each pattern knows its line");
		is_int(b->mode, RC_MODE_OBSERVE, "the next key");
	}
	rc_config_free(c);
	c = good("[api]\nmatch =\n  a.example,\n  b.example\nmatch = c.example\n", "empty match followed by lines");
	ok(c && c->breakers[0].npats == 3, "three patterns, match repeated");
	rc_config_free(c);
	bad1("[api]\nmatch = a.example\n  b.example,,c.example\n", "t.ini:3: ", "empty pattern", "empty item on a continuation");
	bad1("[api]\nmatch = a.example\n  bad..name\n", "t.ini:3: ", "bad pattern 'bad..name'", "bad pattern on a continuation");
	bad1("[global]\nmatch = a.example\n  b.example\n", "t.ini:2: ", "'match' is not allowed in [global]",
	     "match in [global] reported once");
	/* an indented line right after a section header is a key; the next
	 * indented one continues it (inih) */
	c = good("[api]\n  match = a.example\nmode = off\n", "indented key after a header");
	ok(c && c->breakers[0].mode == RC_MODE_OFF && c->breakers[0].npats == 1, "  read as a key");
	rc_config_free(c);
	bad1("[api]\n  match = a.example\n  mode = off\n", "t.ini:3: ",
	     "indented line 'mode = off' is read as a continuation of 'match'", "  but the next one continues it");
	c = good("[api]\nmatch = a.example\n  b.example ; mode = off\n", "'=' in a comment on a continuation");
	ok(c && c->breakers[0].npats == 2 && c->breakers[0].mode == RC_MODE_ENFORCE, "  is only a comment");
	rc_config_free(c);
}

static void test_patterns(void)
{
	static const struct { const char *in, *out; int kind; } goods[] = {
		{ "example.com", "example.com", RC_PAT_HOST },
		{ "Example.COM.", "example.com", RC_PAT_HOST },
		{ " api.example.com:443 ", "api.example.com:443", RC_PAT_HOST },
		{ "api.example.com:*", "api.example.com", RC_PAT_HOST },
		{ "localhost", "localhost", RC_PAT_HOST },
		{ "my_service", "my_service", RC_PAT_HOST },
		{ "redis-1.internal:6379", "redis-1.internal:6379", RC_PAT_HOST },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example", RC_PAT_HOST },
		{ "1e100.net", "1e100.net", RC_PAT_HOST },
		{ "123.example", "123.example", RC_PAT_HOST },
		{ "*.example.com", "*.example.com", RC_PAT_WILD },
		{ "*.Example.com.:8080", "*.example.com:8080", RC_PAT_WILD },
		{ "*.com", "*.com", RC_PAT_WILD },
		{ "192.0.2.7", "192.0.2.7", RC_PAT_IP4 },
		{ "192.0.2.7:80", "192.0.2.7:80", RC_PAT_IP4 },
		{ "192.0.2.7/32", "192.0.2.7", RC_PAT_IP4 },
		{ "10.0.0.0/8", "10.0.0.0/8", RC_PAT_IP4 },
		{ "10.0.0.0/8:5432", "10.0.0.0/8:5432", RC_PAT_IP4 },
		{ "172.16.16.0/20:*", "172.16.16.0/20", RC_PAT_IP4 },
		{ "0.0.0.0/0", "0.0.0.0/0", RC_PAT_IP4 },
		{ "[2001:db8::1]", "[2001:db8::1]", RC_PAT_IP6 },
		{ "[2001:db8::1]:443", "[2001:db8::1]:443", RC_PAT_IP6 },
		{ "[2001:DB8::/32]", "[2001:db8::/32]", RC_PAT_IP6 },
		{ "[2001:db8::/32]:*", "[2001:db8::/32]", RC_PAT_IP6 },
		{ "[2001:db8::/32]:8443", "[2001:db8::/32]:8443", RC_PAT_IP6 },
		{ "[::/0]", "[::/0]", RC_PAT_IP6 },
		{ "[::1]:1", "[::1]:1", RC_PAT_IP6 },
		{ "[::ffff:192.0.2.7]:80", "192.0.2.7:80", RC_PAT_IP4 },
		{ "[::ffff:10.0.0.0/104]", "10.0.0.0/8", RC_PAT_IP4 },
		{ "[::ffff:0:0/96]", "0.0.0.0/0", RC_PAT_IP4 },
		{ "[64:ff9b::/96]:80", "[64:ff9b::/96]:80", RC_PAT_IP6 },
		{ "a.example:65535", "a.example:65535", RC_PAT_HOST },
	};
	static const struct { const char *in, *why; } bads[] = {
		{ "", "empty pattern" },
		{ "   ", "empty pattern" },
		{ "*", "a wildcard needs a domain" },
		{ "*.", "empty host name" },
		{ "a..b", "empty label" },
		{ ".a.example", "empty label" },
		{ "-a.example", "cannot start with '-'" },
		{ "a-.example", "cannot end with '-'" },
		{ "a.example:0", "port must be 1-65535 or *" },
		{ "a.example:65536", "port must be 1-65535 or *" },
		{ "a.example:http", "port must be 1-65535 or *" },
		{ "a.example:-1", "port must be 1-65535 or *" },
		{ "a.example:", "missing port" },
		{ ":80", "missing host" },
		{ "a b.example", "invalid character ' '" },
		{ "a.example :80", "invalid character ' '" },
		{ "a.example: 80", "port must be 1-65535" },
		{ "*.example.com/8", "invalid character '/'" },
		{ "exa$mple.com", "invalid character '$'" },
		{ "a.*.example", "'*' is only allowed as the whole first label" },
		{ "*a.example", "'*' is only allowed as the whole first label" },
		{ "*.*.example", "'*' is only allowed" },
		{ "10.0.0.0/33", "prefix length must be 0-32" },
		{ "10.0.0.0/", "prefix length must be 0-32" },
		{ "10.0.0.0/-1", "prefix length must be 0-32" },
		{ "10.1.2.3/8", "host bits set beyond /8 (the network is 10.0.0.0/8)" },
		{ "192.0.2.7/31", "the network is 192.0.2.6/31" },
		{ "10.0/8", "bad IPv4 address '10.0'" },
		{ "example.com/8", "bad IPv4 address" },
		{ "256.1.1.1", "not a valid IPv4 address" },
		{ "10.1", "not a valid IPv4 address" },
		{ "1.2.3", "not a valid IPv4 address" },
		{ "010.1.1.1", "not a valid IPv4 address" },
		{ "2001:db8::1", "must be in brackets" },
		{ "a.example:80:90", "must be in brackets" },
		{ "[2001:db8::1", "missing ']'" },
		{ "[2001:db8::1]x", "unexpected text after ']'" },
		{ "[2001:db8::1]:0", "port must be 1-65535" },
		{ "[2001:db8::1]:", "missing port" },
		{ "[2001:db8::/129]", "prefix length must be 0-128" },
		{ "[2001:db8::1/64]", "host bits set beyond /64 (the network is 2001:db8::/64)" },
		{ "[::ffff:0:0/80]", "host bits set beyond /80" },
		{ "[1.2.3.4]", "bad IPv6 address '1.2.3.4'" },
		{ "[fe80::1%eth0]", "bad IPv6 address" },
		{ "[]", "bad IPv6 address" },
		{ "[example.com]", "bad IPv6 address" },
	};
	char buf[400], err[256], in[400];
	rc_pattern p, q;

	for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		int rc = pat(goods[i].in, &p, err, sizeof err);

		rc_format_pattern(&p, buf, sizeof buf);
		ok(rc == 0 && p.kind == goods[i].kind && !strcmp(buf, goods[i].out),
		   "pattern '%s' -> %s", goods[i].in, goods[i].out);
		if (rc || strcmp(buf, goods[i].out))
			printf("#   rc %d err '%s' formatted '%s'\n", rc, rc ? err : "", buf);
		char ph[RC_HOST_MAX];
		snprintf(ph, sizeof ph, "%s", p.host); /* pat() reuses its buffer */
		memset(&q, 0xaa, sizeof q);
		ok(pat(buf, &q, err, sizeof err) == 0 && q.kind == p.kind && q.prefix == p.prefix &&
		   q.port == p.port && !memcmp(q.addr, p.addr, sizeof p.addr) && !strcmp(q.host, ph),
		   "  round trip '%s'", buf);
	}
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		int rc = pat(bads[i].in, &p, err, sizeof err);

		ok(rc == -1 && strstr(err, bads[i].why), "pattern '%s' refused: %s", bads[i].in, bads[i].why);
		if (rc != -1 || !strstr(err, bads[i].why))
			printf("#   rc %d err '%s'\n", rc, err);
	}
	ok(pat(NULL, &p, err, sizeof err) == -1, "NULL pattern refused");

	/* fields */
	pat("Api.Example.com:8443", &p, err, sizeof err);
	ok(p.kind == RC_PAT_HOST && !strcmp(p.host, "api.example.com") && p.port == 8443 && p.prefix == 0,
	   "host fields, lowercase");
	pat("*.svc.example.com", &p, err, sizeof err);
	ok(p.kind == RC_PAT_WILD && !strcmp(p.host, ".svc.example.com") && p.port == 0, "wildcard holds '.domain'");
	pat("10.20.0.0/16:8080", &p, err, sizeof err);
	ok(p.kind == RC_PAT_IP4 && p.prefix == 16 && p.port == 8080 && p.addr[0] == 10 && p.addr[1] == 20 &&
	   p.addr[2] == 0, "IPv4 fields, network order");
	pat("[2001:db8::7]:443", &p, err, sizeof err);
	ok(p.kind == RC_PAT_IP6 && p.prefix == 128 && p.port == 443 && p.addr[0] == 0x20 && p.addr[1] == 0x01 &&
	   p.addr[15] == 7, "IPv6 fields");

	/* name lengths */
	{
		char label63[64], name[300];

		memset(label63, 'a', 63);
		label63[63] = '\0';
		snprintf(in, sizeof in, "%s.example", label63);
		ok(pat(in, &p, err, sizeof err) == 0, "63-character label");
		snprintf(in, sizeof in, "%sa.example", label63);
		ok(pat(in, &p, err, sizeof err) == -1 && strstr(err, "label longer than 63"), "64-character label");
		/* 253 characters: 3 x 63 + '.' separators + 61 */
		snprintf(name, sizeof name, "%s.%s.%s.", label63, label63, label63);
		memset(name + strlen(name), 'b', 61);
		name[253] = '\0';
		ok(strlen(name) == 253 && pat(name, &p, err, sizeof err) == 0 && strlen(p.host) == 253,
		   "253-character name");
		snprintf(in, sizeof in, "%s.", name);
		ok(pat(in, &p, err, sizeof err) == 0 && strlen(p.host) == 253, "253 characters and a trailing dot");
		snprintf(in, sizeof in, "%sb", name);
		ok(pat(in, &p, err, sizeof err) == -1 && strstr(err, "longer than 253"), "254-character name");
		name[252] = '\0';
		snprintf(in, sizeof in, "*.%s", name);
		ok(pat(in, &p, err, sizeof err) == 0 && strlen(p.host) == 253, "*. and a 252-character domain");
		rc_format_pattern(&p, buf, sizeof buf);
		is_str(buf, in, "  formats back");
		name[252] = 'b';
		snprintf(in, sizeof in, "*.%s", name);
		ok(pat(in, &p, err, sizeof err) == -1, "*. and a 253-character domain does not fit");
		memset(in, 'a', 350);
		in[350] = '\0';
		ok(pat(in, &p, err, sizeof err) == -1 && strstr(err, "longer than 300"), "a 350-character pattern");
	}
	rc_format_pattern(&p, buf, 4);
	ok(strlen(buf) <= 3, "format truncates to the buffer");
}

static void test_match(void)
{
	rc_config *c;
	uint8_t a4[4], a6[16];
	const char *n1[1];

#define V4(s)  (inet_pton(AF_INET, s, a4), a4)
#define V6(s)  (inet_pton(AF_INET6, s, a6), a6)
#define M4(s, port)        rc_match(c, AF_INET, V4(s), port, NULL, 0)
#define M6(s, port)        rc_match(c, AF_INET6, V6(s), port, NULL, 0)
#define MN(s, port, name)  (n1[0] = name, rc_match(c, AF_INET, V4(s), port, n1, 1))

	c = good("[first]\nmatch = 10.0.0.0/8:5432\n"
		 "[v4]\nmatch = 192.0.2.7, 10.1.0.0/16, 172.16.16.0/20\n"
		 "[v6]\nmatch = [2001:db8::/32]:443, [2001:db8:1::1], [2001:db8:8000::/33]:80\n"
		 "[any4]\nmatch = 0.0.0.0/0:9999\n"
		 "[any6]\nmatch = [::/0]:9998\n"
		 "[names]\nmatch = api.example.com:443, *.svc.example.com, db.example.com:*\n"
		 "[host32]\nmatch = 198.51.100.1/32:80\n", "matching config");
	if (!c)
		return;
	is_int(M4("10.1.2.3", 5432), 0, "first breaker in file order wins");
	is_int(M4("10.1.2.3", 80), 1, "the next one when the port differs");
	is_int(M4("10.2.0.0", 80), -1, "no match");
	is_int(M4("10.2.0.0", 5432), 0, "/8 with port");
	is_int(M4("192.0.2.7", 1), 1, "single IPv4, any port");
	is_int(M4("192.0.2.8", 1), -1, "neighbour IPv4");
	is_int(M4("10.1.255.255", 7), 1, "/16 top");
	is_int(M4("10.0.255.255", 7), -1, "/16 below");
	is_int(M4("10.2.0.0", 7), -1, "/16 above");
	is_int(M4("172.16.16.0", 7), 1, "/20 bottom");
	is_int(M4("172.16.31.255", 7), 1, "/20 top");
	is_int(M4("172.16.15.255", 7), -1, "/20 below");
	is_int(M4("172.16.32.0", 7), -1, "/20 above");
	is_int(M4("198.51.100.1", 80), 6, "/32 exact");
	is_int(M4("198.51.100.0", 80), -1, "/32 minus one");
	is_int(M4("198.51.100.2", 80), -1, "/32 plus one");
	is_int(M4("198.51.100.1", 81), -1, "/32 other port");
	is_int(M4("203.0.113.5", 9999), 3, "0.0.0.0/0 matches any IPv4");
	is_int(M4("255.255.255.255", 9999), 3, "0.0.0.0/0 top");

	is_int(M6("::ffff:192.0.2.7", 1), 1, "v4-mapped matches as IPv4");
	is_int(M6("::ffff:10.1.2.3", 5432), 0, "v4-mapped, first wins");
	is_int(M6("::ffff:203.0.113.5", 9999), 3, "v4-mapped and 0.0.0.0/0");
	is_int(M6("::ffff:203.0.113.5", 9998), -1, "v4-mapped is not matched by [::/0]");
	is_int(M6("::192.0.2.7", 1), -1, "v4-compatible (::a.b.c.d) is not v4-mapped");
	is_int(M6("2001:db8:ffff::1", 443), 2, "IPv6 /32 with port");
	is_int(M6("2001:db8:7fff::1", 80), -1, "IPv6 /32, other port");
	is_int(M6("2001:db9::1", 443), -1, "outside /32");
	is_int(M6("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 443), -1, "just below /32");
	is_int(M6("2001:db8:1::1", 80), 2, "/128 exact, any port");
	is_int(M6("2001:db8:1::2", 80), -1, "/128 plus one");
	is_int(M6("2001:db8:1::", 80), -1, "/128 minus one");
	is_int(M6("2001:db8:8000::", 80), 2, "/33 bottom");
	is_int(M6("2001:db8:ffff:ffff::", 80), 2, "/33 top");
	is_int(M6("2001:db8:7fff:ffff::", 80), -1, "/33 below");
	is_int(M6("fe80::1", 9998), 4, "[::/0] matches any IPv6");
	is_int(M6("fe80::1", 9999), -1, "0.0.0.0/0 does not match IPv6");

	is_int(MN("203.0.113.9", 443, "api.example.com"), 5, "name, exact, port");
	is_int(MN("203.0.113.9", 443, "API.Example.COM."), 5, "name, case and trailing dot");
	is_int(MN("203.0.113.9", 80, "api.example.com"), -1, "name, other port");
	is_int(MN("203.0.113.9", 80, "x.svc.example.com"), 5, "wildcard, one label");
	is_int(MN("203.0.113.9", 80, "a.b.SVC.example.com."), 5, "wildcard, two labels, case, dot");
	is_int(MN("203.0.113.9", 80, "svc.example.com"), -1, "wildcard does not match the bare domain");
	is_int(MN("203.0.113.9", 80, "svc.example.com."), -1, "  nor with a trailing dot");
	is_int(MN("203.0.113.9", 80, "xsvc.example.com"), -1, "wildcard respects label boundaries");
	is_int(MN("203.0.113.9", 80, "example.com"), -1, "unrelated name");
	is_int(MN("203.0.113.9", 1, "db.example.com"), 5, "name with port *");
	is_int(MN("203.0.113.9", 1, ""), -1, "empty name");
	is_int(MN("10.1.2.3", 5432, "api.example.com"), 0, "an address match in an earlier breaker wins");
	{
		const char *two[2] = { "other.example.net", "api.example.com" };

		is_int(rc_match(c, AF_INET, V4("203.0.113.9"), 443, two, 2), 5, "the second of two names");
		is_int(rc_match(c, AF_INET, V4("203.0.113.9"), 443, two, 1), -1, "nnames is respected");
		is_int(rc_match(c, AF_INET, V4("203.0.113.9"), 443, NULL, 2), -1, "names NULL");
		is_int(rc_match(c, AF_INET6, V6("2001:db8:ffff::9"), 443, two + 1, 1), 2,
		       "IPv6: the address breaker comes first");
		is_int(rc_match(c, AF_INET6, V6("fd00::9"), 443, two + 1, 1), 5, "IPv6 by name");
	}
	is_int(rc_match(c, AF_UNIX, V4("10.1.2.3"), 5432, NULL, 0), -1, "AF_UNIX is never matched");
	is_int(rc_match(c, AF_INET, NULL, 5432, NULL, 0), -1, "NULL address");
	is_int(rc_match(NULL, AF_INET, V4("10.1.2.3"), 5432, NULL, 0), -1, "NULL config");

	ok(rc_match_any_name(c, "api.example.com"), "any_name: exact");
	ok(rc_match_any_name(c, "API.EXAMPLE.COM."), "any_name: case, dot");
	ok(rc_match_any_name(c, "x.svc.example.com"), "any_name: wildcard");
	ok(!rc_match_any_name(c, "svc.example.com"), "any_name: not the bare domain");
	ok(!rc_match_any_name(c, "example.com"), "any_name: unrelated");
	ok(!rc_match_any_name(c, ""), "any_name: empty");
	ok(!rc_match_any_name(c, NULL) && !rc_match_any_name(NULL, "x"), "any_name: NULLs");
	rc_config_free(c);

	/* a name breaker before an address breaker */
	c = good("[byname]\nmatch = db.example.com\n[byip]\nmatch = 10.9.9.9\n[port0]\nmatch = 10.8.8.8:*\n",
		 "name breaker first");
	if (c) {
		is_int(MN("10.9.9.9", 5432, "db.example.com"), 0, "file order across names and addresses");
		is_int(M4("10.9.9.9", 5432), 1, "without the name");
		is_int(M4("10.8.8.8", 0), 2, "destination port 0 matches an any-port pattern");
		is_int(M4("10.8.8.8", 65535), 2, "port 65535");
	}
	rc_config_free(c);
	c = good("[p]\nmatch = 10.8.8.8:80\n", "port pattern");
	if (c)
		is_int(M4("10.8.8.8", 0), -1, "destination port 0 does not match port 80");
	rc_config_free(c);

	{
		rc_pattern p;
		char err[128], hb[RC_HOST_MAX];

		rc_parse_pattern("10.0.0.0/8", &p, hb, err, sizeof err);
		ok(!rc_pattern_match_name(&p, "10.0.0.1"), "match_name: address patterns never match names");
		rc_parse_pattern("*.example.com", &p, hb, err, sizeof err);
		ok(rc_pattern_match_name(&p, "a.example.com") && !rc_pattern_match_name(&p, ".example.com") &&
		   !rc_pattern_match_name(&p, NULL) && !rc_pattern_match_name(NULL, "a.example.com"),
		   "match_name: edges");
	}
#undef V4
#undef V6
#undef M4
#undef M6
#undef MN
}

/* conf/recloser.ini: parses, documents every key of keys.def with its
 * default, and its commented defaults are the built-in ones. */
static void test_reference(const char *argv0)
{
	char path[4096], *dir, *text = NULL, *alt, *q;
	const char *tries[3];
	rc_config *c = NULL, *d;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s", argv0);
	dir = dirname(path);
	{
		static char p1[4200];

		snprintf(p1, sizeof p1, "%s/../../conf/recloser.ini", dir);
		tries[0] = p1;
	}
	tries[1] = "conf/recloser.ini";
	tries[2] = "../conf/recloser.ini";
	for (int i = 0; i < 3 && !c; i++)
		if (access(tries[i], R_OK) == 0) {
			c = rc_config_load(tries[i], E, sizeof E);
			ok(c != NULL, "%s parses cleanly", tries[i]);
			if (!c)
				diag_E();
			f = fopen(tries[i], "r");
			fseek(f, 0, SEEK_END);
			n = ftell(f);
			rewind(f);
			text = calloc(1, (size_t)n + 1);
			if (fread(text, 1, (size_t)n, f) != (size_t)n)
				n = 0;
			fclose(f);
			break;
		}
	if (!text) {
		ok(0, "conf/recloser.ini found");
		return;
	}
	ok(c && c->nbreakers >= 2, "it has example breakers");

	/* every key, documented once as ";key = default" */
	for (int i = 0; i < NKEYS; i++) {
		char want[256];
		int count = 0, exact = 0;

		for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			size_t kl = strlen(kd[i].name);
			const char *v;
			size_t vl;

			if (l[0] != ';' || strncmp(l + 1, kd[i].name, kl) || (l[1 + kl] != ' ' && l[1 + kl] != '='))
				continue;
			v = l + 1 + kl;
			while (*v == ' ')
				v++;
			if (*v != '=')
				continue;
			count++;
			v++;
			while (*v == ' ')
				v++;
			vl = strcspn(v, "\n");
			while (vl && v[vl - 1] == ' ')
				vl--;
			snprintf(want, sizeof want, "%.*s", (int)vl, v);
			exact = !strcmp(want, kd[i].dflt);
		}
		ok(count == 1 && exact, "reference documents ;%s = %s", kd[i].name, kd[i].dflt);
	}

	/* uncomment every ";key = default": the same configuration */
	alt = strdup(text);
	for (q = alt; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL)
		for (int i = 0; i < NKEYS; i++) {
			size_t kl = strlen(kd[i].name);

			if (q[0] == ';' && !strncmp(q + 1, kd[i].name, kl) && (q[1 + kl] == ' ' || q[1 + kl] == '='))
				memmove(q, q + 1, strlen(q)); /* not ' ': indented = continuation */
		}
	d = rc_config_load_string(alt, "uncommented", E, sizeof E);
	ok(d != NULL, "with every default uncommented it still parses");
	if (!d)
		diag_E();
	if (c && d) {
		int same = same_globals(c, d) && c->nbreakers == d->nbreakers;

		for (unsigned i = 0; same && i < c->nbreakers; i++)
			same = same_breaker(&c->breakers[i], &d->breakers[i]) &&
			       c->breakers[i].npats == d->breakers[i].npats;
		ok(same, "and means the same: the documented defaults are the real ones");
	}
	rc_config_free(d);
	rc_config_free(c);
	free(alt);
	free(text);
}

/* What a loaded config keeps, compactly (make bench: memory with 4,096
 * breakers): one array of patterns in file order, each breaker's run in
 * it; names and host names in the config's pool; a set of statuses kept
 * once however many breakers have it. */
static void test_layout(void)
{
	const char *text =
		"[global]\nhttp_failure_status = 502-504\n"
		"[a]\nmatch = 10.0.0.1, api.example.com, *.svc.example.com\n"
		"[b]\nmatch = 10.0.0.2\nmatch = [2001:db8::1]:443\n"
		"[c]\nmatch = db.example.com:5432\nhttp_failure_status = 500-599\n"
		"[d]\nmatch = 10.0.0.3\n";
	rc_config *c = rc_config_load_string(text, "t.ini", E, sizeof E);
	ok(c && c->nbreakers == 4, "layout: loads");
	if (!c) {
		printf("#   %s\n", E);
		return;
	}
	const rc_breaker_cfg *b = c->breakers;
	ok(c->pats && b[0].pats == c->pats && b[1].pats == c->pats + 3 && b[2].pats == c->pats + 5 &&
	   b[3].pats == c->pats + 6, "layout: one array of patterns, each breaker's run in file order");
	ok(b[0].npats == 3 && !strcmp(b[0].pats[1].host, "api.example.com") &&
	   !strcmp(b[0].pats[2].host, ".svc.example.com") && !strcmp(b[2].pats[0].host, "db.example.com") &&
	   b[1].pats[1].port == 443 && !strcmp(b[0].name, "a") && !strcmp(b[3].name, "d"),
	   "layout: names and host names kept with the config");
	ok(b[0].http_failure_status == b[1].http_failure_status &&
	   b[1].http_failure_status == b[3].http_failure_status &&
	   b[2].http_failure_status != b[0].http_failure_status &&
	   rc_status_in(b[0].http_failure_status, 503) && !rc_status_in(b[0].http_failure_status, 500) &&
	   rc_status_in(b[2].http_failure_status, 500),
	   "layout: a set of statuses is kept once for every breaker that has it");
	uint8_t a4[4] = { 10, 0, 0, 2 };
	int before = rc_match(c, AF_INET, a4, 80, NULL, 0);
	const char *nm[] = { "x.svc.example.com" };
	int before_n = rc_match(c, AF_INET, (uint8_t[4]){ 192, 0, 2, 9 }, 443, nm, 1);
	rc_config_drop_patterns(c);
	ok(!c->pats && !b[0].pats && !b[0].npats && !b[3].pats && c->index,
	   "drop_patterns: the patterns go, the index stays");
	ok(before == 1 && rc_match(c, AF_INET, a4, 80, NULL, 0) == 1 && before_n == 0 &&
	   rc_match(c, AF_INET, (uint8_t[4]){ 192, 0, 2, 9 }, 443, nm, 1) == 0,
	   "...and matching through the index answers as before (b by address, a by wildcard)");
	rc_config_free(c);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_errors();
	test_durations();
	test_values();
	test_defaults();
	test_long_lines();
	test_multiline();
	test_patterns();
	test_match();
	test_layout();
	test_reference(argv[0]);
	rc_config_free(NULL);
	return done_testing();
}
