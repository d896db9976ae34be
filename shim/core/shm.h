/* shm.h - the shared state file: open, validate, create, find slots.
 *
 * One file (default /dev/shm/recloser-<uid>) mapped MAP_SHARED by every
 * process that uses recloser and by the CLI.  Breakers are found by name.
 * Every change is a compare-and-swap or an atomic add on the mapping: there
 * is no lock, so a process killed at any instruction leaves nothing held. */
#ifndef RC_SHM_H
#define RC_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "core/slot.h"

#define RC_SHM_MAGIC   0x31534f4c43455252ULL /* "RRECLOS1" little-endian */
#define RC_SHM_VERSION 1u

typedef struct rc_shm_header {
	uint64_t magic;                /* RC_SHM_MAGIC once initialised */
	uint32_t version;              /* RC_SHM_VERSION */
	uint32_t header_size;          /* sizeof(rc_shm_header) */
	uint32_t slot_size;            /* sizeof(rc_slot) */
	uint32_t nslots;               /* RC_MAX_BREAKERS */
	uint64_t init_word;            /* 0 new; (pid<<2)|1 initialising; 2 done */
	char     boot_id[40];          /* /proc/sys/kernel/random/boot_id at creation */
	uint64_t created_ms;
	uint64_t boot_hash;            /* FNV-1a of boot_id (0: unknown); CAS'd
	                                  by the one process that resets the
	                                  slots of a file from another boot */
	uint64_t reserved[7];
} rc_shm_header;

typedef struct rc_shm {
	rc_shm_header *hdr;
	rc_slot       *slots;          /* hdr->nslots of them */
	size_t         size;           /* bytes mapped */
} rc_shm;

/* Size in bytes of a state file. */
size_t rc_shm_file_size(void);

/* Map the state file at PATH, creating it (mode 0600, O_NOFOLLOW, O_EXCL)
 * and initialising it when missing.  Refuses a symlink, a file not owned by
 * the real uid, a file writable by group or others, and a file whose magic,
 * version, sizes or contents are foreign or corrupt.
 * Return 0 and fill *SHM, else -1 with a one-line reason in ERR.
 * Every fd it opens is O_CLOEXEC and closed before it returns. */
int rc_shm_open(const char *path, rc_shm *shm, char *err, size_t errlen);
void rc_shm_close(rc_shm *shm);

/* Find the slot of breaker NAME; with CREATE, claim a free slot for it.
 * Return the slot, or NULL (not found, table full, or a claim that never
 * completed). */
rc_slot *rc_shm_slot(rc_shm *shm, const char *name, int create);

#endif
