/* to_select.c - a client that waits in select(2) (no timeout) on a thread
 * of its own, then reads with a blocking read(2).  Usage and output:
 * to_common.h. */
#define _GNU_SOURCE /* strerrorname_np, in to_common.h */
#include <sys/select.h>
#define BLOCKING_READ 1
#include "to_common.h"

static int wait_fd(int fd, int for_write)
{
	for (;;) {
		fd_set s;
		FD_ZERO(&s);
		FD_SET(fd, &s);
		int r = select(fd + 1, for_write ? NULL : &s, for_write ? &s : NULL, NULL, NULL);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}
