/* names.c - which host names this process resolved to which addresses.
 *
 * A fixed open-addressed table; each entry is guarded by a sequence
 * counter (odd while written), so readers never block and a writer that
 * finds an entry busy simply skips it: remembering is best effort. */
#include <netinet/in.h>
#include <string.h>

#include "core/dest.h"
#include "core/hash.h"
#include "core/match.h"
#include "engine/init.h"
#include "engine/live.h"
#include "engine/names.h"

#define NAMES_SIZE 512  /* entries */
#define NAMES_PROBE 4   /* entries looked at per address */

typedef struct name_ent {
	uint32_t seq;        /* even: stable; odd: being written */
	uint32_t stamp;      /* insertion order, to evict the oldest */
	uint8_t  family;     /* 0 empty, AF_INET, AF_INET6 */
	uint8_t  addr[16];
	char     name[RC_HOST_MAX];
} name_ent;

static name_ent table[NAMES_SIZE];
static uint32_t clock_stamp;

#define addr_len rc_dest_addr_len

static unsigned hash_addr(int family, const uint8_t *a)
{
	return (unsigned)rc_fnv1a(RC_FNV_INIT ^ (uint64_t)family, a, addr_len(family));
}

static void lower_copy(char *dst, const char *src)
{
	size_t i = 0;
	for (; src[i] && i < RC_HOST_MAX - 1; i++) {
		char c = src[i];
		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	if (i && dst[i - 1] == '.')
		i--; /* "example.com." is "example.com" */
	dst[i] = 0;
}

void rc_names_add_raw(const char *name, int family, const void *addr)
{
	if (!name || (family != AF_INET && family != AF_INET6) || strlen(name) >= RC_HOST_MAX)
		return;
	uint8_t a[16];
	char lname[RC_HOST_MAX];
	memcpy(a, addr, addr_len(family));
	family = rc_dest_fold(family, a);
	lower_copy(lname, name);
	unsigned h = hash_addr(family, a), victim = h % NAMES_SIZE;
	uint32_t oldest = UINT32_MAX;
	for (unsigned k = 0; k < NAMES_PROBE; k++) {
		unsigned i = (h + k) % NAMES_SIZE;
		name_ent *e = &table[i];
		uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		if (e->family == 0) {
			victim = i;
			oldest = 0;
			break;
		}
		if (e->family == family && memcmp(e->addr, a, addr_len(family)) == 0 &&
		    strcmp(e->name, lname) == 0)
			return; /* already known */
		if (e->stamp < oldest) {
			oldest = e->stamp;
			victim = i;
		}
	}
	name_ent *e = &table[victim];
	uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if ((s & 1) || !__atomic_compare_exchange_n(&e->seq, &s, s + 1, 0,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return; /* busy: skip, best effort */
	e->family = (uint8_t)family;
	memcpy(e->addr, a, 16);
	memcpy(e->name, lname, sizeof lname);
	e->stamp = __atomic_add_fetch(&clock_stamp, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}

void rc_names_add(const char *name, const struct sockaddr *sa)
{
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		rc_names_add_raw(name, AF_INET, &((const struct sockaddr_in *)sa)->sin_addr);
	else if (sa->sa_family == AF_INET6)
		rc_names_add_raw(name, AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr);
}

unsigned rc_names_lookup(int family, const uint8_t *addr,
			 char names[][RC_HOST_MAX], unsigned max)
{
	unsigned n = 0;
	if (!__atomic_load_n(&clock_stamp, __ATOMIC_RELAXED))
		return 0; /* nothing ever resolved: the common case costs one load */
	unsigned h = hash_addr(family, addr);
	for (unsigned k = 0; k < NAMES_PROBE && n < max; k++) {
		name_ent *e = &table[(h + k) % NAMES_SIZE];
		uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if ((s1 & 1) || e->family != family ||
		    memcmp(e->addr, addr, addr_len(family)) != 0)
			continue;
		memcpy(names[n], e->name, RC_HOST_MAX);
		names[n][RC_HOST_MAX - 1] = 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s1)
			n++;
	}
	return n;
}

int rc_names_wanted(const char *name)
{
	if (!name || !rc_active)
		return 0;
	RC_LIVE_USE(L);
	return L && rc_match_any_name(L->cfg, name);
}
