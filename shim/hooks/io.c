/* hook_io.c - the data path.  An fd that belongs to no breaker costs one
 * table lookup; on a breaker's fd the engine sees where each call starts
 * (the first write of a request) and ends (the first response bytes). */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "core/hot.h"
#include "engine/tls.h"
#include "hooks/hook.h"

/* A parenthesized list without its parentheses. */
#define UNPAREN(...) __VA_ARGS__

/* The buffers a read filled, as rc_read_end takes them. */
#define PLAIN(buf, n) &(struct iovec){ (void *)(buf), (n) }, 1
#define VEC(iov, cnt) (iov), (cnt)
/* recv*(MSG_TRUNC) on TCP discards the bytes without writing BUF: there
 * is nothing to look at (rc_read_end takes an empty vector for that). */
#define PLAIN_FL(buf, n, fl) ((fl) & MSG_TRUNC ? NULL : &(struct iovec){ (void *)(buf), (n) }), \
	((fl) & MSG_TRUNC ? 0 : 1)
#define MSG_VEC(m, fl) ((m) && !((fl) & MSG_TRUNC) ? (m)->msg_iov : NULL), \
	((m) && !((fl) & MSG_TRUNC) ? (int)(m)->msg_iovlen : 0)

/* A breaker's socket met inside a TLS call whose session is not mapped
 * yet maps it (engine/tls.h); one with a TLS session is judged on the
 * plaintext: the socket layer stands back, save for ETIMEDOUT on a call
 * the timer ended (a write on a TIMEDOUT fd is refused by rc_write_begin).
 * Return 1 to stand back, 0 to act, -1 to fail the call (errno set: a
 * request the session's call starts, cut by an open breaker). */
static inline int TLS_SOCKET(int fd, rc_fd *e)
{
	if (__builtin_expect(rc_tls_cur != NULL, 0) && rc_tls_met(fd, e) < 0)
		return -1;
	return __builtin_expect(__atomic_load_n(&e->tls, __ATOMIC_RELAXED) != NULL, 0) &&
	       rc_fd_phase(e) != RC_FD_TIMEDOUT;
}

/* An fd whose object the shim never saw made (inherited across exec,
 * received over SCM_RIGHTS; its entry unchecked, or no entry yet): looked
 * at once, on its first use, while the shim is active.  Return its entry
 * (tracked if it is a breaker's connection), or E. */
static inline rc_fd *UNSEEN(int fd, rc_fd *e)
{
	if (__builtin_expect(!rc_active || rc_guard, 0) || (e && e->checked))
		return e;
	return rc_fd_adopt(fd);
}

/* A write-side hook: a request may start here (and be cut by an open
 * breaker before any byte is sent).  DONTWAIT: the call cannot block
 * (MSG_DONTWAIT), so it never waits for a bulkhead's ticket.  The hook
 * itself is the fd's table lookup and a jump to the real function; the
 * rest (an fd unseen, or a breaker's) is out of line in name_tracked, so
 * the lookup saves no register and the tracked path's code stays apart
 * from the unmatched fd's. */
#define WRITE_HOOK(ret, name, params, args, dontwait)                                  \
	RC_HOT static __attribute__((noinline)) ret name##_tracked(rc_fd *e, UNPAREN params)   \
	{                                                                              \
		if (__builtin_expect(!e || rc_fd_phase(e) == RC_FD_NONE, 1) &&          \
		    !((e = UNSEEN(fd, e)) && rc_fd_phase(e) != RC_FD_NONE))             \
			return REAL(name) args;                                        \
		int t_ = rc_guard ? 1 : TLS_SOCKET(fd, e);                             \
		if (t_)                                                                \
			return t_ < 0 ? -1 : REAL(name) args;                          \
		if (rc_write_begin_(fd, e, (dontwait)) < 0)                            \
			return -1;                                                     \
		ret r = REAL(name) args;                                               \
		rc_write_end(fd, e, r, errno);                                         \
		return r;                                                              \
	}                                                                              \
	RC_HOT RC_EXPORT ret name params                                               \
	{                                                                              \
		rc_fd *e = rc_fd_peek(fd);                                             \
		__typeof__(real_##name) r_ = real_##name; /* NULL: resolved there */   \
		if (__builtin_expect(e && e->checked && rc_fd_phase(e) == RC_FD_NONE && r_, 1)) \
			return r_ args;                                                \
		return name##_tracked(e, UNPAREN args);                                \
	}

/* A read-side hook: the first bytes of a response end the call.  MSG_PEEK
 * reads are not looked at: the real read that follows is.  (READ_BODY is
 * the body, on fd's entry E (or NULL), also of recvmsg's, which looks at
 * what it received.) */
#define READ_BODY(ret, name, args, peek, dontwait, ...)                                 \
		uint32_t ph;                                                           \
		if (__builtin_expect(!e || !e->checked, 0))                            \
			e = UNSEEN(fd, e);                                             \
		if (__builtin_expect(!e || (ph = rc_fd_phase(e)) == RC_FD_NONE ||       \
					     ph == RC_FD_IDLE, 1) || rc_guard || (peek))    \
			return REAL(name) args;                                        \
		int t_ = TLS_SOCKET(fd, e);                                            \
		if (t_)                                                                \
			return t_ < 0 ? -1 : REAL(name) args;                          \
		if (rc_read_begin(fd, e, (dontwait)) < 0)                              \
			return -1;                                                     \
		ret r = REAL(name) args;                                               \
		return (ret)rc_read_end(fd, e, r, errno, __VA_ARGS__);
/* (as WRITE_HOOK: the lookup in the hook, the rest out of line) */
#define READ_HOOK(ret, name, params, args, peek, dontwait, head)                        \
	RC_HOT static __attribute__((noinline)) ret name##_tracked(rc_fd *e, UNPAREN params)   \
	{                                                                              \
		READ_BODY(ret, name, args, peek, dontwait, head)                       \
	}                                                                              \
	RC_HOT RC_EXPORT ret name params                                               \
	{                                                                              \
		rc_fd *e = rc_fd_peek(fd);                                             \
		__typeof__(real_##name) r_ = real_##name; /* NULL: resolved there */   \
		uint32_t ph;                                                           \
		if (__builtin_expect(e && e->checked && ((ph = rc_fd_phase(e)) == RC_FD_NONE || \
							 ph == RC_FD_IDLE) && r_, 1)) \
			return r_ args;                                                \
		return name##_tracked(e, UNPAREN args);                                \
	}

WRITE_HOOK(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n), 0)
WRITE_HOOK(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt), 0)
WRITE_HOOK(ssize_t, send, (int fd, const void *buf, size_t n, int fl), (fd, buf, n, fl),
	   fl & MSG_DONTWAIT)
WRITE_HOOK(ssize_t, sendto,
	   (int fd, const void *buf, size_t n, int fl, const struct sockaddr *sa, socklen_t sl),
	   (fd, buf, n, fl, sa, sl), fl & MSG_DONTWAIT)
WRITE_HOOK(ssize_t, sendmsg, (int fd, const struct msghdr *m, int fl), (fd, m, fl),
	   fl & MSG_DONTWAIT)

READ_HOOK(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n), 0, 0, PLAIN(buf, n))
READ_HOOK(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t bl), (fd, buf, n, bl),
	  0, 0, PLAIN(buf, n))
READ_HOOK(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt), 0, 0,
	  VEC(iov, cnt))
READ_HOOK(ssize_t, recv, (int fd, void *buf, size_t n, int fl), (fd, buf, n, fl),
	  fl & MSG_PEEK, fl & MSG_DONTWAIT, PLAIN_FL(buf, n, fl))
READ_HOOK(ssize_t, __recv_chk, (int fd, void *buf, size_t n, size_t bl, int fl),
	  (fd, buf, n, bl, fl), fl & MSG_PEEK, fl & MSG_DONTWAIT, PLAIN_FL(buf, n, fl))
READ_HOOK(ssize_t, recvfrom,
	  (int fd, void *buf, size_t n, int fl, struct sockaddr *sa, socklen_t *sl),
	  (fd, buf, n, fl, sa, sl), fl & MSG_PEEK, fl & MSG_DONTWAIT, PLAIN_FL(buf, n, fl))
READ_HOOK(ssize_t, __recvfrom_chk,
	  (int fd, void *buf, size_t n, size_t bl, int fl, struct sockaddr *sa, socklen_t *sl),
	  (fd, buf, n, bl, fl, sa, sl), fl & MSG_PEEK, fl & MSG_DONTWAIT, PLAIN_FL(buf, n, fl))
/* recvmsg: as the others, and the fds it receives (SCM_RIGHTS) are looked
 * at on their first use. */
static inline ssize_t recvmsg_(int fd, struct msghdr *m, int fl)
{
	rc_fd *e = rc_fd_peek(fd);
	READ_BODY(ssize_t, recvmsg, (fd, m, fl), fl & MSG_PEEK, fl & MSG_DONTWAIT, MSG_VEC(m, fl))
}

RC_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int fl)
{
	ssize_t r = recvmsg_(fd, m, fl);
	if (r >= 0 && m && m->msg_controllen >= sizeof(struct cmsghdr) && !rc_guard) {
		int err = errno;
		rc_fd_received(m);
		errno = err;
	}
	return r;
}
