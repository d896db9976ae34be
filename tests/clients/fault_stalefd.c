/* fault_stalefd.c - a socket waiting for its answer, closed where an
 * LD_PRELOAD shim cannot see it (a raw close or close_range system call),
 * its number then reused by a timerfd, for tests/3a-engine-faults.t: a
 * blocking read of the timer is the timer's, whatever the socket's
 * breaker's response_timeout.
 *
 *   fault_stalefd PORT sys_close|sys_close_range timerfd|sys_timerfd
 *
 * Connects to 127.0.0.1:PORT, sends one HTTP request (the server is not to
 * answer), closes the socket with syscall(SYS_close) or
 * syscall(SYS_close_range, fd, fd, 0), makes a timerfd with
 * timerfd_create() or syscall(SYS_timerfd_create), arms it to expire once
 * after 1 s and read()s it (blocking, 8 bytes).  Prints
 * "reused=0|1 read=N value=V@MS" (MS from the arming) or
 * "reused=0|1 read=-1/ERRNAME@MS"; exits 0, 1 on a setup failure. */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "safety.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int fd = connect_lo(argv[1]);
	send_get(fd);
	long r;
	if (strcmp(argv[2], "sys_close") == 0)
		r = syscall(SYS_close, fd);
	else if (strcmp(argv[2], "sys_close_range") == 0)
		r = syscall(SYS_close_range, (unsigned)fd, (unsigned)fd, 0U);
	else
		return 2;
	if (r != 0) {
		perror(argv[2]);
		return 1;
	}
	int tfd;
	if (strcmp(argv[3], "timerfd") == 0)
		tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	else if (strcmp(argv[3], "sys_timerfd") == 0)
		tfd = (int)syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	else
		return 2;
	if (tfd < 0) {
		perror("timerfd_create");
		return 1;
	}
	struct itimerspec its = { .it_value = { 1, 0 } };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (timerfd_settime(tfd, 0, &its, NULL) != 0) {
		perror("timerfd_settime");
		return 1;
	}
	uint64_t v = 0;
	ssize_t n = read(tfd, &v, sizeof v);
	int err = errno;
	long ms = ms_since(&t0);
	if (n < 0)
		printf("reused=%d read=-1/%s@%ld\n", tfd == fd, strerrorname_np(err), ms);
	else
		printf("reused=%d read=%zd value=%llu@%ld\n", tfd == fd, n, (unsigned long long)v, ms);
	return 0;
}
