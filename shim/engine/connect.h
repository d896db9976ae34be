/* connect.h - a connect to a matched destination is a call (SPEC 3, 4). */
#ifndef RC_CONNECT_H
#define RC_CONNECT_H

#include <sys/socket.h>

#include "engine/fdtable.h"

/* The logic behind connect(2).  Return as connect does. */
int rc_connect(int fd, const struct sockaddr *sa, socklen_t len);

/* getsockopt(SO_ERROR) returned VAL on fd with a connect in flight. */
void rc_settle_so_error(int fd, rc_fd *e, int val);

#endif
