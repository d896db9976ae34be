/* engine.c - init, and the breaker logic behind the hooks.
 *
 * Everything here runs inside someone else's program: on any internal
 * problem the call passes through untouched and at most one line is logged.
 * The paths taken per call use no malloc, no lock and no stdio; errno is
 * what the real call left, or what a rejection sets. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "engine/engine.h"
#include "core/log.h"

#define RC_HOOK(ret, name, params) ret (*real_##name) params;
#include "hooks/hooks.def"

__thread int rc_guard __attribute__((tls_model("initial-exec")));
int rc_init_done;
int rc_active;

static rc_live *live;          /* the config in force; swapped by reload */
static rc_shm shm;
uint32_t rc_pid;
static char cfg_path[4096];

/* Reload bookkeeping: the file as last read, the next check, one checker. */
static struct stat cfg_st;
static uint64_t next_check_ms;
static int reloading;

rc_live *rc_current(void)
{
	return __atomic_load_n(&live, __ATOMIC_ACQUIRE);
}

/* ---- init ---- */

static void resolve_reals(void)
{
#define RC_HOOK(ret, name, params) \
	real_##name = (ret(*) params)dlsym(RTLD_NEXT, #name);
#include "hooks/hooks.def"
}

static void atfork_child(void)
{
	rc_pid = (uint32_t)getpid();
	rc_live *L = rc_current();
	if (L)
		memset(L->rej_count, 0, sizeof L->rej_count);
	reloading = 0; /* a reload another thread had under way is not ours */
}

struct fallback { char path[4096]; };

static int fallback_handler(void *user, const char *section, const char *name,
			    const char *value)
{
	struct fallback *f = user;
	if (strcmp(section, "global") == 0 && strcmp(name, "log_file") == 0 && value[0] == '/')
		snprintf(f->path, sizeof f->path, "%s", value);
	return 1;
}

/* Where to log a config error: the file's own [global] log_file if it can
 * be read at all, else the default. */
static void fallback_log_path(const char *cfgpath, char *out, size_t len)
{
	struct fallback f = { "" };
	char *text;
	size_t tlen;
	if (rc_read_file(cfgpath, &text, &tlen) == 0) { /* O_CLOEXEC, unlike fopen */
		ini_parse_string(text, fallback_handler, &f);
		free(text);
	}
	const char *tmpl = f.path[0] ? f.path : "/tmp/recloser-<uid>.log";
	const char *u = strstr(tmpl, "<uid>");
	if (u)
		snprintf(out, len, "%.*s%u%s", (int)(u - tmpl), tmpl, (unsigned)getuid(), u + 5);
	else
		snprintf(out, len, "%s", tmpl);
}

static void log_config_error(const char *path, const char *err, const char *action)
{
	char q[600], qf[300];
	int line = 0;
	size_t pl = strlen(path);
	const char *msg = err;
	if (strncmp(err, path, pl) == 0 && err[pl] == ':') {
		char *end;
		line = (int)strtol(err + pl + 1, &end, 10);
		if (*end == ':')
			msg = end + 1 + (end[1] == ' ');
	}
	char first[512];
	snprintf(first, sizeof first, "%.*s", (int)strcspn(msg, "\n"), msg);
	rc_log(RC_LOG_ERROR, "config_error", "file=%s line=%d msg=%s action=%s",
	       rc_log_quote(path, qf, sizeof qf), line, rc_log_quote(first, q, sizeof q), action);
}

/* Bind CFG's breakers to their slots in the state file (by name, so state
 * survives a reload).  Return the new rc_live, or NULL. */
static rc_live *make_live(rc_config *cfg, unsigned gen)
{
	rc_live *L = calloc(1, sizeof *L);
	if (!L)
		return NULL;
	L->cfg = cfg;
	L->gen = gen;
	for (unsigned i = 0; i < cfg->nbreakers; i++) {
		L->slots[i] = rc_shm_slot(&shm, cfg->breakers[i].name, 1);
		if (!L->slots[i])
			rc_log(RC_LOG_ERROR, "state_error",
			       "breaker=%s msg=\"no slot in the state file\" action=pass_through",
			       cfg->breakers[i].name);
	}
	return L;
}

static void init_once(void)
{
	rc_guard++;
	int saved = errno;
	resolve_reals();
	rc_pid = (uint32_t)getpid();
	pthread_atfork(NULL, NULL, atfork_child);

	const char *dis = getenv("RECLOSER_DISABLE");
	const char *path = getenv("RECLOSER_CONFIG");
	if (!path || !*path)
		path = "/etc/recloser.ini";
	if ((dis && *dis && strcmp(dis, "0") != 0) || getauxval(AT_SECURE) ||
	    access(path, R_OK) != 0)
		goto out; /* inert: no file, no log */

	const char *prog = program_invocation_short_name;
	snprintf(cfg_path, sizeof cfg_path, "%s", path);
	static char err[4096];
	stat(path, &cfg_st);
	rc_config *cfg = rc_config_load(path, err, sizeof err);
	if (!cfg) {
		char lp[4096];
		fallback_log_path(path, lp, sizeof lp);
		rc_log_setup(lp, RC_LOG_ERROR, prog);
		log_config_error(path, err, "pass_through");
		goto out;
	}
	rc_log_setup(cfg->log_file, cfg->log_level, prog);
	if (rc_shm_open(cfg->state_file, &shm, err, sizeof err) < 0) {
		char q[600];
		rc_log(RC_LOG_ERROR, "state_error", "msg=%s action=pass_through",
		       rc_log_quote(err, q, sizeof q));
		rc_config_free(cfg);
		goto out;
	}
	rc_live *L = make_live(cfg, 1);
	if (!L) {
		rc_config_free(cfg);
		goto out;
	}
	__atomic_store_n(&live, L, __ATOMIC_RELEASE);
	next_check_ms = rc_now_ms() + cfg->reload;
	rc_log(RC_LOG_DEBUG, "start", "config=%s state_file=%s breakers=%u",
	       path, cfg->state_file, cfg->nbreakers);
	rc_active = 1;
out:
	__atomic_store_n(&rc_init_done, 2, __ATOMIC_RELEASE);
	errno = saved;
	rc_guard--;
}

static pthread_once_t init_once_ctl = PTHREAD_ONCE_INIT;

void rc_init(void)
{
	if (rc_guard)
		return;
	int saved = errno;
	pthread_once(&init_once_ctl, init_once);
	errno = saved;
}

__attribute__((constructor)) static void rc_ctor(void)
{
	rc_init();
}

/* ---- live reload ---- */

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* At most every `reload` interval, on the call path of one thread: if the
 * config file changed, read it again.  A good file replaces the config in
 * force atomically (state is kept by breaker name); a broken one keeps it
 * and logs config_error once per edit. */
void rc_maybe_reload(uint64_t now_ms)
{
	rc_live *L = rc_current();
	uint64_t iv = L->cfg->reload, due = __atomic_load_n(&next_check_ms, __ATOMIC_RELAXED);
	if (!iv || now_ms < due)
		return;
	if (!__atomic_compare_exchange_n(&next_check_ms, &due, now_ms + iv, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return;
	int busy = 0;
	if (!__atomic_compare_exchange_n(&reloading, &busy, 1, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return;
	int saved = errno;
	rc_guard++;
	struct stat st;
	if (stat(cfg_path, &st) == 0 && !same_file(&st, &cfg_st)) {
		cfg_st = st;
		static char err[4096];
		rc_config *c = rc_config_load(cfg_path, err, sizeof err);
		if (!c) {
			log_config_error(cfg_path, err, "kept_previous");
		} else {
			if (strcmp(c->state_file, L->cfg->state_file) != 0) {
				rc_log(RC_LOG_WARN, "reload",
				       "msg=\"state_file changes need a restart; keeping %s\"",
				       L->cfg->state_file);
				free(c->state_file);
				c->state_file = strdup(L->cfg->state_file);
			}
			rc_live *N = c->state_file ? make_live(c, L->gen + 1) : NULL;
			if (N) {
				rc_log_setup(c->log_file, c->log_level, program_invocation_short_name);
				__atomic_store_n(&live, N, __ATOMIC_RELEASE);
				rc_log(RC_LOG_INFO, "reload", "config=%s breakers=%u gen=%u", cfg_path,
				       c->nbreakers, N->gen);
			} else {
				rc_config_free(c);
			}
		}
	}
	rc_guard--;
	__atomic_store_n(&reloading, 0, __ATOMIC_RELEASE);
	errno = saved;
}

/* ---- helpers ---- */

int rc_is_net_failure(int e)
{
	switch (e) {
	case ECONNREFUSED: case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH:
	case ECONNRESET: case ECONNABORTED: case EHOSTDOWN: case ENETDOWN:
	case EPIPE: case ENONET: case EPROTO:
		return 1;
	}
	return 0;
}

const char *rc_errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

/* FAMILY 0: ADDR is a host name (a libcurl URL's), NUL-terminated. */
static void format_dest(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (family == 0)
		snprintf(buf, len, strchr((const char *)addr, ':') ? "[%s]:%u" : "%s:%u",
			 (const char *)addr, port);
	else if (inet_ntop(family, addr, a, sizeof a), family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void rc_log_transition_(const rc_breaker_cfg *b, const rc_transition *tr)
{
	char extra[96] = "";
	if (tr->to == RC_OPEN || tr->to == RC_FORCED_OPEN)
		snprintf(extra, sizeof extra, " open_ms=%llu", (unsigned long long)tr->open_ms);
	if (strcmp(tr->reason, "failure_rate") == 0)
		rc_log(RC_LOG_INFO, "transition",
		       "breaker=%s from=%s to=%s reason=%s failures=%llu calls=%llu%s", b->name,
		       rc_state_name(tr->from), rc_state_name(tr->to), tr->reason,
		       (unsigned long long)tr->failures, (unsigned long long)tr->calls, extra);
	else
		rc_log(RC_LOG_INFO, "transition", "breaker=%s from=%s to=%s reason=%s failures=%llu%s",
		       b->name, rc_state_name(tr->from), rc_state_name(tr->to), tr->reason,
		       (unsigned long long)tr->failures, extra);
}

void rc_judge(rc_live *L, unsigned bidx, const rc_ticket *t, int outcome, uint64_t start_us,
	      uint64_t end_us, int family, const uint8_t *addr, uint16_t port, int err)
{
	const rc_breaker_cfg *b = &L->cfg->breakers[bidx];
	uint64_t lat = end_us > start_us ? end_us - start_us : 0;
	rc_transition tr;
	tr.to = -1;
	rc_report(L->slots[bidx], b, t, outcome, lat, end_us / 1000, &tr);
	rc_log_transition(b, &tr);
	if (rc_log_enabled(RC_LOG_DEBUG)) {
		char d[RC_HOST_MAX + 16];
		format_dest(family, addr, port, d, sizeof d);
		const char *o = outcome == RC_OK ? "success" :
				outcome == RC_FAIL_TIMEOUT ? "timeout" : "failure";
		if (b->slow_call && outcome == RC_OK && lat > b->slow_call * 1000)
			o = "slow";
		rc_log(RC_LOG_DEBUG, "call", "breaker=%s outcome=%s latency_us=%llu dest=%s%s%s",
		       b->name, o, (unsigned long long)lat, d, err ? " errno=" : "",
		       err ? rc_errno_name(err) : "");
	}
}

static void log_rejects(rc_live *L, unsigned bidx, uint64_t n, const char *dest)
{
	const rc_breaker_cfg *b = &L->cfg->breakers[bidx];
	rc_log(RC_LOG_INFO, "reject", "breaker=%s count=%llu errno=%s%s%s", b->name,
	       (unsigned long long)n, rc_errno_name(b->reject_errno), dest ? " dest=" : " at_exit=",
	       dest ? dest : "1");
}

/* Count a rejection; log at most one line per breaker per second, carrying
 * the count since the last line. */
void rc_note_reject(rc_live *L, unsigned bidx, int family, const uint8_t *addr,
		    uint16_t port)
{
	__atomic_add_fetch(&L->rej_count[bidx], 1, __ATOMIC_RELAXED);
	if (!rc_log_enabled(RC_LOG_INFO))
		return;
	uint64_t sec = rc_now_ms() / 1000;
	uint64_t last = __atomic_load_n(&L->rej_sec[bidx], __ATOMIC_RELAXED);
	if (sec == last || !__atomic_compare_exchange_n(&L->rej_sec[bidx], &last, sec, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	uint64_t n = __atomic_exchange_n(&L->rej_count[bidx], 0, __ATOMIC_RELAXED);
	char d[RC_HOST_MAX + 16];
	format_dest(family, addr, port, d, sizeof d);
	log_rejects(L, bidx, n, d);
}

/* At exit: calls still open are judged as at close, and the rejections
 * counted since the last line get theirs. */
__attribute__((destructor)) static void rc_dtor(void)
{
	if (!rc_active)
		return;
	rc_guard++;
	rc_calls_at_exit();
	rc_live *L = rc_current();
	for (unsigned i = 0; i < L->cfg->nbreakers; i++) {
		uint64_t n = __atomic_exchange_n(&L->rej_count[i], 0, __ATOMIC_RELAXED);
		if (n)
			log_rejects(L, i, n, NULL);
	}
	rc_guard--;
}

int rc_want_name(const char *name)
{
	return name && rc_active && rc_match_any_name(rc_current()->cfg, name);
}
