/* hash.h - the project's hashes: FNV-1a, 64-bit, for bytes (state-file
 * boot ids, resolved names, libcurl handles' cached answers), one for
 * whole words (breaker names, NUL-padded as a slot holds them), and one for
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

/* A hash of whole words, a word at a time: an eighth of FNV-1a's steps
 * for the same bytes.  Start with RC_FNV_INIT, fold each word in with
 * rc_hash_word, end with rc_hash_end.  Each step (xor, multiply, fold the
 * high half down) is one-to-one, so two inputs of as many words that
 * differ in one word never collide; the end (murmur3's finaliser) carries
 * every bit into the low ones, which are the ones a table index keeps. */
static inline uint64_t rc_hash_word(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

static inline uint64_t rc_hash_end(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
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
