/* live.c - see live.h.  Runs at init and at a reload check: it may
 * allocate (the config loader does); the call path only reads what it
 * publishes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "engine/live.h"
#include "engine/real.h"

rc_shm rc_live_shm;
static rc_live *live;          /* the config in force; swapped by reload */
static char cfg_path[4096];

/* Reload bookkeeping: the file as last read, the next check, one checker. */
static struct stat cfg_st;
static uint64_t next_check_ms;
static int reloading;

rc_live *rc_live_current(void)
{
	return __atomic_load_n(&live, __ATOMIC_ACQUIRE);
}

const rc_bk *rc_live_breaker(const rc_live *L, int idx)
{
	if (idx < 0 || !L || (unsigned)idx >= L->cfg->nbreakers)
		return NULL;
	const rc_bk *b = &L->bk[idx];
	return b->slot && b->cfg->mode != RC_MODE_OFF ? b : NULL;
}

void rc_live_log_config_error(const char *path, const char *err, const char *action)
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
		rc_bk *b = &L->bk[i];
		b->cfg = &cfg->breakers[i];
		b->idx = (uint16_t)i;
		b->slot = rc_shm_slot(&rc_live_shm, cfg->breakers[i].name, 1);
		if (b->slot)
			b->slotno = (uint16_t)(b->slot - rc_live_shm.slots);
		else
			rc_log(RC_LOG_ERROR, "state_error",
			       "breaker=%s msg=\"no slot in the state file\" action=pass_through",
			       cfg->breakers[i].name);
	}
	return L;
}

int rc_live_start(rc_config *cfg, const char *cfgpath, uint64_t now_ms)
{
	snprintf(cfg_path, sizeof cfg_path, "%s", cfgpath);
	stat(cfgpath, &cfg_st);
	rc_live *L = make_live(cfg, 1);
	if (!L)
		return -1;
	__atomic_store_n(&live, L, __ATOMIC_RELEASE);
	next_check_ms = now_ms + cfg->reload;
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The config at cfg_path changed: load it; a good file replaces L in
 * force, a broken one keeps it and logs config_error once per edit. */
static void reload(rc_live *L)
{
	static char err[4096];
	rc_config *c = rc_config_load(cfg_path, err, sizeof err);
	if (!c) {
		rc_live_log_config_error(cfg_path, err, "kept_previous");
		return;
	}
	if (strcmp(c->state_file, L->cfg->state_file) != 0) {
		rc_log(RC_LOG_WARN, "reload", "msg=\"state_file changes need a restart; keeping %s\"",
		       L->cfg->state_file);
		free(c->state_file);
		c->state_file = strdup(L->cfg->state_file);
	}
	rc_live *N = c->state_file ? make_live(c, L->gen + 1) : NULL;
	if (!N) {
		rc_config_free(c);
		return;
	}
	rc_log_setup(c->log_file, c->log_level, program_invocation_short_name);
	__atomic_store_n(&live, N, __ATOMIC_RELEASE);
	rc_log(RC_LOG_INFO, "reload", "config=%s breakers=%u gen=%u", cfg_path, c->nbreakers,
	       N->gen);
}

void rc_live_maybe_reload(uint64_t now_ms)
{
	rc_live *L = rc_live_current();
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
	{
		RC_SCOPE();
		struct stat st;
		if (stat(cfg_path, &st) == 0 && !same_file(&st, &cfg_st)) {
			cfg_st = st;
			reload(L);
		}
	}
	__atomic_store_n(&reloading, 0, __ATOMIC_RELEASE);
}

void rc_live_atfork_child(void)
{
	reloading = 0;
}
