/* flip.c - `recloser open|close|half-open|force-open|force-close NAME`.
 *
 * Sets the breaker's state in the state file, so every process sees it at
 * its next call, and logs the transition (reason=cli) to the config's log
 * file like the shim does.  main() maps the verb to the state. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/config.h"
#include "core/log.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/clock.h"

int cmd_flip(const char *cfgpath, int to, int argc, char **argv)
{
	if (argc != 1 || argv[0][0] == '-')
		return cli_usage("expected one breaker name");
	rc_config *c = cli_load(cfgpath);
	if (!c)
		return 1;
	int i = rc_config_find(c, argv[0]);
	if (i < 0) {
		fprintf(stderr, "recloser: no breaker '%s' in %s\n", argv[0], cfgpath);
		rc_config_free(c);
		return 1;
	}
	rc_shm shm;
	if (cli_open_state(c, &shm) < 0) {
		rc_config_free(c);
		return 1;
	}
	rc_slot *s = rc_shm_slot(&shm, argv[0], 1);
	if (!s) {
		fprintf(stderr, "recloser: no room for '%s' in %s\n", argv[0], c->state_file);
		rc_shm_close(&shm);
		rc_config_free(c);
		return 1;
	}
	rc_transition tr;
	tr.to = -1;
	rc_breaker_set(s, to, rc_now_ms(), &tr);
	rc_log_setup(c->log_file, c->log_level, "recloser");
	if (tr.to >= 0)
		rc_log(RC_LOG_INFO, "transition", "breaker=%s from=%s to=%s reason=cli",
		       argv[0], rc_state_name(tr.from), rc_state_name(tr.to));
	printf("%s: %s\n", argv[0], rc_state_name(to));
	rc_shm_close(&shm);
	rc_config_free(c);
	return 0;
}
