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

/* One breaker's shared state.  All fields are only touched atomically. */
typedef struct rc_slot {
	uint64_t name_word;            /* 0 empty; (pid<<2)|1 claiming; 2 ready */
	char     name[RC_NAME_MAX];
	uint64_t word;                 /* the state word above */
	uint64_t consec;               /* (gen << 32) | consecutive failures (closed)
	                                  or consecutive successes (half_open) */
	uint64_t window[RC_WINDOW_BUCKETS]; /* (epoch:24 | calls:20 | failures:20) */
	uint64_t probes[RC_MAX_PROBES];/* 0 free, else (pid << 32) | start ms (low 32 bits) */
	uint64_t calls;                /* judged calls let through */
	uint64_t successes;
	uint64_t failures;
	uint64_t slow;                 /* failures because slower than slow_call */
	uint64_t timeouts;             /* failures by connect/response timeout */
	uint64_t rejected;             /* calls refused */
	uint64_t transitions;
	uint64_t opened;               /* transitions into open or forced_open */
	uint64_t lat_count[RC_LAT_BUCKETS];
	uint64_t lat_sum_us;
	uint64_t unlogged;             /* rejections not yet in a reject line,
	                                  of any process (breaker.h) */
	uint64_t reserved[7];
} rc_slot;

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
