/* fdtable.c - the fd-indexed table of tracked sockets (see fdtable.h). */
#include <errno.h>
#include <sys/mman.h>

#include "engine/fdtable.h"
#include "engine/real.h"

rc_fd *rc_fd_top[RC_FD_TOP];

rc_fd *rc_fd_get(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	if (e || (unsigned)fd >= (RC_FD_TOP << RC_FD_CHUNK_BITS))
		return e;
	RC_KEEP_ERRNO();
	size_t sz = sizeof(rc_fd) << RC_FD_CHUNK_BITS;
	rc_fd *c = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;
	rc_fd *expect = NULL;
	unsigned i = (unsigned)fd >> RC_FD_CHUNK_BITS;
	if (!__atomic_compare_exchange_n(&rc_fd_top[i], &expect, c, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		munmap(c, sz); /* another thread installed it first */
	return rc_fd_peek(fd);
}

uint32_t rc_fd_claim_open(rc_fd *e)
{
	for (;;) {
		uint32_t ph = rc_fd_phase(e);
		if (ph != RC_FD_CONNECTING && ph != RC_FD_WAITING && ph != RC_FD_STATUS)
			return RC_FD_NONE;
		if (rc_fd_claim(e, ph))
			return ph;
	}
}

void rc_fd_each(void (*fn)(int fd, rc_fd *e))
{
	for (unsigned c = 0; c < RC_FD_TOP; c++) {
		rc_fd *chunk = __atomic_load_n(&rc_fd_top[c], __ATOMIC_ACQUIRE);
		if (!chunk)
			continue;
		for (unsigned i = 0; i < (1u << RC_FD_CHUNK_BITS); i++)
			fn((int)((c << RC_FD_CHUNK_BITS) | i), &chunk[i]);
	}
}
