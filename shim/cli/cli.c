/* cli.c - the helpers every verb of the recloser command shares: the
 * usage text, finding and loading the config, mapping the state file, the
 * status table and an atomic file replace.  It calls nothing in the verb
 * files (see cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/log.h"

/* ---- usage ---- */

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
	"  dashboard [--listen ADDR:PORT] [--read-only]\n"
	"                           the breakers live in a browser, flips, add and\n"
	"                           /metrics (default 127.0.0.1:8471)\n"
	"  forget NAME [--force]    free the state-file slot of a breaker no config\n"
	"                           uses any more (--force: even if used < 60s ago)\n"
	"\n"
	"The config is -c FILE, else $RECLOSER_CONFIG, else /etc/recloser.ini.\n";

int cli_usage(const char *why)
{
	if (why)
		fprintf(stderr, "recloser: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

void cli_help(FILE *f)
{
	fputs(usage_text, f);
}

/* ---- config and state ---- */

const char *cli_config_path(const char *opt)
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

/* ---- acting as the config's owner ----
 *
 * Root running the CLI on a config owned by another user acts as that
 * user for everything the user's own programs would do with the config:
 * "<uid>" is the owner's uid (so the state file and the log are the ones
 * those programs use), the state file passes the owner check for that
 * uid, and files created (a state file, the log) are the user's.  The
 * shim's checks are unchanged: only the CLI changes whose it is.  The
 * switch keeps root as the saved set-user-ID, so a file root names on the
 * command line (metrics --textfile) is still written as root. */

static struct {
	int    active;
	uid_t  uid, ruid, euid;
	gid_t  gid, rgid, egid;
	gid_t *groups;          /* root's supplementary groups */
	int    ngroups;
	char   note[PATH_MAX * 3];
} owner;

/* Become UID (with its groups), keeping root as the saved set-user-ID. */
static int become(uid_t uid, gid_t file_gid, const char *cfgpath)
{
	struct passwd *pw = getpwuid(uid);
	gid_t gid = pw ? pw->pw_gid : file_gid;
	uid_t su;
	gid_t sg;
	int n;

	if (getresuid(&owner.ruid, &owner.euid, &su) < 0 ||
	    getresgid(&owner.rgid, &owner.egid, &sg) < 0 || (n = getgroups(0, NULL)) < 0)
		goto fail;
	owner.groups = calloc((size_t)n + 1, sizeof *owner.groups);
	if (!owner.groups || (owner.ngroups = getgroups(n, owner.groups)) < 0)
		goto fail;
	if ((pw ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) < 0 ||
	    setresgid(gid, gid, (gid_t)-1) < 0 || setresuid(uid, uid, (uid_t)-1) < 0)
		goto fail;
	owner.active = 1;
	owner.uid = uid;
	owner.gid = gid;
	return 0;
fail:
	fprintf(stderr, "recloser: %s is owned by uid %u: cannot act as that user: %s\n",
		cfgpath, (unsigned)uid, strerror(errno));
	return -1;
}

/* Back to root (1) or to the owner again (0), around a write root asked
 * for.  Return 0, else -1 with errno set. */
static int as_root(int root)
{
	if (!owner.active)
		return 0;
	if (root)
		return setresuid(owner.ruid, owner.euid, (uid_t)-1) < 0 ||
		       setgroups((size_t)owner.ngroups, owner.groups) < 0 ||
		       setresgid(owner.rgid, owner.egid, (gid_t)-1) < 0 ? -1 : 0;
	struct passwd *pw = getpwuid(owner.uid);
	return (pw ? initgroups(pw->pw_name, owner.gid) : setgroups(1, &owner.gid)) < 0 ||
	       setresgid(owner.gid, owner.gid, (gid_t)-1) < 0 ||
	       setresuid(owner.uid, owner.uid, (uid_t)-1) < 0 ? -1 : 0;
}

/* Swap the values of C and F that depend on who reads the file: its
 * paths, where "<uid>" was expanded.  Every type of keys.def is named, so
 * a new one must be thought about here; only [global] keys are paths. */
#define CLI_SWAP_PATH(a, b)      do { char *t_ = (a); (a) = (b); (b) = t_; } while (0)
#define CLI_SWAP_DURATION(a, b)  (void)0
#define CLI_SWAP_UINT(a, b)      (void)0
#define CLI_SWAP_PERCENT(a, b)   (void)0
#define CLI_SWAP_BOOL(a, b)      (void)0
#define CLI_SWAP_MODE(a, b)      (void)0
#define CLI_SWAP_LEVEL(a, b)     (void)0
#define CLI_SWAP_ERRNO(a, b)     (void)0
#define CLI_SWAP_STATUSES(a, b)  (void)0
static void swap_paths(rc_config *c, rc_config *f)
{
#define RC_GLOBAL(n, t, ...) CLI_SWAP_##t(c->n, f->n);
#define RC_BREAKER(n, t, ...) _Static_assert(RC_VALUE_##t != RC_VALUE_PATH, \
	"cli.c swap_paths: a PATH breaker key (" #n ") must be swapped too");
#include "core/keys.def"
}

int cli_as_config_owner(rc_config *c)
{
	static char err[8192];
	struct stat st;

	if (owner.active || geteuid() != 0)
		return 0;
	if (!c->path || stat(c->path, &st) < 0 || st.st_uid == 0)
		return 0;
	if (become(st.st_uid, st.st_gid, c->path) < 0)
		return -1;
	/* Read it again as its owner: "<uid>" is now theirs. */
	rc_config *f = rc_config_load(c->path, err, sizeof err);
	if (!f) {
		fprintf(stderr, "recloser: %s is owned by uid %u; read as that user:\n%s",
			c->path, (unsigned)st.st_uid, err);
		if (*err && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		return -1;
	}
	if (strcmp(c->state_file, f->state_file) != 0) {
		struct passwd *pw = getpwuid(st.st_uid);
		snprintf(owner.note, sizeof owner.note,
			 "recloser: %s is owned by uid %u%s%s%s: showing that user's state file "
			 "%s (not %s)", c->path, (unsigned)st.st_uid, pw ? " (" : "",
			 pw ? pw->pw_name : "", pw ? ")" : "", f->state_file, c->state_file);
	}
	swap_paths(c, f);
	rc_config_free(f);
	return 0;
}

const char *cli_state_note(void)
{
	return owner.note[0] ? owner.note : NULL;
}

int cli_open_state(rc_config *c, rc_shm *shm)
{
	char err[512];
	if (cli_as_config_owner(c) < 0)
		return -1;
	if (rc_shm_open(c->state_file, shm, err, sizeof err) < 0) {
		if (owner.active)
			fprintf(stderr, "recloser: %s (as uid %u, the owner of %s)\n", err,
				(unsigned)owner.uid, c->path);
		else
			fprintf(stderr, "recloser: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- files ---- */

static int write_atomic(const char *path, const char *data, size_t len,
			mode_t new_mode, char *err, size_t errlen);

/* A file named on the command line is written by whoever ran the command:
 * as root even while acting as a config's owner. */
int cli_write_atomic(const char *path, const char *data, size_t len,
		     mode_t new_mode, char *err, size_t errlen)
{
	if (as_root(1) < 0) {
		snprintf(err, errlen, "cannot write %s: cannot return to root: %s", path,
			 strerror(errno));
		return -1;
	}
	int r = write_atomic(path, data, len, new_mode, err, errlen);
	if (as_root(0) < 0) {
		/* never go on as root with the owner's files */
		fprintf(stderr, "recloser: cannot act as uid %u again: %s\n",
			(unsigned)owner.uid, strerror(errno));
		exit(1);
	}
	return r;
}

static int write_atomic(const char *path, const char *data, size_t len,
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

/* ---- the status table ---- */

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

double cli_pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void cli_table_header(FILE *f)
{
	fprintf(f, "%-20s %-13s %10s %10s %6s %10s %8s %8s %8s %9s %9s\n", "NAME", "STATE",
		"CALLS", "FAILURES", "FAIL%", "REJECTED", "BULKHEAD", "P50", "P99", "IN-STATE",
		"IN-FLIGHT");
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
	char p50[32], p99[32], age[32], fl[48], bh[32];

	/* of REJECTED, those a bulkhead refused (the rest: the breaker) */
	if (v->max_concurrent || v->max_connections || v->rejected_bulkhead)
		snprintf(bh, sizeof bh, "%llu", (unsigned long long)v->rejected_bulkhead);
	else
		snprintf(bh, sizeof bh, "-");
	if (v->max_concurrent)
		snprintf(fl, sizeof fl, "%llu/%llu", (unsigned long long)v->in_flight,
			 (unsigned long long)v->max_concurrent);
	else
		snprintf(fl, sizeof fl, "-");
	fmt_us(v->p50_us, v->calls > 0, p50, sizeof p50);
	fmt_us(v->p99_us, v->calls > 0, p99, sizeof p99);
	fmt_age(v->in_state_ms, age, sizeof age);
	fprintf(f, "%-20s %s%-13s%s %10llu %10llu %5.1f%% %10llu %8s %8s %8s %9s %9s\n", name,
		colour ? state_colour(v->state) : "", rc_state_name(v->state),
		colour ? "\033[0m" : "", (unsigned long long)v->calls,
		(unsigned long long)v->failures, cli_pct(v->failures, v->calls),
		(unsigned long long)v->rejected, bh, p50, p99, age, fl);
}

void cli_settle(const rc_config *c, rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms)
{
	static int log_ready;
	if (!rc_breaker_pend_any(s))
		return;
	if (!log_ready) {
		rc_log_setup(c->log_file, c->log_level, "recloser");
		log_ready = 1;
	}
	rc_breaker_settle_dead(s, b, now_ms);
}
