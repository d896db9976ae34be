/* clock.h - CLOCK_MONOTONIC, the shim's one notion of time.  errno is
 * preserved. */
#ifndef RC_CLOCK_H
#define RC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds and milliseconds. */
uint64_t rc_now_us(void);
uint64_t rc_now_ms(void);

/* Let rc_now_us() read the CPU's time-stamp counter where the kernel keeps
 * CLOCK_MONOTONIC on it (its clocksource is "tsc"), converted at a rate
 * measured against clock_gettime (the first after 20 ms; checked and
 * taken again each second; off by over 500 us, never again).  The shim
 * calls it at start; the CLI does not.  Return nonzero if it will. */
int rc_clock_fast(void);

/* Nonzero once rc_now_us() reads the counter. */
int rc_clock_is_fast(void);

/* Sleep about MS milliseconds (not resumed after a signal). */
void rc_sleep_ms(unsigned ms);

#endif
