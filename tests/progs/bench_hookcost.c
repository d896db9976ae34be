/* bench_hookcost - what the data-path hooks cost, without the kernel's noise.
 *
 * A 64-byte loopback round trip takes tens of microseconds on a small VM and
 * varies by more than the whole cost of the shim, so this measures the hooks
 * alone: the same write/read pairs as bench_pingpong, on a real connected
 * TCP socket (so the shim tracks it as it would), but with the write and
 * read answered by a fake I/O library loaded after the shim, which returns
 * at once for that one fd.  Everything the shim does runs as for real:
 * lookups, claims, clock reads, the shared slot's atomics, judging.
 *
 * One source, two builds:
 *   cc -shared -fPIC -DBENCH_FAKEIO_LIB -o libfakeio.so bench_hookcost.c
 *       the fake I/O library: read and write (and __read_chk) on the fd
 *       in bench_fakeio_fd return their byte count without a system call;
 *       every other fd goes to the kernel
 *   the Makefile's build: the client
 *
 *   [BENCH_NONBLOCK=1] LD_PRELOAD=[librecloser.so ]libfakeio.so bench_hookcost PORT N
 *       connect to 127.0.0.1:PORT (a real server that accepts), then 1000
 *       warm-up and N (write 64, read 64) pairs in 9 rounds of N/9 on the
 *       fake fd.  Prints "MEDIAN BEST TOTAL": the median and the lowest
 *       nanoseconds per pair over the rounds (this is pure CPU work, which
 *       other load can only slow down), and the pairs made in all (under a
 *       matching breaker each is one call).
 *
 *   LD_PRELOAD=[librecloser.so ]libfakeio.so bench_hookcost connect PORT N
 *       N connects of one TCP socket to 127.0.0.1:PORT, each answered at
 *       once by the fake library: what the connect hook costs (the
 *       destination's lookup among the config's patterns) without the
 *       kernel's.  Prints "MEDIAN BEST N" in nanoseconds per connect. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>

#ifdef BENCH_FAKEIO_LIB
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((visibility("default"))) int bench_fakeio_fd = -1;

__attribute__((visibility("default"))) ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd == bench_fakeio_fd)
		return (ssize_t)n;
	return syscall(SYS_write, fd, buf, n);
}

__attribute__((visibility("default"))) ssize_t read(int fd, void *buf, size_t n)
{
	if (fd == bench_fakeio_fd)
		return (ssize_t)n;
	return syscall(SYS_read, fd, buf, n);
}

/* connect mode: the fake fd "connects" at once */
__attribute__((visibility("default"))) int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (fd == bench_fakeio_fd)
		return 0;
	return (int)syscall(SYS_connect, fd, sa, len);
}

/* a fortified client reads through here */
__attribute__((visibility("default"))) ssize_t __read_chk(int fd, void *buf, size_t n, size_t bl)
{
	return read(fd, buf, n);
}

#else
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define WARMUP 1000
#define ROUNDS 9

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* connect mode (see the top) */
static int connects(int *fake, const struct sockaddr_in *a, long n)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	*fake = s;
	long per = n / ROUNDS;
	double r[ROUNDS];
	for (long i = 0; i < WARMUP; i++)
		if (connect(s, (const struct sockaddr *)a, sizeof *a))
			goto broken;
	for (int round = 0; round < ROUNDS; round++) {
		double t0 = now_ns();
		for (long i = 0; i < per; i++) {
			if (connect(s, (const struct sockaddr *)a, sizeof *a))
				goto broken;
			__asm__ volatile("" ::: "memory");
		}
		r[round] = (now_ns() - t0) / (double)per;
	}
	*fake = -1;
	close(s);
	qsort(r, ROUNDS, sizeof *r, cmp);
	printf("%.2f %.2f %ld\n", r[ROUNDS / 2], r[0], per * ROUNDS);
	return 0;
broken:
	perror("connect");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "connect") == 0) {
		int *fk = dlsym(RTLD_DEFAULT, "bench_fakeio_fd");
		if (!fk)
			return fprintf(stderr, "bench_hookcost: libfakeio.so is not preloaded\n"), 2;
		struct sockaddr_in ca = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)atoi(argv[2])) };
		ca.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return connects(fk, &ca, atol(argv[3]));
	}
	if (argc != 3) {
		fprintf(stderr, "usage: LD_PRELOAD=[librecloser.so ]libfakeio.so "
				"bench_hookcost PORT N\n");
		return 2;
	}
	int *fake = dlsym(RTLD_DEFAULT, "bench_fakeio_fd");
	if (!fake) {
		fprintf(stderr, "bench_hookcost: libfakeio.so is not preloaded\n");
		return 2;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof a)) {
		perror("connect");
		return 1;
	}
	/* BENCH_NONBLOCK=1: the socket is made non-blocking (as an event
	 * loop's are), through fcntl, which the shim sees */
	const char *nb = getenv("BENCH_NONBLOCK");
	if (nb && *nb == '1')
		fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	*fake = s;
	/* what the "response" reads find: not an HTTP status line */
	static char out[MSG], in[MSG];
	memset(out, 'x', sizeof out);
	memset(in, 'x', sizeof in);
	long per = atol(argv[2]) / ROUNDS, total = 0;
	for (long i = 0; i < WARMUP; i++, total++)
		if (write(s, out, MSG) != MSG || read(s, in, MSG) != MSG)
			goto broken;
	double r[ROUNDS];
	for (int round = 0; round < ROUNDS; round++) {
		double t0 = now_ns();
		for (long i = 0; i < per; i++, total++) {
			if (write(s, out, MSG) != MSG || read(s, in, MSG) != MSG)
				goto broken;
			__asm__ volatile("" ::: "memory"); /* one real pair per turn */
		}
		r[round] = (now_ns() - t0) / (double)per;
	}
	*fake = -1;
	close(s);
	qsort(r, ROUNDS, sizeof *r, cmp);
	printf("%.2f %.2f %ld\n", r[ROUNDS / 2], r[0], total);
	return 0;
broken:
	perror("write/read");
	return 1;
}
#endif
