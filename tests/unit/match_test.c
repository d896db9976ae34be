/* match_test.c - the compiled index (core/index.h) against the linear scan
 * it replaced (match.h's _linear forms), on random configs and random
 * destinations: the same answer to every question, so the first match in
 * file order holds.  Patterns are drawn from a small universe (nested
 * IPv4 and IPv6 prefixes, v4-mapped ones, names and wildcards that
 * overlap, in mixed case, with and without ports) so that most
 * destinations match several breakers and the order decides.  Then a
 * config of 100,000 patterns (tests/unit/bigconf.h): index and scan agree;
 * the index is timed only in make bench (tests/bench/bench_match.c).
 * Each config is also put through its image (core/image.h), read in place
 * (read-only) and moved to another address: the index it holds gives the
 * same answers. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/index.h"
#include "core/match.h"
#include "bigconf.h"
#include "tap.h"

static unsigned long long rs = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned)(rs % n);
}

/* (labels and zones of 8 and 16 bytes and longer: a name is hashed 8
 * bytes a step within each label) */
static const char *labels[] = { "a", "b", "api", "db", "x", "payments", "eu-west-1-payments",
				"abcdefghijklmnop" };
static const char *zones[] = { "test", "example.com", "svc.test", "b.test", "cluster.local",
			       "a-long-zone-name.example.com" };
#define NLABELS (sizeof labels / sizeof *labels)
#define NZONES  (sizeof zones / sizeof *zones)
static const unsigned ports[] = { 0, 80, 443, 5432 };
static const unsigned v4lens[] = { 0, 8, 16, 20, 24, 30, 32, 32, 32 };
static const unsigned v6lens[] = { 0, 16, 32, 48, 64, 100, 127, 128, 128 };

/* A random IPv4 address in 10.0-3.0-3.0-7 (or 192.0.2.x), as text. */
static void rand_v4(char *b, size_t n)
{
	if (rnd(5) == 0)
		snprintf(b, n, "192.0.2.%u", rnd(8));
	else
		snprintf(b, n, "10.%u.%u.%u", rnd(4), rnd(4), rnd(8));
}

static void rand_v6(char *b, size_t n)
{
	snprintf(b, n, "2001:db8:%x::%x:%x", rnd(3), rnd(3), rnd(4));
}

static void rand_name(char *b, size_t n)
{
	const char *l = labels[rnd(NLABELS)], *z = zones[rnd(NZONES)];
	switch (rnd(3)) {
	case 0: snprintf(b, n, "%s.%s", l, z); break;
	case 1: snprintf(b, n, "%s.%s.%s", labels[rnd(NLABELS)], l, z); break;
	default: snprintf(b, n, "%s", z); break;
	}
}

static void upcase_some(char *b)
{
	for (; *b; b++)
		if (*b >= 'a' && *b <= 'z' && rnd(4) == 0)
			*b = (char)(*b - 32);
}

/* The network of the address A (text, of FAMILY) with LEN prefix bits,
 * as text into OUT (the parser refuses host bits set). */
static void net(int family, const char *a, unsigned len, char *out, size_t n)
{
	uint8_t b[16];
	unsigned bytes = family == AF_INET ? 4 : 16;
	inet_pton(family, a, b);
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		b[i] &= (uint8_t)(keep ? 0xffu << (8 - keep) : 0);
	}
	inet_ntop(family, b, out, (socklen_t)n);
}

/* One random pattern, as text, appended to OUT. */
static void rand_pattern(char *out, size_t n)
{
	char a[128], m[160], p[200];
	unsigned port = ports[rnd(4)], len;
	switch (rnd(6)) {
	case 0:
	case 1:
		rand_v4(a, sizeof a);
		len = v4lens[rnd(9)];
		net(AF_INET, a, len, m, sizeof m);
		snprintf(p, sizeof p, "%s/%u", m, len);
		break;
	case 2:
		rand_v6(a, sizeof a);
		len = v6lens[rnd(9)];
		net(AF_INET6, a, len, m, sizeof m);
		snprintf(p, sizeof p, "[%s/%u]", m, len);
		break;
	case 3: /* v4-mapped: stored as the IPv4 pattern */
		rand_v4(a, sizeof a);
		snprintf(m, sizeof m, "::ffff:%s", a);
		len = 96 + v4lens[rnd(9)];
		net(AF_INET6, m, len, a, sizeof a);
		snprintf(p, sizeof p, "[%s/%u]", a, len);
		break;
	case 4:
		rand_name(a, sizeof a);
		upcase_some(a);
		snprintf(p, sizeof p, "%s", a);
		break;
	default:
		rand_name(a, sizeof a);
		snprintf(p, sizeof p, "*.%s", a);
		break;
	}
	size_t l = strlen(out);
	if (p[0] == '[' || port == 0)
		snprintf(out + l, n - l, "%s%s", l && out[l - 1] != ' ' ? ", " : "", p);
	if (p[0] == '[' && port)
		snprintf(out + strlen(out), n - strlen(out), ":%u", port);
	else if (port)
		snprintf(out + l, n - l, "%s%s:%u", l && out[l - 1] != ' ' ? ", " : "", p, port);
}

static char *rand_config(unsigned nb)
{
	size_t cap = 64 + nb * 1100;
	char *t = malloc(cap), line[1000];
	size_t len = 0;
	t[0] = 0;
	for (unsigned i = 0; i < nb; i++) {
		line[0] = 0;
		unsigned np = 1 + rnd(4);
		for (unsigned j = 0; j < np; j++)
			rand_pattern(line, sizeof line);
		len += (size_t)snprintf(t + len, cap - len, "[b%u]\nmatch = %s\n", i, line);
	}
	return t;
}

/* TEXT's config as the shim gets it from an image: patterns dropped,
 * written as a block for one address, then opened there read-only
 * (MOVED 0) or at another address (MOVED 1).  NULL: failed. */
static rc_config *imaged(const char *text, int moved)
{
	char err[512];
	rc_config *p = rc_config_load_string(text, "imaged.ini", err, sizeof err);
	rc_config_drop_patterns(p);
	size_t n = rc_config_image_size(p);
	rc_config *c = NULL;
	char *a = n ? mmap(NULL, 2 * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		: MAP_FAILED;
	if (a != MAP_FAILED && rc_config_image_write(p, a, n, (uintptr_t)a) == 0) {
		if (moved) {
			memcpy(a + n, a, n);
			memset(a, 0xa5, n); /* what it was written for is gone */
			c = rc_config_image_open(a + n, n, (uintptr_t)a, 0);
		} else {
			mprotect(a, n, PROT_READ); /* a write would kill the test */
			c = rc_config_image_open(a, n, (uintptr_t)a, 1); /* sealed */
		}
	}
	rc_config_free(p);
	return c; /* the mapping is left: a test's few */
}

static int fails;
static void same(int a, int b, const char *what, const char *cfg, const char *q)
{
	if (a == b)
		return;
	if (fails++ < 5)
		printf("# %s: index %d, linear %d; query %s\n# config:\n%s", what, a, b, q, cfg);
}

static void random_configs(void)
{
	unsigned nq = 0;
	fails = 0;
	for (unsigned round = 0; round < 400; round++) {
		char *text = rand_config(1 + rnd(12)), err[512];
		rc_config *c = rc_config_load_string(text, "random.ini", err, sizeof err);
		if (!c) {
			if (fails++ < 5)
				printf("# a random config did not load: %s\n%s", err, text);
			free(text);
			continue;
		}
		if (!c->index) {
			fails++;
			printf("# no index built\n");
		}
		rc_config *im[2] = { imaged(text, 0), imaged(text, 1) };
		if (!im[0] || !im[1]) {
			fails++;
			printf("# no image\n");
		}
		for (unsigned q = 0; q < 300; q++, nq++) {
			char a[160], n0[128], n1[128], qs[640];
			const char *names[2] = { n0, n1 };
			uint8_t ad[16];
			int fam = AF_INET;
			unsigned port = ports[rnd(4)] ? ports[rnd(4)] : 8080;
			switch (rnd(3)) {
			case 0:
				rand_v6(a, sizeof a);
				fam = AF_INET6;
				break;
			case 1: /* v4-mapped destination: matched as IPv4 */
				rand_v4(n0, sizeof n0);
				snprintf(a, sizeof a, "::ffff:%s", n0);
				fam = AF_INET6;
				break;
			default:
				rand_v4(a, sizeof a);
			}
			inet_pton(fam, a, ad);
			rand_name(n0, sizeof n0);
			upcase_some(n0);
			rand_name(n1, sizeof n1);
			if (rnd(3) == 0)
				strcat(n1, ".");
			unsigned nn = rnd(3);
			snprintf(qs, sizeof qs, "%s port %u names %u: %s %s", a, port, nn, n0, n1);
			same(rc_match(c, fam, ad, (uint16_t)port, names, nn),
			     rc_match_linear(c, fam, ad, (uint16_t)port, names, nn), "rc_match", text, qs);
			same(rc_match_host(c, n0, (uint16_t)port), rc_match_host_linear(c, n0, (uint16_t)port),
			     "rc_match_host (name)", text, qs);
			same(rc_match_host(c, a, (uint16_t)port), rc_match_host_linear(c, a, (uint16_t)port),
			     "rc_match_host (literal)", text, qs);
			same(rc_match_any_name(c, n1), rc_match_any_name_linear(c, n1), "rc_match_any_name",
			     text, qs);
			same(rc_match_wants_address(c, n0, (uint16_t)port),
			     rc_match_wants_address_linear(c, n0, (uint16_t)port), "rc_match_wants_address",
			     text, qs);
			for (int m = 0; m < 2 && im[m]; m++) {
				same(rc_match(im[m], fam, ad, (uint16_t)port, names, nn),
				     rc_match_linear(c, fam, ad, (uint16_t)port, names, nn),
				     m ? "rc_match, image moved" : "rc_match, image in place", text, qs);
				same(rc_match_host(im[m], n0, (uint16_t)port),
				     rc_match_host_linear(c, n0, (uint16_t)port), "rc_match_host, image",
				     text, qs);
				same(rc_match_any_name(im[m], n1), rc_match_any_name_linear(c, n1),
				     "rc_match_any_name, image", text, qs);
				same(rc_match_wants_address(im[m], n0, (uint16_t)port),
				     rc_match_wants_address_linear(c, n0, (uint16_t)port),
				     "rc_match_wants_address, image", text, qs);
			}
		}
		rc_config_free(im[0]);
		rc_config_free(im[1]);
		rc_config_free(c);
		free(text);
	}
	ok(fails == 0, "400 random configs x 300 destinations (%u): index and linear scan agree on "
	   "rc_match, rc_match_host, rc_match_any_name, rc_match_wants_address, and so do the "
	   "configs read from their images, in place and moved (%d differ)", nq, fails);
}

/* Names longer than any pattern: a wildcard still matches them. */
static void long_names(void)
{
	char err[256], name[400];
	const char *names[1] = { name };
	uint8_t a[4] = { 192, 0, 2, 1 };
	rc_config *c = rc_config_load_string("[w]\nmatch = *.example.com\n[h]\nmatch = h.test\n",
					     "long.ini", err, sizeof err);
	memset(name, 'a', 300);
	strcpy(name + 300, ".example.com");
	is_int(rc_match(c, AF_INET, a, 80, names, 1), rc_match_linear(c, AF_INET, a, 80, names, 1),
	       "a resolved name of 312 bytes: as the scan answers");
	is_int(rc_match(c, AF_INET, a, 80, names, 1), 0, "...matched by its wildcard");
	is_int(rc_match_host(c, "H.TEST.", 80), 1, "an exact name: case and a trailing dot ignored");
	is_int(rc_match_host(c, "example.com", 80), -1, "a wildcard needs a label before it");
	static const char *odd[] = { "x..example.com", ".example.com", "..example.com",
				     "a.EXAMPLE.COM.", "h.test..", ".h.test", "H.TesT", "" };
	for (unsigned i = 0; i < sizeof odd / sizeof *odd; i++) {
		snprintf(name, sizeof name, "%s", odd[i]);
		is_int(rc_match(c, AF_INET, a, 80, names, 1),
		       rc_match_linear(c, AF_INET, a, 80, names, 1), "\"%s\": as the scan answers",
		       odd[i]);
	}
	rc_config_free(c);
}

/* 400 lookups of each kind in a config of NB breakers from big_config():
 * how many answers of C (matched through its index) differ from the
 * linear scan of P (C itself, or the config C's image was made of). */
static int big_lookups(const rc_config *c, const rc_config *p, unsigned nb)
{
	int bad = 0;
	for (unsigned q = 0; q < 400; q++) {
		uint8_t a[16];
		char s[64];
		unsigned k = rnd(nb * 100 + 50);
		snprintf(s, sizeof s, "10.%u.%u.%u", k >> 16 & 255, k >> 8 & 255, k & 255);
		inet_pton(AF_INET, s, a);
		uint16_t port = (uint16_t)(1000 + rnd(7));
		bad += rc_match(c, AF_INET, a, port, NULL, 0) != rc_match_linear(p, AF_INET, a, port, NULL, 0);
		snprintf(s, sizeof s, "x.s%u.svc.test", k);
		bad += rc_match_host(c, s, 80) != rc_match_host_linear(p, s, 80);
		snprintf(s, sizeof s, "h%u.svc.test", k);
		bad += rc_match_host(c, s, 80) != rc_match_host_linear(p, s, 80);
		snprintf(s, sizeof s, "2001:db8:%x:%x::1", k >> 16, k & 0xffff);
		inet_pton(AF_INET6, s, a);
		bad += rc_match(c, AF_INET6, a, 443, NULL, 0) != rc_match_linear(p, AF_INET6, a, 443, NULL, 0);
	}
	return bad;
}

/* 100,000 patterns: the index agrees with the scan (on fewer queries: the
 * scan is slow). */
static void test_big_config(void)
{
	char err[256];
	unsigned nb = 0;
	char *t = big_config(100000, "", &nb);
	rc_config *c = rc_config_load_string(t, "big.ini", err, sizeof err);
	ok(c != NULL, "a config of %u breakers and 100,000 patterns (tests/unit/bigconf.h) loads%s%s", nb,
	   c ? "" : ": ",
	   c ? "" : err);
	if (!c) {
		free(t);
		return;
	}
	ok(c->index != NULL, "...with its index (%zu bytes)", rc_index_bytes(c->index));
	is_int(big_lookups(c, c, nb), 0, "...400 x 4 lookups: index and scan agree");
	rc_config *im = imaged(t, 0);
	ok(im && im->nbreakers == nb, "...read from its image, in place");
	is_int(im ? big_lookups(im, c, nb) : -1, 0, "...its index answers as the parsed one's scan");
	rc_config_free(im);
	rc_config_free(c);
	free(t);
}

int main(void)
{
	random_configs();
	long_names();
	test_big_config();
	return done_testing();
}
