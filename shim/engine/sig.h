/* sig.h - what the shim needs to know of the program's signal handlers.
 * All of it async-signal-safe, none of it on the call path (asked only
 * after a wait was interrupted, or when a reload is due). */
#ifndef RC_SIG_H
#define RC_SIG_H

#include <stddef.h>

/* Nonzero (restart) if every caught signal's handler has SA_RESTART, as
 * the kernel would restart the interrupted call; which signal came is not
 * known.  Fault signals (SEGV, BUS, FPE, ILL, TRAP, SYS) are delivered at
 * the faulting instruction and never interrupt a wait: they do not count. */
int rc_sig_restart(void);

/* Nonzero if this thread may be running a signal handler: a caught
 * signal (fault signals aside) is blocked in its mask, as it is while its
 * handler runs, and the thread did not already keep it blocked at its
 * first look (a JVM keeps SIGQUIT blocked and caught in all its threads
 * but one).  A handler installed with SA_NODEFER is not seen. */
int rc_sig_maybe_in_handler(void);

/* The thread's first look, taken when it makes a TCP socket, as outside
 * any handler (a thread whose first TCP socket is made inside a handler
 * is not seen to be in that handler later): the caught signals it blocks
 * now it keeps blocked.  Cheap after the first call. */
void rc_sig_first_look(void);

/* Keep the host alive when the state file shrinks under it (truncate,
 * `: >`, cp over it): a SIGBUS on the mapping at BASE (LEN bytes) puts
 * private zero pages in its place, so the faulting access goes on, and
 * notes the loss for rc_sig_mapping_lost().  A SIGBUS anywhere else goes
 * to the handler the program had when this was first called (or kills it
 * as before).  Installs the handler on first use.  Return 0 or -1. */
int rc_sig_guard_mapping(void *base, size_t len);

/* The same for any file mapped at BASE (LEN bytes): on a SIGBUS there,
 * the zero pages put in its place are then given to FILL (if not NULL;
 * it must be async-signal-safe), to write what stands in for the file's
 * contents, and *FLAG is set to 1. */
int rc_sig_guard_range(void *base, size_t len, void (*fill)(void), int *flag);

/* The mapping at BASE is gone (unmapped): no longer guarded. */
void rc_sig_unguard(void *base);

/* The program sets or asks its SIGBUS disposition (sigaction, signal)
 * while the shim's handler is in place: ACT (if any) becomes the
 * disposition the shim passes other faults to, *OACT (if any) gets the
 * program's previous one, and the shim's handler stays.  Return 1 if so
 * answered, 0 if the call is the kernel's business. */
struct sigaction;
int rc_sig_bus_action(const struct sigaction *act, struct sigaction *oact);

/* Nonzero if a guarded mapping was lost (until rc_sig_mapping_clear). */
int rc_sig_mapping_lost(void);
void rc_sig_mapping_clear(void);

#endif
