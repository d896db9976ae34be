/* breaker.h - the breaker state machine (SPEC section 4), on one slot.
 *
 * The only code that reads or writes a slot's state word.  Everything here
 * uses only atomics on the mapping: no malloc, no lock, no stdio, and errno
 * is left as it was found.  Time is CLOCK_MONOTONIC in milliseconds, passed
 * in by the caller so the unit tests can drive the machine with a fake
 * clock. */
#ifndef RC_BREAKER_H
#define RC_BREAKER_H

#include <stdint.h>

#include "core/config.h"
#include "core/slot.h"

/* "closed", "open", "half_open", "forced_open", "forced_closed". */
const char *rc_state_name(int state);

/* Upper bounds (microseconds, inclusive) of the latency buckets; the last
 * bucket is +Inf (bound 0). */
extern const uint64_t rc_lat_bounds_us[RC_LAT_BUCKETS];

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
	int      bh;         /* bulkhead record held (core/bulkhead.h), or -1 */
	uint64_t bh_val;     /* its value */
	struct rc_bh_table *bh_tab; /* its table */
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
int rc_breaker_admit(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
	     uint32_t pid, rc_ticket *t, rc_transition *tr);

/* rc_breaker_admit's common case, for a caller that has no other work
 * of admission to do: if S is closed or forced_closed, fill T and return
 * nonzero (admitted: no transition, nothing counted); else 0, T partly
 * written (rc_breaker_admit decides).  (Inlined by the link, LTO.) */
int rc_breaker_admit_closed(rc_slot *s, rc_ticket *t);

enum rc_outcome { RC_OK = 0, RC_FAIL = 1, RC_FAIL_TIMEOUT = 2 };

/* Judge a call admitted with T: OUTCOME, LATENCY_US (start to verdict).
 * A success slower than slow_call (when set) counts as a failure (slow).
 * Counts it exactly once in the totals, the window and the histogram, then
 * applies the state machine if the state word still has T's generation
 * (an answer from before a transition moves nothing).  Releases the probe.
 * *TR tells of a transition made. */
void rc_breaker_record(rc_slot *s, const rc_breaker_cfg *b, const rc_ticket *t,
	       int outcome, uint64_t latency_us, uint64_t now_ms,
	       rc_transition *tr);

/* Keep the deadline DL_MS of an open call of PID (admitted with T), of a
 * connect if CONN, in S: should PID die without a verdict, the call is
 * judged at the deadline (rc_breaker_pend_settle).  Return the record's
 * index (*VALP its value, for rc_breaker_pend_drop) or -1: all RC_PENDING
 * in use (that call is then not judged if its process dies). */
int rc_breaker_pend_add(rc_slot *s, uint32_t pid, uint64_t dl_ms, int conn,
			const rc_ticket *t, uint64_t *valp);

/* The call of record I (value VAL) ended (or its deadline moved): drop
 * it.  Settled meanwhile by another process: nothing. */
void rc_breaker_pend_drop(rc_slot *s, int i, uint64_t val);

/* A record settled by rc_breaker_pend_settle, for the log. */
typedef struct rc_pend_settled {
	uint32_t pid;      /* the process that died */
	int      conn;     /* its connect's deadline (else its response's) */
	uint32_t late_ms;  /* how long ago the deadline passed */
} rc_pend_settled;

/* Judge one call of S whose deadline passed while its process is known
 * dead (our pid namespace, ESRCH): a timeout failure, counted exactly once
 * whoever settles it (CAS).  A record whose holder still looks alive
 * RC_PEND_MAX_MS after its deadline is dropped without a verdict.  Return
 * 1 if one was settled (*OUT, *TR as rc_breaker_record), else 0.  Three
 * loads when nothing is pending; kill(pid, 0) only on a passed deadline. */
int rc_breaker_pend_settle(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
			   rc_pend_settled *out, rc_transition *tr);

/* Settle every call of S rc_breaker_pend_settle can, logging each (an
 * info call line, outcome=timeout settled_for=PID reason=process_died)
 * and the transitions they make.  Return how many. */
unsigned rc_breaker_settle_dead(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms);

/* The log's transition line for TR of B. */
void rc_breaker_log_transition(const rc_breaker_cfg *b, const rc_transition *tr);

/* Nonzero if S keeps any open call's deadline. */
static inline int rc_breaker_pend_any(const rc_slot *s)
{
	_Static_assert(RC_PENDING == 3, "rc_breaker_pend_any looks at 3 records");
	return (__atomic_load_n(&s->pending[0], __ATOMIC_RELAXED) |
		__atomic_load_n(&s->pending[1], __ATOMIC_RELAXED) |
		__atomic_load_n(&s->pending[2], __ATOMIC_RELAXED)) != 0;
}

/* Release T without a verdict (the call never really started). */
void rc_breaker_cancel(rc_slot *s, const rc_ticket *t);

/* Count one rejection that rc_breaker_admit did not make (a call admitted, then
 * refused further down because the breaker opened meanwhile). */
void rc_breaker_count_reject(rc_slot *s);

/* Count one call refused by a bulkhead (max_concurrent, max_connections):
 * in rejected, and in rejected_bulkhead (added first, so that a reader
 * never sees more refused by the bulkhead than refused in all). */
void rc_breaker_count_reject_bulkhead(rc_slot *s);

/* Set the state to TO (any enum rc_state) for every process: the CLI.
 * RC_CLOSED also clears the counts and the window.  Return 0. */
int rc_breaker_set(rc_slot *s, int to, uint64_t now_ms, rc_transition *tr);

/* Probe lifetime for B: a probe held longer is presumed lost.
 * connect_timeout + response_timeout + 1 s, a timeout of 0 (off) counting
 * as 5 s.  A probe is also lost when its holder is dead or when it was
 * taken before the current half-open phase began. */
uint64_t rc_breaker_probe_ttl_ms(const rc_breaker_cfg *b);

/* A consistent-enough copy of S for display. */
typedef struct rc_view {
	int      state;
	unsigned level;
	uint64_t since_ms, in_state_ms;
	uint64_t calls, successes, failures, slow, timeouts, rejected;
	uint64_t rejected_bulkhead;         /* of rejected; the rest: the breaker (open) */
	uint64_t rejected_open;             /* rejected - rejected_bulkhead */
	/* bulkheads, filled by rc_bh_view (core/bulkhead.h); 0 without a cap */
	uint64_t in_flight, max_concurrent, open_connections, max_connections;
	uint64_t transitions, opened;
	uint64_t win_calls, win_failures;   /* in the current window */
	unsigned probes_held;
	uint64_t lat_count[RC_LAT_BUCKETS];
	uint64_t lat_sum_us;
	uint64_t p50_us, p99_us;            /* interpolated in their bucket, 0 if no data,
	                                       UINT64_MAX if in the +Inf bucket */
} rc_view;

void rc_breaker_view(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
		  rc_view *v);

/* The p50 and p99 latencies of the calls counted in COUNT (a histogram
 * over rc_lat_bounds_us, or the difference of two), as in rc_view: 0 if
 * COUNT is empty, UINT64_MAX if in the +Inf bucket. */
void rc_breaker_quantiles(const uint64_t count[RC_LAT_BUCKETS], uint64_t *p50,
			  uint64_t *p99);

/* Rejections not yet written to the log, kept in the slot so that a
 * process that ends without its destructor (_exit, a signal), a reload,
 * or a line that could not be written loses none: whoever writes the next
 * reject line for S carries them.  Add N; take all (returns them, leaves
 * 0); put back N taken but not written. */
void rc_breaker_unlogged_add(rc_slot *s, uint64_t n);
uint64_t rc_breaker_unlogged_take(rc_slot *s);

/* The state S is in now (enum rc_state). */
int rc_breaker_state(const rc_slot *s);

/* Nonzero if S refuses every new call now (open or forced_open) under
 * B's mode enforce: what the socket layer asks inside a libcurl transfer,
 * which is judged whole at the transfer level. */
int rc_breaker_refusing(const rc_slot *s, const rc_breaker_cfg *b);

/* A slot just claimed for a new name: closed since NOW. */
void rc_breaker_init(rc_slot *s, uint64_t now_ms);

/* The state file was made in another boot: its times mean nothing now.
 * Closed at NOW (forced states, which carry no time, stay), probes and
 * counts of the machine cleared. */
void rc_breaker_reboot(rc_slot *s, uint64_t now_ms);

/* Nonzero if S's state word holds a valid state (a corrupt file is
 * refused, not trusted). */
int rc_breaker_valid(const rc_slot *s);

#endif
