/* forget.c - `recloser forget NAME [--force]`: free the slot of a breaker
 * that no config uses any more, so a new breaker can have it.
 *
 * The state file has one slot per breaker name ever used (RC_MAX_BREAKERS
 * of them).  A slot is freed only
 *  - for a name the config does not list (a process using the config
 *    would take a slot for it again at once), and
 *  - once it has been seen unused for FORGET_QUIET_S seconds: no call,
 *    rejection, transition or probe, and no process or CLI binding it,
 *    between two looks that far apart (every forget is a look; see
 *    rc_shm_forget).  --force frees it at once.
 * A process still running with a config that listed NAME, or holding a
 * connection opened under one, keeps the slot bound: its calls would then
 * be counted into whatever breaker takes the slot next.  Forget a name
 * after the processes that used it have ended or reloaded a config
 * without it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/config.h"
#include "core/shm.h"

#define FORGET_QUIET_S 60u

int cmd_forget(const char *cfgpath, int argc, char **argv)
{
	const char *name = NULL;
	int force = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)
			force = 1;
		else if (argv[i][0] == '-')
			return cli_usage("forget: unknown option");
		else if (!name)
			name = argv[i];
		else
			return cli_usage("forget: too many arguments");
	}
	if (!name)
		return cli_usage("forget: expected one breaker name");
	rc_config *c = cli_load(cfgpath);
	if (!c)
		return 1;
	int rc = 1;
	if (rc_config_find(c, name) >= 0) {
		fprintf(stderr, "recloser: '%s' is a breaker of %s: remove it from the config "
			"first (a process using the config takes a slot for it again)\n", name,
			cfgpath);
		goto out;
	}
	rc_shm shm;
	if (cli_open_state(c, &shm) < 0)
		goto out;
	uint64_t idle = 0;
	int r = rc_shm_forget(&shm, name, force ? 0 : FORGET_QUIET_S, &idle);
	rc_shm_close(&shm);
	if (r < 0) {
		fprintf(stderr, "recloser: no slot for '%s' in %s\n", name, c->state_file);
		goto out;
	}
	if (r > 0) {
		fprintf(stderr, "recloser: '%s' was in use less than %us ago (seen unused for "
			"%llus): a process may still count into its slot; run forget again once "
			"it has been unused for %us, or use --force\n", name, FORGET_QUIET_S,
			(unsigned long long)idle, FORGET_QUIET_S);
		goto out;
	}
	printf("%s: forgotten (its slot in %s is free)\n", name, c->state_file);
	rc = 0;
out:
	rc_config_free(c);
	return rc;
}
