/* timer.h - a timeout on every call, whatever the program waits in.
 *
 * A blocking connect or read on a breaker's socket is bounded in the
 * calling thread (engine/connect.c, engine/stream.c).  A program that
 * waits elsewhere (poll, select, epoll, an event loop, another thread) is
 * bounded by a timer thread of the shim's: started in a process only when
 * a deadline is first armed there (again after fork), all signals
 * blocked, named "recloser-timer".  When a call's deadline passes it
 * checks that the fd still holds the breaker's socket, judges the call a
 * timeout, and wakes every waiter through the kernel: connect(AF_UNSPEC)
 * of a connecting socket, shutdown() of a connected one.  The fd then
 * answers ETIMEDOUT to every read, write and getsockopt(SO_ERROR), until
 * it is closed.  The shim never closes the program's fd.
 *
 * A process with no deadline armed has no thread and pays nothing. */
#ifndef RC_TIMER_H
#define RC_TIMER_H

#include <stdint.h>

#include "engine/fdtable.h"

/* Arm the deadline of e's open call (claimed, or owned by this thread):
 * at AT_US, of KIND (enum rc_fd_deadline).  Never blocks; may start the
 * thread. */
void rc_timer_arm(rc_fd *e, uint64_t at_us, int kind);

/* rc_fd_disarm (engine/fdtable.h): no deadline for e's call any more. */

/* Nonzero if this process's timer thread runs: a blocking read needs no
 * bounded wait of its own (engine/stream.c). */
int rc_timer_running(void);

#endif
