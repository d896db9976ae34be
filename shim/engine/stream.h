/* stream.h - a request on an established connection, and its first
 * response bytes: what the data-path hooks call on a tracked fd. */
#ifndef RC_STREAM_H
#define RC_STREAM_H

#include <errno.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "engine/fdtable.h"

/* Around a write-side call on a tracked fd.  rc_write_begin returns 0 to
 * go on, or -1 with errno set (a request cut by an open breaker). */
int rc_write_begin_(int fd, rc_fd *e, int dontwait);
/* DONTWAIT: the call cannot block (MSG_DONTWAIT): a bulkhead over its
 * cap refuses it at once, as a non-blocking socket's. */
static inline int rc_write_begin(int fd, rc_fd *e)
{
	return rc_write_begin_(fd, e, 0);
}
/* ERR is errno after the call; errno is ERR when rc_write_end returns,
 * or as it was when R > 0 and nothing was to be done (the common case,
 * inline: a further write of a request, or a first one with no
 * response_timeout to arm). */
void rc_write_end_(int fd, rc_fd *e, ssize_t r, int err);
static inline void rc_write_end(int fd, rc_fd *e, ssize_t r, int err)
{
	if (__builtin_expect(r > 0 && rc_fd_phase(e) == RC_FD_WAITING, 1)) {
		if (__atomic_load_n(&e->flags, __ATOMIC_RELAXED) & RC_CALL_WROTE)
			return;
		if (!e->rt_ms) {
			rc_fd_flag_set(e, RC_CALL_WROTE);
			return;
		}
	}
	rc_write_end_(fd, e, r, err);
}

/* Around a read-side call on a tracked fd (not MSG_PEEK).  DONTWAIT: the
 * call cannot block (MSG_DONTWAIT).  rc_read_begin returns 0 to go on, or
 * -1 with errno ETIMEDOUT (response_timeout on a blocking socket) or
 * EINTR.  rc_read_end gets the result R, its errno, and the buffers read
 * into (the first R bytes across IOV are the data). */
int rc_read_begin_(int fd, rc_fd *e);
static inline int rc_read_begin(int fd, rc_fd *e, int dontwait)
{
	if (__builtin_expect(rc_fd_phase(e) == RC_FD_TIMEDOUT, 0)) {
		errno = ETIMEDOUT; /* the call timed out (engine/timer.h) */
		return -1;
	}
	/* only a blocking read under a response_timeout needs a look */
	if (__builtin_expect(!e->rt || e->nonblock || dontwait, 1))
		return 0;
	return rc_read_begin_(fd, e);
}
/* Return what the read-side call returns: R, or -1 with errno ETIMEDOUT
 * when the timer thread ended the call while it waited. */
ssize_t rc_read_end(int fd, rc_fd *e, ssize_t r, int err, const struct iovec *iov, int cnt);

#endif
