/* clock.c - see clock.h. */
#include <errno.h>
#include <time.h>

#include "core/clock.h"

uint64_t rc_now_us(void)
{
	int e = errno;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = e;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rc_now_ms(void)
{
	return rc_now_us() / 1000u;
}

void rc_sleep_ms(unsigned ms)
{
	int e = errno;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	errno = e;
}
