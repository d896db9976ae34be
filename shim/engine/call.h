/* call.h - one fd's call from start to verdict (SPEC section 3), and the
 * fd bookkeeping that ends calls: close, dup, exit.
 *
 * Runs inside the host program's socket calls: no malloc, no lock, no
 * stdio; errno is left as found.  Each function taking a claimed entry
 * returns the phase to release it to, or releases it itself as said. */
#ifndef RC_CALL_H
#define RC_CALL_H

#include <stdint.h>
#include <sys/uio.h>

#include "engine/fdtable.h"

/* Judge e's open call (claimed) if this process opened it, else drop it:
 * OUTCOME RC_OK, RC_FAIL, RC_FAIL_TIMEOUT at END_US with errno ERR, or
 * < 0 to release it without a verdict.  A quiet entry's call (judged
 * above the socket: engine/transfer.h) gets none here either. */
void rc_call_verdict(rc_fd *e, int outcome, uint64_t end_us, int err);

/* A call starts on e (claimed): its start time, no bytes yet. */
void rc_call_start(rc_fd *e, uint64_t now_us);

/* A connect on e (claimed CONNECTING) finished, OK or with ERR: success
 * moves the call on to WAITING for its first response byte (too late: a
 * timeout, judged); a service failure judges it; anything else releases
 * it unjudged.  Releases e. */
void rc_call_connected(rc_fd *e, int ok, int err);

/* Response bytes came on e's open call (claimed, phase PH): N bytes in
 * the CNT buffers of IOV (CNT 0: bytes that cannot be looked at).  The
 * first bytes end the call once its HTTP status line (if any) is whole.
 * Return the phase to release e to. */
uint32_t rc_call_response(rc_fd *e, uint32_t ph, const struct iovec *iov, int cnt, size_t n,
			  uint64_t now_us);

/* e's open call (claimed, phase PH) ends without more bytes: end of
 * stream or error ERR (0 for EOF), or CLOSING (close, exit).  Return the
 * phase to release e to. */
uint32_t rc_call_end(int fd, rc_fd *e, uint32_t ph, int err, int closing);

/* The previous response of e (claimed, STATUS) is judged by what came. */
void rc_call_judge_partial(rc_fd *e);

/* fd is about to be closed (close, dup2/dup3 target, close_range). */
void rc_fd_closing(int fd);

/* fd is being closed by the program (close, syscall(SYS_close)): end
 * what it was, forget its socket type. */
void rc_fd_close_seen(int fd);

/* The fds FIRST..LAST are being closed (close_range, closefrom): the
 * tracked ones end as at close. */
void rc_fd_close_range_seen(unsigned first, unsigned last);

/* NEWFD became a duplicate of OLDFD (dup, dup2, dup3, F_DUPFD). */
void rc_fd_duped(int oldfd, int newfd);

/* fd is new (socket, accept, open...): forget anything stale about its
 * number and remember its socket type (SOCK_STREAM, ...; 0 = unknown),
 * which spares connect a system call.  ACTIVE (rc_active): the number is
 * marked known even where its chunk of the table is not mapped yet. */
void rc_fd_fresh(int fd, int sotype, int active);

/* recvmsg(2) received M: the fds it carries (SCM_RIGHTS) are looked at on
 * their first use (rc_fd_adopt), what their numbers meant is over. */
struct msghdr;
void rc_fd_received(const struct msghdr *m);

/* O_NONBLOCK of fd was set (NB=1) or cleared through fcntl or ioctl. */
void rc_fd_nonblock(int fd, int nb);

/* Process exit: judge the calls still open, as close would. */
void rc_calls_at_exit(void);

#endif
