/* cli_dashboard.c - the dashboard verb for the CLI harness (cli.c): the
 * real one (shim/cli/dashboard.c) runs a server until a signal, so the
 * harness gets a usage error instead. */
#include "cli/cli.h"
#include "cli/verbs.h"

int cmd_dashboard(const char *cfgpath, int argc, char **argv)
{
	return cli_usage("dashboard: not in the fuzz harness");
}
