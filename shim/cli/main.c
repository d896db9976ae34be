/* recloser.c - the command line: show and flip breakers, check a config,
 * run a program under the shim; `add`, `metrics` and `status --watch` live
 * in cli_add.c, cli_metrics.c and cli_watch.c.  Uses the same config and
 * state-file code as the shim.  Exit status: 0 ok, 1 failure, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/state.h"

static const char *usage_text =
	"usage: recloser [-c FILE] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  status [NAME] [--json]   state and counts of every breaker (or NAME)\n"
	"  status [NAME] --watch [--interval DURATION] [--count N]\n"
	"                           the same, refreshed in place (default every 1s)\n"
	"  open NAME                open a breaker for every process\n"
	"  close NAME               close it, end a forced state, clear its counts\n"
	"  half-open NAME           let trial calls through\n"
	"  force-open NAME          reject every call until `close`\n"
	"  force-close NAME         admit every call until `close`\n"
	"  check [FILE]             validate a config, list breakers and patterns\n"
	"  run [-c FILE] -- CMD...  run CMD with the shim preloaded\n"
	"  add NAME PATTERN... [KEY=VALUE...]\n"
	"                           append a validated breaker section with every\n"
	"                           setting spelled out (asks, on a terminal, when\n"
	"                           only NAME is given)\n"
	"  metrics [--textfile DIR] Prometheus text exposition of every breaker;\n"
	"                           with --textfile, written to DIR/recloser.prom\n"
	"\n"
	"The config is -c FILE, else $RECLOSER_CONFIG, else /etc/recloser.ini.\n";

int cli_usage(const char *why)
{
	if (why)
		fprintf(stderr, "recloser: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static const char *config_path(const char *opt)
{
	if (opt)
		return opt;
	const char *e = getenv("RECLOSER_CONFIG");
	return e && *e ? e : "/etc/recloser.ini";
}

rc_config *cli_load(const char *path)
{
	static char err[8192];
	rc_config *c = rc_config_load(path, err, sizeof err);
	if (!c) {
		fputs(err, stderr);
		if (*err && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
	}
	return c;
}

int cli_open_state(const rc_config *c, rc_shm *shm)
{
	char err[512];
	if (rc_shm_open(c->state_file, shm, err, sizeof err) < 0) {
		fprintf(stderr, "recloser: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- files ---- */

int cli_write_atomic(const char *path, const char *data, size_t len,
		     mode_t new_mode, char *err, size_t errlen)
{
	char target[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX + 32];
	struct stat st;
	int have = 0, fd, e;

	/* Replace what a symlink points to, not the link. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!realpath(path, target)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	} else {
		snprintf(target, sizeof target, "%s", path);
	}
	if (stat(target, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", target);
			return -1;
		}
		have = 1;
	}
	snprintf(dir, sizeof dir, "%s", target);
	snprintf(base, sizeof base, "%s", target);
	snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dirname(dir), basename(base));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside %s: %s",
			 target, strerror(errno));
		return -1;
	}
	if (have) {
		if (fchmod(fd, st.st_mode & 07777) < 0)
			goto fail;
		/* Keep the owner too where we may (root; or a group we are in). */
		if (fchown(fd, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
			goto fail;
	} else if (fchmod(fd, new_mode) < 0) {
		goto fail;
	}
	for (size_t off = 0; off < len; ) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, target) < 0)
		goto fail;
	snprintf(dir, sizeof dir, "%s", target);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* best effort: the rename is done */
		close(dfd);
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errlen, "cannot write %s: %s", target, strerror(e));
	return -1;
}

/* ---- status ---- */

const char *cli_mode_name(int mode)
{
	return mode == RC_MODE_OBSERVE ? "observe" : mode == RC_MODE_OFF ? "off" : "enforce";
}

static void fmt_us(uint64_t us, int have, char *buf, size_t len)
{
	if (!have)
		snprintf(buf, len, "-");
	else if (us == UINT64_MAX)
		snprintf(buf, len, ">%gs", rc_lat_bounds_us[RC_LAT_BUCKETS - 2] / 1e6); /* +Inf bucket */
	else if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.3gms", us / 1000.0);
	else
		snprintf(buf, len, "%.3gs", us / 1e6);
}

static void fmt_age(uint64_t ms, char *buf, size_t len)
{
	if (ms < 60000)
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	else if (ms < 3600000)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms / 1000 % 60));
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ms / 3600000),
			 (unsigned long long)(ms / 60000 % 60));
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void cli_table_header(FILE *f)
{
	fprintf(f, "%-20s %-13s %10s %10s %6s %10s %8s %8s %9s\n", "NAME", "STATE", "CALLS",
		"FAILURES", "FAIL%", "REJECTED", "P50", "P99", "IN-STATE");
}

static const char *state_colour(int state)
{
	switch (state) {
	case RC_CLOSED:        return "\033[32m";
	case RC_OPEN:          return "\033[31m";
	case RC_HALF_OPEN:     return "\033[33m";
	case RC_FORCED_OPEN:   return "\033[1;31m";
	case RC_FORCED_CLOSED: return "\033[1;32m";
	default:               return "";
	}
}

void cli_table_row(FILE *f, const char *name, const rc_view *v, int colour)
{
	char p50[32], p99[32], age[32];

	fmt_us(v->p50_us, v->calls > 0, p50, sizeof p50);
	fmt_us(v->p99_us, v->calls > 0, p99, sizeof p99);
	fmt_age(v->in_state_ms, age, sizeof age);
	fprintf(f, "%-20s %s%-13s%s %10llu %10llu %5.1f%% %10llu %8s %8s %9s\n", name,
		colour ? state_colour(v->state) : "", rc_state_name(v->state),
		colour ? "\033[0m" : "", (unsigned long long)v->calls,
		(unsigned long long)v->failures, pct(v->failures, v->calls),
		(unsigned long long)v->rejected, p50, p99, age);
}

static int cmd_status(const char *cfgpath, int argc, char **argv)
{
	const char *name = NULL;
	int json = 0, watch = 0;
	uint64_t interval_ms = 1000;
	long count = -1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--watch") == 0 || strcmp(argv[i], "-w") == 0) {
			watch = 1;
		} else if (strcmp(argv[i], "--interval") == 0 || strcmp(argv[i], "-n") == 0) {
			char why[128];
			if (i + 1 >= argc)
				return cli_usage("status: --interval needs a duration");
			if (rc_parse_duration(argv[++i], &interval_ms, why, sizeof why) < 0 ||
			    interval_ms == 0) {
				fprintf(stderr, "recloser: status: bad --interval '%s': %s\n",
					argv[i], interval_ms ? why : "must be more than 0");
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--count") == 0) {
			char *end;
			if (i + 1 >= argc)
				return cli_usage("status: --count needs a number");
			errno = 0;
			count = strtol(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || count < 1)
				return cli_usage("status: --count needs a number >= 1");
		} else if (argv[i][0] == '-') {
			return cli_usage("status: unknown option");
		} else if (!name) {
			name = argv[i];
		} else {
			return cli_usage("status: too many arguments");
		}
	}
	if (watch && json)
		return cli_usage("status: --watch and --json do not go together");
	if (!watch && count > 0)
		return cli_usage("status: --count goes with --watch");
	if (watch)
		return cmd_watch(cfgpath, name, interval_ms, count);
	rc_config *c = cli_load(cfgpath);
	if (!c)
		return 1;
	if (name && rc_config_find(c, name) < 0) {
		fprintf(stderr, "recloser: no breaker '%s' in %s\n", name, cfgpath);
		return 1;
	}
	rc_shm shm;
	if (cli_open_state(c, &shm) < 0)
		return 1;
	uint64_t now = rc_now_ms();
	if (json)
		printf("[");
	else
		cli_table_header(stdout);
	int first = 1;
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];
		if (name && strcmp(name, b->name) != 0)
			continue;
		rc_slot *s = rc_shm_slot(&shm, b->name, 1);
		if (!s) {
			fprintf(stderr, "recloser: no room for '%s' in %s\n", b->name, c->state_file);
			continue;
		}
		rc_view v;
		rc_view_slot(s, b, now, &v);
		if (json) {
			printf("%s\n  {\"name\": \"%s\", \"state\": \"%s\", \"mode\": \"%s\", "
			       "\"calls\": %llu, \"successes\": %llu, \"failures\": %llu, "
			       "\"failure_percent\": %.1f, \"slow\": %llu, \"timeouts\": %llu, "
			       "\"rejected\": %llu, \"transitions\": %llu, \"opened\": %llu, "
			       "\"window_calls\": %llu, \"window_failures\": %llu, "
			       "\"probes_held\": %u, \"p50_us\": %llu, \"p99_us\": %llu, "
			       "\"in_state_ms\": %llu}",
			       first ? "" : ",", b->name, rc_state_name(v.state),
			       cli_mode_name(b->mode),
			       (unsigned long long)v.calls, (unsigned long long)v.successes,
			       (unsigned long long)v.failures, pct(v.failures, v.calls),
			       (unsigned long long)v.slow, (unsigned long long)v.timeouts,
			       (unsigned long long)v.rejected, (unsigned long long)v.transitions,
			       (unsigned long long)v.opened, (unsigned long long)v.win_calls,
			       (unsigned long long)v.win_failures, v.probes_held,
			       (unsigned long long)v.p50_us, (unsigned long long)v.p99_us,
			       (unsigned long long)v.in_state_ms);
		} else {
			cli_table_row(stdout, b->name, &v, 0);
		}
		first = 0;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	rc_shm_close(&shm);
	return 0;
}

/* ---- flips ---- */

static int cmd_flip(const char *cfgpath, int to, int argc, char **argv)
{
	if (argc != 1 || argv[0][0] == '-')
		return cli_usage("expected one breaker name");
	rc_config *c = cli_load(cfgpath);
	if (!c)
		return 1;
	int i = rc_config_find(c, argv[0]);
	if (i < 0) {
		fprintf(stderr, "recloser: no breaker '%s' in %s\n", argv[0], cfgpath);
		return 1;
	}
	rc_shm shm;
	if (cli_open_state(c, &shm) < 0)
		return 1;
	rc_slot *s = rc_shm_slot(&shm, argv[0], 1);
	if (!s) {
		fprintf(stderr, "recloser: no room for '%s' in %s\n", argv[0], c->state_file);
		return 1;
	}
	rc_transition tr;
	tr.to = -1;
	rc_set_state(s, to, rc_now_ms(), &tr);
	rc_log_setup(c->log_file, c->log_level, "recloser");
	if (tr.to >= 0)
		rc_log(RC_LOG_INFO, "transition", "breaker=%s from=%s to=%s reason=cli",
		       argv[0], rc_state_name(tr.from), rc_state_name(tr.to));
	printf("%s: %s\n", argv[0], rc_state_name(to));
	rc_shm_close(&shm);
	return 0;
}

/* ---- check ---- */

static int cmd_check(const char *cfgpath, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage("check: too many arguments");
	const char *path = argc ? argv[0] : cfgpath;
	rc_config *c = cli_load(path);
	if (!c)
		return 1;
	printf("%s: ok, %u breaker%s\n", path, c->nbreakers, c->nbreakers == 1 ? "" : "s");
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];
		printf("%s:", b->name);
		for (unsigned k = 0; k < b->npats; k++) {
			char p[RC_HOST_MAX + 16];
			rc_format_pattern(&b->pats[k], p, sizeof p);
			printf("%s %s", k ? "," : "", p);
		}
		char ct[32], od[32];
		rc_format_duration(b->connect_timeout, ct, sizeof ct);
		rc_format_duration(b->open_duration, od, sizeof od);
		printf("  (mode=%s failure_threshold=%u connect_timeout=%s open_duration=%s)\n",
		       b->mode == RC_MODE_OBSERVE ? "observe" : b->mode == RC_MODE_OFF ? "off" : "enforce",
		       b->failure_threshold, ct, od);
	}
	rc_config_free(c);
	return 0;
}

/* ---- run ---- */

/* Find the shim: beside this program (build/), else ../lib/recloser/. */
static int find_shim(char *out, size_t len)
{
	const char *env = getenv("RECLOSER_SHIM");
	if (env && *env && access(env, R_OK) == 0) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	const char *cands[] = { "/librecloser.so", "/../lib/recloser/librecloser.so" };
	for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof p, "%s%s", self, cands[i]);
		char real[PATH_MAX];
		if (realpath(p, real) && access(real, R_OK) == 0) {
			snprintf(out, len, "%s", real);
			return 0;
		}
	}
	return -1;
}

static int cmd_run(const char *cfgopt, int argc, char **argv)
{
	int i = 0;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfgopt = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage("run: unknown option");
		else
			break; /* the command, without -- */
	}
	if (i >= argc)
		return cli_usage("run: no command given");
	const char *path = config_path(cfgopt);
	rc_config *c = cli_load(path);
	if (!c)
		return EXIT_USAGE; /* SPEC: an invalid config makes run exit 2 */
	rc_config_free(c);
	char shim[PATH_MAX];
	if (find_shim(shim, sizeof shim) < 0) {
		fprintf(stderr, "recloser: cannot find librecloser.so beside %s or in ../lib/recloser/"
			" (set RECLOSER_SHIM)\n", "the recloser program");
		return 1;
	}
	char abscfg[PATH_MAX];
	if (!realpath(path, abscfg))
		snprintf(abscfg, sizeof abscfg, "%s", path);
	const char *old = getenv("LD_PRELOAD");
	if (old && *old && !strstr(old, shim)) {
		size_t n = strlen(old) + strlen(shim) + 2;
		char *v = malloc(n);
		if (!v)
			return 1;
		snprintf(v, n, "%s %s", old, shim);
		setenv("LD_PRELOAD", v, 1);
		free(v);
	} else if (!old || !*old) {
		setenv("LD_PRELOAD", shim, 1);
	}
	setenv("RECLOSER_CONFIG", abscfg, 1);
	execvp(argv[i], argv + i);
	fprintf(stderr, "recloser: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv)
{
	const char *cfgopt = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfgopt = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else
			return cli_usage("unknown option");
	}
	if (i >= argc)
		return cli_usage(NULL);
	const char *cmd = argv[i++];
	int n = argc - i;
	char **rest = argv + i;
	const char *path = config_path(cfgopt);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(path, n, rest);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(path, n, rest);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(cfgopt, n, rest);
	if (strcmp(cmd, "add") == 0)
		return cmd_add(path, n, rest);
	if (strcmp(cmd, "metrics") == 0)
		return cmd_metrics(path, n, rest);
	static const struct { const char *name; int to; } flips[] = {
		{ "open", RC_OPEN }, { "close", RC_CLOSED }, { "half-open", RC_HALF_OPEN },
		{ "force-open", RC_FORCED_OPEN }, { "force-close", RC_FORCED_CLOSED },
	};
	for (size_t k = 0; k < sizeof flips / sizeof *flips; k++)
		if (strcmp(cmd, flips[k].name) == 0)
			return cmd_flip(path, flips[k].to, n, rest);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	fprintf(stderr, "recloser: unknown command '%s'\n", cmd);
	return cli_usage(NULL);
}
