/* live.h - the config in force, and a breaker as one handle.
 *
 * A live config is a loaded rc_config bound to its breakers' slots in the
 * state file.  A reload makes a new one and swaps it in atomically; old
 * ones are never freed (an fd may still refer to one), so a pointer to an
 * rc_live or an rc_bk stays valid for the process's life. */
#ifndef RC_LIVE_H
#define RC_LIVE_H

#include <stdint.h>

#include "core/config.h"
#include "core/shm.h"

/* A breaker: its config, its slot, its index in the config and the number
 * of its slot in the state file.  Bound to its slot at its first use in
 * the process (rc_live_breaker), not at start: a process of a 4,096-breaker
 * config that uses three of them looks at three slots.  BIND says where
 * that stands: */
enum {
	RC_BK_UNBOUND = 0,  /* not yet (or a look without a claim found none) */
	RC_BK_BOUND = 1,    /* cfg, slot, idx and slotno are set, for good */
	RC_BK_NONE = 2,     /* no slot (logged): it passes through */
	/* else pid << 2 | 3: a thread of that process is binding it */
};

typedef struct rc_bk {
	const rc_breaker_cfg *cfg;
	rc_slot              *slot;
	uint16_t              idx;
	uint16_t              slotno;
	uint32_t              bind;    /* RC_BK_*, read with acquire */
	uint64_t              retry_ms; /* a bind waited too long: none before */
} rc_bk;

typedef struct rc_live {
	rc_config *cfg;
	rc_shm     shm;                    /* the state file it binds in */
	unsigned   gen;                    /* unique per live config made */
	uint32_t   users;                  /* threads using it (rc_live_use) */
	int        owns_cfg;               /* frees cfg when recycled */
	int        shift;                  /* slot number - index, the last bind's */
	uint64_t   retired_ms;             /* when it was replaced */
	struct rc_live *next;              /* on the retired or the free list */
	rc_bk      bk[RC_MAX_BREAKERS];    /* cfg->nbreakers of them */
} rc_live;

/* The state file, mapped once at init. */
extern rc_shm rc_live_shm;

/* The config in force; NULL while the shim is inert.  A pointer from it
 * may be used only by the reloading thread, or under rc_live_use(). */
rc_live *rc_live_current(void);

/* The config in force, held: it is not recycled until rc_live_unuse.
 * Every code path that takes breakers from the config in force (a
 * connect, a libcurl transfer, a name lookup) holds it while it uses
 * them; an fd entry that refers to a breaker keeps its config alive by
 * itself (its breaker is used only under the entry's claim).  NULL while
 * inert.  A superseded config is freed once nothing holds it and no fd
 * entry refers to it: memory stays bounded however often the file is
 * reloaded. */
rc_live *rc_live_use(void);
void rc_live_unuse(rc_live *L);

/* A scope that holds the config in force in L. */
static inline void rc_live_unuse_at(rc_live **L)
{
	rc_live_unuse(*L);
}
#define RC_LIVE_USE(L) \
	__attribute__((cleanup(rc_live_unuse_at))) rc_live *L = rc_live_use()

/* The breaker IDX of L, bound to its slot (claimed if need be) at its
 * first use, or NULL when it cannot act (no slot, mode off).  A thread
 * that finds another binding it waits for it (a claim another process has
 * under way can make that up to 200 ms); a signal handler's call that
 * interrupts its own thread's bind passes through. */
const rc_bk *rc_live_breaker(const rc_live *L, int idx);

/* The breaker IDX of L if it is bound already, else NULL. */
static inline const rc_bk *rc_live_bound(const rc_live *L, unsigned idx)
{
	const rc_bk *b = &L->bk[idx];
	return __atomic_load_n(&b->bind, __ATOMIC_ACQUIRE) == RC_BK_BOUND ? b : NULL;
}

/* The breaker IDX of L, bound if the state file has a slot for it (none
 * is claimed), else NULL; whatever its mode. */
const rc_bk *rc_live_bind_existing(const rc_live *L, unsigned idx);

/* Map the state file at PATH into rc_live_shm, guarded against SIGBUS,
 * and remember which file it was (init, and a rejoin).  Return 0, or -1
 * with ERR set. */
int rc_live_map_state(const char *path, char *err, size_t errlen);

/* Put CFG in force (init); its breakers bind to their slots as they are
 * first used.  Return 0 or -1. */
int rc_live_start(rc_config *cfg, const char *cfgpath, uint64_t now_ms);

/* Config images (core/image.h) are guarded from their mapping on (SIGBUS
 * guard, engine/sig.h): to be called before any is read. */
void rc_live_image_guards(void);

/* CFG is the config loaded at start, as soon as it is (NULL: none):
 * mapped from its image, should the file shrink under the process, its
 * breakers pass through until the next reload check parses the config
 * again. */
void rc_live_guard_image(rc_config *cfg);

/* Re-read the config if it changed and `reload` has passed since the
 * last look.  Never from a signal handler's hook (see engine/init.h). */
void rc_live_maybe_reload(uint64_t now_ms);

/* Log a config_error line for ERR (rc_config_load's "FILE:LINE: msg"
 * text; its first problem) about PATH, with ACTION (pass_through,
 * kept_previous). */
void rc_live_log_config_error(const char *path, const char *err, const char *action);

/* If the state file shrank under the process (a SIGBUS on its mapping
 * put zero pages in place: it passes through), say so, once. */
void rc_live_note_lost(void);

/* After fork in the child: a reload another thread had under way is not
 * this process's. */
void rc_live_atfork_child(void);

#endif
