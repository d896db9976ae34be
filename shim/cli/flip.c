/* flip.c - `recloser open|close|half-open|force-open|force-close NAME`.
 *
 * Sets the breaker's state in the state file, so every process sees it at
 * its next call, and logs the transition (reason=cli) to the config's log
 * file like the shim does.  main() maps the verb to the state.  The
 * dashboard flips through cli_flip_set too, logged with via=dashboard. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "cli/views.h"
#include "core/config.h"
#include "core/log.h"
#include "core/shm.h"
#include "core/breaker.h"
#include "core/clock.h"

int cli_flip_set(const rc_config *c, rc_shm *shm, const char *name, int to,
		 const char *via, char *err, size_t errlen)
{
	if (rc_config_find(c, name) < 0) {
		snprintf(err, errlen, "no breaker '%s' in %s", name, c->path);
		return -1;
	}
	rc_slot *s = rc_shm_slot(shm, name, 1);
	if (!s) {
		snprintf(err, errlen, "no room for '%s' in %s", name, c->state_file);
		return -1;
	}
	rc_transition tr;
	tr.to = -1;
	rc_breaker_set(s, to, rc_now_ms(), &tr);
	if (tr.to >= 0)
		rc_log(RC_LOG_INFO, "transition", "breaker=%s from=%s to=%s reason=cli%s%s",
		       name, rc_state_name(tr.from), rc_state_name(tr.to),
		       via ? " via=" : "", via ? via : "");
	return 0;
}

int cmd_flip(const char *cfgpath, int to, int argc, char **argv)
{
	if (argc != 1 || argv[0][0] == '-')
		return cli_usage("expected one breaker name");
	rc_config *c = cli_load(cfgpath);
	if (!c)
		return 1;
	if (rc_config_find(c, argv[0]) < 0) {
		fprintf(stderr, "recloser: no breaker '%s' in %s\n", argv[0], cfgpath);
		rc_config_free(c);
		return 1;
	}
	rc_shm shm;
	if (cli_open_state(c, &shm) < 0) {
		rc_config_free(c);
		return 1;
	}
	char err[512];
	rc_log_setup(c->log_file, c->log_level, "recloser");
	int rc = cli_flip_set(c, &shm, argv[0], to, NULL, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "recloser: %s\n", err);
	else
		printf("%s: %s\n", argv[0], rc_state_name(to));
	rc_shm_close(&shm);
	rc_config_free(c);
	return rc < 0 ? 1 : 0;
}
