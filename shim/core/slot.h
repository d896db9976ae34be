/* slot.h - one breaker's shared state in the state file, and the state
 * word's bits.  Types only, and the atomic accessors every user of the
 * mapping goes through; what the fields mean is the business of
 * breaker.c (the state machine, the only reader of the state word) and
 * shm.c (the file and its slots). */
#ifndef RC_SLOT_H
#define RC_SLOT_H

#include <stdint.h>

#include "core/config.h"

#define RC_WINDOW_BUCKETS 10  /* rolling window = 10 buckets of window/10 */
#define RC_LAT_BUCKETS 18     /* latency histogram, see rc_lat_bounds_us */

enum rc_state {
	RC_CLOSED = 0, RC_OPEN = 1, RC_HALF_OPEN = 2,
	RC_FORCED_OPEN = 3, RC_FORCED_CLOSED = 4,
};

/* The state word, one 64-bit atomic, changed only by CAS:
 *   bits  0-2   state (enum rc_state)
 *   bits  3-7   level: the open time is open_duration << level, capped
 *   bits  8-19  generation, +1 on every transition
 *   bits 20-63  CLOCK_MONOTONIC ms when the state was entered */
#define RC_W_STATE(w) ((unsigned)((w) & 7u))
#define RC_W_LEVEL(w) ((unsigned)(((w) >> 3) & 31u))
#define RC_W_GEN(w)   ((unsigned)(((w) >> 8) & 0xfffu))
#define RC_W_SINCE(w) ((uint64_t)(w) >> 20)

/* name_word, and the header's init_word (shm.h), hold a claim while a
 * process writes what the word guards:
 *   bits  0-1   1
 *   bits  2-23  the claimer's pid, in its own pid namespace
 *   bits 24-39  the claimer's pid-namespace tag (core/alive.h)
 *   bits 40-63  CLOCK_MONOTONIC ms / 16 when the claim began (24 bits)
 * A claim is abandoned when its claimer is known dead (same namespace,
 * ESRCH) or it is older than RC_CLAIM_MAX_MS: claims take microseconds.
 * Other values of name_word: */
#define RC_NW_EMPTY 0u   /* never used; so is every slot after it */
#define RC_NW_READY 2u   /* name written: the slot is that breaker's */
#define RC_NW_FREE  3u   /* used, then forgotten: free for any name */

#define RC_CLAIM_MAX_MS 5000u
#define RC_CLAIM(ns, pid, ms) (1u | ((uint64_t)((pid) & 0x3fffffu) << 2) |             \
			       ((uint64_t)((ns) & 0xffffu) << 24) |                    \
			       (((uint64_t)(ms) >> 4 & 0xffffffu) << 40))
#define RC_CLAIM_IS(w)  (((w) & 3u) == 1u)
#define RC_CLAIM_PID(w) ((uint32_t)((w) >> 2) & 0x3fffffu)
#define RC_CLAIM_NS(w)  ((uint32_t)((w) >> 24) & 0xffffu)
#define RC_CLAIM_T(w)   ((uint32_t)((w) >> 40) & 0xffffffu)   /* ms / 16 */

/* A half-open probe held, probes[i] (0: free):
 *   bits  0-31  CLOCK_MONOTONIC ms when it was taken (low 32 bits)
 *   bits 32-53  the holder's pid, in its own pid namespace
 *   bits 54-63  the low 10 bits of the holder's pid-namespace tag */
#define RC_PROBE(ns, pid, ms) ((uint32_t)(ms) | ((uint64_t)((pid) & 0x3fffffu) << 32) | \
			       ((uint64_t)((ns) & 0x3ffu) << 54))
#define RC_PROBE_PID(v) ((uint32_t)((v) >> 32) & 0x3fffffu)
#define RC_PROBE_NS(v)  ((uint32_t)((v) >> 54))
#define RC_PROBE_NS_BITS 10u

/* seen: when a slot was last known in use (shm.c):
 *   bits  0-31  CLOCK_MONOTONIC seconds of that moment
 *   bits 32-63  a fingerprint of what every call changes (calls,
 *               rejected, transitions, probes) as seen then */
#define RC_SEEN(fp, sec) (((uint64_t)(fp) << 32) | (uint32_t)(sec))
#define RC_SEEN_FP(v)    ((uint32_t)((v) >> 32))
#define RC_SEEN_SEC(v)   ((uint32_t)(v))

/* An open call's deadline kept in the slot (pending[i], 0: free), so that
 * a call whose process dies without a verdict (a signal it does not
 * catch, SIGKILL) is still judged: at its deadline, as a timeout, by the
 * first process that looks (breaker.h, rc_breaker_pend_settle):
 *   bits  0-31  CLOCK_MONOTONIC ms of the deadline (low 32 bits)
 *   bits 32-53  the caller's pid, in its own pid namespace
 *   bits 54-62  the low 9 bits of its pid-namespace tag
 *   bit  63     a connect's deadline (else a response's) */
#define RC_PENDING 3
#define RC_PEND(ns, pid, ms, conn) ((uint32_t)(ms) | ((uint64_t)((pid) & 0x3fffffu) << 32) | \
				    ((uint64_t)((ns) & 0x1ffu) << 54) | ((uint64_t)!!(conn) << 63))
#define RC_PEND_PID(v)  ((uint32_t)((v) >> 32) & 0x3fffffu)
#define RC_PEND_NS(v)   ((uint32_t)((v) >> 54) & 0x1ffu)
#define RC_PEND_CONN(v) ((unsigned)((v) >> 63))
#define RC_PEND_NS_BITS 9u
/* A deadline passed this long ago whose holder still looks alive (a
 * stopped process, or its pid reused) is dropped without a verdict. */
#define RC_PEND_MAX_MS 600000u

/* One breaker's shared state.  All fields are only touched atomically. */
typedef struct rc_slot {
	uint64_t name_word;            /* RC_NW_*, or a claim (RC_CLAIM) */
	char     name[RC_NAME_MAX];
	uint64_t word;                 /* the state word above */
	uint64_t consec;               /* (gen << 32) | consecutive failures (closed)
	                                  or consecutive successes (half_open) */
	uint64_t window[RC_WINDOW_BUCKETS]; /* (epoch:24 | calls:20 | failures:20) */
	uint64_t probes[RC_MAX_PROBES];/* 0 free, else RC_PROBE(ns, pid, start ms) */
	uint64_t fail_ms;              /* CLOCK_MONOTONIC ms of the last failure
	                                  (what was "calls" in version 3: the
	                                  calls judged are sum(lat_count), */
	uint64_t unused_successes;     /* successes that less failures: one
	                                  atomic add per call, not three) */
	uint64_t failures;
	uint64_t slow;                 /* failures because slower than slow_call */
	uint64_t timeouts;             /* failures by connect/response timeout */
	uint64_t rejected;             /* calls refused, for any reason */
	uint64_t transitions;
	uint64_t opened;               /* transitions into open or forced_open */
	uint64_t lat_count[RC_LAT_BUCKETS];
	uint64_t lat_sum_us;
	uint64_t unlogged;             /* rejections not yet in a reject line,
	                                  of any process (breaker.h) */
	uint64_t seen;                 /* RC_SEEN: last known in use (shm.c) */
	uint64_t pending[RC_PENDING];  /* 0, or RC_PEND: a call's deadline */
	uint64_t pend_word[RC_PENDING];/* the state word at that call's admission */
	uint64_t rejected_bulkhead;    /* of rejected: refused by a bulkhead
	                                  (max_concurrent, max_connections);
	                                  the rest were refused by the breaker */
	uint64_t bh_bind[2];           /* the bulkhead table (number + 1, 0 none)
	                                  of each kind (RC_BH_CALLS, RC_BH_CONNS):
	                                  set by one CAS, so every process binds
	                                  the same one (core/bulkhead.c) */
} rc_slot;

/* The bulkhead tables after the slots (core/bulkhead.h says what they
 * mean): RC_BH_TABLES of them, each of RC_BH_RECORDS (config.h) ticket
 * records, each bound to one breaker's slot and one kind of cap. */
#define RC_BH_TABLES 128
typedef struct rc_bh_table {
	uint64_t owner;     /* 0 free; else (kind << 32) | (slot number + 1) */
	uint64_t spare;     /* 0 */
	uint32_t seq;       /* futex word: +1 on every release seen by a waiter */
	uint32_t waiters;   /* threads waiting for a record: a hint (waiters
	                       also look every 20 ms); one too many (a waiter
	                       killed in its wait) comes down at the next
	                       release that wakes nobody */
	uint64_t reserved[5];
	uint64_t rec[RC_BH_RECORDS];
} rc_bh_table;

/* Size in bytes of the tables' region. */
#define RC_BH_REGION_SIZE ((unsigned long)RC_BH_TABLES * sizeof(rc_bh_table))

/* Atomic access to the mapping's plain uint64_t fields. */
static inline uint64_t rc_ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void rc_st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void rc_add(uint64_t *p, uint64_t v)
{
	__atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

/* Compare and swap; on failure *EXP holds the current value. */
static inline int rc_cas(uint64_t *p, uint64_t *exp, uint64_t v)
{
	return __atomic_compare_exchange_n(p, exp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

#endif
