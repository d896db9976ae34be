/* signal.c - signal dispositions, and jumps out of handlers.
 *  - While the shim's SIGBUS handler guards the state file's mapping
 *    (engine/sigbus.h), a program that sets its own SIGBUS handler gets it
 *    called for every fault but the mapping's, and reads back what it set.
 *  - A handler set with SA_NODEFER (sigaction, or sysv_signal's SysV
 *    semantics) runs behind the shim's trampoline, so that the shim knows
 *    it is in a handler; every way of asking a disposition names the
 *    program's own handler (rc_sig_action, rc_sig_handler_call and _set).
 *  - longjmp and its kin tell the shim where they go first
 *    (rc_sig_jumping): a handler left that way is no longer running, and
 *    a hook's wait left that way gives up what it held.
 * Every other signal call is untouched; an inert shim wraps nothing. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sig.h"
#include "engine/sigbus.h"
#include "hooks/hook.h"

/* The hooked sigaction, for every hook here that sets a disposition. */
static int program_sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	/* whatever rc_guard says: a handler that interrupted the shim's code
	 * (an alarm during a bounded connect) runs with it raised, and its
	 * calls are the program's (the shim's own are REAL's) */
	if (sig == SIGBUS && rc_sig_bus_action(act, oact))
		return 0;
	if (!rc_active)
		return REAL(sigaction)(sig, act, oact);
	return rc_sig_action(sig, act, oact);
}

RC_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	return program_sigaction(sig, act, oact);
}

/* signal and bsd_signal: the same function in glibc */
static sighandler_t program_signal(int sig, sighandler_t h)
{
	if (sig == SIGBUS && h != SIG_ERR) {
		/* signal() is sigaction with SA_RESTART (glibc's BSD semantics) */
		struct sigaction act, old;
		memset(&act, 0, sizeof act);
		act.sa_handler = h;
		act.sa_flags = SA_RESTART;
		sigemptyset(&act.sa_mask);
		if (rc_sig_bus_action(&act, &old))
			return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void (*)(void))old.sa_sigaction
							   : old.sa_handler;
	}
	if (!rc_active)
		return REAL(signal)(sig, h);
	return rc_sig_handler_call(sig, REAL(signal), h);
}

RC_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return program_signal(sig, h);
}

RC_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return program_signal(sig, h);
}

/* sysv_signal: the handler runs once (SA_RESETHAND) and its signal is not
 * blocked meanwhile (SA_NODEFER), as glibc's; made through the hooked
 * sigaction, so that the trampoline sees it. */
static sighandler_t sysv(int sig, sighandler_t h)
{
	if (h == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	act.sa_flags = SA_RESETHAND | SA_NODEFER | SA_INTERRUPT;
	sigemptyset(&act.sa_mask);
	if (program_sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

RC_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	if (!rc_active)
		return REAL(sysv_signal)(sig, h);
	return sysv(sig, h);
}

RC_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	if (!rc_active)
		return REAL(__sysv_signal)(sig, h);
	return sysv(sig, h);
}

/* sigset (SysV): its handlers block their signal, so nothing to wrap;
 * what it returns names the program's handler. */
RC_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	sighandler_t r = REAL(sigset)(sig, h);
	return rc_active ? rc_sig_handler_set(sig, r) : r;
}

/* The jumps.  Each tells rc_sig_jumping, then jumps; never returns. */
#define JUMP(name)                                                              \
	RC_EXPORT void name(struct __jmp_buf_tag env[1], int val)               \
	{                                                                       \
		rc_sig_jumping(env);                                            \
		REAL(name)(env, val);                                           \
		abort(); /* not reached: the real one jumps */                  \
	}
JUMP(longjmp)
JUMP(_longjmp)
JUMP(siglongjmp)
JUMP(__longjmp_chk)
