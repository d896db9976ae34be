/* match.h - which breaker a destination belongs to.
 *
 * The one place that scans a config's patterns: the engine and the libcurl
 * code ask here, never loop over patterns themselves.  Breakers are tried
 * in file order, and within a breaker its patterns in order; the first
 * match wins.  The answers come from the config's compiled index
 * (core/index.h: hash probes, none a scan of the patterns); the _linear
 * forms scan every pattern in file order, the reference the tests compare
 * the index with.  Nothing here allocates, locks or makes a system call. */
#ifndef RC_MATCH_H
#define RC_MATCH_H

#include <stdint.h>

typedef struct rc_config rc_config;  /* core/config.h */

/* Return the index of the first breaker, in file order, with a pattern that
 * matches the destination, or -1.  FAMILY is AF_INET (ADDR = 4 bytes) or
 * AF_INET6 (ADDR = 16 bytes; a v4-mapped address matches as IPv4); PORT is
 * in host order.  NAMES (NNAMES entries, may be 0) are the host names the
 * process resolved to this address; name patterns match through them. */
int rc_match(const rc_config *c, int family, const uint8_t *addr,
	     uint16_t port, const char *const *names, unsigned nnames);

/* Return nonzero if any breaker has a host-name pattern matching NAME
 * (any port): only then is a resolved name worth remembering. */
int rc_match_any_name(const rc_config *c, const char *name);

/* Return the index of the first breaker, in file order, for HOST and PORT
 * (host order), or -1.  HOST is an IPv4 or IPv6 literal ("[v6]" brackets
 * allowed), matched by address as rc_match does; else a host name, matched
 * by the name patterns only.  A HOST of RC_HOST_MAX characters or more
 * matches nothing. */
int rc_match_host(const rc_config *c, const char *host, uint16_t port);

/* Return 1 if no host-name pattern for PORT (host order; a pattern of any
 * port counts) matches the host name HOST and some breaker has an address
 * pattern (IP4/IP6) for PORT, else 0: only then is HOST worth resolving to
 * match it by address.  HOST is taken as a name; the caller sorts out
 * literals (rc_match_host). */
int rc_match_wants_address(const rc_config *c, const char *host, uint16_t port);

/* The same four questions answered by scanning every pattern in file
 * order (the reference; also the answer of a config without an index). */
int rc_match_linear(const rc_config *c, int family, const uint8_t *addr,
		    uint16_t port, const char *const *names, unsigned nnames);
int rc_match_any_name_linear(const rc_config *c, const char *name);
int rc_match_host_linear(const rc_config *c, const char *host, uint16_t port);
int rc_match_wants_address_linear(const rc_config *c, const char *host, uint16_t port);

#endif
