/* bulkhead.h - host-wide caps on calls in flight and on open connections
 * per breaker (max_concurrent, max_connections), in the state file.
 *
 * The state file ends with RC_BH_TABLES tables of RC_BH_RECORDS ticket
 * records each.  A table is bound to one (slot, kind) pair the first time
 * a process needs it (kind: calls or connections); every process finds
 * the same table for the same slot (the lowest-numbered one bound to it).
 *
 * A ticket is one record, one 64-bit word (0: free):
 *   bits  0-31  CLOCK_MONOTONIC ms / 16 when it expires (low 32 bits: an
 *               expiry compares right within a year of now, and a record
 *               is never that old: it expires within 10 minutes)
 *   bits 32-53  the holder's pid, in its own pid namespace
 *   bits 54-63  the low 10 bits of the holder's pid-namespace tag
 * Taking one is a single CAS 0 -> record among the first CAP records;
 * giving it back is a CAS record -> 0.  No counter is kept apart: the
 * calls in flight are the non-zero records among the first CAP, so a
 * process killed at any instruction either holds a record or does not.
 * A record is reclaimed (CAS record -> 0 by whoever needs room) once its
 * holder is known dead (alive.h: same namespace, ESRCH) or it expired.
 *
 * Everything here is atomics on the mapping and, to find dead holders,
 * kill(pid, 0): no malloc, no lock, no stdio; errno is preserved.  The
 * futex a waiter sleeps on lives here too, but the system calls that
 * wait and wake are the caller's (the shim's own, engine/gate.c). */
#ifndef RC_BULKHEAD_H
#define RC_BULKHEAD_H

#include <stdint.h>

#include "core/config.h"
#include "core/slot.h"

/* RC_BH_RECORDS (config.h): records per table, the upper bound of
 * max_concurrent and max_connections */

enum rc_bh_kind { RC_BH_CALLS = 0, RC_BH_CONNS = 1 };

/* A connection record expires this long after it was taken or last
 * refreshed (each call on the connection refreshes it): what bounds a
 * connection of a stopped process or one in another pid namespace. */
#define RC_BH_CONN_TTL_MS 600000u

/* How often (ms) one thread checks a table's records for dead holders,
 * at most (one kill(2) per record looked at): the shim's rule. */
#define RC_BH_SCAN_MS 10u

/* rc_bh_table (a table of records) and RC_BH_TABLES: core/slot.h. */

/* A record held, as its holder keeps it: index (-1: none) and value. */
typedef struct rc_bh_hold {
	int      i;
	uint64_t val;
} rc_bh_hold;

#define RC_BH_REC(ns, pid, exp_ms) ((uint32_t)((uint64_t)(exp_ms) >> 4) |                \
				     ((uint64_t)((pid) & 0x3fffffu) << 32) |                    \
				     ((uint64_t)((ns) & 0x3ffu) << 54))
#define RC_BH_PID(v) ((uint32_t)((v) >> 32) & 0x3fffffu)
#define RC_BH_NS(v)  ((uint32_t)((v) >> 54))
#define RC_BH_NS_BITS 10u


/* The table of slot number SLOTNO for KIND in the region TABS, bound if
 * CREATE and none is yet (a free table, or one whose slot is no longer
 * any breaker's: NAME_WORD_OF(slotno) tells, see shm.h).  NULL: none
 * bound (not CREATE), or every table taken.  A scan of RC_BH_TABLES
 * words; call it once per breaker, not per call. */
struct rc_shm;
rc_bh_table *rc_bh_table_of(struct rc_shm *shm, unsigned slotno, int kind, int create);

/* Take a record for PID (namespace tag NS) expiring at EXP_MS among the
 * first CAP records of T, scanning from START.  Return its index (*VALP
 * its value), or -1: all CAP held. */
static inline int rc_bh_take(rc_bh_table *t, unsigned cap, unsigned start, uint64_t val)
{
	for (unsigned k = 0; k < cap; k++) {
		unsigned i = start + k;
		if (i >= cap)
			i -= cap;
		uint64_t z = 0;
		if (__atomic_load_n(&t->rec[i], __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&t->rec[i], &z, val, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return (int)i;
	}
	return -1;
}

/* Give back record I of value VAL (reclaimed meanwhile: nothing).  Return
 * nonzero if a thread may be waiting for it (the caller wakes it: bump
 * seq, FUTEX_WAKE). */
static inline int rc_bh_give(rc_bh_table *t, int i, uint64_t val)
{
	uint64_t v = val;
	__atomic_compare_exchange_n(&t->rec[i], &v, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	return __atomic_load_n(&t->waiters, __ATOMIC_SEQ_CST) != 0;
}

/* Move record I of value *VALP to NVAL (a connection's refresh).  Return
 * nonzero if done (*VALP = NVAL); 0 if it was reclaimed meanwhile. */
static inline int rc_bh_refresh(rc_bh_table *t, int i, uint64_t *valp, uint64_t nval)
{
	uint64_t v = *valp;
	if (!__atomic_compare_exchange_n(&t->rec[i], &v, nval, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return 0;
	*valp = nval;
	return 1;
}

/* Free the records among the first CAP of T that expired by NOW_MS; with
 * DEAD, also those whose holder is known dead (one kill(2) each).
 * Return how many were freed. */
unsigned rc_bh_reclaim(rc_bh_table *t, unsigned cap, uint64_t now_ms, int dead);

/* Records in use among the first CAP of T (what is in flight). */
unsigned rc_bh_held(const rc_bh_table *t, unsigned cap);

/* Nonzero if record V has expired at NOW_MS. */
static inline int rc_bh_expired(uint64_t v, uint64_t now_ms)
{
	return (int32_t)((uint32_t)(now_ms >> 4) - (uint32_t)v) >= 0;
}

/* Fill V's bulkhead fields for breaker B of slot S in SHM at NOW_MS:
 * its caps, and the records held among them (after freeing those that
 * expired or whose holder is dead).  For display (the CLI). */
struct rc_view;
struct rc_slot;
void rc_bh_view(struct rc_shm *shm, const struct rc_slot *s, const rc_breaker_cfg *b,
		uint64_t now_ms, struct rc_view *v);


#endif
