/* add.c - `recloser add NAME PATTERN... [KEY=VALUE...]`.
 *
 * Appends a breaker section to the config with every breaker key of
 * keys.def spelled out: the value given as KEY=VALUE, else the effective
 * default (the value [global] sets, as written there, else the built-in
 * default).  The would-be file (the existing text, untouched, and the new
 * section) is parsed with the shim's own parser first; any problem is
 * reported as FILE:LINE: message and nothing changes.  The file is then
 * replaced atomically (cli_write_atomic).
 *
 * With no PATTERN and a terminal on stdin and stdout it asks for the
 * patterns and every setting not given, offering the default; each answer
 * is checked by the parser before the next question.  A file that changed
 * since it was read (say, during the questions) is left alone. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "cli/views.h"
#include "core/config.h"

/* The breaker keys, in keys.def order, with their built-in defaults. */
static const struct bkey {
	const char *name;
	const char *dflt;
} bkeys[] = {
#define RC_BREAKER(n, t, d, ...) { #n, d },
#include "core/keys.def"
};
#define NKEYS (sizeof bkeys / sizeof bkeys[0])

struct add {
	const char *path;
	const char *name;
	char       *text;           /* the file as it is ("" when new) */
	size_t      len;
	char       *gval[NKEYS];    /* breaker keys set in [global], as written */
	char       *val[NKEYS];     /* values given or answered; NULL = default */
	char      **extra;          /* KEY=VALUE args that name no breaker key */
	size_t      nextra;
	char       *pats;           /* "p1, p2, ..." or NULL */
	struct stat st;             /* of the file when read (st_ino 0: none) */
};

static int key_index(const char *name)
{
	for (size_t k = 0; k < NKEYS; k++)
		if (strcasecmp(name, bkeys[k].name) == 0)
			return (int)k;
	return -1;
}

/* The effective default of key K: [global]'s value, else the built-in one. */
static const char *dflt(const struct add *A, size_t k)
{
	return A->gval[k] ? A->gval[k] : bkeys[k].dflt;
}

/* Return the first character of S that cannot go into an INI value
 * unchanged (a control character, or ';' and '#', which start comments),
 * or 0. */
static int bad_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ';' || *s == '#')
			return (unsigned char)*s;
	return 0;
}

static int say_bad_char(FILE *ef, const char *what, const char *s)
{
	int c = bad_char(s);

	if (!c)
		return 0;
	if (c == ';' || c == '#')
		fprintf(ef, "recloser: add: %s '%s' contains '%c', which would start a "
			"comment in the INI file\n", what, s, c);
	else
		fprintf(ef, "recloser: add: %s contains a control character "
			"(0x%02x)\n", what, c);
	return -1;
}

static void append_pats(struct add *A, const char *p)
{
	char *n;

	if (A->pats) {
		if (asprintf(&n, "%s, %s", A->pats, p) < 0)
			n = NULL;
		free(A->pats);
	} else {
		n = strdup(p);
	}
	if (!n) {
		perror("recloser");
		exit(1);
	}
	A->pats = n;
}

/* [global]'s breaker keys, as written (rc_config_peek_global strips
 * comments and spaces; a key set twice keeps its last value). */
static void on_global(void *user, const char *key, const char *value)
{
	struct add *A = user;
	int k;

	if ((k = key_index(key)) < 0)
		return;
	free(A->gval[k]);
	A->gval[k] = strdup(value);
}

/* The new section.  ALL: every key, else only the keys in A->val (the
 * parser applies the defaults to the rest). */
static char *section_text(const struct add *A, int all)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	if (!f) {
		perror("recloser");
		exit(1);
	}
	fprintf(f, "[%s]\n", A->name);
	fprintf(f, "match = %s\n", A->pats ? A->pats : "");
	for (size_t k = 0; k < NKEYS; k++) {
		const char *v = A->val[k] ? A->val[k] : all ? dflt(A, k) : NULL;

		if (!v)
			continue;
		if (!*v && strcmp(bkeys[k].name, "open_duration_max") == 0)
			fputs("; open_duration_max empty: the same as open_duration\n", f);
		fprintf(f, "%s =%s%s\n", bkeys[k].name, *v ? " " : "", v);
	}
	for (size_t i = 0; i < A->nextra; i++) {
		const char *eq = strchr(A->extra[i], '=');

		fprintf(f, "%.*s = %s\n", (int)(eq - A->extra[i]), A->extra[i], eq + 1);
	}
	if (fclose(f) != 0 || !out) {
		perror("recloser");
		exit(1);
	}
	return out;
}

/* The would-be file: the existing text, a newline if it lacks its last
 * one, a blank line, SECTION.  *FIRST is the line SECTION starts on. */
static char *would_be(const struct add *A, const char *section, int *first)
{
	const char *sep = "";
	char *out;
	int line = 1;

	if (A->len) {
		if (A->text[A->len - 1] != '\n')
			sep = "\n\n";
		else if (A->len < 2 || A->text[A->len - 2] != '\n')
			sep = "\n";
	}
	if (asprintf(&out, "%s%s%s", A->text, sep, section) < 0) {
		perror("recloser");
		exit(1);
	}
	for (const char *p = out; p < out + A->len + strlen(sep); p++)
		line += *p == '\n';
	*first = line;
	return out;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Parse the would-be file with SECTION; return the config or NULL with
 * the parser's messages in ERR. */
static rc_config *try_section(const struct add *A, const char *section,
			      char **whole, int *first, char *err, size_t errlen)
{
	char *text = would_be(A, section, first);
	rc_config *c = rc_config_load_string(text, A->path, err, errlen);

	if (whole)
		*whole = text;
	else
		free(text);
	return c;
}

/* Print the parser's messages, each "  line N: message" (interactive). */
static void show_problems(const struct add *A, const char *err)
{
	size_t pl = strlen(A->path);

	for (const char *l = err; *l; ) {
		const char *nl = strchr(l, '\n');
		int n = nl ? (int)(nl - l) : (int)strlen(l);

		if (strncmp(l, A->path, pl) == 0 && l[pl] == ':') {
			const char *num = l + pl + 1, *colon = strchr(num, ':');

			if (colon && colon < l + n) {
				printf("  line %.*s:%.*s\n", (int)(colon - num), num,
				       (int)(l + n - colon - 1), colon + 1);
				goto next;
			}
		}
		printf("  %.*s\n", n, l);
next:
		if (!nl)
			break;
		l = nl + 1;
	}
}

/* Ask QUESTION; return the answer without surrounding blanks (malloc'd),
 * or NULL at end of input. */
static char *ask(const char *question)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	char *s;

	fputs(question, stdout);
	fflush(stdout);
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		putchar('\n');
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
			 line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	memmove(line, s, strlen(s) + 1);
	return line;
}

/* Check the section made of match and the answers so far (the KEY=VALUE
 * arguments, marked in GIVEN, are checked later with the whole).
 * Return 0, else -1 with the parser's messages shown. */
static int check_answers(struct add *A, const int *given)
{
	static char err[8192];
	char *keep[NKEYS], *sec;
	size_t nextra = A->nextra;
	rc_config *c;
	int first;

	for (size_t k = 0; k < NKEYS; k++) {
		keep[k] = A->val[k];
		if (given[k])
			A->val[k] = NULL;
	}
	A->nextra = 0;
	sec = section_text(A, 0);
	c = try_section(A, sec, NULL, &first, err, sizeof err);
	free(sec);
	A->nextra = nextra;
	for (size_t k = 0; k < NKEYS; k++)
		A->val[k] = keep[k];
	if (!c) {
		show_problems(A, err);
		return -1;
	}
	rc_config_free(c);
	return 0;
}

/* The questions.  Return 0 when every answer is in A, 1 when the user
 * gave up (end of input, or "no" at the end). */
static int interactive(struct add *A)
{
	int given[NKEYS];
	char q[512], *ans;

	for (size_t k = 0; k < NKEYS; k++)
		given[k] = A->val[k] != NULL;
	printf("New breaker [%s] in %s.\n"
	       "Enter keeps the value in [brackets]; '-' leaves a value empty.\n\n",
	       A->name, A->path);
	for (;;) {
		ans = ask("match (destination patterns, comma-separated, e.g. "
			  "api.example.com:443, 10.0.0.0/8:5432): ");
		if (!ans)
			return 1;
		if (!*ans) {
			printf("  a breaker needs at least one pattern\n");
			free(ans);
			continue;
		}
		if (say_bad_char(stderr, "pattern", ans) < 0) {
			free(ans);
			continue;
		}
		free(A->pats);
		A->pats = ans;
		if (check_answers(A, given) == 0)
			break;
		free(A->pats);
		A->pats = NULL;
	}
	for (size_t k = 0; k < NKEYS; k++) {
		const char *d = dflt(A, k);

		if (given[k])
			continue;
		snprintf(q, sizeof q, "%s [%s]: ", bkeys[k].name,
			 *d ? d : strcmp(bkeys[k].name, "open_duration_max") == 0
			 ? "same as open_duration" : "empty");
		for (;;) {
			if (!(ans = ask(q)))
				return 1;
			if (say_bad_char(stderr, bkeys[k].name, ans) < 0) {
				free(ans);
				continue;
			}
			if (!*ans) {
				free(ans);
				if (!(ans = strdup(d))) {
					perror("recloser");
					exit(1);
				}
			} else if (strcmp(ans, "-") == 0) {
				ans[0] = '\0';
			}
			A->val[k] = ans;
			if (check_answers(A, given) == 0)
				break;
			free(A->val[k]);
			A->val[k] = NULL;
		}
	}
	char *sec = section_text(A, 1);

	printf("\n%s\n", sec);
	free(sec);
	for (;;) {
		snprintf(q, sizeof q, "Append this to %s? [Y/n] ", A->path);
		if (!(ans = ask(q)))
			return 1;
		if (!*ans || strcasecmp(ans, "y") == 0 || strcasecmp(ans, "yes") == 0) {
			free(ans);
			return 0;
		}
		if (strcasecmp(ans, "n") == 0 || strcasecmp(ans, "no") == 0) {
			free(ans);
			return 1;
		}
		free(ans);
	}
}

/* Did the file change since it was read (another editor, another add)? */
static int changed(const struct add *A)
{
	struct stat now;

	if (stat(A->path, &now) < 0)
		return A->st.st_ino != 0;
	return now.st_ino != A->st.st_ino || now.st_dev != A->st.st_dev ||
	       now.st_size != A->st.st_size ||
	       now.st_mtim.tv_sec != A->st.st_mtim.tv_sec ||
	       now.st_mtim.tv_nsec != A->st.st_mtim.tv_nsec;
}

static const char add_usage[] =
	"add: expected NAME PATTERN... [KEY=VALUE...]";

int cli_add_apply(const char *cfgpath, int argc, char **argv, FILE *out, FILE *ef, int ask)
{
	static char err[16384];
	struct add A;
	rc_config *old, *c;
	int first, rc = 1;

	memset(&A, 0, sizeof A);
	A.path = cfgpath;
	if (argc < 1 || argv[0][0] == '-') {
		if (ask)
			return cli_usage(add_usage);
		fprintf(ef, "recloser: add: a breaker needs a name\n");
		return EXIT_USAGE;
	}
	A.name = argv[0];
	if (say_bad_char(ef, "the name", A.name) < 0)
		return 1;
	A.extra = calloc((size_t)argc, sizeof *A.extra);
	if (!A.extra) {
		fprintf(ef, "recloser: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (say_bad_char(ef, eq ? "the setting" : "the pattern", argv[i]) < 0)
			goto out;
		const char *pat = eq ? eq + 1 : argv[i];

		if (eq && (eq == argv[i] || argv[i][0] == ' ' || argv[i][0] == '\t')) {
			fprintf(ef, "recloser: add: '%s': a setting is KEY=VALUE\n", argv[i]);
			rc = EXIT_USAGE;
			goto out;
		}
		if ((!eq || strncasecmp(argv[i], "match=", 6) == 0) &&
		    strspn(pat, " \t") == strlen(pat)) {
			fprintf(ef, "recloser: add: an empty pattern%s\n",
				eq ? " in match=" : "");
			goto out;
		}
		if (!eq) {
			append_pats(&A, argv[i]);
			continue;
		}
		char key[64];
		int k;

		snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
		if (strcasecmp(key, "match") == 0) {
			append_pats(&A, eq + 1);
		} else if ((k = key_index(key)) >= 0) {
			if (A.val[k]) {
				fprintf(ef, "recloser: add: %s is given twice\n", bkeys[k].name);
				rc = EXIT_USAGE;
				goto out;
			}
			if (!(A.val[k] = strdup(eq + 1))) {
				fprintf(ef, "recloser: %s\n", strerror(errno));
				goto out;
			}
		} else {
			A.extra[A.nextra++] = argv[i]; /* for the parser to judge */
		}
	}

	if (stat(cfgpath, &A.st) < 0)
		memset(&A.st, 0, sizeof A.st);
	if (rc_read_file(cfgpath, &A.text, &A.len) < 0) {
		if (errno != ENOENT) {
			fprintf(ef, "recloser: cannot read %s: %s\n", cfgpath, strerror(errno));
			goto out;
		}
		A.text = strdup("");
		A.len = 0;
	}
	if (!A.text || strlen(A.text) != A.len) {
		fprintf(ef, "recloser: %s: %s\n", cfgpath,
			A.text ? "NUL byte in the file: not a text file" : strerror(ENOMEM));
		goto out;
	}
	old = rc_config_load_string(A.text, cfgpath, err, sizeof err);
	if (!old) {
		fprintf(ef, "recloser: %s has problems; fix them first (nothing added):\n%s\n",
			cfgpath, err);
		goto out;
	}
	unsigned nold = old->nbreakers;
	int dup = rc_config_find(old, A.name);

	if (dup >= 0)
		fprintf(ef, "recloser: add: breaker [%s] already exists in %s (line %d); "
			"nothing added\n", A.name, cfgpath, old->breakers[dup].line);
	rc_config_free(old);
	if (dup >= 0)
		goto out;
	if (strcasecmp(A.name, "global") == 0) {
		fprintf(ef, "recloser: add: [global] holds the process-wide settings; "
			"a breaker needs another name\n");
		goto out;
	}
	/* After the load above, which tuned inih for this text (long lines). */
	rc_config_peek_global(A.text, on_global, &A);

	if (!A.pats) {
		if (!ask) {
			fprintf(ef, "recloser: add: a breaker needs at least one pattern\n");
			goto out;
		}
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			rc = cli_usage("add: no PATTERN given (they are asked for only "
				       "on a terminal)");
			goto out;
		}
		if (interactive(&A) != 0) {
			fprintf(ef, "recloser: add: nothing added; %s is unchanged\n", cfgpath);
			goto out;
		}
	}

	char *sec = section_text(&A, 1), *whole = NULL;

	c = try_section(&A, sec, &whole, &first, err, sizeof err);
	if (!c) {
		fprintf(ef, "recloser: add: nothing added; %s is unchanged.  "
			"The new section would be lines %d-%d:\n%s\n", cfgpath, first,
			first + count_lines(sec) - 1, err);
	} else if (c->nbreakers != nold + 1 ||
		   strcmp(c->breakers[c->nbreakers - 1].name, A.name) != 0) {
		fprintf(ef, "recloser: add: internal error: the new section did not "
			"come out as breaker [%s]; nothing added\n", A.name);
	} else {
		mode_t um = umask(0);
		char why[PATH_MAX + 256];

		umask(um);
		if (changed(&A)) {
			fprintf(ef, "recloser: add: %s changed meanwhile; nothing added "
				"(run it again)\n", cfgpath);
		} else if (cli_write_atomic(cfgpath, whole, strlen(whole), 0644 & ~um,
				     why, sizeof why) < 0) {
			fprintf(ef, "recloser: add: %s; nothing added\n", why);
		} else {
			fprintf(out, "added breaker [%s] to %s (lines %d-%d)\n", A.name, cfgpath,
			       first, first + count_lines(sec) - 1);
			rc = 0;
		}
	}
	rc_config_free(c);
	free(sec);
	free(whole);
out:
	for (size_t k = 0; k < NKEYS; k++) {
		free(A.gval[k]);
		free(A.val[k]);
	}
	free(A.extra);
	free(A.pats);
	free(A.text);
	return rc;
}

int cmd_add(const char *cfgpath, int argc, char **argv)
{
	return cli_add_apply(cfgpath, argc, argv, stdout, stderr, 1);
}
