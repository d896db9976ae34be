/* scratch.c - see scratch.h. */
#include <errno.h>
#include <sys/mman.h>

#include "core/scratch.h"

void *rc_scratch_alloc(size_t n)
{
	int e = errno;
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	errno = e;
	return p == MAP_FAILED ? NULL : p;
}

void rc_scratch_free(void *p, size_t n)
{
	int e = errno;
	if (p)
		munmap(p, n ? n : 1);
	errno = e;
}
