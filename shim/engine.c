/* engine.c - init, and the breaker logic behind the hooks.
 *
 * Everything here runs inside someone else's program: on any internal
 * problem the call passes through untouched and at most one line is logged.
 * The paths taken per call use no malloc, no lock and no stdio; errno is
 * what the real call left, or what a rejection sets. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "engine.h"
#include "log.h"

#define RC_HOOK(ret, name, params) ret (*real_##name) params;
#include "hooks.def"

__thread int rc_guard __attribute__((tls_model("initial-exec")));
int rc_init_done;
int rc_active;

static rc_live *live;          /* the config in force; swapped by reload */
static rc_shm shm;
static uint32_t my_pid;
static char cfg_path[4096];

/* Reload bookkeeping: the file as last read, the next check, one checker. */
static struct stat cfg_st;
static uint64_t next_check_ms;
static int reloading;

static inline rc_live *current(void)
{
	return __atomic_load_n(&live, __ATOMIC_ACQUIRE);
}

/* ---- init ---- */

static void resolve_reals(void)
{
#define RC_HOOK(ret, name, params) \
	real_##name = (ret(*) params)dlsym(RTLD_NEXT, #name);
#include "hooks.def"
}

static void atfork_child(void)
{
	my_pid = (uint32_t)getpid();
	rc_live *L = current();
	if (L)
		memset(L->rej_count, 0, sizeof L->rej_count);
}

struct fallback { char path[4096]; };

static int fallback_handler(void *user, const char *section, const char *name,
			    const char *value)
{
	struct fallback *f = user;
	if (strcmp(section, "global") == 0 && strcmp(name, "log_file") == 0 && value[0] == '/')
		snprintf(f->path, sizeof f->path, "%s", value);
	return 1;
}

/* Where to log a config error: the file's own [global] log_file if it can
 * be read at all, else the default. */
static void fallback_log_path(const char *cfgpath, char *out, size_t len)
{
	struct fallback f = { "" };
	ini_parse(cfgpath, fallback_handler, &f);
	const char *tmpl = f.path[0] ? f.path : "/tmp/recloser-<uid>.log";
	const char *u = strstr(tmpl, "<uid>");
	if (u)
		snprintf(out, len, "%.*s%u%s", (int)(u - tmpl), tmpl, (unsigned)getuid(), u + 5);
	else
		snprintf(out, len, "%s", tmpl);
}

static void log_config_error(const char *path, const char *err, const char *action)
{
	char q[600], qf[300];
	int line = 0;
	size_t pl = strlen(path);
	const char *msg = err;
	if (strncmp(err, path, pl) == 0 && err[pl] == ':') {
		char *end;
		line = (int)strtol(err + pl + 1, &end, 10);
		if (*end == ':')
			msg = end + 1 + (end[1] == ' ');
	}
	char first[512];
	snprintf(first, sizeof first, "%.*s", (int)strcspn(msg, "\n"), msg);
	rc_log(RC_LOG_ERROR, "config_error", "file=%s line=%d msg=%s action=%s",
	       rc_log_quote(path, qf, sizeof qf), line, rc_log_quote(first, q, sizeof q), action);
}

/* Bind CFG's breakers to their slots in the state file (by name, so state
 * survives a reload).  Return the new rc_live, or NULL. */
static rc_live *make_live(rc_config *cfg, unsigned gen)
{
	rc_live *L = calloc(1, sizeof *L);
	if (!L)
		return NULL;
	L->cfg = cfg;
	L->gen = gen;
	for (unsigned i = 0; i < cfg->nbreakers; i++) {
		L->slots[i] = rc_shm_slot(&shm, cfg->breakers[i].name, 1);
		if (!L->slots[i])
			rc_log(RC_LOG_ERROR, "state_error",
			       "breaker=%s msg=\"no slot in the state file\" action=pass_through",
			       cfg->breakers[i].name);
	}
	return L;
}

static void init_once(void)
{
	rc_guard++;
	int saved = errno;
	resolve_reals();
	my_pid = (uint32_t)getpid();
	pthread_atfork(NULL, NULL, atfork_child);

	const char *dis = getenv("RECLOSER_DISABLE");
	const char *path = getenv("RECLOSER_CONFIG");
	if (!path || !*path)
		path = "/etc/recloser.ini";
	if ((dis && *dis && strcmp(dis, "0") != 0) || getauxval(AT_SECURE) ||
	    access(path, R_OK) != 0)
		goto out; /* inert: no file, no log */

	const char *prog = program_invocation_short_name;
	snprintf(cfg_path, sizeof cfg_path, "%s", path);
	static char err[4096];
	stat(path, &cfg_st);
	rc_config *cfg = rc_config_load(path, err, sizeof err);
	if (!cfg) {
		char lp[4096];
		fallback_log_path(path, lp, sizeof lp);
		rc_log_setup(lp, RC_LOG_ERROR, prog);
		log_config_error(path, err, "pass_through");
		goto out;
	}
	rc_log_setup(cfg->log_file, cfg->log_level, prog);
	if (rc_shm_open(cfg->state_file, &shm, err, sizeof err) < 0) {
		char q[600];
		rc_log(RC_LOG_ERROR, "state_error", "msg=%s action=pass_through",
		       rc_log_quote(err, q, sizeof q));
		rc_config_free(cfg);
		goto out;
	}
	rc_live *L = make_live(cfg, 1);
	if (!L) {
		rc_config_free(cfg);
		goto out;
	}
	__atomic_store_n(&live, L, __ATOMIC_RELEASE);
	next_check_ms = rc_now_ms() + cfg->reload;
	rc_log(RC_LOG_DEBUG, "start", "config=%s state_file=%s breakers=%u",
	       path, cfg->state_file, cfg->nbreakers);
	rc_active = 1;
out:
	__atomic_store_n(&rc_init_done, 2, __ATOMIC_RELEASE);
	errno = saved;
	rc_guard--;
}

static pthread_once_t init_once_ctl = PTHREAD_ONCE_INIT;

void rc_init(void)
{
	if (rc_guard)
		return;
	int saved = errno;
	pthread_once(&init_once_ctl, init_once);
	errno = saved;
}

__attribute__((constructor)) static void rc_ctor(void)
{
	rc_init();
}

/* ---- live reload ---- */

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* At most every `reload` interval, on the call path of one thread: if the
 * config file changed, read it again.  A good file replaces the config in
 * force atomically (state is kept by breaker name); a broken one keeps it
 * and logs config_error once per edit. */
static void maybe_reload(uint64_t now_ms)
{
	rc_live *L = current();
	uint64_t iv = L->cfg->reload, due = __atomic_load_n(&next_check_ms, __ATOMIC_RELAXED);
	if (!iv || now_ms < due)
		return;
	if (!__atomic_compare_exchange_n(&next_check_ms, &due, now_ms + iv, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return;
	int busy = 0;
	if (!__atomic_compare_exchange_n(&reloading, &busy, 1, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return;
	int saved = errno;
	rc_guard++;
	struct stat st;
	if (stat(cfg_path, &st) == 0 && !same_file(&st, &cfg_st)) {
		cfg_st = st;
		static char err[4096];
		rc_config *c = rc_config_load(cfg_path, err, sizeof err);
		if (!c) {
			log_config_error(cfg_path, err, "kept_previous");
		} else {
			if (strcmp(c->state_file, L->cfg->state_file) != 0) {
				rc_log(RC_LOG_WARN, "reload",
				       "msg=\"state_file changes need a restart; keeping %s\"",
				       L->cfg->state_file);
				free(c->state_file);
				c->state_file = strdup(L->cfg->state_file);
			}
			rc_live *N = c->state_file ? make_live(c, L->gen + 1) : NULL;
			if (N) {
				rc_log_setup(c->log_file, c->log_level, program_invocation_short_name);
				__atomic_store_n(&live, N, __ATOMIC_RELEASE);
				rc_log(RC_LOG_INFO, "reload", "config=%s breakers=%u gen=%u", cfg_path,
				       c->nbreakers, N->gen);
			} else {
				rc_config_free(c);
			}
		}
	}
	rc_guard--;
	__atomic_store_n(&reloading, 0, __ATOMIC_RELEASE);
	errno = saved;
}

/* ---- helpers ---- */

static int is_net_failure(int e)
{
	switch (e) {
	case ECONNREFUSED: case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH:
	case ECONNRESET: case ECONNABORTED: case EHOSTDOWN: case ENETDOWN:
	case EPIPE: case ENONET: case EPROTO:
		return 1;
	}
	return 0;
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

static void format_dest(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, addr, a, sizeof a);
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static void log_transition(const rc_breaker_cfg *b, const rc_transition *tr)
{
	if (tr->to < 0)
		return;
	char extra[96] = "";
	if (tr->to == RC_OPEN || tr->to == RC_FORCED_OPEN)
		snprintf(extra, sizeof extra, " open_ms=%llu", (unsigned long long)tr->open_ms);
	if (strcmp(tr->reason, "failure_rate") == 0)
		rc_log(RC_LOG_INFO, "transition",
		       "breaker=%s from=%s to=%s reason=%s failures=%llu calls=%llu%s", b->name,
		       rc_state_name(tr->from), rc_state_name(tr->to), tr->reason,
		       (unsigned long long)tr->failures, (unsigned long long)tr->calls, extra);
	else
		rc_log(RC_LOG_INFO, "transition", "breaker=%s from=%s to=%s reason=%s failures=%llu%s",
		       b->name, rc_state_name(tr->from), rc_state_name(tr->to), tr->reason,
		       (unsigned long long)tr->failures, extra);
}

/* Judge a call: count it, move the state machine, log. */
static void judge(rc_live *L, unsigned bidx, const rc_ticket *t, int outcome, uint64_t start_us,
		  int family, const uint8_t *addr, uint16_t port, int err)
{
	const rc_breaker_cfg *b = &L->cfg->breakers[bidx];
	uint64_t now_us = rc_now_us();
	uint64_t lat = now_us > start_us ? now_us - start_us : 0;
	rc_transition tr;
	tr.to = -1;
	rc_report(L->slots[bidx], b, t, outcome, lat, now_us / 1000, &tr);
	log_transition(b, &tr);
	if (rc_log_enabled(RC_LOG_DEBUG)) {
		char d[80];
		format_dest(family, addr, port, d, sizeof d);
		const char *o = outcome == RC_OK ? "success" :
				outcome == RC_FAIL_TIMEOUT ? "timeout" : "failure";
		if (b->slow_call && outcome == RC_OK && lat > b->slow_call * 1000)
			o = "slow";
		rc_log(RC_LOG_DEBUG, "call", "breaker=%s outcome=%s latency_us=%llu dest=%s%s%s",
		       b->name, o, (unsigned long long)lat, d, err ? " errno=" : "",
		       err ? errno_name(err) : "");
	}
}

static void log_rejects(rc_live *L, unsigned bidx, uint64_t n, const char *dest)
{
	const rc_breaker_cfg *b = &L->cfg->breakers[bidx];
	rc_log(RC_LOG_INFO, "reject", "breaker=%s count=%llu errno=%s%s%s", b->name,
	       (unsigned long long)n, errno_name(b->reject_errno), dest ? " dest=" : "",
	       dest ? dest : "");
}

/* Count a rejection; log at most one line per breaker per second, carrying
 * the count since the last line. */
static void note_reject(rc_live *L, unsigned bidx, int family, const uint8_t *addr,
			uint16_t port)
{
	__atomic_add_fetch(&L->rej_count[bidx], 1, __ATOMIC_RELAXED);
	if (!rc_log_enabled(RC_LOG_INFO))
		return;
	uint64_t sec = rc_now_ms() / 1000;
	uint64_t last = __atomic_load_n(&L->rej_sec[bidx], __ATOMIC_RELAXED);
	if (sec == last || !__atomic_compare_exchange_n(&L->rej_sec[bidx], &last, sec, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	uint64_t n = __atomic_exchange_n(&L->rej_count[bidx], 0, __ATOMIC_RELAXED);
	char d[80];
	format_dest(family, addr, port, d, sizeof d);
	log_rejects(L, bidx, n, d);
}

/* At exit, the rejections counted since the last line get theirs. */
__attribute__((destructor)) static void rc_dtor(void)
{
	if (!rc_active || !rc_log_enabled(RC_LOG_INFO))
		return;
	rc_guard++;
	rc_live *L = current();
	for (unsigned i = 0; i < L->cfg->nbreakers; i++) {
		uint64_t n = __atomic_exchange_n(&L->rej_count[i], 0, __ATOMIC_RELAXED);
		if (n)
			log_rejects(L, i, n, NULL);
	}
	rc_guard--;
}

/* Claim the right to judge e's pending call: PENDING -> BUSY. */
static int claim_pending(rc_fd *e)
{
	uint32_t p = RC_FD_PENDING;
	return __atomic_compare_exchange_n(&e->phase, &p, RC_FD_BUSY, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/* Judge the claimed pending call of e (only the process that opened it
 * does; a forked child's copy is dropped), then set its phase. */
static void finish_pending(rc_fd *e, int outcome, int err, int phase_after)
{
	rc_live *L = e->live;
	if (e->pid == my_pid && L && e->bidx < L->cfg->nbreakers && L->slots[e->bidx]) {
		const rc_breaker_cfg *b = &L->cfg->breakers[e->bidx];
		if (outcome == RC_OK && b->connect_timeout &&
		    rc_now_us() - e->start_us > b->connect_timeout * 1000)
			outcome = RC_FAIL_TIMEOUT; /* it answered, but too late */
		if (outcome < 0)
			rc_cancel(L->slots[e->bidx], &e->t);
		else
			judge(L, e->bidx, &e->t, outcome, e->start_us, e->family, e->addr, e->port,
			      err);
	}
	__atomic_store_n(&e->phase, (uint32_t)phase_after, __ATOMIC_RELEASE);
}

static int is_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/* ---- connect ---- */

/* Extract a normalised destination.  Return 0, or -1 if not IPv4/IPv6. */
static int dest_of(const struct sockaddr *sa, socklen_t len, int *family, uint8_t *addr,
		   uint16_t *port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		*family = AF_INET;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		*port = ntohs(s6->sin6_port);
		if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
			*family = AF_INET;
			memcpy(addr, (const uint8_t *)&s6->sin6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

/* A connect on an fd whose earlier connect is still pending: the app is
 * asking how it went (or retrying after EINTR).  Pass through; settle. */
static int connect_again(int fd, rc_fd *e, const struct sockaddr *sa, socklen_t len)
{
	int r = real_connect(fd, sa, len);
	int err = errno;
	if ((r == 0 || err == EISCONN || is_net_failure(err)) && claim_pending(e)) {
		if (r == 0 || err == EISCONN)
			finish_pending(e, RC_OK, 0, RC_FD_CONNECTED);
		else
			finish_pending(e, RC_FAIL, err, RC_FD_NONE);
	}
	errno = err;
	return r;
}

/* Blocking connect bounded by TIMEOUT_MS: done non-blocking plus poll, the
 * socket's flags restored exactly.  Return as connect does; *OUTCOME is
 * RC_OK, RC_FAIL, RC_FAIL_TIMEOUT, or -1 (no verdict yet: left pending). */
static int bounded_connect(int fd, int flags, const struct sockaddr *sa, socklen_t len,
			   uint64_t start_us, uint64_t timeout_ms, int *outcome)
{
	if (real_fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int r = real_connect(fd, sa, len); /* cannot bound it: plain connect */
		*outcome = r == 0 ? RC_OK : is_net_failure(errno) ? RC_FAIL : -2;
		return r;
	}
	int r = real_connect(fd, sa, len), err = errno;
	if (r == 0 || err != EINPROGRESS) {
		real_fcntl(fd, F_SETFL, flags);
		*outcome = r == 0 ? RC_OK : is_net_failure(err) ? RC_FAIL : -2;
		errno = err;
		return r;
	}
	uint64_t deadline = start_us + timeout_ms * 1000;
	for (;;) {
		uint64_t now = rc_now_us();
		if (now >= deadline) {
			real_fcntl(fd, F_SETFL, flags);
			*outcome = RC_FAIL_TIMEOUT;
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int ms = (int)((deadline - now + 999) / 1000);
		int n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR) {
			/* as the kernel does: EINTR, the connect goes on */
			real_fcntl(fd, F_SETFL, flags);
			*outcome = -1;
			errno = EINTR;
			return -1;
		}
		if (n < 0) {
			err = errno;
			real_fcntl(fd, F_SETFL, flags);
			*outcome = -2;
			errno = err;
			return -1;
		}
		if (n == 0)
			continue;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		real_fcntl(fd, F_SETFL, flags);
		if (soerr == 0) {
			*outcome = RC_OK;
			return 0;
		}
		*outcome = is_net_failure(soerr) ? RC_FAIL : -2;
		errno = soerr;
		return -1;
	}
}

int rc_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int family;
	uint8_t addr[16];
	uint16_t port;
	if (dest_of(sa, len, &family, addr, &port) < 0) {
		if (rc_fd_tracked(fd))
			rc_fd_closing(fd); /* AF_UNSPEC dissolves the association */
		return real_connect(fd, sa, len);
	}
	rc_fd *e = rc_fd_peek(fd);
	if (e) {
		uint32_t ph = __atomic_load_n(&e->phase, __ATOMIC_ACQUIRE);
		if (ph == RC_FD_PENDING)
			return connect_again(fd, e, sa, len);
		if (ph == RC_FD_CONNECTED)
			__atomic_store_n(&e->phase, RC_FD_NONE, __ATOMIC_RELEASE);
	}
	char names[4][RC_HOST_MAX];
	const char *np[4];
	unsigned nn = rc_names_lookup(family, addr, names, 4);
	for (unsigned i = 0; i < nn; i++)
		np[i] = names[i];
	maybe_reload(rc_now_ms());
	rc_live *L = current();
	int idx = rc_match(L->cfg, family, addr, port, np, nn);
	if (idx < 0 || !L->slots[idx] || L->cfg->breakers[idx].mode == RC_MODE_OFF)
		return real_connect(fd, sa, len);

	int saved = errno;
	int type = e ? e->sotype : 0;
	if (!type) { /* a socket made where socket() was not seen */
		socklen_t tl = sizeof type;
		if (real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
			type = 0;
		errno = saved;
	}
	if (type != SOCK_STREAM)
		return real_connect(fd, sa, len); /* UDP and friends: untouched */

	const rc_breaker_cfg *b = &L->cfg->breakers[idx];
	rc_slot *slot = L->slots[idx];
	rc_guard++;
	rc_ticket t;
	rc_transition tr;
	tr.to = -1;
	uint64_t start_us = rc_now_us();
	int v = rc_admit(slot, b, start_us / 1000, my_pid, &t, &tr);
	log_transition(b, &tr);
	if (v == RC_REJECT) {
		note_reject(L, (unsigned)idx, family, addr, port);
		rc_guard--;
		errno = b->reject_errno;
		return -1;
	}

	int flags = real_fcntl(fd, F_GETFL);
	struct timeval sndto = { 0, 0 };
	socklen_t sl = sizeof sndto;
	int app_timeout = 0;
	if (flags >= 0 && !(flags & O_NONBLOCK) &&
	    real_getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sndto, &sl) == 0 &&
	    (sndto.tv_sec || sndto.tv_usec)) {
		uint64_t app_ms = (uint64_t)sndto.tv_sec * 1000 + (uint64_t)sndto.tv_usec / 1000;
		app_timeout = !b->connect_timeout || app_ms <= b->connect_timeout;
	}
	errno = saved;

	int r, err, outcome;
	if (flags < 0 || (flags & O_NONBLOCK) || !b->connect_timeout || app_timeout) {
		/* non-blocking, or the kernel's own bound applies: pass through */
		r = real_connect(fd, sa, len);
		err = errno;
		if (r == 0)
			outcome = RC_OK;
		else if (err == EINPROGRESS || err == EINTR)
			outcome = -1;
		else
			outcome = is_net_failure(err) ? RC_FAIL : -2;
	} else {
		r = bounded_connect(fd, flags, sa, len, start_us, b->connect_timeout, &outcome);
		err = errno;
	}

	if (outcome == -1) {
		/* still connecting: settled later by I/O, SO_ERROR or close */
		rc_fd *pe = rc_fd_get(fd);
		if (pe) {
			pe->bidx = (uint16_t)idx;
			pe->live = L;
			pe->pid = my_pid;
			pe->port = port;
			pe->family = (uint8_t)family;
			memcpy(pe->addr, addr, 16);
			pe->start_us = start_us;
			pe->t = t;
			__atomic_store_n(&pe->phase, RC_FD_PENDING, __ATOMIC_RELEASE);
		} else {
			rc_cancel(slot, &t);
		}
	} else if (outcome == -2) {
		rc_cancel(slot, &t); /* the app's own error, not the service's */
	} else {
		judge(L, (unsigned)idx, &t, outcome, start_us, family, addr, port,
		      outcome == RC_OK ? 0 : err);
		if (outcome == RC_OK) {
			rc_fd *ce = rc_fd_get(fd);
			if (ce) {
				ce->bidx = (uint16_t)idx;
				ce->live = L;
				ce->pid = my_pid;
				__atomic_store_n(&ce->phase, RC_FD_CONNECTED, __ATOMIC_RELEASE);
			}
		}
	}
	rc_guard--;
	errno = err;
	return r;
}

/* ---- settling a pending connect ---- */

void rc_settle_io(int fd, rc_fd *e, ssize_t r, int err)
{
	if (r < 0 && !is_net_failure(err))
		return; /* EAGAIN, EINTR, ENOTCONN...: no news */
	if (!claim_pending(e))
		return;
	rc_guard++;
	if (r >= 0)
		finish_pending(e, RC_OK, 0, RC_FD_CONNECTED);
	else
		finish_pending(e, RC_FAIL, err, RC_FD_NONE);
	rc_guard--;
	errno = err;
}

void rc_settle_so_error(int fd, rc_fd *e, int val)
{
	int saved = errno;
	rc_guard++;
	if (val != 0) {
		if (claim_pending(e))
			finish_pending(e, is_net_failure(val) ? RC_FAIL : -1, val, RC_FD_NONE);
	} else if (is_connected(fd) && claim_pending(e)) {
		finish_pending(e, RC_OK, 0, RC_FD_CONNECTED);
	}
	rc_guard--;
	errno = saved;
}

void rc_fd_closing(int fd)
{
	rc_fd *e = rc_fd_peek(fd);
	if (!e)
		return;
	uint32_t ph = __atomic_load_n(&e->phase, __ATOMIC_ACQUIRE);
	if (ph == RC_FD_NONE)
		return;
	int saved = errno;
	rc_guard++;
	if (ph == RC_FD_PENDING && claim_pending(e)) {
		int soerr = 0, outcome = -1;
		socklen_t sl = sizeof soerr;
		if (real_getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
			outcome = is_net_failure(soerr) ? RC_FAIL : -1;
		else if (is_connected(fd))
			outcome = RC_OK;
		else if (e->live && e->bidx < e->live->cfg->nbreakers &&
			 e->live->cfg->breakers[e->bidx].connect_timeout &&
			 rc_now_us() - e->start_us >
				 e->live->cfg->breakers[e->bidx].connect_timeout * 1000)
			outcome = RC_FAIL_TIMEOUT; /* given up on after waiting too long */
		finish_pending(e, outcome, soerr, RC_FD_NONE);
	} else if (ph == RC_FD_CONNECTED) {
		__atomic_store_n(&e->phase, RC_FD_NONE, __ATOMIC_RELEASE);
	}
	rc_guard--;
	errno = saved;
}

void rc_fd_duped(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return;
	rc_fd *o = rc_fd_peek(oldfd);
	uint32_t ph = o ? __atomic_load_n(&o->phase, __ATOMIC_ACQUIRE) : RC_FD_NONE;
	if (ph != RC_FD_CONNECTED) {
		/* a pending call stays with the fd it was opened on */
		rc_fd *n = rc_fd_peek(newfd);
		if (n)
			__atomic_store_n(&n->phase, RC_FD_NONE, __ATOMIC_RELEASE);
		return;
	}
	rc_fd *n = rc_fd_get(newfd);
	if (!n)
		return;
	n->bidx = o->bidx;
	n->live = o->live;
	n->pid = my_pid;
	__atomic_store_n(&n->phase, RC_FD_CONNECTED, __ATOMIC_RELEASE);
}

void rc_fd_fresh(int fd, int sotype)
{
	rc_fd *e = sotype ? rc_fd_get(fd) : rc_fd_peek(fd);
	if (!e)
		return;
	if (__atomic_load_n(&e->phase, __ATOMIC_RELAXED) != RC_FD_NONE)
		__atomic_store_n(&e->phase, RC_FD_NONE, __ATOMIC_RELEASE);
	e->sotype = (uint8_t)sotype;
}

int rc_want_name(const char *name)
{
	return name && rc_active && rc_match_any_name(current()->cfg, name);
}
