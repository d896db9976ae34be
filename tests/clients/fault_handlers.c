/* fault_handlers.c - signal handlers the shim must see, and jumps out of
 * them, for tests/3a-engine-faults.t (section I).
 *
 *   fault_handlers dispositions
 *       Sets handlers every way libc offers (sigaction with and without
 *       SA_NODEFER and SA_SIGINFO, signal, bsd_signal, sysv_signal,
 *       sigset), asks them back, and has them called (raise, sigqueue, a
 *       handler its own signal re-enters, SA_RESETHAND).  Prints one line
 *       per check: the same without and under the shim.
 *
 *   fault_handlers reloads CONFIG LOG PORT
 *       For each kind of handler the mask cannot tell (SA_NODEFER,
 *       sysv_signal, SA_NODEFER on an alternate stack) and for jumps out
 *       of one (siglongjmp, longjmp, _longjmp, __longjmp_chk): edits
 *       CONFIG (a live reload due: the config says reload=10ms), waits
 *       30 ms, raises the signal, whose handler connects to 127.0.0.1:PORT
 *       (a breaker's port nothing listens on) and counts the event=reload
 *       lines in LOG; then the main program connects and counts again.
 *       Prints "KIND in_handler=A after=B": A 0 (no reload inside the
 *       handler), B 1 (the next call outside it reloads).
 *
 *   fault_handlers reloads CONFIG LOG PORT BHPORT
 *       The same, and one kind more: "sysv_in_wait", a SIGUSR2 handler set
 *       by sysv_signal from a SIGALRM handler that came while a blocking
 *       connect to 127.0.0.1:BHPORT (a blackhole, a breaker with
 *       connect_timeout 5s) waited (inside the shim, under the shim).  The
 *       connect is cut by that alarm: "wait_errno=EINTR".
 *
 *   fault_handlers jumpout PORT OKPORT
 *       alarm(1) and siglongjmp out of a blocking connect to PORT (a
 *       blackhole, a breaker with connect_timeout 5s), twice; then prints
 *       "nonblock=N" (the socket's O_NONBLOCK after the jump: 0, the
 *       program never set it) and makes 3 HTTP requests to OKPORT, each on
 *       its own connection: "ok=3".
 *
 *   fault_handlers bulkjump HANGPORT WEBPORT [COMMAND]
 *       (one breaker matching both, max_concurrent 1, max_wait 5s) A
 *       request to WEBPORT is answered; then a request to HANGPORT holds
 *       the one ticket, and a second request on the first connection
 *       waits for it: alarm(1) and siglongjmp out of that wait (then
 *       COMMAND is run, by system(): the test's look at the state file,
 *       while the ticket is still held).  Then the
 *       HANGPORT connection is closed (its ticket back) and the request
 *       is written again: it is answered, "b_ok=1".  The breaker counts 2
 *       calls (the two answered requests).
 *
 *   fault_handlers racing
 *       Two threads set SIGUSR1's handler 20,000 times each, with
 *       SA_NODEFER, each from its own 4 handlers, and note what each
 *       sigaction says was there before.  Then SIGUSR1 is asked back and
 *       raised.  As the calls happen one after another in the kernel,
 *       every handler is named "before" as often as it was set (once less
 *       if still in force), SIG_DFL once, and the one in force is the one
 *       asked back and the one called.  Prints "racing unbalanced=N
 *       asked=A called=C": N 0 and A equal to C.
 *
 *   fault_handlers faultjump [ctx]
 *       A thread sets SIGUSR1's SA_NODEFER handler over and over while the
 *       main thread sends it SIGSEGV (tgkill, every 200 us) until its
 *       SIGSEGV handler has siglongjmped back into the loop 300 times, so
 *       some jumps leave a sigaction half done.  Then, that thread still
 *       alive, the main thread sets SIGUSR2's handler 100 times (a 10 s
 *       alarm kills a hang).  Prints "faultjump jumps=J after_ms=T": J
 *       the jumps taken, T how long those 100 took.  With "ctx" the
 *       handler leaves by setcontext, a jump the shim does not see; then
 *       the same on the main thread (40 jumps, from a second thread's
 *       signals), and the main thread writes 64 KiB of stack over where
 *       its sigactions ran and longjmps out of there: "deep blocked=B", B
 *       whether SIGTERM is blocked after it (0). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* glibc's fortified longjmp, called as a -D_FORTIFY_SOURCE build would */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* glibc sets it on every handler (x86-64) */
#endif

/* glibc's BSD signal, no longer declared by its headers */
extern sighandler_t bsd_signal(int sig, sighandler_t h);
/* sigset is deprecated, not gone: programs still call it */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

extern void __longjmp_chk(sigjmp_buf env, int val) __attribute__((noreturn));

/* 127.0.0.1:PORT */
static struct sockaddr_in lo(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int conn(int port)
{
	struct sockaddr_in a = lo(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---- dispositions ---- */

static volatile sig_atomic_t got_sig, got_code, got_val, depth, max_depth;

static void h_plain(int sig)
{
	got_sig = sig;
}

static void h_info(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	got_sig = sig;
	got_code = si->si_code;
	got_val = si->si_value.sival_int;
}

static void h_reenter(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (depth < 3)
		raise(sig); /* SA_NODEFER: delivered at once, inside this one */
	depth--;
}

static const char *name_of(void *h)
{
	if (h == (void *)SIG_DFL)
		return "SIG_DFL";
	if (h == (void *)SIG_IGN)
		return "SIG_IGN";
	if (h == (void *)SIG_HOLD)
		return "SIG_HOLD";
	if (h == (void *)h_plain)
		return "h_plain";
	if (h == (void *)h_info)
		return "h_info";
	if (h == (void *)h_reenter)
		return "h_reenter";
	return "OTHER";
}

static void show(const char *what, int sig)
{
	struct sigaction o;
	memset(&o, 0, sizeof o);
	sigaction(sig, NULL, &o);
	void *h = (o.sa_flags & SA_SIGINFO) ? (void *)o.sa_sigaction : (void *)o.sa_handler;
	printf("%s: handler=%s flags=%#x\n", what, name_of(h),
	       (unsigned)(o.sa_flags & ~SA_RESTORER));
}

static int dispositions(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);

	sa.sa_handler = h_plain;
	sa.sa_flags = SA_NODEFER | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	show("nodefer plain", SIGUSR1);
	raise(SIGUSR1);
	printf("nodefer plain called: sig=%d\n", (int)got_sig);

	sa.sa_sigaction = h_info;
	sa.sa_flags = SA_NODEFER | SA_SIGINFO;
	memset(&old, 0, sizeof old);
	sigaction(SIGUSR1, &sa, &old);
	printf("replaced: old=%s old_flags=%#x\n", name_of((void *)old.sa_handler),
	       (unsigned)(old.sa_flags & ~SA_RESTORER));
	show("nodefer siginfo", SIGUSR1);
	got_sig = 0;
	raise(SIGUSR1);
	printf("nodefer siginfo called: sig=%d code_is_tkill=%d\n", (int)got_sig,
	       got_code == SI_TKILL);
	sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 42 });
	printf("sigqueue: value=%d code_is_queue=%d\n", (int)got_val, got_code == SI_QUEUE);

	sighandler_t r = signal(SIGUSR1, h_plain);
	printf("signal returned %s\n", name_of((void *)r));
	show("after signal", SIGUSR1);
	r = bsd_signal(SIGUSR1, SIG_IGN);
	printf("bsd_signal returned %s\n", name_of((void *)r));

	r = sysv_signal(SIGUSR2, h_plain);
	printf("sysv_signal returned %s\n", name_of((void *)r));
	show("sysv", SIGUSR2);
	r = sysv_signal(SIGUSR2, h_plain);
	printf("sysv_signal again returned %s\n", name_of((void *)r));
	got_sig = 0;
	raise(SIGUSR2);
	printf("sysv called: sig=%d\n", (int)got_sig);
	show("sysv after one (SA_RESETHAND)", SIGUSR2);

	sa.sa_handler = h_reenter;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGURG, &sa, NULL);
	r = sigset(SIGURG, h_plain);
	printf("sigset returned %s\n", name_of((void *)r));
	show("after sigset", SIGURG);
	sigaction(SIGURG, &sa, NULL);
	raise(SIGURG);
	printf("re-entered: depth=%d max=%d\n", (int)depth, (int)max_depth);

	/* ignored, whatever SA_SIGINFO says: the pointer is SIG_IGN */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGWINCH, &sa, NULL);
	show("ignored with SA_SIGINFO", SIGWINCH);
	raise(SIGWINCH);
	printf("ignored: still here\n");

	memset(&old, 0, sizeof old);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGURG, &sa, &old);
	printf("back to default: old=%s old_flags=%#x\n", name_of((void *)old.sa_handler),
	       (unsigned)(old.sa_flags & ~SA_RESTORER));
	show("default", SIGURG);
	errno = 0;
	int bad = sigaction(0, &sa, NULL);
	printf("bad signal: %d errno=%s\n", bad, strerror(errno));
	return 0;
}

/* ---- reloads ---- */

static const char *cfg_path, *log_path;
static int port;
static char *cfg_text;
static size_t cfg_len;
static int edits;
static volatile int in_count;
static sigjmp_buf jb;
static jmp_buf jb_plain;
static int jump_how; /* 0 return; 1 siglongjmp, 2 longjmp, 3 _longjmp, 4 __longjmp_chk */

static int reload_lines(void)
{
	int fd = open(log_path, O_RDONLY | O_CLOEXEC), n = 0;
	if (fd < 0)
		return -1;
	char buf[8192];
	static const char key[] = "event=reload ";
	size_t k = 0;
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			k = buf[i] == key[k] ? k + 1 : buf[i] == key[0] ? 1 : 0;
			if (k == sizeof key - 1) {
				n++;
				k = 0;
			}
		}
	}
	close(fd);
	return n;
}

static void edit(void)
{
	char tmp[4200], line[64];
	snprintf(tmp, sizeof tmp, "%s.tmp", cfg_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int n = snprintf(line, sizeof line, "# edit %d\n", ++edits);
	if (fd < 0 || write(fd, cfg_text, cfg_len) != (ssize_t)cfg_len ||
	    write(fd, line, (size_t)n) != n || close(fd) != 0 || rename(tmp, cfg_path) != 0) {
		perror("edit");
		exit(1);
	}
	struct timespec ts = { 0, 30 * 1000 * 1000 }; /* > reload=10ms */
	nanosleep(&ts, NULL);
}

static void on_sig(int sig)
{
	(void)sig;
	int e = errno, fd = conn(port);
	if (fd >= 0)
		close(fd);
	in_count = reload_lines();
	errno = e;
	switch (jump_how) {
	case 1: siglongjmp(jb, 1);
	case 2: longjmp(jb_plain, 1);
	case 3: _longjmp(jb_plain, 1);
	case 4: __longjmp_chk(jb, 1);
	}
}

/* A connect from a frame far below the one that raised the signal (so
 * below where the handler's frame was): a handler left by a jump is told
 * from a running one by the jump, not by where the stack is now. */
static __attribute__((noinline)) void deep_conn(void)
{
	volatile char pad[256 * 1024];
	pad[0] = 0;
	pad[sizeof pad - 1] = 0;
	int fd = conn(port);
	if (fd >= 0)
		close(fd);
	(void)pad[0];
}

static void one(const char *kind, int sig, int how, int jump)
{
	int before = reload_lines();
	edit();
	jump_how = jump;
	in_count = -1;
	if (jump == 2 || jump == 3) {
		if (setjmp(jb_plain) == 0)
			raise(sig);
	} else if (jump) {
		if (sigsetjmp(jb, 1) == 0)
			raise(sig);
	} else {
		raise(sig);
	}
	if (how == 1) /* sysv: SA_RESETHAND, set again as SysV programs do */
		sysv_signal(sig, on_sig);
	deep_conn();
	int after = reload_lines();
	printf("%s in_handler=%d after=%d\n", kind, in_count - before, after - before);
	fflush(stdout);
}

/* A SIGALRM handler that sets SIGUSR2's SysV handler (a SysV program's
 * handler setting another), run while a connect waits. */
static void rearm_usr2(int sig)
{
	(void)sig;
	sysv_signal(SIGUSR2, on_sig);
}

static void sysv_in_wait(int bh)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = rearm_usr2; /* no SA_RESTART: the connect ends EINTR */
	sigaction(SIGALRM, &sa, NULL);
	struct sockaddr_in a = lo(bh);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	alarm(1);
	int r = connect(fd, (struct sockaddr *)&a, sizeof a), e = errno;
	alarm(0);
	printf("wait_errno=%s\n", r == 0 ? "none" : e == EINTR ? "EINTR" : strerror(e));
	close(fd);
	one("sysv_in_wait", SIGUSR2, 1, 0);
}

static int reloads(int bh)
{
	FILE *f = fopen(cfg_path, "re");
	if (!f)
		return 1;
	cfg_text = malloc(65536);
	cfg_len = fread(cfg_text, 1, 65535, f);
	fclose(f);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sig;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	one("nodefer", SIGUSR1, 0, 0);

	sysv_signal(SIGUSR2, on_sig);
	one("sysv_signal", SIGUSR2, 1, 0);

	stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16 };
	sigaltstack(&ss, NULL);
	sa.sa_flags = SA_NODEFER | SA_ONSTACK;
	sigaction(SIGURG, &sa, NULL);
	one("nodefer_onstack", SIGURG, 0, 0);

	one("siglongjmp", SIGUSR1, 0, 1);
	one("longjmp", SIGUSR1, 0, 2);
	one("_longjmp", SIGUSR1, 0, 3);
	one("__longjmp_chk", SIGURG, 0, 4);
	/* and after all those jumps, a plain one again */
	one("nodefer_again", SIGUSR1, 0, 0);
	if (bh)
		sysv_in_wait(bh);
	return 0;
}

/* ---- out of a hook's wait ---- */

static void on_alarm(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* SIGALRM's handler jumps to jb (plain sigaction: SIGALRM blocked in it) */
static void alarm_jumps(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
}

static int jumpout(int bh, int okport)
{
	alarm_jumps();
	static volatile int fd, nonblock, i;
	for (i = 0; i < 2; i++) {
		struct sockaddr_in a = lo(bh);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (sigsetjmp(jb, 1) == 0) {
			alarm(1);
			if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
				printf("connected?\n");
			printf("connect returned: %s\n", strerror(errno));
		}
		alarm(0);
		int fl = fcntl(fd, F_GETFL);
		nonblock |= fl >= 0 && (fl & O_NONBLOCK);
		close(fd);
	}
	printf("nonblock=%d\n", nonblock);
	int ok = 0;
	for (int i = 0; i < 3; i++) {
		int c = conn(okport);
		char buf[512];
		static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
		if (c < 0)
			continue;
		if (write(c, req, sizeof req - 1) == (ssize_t)(sizeof req - 1) &&
		    read(c, buf, sizeof buf) > 0)
			ok++;
		close(c);
	}
	printf("ok=%d\n", ok);
	return 0;
}

static int bulkjump(int hang, int web, const char *cmd)
{
	alarm_jumps();
	static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char buf[512];
	/* B's first request answered (B idle), then A's holds the ticket */
	int b = conn(web);
	if (b < 0 || write(b, req, sizeof req - 1) != (ssize_t)(sizeof req - 1) ||
	    read(b, buf, sizeof buf) <= 0)
		return 1;
	int a = conn(hang);
	if (a < 0 || write(a, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
		return 1;
	static volatile int jumped;
	if (sigsetjmp(jb, 1) == 0) {
		alarm(1);
		ssize_t w = write(b, req, sizeof req - 1);
		printf("first write returned %zd (%s)\n", w, w < 0 ? strerror(errno) : "");
	} else {
		jumped = 1;
	}
	alarm(0);
	printf("jumped=%d\n", jumped);
	if (cmd && system(cmd) != 0)
		printf("command failed\n");
	close(a);
	int ok = write(b, req, sizeof req - 1) == (ssize_t)(sizeof req - 1) &&
		 read(b, buf, sizeof buf) > 0;
	printf("b_ok=%d\n", ok);
	close(b);
	return 0;
}

/* racing: handlers 0..7 (0..3 of one thread, 4..7 of the other) */
static volatile sig_atomic_t race_called = -1;
#define RACE_H(i) static void race_h##i(int sig) { (void)sig; race_called = i; }
RACE_H(0) RACE_H(1) RACE_H(2) RACE_H(3) RACE_H(4) RACE_H(5) RACE_H(6) RACE_H(7)
static void (*const race_hs[8])(int) = { race_h0, race_h1, race_h2, race_h3,
					 race_h4, race_h5, race_h6, race_h7 };
#define RACE_N 20000
static int race_set[2][8], race_was[2][9]; /* [8]: SIG_DFL; -1 others */
static int race_bad[2];

static int race_index(void (*h)(int))
{
	for (int i = 0; i < 8; i++)
		if (h == race_hs[i])
			return i;
	return h == SIG_DFL ? 8 : -1;
}

static void *race_thread(void *arg)
{
	int me = (int)(long)arg;
	for (int n = 0; n < RACE_N; n++) {
		int i = me * 4 + n % 4;
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = race_hs[i];
		sa.sa_flags = SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGUSR1, &sa, &old) != 0) {
			race_bad[me]++;
			continue;
		}
		int w = (old.sa_flags & SA_SIGINFO) ? -1 : race_index(old.sa_handler);
		race_set[me][i]++;
		if (w < 0)
			race_bad[me]++;
		else
			race_was[me][w]++;
	}
	return NULL;
}

static int racing(void)
{
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, race_thread, (void *)i) != 0)
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	struct sigaction cur;
	sigaction(SIGUSR1, NULL, &cur);
	int asked = (cur.sa_flags & SA_SIGINFO) ? -1 : race_index(cur.sa_handler);
	raise(SIGUSR1);
	int unbalanced = race_bad[0] + race_bad[1];
	for (int i = 0; i < 9; i++) {
		int set = i < 8 ? race_set[0][i] + race_set[1][i] : 1; /* SIG_DFL: at the start */
		int was = race_was[0][i] + race_was[1][i];
		if (was != set - (i == asked))
			unbalanced++;
	}
	printf("racing unbalanced=%d asked=%d called=%d\n", unbalanced, asked, (int)race_called);
	return 0;
}

/* faultjump */
static __thread sigjmp_buf fj_jb;
static __thread ucontext_t fj_uc;
static int fj_ctx;
static __thread volatile int fj_armed;
static volatile int fj_jumps, fj_goal, fj_tid, fj_stopped, fj_end;

static void fj_segv(int sig)
{
	(void)sig;
	if (fj_armed) {
		fj_jumps++;
		if (fj_ctx)
			setcontext(&fj_uc);
		siglongjmp(fj_jb, 1);
	}
}

/* SIGUSR1's SA_NODEFER handler set over and over on this thread, which is
 * fj_tid, until fj_goal SIGSEGVs have jumped (or setcontext'd) back here */
static __attribute__((noinline)) void fj_sigactions(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = race_h0;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	getcontext(&fj_uc);
	fj_armed = 1;
	while (fj_jumps < fj_goal)
		sigaction(SIGUSR1, &sa, NULL);
	fj_armed = 0;
}

/* SIGSEGV to fj_tid every 200 us until fj_goal jumps were taken */
static void fj_signal(void)
{
	while (fj_jumps < fj_goal) {
		syscall(SYS_tgkill, getpid(), fj_tid, SIGSEGV);
		struct timespec ts = { 0, 200 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void *fj_signaller(void *arg)
{
	(void)arg;
	fj_signal();
	return NULL;
}

static void *fj_thread(void *arg)
{
	(void)arg;
	fj_tid = (int)syscall(SYS_gettid);
	sigsetjmp(fj_jb, 1);
	fj_sigactions();
	fj_stopped = 1;
	while (!fj_end) /* alive meanwhile: its thread id is not gone */
		sched_yield();
	return NULL;
}

static jmp_buf fj_deep_jb;

static __attribute__((noinline)) void fj_deep(void)
{
	volatile char buf[65536];
	for (unsigned i = 0; i < sizeof buf; i++)
		buf[i] = 0x41;
	longjmp(fj_deep_jb, 1);
}

static int faultjump(int ctx)
{
	fj_ctx = ctx;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fj_segv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	fj_goal = 300;
	pthread_t t;
	if (pthread_create(&t, NULL, fj_thread, NULL) != 0)
		return 1;
	while (!fj_tid) /* its thread id, told by it */
		sched_yield();
	fj_signal();
	int jumps = fj_jumps;
	while (!fj_stopped)
		sched_yield();
	alarm(10); /* SIG_DFL: a hang ends the program */
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	sa.sa_handler = race_h4;
	for (int i = 0; i < 100; i++)
		sigaction(SIGUSR2, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	alarm(0);
	fj_end = 1;
	pthread_join(t, NULL);
	if (ctx) {
		/* the same on this thread (the other is gone), then a jump
		 * over the stack its sigactions left */
		fj_jumps = 0;
		fj_goal = 40;
		fj_tid = (int)syscall(SYS_gettid);
		pthread_t k;
		if (pthread_create(&k, NULL, fj_signaller, NULL) != 0)
			return 1;
		fj_sigactions();
		pthread_join(k, NULL);
		sigset_t m;
		sigemptyset(&m);
		sigprocmask(SIG_SETMASK, &m, NULL);
		alarm(10);
		if (!setjmp(fj_deep_jb))
			fj_deep();
		alarm(0);
		sigprocmask(SIG_SETMASK, NULL, &m);
		printf("deep blocked=%d\n", sigismember(&m, SIGTERM));
	}
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	printf("faultjump jumps=%d after_ms=%ld\n", jumps, ms);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "dispositions") == 0)
		return dispositions();
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "reloads") == 0) {
		cfg_path = argv[2];
		log_path = argv[3];
		port = atoi(argv[4]);
		return reloads(argc == 6 ? atoi(argv[5]) : 0);
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "bulkjump") == 0)
		return bulkjump(atoi(argv[2]), atoi(argv[3]), argc == 5 ? argv[4] : NULL);
	if (argc == 2 && strcmp(argv[1], "racing") == 0)
		return racing();
	if ((argc == 2 || (argc == 3 && strcmp(argv[2], "ctx") == 0)) &&
	    strcmp(argv[1], "faultjump") == 0)
		return faultjump(argc == 3);
	if (argc == 4 && strcmp(argv[1], "jumpout") == 0)
		return jumpout(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: see the header\n");
	return 2;
}
