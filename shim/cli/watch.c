/* watch.c - `recloser status [NAME] --watch [--interval D] [--count N]`.
 *
 * The status table, refreshed every interval.  On a terminal each frame
 * is redrawn in place (cursor home, each line cleared to its end, the
 * rest of the screen cleared; the cursor hidden meanwhile), with state
 * names in colour unless NO_COLOR is set.  Elsewhere (a pipe, a file)
 * each refresh appends a timestamped table with no escape codes at all.
 * The config is read again at every refresh, so breakers added or removed
 * show up; a config that no longer parses keeps the last good one and
 * says so.  SIGINT and SIGTERM end it cleanly (exit 0), as does --count. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/watch.h"
#include "core/config.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/clock.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* First line of ERR, for a one-line note. */
static void first_line(const char *err, char *buf, size_t len)
{
	const char *nl = strchr(err, '\n');

	snprintf(buf, len, "%.*s", nl ? (int)(nl - err) : (int)strlen(err), err);
}

/* One frame into F. */
static void frame(FILE *f, const char *cfgpath, const rc_config *c, const char *name,
		  const char *note, uint64_t interval_ms, int tty, int colour)
{
	char when[64], iv[32], err[512];
	struct timeval tv;
	struct tm tm;
	rc_shm shm;

	gettimeofday(&tv, NULL);
	rc_format_duration(interval_ms, iv, sizeof iv);
	if (tty) {
		localtime_r(&tv.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(f, "recloser status  %s  every %s  %s  (Ctrl-C quits)\n\n",
			cfgpath, iv, when);
	} else {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(f, "# %s.%03dZ %s\n", when, (int)(tv.tv_usec / 1000), cfgpath);
	}
	if (rc_shm_open(c->state_file, &shm, err, sizeof err) < 0) {
		fprintf(f, "recloser: %s\n", err);
	} else {
		uint64_t now = rc_now_ms();
		int shown = 0;

		cli_table_header(f);
		for (unsigned i = 0; i < c->nbreakers; i++) {
			const rc_breaker_cfg *b = &c->breakers[i];
			rc_slot *s;
			rc_view v;

			if (name && strcmp(name, b->name) != 0)
				continue;
			if (!(s = rc_shm_slot(&shm, b->name, 1))) {
				fprintf(f, "%-20s (no room in %s)\n", b->name, c->state_file);
				continue;
			}
			cli_settle(c, s, b, now);
			rc_breaker_view(s, b, now, &v);
			rc_bh_view(&shm, s, b, now, &v);
			cli_table_row(f, b->name, &v, colour);
			shown++;
		}
		if (name && !shown)
			fprintf(f, "(no breaker '%s' in %s)\n", name, cfgpath);
		rc_shm_close(&shm);
	}
	if (note && *note)
		fprintf(f, "\n%s\n", note);
	if (!tty)
		fputc('\n', f);
}

/* Write TEXT to stdout; on a terminal every line is cleared to its end
 * first and the rest of the screen after it. */
static void show(const char *text, size_t len, int tty)
{
	if (!tty) {
		fwrite(text, 1, len, stdout);
	} else {
		fputs("\033[H", stdout);
		for (size_t i = 0; i < len; i++) {
			if (text[i] == '\n')
				fputs("\033[K", stdout);
			putchar(text[i]);
		}
		fputs("\033[J", stdout);
	}
	fflush(stdout);
}

/* Sleep MS milliseconds, or until a signal asks us to stop. */
static void nap(uint64_t ms)
{
	uint64_t end = rc_now_ms() + ms, now;

	while (!stop && (now = rc_now_ms()) < end) {
		struct timespec ts = {
			.tv_sec = (time_t)((end - now) / 1000),
			.tv_nsec = (long)((end - now) % 1000 * 1000000),
		};

		nanosleep(&ts, NULL);
	}
}

int cmd_watch(const char *cfgpath, const char *name, uint64_t interval_ms, long count)
{
	static char err[8192];
	int tty = isatty(STDOUT_FILENO);
	const char *nocolour = getenv("NO_COLOR");
	int colour = tty && !(nocolour && *nocolour);
	char note[600] = "";
	struct sigaction sa;
	rc_config *c;

	if (!(c = cli_load(cfgpath)))
		return 1;
	if (cli_as_config_owner(c) < 0) { /* root on a user's config: theirs */
		rc_config_free(c);
		return 1;
	}
	if (name && rc_config_find(c, name) < 0) {
		fprintf(stderr, "recloser: no breaker '%s' in %s\n", name, cfgpath);
		rc_config_free(c);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: the nap ends at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty)
		fputs("\033[?25l\033[2J", stdout); /* hide the cursor, clear */
	for (long n = 0; !stop;) {
		char *text = NULL;
		size_t len = 0;
		FILE *f;

		if (n) {
			rc_config *fresh = rc_config_load(cfgpath, err, sizeof err);

			if (fresh) {
				rc_config_free(c);
				c = fresh;
				note[0] = '\0';
			} else {
				char l[512];

				first_line(err, l, sizeof l);
				snprintf(note, sizeof note, "config not reloaded: %s", l);
			}
		}
		if (!(f = open_memstream(&text, &len)))
			break;
		frame(f, cfgpath, c, name, note, interval_ms, tty, colour);
		if (fclose(f) == 0)
			show(text, len, tty);
		free(text);
		if (count > 0 && ++n >= count)
			break;
		if (count <= 0)
			n = 1;
		nap(interval_ms);
	}
	if (tty)
		fputs("\033[?25h", stdout); /* the cursor back */
	fflush(stdout);
	rc_config_free(c);
	return 0;
}
