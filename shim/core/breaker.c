/* breaker.c - the breaker state machine (see breaker.h).
 *
 * Everything that runs inside a hooked call (rc_breaker_admit, rc_breaker_record, rc_breaker_cancel,
 * rc_now_*) uses only atomics on the mapping: no malloc, no lock, no stdio,
 * and errno is left as it was found.  The only system call those paths may
 * make is kill(pid, 0), to tell whether the holder of a half-open probe is
 * still alive, and only when every probe slot is taken and the holder is
 * of our own pid namespace (core/alive.h).
 *
 * Decisions the header leaves open, made here:
 *  - Probe lifetime (rc_breaker_probe_ttl_ms): connect_timeout + response_timeout
 *    + 1 s, a timeout of 0 (off) counting as 5 s.  A probe is also free when
 *    its holder is dead (of our pid namespace, and kill(pid, 0) fails with
 *    ESRCH; one of another namespace only ages out) or when it was taken
 *    before the current half-open phase began (a leftover of an earlier one).
 *  - In closed, failure_rate is judged over the window, but only over the
 *    buckets from the moment the breaker last entered closed: failures that
 *    opened it must not re-open it the moment it closes again.  It is judged
 *    after every verdict, a success included (it may complete minimum_calls).
 *  - mode = observe never rejects, forced_open included.
 *  - In half_open only the verdicts of probes move the machine; calls that
 *    observe mode let through without a probe are counted only.
 *  - A state file from another boot: every slot is reset to closed at now,
 *    except that forced_open and forced_closed (which carry no time) stay.
 *    The header's boot_hash (taken from reserved space) makes that reset
 *    happen once, by whichever process wins a CAS on it.
 *  - rc_breaker_set(RC_CLOSED) clears every count except transitions and
 *    opened, which record history (the close itself is a transition). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alive.h"
#include "core/breaker.h"
#include "core/hot.h"
#include "core/log.h"

_Static_assert(RC_LAT_BUCKETS == 18, "rc_lat_bounds_us has 18 entries");

/* ---- names, words, small helpers ---- */

static const char *const state_names[] = {
	"closed", "open", "half_open", "forced_open", "forced_closed",
};

const char *rc_state_name(int state)
{
	if (state < 0 || state > RC_FORCED_CLOSED)
		return "unknown";
	return state_names[state];
}

const uint64_t rc_lat_bounds_us[RC_LAT_BUCKETS] = {
	50, 100, 250, 500,
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
	0, /* +Inf */
};

#define SINCE_MASK ((1ULL << 44) - 1)

static inline uint64_t mkword(unsigned state, unsigned level, unsigned gen,
			      uint64_t since)
{
	return (uint64_t)(state & 7u) | ((uint64_t)(level & 31u) << 3) |
	       ((uint64_t)(gen & 0xfffu) << 8) | ((since & SINCE_MASK) << 20);
}


static unsigned nprobes(const rc_breaker_cfg *b)
{
	unsigned n = b->half_open_probes;
	if (n < 1)
		n = 1;
	return n > RC_MAX_PROBES ? RC_MAX_PROBES : n;
}

static uint64_t open_cap(const rc_breaker_cfg *b)
{
	return b->open_duration_max > b->open_duration ? b->open_duration_max
						       : b->open_duration;
}

/* open_duration << level, capped at open_duration_max. */
static uint64_t open_time(const rc_breaker_cfg *b, unsigned level)
{
	uint64_t d = b->open_duration, max = open_cap(b);
	for (unsigned i = 0; i < level && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

uint64_t rc_breaker_probe_ttl_ms(const rc_breaker_cfg *b)
{
	uint64_t ct = b->connect_timeout ? b->connect_timeout : 5000;
	uint64_t rt = b->response_timeout ? b->response_timeout : 5000;
	return ct + rt + 1000;
}

/* ---- the rolling window: (epoch:24 | calls:20 | failures:20) ---- */

#define WE(v) ((v) >> 40)
#define WC(v) (((v) >> 20) & 0xfffffu)
#define WF(v) ((v) & 0xfffffu)
#define EPOCH_MASK 0xffffffu
#define CNT_MAX 0xfffffu

static uint64_t win_width(const rc_breaker_cfg *b)
{
	uint64_t w = b ? b->window / RC_WINDOW_BUCKETS : 0;
	return w ? w : 1;
}

/* Count a call at NOW (its epoch EP = now / win_width) in the window. */
static void win_add(rc_slot *s, uint64_t ep, int fail)
{
	uint64_t e = ep & EPOCH_MASK;
	uint64_t *p = &s->window[ep % RC_WINDOW_BUCKETS];
	uint64_t v = rc_ld(p), nv;
	do {
		uint64_t c = 0, f = 0;
		if (v && WE(v) == e) {
			c = WC(v);
			f = WF(v);
		} else if (v && ((WE(v) - e) & EPOCH_MASK) <= 3 * RC_WINDOW_BUCKETS) {
			/* the bucket already moved on (a process whose clock
			 * read came later): this call is too old for it */
			return;
		}
		if (c < CNT_MAX)
			c++;
		if (fail && f < CNT_MAX)
			f++;
		nv = (e << 40) | (c << 20) | f;
	} while (!rc_cas(p, &v, nv));
}

/* Sum the buckets of the last RC_WINDOW_BUCKETS epochs (CUR: now's epoch),
 * and none from before FROM_MS (when FROM_MS <= NOW). */
static void win_sum(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now, uint64_t cur,
		    uint64_t from_ms, uint64_t *calls, uint64_t *fails)
{
	uint64_t w = win_width(b), back = RC_WINDOW_BUCKETS - 1;
	*calls = *fails = 0;
	/* (a division only when FROM_MS is within the window: on the call
	 * path every call divides once, for CUR) */
	if (from_ms <= now && now - from_ms < w * RC_WINDOW_BUCKETS && cur - from_ms / w < back)
		back = cur - from_ms / w;
	for (unsigned i = 0; i < RC_WINDOW_BUCKETS; i++) {
		uint64_t v = rc_ld(&s->window[i]);
		if (!v)
			continue;
		if (((cur - WE(v)) & EPOCH_MASK) <= back) {
			*calls += WC(v);
			*fails += WF(v);
		}
	}
}

/* ---- consec: (gen << 32) | count ---- */

static uint64_t consec_inc(rc_slot *s, unsigned gen)
{
	uint64_t v = rc_ld(&s->consec), nv, c;
	do {
		c = (v >> 32) == gen ? (v & 0xffffffffu) : 0;
		if (c < 0xffffffffu)
			c++;
		nv = ((uint64_t)gen << 32) | c;
	} while (!rc_cas(&s->consec, &v, nv));
	return c;
}

static void consec_reset(rc_slot *s, unsigned gen)
{
	uint64_t v = rc_ld(&s->consec), nv = (uint64_t)gen << 32;
	while (v != nv && !rc_cas(&s->consec, &v, nv))
		;
}

/* ---- transitions ---- */

static void note(rc_slot *s, rc_transition *tr, int from, int to,
		 const char *reason, uint64_t failures, uint64_t calls,
		 uint64_t open_ms)
{
	rc_add(&s->transitions, 1);
	if (to == RC_OPEN || to == RC_FORCED_OPEN)
		rc_add(&s->opened, 1);
	tr->from = from;
	tr->to = to;
	tr->reason = reason;
	tr->failures = failures;
	tr->calls = calls;
	tr->open_ms = open_ms;
}

static void clear_tr(rc_transition *tr)
{
	tr->from = tr->to = -1;
	tr->reason = "";
	tr->failures = tr->calls = tr->open_ms = 0;
}

/* ---- probes: 0 free, else RC_PROBE(ns, pid, start ms) (slot.h) ---- */

/* Nonzero if probe value V, seen in the half-open phase entered at SINCE,
 * is presumed lost: older than TTL, older than the phase, or its holder is
 * known dead.  The age is taken as signed: a start a little after NOW
 * (another process read its clock later) is fresh.  Only a holder of our
 * own pid namespace can be known dead (alive.h): one of another namespace
 * keeps its probe until TTL, whatever kill() says here. */
static int probe_stale(uint64_t v, uint64_t now, uint64_t since, uint64_t ttl,
		       uint32_t self, int check_pid)
{
	int32_t d = (int32_t)((uint32_t)now - (uint32_t)v);
	uint64_t age = d > 0 ? (uint64_t)d : 0;
	uint64_t in_state = now >= since ? now - since : 0;
	if (age > ttl || age > in_state)
		return 1;
	if (!check_pid)
		return 0;
	uint32_t pid = RC_PROBE_PID(v), ns = RC_PROBE_NS(v);
	if (pid == (self & 0x3fffffu) &&
	    ns == (rc_alive_ns() & ((1u << RC_PROBE_NS_BITS) - 1)))
		return 0; /* ours (another thread's call) */
	return rc_holder_dead(pid, ns, RC_PROBE_NS_BITS);
}

/* Take a probe slot for a half-open word W.  Return its index, or -1.
 * No system call unless every probe slot is taken (then kill(pid, 0) on
 * holders of our namespace); the namespace tag is a load. */
static int take_probe(rc_slot *s, const rc_breaker_cfg *b, uint64_t w,
		      uint64_t now, uint32_t pid, uint64_t *valp)
{
	unsigned n = nprobes(b);
	uint64_t since = RC_W_SINCE(w), start = now > since ? now : since;
	uint64_t val = RC_PROBE(rc_alive_ns(), pid, start);
	uint64_t ttl = rc_breaker_probe_ttl_ms(b);

	if (!val)
		val = 1; /* pid 0, tag 0 and start 0 mod 2^32: still not "free" */
	*valp = val;
	for (unsigned i = 0; i < n; i++) {      /* free ones first */
		uint64_t v = 0;
		if (rc_cas(&s->probes[i], &v, val))
			return (int)i;
	}
	for (unsigned i = 0; i < n; i++) {      /* then reclaim a lost one */
		uint64_t v = rc_ld(&s->probes[i]);
		if (v && !probe_stale(v, now, since, ttl, pid, 1))
			continue;
		if (rc_cas(&s->probes[i], &v, val))
			return (int)i;
	}
	return -1;
}

static void release_probe(rc_slot *s, const rc_ticket *t)
{
	if (t->probe < 0 || t->probe >= RC_MAX_PROBES)
		return;
	uint64_t v = t->probe_val;
	rc_cas(&s->probes[t->probe], &v, 0); /* reclaimed meanwhile: not ours */
}

/* ---- the state machine ---- */

static __attribute__((noinline)) int admit_slow(rc_slot *s, const rc_breaker_cfg *b,
						uint64_t now_ms, uint32_t pid, rc_ticket *t,
						rc_transition *tr);

/* T as an admission starts it: no probe, no bulkhead ticket. */
static inline void fresh_ticket(rc_ticket *t)
{
	t->probe = -1;
	t->bh = -1;
	t->bh_val = 0;
	t->bh_tab = NULL;
	t->probe_val = 0;
}

RC_HOT int rc_breaker_admit_closed(rc_slot *s, rc_ticket *t)
{
	uint64_t w = rc_ld(&s->word);
	if (RC_W_STATE(w) != RC_CLOSED && RC_W_STATE(w) != RC_FORCED_CLOSED)
		return 0;
	fresh_ticket(t);
	t->word = w;
	return 1;
}

RC_HOT int rc_breaker_admit(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
	     uint32_t pid, rc_ticket *t, rc_transition *tr)
{
	/* closed (or forced closed), by far the most common: a leaf */
	if (__builtin_expect(rc_breaker_admit_closed(s, t), 1)) {
		if (tr)
			clear_tr(tr);
		return RC_ADMIT;
	}
	return admit_slow(s, b, now_ms, pid, t, tr);
}

static int admit_slow(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
		      uint32_t pid, rc_ticket *t, rc_transition *tr)
{
	rc_transition dummy;
	int observe = b->mode == RC_MODE_OBSERVE, r = RC_ADMIT;

	if (!tr)
		tr = &dummy;
	clear_tr(tr);
	fresh_ticket(t);
	for (;;) {
		uint64_t w = rc_ld(&s->word), val;
		unsigned state = RC_W_STATE(w);
		t->word = w;
		if (state == RC_OPEN) {
			uint64_t since = RC_W_SINCE(w);
			uint64_t om = open_time(b, RC_W_LEVEL(w));
			if (now_ms >= since && now_ms - since >= om) {
				uint64_t nw = mkword(RC_HALF_OPEN, RC_W_LEVEL(w),
						     RC_W_GEN(w) + 1, now_ms);
				if (rc_cas(&s->word, &w, nw))
					note(s, tr, RC_OPEN, RC_HALF_OPEN,
					     "open_elapsed", 0, 0, om);
				continue;
			}
			r = observe ? RC_ADMIT : RC_REJECT;
			break;
		}
		if (state == RC_HALF_OPEN) {
			int e = errno; /* kill(pid, 0), only here */
			int i = take_probe(s, b, w, now_ms, pid, &val);
			errno = e;
			if (i >= 0) {
				if (rc_ld(&s->word) != w) { /* moved on meanwhile */
					uint64_t v = val;
					rc_cas(&s->probes[i], &v, 0);
					continue;
				}
				t->probe = i;
				t->probe_val = val;
				break;
			}
			r = observe ? RC_ADMIT : RC_REJECT;
			break;
		}
		if (state == RC_FORCED_OPEN && !observe)
			r = RC_REJECT;
		break; /* closed, forced_closed: admit */
	}
	if (r == RC_REJECT)
		rc_add(&s->rejected, 1);
	return r;
}

/* Move the machine on verdict FAIL of a call admitted at T->word. */
static void judge(rc_slot *s, const rc_breaker_cfg *b, const rc_ticket *t,
		  int fail, uint64_t now, uint64_t ep, rc_transition *tr)
{
	uint64_t w = rc_ld(&s->word), nw, c, wc, wf;
	unsigned gen = RC_W_GEN(w), level = RC_W_LEVEL(w);

	if (gen != RC_W_GEN(t->word))
		return; /* an answer from before a transition */
	switch (RC_W_STATE(w)) {
	case RC_CLOSED:
		c = 0;
		if (fail)
			c = consec_inc(s, gen);
		else
			consec_reset(s, gen);
		if (fail && b->failure_threshold && c >= b->failure_threshold) {
			nw = mkword(RC_OPEN, 0, gen + 1, now);
			if (rc_cas(&s->word, &w, nw))
				note(s, tr, RC_CLOSED, RC_OPEN, "consecutive_failures",
				     c, 0, open_time(b, 0));
			return;
		}
		if (!b->failure_rate)
			return;
		if (!fail) {
			/* a success opens it only at a failing rate: none if no
			 * failure is as recent as the window's oldest bucket (the
			 * failure that came meanwhile judges the rate itself) */
			uint64_t f = rc_ld(&s->fail_ms), span = win_width(b) * RC_WINDOW_BUCKETS;
			if (now >= f && now - f >= span)
				return;
		}
		win_sum(s, b, now, ep, RC_W_SINCE(w), &wc, &wf);
		if (wc > 0 && wc >= b->minimum_calls &&
		    wf * 100 >= (uint64_t)b->failure_rate * wc) {
			nw = mkword(RC_OPEN, 0, gen + 1, now);
			if (rc_cas(&s->word, &w, nw))
				note(s, tr, RC_CLOSED, RC_OPEN, "failure_rate",
				     wf, wc, open_time(b, 0));
		}
		return;
	case RC_HALF_OPEN:
		if (t->probe < 0)
			return; /* observe let it through without a probe */
		if (fail) {
			if (level < 31 && open_time(b, level) < open_cap(b))
				level++;
			nw = mkword(RC_OPEN, level, gen + 1, now);
			if (rc_cas(&s->word, &w, nw))
				note(s, tr, RC_HALF_OPEN, RC_OPEN, "probe_failed",
				     1, 0, open_time(b, level));
			return;
		}
		c = consec_inc(s, gen);
		if (c >= (b->success_threshold ? b->success_threshold : 1)) {
			nw = mkword(RC_CLOSED, 0, gen + 1, now);
			if (rc_cas(&s->word, &w, nw))
				note(s, tr, RC_HALF_OPEN, RC_CLOSED,
				     "probes_succeeded", 0, c, 0);
		}
		return;
	default:
		return; /* open (observe), forced: counted only */
	}
}

RC_HOT void rc_breaker_record(rc_slot *s, const rc_breaker_cfg *b, const rc_ticket *t,
	       int outcome, uint64_t latency_us, uint64_t now_ms,
	       rc_transition *tr)
{
	rc_transition dummy; /* (no call here sets errno: it is not saved) */
	int fail = outcome != RC_OK;
	unsigned i;

	if (!tr)
		tr = &dummy;
	clear_tr(tr);
	if (!fail && b->slow_call && latency_us > b->slow_call * 1000) {
		fail = 1;
		rc_add(&s->slow, 1);
	}
	/* every judged call once in the histogram: that is the count of
	 * calls (and successes, with failures taken off), counted after it */
	for (i = 0; i < RC_LAT_BUCKETS - 1; i++)
		if (latency_us <= rc_lat_bounds_us[i])
			break;
	rc_add(&s->lat_count[i], 1);
	rc_add(&s->lat_sum_us, latency_us);
	if (fail) {
		rc_add(&s->failures, 1);
		rc_st(&s->fail_ms, now_ms);
	}
	if (outcome == RC_FAIL_TIMEOUT)
		rc_add(&s->timeouts, 1);
	uint64_t ep = now_ms / win_width(b);
	win_add(s, ep, fail);
	judge(s, b, t, fail, now_ms, ep, tr);
	release_probe(s, t);
}

RC_HOT void rc_breaker_cancel(rc_slot *s, const rc_ticket *t)
{
	int e = errno;
	release_probe(s, t);
	errno = e;
}

static void clear_counts(rc_slot *s)
{
	unsigned i;
	rc_st(&s->consec, 0);
	for (i = 0; i < RC_WINDOW_BUCKETS; i++)
		rc_st(&s->window[i], 0);
	for (i = 0; i < RC_MAX_PROBES; i++)
		rc_st(&s->probes[i], 0);
	rc_st(&s->failures, 0);
	rc_st(&s->fail_ms, 0);
	rc_st(&s->slow, 0);
	rc_st(&s->timeouts, 0);
	rc_st(&s->rejected, 0);
	rc_st(&s->rejected_bulkhead, 0);
	rc_st(&s->unlogged, 0);
	for (i = 0; i < RC_LAT_BUCKETS; i++)
		rc_st(&s->lat_count[i], 0);
	rc_st(&s->lat_sum_us, 0);
}

int rc_breaker_set(rc_slot *s, int to, uint64_t now_ms, rc_transition *tr)
{
	int e = errno;
	rc_transition dummy;
	uint64_t w, nw;

	if (!tr)
		tr = &dummy;
	clear_tr(tr);
	if (to < RC_CLOSED || to > RC_FORCED_CLOSED)
		return -1;
	w = rc_ld(&s->word);
	do
		nw = mkword((unsigned)to, to == RC_CLOSED ? 0 : RC_W_LEVEL(w),
			    RC_W_GEN(w) + 1, now_ms);
	while (!rc_cas(&s->word, &w, nw));
	if (to == RC_CLOSED)
		clear_counts(s);
	note(s, tr, (int)RC_W_STATE(w), to, "cli", 0, 0, 0);
	errno = e;
	return 0;
}

void rc_breaker_view(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
		  rc_view *v)
{
	uint64_t w = rc_ld(&s->word), total = 0;
	unsigned i;

	memset(v, 0, sizeof *v);
	v->state = (int)RC_W_STATE(w);
	v->level = RC_W_LEVEL(w);
	v->since_ms = RC_W_SINCE(w);
	v->in_state_ms = now_ms > v->since_ms ? now_ms - v->since_ms : 0;
	v->failures = rc_ld(&s->failures);
	v->slow = rc_ld(&s->slow);
	v->timeouts = rc_ld(&s->timeouts);
	v->rejected = rc_ld(&s->rejected);
	v->rejected_bulkhead = rc_ld(&s->rejected_bulkhead);
	if (v->rejected_bulkhead > v->rejected)
		v->rejected_bulkhead = v->rejected; /* read between the two adds */
	v->rejected_open = v->rejected - v->rejected_bulkhead;
	v->in_flight = v->max_concurrent = v->open_connections = v->max_connections = 0;
	v->transitions = rc_ld(&s->transitions);
	v->opened = rc_ld(&s->opened);
	win_sum(s, b, now_ms, now_ms / win_width(b), UINT64_MAX, &v->win_calls, &v->win_failures);
	for (i = 0; i < RC_MAX_PROBES; i++)
		if (rc_ld(&s->probes[i]))
			v->probes_held++;
	for (i = 0; i < RC_LAT_BUCKETS; i++) {
		v->lat_count[i] = rc_ld(&s->lat_count[i]);
		total += v->lat_count[i];
	}
	v->lat_sum_us = rc_ld(&s->lat_sum_us);
	v->calls = total;
	/* failures counted after the histogram: one seen there first */
	if (v->failures > total)
		v->failures = total;
	v->successes = total - v->failures;
	rc_breaker_quantiles(v->lat_count, &v->p50_us, &v->p99_us);
}

void rc_breaker_quantiles(const uint64_t count[RC_LAT_BUCKETS], uint64_t *p50,
			  uint64_t *p99)
{
	uint64_t total = 0;
	int i;

	*p50 = *p99 = 0;
	for (i = 0; i < RC_LAT_BUCKETS; i++)
		total += count[i];
	if (total) {
		/* linear interpolation inside the bucket holding the ceil(p%)-th
		 * call, as Prometheus' histogram_quantile does; +Inf: UINT64_MAX */
		uint64_t r50 = (total * 50 + 99) / 100, r99 = (total * 99 + 99) / 100;
		uint64_t cum = 0, lo = 0;
		for (i = 0; i < RC_LAT_BUCKETS; i++) {
			uint64_t n = count[i], hi = rc_lat_bounds_us[i];
			uint64_t *out[2] = { p50, p99 };
			uint64_t rank[2] = { r50, r99 };
			for (int k = 0; k < 2; k++)
				if (!*out[k] && n && cum + n >= rank[k])
					*out[k] = hi ? lo + (hi - lo) * (rank[k] - cum) / n
						     : UINT64_MAX;
			cum += n;
			lo = hi;
		}
	}
}

RC_HOT int rc_breaker_state(const rc_slot *s)
{
	return (int)RC_W_STATE(rc_ld(&s->word));
}

int rc_breaker_refusing(const rc_slot *s, const rc_breaker_cfg *b)
{
	unsigned st = RC_W_STATE(rc_ld(&s->word));
	return b->mode == RC_MODE_ENFORCE && (st == RC_OPEN || st == RC_FORCED_OPEN);
}

void rc_breaker_init(rc_slot *s, uint64_t now_ms)
{
	rc_st(&s->word, mkword(RC_CLOSED, 0, 0, now_ms));
}

void rc_breaker_reboot(rc_slot *s, uint64_t now_ms)
{
	uint64_t w = rc_ld(&s->word), nw;
	unsigned j;
	do {
		unsigned state = RC_W_STATE(w);
		if (state != RC_FORCED_OPEN && state != RC_FORCED_CLOSED)
			state = RC_CLOSED;
		nw = mkword(state, 0, RC_W_GEN(w) + 1, now_ms);
	} while (!rc_cas(&s->word, &w, nw));
	rc_st(&s->consec, 0);
	for (j = 0; j < RC_WINDOW_BUCKETS; j++)
		rc_st(&s->window[j], 0);
	for (j = 0; j < RC_MAX_PROBES; j++)
		rc_st(&s->probes[j], 0);
	for (j = 0; j < RC_PENDING; j++)
		rc_st(&s->pending[j], 0); /* pids of before the reboot */
}

int rc_breaker_valid(const rc_slot *s)
{
	return RC_W_STATE(rc_ld(&s->word)) <= RC_FORCED_CLOSED;
}

void rc_breaker_count_reject(rc_slot *s)
{
	rc_add(&s->rejected, 1);
}

void rc_breaker_count_reject_bulkhead(rc_slot *s)
{
	rc_add(&s->rejected_bulkhead, 1);
	rc_add(&s->rejected, 1);
}

void rc_breaker_unlogged_add(rc_slot *s, uint64_t n)
{
	rc_add(&s->unlogged, n);
}

uint64_t rc_breaker_unlogged_take(rc_slot *s)
{
	if (!rc_ld(&s->unlogged))
		return 0; /* the common case: no shared line made dirty */
	return __atomic_exchange_n(&s->unlogged, 0, __ATOMIC_ACQ_REL);
}

/* ---- deadlines of open calls, for calls whose process dies ---- */

int rc_breaker_pend_add(rc_slot *s, uint32_t pid, uint64_t dl_ms, int conn,
			const rc_ticket *t, uint64_t *valp)
{
	uint64_t val = RC_PEND(rc_alive_ns(), pid, dl_ms, conn);
	for (int i = 0; i < RC_PENDING; i++) {
		uint64_t v = 0;
		if (rc_ld(&s->pending[i]) == 0 && rc_cas(&s->pending[i], &v, val)) {
			rc_st(&s->pend_word[i], t->word);
			*valp = val;
			return i;
		}
	}
	return -1;
}

void rc_breaker_pend_drop(rc_slot *s, int i, uint64_t val)
{
	if (i >= 0 && i < RC_PENDING)
		rc_cas(&s->pending[i], &val, 0); /* settled meanwhile: not ours */
}

int rc_breaker_pend_settle(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
			   rc_pend_settled *out, rc_transition *tr)
{
	tr->to = -1;
	for (int i = 0; i < RC_PENDING; i++) {
		uint64_t v = rc_ld(&s->pending[i]);
		if (!v)
			continue;
		int32_t late = (int32_t)((uint32_t)now_ms - (uint32_t)v);
		if (late <= 0)
			continue; /* its deadline is still to come */
		uint32_t pid = RC_PEND_PID(v), ns = RC_PEND_NS(v);
		if (!rc_holder_dead(pid, ns, RC_PEND_NS_BITS)) {
			if ((uint32_t)late > RC_PEND_MAX_MS)
				rc_cas(&s->pending[i], &v, 0); /* stopped for good, or reused */
			continue; /* alive: its own timer judges it */
		}
		rc_ticket t = { rc_ld(&s->pend_word[i]), 0, -1, -1, 0, NULL };
		if (!rc_cas(&s->pending[i], &v, 0))
			continue; /* another process settled it */
		uint64_t lat_ms = RC_PEND_CONN(v) ? b->connect_timeout : b->response_timeout;
		rc_breaker_record(s, b, &t, RC_FAIL_TIMEOUT, lat_ms * 1000, now_ms, tr);
		out->pid = pid;
		out->conn = (int)RC_PEND_CONN(v);
		out->late_ms = (uint32_t)late;
		return 1;
	}
	return 0;
}

void rc_breaker_log_transition(const rc_breaker_cfg *b, const rc_transition *tr)
{
	char extra[96] = "";
	if (tr->to == RC_OPEN || tr->to == RC_FORCED_OPEN)
		snprintf(extra, sizeof extra, " open_ms=%llu", (unsigned long long)tr->open_ms);
	if (strcmp(tr->reason, "failure_rate") == 0)
		rc_log(RC_LOG_INFO, "transition",
		       "breaker=%s from=%s to=%s reason=%s failures=%llu calls=%llu%s", b->name,
		       rc_state_name(tr->from), rc_state_name(tr->to), tr->reason,
		       (unsigned long long)tr->failures, (unsigned long long)tr->calls, extra);
	else
		rc_log(RC_LOG_INFO, "transition", "breaker=%s from=%s to=%s reason=%s failures=%llu%s",
		       b->name, rc_state_name(tr->from), rc_state_name(tr->to), tr->reason,
		       (unsigned long long)tr->failures, extra);
}

unsigned rc_breaker_settle_dead(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms)
{
	rc_pend_settled ps;
	rc_transition tr;
	unsigned n = 0;
	while (rc_breaker_pend_settle(s, b, now_ms, &ps, &tr)) {
		n++;
		if (tr.to >= 0)
			rc_breaker_log_transition(b, &tr);
		rc_log(RC_LOG_INFO, "call",
		       "breaker=%s outcome=timeout timeout=%s settled_for=%u late_ms=%u "
		       "reason=process_died",
		       b->name, ps.conn ? "connect" : "response", ps.pid, ps.late_ms);
	}
	return n;
}
