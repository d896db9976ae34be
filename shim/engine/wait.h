/* wait.h - one bounded wait on one fd, with the EINTR rule.
 *
 * The shim bounds a blocking call (connect, the read that waits for a
 * response) by polling its fd until a deadline.  A signal interrupting
 * that poll is handled as the kernel would handle it interrupting the
 * call itself: the wait goes on if every caught signal's handler has
 * SA_RESTART, else the call fails with EINTR. */
#ifndef RC_WAIT_H
#define RC_WAIT_H

#include <stdint.h>

/* Wait until FD is ready for EVENTS (POLLIN, POLLOUT) or CLOCK_MONOTONIC
 * passes DEADLINE_US (at least one look is taken, even past it).
 * Return 1 ready (or in error: the next call on FD tells), 0 when the
 * deadline passed, -1 with errno EINTR when a signal without SA_RESTART
 * interrupted it, or -1 with poll's errno. */
int rc_wait_fd(int fd, short events, uint64_t deadline_us);

#endif
