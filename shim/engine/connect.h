/* connect.h - a connect to a matched destination is a call (SPEC 3, 4). */
#ifndef RC_CONNECT_H
#define RC_CONNECT_H

#include <sys/socket.h>

#include "engine/fdtable.h"

/* The logic behind connect(2).  Return as connect does. */
int rc_connect(int fd, const struct sockaddr *sa, socklen_t len);

/* fd's first use, its object never seen made (inherited across exec,
 * received over SCM_RIGHTS): a connected TCP socket whose peer a breaker
 * matches is tracked from now on, as an idle connection (its next request
 * is a call, judged and cut like any other).  Marks the number checked
 * either way (a few system calls, once per such number).  Return fd's
 * entry, or NULL. */
rc_fd *rc_fd_adopt(int fd);

/* getsockopt(SO_ERROR) returned VAL on fd with a connect in flight. */
void rc_settle_so_error(int fd, rc_fd *e, int val);

#endif
