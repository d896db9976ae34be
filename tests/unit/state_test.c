/* state_test.c - the shared state file and the breaker state machine,
 * driven with a fake clock (explicit now_ms values).  Needs no config.o:
 * breaker configs are built by hand. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "core/alive.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/clock.h"
#include "core/name.h"

static char dir[256];
static uint64_t T0;          /* fake clock origin, later than any claim time */
static rc_transition tr;     /* the last transition seen by call() */

static char *tpath(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ & 7];
	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

static rc_breaker_cfg cfg(void)
{
	rc_breaker_cfg b;
	memset(&b, 0, sizeof b);
	b.name = "test";
	b.mode = RC_MODE_ENFORCE;
	b.failure_threshold = 5;
	b.failure_rate = 0;
	b.minimum_calls = 20;
	b.window = 10000;
	b.slow_call = 0;
	b.connect_timeout = 5000;
	b.response_timeout = 0;
	b.open_duration = 10000;
	b.open_duration_max = 10000;
	b.half_open_probes = 1;
	b.success_threshold = 2;
	return b;
}

static int nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* Admit and, if admitted, report OUTCOME at NOW.  Return the admit result;
 * the last transition (admit's or report's) is left in tr. */
static int call(rc_slot *s, const rc_breaker_cfg *b, uint64_t now, int outcome,
		uint64_t lat_us)
{
	rc_ticket t;
	rc_transition a, r;
	int v = rc_breaker_admit(s, b, now, (uint32_t)getpid(), &t, &a);
	tr = a;
	if (v != RC_ADMIT)
		return v;
	rc_breaker_record(s, b, &t, outcome, lat_us, now, &r);
	if (r.to >= 0)
		tr = r;
	return v;
}

/* The calls S judged: each is once in the histogram (core/slot.h). */
static uint64_t calls_of(const rc_slot *s)
{
	uint64_t n = 0;
	for (int i = 0; i < RC_LAT_BUCKETS; i++)
		n += s->lat_count[i];
	return n;
}

static rc_view view(const rc_slot *s, const rc_breaker_cfg *b, uint64_t now)
{
	rc_view v;
	rc_breaker_view(s, b, now, &v);
	return v;
}

static int state_of(const rc_slot *s)
{
	return (int)RC_W_STATE(__atomic_load_n(&s->word, __ATOMIC_SEQ_CST));
}

/* A fresh slot for one test: claimed and reset to closed at NOW. */
static rc_slot *fresh(rc_shm *m, const char *name, uint64_t now)
{
	rc_slot *s = rc_shm_slot(m, name, 1);
	if (s)
		rc_breaker_set(s, RC_CLOSED, now, NULL);
	return s;
}

/* ------------------------------------------------------------- bulkheads */

static void test_bulkhead(void)
{
	char err[256];
	rc_shm a, b;
	const char *p = tpath("bulkhead");
	ok(rc_shm_open(p, &a, err, sizeof err) == 0 && rc_shm_open(p, &b, err, sizeof err) == 0,
	   "bulkhead: two mappings (%s)", err);
	rc_slot *s1 = rc_shm_slot(&a, "one", 1), *s2 = rc_shm_slot(&a, "two", 1);
	unsigned n1 = (unsigned)(s1 - a.slots), n2 = (unsigned)(s2 - a.slots);
	ok(rc_bh_table_of(&a, n1, RC_BH_CALLS, 0) == NULL, "no table bound before one is asked for");
	rc_bh_table *t = rc_bh_table_of(&a, n1, RC_BH_CALLS, 1);
	rc_bh_table *tc = rc_bh_table_of(&a, n1, RC_BH_CONNS, 1);
	rc_bh_table *t2 = rc_bh_table_of(&a, n2, RC_BH_CALLS, 1);
	ok(t && tc && t2 && t != tc && t != t2 && tc != t2, "one table per slot and kind");
	ok(rc_bh_table_of(&b, n1, RC_BH_CALLS, 1) == (rc_bh_table *)((char *)b.bh +
			((char *)t - (char *)a.bh)), "another mapping finds the same table");

	uint64_t now = rc_now_ms();
	uint32_t pid = (uint32_t)getpid(), ns = rc_alive_ns();
	int got[5];
	for (int i = 0; i < 5; i++)
		got[i] = rc_bh_take(t, 5, (unsigned)i * 3 % 5, RC_BH_REC(ns, pid, now + 10000 + 100 * i));
	ok(got[0] >= 0 && got[1] >= 0 && got[2] >= 0 && got[3] >= 0 && got[4] >= 0,
	   "cap 5: five tickets taken");
	is_int(rc_bh_held(t, 5), 5, "five held");
	is_int(rc_bh_take(t, 5, 0, RC_BH_REC(ns, pid, now + 10000)), -1, "a sixth is refused");
	is_int(rc_bh_reclaim(t, 5, now, 1), 0, "live, unexpired holders are not reclaimed");
	uint64_t v = RC_BH_REC(ns, pid, now + 10000 + 200);
	rc_bh_give(t, got[2], v);
	is_int(rc_bh_held(t, 5), 4, "one given back: four held");
	rc_bh_give(t, got[2], v);
	is_int(rc_bh_held(t, 5), 4, "given back twice: still four (CAS on the value)");
	int k = rc_bh_take(t, 5, 0, RC_BH_REC(ns, pid, now + 10000));
	is_int(k, got[2], "the freed record is taken again");
	rc_bh_give(t, got[0], RC_BH_REC(ns, pid, now + 5000));
	is_int(rc_bh_held(t, 5), 5, "a give with a stale value frees nothing");
	for (int i = 0; i < 5; i++)
		__atomic_store_n(&t->rec[i], 0, __ATOMIC_RELAXED);

	/* expiry and dead holders */
	rc_bh_take(t, 3, 0, RC_BH_REC(ns, pid, now - 1));          /* expired */
	rc_bh_take(t, 3, 0, RC_BH_REC(ns ^ 1, 4194000, now + 60000)); /* another namespace */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	rc_bh_take(t, 3, 0, RC_BH_REC(ns, (uint32_t)c, now + 60000));  /* dead */
	is_int(rc_bh_held(t, 3), 3, "three held: expired, foreign namespace, dead");
	is_int(rc_bh_reclaim(t, 3, now, 1), 2, "the expired and the dead one are reclaimed");
	is_int(rc_bh_held(t, 3), 1, "the other namespace's stays until it expires");
	is_int(rc_bh_reclaim(t, 3, now + 60001, 0), 1, "...and goes once it has");
	ok(rc_bh_expired(RC_BH_REC(ns, pid, 0xffffffff0ull), 0x1000000050ull) &&
	   !rc_bh_expired(RC_BH_REC(ns, pid, 0x1000000100ull), 0xffffffff0ull),
	   "expiry compares across the 32-bit wrap (ms / 16: every 2.2 years)");
	ok(rc_bh_expired(RC_BH_REC(ns, pid, now + 600000), now + 86400000ull * 200),
	   "a record left 200 days ago still reads expired");

	/* a forgotten slot's table goes to the next breaker that needs one */
	rc_bh_take(t2, 1, 0, RC_BH_REC(ns, pid, now + 60000));
	is_int(rc_shm_forget(&a, "two", 0, NULL), 0, "slot two forgotten");
	ok(rc_bh_table_of(&a, n1 + 50, RC_BH_CALLS, 1) == t2 && rc_bh_held(t2, 1) == 0,
	   "the table of a forgotten slot goes to the next slot that asks, its records cleared");
	t2->owner = ((uint64_t)RC_BH_CALLS << 32) | (n2 + 1u); /* as it was */
	unsigned used = 0;
	for (unsigned i = 0; i < RC_BH_TABLES; i++)
		used += a.bh[i].owner != 0;
	is_int(used, 3, "three tables bound");
	rc_bh_table *last = NULL;
	for (unsigned i = 0; i < RC_BH_TABLES - 1; i++) {
		char nm[32];
		snprintf(nm, sizeof nm, "bh%u", i);
		rc_slot *sx = rc_shm_slot(&a, nm, 1);
		rc_bh_table *x = sx ? rc_bh_table_of(&a, (unsigned)(sx - a.slots), RC_BH_CALLS, 1) : NULL;
		if (x)
			last = x;
		if (i == 0)
			ok(x == t2 && sx == s2,
			   "a new name in the forgotten slot inherits its table");
		if (i == RC_BH_TABLES - 2)
			ok(x == NULL, "every table taken: none (the breaker goes uncapped)");
	}
	ok(last != NULL, "tables were bound");
	memset(a.bh, 0, RC_BH_REGION_SIZE);
	rc_shm_close(&a);
	rc_shm_close(&b);
}

/* Threads take and give tickets under a cap: never more than CAP at once. */
#define BH_THREADS 8
static rc_bh_table *bh_t;
static int bh_now, bh_most, bh_bad;
static void *bh_worker(void *arg)
{
	uint32_t pid = (uint32_t)getpid(), ns = rc_alive_ns();
	unsigned start = (unsigned)(uintptr_t)arg;
	for (int n = 0; n < 20000; n++) {
		uint64_t v = RC_BH_REC(ns, pid, rc_now_ms() + 60000);
		int i = rc_bh_take(bh_t, 3, start++ % 3, v);
		if (i < 0)
			continue;
		int c = __atomic_add_fetch(&bh_now, 1, __ATOMIC_SEQ_CST);
		if (c > 3)
			__atomic_store_n(&bh_bad, 1, __ATOMIC_RELAXED);
		int m = __atomic_load_n(&bh_most, __ATOMIC_RELAXED);
		while (c > m && !__atomic_compare_exchange_n(&bh_most, &m, c, 0, __ATOMIC_RELAXED,
							     __ATOMIC_RELAXED))
			;
		__atomic_sub_fetch(&bh_now, 1, __ATOMIC_SEQ_CST);
		rc_bh_give(bh_t, i, v);
	}
	return NULL;
}

/* Threads bind one breaker's table at once: all end on the same one. */
static rc_shm *bind_shm;
static pthread_barrier_t bind_bar;
static rc_bh_table *bind_got[BH_THREADS];
static void *bind_worker(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	for (int round = 0; round < 300; round++) {
		pthread_barrier_wait(&bind_bar); /* reset done */
		bind_got[k] = rc_bh_table_of(bind_shm, 7, RC_BH_CALLS, 1);
		pthread_barrier_wait(&bind_bar); /* all bound */
		pthread_barrier_wait(&bind_bar); /* compared */
	}
	return NULL;
}

static void test_bulkhead_bind_race(rc_shm *a)
{
	pthread_t th[BH_THREADS];
	int split = 0, none = 0;
	bind_shm = a;
	pthread_barrier_init(&bind_bar, NULL, BH_THREADS + 1);
	for (uintptr_t i = 0; i < BH_THREADS; i++)
		pthread_create(&th[i], NULL, bind_worker, (void *)i);
	for (int round = 0; round < 300; round++) {
		for (unsigned t = 0; t < RC_BH_TABLES; t++)
			a->bh[t].owner = 0;
		a->slots[7].bh_bind[RC_BH_CALLS] = 0;
		/* a table some earlier binder of the slot left behind, now and then */
		if (round % 3 == 1)
			a->bh[round % RC_BH_TABLES].owner = ((uint64_t)RC_BH_CALLS << 32) | 8u;
		pthread_barrier_wait(&bind_bar);
		pthread_barrier_wait(&bind_bar);
		for (int k = 1; k < BH_THREADS; k++)
			split += bind_got[k] != bind_got[0];
		none += !bind_got[0];
		unsigned owned = 0;
		for (unsigned t = 0; t < RC_BH_TABLES; t++)
			owned += a->bh[t].owner == (((uint64_t)RC_BH_CALLS << 32) | 8u);
		split += owned != 1;
		pthread_barrier_wait(&bind_bar);
	}
	for (int i = 0; i < BH_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bind_bar);
	ok(!split && !none, "8 threads binding one breaker's table at once, 300 times: all on one "
	   "table, the only one naming it (%d split, %d none)", split, none);
	for (unsigned t = 0; t < RC_BH_TABLES; t++)
		a->bh[t].owner = 0;
	a->slots[7].bh_bind[RC_BH_CALLS] = 0;
}

static void test_bulkhead_threads(void)
{
	char err[256];
	rc_shm a;
	ok(rc_shm_open(tpath("bulkhead_mt"), &a, err, sizeof err) == 0, "threads: state (%s)", err);
	test_bulkhead_bind_race(&a);
	bh_t = rc_bh_table_of(&a, 0, RC_BH_CALLS, 1);
	pthread_t th[BH_THREADS];
	for (uintptr_t i = 0; i < BH_THREADS; i++)
		pthread_create(&th[i], NULL, bh_worker, (void *)i);
	for (int i = 0; i < BH_THREADS; i++)
		pthread_join(th[i], NULL);
	ok(!bh_bad && bh_most >= 1 && bh_most <= 3, "8 threads x 20000 takes, cap 3: at most %d at once",
	   bh_most);
	is_int(rc_bh_held(bh_t, 3), 0, "every ticket given back");
	rc_shm_close(&a);
}

/* ---------------------------------------------------------------- layout */

static void test_layout(void)
{
	ok(sizeof(rc_slot) == 600, "sizeof(rc_slot) == 600");
	ok(sizeof(rc_shm_header) == 144, "sizeof(rc_shm_header) == 144");
	ok(offsetof(rc_slot, name_word) == 0 && offsetof(rc_slot, name) == 8 &&
	   offsetof(rc_slot, word) == 72 && offsetof(rc_slot, consec) == 80 &&
	   offsetof(rc_slot, window) == 88 && offsetof(rc_slot, probes) == 168 &&
	   offsetof(rc_slot, fail_ms) == 296 && offsetof(rc_slot, unused_successes) == 304 &&
	   offsetof(rc_slot, failures) == 312 && offsetof(rc_slot, slow) == 320 &&
	   offsetof(rc_slot, timeouts) == 328 && offsetof(rc_slot, rejected) == 336 &&
	   offsetof(rc_slot, transitions) == 344 && offsetof(rc_slot, opened) == 352 &&
	   offsetof(rc_slot, lat_count) == 360 && offsetof(rc_slot, lat_sum_us) == 504 &&
	   offsetof(rc_slot, unlogged) == 512 && offsetof(rc_slot, seen) == 520 &&
	   offsetof(rc_slot, pending) == 528 && offsetof(rc_slot, pend_word) == 552 &&
	   offsetof(rc_slot, rejected_bulkhead) == 576 && offsetof(rc_slot, bh_bind) == 584,
	   "rc_slot field offsets");
	ok(offsetof(rc_shm_header, magic) == 0 && offsetof(rc_shm_header, version) == 8 &&
	   offsetof(rc_shm_header, header_size) == 12 &&
	   offsetof(rc_shm_header, slot_size) == 16 && offsetof(rc_shm_header, nslots) == 20 &&
	   offsetof(rc_shm_header, init_word) == 24 && offsetof(rc_shm_header, boot_id) == 32 &&
	   offsetof(rc_shm_header, created_ms) == 72 &&
	   offsetof(rc_shm_header, boot_hash) == 80 &&
	   offsetof(rc_shm_header, log_dropped) == 88 && offsetof(rc_shm_header, bh_tables) == 96 &&
	   offsetof(rc_shm_header, bh_table_size) == 100 &&
	   offsetof(rc_shm_header, unlogged_hint) == 104 && offsetof(rc_shm_header, reserved) == 112,
	   "rc_shm_header field offsets");
	is_int(sizeof(rc_bh_table), 64 + 8 * 256, "sizeof(rc_bh_table) == 2112");
	is_int(rc_shm_file_size(), 144 + 4096 * 600 + 128 * 2112,
	       "file size = header + 4096 slots + 128 bulkhead tables");
	uint64_t m = RC_SHM_MAGIC;
	ok(memcmp(&m, "RRECLOS1", 8) == 0, "magic reads RRECLOS1 in memory");
	is_int(RC_SHM_VERSION, 4, "version 4");
	uint64_t c = RC_CLAIM(0xbeef, 4194303, 123456789);
	ok(RC_CLAIM_IS(c) && RC_CLAIM_PID(c) == 4194303 && RC_CLAIM_NS(c) == 0xbeef &&
	   RC_CLAIM_T(c) == ((123456789 >> 4) & 0xffffff) && c != RC_NW_READY && c != RC_NW_FREE,
	   "claim word: pid (22 bits), namespace tag, time / 16 ms");
	uint64_t pv = RC_PROBE(0xbeef, 4194303, 0x1234567890ULL);
	ok(RC_PROBE_PID(pv) == 4194303 && RC_PROBE_NS(pv) == (0xbeef & 0x3ff) &&
	   (uint32_t)pv == 0x34567890u, "probe value: start ms, pid, 10 bits of the tag");
	ok(RC_SEEN_FP(RC_SEEN(0xdeadbeefu, 77)) == 0xdeadbeefu && RC_SEEN_SEC(RC_SEEN(1, 77)) == 77,
	   "seen: fingerprint and seconds");
	int inc = 1;
	for (int i = 1; i < RC_LAT_BUCKETS - 1; i++)
		if (rc_lat_bounds_us[i] <= rc_lat_bounds_us[i - 1])
			inc = 0;
	ok(inc && rc_lat_bounds_us[RC_LAT_BUCKETS - 1] == 0 &&
	   rc_lat_bounds_us[RC_LAT_BUCKETS - 2] == 10000000,
	   "latency bounds increase up to 10 s, then +Inf");
	is_str(rc_state_name(RC_CLOSED), "closed", "state name closed");
	is_str(rc_state_name(RC_HALF_OPEN), "half_open", "state name half_open");
	is_str(rc_state_name(RC_FORCED_CLOSED), "forced_closed", "state name forced_closed");
	is_str(rc_state_name(9), "unknown", "state name out of range");
	uint64_t w = (uint64_t)RC_FORCED_OPEN | (5u << 3) | (0xabcu << 8) | (123456789ULL << 20);
	ok(RC_W_STATE(w) == RC_FORCED_OPEN && RC_W_LEVEL(w) == 5 && RC_W_GEN(w) == 0xabc &&
	   RC_W_SINCE(w) == 123456789ULL, "state word accessors");
}

/* ----------------------------------------------------------------- names */

/* The rule, said plainly (the byte loop core/shm.c had): a name is 1 to
 * RC_NAME_MAX - 1 characters of [A-Za-z0-9_.-], read up to a NUL. */
static int plain_name_ok(const char *s)
{
	size_t i;
	for (i = 0; i < RC_NAME_MAX && s[i]; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return i > 0 && i < RC_NAME_MAX;
}

/* A slot's name field holding the LEN bytes at NAME, its NUL, and after
 * it bytes that depend on SEED (a field's padding does not count). */
static void mkfield(char field[RC_NAME_MAX], const char *name, size_t len, unsigned seed)
{
	memcpy(field, name, len);
	if (len < RC_NAME_MAX)
		field[len] = 0;
	for (size_t k = len + 1; k < RC_NAME_MAX; k++)
		field[k] = (char)(seed * 131 + k * 37 + 1);
}

/* core/name.h: the word-at-a-time check and hash of a field against the
 * byte loop of a string, on names of every length. */
static void test_names(void)
{
	static const char chars[] = "azAZ09_.-mQ7";
	char name[RC_NAME_MAX + 2], f1[RC_NAME_MAX], f2[RC_NAME_MAX];
	int same = 1, held = 1, apart = 1, rule = 1, longer = 1;

	for (size_t len = 1; len < RC_NAME_MAX; len++) {
		for (size_t k = 0; k < len; k++)
			name[k] = chars[(k * 5 + len) % (sizeof chars - 1)];
		name[len] = 0;
		mkfield(f1, name, len, 1);
		mkfield(f2, name, len, 2);
		uint32_t h = rc_name_hash(name);
		same &= h != 0 && rc_name_hash_field(f1) == h && rc_name_hash_field(f2) == h;
		held &= rc_name_in_field(f1, name) && rc_name_in_field(f2, name);
		/* a field that differs anywhere up to and with the NUL holds
		 * another name (or none) */
		for (size_t p = 0; p <= len && p < RC_NAME_MAX; p++) {
			mkfield(f1, name, len, 3);
			f1[p] = p < len ? (name[p] == 'a' ? 'b' : 'a') : 'x';
			apart &= !rc_name_in_field(f1, name);
			if (p < len)
				apart &= rc_name_hash_field(f1) != 0;
		}
		/* every byte at every place: as the rule says */
		for (size_t p = 0; p < len; p++)
			for (int c = 1; c < 256; c++) {
				char str[RC_NAME_MAX + 1];
				memcpy(str, name, len + 1);
				str[p] = (char)c;
				mkfield(f1, str, len, (unsigned)c);
				int want = plain_name_ok(str);
				uint32_t hs = rc_name_hash(str), hf = rc_name_hash_field(f1);
				rule &= !!hs == want && hf == hs &&
					rc_name_in_field(f1, str) == want;
			}
		/* NAME with more after it is another name: no match */
		name[len] = 'z';
		name[len + 1] = 0;
		mkfield(f1, name, len, 4);
		longer &= !rc_name_in_field(f1, name);
	}
	ok(same, "a name of each length 1-%d: its string and a field holding it (whatever "
	   "follows the NUL) hash the same, not 0", RC_NAME_MAX - 1);
	ok(held, "...and the field holds the name (rc_name_in_field)");
	ok(apart, "a field that differs from the name anywhere up to its NUL does not hold it");
	ok(rule, "every byte 1-255 at every place of a name of every length: the string, "
	   "the field and rc_name_in_field all follow the rule ([A-Za-z0-9_.-], 1-%d)",
	   RC_NAME_MAX - 1);
	ok(longer, "a name longer than the field's is not held");

	memset(f1, 'a', sizeof f1);
	memset(name, 'a', RC_NAME_MAX);
	name[RC_NAME_MAX] = 0;
	ok(rc_name_hash_field(f1) == 0 && rc_name_hash(name) == 0 &&
	   !rc_name_in_field(f1, name), "%d characters, no NUL: no name", RC_NAME_MAX);
	name[RC_NAME_MAX - 1] = 0;
	f1[RC_NAME_MAX - 1] = 0;
	ok(rc_name_hash_field(f1) != 0 && rc_name_hash_field(f1) == rc_name_hash(name) &&
	   rc_name_in_field(f1, name), "%d characters: a name", RC_NAME_MAX - 1);
	memset(f1, 0, sizeof f1);
	ok(rc_name_hash_field(f1) == 0 && rc_name_hash("") == 0 && !rc_name_in_field(f1, ""),
	   "the empty name is none");
	mkfield(f1, "Ab-", 3, 5);
	f1[1] = (char)('b' | 0x80); /* a letter with the high bit set */
	ok(rc_name_hash_field(f1) == 0, "a byte of 0x80 or more is no character");
	mkfield(f1, "a\r\x0e\x10", 4, 6); /* CR, 0x0e, 0x10 | 0x20 are '-', '.', '0' */
	ok(rc_name_hash_field(f1) == 0, "control characters one bit from - . 0 are none");
	/* distinct names of a config: distinct hashes (a table of them is not
	 * one long chain) */
	static uint32_t hs[RC_MAX_BREAKERS];
	int distinct = 1;
	for (int i = 0; i < RC_MAX_BREAKERS; i++) {
		snprintf(name, sizeof name, "svc-%d.internal", i);
		hs[i] = rc_name_hash(name);
	}
	for (int i = 0; i < RC_MAX_BREAKERS && distinct; i++)
		for (int j = 0; j < i; j++)
			if (hs[i] == hs[j])
				distinct = 0;
	ok(distinct, "%d names svc-N.internal: %d hashes", RC_MAX_BREAKERS, RC_MAX_BREAKERS);
}

/* ------------------------------------------------------------ file basics */

static int read_boot(char *buf)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, 39);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

static void test_file(void)
{
	char err[256], boot[40];
	rc_shm a, b;
	struct stat sb;
	const char *p = tpath("basic");
	int fds = nfds();

	errno = 4242;
	ok(rc_shm_open(p, &a, err, sizeof err) == 0, "create a state file (%s)", err);
	is_int(errno, 4242, "rc_shm_open keeps errno");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600 && S_ISREG(sb.st_mode),
	   "created 0600, regular");
	is_int(sb.st_size, rc_shm_file_size(), "created at the right size");
	ok(a.hdr->magic == RC_SHM_MAGIC && a.hdr->version == RC_SHM_VERSION &&
	   a.hdr->init_word == 2 && a.hdr->nslots == RC_MAX_BREAKERS &&
	   a.hdr->header_size == sizeof(rc_shm_header) &&
	   a.hdr->slot_size == sizeof(rc_slot), "header initialised");
	ok((char *)a.slots == (char *)a.hdr + sizeof(rc_shm_header), "slots follow the header");
	ok((char *)a.bh == (char *)(a.slots + RC_MAX_BREAKERS) && a.hdr->bh_tables == RC_BH_TABLES &&
	   a.hdr->bh_table_size == sizeof(rc_bh_table), "the bulkhead tables follow the slots");
	if (read_boot(boot) == 0)
		is_str(a.hdr->boot_id, boot, "boot_id recorded");
	else
		ok(1, "# skip no boot_id");

	rc_slot *s1 = rc_shm_slot(&a, "alpha", 1), *s2 = rc_shm_slot(&a, "beta", 1);
	ok(s1 == &a.slots[0] && s2 == &a.slots[1], "slots fill in order");
	ok(rc_shm_slot(&a, "alpha", 1) == s1, "same name, same slot");
	ok(rc_shm_slot(&a, "alpha", 0) == s1, "found without create");
	ok(rc_shm_slot(&a, "gamma", 0) == NULL, "unknown name without create: NULL");
	ok(rc_shm_slot(&a, "bad name", 1) == NULL && rc_shm_slot(&a, "", 1) == NULL,
	   "invalid names refused");
	char longname[80];
	memset(longname, 'x', 64);
	longname[64] = 0;
	ok(rc_shm_slot(&a, longname, 1) == NULL, "64-char name refused");
	longname[63] = 0;
	ok(rc_shm_slot(&a, longname, 1) == &a.slots[2], "63-char name accepted");
	is_int(a.slots[0].name_word, 2, "claimed slot is ready");
	is_str(a.slots[1].name, "beta", "name stored");

	ok(rc_shm_open(p, &b, err, sizeof err) == 0, "reopen (%s)", err);
	ok(b.hdr != a.hdr, "a second mapping");
	rc_slot *t2 = rc_shm_slot(&b, "beta", 0);
	ok(t2 && t2 - b.slots == 1, "second mapping finds beta in slot 1");
	rc_breaker_set(s2, RC_FORCED_OPEN, T0, NULL);
	is_int(state_of(t2), RC_FORCED_OPEN, "a flip through one mapping is seen in the other");
	rc_slot *d = rc_shm_slot(&b, "delta", 1);
	ok(d && d - b.slots == 3 && rc_shm_slot(&a, "delta", 0) == &a.slots[3],
	   "a claim through one mapping is found in the other");
	rc_shm_close(&b);
	rc_shm_close(&a);
	ok(a.hdr == NULL, "close clears the handle");
	is_int(nfds(), fds, "no fd left open");
}

/* Make a valid state file at NAME and return its path. */
static const char *mkstate(const char *name)
{
	char err[256];
	rc_shm m;
	const char *p = tpath(name);
	unlink(p);
	if (rc_shm_open(p, &m, err, sizeof err) == 0) {
		rc_shm_slot(&m, "one", 1);
		rc_shm_slot(&m, "two", 1);
		rc_shm_close(&m);
	}
	return p;
}

static void poke(const char *p, off_t off, const void *v, size_t n)
{
	int fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd >= 0) {
		if (pwrite(fd, v, n, off) != (ssize_t)n)
			perror("pwrite");
		close(fd);
	}
}

static void poke64(const char *p, off_t off, uint64_t v)
{
	poke(p, off, &v, 8);
}

#define SLOT_OFF(i) ((off_t)sizeof(rc_shm_header) + (off_t)(i) * (off_t)sizeof(rc_slot))

static int refused(const char *p, const char *want, char *err, size_t len)
{
	rc_shm m;
	err[0] = 0;
	if (rc_shm_open(p, &m, err, len) == 0) {
		rc_shm_close(&m);
		snprintf(err, len, "(accepted)");
		return 0;
	}
	return strstr(err, want) != NULL && strchr(err, '\n') == NULL &&
	       strncmp(err, "state file ", 11) == 0;
}

static pid_t dead_pid(void)
{
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	return c;
}

static void test_refusals(void)
{
	char err[256];
	const char *p;
	int fds = nfds();
	rc_shm m;

	p = mkstate("target");
	const char *l = tpath("link");
	unlink(l);
	ok(symlink(p, l) == 0 && refused(l, "is a symbolic link", err, sizeof err),
	   "symlink refused: %s", err);

	p = mkstate("owner");
	if (getuid() == 0) {
		ok(chown(p, 65534, 65534) == 0 && refused(p, "owned by uid 65534", err, sizeof err),
		   "other owner refused: %s", err);
	} else {
		ok(1, "# skip not root: cannot make a file owned by another user");
	}

	p = mkstate("mode");
	ok(chmod(p, 0666) == 0 && refused(p, "writable by group or others (mode 0666)",
					  err, sizeof err), "mode 0666 refused: %s", err);
	p = mkstate("mode2");
	ok(chmod(p, 0620) == 0 && refused(p, "writable by group", err, sizeof err),
	   "mode 0620 refused: %s", err);

	p = mkstate("size");
	ok(truncate(p, (off_t)rc_shm_file_size() + 8) == 0 &&
	   refused(p, "size", err, sizeof err), "wrong size refused: %s", err);
	p = tpath("size2");
	poke(p, 0, "hello world, not a state file\n", 30);
	ok(refused(p, "not a recloser state file (bad magic)", err, sizeof err),
	   "a foreign small file refused: %s", err);

	p = mkstate("magic");
	poke64(p, 0, 0x1122334455667788ULL);
	ok(refused(p, "not a recloser state file (bad magic)", err, sizeof err),
	   "bad magic refused: %s", err);

	p = mkstate("version");
	uint32_t v7 = 7;
	poke(p, 8, &v7, 4);
	ok(refused(p, "version 7, expected 4", err, sizeof err), "bad version refused: %s", err);
	ok(truncate(p, 4096) == 0 && refused(p, "version 7, expected 4", err, sizeof err),
	   "another version of another size: the version is named: %s", err);

	p = mkstate("nslots");
	uint32_t n = 64;
	poke(p, 20, &n, 4);
	ok(refused(p, "layout", err, sizeof err), "foreign slot count refused: %s", err);

	p = mkstate("slotword");
	poke64(p, SLOT_OFF(5), 6);
	ok(refused(p, "corrupt slot 5", err, sizeof err), "garbage name_word refused: %s", err);
	p = mkstate("slotclaim0");
	poke64(p, SLOT_OFF(5), 1);
	ok(refused(p, "corrupt slot 5", err, sizeof err), "a claim without a pid refused: %s", err);

	p = mkstate("slotname");
	poke(p, SLOT_OFF(1) + 8, "tw o", 4);
	ok(refused(p, "corrupt slot 1 (bad name)", err, sizeof err),
	   "bad chars in a name refused: %s", err);

	p = mkstate("slotnul");
	char full[RC_NAME_MAX];
	memset(full, 'a', sizeof full);
	poke(p, SLOT_OFF(0) + 8, full, sizeof full);
	ok(refused(p, "corrupt slot 0", err, sizeof err), "unterminated name refused: %s", err);

	p = mkstate("slotdup");
	poke(p, SLOT_OFF(1) + 8, "one", 4);
	ok(refused(p, "duplicate", err, sizeof err), "duplicate name refused: %s", err);

	/* whatever a name's length (the checks read it a word at a time),
	 * and whatever follows its NUL */
	p = mkstate("slotlen");
	int dups = 1, bads = 1;
	for (size_t len = 1; len < RC_NAME_MAX; len++) {
		char nm[RC_NAME_MAX], f[RC_NAME_MAX];
		memset(nm, 0, sizeof nm);
		for (size_t k = 0; k < len; k++)
			nm[k] = "abcdefghij"[k % 10];
		mkfield(f, nm, len, (unsigned)len);
		poke(p, SLOT_OFF(0) + 8, nm, sizeof nm);
		poke(p, SLOT_OFF(1) + 8, f, sizeof f);
		dups &= refused(p, "corrupt slot 1 (duplicate of slot 0)", err, sizeof err);
		f[len - 1] = ' ';
		poke(p, SLOT_OFF(1) + 8, f, sizeof f);
		bads &= refused(p, "corrupt slot 1 (bad name)", err, sizeof err);
	}
	ok(dups, "a duplicate name of each length 1-%d refused, bytes after its NUL apart",
	   RC_NAME_MAX - 1);
	ok(bads, "a bad character at the end of a name of each length refused");

	p = mkstate("slotempty");
	poke(p, SLOT_OFF(9) + 8, "ghost", 5);
	ok(refused(p, "corrupt slot 9", err, sizeof err), "empty slot with a name refused: %s", err);

	p = mkstate("slotfree");
	poke64(p, SLOT_OFF(1), RC_NW_FREE);
	ok(refused(p, "corrupt slot 1 (free, with a name)", err, sizeof err),
	   "a free slot with a name refused: %s", err);

	p = mkstate("slotstate");
	poke64(p, SLOT_OFF(0) + 72, 7);
	ok(refused(p, "corrupt slot 0 (state 7)", err, sizeof err), "bad state refused: %s", err);

	p = mkstate("initword");
	poke64(p, 24, 0xfff0);
	ok(refused(p, "corrupt header", err, sizeof err), "garbage init_word refused: %s", err);

	p = tpath("dir");
	mkdir(p, 0700);
	ok(refused(p, "", err, sizeof err), "a directory refused: %s", err);

	/* files left by creators that died */
	p = tpath("zero");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	ok(rc_shm_open(p, &m, err, sizeof err) == 0 && m.hdr->magic == RC_SHM_MAGIC,
	   "a zero-size file is initialised (%s)", err);
	rc_shm_close(&m);

	p = tpath("allzero");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	ok(rc_shm_open(p, &m, err, sizeof err) == 0 && m.hdr->magic == RC_SHM_MAGIC,
	   "an all-zero file is initialised (%s)", err);
	rc_shm_close(&m);

	p = tpath("garbage0");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	poke64(p, 0, 0xdeadbeefULL);
	poke64(p, SLOT_OFF(3), 0x1234);
	ok(refused(p, "bad magic", err, sizeof err), "garbage with init_word 0 refused: %s", err);
	uint64_t iw = 1;
	int fd = open(p, O_RDONLY);
	pread(fd, &iw, 8, 24);
	close(fd);
	is_int(iw, 0, "a refused file is left as it was");

	p = tpath("deadinit");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	poke64(p, 24, RC_CLAIM(rc_alive_ns(), dead_pid(), rc_now_ms()));
	poke(p, 8, &(uint32_t){ 1 }, 4); /* a half-written header */
	ok(rc_shm_open(p, &m, err, sizeof err) == 0 && m.hdr->init_word == 2 &&
	   m.hdr->magic == RC_SHM_MAGIC, "an initialiser that died is taken over (%s)", err);
	rc_shm_close(&m);

	p = tpath("liveinit");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	poke64(p, 24, RC_CLAIM(rc_alive_ns(), getppid(), rc_now_ms()));
	uint64_t t = rc_now_ms();
	ok(refused(p, "still being initialised by pid", err, sizeof err),
	   "a live initialiser that never finishes: refused: %s", err);
	t = rc_now_ms() - t;
	ok(t >= 190 && t < 3000, "after waiting about 200 ms (%llu)", (unsigned long long)t);

	/* an initialiser of another pid namespace: kill() here says nothing */
	uint32_t other = rc_alive_ns() ^ 0x5a5a;
	p = tpath("nsinit");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	poke64(p, 24, RC_CLAIM(other, dead_pid(), rc_now_ms()));
	ok(refused(p, "still being initialised by pid", err, sizeof err),
	   "an initialiser of another pid namespace whose pid is dead here: waited for, "
	   "not taken over: %s", err);
	poke64(p, 24, RC_CLAIM(other, dead_pid(), rc_now_ms() - RC_CLAIM_MAX_MS - 100));
	ok(rc_shm_open(p, &m, err, sizeof err) == 0 && m.hdr->init_word == 2,
	   "...but taken over once older than %u ms (%s)", RC_CLAIM_MAX_MS, err);
	rc_shm_close(&m);

	/* blocks: a full-size file with holes is allocated before it is mapped */
	p = tpath("sparse");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	struct stat sb;
	ok(rc_shm_open(p, &m, err, sizeof err) == 0 && stat(p, &sb) == 0 &&
	   (uint64_t)sb.st_blocks * 512 >= rc_shm_file_size(),
	   "a sparse full-size file is allocated, then used (%s)", err);
	rc_shm_close(&m);
	p = tpath("sparsebad");
	close(open(p, O_RDWR | O_CREAT | O_EXCL, 0600));
	truncate(p, (off_t)rc_shm_file_size());
	poke64(p, 0, 0x1122334455667788ULL);
	ok(refused(p, "bad magic", err, sizeof err) && stat(p, &sb) == 0 && sb.st_blocks <= 8,
	   "a sparse file of foreign magic is refused before anything is allocated: %s", err);

	is_int(nfds(), fds, "no fd left open by refusals");
}

/* A file from another boot: every slot's time is reset. */
static void test_boot(void)
{
	char err[256], boot[40];
	rc_shm m;
	const char *p = tpath("boot");
	rc_breaker_cfg b = cfg();

	if (read_boot(boot) < 0) {
		ok(1, "# skip no boot_id");
		return;
	}
	ok(rc_shm_open(p, &m, err, sizeof err) == 0, "open (%s)", err);
	rc_slot *s = rc_shm_slot(&m, "b1", 1), *f = rc_shm_slot(&m, "b2", 1);
	rc_breaker_set(s, RC_OPEN, 5, NULL);
	rc_breaker_set(f, RC_FORCED_OPEN, 5, NULL);
	s->probes[0] = RC_PROBE(rc_alive_ns(), 1, 5);
	rc_breaker_record(s, &b, &(rc_ticket){ 0, 0, -1, -1, 0, NULL }, RC_FAIL, 10, 5, NULL);
	rc_bh_table *bt = rc_bh_table_of(&m, (unsigned)(s - m.slots), RC_BH_CALLS, 1);
	ok(bt && rc_bh_take(bt, 4, 0, RC_BH_REC(rc_alive_ns(), 1, 5 + 60000)) >= 0,
	   "a bulkhead ticket held before the reboot");
	memcpy(m.hdr->boot_id, "00000000-0000-0000-0000-000000000000", 37);
	m.hdr->boot_hash = 12345;
	uint64_t gen = RC_W_GEN(s->word);
	rc_shm_close(&m);

	uint64_t before = rc_now_ms();
	ok(rc_shm_open(p, &m, err, sizeof err) == 0, "reopen after a reboot (%s)", err);
	s = rc_shm_slot(&m, "b1", 0);
	f = rc_shm_slot(&m, "b2", 0);
	ok(s && RC_W_STATE(s->word) == RC_CLOSED && RC_W_SINCE(s->word) >= before &&
	   RC_W_GEN(s->word) == ((gen + 1) & 0xfff), "an open breaker is closed at now");
	ok(f && RC_W_STATE(f->word) == RC_FORCED_OPEN && RC_W_SINCE(f->word) >= before,
	   "a forced state stays, its time renewed");
	ok(s && s->probes[0] == 0 && s->window[0] == 0 && s->window[5 / 1000 % 10] == 0,
	   "probes and window of the old boot cleared");
	ok(s && s->failures == 1, "totals kept");
	bt = s ? rc_bh_table_of(&m, (unsigned)(s - m.slots), RC_BH_CALLS, 0) : NULL;
	ok(bt && rc_bh_held(bt, 4) == 0, "its bulkhead tickets cleared (their times meant the old boot)");
	is_str(m.hdr->boot_id, boot, "boot_id updated");
	rc_shm_close(&m);
}

/* --------------------------------------------------------- state machine */

static void test_consecutive(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 3;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "consec", T);

	call(s, &b, T, RC_FAIL, 100);
	call(s, &b, T, RC_FAIL, 100);
	call(s, &b, T, RC_OK, 100);
	call(s, &b, T, RC_FAIL, 100);
	call(s, &b, T, RC_FAIL, 100);
	is_int(state_of(s), RC_CLOSED, "2 failures, a success, 2 failures: still closed");
	call(s, &b, T + 1, RC_FAIL, 100);
	is_int(state_of(s), RC_OPEN, "third consecutive failure opens it");
	ok(tr.from == RC_CLOSED && tr.to == RC_OPEN && tr.failures == 3 &&
	   strcmp(tr.reason, "consecutive_failures") == 0 && tr.open_ms == 10000,
	   "transition: closed -> open, consecutive_failures, failures=3, open 10 s");
	is_int(RC_W_SINCE(s->word), T + 1, "since = now of the transition");
	is_int(call(s, &b, T + 2, RC_OK, 1), RC_REJECT, "open rejects");
	is_int(tr.to, -1, "a rejection is no transition");
	rc_view v = view(s, &b, T + 5);
	ok(v.calls == 6 && v.failures == 5 && v.successes == 1 && v.rejected == 1 &&
	   v.transitions == 2 && v.opened == 1 && v.state == RC_OPEN && v.in_state_ms == 4,
	   "counts: 6 calls, 5 failures, 1 rejected, transitions 2 (reset + open)");

	b.failure_threshold = 1;
	s = fresh(m, "consec1", T);
	call(s, &b, T, RC_FAIL_TIMEOUT, 5000000);
	ok(state_of(s) == RC_OPEN && s->timeouts == 1, "threshold 1: one timeout opens it");
	b.failure_threshold = 0;
	s = fresh(m, "consec0", T);
	for (int i = 0; i < 50; i++)
		call(s, &b, T, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "threshold 0 and rate 0: never opens");
}

static void test_rate(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 0;
	b.failure_rate = 50;
	b.minimum_calls = 4;
	b.window = 10000;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "rate", T);

	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T + 100, RC_FAIL, 1);
	call(s, &b, T + 1500, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "3 failures of 3 calls, minimum_calls 4: closed");
	rc_view v = view(s, &b, T + 1500);
	ok(v.win_calls == 3 && v.win_failures == 3, "window holds 3/3");
	v = view(s, &b, T + 10500);
	ok(v.win_calls == 1 && v.win_failures == 1, "10.5 s later the first bucket aged out");
	v = view(s, &b, T + 11000);
	ok(v.win_calls == 0, "11 s later all aged out");

	T += 12000;
	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T, RC_OK, 1);
	call(s, &b, T + 1000, RC_OK, 1);
	is_int(state_of(s), RC_CLOSED, "old failures aged out: 1 failure in 3 calls, closed");
	call(s, &b, T + 2000, RC_OK, 1);
	is_int(state_of(s), RC_CLOSED, "4 calls, 25%%: closed");
	call(s, &b, T + 2000, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "5 calls, 40%%: closed");
	call(s, &b, T + 3000, RC_FAIL, 1);
	is_int(state_of(s), RC_OPEN, "6 calls, 50%%: open");
	ok(strcmp(tr.reason, "failure_rate") == 0 && tr.failures == 3 && tr.calls == 6,
	   "transition: failure_rate, failures=3 calls=6");

	/* exactly at minimum_calls */
	s = fresh(m, "rate2", T);
	for (int i = 0; i < 3; i++)
		call(s, &b, T, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "3 failures < minimum_calls");
	call(s, &b, T, RC_FAIL, 1);
	is_int(state_of(s), RC_OPEN, "the 4th failure (= minimum_calls) opens it");

	/* a success that completes minimum_calls at a failing rate */
	s = fresh(m, "rate3", T);
	for (int i = 0; i < 3; i++)
		call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T, RC_OK, 1);
	is_int(state_of(s), RC_OPEN, "a success completing minimum_calls at 75%% opens it");

	/* after it closes again, the failures that opened it do not count */
	b.open_duration = b.open_duration_max = 1000;
	b.success_threshold = 1;
	call(s, &b, T + 1000, RC_OK, 1);
	is_int(state_of(s), RC_CLOSED, "half-open probe succeeded: closed");
	call(s, &b, T + 1000, RC_FAIL, 1);
	call(s, &b, T + 1000, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "the probe's success and 2 failures: 3 < minimum_calls");
	call(s, &b, T + 1000, RC_OK, 1);
	is_int(state_of(s), RC_OPEN, "then judged over its own calls: 2/4 opens it");
	s = fresh(m, "rate4", T);
	for (int i = 0; i < 3; i++)
		call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T, RC_OK, 1);
	call(s, &b, T + 1000, RC_OK, 1);
	is_int(state_of(s), RC_CLOSED, "closed again");
	call(s, &b, T + 1000, RC_OK, 1);
	call(s, &b, T + 1000, RC_OK, 1);
	call(s, &b, T + 1000, RC_FAIL, 1);
	call(s, &b, T + 1000, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED,
	       "2/5 after closing: the 3 failures before it do not count (5/9 would)");

	/* failure_rate 100 needs every call failed */
	b.failure_rate = 100;
	b.minimum_calls = 10;
	s = fresh(m, "rate5", T);
	for (int i = 0; i < 10; i++)
		call(s, &b, T, i == 5 ? RC_OK : RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "rate 100: one success among 10 keeps it closed");
}

static void test_slow(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 2;
	b.slow_call = 100;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "slow", T);

	call(s, &b, T, RC_OK, 100000);
	call(s, &b, T, RC_OK, 100000);
	ok(state_of(s) == RC_CLOSED && view(s, &b, T).successes == 2 && s->slow == 0,
	   "exactly slow_call is not slow");
	call(s, &b, T, RC_OK, 100001);
	call(s, &b, T, RC_OK, 150000);
	ok(state_of(s) == RC_OPEN && s->slow == 2 && s->failures == 2 && view(s, &b, T).successes == 2,
	   "two slow successes count as failures and open it");
}

static void test_half_open(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 1;
	b.open_duration = 1000;
	b.open_duration_max = 1000;
	b.half_open_probes = 2;
	b.success_threshold = 2;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "half", T);
	rc_ticket t1, t2, t3, t4;
	rc_transition x;

	call(s, &b, T, RC_FAIL, 1);
	is_int(state_of(s), RC_OPEN, "open");
	is_int(rc_breaker_admit(s, &b, T + 999, 1, &t1, &x), RC_REJECT, "rejected before open_duration");
	is_int(state_of(s), RC_OPEN, "still open at 999 ms");
	is_int(rc_breaker_admit(s, &b, T + 1000, 1, &t1, &x), RC_ADMIT, "admitted at open_duration");
	ok(x.from == RC_OPEN && x.to == RC_HALF_OPEN && strcmp(x.reason, "open_elapsed") == 0,
	   "transition: open -> half_open, open_elapsed");
	ok(state_of(s) == RC_HALF_OPEN && t1.probe >= 0, "half_open, holding a probe");
	is_int(rc_breaker_admit(s, &b, T + 1000, 1, &t2, &x), RC_ADMIT, "second probe admitted");
	is_int(x.to, -1, "no second transition");
	is_int(rc_breaker_admit(s, &b, T + 1000, 1, &t3, &x), RC_REJECT,
	       "third admit rejected (half_open_probes = 2)");
	is_int(view(s, &b, T + 1000).probes_held, 2, "2 probes held");
	rc_breaker_cancel(s, &t1);
	is_int(view(s, &b, T + 1000).probes_held, 1, "cancel releases a probe");
	is_int(rc_breaker_admit(s, &b, T + 1001, 1, &t3, &x), RC_ADMIT, "a freed probe is taken again");
	is_int(rc_breaker_admit(s, &b, T + 1001, 1, &t4, &x), RC_REJECT, "and then full again");
	rc_breaker_record(s, &b, &t2, RC_OK, 10, T + 1002, &x);
	ok(state_of(s) == RC_HALF_OPEN && x.to == -1, "one success: still half_open");
	rc_breaker_record(s, &b, &t3, RC_OK, 10, T + 1003, &x);
	ok(state_of(s) == RC_CLOSED && x.from == RC_HALF_OPEN && x.to == RC_CLOSED &&
	   strcmp(x.reason, "probes_succeeded") == 0, "success_threshold successes close it");
	is_int(view(s, &b, T + 1003).probes_held, 0, "no probe held after closing");
	is_int(RC_W_LEVEL(s->word), 0, "level 0");

	/* success_threshold counts consecutive successes of probes */
	b.half_open_probes = 1;
	s = fresh(m, "half2", T);
	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T + 1000, RC_OK, 1);
	is_int(state_of(s), RC_HALF_OPEN, "1 success of 2");
	call(s, &b, T + 1000, RC_OK, 1);
	is_int(state_of(s), RC_CLOSED, "2 successes of 2: closed");
}

static void test_backoff(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 1;
	b.open_duration = 1000;
	b.open_duration_max = 3000;
	b.success_threshold = 1;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "backoff", T);

	call(s, &b, T, RC_FAIL, 1);
	ok(tr.open_ms == 1000, "first open: 1 s");
	call(s, &b, T + 1000, RC_FAIL, 1);
	ok(state_of(s) == RC_OPEN && strcmp(tr.reason, "probe_failed") == 0 &&
	   tr.from == RC_HALF_OPEN && tr.open_ms == 2000 && RC_W_LEVEL(s->word) == 1,
	   "failed probe: open again for 2 s, level 1");
	T += 1000;
	is_int(call(s, &b, T + 1999, RC_OK, 1), RC_REJECT, "rejected at 1999 ms");
	call(s, &b, T + 2000, RC_FAIL, 1);
	ok(tr.open_ms == 3000 && RC_W_LEVEL(s->word) == 2, "second failed probe: 3 s (capped 4 -> 3)");
	T += 2000;
	is_int(call(s, &b, T + 2999, RC_OK, 1), RC_REJECT, "rejected at 2999 ms");
	call(s, &b, T + 3000, RC_FAIL, 1);
	ok(tr.open_ms == 3000 && RC_W_LEVEL(s->word) == 2, "third failed probe: still 3 s (cap)");
	T += 3000;
	call(s, &b, T + 3000, RC_OK, 1);
	ok(state_of(s) == RC_CLOSED && RC_W_LEVEL(s->word) == 0, "closed: level reset");
	call(s, &b, T + 3000, RC_FAIL, 1);
	ok(state_of(s) == RC_OPEN && tr.open_ms == 1000, "next open: 1 s again");

	/* open_duration_max below open_duration: open_duration wins */
	b.open_duration_max = 0;
	s = fresh(m, "backoff2", T);
	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T + 1000, RC_FAIL, 1);
	ok(tr.open_ms == 1000, "open_duration_max 0: no doubling");
}

static void test_stale(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 2;
	b.open_duration = b.open_duration_max = 1000;
	b.success_threshold = 1;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "stale", T);
	rc_ticket old, probe;
	rc_transition x;

	rc_breaker_admit(s, &b, T, 1, &old, &x);
	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T, RC_FAIL, 1);
	is_int(state_of(s), RC_OPEN, "open");
	uint64_t w = s->word;
	rc_breaker_record(s, &b, &old, RC_FAIL, 1, T + 1, &x);
	ok(x.to == -1 && s->word == w, "a failure admitted before the transition moves nothing");
	ok(calls_of(s) == 3 && s->failures == 3, "but it is counted");

	rc_breaker_admit(s, &b, T, 1, &old, &x); /* rejected: open */
	rc_ticket closed_t;
	rc_breaker_set(s, RC_CLOSED, T, NULL);
	rc_breaker_admit(s, &b, T, 1, &closed_t, &x);
	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T, RC_FAIL, 1);
	rc_breaker_admit(s, &b, T + 1000, 1, &probe, &x);
	is_int(state_of(s), RC_HALF_OPEN, "half_open");
	rc_breaker_record(s, &b, &closed_t, RC_OK, 1, T + 1000, &x);
	ok(state_of(s) == RC_HALF_OPEN && x.to == -1,
	   "a success from the closed era does not close a half-open breaker");
	rc_breaker_record(s, &b, &probe, RC_OK, 1, T + 1000, &x);
	is_int(state_of(s), RC_CLOSED, "the probe's success does");
	rc_breaker_record(s, &b, &probe, RC_FAIL, 1, T + 1000, &x);
	is_int(state_of(s), RC_CLOSED, "a late duplicate of the probe moves nothing");
}

static void test_probe_reclaim(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 1;
	b.open_duration = b.open_duration_max = 1000;
	b.half_open_probes = 1;
	b.connect_timeout = 1000;
	b.response_timeout = 0;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "reclaim", T);
	rc_ticket t, t2;
	rc_transition x;

	is_int(rc_breaker_probe_ttl_ms(&b), 1000 + 5000 + 1000, "probe ttl: connect + response (0 -> 5 s) + 1 s");
	rc_breaker_cfg d = cfg();
	d.connect_timeout = 0;
	is_int(rc_breaker_probe_ttl_ms(&d), 11000, "probe ttl with both timeouts off: 11 s");

	call(s, &b, T, RC_FAIL, 1);
	pid_t c = fork();
	if (c == 0) {
		rc_ticket ct;
		int v = rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &ct, NULL);
		_exit(v == RC_ADMIT && ct.probe == 0 ? 0 : 1);
	}
	int status = -1;
	waitpid(c, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child took the probe and died");
	ok(state_of(s) == RC_HALF_OPEN && RC_PROBE_PID(s->probes[0]) == (uint32_t)c &&
	   RC_PROBE_NS(s->probes[0]) == (rc_alive_ns() & 0x3ff),
	   "the probe is held by the dead child (its pid and our namespace's tag)");
	is_int(rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t, &x), RC_ADMIT,
	       "the dead child's probe is reclaimed");
	is_int(t.probe, 0, "in slot 0");
	is_int(rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t2, &x), RC_REJECT,
	       "a live probe is not reclaimed");

	is_int(rc_breaker_admit(s, &b, T + 1000 + 7000, (uint32_t)getpid(), &t2, &x), RC_REJECT,
	       "a probe exactly ttl old is kept");
	is_int(rc_breaker_admit(s, &b, T + 1000 + 7001, (uint32_t)getpid(), &t2, &x), RC_ADMIT,
	       "a probe older than ttl is reclaimed");
	rc_breaker_record(s, &b, &t, RC_OK, 1, T + 8002, &x);
	is_int(view(s, &b, T + 8002).probes_held, 1, "the lost probe's late report frees nothing");
	ok(state_of(s) == RC_HALF_OPEN, "but its success counts (same generation)");
	rc_breaker_cancel(s, &t2);
	is_int(view(s, &b, T + 8002).probes_held, 0, "released");

	/* a probe of an earlier half-open phase is free in the next one */
	s = fresh(m, "reclaim2", T);
	call(s, &b, T, RC_FAIL, 1);
	rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t, &x);
	rc_breaker_set(s, RC_OPEN, T + 1100, NULL);
	rc_breaker_set(s, RC_HALF_OPEN, T + 1200, NULL);
	is_int(rc_breaker_admit(s, &b, T + 1200, (uint32_t)getpid(), &t2, &x), RC_ADMIT,
	       "a probe left from an earlier half-open phase is reclaimed");

	/* pid namespaces: a holder of another namespace is never judged by
	 * kill() here (its pid is another process's here, or none) */
	uint32_t other = rc_alive_ns() ^ 0x0155; /* differs in the low 10 bits */
	pid_t gone = dead_pid();
	s = fresh(m, "reclaim3", T);
	call(s, &b, T, RC_FAIL, 1);
	rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t, &x); /* half_open */
	s->probes[0] = RC_PROBE(other, gone, T + 1000);
	errno = 4242;
	is_int(rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t2, &x), RC_REJECT,
	       "a probe held in another pid namespace, its pid dead here: kept");
	is_int(errno, 4242, "...errno kept");
	is_int(rc_breaker_admit(s, &b, T + 1000 + 7000, (uint32_t)getpid(), &t2, &x), RC_REJECT,
	       "...until its lifetime is over");
	is_int(rc_breaker_admit(s, &b, T + 1000 + 7001, (uint32_t)getpid(), &t2, &x), RC_ADMIT,
	       "...then reclaimed");
	rc_breaker_cancel(s, &t2);
	s->probes[0] = RC_PROBE(rc_alive_ns(), gone, T + 1000);
	is_int(rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t2, &x), RC_ADMIT,
	       "the same dead pid of our own namespace: reclaimed at once");
	rc_breaker_cancel(s, &t2);
	s->probes[0] = RC_PROBE(rc_alive_ns(), getppid(), T + 1000);
	is_int(rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t2, &x), RC_REJECT,
	       "a live holder of our namespace: kept");
	s->probes[0] = RC_PROBE(rc_alive_ns(), getpid(), T + 1000);
	is_int(rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t2, &x), RC_REJECT,
	       "one of our own (another thread's call): kept");
	rc_breaker_set(s, RC_CLOSED, T, &x);
}

/* Deadlines of open calls kept for calls whose process dies. */
static void test_pending(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 2;
	b.response_timeout = 700;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "pending", T);
	rc_ticket t;
	rc_transition x;
	uint64_t v[4];
	rc_pend_settled ps;

	ok(!rc_breaker_pend_any(s), "a fresh slot keeps no deadline");
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	is_int(rc_breaker_admit(s, &b, T, (uint32_t)c, &t, &x), RC_ADMIT, "a call of the child's");
	is_int(rc_breaker_pend_add(s, (uint32_t)c, T + 700, 0, &t, &v[0]), 0,
	       "its deadline kept in record 0");
	is_int(rc_breaker_pend_add(s, (uint32_t)getpid(), T + 700, 1, &t, &v[1]), 1,
	       "one of ours in record 1");
	ok(RC_PEND_PID(v[0]) == (uint32_t)c && !RC_PEND_CONN(v[0]) && RC_PEND_CONN(v[1]) &&
	   RC_PEND_NS(v[0]) == (rc_alive_ns() & 0x1ff), "records: pid, kind, namespace tag");
	is_int(rc_breaker_pend_settle(s, &b, T + 700, &ps, &x), 0, "at the deadline: not yet");
	is_int(rc_breaker_pend_settle(s, &b, T + 701, &ps, &x), 1,
	       "past it, the dead child's call is settled");
	ok(ps.pid == (uint32_t)c && ps.conn == 0 && ps.late_ms == 1, "...as its response, 1 ms late");
	rc_view w = view(s, &b, T + 701);
	ok(w.calls == 1 && w.failures == 1 && w.timeouts == 1, "...one call, one timeout failure");
	is_int(rc_breaker_pend_settle(s, &b, T + 800, &ps, &x), 0,
	       "ours (alive) is not settled, the child's not twice");
	rc_breaker_pend_drop(s, 1, v[1]);
	ok(!rc_breaker_pend_any(s), "dropped at its verdict: none left");
	is_int(rc_breaker_pend_add(s, (uint32_t)getpid(), T, 0, &t, &v[0]), 0, "record 0 free again");
	is_int(rc_breaker_pend_add(s, (uint32_t)getpid(), T + 1, 0, &t, &v[1]), 1, "record 1");
	is_int(rc_breaker_pend_add(s, (uint32_t)getpid(), T, 0, &t, &v[2]), 2, "record 2");
	is_int(rc_breaker_pend_add(s, (uint32_t)getpid(), T, 0, &t, &v[3]), -1, "no 4th: -1");
	rc_breaker_pend_drop(s, 1, v[0]);
	ok(rc_breaker_pend_any(s) && s->pending[1] == v[1], "a drop with another's value leaves it");
	is_int(rc_breaker_pend_settle(s, &b, T + RC_PEND_MAX_MS + 2, &ps, &x), 0,
	       "alive holders RC_PEND_MAX_MS past their deadline: dropped, not judged");
	ok(!rc_breaker_pend_any(s), "...all three");
	w = view(s, &b, T + RC_PEND_MAX_MS + 1);
	is_int((long long)w.calls, 1, "...no call counted");
}

static void test_forced(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 2;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "forced", T);
	rc_transition x;
	uint64_t tr0 = s->transitions, op0 = s->opened;

	rc_breaker_set(s, RC_FORCED_OPEN, T, &x);
	ok(x.from == RC_CLOSED && x.to == RC_FORCED_OPEN && strcmp(x.reason, "cli") == 0,
	   "cli: closed -> forced_open");
	ok(s->transitions == tr0 + 1 && s->opened == op0 + 1, "transitions and opened counted");
	for (int i = 0; i < 3; i++)
		is_int(call(s, &b, T + 100000 * (uint64_t)i, RC_OK, 1), RC_REJECT,
		       "forced_open rejects (%d)", i);
	is_int(state_of(s), RC_FORCED_OPEN, "and stays forced_open however long");

	rc_breaker_set(s, RC_FORCED_CLOSED, T, &x);
	for (int i = 0; i < 10; i++)
		is_int(call(s, &b, T, RC_FAIL, 1), RC_ADMIT, "forced_closed admits (%d)", i);
	ok(state_of(s) == RC_FORCED_CLOSED && s->failures == 10, "forced_closed never opens but counts");

	call(s, &b, T, RC_OK, 2000);
	rc_breaker_set(s, RC_CLOSED, T + 5, &x);
	rc_view v = view(s, &b, T + 5);
	ok(v.state == RC_CLOSED && v.calls == 0 && v.failures == 0 && v.successes == 0 &&
	   v.rejected == 0 && v.win_calls == 0 && v.lat_sum_us == 0 && v.p50_us == 0 &&
	   v.probes_held == 0 && v.level == 0 && v.transitions == tr0 + 3,
	   "close clears the counts (transitions kept)");
	call(s, &b, T + 6, RC_FAIL, 1);
	is_int(state_of(s), RC_CLOSED, "consecutive count cleared too: one failure, still closed");

	/* close from half_open clears the probes and the level */
	b.failure_threshold = 1;
	b.open_duration = 1000;
	b.open_duration_max = 8000;
	call(s, &b, T + 6, RC_FAIL, 1);
	call(s, &b, T + 1006, RC_FAIL, 1);
	rc_ticket t;
	rc_breaker_admit(s, &b, T + 3006, 1, &t, &x);
	ok(state_of(s) == RC_HALF_OPEN && RC_W_LEVEL(s->word) == 1 &&
	   view(s, &b, T + 3006).probes_held == 1, "half_open at level 1 with a probe");
	rc_breaker_set(s, RC_CLOSED, T + 3007, &x);
	ok(RC_W_LEVEL(s->word) == 0 && view(s, &b, T + 3007).probes_held == 0,
	   "close: level 0, probes free");
	ok(rc_breaker_set(s, 9, T, &x) == -1 && x.to == -1, "an unknown state is refused");
}

static void test_observe(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.mode = RC_MODE_OBSERVE;
	b.failure_threshold = 2;
	b.open_duration = b.open_duration_max = 1000;
	b.half_open_probes = 1;
	b.success_threshold = 1;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "observe", T);
	rc_ticket p, q;
	rc_transition x;

	call(s, &b, T, RC_FAIL, 1);
	call(s, &b, T, RC_FAIL, 1);
	ok(state_of(s) == RC_OPEN && tr.to == RC_OPEN, "observe: failures still open it");
	is_int(call(s, &b, T + 1, RC_FAIL, 1), RC_ADMIT, "observe: open admits");
	ok(s->rejected == 0 && calls_of(s) == 3, "no rejection counted, the call is");
	is_int(rc_breaker_admit(s, &b, T + 1000, 1, &p, &x), RC_ADMIT, "after open_duration: admitted");
	ok(x.to == RC_HALF_OPEN && p.probe == 0, "half_open, with the probe");
	is_int(rc_breaker_admit(s, &b, T + 1000, 1, &q, &x), RC_ADMIT, "no probe free: admitted anyway");
	is_int(q.probe, -1, "without a probe");
	rc_breaker_record(s, &b, &q, RC_FAIL, 1, T + 1000, &x);
	ok(state_of(s) == RC_HALF_OPEN && x.to == -1, "a non-probe failure moves nothing");
	rc_breaker_record(s, &b, &p, RC_FAIL, 1, T + 1000, &x);
	ok(state_of(s) == RC_OPEN && x.to == RC_OPEN && x.open_ms == 1000,
	   "the probe's failure reopens it");
	rc_breaker_set(s, RC_FORCED_OPEN, T, NULL);
	is_int(call(s, &b, T + 1, RC_OK, 1), RC_ADMIT, "observe: even forced_open admits");
	is_int(s->rejected, 0, "never a rejection");
}

static void test_latency(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 0;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "latency", T);

	rc_view v = view(s, &b, T);
	ok(v.p50_us == 0 && v.p99_us == 0, "no data: p50 = p99 = 0");
	for (int i = 0; i < 98; i++)
		call(s, &b, T, RC_OK, 80);
	call(s, &b, T, RC_OK, 3000000);
	call(s, &b, T, RC_OK, 3000000);
	v = view(s, &b, T);
	is_int(v.p50_us, 75, "p50 = 75 us (interpolated in the 50-100 us bucket)");
	is_int(v.p99_us, 3750000, "p99 = 3.75 s (interpolated in the 2.5-5 s bucket)");
	is_int(v.lat_count[1], 98, "98 calls in the 100 us bucket");
	is_int(v.lat_sum_us, 98 * 80 + 6000000, "latency sum");
	call(s, &b, T, RC_OK, 50);
	is_int(s->lat_count[0], 1, "50 us lands in the first bucket (inclusive)");
	for (int i = 0; i < 200; i++)
		call(s, &b, T, RC_OK, 20000000);
	v = view(s, &b, T);
	ok(v.p99_us == UINT64_MAX && v.lat_count[RC_LAT_BUCKETS - 1] == 200,
	   "slower than 10 s: the +Inf bucket");
}

static void test_errno(rc_shm *m)
{
	rc_breaker_cfg b = cfg();
	b.failure_threshold = 1;
	b.open_duration = b.open_duration_max = 1000;
	uint64_t T = T0;
	rc_slot *s = fresh(m, "errno", T);
	rc_ticket t, t2;
	rc_transition x;
	int good = 1;

	errno = 4242;
	rc_breaker_admit(s, &b, T, 1, &t, &x);
	good &= errno == 4242;
	rc_breaker_record(s, &b, &t, RC_FAIL, 1, T, &x);
	good &= errno == 4242;
	rc_breaker_admit(s, &b, T + 1000, (uint32_t)dead_pid(), &t, &x);
	errno = 4242;
	rc_breaker_admit(s, &b, T + 1000, (uint32_t)getpid(), &t2, &x); /* kill() on the dead pid */
	good &= errno == 4242 && t2.probe == 0;
	rc_breaker_cancel(s, &t2);
	good &= errno == 4242;
	rc_breaker_set(s, RC_CLOSED, T, &x);
	rc_shm_slot(m, "errno", 0);
	rc_now_ms();
	good &= errno == 4242;
	ok(good, "errno kept by admit, report, cancel, set_state, slot, now");
}

/* ------------------------------------------------------------ concurrency */

#define NTHREADS 8
#define NCALLS 20000

struct worker {
	rc_slot *s;
	rc_breaker_cfg *b;
	uint64_t now;
	int seed;
	uint64_t admitted, rejected, fails, lat;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint32_t pid = (uint32_t)getpid();
	for (int i = 0; i < NCALLS; i++) {
		rc_ticket t;
		if (rc_breaker_admit(w->s, w->b, w->now, pid, &t, NULL) != RC_ADMIT) {
			w->rejected++;
			continue;
		}
		int fail = ((i + w->seed) / 4) % 2; /* runs of 4 failures, 4 successes */
		uint64_t lat = (uint64_t)(i % 1000);
		rc_breaker_record(w->s, w->b, &t, fail ? RC_FAIL : RC_OK, lat, w->now, NULL);
		w->admitted++;
		w->fails += fail;
		w->lat += lat;
	}
	return NULL;
}

/* Run NTHREADS workers on slot NAME of the file at P; write the sums to FD. */
static void run_workers(const char *p, const char *name, rc_breaker_cfg *b,
			uint64_t now, int seed, uint64_t out[4])
{
	char err[256];
	rc_shm m;
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS];
	memset(out, 0, 4 * sizeof out[0]);
	if (rc_shm_open(p, &m, err, sizeof err) < 0)
		return;
	rc_slot *s = rc_shm_slot(&m, name, 1);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ s, b, now, seed + i, 0, 0, 0, 0 };
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		out[0] += w[i].admitted;
		out[1] += w[i].rejected;
		out[2] += w[i].fails;
		out[3] += w[i].lat;
	}
	rc_shm_close(&m);
}

static void test_concurrency(void)
{
	const char *p = tpath("conc");
	char err[256];
	rc_shm m;
	uint64_t T = T0;

	for (int variant = 0; variant < 2; variant++) {
		rc_breaker_cfg b = cfg();
		const char *name = variant ? "churn" : "steady";
		if (variant == 0) {
			b.failure_threshold = 0;      /* stays closed: pure counting */
		} else {
			b.failure_threshold = 3;      /* opens, half-opens, closes all the time */
			b.open_duration = b.open_duration_max = 0;
			b.half_open_probes = 4;
			b.success_threshold = 2;
		}
		int pfd[2];
		if (pipe(pfd) < 0)
			return;
		pid_t c = fork();
		if (c == 0) {
			uint64_t out[4];
			close(pfd[0]);
			run_workers(p, name, &b, T, 1000, out);
			_exit(write(pfd[1], out, sizeof out) == sizeof out ? 0 : 1);
		}
		close(pfd[1]);
		uint64_t mine[4], theirs[4] = { 0, 0, 0, 0 };
		run_workers(p, name, &b, T, 0, mine);
		ssize_t n = read(pfd[0], theirs, sizeof theirs);
		close(pfd[0]);
		int status;
		waitpid(c, &status, 0);
		ok(n == sizeof theirs && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "%s: the child process ran its %d threads", name, NTHREADS);

		if (rc_shm_open(p, &m, err, sizeof err) < 0) {
			ok(0, "reopen: %s", err);
			continue;
		}
		rc_slot *s = rc_shm_slot(&m, name, 0);
		rc_view v = view(s, &b, T);
		uint64_t adm = mine[0] + theirs[0], rej = mine[1] + theirs[1];
		uint64_t fails = mine[2] + theirs[2], lat = mine[3] + theirs[3];
		uint64_t total = 2ULL * NTHREADS * NCALLS;
		is_int(adm + rej, total, "%s: every attempt admitted or rejected", name);
		is_int(v.calls, adm, "%s: calls exact (%llu)", name, (unsigned long long)adm);
		is_int(v.rejected, rej, "%s: rejected exact (%llu)", name, (unsigned long long)rej);
		is_int(v.failures, fails, "%s: failures exact", name);
		is_int(v.successes, adm - fails, "%s: successes exact", name);
		is_int(v.lat_sum_us, lat, "%s: latency sum exact", name);
		uint64_t hist = 0;
		for (int i = 0; i < RC_LAT_BUCKETS; i++)
			hist += v.lat_count[i];
		is_int(hist, adm, "%s: histogram holds every call", name);
		is_int(v.win_calls, adm, "%s: window calls exact", name);
		is_int(v.win_failures, fails, "%s: window failures exact", name);
		is_int(v.probes_held, 0, "%s: no probe left held", name);
		if (variant == 0)
			ok(v.state == RC_CLOSED && adm == total, "steady: all admitted, closed");
		else
			ok(v.transitions > 3 && v.opened > 0,
			   "churn: it moved (%llu transitions, %llu rejected)",
			   (unsigned long long)v.transitions, (unsigned long long)rej);
		rc_shm_close(&m);
	}
}

#define NCLAIMERS 4
#define NNAMES 40

static void test_claims(void)
{
	const char *p = tpath("claims");
	int go[2], res[NCLAIMERS][2];
	pid_t kids[NCLAIMERS];
	char err[256];
	rc_shm m;

	if (pipe(go) < 0)
		return;
	for (int k = 0; k < NCLAIMERS; k++) {
		if (pipe(res[k]) < 0)
			return;
		kids[k] = fork();
		if (kids[k] == 0) {
			unsigned char idx[NNAMES];
			char c, name[16];
			close(go[1]);
			close(res[k][0]);
			if (read(go[0], &c, 1) < 0) /* EOF: everyone starts at once */
				_exit(2);
			if (rc_shm_open(p, &m, err, sizeof err) < 0)
				_exit(3);
			for (int i = 0; i < NNAMES; i++) {
				int j = k % 2 ? NNAMES - 1 - i : (i * 7 + k) % NNAMES;
				snprintf(name, sizeof name, "svc-%d", j);
				rc_slot *s = rc_shm_slot(&m, name, 1);
				if (!s)
					_exit(4);
				idx[j] = (unsigned char)(s - m.slots);
			}
			_exit(write(res[k][1], idx, sizeof idx) == sizeof idx ? 0 : 5);
		}
		close(res[k][1]);
	}
	close(go[0]);
	close(go[1]);

	int allok = 1, agree = 1;
	unsigned char idx[NCLAIMERS][NNAMES];
	for (int k = 0; k < NCLAIMERS; k++) {
		int status;
		if (read(res[k][0], idx[k], NNAMES) != NNAMES)
			allok = 0;
		close(res[k][0]);
		waitpid(kids[k], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			allok = 0;
	}
	ok(allok, "%d processes claimed %d names each, at once", NCLAIMERS, NNAMES);
	for (int k = 1; k < NCLAIMERS && allok; k++)
		if (memcmp(idx[k], idx[0], NNAMES) != 0)
			agree = 0;
	ok(allok && agree, "every process got the same slot for every name");

	ok(rc_shm_open(p, &m, err, sizeof err) == 0, "reopen (%s)", err);
	int ready = 0, dup = 0, seen[NNAMES] = { 0 };
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		if (m.slots[i].name_word != 2)
			continue;
		ready++;
		int j;
		if (sscanf(m.slots[i].name, "svc-%d", &j) == 1 && j >= 0 && j < NNAMES &&
		    seen[j]++)
			dup++;
	}
	ok(ready == NNAMES && dup == 0, "%d ready slots, no duplicate (%d)", ready, dup);
	ok(m.slots[NNAMES - 1].name_word == 2 && m.slots[NNAMES].name_word == 0,
	   "the first %d slots, in order", NNAMES);

	/* a claim abandoned by a dead process is taken over */
	m.slots[NNAMES].name_word = RC_CLAIM(rc_alive_ns(), dead_pid(), rc_now_ms());
	memcpy(m.slots[NNAMES].name, "half", 4);
	ok(rc_shm_slot(&m, "late", 0) == NULL, "lookup skips a dead claim");
	rc_slot *s = rc_shm_slot(&m, "late", 1);
	ok(s == &m.slots[NNAMES] && strcmp(s->name, "late") == 0 && s->name_word == RC_NW_READY,
	   "a dead claim is taken over by the next claimer");
	/* a live claimer that never finishes: bounded wait, then NULL */
	m.slots[NNAMES + 1].name_word = RC_CLAIM(rc_alive_ns(), getppid(), rc_now_ms());
	uint64_t t = rc_now_ms();
	ok(rc_shm_slot(&m, "later", 1) == NULL, "a claim that never completes: NULL");
	t = rc_now_ms() - t;
	ok(t >= 190 && t < 3000, "after about 200 ms (%llu)", (unsigned long long)t);
	ok(rc_shm_slot(&m, "svc-3", 0) == &m.slots[idx[0][3]] &&
	   rc_shm_slot(&m, "late", 1) == &m.slots[NNAMES],
	   "...while names before it are still found");
	/* a claimer of another pid namespace, its pid dead here */
	m.slots[NNAMES + 1].name_word = RC_CLAIM(rc_alive_ns() ^ 0x77, dead_pid(), rc_now_ms());
	ok(rc_shm_slot(&m, "later", 1) == NULL,
	   "a claim of another pid namespace whose pid is dead here: waited for, not taken over");
	m.slots[NNAMES + 1].name_word = RC_CLAIM(rc_alive_ns() ^ 0x77, dead_pid(),
						 rc_now_ms() - RC_CLAIM_MAX_MS - 100);
	s = rc_shm_slot(&m, "later", 1);
	ok(s == &m.slots[NNAMES + 1] && s->name_word == RC_NW_READY,
	   "...taken over once older than %u ms", RC_CLAIM_MAX_MS);
	/* fill the table */
	int filled = 0;
	for (int i = 0; i < RC_MAX_BREAKERS + 5; i++) {
		char name[16];
		snprintf(name, sizeof name, "fill%d", i);
		if (rc_shm_slot(&m, name, 1))
			filled++;
	}
	is_int(filled, RC_MAX_BREAKERS - NNAMES - 2, "the table fills up, then NULL");
	rc_shm_close(&m);
}

/* Forgetting a slot, and a new name in a full table. */
static void test_forget(void)
{
	const char *p = tpath("forget");
	char err[256], name[32];
	rc_shm m;
	uint64_t idle = 99;

	ok(rc_shm_open(p, &m, err, sizeof err) == 0, "open (%s)", err);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "f%d", i);
		rc_shm_slot(&m, name, 1);
	}
	rc_slot *s3 = rc_shm_slot(&m, "f3", 0);
	rc_breaker_cfg b = cfg();
	call(s3, &b, T0, RC_FAIL, 1);
	errno = 4242;
	is_int(rc_shm_forget(&m, "f3", 60, &idle), 1, "forget of a slot just used: refused (in use)");
	ok(errno == 4242 && idle == 0, "...idle 0 s, errno kept");
	is_int(rc_shm_forget(&m, "nosuch", 0, &idle), -1, "forget of a name without a slot: -1");
	is_int(rc_shm_forget(&m, "f3", 0, &idle), 0, "forget with quiet 0 (--force): freed");
	ok(m.slots[3].name_word == RC_NW_FREE && m.slots[3].name[0] == 0 && calls_of(&m.slots[3]) == 0,
	   "...the slot is free, its name and counts cleared");
	ok(rc_shm_slot(&m, "f3", 0) == NULL, "f3 is gone");
	ok(rc_shm_slot(&m, "f7", 0) == &m.slots[7] && rc_shm_slot(&m, "f9", 1) == &m.slots[9],
	   "names after the free slot are still found (a free slot does not end the table)");
	rc_shm r;
	ok(rc_shm_open(p, &r, err, sizeof err) == 0, "a file with a free slot reopens (%s)", err);
	rc_shm_close(&r);
	rc_slot *n = rc_shm_slot(&m, "newcomer", 1);
	ok(n == &m.slots[3] && strcmp(n->name, "newcomer") == 0 && calls_of(n) == 0 &&
	   rc_breaker_state(n) == RC_CLOSED, "a new name takes the free slot, from zero");

	/* quiet: seen unused for that long between two looks */
	is_int(rc_shm_forget(&m, "f5", 1, &idle), 1, "f5 bound moments ago: in use for a 1 s quiet");
	rc_sleep_ms(1100);
	is_int(rc_shm_forget(&m, "f5", 1, &idle), 0, "1.1 s later, nothing changed: freed");
	ok(idle >= 1, "...after %llu s idle", (unsigned long long)idle);
	rc_sleep_ms(1100);
	call(&m.slots[6], &b, T0, RC_OK, 1);
	is_int(rc_shm_forget(&m, "f6", 1, &idle), 1, "a slot with a call since the last look: in use");

	/* a full table: a new name gets the slot seen unused longest, if long enough */
	for (int i = 10; i < RC_MAX_BREAKERS + 2; i++) {
		snprintf(name, sizeof name, "f%d", i);
		rc_shm_slot(&m, name, 1);
	}
	ok(rc_shm_slot(&m, "brand-new", 1) == NULL, "table full: a new name gets no slot");
	unsigned keep = rc_shm_reuse_idle_s;
	rc_shm_reuse_idle_s = 1;
	{
		/* every slot bound just now: in one pass (rc_shm_slots), well
		 * within the second the next check allows, also under ASan */
		static char names[RC_MAX_BREAKERS][RC_NAME_MAX];
		static const char *np[RC_MAX_BREAKERS];
		static rc_slot *got[RC_MAX_BREAKERS];
		for (int i = 0; i < RC_MAX_BREAKERS; i++) {
			memcpy(names[i], m.slots[i].name, RC_NAME_MAX);
			names[i][RC_NAME_MAX - 1] = 0;
			np[i] = names[i];
		}
		rc_shm_slots(&m, np, RC_MAX_BREAKERS, 0, got);
		int all = 1;
		for (int i = 0; i < RC_MAX_BREAKERS; i++)
			all &= got[i] == &m.slots[i];
		ok(all, "rc_shm_slots: all %d names found in their slots in one pass", RC_MAX_BREAKERS);
	}
	/* (a reuse age of 2 s for this look: the pass above may end in the
	 * second after the one it began in, under TSan; a slot seen in either
	 * is not 2 s unused) */
	rc_shm_reuse_idle_s = 2;
	ok(rc_shm_slot(&m, "brand-new", 1) == NULL, "...not even with a 2 s reuse age: all just seen");
	rc_shm_reuse_idle_s = 1;
	rc_sleep_ms(1100);
	for (int i = 0; i < RC_MAX_BREAKERS; i++)
		if (i != 42)
			rc_add(&m.slots[i].lat_count[0], 1); /* all in use but slot 42 */
	char was[RC_NAME_MAX];
	memcpy(was, m.slots[42].name, sizeof was);
	rc_slot *bn = rc_shm_slot(&m, "brand-new", 1);
	ok(bn == &m.slots[42] && strcmp(bn->name, "brand-new") == 0 && calls_of(bn) == 0,
	   "1.1 s later, with a 1 s reuse age, the one slot unused since (%s) is reused for the new name", was);
	ok(rc_shm_slot(&m, was, 0) == NULL, "...its old name is gone");
	/* (2 s again: the look above may have ended in the next second) */
	rc_shm_reuse_idle_s = 2;
	ok(rc_shm_slot(&m, "brand-new2", 1) == NULL, "the others were in use: no more slot");
	rc_shm_reuse_idle_s = keep;
	ok(rc_shm_open(p, &r, err, sizeof err) == 0, "the file reopens (%s)", err);
	rc_shm_close(&r);
	rc_shm_close(&m);
}

/* rc_shm_slots: through the index rc_shm_open's checks made, the slot
 * after the last one bound first; through an index made anew when slots
 * changed since the checks, or on a later call. */
static void test_slots(void)
{
	enum { N = 300, M = N + 8 };
	static char names[N][RC_NAME_MAX];
	const char *np[M];
	rc_slot *got[M];
	char err[256];
	const char *p = tpath("slots");
	rc_shm a, b;
	int all;

	/* names of every length 1-63 (those of 1 to 3 a little longer, bar
	 * the first: a) */
	for (int i = 0; i < N; i++) {
		int len = 1 + i % (RC_NAME_MAX - 1);
		int n = i ? snprintf(names[i], sizeof names[i], "%c%d", 'a' + i % 26, i) : 1;
		names[i][0] = (char)('a' + i % 26);
		for (; n < len; n++)
			names[i][n] = "-_.Xy9"[n % 6];
		names[i][n] = 0;
	}
	unlink(p);
	ok(rc_shm_open(p, &a, err, sizeof err) == 0, "open (%s)", err);
	for (int i = 0; i < N; i++)
		np[i] = names[i];
	rc_shm_slots(&a, np, N, 1, got);
	all = 1;
	for (int i = 0; i < N; i++)
		all &= got[i] == &a.slots[i] && strcmp(a.slots[i].name, names[i]) == 0;
	ok(all && a.index == NULL, "a new file: %d names of lengths 1-%d claimed, in order", N,
	   RC_NAME_MAX - 1);
	rc_shm_close(&a);

	/* reopened: found through the checks' index, in another order */
	ok(rc_shm_open(p, &a, err, sizeof err) == 0 && a.index != NULL,
	   "reopen: the checks' index is kept (%s)", err);
	for (int i = 0; i < N; i++) {
		np[i] = names[(i * 7 + 3) % N]; /* 7 and N are coprime */
		__atomic_store_n(&a.slots[i].seen, 0, __ATOMIC_SEQ_CST);
	}
	np[N] = "bad name";
	np[N + 1] = names[5];
	np[N + 2] = "nosuch";
	np[N + 3] = NULL;
	np[N + 4] = names[6];
	errno = 4242;
	rc_shm_slots(&a, np, N + 5, 0, got);
	int was_errno = errno;
	uint32_t now_s = (uint32_t)(rc_now_ms() / 1000);
	all = 1;
	for (int i = 0; i < N; i++) {
		int j = (i * 7 + 3) % N;
		all &= got[i] == &a.slots[j] && RC_SEEN_SEC(a.slots[j].seen) + 1 >= now_s;
	}
	ok(all, "every name found in its slot, out of order, and each slot noted in use");
	ok(!got[N] && got[N + 1] == &a.slots[5] && !got[N + 2] && !got[N + 3] &&
	   got[N + 4] == &a.slots[6], "a bad name, an unknown one and NULL: NULL; a name twice: "
	   "its slot twice");
	ok(was_errno == 4242 && a.index == NULL, "errno kept; the index is gone, used");
	rc_shm_close(&a);

	/* slots changed after the checks: an index made anew finds them */
	ok(rc_shm_open(p, &a, err, sizeof err) == 0 && rc_shm_open(p, &b, err, sizeof err) == 0,
	   "two mappings (%s)", err);
	ok(rc_shm_forget(&b, names[10], 0, NULL) == 0 && rc_shm_slot(&b, "fresh1", 1) == &b.slots[10] &&
	   rc_shm_slot(&b, "fresh2", 1) == &b.slots[N], "through the other: a name forgotten, "
	   "its slot claimed again, a new name");
	const char *changed[] = { "fresh2", names[20], "fresh1", names[10], names[11] };
	rc_shm_slots(&a, changed, 5, 0, got);
	ok(got[0] == &a.slots[N] && got[1] == &a.slots[20] && got[2] == &a.slots[10] &&
	   !got[3] && got[4] == &a.slots[11],
	   "...found through the first, whose checks saw none of it");
	/* a later call: an index made then */
	for (int i = 0; i < N; i++)
		np[i] = names[N - 1 - i];
	rc_shm_slots(&a, np, N, 0, got);
	all = 1;
	for (int i = 0; i < N; i++)
		all &= N - 1 - i == 10 ? got[i] == NULL : got[i] == &a.slots[N - 1 - i];
	ok(all, "a second call (no index left from the checks) finds them all");
	/* in the slots' order but for one, moved: found all the same */
	int want[40], k = 0;
	for (int i = 0; i < 40; i++)
		if (i != 30)
			want[k++] = i == 12 ? 30 : i;
	want[k++] = 12;
	for (int i = 0; i < k; i++)
		np[i] = names[want[i]];
	rc_shm_slots(&a, np, k, 0, got);
	all = 1;
	for (int i = 0; i < k; i++)
		all &= got[i] == (want[i] == 10 ? NULL : &a.slots[want[i]]);
	ok(all, "names in the slots' order but for one, moved: all found");
	/* what follows a slot's NUL does not count */
	size_t l7 = strlen(names[7]);
	memset(a.slots[7].name + l7 + 1, 'Q', RC_NAME_MAX - l7 - 1);
	np[0] = names[7];
	rc_shm_slots(&a, np, 1, 0, got);
	ok(got[0] == &a.slots[7], "a slot with bytes after its name's NUL: found");
	rc_shm_close(&b);
	ok(rc_shm_open(p, &b, err, sizeof err) == 0, "...the file passes the checks (%s)", err);
	np[0] = names[6];
	np[1] = names[7];
	rc_shm_slots(&b, np, 2, 0, got);
	ok(got[0] == &b.slots[6] && got[1] == &b.slots[7], "...and the checks' index finds it");
	rc_shm_close(&b);
	rc_shm_close(&a);
}

/* Claims racing for free slots in the middle of the table. */
static void test_claims_free(void)
{
	const char *p = tpath("claimsfree");
	int go[2], res[NCLAIMERS][2];
	pid_t kids[NCLAIMERS];
	char err[256], name[16];
	rc_shm m;

	if (rc_shm_open(p, &m, err, sizeof err) < 0 || pipe(go) < 0)
		return;
	for (int i = 0; i < NNAMES; i++) {
		snprintf(name, sizeof name, "old-%d", i);
		rc_shm_slot(&m, name, 1);
	}
	for (int i = 0; i < NNAMES; i += 2) {
		snprintf(name, sizeof name, "old-%d", i);
		rc_shm_forget(&m, name, 0, NULL);
	}
	for (int k = 0; k < NCLAIMERS; k++) {
		if (pipe(res[k]) < 0)
			return;
		kids[k] = fork();
		if (kids[k] == 0) {
			unsigned char idx[NNAMES];
			char c;
			close(go[1]);
			close(res[k][0]);
			if (read(go[0], &c, 1) < 0)
				_exit(2);
			for (int i = 0; i < NNAMES; i++) {
				int j = k % 2 ? NNAMES - 1 - i : (i * 7 + k) % NNAMES;
				snprintf(name, sizeof name, "new-%d", j);
				rc_slot *s = rc_shm_slot(&m, name, 1);
				if (!s)
					_exit(4);
				idx[j] = (unsigned char)(s - m.slots);
			}
			_exit(write(res[k][1], idx, sizeof idx) == sizeof idx ? 0 : 5);
		}
		close(res[k][1]);
	}
	close(go[0]);
	close(go[1]);
	int allok = 1, agree = 1;
	unsigned char idx[NCLAIMERS][NNAMES];
	for (int k = 0; k < NCLAIMERS; k++) {
		int status;
		if (read(res[k][0], idx[k], NNAMES) != NNAMES)
			allok = 0;
		close(res[k][0]);
		waitpid(kids[k], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			allok = 0;
	}
	ok(allok, "%d processes claimed %d new names each at once, %d slots free in the middle",
	   NCLAIMERS, NNAMES, NNAMES / 2);
	for (int k = 1; k < NCLAIMERS && allok; k++)
		if (memcmp(idx[k], idx[0], NNAMES) != 0)
			agree = 0;
	ok(allok && agree, "...every process got the same slot for every name");
	int ready = 0, holes = 0;
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++) {
		if (m.slots[i].name_word == RC_NW_READY)
			ready++;
		if (i < NNAMES && m.slots[i].name_word == RC_NW_READY &&
		    strncmp(m.slots[i].name, "new-", 4) == 0)
			holes++;
	}
	is_int(ready, NNAMES + NNAMES / 2, "...%d ready slots: no duplicate", NNAMES + NNAMES / 2);
	is_int(holes, NNAMES / 2, "...the free slots were taken first");
	rc_shm r;
	ok(rc_shm_open(p, &r, err, sizeof err) == 0, "...and the file passes the checks (%s)", err);
	rc_shm_close(&r);
	rc_shm_close(&m);
}

/* rc_shm_map and rc_shm_bind: the slots looked at one by one as a process
 * binds its breakers (engine/live.c), not all at open. */
static void test_bind(void)
{
	char err[256], before[sizeof(rc_slot)];
	rc_shm m;
	int bad = 0;
	const char *p = mkstate("bind"); /* "one" in slot 0, "two" in slot 1 */

	poke64(p, SLOT_OFF(1) + 72, 7); /* two's state word */
	ok(refused(p, "corrupt slot 1 (state 7)", err, sizeof err),
	   "bind: rc_shm_open refuses a file with slot 1 damaged: %s", err);
	ok(rc_shm_map(p, &m, err, sizeof err) == 0 && m.index == NULL,
	   "bind: rc_shm_map maps it, without looking at its slots (%s)", err);
	if (!m.hdr)
		return;
	memcpy(before, &m.slots[1], sizeof before);
	errno = 4242;
	rc_slot *s = rc_shm_bind(&m, "two", 1, 1, &bad);
	ok(!s && bad == 1 && errno == 4242,
	   "bind: the damaged slot's breaker at its hint: no slot, slot 1 named (%d), errno kept",
	   bad);
	s = rc_shm_bind(&m, "two", 0, 1, &bad);
	ok(!s && bad == 1, "bind: ...and by a look along the slots (a wrong hint) too (%d)", bad);
	ok(memcmp(before, &m.slots[1], sizeof before) == 0,
	   "bind: the damaged slot is not written, not even as seen");
	ok(rc_ld(&m.slots[2].name_word) == RC_NW_EMPTY, "bind: ...nor is a slot claimed for its name");
	s = rc_shm_bind(&m, "one", 0, 1, &bad);
	ok(s == &m.slots[0] && bad == -1, "bind: another breaker binds as usual, at its hint");
	int found = 1;
	for (unsigned h = 1; h < RC_MAX_BREAKERS + 3; h += 997)
		found &= rc_shm_bind(&m, "one", h, 1, &bad) == &m.slots[0] && bad == -1;
	ok(found, "bind: a wrong hint, or one past the slots: found by a look along them");
	s = rc_shm_bind(&m, "three", 2, 0, &bad);
	ok(!s && bad == -1 && rc_ld(&m.slots[2].name_word) == RC_NW_EMPTY,
	   "bind: a new name without CREATE: none, nothing claimed");
	ok(!rc_shm_bind(&m, "bad name", 0, 1, &bad) && bad == -1 &&
	   rc_ld(&m.slots[2].name_word) == RC_NW_EMPTY, "bind: a bad name: none, nothing claimed");
	rc_shm_close(&m);

	/* garbage in an empty slot (refused by rc_shm_open): the claim that
	 * takes it clears it */
	p = mkstate("bind2");
	poke(p, SLOT_OFF(2) + 8, "ghost", 5);
	poke64(p, SLOT_OFF(2) + 72, 7);
	poke64(p, SLOT_OFF(2) + 200, 0x5555555555555555ULL);
	ok(refused(p, "corrupt slot 2", err, sizeof err), "bind: garbage in empty slot 2 refused by rc_shm_open: %s", err);
	ok(rc_shm_map(p, &m, err, sizeof err) == 0, "bind: ...mapped by rc_shm_map (%s)", err);
	if (!m.hdr)
		return;
	s = rc_shm_bind(&m, "three", 2, 1, &bad);
	/* every byte after the name but the state word (72) and seen (520) */
	int clean = s != NULL;
	for (size_t o = 8 + RC_NAME_MAX; s && o < sizeof(rc_slot); o++)
		if ((o < offsetof(rc_slot, word) || o >= offsetof(rc_slot, word) + 8) &&
		    (o < offsetof(rc_slot, seen) || o >= offsetof(rc_slot, seen) + 8))
			clean &= ((const unsigned char *)s)[o] == 0;
	ok(s == &m.slots[2] && strcmp(s->name, "three") == 0 && rc_breaker_valid(s) &&
	   rc_breaker_state(s) == RC_CLOSED && clean,
	   "bind: a new name claims the first empty slot, cleared: closed, no count");
	ok(rc_shm_bind(&m, "three", 0, 1, &bad) == s, "bind: ...and finds it again");

	/* a claim another live process (our parent) has had under way:
	 * a new name waits for it (200 ms), then is told to try again later */
	__atomic_store_n(&m.slots[3].name_word, RC_CLAIM(rc_alive_ns(), getppid(), rc_now_ms()),
			 __ATOMIC_SEQ_CST);
	uint64_t t0 = rc_now_ms();
	s = rc_shm_bind(&m, "four", 3, 1, &bad);
	uint64_t waited = rc_now_ms() - t0;
	ok(!s && bad == RC_SHM_BUSY && waited >= 150 && waited < 5000,
	   "bind: a live claim under way too long: none, busy (%d), after %llu ms", bad,
	   (unsigned long long)waited);
	ok(rc_shm_bind(&m, "three", 0, 1, &bad) == &m.slots[2] && bad == -1,
	   "bind: ...a name before the claim is found all the same");
	__atomic_store_n(&m.slots[3].name_word, RC_NW_EMPTY, __ATOMIC_SEQ_CST);
	s = rc_shm_bind(&m, "four", 3, 1, &bad);
	ok(s == &m.slots[3] && bad == -1, "bind: the claim gone, the new name gets its slot");
	rc_shm_close(&m);
}

int main(void)
{
	char tmpl[] = "/tmp/state_test.XXXXXX";
	char err[256];
	rc_shm m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s", tmpl);
	T0 = (rc_now_ms() / 1000 + 100) * 1000; /* whole seconds: bucket edges */

	test_layout();
	test_names();
	test_file();
	test_refusals();
	test_boot();

	ok(rc_shm_open(tpath("machine"), &m, err, sizeof err) == 0, "machine file (%s)", err);
	test_consecutive(&m);
	test_rate(&m);
	test_slow(&m);
	test_half_open(&m);
	test_backoff(&m);
	test_stale(&m);
	test_probe_reclaim(&m);
	test_pending(&m);
	test_forced(&m);
	test_observe(&m);
	test_latency(&m);
	test_errno(&m);
	rc_shm_close(&m);

	test_bulkhead();
	test_bulkhead_threads();
	test_concurrency();
	test_claims();
	test_forget();
	test_slots();
	test_bind();
	test_claims_free();

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
