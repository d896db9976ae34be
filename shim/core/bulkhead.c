/* bulkhead.c - see bulkhead.h.
 *
 * Binding a table: the slot's bh_bind word of the kind names it (table
 * number + 1), set by one CAS from 0 (or from a table no longer the
 * pair's), so however many processes bind at once, they all end on the
 * table the winning CAS named.  A binder first takes a free table (or one
 * whose slot no longer holds a breaker: RC_NW_FREE or RC_NW_EMPTY) by a
 * CAS of its owner word to (kind, slot), then CASes the bind word; losing
 * that, it gives its table back and uses the winner's.  (Choosing "the
 * lowest table naming the pair" instead let three binders at once end on
 * two tables: a review found it.) */
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
	if (!shm || !shm->bh || slotno >= RC_MAX_BREAKERS || (kind != RC_BH_CALLS &&
							       kind != RC_BH_CONNS))
		return NULL;
	rc_bh_table *tabs = shm->bh;
	uint64_t ow = owner_word(slotno, kind), *bind = &shm->slots[slotno].bh_bind[kind];
	for (int round = 0; round < 4; round++) {
		uint64_t bw = __atomic_load_n(bind, __ATOMIC_ACQUIRE);
		if (bw && bw <= RC_BH_TABLES &&
		    __atomic_load_n(&tabs[bw - 1].owner, __ATOMIC_ACQUIRE) == ow)
			return &tabs[bw - 1]; /* bound */
		if (!create)
			return NULL;
		/* unbound, or bound to a table that is no longer the pair's (a
		 * slot reused): a table that names the pair already (the slot's
		 * last breaker's), else a free one; then the bind word */
		int j = find(tabs, ow), taken = 0;
		for (unsigned t = 0; t < RC_BH_TABLES && j < 0; t++) {
			uint64_t cur = __atomic_load_n(&tabs[t].owner, __ATOMIC_ACQUIRE);
			if (cur && !orphaned(shm, cur))
				continue;
			if (!__atomic_compare_exchange_n(&tabs[t].owner, &cur, ow, 0,
							 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				continue;
			if (cur) /* a table of a breaker that is gone: its records mean nothing */
				for (unsigned k = 0; k < RC_BH_RECORDS; k++)
					__atomic_store_n(&tabs[t].rec[k], 0, __ATOMIC_RELAXED);
			j = (int)t;
			taken = 1;
		}
		if (j < 0)
			return NULL; /* every table taken */
		if (__atomic_compare_exchange_n(bind, &bw, (uint64_t)j + 1, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return &tabs[j];
		/* another binder's CAS came first.  It may have named the very
		 * table we took (it found it by its owner word): then it is
		 * ours to keep; else a table we took goes back, and the one the
		 * word names is used */
		if (bw == (uint64_t)j + 1)
			return &tabs[j];
		if (taken)
			__atomic_store_n(&tabs[j].owner, 0, __ATOMIC_SEQ_CST);
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
