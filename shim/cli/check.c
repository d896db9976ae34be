/* check.c - `recloser check [FILE]`.
 *
 * Loads the config with the shim's own parser and lists each breaker: its
 * patterns as the parser understood them and its main settings.  An
 * invalid config gets the parser's FILE:LINE: messages (cli_load). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/config.h"

int cmd_check(const char *cfgpath, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage("check: too many arguments");
	const char *path = argc ? argv[0] : cfgpath;
	rc_config *c = cli_load(path);
	if (!c)
		return 1;
	printf("%s: ok, %u breaker%s\n", path, c->nbreakers, c->nbreakers == 1 ? "" : "s");
	for (unsigned i = 0; i < c->nbreakers; i++) {
		const rc_breaker_cfg *b = &c->breakers[i];
		printf("%s:", b->name);
		for (unsigned k = 0; k < b->npats; k++) {
			char p[RC_HOST_MAX + 16];
			rc_format_pattern(&b->pats[k], p, sizeof p);
			printf("%s %s", k ? "," : "", p);
		}
		char ct[32], od[32];
		rc_format_duration(b->connect_timeout, ct, sizeof ct);
		rc_format_duration(b->open_duration, od, sizeof od);
		printf("  (mode=%s failure_threshold=%u connect_timeout=%s open_duration=%s)\n",
		       cli_mode_name(b->mode), b->failure_threshold, ct, od);
	}
	rc_config_free(c);
	return 0;
}
