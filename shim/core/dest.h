/* dest.h - a destination: family, address and port, from a sockaddr.
 *
 * The one place that folds an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * to the IPv4 address it stands for: a mapped destination is matched,
 * remembered and logged as IPv4 everywhere. */
#ifndef RC_DEST_H
#define RC_DEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct rc_dest {
	int      family;    /* AF_INET (addr[0..3]) or AF_INET6 (addr[0..15]) */
	uint16_t port;      /* host order */
	uint8_t  addr[16];  /* network order */
} rc_dest;

/* Bytes of an address of FAMILY: 4 for AF_INET, else 16. */
static inline unsigned rc_dest_addr_len(int family)
{
	return family == AF_INET ? 4u : 16u;
}

/* Fold ADDR of FAMILY in place: a v4-mapped IPv6 address becomes its
 * IPv4 address (in ADDR[0..3]).  Return the family it now has. */
int rc_dest_fold(int family, uint8_t *addr);

/* Fill D from SA (LEN bytes), folded.  Return 0, or -1 if SA is not a
 * whole IPv4 or IPv6 address. */
int rc_dest_from_sockaddr(rc_dest *d, const struct sockaddr *sa, socklen_t len);

/* Nonzero if A and B are the same address and port. */
int rc_dest_equal(const rc_dest *a, const rc_dest *b);

/* Format a destination for the log: "192.0.2.7:80", "[2001:db8::1]:443";
 * with FAMILY 0, ADDR is a host name (NUL-terminated): "host:port". */
void rc_dest_format(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len);

#endif
