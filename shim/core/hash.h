/* hash.h - FNV-1a, 64-bit: the one hash of the project (state-file boot
 * ids, resolved names, libcurl handles' cached answers). */
#ifndef RC_HASH_H
#define RC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RC_FNV_INIT 0xcbf29ce484222325ull

/* Fold the N bytes at P into hash H (start with RC_FNV_INIT). */
static inline uint64_t rc_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif
