/* config.c - the recloser INI file into a config: read, parse, validate.
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
 * The values are parsed by value.c and the patterns by pattern.c (their
 * choices are stated there).  Choices the SPEC leaves open (also stated in
 * conf/recloser.ini):
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
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/hash.h"
#include "core/sys.h"
#include "core/index.h"
#include "core/pattern.h"
#include "core/scratch.h"
#include "core/value.h"

#define FILE_MAX        (16u << 20)            /* bytes in a config file */
#define NAMES_TAB       (2u * RC_MAX_BREAKERS) /* the parser's section names, hashed */
#define DERIVED         UINT64_MAX             /* "computed in finish()" */
#define PATS_MAX        4096                   /* patterns per breaker */
#define ERRS_MAX        1000                   /* problems kept */
#define SETS_MAX        16                     /* distinct status sets shared */
#define SHOW_MAX        60                     /* value characters quoted */
#define MSG_MAX         512

/* ---- the keys, expanded from keys.def ---- */

enum key_id {
#define RC_GLOBAL(n, t, d, ...)  K_##n,
#define RC_BREAKER(n, t, d, ...) K_##n,
#include "core/keys.def"
	K_COUNT
};
_Static_assert(K_COUNT <= 64, "sets of keys are 64-bit masks");

struct key {
	const char        *name;
	enum rc_value_type type;
	bool               global;  /* only in [global] */
	const char        *dflt;    /* "" = derived, see finish() */
	size_t             off;     /* in rc_config (global) or rc_breaker_cfg */
	size_t             size;
	bool               has_min, has_max;
	uint64_t           min, max;  /* keys.def's bounds (DURATION: ms) */
};

/* A bound of keys.def: given (not empty), and its value. */
#define HAS_BOUND(x) (sizeof(#x) > 1)
#define BOUND(x)     (x + 0ull)
#define BOUNDS(mn, mx) HAS_BOUND(mn), HAS_BOUND(mx), BOUND(mn), BOUND(mx)

static const struct key keys[K_COUNT] = {
#define RC_GLOBAL(n, t, d, mn, mx) \
	[K_##n] = { #n, RC_VALUE_##t, true, d, offsetof(rc_config, n), \
		    sizeof(RC_CTYPE_##t), BOUNDS(mn, mx) },
#define RC_BREAKER(n, t, d, mn, mx) \
	[K_##n] = { #n, RC_VALUE_##t, false, d, offsetof(rc_breaker_cfg, n), \
		    sizeof(RC_CTYPE_##t), BOUNDS(mn, mx) },
#include "core/keys.def"
};

/* Bounds only where check_key() can read them, and not crossed. */
#define CHECK_BOUNDS(n, t, mn, mx) \
	_Static_assert((!HAS_BOUND(mn) && !HAS_BOUND(mx)) || \
		       RC_VALUE_##t == RC_VALUE_DURATION || \
		       RC_VALUE_##t == RC_VALUE_UINT || \
		       RC_VALUE_##t == RC_VALUE_PERCENT, \
		       "keys.def: bounds on " #n ", not DURATION, UINT or PERCENT"); \
	_Static_assert(!HAS_BOUND(mn) || !HAS_BOUND(mx) || BOUND(mn) <= BOUND(mx), \
		       "keys.def: the bounds of " #n " cross");
#define RC_GLOBAL(n, t, d, mn, mx)  CHECK_BOUNDS(n, t, mn, mx)
#define RC_BREAKER(n, t, d, mn, mx) CHECK_BOUNDS(n, t, mn, mx)
#include "core/keys.def"

#define BIT(k) (1ull << (k))

/* ---- small helpers ---- */

/* V itself, or its first SHOW_MAX characters and "..." in BUF. */
static const char *show(const char *v, char *buf, size_t len)
{
	if (strlen(v) <= SHOW_MAX)
		return v;
	snprintf(buf, len, "%.*s...", SHOW_MAX, v);
	return buf;
}

/* Bound X of key K as the value would be written ("16", "10ms"). */
static void format_bound(const struct key *k, uint64_t x, char *buf, size_t len)
{
	if (k->type == RC_VALUE_DURATION)
		rc_format_duration(x, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)x);
}

/* Bounds of single keys beyond their type, from keys.def: return 0 if the
 * value at V (the key's C type) is within them, else -1 with a message. */
static int check_key(enum key_id k, const void *v, char *err, size_t errlen)
{
	const struct key *key = &keys[k];
	char lo[32], hi[32];
	uint64_t x;

	if (!key->has_min && !key->has_max)
		return 0;
	x = key->type == RC_VALUE_DURATION ? *(const uint64_t *)v : *(const uint32_t *)v;
	if ((!key->has_min || x >= key->min) && (!key->has_max || x <= key->max))
		return 0;
	format_bound(key, key->min, lo, sizeof lo);
	format_bound(key, key->max, hi, sizeof hi);
	if (key->has_min && key->has_max)
		return rc_value_fail(err, errlen, "expected %s-%s", lo, hi);
	if (key->has_min)
		return rc_value_fail(err, errlen, "expected at least %s", lo);
	return rc_value_fail(err, errlen, "expected at most %s", hi);
}

/* ---- the parser ---- */

struct problem { int line; unsigned seq; char *msg; };

/* What was set in one section: keys and the lines that set them. */
struct bmeta {
	uint64_t set;
	int      setline[K_COUNT];
	bool     has_match;
	size_t   pat0;     /* its first pattern in the parser's array */
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
	unsigned       *names;      /* NAMES_TAB: breaker index + 1 by name hash, 0 empty */
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
	rc_pattern     *pats;       /* every breaker's, in file order (add_pattern) */
	size_t          npats, patcap;
	const rc_statusset *sets[SETS_MAX]; /* interned so far (intern_set) */
	unsigned        nsets;
	/* problems */
	struct problem *errs;
	size_t          nerrs, caperrs, dropped;
	bool            oom;
};

/* What a config keeps besides its arrays (breaker names, the patterns'
 * host names, the distinct status sets): chunks that never move, freed
 * with the config. */
#define STRCHUNK 16384
struct rc_strchunk {
	struct rc_strchunk *next;
	size_t used, cap;
	char data[];
};

/* N bytes, 8-aligned, from the config's pool, or NULL. */
static void *pool_alloc(rc_config *c, size_t n)
{
	struct rc_strchunk *k = c->strs;
	size_t at = k ? (k->used + 7) & ~(size_t)7 : 0;
	if (!k || at + n > k->cap) {
		size_t cap = n > STRCHUNK ? n : STRCHUNK;
		if (!(k = malloc(sizeof *k + cap)))
			return NULL;
		k->next = c->strs;
		k->cap = cap;
		c->strs = k;
		at = 0;
	}
	k->used = at + n;
	return k->data + at;
}

/* A copy of S kept in the config's pool, or NULL (out of memory). */
static const char *pool_str(rc_config *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pool_alloc(c, n);
	if (d)
		memcpy(d, s, n);
	return d;
}

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

		if (keys[k].type != RC_VALUE_PATH || (keys[k].global ? !g : !b))
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

	if (keys[k].type == RC_VALUE_PATH) {
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

/* Where section name S (N bytes) starts its probe of P->names. */
static unsigned name_home(const char *s, size_t n)
{
	uint64_t h = rc_fnv1a(RC_FNV_INIT, s, n);
	return (unsigned)((h ^ (h >> 32)) % NAMES_TAB);
}

static bool valid_name(const char *s, size_t n)
{
	if (n < 1 || n >= RC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!rc_value_isalnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
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
	rc_value_trim(&s, &n);
	{ /* no printf here: a 4,096-breaker file has 4,096 of them */
		size_t k = n > SHOW_MAX ? SHOW_MAX : n;
		memcpy(shown, s, k);
		memcpy(shown + k, n > SHOW_MAX ? "..." : "", n > SHOW_MAX ? 4 : 1);
		size_t m = strlen(shown);
		if (m >= sizeof P->cur.name)
			m = sizeof P->cur.name - 1;
		memcpy(P->cur.name, shown, m);
		P->cur.name[m] = '\0';
	}

	if (rc_value_word_eq(s, n, "global")) {
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
	unsigned at = name_home(s, n);
	for (unsigned t; (t = P->names[at]); at = (at + 1) % NAMES_TAB) {
		const rc_breaker_cfg *o = &c->breakers[t - 1];
		if (strlen(o->name) == n && memcmp(o->name, s, n) == 0) {
			perr(P, line, "duplicate section [%s] (first at line %d)",
			     shown, o->line);
			return;
		}
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

		char nm[RC_NAME_MAX];
		memcpy(nm, s, n);
		nm[n] = '\0';
		if (!(b->name = pool_str(c, nm))) {
			P->oom = true;
			return;
		}
		P->names[at] = c->nbreakers + 1;
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

/* SET as kept by the config: one copy per distinct set (a breaker keeps
 * a pointer, not 64 bytes of its own).  NULL: out of memory. */
static const rc_statusset *intern_set(struct parser *P, const rc_statusset *set)
{
	for (unsigned i = 0; i < P->nsets; i++)
		if (!memcmp(P->sets[i], set, sizeof *set))
			return P->sets[i];
	rc_statusset *n = pool_alloc(P->cfg, sizeof *n);
	if (!n)
		return NULL;
	*n = *set;
	if (P->nsets < SETS_MAX)
		P->sets[P->nsets++] = n;
	return n;
}

/* Parse VALUE for key K into DST (its field): rc_value_parse, but a set
 * of statuses is interned. */
static int parse_key(struct parser *P, int k, const char *value, void *dst,
		     char *msg, size_t msglen)
{
	if (keys[k].type != RC_VALUE_STATUSES)
		return rc_value_parse(keys[k].type, value, dst, msg, msglen);
	rc_statusset set;
	if (rc_value_parse(keys[k].type, value, &set, msg, msglen) < 0)
		return -1;
	if (!(*(const rc_statusset **)dst = intern_set(P, &set))) {
		P->oom = true;
		return -1;
	}
	return 0;
}

/* Give each breaker its run of the parse's one array of patterns, cut to
 * the exact size: no array per breaker, nothing freed in between. */
static void pack_patterns(struct parser *P)
{
	rc_config *c = P->cfg;
	rc_pattern *all = P->npats ? realloc(P->pats, P->npats * sizeof *all) : P->pats;
	if (!all)
		all = P->pats;
	P->pats = NULL;
	c->pats = all;
	for (unsigned i = 0; i < c->nbreakers; i++)
		c->breakers[i].pats = c->breakers[i].npats ? all + P->meta[i].pat0 : NULL;
}

/* Pattern P of the current section: kept (in file order, one array for
 * every breaker: a section's patterns are consecutive) for a breaker,
 * only counted in a section that is checked and dropped. */
static void add_pattern(struct parser *P, const rc_pattern *p)
{
	rc_breaker_cfg *b = P->cur.b;
	struct bmeta *m = P->cur.m;

	if (b->npats == PATS_MAX) {
		perr(P, p->line, "too many patterns in [%s]: at most %d",
		     P->cur.name, PATS_MAX);
		return;
	}
	if (b == &P->scratch_b || b == &P->gtmpl) {
		b->npats++;
		return;
	}
	if (!b->npats)
		m->pat0 = P->npats;
	if (P->npats == P->patcap) {
		size_t cap = P->patcap ? P->patcap * 2 : 64;
		rc_pattern *np = realloc(P->pats, cap * sizeof *np);

		if (!np) {
			P->oom = true;
			return;
		}
		P->pats = np;
		P->patcap = cap;
	}
	rc_pattern *q = &P->pats[P->npats];
	*q = *p;
	if (p->kind == RC_PAT_HOST || p->kind == RC_PAT_WILD) {
		if (!(q->host = pool_str(P->cfg, p->host))) {
			P->oom = true;
			return;
		}
	}
	P->npats++;
	b->npats++;
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
		char hostbuf[RC_HOST_MAX];

		rc_value_trim(&item, &n);
		if (!n) {
			if (!comma && s != value) { /* "a.com," */
				P->pending_comma = line;
				P->pending_empty = false;
			} else {
				perr(P, line, "empty pattern in match list");
			}
		} else {
			char it[RC_PATTERN_MAX + 8];

			size_t k = n < sizeof it - 1 ? n : sizeof it - 1;
			memcpy(it, item, k);
			it[k] = '\0';
			if (rc_parse_pattern(it, &p, hostbuf, msg, sizeof msg) < 0) {
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
		if (rc_value_word_eq(name, strlen(name), keys[k].name))
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

	is_match = rc_value_word_eq(name, strlen(name), "match");
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
	if (parse_key(P, k, value, dst, msg, sizeof msg) < 0 ||
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
			if (keys[k].type != RC_VALUE_DURATION)
				perr(P, 0, "internal error: empty default for %s",
				     keys[k].name);
			else
				*(uint64_t *)dst = DERIVED;
		} else if (parse_key(P, k, keys[k].dflt, dst, msg, sizeof msg) < 0 ||
			   check_key((enum key_id)k, dst, msg, sizeof msg) < 0) {
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

/* Let Debian's inih read every line of the LEN bytes of TEXT whole. */
static void tune_inih(const char *text, size_t len)
{
	size_t longest = 0;
	for (size_t i = 0, start = 0; i <= len; i++)
		if (i == len || text[i] == '\n') {
			if (i + 1 - start > longest)
				longest = i + 1 - start;
			start = i + 1;
		}
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

/* Compile C's patterns (core/index.h).  Out of memory, C has none and is
 * matched by scanning. */
static void build_index(rc_config *c)
{
	size_t n = 0;
	for (unsigned i = 0; i < c->nbreakers; i++)
		n += c->breakers[i].npats;
	rc_index *ix = rc_index_new(n);
	for (unsigned i = 0; ix && i < c->nbreakers; i++)
		for (unsigned j = 0; j < c->breakers[i].npats; j++)
			if (rc_index_add(ix, &c->breakers[i].pats[j], i) < 0) {
				rc_index_free(ix);
				ix = NULL;
				break;
			}
	c->index = ix && rc_index_seal(ix) == 0 ? ix : NULL;
}

static rc_config *load_text(const char *text, size_t len, const char *file,
			    char *err, size_t errlen)
{
	struct parser P;
	const char *nul;
	int rc;

	memset(&P, 0, sizeof P);
	P.file = file;
	P.text = text;
	P.len = len;
	P.cfg = calloc(1, sizeof *P.cfg);
	P.meta = rc_scratch_alloc(RC_MAX_BREAKERS * sizeof *P.meta); /* zero pages */
	P.names = rc_scratch_alloc(NAMES_TAB * sizeof *P.names);
	if (!P.cfg || !P.meta || !P.names ||
	    !(P.cfg->path = strdup(file)) ||
	    !(P.cfg->breakers = calloc(RC_MAX_BREAKERS, sizeof *P.cfg->breakers))) {
		P.oom = true;
		goto out;
	}
	load_defaults(&P);

	if (len > FILE_MAX) {
		perr(&P, 0, "file too large (over 16 MiB)");
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
	tune_inih(text, len);
	{ /* patterns are at most one per comma or line: reserve that much
	   * (pages never written cost nothing), and cut it to size after,
	   * rather than double an array and leave each old one in the heap */
		size_t bound = 1;
		for (size_t i = 0; i < len; i++)
			bound += text[i] == ',' || text[i] == '\n';
		if ((P.pats = malloc(bound * sizeof *P.pats)))
			P.patcap = bound;
	}

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
	if (!P.nerrs && !P.dropped && !P.oom)
		pack_patterns(&P);
	free(P.pats);
	rc_scratch_free(P.meta, RC_MAX_BREAKERS * sizeof *P.meta);
	rc_scratch_free(P.names, NAMES_TAB * sizeof *P.names);
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
	build_index(P.cfg);
	if (P.cfg->nbreakers < RC_MAX_BREAKERS) {
		rc_breaker_cfg *b = realloc(P.cfg->breakers,
					    (P.cfg->nbreakers ? P.cfg->nbreakers : 1) *
					    sizeof *b);
		if (b)
			P.cfg->breakers = b;
	}
	return P.cfg;
}

/* Grow BUF (CAP bytes, N used) to NCAP: realloc, or (MAPPED) a new
 * mapping.  NULL: out of memory, BUF untouched. */
static char *grow(char *buf, size_t cap, size_t n, size_t ncap, int mapped)
{
	if (!mapped)
		return buf ? realloc(buf, ncap) : malloc(ncap);
	char *nb = rc_scratch_alloc(ncap);
	if (nb && buf) {
		memcpy(nb, buf, n);
		rc_scratch_free(buf, cap);
	}
	return nb;
}

/* rc_read_file, into malloc'd memory or (MAPPED) a mapping of *CAPP
 * bytes. */
static int read_text(const char *path, char **text, size_t *len, size_t *capp, int mapped)
{
	/* O_NONBLOCK: a FIFO or a device at the path must not block the
	 * host program's start; only a regular file is read. */
	int fd = rc_sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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
	/* the size it has now, and room to see it end: one buffer, not a
	 * string of doublings that would leave their holes in the heap */
	if (st.st_size > 0 && (uint64_t)st.st_size <= FILE_MAX)
		cap = (size_t)st.st_size + 2;
	if (!(buf = grow(NULL, 0, 0, cap, mapped)))
		goto fail;
	for (;;) {
		ssize_t r;

		if (n + 1 == cap) {
			char *nb;

			if (cap > FILE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			if (!(nb = grow(buf, cap, n, cap * 2, mapped)))
				goto fail;
			buf = nb;
			cap *= 2;
		}
		r = rc_sys_read(fd, buf + n, cap - 1 - n);
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
	rc_sys_close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	*capp = cap;
	return 0;
fail:
	e = errno;
	if (mapped)
		rc_scratch_free(buf, cap);
	else
		free(buf);
	rc_sys_close(fd);
	errno = e;
	return -1;
}

int rc_read_file(const char *path, char **text, size_t *len)
{
	size_t cap;
	return read_text(path, text, len, &cap, 0);
}

rc_config *rc_config_load(const char *path, char *err, size_t errlen)
{
	int saved = errno;
	char *text;
	size_t len, cap;
	rc_config *c;

	if (!path)
		path = "(null)";
	if (read_text(path, &text, &len, &cap, 1) < 0) {
		char eb[128];
		const char *why = errno == EFBIG ? "file too large (over 16 MiB)"
			: strerror_r(errno, eb, sizeof eb);

		if (err && errlen)
			snprintf(err, errlen, "%s:0: cannot read: %s", path, why);
		errno = saved;
		return NULL;
	}
	c = load_text(text, len, path, err, errlen);
	rc_scratch_free(text, cap);
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

void rc_config_drop_patterns(rc_config *c)
{
	if (!c || !c->index || c->image) /* an image's have gone (and it is read-only) */
		return;
	for (unsigned i = 0; i < c->nbreakers; i++) {
		c->breakers[i].pats = NULL;
		c->breakers[i].npats = 0;
	}
	free(c->pats);
	c->pats = NULL;
}

void rc_config_free(rc_config *c)
{
	if (!c)
		return;
	free_fields(c, NULL); /* a breaker has no PATH value (set_offs) */
	free(c->pats);
	while (c->strs) {
		struct rc_strchunk *k = c->strs;
		c->strs = k->next;
		free(k);
	}
	if (!c->image)
		free(c->breakers);
	free(c->path);
	rc_index_free(c->index);
	if (c->image_own && c->image_free)
		c->image_free(c->image, c->image_len);
	free(c);
}

/* ---- as a config image (core/image.h) ----
 *
 * The block: the rc_config, its breakers, its distinct status sets, its
 * strings (path, PATH values, breaker names) and its index, each part
 * 8-aligned.  Its pointers are those of the block at the address BASE
 * it was written for: where it is found there (a read-only mapping of
 * the image, core/image.c), it is used as it is, without a write; found
 * elsewhere (a copy), each is moved by the difference.  Only a config
 * whose patterns were dropped (the shim's) has one: the index holds
 * them. */

#define IMG_SETS_MAX 64
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

struct img_layout {
	size_t breakers, sets, strs, index, end;   /* offsets of the parts */
	size_t strlen_sum, index_len;
	const rc_statusset *set[IMG_SETS_MAX];
	unsigned nsets;
};

/* The keys whose values are pointers: of [global], PATH values (as K_
 * numbers); of a breaker, status sets (their offsets: keys.def has no
 * breaker PATH key). */
#define FOR_PTR_KEYS(k)                                                        \
	for (int k = 0; k < K_COUNT; k++)                                      \
		if (keys[k].global && keys[k].type == RC_VALUE_PATH)
#define SET_OFF_STATUSES(n) offsetof(rc_breaker_cfg, n),
#define SET_OFF_DURATION(n)
#define SET_OFF_UINT(n)
#define SET_OFF_PERCENT(n)
#define SET_OFF_BOOL(n)
#define SET_OFF_MODE(n)
#define SET_OFF_LEVEL(n)
#define SET_OFF_ERRNO(n)
#define SET_OFF_PATH(n) /* none: rc_config_free frees no breaker PATH value */ \
	_Static_assert(0, "keys.def: " #n ": a breaker PATH value needs config.c's care");
static const size_t set_offs[] = {
#define RC_BREAKER(n, t, ...) SET_OFF_##t(n)
#include "core/keys.def"
};
#define NSETKEYS (sizeof set_offs / sizeof set_offs[0])
#define SET_FIELD(b, i) ((const rc_statusset **)(void *)((char *)(b) + set_offs[i]))

static int img_set(struct img_layout *L, const rc_statusset *s)
{
	for (unsigned i = 0; i < L->nsets; i++)
		if (L->set[i] == s)
			return (int)i;
	if (L->nsets == IMG_SETS_MAX)
		return -1;
	L->set[L->nsets] = s;
	return (int)L->nsets++;
}

/* The bytes string S takes in the block. */
static size_t img_str_len(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static int img_layout(const rc_config *c, struct img_layout *L)
{
	memset(L, 0, sizeof *L);
	if (!c->index || c->pats || c->nbreakers > RC_MAX_BREAKERS)
		return -1;
	L->strlen_sum = img_str_len(c->path);
	FOR_PTR_KEYS(k)
		L->strlen_sum += img_str_len(*(char **)field(&keys[k], (rc_config *)c, NULL));
	for (unsigned i = 0; i < c->nbreakers; i++) {
		rc_breaker_cfg *b = &c->breakers[i];
		L->strlen_sum += img_str_len(b->name);
		for (size_t k = 0; k < NSETKEYS; k++)
			if (*SET_FIELD(b, k) && img_set(L, *SET_FIELD(b, k)) < 0)
				return -1;
	}
	L->index_len = rc_index_image_size(c->index);
	if (!L->index_len)
		return -1;
	L->breakers = ALIGN8(sizeof *c);
	L->sets = L->breakers + ALIGN8(c->nbreakers * sizeof *c->breakers);
	L->strs = L->sets + L->nsets * sizeof(rc_statusset);
	L->index = L->strs + ALIGN8(L->strlen_sum);
	L->end = L->index + L->index_len;
	return 0;
}

size_t rc_config_image_size(const rc_config *c)
{
	struct img_layout L;
	return c && img_layout(c, &L) == 0 ? L.end : 0;
}

/* Copy S to the strings at *AT in BLOCK (at BASE in the reader): where
 * it will be, NULL for NULL. */
static char *img_put_str(char *block, uintptr_t base, size_t *at, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1, o = *at;
	memcpy(block + o, s, n);
	*at += n;
	return (char *)(base + o);
}

int rc_config_image_write(const rc_config *c, void *dst, size_t n, uintptr_t base)
{
	struct img_layout L;
	if (!c || img_layout(c, &L) < 0 || n != L.end)
		return -1;
	char *block = dst;
	memset(block, 0, n);
	size_t at = L.strs;
	rc_config *g = (rc_config *)block;
	*g = *c;
	g->path = img_put_str(block, base, &at, c->path);
	FOR_PTR_KEYS(k) {
		char **f = field(&keys[k], g, NULL);
		*f = img_put_str(block, base, &at, *f);
	}
	g->breakers = (rc_breaker_cfg *)(base + L.breakers);
	g->pats = NULL;
	g->strs = NULL;
	g->index = (rc_index *)(base + L.index);
	g->image = NULL;
	g->image_len = 0;
	g->image_own = 0;
	g->image_free = NULL;
	for (unsigned i = 0; i < L.nsets; i++)
		memcpy(block + L.sets + i * sizeof(rc_statusset), L.set[i], sizeof(rc_statusset));
	for (unsigned i = 0; i < c->nbreakers; i++) {
		rc_breaker_cfg *b = (rc_breaker_cfg *)(block + L.breakers) + i;
		*b = c->breakers[i];
		b->name = img_put_str(block, base, &at, b->name);
		b->pats = NULL;
		b->npats = 0;
		for (size_t k = 0; k < NSETKEYS; k++) {
			const rc_statusset **f = SET_FIELD(b, k);
			if (*f)
				*f = (const rc_statusset *)(base + L.sets + (size_t)img_set(&L, *f) *
							    sizeof(rc_statusset));
		}
	}
	rc_index_image_write(c->index, block + L.index, base + L.index);
	return 0;
}

/* Pointer *P of a block written for BASE, found at BASE + D: 0 if it is
 * NULL or its offset is in [LO, HI) (moved by D, unless D is 0: the
 * block may be read-only), else -1. */
static int img_ptr(void *p, uintptr_t base, uintptr_t d, size_t lo, size_t hi)
{
	uintptr_t v;
	memcpy(&v, p, sizeof v);
	if (!v)
		return 0;
	if (v - base < lo || v - base >= hi)
		return -1;
	if (d) {
		v += d;
		memcpy(p, &v, sizeof v);
	}
	return 0;
}

rc_config *rc_config_image_open(void *src, size_t n, uintptr_t base, int sealed)
{
	char *block = src;
	rc_config *g = src, *c;
	uintptr_t d = (uintptr_t)src - base;
	if (n < sizeof *g || g->nbreakers > RC_MAX_BREAKERS || !(c = calloc(1, sizeof *c)))
		return NULL;
	*c = *g; /* its scalars; its pointers are set below */
	c->path = NULL;
	FOR_PTR_KEYS(k)
		*(char **)field(&keys[k], c, NULL) = NULL;
	c->pats = NULL;
	c->strs = NULL;
	c->image = NULL;
	c->image_len = 0;
	c->image_own = 0;
	c->image_free = NULL;
	size_t brk = (uintptr_t)g->breakers - base, ixo = (uintptr_t)g->index - base;
	size_t sets = brk + ALIGN8(g->nbreakers * sizeof *g->breakers), nsets = 0;
	c->breakers = (rc_breaker_cfg *)(block + brk);
	c->index = NULL;
	if (brk != ALIGN8(sizeof *g) || ixo <= sets || ixo > n || block[ixo - 1] != '\0')
		goto bad;
	/* the sets come first, then the strings, up to the index (sealed in
	 * place: the breakers are not read, [global]'s strings are only
	 * bounded by the sets' start) */
	int look = !sealed || d;
	for (unsigned i = 0; look && i < g->nbreakers; i++)
		for (size_t k = 0; k < NSETKEYS; k++) {
			size_t o = (uintptr_t)*SET_FIELD(&c->breakers[i], k) - base;
			if (*SET_FIELD(&c->breakers[i], k) &&
			    (o < sets || o >= ixo || (o - sets) % sizeof(rc_statusset)))
				goto bad;
			if (*SET_FIELD(&c->breakers[i], k) && (o - sets) / sizeof(rc_statusset) >= nsets)
				nsets = (o - sets) / sizeof(rc_statusset) + 1;
		}
	size_t strs = sets + nsets * sizeof(rc_statusset);
	if (strs >= ixo)
		goto bad;
	/* [global]'s strings are copied: a reload may replace one */
	char *p = g->path;
	if (img_ptr(&p, base, (uintptr_t)block - base, strs, ixo) < 0 ||
	    (p && !(c->path = strdup(p))))
		goto bad;
	FOR_PTR_KEYS(k) {
		p = *(char **)field(&keys[k], g, NULL);
		if (img_ptr(&p, base, (uintptr_t)block - base, strs, ixo) < 0 ||
		    (p && !(*(char **)field(&keys[k], c, NULL) = strdup(p))))
			goto bad;
	}
	for (unsigned i = 0; look && i < g->nbreakers; i++) {
		rc_breaker_cfg *b = &c->breakers[i];
		if (!b->name || b->pats || b->npats || img_ptr(&b->name, base, d, strs, ixo) < 0)
			goto bad;
		for (size_t k = 0; k < NSETKEYS; k++)
			img_ptr(SET_FIELD(b, k), base, d, sets, strs);
	}
	if (!(c->index = rc_index_image_open(block + ixo, n - ixo, base + ixo)))
		goto bad;
	c->image = src; /* the caller's, unless it says otherwise */
	c->image_len = n;
	return c;
bad:
	c->breakers = NULL;
	c->nbreakers = 0;
	rc_config_free(c); /* what was copied out; the block stays the caller's */
	return NULL;
}

struct peek {
	rc_global_fn fn;
	void        *user;
};

static int on_peek(void *user, const char *section, const char *name, const char *value)
{
	struct peek *pk = user;

	if (rc_value_ncaseeq(section, "global", 7))
		pk->fn(pk->user, name, value);
	return 1;
}

int rc_config_peek_global(const char *text, rc_global_fn fn, void *user)
{
	struct peek pk = { fn, user };
	int saved = errno;

	if (!text || !fn)
		return -1;
	tune_inih(text, strlen(text)); /* long lines reach the handler whole */
	ini_parse_string(text, on_peek, &pk);
	errno = saved;
	return 0;
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
