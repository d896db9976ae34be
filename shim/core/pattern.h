/* pattern.h - one destination pattern of a `match` key: parse, format,
 * match a host name or an address.
 *
 * Which breaker a destination belongs to is match.h's question; this file
 * knows one pattern only.  Nothing here allocates, prints or makes a system
 * call. */
#ifndef RC_PATTERN_H
#define RC_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define RC_HOST_MAX     254   /* host names in patterns (253 + NUL) */
#define RC_PATTERN_MAX  300   /* characters in one pattern */

enum rc_pat_kind {
	RC_PAT_HOST = 1, /* exact host name, lowercase */
	RC_PAT_WILD = 2, /* "*.example.com": host holds ".example.com" */
	RC_PAT_IP4  = 3, /* addr[0..3], prefix 0-32 */
	RC_PAT_IP6  = 4, /* addr[0..15], prefix 0-128 */
};

typedef struct rc_pattern {
	uint8_t  kind;       /* enum rc_pat_kind */
	uint8_t  prefix;     /* CIDR prefix bits (32 or 128 for one address) */
	uint16_t port;       /* host order; 0 = any port */
	uint8_t  addr[16];   /* network order */
	int      line;       /* of the match key that gave it; rc_parse_pattern: 0 */
	const char *host;    /* HOST, WILD: the name (NUL-terminated, lowercase;
	                        held by whoever made the pattern: rc_parse_pattern's
	                        HOSTBUF, a config's string pool); else "" */
} rc_pattern;

/* Parse pattern S ("host", "*.domain", "a.b.c.d[/prefix]",
 * "[v6[/prefix]]", each with an optional ":port" or ":*"; white space
 * around it ignored) into *P.  An IPv4-mapped IPv6 pattern (prefix >= 96)
 * is stored as the IPv4 pattern it stands for.  A name is written into
 * HOSTBUF (RC_HOST_MAX bytes), which P->host then points to: the caller
 * keeps it as long as P.  Return 0, else -1 with a short message in ERR
 * (*P untouched). */
int rc_parse_pattern(const char *s, rc_pattern *p, char *hostbuf, char *err, size_t errlen);

/* Format pattern P back into its text form, into BUF (LEN bytes,
 * NUL-terminated); "?" for NULL or a pattern of no known kind. */
void rc_format_pattern(const rc_pattern *p, char *buf, size_t len);

/* Return nonzero if host-name pattern P (HOST or WILD) matches NAME
 * (case-insensitive; a trailing dot on NAME is ignored); 0 for an address
 * pattern, a NULL P or NAME.  The port is not looked at. */
int rc_pattern_match_name(const rc_pattern *p, const char *name);

/* Return nonzero if address pattern P is of FAMILY (AF_INET: ADDR holds 4
 * bytes, AF_INET6: 16) and its prefix covers ADDR (network order); 0 for a
 * host-name pattern or another family.  Fold ADDR first (rc_dest_fold), as
 * rc_match does: a v4-mapped destination then matches IPv4 patterns only.
 * The port is not looked at. */
int rc_pattern_match_addr(const rc_pattern *p, int family, const uint8_t *addr);

#endif
