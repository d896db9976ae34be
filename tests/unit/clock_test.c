/* clock_test - rc_now_us() against clock_gettime(CLOCK_MONOTONIC), before
 * and after it reads the TSC (core/clock.c): calibrating, across new bases,
 * from 4 threads at once, and after an idle spell that makes it measure the
 * rate anew.  On a host whose clocksource is not the TSC only the plain
 * path is tested (and said so). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "tap.h"

static uint64_t real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The largest gap between rc_now_us() and the clock read around it, over
 * MS milliseconds of reads; *BACK: the largest step back between two
 * rc_now_us() in a row; *N: reads made. */
static uint64_t worst(unsigned ms, uint64_t *back, uint64_t *n)
{
	uint64_t end = real_us() + ms * 1000u, w = 0, prev = 0;
	*back = 0;
	*n = 0;
	for (;;) {
		uint64_t a = real_us(), v = rc_now_us(), b = real_us();
		uint64_t d = v < a ? a - v : v > b ? v - b : 0;
		if (d > w)
			w = d;
		if (prev > v && prev - v > *back)
			*back = prev - v;
		prev = v;
		++*n;
		if (b >= end)
			break;
	}
	return w;
}

/* The test's own prctl, before libc's: clock.c's calls are counted. */
static unsigned long prctls;
int prctl(int op, ...)
{
	va_list ap;
	va_start(ap, op);
	unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
	va_end(ap);
	__atomic_add_fetch(&prctls, 1, __ATOMIC_RELAXED);
	return (int)syscall(SYS_prctl, op, a2, a3, a4, a5);
}

static void *reader(void *arg)
{
	uint64_t back, n;
	*(uint64_t *)arg = worst(1300, &back, &n);
	return NULL;
}

int main(void)
{
	uint64_t back, n, w;
	int e;

	/* a process that forbids rdtsc (prctl PR_TSC_SIGSEGV): the shim does
	 * not take the counter up (it reads no clock to decide; such a
	 * process cannot read the vDSO's clock_gettime either, which reads
	 * the same counter, so nothing else is asked of it here) */
#ifndef __SANITIZE_THREAD__
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
		int f = rc_clock_fast();
		_exit(!f && !rc_clock_is_fast() ? 0 : 1);
	}
	int cst = -1;
	waitpid(c, &cst, 0);
	ok(WIFEXITED(cst) && WEXITSTATUS(cst) == 0,
	   "rdtsc forbidden (PR_TSC_SIGSEGV): rc_clock_fast declines (status %#x)", cst);
#else
	/* TSan's runtime reads the counter itself: the child could not run */
	printf("ok %d # skip PR_TSC_SIGSEGV under TSan (its runtime reads the counter)\n", ++tap_n);
#endif
	errno = 1234;
	w = worst(5, &back, &n);
	ok(w < 200 && errno == 1234, "before rc_clock_fast: clock_gettime's time (%llu us off at worst), errno kept",
	   (unsigned long long)w);
	int fast = rc_clock_fast();
	if (!fast) {
		printf("# the clocksource is not the TSC here: rc_now_us stays on clock_gettime\n");
		ok(!rc_clock_is_fast(), "not fast");
		w = worst(50, &back, &n);
		ok(w < 200, "plain path: %llu us off at worst", (unsigned long long)w);
		return done_testing();
	}
	ok(!rc_clock_is_fast(), "calibrating first: not fast yet");
	unsigned long p0 = __atomic_load_n(&prctls, __ATOMIC_RELAXED);
	w = worst(10, &back, &n);
	ok(w < 200 && !rc_clock_is_fast(), "while calibrating (10 ms): %llu us off at worst, still the clock",
	   (unsigned long long)w);
	/* no base is taken before 20 ms: no read asks prctl (each did, a
	 * system call on every clock read of a process's first 20 ms) */
	unsigned long pc = __atomic_load_n(&prctls, __ATOMIC_RELAXED) - p0;
	ok(pc == 0 && n > 100, "...%llu reads in those 10 ms, %lu of them asked prctl",
	   (unsigned long long)n, pc);
	usleep(20000);
	(void)rc_now_us();
	ok(rc_clock_is_fast(), "after 20 ms: it reads the TSC");
	errno = 4321;
	w = worst(1300, &back, &n); /* a new base at 1 s */
	e = errno;
	ok(w < 200 && back < 25 && rc_clock_is_fast() && e == 4321,
	   "reading the TSC for 1.3 s (%llu reads, a new base among them): %llu us off at worst, "
	   "%llu us back at worst, errno kept", (unsigned long long)n, (unsigned long long)w,
	   (unsigned long long)back);
	pthread_t th[4];
	uint64_t tw[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, reader, &tw[i]);
	uint64_t all = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (tw[i] > all)
			all = tw[i];
	}
	ok(all < 500 && rc_clock_is_fast(), "4 threads at once across a new base: %llu us off at worst",
	   (unsigned long long)all);
	usleep(2300000); /* not looked at for over 2 s */
	uint64_t a = real_us(), v = rc_now_us(), b = real_us();
	ok(v + 200 >= a && v <= b + 200 && !rc_clock_is_fast(),
	   "after 2.3 s unread: the clock's time, and the rate is measured anew");
	usleep(25000);
	(void)rc_now_us();
	w = worst(100, &back, &n);
	ok(rc_clock_is_fast() && w < 200, "then the TSC again: %llu us off at worst", (unsigned long long)w);
	return done_testing();
}
