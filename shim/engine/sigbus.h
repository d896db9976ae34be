/* sigbus.h - the shim's SIGBUS handler: a mapped file (the state file, a
 * config image) that shrinks under the process is no fault of the
 * program's.  Async-signal-safe, off the call path but for
 * rc_sig_mapping_lost (one load). */
#ifndef RC_SIGBUS_H
#define RC_SIGBUS_H

#include <stddef.h>

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
