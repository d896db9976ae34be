/* bulkhead.c - see bulkhead.h.
 *
 * Binding a table: the lowest-numbered table whose owner word names
 * (kind, slot) is that pair's.  A binder CASes the first free table (or
 * one whose slot no longer holds a breaker: RC_NW_FREE or RC_NW_EMPTY)
 * to the pair, then looks again: if a lower table names the pair too (two
 * binders at once), it gives its own back and uses that one.  Only the
 * higher one ever backs off, so every binder ends on the same table. */
#include <errno.h>

#include "core/alive.h"
#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/shm.h"

_Static_assert(sizeof(rc_bh_table) == 64 + 8 * RC_BH_RECORDS, "rc_bh_table layout");

static uint64_t owner_word(unsigned slotno, int kind)
{
	return ((uint64_t)kind << 32) | (slotno + 1u);
}

static int find(rc_bh_table *tabs, uint64_t ow)
{
	for (unsigned i = 0; i < RC_BH_TABLES; i++)
		if (__atomic_load_n(&tabs[i].owner, __ATOMIC_ACQUIRE) == ow)
			return (int)i;
	return -1;
}

/* Nonzero if table T's owner slot no longer holds a breaker. */
static int orphaned(const struct rc_shm *shm, uint64_t ow)
{
	unsigned s = (unsigned)(ow & 0xffffffffu);
	if (!s || s > RC_MAX_BREAKERS)
		return 1;
	uint64_t nw = rc_ld(&shm->slots[s - 1].name_word);
	return nw == RC_NW_FREE || nw == RC_NW_EMPTY;
}

rc_bh_table *rc_bh_table_of(struct rc_shm *shm, unsigned slotno, int kind, int create)
{
	if (!shm || !shm->bh || slotno >= RC_MAX_BREAKERS)
		return NULL;
	rc_bh_table *tabs = shm->bh;
	uint64_t ow = owner_word(slotno, kind);
	int i = find(tabs, ow);
	if (i >= 0 || !create)
		return i >= 0 ? &tabs[i] : NULL;
	for (unsigned j = 0; j < RC_BH_TABLES; j++) {
		uint64_t cur = __atomic_load_n(&tabs[j].owner, __ATOMIC_ACQUIRE);
		if (cur && !orphaned(shm, cur))
			continue;
		if (!__atomic_compare_exchange_n(&tabs[j].owner, &cur, ow, 0, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		if (cur) {
			/* a table of a breaker that is gone: its records mean nothing */
			for (unsigned k = 0; k < RC_BH_RECORDS; k++)
				__atomic_store_n(&tabs[j].rec[k], 0, __ATOMIC_RELAXED);
		}
		int lo = find(tabs, ow);
		if (lo >= 0 && (unsigned)lo < j) {
			__atomic_store_n(&tabs[j].owner, 0, __ATOMIC_SEQ_CST);
			return &tabs[lo];
		}
		return &tabs[j];
	}
	return NULL;
}

unsigned rc_bh_reclaim(rc_bh_table *t, unsigned cap, uint64_t now_ms, int dead)
{
	if (cap > RC_BH_RECORDS)
		cap = RC_BH_RECORDS;
	unsigned n = 0;
	for (unsigned i = 0; i < cap; i++) {
		uint64_t v = __atomic_load_n(&t->rec[i], __ATOMIC_ACQUIRE);
		if (!v)
			continue;
		if (!rc_bh_expired(v, now_ms) &&
		    !(dead && rc_holder_dead(RC_BH_PID(v), RC_BH_NS(v), RC_BH_NS_BITS)))
			continue;
		if (__atomic_compare_exchange_n(&t->rec[i], &v, 0, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED))
			n++;
	}
	return n;
}

unsigned rc_bh_held(const rc_bh_table *t, unsigned cap)
{
	if (cap > RC_BH_RECORDS)
		cap = RC_BH_RECORDS;
	unsigned n = 0;
	for (unsigned i = 0; i < cap; i++)
		n += __atomic_load_n(&t->rec[i], __ATOMIC_RELAXED) != 0;
	return n;
}


void rc_bh_view(struct rc_shm *shm, const struct rc_slot *s, const rc_breaker_cfg *b,
		uint64_t now_ms, struct rc_view *v)
{
	unsigned slotno = (unsigned)(s - shm->slots);
	v->max_concurrent = b->max_concurrent;
	v->max_connections = b->max_connections;
	v->in_flight = v->open_connections = 0;
	if (b->max_concurrent) {
		rc_bh_table *t = rc_bh_table_of(shm, slotno, RC_BH_CALLS, 0);
		if (t) {
			rc_bh_reclaim(t, b->max_concurrent, now_ms, 1);
			v->in_flight = rc_bh_held(t, b->max_concurrent);
		}
	}
	if (b->max_connections) {
		rc_bh_table *t = rc_bh_table_of(shm, slotno, RC_BH_CONNS, 0);
		if (t) {
			rc_bh_reclaim(t, b->max_connections, now_ms, 1);
			v->open_connections = rc_bh_held(t, b->max_connections);
		}
	}
}
