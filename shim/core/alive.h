/* alive.h - whether the process that holds a claim in the state file (a
 * half-open probe, a slot or header being initialised) still lives. */
#ifndef RC_ALIVE_H
#define RC_ALIVE_H

#include <stdint.h>

/* Nonzero if no process PID exists (ESRCH).  A value that cannot be a pid
 * counts as dead; EPERM (another user's process) counts as alive.
 * errno is preserved. */
int rc_pid_dead(uint64_t pid);

#endif
