/* sys.h - the few system calls core makes, through one small interface.
 *
 * Core (config, shm, log) opens, reads and writes files through
 * rc_sys_fn.  It has two definitions: core/sys.c (libc's functions) for
 * the CLI and the unit tests, and engine/real.c for the shim, where they
 * are the real functions the shim resolved at init, so the shim's own
 * file I/O never re-enters its own exported hooks (the shim does not link
 * core/sys.o).  Each keeps errno as the call left it. */
#ifndef RC_SYS_H
#define RC_SYS_H

#include <sys/types.h>

typedef struct rc_sys {
	int     (*open)(const char *path, int flags, ...);
	int     (*close)(int fd);
	ssize_t (*read)(int fd, void *buf, size_t n);
	ssize_t (*write)(int fd, const void *buf, size_t n);
} rc_sys;

/* The functions in force. */
extern rc_sys rc_sys_fn;

#define rc_sys_open  (rc_sys_fn.open)
#define rc_sys_close (rc_sys_fn.close)
#define rc_sys_read  (rc_sys_fn.read)
#define rc_sys_write (rc_sys_fn.write)

#endif
