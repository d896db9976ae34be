/* wait.c - see wait.h. */
#include <errno.h>
#include <poll.h>

#include "core/clock.h"
#include "engine/sig.h"
#include "engine/wait.h"

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
			if (!rc_sig_restart()) {
				errno = EINTR;
				return -1;
			}
			continue;
		}
		if (rc_now_us() >= deadline_us)
			return 0;
	}
}
