/* pattern.c - one destination pattern: parse, format, match.
 *
 * Choices the SPEC leaves open (also stated in conf/recloser.ini):
 *  - A CIDR with host bits set ("10.1.2.3/8") is rejected, naming the
 *    network that was probably meant.
 *  - "*.example.com" matches names below example.com at any depth, never
 *    example.com itself.
 *  - An IPv4-mapped IPv6 pattern ([::ffff:192.0.2.7], prefix >= 96) is
 *    stored as the IPv4 pattern it stands for, since a mapped destination
 *    matches as IPv4 (both folded by rc_dest_fold).
 *  - Host names may hold letters, digits, '-' and '_' (container and
 *    compose service names); the last label may not be all digits.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/dest.h"
#include "core/pattern.h"
#include "core/value.h"

/* ---- patterns ---- */

static int parse_port(const char *s, size_t n, uint16_t *port, char *err, size_t errlen)
{
	uint64_t v;

	if (n == 1 && s[0] == '*') {
		*port = 0;
		return 0;
	}
	if (!n)
		return rc_value_fail(err, errlen, "missing port after ':'");
	if (rc_value_decimal(s, n, 65535, &v) < 0 || v == 0)
		return rc_value_fail(err, errlen, "port must be 1-65535 or *");
	*port = (uint16_t)v;
	return 0;
}

/* Return nonzero if ADDR (NBYTES) has bits set beyond PREFIX; with FIX,
 * clear them. */
static int host_bits(uint8_t *addr, unsigned nbytes, unsigned prefix, int fix)
{
	int set = 0;

	for (unsigned i = 0; i < nbytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(keep ? 0xffu << (8 - keep) : 0);

		if (addr[i] & (uint8_t)~mask)
			set = 1;
		if (fix)
			addr[i] &= mask;
	}
	return set;
}

/* Parse "ADDR" or "ADDR/PREFIX" of FAMILY into P. */
static int parse_ip(int family, const char *s, size_t n, rc_pattern *p,
		    char *err, size_t errlen)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";
	unsigned max = family == AF_INET ? 32 : 128, nbytes = max / 8;
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	char buf[INET6_ADDRSTRLEN + 8];
	uint64_t prefix = max;

	if (an >= sizeof buf)
		return rc_value_fail(err, errlen, "bad %s address", fam);
	memcpy(buf, s, an);
	buf[an] = '\0';
	if (inet_pton(family, buf, p->addr) != 1)
		return rc_value_fail(err, errlen, "bad %s address '%s'", fam, buf);
	if (slash && rc_value_decimal(slash + 1, n - an - 1, max, &prefix) < 0)
		return rc_value_fail(err, errlen, "prefix length must be 0-%u", max);
	p->kind = family == AF_INET ? RC_PAT_IP4 : RC_PAT_IP6;
	p->prefix = (uint8_t)prefix;
	if (host_bits(p->addr, nbytes, (unsigned)prefix, 0)) {
		uint8_t net[16];
		char nb[INET6_ADDRSTRLEN];

		memcpy(net, p->addr, nbytes);
		host_bits(net, nbytes, (unsigned)prefix, 1);
		inet_ntop(family, net, nb, sizeof nb);
		return rc_value_fail(err, errlen, "host bits set beyond /%u "
				     "(the network is %s/%u)",
				     (unsigned)prefix, nb, (unsigned)prefix);
	}
	return 0;
}

/* Check host name [S, S + N) and store it, lowercase, at OUT (room for
 * ROOM characters and a NUL). */
static int parse_name(const char *s, size_t n, char *out, size_t room,
		      char *err, size_t errlen)
{
	size_t label = 0;
	bool digits_only = true;

	if (n && s[n - 1] == '.')
		n--;             /* an absolute name: the same host */
	if (!n)
		return rc_value_fail(err, errlen, "empty host name");
	if (n > room)
		return rc_value_fail(err, errlen, "host name longer than %zu "
				     "characters", room);
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? rc_value_lower(s[i]) : '.';

		if (c == '.') {
			if (!label)
				return rc_value_fail(err, errlen,
						     "empty label in host name");
			if (s[i - 1] == '-')
				return rc_value_fail(err, errlen, "a label of a host name "
						     "cannot end with '-'");
			if (i < n) {
				label = 0;
				digits_only = true;
			}
		} else if (rc_value_isalnum(c) || c == '-' || c == '_') {
			if (c == '-' && !label)
				return rc_value_fail(err, errlen, "a label of a host name "
						     "cannot start with '-'");
			if (++label > 63)
				return rc_value_fail(err, errlen, "label longer than 63 "
						     "characters in host name");
			if (c < '0' || c > '9')
				digits_only = false;
		} else if (c == '*') {
			return rc_value_fail(err, errlen, "'*' is only allowed as the "
					     "whole first label, as in *.example.com");
		} else if (c == '/') {
			return rc_value_fail(err, errlen, "invalid character '/' in host "
					     "name (a network is written a.b.c.d/prefix)");
		} else {
			return rc_value_fail(err, errlen, "invalid character '%c' in "
					     "host name", c >= 0x20 && c < 0x7f ? c : '?');
		}
		if (i < n)
			out[i] = c;
	}
	if (digits_only)
		return rc_value_fail(err, errlen,
				     "not a valid IPv4 address or host name");
	out[n] = '\0';
	return 0;
}

int rc_parse_pattern(const char *s, rc_pattern *out, char *hostbuf, char *err, size_t errlen)
{
	rc_pattern p;
	char hb[RC_HOST_MAX];
	size_t n;
	const char *host, *colon = NULL;
	size_t hn;

	memset(&p, 0, sizeof p);
	p.host = "";
	if (!s)
		return rc_value_fail(err, errlen, "empty pattern");
	n = strlen(s);
	rc_value_trim(&s, &n);
	if (!n)
		return rc_value_fail(err, errlen, "empty pattern");
	if (n > RC_PATTERN_MAX)
		return rc_value_fail(err, errlen, "pattern longer than %d characters",
				     RC_PATTERN_MAX);

	if (s[0] == '[') {
		const char *close = memchr(s, ']', n), *after;

		if (!close)
			return rc_value_fail(err, errlen,
					     "missing ']' after the IPv6 address");
		after = close + 1;
		if (after < s + n) {
			if (*after != ':')
				return rc_value_fail(err, errlen, "unexpected text "
						     "after ']' (expected :port)");
			if (parse_port(after + 1, (size_t)(s + n - after - 1),
				       &p.port, err, errlen) < 0)
				return -1;
		}
		if (parse_ip(AF_INET6, s + 1, (size_t)(close - s - 1), &p, err, errlen) < 0)
			return -1;
		/* ::ffff:a.b.c.d/96+ is an IPv4 pattern: mapped destinations
		 * are matched as IPv4. */
		if (p.prefix >= 96 && rc_dest_fold(AF_INET6, p.addr) == AF_INET) {
			p.kind = RC_PAT_IP4;
			p.prefix = (uint8_t)(p.prefix - 96);
		}
		*out = p;
		return 0;
	}

	host = s;
	hn = n;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':') {
			if (colon)
				return rc_value_fail(err, errlen, "an IPv6 address "
						     "must be in brackets, as in "
						     "[2001:db8::1]:443");
			colon = s + i;
		}
	if (colon) {
		hn = (size_t)(colon - s);
		if (parse_port(colon + 1, n - hn - 1, &p.port, err, errlen) < 0)
			return -1;
	}
	if (!hn)
		return rc_value_fail(err, errlen, "missing host before ':'");
	if (memchr(host, '/', hn) && !memchr(host, '*', hn)) {
		if (parse_ip(AF_INET, host, hn, &p, err, errlen) < 0)
			return -1;
	} else if (hn < INET_ADDRSTRLEN) {
		char buf[INET_ADDRSTRLEN];

		memcpy(buf, host, hn);
		buf[hn] = '\0';
		if (inet_pton(AF_INET, buf, p.addr) == 1) {
			p.kind = RC_PAT_IP4;
			p.prefix = 32;
		}
	}
	if (!p.kind) {
		if (hn >= 2 && host[0] == '*' && host[1] == '.') {
			p.kind = RC_PAT_WILD;
			hb[0] = '.';
			if (parse_name(host + 2, hn - 2, hb + 1,
				       RC_HOST_MAX - 2, err, errlen) < 0)
				return -1;
		} else if (hn == 1 && host[0] == '*') {
			return rc_value_fail(err, errlen, "a wildcard needs a domain, as "
					     "in *.example.com");
		} else {
			p.kind = RC_PAT_HOST;
			if (parse_name(host, hn, hb, RC_HOST_MAX - 1, err, errlen) < 0)
				return -1;
		}
		memcpy(hostbuf, hb, strlen(hb) + 1);
		p.host = hostbuf;
	}
	*out = p;
	return 0;
}

void rc_format_pattern(const rc_pattern *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", pfx[8] = "", port[8] = "";

	if (!buf || !len)
		return;
	if (!p) {
		snprintf(buf, len, "?");
		return;
	}
	if (p->port)
		snprintf(port, sizeof port, ":%u", (unsigned)p->port);
	switch (p->kind) {
	case RC_PAT_HOST:
		snprintf(buf, len, "%s%s", p->host, port);
		break;
	case RC_PAT_WILD:
		snprintf(buf, len, "*%s%s", p->host, port);
		break;
	case RC_PAT_IP4:
		inet_ntop(AF_INET, p->addr, a, sizeof a);
		if (p->prefix != 32)
			snprintf(pfx, sizeof pfx, "/%u", (unsigned)p->prefix);
		snprintf(buf, len, "%s%s%s", a, pfx, port);
		break;
	case RC_PAT_IP6:
		inet_ntop(AF_INET6, p->addr, a, sizeof a);
		if (p->prefix != 128)
			snprintf(pfx, sizeof pfx, "/%u", (unsigned)p->prefix);
		snprintf(buf, len, "[%s%s]%s", a, pfx, port);
		break;
	default:
		snprintf(buf, len, "?");
	}
}

/* ---- matching: no allocation, no system call ---- */

int rc_pattern_match_name(const rc_pattern *p, const char *name)
{
	size_t n, hn;

	if (!p || !name || (p->kind != RC_PAT_HOST && p->kind != RC_PAT_WILD))
		return 0;
	n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	hn = strlen(p->host);
	if (p->kind == RC_PAT_HOST)
		return n == hn && rc_value_ncaseeq(name, p->host, n);
	/* ".example.com": at least one label before it. */
	return n > hn && rc_value_ncaseeq(name + n - hn, p->host, hn);
}

static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, bytes))
		return 0;
	return !rem || !((a[bytes] ^ b[bytes]) & (uint8_t)(0xffu << (8 - rem)));
}

int rc_pattern_match_addr(const rc_pattern *p, int family, const uint8_t *addr)
{
	int kind = family == AF_INET ? RC_PAT_IP4 : family == AF_INET6 ? RC_PAT_IP6 : 0;

	if (!p || !addr || !kind || p->kind != kind)
		return 0;
	return prefix_eq(p->addr, addr, p->prefix);
}
