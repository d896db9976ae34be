/* bench_match - destination lookups for `make bench`: the compiled index
 * (core/index.h) against the linear scan (match.h's _linear), on configs
 * of 1,000, 10,000 and 100,000 patterns (a quarter each: single IPv4
 * addresses with a port, IPv4 CIDRs, IPv6 CIDRs, host names and
 * wildcards), for a matched and an unmatched IPv4 address, an IPv6 one and
 * a resolved name.  Prints one line per size:
 *   PATTERNS BREAKERS INDEX_BYTES v4hit v4miss v6 name linear_v4miss
 * each the median ns per lookup over 5 rounds (linear: "-" past 10,000).
 *
 *   bench_match [LOOKUPS]
 *   bench_match config NPATS STATE LOG    print that config of NPATS
 *                                         patterns (tests/unit/bigconf.h),
 *                                         with STATE and LOG in [global] */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/config.h"
#include "core/index.h"
#include "core/match.h"
#include "bigconf.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef int (*lookup_fn)(const rc_config *, int, const uint8_t *, uint16_t,
			 const char *const *, unsigned);

/* Median ns per lookup of (FAMILY, ADDR, PORT, NAME) over 5 rounds of N. */
static double timed(lookup_fn fn, const rc_config *c, int family, const char *addr,
		    uint16_t port, const char *name, unsigned n, int *answer)
{
	uint8_t a[16];
	const char *names[1] = { name };
	double r[5];
	inet_pton(family, addr, a);
	volatile int sink = 0;
	for (int k = 0; k < 5; k++) {
		double t0 = now_ns();
		for (unsigned i = 0; i < n; i++) {
			a[family == AF_INET ? 3 : 15] ^= (uint8_t)(i & 1); /* not hoisted */
			sink += fn(c, family, a, port, names, name ? 1 : 0);
		}
		r[k] = (now_ns() - t0) / n;
	}
	a[family == AF_INET ? 3 : 15] &= 0xfe;
	*answer = fn(c, family, a, port, names, name ? 1 : 0);
	(void)sink;
	qsort(r, 5, sizeof r[0], cmpd);
	return r[2];
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "config") == 0) {
		char global[2 * PATH_MAX + 64];
		snprintf(global, sizeof global, "[global]\nstate_file = %s\nlog_file = %s\n\n",
			 argv[3], argv[4]);
		char *t = big_config((unsigned)atoi(argv[2]), global, NULL);
		if (!t)
			return 1;
		fputs(t, stdout);
		free(t);
		return 0;
	}
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 200000;
	static const unsigned sizes[] = { 1000, 10000, 100000 };
	printf("# patterns breakers index_bytes v4hit v4miss v6 name linear_v4miss (ns/lookup)\n");
	for (unsigned s = 0; s < 3; s++) {
		unsigned nb;
		char *text = big_config(sizes[s], "", &nb), err[512];
		rc_config *c = rc_config_load_string(text, "bench.ini", err, sizeof err);
		free(text);
		if (!c || !c->index) {
			fprintf(stderr, "bench_match: %s\n", c ? "no index" : err);
			return 1;
		}
		int a1, a2, a3, a4, a5 = -1;
		/* the last patterns of each kind: the scan's worst case */
		unsigned k0 = (sizes[s] - 4) & ~3u, k2 = k0 + 2, k3 = k0 + 3;
		char hit[32], v6[64], nm[64];
		snprintf(hit, sizeof hit, "10.%u.%u.%u", k0 >> 16 & 255, k0 >> 8 & 255, k0 & 255);
		snprintf(v6, sizeof v6, "2001:db8:%x:%x::1", k2 >> 16, k2 & 0xffff);
		snprintf(nm, sizeof nm, "%s%u.svc.test", k3 % 8 == 3 ? "x.s" : "h", k3);
		double t1 = timed(rc_match, c, AF_INET, hit, (uint16_t)(1000 + k0 % 7), NULL, n, &a1);
		double t2 = timed(rc_match, c, AF_INET, "127.0.0.1", 8080, NULL, n, &a2);
		double t3 = timed(rc_match, c, AF_INET6, v6, 443, NULL, n, &a3);
		double t4 = timed(rc_match, c, AF_INET, "192.0.2.1", 443, nm, n, &a4);
		char lin[32] = "-";
		if (sizes[s] <= 10000) {
			double t5 = timed(rc_match_linear, c, AF_INET, "127.0.0.1", 8080, NULL,
					  n / 100 + 1, &a5);
			snprintf(lin, sizeof lin, "%.0f", t5);
		}
		if (a1 < 0 || a2 >= 0 || a3 < 0 || a4 < 0 || a5 >= 0) {
			fprintf(stderr, "bench_match: wrong answers %d %d %d %d %d\n", a1, a2, a3, a4, a5);
			return 1;
		}
		printf("%u %u %zu %.1f %.1f %.1f %.1f %s\n", sizes[s], nb, rc_index_bytes(c->index), t1,
		       t2, t3, t4, lin);
		rc_config_free(c);
	}
	return 0;
}
