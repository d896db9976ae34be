/* status.c - `recloser status [NAME] [--json]` and the options of
 * `status --watch`, which watch.c carries out.
 *
 * Each breaker of the config (or NAME only), read from the state file:
 * the status table (cli_table_header/cli_table_row), or with --json one
 * array of objects, one per breaker, with every count of rc_view.
 *
 * A breaker of the config that gets no slot in the state file (all
 * RC_MAX_BREAKERS taken by other names) is not protected: the shim passes
 * its calls through.  It is shown with the state "unprotected" (and no
 * counts), said why on stderr, and makes status exit 1. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "cli/views.h"
#include "cli/watch.h"
#include "core/config.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/bulkhead.h"
#include "core/clock.h"

/* Breaker B has no slot in the state file: its row, and why on stderr. */
static void no_slot(FILE *f, FILE *why, const rc_shm *shm, const rc_config *c,
		    const rc_breaker_cfg *b, int json, int first)
{
	unsigned used = 0;
	for (unsigned i = 0; i < RC_MAX_BREAKERS; i++)
		if (rc_ld(&shm->slots[i].name_word) == RC_NW_READY)
			used++;
	if (!why)
		;
	else if (used >= RC_MAX_BREAKERS)
		fprintf(why, "recloser: no slot for '%s' in %s: all %u are taken by other "
			"names; its calls pass through unprotected (`recloser forget NAME` frees "
			"the slot of a breaker no config uses)\n", b->name, c->state_file,
			(unsigned)RC_MAX_BREAKERS);
	else
		fprintf(why, "recloser: no slot for '%s' in %s: another process's claim "
			"did not complete; its calls may pass through unprotected\n", b->name,
			c->state_file);
	if (json)
		fprintf(f, "%s\n  {\"name\": \"%s\", \"state\": \"unprotected\", \"mode\": \"%s\"}",
		       first ? "" : ",", b->name, cli_mode_name(b->mode));
	else
		fprintf(f, "%-20s %-13s %10s %10s %6s %10s %8s %8s %8s %9s %9s\n", b->name,
		       "unprotected", "-", "-", "-", "-", "-", "-", "-", "-", "-");
}

int cli_status_print(FILE *f, FILE *why, const rc_config *c, rc_shm *shm,
		     const char *name, int json)
{
	uint64_t now = rc_now_ms();
	if (json)
		fprintf(f, "[");
	else
		cli_table_header(f);
	int first = 1, unprotected = 0;
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];
		if (name && strcmp(name, b->name) != 0)
			continue;
		rc_slot *s = rc_shm_slot(shm, b->name, 1);
		if (!s) {
			unprotected++;
			no_slot(f, why, shm, c, b, json, first);
			first = 0;
			continue;
		}
		rc_view v;
		cli_settle(c, s, b, now);
		rc_breaker_view(s, b, now, &v);
		rc_bh_view(shm, s, b, now, &v);
		if (json) {
			fprintf(f, "%s\n  {\"name\": \"%s\", \"state\": \"%s\", \"mode\": \"%s\", "
			       "\"calls\": %llu, \"successes\": %llu, \"failures\": %llu, "
			       "\"failure_percent\": %.1f, \"slow\": %llu, \"timeouts\": %llu, "
			       "\"rejected\": %llu, \"transitions\": %llu, \"opened\": %llu, "
			       "\"window_calls\": %llu, \"window_failures\": %llu, "
			       "\"probes_held\": %u, \"p50_us\": %llu, \"p99_us\": %llu, "
			       "\"in_state_ms\": %llu, \"log_dropped\": %llu, "
			       "\"rejected_open\": %llu, \"rejected_bulkhead\": %llu, "
			       "\"in_flight\": %llu, \"max_concurrent\": %llu, "
			       "\"open_connections\": %llu, \"max_connections\": %llu}",
			       first ? "" : ",", b->name, rc_state_name(v.state),
			       cli_mode_name(b->mode),
			       (unsigned long long)v.calls, (unsigned long long)v.successes,
			       (unsigned long long)v.failures, cli_pct(v.failures, v.calls),
			       (unsigned long long)v.slow, (unsigned long long)v.timeouts,
			       (unsigned long long)v.rejected, (unsigned long long)v.transitions,
			       (unsigned long long)v.opened, (unsigned long long)v.win_calls,
			       (unsigned long long)v.win_failures, v.probes_held,
			       (unsigned long long)v.p50_us, (unsigned long long)v.p99_us,
			       (unsigned long long)v.in_state_ms,
			       (unsigned long long)rc_ld(&shm->hdr->log_dropped),
			       (unsigned long long)v.rejected_open,
			       (unsigned long long)v.rejected_bulkhead,
			       (unsigned long long)v.in_flight, (unsigned long long)v.max_concurrent,
			       (unsigned long long)v.open_connections,
			       (unsigned long long)v.max_connections);
		} else {
			cli_table_row(f, b->name, &v, 0);
		}
		first = 0;
	}
	if (json)
		fprintf(f, "%s]\n", first ? "" : "\n");
	else if (rc_ld(&shm->hdr->log_dropped))
		fprintf(f, "log_dropped: %llu log lines could not be written (see the README)\n",
		       (unsigned long long)rc_ld(&shm->hdr->log_dropped));
	return unprotected;
}

int cmd_status(const char *cfgpath, int argc, char **argv)
{
	const char *name = NULL;
	int json = 0, watch = 0;
	uint64_t interval_ms = 1000;
	long count = -1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--watch") == 0 || strcmp(argv[i], "-w") == 0) {
			watch = 1;
		} else if (strcmp(argv[i], "--interval") == 0 || strcmp(argv[i], "-n") == 0) {
			char why[128];
			if (i + 1 >= argc)
				return cli_usage("status: --interval needs a duration");
			if (rc_parse_duration(argv[++i], &interval_ms, why, sizeof why) < 0 ||
			    interval_ms == 0) {
				fprintf(stderr, "recloser: status: bad --interval '%s': %s\n",
					argv[i], interval_ms ? why : "must be more than 0");
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--count") == 0) {
			char *end;
			if (i + 1 >= argc)
				return cli_usage("status: --count needs a number");
			errno = 0;
			count = strtol(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || count < 1)
				return cli_usage("status: --count needs a number >= 1");
		} else if (argv[i][0] == '-') {
			return cli_usage("status: unknown option");
		} else if (!name) {
			name = argv[i];
		} else {
			return cli_usage("status: too many arguments");
		}
	}
	if (watch && json)
		return cli_usage("status: --watch and --json do not go together");
	if (!watch && count > 0)
		return cli_usage("status: --count goes with --watch");
	if (watch)
		return cmd_watch(cfgpath, name, interval_ms, count);
	rc_config *c = cli_load(cfgpath);
	if (!c)
		return 1;
	if (name && rc_config_find(c, name) < 0) {
		fprintf(stderr, "recloser: no breaker '%s' in %s\n", name, cfgpath);
		rc_config_free(c);
		return 1;
	}
	rc_shm shm;
	if (cli_open_state(c, &shm) < 0) {
		rc_config_free(c);
		return 1;
	}
	/* root on another user's config: say whose state file this is */
	if (cli_state_note())
		fprintf(stderr, "%s\n", cli_state_note());
	int unprotected = cli_status_print(stdout, stderr, c, &shm, name, json);
	rc_shm_close(&shm);
	rc_config_free(c);
	return unprotected ? 1 : 0;
}
