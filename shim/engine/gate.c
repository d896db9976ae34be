/* gate.c - see gate.h.  On the call path: no malloc, no lock, no stdio
 * (the log line is one snprintf into a stack buffer and one write). */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "core/alive.h"
#include "core/bulkhead.h"
#include "core/clock.h"
#include "core/dest.h"
#include "core/hot.h"
#include "core/log.h"
#include "engine/fdtable.h"
#include "engine/gate.h"
#include "engine/real.h"
#include "engine/sig.h"

/* Per process: the second of the last reject line, per state-file slot. */
static uint64_t rej_sec[RC_MAX_BREAKERS];

int rc_is_net_failure(int e)
{
	switch (e) {
	case ECONNREFUSED: case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH:
	case ECONNRESET: case ECONNABORTED: case EHOSTDOWN: case ENETDOWN:
	case EPIPE: case ENONET: case EPROTO:
		return 1;
	}
	return 0;
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

/* Rejections waiting for a line: in B's slot, and in its state file's
 * header a count kept at least their sum, added to before the slot and
 * taken from after it (a process that dies between the two leaves it too
 * high, never too low), so that at 0 the 4,096 slots of a start's and an
 * exit's flush need no look. */
static uint64_t *unlogged_hint(const rc_bk *b)
{
	return &((rc_shm_header *)(void *)((char *)(b->slot - b->slotno) -
					  sizeof(rc_shm_header)))->unlogged_hint;
}

static void unlogged_add(const rc_bk *b, uint64_t n)
{
	__atomic_add_fetch(unlogged_hint(b), n, __ATOMIC_SEQ_CST);
	rc_breaker_unlogged_add(b->slot, n);
}

static uint64_t unlogged_take(const rc_bk *b)
{
	uint64_t n = rc_breaker_unlogged_take(b->slot), *h = unlogged_hint(b);
	uint64_t v = n ? __atomic_load_n(h, __ATOMIC_SEQ_CST) : 0;
	/* never below 0: a file an earlier build wrote counted nothing here */
	while (n && !__atomic_compare_exchange_n(h, &v, v > n ? v - n : 0, 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
		;
	return n;
}

/* One reject line for B carrying every rejection not yet logged (DEST
 * NULL: WHY names the occasion, at_exit or carried).  A line that cannot
 * be written gives its count back to the slot. */
static void reject_line(const rc_bk *b, const char *dest, const char *why)
{
	uint64_t n = unlogged_take(b);
	if (!n)
		return;
	if (rc_log(RC_LOG_INFO, "reject", "breaker=%s count=%llu errno=%s reason=open%s%s", b->cfg->name,
		   (unsigned long long)n, errno_name(b->cfg->reject_errno),
		   dest ? " dest=" : why, dest ? dest : "=1") < 0)
		unlogged_add(b, n);
}

/* Count a rejection; log at most one line per breaker per second. */
static __attribute__((noinline, cold)) void note_reject(const rc_bk *b, int family,
						    const void *addr, uint16_t port)
{
	if (!rc_log_enabled(RC_LOG_INFO))
		return;
	unlogged_add(b, 1);
	uint64_t sec = rc_now_ms() / 1000, *last = &rej_sec[b->slotno % RC_MAX_BREAKERS];
	uint64_t was = __atomic_load_n(last, __ATOMIC_RELAXED);
	if (sec == was ||
	    !__atomic_compare_exchange_n(last, &was, sec, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	char d[RC_HOST_MAX + 16];
	rc_dest_format(family, addr, port, d, sizeof d);
	reject_line(b, d, NULL);
}

/* ---- bulkheads (core/bulkhead.h) ---- */

/* Per process: the table bound to each slot number, per kind (NULL: not
 * looked up yet), and the bulkhead refusals not yet in a reject line. */
static rc_bh_table *bh_tab[2][RC_MAX_BREAKERS];
static uint64_t bh_unlogged[RC_MAX_BREAKERS], bh_rej_sec[RC_MAX_BREAKERS];
static int bh_any; /* some bh_unlogged was ever added to */
/* Where a thread starts its scan of a table: spread over the records. */
static __thread unsigned bh_start __attribute__((tls_model("initial-exec")));
/* When this thread last looked for dead holders (at most every RC_BH_SCAN_MS:
 * a kill(2) per record). */
static __thread uint64_t bh_scan_ms __attribute__((tls_model("initial-exec")));

/* Where this thread's next scan of a table of CAP records starts: spread
 * over the records, no division. */
static inline unsigned bh_next(unsigned cap)
{
	unsigned st = bh_start;
	if (st >= cap)
		st = 0;
	bh_start = st + 1;
	return st;
}

/* The mapping B's slot is in, as core/bulkhead.h wants it. */
static void bk_shm(const rc_bk *b, rc_shm *m)
{
	memset(m, 0, sizeof *m); /* no index (rc_shm.index) */
	m->slots = b->slot - b->slotno;
	m->hdr = (rc_shm_header *)(void *)((char *)m->slots - sizeof(rc_shm_header));
	m->bh = (rc_bh_table *)(void *)(m->slots + RC_MAX_BREAKERS);
	m->size = rc_shm_file_size();
}

/* B's table of KIND, bound on first use (NULL: every table taken, said
 * once in the log; this process does not look again). */
#define BH_NONE ((rc_bh_table *)(uintptr_t)1)
static rc_bh_table *bh_table(const rc_bk *b, int kind)
{
	rc_bh_table **c = &bh_tab[kind][b->slotno % RC_MAX_BREAKERS];
	rc_bh_table *t = __atomic_load_n(c, __ATOMIC_ACQUIRE);
	rc_bh_table *base = (rc_bh_table *)(void *)(b->slot - b->slotno + RC_MAX_BREAKERS);
	if (__builtin_expect(t >= base && t < base + RC_BH_TABLES, 1))
		return t; /* (another mapping's, after a rejoin: looked up again) */
	if (t == BH_NONE)
		return NULL;
	rc_shm m;
	bk_shm(b, &m);
	t = rc_bh_table_of(&m, b->slotno, kind, 1);
	__atomic_store_n(c, t ? t : BH_NONE, __ATOMIC_RELEASE);
	if (!t) {
		RC_KEEP_ERRNO();
		rc_log(RC_LOG_ERROR, "state_error", "breaker=%s msg=\"every bulkhead table of the "
		       "state file is taken: its %s is not enforced\"", b->cfg->name,
		       kind == RC_BH_CALLS ? "max_concurrent" : "max_connections");
	}
	return t;
}

/* How long a record of B's lives: a call's timeouts (core/bulkhead.h). */
static uint64_t bh_who; /* RC_BH_REC(our ns, our pid, 0), made again after fork */
static inline uint64_t bh_rec(const rc_breaker_cfg *c, int kind, uint64_t now_ms)
{
	/* rc_breaker_probe_ttl_ms, inline */
	uint64_t ct = c->connect_timeout ? c->connect_timeout : 5000;
	uint64_t rt = c->response_timeout ? c->response_timeout : 5000;
	uint64_t ttl = kind == RC_BH_CONNS ? RC_BH_CONN_TTL_MS : ct + rt + 1000;
	uint64_t who = __atomic_load_n(&bh_who, __ATOMIC_RELAXED);
	uint32_t pid = rc_self_pid();
	if (__builtin_expect(!who || RC_BH_PID(who) != (pid & 0x3fffffu), 0)) {
		who = RC_BH_REC(rc_alive_ns(), pid, 0) & ~0xffffffffull;
		__atomic_store_n(&bh_who, who, __ATOMIC_RELAXED);
	}
	return who | (uint32_t)((now_ms + ttl) >> 4); /* RC_BH_REC */
}

/* One less waiter, never below 0. */
static void bh_waiter_gone(rc_bh_table *t)
{
	uint32_t w = __atomic_load_n(&t->waiters, __ATOMIC_SEQ_CST);
	while (w && !__atomic_compare_exchange_n(&t->waiters, &w, w - 1, 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
		;
}

/* A ticket of T was given back and someone may wait: wake one.  Woken
 * none: the count is one too high, say (a waiter killed in its wait), so
 * it comes down by one; were it a waiter about to sleep, it finds the
 * ticket at its next look, 20 ms later at most. */
static void bh_wake(rc_bh_table *t)
{
	__atomic_add_fetch(&t->seq, 1, __ATOMIC_SEQ_CST);
	if (REAL(syscall)(SYS_futex, &t->seq, FUTEX_WAKE, 1, NULL, NULL, 0) == 0)
		bh_waiter_gone(t);
}

static void bh_give(const rc_bk *b, int kind, int i, uint64_t val)
{
	rc_bh_table *t = bh_table(b, kind);
	if (t && rc_bh_give(t, i, val)) {
		RC_KEEP_ERRNO();
		bh_wake(t);
	}
}

RC_HOT static void bh_give_call(const rc_bk *b, const rc_ticket *t)
{
	if (__builtin_expect(t->bh >= 0, 0)) {
		rc_bh_table *tab = t->bh_tab;
		if (rc_bh_give(tab, t->bh, t->bh_val)) {
			RC_KEEP_ERRNO();
			bh_wake(tab);
		}
		((rc_ticket *)t)->bh = -1; /* given back once, whoever asks again */
	}
}

/* What bh_take holds while it waits: its place in T's waiter count,
 * given back should a handler siglongjmp out of the wait (engine/sig.h;
 * else the count stays one too high until a release wakes nobody). */
struct bh_waiting {
	rc_undo u; /* first */
	rc_bh_table *t;
};

static void waiting_left(rc_undo *u)
{
	bh_waiter_gone(((struct bh_waiting *)u)->t);
}

/* Take a record of B's table T of KIND (CAP of them), waiting until
 * UNTIL_US at most.  Return its index (*VALP) or -1. */
static int bh_take(const rc_bk *b, rc_bh_table *t, int kind, unsigned cap, uint64_t until_us,
		   uint64_t *valp)
{
	unsigned start = bh_next(cap);
	int i = -1, waiting = 0;
	uint64_t v = 0;
	struct bh_waiting w = { .t = t };
	for (;;) {
		uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_SEQ_CST);
		uint64_t now_ms = rc_now_ms();
		v = bh_rec(b->cfg, kind, now_ms);
		if ((i = rc_bh_take(t, cap, start, v)) >= 0)
			break;
		/* full: free what expired or whose holder died */
		int dead = now_ms - bh_scan_ms >= RC_BH_SCAN_MS;
		if (dead)
			bh_scan_ms = now_ms;
		/* taken again even if another thread freed them first */
		rc_bh_reclaim(t, cap, now_ms, dead);
		if ((i = rc_bh_take(t, cap, start, v)) >= 0)
			break;
		uint64_t now = rc_now_us();
		if (now >= until_us)
			break;
		if (!waiting) {
			/* said before the next look, so a release after it wakes us */
			__atomic_add_fetch(&t->waiters, 1, __ATOMIC_SEQ_CST);
			rc_undo_push(&w.u, waiting_left); /* after: in between, one too many */
			waiting = 1;
			continue;
		}
		/* until a release, or 20 ms (to look for dead holders again) */
		uint64_t us = until_us - now;
		if (us > 20000)
			us = 20000;
		struct timespec ts = { 0, (long)us * 1000 };
		REAL(syscall)(SYS_futex, &t->seq, FUTEX_WAIT, seq, &ts, NULL, 0);
	}
	if (waiting) {
		rc_undo_pop(&w.u); /* first: in between, one too many */
		bh_waiter_gone(t);
	}
	if (i >= 0)
		*valp = v;
	return i;
}

/* How long the caller of fd may wait: max_wait, bounded by OWN_MS (its
 * own bound, 0 none) and the app's SO_SNDTIMEO; 0 if fd is non-blocking
 * (MAY_BLOCK 0, or < 0 and fd says so). */
static uint64_t bh_wait_ms(const rc_breaker_cfg *c, int fd, int may_block, uint64_t own_ms)
{
	uint64_t w = c->max_wait;
	if (!w || !may_block || fd < 0)
		return 0;
	if (may_block < 0) {
		int fl = REAL(fcntl)(fd, F_GETFL);
		if (fl < 0 || (fl & O_NONBLOCK))
			return 0;
	}
	if (own_ms && own_ms < w)
		w = own_ms;
	struct timeval to = { 0, 0 };
	socklen_t sl = sizeof to;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &to, &sl) == 0 && (to.tv_sec || to.tv_usec)) {
		uint64_t app = (uint64_t)to.tv_sec * 1000 + (uint64_t)to.tv_usec / 1000;
		if (app < w)
			w = app;
	}
	return w;
}

/* Count and log (at most one line per breaker per second) a refusal. */
static void note_bh_reject(const rc_bk *b, int err, int family, const void *addr, uint16_t port)
{
	rc_breaker_count_reject_bulkhead(b->slot);
	if (!rc_log_enabled(RC_LOG_INFO))
		return;
	unsigned k = b->slotno % RC_MAX_BREAKERS;
	__atomic_add_fetch(&bh_unlogged[k], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&bh_any, 1, __ATOMIC_RELAXED);
	uint64_t sec = rc_now_ms() / 1000, was = __atomic_load_n(&bh_rej_sec[k], __ATOMIC_RELAXED);
	if (sec == was || !__atomic_compare_exchange_n(&bh_rej_sec[k], &was, sec, 0,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	char d[RC_HOST_MAX + 16];
	rc_dest_format(family, addr, port, d, sizeof d);
	uint64_t n = __atomic_exchange_n(&bh_unlogged[k], 0, __ATOMIC_RELAXED);
	if (n && rc_log(RC_LOG_INFO, "reject", "breaker=%s count=%llu errno=%s reason=bulkhead dest=%s",
			b->cfg->name, (unsigned long long)n,
			errno_name(err), d) < 0)
		__atomic_add_fetch(&bh_unlogged[k], n, __ATOMIC_RELAXED); /* bh_any: set */
}

/* rc_gate_bulkhead when a table is full: wait (or not) and take, or
 * refuse.  Off the fast path: system calls, errno kept. */
static __attribute__((noinline)) int bh_full(const rc_bk *b, rc_ticket *t, int fd,
					     int may_block, uint64_t own_ms, rc_bh_hold *conn,
					     uint64_t *now_us, int family, const void *addr,
					     uint16_t port)
{
	RC_SCOPE();
	const rc_breaker_cfg *c = b->cfg;
	uint64_t start = *now_us;
	uint64_t until = start + bh_wait_ms(c, fd, may_block, own_ms) * 1000;
	if (conn && c->max_connections && conn->i < 0) {
		rc_bh_table *ct = bh_table(b, RC_BH_CONNS);
		uint64_t v = 0;
		int i = ct ? bh_take(b, ct, RC_BH_CONNS, c->max_connections, until, &v) : -2;
		if (i == -1)
			goto refuse;
		if (i >= 0) {
			conn->i = i;
			conn->val = v;
		}
	}
	if (c->max_concurrent && t->bh < 0) {
		rc_bh_table *qt = bh_table(b, RC_BH_CALLS);
		uint64_t v = 0;
		int i = qt ? bh_take(b, qt, RC_BH_CALLS, c->max_concurrent, until, &v) : -2;
		if (i == -1)
			goto refuse;
		if (i >= 0) {
			t->bh = i;
			t->bh_val = v;
			t->bh_tab = qt;
		}
	}
	uint64_t now = rc_now_us();
	if (now - start > 1000)
		*now_us = now; /* it waited */
	return RC_ADMIT;
refuse:
	if (conn && conn->i >= 0) {
		bh_give(b, RC_BH_CONNS, conn->i, conn->val);
		conn->i = -1;
	}
	/* a call ticket the fast path took before the connection cap
	 * refused: given back too (every caller comes with none held) */
	bh_give_call(b, t);
	rc_breaker_cancel(b->slot, t);
	/* a request on an established connection is cut with ECONNRESET */
	note_bh_reject(b, !conn && fd >= 0 ? ECONNRESET : c->reject_errno, family, addr, port);
	return RC_REJECT;
}

int rc_gate_ticket(const rc_bk *b, rc_ticket *t, uint64_t now_us)
{
	const rc_breaker_cfg *c = b->cfg;
	if (__builtin_expect(c->mode == RC_MODE_OBSERVE, 0))
		return RC_ADMIT; /* observed, never refused */
	rc_bh_table *qt = bh_table(b, RC_BH_CALLS);
	if (!qt)
		return RC_ADMIT;
	uint64_t v = bh_rec(c, RC_BH_CALLS, now_us / 1000);
	int i = rc_bh_take(qt, c->max_concurrent, bh_next(c->max_concurrent), v);
	if (__builtin_expect(i < 0, 0))
		return -1;
	t->bh = i;
	t->bh_val = v;
	t->bh_tab = qt;
	return RC_ADMIT;
}

int rc_gate_bulkhead(const rc_bk *b, rc_ticket *t, int fd, int may_block, uint64_t own_ms,
		     rc_bh_hold *conn, uint64_t *now_us, int family, const void *addr,
		     uint16_t port)
{
	const rc_breaker_cfg *c = b->cfg;
	int full = 0;
	if (conn)
		conn->i = -1;
	if (__builtin_expect(c->mode == RC_MODE_OBSERVE, 0))
		return RC_ADMIT; /* observed, never refused */
	/* the fast path: atomics only, errno untouched, no clock read */
	uint64_t now_ms = *now_us / 1000;
	if (conn && c->max_connections) {
		rc_bh_table *ct = bh_table(b, RC_BH_CONNS);
		if (ct) {
			uint64_t v = bh_rec(c, RC_BH_CONNS, now_ms);
			int i = rc_bh_take(ct, c->max_connections, bh_next(c->max_connections), v);
			if (i >= 0) {
				conn->i = i;
				conn->val = v;
			} else {
				full = 1;
			}
		}
	}
	if (c->max_concurrent && rc_gate_ticket(b, t, *now_us) < 0)
		full = 1;
	if (__builtin_expect(!full, 1))
		return RC_ADMIT;
	return bh_full(b, t, fd, may_block, own_ms, conn, now_us, family, addr, port);
}

void rc_gate_conn_give(const rc_bk *b, rc_bh_hold *h)
{
	if (h->i < 0)
		return;
	if (RC_BH_PID(h->val) == (rc_self_pid() & 0x3fffffu))
		bh_give(b, RC_BH_CONNS, h->i, h->val); /* else a parent's, inherited */
	h->i = -1;
}

void rc_fd_conn_drop_(rc_fd *e)
{
	if (e->bk)
		rc_gate_conn_give(e->bk, &e->cn);
	e->cn.i = -1;
}

void rc_fd_bh_drop_(rc_fd *e, uint32_t ph)
{
	rc_fd_conn_drop(e);
	if (e->bk && !e->quiet && e->pid == rc_self_pid() && e->t.bh >= 0 && e->t.bh_tab &&
	    ph >= RC_FD_CONNECTING && ph <= RC_FD_STATUS)
		bh_give_call(e->bk, &e->t);
}

void rc_gate_conn_touch(const rc_bk *b, rc_bh_hold *h)
{
	if (h->i < 0 || RC_BH_PID(h->val) != (rc_self_pid() & 0x3fffffu))
		return;
	rc_bh_table *t = bh_table(b, RC_BH_CONNS);
	uint64_t nv = bh_rec(b->cfg, RC_BH_CONNS, rc_now_ms());
	if (t && !rc_bh_refresh(t, h->i, &h->val, nv))
		h->i = -1; /* reclaimed meanwhile (it had expired) */
}

void rc_gate_settle(const rc_bk *b, uint64_t now_ms)
{
	RC_SCOPE();
	rc_breaker_settle_dead(b->slot, b->cfg, now_ms);
}

RC_HOT int rc_gate_admit(const rc_bk *b, uint64_t now_us, int family, const void *addr,
		  uint16_t port, rc_ticket *t)
{
	RC_SCOPE_INNER();
	if (__builtin_expect(rc_sig_mapping_lost(), 0))
		rc_live_note_lost();
	if (__builtin_expect(rc_breaker_pend_any(b->slot), 0))
		rc_gate_settle(b, now_us / 1000);
	rc_transition tr;
	int v = rc_breaker_admit(b->slot, b->cfg, now_us / 1000, rc_self_pid(), t, &tr);
	if (__builtin_expect(tr.to >= 0, 0))
		rc_breaker_log_transition(b->cfg, &tr);
	if (v == RC_REJECT)
		note_reject(b, family, addr, port);
	return v;
}

/* The debug line of one verdict, OUTCOME as rc_gate_verdict got it (out
 * of line: its buffer, and the words, would be on every verdict's path). */
static __attribute__((noinline, cold)) void log_call(const rc_breaker_cfg *c, int outcome,
						     uint64_t lat, int family, const void *addr,
						     uint16_t port, int err)
{
	char d[RC_HOST_MAX + 16];
	rc_dest_format(family, addr, port, d, sizeof d);
	const char *which = outcome == RC_CONNECT_TIMEOUT ? " timeout=connect" :
			    outcome == RC_FAIL_TIMEOUT ? " timeout=response" : "";
	const char *o = outcome == RC_OK ? "success" :
			outcome == RC_FAIL_TIMEOUT || outcome == RC_CONNECT_TIMEOUT ? "timeout" : "failure";
	if (c->slow_call && outcome == RC_OK && lat > c->slow_call * 1000)
		o = "slow";
	rc_log(RC_LOG_DEBUG, "call", "breaker=%s outcome=%s%s latency_us=%llu dest=%s%s%s",
	       c->name, o, which, (unsigned long long)lat, d, err ? " errno=" : "",
	       err ? errno_name(err) : "");
}

RC_HOT void rc_gate_verdict(const rc_bk *b, const rc_ticket *t, int outcome, uint64_t start_us,
		     uint64_t end_us, int family, const void *addr, uint16_t port, int err)
{
	/* no scope but the logging's: the counting touches neither errno
	 * nor a hooked call (bh_give_call keeps errno itself), and the
	 * verdict of a request's answer comes outside any (engine/stream.c) */
	const rc_breaker_cfg *c = b->cfg;
	uint64_t lat = end_us > start_us ? end_us - start_us : 0;
	bh_give_call(b, t);
	rc_transition tr;
	rc_breaker_record(b->slot, c, t, outcome == RC_CONNECT_TIMEOUT ? RC_FAIL_TIMEOUT : outcome,
			  lat, end_us / 1000, &tr);
	if (__builtin_expect(tr.to >= 0 || rc_log_enabled(RC_LOG_DEBUG), 0)) {
		RC_SCOPE_INNER();
		if (tr.to >= 0)
			rc_breaker_log_transition(c, &tr);
		if (rc_log_enabled(RC_LOG_DEBUG))
			log_call(c, outcome, lat, family, addr, port, err);
	}
}

RC_HOT void rc_gate_cancel(const rc_bk *b, const rc_ticket *t)
{
	bh_give_call(b, t);
	rc_breaker_cancel(b->slot, t);
}

void rc_gate_reject_late(const rc_bk *b, const rc_ticket *t, int family, const void *addr,
			 uint16_t port)
{
	RC_SCOPE();
	bh_give_call(b, t);
	rc_breaker_cancel(b->slot, t);
	rc_breaker_count_reject(b->slot);
	note_reject(b, family, addr, port);
}

int rc_gate_refusing(const rc_bk *b)
{
	return rc_breaker_refusing(b->slot, b->cfg);
}

RC_HOT int rc_gate_closed(const rc_bk *b)
{
	int st = rc_breaker_state(b->slot);
	return st == RC_CLOSED || st == RC_FORCED_CLOSED;
}

void rc_gate_flush_rejects(int at_exit)
{
	RC_SCOPE();
	RC_LIVE_USE(L);
	if (!L || !rc_log_enabled(RC_LOG_INFO))
		return;
	/* nothing waits in any slot (unlogged_hint), nor in this process:
	 * no slot of the 4,096 to look at */
	int slots = rc_live_shm.hdr &&
		    __atomic_load_n(&rc_live_shm.hdr->unlogged_hint, __ATOMIC_SEQ_CST) != 0;
	int bh = __atomic_load_n(&bh_any, __ATOMIC_RELAXED);
	for (unsigned i = 0; (slots || bh) && i < L->cfg->nbreakers; i++) {
		/* with rejections waiting: every breaker the state file has a
		 * slot for, bound now if this config had not used it yet (a
		 * fork child's rejections are its parent's to log; this
		 * process's bulkhead refusals under a config since replaced
		 * are counted by slot number) */
		const rc_bk *b = rc_live_bind_existing(L, i);
		if (!b)
			continue;
		if (slots)
			reject_line(b, NULL, at_exit ? " at_exit" : " carried");
		/* this process's bulkhead refusals not yet in a line */
		uint64_t *u = &bh_unlogged[b->slotno % RC_MAX_BREAKERS];
		uint64_t n = bh && __atomic_load_n(u, __ATOMIC_RELAXED)
			? __atomic_exchange_n(u, 0, __ATOMIC_RELAXED) : 0;
		if (n)
			rc_log(RC_LOG_INFO, "reject", "breaker=%s count=%llu reason=bulkhead%s=1",
			       b->cfg->name, (unsigned long long)n, at_exit ? " at_exit" : " carried");
	}
}
