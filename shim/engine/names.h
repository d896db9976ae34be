/* names.h - which host names this process resolved to which addresses,
 * so that a connect can be matched by a host-name pattern. */
#ifndef RC_NAMES_H
#define RC_NAMES_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"

/* Remember that NAME resolved to the address in SA (AF_INET or AF_INET6;
 * a v4-mapped address is stored as IPv4).  Bounded; best effort. */
void rc_names_add(const char *name, const struct sockaddr *sa);
void rc_names_add_raw(const char *name, int family, const void *addr);

/* Copy up to MAX names recorded for FAMILY/ADDR (ADDR folded: 4 bytes
 * for IPv4) into NAMES (each RC_HOST_MAX bytes).  Return the count. */
unsigned rc_names_lookup(int family, const uint8_t *addr, char names[][RC_HOST_MAX],
			 unsigned max);

/* A name resolution for NAME succeeded: nonzero if its addresses are worth
 * remembering (a host-name pattern could match it). */
int rc_names_wanted(const char *name);

#endif
