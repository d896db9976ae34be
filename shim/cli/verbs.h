/* verbs.h - the verbs of the recloser command, for main.c's dispatch.
 *
 * One file each (flip.c holds the five flips).  CFGPATH is the config
 * main() chose (cli_config_path); ARGC and ARGV are the arguments after
 * the verb.  Each returns the program's exit status: 0 ok, 1 failure, 2
 * usage (with the usage text on stderr).  `status --watch` is status.c's
 * business: see watch.h. */
#ifndef RC_CLI_VERBS_H
#define RC_CLI_VERBS_H

/* status.c: `status [NAME] [--json]`, the table (or a JSON array) of
 * every breaker, or of NAME only; with --watch it hands over to
 * cmd_watch.  A breaker that has no slot in the state file (every slot
 * taken) is shown as "unprotected".  1 if the config does not load, NAME
 * is not in it, the state file cannot be mapped, or a breaker shown is
 * unprotected. */
int cmd_status(const char *cfgpath, int argc, char **argv);

/* flip.c: `open`, `close`, `half-open`, `force-open`, `force-close` NAME:
 * put breaker NAME in state TO for every process, log the transition (if
 * it was one) and print "NAME: STATE".  1 if NAME is not in the config. */
int cmd_flip(const char *cfgpath, int to, int argc, char **argv);

/* check.c: `check [FILE]`, validate FILE (default CFGPATH) and list its
 * breakers with their patterns and main settings.  1 if it does not
 * load (the parser's FILE:LINE: messages on stderr). */
int cmd_check(const char *cfgpath, int argc, char **argv);

/* run.c: `run [-c FILE] [--] CMD...`, exec CMD with the shim in
 * LD_PRELOAD and RECLOSER_CONFIG set to the config's absolute path.
 * CFGOPT is main()'s -c FILE or NULL (run's own -c wins).  Returns only
 * on failure: 2 for an invalid config, 1 without a shim, 127/126 when CMD
 * cannot be run. */
int cmd_run(const char *cfgopt, int argc, char **argv);

/* add.c: `add NAME PATTERN... [KEY=VALUE...]`, append a validated breaker
 * section; nothing changes unless the whole would-be file parses. */
int cmd_add(const char *cfgpath, int argc, char **argv);

/* forget.c: `forget NAME [--force]`, free the state-file slot of breaker
 * NAME for another name; refused for a name of the config, and (without
 * --force) for a slot used in the last minute.  1 if refused or NAME has
 * no slot. */
int cmd_forget(const char *cfgpath, int argc, char **argv);

/* metrics.c: `metrics [--textfile DIR]`, the Prometheus text exposition
 * of every breaker, to stdout or atomically to DIR/recloser.prom. */
int cmd_metrics(const char *cfgpath, int argc, char **argv);

/* dashboard.c: `dashboard [--listen ADDR:PORT] [--read-only]`, the
 * breakers in a browser and /metrics, until SIGINT or SIGTERM (0).  1 if
 * the config does not load or the address cannot be listened on; 2 for a
 * bad --listen. */
int cmd_dashboard(const char *cfgpath, int argc, char **argv);

#endif
