/* timer.c - see timer.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "engine/call.h"
#include "engine/gate.h"
#include "engine/real.h"
#include "engine/sig.h"
#include "engine/timer.h"

static uint32_t timer_pid;       /* the process whose thread runs (0: none) */
static uint64_t wake_at = UINT64_MAX; /* when the thread looks next */
static uint32_t kicks;           /* futex word: bumped to make it look now */

static void futex_wake(uint32_t *w)
{
	REAL(syscall)(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void futex_wait(uint32_t *w, uint32_t seen, uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
	REAL(syscall)(SYS_futex, w, FUTEX_WAIT_PRIVATE, seen, us == UINT64_MAX ? NULL : &ts, NULL, 0);
}

/* e's deadline passed (e claimed from PH): end its call as a timeout and
 * wake whoever waits on its socket, through a duplicate of fd so that the
 * number, should the program close it meanwhile, is never touched. */
static void expire(int fd, rc_fd *e, uint32_t ph)
{
	uint64_t now = rc_now_us();
	int kind = e->dl_kind;
	int d = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
	int same = d >= 0 && rc_fd_same_socket(d, e);
	rc_fd_disarm(e);
	if (!same) {
		/* the socket was closed where the shim could not see it: the
		 * call is judged by what it waited */
		rc_call_verdict(e, kind == RC_DL_CONNECT ? RC_CONNECT_TIMEOUT : RC_FAIL_TIMEOUT, now,
				ETIMEDOUT);
		if (d >= 0)
			REAL(close)(d);
		rc_fd_conn_drop(e);
		rc_fd_release(e, RC_FD_NONE);
		return;
	}
	rc_call_verdict(e, ph == RC_FD_CONNECTING ? RC_CONNECT_TIMEOUT : RC_FAIL_TIMEOUT, now,
			ETIMEDOUT);
	__atomic_store_n(&e->expiring, 1, __ATOMIC_RELEASE);
	rc_fd_release(e, RC_FD_TIMEDOUT);
	if (ph == RC_FD_CONNECTING) {
		struct sockaddr sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_family = AF_UNSPEC;
		REAL(connect)(d, &sa, sizeof sa);
	} else {
		shutdown(d, SHUT_RDWR);
	}
	REAL(close)(d);
}

struct sweep {
	uint32_t self;
	uint64_t now, next;  /* the next deadline, or UINT64_MAX */
};

/* One entry of a sweep: end its call if its deadline passed. */
static int sweep_one(int fd, rc_fd *e, void *ctx)
{
	struct sweep *sw = ctx;
	uint64_t dl = __atomic_load_n(&e->deadline, __ATOMIC_RELAXED);
	if (!dl || e->pid != sw->self)
		return 0;
	uint32_t ph = rc_fd_phase(e);
	if (ph == RC_FD_BUSY) {
		/* another thread is at it: look again soon */
		uint64_t soon = dl > sw->now + 1000 ? dl : sw->now + 1000;
		if (soon < sw->next)
			sw->next = soon;
		return 0;
	}
	if (ph != RC_FD_CONNECTING && ph != RC_FD_WAITING && ph != RC_FD_STATUS)
		return 0;
	if ((e->dl_kind == RC_DL_CONNECT) != (ph == RC_FD_CONNECTING))
		return 0; /* a deadline of another phase of the call */
	if (dl > sw->now) {
		if (dl < sw->next)
			sw->next = dl;
		return 0;
	}
	if (rc_fd_claim(e, ph)) {
		if (__atomic_load_n(&e->deadline, __ATOMIC_RELAXED) == dl)
			expire(fd, e, ph);
		else
			rc_fd_release(e, ph); /* re-armed meanwhile */
	}
	return 0;
}

/* Look at every entry of this process: end the calls whose deadline
 * passed.  Return the next deadline, or UINT64_MAX. */
static uint64_t sweep(uint32_t self)
{
	struct sweep sw = { self, rc_now_us(), UINT64_MAX };
	rc_fd_each(0, ~0u, sweep_one, &sw);
	return sw.next;
}

static void *timer_main(void *arg)
{
	(void)arg;
	rc_guard = 1; /* all of this thread is the shim's */
	uint32_t self = rc_self_pid();
	for (;;) {
		/* while it sweeps, any deadline armed must kick it: an entry it
		 * has passed already may be armed again meanwhile */
		__atomic_store_n(&wake_at, UINT64_MAX, __ATOMIC_SEQ_CST);
		uint32_t seen = __atomic_load_n(&kicks, __ATOMIC_SEQ_CST);
		uint64_t next = sweep(self);
		__atomic_store_n(&wake_at, next, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&kicks, __ATOMIC_SEQ_CST) != seen)
			continue; /* armed meanwhile */
		uint64_t now = rc_now_us();
		futex_wait(&kicks, seen, next == UINT64_MAX ? UINT64_MAX : next > now ? next - now : 0);
	}
	return NULL;
}

/* Start the thread in this process, all signals blocked.  Return 0 or -1. */
static int start(uint32_t self)
{
	uint32_t was = __atomic_load_n(&timer_pid, __ATOMIC_ACQUIRE);
	if (was == self ||
	    !__atomic_compare_exchange_n(&timer_pid, &was, self, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return 0; /* another thread of ours is at it, or it runs */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	pthread_t t;
	int r = pthread_create(&t, &at, timer_main, NULL);
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		__atomic_store_n(&timer_pid, 0, __ATOMIC_RELEASE);
		return -1;
	}
	pthread_setname_np(t, "recloser-timer");
	return 0;
}

/* Keep e's deadline in its breaker's slot too: should the process die
 * without a verdict, another process judges the call (core/slot.h). */
static void keep_record(rc_fd *e, uint64_t at_us, int kind, uint32_t self)
{
	if (e->pend)
		rc_fd_pend_drop(e); /* the deadline moved */
	rc_slot *s = e->bk ? e->bk->slot : NULL;
	if (e->quiet || !s || e->pid != self)
		return; /* judged above, or not ours to judge */
	int i = rc_breaker_pend_add(s, self, (at_us + 999) / 1000, kind == RC_DL_CONNECT, &e->t,
				    &e->pend_val);
	if (i < 0)
		return;
	e->pend_slot = s;
	e->pend_pid = self;
	e->pend = (int8_t)(i + 1);
}

void rc_timer_arm(rc_fd *e, uint64_t at_us, int kind)
{
	RC_KEEP_ERRNO();
	uint32_t self = rc_self_pid();
	keep_record(e, at_us, kind, self);
	e->dl_kind = (uint8_t)kind;
	e->expiring = 0;
	__atomic_store_n(&e->deadline, at_us, __ATOMIC_SEQ_CST);
	int fresh = 0;
	if (__builtin_expect(__atomic_load_n(&timer_pid, __ATOMIC_ACQUIRE) != self, 0)) {
		/* no thread in this process yet (or only the parent's, before a
		 * fork): start one, but never from a signal handler */
		if (rc_sig_maybe_in_handler() || start(self) < 0)
			return;
		fresh = 1;
	}
	if (fresh || at_us <= __atomic_load_n(&wake_at, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&kicks, 1, __ATOMIC_SEQ_CST);
		futex_wake(&kicks);
	}
}

int rc_timer_running(void)
{
	return __atomic_load_n(&timer_pid, __ATOMIC_ACQUIRE) == rc_self_pid();
}
