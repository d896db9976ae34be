/* gate.h - where the shim asks a breaker.
 *
 * Every call site (a connect, a request on an established connection, a
 * libcurl transfer) goes through these: rc_gate_admit before the call,
 * and rc_gate_verdict (or rc_gate_cancel) after it.  The transition and
 * reject logging happens inside; no caller reads a breaker's state.
 *
 * A destination for the log is FAMILY (AF_INET, AF_INET6) with ADDR and
 * PORT, or FAMILY 0 with ADDR a host name (NUL-terminated). */
#ifndef RC_GATE_H
#define RC_GATE_H

#include <stdint.h>

#include "core/breaker.h"
#include "core/bulkhead.h"
#include "engine/live.h"
#include "engine/sigbus.h"

/* Judge the calls of B whose process died with no verdict, once their
 * deadline has passed (core/slot.h, RC_PEND): each a timeout, with
 * an info-level call line naming the process (settled_for=PID).  Done at
 * every admission while B's slot keeps any deadline. */
void rc_gate_settle(const rc_bk *b, uint64_t now_ms);

/* May a new call to B start at NOW_US?  Return RC_ADMIT (T holds the
 * ticket until rc_gate_verdict or rc_gate_cancel) or RC_REJECT (counted,
 * logged at most once a second per breaker with the count since). */
int rc_gate_admit(const rc_bk *b, uint64_t now_us, int family, const void *addr,
		  uint16_t port, rc_ticket *t);

/* rc_gate_admit's common case, for a caller with nothing else to decide
 * (no bulkhead, the call this process's own): nonzero if B is closed or
 * forced_closed with nothing to settle, T then filled as rc_gate_admit
 * fills it (no transition, no rejection, nothing to log); 0: ask
 * rc_gate_admit.  No errno, no guard: it calls nothing. */
static inline int rc_gate_admit_quick(const rc_bk *b, rc_ticket *t)
{
	return !rc_sig_mapping_lost() && !rc_breaker_pend_any(b->slot) &&
	       rc_breaker_admit_closed(b->slot, t);
}

/* A timeout of a connect: RC_FAIL_TIMEOUT to the breaker, and the log's
 * call line says timeout=connect (RC_FAIL_TIMEOUT alone: response). */
#define RC_CONNECT_TIMEOUT 3

/* Judge the call admitted with T: OUTCOME (RC_OK, RC_FAIL,
 * RC_FAIL_TIMEOUT, RC_CONNECT_TIMEOUT), latency END_US - START_US, ERR
 * its errno (0 none). */
void rc_gate_verdict(const rc_bk *b, const rc_ticket *t, int outcome, uint64_t start_us,
		     uint64_t end_us, int family, const void *addr, uint16_t port, int err);

/* Release T without a verdict (the call never really started). */
void rc_gate_cancel(const rc_bk *b, const rc_ticket *t);

/* The call admitted with T was refused further down, because B opened
 * meanwhile: released, and counted and logged as a rejection. */
void rc_gate_reject_late(const rc_bk *b, const rc_ticket *t, int family, const void *addr,
			 uint16_t port);

/* B's bulkheads (max_concurrent, and max_connections when CONN is not
 * NULL), for a call admitted by rc_gate_admit with T: take a ticket into
 * T (and a connection record into *CONN).  When all are held, a caller
 * that may block waits for one, up to max_wait, never longer than OWN_MS
 * (its own bound, 0 none) or fd's SO_SNDTIMEO: MAY_BLOCK 1 yes, 0 no, -1
 * ask fd's O_NONBLOCK (FD < 0: never waits).  Return RC_ADMIT, or
 * RC_REJECT: T released, the refusal counted (rejected, reason
 * bulkhead) and logged.  mode = observe: never refuses, takes nothing.
 * *NOW_US is the time of the call's start; if it waited, the time it got
 * its tickets (a wait for a ticket is not the service's latency).
 * The ticket goes back with T at rc_gate_verdict, rc_gate_cancel or
 * rc_gate_reject_late.  Call only when B has a cap. */
int rc_gate_bulkhead(const rc_bk *b, rc_ticket *t, int fd, int may_block, uint64_t own_ms,
		     rc_bh_hold *conn, uint64_t *now_us, int family, const void *addr,
		     uint16_t port);

/* A request's ticket under B's max_concurrent, the common case only:
 * RC_ADMIT if taken (or none is needed), -1 if every ticket is held (then
 * rc_gate_bulkhead waits or refuses).  Three arguments, not ten: it is on
 * every request of a capped breaker. */
int rc_gate_ticket(const rc_bk *b, rc_ticket *t, uint64_t now_us);

/* Nonzero if B has a bulkhead: one predictable branch on the call path. */
static inline int rc_gate_capped(const rc_bk *b)
{
	return (b->cfg->max_concurrent | b->cfg->max_connections) != 0;
}

/* Give back B's connection record H (the connection is closed or no
 * longer tracked); a record a parent made (H inherited over fork) stays
 * the parent's.  H->i becomes -1. */
void rc_gate_conn_give(const rc_bk *b, rc_bh_hold *h);

/* A call starts on the connection holding H: its record's expiry moves
 * to RC_BH_CONN_TTL_MS from now. */
void rc_gate_conn_touch(const rc_bk *b, rc_bh_hold *h);

/* Nonzero if B refuses every new call now (open or forced_open, mode
 * enforce): the socket layer's question inside a libcurl transfer. */
int rc_gate_refusing(const rc_bk *b);

/* Nonzero if B is closed or forced_closed (a request on an established
 * connection may be cut only when it is not). */
int rc_gate_closed(const rc_bk *b);

/* Write the rejections that no line has carried yet, for every breaker of
 * the config in force (at start: those a process that ended without its
 * destructor left; AT_EXIT: this process's last word). */
void rc_gate_flush_rejects(int at_exit);

/* Nonzero for an errno that means the service (or the way to it) failed. */
int rc_is_net_failure(int e);

#endif
