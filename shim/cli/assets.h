/* assets.h - the dashboard's page, script, style and Chart.js, embedded
 * into the recloser binary at build time (the Makefile writes
 * build/gen/assets.c from shim/cli/dashboard.* and Debian's
 * libjs-chart.js with scripts/embed.sh). */
#ifndef RC_CLI_ASSETS_H
#define RC_CLI_ASSETS_H

#include <stddef.h>

struct rc_asset {
	const char          *name;   /* served as /NAME */
	const char          *type;   /* its Content-Type */
	const unsigned char *data;
	size_t               len;
};

/* Every asset, ended by one whose name is NULL. */
extern const struct rc_asset rc_assets[];

#endif
