/* hook_fd.c - fd bookkeeping: the table follows closes and duplicates, and
 * forgets what it knew about a number the kernel hands out again. */
#include <fcntl.h>
#include <stdarg.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "hooks/hook.h"

RC_EXPORT int socket(int domain, int type, int proto)
{
	int fd = REAL(socket)(domain, type, proto);
	if (fd >= 0)
		rc_fd_fresh(fd, rc_active && (domain == AF_INET || domain == AF_INET6) ? type & 0xf
									      : 0, rc_active);
	return fd;
}

RC_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	int r = REAL(accept)(fd, sa, len);
	if (r >= 0)
		rc_fd_fresh(r, 0, rc_active);
	return r;
}

RC_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int r = REAL(accept4)(fd, sa, len, flags);
	if (r >= 0)
		rc_fd_fresh(r, 0, rc_active);
	return r;
}

RC_EXPORT int close(int fd)
{
	rc_fd_close_seen(fd);
	return REAL(close)(fd);
}

RC_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		rc_fd_close_range_seen(first, last);
	return REAL(close_range)(first, last, flags);
}

RC_EXPORT void closefrom(int lowfd)
{
	if (lowfd >= 0)
		rc_fd_close_range_seen((unsigned)lowfd, ~0u);
	REAL(closefrom)(lowfd);
}

/* syscall(2): the numbers that close fds are seen; the six argument
 * registers are passed on as they came, whatever the number takes. */
RC_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	va_start(ap, nr);
	long a0 = va_arg(ap, long), a1 = va_arg(ap, long), a2 = va_arg(ap, long);
	long a3 = va_arg(ap, long), a4 = va_arg(ap, long), a5 = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_close)
		rc_fd_close_seen((int)a0);
	else if (nr == SYS_close_range && !((unsigned)a2 & CLOSE_RANGE_CLOEXEC))
		rc_fd_close_range_seen((unsigned)a0, (unsigned)a1);
	return REAL(syscall)(nr, a0, a1, a2, a3, a4, a5);
}

RC_EXPORT int dup(int fd)
{
	int r = REAL(dup)(fd);
	if (r >= 0)
		rc_fd_duped(fd, r);
	return r;
}

RC_EXPORT int dup2(int oldfd, int newfd)
{
	if (oldfd != newfd && rc_fd_tracked(newfd) && !rc_guard)
		rc_fd_closing(newfd);
	int r = REAL(dup2)(oldfd, newfd);
	if (r >= 0)
		rc_fd_duped(oldfd, r);
	return r;
}

RC_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd != newfd && rc_fd_tracked(newfd) && !rc_guard)
		rc_fd_closing(newfd);
	int r = REAL(dup3)(oldfd, newfd, flags);
	if (r >= 0)
		rc_fd_duped(oldfd, r);
	return r;
}

/* fcntl's third argument is an int or a pointer: pass the register on. */
#define FCNTL_BODY(real)                                        \
	va_list ap;                                             \
	va_start(ap, cmd);                                      \
	unsigned long arg = va_arg(ap, unsigned long);          \
	va_end(ap);                                             \
	int r = REAL(real)(fd, cmd, arg);                       \
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) \
		rc_fd_duped(fd, r);                             \
	else if (r == 0 && cmd == F_SETFL)                      \
		rc_fd_nonblock(fd, !!(arg & O_NONBLOCK));       \
	return r;

RC_EXPORT int fcntl(int fd, int cmd, ...)
{
	FCNTL_BODY(fcntl)
}

RC_EXPORT int fcntl64(int fd, int cmd, ...)
{
	FCNTL_BODY(fcntl64)
}

RC_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int r = REAL(ioctl)(fd, req, arg);
	if (r == 0 && req == FIONBIO && arg)
		rc_fd_nonblock(fd, *(int *)arg != 0);
	return r;
}

/* ---- new fds: the number may have been a tracked socket's ---- */

/* open's third argument (the mode) exists only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, last)                          \
	mode_t mode = 0;                                \
	if ((flags) & (O_CREAT | O_TMPFILE)) {          \
		va_list ap;                             \
		va_start(ap, last);                     \
		mode = va_arg(ap, mode_t);              \
		va_end(ap);                             \
	}

static int fresh(int fd)
{
	if (fd >= 0)
		rc_fd_fresh(fd, 0, rc_active);
	return fd;
}

RC_EXPORT int open(const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags)
	return fresh(REAL(open)(path, flags, mode));
}

RC_EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags)
	return fresh(REAL(open64)(path, flags, mode));
}

RC_EXPORT int openat(int dir, const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags)
	return fresh(REAL(openat)(dir, path, flags, mode));
}

RC_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
	OPEN_MODE(flags, flags)
	return fresh(REAL(openat64)(dir, path, flags, mode));
}

RC_EXPORT int __open_2(const char *path, int flags)
{
	return fresh(REAL(__open_2)(path, flags));
}

RC_EXPORT int __open64_2(const char *path, int flags)
{
	return fresh(REAL(__open64_2)(path, flags));
}

RC_EXPORT int creat(const char *path, mode_t mode)
{
	return fresh(REAL(creat)(path, mode));
}

RC_EXPORT int pipe(int fds[2])
{
	int r = REAL(pipe)(fds);
	if (r == 0)
		fresh(fds[0]), fresh(fds[1]);
	return r;
}

RC_EXPORT int pipe2(int fds[2], int flags)
{
	int r = REAL(pipe2)(fds, flags);
	if (r == 0)
		fresh(fds[0]), fresh(fds[1]);
	return r;
}

RC_EXPORT int socketpair(int domain, int type, int proto, int fds[2])
{
	int r = REAL(socketpair)(domain, type, proto, fds);
	if (r == 0)
		fresh(fds[0]), fresh(fds[1]);
	return r;
}

RC_EXPORT int eventfd(unsigned int initval, int flags)
{
	return fresh(REAL(eventfd)(initval, flags));
}

RC_EXPORT int epoll_create(int size)
{
	return fresh(REAL(epoll_create)(size));
}

RC_EXPORT int epoll_create1(int flags)
{
	return fresh(REAL(epoll_create1)(flags));
}

RC_EXPORT int timerfd_create(int clock, int flags)
{
	return fresh(REAL(timerfd_create)(clock, flags));
}

RC_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	return fd == -1 ? fresh(REAL(signalfd)(fd, mask, flags)) : REAL(signalfd)(fd, mask, flags);
}

RC_EXPORT int inotify_init(void)
{
	return fresh(REAL(inotify_init)());
}

RC_EXPORT int inotify_init1(int flags)
{
	return fresh(REAL(inotify_init1)(flags));
}

RC_EXPORT int pidfd_open(pid_t pid, unsigned int flags)
{
	return fresh(REAL(pidfd_open)(pid, flags));
}

RC_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	return fresh(REAL(memfd_create)(name, flags));
}

RC_EXPORT FILE *fopen(const char *path, const char *mode)
{
	FILE *f = REAL(fopen)(path, mode);
	if (f)
		fresh(fileno(f));
	return f;
}

RC_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	FILE *f = REAL(fopen64)(path, mode);
	if (f)
		fresh(fileno(f));
	return f;
}

RC_EXPORT int mkstemp(char *tmpl)
{
	return fresh(REAL(mkstemp)(tmpl));
}

RC_EXPORT int mkostemp(char *tmpl, int flags)
{
	return fresh(REAL(mkostemp)(tmpl, flags));
}

RC_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
	return fresh(REAL(mkstemps)(tmpl, suffixlen));
}

RC_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
	return fresh(REAL(mkostemps)(tmpl, suffixlen, flags));
}

RC_EXPORT FILE *tmpfile(void)
{
	FILE *f = REAL(tmpfile)();
	if (f)
		fresh(fileno(f));
	return f;
}
