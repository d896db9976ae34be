/* hook_resolve.c - name resolution: remember which addresses a name that a
 * host-name pattern could match resolved to, so connect can match it. */
#include <errno.h>
#include <netdb.h>

#include "hooks/hook.h"

static void note_hostent(const char *name, const struct hostent *h)
{
	if (!h || !h->h_addr_list || !rc_names_wanted(name))
		return;
	RC_KEEP_ERRNO();
	for (char **a = h->h_addr_list; *a; a++)
		rc_names_add_raw(name, h->h_addrtype, *a);
}

RC_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			  struct addrinfo **res)
{
	if (rc_bypass())
		return REAL(getaddrinfo)(node, service, hints, res);
	int r = REAL(getaddrinfo)(node, service, hints, res);
	if (r == 0 && res && rc_names_wanted(node)) {
		RC_KEEP_ERRNO();
		for (const struct addrinfo *ai = *res; ai; ai = ai->ai_next)
			rc_names_add(node, ai->ai_addr);
	}
	return r;
}

RC_EXPORT struct hostent *gethostbyname(const char *name)
{
	if (rc_bypass())
		return REAL(gethostbyname)(name);
	struct hostent *h = REAL(gethostbyname)(name);
	note_hostent(name, h);
	return h;
}

RC_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	if (rc_bypass())
		return REAL(gethostbyname2)(name, af);
	struct hostent *h = REAL(gethostbyname2)(name, af);
	note_hostent(name, h);
	return h;
}

RC_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t len,
			      struct hostent **result, int *herr)
{
	if (rc_bypass())
		return REAL(gethostbyname_r)(name, ret, buf, len, result, herr);
	int r = REAL(gethostbyname_r)(name, ret, buf, len, result, herr);
	if (r == 0 && result)
		note_hostent(name, *result);
	return r;
}

RC_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
			       size_t len, struct hostent **result, int *herr)
{
	if (rc_bypass())
		return REAL(gethostbyname2_r)(name, af, ret, buf, len, result, herr);
	int r = REAL(gethostbyname2_r)(name, af, ret, buf, len, result, herr);
	if (r == 0 && result)
		note_hostent(name, *result);
	return r;
}
