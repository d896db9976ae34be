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
#include "core/hot.h"
#include "core/log.h"
#include "core/sys.h"

static char log_path[4096];
RC_HOT_DATA static int log_on; /* log_path[0] != 0, where the data path looks */
RC_HOT_DATA static int log_level = RC_LOG_INFO;
static char log_prog[64] = "?";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Lines that were to be written (their level enabled) but were not: the
 * log was refused, could not be opened, or the write fell short. */
static unsigned long log_dropped;
/* Why the first of them was: a constant string, set once. */
static const char *log_refusal;

unsigned long rc_log_dropped(void)
{
	return __atomic_load_n(&log_dropped, __ATOMIC_RELAXED);
}

const char *rc_log_refusal(void)
{
	return __atomic_load_n(&log_refusal, __ATOMIC_ACQUIRE);
}

/* The state file's count of dropped lines, once the shim has mapped it. */
static uint64_t *shared_dropped;

void rc_log_count_to(uint64_t *counter)
{
	__atomic_store_n(&shared_dropped, counter, __ATOMIC_RELEASE);
}

static void refused(const char *why)
{
	const char *none = NULL;

	__atomic_fetch_add(&log_dropped, 1, __ATOMIC_RELAXED);
	uint64_t *c = __atomic_load_n(&shared_dropped, __ATOMIC_ACQUIRE);
	if (c)
		__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
	__atomic_compare_exchange_n(&log_refusal, &none, why, 0, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

/* Only a regular file of our own with one name: /tmp is shared, and a
 * FIFO, a device, or a second name of a file of ours (a hard link another
 * user planted where fs.protected_hardlinks = 0) is not our log. */
static const char *log_file_bad(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return S_ISLNK(st->st_mode) ? "a symbolic link" : "not a regular file";
	if (st->st_nlink != 1)
		return "more than one link (a hard link)";
	if (st->st_uid != geteuid())
		return "owned by another user";
	return NULL;
}

/* Append LINE to the log: NULL if written whole, else why not.  What is
 * at the path is looked at before it is opened, so a FIFO or a device
 * there is never opened at all (no reader of a FIFO sees a writer come and
 * go); the open itself is O_NONBLOCK, so one swapped in meanwhile cannot
 * block us either (a FIFO with no reader fails ENXIO), and the opened file
 * is checked again before a byte goes to it. */
/* The log kept open across a change of user (rc_log_keep): -1, or the fd
 * and what it is. */
static int kept_fd = -1;
static dev_t kept_dev;
static ino_t kept_ino;

/* LINE to the kept log, if the fd still is that file: NULL, else why not. */
static const char *write_kept(const char *line, size_t n, const char *why)
{
	struct stat st;
	int fd = __atomic_load_n(&kept_fd, __ATOMIC_ACQUIRE);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != kept_dev || st.st_ino != kept_ino ||
	    !S_ISREG(st.st_mode))
		return why;
	return rc_sys_write(fd, line, n) == (ssize_t)n ? NULL : "a write fell short";
}

static const char *write_line(const char *line, size_t n)
{
	struct stat st;
	const char *why;
	int fd;

	if (lstat(log_path, &st) == 0 && (why = log_file_bad(&st))) {
		/* not ours (any more): a process that changed its user writes
		 * on through the log it had open before */
		if (st.st_uid != geteuid() && S_ISREG(st.st_mode) && st.st_nlink == 1)
			return write_kept(line, n, why);
		return why;
	}
	fd = rc_sys_open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
			 O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		if (errno == EACCES)
			return write_kept(line, n, "cannot be opened");
		return errno == ELOOP ? "a symbolic link" : errno == ENXIO ?
			"not a regular file" : "cannot be opened";
	}
	if (fstat(fd, &st) < 0)
		why = "cannot be opened";
	else if (!(why = log_file_bad(&st)) && rc_sys_write(fd, line, n) != (ssize_t)n)
		why = "a write fell short";
	rc_sys_close(fd);
	return why;
}

void rc_log_setup(const char *path, int level, const char *prog)
{
	snprintf(log_path, sizeof log_path, "%s", path ? path : "");
	log_on = log_path[0] != 0;
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

RC_HOT int rc_log_enabled(int level)
{
	return log_on && level <= log_level;
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
	const char *why = write_line(line, (size_t)n);
	if (why)
		refused(why);
	else
		ok = 0;
	errno = saved;
	return ok;
}

int rc_log_keep(void)
{
	int saved = errno;
	if (!log_path[0] || __atomic_load_n(&kept_fd, __ATOMIC_ACQUIRE) >= 0) {
		errno = saved;
		return 0;
	}
	struct stat st;
	int fd = -1, r = -1;
	if (lstat(log_path, &st) == 0 && !log_file_bad(&st))
		fd = rc_sys_open(log_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
				 O_NONBLOCK, 0);
	if (fd >= 0 && fstat(fd, &st) == 0 && !log_file_bad(&st)) {
		kept_dev = st.st_dev;
		kept_ino = st.st_ino;
		__atomic_store_n(&kept_fd, fd, __ATOMIC_RELEASE);
		fd = -1;
		r = 0;
	}
	if (fd >= 0)
		rc_sys_close(fd);
	errno = saved;
	return r;
}

int rc_log_kept_fd(void)
{
	return __atomic_load_n(&kept_fd, __ATOMIC_ACQUIRE);
}

void rc_log_fd_gone(int fd)
{
	int k = fd;
	if (fd >= 0)
		__atomic_compare_exchange_n(&kept_fd, &k, -1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
