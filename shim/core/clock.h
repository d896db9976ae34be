/* clock.h - CLOCK_MONOTONIC, the shim's one notion of time.  errno is
 * preserved. */
#ifndef RC_CLOCK_H
#define RC_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds and milliseconds. */
uint64_t rc_now_us(void);
uint64_t rc_now_ms(void);

/* Sleep about MS milliseconds (not resumed after a signal). */
void rc_sleep_ms(unsigned ms);

#endif
