/* main.c - the recloser command: global options (-c FILE, -h) and the
 * verb, handed to its cmd_* function (verbs.h; one file per verb, the
 * shared helpers in cli.c).  Uses the same config and state-file code as
 * the shim.  Exit status: 0 ok, 1 failure, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/breaker.h"

int main(int argc, char **argv)
{
	const char *cfgopt = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfgopt = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cli_help(stdout);
			return 0;
		} else
			return cli_usage("unknown option");
	}
	if (i >= argc)
		return cli_usage(NULL);
	const char *cmd = argv[i++];
	int n = argc - i;
	char **rest = argv + i;
	const char *path = cli_config_path(cfgopt);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(path, n, rest);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(path, n, rest);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(cfgopt, n, rest);
	if (strcmp(cmd, "add") == 0)
		return cmd_add(path, n, rest);
	if (strcmp(cmd, "metrics") == 0)
		return cmd_metrics(path, n, rest);
	if (strcmp(cmd, "dashboard") == 0)
		return cmd_dashboard(path, n, rest);
	if (strcmp(cmd, "forget") == 0)
		return cmd_forget(path, n, rest);
	static const struct { const char *name; int to; } flips[] = {
		{ "open", RC_OPEN }, { "close", RC_CLOSED }, { "half-open", RC_HALF_OPEN },
		{ "force-open", RC_FORCED_OPEN }, { "force-close", RC_FORCED_CLOSED },
	};
	for (size_t k = 0; k < sizeof flips / sizeof *flips; k++)
		if (strcmp(cmd, flips[k].name) == 0)
			return cmd_flip(path, flips[k].to, n, rest);
	if (strcmp(cmd, "help") == 0) {
		cli_help(stdout);
		return 0;
	}
	fprintf(stderr, "recloser: unknown command '%s'\n", cmd);
	return cli_usage(NULL);
}
