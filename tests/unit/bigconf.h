/* bigconf.h - a config of many patterns, the one both the index's test
 * (tests/unit/match_test.c) and make bench (tests/bench/bench_match.c, and
 * scripts/bench.sh through `bench_match config`) use.  Pattern K is, by
 * K % 4: a single IPv4 address with a port (10.x.y.z:1000-1006), an IPv4
 * /24 (172.16-31.y.0/24, so a /24 repeats across breakers), an IPv6 /64
 * (2001:db8:hi:lo::/64), or a name: "*.sK.svc.test" when K % 8 == 3, else
 * "hK.svc.test".  Breakers of 100 patterns, more each when 100 would make
 * over RC_MAX_BREAKERS.  GLOBAL (may be "") starts the text. */
#ifndef RC_BIGCONF_H
#define RC_BIGCONF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

static char *big_config(unsigned npats, const char *global, unsigned *nbreakers)
{
	size_t cap = (size_t)npats * 40 + 4096 + strlen(global), len = 0;
	char *t = malloc(cap);
	unsigned per = npats / 100 < RC_MAX_BREAKERS ? 100 : npats / RC_MAX_BREAKERS + 1;
	unsigned nb = 0;
	if (!t)
		return NULL;
	len += (size_t)snprintf(t, cap, "%s", global);
	for (unsigned k = 0; k < npats; k++) {
		if (k % per == 0)
			len += (size_t)snprintf(t + len, cap - len, "%s[b%u]\nmatch = ", k ? "\n" : "",
						nb++);
		else
			len += (size_t)snprintf(t + len, cap - len, ", ");
		switch (k % 4) {
		case 0:
			len += (size_t)snprintf(t + len, cap - len, "10.%u.%u.%u:%u", k >> 16 & 255,
						k >> 8 & 255, k & 255, 1000 + k % 7);
			break;
		case 1:
			len += (size_t)snprintf(t + len, cap - len, "172.%u.%u.0/24",
						16 + (k >> 16 & 15), k >> 8 & 255);
			break;
		case 2:
			len += (size_t)snprintf(t + len, cap - len, "[2001:db8:%x:%x::/64]", k >> 16,
						k & 0xffff);
			break;
		default:
			len += (size_t)snprintf(t + len, cap - len, "%s%u.svc.test",
						k % 8 == 3 ? "*.s" : "h", k);
			break;
		}
	}
	snprintf(t + len, cap - len, "\n");
	if (nbreakers)
		*nbreakers = nb;
	return t;
}

#endif
