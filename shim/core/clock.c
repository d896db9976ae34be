/* clock.c - see clock.h.
 *
 * Decisions the header leaves open, made here:
 *  - Two reads of the clock per call (its start, its verdict) were half of
 *    what a call on a breaker's fd cost (make bench, the hooks alone): a
 *    vDSO clock_gettime is ~24 ns on the 2-core VM, rdtsc ~10.  Where the
 *    kernel itself keeps CLOCK_MONOTONIC on the TSC (its clocksource is
 *    "tsc": invariant, synchronised across CPUs, or the kernel would have
 *    given it up), rc_clock_fast() lets rc_now_us() read the TSC and
 *    convert it from a base taken by clock_gettime.
 *  - The rate is measured, not assumed: clock_gettime until 20 ms have
 *    passed, then ticks -> us from that interval; at 4 times that age
 *    (80 ms, 320 ms, 1.3 s, then every second) one call reads
 *    clock_gettime again, takes a new base and the rate over the whole
 *    time since the first, and compares: a conversion off by more
 *    than 500 us (the TSC was not what the kernel said) ends the fast
 *    path for good.  A process that did not look for over two seconds
 *    (idle, or suspended: the TSC may count a suspend the clock does
 *    not) measures the rate anew.  Between bases the two clocks agree within what NTP
 *    slews in a second (< 1 us); a value may step back by that much at a
 *    new base, which nothing here minds (a latency is clamped at 0).
 *  - The base is a seqlock: a reader retries or takes the slow path, a
 *    writer is whoever wins a CAS on the sequence; nobody waits. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hot.h"
#include "core/sys.h"

#if defined(__x86_64__)
#include <sys/prctl.h>
#include <x86intrin.h>
#define HAVE_TSC 1
static inline uint64_t ticks(void)
{
	return __rdtsc();
}
#else
#define HAVE_TSC 0
static inline uint64_t ticks(void)
{
	return 0;
}
#endif

enum { SLOW = 0, CALIBRATING = 1, FAST = 2 };

/* Nonzero unless the process made rdtsc fault (prctl PR_SET_TSC,
 * PR_TSC_SIGSEGV: a replay tool's choice): then the counter is not taken
 * up.  Asked at start and before every new base.  (Such a process cannot
 * call the vDSO's clock_gettime either: it reads the same counter; rr,
 * the usual user of the prctl, emulates the instruction.) */
static int tsc_allowed(void)
{
#if HAVE_TSC
	int v = 0, e = errno;
	int r = prctl(PR_GET_TSC, &v, 0, 0, 0);
	errno = e;
	return r == 0 && v == PR_TSC_ENABLE;
#else
	return 0;
#endif
}

#define CALIBRATE_NS 20000000ull    /* the first rate: after 20 ms */
#define REBASE_NS    1000000000ull  /* a new base each second, at least */
#define MAX_ERR_US   500u
#define PAIR_MAX_TICKS (1u << 17)   /* ~30 us at 4 GHz; a clock read is ~100 ns */

static struct {
	uint64_t seq;      /* odd while a writer changes what follows */
	uint64_t tsc, us;  /* the base: ticks and CLOCK_MONOTONIC us */
	uint64_t mult;     /* us per tick, 32.32 fixed point */
	uint64_t span;     /* ticks after the base it may be used for */
	uint64_t idle;     /* ticks after the base that make it calibrate anew */
	uint64_t t0, ns0;  /* the first look: ticks and ns */
} ck RC_HOT_DATA __attribute__((aligned(64)));
RC_HOT_DATA static int mode = SLOW;

static uint64_t gettime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint64_t ld_acq(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* CLOCK_MONOTONIC read for real; in CALIBRATING and FAST, whoever wins the
 * sequence takes a new base (and rate) from it.  Calibrating, before
 * CALIBRATE_NS have passed since the first look, there is no base to take:
 * no CAS of the sequence, and no prctl (which was a system call on every
 * clock read of a process's first 20 ms: 5% of a busy client's reads, make
 * bench's ping-pong).  ns0 is read again under the sequence. */
static __attribute__((noinline, cold)) uint64_t slow(void)
{
	int e = errno;
	uint64_t ns = gettime_ns(), us = ns / 1000u;
	int m = __atomic_load_n(&mode, __ATOMIC_ACQUIRE);
	uint64_t s = __atomic_load_n(&ck.seq, __ATOMIC_RELAXED);
	if (m == SLOW || (m == CALIBRATING && ns - ld(&ck.ns0) < CALIBRATE_NS) || (s & 1) ||
	    !__atomic_compare_exchange_n(&ck.seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		errno = e;
		return us;
	}
	if (!tsc_allowed()) { /* asked before the counter is read */
		__atomic_store_n(&mode, SLOW, __ATOMIC_RELEASE);
		__atomic_store_n(&ck.seq, s + 2, __ATOMIC_RELEASE);
		errno = e;
		return us;
	}
	/* The clock read between two reads of the counter, now, side by
	 * side: a thread taken off the CPU between the clock's read and the
	 * counter's would count its time away as the counter's error (and
	 * give the counter up for good); one seen so (the two counter reads
	 * far apart) tries again at its next slow read. */
	uint64_t t = ticks();
	ns = gettime_ns();
	us = ns / 1000u;
	if (ticks() - t > PAIR_MAX_TICKS) {
		__atomic_store_n(&ck.seq, s + 2, __ATOMIC_RELEASE);
		errno = e;
		return us;
	}
	uint64_t t0 = ld(&ck.t0), ns0 = ld(&ck.ns0), dt = t - ld(&ck.tsc);
	if (m == FAST && dt > ld(&ck.idle)) {
		/* not looked at for long (idle, or a suspend the TSC may have
		 * counted and the clock did not): measure the rate anew */
		st(&ck.t0, t);
		st(&ck.ns0, ns);
		__atomic_store_n(&mode, CALIBRATING, __ATOMIC_RELEASE);
	} else if (t > t0 && ns - ns0 >= CALIBRATE_NS) {
		if (m == FAST) {
			uint64_t was = ld(&ck.us) + (uint64_t)(((unsigned __int128)dt * ld(&ck.mult)) >> 32);
			if ((was > us ? was - us : us - was) > MAX_ERR_US)
				m = SLOW; /* the TSC is not what the kernel's clock is */
		}
		if (m != SLOW) {
			uint64_t mult = (uint64_t)((((unsigned __int128)(ns - ns0) << 32) / 1000u) / (t - t0));
			st(&ck.mult, mult);
			st(&ck.tsc, t);
			st(&ck.us, us);
			/* the next base when the rate has been measured over 4 times
			 * as long (a step at it stays a few us), at most 1 s on */
			uint64_t next = 4 * (ns - ns0) < REBASE_NS ? 4 * (ns - ns0) : REBASE_NS;
			st(&ck.span, (uint64_t)((((unsigned __int128)next / 1000u) << 32) / (mult ? mult : 1)));
			st(&ck.idle, (uint64_t)((((unsigned __int128)2 * REBASE_NS / 1000u) << 32) /
						(mult ? mult : 1)));
			m = FAST;
		}
		__atomic_store_n(&mode, m, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&ck.seq, s + 2, __ATOMIC_RELEASE);
	errno = e;
	return us;
}

RC_HOT uint64_t rc_now_us(void)
{
	if (__builtin_expect(__atomic_load_n(&mode, __ATOMIC_ACQUIRE) == FAST, 1)) {
		/* acquire loads (plain moves on x86): the sequence's second look
		 * comes after them (no fence: TSan has none) */
		uint64_t s = __atomic_load_n(&ck.seq, __ATOMIC_ACQUIRE);
		uint64_t t = ticks(), base = ld_acq(&ck.tsc), us = ld_acq(&ck.us);
		uint64_t mult = ld_acq(&ck.mult), span = ld_acq(&ck.span);
		/* within SPAN (at most 1 s) of the base, ticks * mult is the
		 * elapsed us << 32: under 2^52, a 64-bit product */
		if (!(s & 1) && t - base < span && __atomic_load_n(&ck.seq, __ATOMIC_RELAXED) == s)
			return us + (((t - base) * mult) >> 32);
	}
	return slow();
}

uint64_t rc_now_ms(void)
{
	return rc_now_us() / 1000u;
}

int rc_clock_fast(void)
{
	if (!HAVE_TSC || __atomic_load_n(&mode, __ATOMIC_ACQUIRE) != SLOW)
		return __atomic_load_n(&mode, __ATOMIC_ACQUIRE) != SLOW;
	int e = errno;
	char buf[32] = "";
	int fd = rc_sys_open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
			     O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = rc_sys_read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		rc_sys_close(fd);
	}
	errno = e;
	if (strcmp(buf, "tsc\n") != 0 || !tsc_allowed())
		return 0;
	ck.t0 = ticks();
	ck.ns0 = gettime_ns();
	__atomic_store_n(&mode, CALIBRATING, __ATOMIC_RELEASE);
	return 1;
}

int rc_clock_is_fast(void)
{
	return __atomic_load_n(&mode, __ATOMIC_ACQUIRE) == FAST;
}

void rc_sleep_ms(unsigned ms)
{
	int e = errno;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	errno = e;
}
