/* hash.h - the project's hashes: FNV-1a, 64-bit, for bytes (state-file
 * boot ids, resolved names, libcurl handles' cached answers), and one for
 * pointers (the tables keyed by a libcurl handle or a TLS session). */
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

/* A pointer's 24-bit hash: its bits mixed (xorshift, then a Fibonacci
 * multiply), the top ones kept. */
static inline unsigned rc_hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 29;
	x *= 0x9e3779b97f4a7c15ull;
	return (unsigned)(x >> 40);
}

#endif
