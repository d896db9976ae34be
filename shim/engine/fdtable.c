/* fdtable.c - the fd-indexed table of tracked sockets (see engine.h). */
#include <errno.h>
#include <sys/mman.h>

#include "engine/engine.h"

rc_fd *rc_fd_top[RC_FD_TOP];

rc_fd *rc_fd_get(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	if (e || (unsigned)fd >= (RC_FD_TOP << RC_FD_CHUNK_BITS))
		return e;
	int saved = errno;
	size_t sz = sizeof(rc_fd) << RC_FD_CHUNK_BITS;
	rc_fd *c = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		errno = saved;
		return NULL;
	}
	rc_fd *expect = NULL;
	unsigned i = (unsigned)fd >> RC_FD_CHUNK_BITS;
	if (!__atomic_compare_exchange_n(&rc_fd_top[i], &expect, c, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		munmap(c, sz); /* another thread installed it first */
	errno = saved;
	return rc_fd_peek(fd);
}
