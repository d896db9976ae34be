/* run.c - `recloser run [-c FILE] [--] CMD...`.
 *
 * Checks the config, finds librecloser.so ($RECLOSER_SHIM, else beside
 * this program, else ../lib/recloser/), appends it to LD_PRELOAD (once),
 * sets RECLOSER_CONFIG to the config's absolute path and execs CMD. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/config.h"

/* Find the shim: beside this program (build/), else ../lib/recloser/. */
static int find_shim(char *out, size_t len)
{
	const char *env = getenv("RECLOSER_SHIM");
	if (env && *env && access(env, R_OK) == 0) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	const char *cands[] = { "/librecloser.so", "/../lib/recloser/librecloser.so" };
	for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof p, "%s%s", self, cands[i]);
		char real[PATH_MAX];
		if (realpath(p, real) && access(real, R_OK) == 0) {
			snprintf(out, len, "%s", real);
			return 0;
		}
	}
	return -1;
}

int cmd_run(const char *cfgopt, int argc, char **argv)
{
	int i = 0;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfgopt = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage("run: unknown option");
		else
			break; /* the command, without -- */
	}
	if (i >= argc)
		return cli_usage("run: no command given");
	const char *path = cli_config_path(cfgopt);
	rc_config *c = cli_load(path);
	if (!c)
		return EXIT_USAGE; /* SPEC: an invalid config makes run exit 2 */
	rc_config_free(c);
	char shim[PATH_MAX];
	if (find_shim(shim, sizeof shim) < 0) {
		fprintf(stderr, "recloser: cannot find librecloser.so beside %s or in ../lib/recloser/"
			" (set RECLOSER_SHIM)\n", "the recloser program");
		return 1;
	}
	char abscfg[PATH_MAX];
	if (!realpath(path, abscfg))
		snprintf(abscfg, sizeof abscfg, "%s", path);
	const char *old = getenv("LD_PRELOAD");
	if (old && *old && !strstr(old, shim)) {
		size_t n = strlen(old) + strlen(shim) + 2;
		char *v = malloc(n);
		if (!v)
			return 1;
		snprintf(v, n, "%s %s", old, shim);
		setenv("LD_PRELOAD", v, 1);
		free(v);
	} else if (!old || !*old) {
		setenv("LD_PRELOAD", shim, 1);
	}
	setenv("RECLOSER_CONFIG", abscfg, 1);
	execvp(argv[i], argv + i);
	fprintf(stderr, "recloser: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
