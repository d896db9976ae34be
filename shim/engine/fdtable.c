/* fdtable.c - the fd-indexed table of tracked sockets (see fdtable.h). */
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "core/hot.h"
#include "engine/fdtable.h"
#include "engine/real.h"

rc_fd *rc_fd_top[RC_FD_TOP];

/* One more than the highest fd rc_fd_get was asked for: an entry is put
 * to use only through it, so rc_fd_each looks no further (a walk over a
 * whole chunk reads 50 pages of it that were never touched: at every
 * exit, 50 us of page faults). */
static unsigned hwm;

static void raise_hwm(int fd)
{
	unsigned u = (unsigned)fd + 1, h = __atomic_load_n(&hwm, __ATOMIC_ACQUIRE);
	while (u > h && !__atomic_compare_exchange_n(&hwm, &h, u, 0, __ATOMIC_ACQ_REL,
						     __ATOMIC_ACQUIRE))
		;
}

rc_fd *rc_fd_get(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	if (e)
		raise_hwm(fd);
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
	raise_hwm(fd);
	return rc_fd_peek(fd);
}

int rc_fd_claim_any(rc_fd *e)
{
	for (;;) {
		uint32_t ph = rc_fd_phase(e);
		if (ph == RC_FD_BUSY)
			return 0;
		if (rc_fd_claim(e, ph))
			return 1;
	}
}

void rc_fd_forget(rc_fd *e)
{
	for (;;) {
		uint32_t ph = rc_fd_phase(e);
		if (ph == RC_FD_NONE || ph == RC_FD_BUSY)
			return;
		if (__atomic_compare_exchange_n(&e->phase, &ph, RC_FD_NONE, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			rc_fd_bh_drop(e, ph);
			return;
		}
	}
}

RC_HOT uint32_t rc_fd_claim_open(rc_fd *e)
{
	for (;;) {
		uint32_t ph = rc_fd_phase(e);
		if (ph != RC_FD_CONNECTING && ph != RC_FD_WAITING && ph != RC_FD_STATUS)
			return RC_FD_NONE;
		if (rc_fd_claim(e, ph))
			return ph;
	}
}

int rc_fd_each(unsigned first, unsigned last, int (*fn)(int fd, rc_fd *e, void *ctx), void *ctx)
{
	unsigned h = __atomic_load_n(&hwm, __ATOMIC_ACQUIRE);
	if (!h)
		return 0;
	if (last > h - 1)
		last = h - 1;
	/* only chunks that exist can hold entries */
	for (unsigned c = first >> RC_FD_CHUNK_BITS; c < RC_FD_TOP && c <= last >> RC_FD_CHUNK_BITS;
	     c++) {
		rc_fd *chunk = __atomic_load_n(&rc_fd_top[c], __ATOMIC_ACQUIRE);
		if (!chunk)
			continue;
		unsigned lo = c << RC_FD_CHUNK_BITS, hi = lo + (1u << RC_FD_CHUNK_BITS) - 1;
		for (unsigned fd = lo > first ? lo : first; fd <= hi && fd <= last; fd++) {
			int r = fn((int)fd, &chunk[fd - lo], ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

uint64_t rc_fd_inode(int fd)
{
	RC_KEEP_ERRNO();
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? (uint64_t)st.st_ino : 0;
}

int rc_fd_same_socket(int fd, const rc_fd *e)
{
	return !e->ino || rc_fd_inode(fd) == e->ino;
}

struct span {
	const void *lo, *hi;
};

static int refers(int fd, rc_fd *e, void *ctx)
{
	const struct span *sp = ctx;
	const void *b = __atomic_load_n(&e->bk, __ATOMIC_ACQUIRE);
	return rc_fd_phase(e) != RC_FD_NONE && b >= sp->lo && b < sp->hi;
}

int rc_fd_refers(const void *lo, const void *hi)
{
	struct span sp = { lo, hi };
	return rc_fd_each(0, ~0u, refers, &sp);
}

void rc_fd_pend_drop(rc_fd *e)
{
	int i = e->pend - 1;
	e->pend = 0;
	if (e->pend_pid == rc_self_pid())
		rc_breaker_pend_drop(e->pend_slot, i, e->pend_val);
}
