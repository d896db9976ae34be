/* engine.h - what the thin hooks call: init, the guard, the breaker logic
 * behind connect, the settling of calls, the fd table and the names table.
 * Internal to the shim; every symbol is hidden. */
#ifndef RC_ENGINE_H
#define RC_ENGINE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netdb.h>

#include "core/config.h"
#include "core/state.h"

/* real_<name>: the next definition of every hooked function. */
#define RC_HOOK(ret, name, params) extern ret (*real_##name) params;
#include "hooks/hooks.def"

/* Nonzero while this thread runs shim code: hooked calls made by the shim
 * itself go straight to the real function. */
extern __thread int rc_guard __attribute__((tls_model("initial-exec")));

/* 2 once init finished (active or inert), else 0 or 1. */
extern int rc_init_done;
/* Nonzero when the shim acts: a valid config and state file. */
extern int rc_active;

/* Run init once (resolves real_* first).  Safe to call from any hook. */
void rc_init(void);

/* Return nonzero if a hook must pass straight through: the guard is set,
 * or the shim is inert.  Runs init on first use. */
static inline int rc_bypass(void)
{
	if (__builtin_expect(rc_guard, 0))
		return 1;
	if (__builtin_expect(__atomic_load_n(&rc_init_done, __ATOMIC_ACQUIRE) != 2, 0))
		rc_init();
	return !rc_active;
}

/* ---- the fd table (fdtable.c) ----
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
 * Only the thread that moved an entry to BUSY may change it. */
enum rc_fd_phase {
	RC_FD_NONE = 0,       /* not ours */
	RC_FD_CONNECTING = 1, /* non-blocking connect in flight: a call open */
	RC_FD_WAITING = 2,    /* connected, a call open, no response byte yet */
	RC_FD_STATUS = 3,     /* response began; HTTP status line incomplete */
	RC_FD_IDLE = 4,       /* connected, no call open */
	RC_FD_BUSY = 5,       /* being changed by one thread */
};

/* One loaded config with its breakers' slots in the state file.  A reload
 * makes a new one; old ones are never freed (an fd may still refer to
 * one), so a pointer to an rc_live stays valid for the process's life. */
typedef struct rc_live {
	rc_config *cfg;
	rc_slot   *slots[RC_MAX_BREAKERS];  /* NULL: that breaker passes through */
	uint64_t   rej_count[RC_MAX_BREAKERS]; /* rejections not yet logged */
	uint64_t   rej_sec[RC_MAX_BREAKERS];   /* second of the last reject line */
	unsigned   gen;                        /* 1, 2, ... per reload */
} rc_live;

#define RC_CALL_WROTE 1    /* the open call has sent bytes */
#define RC_CALL_INTERIM 2  /* skipping a 1xx head before the answer */

typedef struct rc_fd {
	uint32_t  phase;     /* enum rc_fd_phase, atomic */
	uint16_t  bidx;      /* breaker index in live->cfg */
	uint16_t  port;      /* destination port, host order */
	uint32_t  pid;       /* process that owns the entry */
	uint8_t   family;    /* AF_INET or AF_INET6 (normalised) */
	uint8_t   sotype;    /* from socket(): SOCK_STREAM etc; 0 unknown */
	uint8_t   nonblock;  /* O_NONBLOCK, as last set through the hooks */
	uint8_t   flags;     /* RC_CALL_* */
	rc_live  *live;      /* the config bidx refers to */
	uint8_t   addr[16];  /* destination address */
	uint64_t  start_us;  /* when the open call started */
	uint64_t  first_us;  /* when its first response byte came */
	rc_ticket t;
	uint8_t   hlen;      /* bytes of a status line collected in hbuf */
	uint8_t   skip;      /* "\r\n\r\n" matched so far in an interim head */
	uint8_t   rt;        /* the breaker has a response_timeout */
	char      hbuf[13];
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

/* ---- resolved names (names.c) ---- */

/* Remember that NAME resolved to the address in SA (AF_INET or AF_INET6;
 * a v4-mapped address is stored as IPv4).  Bounded; best effort. */
void rc_names_add(const char *name, const struct sockaddr *sa);
void rc_names_add_raw(const char *name, int family, const void *addr);

/* Copy up to MAX names recorded for FAMILY/ADDR (ADDR normalised: 4 bytes
 * for IPv4) into NAMES (each RC_HOST_MAX bytes).  Return the count. */
unsigned rc_names_lookup(int family, const uint8_t *addr,
			 char names[][RC_HOST_MAX], unsigned max);

/* ---- the engine (engine.c): init, reload, judging, logging ---- */

extern uint32_t rc_pid;          /* this process, kept right across fork */
rc_live *rc_current(void);       /* the config in force */

/* Re-read the config if it changed and `reload` has passed. */
void rc_maybe_reload(uint64_t now_ms);

/* Nonzero for an errno that means the service (or the way to it) failed. */
int rc_is_net_failure(int e);
const char *rc_errno_name(int e);

void rc_log_transition_(const rc_breaker_cfg *b, const rc_transition *tr);

/* Log the transition TR made, if any (most calls make none: no call). */
static inline void rc_log_transition(const rc_breaker_cfg *b, const rc_transition *tr)
{
	if (__builtin_expect(tr->to >= 0, 0))
		rc_log_transition_(b, tr);
}

/* Judge an admitted call: count it, move the state machine, log.  The
 * latency is END_US - START_US.  The destination, for the log: FAMILY
 * AF_INET/AF_INET6 with ADDR, or 0 with ADDR a host name (NUL-terminated). */
void rc_judge(rc_live *L, unsigned bidx, const rc_ticket *t, int outcome, uint64_t start_us,
	      uint64_t end_us, int family, const uint8_t *addr, uint16_t port, int err);

/* Count a rejection (the slot already did); log it at most once a second. */
void rc_note_reject(rc_live *L, unsigned bidx, int family, const uint8_t *addr,
		    uint16_t port);

/* A name resolution for NAME succeeded: nonzero if its addresses are worth
 * remembering (a host-name pattern could match it). */
int rc_want_name(const char *name);

/* ---- calls (calls.c): connect and the data path ---- */

/* The logic behind connect(2).  Return as connect does. */
int rc_connect(int fd, const struct sockaddr *sa, socklen_t len);

/* Around a write-side call on a tracked fd.  rc_write_begin returns 0 to
 * go on, or -1 with errno set (a request cut by an open breaker). */
int rc_write_begin(int fd, rc_fd *e);
void rc_write_end(int fd, rc_fd *e, ssize_t r, int err);

/* Around a read-side call on a tracked fd (not MSG_PEEK).  DONTWAIT: the
 * call cannot block (MSG_DONTWAIT).  rc_read_begin returns 0 to go on, or
 * -1 with errno ETIMEDOUT (response_timeout on a blocking socket).
 * rc_read_end gets the result R, its errno, and the buffers read into
 * (the first R bytes across IOV are the data). */
int rc_read_begin_(int fd, rc_fd *e);
static inline int rc_read_begin(int fd, rc_fd *e, int dontwait)
{
	/* only a blocking read under a response_timeout needs a look */
	if (__builtin_expect(!e->rt || e->nonblock || dontwait, 1))
		return 0;
	return rc_read_begin_(fd, e);
}
void rc_read_end(int fd, rc_fd *e, ssize_t r, int err, const struct iovec *iov, int cnt);

/* getsockopt(SO_ERROR) returned VAL on fd with a connect in flight. */
void rc_settle_so_error(int fd, rc_fd *e, int val);

/* fd is about to be closed (close, dup2/dup3 target, close_range). */
void rc_fd_closing(int fd);

/* NEWFD became a duplicate of OLDFD (dup, dup2, dup3, F_DUPFD). */
void rc_fd_duped(int oldfd, int newfd);

/* fd is new (socket, accept): forget anything stale about its number and
 * remember its socket type (SOCK_STREAM, ...; 0 = unknown), which spares
 * connect a system call. */
void rc_fd_fresh(int fd, int sotype);

/* O_NONBLOCK of fd was set (NB=1) or cleared through fcntl or ioctl. */
void rc_fd_nonblock(int fd, int nb);

/* Process exit: judge the calls still open, as close would. */
void rc_calls_at_exit(void);

/* ---- transfers (calls.c), for the libcurl hooks ----
 * A libcurl transfer is one call, judged at the transfer level.  While
 * rc_curl_depth > 0 (this thread is inside libcurl), the socket layer
 * counts nothing and tracks no fd: it only refuses connects to a breaker
 * that is open or forced_open (mode enforce), uncounted. */
extern __thread int rc_curl_depth __attribute__((tls_model("initial-exec")));

typedef struct rc_transfer {
	rc_live  *live;      /* NULL: no breaker, or already ended */
	int       bidx;
	uint32_t  pid;
	uint64_t  start_us;
	rc_ticket t;
	uint16_t  port;
	char      host[RC_HOST_MAX]; /* for the log */
} rc_transfer;

/* Match HOST (a name or an IP literal, "[v6]" allowed) and PORT (host
 * order) to a breaker and ask whether a transfer may start.  Return 1
 * admitted (TX holds the ticket until rc_transfer_end), 0 rejected
 * (counted and logged; TX names the breaker), -1 no breaker (TX empty). */
int rc_transfer_begin(const char *host, uint16_t port, rc_transfer *tx);

/* Judge the admitted transfer TX: OUTCOME RC_OK, RC_FAIL, RC_FAIL_TIMEOUT
 * (latency END_US - start); RC_TRANSFER_REJECTED (its connect was refused
 * because the breaker opened after admission: counted as rejected); or
 * -1 to release it without a verdict.  Only the process that began it
 * judges it; TX is emptied. */
#define RC_TRANSFER_REJECTED (-2)
void rc_transfer_end(rc_transfer *tx, int outcome, uint64_t end_us);

/* The breaker of TX (admitted or rejected), or NULL. */
const rc_breaker_cfg *rc_transfer_breaker(const rc_transfer *tx);

#endif
