/* alive.h - whether the process that holds a claim in the state file (a
 * half-open probe, a slot or the header being initialised) still lives.
 *
 * A holder is recorded as its pid and a tag of its pid namespace.  kill(2)
 * can only speak of pids of the caller's own namespace: in another one
 * (a container sharing /dev/shm, `unshare --pid`) the same number is
 * another process or none, so ESRCH there proves nothing.  A holder whose
 * tag is not ours is therefore never declared dead: it is released only by
 * its claim's own bound (a probe's lifetime, a claim's deadline). */
#ifndef RC_ALIVE_H
#define RC_ALIVE_H

#include <stdint.h>

#define RC_NS_BITS 16   /* bits of a pid-namespace tag */

/* Compute this process's tag (one stat(2) of /proc/self/ns/pid and of
 * /proc/self/ns/pid_for_children) and register a fork handler that gives
 * a child the tag of the namespace it is born in (no system call there).
 * Init time only (rc_shm_open calls it); calling it again recomputes.
 * errno is preserved. */
void rc_alive_init(void);

/* This process's pid-namespace tag: RC_NS_BITS bits of a hash of the
 * namespace's identity (device and inode of /proc/self/ns/pid).  Where
 * that cannot be read (no /proc), a fixed tag that every such process
 * shares.  A plain load once rc_alive_init has run (the call path reads
 * it); computed on first use otherwise. */
uint32_t rc_alive_ns(void);

/* Nonzero if the holder PID whose namespace tag has low bits NS (BITS of
 * them) is known to be dead: NS is our tag's, and kill(PID, 0) fails with
 * ESRCH.  A holder of another namespace is never known dead.  PID 0 or
 * above INT_MAX of our namespace counts as dead.  errno is preserved. */
int rc_holder_dead(uint32_t pid, uint32_t ns, unsigned bits);

/* Nonzero if no process PID exists in our pid namespace (ESRCH).  A value
 * that cannot be a pid counts as dead; EPERM (another user's process)
 * counts as alive.  errno is preserved. */
int rc_pid_dead(uint64_t pid);

#endif
