/* state.h - the shared state file and the breaker state machine.
 *
 * One file (default /dev/shm/recloser-<uid>) mapped MAP_SHARED by every
 * process that uses recloser and by the CLI.  Breakers are found by name.
 * Every change is a compare-and-swap or an atomic add on the mapping: there
 * is no lock, so a process killed at any instruction leaves nothing held.
 * Time is CLOCK_MONOTONIC in milliseconds, passed in by the caller so the
 * unit tests can drive the machine with a fake clock. */
#ifndef RC_STATE_H
#define RC_STATE_H

#include <stdint.h>
#include <stddef.h>
#include "core/config.h"

#define RC_SHM_MAGIC   0x31534f4c43455252ULL /* "RRECLOS1" little-endian */
#define RC_SHM_VERSION 1u
#define RC_WINDOW_BUCKETS 10  /* rolling window = 10 buckets of window/10 */
#define RC_LAT_BUCKETS 18     /* latency histogram, see rc_lat_bounds_us */

enum rc_state {
	RC_CLOSED = 0, RC_OPEN = 1, RC_HALF_OPEN = 2,
	RC_FORCED_OPEN = 3, RC_FORCED_CLOSED = 4,
};

/* "closed", "open", "half_open", "forced_open", "forced_closed". */
const char *rc_state_name(int state);

/* Upper bounds (microseconds, inclusive) of the latency buckets; the last
 * bucket is +Inf (bound 0). */
extern const uint64_t rc_lat_bounds_us[RC_LAT_BUCKETS];

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
	uint64_t reserved[8];
} rc_slot;

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

/* A transition made by a call below, for the caller to log.  to < 0: none. */
typedef struct rc_transition {
	int         from, to;
	const char *reason;  /* "consecutive_failures", "failure_rate",
	                        "open_elapsed", "probe_failed", "probes_succeeded",
	                        "cli" */
	uint64_t    failures;     /* consecutive failures, or failures in window */
	uint64_t    calls;        /* calls in window (failure_rate) */
	uint64_t    open_ms;      /* open time now in force (to open) */
} rc_transition;

/* What an admitted call carries until it is judged. */
typedef struct rc_ticket {
	uint64_t word;       /* state word at admission */
	uint64_t probe_val;  /* value stored in probes[probe] */
	int      probe;      /* probe slot held, or -1 */
} rc_ticket;

enum { RC_REJECT = 0, RC_ADMIT = 1 };

/* Decide whether a new call to breaker S (configured by B) may start at NOW.
 * May move open -> half_open.  In half_open, admits only while fewer than
 * half_open_probes probes are held host-wide (probes of dead processes, and
 * probes older than the probe lifetime, are reclaimed).  mode = observe
 * always admits (and never counts a rejection); mode = off is the caller's
 * business (it must not call this).
 * Return RC_ADMIT (T filled) or RC_REJECT (rejected counted).  *TR tells
 * of a transition made (tr->to < 0 when none). PID is the caller's pid. */
int rc_admit(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
	     uint32_t pid, rc_ticket *t, rc_transition *tr);

enum rc_outcome { RC_OK = 0, RC_FAIL = 1, RC_FAIL_TIMEOUT = 2 };

/* Judge a call admitted with T: OUTCOME, LATENCY_US (start to verdict).
 * A success slower than slow_call (when set) counts as a failure (slow).
 * Counts it exactly once in the totals, the window and the histogram, then
 * applies the state machine if the state word still has T's generation
 * (an answer from before a transition moves nothing).  Releases the probe.
 * *TR tells of a transition made. */
void rc_report(rc_slot *s, const rc_breaker_cfg *b, const rc_ticket *t,
	       int outcome, uint64_t latency_us, uint64_t now_ms,
	       rc_transition *tr);

/* Release T without a verdict (the call never really started). */
void rc_cancel(rc_slot *s, const rc_ticket *t);

/* Count one rejection that rc_admit did not make (a call admitted, then
 * refused further down because the breaker opened meanwhile). */
void rc_count_reject(rc_slot *s);

/* Set the state to TO (any enum rc_state) for every process: the CLI.
 * RC_CLOSED also clears the counts and the window.  Return 0. */
int rc_set_state(rc_slot *s, int to, uint64_t now_ms, rc_transition *tr);

/* Probe lifetime for B: a probe held longer is presumed lost.
 * connect_timeout + response_timeout + 1 s, a timeout of 0 (off) counting
 * as 5 s.  A probe is also lost when its holder is dead or when it was
 * taken before the current half-open phase began. */
uint64_t rc_probe_ttl_ms(const rc_breaker_cfg *b);

/* A consistent-enough copy of S for display. */
typedef struct rc_view {
	int      state;
	unsigned level;
	uint64_t since_ms, in_state_ms;
	uint64_t calls, successes, failures, slow, timeouts, rejected;
	uint64_t transitions, opened;
	uint64_t win_calls, win_failures;   /* in the current window */
	unsigned probes_held;
	uint64_t lat_count[RC_LAT_BUCKETS];
	uint64_t lat_sum_us;
	uint64_t p50_us, p99_us;            /* interpolated in their bucket, 0 if no data,
	                                       UINT64_MAX if in the +Inf bucket */
} rc_view;

void rc_view_slot(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
		  rc_view *v);

/* CLOCK_MONOTONIC in ms and us. */
uint64_t rc_now_ms(void);
uint64_t rc_now_us(void);

#endif
