/* dashdata.c - the dashboard's data: the config and the state file
 * sampled once a second, a ring of fifteen minutes per breaker, and the
 * documents the pages ask for, built once per sample (see dashdata.h).
 *
 * Files read: the config (to load it, and its text for where a setting
 * comes from), the state file (mapped) and the log file (its last 256 KiB,
 * for a breaker's recent transition and reject lines: dashview.c).
 * Nothing else. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/dashdata.h"
#include "cli/dashview.h"
#include "cli/views.h"
#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/shm.h"

#define RATE_S     10          /* calls/s, failure % and rejections/s: the last 10 s */
#define SPARK_N    90          /* sparkline points at most (15 min: 10 s each) */
#define RECENT_MS  60000       /* a state entered this recently stands out */

/* One second of one breaker: counts judged in it, its latency, its state. */
struct hpt {
	uint32_t t;                 /* wall clock, seconds */
	uint32_t calls, fails, rej, rejb;  /* rejb: of rej, by a bulkhead */
	uint32_t p50, p99;          /* us in that second; 0 none, UINT32_MAX +Inf */
	uint8_t  state;
};

struct dbk {
	char        name[RC_NAME_MAX];
	struct hpt *ring;           /* DASH_HISTORY of them */
	unsigned    head, n;        /* next to write; how many kept */
	rc_view     last;           /* as of the ring's newest point */
	rc_view     cur;            /* as of the last look (shown) */
	int         have, slot;     /* LAST is valid; a slot was found */
	char       *detail;         /* dashdata_breaker's document of sample SEQ */
	size_t      detail_len;
	unsigned long detail_seq;
};

struct dashdata {
	pthread_mutex_t mu;
	char         *cfgpath;
	rc_config    *c;
	char         *text;         /* the config's text, as loaded */
	struct stat   cst;          /* of the config file when loaded */
	char          cfg_err[4096];/* why the file as it is now does not load */
	rc_shm        shm;
	struct dbk   *bk;           /* one per breaker of C, in its order */
	unsigned      nbk;
	unsigned long seq;          /* samples taken */
	char         *doc[3];
	size_t        doclen[3];
	char         *log;          /* the log's tail read at sample LOG_SEQ */
	unsigned long log_seq;
	int           read_only;
};

/* ---- config and breakers ---- */

static struct dbk *find_bk(dashdata *d, const char *name)
{
	for (unsigned i = 0; i < d->nbk; i++)
		if (strcmp(d->bk[i].name, name) == 0)
			return &d->bk[i];
	return NULL;
}

/* The breakers of the config now, keeping the history of those kept. */
static int bind_breakers(dashdata *d)
{
	struct dbk *nb = calloc(d->c->nbreakers ? d->c->nbreakers : 1, sizeof *nb);

	if (!nb)
		return -1;
	for (unsigned i = 0; i < d->c->nbreakers; i++) {
		struct dbk *old = find_bk(d, d->c->breakers[i].name);

		if (old) {
			nb[i] = *old;
			old->ring = NULL;
			old->detail = NULL;
		} else {
			snprintf(nb[i].name, sizeof nb[i].name, "%s", d->c->breakers[i].name);
		}
		if (!nb[i].ring && !(nb[i].ring = calloc(DASH_HISTORY, sizeof *nb[i].ring))) {
			for (unsigned k = 0; k <= i; k++) {
				free(nb[k].ring);
				free(nb[k].detail);
			}
			free(nb);
			return -1;
		}
	}
	for (unsigned i = 0; i < d->nbk; i++) {
		free(d->bk[i].ring);
		free(d->bk[i].detail);
	}
	free(d->bk);
	d->bk = nb;
	d->nbk = d->c->nbreakers;
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The config file changed: load it again.  A config that does not load
 * leaves the one in use, with its problems in cfg_err. */
static void reload(dashdata *d)
{
	struct stat st;
	char *text = NULL;
	size_t len;

	if (stat(d->cfgpath, &st) < 0 || same_file(&st, &d->cst))
		return;
	d->cst = st;
	rc_config *c = rc_config_load(d->cfgpath, d->cfg_err, sizeof d->cfg_err);
	if (!c)
		return;
	if (rc_read_file(d->cfgpath, &text, &len) < 0)
		text = NULL;
	if (strcmp(c->state_file, d->c->state_file) != 0) {
		rc_shm shm;
		char err[512];

		if (rc_shm_open(c->state_file, &shm, err, sizeof err) < 0) {
			snprintf(d->cfg_err, sizeof d->cfg_err, "%s: the new state file: %s",
				 d->cfgpath, err);
			rc_config_free(c);
			free(text);
			return;
		}
		rc_shm_close(&d->shm);
		d->shm = shm;
	}
	rc_config *old = d->c;
	d->c = c;
	if (bind_breakers(d) < 0) {
		d->c = old;
		rc_config_free(c);
		free(text);
		snprintf(d->cfg_err, sizeof d->cfg_err, "%s: out of memory", d->cfgpath);
		return;
	}
	rc_config_free(old);
	free(d->text);
	d->text = text;
	d->cfg_err[0] = '\0';
	rc_log_setup(c->log_file, c->log_level, "recloser");
}

dashdata *dashdata_open(const char *cfgpath, int read_only)
{
	dashdata *d = calloc(1, sizeof *d);
	size_t len;

	if (!d || !(d->cfgpath = strdup(cfgpath))) {
		perror("recloser");
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	d->read_only = read_only;
	if (!(d->c = cli_load(cfgpath)) || cli_open_state(d->c, &d->shm) < 0) {
		rc_config_free(d->c);
		free(d->cfgpath);
		free(d);
		return NULL;
	}
	if (stat(cfgpath, &d->cst) < 0 || rc_read_file(cfgpath, &d->text, &len) < 0)
		d->text = NULL;
	if (bind_breakers(d) < 0) {
		perror("recloser");
		dashdata_close(d);
		return NULL;
	}
	rc_log_setup(d->c->log_file, d->c->log_level, "recloser");
	dashdata_sample(d);
	return d;
}

void dashdata_close(dashdata *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->nbk; i++) {
		free(d->bk[i].ring);
		free(d->bk[i].detail);
	}
	for (int i = 0; i < 3; i++)
		free(d->doc[i]);
	free(d->bk);
	free(d->log);
	free(d->text);
	rc_shm_close(&d->shm);
	rc_config_free(d->c);
	free(d->cfgpath);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

const char *dashdata_state_file(dashdata *d)
{
	return d->c->state_file;
}

/* ---- sampling ---- */

static uint32_t us32(uint64_t us)
{
	return us == UINT64_MAX ? UINT32_MAX : us >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)us;
}

/* B's counts now, and the second since the last sample into its ring. */
static void sample_one(dashdata *d, struct dbk *k, const rc_breaker_cfg *b,
		       uint64_t now, uint32_t wall, int push)
{
	rc_slot *s = rc_shm_slot(&d->shm, b->name, 1);
	rc_view v;

	k->slot = s != NULL;
	if (!s)
		return;
	cli_settle(d->c, s, b, now);
	rc_breaker_view(s, b, now, &v);
	rc_bh_view(&d->shm, s, b, now, &v);
	k->cur = v;
	if (!push && k->have)
		return; /* a look after a change (a flip): shown, not a point */
	if (k->have) {
		const rc_view *o = &k->last;
		int reset = v.calls < o->calls || v.rejected < o->rejected;  /* close clears */
		uint64_t lat[RC_LAT_BUCKETS], p50, p99;
		struct hpt *p = &k->ring[k->head];

		for (int i = 0; i < RC_LAT_BUCKETS; i++)
			lat[i] = reset || v.lat_count[i] < o->lat_count[i] ? v.lat_count[i]
				 : v.lat_count[i] - o->lat_count[i];
		rc_breaker_quantiles(lat, &p50, &p99);
		p->t = wall;
		p->calls = (uint32_t)(reset ? v.calls : v.calls - o->calls);
		p->fails = (uint32_t)(reset || v.failures < o->failures ? v.failures
				      : v.failures - o->failures);
		p->rej = (uint32_t)(reset ? v.rejected : v.rejected - o->rejected);
		p->rejb = (uint32_t)(reset || v.rejected_bulkhead < o->rejected_bulkhead
				     ? v.rejected_bulkhead : v.rejected_bulkhead - o->rejected_bulkhead);
		if (p->rejb > p->rej)
			p->rejb = p->rej;
		p->p50 = us32(p50);
		p->p99 = us32(p99);
		p->state = (uint8_t)v.state;
		k->head = (k->head + 1) % DASH_HISTORY;
		if (k->n < DASH_HISTORY)
			k->n++;
	}
	k->last = v;
	k->have = 1;
}

/* The point AGE seconds before the newest (0: the newest), or NULL. */
static const struct hpt *point(const struct dbk *k, unsigned age)
{
	if (age >= k->n)
		return NULL;
	return &k->ring[(k->head + DASH_HISTORY - 1 - age) % DASH_HISTORY];
}

static void num(FILE *f, double x)
{
	fprintf(f, "%.3g", x);
}

static void lat_us(FILE *f, uint64_t us)
{
	if (us == UINT64_MAX || us == UINT32_MAX)
		fputs("-1", f);     /* in the +Inf bucket */
	else
		fprintf(f, "%llu", (unsigned long long)us);
}

/* Breaker K's counts, rates and state as the members of a JSON object. */
static void entry(FILE *f, const struct dbk *k, const rc_breaker_cfg *b)
{
	uint64_t calls = 0, fails = 0, rej = 0, rejb = 0;
	unsigned n = k->n < RATE_S ? k->n : RATE_S;
	const rc_view *v = &k->cur;

	fputs("\"name\": ", f);
	dashview_jstr(f, k->name);
	fprintf(f, ", \"mode\": \"%s\"", cli_mode_name(b->mode));
	if (!k->slot || !k->have) {
		fputs(", \"state\": \"unprotected\"", f);
		return;
	}
	for (unsigned a = 0; a < n; a++) {
		const struct hpt *p = point(k, a);
		calls += p->calls;
		fails += p->fails;
		rej += p->rej;
		rejb += p->rejb;
	}
	double secs = n ? n : 1;
	fprintf(f, ", \"state\": \"%s\", \"calls\": %llu, \"successes\": %llu, "
		"\"failures\": %llu, \"rejected\": %llu, \"in_state_ms\": %llu, "
		"\"recent\": %s, \"calls_s\": ", rc_state_name(v->state),
		(unsigned long long)v->calls, (unsigned long long)v->successes,
		(unsigned long long)v->failures, (unsigned long long)v->rejected,
		(unsigned long long)v->in_state_ms,
		v->transitions && v->in_state_ms < RECENT_MS ? "true" : "false");
	num(f, (double)calls / secs);
	fputs(", \"fail_pct\": ", f);
	if (calls)
		num(f, cli_pct(fails, calls));
	else
		fputs("null", f);
	/* by reason, as status and metrics count them: the breaker (open,
	 * forced_open, half_open's probes all taken) or a bulkhead */
	fputs(", \"rej_s\": ", f);
	num(f, (double)rej / secs);
	fputs(", \"rej_by\": {\"open\": ", f);
	num(f, (double)(rej - rejb) / secs);
	fputs(", \"bulkhead\": ", f);
	num(f, (double)rejb / secs);
	fputs("}, \"in_flight\": ", f);
	fprintf(f, "%llu, \"max_concurrent\": %llu", (unsigned long long)v->in_flight,
		(unsigned long long)v->max_concurrent);
	fputs(", \"p50_us\": ", f);
	lat_us(f, v->p50_us);
	fputs(", \"p99_us\": ", f);
	lat_us(f, v->p99_us);
}

/* The sparkline: calls/s, failures/s and rejections/s over the history kept (15
 * minutes once the dashboard has run that long), oldest first, in at most
 * SPARK_N buckets of whole seconds. */
static void spark(FILE *f, const struct dbk *k)
{
	unsigned per = k->n > SPARK_N ? (k->n + SPARK_N - 1) / SPARK_N : 1;
	unsigned nb = (k->n + per - 1) / per;

	static const char *const key[3] = { "spark", "spark_fail", "spark_rej" };

	for (int what = 0; what < 3; what++) {
		fprintf(f, ", \"%s\": [", key[what]);
		for (unsigned j = 0; j < nb; j++) {
			unsigned first_age = (nb - 1 - j) * per;
			uint64_t sum = 0;
			unsigned got = 0;

			for (unsigned a = first_age; a < first_age + per; a++) {
				const struct hpt *p = point(k, a);
				if (p) {
					sum += what == 0 ? p->calls : what == 1 ? p->fails : p->rej;
					got++;
				}
			}
			fputs(j ? ", " : "", f);
			num(f, got ? (double)sum / got : 0);
		}
		fputc(']', f);
	}
}

static void overview(dashdata *d, FILE *f)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(f, "{\"now_ms\": %llu, \"read_only\": %s, \"config\": ",
		(unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000,
		d->read_only ? "true" : "false");
	dashview_jstr(f, d->cfgpath);
	fputs(", \"config_error\": ", f);
	dashview_jstr(f, d->cfg_err);
	fputs(", \"state_file\": ", f);
	dashview_jstr(f, d->c->state_file);
	fputs(", \"breakers\": [", f);
	for (unsigned i = 0; i < d->nbk; i++) {
		fputs(i ? ",\n {" : "\n {", f);
		entry(f, &d->bk[i], &d->c->breakers[i]);
		spark(f, &d->bk[i]);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

/* Build document WHICH into d->doc. */
static void build(dashdata *d, int which)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	if (which == DASH_DOC_OVERVIEW)
		overview(d, f);
	else if (which == DASH_DOC_STATUS)
		cli_status_print(f, NULL, d->c, &d->shm, NULL, 1);
	else
		cli_metrics_expose(f, d->c, &d->shm, NULL);
	if (fclose(f) != 0) {
		free(text);
		return;
	}
	free(d->doc[which]);
	d->doc[which] = text;
	d->doclen[which] = len;
}

/* Look at every breaker; PUSH: the second's sample (a point in each
 * ring), else a look after a change from the page (shown at once, no
 * point: a partial second would skew the rates and crowd the history). */
static void sample_locked(dashdata *d, int push)
{
	uint64_t now = rc_now_ms();
	uint32_t wall = (uint32_t)time(NULL);

	reload(d);
	for (unsigned i = 0; i < d->nbk; i++)
		sample_one(d, &d->bk[i], &d->c->breakers[i], now, wall, push);
	d->seq++;
	for (int w = 0; w < 3; w++)
		build(d, w);
}

void dashdata_sample(dashdata *d)
{
	pthread_mutex_lock(&d->mu);
	sample_locked(d, 1);
	pthread_mutex_unlock(&d->mu);
}

static char *copy(const char *s, size_t len, size_t *outlen)
{
	char *p = s ? malloc(len + 1) : NULL;

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	*outlen = p ? len : 0;
	return p;
}

char *dashdata_doc(dashdata *d, enum dash_doc which, size_t *len)
{
	pthread_mutex_lock(&d->mu);
	char *p = copy(d->doc[which], d->doclen[which], len);
	pthread_mutex_unlock(&d->mu);
	return p;
}

/* ---- a breaker's view ---- */

/* The log's tail, read once per sample for every breaker's view. */
static const char *log_tail(dashdata *d)
{
	if (d->log && d->log_seq == d->seq)
		return d->log;
	free(d->log);
	d->log = dashview_log_tail(d->c->log_file);
	d->log_seq = d->seq;
	return d->log;
}

static void detail(dashdata *d, FILE *f, const struct dbk *k, const rc_breaker_cfg *b)
{
	fputc('{', f);
	entry(f, k, b);
	fputs(", \"config\": ", f);
	dashview_jstr(f, d->cfgpath);
	fputs(", \"read_only\": ", f);
	fputs(d->read_only ? "true" : "false", f);
	fputs(", \"points\": [", f);
	for (unsigned a = k->n; a-- > 0; ) {
		const struct hpt *p = point(k, a);
		fprintf(f, "%s[%u, %u, %u, %u, ", a + 1 == k->n ? "" : ",", p->t, p->calls,
			p->fails, p->rej);
		lat_us(f, p->p50);
		fputs(", ", f);
		lat_us(f, p->p99);
		fprintf(f, ", \"%s\"]", rc_state_name(p->state));
	}
	fputc(']', f);
	dashview_settings(f, d->text, k->name);
	dashview_log_lines(f, log_tail(d), k->name);
	fputs("}\n", f);
}

char *dashdata_breaker(dashdata *d, const char *name, size_t *len)
{
	char *out = NULL;

	*len = 0;
	pthread_mutex_lock(&d->mu);
	int i = rc_config_find(d->c, name);
	struct dbk *k = i >= 0 ? &d->bk[i] : NULL;
	if (k && (!k->detail || k->detail_seq != d->seq)) {
		char *text = NULL;
		size_t tl = 0;
		FILE *f = open_memstream(&text, &tl);

		if (f) {
			detail(d, f, k, &d->c->breakers[i]);
			if (fclose(f) == 0) {
				free(k->detail);
				k->detail = text;
				k->detail_len = tl;
				k->detail_seq = d->seq;
			} else {
				free(text);
			}
		}
	}
	if (k && k->detail)
		out = copy(k->detail, k->detail_len, len);
	pthread_mutex_unlock(&d->mu);
	return out;
}

/* ---- changes ---- */

int dashdata_flip(dashdata *d, const char *name, int to, char *err, size_t errlen)
{
	pthread_mutex_lock(&d->mu);
	int rc = cli_flip_set(d->c, &d->shm, name, to, "dashboard", err, errlen);
	if (rc == 0)
		sample_locked(d, 0);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

int dashdata_add(dashdata *d, int argc, char **argv, char **msg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f) {
		*msg = strdup("recloser: add: out of memory");
		return 1;
	}
	pthread_mutex_lock(&d->mu);
	rc = cli_add_apply(d->cfgpath, argc, argv, f, f, 0);
	if (rc == 0)
		sample_locked(d, 0);   /* the new breaker shows at once */
	pthread_mutex_unlock(&d->mu);
	if (fclose(f) != 0) {
		free(text);
		text = strdup("recloser: add: out of memory");
	}
	*msg = text;
	return rc;
}
