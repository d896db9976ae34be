/* sigbus.c - see sigbus.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "core/hot.h"
#include "engine/real.h"
#include "engine/sigbus.h"

#define RANGES 12  /* mappings guarded: the first, rejoins, config images */

static struct {
	uintptr_t base, len;
	void (*fill)(void);  /* writes what stands in for the file, or NULL */
	int      *flag;      /* set to 1 once it happened */
} ranges[RANGES];
static unsigned nranges;
RC_HOT_DATA static int lost;
/* The program's own SIGBUS disposition, as it set it last (through the
 * hooked sigaction/signal once ours is in place): two copies and the
 * index of the one in force, so the handler never reads a half-written
 * one. */
static struct sigaction prev_bus[2];
static int prev_cur;
static int installed;

static void set_prev(const struct sigaction *act)
{
	int next = !__atomic_load_n(&prev_cur, __ATOMIC_ACQUIRE);
	prev_bus[next] = *act;
	__atomic_store_n(&prev_cur, next, __ATOMIC_RELEASE);
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	unsigned n = __atomic_load_n(&nranges, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n && i < RANGES; i++) {
		if (a - ranges[i].base < ranges[i].len) {
			/* the file shrank: zero pages in its place, same address,
			 * and what stands in for its contents written there */
			if (mmap((void *)ranges[i].base, ranges[i].len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
				if (ranges[i].fill)
					ranges[i].fill();
				__atomic_store_n(ranges[i].flag, 1, __ATOMIC_RELEASE);
				errno = saved;
				return;
			}
		}
	}
	/* not ours: to the program's disposition, as the kernel would */
	struct sigaction p = prev_bus[__atomic_load_n(&prev_cur, __ATOMIC_ACQUIRE)];
	int handler = (p.sa_flags & SA_SIGINFO) ? p.sa_sigaction != NULL
					       : (p.sa_handler != SIG_DFL && p.sa_handler != SIG_IGN);
	if (handler) {
		sigset_t old;
		if (p.sa_flags & SA_RESETHAND) {
			struct sigaction dfl;
			memset(&dfl, 0, sizeof dfl);
			dfl.sa_handler = SIG_DFL;
			set_prev(&dfl);
		}
		pthread_sigmask(SIG_BLOCK, &p.sa_mask, &old);
		if (p.sa_flags & SA_SIGINFO)
			p.sa_sigaction(sig, si, ctx);
		else
			p.sa_handler(sig);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = saved;
		return;
	}
	/* default action: put it back; the fault happens again on return */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	REAL(sigaction)(SIGBUS, &dfl, NULL);
	errno = saved;
}

int rc_sig_bus_action(const struct sigaction *act, struct sigaction *oact)
{
	if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
		return 0;
	if (oact)
		*oact = prev_bus[__atomic_load_n(&prev_cur, __ATOMIC_ACQUIRE)];
	if (act)
		set_prev(act);
	return 1;
}

int rc_sig_guard_mapping(void *base, size_t len)
{
	return rc_sig_guard_range(base, len, NULL, &lost);
}

int rc_sig_guard_range(void *base, size_t len, void (*fill)(void), int *flag)
{
	RC_KEEP_ERRNO();
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (REAL(sigaction)(SIGBUS, &sa, &prev_bus[0]) != 0)
			return -1;
		__atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
	}
	unsigned n = __atomic_load_n(&nranges, __ATOMIC_RELAXED);
	if (n >= RANGES)
		return -1;
	ranges[n].base = (uintptr_t)base;
	ranges[n].len = len;
	ranges[n].fill = fill;
	ranges[n].flag = flag;
	__atomic_store_n(&nranges, n + 1, __ATOMIC_RELEASE);
	return 0;
}

void rc_sig_unguard(void *base)
{
	unsigned n = __atomic_load_n(&nranges, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n && i < RANGES; i++)
		if (ranges[i].base == (uintptr_t)base)
			__atomic_store_n(&ranges[i].len, 0, __ATOMIC_RELEASE);
}

RC_HOT int rc_sig_mapping_lost(void)
{
	return __atomic_load_n(&lost, __ATOMIC_ACQUIRE);
}

void rc_sig_mapping_clear(void)
{
	__atomic_store_n(&lost, 0, __ATOMIC_RELEASE);
}
