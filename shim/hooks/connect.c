/* hook_connect.c - connect(2), and getsockopt(SO_ERROR), which is how
 * non-blocking programs learn how their connect went. */
#include <errno.h>

#include "hooks/hook.h"

RC_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (rc_bypass())
		return REAL(connect)(fd, sa, len);
	return rc_connect(fd, sa, len);
}

RC_EXPORT int getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	int r = REAL(getsockopt)(fd, level, opt, val, len);
	if (r == 0 && level == SOL_SOCKET && opt == SO_ERROR && val && len &&
	    *len >= (socklen_t)sizeof(int) && !rc_guard) {
		rc_fd *e = rc_fd_peek(fd);
		uint32_t ph = e ? rc_fd_phase(e) : RC_FD_NONE;
		if (ph == RC_FD_CONNECTING)
			rc_settle_so_error(fd, e, *(int *)val);
		else if (ph == RC_FD_TIMEDOUT && (*(int *)val == 0 || e->dl_kind == RC_DL_CONNECT))
			*(int *)val = ETIMEDOUT; /* the call timed out (engine/timer.h) */
	}
	return r;
}
