/* sig.h - what the shim needs to know of the program's signal handlers.
 * All of it async-signal-safe, none of it on the call path (asked only
 * after a wait was interrupted, or when a reload is due). */
#ifndef RC_SIG_H
#define RC_SIG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Nonzero (restart) if every caught signal's handler has SA_RESTART, as
 * the kernel would restart the interrupted call; which signal came is not
 * known.  Fault signals (SEGV, BUS, FPE, ILL, TRAP, SYS) are delivered at
 * the faulting instruction and never interrupt a wait: they do not count. */
int rc_sig_restart(void);

/* Nonzero if this thread may be running a signal handler:
 *  - it runs on its alternate signal stack (sigaltstack: SS_ONSTACK);
 *  - or a handler the program installed with SA_NODEFER (through the
 *    hooked sigaction or sysv_signal) runs: such a handler leaves its
 *    signal unblocked, so the shim installs it behind a trampoline that
 *    notes its frame (rc_sig_action);
 *  - or a caught signal is blocked in its mask, as it is while its
 *    handler runs, and the thread did not already keep it blocked at its
 *    first look (a JVM keeps SIGQUIT blocked and caught in all its threads
 *    but one).
 * Not seen: an SA_NODEFER handler installed where the hooks cannot see
 * (a raw rt_sigaction, sigvec) and not on the alternate stack, or one for
 * a fault signal (SEGV, BUS, FPE, ILL, TRAP, SYS), which is never
 * wrapped. */
int rc_sig_maybe_in_handler(void);

/* The hooked sigaction: as sigaction(2), but a handler with SA_NODEFER
 * (not for a fault signal) is installed behind the trampoline, and what
 * *OACT gets names the program's own handler and flags, never the
 * trampoline.  Async-signal-safe, as sigaction is.  Calls of it and of
 * rc_sig_handler_call from several threads at once are taken one at a
 * time (a wait of microseconds, the thread's signals blocked; of 50 ms at
 * most, should the thread in it be gone), so the trampoline calls the
 * handler of the call the kernel took last. */
int rc_sig_action(int sig, const struct sigaction *act, struct sigaction *oact);

/* Block every signal in this thread but the faults (SEGV, BUS, FPE, ILL,
 * TRAP, and SYS: a seccomp trap on a blocked SIGSYS kills); *OLD gets the
 * mask before. */
void rc_sig_block_all(sigset_t *old);

/* REAL (signal or bsd_signal: a function of libc's that sets a
 * disposition without SA_NODEFER and leaves the mask alone) called for
 * SIG and H in rc_sig_action's one-at-a-time piece; what it returns names
 * the program's handler where the kernel had the trampoline. */
__sighandler_t rc_sig_handler_call(int sig, __sighandler_t (*real)(int, __sighandler_t),
				   __sighandler_t h);

/* H, a handler the kernel reports for SIG (sigset returns it: sigset asks
 * and sets the thread's mask, so it is not called in that piece, whose
 * signals are blocked), as the program set it: the trampoline is named as
 * the handler behind it. */
__sighandler_t rc_sig_handler_set(int sig, __sighandler_t h);

/* In the child of a fork: no other thread is in rc_sig_action's piece. */
void rc_sig_atfork_child(void);

/* What a piece of shim code that holds something while it waits (a
 * ticket, a socket's flags) does should a handler siglongjmp out of the
 * wait: a record on the stack of the function that holds it, pushed
 * before the wait and popped after (no return between).  FN gets the
 * record (embed it first in a struct of what FN needs).  The thread's
 * list of records is the shim's own (a few per thread, thread-local),
 * with each record's function's frame address (not the record's: a
 * sanitizer may put locals elsewhere): a record whose frame is gone
 * without a pop (setcontext, a jump the hooks did not see) is told from
 * that list alone, dropped, and never read.  A record that finds the list
 * full is not kept (what it holds is then not given back by a jump). */
typedef struct rc_undo {
	void (*fn)(struct rc_undo *);
} rc_undo;
void rc_undo_push_at(rc_undo *u, void (*fn)(rc_undo *), uintptr_t sp);
static inline __attribute__((always_inline)) void rc_undo_push(rc_undo *u,
								 void (*fn)(rc_undo *))
{
	rc_undo_push_at(u, fn, (uintptr_t)__builtin_frame_address(0));
}
void rc_undo_pop(rc_undo *u);

/* ENV is about to be jumped to (the hooked longjmp, _longjmp, siglongjmp,
 * __longjmp_chk).  Where the frame it resumes is known (glibc on x86-64:
 * its saved stack pointer), the notes of the SA_NODEFER handlers it
 * leaves are dropped; and if it leaves the shim's own code (a handler
 * that interrupted a wait in a hook jumps back to the program), what that
 * code held is given up, as when the wait ends with EINTR: the records of
 * rc_undo_push run, newest first, and the guard comes down.  Cheap when
 * there is nothing to do (no note, no guard raised). */
void rc_sig_jumping(const void *env);

/* The thread's first look, taken when it makes a TCP socket, as outside
 * any handler (a thread whose first TCP socket is made inside a handler
 * is not seen to be in that handler later): the caught signals it blocks
 * now it keeps blocked.  Cheap after the first call. */
void rc_sig_first_look(void);

#endif
