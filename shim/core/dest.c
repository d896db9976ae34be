/* dest.c - see dest.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/dest.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int rc_dest_fold(int family, uint8_t *addr)
{
	if (family == AF_INET6 && memcmp(addr, v4mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		return AF_INET;
	}
	return family;
}

int rc_dest_from_sockaddr(rc_dest *d, const struct sockaddr *sa, socklen_t len)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -1;
	memset(d->addr, 0, sizeof d->addr);
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		d->family = AF_INET;
		memcpy(d->addr, &s4->sin_addr, 4);
		d->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		memcpy(d->addr, &s6->sin6_addr, 16);
		d->family = rc_dest_fold(AF_INET6, d->addr);
		d->port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

int rc_dest_equal(const rc_dest *a, const rc_dest *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, rc_dest_addr_len(a->family)) == 0;
}

void rc_dest_format(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (family == 0)
		snprintf(buf, len, strchr((const char *)addr, ':') ? "[%s]:%u" : "%s:%u",
			 (const char *)addr, port);
	else if (inet_ntop(family, addr, a, sizeof a), family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}
