/* to_epoll.c - a client that waits in epoll_wait(2) (no timeout) on a
 * thread of its own, its socket non-blocking as in an event loop (an EAGAIN
 * after a wake-up is waited again).  Usage and output: to_common.h. */
#define _GNU_SOURCE /* strerrorname_np, in to_common.h */
#include <sys/epoll.h>
#define BLOCKING_READ 0
#include "to_common.h"

static int wait_fd(int fd, int for_write)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -1;
	struct epoll_event ev = { .events = for_write ? EPOLLOUT : EPOLLIN, .data.fd = fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int e = errno;
		close(ep);
		errno = e;
		return -1;
	}
	for (;;) {
		struct epoll_event got;
		int r = epoll_wait(ep, &got, 1, -1);
		if (r > 0) {
			close(ep);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			int e = errno;
			close(ep);
			errno = e;
			return -1;
		}
	}
}
