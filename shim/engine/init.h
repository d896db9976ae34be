/* init.h - whether the shim acts in this process, and its start-up.
 *
 * The shim is active when it is preloaded, finds a readable config that
 * loads, and maps its state file (SPEC section 1); otherwise it is inert:
 * every hook passes straight through. */
#ifndef RC_INIT_H
#define RC_INIT_H

#include "engine/real.h"

/* 2 once init finished (active or inert), else 0 or 1. */
extern int rc_init_done;
/* Nonzero when the shim acts: a valid config and state file. */
extern int rc_active;

/* Run init once (resolves the real functions first).  Safe to call from
 * any hook; does nothing while the guard is up. */
void rc_init(void);

/* Return nonzero if a hook must pass straight through: the guard is set,
 * or the shim is inert.  Runs init on first use. */
static inline int rc_bypass(void)
{
	if (__builtin_expect(rc_guard, 0))
		return 1;
	if (__builtin_expect(__atomic_load_n(&rc_init_done, __ATOMIC_ACQUIRE) != 2, 0))
		rc_init();
	return !rc_active;
}

#endif
