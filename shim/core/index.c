/* index.c - see index.h.
 *
 * Every pattern becomes an item: a key (an address pattern's family,
 * prefix length and masked address; a name pattern's kind and lowercase
 * name) with its port and breaker index.  Sealing sorts the items by key,
 * then breaker index, and folds each run of one key into one entry whose
 * (port, index) pairs are in breaker order; the entries go into one
 * open-addressing table.  A lookup probes the keys a destination can
 * have and keeps the lowest index among the pairs whose port applies. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/index.h"
#include "core/scratch.h"

typedef struct pair {
	uint16_t port;  /* 0: any */
	uint32_t idx;
} pair;

typedef struct key {
	uint64_t h;
	uint64_t w0, w1;  /* an address, masked, as two big-endian numbers */
	uint32_t soff;    /* a name: its lowercase bytes in the pool */
	uint16_t slen;
	uint8_t  kind;    /* enum rc_pat_kind */
	uint8_t  len;     /* an address's prefix length */
	uint32_t off, n;  /* its pairs (entries); an item: n = its pair */
	uint16_t port;    /* an item's port */
} key;

/* A key once sealed: what a lookup compares, in 32 bytes (a key is 48;
 * 4,096 breakers, make bench).  A name's bytes are at w0 in the pool. */
typedef struct ent {
	uint64_t w0, w1;
	uint32_t h32;     /* the low 32 bits of the key's hash */
	uint32_t off, n;  /* its pairs */
	uint16_t slen;
	uint8_t  kind, len;
} ent;

struct rc_index {
	size_t   cap, nitems;
	key     *items;      /* while building (scratch); NULL once sealed */
	ent     *ents;       /* the keys, once sealed */
	size_t   nkeys;
	pair    *pairs;
	uint32_t *table;     /* entry number + 1, 0 empty */
	uint64_t mask;       /* table size - 1 */
	char    *pool;
	size_t   poolcap, poollen;
	uint8_t  lens4[33], nlens4, lens6[129], nlens6;
	uint8_t  addr_any;   /* an address pattern of any port */
	uint8_t  in_image;   /* its arrays are in a config image (not ours) */
	uint8_t  addr_port[65536 / 8];
};

/* ---- hashing ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t addr_hash(int kind, unsigned len, uint64_t w0, uint64_t w1)
{
	return mix(w0 ^ mix(w1 ^ ((uint64_t)kind << 8 | len)));
}

/* Names hash from their last byte to their first, so that walking a name
 * backwards gives the hash of each of its suffixes on the way. */
#define NAME_SEED 0xcbf29ce484222325ull
static inline uint64_t name_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ull;
}

static uint64_t name_final(uint64_t h, int kind)
{
	return mix(h ^ (uint64_t)kind);
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ---- addresses as two numbers ---- */

static void words(int family, const uint8_t *a, uint64_t *w0, uint64_t *w1)
{
	uint64_t x = 0, y = 0;
	if (family == AF_INET) {
		for (int i = 0; i < 4; i++)
			x = x << 8 | a[i];
		x <<= 32;
	} else {
		for (int i = 0; i < 8; i++)
			x = x << 8 | a[i];
		for (int i = 8; i < 16; i++)
			y = y << 8 | a[i];
	}
	*w0 = x;
	*w1 = y;
}

static void masked(unsigned len, uint64_t *w0, uint64_t *w1)
{
	if (len == 0) {
		*w0 = *w1 = 0;
	} else if (len <= 64) {
		*w0 &= ~0ull << (64 - len);
		*w1 = 0;
	} else {
		*w1 &= ~0ull << (128 - len);
	}
}

/* ---- building ---- */

rc_index *rc_index_new(size_t npats)
{
	rc_index *ix = calloc(1, sizeof *ix);
	if (!ix)
		return NULL;
	ix->cap = npats;
	if (npats && !(ix->items = rc_scratch_alloc(npats * sizeof *ix->items))) {
		free(ix);
		return NULL;
	}
	return ix;
}

static int pool_add(rc_index *ix, const char *s, size_t n, uint32_t *off)
{
	if (ix->poollen + n > ix->poolcap) {
		size_t nc = ix->poolcap ? ix->poolcap * 2 : 4096;
		while (nc < ix->poollen + n)
			nc *= 2;
		char *np = realloc(ix->pool, nc);
		if (!np)
			return -1;
		ix->pool = np;
		ix->poolcap = nc;
	}
	for (size_t i = 0; i < n; i++)
		ix->pool[ix->poollen + i] = (char)lower((unsigned char)s[i]);
	*off = (uint32_t)ix->poollen;
	ix->poollen += n;
	return 0;
}

int rc_index_add(rc_index *ix, const rc_pattern *p, unsigned idx)
{
	if (!ix || !p || ix->nitems == ix->cap)
		return -1;
	key *k = &ix->items[ix->nitems];
	memset(k, 0, sizeof *k);
	k->kind = p->kind;
	k->port = p->port;
	k->n = idx;
	if (p->kind == RC_PAT_IP4 || p->kind == RC_PAT_IP6) {
		unsigned max = p->kind == RC_PAT_IP4 ? 32 : 128;
		k->len = (uint8_t)(p->prefix > max ? max : p->prefix);
		words(p->kind == RC_PAT_IP4 ? AF_INET : AF_INET6, p->addr, &k->w0, &k->w1);
		masked(k->len, &k->w0, &k->w1);
		k->h = addr_hash(k->kind, k->len, k->w0, k->w1);
		if (p->port)
			ix->addr_port[p->port / 8] |= (uint8_t)(1u << (p->port % 8));
		else
			ix->addr_any = 1;
	} else if (p->kind == RC_PAT_HOST || p->kind == RC_PAT_WILD) {
		size_t n = strnlen(p->host, RC_HOST_MAX);
		if (pool_add(ix, p->host, n, &k->soff) < 0)
			return -1;
		uint64_t h = NAME_SEED;
		for (size_t i = n; i-- > 0;)
			h = name_step(h, (unsigned char)ix->pool[k->soff + i]);
		k->slen = (uint16_t)n;
		k->h = name_final(h, k->kind);
	} else {
		return 0; /* no kind: matches nothing */
	}
	ix->nitems++;
	return 0;
}

static int same_key(const key *a, const key *b, const char *pool)
{
	if (a->h != b->h || a->kind != b->kind)
		return 0;
	if (a->kind == RC_PAT_IP4 || a->kind == RC_PAT_IP6)
		return a->len == b->len && a->w0 == b->w0 && a->w1 == b->w1;
	return a->slen == b->slen && memcmp(pool + a->soff, pool + b->soff, a->slen) == 0;
}

/* qsort_r's order of items; POOL: the index's names. */
static int cmp_item(const void *x, const void *y, void *pool)
{
	const key *a = x, *b = y;
	const char *names = pool;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->kind == RC_PAT_IP4 || a->kind == RC_PAT_IP6) {
		if (a->len != b->len)
			return a->len < b->len ? -1 : 1;
		if (a->w0 != b->w0)
			return a->w0 < b->w0 ? -1 : 1;
		if (a->w1 != b->w1)
			return a->w1 < b->w1 ? -1 : 1;
	} else {
		if (a->slen != b->slen)
			return a->slen < b->slen ? -1 : 1;
		int c = memcmp(names + a->soff, names + b->soff, a->slen);
		if (c)
			return c;
	}
	if (a->n != b->n) /* the breaker index */
		return a->n < b->n ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

int rc_index_seal(rc_index *ix)
{
	if (!ix)
		return -1;
	if (ix->nitems)
		qsort_r(ix->items, ix->nitems, sizeof *ix->items, cmp_item, ix->pool);
	ix->pairs = malloc((ix->nitems ? ix->nitems : 1) * sizeof *ix->pairs);
	size_t tsize = 16;
	while (tsize < ix->nitems * 2)
		tsize *= 2;
	ix->table = calloc(tsize, sizeof *ix->table);
	if (!ix->pairs || !ix->table) {
		rc_index_free(ix);
		return -1;
	}
	ix->mask = tsize - 1;
	/* fold each run of one key into the entry that takes its place */
	size_t nk = 0;
	for (size_t i = 0; i < ix->nitems; i++) {
		key *it = &ix->items[i];
		ix->pairs[i] = (pair){ it->port, it->n };
		if (nk && same_key(&ix->items[nk - 1], it, ix->pool)) {
			ix->items[nk - 1].n++;
			continue;
		}
		key e = *it;
		e.off = (uint32_t)i;
		e.n = 1;
		ix->items[nk++] = e;
	}
	ix->nkeys = nk;
	if (!(ix->ents = malloc((nk ? nk : 1) * sizeof *ix->ents))) {
		rc_index_free(ix);
		return -1;
	}
	uint8_t seen4[33] = { 0 }, seen6[129] = { 0 };
	for (size_t i = 0; i < nk; i++) {
		key *e = &ix->items[i];
		int addr = e->kind == RC_PAT_IP4 || e->kind == RC_PAT_IP6;
		ix->ents[i] = (ent){ addr ? e->w0 : e->soff, addr ? e->w1 : 0, (uint32_t)e->h,
				     e->off, e->n, e->slen, e->kind, e->len };
		uint64_t s = e->h & ix->mask;
		while (ix->table[s])
			s = (s + 1) & ix->mask;
		ix->table[s] = (uint32_t)i + 1;
		if (e->kind == RC_PAT_IP4 && !seen4[e->len]) {
			seen4[e->len] = 1;
			ix->lens4[ix->nlens4++] = e->len;
		}
		if (e->kind == RC_PAT_IP6 && !seen6[e->len]) {
			seen6[e->len] = 1;
			ix->lens6[ix->nlens6++] = e->len;
		}
	}
	rc_scratch_free(ix->items, ix->cap * sizeof *ix->items);
	ix->items = NULL;
	return 0;
}

void rc_index_free(rc_index *ix)
{
	if (!ix || ix->in_image)
		return;
	rc_scratch_free(ix->items, ix->cap * sizeof *ix->items);
	free(ix->ents);
	free(ix->pairs);
	free(ix->table);
	free(ix->pool);
	free(ix);
}

size_t rc_index_bytes(const rc_index *ix)
{
	if (!ix)
		return 0;
	return sizeof *ix + ix->nkeys * sizeof(ent) + ix->nitems * sizeof(pair) +
	       (ix->mask + 1) * sizeof(uint32_t) + ix->poolcap;
}

/* ---- as part of a config image (core/image.h) ---- */

/* The parts of an image of IX, each 8-aligned: the struct, then its
 * entries, pairs, table and pool.  Fills PARTS with their sizes. */
static size_t image_parts(const rc_index *ix, size_t parts[5])
{
	parts[0] = sizeof *ix;
	parts[1] = ix->nkeys * sizeof *ix->ents;
	parts[2] = ix->nitems * sizeof *ix->pairs;
	parts[3] = (ix->mask + 1) * sizeof *ix->table;
	parts[4] = ix->poollen;
	size_t n = 0;
	for (int i = 0; i < 5; i++)
		n += (parts[i] + 7) & ~(size_t)7;
	return n;
}

size_t rc_index_image_size(const rc_index *ix)
{
	size_t parts[5];
	return ix && !ix->items ? image_parts(ix, parts) : 0;
}

void rc_index_image_write(const rc_index *ix, void *dst, uintptr_t base)
{
	size_t parts[5], at = 0;
	image_parts(ix, parts);
	const void *from[5] = { ix, ix->ents, ix->pairs, ix->table, ix->pool };
	uintptr_t where[5];
	char *d = dst;
	for (int i = 0; i < 5; i++) {
		if (parts[i]) /* (an index of no name has no pool: NULL) */
			memcpy(d + at, from[i], parts[i]);
		memset(d + at + parts[i], 0, ((parts[i] + 7) & ~(size_t)7) - parts[i]);
		where[i] = base + at;
		at += (parts[i] + 7) & ~(size_t)7;
	}
	rc_index *copy = dst;
	copy->items = NULL;
	copy->cap = 0;
	copy->ents = (ent *)where[1];
	copy->pairs = (pair *)where[2];
	copy->table = (uint32_t *)where[3];
	copy->pool = (char *)where[4];
	copy->poolcap = copy->poollen;
	copy->in_image = 1;
}

rc_index *rc_index_image_open(void *src, size_t n, uintptr_t base)
{
	rc_index *ix = src;
	size_t parts[5], at;
	if (n < sizeof *ix || !ix->in_image || ix->items || ix->mask + 1 < 16 ||
	    (ix->mask & (ix->mask + 1)) || ix->nkeys > ix->nitems || ix->nitems > UINT32_MAX ||
	    ix->poollen > UINT32_MAX || ix->mask > UINT32_MAX || ix->nlens4 > 33 ||
	    ix->nlens6 > 129 || image_parts(ix, parts) != n)
		return NULL;
	/* each array where the writer put it, for a block at BASE */
	void **ptr[4] = { (void **)&ix->ents, (void **)&ix->pairs, (void **)&ix->table,
			  (void **)&ix->pool };
	at = (parts[0] + 7) & ~(size_t)7;
	for (int i = 0; i < 4; i++) {
		if ((uintptr_t)*ptr[i] != base + at)
			return NULL;
		at += (parts[i + 1] + 7) & ~(size_t)7;
	}
	if ((uintptr_t)src != base) { /* a copy: not where it was written for */
		at = (parts[0] + 7) & ~(size_t)7;
		for (int i = 0; i < 4; i++) {
			*ptr[i] = (char *)src + at;
			at += (parts[i + 1] + 7) & ~(size_t)7;
		}
	}
	return ix;
}

static const uint32_t empty_table[16];

void rc_index_write_empty(void *dst)
{
	rc_index *ix = dst;
	memset(ix, 0, sizeof *ix);
	ix->table = (uint32_t *)(uintptr_t)empty_table; /* only ever read */
	ix->mask = 15;
	ix->in_image = 1; /* not freed */
}

/* ---- lookups ---- */

/* The lowest index of entry E's pairs applying to PORT (ANY: any), or
 * BEST if that is lower. */
static int best_of(const rc_index *ix, const ent *e, uint16_t port, int any, int best)
{
	const pair *p = &ix->pairs[e->off];
	for (uint32_t i = 0; i < e->n; i++) {
		if (best >= 0 && p[i].idx >= (unsigned)best)
			return best; /* in breaker order: none lower after it */
		if (any || !p[i].port || p[i].port == port)
			return (int)p[i].idx;
	}
	return best;
}

int rc_index_addr(const rc_index *ix, int family, const uint8_t *addr, uint16_t port)
{
	if (!ix || !addr || (family != AF_INET && family != AF_INET6))
		return -1;
	int kind = family == AF_INET ? RC_PAT_IP4 : RC_PAT_IP6, best = -1;
	const uint8_t *lens = family == AF_INET ? ix->lens4 : ix->lens6;
	unsigned nlens = family == AF_INET ? ix->nlens4 : ix->nlens6;
	uint64_t a0, a1;
	words(family, addr, &a0, &a1);
	for (unsigned l = 0; l < nlens; l++) {
		uint64_t w0 = a0, w1 = a1;
		masked(lens[l], &w0, &w1);
		uint64_t h = addr_hash(kind, lens[l], w0, w1);
		for (uint64_t s = h & ix->mask;; s = (s + 1) & ix->mask) {
			uint32_t t = ix->table[s];
			if (!t)
				break;
			const ent *e = &ix->ents[t - 1];
			if (e->h32 == (uint32_t)h && e->kind == kind && e->len == lens[l] &&
			    e->w0 == w0 && e->w1 == w1) {
				best = best_of(ix, e, port, 0, best);
				break;
			}
		}
	}
	return best;
}

/* The entry of the name NAME[0..N) (lowercase) of KIND with hash H. */
static const ent *find_name(const rc_index *ix, uint64_t h, int kind, const char *name,
			    size_t n)
{
	for (uint64_t s = h & ix->mask;; s = (s + 1) & ix->mask) {
		uint32_t t = ix->table[s];
		if (!t)
			return NULL;
		const ent *e = &ix->ents[t - 1];
		if (e->h32 == (uint32_t)h && e->kind == kind && e->slen == n &&
		    memcmp(ix->pool + e->w0, name, n) == 0)
			return e;
	}
}

int rc_index_name(const rc_index *ix, const char *name, uint16_t port, int anyport)
{
	if (!ix || !name)
		return -1;
	char buf[RC_HOST_MAX];
	size_t n = strlen(name), off = 0;
	if (n && name[n - 1] == '.')
		n--;
	if (n >= RC_HOST_MAX) {
		/* longer than any pattern's name: only a wildcard can match it,
		 * by a suffix within its last RC_HOST_MAX - 1 bytes */
		off = n - (RC_HOST_MAX - 1);
		n = RC_HOST_MAX - 1;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)lower((unsigned char)name[off + i]);
	int best = -1;
	uint64_t h = NAME_SEED;
	for (size_t k = n; k-- > 0;) {
		h = name_step(h, (unsigned char)buf[k]);
		/* ".example.com" matches a name with at least one byte before it */
		if (buf[k] == '.' && k + off > 0) {
			const ent *e = find_name(ix, name_final(h, RC_PAT_WILD), RC_PAT_WILD,
						 buf + k, n - k);
			if (e)
				best = best_of(ix, e, port, anyport, best);
		}
	}
	if (!off) {
		const ent *e = find_name(ix, name_final(h, RC_PAT_HOST), RC_PAT_HOST, buf, n);
		if (e)
			best = best_of(ix, e, port, anyport, best);
	}
	return best;
}

int rc_index_has_addr_port(const rc_index *ix, uint16_t port)
{
	if (!ix)
		return 0;
	return ix->addr_any || (port && (ix->addr_port[port / 8] >> (port % 8) & 1));
}
