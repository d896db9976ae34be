/* to_poll.c - a client that waits in poll(2) (no timeout) on a thread of
 * its own, then reads with a blocking read(2).  Usage and output: to_common.h. */
#define _GNU_SOURCE /* strerrorname_np, in to_common.h */
#include <poll.h>
#define BLOCKING_READ 1
#include "to_common.h"

static int wait_fd(int fd, int for_write)
{
	struct pollfd p = { .fd = fd, .events = for_write ? POLLOUT : POLLIN };
	for (;;) {
		int r = poll(&p, 1, -1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}
