/* hookcalls.c - call every function the shim hooks, once, for
 * tests/36-hooks-passthrough.t.
 *
 *   hookcalls DIR
 *
 * The list of functions is shim/hooks/hooks.def itself, expanded here: for
 * each name in it, in its order, the case of that name below makes one call
 * on objects that belong to no breaker (a TCP connection to a listener of
 * our own on 127.0.0.1, a closed port there, pipes, a UDP socket, files in
 * DIR, bad fds, "localhost") and prints one line
 *
 *   NAME ret=R errno=E [more=...]
 *
 * R is the return value (NULL/non-NULL for pointers, fd numbers and byte
 * counts as numbers), E the name of errno after the call (0 when none;
 * errno is 0 before it).  Run twice, without and under the shim, the output
 * must be the same.  Everything around the calls is checked: a setup step
 * that fails exits 1.
 *
 * A name in hooks.def without a case here prints "NAME NO-CASE" and the
 * program exits 3 after the others (so does a case whose name hooks.def
 * does not list): a new hook needs its case here. */
#undef _FORTIFY_SOURCE /* read must stay read, not __read_chk */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np, the *64 functions (the Makefile passes it too) */
#endif
#include <dlfcn.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <time.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/close_range.h>

/* glibc's BSD signal and fortified longjmp, not declared by its headers
 * here; sigset is deprecated, not gone */
extern sighandler_t bsd_signal(int sig, sighandler_t h);
extern void __longjmp_chk(sigjmp_buf env, int val) __attribute__((noreturn));
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* The names, from the one list. */
static const char *const hooks[] = {
#define RC_HOOK(ret, name, params) #name,
#include "../../shim/hooks/hooks.def"
};
#define NHOOKS (sizeof hooks / sizeof hooks[0])

/* glibc's fortify entry points: declared only under _FORTIFY_SOURCE. */
extern int __open_2(const char *, int);
extern int __open64_2(const char *, int);
extern ssize_t __read_chk(int, void *, size_t, size_t);
extern ssize_t __recv_chk(int, void *, size_t, size_t, int);
extern ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);

/* ---- fixtures, made once in main in a fixed order ---- */

static const char *dir;               /* DIR */
static char data_path[4096];          /* DIR/data, holding "hello\n" */
static char missing_path[4096];       /* DIR/missing, never created */
static struct sockaddr_in lo;         /* 127.0.0.1, from getaddrinfo("localhost") */
static struct sockaddr_in lst_addr;   /* the listener's address */
static struct sockaddr_in closed_addr; /* a loopback port nothing listens on */
static int lst = -1;                  /* non-blocking TCP listener */
static int cli = -1, srv = -1;        /* a connection to it: client, accepted end */

static void die(const char *what)
{
	fprintf(stderr, "hookcalls: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int chk(int r, const char *what)
{
	if (r < 0)
		die(what);
	return r;
}

static void xclose(int fd)
{
	chk(close(fd), "close");
}

/* Wait (5 s at most) until FD is readable. */
static void readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1)
		die("poll: nothing to read");
}

/* Read and drop exactly N bytes from the accepted end. */
static void drain(size_t n)
{
	char b[256];
	while (n > 0) {
		readable(srv);
		ssize_t r = chk((int)recv(srv, b, n < sizeof b ? n : sizeof b, 0), "drain");
		if (r == 0) {
			errno = EPIPE;
			die("drain: EOF");
		}
		n -= (size_t)r;
	}
}

/* Write S to the client end and wait until the accepted end has it all. */
static void feed(const char *s)
{
	size_t n = strlen(s);
	if (chk((int)write(cli, s, n), "feed") != (ssize_t)n)
		die("feed: short write");
	for (int i = 0; i < 500; i++) {
		int q = 0;
		chk(ioctl(srv, FIONREAD, &q), "FIONREAD");
		if ((size_t)q >= n)
			return;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	die("feed: the bytes did not arrive");
}

static int tcp_socket(int flags)
{
	return chk(socket(AF_INET, SOCK_STREAM | flags, 0), "socket");
}

/* A blocking client connected to the listener, and the accepted end. */
static void tcp_pair(int *c, int *s)
{
	*c = tcp_socket(0);
	chk(connect(*c, (struct sockaddr *)&lst_addr, sizeof lst_addr), "connect to the listener");
	readable(lst);
	*s = chk(accept(lst, NULL, NULL), "accept");
}

static void fixtures(void)
{
	snprintf(data_path, sizeof data_path, "%s/data", dir);
	snprintf(missing_path, sizeof missing_path, "%s/missing", dir);
	FILE *f = fopen(data_path, "w");
	if (!f || fputs("hello\n", f) < 0 || fclose(f) != 0)
		die(data_path);

	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
	int g = getaddrinfo("localhost", NULL, &hints, &ai);
	if (g != 0) {
		fprintf(stderr, "hookcalls: getaddrinfo localhost: %s\n", gai_strerror(g));
		exit(1);
	}
	memcpy(&lo, ai->ai_addr, sizeof lo);
	freeaddrinfo(ai);

	socklen_t l = sizeof lst_addr;
	lst = tcp_socket(SOCK_NONBLOCK);
	lst_addr = lo;
	lst_addr.sin_port = 0;
	chk(bind(lst, (struct sockaddr *)&lst_addr, sizeof lst_addr), "bind");
	chk(listen(lst, 16), "listen");
	chk(getsockname(lst, (struct sockaddr *)&lst_addr, &l), "getsockname");

	/* a port that was free a moment ago, bound and let go */
	int t = tcp_socket(0);
	closed_addr = lo;
	closed_addr.sin_port = 0;
	l = sizeof closed_addr;
	chk(bind(t, (struct sockaddr *)&closed_addr, sizeof closed_addr), "bind");
	chk(getsockname(t, (struct sockaddr *)&closed_addr, &l), "getsockname");
	xclose(t);

	tcp_pair(&cli, &srv);
}

/* ---- output ---- */

static const char *ename(int e)
{
	static char b[32];
	if (e == 0)
		return "0";
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(b, sizeof b, "%d", e);
	return b;
}

/* One line: NAME ret=R errno=E, then the optional printf-style extra. */
static void line(const char *name, const char *ret, int err, const char *fmt, ...)
{
	printf("%s ret=%s errno=%s", name, ret, ename(err));
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		putchar(' ');
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
}

static const char *num(long long v)
{
	static char b[32];
	snprintf(b, sizeof b, "%lld", v);
	return b;
}

#define PTR(p) ((p) ? "non-NULL" : "NULL")

/* The case of function X is c_X; NAME is X.  CALL makes the one call with
 * errno 0 before it and keeps errno after it in ERR. */
#define NAME (__func__ + 2)
#define CALL(var, expr) (errno = 0, (var) = (expr), err = errno)
#define OUT(r, ...) line(NAME, num((long long)(r)), err, __VA_ARGS__)

/* ---- sockets and connect ---- */

static void c_connect(void) /* a loopback port nothing listens on */
{
	int s = tcp_socket(0), r, err;
	CALL(r, connect(s, (struct sockaddr *)&closed_addr, sizeof closed_addr));
	OUT(r, NULL);
	xclose(s);
}

static void c_getsockopt(void) /* SO_ERROR of the established connection */
{
	int v = -1, r, err;
	socklen_t l = sizeof v;
	CALL(r, getsockopt(cli, SOL_SOCKET, SO_ERROR, &v, &l));
	OUT(r, "so_error=%s len=%u", ename(v), (unsigned)l);
}

/* ---- fd bookkeeping ---- */

static void c_socket(void)
{
	int r, err;
	CALL(r, socket(AF_INET, SOCK_STREAM, 0));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_accept(void)
{
	int c = tcp_socket(0), r, err;
	chk(connect(c, (struct sockaddr *)&lst_addr, sizeof lst_addr), "connect to the listener");
	readable(lst);
	struct sockaddr_in peer, me;
	socklen_t l = sizeof peer, ml = sizeof me;
	CALL(r, accept(lst, (struct sockaddr *)&peer, &l));
	chk(getsockname(c, (struct sockaddr *)&me, &ml), "getsockname");
	OUT(r, "peer_is_client=%d", r >= 0 && l == sizeof peer && peer.sin_port == me.sin_port);
	if (r >= 0)
		xclose(r);
	xclose(c);
}

static void c_accept4(void) /* nothing pending on the non-blocking listener */
{
	int r, err;
	CALL(r, accept4(lst, NULL, NULL, SOCK_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_close(void) /* a TCP socket's number, closed already */
{
	int s = tcp_socket(0), r, err;
	xclose(s);
	CALL(r, close(s));
	OUT(r, NULL);
}

static void c_close_range(void) /* closefrom(300): a dup at 300 and up */
{
	int p[2], r, err;
	chk(pipe(p), "pipe");
	int d = chk(fcntl(p[0], F_DUPFD, 300), "F_DUPFD 300");
	CALL(r, close_range(300, ~0U, 0));
	long gone = syscall(SYS_fcntl, d, F_GETFD); /* not through the shim */
	OUT(r, "dup_closed=%d", gone == -1 && errno == EBADF);
	xclose(p[0]);
	xclose(p[1]);
}

static void c_closefrom(void) /* a dup at 310 and up */
{
	int p[2], err, r = 0;
	chk(pipe(p), "pipe");
	int d = chk(fcntl(p[0], F_DUPFD, 310), "F_DUPFD 310");
	errno = 0;
	closefrom(310);
	err = errno;
	long gone = syscall(SYS_fcntl, d, F_GETFD);
	OUT(r, "dup_closed=%d", gone == -1 && errno == EBADF);
	xclose(p[0]);
	xclose(p[1]);
}

static void c_syscall(void) /* a raw close of a pipe end, then of a bad fd */
{
	int p[2], err;
	long r;
	chk(pipe(p), "pipe");
	CALL(r, syscall(SYS_close, p[0]));
	long r2 = syscall(SYS_close, -1);
	int e2 = errno;
	OUT(r, "again=%ld/%s", r2, e2 ? strerrorname_np(e2) : "0");
	xclose(p[1]);
}

static void c_dup(void)
{
	int r, err;
	CALL(r, dup(cli));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_dup2(void) /* a pipe onto an open TCP socket's number */
{
	int p[2], s = tcp_socket(0), r, err;
	chk(pipe(p), "pipe");
	CALL(r, dup2(p[0], s));
	OUT(r, "is_newfd=%d", r == s);
	xclose(s);
	xclose(p[0]);
	xclose(p[1]);
}

static void c_dup3(void) /* onto itself: EINVAL, unlike dup2 */
{
	int r, err;
	CALL(r, dup3(cli, cli, O_CLOEXEC));
	OUT(r, NULL);
}

static void c_fcntl(void) /* F_SETFL O_NONBLOCK on a TCP socket */
{
	int s = tcp_socket(0), r, err;
	CALL(r, fcntl(s, F_SETFL, O_NONBLOCK));
	OUT(r, "nonblock=%d", !!(chk(fcntl(s, F_GETFL), "F_GETFL") & O_NONBLOCK));
	xclose(s);
}

static void c_fcntl64(void) /* fd -1 */
{
	int r, err;
	CALL(r, fcntl64(-1, F_GETFD));
	OUT(r, NULL);
}

static void c_ioctl(void) /* FIONBIO on a TCP socket */
{
	int s = tcp_socket(0), one = 1, r, err;
	CALL(r, ioctl(s, FIONBIO, &one));
	OUT(r, "nonblock=%d", !!(chk(fcntl(s, F_GETFL), "F_GETFL") & O_NONBLOCK));
	xclose(s);
}

static void c_open(void)
{
	int r, err;
	CALL(r, open(data_path, O_RDONLY | O_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_open64(void) /* a file that does not exist */
{
	int r, err;
	CALL(r, open64(missing_path, O_RDONLY));
	OUT(r, NULL);
}

static void c_openat(void) /* O_CREAT: the mode argument */
{
	int d = chk(open(dir, O_RDONLY | O_DIRECTORY), "open DIR"), r, err;
	CALL(r, openat(d, "openat", O_WRONLY | O_CREAT | O_EXCL, 0600));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
	xclose(d);
}

static void c_openat64(void) /* directory fd INT_MAX */
{
	int r, err;
	CALL(r, openat64(INT_MAX, "data", O_RDONLY));
	OUT(r, NULL);
}

static void c___open_2(void)
{
	int r, err;
	CALL(r, __open_2(data_path, O_RDONLY));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c___open64_2(void) /* a file that does not exist */
{
	int r, err;
	CALL(r, __open64_2(missing_path, O_RDONLY));
	OUT(r, NULL);
}

static void c_creat(void)
{
	char p[4096];
	int r, err;
	snprintf(p, sizeof p, "%s/creat", dir);
	CALL(r, creat(p, 0600));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_pipe(void)
{
	int p[2] = { -1, -1 }, r, err;
	CALL(r, pipe(p));
	OUT(r, "fds=%d,%d", p[0], p[1]);
	if (r == 0)
		xclose(p[0]), xclose(p[1]);
}

static void c_pipe2(void) /* flags it does not know */
{
	int p[2] = { -1, -1 }, r, err;
	CALL(r, pipe2(p, -1));
	OUT(r, "fds=%d,%d", p[0], p[1]);
	if (r == 0)
		xclose(p[0]), xclose(p[1]);
}

static void c_socketpair(void)
{
	int p[2] = { -1, -1 }, r, err;
	CALL(r, socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	OUT(r, "fds=%d,%d", p[0], p[1]);
	if (r == 0)
		xclose(p[0]), xclose(p[1]);
}

static void c_eventfd(void)
{
	int r, err;
	CALL(r, eventfd(0, EFD_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_epoll_create(void) /* a size it refuses */
{
	int r, err;
	CALL(r, epoll_create(0));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_timerfd_create(void)
{
	int r, err;
	CALL(r, timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_signalfd(void) /* a new one, then an fd that is none */
{
	sigset_t m;
	int r, err;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	CALL(r, signalfd(-1, &m, SFD_CLOEXEC));
	int r2 = signalfd(INT_MAX, &m, 0), e2 = errno;
	OUT(r, "again=%d/%s", r2, e2 ? strerrorname_np(e2) : "0");
	if (r >= 0)
		xclose(r);
}

static void c_inotify_init(void)
{
	int r, err;
	CALL(r, inotify_init());
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_inotify_init1(void) /* a flag it does not know */
{
	int r, err;
	CALL(r, inotify_init1(0x1));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_pidfd_open(void) /* ourselves, then no such pid */
{
	int r, err;
	CALL(r, pidfd_open(getpid(), 0));
	int r2 = pidfd_open(INT_MAX, 0), e2 = errno;
	OUT(r, "again=%d/%s", r2, e2 ? strerrorname_np(e2) : "0");
	if (r >= 0)
		xclose(r);
}

static void c_epoll_create1(void) /* a flag it does not know */
{
	int r, err;
	CALL(r, epoll_create1(0x4000));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_memfd_create(void)
{
	int r, err;
	CALL(r, memfd_create("hookcalls", MFD_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_fopen(void)
{
	FILE *f;
	int err;
	CALL(f, fopen(data_path, "r"));
	line(NAME, PTR(f), err, "fileno=%d", f ? fileno(f) : -1);
	if (f && fclose(f) != 0)
		die("fclose");
}

static void c_fopen64(void) /* a file that does not exist */
{
	FILE *f;
	int err;
	CALL(f, fopen64(missing_path, "r"));
	line(NAME, PTR(f), err, NULL);
	if (f)
		fclose(f);
}

static void c_mkstemp(void)
{
	char t[4096];
	int r, err;
	snprintf(t, sizeof t, "%s/mkstemp.XXXXXX", dir);
	CALL(r, mkstemp(t));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_mkostemp(void) /* a template without XXXXXX */
{
	char t[4096];
	int r, err;
	snprintf(t, sizeof t, "%s/mkostemp", dir);
	CALL(r, mkostemp(t, O_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_mkstemps(void)
{
	char t[4096];
	int r, err;
	snprintf(t, sizeof t, "%s/mkstemps.XXXXXX.tmp", dir);
	CALL(r, mkstemps(t, 4));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_mkostemps(void) /* in a directory that does not exist */
{
	char t[4096];
	int r, err;
	snprintf(t, sizeof t, "%s/missing/mkostemps.XXXXXX.s", dir);
	CALL(r, mkostemps(t, 2, O_CLOEXEC));
	OUT(r, NULL);
	if (r >= 0)
		xclose(r);
}

static void c_tmpfile(void)
{
	FILE *f;
	int err;
	CALL(f, tmpfile());
	line(NAME, PTR(f), err, "fileno=%d", f ? fileno(f) : -1);
	if (f && fclose(f) != 0)
		die("fclose");
}

/* ---- the data path ---- */

static void c_read(void) /* a pipe holding 5 bytes */
{
	char b[64] = "";
	int p[2], err;
	ssize_t r;
	chk(pipe(p), "pipe");
	chk((int)write(p[1], "pipe!", 5), "write");
	CALL(r, read(p[0], b, sizeof b - 1));
	OUT(r, "data=%.*s", r > 0 ? (int)r : 0, b);
	xclose(p[0]);
	xclose(p[1]);
}

static void c_write(void) /* on the TCP connection */
{
	int err;
	ssize_t r;
	CALL(r, write(cli, "write", 5));
	OUT(r, NULL);
	if (r > 0)
		drain((size_t)r);
}

static void c_readv(void) /* 6 bytes into two buffers */
{
	char a[3], b[64];
	struct iovec v[2] = { { a, sizeof a }, { b, sizeof b } };
	int err;
	ssize_t r;
	feed("readv!");
	CALL(r, readv(srv, v, 2));
	OUT(r, "data=%.3s%.*s", a, r > 3 ? (int)r - 3 : 0, b);
}

static void c_writev(void) /* a pipe whose reader is gone */
{
	struct iovec v[2] = { { "write", 5 }, { "v", 1 } };
	int p[2], err;
	ssize_t r;
	chk(pipe(p), "pipe");
	xclose(p[0]);
	CALL(r, writev(p[1], v, 2));
	OUT(r, NULL);
	xclose(p[1]);
}

static void c_send(void) /* on the TCP connection */
{
	int err;
	ssize_t r;
	CALL(r, send(cli, "send", 4, MSG_NOSIGNAL));
	OUT(r, NULL);
	if (r > 0)
		drain((size_t)r);
}

static void c_recv(void) /* nothing to read, MSG_DONTWAIT */
{
	char b[64];
	int err;
	ssize_t r;
	CALL(r, recv(srv, b, sizeof b, MSG_DONTWAIT));
	OUT(r, NULL);
}

/* A UDP socket bound to 127.0.0.1, and its address. */
static int udp_self(struct sockaddr_in *a)
{
	int u = chk(socket(AF_INET, SOCK_DGRAM, 0), "socket udp");
	socklen_t l = sizeof *a;
	*a = lo;
	a->sin_port = 0;
	chk(bind(u, (struct sockaddr *)a, sizeof *a), "bind udp");
	chk(getsockname(u, (struct sockaddr *)a, &l), "getsockname udp");
	return u;
}

static void c_sendto(void) /* a UDP datagram to itself */
{
	struct sockaddr_in a;
	int u = udp_self(&a), err;
	ssize_t r;
	CALL(r, sendto(u, "dgram", 5, 0, (struct sockaddr *)&a, sizeof a));
	OUT(r, NULL);
	xclose(u);
}

static void c_recvfrom(void) /* the datagram a UDP socket sent itself */
{
	struct sockaddr_in a, from;
	socklen_t fl = sizeof from;
	char b[64];
	int u = udp_self(&a), err;
	ssize_t r;
	chk((int)sendto(u, "dgram", 5, 0, (struct sockaddr *)&a, sizeof a), "sendto");
	readable(u);
	CALL(r, recvfrom(u, b, sizeof b, 0, (struct sockaddr *)&from, &fl));
	OUT(r, "data=%.*s from_self=%d", r > 0 ? (int)r : 0, b,
	    fl == sizeof from && from.sin_port == a.sin_port);
	xclose(u);
}

static void c_sendmsg(void) /* two buffers over a Unix socketpair */
{
	struct iovec v[2] = { { "send", 4 }, { "msg", 3 } };
	struct msghdr m = { .msg_iov = v, .msg_iovlen = 2 };
	int p[2], err;
	ssize_t r;
	chk(socketpair(AF_UNIX, SOCK_STREAM, 0, p), "socketpair");
	CALL(r, sendmsg(p[0], &m, 0));
	OUT(r, NULL);
	xclose(p[0]);
	xclose(p[1]);
}

static void c_recvmsg(void) /* on the TCP connection */
{
	char b[64];
	struct iovec v = { b, sizeof b };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
	int err;
	ssize_t r;
	feed("recvmsg");
	CALL(r, recvmsg(srv, &m, 0));
	OUT(r, "data=%.*s flags=%d", r > 0 ? (int)r : 0, b, m.msg_flags);
}

static void c___read_chk(void) /* a pipe's number, closed already */
{
	char b[16];
	int p[2], err;
	ssize_t r;
	chk(pipe(p), "pipe");
	xclose(p[0]);
	xclose(p[1]);
	CALL(r, __read_chk(p[0], b, sizeof b, sizeof b));
	OUT(r, NULL);
}

static void c___recv_chk(void) /* on the TCP connection */
{
	char b[64];
	int err;
	ssize_t r;
	feed("chk");
	CALL(r, __recv_chk(srv, b, sizeof b, sizeof b, 0));
	OUT(r, "data=%.*s", r > 0 ? (int)r : 0, b);
}

static void c___recvfrom_chk(void) /* a pipe is not a socket */
{
	char b[64];
	int p[2], err;
	ssize_t r;
	chk(pipe(p), "pipe");
	CALL(r, __recvfrom_chk(p[0], b, sizeof b, sizeof b, MSG_DONTWAIT, NULL, NULL));
	OUT(r, NULL);
	xclose(p[0]);
	xclose(p[1]);
}

/* ---- name resolution ---- */

static void c_getaddrinfo(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char a[INET_ADDRSTRLEN] = "-";
	int r, err;
	CALL(r, getaddrinfo("localhost", "80", &hints, &ai));
	if (r == 0 && ai && ai->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, a, sizeof a);
	OUT(r, "first=%s:%d", a,
	    r == 0 && ai ? ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port) : 0);
	if (r == 0)
		freeaddrinfo(ai);
}

/* The first IPv4 address of H, for the line. */
static const char *first4(const struct hostent *h)
{
	static char a[INET_ADDRSTRLEN];
	if (!h || h->h_addrtype != AF_INET || !h->h_addr_list || !h->h_addr_list[0])
		return "-";
	inet_ntop(AF_INET, h->h_addr_list[0], a, sizeof a);
	return a;
}

static void c_gethostbyname(void)
{
	struct hostent *h;
	int err;
	CALL(h, gethostbyname("localhost"));
	line(NAME, PTR(h), err, "first=%s", first4(h));
}

static void c_gethostbyname2(void)
{
	struct hostent *h;
	int err;
	CALL(h, gethostbyname2("localhost", AF_INET));
	line(NAME, PTR(h), err, "first=%s", first4(h));
}

static void c_gethostbyname_r(void)
{
	struct hostent he, *res = NULL;
	char buf[4096];
	int herr = 0, r, err;
	CALL(r, gethostbyname_r("localhost", &he, buf, sizeof buf, &res, &herr));
	OUT(r, "result=%s first=%s", PTR(res), first4(res));
}

static void c_gethostbyname2_r(void) /* a buffer too small: ERANGE */
{
	struct hostent he, *res = NULL;
	char buf[8];
	int herr = 0, r, err;
	CALL(r, gethostbyname2_r("localhost", AF_INET, &he, buf, sizeof buf, &res, &herr));
	OUT(r, "result=%s", PTR(res));
}

/* ---- signal dispositions ---- */

static void c_sigaction(void) /* SIGBUS as the program sees it, then a bad signal */
{
	struct sigaction old;
	int r, err;
	memset(&old, 0, sizeof old);
	CALL(r, sigaction(SIGBUS, NULL, &old));
	int r2 = sigaction(-1, NULL, &old), e2 = errno;
	OUT(r, "bus_default=%d again=%d/%s", old.sa_handler == SIG_DFL, r2,
	    e2 ? strerrorname_np(e2) : "0");
}

static void on_usr2(int sig)
{
	(void)sig;
}

static void c_signal(void) /* a handler for SIGBUS and back, then a bad signal */
{
	int err;
	sighandler_t r;
	CALL(r, signal(SIGBUS, on_usr2));
	sighandler_t back = signal(SIGBUS, r);
	sighandler_t r2 = signal(-1, SIG_IGN);
	int e2 = errno;
	OUT(r == SIG_DFL ? 0 : -1, "back_is_ours=%d again=%s/%s", back == on_usr2,
	    r2 == SIG_ERR ? "SIG_ERR" : "?", e2 ? strerrorname_np(e2) : "0");
}

/* a handler set, then the previous one back; each returns the one before */
#define SIGNAL_LIKE(fn)                                                         \
	static void c_##fn(void)                                               \
	{                                                                      \
		int err;                                                       \
		sighandler_t r;                                                \
		CALL(r, fn(SIGUSR2, on_usr2));                                 \
		sighandler_t back = fn(SIGUSR2, r);                            \
		OUT(r == SIG_ERR ? -1 : 0, "was_default=%d back_is_ours=%d", r == SIG_DFL, \
		    back == on_usr2);                                          \
	}
SIGNAL_LIKE(bsd_signal)
SIGNAL_LIKE(sysv_signal)
SIGNAL_LIKE(__sysv_signal)
SIGNAL_LIKE(sigset)

/* a jump back to where it was set, once */
#define JUMP_CASE(fn, buf, set)                                                 \
	static void c_##fn(void)                                               \
	{                                                                      \
		buf jb;                                                        \
		volatile int n = 0, err = 0;                                   \
		if (set == 0 && n++ == 0) {                                    \
			errno = 0;                                             \
			fn(jb, 7);                                             \
		}                                                              \
		OUT(n, NULL);                                                  \
	}
JUMP_CASE(longjmp, jmp_buf, setjmp(jb))
JUMP_CASE(_longjmp, jmp_buf, _setjmp(jb))
JUMP_CASE(siglongjmp, sigjmp_buf, sigsetjmp(jb, 1))
JUMP_CASE(__longjmp_chk, sigjmp_buf, sigsetjmp(jb, 1))

/* ---- changes of user: to the user it is (nothing changes) ---- */

static void c_setuid(void)
{
	int r, err;
	CALL(r, setuid(geteuid()));
	OUT(r, NULL);
}

static void c_seteuid(void)
{
	int r, err;
	CALL(r, seteuid(geteuid()));
	OUT(r, NULL);
}

static void c_setreuid(void)
{
	int r, err;
	CALL(r, setreuid((uid_t)-1, (uid_t)-1));
	OUT(r, NULL);
}

static void c_setresuid(void)
{
	int r, err;
	CALL(r, setresuid((uid_t)-1, (uid_t)-1, (uid_t)-1));
	OUT(r, NULL);
}

/* ---- loading libraries ---- */

static void c_dlopen(void) /* RTLD_DEEPBIND: tests/82 (a sanitizer runtime refuses it) */
{
	void *h;
	int err;
	CALL(h, dlopen("libm.so.6", RTLD_LAZY | RTLD_LOCAL));
	line(NAME, PTR(h), err, "cos=%s", h && dlsym(h, "cos") ? "found" : "missing");
	if (h)
		dlclose(h);
}

/* ---- the cases by name ---- */

static const struct hcase {
	const char *name;
	void (*fn)(void);
} cases[] = {
#define C(x) { #x, c_##x }
	C(connect), C(getsockopt),
	C(socket), C(accept), C(accept4), C(close), C(close_range), C(closefrom), C(syscall), C(dup), C(dup2), C(dup3),
	C(fcntl), C(fcntl64), C(ioctl),
	C(open), C(open64), C(openat), C(openat64), C(__open_2), C(__open64_2), C(creat),
	C(pipe), C(pipe2), C(socketpair), C(eventfd), C(epoll_create), C(epoll_create1), C(timerfd_create),
	C(signalfd), C(inotify_init), C(inotify_init1), C(pidfd_open), C(memfd_create),
	C(fopen), C(fopen64), C(mkstemp), C(mkostemp), C(mkstemps), C(mkostemps), C(tmpfile),
	C(sigaction), C(signal), C(bsd_signal), C(sysv_signal), C(__sysv_signal), C(sigset),
	C(longjmp), C(_longjmp), C(siglongjmp), C(__longjmp_chk),
	C(read), C(write), C(readv), C(writev), C(send), C(recv), C(sendto), C(recvfrom),
	C(sendmsg), C(recvmsg), C(__read_chk), C(__recv_chk), C(__recvfrom_chk),
	C(getaddrinfo), C(gethostbyname), C(gethostbyname2), C(gethostbyname_r),
	C(gethostbyname2_r), C(setuid), C(seteuid), C(setreuid), C(setresuid), C(dlopen),
#undef C
};
#define NCASES (sizeof cases / sizeof cases[0])

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hookcalls DIR\n");
		return 2;
	}
	dir = argv[1];
	signal(SIGPIPE, SIG_IGN); /* writev to a pipe without reader: EPIPE */
	fixtures();

	int bad = 0;
	for (size_t i = 0; i < NHOOKS; i++) {
		size_t j = 0;
		while (j < NCASES && strcmp(cases[j].name, hooks[i]) != 0)
			j++;
		if (j == NCASES) {
			fprintf(stderr, "hookcalls: hooks.def lists %s, and there is no case for it\n",
				hooks[i]);
			printf("%s NO-CASE\n", hooks[i]);
			fflush(stdout);
			bad = 1;
			continue;
		}
		cases[j].fn();
	}
	for (size_t j = 0; j < NCASES; j++) {
		size_t i = 0;
		while (i < NHOOKS && strcmp(cases[j].name, hooks[i]) != 0)
			i++;
		if (i == NHOOKS) {
			fprintf(stderr, "hookcalls: case %s: hooks.def does not list it\n",
				cases[j].name);
			bad = 1;
		}
	}
	xclose(cli);
	xclose(srv);
	xclose(lst);
	return bad ? 3 : 0;
}
