/* dashview.c - the parts of a breaker's view (dashdata_breaker) that
 * come from files rather than from the state file: where each setting
 * comes from in the config's text, and the breaker's recent lines of the
 * log; and the JSON string escaping every document of the dashboard uses
 * (see dashview.h). */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/dashview.h"
#include "core/config.h"

#define LOG_TAIL   (256 * 1024)
#define LOG_LINES  100

static const struct { const char *name, *dflt; } bkeys[] = {
#define RC_BREAKER(n, t, d, ...) { #n, d },
#include "core/keys.def"
};
#define NKEYS (sizeof bkeys / sizeof bkeys[0])

/* ---- JSON ---- */

void dashview_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
			(c & 0xf8) == 0xf0 ? 3 : -1;

		if (n > 0) {        /* a UTF-8 sequence, copied whole if it is one */
			int k = 1;
			while (k <= n && (p[k] & 0xc0) == 0x80)
				k++;
			if (k > n && !(c == 0xc0 || c == 0xc1 || c > 0xf4)) {
				fwrite(p, 1, (size_t)n + 1, f);
				p += n + 1;
				continue;
			}
			n = -1;
		}
		if (n < 0)
			fputs("\\ufffd", f);
		else if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc((int)c, f);
		p++;
	}
}

void dashview_jstr(FILE *f, const char *s)
{
	fputc('"', f);
	dashview_json_str(f, s ? s : "");
	fputc('"', f);
}

/* ---- settings ---- */

struct settings {
	const char *name;
	char       *val[NKEYS], *gval[NKEYS];
	char       *match;
};

static int key_index(const char *key)
{
	for (size_t k = 0; k < NKEYS; k++)
		if (strcasecmp(key, bkeys[k].name) == 0)
			return (int)k;
	return -1;
}

static void set_val(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
}

static int on_section_kv(void *user, const char *section, const char *key, const char *value)
{
	struct settings *S = user;
	int k;

	if (!section || strcmp(section, S->name) != 0)
		return 1;
	if (strcasecmp(key, "match") == 0) {
		char *m = NULL;
		if (asprintf(&m, "%s%s%s", S->match ? S->match : "", S->match ? ", " : "",
			     value) >= 0) {
			free(S->match);
			S->match = m;
		}
	} else if ((k = key_index(key)) >= 0) {
		set_val(&S->val[k], value);
	}
	return 1;
}

static void on_global_kv(void *user, const char *key, const char *value)
{
	struct settings *S = user;
	int k = key_index(key);

	if (k >= 0)
		set_val(&S->gval[k], value);
}

void dashview_settings(FILE *f, const char *text, const char *name)
{
	struct settings S;

	memset(&S, 0, sizeof S);
	S.name = name;
	if (text) {
		rc_config_peek_global(text, on_global_kv, &S);  /* tunes inih too */
		ini_parse_string(text, on_section_kv, &S);
	}
	fputs(", \"settings\": [{\"key\": \"match\", \"value\": ", f);
	dashview_jstr(f, S.match);
	fputs(", \"from\": \"section\"}", f);
	for (size_t k = 0; k < NKEYS; k++) {
		const char *from = S.val[k] ? "section" : S.gval[k] ? "global" : "default";
		const char *v = S.val[k] ? S.val[k] : S.gval[k] ? S.gval[k] : bkeys[k].dflt;

		fputs(",\n  {\"key\": ", f);
		dashview_jstr(f, bkeys[k].name);
		fputs(", \"value\": ", f);
		dashview_jstr(f, v);
		fprintf(f, ", \"from\": \"%s\"}", from);
		free(S.val[k]);
		free(S.gval[k]);
	}
	fputc(']', f);
	free(S.match);
}

/* ---- the log ---- */

char *dashview_log_tail(const char *path)
{
	char *out = NULL;

	if (!path)
		return NULL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t from = st.st_size > LOG_TAIL ? st.st_size - LOG_TAIL : 0;
		char *buf = malloc(LOG_TAIL + 1);
		ssize_t n = buf ? pread(fd, buf, LOG_TAIL, from) : -1;

		if (n >= 0) {
			buf[n] = '\0';
			char *start = buf;
			if (from > 0 && (start = strchr(buf, '\n')))
				start++;
			out = strdup(start ? start : "");
		}
		free(buf);
	}
	close(fd);
	return out;
}

/* Does LINE (LEN bytes) have the word W (" breaker=NAME", ...)? */
static int has_word(const char *line, size_t len, const char *w)
{
	size_t wl = strlen(w);

	for (const char *p = line; (p = memmem(p, len - (size_t)(p - line), w, wl)); p++)
		if (p + wl == line + len || p[wl] == ' ')
			return 1;
	return 0;
}

void dashview_log_lines(FILE *f, const char *t, const char *name)
{
	const char *starts[LOG_LINES];
	size_t lens[LOG_LINES];
	unsigned n = 0;
	char bw[RC_NAME_MAX + 16];

	snprintf(bw, sizeof bw, " breaker=%s", name);
	for (const char *l = t; l && *l; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if ((has_word(l, len, " event=transition") || has_word(l, len, " event=reject")) &&
		    has_word(l, len, bw)) {
			if (n == LOG_LINES) {
				memmove(starts, starts + 1, sizeof starts - sizeof *starts);
				memmove(lens, lens + 1, sizeof lens - sizeof *lens);
				n--;
			}
			starts[n] = l;
			lens[n++] = len;
		}
		l = nl ? nl + 1 : l + len;
	}
	fputs(", \"log\": [", f);
	for (unsigned i = 0; i < n; i++) {
		char *one = strndup(starts[i], lens[i]);
		fputs(i ? ",\n  " : "\n  ", f);
		dashview_jstr(f, one);
		free(one);
	}
	fputc(']', f);
}
