/* metrics.c - `recloser metrics [--textfile DIR]`.
 *
 * Every breaker of the config in the Prometheus text exposition format
 * (version 0.0.4), read from the state file like `status`: its state (one
 * series per state, 1 for the current one), calls by outcome, slow calls,
 * timeouts, rejections, transitions, openings, the time in the current
 * state, and the call latency histogram kept in the state file.  With
 * --textfile DIR the text replaces DIR/recloser.prom atomically, for
 * node_exporter's textfile collector. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "cli/views.h"
#include "core/config.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/clock.h"

#define NSTATES 5

struct row {
	const char *name;
	rc_view     v;
};

/* NAME as a label value: \, " and newline escaped. */
static void label(FILE *f, const char *name)
{
	for (; *name; name++) {
		if (*name == '\\' || *name == '"')
			fputc('\\', f);
		if (*name == '\n')
			fputs("\\n", f);
		else
			fputc(*name, f);
	}
}

/* US microseconds as seconds, exactly ("0.00005", "2.5", "10"). */
static void seconds(FILE *f, uint64_t us)
{
	char frac[8];
	int n;

	if (us % 1000000 == 0) {
		fprintf(f, "%llu", (unsigned long long)(us / 1000000));
		return;
	}
	snprintf(frac, sizeof frac, "%06llu", (unsigned long long)(us % 1000000));
	for (n = 6; frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	fprintf(f, "%llu.%s", (unsigned long long)(us / 1000000), frac);
}

static void family(FILE *f, const char *metric, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* One counter or gauge per breaker: FIELD is an offset in rc_view. */
static void simple(FILE *f, const struct row *r, size_t n, const char *metric,
		   const char *type, const char *help, size_t field)
{
	family(f, metric, type, help);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{breaker=\"", metric);
		label(f, r[i].name);
		fprintf(f, "\"} %llu\n",
			(unsigned long long)*(const uint64_t *)((const char *)&r[i].v + field));
	}
}

/* A counter in two series per breaker, KEY="A" of field FA and KEY="B"
 * of field FB. */
static void split2(FILE *f, const struct row *r, size_t n, const char *metric,
		   const char *help, const char *key, const char *a, size_t fa,
		   const char *b, size_t fb)
{
	family(f, metric, "counter", help);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			fprintf(f, "%s{breaker=\"", metric);
			label(f, r[i].name);
			fprintf(f, "\",%s=\"%s\"} %llu\n", key, k ? b : a,
				(unsigned long long)*(const uint64_t *)((const char *)&r[i].v +
									(k ? fb : fa)));
		}
}

/* A gauge FIELD for the breakers whose CAP field is not 0. */
static void capped(FILE *f, const struct row *r, size_t n, const char *metric,
		   const char *help, size_t field, size_t cap)
{
	family(f, metric, "gauge", help);
	for (size_t i = 0; i < n; i++) {
		if (!*(const uint64_t *)((const char *)&r[i].v + cap))
			continue;
		fprintf(f, "%s{breaker=\"", metric);
		label(f, r[i].name);
		fprintf(f, "\"} %llu\n",
			(unsigned long long)*(const uint64_t *)((const char *)&r[i].v + field));
	}
}

static void expose(FILE *f, const struct row *r, size_t n)
{
	static const int states[NSTATES] = {
		RC_CLOSED, RC_OPEN, RC_HALF_OPEN, RC_FORCED_OPEN, RC_FORCED_CLOSED,
	};

	family(f, "recloser_breaker_state", "gauge",
	       "Breaker state: 1 for the state the breaker is in, 0 for the others.");
	for (size_t i = 0; i < n; i++)
		for (int s = 0; s < NSTATES; s++) {
			fputs("recloser_breaker_state{breaker=\"", f);
			label(f, r[i].name);
			fprintf(f, "\",state=\"%s\"} %d\n", rc_state_name(states[s]),
				r[i].v.state == states[s]);
		}

	split2(f, r, n, "recloser_calls_total",
	       "Calls let through and judged, by outcome (slow calls and timeouts are failures).",
	       "outcome", "success", offsetof(rc_view, successes), "failure",
	       offsetof(rc_view, failures));
	simple(f, r, n, "recloser_slow_calls_total", "counter",
	       "Calls judged failed because they were slower than slow_call.",
	       offsetof(rc_view, slow));
	simple(f, r, n, "recloser_timeouts_total", "counter",
	       "Calls failed by connect_timeout or response_timeout.",
	       offsetof(rc_view, timeouts));
	simple(f, r, n, "recloser_rejected_total", "counter",
	       "Calls refused, for any reason (recloser_rejected_reason_total tells which).",
	       offsetof(rc_view, rejected));
	split2(f, r, n, "recloser_rejected_reason_total",
	       "Calls refused, by reason: open (the breaker) or bulkhead (max_concurrent, "
	       "max_connections).", "reason", "open", offsetof(rc_view, rejected_open),
	       "bulkhead", offsetof(rc_view, rejected_bulkhead));
	capped(f, r, n, "recloser_in_flight", "Calls in flight host-wide (tickets held); "
	       "breakers with max_concurrent only.", offsetof(rc_view, in_flight),
	       offsetof(rc_view, max_concurrent));
	capped(f, r, n, "recloser_in_flight_max", "max_concurrent: the cap on calls in flight.",
	       offsetof(rc_view, max_concurrent), offsetof(rc_view, max_concurrent));
	capped(f, r, n, "recloser_open_connections", "Connections open host-wide; breakers "
	       "with max_connections only.", offsetof(rc_view, open_connections),
	       offsetof(rc_view, max_connections));
	capped(f, r, n, "recloser_open_connections_max", "max_connections: the cap on open "
	       "connections.", offsetof(rc_view, max_connections),
	       offsetof(rc_view, max_connections));
	simple(f, r, n, "recloser_transitions_total", "counter",
	       "State changes of the breaker.", offsetof(rc_view, transitions));
	simple(f, r, n, "recloser_opened_total", "counter",
	       "Transitions into open or forced_open.", offsetof(rc_view, opened));

	family(f, "recloser_state_seconds", "gauge",
	       "Time since the breaker entered its current state.");
	for (size_t i = 0; i < n; i++) {
		fputs("recloser_state_seconds{breaker=\"", f);
		label(f, r[i].name);
		fputs("\"} ", f);
		seconds(f, r[i].v.in_state_ms * 1000);
		fputc('\n', f);
	}

	family(f, "recloser_call_duration_seconds", "histogram",
	       "Latency of judged calls, from the start of the call to its verdict.");
	for (size_t i = 0; i < n; i++) {
		uint64_t cum = 0;

		for (int b = 0; b < RC_LAT_BUCKETS; b++) {
			cum += r[i].v.lat_count[b];
			fputs("recloser_call_duration_seconds_bucket{breaker=\"", f);
			label(f, r[i].name);
			fputs("\",le=\"", f);
			if (rc_lat_bounds_us[b])
				seconds(f, rc_lat_bounds_us[b]);
			else
				fputs("+Inf", f);
			fprintf(f, "\"} %llu\n", (unsigned long long)cum);
		}
		fputs("recloser_call_duration_seconds_sum{breaker=\"", f);
		label(f, r[i].name);
		fputs("\"} ", f);
		seconds(f, r[i].v.lat_sum_us);
		fputs("\nrecloser_call_duration_seconds_count{breaker=\"", f);
		label(f, r[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
}

void cli_metrics_expose(FILE *f, const rc_config *c, rc_shm *shm, FILE *why)
{
	struct row *rows = calloc(c->nbreakers ? c->nbreakers : 1, sizeof *rows);
	uint64_t now = rc_now_ms();
	size_t n = 0;

	if (!rows) {
		if (why)
			fprintf(why, "recloser: metrics: %s\n", strerror(ENOMEM));
		return;
	}
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];
		rc_slot *s = rc_shm_slot(shm, b->name, 1);

		if (!s) {
			if (why)
				fprintf(why, "recloser: no room for '%s' in %s\n", b->name,
					c->state_file);
			continue;
		}
		rows[n].name = b->name;
		cli_settle(c, s, b, now);
		rc_breaker_view(s, b, now, &rows[n].v);
		rc_bh_view(shm, s, b, now, &rows[n].v);
		n++;
	}
	expose(f, rows, n);
	family(f, "recloser_log_dropped_total", "counter",
	       "Log lines a process under the shim could not write (state-file wide).");
	fprintf(f, "recloser_log_dropped_total %llu\n",
		(unsigned long long)rc_ld(&shm->hdr->log_dropped));
	free(rows);
}

int cmd_metrics(const char *cfgpath, int argc, char **argv)
{
	const char *dir = NULL;
	size_t len = 0;
	char *text = NULL;
	rc_config *c;
	rc_shm shm;
	FILE *f;
	int rc = 1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--textfile") == 0 && i + 1 < argc && !dir)
			dir = argv[++i];
		else if (strncmp(argv[i], "--textfile=", 11) == 0 && argv[i][11] && !dir)
			dir = argv[i] + 11;
		else
			return cli_usage("metrics: expected [--textfile DIR]");
	}
	if (dir) {
		struct stat st;

		if (stat(dir, &st) < 0) {
			fprintf(stderr, "recloser: metrics: %s: %s\n", dir, strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "recloser: metrics: %s: not a directory\n", dir);
			return 1;
		}
	}
	if (!(c = cli_load(cfgpath)))
		return 1;
	if (cli_open_state(c, &shm) < 0) {
		rc_config_free(c);
		return 1;
	}
	if (!(f = open_memstream(&text, &len))) {
		perror("recloser");
		goto out;
	}
	cli_metrics_expose(f, c, &shm, stderr);
	if (fclose(f) != 0) {
		perror("recloser");
		goto out;
	}
	if (dir) {
		char path[PATH_MAX], why[PATH_MAX + 256];

		snprintf(path, sizeof path, "%s/recloser.prom", dir);
		if (cli_write_atomic(path, text, len, 0644, why, sizeof why) < 0) {
			fprintf(stderr, "recloser: metrics: %s\n", why);
			goto out;
		}
	} else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		perror("recloser: metrics");
		goto out;
	}
	rc = 0;
out:
	free(text);
	rc_shm_close(&shm);
	rc_config_free(c);
	return rc;
}
