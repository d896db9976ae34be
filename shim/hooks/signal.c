/* signal.c - signal dispositions.  While the shim's SIGBUS handler guards
 * the state file's mapping (engine/sig.h), a program that sets its own
 * SIGBUS handler gets it called for every fault but the mapping's, and
 * reads back what it set; every other signal is untouched. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "engine/sig.h"
#include "hooks/hook.h"

RC_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
	if (sig == SIGBUS && !rc_guard && rc_sig_bus_action(act, oact))
		return 0;
	return REAL(sigaction)(sig, act, oact);
}

RC_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	if (sig == SIGBUS && !rc_guard && h != SIG_ERR) {
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
	return REAL(signal)(sig, h);
}
