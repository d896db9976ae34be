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
#define RC_SHM_VERSION 4u  /* 2: pid-namespace-aware claims and probes, free slots, seen;
                               3: 4096 slots;
                               4: bulkheads (rejected_bulkhead, the tables after the slots);
                                  calls and successes derived, fail_ms (slot.h) */

typedef struct rc_shm_header {
	uint64_t magic;                /* RC_SHM_MAGIC once initialised */
	uint32_t version;              /* RC_SHM_VERSION */
	uint32_t header_size;          /* sizeof(rc_shm_header) */
	uint32_t slot_size;            /* sizeof(rc_slot) */
	uint32_t nslots;               /* RC_MAX_BREAKERS */
	uint64_t init_word;            /* 0 new; a claim (slot.h RC_CLAIM) while
	                                  initialising; 2 done */
	char     boot_id[40];          /* /proc/sys/kernel/random/boot_id at creation */
	uint64_t created_ms;
	uint64_t boot_hash;            /* FNV-1a of boot_id (0: unknown); CAS'd
	                                  by the one process that resets the
	                                  slots of a file from another boot */
	uint64_t log_dropped;          /* log lines any process could not write */
	uint32_t bh_tables;            /* RC_BH_TABLES (core/bulkhead.h) */
	uint32_t bh_table_size;        /* sizeof(rc_bh_table) */
	uint64_t unlogged_hint;        /* at least the sum of the slots'
	                                  unlogged (engine/gate.c): at 0, no
	                                  slot has a rejection waiting for a
	                                  line (0 in files of earlier builds) */
	uint64_t reserved[4];
} rc_shm_header;

typedef struct rc_shm {
	rc_shm_header *hdr;
	rc_slot       *slots;          /* hdr->nslots of them */
	struct rc_bh_table *bh;        /* the bulkhead tables, after the slots
	                                  (core/bulkhead.h) */
	size_t         size;           /* bytes mapped */
	struct rc_shm_index *index;    /* the ready slots by name, as
	                                  rc_shm_open's checks found them, for
	                                  the first rc_shm_slots (which frees
	                                  it, as rc_shm_close does); then NULL */
} rc_shm;

/* Size in bytes of a state file. */
size_t rc_shm_file_size(void);

/* Map the state file at PATH, creating it (mode 0600, O_NOFOLLOW, O_EXCL)
 * and initialising it when missing.  Refuses a symlink, a file not owned by
 * the real uid, a file writable by group or others, and a file whose magic,
 * version, sizes or contents are foreign or corrupt.  A file it sizes is
 * fully allocated before it is mapped, or removed again (a full
 * filesystem): no file is left that would fault (SIGBUS) when touched.  A
 * full-size file with fewer blocks than bytes (an older version's, say)
 * is allocated, or refused.
 * Return 0 and fill *SHM, else -1 with a one-line reason in ERR.
 * Every fd it opens is O_CLOEXEC and closed before it returns. */
int rc_shm_open(const char *path, rc_shm *shm, char *err, size_t errlen);

/* rc_shm_open without its look at every slot (a pass over the 2.4 MiB of
 * a file of 4,096 used slots: a third of a millisecond), for a process
 * that binds its breakers one by one as they are first used, with
 * rc_shm_bind, which looks at each slot it binds: a damaged slot is its
 * breaker's alone, not the file's.  The file's header is checked as by
 * rc_shm_open. */
int rc_shm_map(const char *path, rc_shm *shm, char *err, size_t errlen);
void rc_shm_close(rc_shm *shm);

/* Find the slot of breaker NAME (and note that it is in use); with
 * CREATE, claim a free slot for it.  When every slot is taken, the one
 * seen unused longest is freed for NAME if that is rc_shm_reuse_idle_s or
 * more.  Return the slot, or NULL (not found, table full, or a claim
 * that never completed). */
rc_slot *rc_shm_slot(rc_shm *shm, const char *name, int create);

/* rc_shm_slot for one breaker of a file from rc_shm_map: slot HINT first
 * (where NAME is when its config's breakers were claimed in its order),
 * then a look along the slots.  A slot found under NAME whose state word
 * is not one recloser writes is neither bound nor written to: NULL, and
 * *BAD is its number; NULL because of a claim another process has had
 * under way too long, or races lost: *BAD is RC_SHM_BUSY (try again
 * later); else *BAD is -1.  Waits, as rc_shm_slot does, only at a claim
 * another process has under way (microseconds; at most 200 ms for a
 * claimer stopped in the middle of one). */
#define RC_SHM_BUSY (-2)
rc_slot *rc_shm_bind(rc_shm *shm, const char *name, unsigned hint, int create, int *bad);

/* rc_shm_slot for the N names NAMES at once (a config's breakers): OUT[i]
 * gets NAMES[i]'s slot or NULL.  An index of the slots by name finds the
 * names already there (the first call after rc_shm_open uses the one its
 * checks made; another, or a name that one does not find, one made by a
 * pass over the slots); only the others are looked for and claimed one by
 * one.  Allocates (the index), so not on a call path. */
void rc_shm_slots(rc_shm *shm, const char *const *names, unsigned n, int create,
		  rc_slot **out);

/* Free the slot of breaker NAME for any name, if it has been seen unused
 * for QUIET_S seconds or more (0: at once).  "Seen unused" since the last
 * time it was seen in use: found by rc_shm_slot (a process binding it, the
 * CLI showing it), or its calls, rejections, transitions or probes found
 * changed by a look (rc_shm_forget, rc_shm_slot on a full table); so a
 * slot whose last use nobody saw counts from the first look after it.
 * *IDLE_S (if not NULL): how long it has been.  Return 0 freed, 1 in use
 * (not freed), -1 no slot for NAME.
 * A process that still has the slot bound (its config listed NAME when it
 * last loaded it, or a connection made then is still open) goes on
 * counting into the slot, whatever name takes it next. */
int rc_shm_forget(rc_shm *shm, const char *name, unsigned quiet_s, uint64_t *idle_s);

/* Seconds a slot must have been seen unused before a new name takes it
 * from a full table (RC_SHM_REUSE_IDLE_S, 7 days; the unit tests lower it). */
#define RC_SHM_REUSE_IDLE_S (7u * 24 * 3600)
extern unsigned rc_shm_reuse_idle_s;

#endif
