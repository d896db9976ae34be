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
		if (e && rc_fd_phase(e) == RC_FD_CONNECTING)
			rc_settle_so_error(fd, e, *(int *)val);
	}
	return r;
}
