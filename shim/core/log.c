/* log.c - see log.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/sys.h"

static char log_path[4096];
static int log_level = RC_LOG_INFO;
static char log_prog[64] = "?";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void rc_log_setup(const char *path, int level, const char *prog)
{
	snprintf(log_path, sizeof log_path, "%s", path ? path : "");
	log_level = level;
	if (prog && *prog) {
		/* prog= is a bare logfmt value: keep it free of spaces and quotes */
		size_t i;
		for (i = 0; prog[i] && i < sizeof log_prog - 1; i++) {
			char c = prog[i];
			log_prog[i] = (c <= ' ' || c == '"' || c == '=' || c == 127) ? '_' : c;
		}
		log_prog[i] = 0;
	}
}

int rc_log_enabled(int level)
{
	return log_path[0] && level <= log_level;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void rc_log_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t days = ts.tv_sec / 86400, sod = ts.tv_sec % 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02d.%06ldZ", y, m, d,
		 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
		 ts.tv_nsec / 1000);
}

const char *rc_log_quote(const char *s, char *buf, size_t len)
{
	int bare = *s != 0;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\')
			bare = 0;
	if (bare) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	size_t o = 0;
	if (len < 3) {
		if (len)
			buf[0] = 0;
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < len; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		else if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}

int rc_log(int level, const char *event, const char *fmt, ...)
{
	if (!rc_log_enabled(level))
		return -1;
	int saved = errno, ok = -1;
	char line[1024], ts[40];
	rc_log_timestamp(ts, sizeof ts);
	int n = snprintf(line, sizeof line, "ts=%s pid=%d prog=%s level=%s event=%s",
			 ts, (int)getpid(), log_prog, level_names[level & 3], event);
	if (n < 0)
		n = 0;
	if (fmt && *fmt && (size_t)n + 1 < sizeof line) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
		va_end(ap);
		if (k > 0)
			n += k;
	}
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* No symlinks, and only a file of our own: /tmp is shared. */
	int fd = rc_sys_open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
		      0600);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
			if (rc_sys_write(fd, line, (size_t)n) == (ssize_t)n)
				ok = 0;
		}
		rc_sys_close(fd);
	}
	errno = saved;
	return ok;
}
