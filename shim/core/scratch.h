/* scratch.h - big, short-lived, zeroed memory for loading a config and
 * binding its breakers: mapped, not malloc'd.  Freeing a large malloc'd
 * block raises glibc's mmap and trim thresholds for the rest of the host
 * program's life, after which such temporaries stay behind as touched
 * holes in its heap (make bench: memory with 4,096 breakers).  Not for the
 * call path (system calls). */
#ifndef RC_SCRATCH_H
#define RC_SCRATCH_H

#include <stddef.h>

/* N zeroed bytes (at least one page), or NULL. */
void *rc_scratch_alloc(size_t n);

/* Give back P, N bytes from rc_scratch_alloc (NULL: nothing). */
void rc_scratch_free(void *p, size_t n);

#endif
