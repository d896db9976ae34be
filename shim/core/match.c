/* match.c - which breaker a destination belongs to; see match.h.  The
 * config's compiled index (core/index.h) answers; the linear scans below
 * are the reference it is tested against, and the answer when a config
 * has no index (it could not be built: out of memory). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "core/config.h"
#include "core/dest.h"
#include "core/index.h"
#include "core/match.h"
#include "core/pattern.h"

/* Nonzero if pattern P applies to PORT (a pattern without one: any). */
static int port_ok(const rc_pattern *p, uint16_t port)
{
	return !p->port || p->port == port;
}

static int is_name(const rc_pattern *p)
{
	return p->kind == RC_PAT_HOST || p->kind == RC_PAT_WILD;
}

int rc_match_linear(const rc_config *c, int family, const uint8_t *addr,
		    uint16_t port, const char *const *names, unsigned nnames)
{
	uint8_t a[16];

	if (!c || !addr || (family != AF_INET && family != AF_INET6))
		return -1;
	memcpy(a, addr, rc_dest_addr_len(family));
	family = rc_dest_fold(family, a);
	if (!names)
		nnames = 0;
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];

		for (unsigned j = 0; j < b->npats; j++) {
			const rc_pattern *p = &b->pats[j];

			if (!port_ok(p, port))
				continue;
			if (is_name(p)) {
				for (unsigned k = 0; k < nnames; k++)
					if (rc_pattern_match_name(p, names[k]))
						return (int)i;
			} else if (rc_pattern_match_addr(p, family, a)) {
				return (int)i;
			}
		}
	}
	return -1;
}

int rc_match_any_name_linear(const rc_config *c, const char *name)
{
	if (!c || !name)
		return 0;
	for (unsigned i = 0; i < c->nbreakers; i++)
		for (unsigned j = 0; j < c->breakers[i].npats; j++)
			if (rc_pattern_match_name(&c->breakers[i].pats[j], name))
				return 1;
	return 0;
}

/* HOST as rc_match_host takes it: an IPv4 or IPv6 literal ("[v6]" allowed)
 * into A, returning its family; else 0 with the name in H (RC_HOST_MAX
 * bytes); -1 for a HOST of RC_HOST_MAX characters or more. */
static int host_literal(const char *host, char *h, uint8_t *a)
{
	size_t n = strlen(host);

	if (n >= RC_HOST_MAX)
		return -1;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		memcpy(h, host, n + 1);
	}
	if (inet_pton(AF_INET, h, a) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, h, a) == 1)
		return AF_INET6;
	return 0;
}

int rc_match_host_linear(const rc_config *c, const char *host, uint16_t port)
{
	char h[RC_HOST_MAX];
	uint8_t a[16];
	int fam;

	if (!c || !host || (fam = host_literal(host, h, a)) < 0)
		return -1;
	if (fam)
		return rc_match_linear(c, fam, a, port, NULL, 0);
	for (unsigned i = 0; i < c->nbreakers; i++)
		for (unsigned j = 0; j < c->breakers[i].npats; j++) {
			const rc_pattern *p = &c->breakers[i].pats[j];

			if (is_name(p) && port_ok(p, port) && rc_pattern_match_name(p, h))
				return (int)i;
		}
	return -1;
}

int rc_match_wants_address_linear(const rc_config *c, const char *host, uint16_t port)
{
	int want = 0;

	if (!c || !host)
		return 0;
	for (unsigned i = 0; i < c->nbreakers; i++)
		for (unsigned j = 0; j < c->breakers[i].npats; j++) {
			const rc_pattern *p = &c->breakers[i].pats[j];

			if (!port_ok(p, port))
				continue;
			if (p->kind == RC_PAT_IP4 || p->kind == RC_PAT_IP6)
				want = 1;
			else if (rc_pattern_match_name(p, host))
				return 0; /* matched by name (a breaker with mode = off) */
		}
	return want;
}

/* ---- through the compiled index ---- */

static int lower_of(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int rc_match(const rc_config *c, int family, const uint8_t *addr,
	     uint16_t port, const char *const *names, unsigned nnames)
{
	uint8_t a[16];

	if (!c || !c->index)
		return rc_match_linear(c, family, addr, port, names, nnames);
	if (!addr || (family != AF_INET && family != AF_INET6))
		return -1;
	memcpy(a, addr, rc_dest_addr_len(family));
	family = rc_dest_fold(family, a);
	int best = rc_index_addr(c->index, family, a, port);
	for (unsigned k = 0; names && k < nnames && best != 0; k++)
		best = lower_of(best, rc_index_name(c->index, names[k], port, 0));
	return best;
}

int rc_match_any_name(const rc_config *c, const char *name)
{
	if (!c || !c->index)
		return rc_match_any_name_linear(c, name);
	return name && rc_index_name(c->index, name, 0, 1) >= 0;
}

int rc_match_host(const rc_config *c, const char *host, uint16_t port)
{
	char h[RC_HOST_MAX];
	uint8_t a[16];
	int fam;

	if (!c || !c->index)
		return rc_match_host_linear(c, host, port);
	if (!host || (fam = host_literal(host, h, a)) < 0)
		return -1;
	if (fam)
		return rc_match(c, fam, a, port, NULL, 0);
	return rc_index_name(c->index, h, port, 0);
}

int rc_match_wants_address(const rc_config *c, const char *host, uint16_t port)
{
	if (!c || !c->index)
		return rc_match_wants_address_linear(c, host, port);
	if (!host)
		return 0;
	if (rc_index_name(c->index, host, port, 0) >= 0)
		return 0; /* matched by name (a breaker with mode = off) */
	return rc_index_has_addr_port(c->index, port);
}
