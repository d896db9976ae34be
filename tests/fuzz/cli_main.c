/* cli_main.c - shim/cli/main.c, unchanged, with its main() renamed
 * recloser_main for the CLI harness (cli.c), which calls it per input. */
int recloser_main(int argc, char **argv);
#define main recloser_main
#include "cli/main.c"
