/* fdtable.h - what each fd means to the shim.
 *
 * One entry per fd of a matched TCP socket, found by index in a two-level
 * table whose chunks are mmap'd on first use: a lookup is two loads.
 *
 * A call starts at connect, or at the first write after the previous
 * response began, and ends at the first response byte (SPEC section 3):
 *
 *   CONNECTING --connected--> WAITING --first byte--> STATUS --> IDLE
 *        |                       |   (HTTP status line       |
 *        +--failed--> NONE       |    still arriving)        |
 *                                +--first byte, not HTTP-----+
 *   IDLE --write--> WAITING (a new call)
 *
 * Only the thread that moved an entry to BUSY (rc_fd_claim) may change
 * it; rc_fd_release publishes the change. */
#ifndef RC_FDTABLE_H
#define RC_FDTABLE_H

#include <stdint.h>

#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/dest.h"
#include "core/http.h"

struct rc_bk; /* engine/live.h */

enum rc_fd_phase {
	RC_FD_NONE = 0,       /* not ours */
	RC_FD_CONNECTING = 1, /* non-blocking connect in flight: a call open */
	RC_FD_WAITING = 2,    /* connected, a call open, no response byte yet */
	RC_FD_STATUS = 3,     /* response began; HTTP status line incomplete */
	RC_FD_IDLE = 4,       /* connected, no call open */
	RC_FD_BUSY = 5,       /* being changed by one thread */
	RC_FD_TIMEDOUT = 6,   /* its call timed out while the program waited
	                         elsewhere (engine/timer.h): every read, write
	                         and SO_ERROR on it tells ETIMEDOUT */
};

enum rc_fd_deadline { RC_DL_CONNECT = 1, RC_DL_RESPONSE = 2 };

#define RC_CALL_WROTE 1    /* the open call has sent bytes */

typedef struct rc_fd {
	uint32_t     phase;     /* enum rc_fd_phase, atomic */
	uint32_t     pid;       /* process that owns the entry */
	const struct rc_bk *bk; /* the breaker the peer belongs to */
	rc_dest      dest;      /* the peer */
	uint64_t     ino;       /* the socket's inode (0: unknown): the same
	                           number may later be another object */
	uint8_t      sotype;    /* from socket(): SOCK_STREAM etc; 0 unknown */
	uint8_t      nonblock;  /* O_NONBLOCK, as last set through the hooks */
	uint8_t      flags;     /* RC_CALL_*, changed only atomically */
	uint8_t      rt;        /* the breaker has a response_timeout */
	uint8_t      checked;   /* the number's object is known: made by a
	                           function the shim watches, or looked at
	                           once (engine/connect.h, rc_fd_adopt); 0 for a
	                           number first seen in I/O (inherited across
	                           exec, received over SCM_RIGHTS) */
	uint8_t      quiet;     /* its calls are judged above the socket (a
	                           libcurl transfer): tracked for the deadlines,
	                           no verdict here */
	void        *tls;       /* the TLS session whose plaintext calls are
	                           judged on it (engine/tls.h), or NULL; atomic */
	uint64_t     ct_ms;     /* its connect_timeout and response_timeout, */
	uint64_t     rt_ms;     /* to read without the claim */
	uint64_t     deadline;  /* us: the open call times out then (0 none);
	                           the timer thread's, see engine/timer.h */
	uint8_t      dl_kind;   /* enum rc_fd_deadline */
	uint8_t      expiring;  /* the timer thread is ending the call */
	int8_t       pend;      /* the deadline's record in the slot + 1, or 0
	                           (core/slot.h, RC_PEND: judged even if the
	                           process dies) */
	uint32_t     pend_pid;  /* the process that made the record */
	uint64_t     pend_val;  /* its value */
	rc_slot     *pend_slot; /* where it is */
	uint64_t     start_us;  /* when the open call started */
	uint64_t     first_us;  /* when its first response byte came */
	rc_ticket    t;
	rc_bh_hold   cn;        /* its connection's record under max_connections
	                           (i -1: none), given back when the entry
	                           stops tracking it (rc_fd_conn_drop) */
	rc_http      http;      /* the response's status line so far */
} rc_fd;

#define RC_FD_CHUNK_BITS 10
#define RC_FD_TOP 1024   /* fds 0 .. 1M-1 are tracked */
extern rc_fd *rc_fd_top[RC_FD_TOP];

/* Return fd's entry if its chunk exists, else NULL.  No system call. */
static inline rc_fd *rc_fd_peek(int fd)
{
	unsigned u = (unsigned)fd;
	if (u >= (RC_FD_TOP << RC_FD_CHUNK_BITS))
		return NULL;
	rc_fd *c = __atomic_load_n(&rc_fd_top[u >> RC_FD_CHUNK_BITS], __ATOMIC_ACQUIRE);
	return c ? &c[u & ((1u << RC_FD_CHUNK_BITS) - 1)] : NULL;
}

/* Return fd's entry, mapping its chunk if needed; NULL if fd is out of
 * range or memory is short. */
rc_fd *rc_fd_get(int fd);

static inline uint32_t rc_fd_phase(const rc_fd *e)
{
	return __atomic_load_n(&e->phase, __ATOMIC_ACQUIRE);
}

/* Nonzero if fd has an entry in a phase other than NONE. */
static inline int rc_fd_tracked(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	return e && rc_fd_phase(e) != RC_FD_NONE;
}

/* Move e from FROM to BUSY.  Return nonzero if this thread got it. */
static inline int rc_fd_claim(rc_fd *e, uint32_t from)
{
	return __atomic_compare_exchange_n(&e->phase, &from, RC_FD_BUSY, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/* Publish e (claimed) in phase TO. */
static inline void rc_fd_release(rc_fd *e, uint32_t to)
{
	__atomic_store_n(&e->phase, to, __ATOMIC_RELEASE);
}

/* Forget e (NONE) unless another thread holds its claim: that thread
 * publishes what it does with it. */
void rc_fd_forget(rc_fd *e);

/* Claim e in whatever phase it is in but BUSY.  Return nonzero if this
 * thread got it. */
int rc_fd_claim_any(rc_fd *e);

/* Nonzero unless fd is known to be another object than the socket e was
 * made for (its number closed where the shim could not see it and handed
 * out again).  One fstat. */
int rc_fd_same_socket(int fd, const rc_fd *e);

/* The inode of socket fd, or 0. */
uint64_t rc_fd_inode(int fd);

/* Claim whatever open phase e is in (CONNECTING, WAITING, STATUS).
 * Return the phase claimed, or RC_FD_NONE. */
uint32_t rc_fd_claim_open(rc_fd *e);

/* The flags byte is also set, without the claim, by a thread that writes
 * while another reads.  Its one flag, RC_CALL_WROTE, is only ever set so
 * (cleared under the claim, with the call it belongs to): an atomic store,
 * not a locked or, which would be one more locked instruction per call. */
static inline void rc_fd_flag_set(rc_fd *e, uint8_t f)
{
	__atomic_store_n(&e->flags, (uint8_t)(__atomic_load_n(&e->flags, __ATOMIC_RELAXED) | f),
			 __ATOMIC_RELAXED);
}

/* Nonzero if an entry in use (not NONE) refers to a breaker handle in
 * [LO, HI): its config may not be freed. */
int rc_fd_refers(const void *lo, const void *hi);

/* No deadline for e's call any more (its verdict came, or a new call
 * starts): see engine/timer.h.  Its record in the slot goes too (by the
 * process that made it: a forked child only forgets its copy). */
void rc_fd_pend_drop(rc_fd *e);
static inline void rc_fd_disarm(rc_fd *e)
{
	__atomic_store_n(&e->deadline, 0, __ATOMIC_RELAXED);
	if (__builtin_expect(e->pend != 0, 0))
		rc_fd_pend_drop(e);
}

/* e stops tracking its connection (NONE, or forgotten): its
 * max_connections record, if any, goes back (engine/gate.c). */
void rc_fd_conn_drop_(rc_fd *e);
static inline void rc_fd_conn_drop(rc_fd *e)
{
	if (__builtin_expect(e->cn.i >= 0, 0))
		rc_fd_conn_drop_(e);
}

/* e was forgotten in phase PH (its number closed where the shim could not
 * see it): its connection record goes back, and so does the bulkhead
 * ticket of a call it had open (which gets no verdict). */
void rc_fd_bh_drop_(rc_fd *e, uint32_t ph);
static inline void rc_fd_bh_drop(rc_fd *e, uint32_t ph)
{
	if (__builtin_expect(e->cn.i >= 0 || (e->t.bh >= 0 && e->t.bh_tab &&
					      ph >= RC_FD_CONNECTING && ph <= RC_FD_STATUS), 0))
		rc_fd_bh_drop_(e, ph);
}

/* Call FN(fd, e, CTX) for every entry of the fds FIRST..LAST whose chunk
 * exists, up to the highest fd rc_fd_get was ever asked for (no entry
 * above it was ever in use), in order, until FN returns nonzero.  Return
 * that, or 0. */
int rc_fd_each(unsigned first, unsigned last, int (*fn)(int fd, rc_fd *e, void *ctx), void *ctx);

#endif
