/* name.c - see name.h.
 *
 * A field is read as RC_NAME_MAX / 8 words, each checked whole with the
 * bit-parallel tests below ("SWAR": one 64-bit operation tests 8 bytes),
 * and hashed whole.  A string is read a byte at a time, never past its
 * NUL (it may end at the end of a page), its bytes gathered into the same
 * words. */
#include <endian.h>
#include <string.h>

#include "core/config.h"
#include "core/hash.h"
#include "core/name.h"

_Static_assert(RC_NAME_MAX % 8 == 0, "a slot's name field is whole words");

/* The characters of a name. */
static const unsigned char name_char[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
	['_'] = 1, ['.'] = 1, ['-'] = 1,
};

static uint32_t hash_end(uint64_t h)
{
	uint32_t r = (uint32_t)rc_hash_end(h);
	return r ? r : 1;
}

uint32_t rc_name_hash(const char *name)
{
	uint64_t h = RC_FNV_INIT, w = 0;
	size_t i;
	unsigned char c;
	for (i = 0; i < RC_NAME_MAX && (c = (unsigned char)name[i]); i++) {
		if (!name_char[c])
			return 0;
		w |= (uint64_t)c << (i % 8 * 8); /* little-endian, on any host */
		if (i % 8 == 7) {
			h = rc_hash_word(h, w);
			w = 0;
		}
	}
	if (i == 0 || i == RC_NAME_MAX)
		return 0;
	return hash_end(rc_hash_word(h, w)); /* the word of the NUL */
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* The high bit of each byte of X that is LO to HI (LO <= HI < 0x80).
 * Every byte of X must be below 0x80: then no sum carries into the next
 * byte. */
static inline uint64_t bytes_in(uint64_t x, unsigned lo, unsigned hi)
{
	return (x + ONES * (0x80 - lo)) & ~(x + ONES * (0x7f - hi)) & HIGHS;
}

uint32_t rc_name_hash_field(const char *field)
{
	uint64_t h = RC_FNV_INIT;
	for (unsigned k = 0; k < RC_NAME_MAX / 8; k++) {
		uint64_t x;
		memcpy(&x, field + 8 * k, 8);
		x = le64toh(x); /* the first byte lowest */
		uint64_t x7 = x & ~HIGHS; /* a byte of 0x80 or more is no character */
		uint64_t ok = bytes_in(x7, '0', '9') | bytes_in(x7 | ONES * 0x20, 'a', 'z') |
			      bytes_in(x7, '-', '.') | bytes_in(x7, '_', '_');
		uint64_t bad = (~ok | x) & HIGHS;
		uint64_t nul = bytes_in(x7, 0, 0) & ~x;
		if (!nul) {
			if (bad)
				return 0;
			h = rc_hash_word(h, x);
			continue;
		}
		/* the bits below the first NUL's: the bytes before it */
		uint64_t before = (nul & -nul) - 1;
		if ((bad & before) || (k == 0 && (nul & 0x80)))
			return 0; /* a bad character, or nothing, before the NUL */
		return hash_end(rc_hash_word(h, x & (before >> 7)));
	}
	return 0; /* no NUL */
}

int rc_name_in_field(const char *field, const char *name)
{
	size_t i;
	unsigned char c;
	for (i = 0; i < RC_NAME_MAX - 1 && (c = (unsigned char)name[i]); i++)
		if (!name_char[c] || field[i] != (char)c)
			return 0;
	return i > 0 && !name[i] && !field[i];
}
