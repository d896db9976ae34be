/* hook_io.c - the data path.  An fd that belongs to no breaker costs one
 * table lookup; the first I/O on a socket whose non-blocking connect is
 * pending settles that connect. */
#include <errno.h>
#include <sys/uio.h>

#include "hook.h"

/* Each hook: pass through; if fd has a pending connect, settle it by what
 * the real call returned (errno preserved by rc_settle_io). */
#define IO_HOOK(ret, name, params, args)                                          \
	RC_EXPORT ret name params                                                 \
	{                                                                         \
		rc_fd *e = rc_fd_peek(fd);                                        \
		if (__builtin_expect(!e || __atomic_load_n(&e->phase, __ATOMIC_RELAXED) != \
						   RC_FD_PENDING, 1) || rc_guard)        \
			return REAL(name) args;                                   \
		ret r = REAL(name) args;                                          \
		rc_settle_io(fd, e, r, errno);                                    \
		return r;                                                         \
	}

IO_HOOK(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n))
IO_HOOK(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n))
IO_HOOK(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
IO_HOOK(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
IO_HOOK(ssize_t, send, (int fd, const void *buf, size_t n, int fl), (fd, buf, n, fl))
IO_HOOK(ssize_t, recv, (int fd, void *buf, size_t n, int fl), (fd, buf, n, fl))
IO_HOOK(ssize_t, sendto,
	(int fd, const void *buf, size_t n, int fl, const struct sockaddr *sa, socklen_t sl),
	(fd, buf, n, fl, sa, sl))
IO_HOOK(ssize_t, recvfrom,
	(int fd, void *buf, size_t n, int fl, struct sockaddr *sa, socklen_t *sl),
	(fd, buf, n, fl, sa, sl))
IO_HOOK(ssize_t, sendmsg, (int fd, const struct msghdr *m, int fl), (fd, m, fl))
IO_HOOK(ssize_t, recvmsg, (int fd, struct msghdr *m, int fl), (fd, m, fl))
IO_HOOK(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t bl), (fd, buf, n, bl))
IO_HOOK(ssize_t, __recv_chk, (int fd, void *buf, size_t n, size_t bl, int fl),
	(fd, buf, n, bl, fl))
IO_HOOK(ssize_t, __recvfrom_chk,
	(int fd, void *buf, size_t n, size_t bl, int fl, struct sockaddr *sa, socklen_t *sl),
	(fd, buf, n, bl, fl, sa, sl))
