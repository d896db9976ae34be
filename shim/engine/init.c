/* init.c - start-up and exit of the shim in a host process.
 *
 * Everything here runs inside someone else's program: on any internal
 * problem the shim stays inert (pure pass-through) and at most one line
 * is logged. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/image.h"
#include "core/log.h"
#include "engine/call.h"
#include "engine/gate.h"
#include "engine/init.h"
#include "engine/live.h"
#include "engine/sig.h"

int rc_init_done;
int rc_active;

static void atfork_child(void)
{
	rc_pid_refresh(); /* also right without it (see engine/real.h) */
	rc_sig_atfork_child();
	rc_live_atfork_child();
}

static void peek_log_file(void *user, const char *key, const char *value)
{
	if (strcmp(key, "log_file") == 0 && value[0] == '/')
		snprintf(user, 4096, "%s", value);
}

/* Where to log a config error: the file's own [global] log_file if it can
 * be read at all, else the default. */
static void fallback_log_path(const char *cfgpath, char *out, size_t len)
{
	char found[4096] = "";
	char *text;
	size_t tlen;
	if (rc_read_file(cfgpath, &text, &tlen) == 0) {
		rc_config_peek_global(text, peek_log_file, found);
		free(text);
	}
	const char *tmpl = found[0] ? found : "/tmp/recloser-<uid>.log";
	const char *u = strstr(tmpl, "<uid>");
	if (u)
		snprintf(out, len, "%.*s%u%s", (int)(u - tmpl), tmpl, (unsigned)getuid(), u + 5);
	else
		snprintf(out, len, "%s", tmpl);
}

/* The config at PATH: from its image (core/image.h) when there is one
 * for the file as it is, else parsed, and its image written for the
 * processes that come after (NULL: ERR says why).  *WHY: a reason the
 * image there was not used, worth a line in the log. */
static rc_config *load(const char *path, char *err, size_t errlen, const char **why)
{
	struct stat st;
	struct timespec now;
	int known = stat(path, &st) == 0;
	rc_live_image_guards();
	rc_config *cfg = known ? rc_image_read(path, &st, why) : NULL;
	rc_live_guard_image(cfg);
	if (cfg)
		return cfg;
	cfg = rc_config_load(path, err, errlen);
	rc_config_drop_patterns(cfg); /* matched through its index only */
	if (cfg && known && clock_gettime(CLOCK_REALTIME, &now) == 0)
		rc_image_write(cfg, path, &st, now.tv_sec);
	return cfg;
}

/* Load the config at PATH, set up the log, map the state file.  Return
 * nonzero when the shim is to act. */
static int start(const char *path)
{
	const char *prog = program_invocation_short_name, *why = NULL;
	static char err[4096];
	rc_config *cfg = load(path, err, sizeof err, &why);
	if (!cfg) {
		char lp[4096];
		fallback_log_path(path, lp, sizeof lp);
		rc_log_setup(lp, RC_LOG_ERROR, prog);
		rc_real_log_missing();
		rc_live_log_config_error(path, err, "pass_through");
		return 0;
	}
	rc_log_setup(cfg->log_file, cfg->log_level, prog);
	rc_real_log_missing();
	if (why) {
		char name[4096];
		if (rc_image_path(path, name, sizeof name) < 0)
			name[0] = 0;
		rc_log(RC_LOG_WARN, "config_image", "image=%s msg=\"%s\" action=parsed",
		       name, why);
	}
	if (rc_live_map_state(cfg->state_file, err, sizeof err) < 0) {
		char q[600];
		rc_log(RC_LOG_ERROR, "state_error", "msg=%s action=pass_through",
		       rc_log_quote(err, q, sizeof q));
		rc_config_free(cfg);
		return 0;
	}
	if (rc_live_start(cfg, path, rc_now_ms()) < 0) {
		rc_config_free(cfg);
		return 0;
	}
	rc_log(RC_LOG_DEBUG, "start", "config=%s state_file=%s breakers=%u image=%s", path,
	       cfg->state_file, cfg->nbreakers, cfg->image ? "yes" : "no");
	return 1;
}

static void init_once(void)
{
	RC_SCOPE();
	rc_real_resolve_all();
	rc_pid_init();
	pthread_atfork(NULL, NULL, atfork_child);

	const char *dis = getenv("RECLOSER_DISABLE");
	const char *path = getenv("RECLOSER_CONFIG");
	if (!path || !*path)
		path = "/etc/recloser.ini";
	/* inert (no file, no log): disabled, secure-execution, no config */
	if (!(dis && *dis && strcmp(dis, "0") != 0) && !getauxval(AT_SECURE) &&
	    access(path, R_OK) == 0 && start(path)) {
		rc_clock_fast(); /* every call reads the clock twice (core/clock.h) */
		rc_active = 1;
		/* rejections a process that ended without its destructor left */
		rc_gate_flush_rejects(0);
	}
	__atomic_store_n(&rc_init_done, 2, __ATOMIC_RELEASE);
}

static pthread_once_t init_once_ctl = PTHREAD_ONCE_INIT;

void rc_init(void)
{
	if (rc_guard)
		return;
	RC_KEEP_ERRNO();
	pthread_once(&init_once_ctl, init_once);
}

__attribute__((constructor)) static void rc_ctor(void)
{
	rc_init();
}

/* At exit: calls still open are judged as at close, and the rejections
 * no line has carried yet get theirs. */
__attribute__((destructor)) static void rc_dtor(void)
{
	if (!rc_active)
		return;
	RC_SCOPE();
	rc_calls_at_exit();
	rc_gate_flush_rejects(1);
}
