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

#include "core/hash.h"
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
	uint64_t name_lens[2][4]; /* the lengths of names, then of wildcards' suffixes */
	uint8_t  addr_any;   /* an address pattern of any port */
	uint8_t  in_image;   /* its arrays are in a config image (not ours) */
	uint8_t  addr_port[65536 / 8];
};

/* ---- hashing ---- */

/* Names hash a word at a time (rc_hash_word: each step one-to-one, the
 * high half folded into the low bits a table index keeps); addresses
 * with murmur3's finaliser (rc_hash_end), as their words may differ only
 * in bits a single step would leave out of the low ones (a /24's are a
 * multiple of 256 apart). */

/* An IPv4 address's hash is one finaliser of its word (the IPv6 half W1 is
 * 0), an IPv6 one's two: the lookup makes one per prefix length. */
static inline uint64_t addr_hash(int kind, unsigned len, uint64_t w0, uint64_t w1)
{
	uint64_t t = (uint64_t)kind << 8 | len;
	return kind == RC_PAT_IP4 ? rc_hash_end(w0 ^ t) : rc_hash_end(w0 ^ rc_hash_end(w1 ^ t));
}

/* Names hash a label at a time, from the last label to the first, eight
 * bytes a step (the label's bytes from its start, the last word padded
 * with zeros), and a step for each dot with the length of the label after
 * it: walking a name backwards gives the hash of each suffix that starts
 * at a dot on the way, a step per 8 bytes where a byte at a time took a
 * multiply per byte.  A name is read once into whole words, lowercase,
 * with where its dots are; a label's words are then made from those in
 * registers (a load that spans two words just stored waits for both
 * stores to retire: so read, the lookup took twice as long). */
#define NAME_WORDS (RC_HOST_MAX / 8 + 2) /* (RC_HOST_MAX - 1 bytes, then a word of zeros) */

typedef struct lname {
	uint64_t w[NAME_WORDS]; /* its bytes in order (little-endian words), then zeros */
	uint8_t  dot[RC_HOST_MAX]; /* where its dots are, in order */
	size_t   nd;
	uint64_t h;  /* walking back (lname_back): the hash from byte e on */
	size_t   e;
} lname;

/* The 8 bytes at P as a little-endian word. */
static inline uint64_t le64(const void *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* The high bit of each byte of W that is a dot. */
static inline uint64_t dots8(uint64_t w)
{
	const uint64_t low7s = 0x7f7f7f7f7f7f7f7full;
	uint64_t x = w ^ 0x2e2e2e2e2e2e2e2eull; /* a dot: 0 */
	return ~(((x & low7s) + low7s) | x | low7s);
}

/* The 8 bytes of W with 'A'..'Z' made lowercase, the rest as they are:
 * a byte's high bit, after adding to its low 7, says where it stands. */
static inline uint64_t lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones << 7;
	uint64_t low7 = w & ~high;
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;     /* high bit: >= 'A' */
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones; /* high bit: > 'Z' */
	return w | ((ge_a & ~gt_z & ~w & high) >> 2);
}

/* Word I of L: the name's bytes 8I..8I+8, lowercase, and where its dots
 * are among them. */
static inline void lname_put(lname *l, size_t i, uint64_t w)
{
	w = lower8(w);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	l->w[i] = __builtin_bswap64(w); /* the bytes in order in memory */
#else
	l->w[i] = w;
#endif
	for (uint64_t d = dots8(w); d; d &= d - 1)
		l->dot[l->nd++] = (uint8_t)(8 * i + (unsigned)__builtin_ctzll(d) / 8);
}

/* Read the N bytes at S (N < RC_HOST_MAX) into L, reading no byte past
 * them. */
static inline __attribute__((always_inline)) void lname_read(lname *l, const char *s,
							   size_t n)
{
	size_t i = 0, r = n % 8;
	l->nd = 0;
	l->h = RC_FNV_INIT;
	l->e = n;
	for (; i + 8 <= n; i += 8)
		lname_put(l, i / 8, le64(s + i));
	if (r) {
		uint64_t t = 0;
		if (n >= 8) {
			t = le64(s + n - 8) >> (8 * (8 - r));
		} else {
			for (size_t j = 0; j < r; j++)
				t |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
		}
		lname_put(l, n / 8, t);
	}
	l->w[(n + 7) / 8] = 0; /* the word after them: lname_word reads it */
}

/* The 8 bytes of L from byte A on (as a little-endian word). */
static inline uint64_t lname_word(const lname *l, size_t a)
{
	size_t i = a / 8, r = a % 8;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	uint64_t lo = __builtin_bswap64(l->w[i]), hi = __builtin_bswap64(l->w[i + 1]);
#else
	uint64_t lo = l->w[i], hi = l->w[i + 1];
#endif
	return r ? lo >> (8 * r) | hi << (64 - 8 * r) : lo;
}

/* H with the label of L's bytes A..E folded in. */
static inline uint64_t label_step(uint64_t h, const lname *l, size_t a, size_t e)
{
	for (; a + 8 <= e; a += 8)
		h = rc_hash_word(h, lname_word(l, a));
	if (a < e)
		h = rc_hash_word(h, lname_word(l, a) & (~0ull >> (64 - 8 * (e - a))));
	return h;
}

/* H with a dot before a label of LEN bytes folded in. */
static inline uint64_t dot_step(uint64_t h, size_t len)
{
	return rc_hash_word(h, 0x2e00000000000000ull | len);
}

/* One step back along L: the next suffix that starts at a dot, its start
 * in *K and its hash in L->h; 0 when none is left (then lname_whole). */
static inline int lname_back(lname *l, size_t *k)
{
	if (!l->nd)
		return 0;
	*k = l->dot[--l->nd];
	l->h = dot_step(label_step(l->h, l, *k + 1, l->e), l->e - *k - 1);
	l->e = *k;
	return 1;
}

/* The hash of the whole name, once lname_back has walked it. */
static inline uint64_t lname_whole(const lname *l)
{
	return label_step(l->h, l, 0, l->e);
}

/* The hash of the name S[0..N) (N < RC_HOST_MAX).  A host name and a
 * wildcard of the same bytes would hash alike: an entry's kind tells
 * them apart. */
static uint64_t name_hash(const char *s, size_t n)
{
	lname l;
	size_t k;
	lname_read(&l, s, n);
	while (lname_back(&l, &k))
		;
	return lname_whole(&l);
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* ---- addresses as two numbers ---- */

/* (a byte at a time: a wider load of an address whose byte was just
 * stored waits for that store to retire, as in make bench's lookups) */
static inline uint64_t be_bytes(const uint8_t *a, int n)
{
	uint64_t x = 0;
	for (int i = 0; i < n; i++)
		x = x << 8 | a[i];
	return x;
}

static inline void words(int family, const uint8_t *a, uint64_t *w0, uint64_t *w1)
{
	if (family == AF_INET) {
		/* (spelled out: be_bytes(a, 4) stays a loop at -O2) */
		*w0 = (uint64_t)a[0] << 56 | (uint64_t)a[1] << 48 | (uint64_t)a[2] << 40 |
		      (uint64_t)a[3] << 32;
		*w1 = 0;
	} else {
		*w0 = be_bytes(a, 8);
		*w1 = be_bytes(a + 8, 8);
	}
}

static inline void masked(unsigned len, uint64_t *w0, uint64_t *w1)
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
		k->slen = (uint16_t)n;
		k->h = name_hash(ix->pool + k->soff, n);
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

/* A name of KIND and N bytes (N < 256): some pattern has one (a lookup
 * probes for no other: a probe is a miss of the cache in a large table). */
static void set_len(rc_index *ix, int kind, size_t n)
{
	ix->name_lens[kind == RC_PAT_WILD][n / 64 % 4] |= 1ull << (n % 64);
}

static inline int has_len(const rc_index *ix, int kind, size_t n)
{
	return ix->name_lens[kind == RC_PAT_WILD][n / 64 % 4] >> (n % 64) & 1;
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
		if (e->kind == RC_PAT_HOST || e->kind == RC_PAT_WILD)
			set_len(ix, e->kind, e->slen);
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
static inline const ent *find_name(const rc_index *ix, uint64_t h, int kind, const char *name,
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
	lname l;
	size_t n = strlen(name), off = 0;
	if (n && name[n - 1] == '.')
		n--;
	if (n >= RC_HOST_MAX) {
		/* longer than any pattern's name: only a wildcard can match it,
		 * by a suffix within its last RC_HOST_MAX - 1 bytes */
		off = n - (RC_HOST_MAX - 1);
		n = RC_HOST_MAX - 1;
	}
	lname_read(&l, name + off, n);
	const char *buf = (const char *)l.w;
	int best = -1;
	size_t k;
	while (lname_back(&l, &k)) {
		/* ".example.com" matches a name with at least one byte before it */
		if (k + off > 0 && has_len(ix, RC_PAT_WILD, n - k)) {
			const ent *f = find_name(ix, l.h, RC_PAT_WILD, buf + k, n - k);
			if (f)
				best = best_of(ix, f, port, anyport, best);
		}
	}
	if (!off && has_len(ix, RC_PAT_HOST, n)) {
		const ent *f = find_name(ix, lname_whole(&l), RC_PAT_HOST, buf, n);
		if (f)
			best = best_of(ix, f, port, anyport, best);
	}
	return best;
}

int rc_index_has_addr_port(const rc_index *ix, uint16_t port)
{
	if (!ix)
		return 0;
	return ix->addr_any || (port && (ix->addr_port[port / 8] >> (port % 8) & 1));
}
