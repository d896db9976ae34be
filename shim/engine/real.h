/* real.h - the real functions behind the hooks, and the shim's per-thread
 * bookkeeping: the re-entry guard as one scoped idiom, the libcurl depth,
 * the cached pid.
 *
 * real_<name> is the next definition of every function in hooks.def.  It
 * is never NULL once asked for through REAL(): a name dlsym cannot find
 * is bound to a stub that fails the call with ENOSYS (returning -1, or
 * NULL for a function returning a pointer), and init logs one line
 * naming it. */
#ifndef RC_REAL_H
#define RC_REAL_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define RC_HOOK(ret, name, params) extern ret (*real_##name) params;
#include "hooks/hooks.def"

/* Resolve every real_<name> (init calls it first), and point core's I/O
 * interface (core/sys.h) at the real functions. */
void rc_real_resolve_all(void);

/* Resolve one real function now (a hook ran before init): *SLOT gets the
 * next definition of NAME, or the ENOSYS stub (PTR: the one returning
 * NULL).  Return *SLOT. */
void *rc_real_resolve(void **slot, const char *name, int ptr);

/* Log one line for each hooked name that could not be resolved.  Called
 * by init once the log is set up. */
void rc_real_log_missing(void);

/* Nonzero if the type RET is a pointer (void counts as none). */
#define RC_RET_IS_PTR(ret)                                                        \
	__builtin_choose_expr(                                                   \
		__builtin_types_compatible_p(ret, void), 0,                      \
		__builtin_classify_type((__typeof__(__builtin_choose_expr(       \
			__builtin_types_compatible_p(ret, void), (int)0, (ret)0)))0) == 5)

/* REAL(name): the real function NAME, never NULL. */
#define RC_HOOK(ret, name, params)                                               \
	static inline ret (*rc_real_##name(void)) params                         \
	{                                                                        \
		if (__builtin_expect(real_##name != NULL, 1))                    \
			return real_##name;                                      \
		return (ret (*) params)rc_real_resolve((void **)&real_##name, #name, \
			RC_RET_IS_PTR(ret));                                     \
	}
#include "hooks/hooks.def"
#define REAL(name) (rc_real_##name())

/* Nonzero while this thread runs shim code: hooked calls the shim makes
 * itself (inside libc, inih, dlsym) go straight to the real function. */
extern __thread int rc_guard __attribute__((tls_model("initial-exec")));
/* Where the outermost scope of this thread's guard was entered (a frame
 * address): a siglongjmp to a frame above it leaves the shim's code
 * (engine/sig.h, rc_sig_jumping). */
extern __thread uintptr_t rc_guard_sp __attribute__((tls_model("initial-exec")));

/* The scope of shim code inside a hook: RC_SCOPE() at the top of a block
 * raises the guard and saves errno; leaving the block (by any path, a
 * return included) lowers the guard and puts errno back as it was, or to
 * the value RC_ERRNO(e) asked for.  The one idiom for both.  Code that
 * touches neither errno nor a hooked call needs none: the common cases of
 * a request's start and of its answer run outside one (engine/stream.c;
 * the guard and the errno save and restore were a tenth of a round
 * trip's instructions), and a signal handler's call on the same fd
 * meanwhile finds the entry claimed. */
typedef struct rc_scope {
	int saved;  /* errno at entry */
	int set;    /* errno to leave behind; -1: SAVED */
} rc_scope;

static inline rc_scope rc_scope_enter(void)
{
	if (!rc_guard++)
		rc_guard_sp = (uintptr_t)__builtin_frame_address(0);
	return (rc_scope){ errno, -1 };
}

/* A scope opened inside another (the guard already raised) leaves errno
 * to the outer one, unless RC_ERRNO asks: two calls of __errno_location
 * fewer, on the call path's inner layers (engine/gate.c). */
static inline rc_scope rc_scope_enter_inner(void)
{
	if (rc_guard++)
		return (rc_scope){ 0, -2 };
	rc_guard_sp = (uintptr_t)__builtin_frame_address(0);
	return (rc_scope){ errno, -1 };
}

static inline void rc_scope_leave(rc_scope *s)
{
	rc_guard--;
	if (s->set != -2)
		errno = s->set >= 0 ? s->set : s->saved;
}

#define RC_SCOPE() \
	__attribute__((cleanup(rc_scope_leave))) rc_scope rc_scope_ = rc_scope_enter()
/* RC_SCOPE() for code that is mostly called inside a scope already. */
#define RC_SCOPE_INNER() \
	__attribute__((cleanup(rc_scope_leave))) rc_scope rc_scope_ = rc_scope_enter_inner()
/* Leave errno E behind when the scope ends. */
#define RC_ERRNO(e) (rc_scope_.set = (e))

/* RC_KEEP_ERRNO() at the top of a block: errno is put back as it was
 * when the block is left, by any path (shim code that must not raise
 * the guard, or runs with it raised already). */
static inline void rc_errno_restore(const int *e)
{
	errno = *e;
}

#define RC_KEEP_ERRNO() \
	__attribute__((cleanup(rc_errno_restore))) const int rc_errno_ = errno

/* While > 0, this thread is inside libcurl (see engine/transfer.h). */
extern __thread int rc_curl_depth __attribute__((tls_model("initial-exec")));

/* This process's pid, right in any child whatever made it: the cached
 * value lives in a page the kernel zeroes in a child made by fork(),
 * _Fork() or clone() without CLONE_VM (MADV_WIPEONFORK), so a child finds
 * 0 and asks getpid() once; no reliance on pthread_atfork.  A vfork child
 * shares its parent's memory and sees the parent's pid (callers that must
 * tell, compare with getpid()). */
extern uint32_t *rc_pid_cell;
uint32_t rc_pid_refresh(void);

static inline uint32_t rc_self_pid(void)
{
	uint32_t p = __atomic_load_n(rc_pid_cell, __ATOMIC_RELAXED);
	return __builtin_expect(p != 0, 1) ? p : rc_pid_refresh();
}

/* Set up the pid cell (init, before any call is judged). */
void rc_pid_init(void);

#endif
