/* name.h - breaker names as the state file holds them (core/slot.h: a
 * slot's name field, RC_NAME_MAX bytes, NUL-padded): checked and hashed,
 * from a string or from a slot, for core/shm.c's tables of slots by name.
 *
 * A name is 1 to RC_NAME_MAX - 1 characters of [A-Za-z0-9_.-].  Its hash
 * is of its bytes up to and with its NUL as little-endian words, the last
 * one zero after the NUL (core/hash.h, rc_hash_word): the same, from a
 * string or from a field, on any host, whatever follows the NUL in a
 * field.  Two names strncmp finds equal have the same hash.  Never 0. */
#ifndef RC_NAME_H
#define RC_NAME_H

#include <stdint.h>

/* The hash of the name NAME, a string (read to its NUL, RC_NAME_MAX bytes
 * at most), or 0 if it is not a name: one loop over its characters. */
uint32_t rc_name_hash(const char *name);

/* The hash of the name in FIELD, a slot's name field (RC_NAME_MAX bytes),
 * or 0 if it holds no name: what rc_name_hash would say of it as a
 * string, read a word at a time (rc_name_hash takes 2.5 times as long on
 * names of 20-odd characters, and opening a state file checks 4,096). */
uint32_t rc_name_hash_field(const char *field);

/* Nonzero if FIELD, a slot's name field, holds NAME, a string, and NAME
 * is a name: rc_name_hash(NAME) && strncmp(FIELD, NAME, RC_NAME_MAX) == 0,
 * in one loop over NAME's characters. */
int rc_name_in_field(const char *field, const char *name);

#endif
