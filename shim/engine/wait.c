/* wait.c - see wait.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>

#include "core/clock.h"
#include "engine/real.h"
#include "engine/wait.h"

/* Nonzero (restart) only if every caught signal's handler has SA_RESTART:
 * which signal it was is not known.  Rare: asked only on EINTR. */
static int restart_after_signal(void)
{
	RC_KEEP_ERRNO();
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sigaction(sig, NULL, &sa) != 0)
			continue;
		int caught = (sa.sa_flags & SA_SIGINFO) ? sa.sa_sigaction != NULL
							 : (sa.sa_handler != SIG_DFL &&
							    sa.sa_handler != SIG_IGN);
		if (caught && !(sa.sa_flags & SA_RESTART))
			return 0;
	}
	return 1;
}

int rc_wait_fd(int fd, short events, uint64_t deadline_us)
{
	for (;;) {
		uint64_t now = rc_now_us();
		int ms = now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 1;
		if (n < 0) {
			if (errno != EINTR)
				return -1;
			if (!restart_after_signal()) {
				errno = EINTR;
				return -1;
			}
			continue;
		}
		if (rc_now_us() >= deadline_us)
			return 0;
	}
}
