/* state.c - the shared state file and the breaker state machine.
 *
 * Everything that runs inside a hooked call (rc_admit, rc_report, rc_cancel,
 * rc_now_*) uses only atomics on the mapping: no malloc, no lock, no stdio,
 * and errno is left as it was found.  The only system call those paths may
 * make is kill(pid, 0), to tell whether the holder of a half-open probe is
 * still alive, and only when every probe slot is taken.
 *
 * Decisions the header leaves open, made here:
 *  - Probe lifetime (rc_probe_ttl_ms): connect_timeout + response_timeout
 *    + 1 s, a timeout of 0 (off) counting as 5 s.  A probe is also free when
 *    its holder is dead (kill(pid, 0) fails with ESRCH) or when it was taken
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
 *  - rc_set_state(RC_CLOSED) clears every count except transitions and
 *    opened, which record history (the close itself is a transition). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/state.h"

_Static_assert(sizeof(rc_slot) == 576, "rc_slot layout changed: bump RC_SHM_VERSION");
_Static_assert(sizeof(rc_shm_header) == 144, "header layout changed: bump RC_SHM_VERSION");
_Static_assert(RC_LAT_BUCKETS == 18, "rc_lat_bounds_us has 18 entries");

/* ---- atomics on the plain uint64_t fields ---- */

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void add(uint64_t *p, uint64_t v)
{
	__atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

/* On failure *EXP holds the current value. */
static inline int cas(uint64_t *p, uint64_t *exp, uint64_t v)
{
	return __atomic_compare_exchange_n(p, exp, v, 0, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

/* ---- clock ---- */

uint64_t rc_now_us(void)
{
	int e = errno;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = e;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t rc_now_ms(void)
{
	return rc_now_us() / 1000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* Nonzero if no process PID exists (ESRCH).  A value that cannot be a pid
 * counts as dead; EPERM (another user's process) counts as alive. */
static int pid_dead(uint64_t pid)
{
	if (pid == 0 || pid > INT_MAX)
		return 1;
	int e = errno;
	int dead = kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	errno = e;
	return dead;
}

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

static int name_ok(const char *name, size_t max)
{
	size_t i;
	for (i = 0; i < max && name[i]; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return i > 0 && i < max && i < RC_NAME_MAX;
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

uint64_t rc_probe_ttl_ms(const rc_breaker_cfg *b)
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

static void win_add(rc_slot *s, const rc_breaker_cfg *b, uint64_t now, int fail)
{
	uint64_t ep = now / win_width(b), e = ep & EPOCH_MASK;
	uint64_t *p = &s->window[ep % RC_WINDOW_BUCKETS];
	uint64_t v = ld(p), nv;
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
	} while (!cas(p, &v, nv));
}

/* Sum the buckets of the last RC_WINDOW_BUCKETS epochs, and none from before
 * FROM_MS (when FROM_MS <= NOW). */
static void win_sum(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now,
		    uint64_t from_ms, uint64_t *calls, uint64_t *fails)
{
	uint64_t w = win_width(b), cur = now / w, back = RC_WINDOW_BUCKETS - 1;
	*calls = *fails = 0;
	if (from_ms <= now && cur - from_ms / w < back)
		back = cur - from_ms / w;
	for (unsigned i = 0; i < RC_WINDOW_BUCKETS; i++) {
		uint64_t v = ld(&s->window[i]);
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
	uint64_t v = ld(&s->consec), nv, c;
	do {
		c = (v >> 32) == gen ? (v & 0xffffffffu) : 0;
		if (c < 0xffffffffu)
			c++;
		nv = ((uint64_t)gen << 32) | c;
	} while (!cas(&s->consec, &v, nv));
	return c;
}

static void consec_reset(rc_slot *s, unsigned gen)
{
	uint64_t v = ld(&s->consec), nv = (uint64_t)gen << 32;
	while (v != nv && !cas(&s->consec, &v, nv))
		;
}

/* ---- transitions ---- */

static void note(rc_slot *s, rc_transition *tr, int from, int to,
		 const char *reason, uint64_t failures, uint64_t calls,
		 uint64_t open_ms)
{
	add(&s->transitions, 1);
	if (to == RC_OPEN || to == RC_FORCED_OPEN)
		add(&s->opened, 1);
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

/* ---- probes: 0 free, else (pid << 32) | low 32 bits of the start ms ---- */

/* Nonzero if probe value V, seen in the half-open phase entered at SINCE,
 * is presumed lost: older than TTL, older than the phase, or its holder is
 * dead.  The age is taken as signed: a start a little after NOW (another
 * process read its clock later) is fresh. */
static int probe_stale(uint64_t v, uint64_t now, uint64_t since, uint64_t ttl,
		       uint32_t self, int check_pid)
{
	int32_t d = (int32_t)((uint32_t)now - (uint32_t)v);
	uint64_t age = d > 0 ? (uint64_t)d : 0;
	uint64_t in_state = now >= since ? now - since : 0;
	if (age > ttl || age > in_state)
		return 1;
	uint32_t pid = (uint32_t)(v >> 32);
	return check_pid && pid != self && pid_dead(pid);
}

/* Take a probe slot for a half-open word W.  Return its index, or -1. */
static int take_probe(rc_slot *s, const rc_breaker_cfg *b, uint64_t w,
		      uint64_t now, uint32_t pid, uint64_t *valp)
{
	unsigned n = nprobes(b);
	uint64_t since = RC_W_SINCE(w), start = now > since ? now : since;
	uint64_t val = ((uint64_t)pid << 32) | (uint32_t)start;
	uint64_t ttl = rc_probe_ttl_ms(b);

	if (!val)
		val = 1; /* pid 0 and start 0 mod 2^32: still not "free" */
	*valp = val;
	for (unsigned i = 0; i < n; i++) {      /* free ones first */
		uint64_t v = 0;
		if (cas(&s->probes[i], &v, val))
			return (int)i;
	}
	for (unsigned i = 0; i < n; i++) {      /* then reclaim a lost one */
		uint64_t v = ld(&s->probes[i]);
		if (v && !probe_stale(v, now, since, ttl, pid, 1))
			continue;
		if (cas(&s->probes[i], &v, val))
			return (int)i;
	}
	return -1;
}

static void release_probe(rc_slot *s, const rc_ticket *t)
{
	if (t->probe < 0 || t->probe >= RC_MAX_PROBES)
		return;
	uint64_t v = t->probe_val;
	cas(&s->probes[t->probe], &v, 0); /* reclaimed meanwhile: not ours */
}

/* ---- the state machine ---- */

int rc_admit(rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
	     uint32_t pid, rc_ticket *t, rc_transition *tr)
{
	int e = errno;
	rc_transition dummy;
	int observe = b->mode == RC_MODE_OBSERVE, r = RC_ADMIT;

	if (!tr)
		tr = &dummy;
	clear_tr(tr);
	t->probe = -1;
	t->probe_val = 0;
	for (;;) {
		uint64_t w = ld(&s->word), val;
		unsigned state = RC_W_STATE(w);
		t->word = w;
		if (state == RC_OPEN) {
			uint64_t since = RC_W_SINCE(w);
			uint64_t om = open_time(b, RC_W_LEVEL(w));
			if (now_ms >= since && now_ms - since >= om) {
				uint64_t nw = mkword(RC_HALF_OPEN, RC_W_LEVEL(w),
						     RC_W_GEN(w) + 1, now_ms);
				if (cas(&s->word, &w, nw))
					note(s, tr, RC_OPEN, RC_HALF_OPEN,
					     "open_elapsed", 0, 0, om);
				continue;
			}
			r = observe ? RC_ADMIT : RC_REJECT;
			break;
		}
		if (state == RC_HALF_OPEN) {
			int i = take_probe(s, b, w, now_ms, pid, &val);
			if (i >= 0) {
				if (ld(&s->word) != w) { /* moved on meanwhile */
					uint64_t v = val;
					cas(&s->probes[i], &v, 0);
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
		add(&s->rejected, 1);
	errno = e;
	return r;
}

/* Move the machine on verdict FAIL of a call admitted at T->word. */
static void judge(rc_slot *s, const rc_breaker_cfg *b, const rc_ticket *t,
		  int fail, uint64_t now, rc_transition *tr)
{
	uint64_t w = ld(&s->word), nw, c, wc, wf;
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
			if (cas(&s->word, &w, nw))
				note(s, tr, RC_CLOSED, RC_OPEN, "consecutive_failures",
				     c, 0, open_time(b, 0));
			return;
		}
		if (!b->failure_rate)
			return;
		win_sum(s, b, now, RC_W_SINCE(w), &wc, &wf);
		if (wc > 0 && wc >= b->minimum_calls &&
		    wf * 100 >= (uint64_t)b->failure_rate * wc) {
			nw = mkword(RC_OPEN, 0, gen + 1, now);
			if (cas(&s->word, &w, nw))
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
			if (cas(&s->word, &w, nw))
				note(s, tr, RC_HALF_OPEN, RC_OPEN, "probe_failed",
				     1, 0, open_time(b, level));
			return;
		}
		c = consec_inc(s, gen);
		if (c >= (b->success_threshold ? b->success_threshold : 1)) {
			nw = mkword(RC_CLOSED, 0, gen + 1, now);
			if (cas(&s->word, &w, nw))
				note(s, tr, RC_HALF_OPEN, RC_CLOSED,
				     "probes_succeeded", 0, c, 0);
		}
		return;
	default:
		return; /* open (observe), forced: counted only */
	}
}

void rc_report(rc_slot *s, const rc_breaker_cfg *b, const rc_ticket *t,
	       int outcome, uint64_t latency_us, uint64_t now_ms,
	       rc_transition *tr)
{
	int e = errno;
	rc_transition dummy;
	int fail = outcome != RC_OK;
	unsigned i;

	if (!tr)
		tr = &dummy;
	clear_tr(tr);
	if (!fail && b->slow_call && latency_us > b->slow_call * 1000) {
		fail = 1;
		add(&s->slow, 1);
	}
	add(&s->calls, 1);
	add(fail ? &s->failures : &s->successes, 1);
	if (outcome == RC_FAIL_TIMEOUT)
		add(&s->timeouts, 1);
	for (i = 0; i < RC_LAT_BUCKETS - 1; i++)
		if (latency_us <= rc_lat_bounds_us[i])
			break;
	add(&s->lat_count[i], 1);
	add(&s->lat_sum_us, latency_us);
	win_add(s, b, now_ms, fail);
	judge(s, b, t, fail, now_ms, tr);
	release_probe(s, t);
	errno = e;
}

void rc_cancel(rc_slot *s, const rc_ticket *t)
{
	int e = errno;
	release_probe(s, t);
	errno = e;
}

static void clear_counts(rc_slot *s)
{
	unsigned i;
	st(&s->consec, 0);
	for (i = 0; i < RC_WINDOW_BUCKETS; i++)
		st(&s->window[i], 0);
	for (i = 0; i < RC_MAX_PROBES; i++)
		st(&s->probes[i], 0);
	st(&s->calls, 0);
	st(&s->successes, 0);
	st(&s->failures, 0);
	st(&s->slow, 0);
	st(&s->timeouts, 0);
	st(&s->rejected, 0);
	for (i = 0; i < RC_LAT_BUCKETS; i++)
		st(&s->lat_count[i], 0);
	st(&s->lat_sum_us, 0);
}

int rc_set_state(rc_slot *s, int to, uint64_t now_ms, rc_transition *tr)
{
	int e = errno;
	rc_transition dummy;
	uint64_t w, nw;

	if (!tr)
		tr = &dummy;
	clear_tr(tr);
	if (to < RC_CLOSED || to > RC_FORCED_CLOSED)
		return -1;
	w = ld(&s->word);
	do
		nw = mkword((unsigned)to, to == RC_CLOSED ? 0 : RC_W_LEVEL(w),
			    RC_W_GEN(w) + 1, now_ms);
	while (!cas(&s->word, &w, nw));
	if (to == RC_CLOSED)
		clear_counts(s);
	note(s, tr, (int)RC_W_STATE(w), to, "cli", 0, 0, 0);
	errno = e;
	return 0;
}

void rc_view_slot(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now_ms,
		  rc_view *v)
{
	uint64_t w = ld(&s->word), total = 0;
	unsigned i;

	memset(v, 0, sizeof *v);
	v->state = (int)RC_W_STATE(w);
	v->level = RC_W_LEVEL(w);
	v->since_ms = RC_W_SINCE(w);
	v->in_state_ms = now_ms > v->since_ms ? now_ms - v->since_ms : 0;
	v->calls = ld(&s->calls);
	v->successes = ld(&s->successes);
	v->failures = ld(&s->failures);
	v->slow = ld(&s->slow);
	v->timeouts = ld(&s->timeouts);
	v->rejected = ld(&s->rejected);
	v->transitions = ld(&s->transitions);
	v->opened = ld(&s->opened);
	win_sum(s, b, now_ms, UINT64_MAX, &v->win_calls, &v->win_failures);
	for (i = 0; i < RC_MAX_PROBES; i++)
		if (ld(&s->probes[i]))
			v->probes_held++;
	for (i = 0; i < RC_LAT_BUCKETS; i++) {
		v->lat_count[i] = ld(&s->lat_count[i]);
		total += v->lat_count[i];
	}
	v->lat_sum_us = ld(&s->lat_sum_us);
	if (total) {
		/* linear interpolation inside the bucket holding the ceil(p%)-th
		 * call, as Prometheus' histogram_quantile does; +Inf: UINT64_MAX */
		uint64_t r50 = (total * 50 + 99) / 100, r99 = (total * 99 + 99) / 100;
		uint64_t cum = 0, lo = 0;
		for (i = 0; i < RC_LAT_BUCKETS; i++) {
			uint64_t n = v->lat_count[i], hi = rc_lat_bounds_us[i];
			uint64_t *out[2] = { &v->p50_us, &v->p99_us };
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

/* ---- the state file ---- */

size_t rc_shm_file_size(void)
{
	return sizeof(rc_shm_header) + (size_t)RC_MAX_BREAKERS * sizeof(rc_slot);
}

static int refuse(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "state file %s: ", path);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

/* Read this boot's id into BUF (NUL-terminated, no newline).  Return 0 or -1. */
static int read_boot_id(char buf[40])
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = read(fd, buf, 39);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return n > 0 ? 0 : -1;
}

static uint64_t boot_hash(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 0x100000001b3ULL;
	return h ? h : 1;
}

/* Nonzero if the mapping holds only zeros, init_word apart. */
static int zero_but_init(const void *map, size_t size)
{
	const uint64_t *p = map;
	size_t skip = offsetof(rc_shm_header, init_word) / 8;
	for (size_t i = 0; i < size / 8; i++)
		if (i != skip && p[i])
			return 0;
	return 1;
}

/* Nonzero if an abandoned initialisation left only what hdr_init writes. */
static int abandoned_ok(const rc_shm_header *h, const void *map, size_t size)
{
	const uint64_t *p = (const uint64_t *)((const char *)map + sizeof *h);
	uint64_t m = ld(&h->magic);
	if (m && m != RC_SHM_MAGIC)
		return 0;
	for (size_t i = 0; i < (size - sizeof *h) / 8; i++)
		if (p[i])
			return 0;
	return 1;
}

static void hdr_init(rc_shm_header *h, const char *boot)
{
	h->version = RC_SHM_VERSION;
	h->header_size = sizeof(rc_shm_header);
	h->slot_size = sizeof(rc_slot);
	h->nslots = RC_MAX_BREAKERS;
	memset(h->boot_id, 0, sizeof h->boot_id);
	if (boot[0])
		memcpy(h->boot_id, boot, strlen(boot));
	h->created_ms = rc_now_ms();
	st(&h->boot_hash, boot[0] ? boot_hash(boot) : 0);
	st(&h->magic, RC_SHM_MAGIC);   /* last: the header is complete */
	st(&h->init_word, 2);
}

/* Take the header at MAP through the init_word protocol until it is
 * initialised (by us or another process).  Return 0, or -1 with ERR set. */
static int init_header(void *map, size_t size, const char *boot,
		       const char *path, char *err, size_t errlen)
{
	rc_shm_header *h = map;
	uint64_t mine = ((uint64_t)getpid() << 2) | 1, deadline = 0;

	for (;;) {
		uint64_t iw = ld(&h->init_word), orig = iw;
		if (iw == 2)
			return 0;
		if (iw == 0) {
			if (!cas(&h->init_word, &iw, mine))
				continue;
			if (!zero_but_init(map, size)) {
				uint64_t m = ld(&h->magic), me = mine;
				cas(&h->init_word, &me, 0);
				if (m != RC_SHM_MAGIC)
					return refuse(err, errlen, path,
						      "not a recloser state file (bad magic)");
				return refuse(err, errlen, path,
					      "corrupt header (init_word 0)");
			}
			hdr_init(h, boot);
			return 0;
		}
		if ((iw & 3) != 1 || (iw >> 2) == 0 || (iw >> 2) > INT_MAX) {
			if (ld(&h->magic) != RC_SHM_MAGIC)
				return refuse(err, errlen, path,
					      "not a recloser state file (bad magic)");
			return refuse(err, errlen, path,
				      "corrupt header (init_word %#llx)",
				      (unsigned long long)iw);
		}
		if (pid_dead(iw >> 2)) {
			if (!cas(&h->init_word, &iw, mine))
				continue;
			if (!abandoned_ok(h, map, size)) {
				uint64_t me = mine;
				cas(&h->init_word, &me, orig);
				return refuse(err, errlen, path,
					      "corrupt header (abandoned by pid %llu)",
					      (unsigned long long)(orig >> 2));
			}
			hdr_init(h, boot);
			return 0;
		}
		if (!deadline) {
			deadline = rc_now_ms() + 200;
		} else if (rc_now_ms() >= deadline) {
			return refuse(err, errlen, path,
				      "still being initialised by pid %llu after 200 ms",
				      (unsigned long long)(iw >> 2));
		}
		sleep_ms(1);
	}
}

/* Light checks of every slot: a corrupt file is refused, not trusted. */
static int check_slots(rc_slot *slots, const char *path, char *err, size_t errlen)
{
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &slots[i];
		uint64_t nw = ld(&s->name_word);
		if (RC_W_STATE(ld(&s->word)) > RC_FORCED_CLOSED)
			return refuse(err, errlen, path,
				      "corrupt slot %u (state %u)", i,
				      RC_W_STATE(ld(&s->word)));
		if (nw == 0) {
			/* a claim may land between the two loads: look again */
			if (s->name[0] && ld(&s->name_word) == 0)
				return refuse(err, errlen, path,
					      "corrupt slot %u (empty, with a name)", i);
			continue;
		}
		if (nw == 2) {
			if (!name_ok(s->name, RC_NAME_MAX))
				return refuse(err, errlen, path,
					      "corrupt slot %u (bad name)", i);
			for (unsigned j = 0; j < i; j++)
				if (ld(&slots[j].name_word) == 2 &&
				    strncmp(slots[j].name, s->name, RC_NAME_MAX) == 0)
					return refuse(err, errlen, path,
						      "corrupt slot %u (duplicate of slot %u)",
						      i, j);
			continue;
		}
		if ((nw & 3) == 1 && (nw >> 2) > 0 && (nw >> 2) <= INT_MAX)
			continue; /* being claimed */
		return refuse(err, errlen, path, "corrupt slot %u (name_word %#llx)",
			      i, (unsigned long long)nw);
	}
	return 0;
}

/* The file was made in another boot: its times mean nothing now. */
static void reset_for_boot(rc_shm *shm, uint64_t now)
{
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &shm->slots[i];
		uint64_t w = ld(&s->word), nw;
		unsigned j;
		do {
			unsigned state = RC_W_STATE(w);
			if (state != RC_FORCED_OPEN && state != RC_FORCED_CLOSED)
				state = RC_CLOSED;
			nw = mkword(state, 0, RC_W_GEN(w) + 1, now);
		} while (!cas(&s->word, &w, nw));
		st(&s->consec, 0);
		for (j = 0; j < RC_WINDOW_BUCKETS; j++)
			st(&s->window[j], 0);
		for (j = 0; j < RC_MAX_PROBES; j++)
			st(&s->probes[j], 0);
	}
}

static int shm_open_(const char *path, rc_shm *shm, char *err, size_t errlen)
{
	size_t want = rc_shm_file_size();
	struct stat sb;
	char boot[40] = "";
	void *map;
	int fd = -1, created = 0;

	memset(shm, 0, sizeof *shm);
	if (err && errlen)
		err[0] = 0;
	if (!path || !path[0])
		return refuse(err, errlen, "''", "no path");
	for (int tries = 0;; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			created = 1;
			break;
		}
		if (errno != EEXIST)
			return refuse(err, errlen, path, "cannot create: %s",
				      strerror(errno));
		/* O_NONBLOCK, O_NOCTTY: a FIFO or a device put there must
		 * not block or adopt us; fstat refuses them next. */
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno == ELOOP)
			return refuse(err, errlen, path, "is a symbolic link");
		if (errno != ENOENT || tries >= 4) /* ENOENT: removed meanwhile */
			return refuse(err, errlen, path, "cannot open: %s",
				      strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		return refuse(err, errlen, path, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return refuse(err, errlen, path, "not a regular file");
	}
	if (sb.st_uid != getuid()) {
		close(fd);
		return refuse(err, errlen, path, "owned by uid %u, not %u",
			      (unsigned)sb.st_uid, (unsigned)getuid());
	}
	if (created && (sb.st_mode & 07777) != 0600) /* a umask took bits */
		fchmod(fd, 0600);
	else if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		close(fd);
		return refuse(err, errlen, path,
			      "writable by group or others (mode %04o)",
			      (unsigned)(sb.st_mode & 07777));
	}
	if (sb.st_size != 0 && (uint64_t)sb.st_size != want) {
		uint64_t head[2] = { 0, 0 };
		ssize_t n = pread(fd, head, sizeof head, 0);
		close(fd);
		if (n == (ssize_t)sizeof head && head[0] == RC_SHM_MAGIC &&
		    (uint32_t)head[1] != RC_SHM_VERSION)
			return refuse(err, errlen, path, "version %u, expected %u",
				      (unsigned)(uint32_t)head[1], RC_SHM_VERSION);
		if (n == (ssize_t)sizeof head && head[0] != RC_SHM_MAGIC && head[0])
			return refuse(err, errlen, path,
				      "not a recloser state file (bad magic)");
		return refuse(err, errlen, path, "size %lld, expected %zu",
			      (long long)sb.st_size, want);
	}
	if (sb.st_size == 0 && ftruncate(fd, (off_t)want) < 0) {
		int e = errno;
		close(fd);
		return refuse(err, errlen, path, "cannot size: %s", strerror(e));
	}
	/* Reserve the blocks of a file we sized: a write to a hole on a full
	 * tmpfs would be a SIGBUS in the host program.  No emulation where
	 * unsupported.  A file of the right size is only read until it has
	 * been validated: a foreign file is never modified, not even its mtime. */
	if (sb.st_size == 0 && fallocate(fd, 0, 0, (off_t)want) < 0 && errno != EOPNOTSUPP &&
	    errno != ENOSYS) {
		int e = errno;
		close(fd);
		return refuse(err, errlen, path, "cannot allocate: %s", strerror(e));
	}
	map = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int map_errno = errno;
	close(fd);
	if (map == MAP_FAILED)
		return refuse(err, errlen, path, "cannot map: %s", strerror(map_errno));

	rc_shm_header *h = map;
	if (read_boot_id(boot) < 0)
		boot[0] = 0;
	if (init_header(map, want, boot, path, err, errlen) < 0)
		goto bad;
	if (ld(&h->magic) != RC_SHM_MAGIC) {
		refuse(err, errlen, path, "not a recloser state file (bad magic)");
		goto bad;
	}
	if (h->version != RC_SHM_VERSION) {
		refuse(err, errlen, path, "version %u, expected %u", h->version,
		       RC_SHM_VERSION);
		goto bad;
	}
	if (h->header_size != sizeof(rc_shm_header) || h->slot_size != sizeof(rc_slot) ||
	    h->nslots != RC_MAX_BREAKERS) {
		refuse(err, errlen, path,
		       "layout %u/%u/%u, expected %zu/%zu/%u (header/slot size, slots)",
		       h->header_size, h->slot_size, h->nslots, sizeof(rc_shm_header),
		       sizeof(rc_slot), (unsigned)RC_MAX_BREAKERS);
		goto bad;
	}
	if (memchr(h->boot_id, 0, sizeof h->boot_id) == NULL) {
		refuse(err, errlen, path, "corrupt header (boot_id)");
		goto bad;
	}
	shm->hdr = h;
	shm->slots = (rc_slot *)((char *)map + sizeof(rc_shm_header));
	shm->size = want;
	if (check_slots(shm->slots, path, err, errlen) < 0) {
		memset(shm, 0, sizeof *shm);
		goto bad;
	}
	if (boot[0]) {
		uint64_t bh = boot_hash(boot), old = ld(&h->boot_hash);
		/* 0: made where boot_id could not be read; adopt ours */
		if (old != bh && cas(&h->boot_hash, &old, bh)) {
			if (old)
				reset_for_boot(shm, rc_now_ms());
			memset(h->boot_id, 0, sizeof h->boot_id);
			memcpy(h->boot_id, boot, strlen(boot));
		}
	}
	return 0;
bad:
	munmap(map, want);
	return -1;
}

int rc_shm_open(const char *path, rc_shm *shm, char *err, size_t errlen)
{
	int e = errno;
	int r = shm_open_(path, shm, err, errlen);
	errno = e;
	return r;
}

void rc_shm_close(rc_shm *shm)
{
	int e = errno;
	if (shm && shm->hdr)
		munmap(shm->hdr, shm->size);
	if (shm)
		memset(shm, 0, sizeof *shm);
	errno = e;
}

/* Write NAME into a slot we hold the claim of, and publish it. */
static rc_slot *publish(rc_slot *s, const char *name)
{
	char buf[RC_NAME_MAX];
	memset(buf, 0, sizeof buf);
	memcpy(buf, name, strlen(name));
	memcpy(s->name, buf, sizeof buf);
	st(&s->word, mkword(RC_CLOSED, 0, 0, rc_now_ms()));
	st(&s->name_word, 2);
	return s;
}

rc_slot *rc_shm_slot(rc_shm *shm, const char *name, int create)
{
	int e = errno;
	rc_slot *found = NULL;
	uint64_t mine = 0;

	if (!shm || !shm->hdr || !name || !name_ok(name, RC_NAME_MAX))
		goto out;
	for (unsigned i = 0; i < shm->hdr->nslots && i < RC_MAX_BREAKERS; i++) {
		rc_slot *s = &shm->slots[i];
		uint64_t deadline = 0;
		for (;;) {
			uint64_t nw = ld(&s->name_word);
			if (nw == 2) {
				if (strncmp(s->name, name, RC_NAME_MAX) == 0)
					found = s;
				break;
			}
			if (nw != 0 && ((nw & 3) != 1 || (nw >> 2) > INT_MAX))
				break; /* garbage that appeared after the checks */
			if (!mine)
				mine = ((uint64_t)getpid() << 2) | 1;
			if (nw == 0 || pid_dead(nw >> 2)) {
				if (!create) {
					if (nw == 0)
						goto out; /* slots fill in order */
					break;    /* skip a dead claim */
				}
				if (!cas(&s->name_word, &nw, mine))
					continue;
				found = publish(s, name);
				goto out;
			}
			/* A live claimer: it may be claiming NAME; wait. */
			if (!deadline)
				deadline = rc_now_ms() + 200;
			else if (rc_now_ms() >= deadline)
				goto out;
			sleep_ms(1);
		}
		if (found)
			break;
	}
out:
	errno = e;
	return found;
}

void rc_count_reject(rc_slot *s)
{
	__atomic_add_fetch(&s->rejected, 1, __ATOMIC_RELAXED);
}
