/* fakeclock.c - core/clock.h for the shm harness: CLOCK_MONOTONIC plus a
 * virtual offset that rc_sleep_ms advances instead of sleeping.
 *
 * The state file waits up to 200 ms for a claim held by a live process
 * (pid 1 always is), polling with rc_sleep_ms(1).  Inputs naming a live pid
 * are easy to make, and a real 200 ms each would slow the fuzzer a
 * thousandfold; with this clock the same loop runs its 200 rounds at
 * once, taking the same decisions.  Linked instead of shim/core/clock.c. */
#include <errno.h>
#include <time.h>

#include "core/clock.h"

static uint64_t slept_us;

uint64_t rc_now_us(void)
{
	int e = errno;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = e;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + slept_us;
}

uint64_t rc_now_ms(void)
{
	return rc_now_us() / 1000u;
}

void rc_sleep_ms(unsigned ms)
{
	slept_us += (uint64_t)ms * 1000u;
}
