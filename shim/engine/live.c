/* live.c - see live.h.  Runs at init and at a reload check: it may
 * allocate (the config loader does); the call path only reads what it
 * publishes. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/image.h"
#include "core/index.h"
#include "core/log.h"
#include "engine/fdtable.h"
#include "engine/live.h"
#include "engine/real.h"
#include "engine/sig.h"
#include "engine/sigbus.h"

rc_shm rc_live_shm;
static rc_live *live;          /* the config in force; swapped by reload */
static char cfg_path[4096];

/* Reload bookkeeping: the file as last read, the next check, one checker. */
static struct stat cfg_st;
static uint64_t next_check_ms;
static uint64_t reload_ms;     /* `reload` of the config in force */
static uint32_t reloading;
static int deferred;           /* a check is due but was left by a handler */     /* pid of the process whose thread reloads, or 0 */

rc_live *rc_live_current(void)
{
	return __atomic_load_n(&live, __ATOMIC_ACQUIRE);
}

rc_live *rc_live_use(void)
{
	for (;;) {
		rc_live *L = __atomic_load_n(&live, __ATOMIC_SEQ_CST);
		if (!L)
			return NULL;
		__atomic_add_fetch(&L->users, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&live, __ATOMIC_SEQ_CST) == L)
			return L;
		/* replaced meanwhile (perhaps recycled): let go, take the new */
		__atomic_sub_fetch(&L->users, 1, __ATOMIC_RELEASE);
	}
}

void rc_live_unuse(rc_live *L)
{
	if (L)
		__atomic_sub_fetch(&L->users, 1, __ATOMIC_RELEASE);
}

/* Replaced configs, and recycled rc_live structs (never freed: a thread
 * may still touch one's counter in rc_live_use).  Only the reloading
 * thread changes these lists. */
static rc_live *retired, *spare;
static unsigned next_gen;

/* Put L in force; the one it replaces is retired. */
static void put_in_force(rc_live *L, uint64_t now_ms)
{
	__atomic_store_n(&reload_ms, L->cfg->reload, __ATOMIC_RELAXED);
	rc_live *old = __atomic_exchange_n(&live, L, __ATOMIC_SEQ_CST);
	if (old) {
		old->retired_ms = now_ms;
		old->next = retired;
		retired = old;
	}
}

/* Free the retired configs nothing uses any more. */
static void reap(void)
{
	for (rc_live **pp = &retired; *pp;) {
		rc_live *L = *pp;
		if (__atomic_load_n(&L->users, __ATOMIC_SEQ_CST) != 0 ||
		    rc_fd_refers(L->bk, L->bk + L->cfg->nbreakers)) {
			pp = &L->next;
			continue;
		}
		*pp = L->next;
		if (L->owns_cfg)
			rc_config_free(L->cfg);
		L->cfg = NULL;
		L->next = spare;
		spare = L;
	}
}

/* Nonzero in a thread while it is in bind_bk (a guard: no handler runs
 * in its thread meanwhile, see bind_bk). */
static __thread int binding __attribute__((tls_model("initial-exec")));

static const rc_bk *bind_slot(rc_live *L, unsigned i, int create);

/* Bind breaker I of L to its slot in L's state file (claimed with CREATE)
 * unless that is done; return it, or NULL (no slot: with CREATE, for as
 * long as L is in force, said once in the log; or this call passes
 * through, and a later one tries again).
 *
 * The bind is one piece for the thread's signal handlers: every signal
 * but the faults (SIGBUS is the state file's guard's) is blocked for it,
 * so no handler's call re-enters it or waits for it, and none leaves it
 * half done (a siglongjmp out of an alarm around connect); nor is it
 * cancelled half way (its sleeps and log writes are cancellation points).
 * That is two system calls, once per breaker per config in force. */
/* One piece for the thread's signal handlers and for cancellation: every
 * signal but the faults blocked (*OLD: the mask before), cancellation off
 * (*CS: its state before), until whole_end. */
static void whole_begin(sigset_t *old, int *cs)
{
	rc_sig_block_all(old);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cs);
}

static void whole_end(const sigset_t *old, int cs)
{
	pthread_setcancelstate(cs, NULL);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static const rc_bk *bind_bk(rc_live *L, unsigned i, int create)
{
	if (binding)
		return NULL;
	sigset_t old;
	int cs;
	whole_begin(&old, &cs);
	binding = 1;
	const rc_bk *b = bind_slot(L, i, create);
	binding = 0;
	whole_end(&old, cs);
	return b;
}

static const rc_bk *bind_slot(rc_live *L, unsigned i, int create)
{
	rc_bk *b = &L->bk[i];
	const uint32_t me = rc_self_pid() << 2 | 3;
	uint64_t deadline = 0, retry = __atomic_load_n(&b->retry_ms, __ATOMIC_RELAXED);
	if (retry && rc_now_ms() < retry)
		return NULL;
	for (unsigned spins = 0;; spins++) {
		uint32_t w = __atomic_load_n(&b->bind, __ATOMIC_ACQUIRE);
		if (w == RC_BK_BOUND)
			return b;
		if (w == RC_BK_NONE)
			return NULL;
		/* unbound, or a binder of another process: the parent of this
		 * fork child, whose thread is not here to finish */
		if (w == RC_BK_UNBOUND || w != me) {
			if (__atomic_compare_exchange_n(&b->bind, &w, me, 0, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				break;
			continue;
		}
		/* another thread of ours binds it: microseconds, as a rule */
		uint64_t now = rc_now_ms();
		if (!deadline)
			deadline = now + 1000;
		else if (now >= deadline)
			return NULL; /* this call passes through; a later one looks again */
		if (spins < 64)
			sched_yield();
		else
			rc_sleep_ms(1);
	}
	const rc_breaker_cfg *c = &L->cfg->breakers[i];
	long h = (long)i + __atomic_load_n(&L->shift, __ATOMIC_RELAXED);
	int bad;
	rc_slot *s = rc_shm_bind(&L->shm, c->name, h >= 0 ? (unsigned)h : 0, create, &bad);
	if (s) {
		b->cfg = c;
		b->idx = (uint16_t)i;
		b->slot = s;
		b->slotno = (uint16_t)(s - L->shm.slots);
		__atomic_store_n(&L->shift, (int)b->slotno - (int)i, __ATOMIC_RELAXED);
		__atomic_store_n(&b->bind, RC_BK_BOUND, __ATOMIC_RELEASE);
		return b;
	}
	if (!create || bad == RC_SHM_BUSY) {
		/* none without a claim; or a claim of another process under way
		 * too long (stopped?): this call passes through, and the calls
		 * of the next second without a look */
		if (bad == RC_SHM_BUSY)
			__atomic_store_n(&b->retry_ms, rc_now_ms() + 1000, __ATOMIC_RELAXED);
		__atomic_store_n(&b->bind, RC_BK_UNBOUND, __ATOMIC_RELEASE);
		return NULL;
	}
	if (bad >= 0)
		rc_log(RC_LOG_ERROR, "state_error", "breaker=%s msg=\"slot %d of the state file "
		       "is damaged (its state word)\" action=pass_through", c->name, bad);
	else
		rc_log(RC_LOG_ERROR, "state_error",
		       "breaker=%s msg=\"no slot in the state file\" action=pass_through", c->name);
	__atomic_store_n(&b->bind, RC_BK_NONE, __ATOMIC_RELEASE);
	return NULL;
}

const rc_bk *rc_live_breaker(const rc_live *L, int idx)
{
	if (idx < 0 || !L || (unsigned)idx >= L->cfg->nbreakers ||
	    L->cfg->breakers[idx].mode == RC_MODE_OFF)
		return NULL;
	const rc_bk *b = rc_live_bound(L, (unsigned)idx);
	/* L's bk entries are its own to write (a mapping, see make_live) */
	return __builtin_expect(b != NULL, 1) ? b : bind_bk((rc_live *)(uintptr_t)L, (unsigned)idx, 1);
}

const rc_bk *rc_live_bind_existing(const rc_live *L, unsigned idx)
{
	if (!L || idx >= L->cfg->nbreakers)
		return NULL;
	const rc_bk *b = rc_live_bound(L, idx);
	return b ? b : bind_bk((rc_live *)(uintptr_t)L, idx, 0);
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

/* A live config of CFG, in the state file mapped now (rc_live_shm); its
 * breakers bind to their slots, by name (so state survives a reload), as
 * they are first used.  OWNS_CFG: the new live frees CFG when recycled.
 * Return the new rc_live, or NULL. */
static rc_live *make_live(rc_config *cfg, int owns_cfg)
{
	rc_live *L = spare;
	if (L) {
		spare = L->next;
		/* all but users, which a racer in rc_live_use may be counting in */
		size_t u = offsetof(rc_live, users), ue = u + sizeof L->users;
		memset(L, 0, u);
		memset((char *)L + ue, 0, sizeof *L - ue);
	} else {
		/* mapped, not calloc'd: 98 KiB of zeroes (every breaker
		 * unbound) that calloc would clear page by page, of which a
		 * process touches the pages of the breakers it uses; never
		 * given back (see spare) */
		L = mmap(NULL, sizeof *L, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (L == MAP_FAILED)
			L = NULL;
	}
	if (!L)
		return NULL;
	L->cfg = cfg;
	L->shm = rc_live_shm;
	L->shm.index = NULL;
	L->gen = ++next_gen;
	L->owns_cfg = owns_cfg;
	return L;
}

/* ---- a config image that shrinks under the process (core/image.h) ----
 *
 * A config mapped from its image is pages of a file: truncated in place
 * (it never is by recloser, which renames a new one over it), the next
 * access to it would raise SIGBUS.  The SIGBUS guard (engine/sigbus.h) puts
 * zero pages in its place and this writes on them a config as large
 * whose every breaker is off, and whose index matches nothing: calls pass
 * through, and the next reload check parses the file again. */
static struct {
	rc_breaker_cfg *bk;        /* where the image's breakers were */
	unsigned        n;
	void           *index;     /* and its index */
	rc_breaker_cfg  tmpl;      /* one of them, off */
} stand_in;
static const rc_statusset no_status;
static int image_lost, image_lost_logged;

/* Until a config is known (the image still being checked), nothing is
 * written: its checksum then fails on the zero pages. */
static void write_stand_in(void)
{
	unsigned n = __atomic_load_n(&stand_in.n, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		memcpy(&stand_in.bk[i], &stand_in.tmpl, sizeof stand_in.tmpl);
	if (n)
		rc_index_write_empty(stand_in.index);
}

static void guard_image(void *base, size_t len)
{
	rc_sig_guard_range(base, len, write_stand_in, &image_lost);
}

void rc_live_image_guards(void)
{
	rc_image_on_map = guard_image;
	rc_image_on_unmap = rc_sig_unguard;
}

void rc_live_guard_image(rc_config *c)
{
	/* a shrink while an image was checked (and refused): not this one */
	__atomic_store_n(&image_lost, 0, __ATOMIC_RELEASE);
	if (!c || c->image_own != RC_IMAGE_MAPPED || !c->nbreakers)
		return;
	stand_in.tmpl = c->breakers[0];
	stand_in.tmpl.name = "-";
	stand_in.tmpl.mode = RC_MODE_OFF;
	stand_in.tmpl.http_failure_status = &no_status;
	stand_in.bk = c->breakers;
	stand_in.index = c->index;
	__atomic_store_n(&stand_in.n, c->nbreakers, __ATOMIC_RELEASE);
	/* shrunk between its check and now: the stand-in was not written */
	if (__atomic_load_n(&image_lost, __ATOMIC_ACQUIRE))
		write_stand_in();
}

/* The state file as mapped: which file the path named then. */
static struct stat state_st;

int rc_live_map_state(const char *path, char *err, size_t errlen)
{
	rc_shm n;
	if (rc_shm_map(path, &n, err, errlen) < 0) /* slots: checked as bound */
		return -1;
	rc_live_shm = n;
	rc_sig_guard_mapping(n.hdr, n.size);
	rc_log_count_to(&n.hdr->log_dropped); /* dropped lines: everyone's count */
	stat(path, &state_st);
	return 0;
}

/* Nonzero if the state file's path no longer names the file mapped:
 * removed, replaced, or shrunk (a SIGBUS then put zero pages in place). */
static int state_moved(const char *path)
{
	struct stat st;
	if (rc_sig_mapping_lost() || stat(path, &st) != 0)
		return 1;
	return st.st_dev != state_st.st_dev || st.st_ino != state_st.st_ino ||
	       (size_t)st.st_size != rc_shm_file_size();
}

static int rejoin_failed;  /* the last rejoin failed (and said so) */
static int lost_logged;    /* the lost mapping has been logged */

void rc_live_note_lost(void)
{
	if (!rc_sig_mapping_lost() || __atomic_exchange_n(&lost_logged, 1, __ATOMIC_RELAXED))
		return;
	RC_LIVE_USE(L);
	rc_log(RC_LOG_ERROR, "state_error", "state_file=%s msg=\"the state file shrank under the "
	       "process\" action=pass_through", L ? L->cfg->state_file : "?");
}

/* The state file was removed, replaced or shrunk: map what the path
 * names now (made anew if need be) and bind L's breakers to it, so the
 * process counts where the CLI looks. */
static void rejoin(rc_live *L)
{
	static char err[512];
	const char *path = L->cfg->state_file;
	rc_live_note_lost();
	rc_sig_mapping_clear();
	if (rc_live_map_state(path, err, sizeof err) < 0) {
		char q[600];
		if (!rejoin_failed)
			rc_log(RC_LOG_ERROR, "state_error", "msg=%s action=pass_through",
			       rc_log_quote(err, q, sizeof q));
		rejoin_failed = 1;
		return;
	}
	rejoin_failed = lost_logged = 0;
	rc_live *N = make_live(L->cfg, L->owns_cfg);
	if (!N)
		return;
	L->owns_cfg = 0; /* the config goes on, in N */
	put_in_force(N, rc_now_ms());
	rc_log(RC_LOG_WARN, "state_rejoined", "state_file=%s msg=\"mapped the state file anew\"",
	       path);
}

int rc_live_start(rc_config *cfg, const char *cfgpath, uint64_t now_ms)
{
	snprintf(cfg_path, sizeof cfg_path, "%s", cfgpath);
	stat(cfgpath, &cfg_st);
	rc_live *L = make_live(cfg, 1);
	if (!L)
		return -1;
	put_in_force(L, now_ms);
	next_check_ms = now_ms + cfg->reload;
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The config at cfg_path changed: load it; a good file replaces L in
 * force, a broken one keeps it and logs config_error once per edit.
 * Return 0 if the file could not be read at all (out of fds, say: to be
 * tried again), else 1. */
static char last_unread[4096]; /* the last "cannot read" logged */

static int reload(rc_live *L)
{
	static char err[4096];
	rc_config *c = rc_config_load(cfg_path, err, sizeof err);
	rc_config_drop_patterns(c); /* matched through its index only */
	if (!c) {
		/* "FILE:0: cannot read: ..." (out of fds, say): logged once, and
		 * the next check tries again; a bad file waits for its next edit */
		size_t pl = strlen(cfg_path);
		int unread = strncmp(err, cfg_path, pl) == 0 && strncmp(err + pl, ":0:", 3) == 0;
		if (!unread || strcmp(err, last_unread) != 0)
			rc_live_log_config_error(cfg_path, err, "kept_previous");
		snprintf(last_unread, sizeof last_unread, "%s", unread ? err : "");
		return !unread;
	}
	last_unread[0] = 0;
	if (strcmp(c->state_file, L->cfg->state_file) != 0) {
		rc_log(RC_LOG_WARN, "reload", "msg=\"state_file changes need a restart; keeping %s\"",
		       L->cfg->state_file);
		free(c->state_file);
		c->state_file = strdup(L->cfg->state_file);
	}
	rc_live *N = c->state_file ? make_live(c, 1) : NULL;
	if (!N) {
		rc_config_free(c);
		return 0;
	}
	rc_log_setup(c->log_file, c->log_level, program_invocation_short_name);
	put_in_force(N, rc_now_ms());
	rc_log(RC_LOG_INFO, "reload", "config=%s breakers=%u gen=%u", cfg_path, c->nbreakers,
	       N->gen);
	return 1;
}

/* The reloader's flag, given up by a jump out of its check. */
static void reloader_left(rc_undo *u)
{
	(void)u;
	__atomic_store_n(&reloading, 0, __ATOMIC_RELEASE);
}

void rc_live_maybe_reload(uint64_t now_ms)
{
	uint64_t iv = __atomic_load_n(&reload_ms, __ATOMIC_RELAXED);
	uint64_t due = __atomic_load_n(&next_check_ms, __ATOMIC_RELAXED);
	if (!iv)
		return;
	/* a check deferred out of a signal handler is made by the next call,
	 * whenever it comes: it does not wait for the next interval */
	if (!__atomic_load_n(&deferred, __ATOMIC_RELAXED) &&
	    (now_ms < due || !__atomic_compare_exchange_n(&next_check_ms, &due, now_ms + iv, 0,
							  __ATOMIC_RELAXED, __ATOMIC_RELAXED)))
		return;
	/* one reloader; one left by a thread of the parent (a child made by
	 * fork, _Fork or clone copies the flag, not the thread) is no one */
	uint32_t me = rc_self_pid(), busy = __atomic_load_n(&reloading, __ATOMIC_RELAXED);
	if (busy == me ||
	    !__atomic_compare_exchange_n(&reloading, &busy, me, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return;
	/* a handler that siglongjmps out of the connect this check runs in
	 * (an alarm around it) leaves no reloader behind (engine/sig.h) */
	rc_undo u;
	rc_undo_push(&u, reloader_left);
	sigset_t old;
	int cs = 0, work = 0;
	{
		RC_SCOPE();
		rc_live *L = rc_live_current(); /* only the reloader recycles it */
		struct stat st;
		int lost = __atomic_load_n(&image_lost, __ATOMIC_ACQUIRE);
		int changed = (stat(cfg_path, &st) == 0 && !same_file(&st, &cfg_st)) || lost;
		if (lost && !image_lost_logged) {
			image_lost_logged = 1;
			rc_log(RC_LOG_ERROR, "config_image", "config=%s msg=\"the config's image "
			       "shrank under the process: its breakers passed through\" "
			       "action=parse_again", cfg_path);
		}
		int moved = state_moved(L->cfg->state_file);
		if ((changed || moved) && rc_sig_maybe_in_handler()) {
			/* loading allocates: not inside a signal handler */
			__atomic_store_n(&deferred, 1, __ATOMIC_RELAXED);
		} else {
			/* one piece for the thread's handlers, as a bind (bind_bk):
			 * a handler that siglongjmps out of the connect the reload
			 * runs in never leaves it half done (in malloc, say); the
			 * signals come once the reloader's flag is down */
			work = changed || moved || retired;
			if (work)
				whole_begin(&old, &cs);
			__atomic_store_n(&deferred, 0, __ATOMIC_RELAXED);
			if (moved)
				rejoin(L);
			if (changed && reload(rc_live_current())) {
				cfg_st = st; /* read (good or bad): not again until it changes */
				if (lost)
					__atomic_store_n(&image_lost, 0, __ATOMIC_RELEASE);
			}
			reap();
		}
	}
	/* the flag down first: a jump between the two gives up nothing */
	__atomic_store_n(&reloading, 0, __ATOMIC_RELEASE);
	rc_undo_pop(&u);
	if (work)
		whole_end(&old, cs);
}

void rc_live_atfork_child(void)
{
	__atomic_store_n(&reloading, 0, __ATOMIC_RELAXED);
}
