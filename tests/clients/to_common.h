/* to_common.h - what tests/clients/to_{poll,select,epoll}.c share: a client
 * that never blocks in connect() or read() but waits for its socket in
 * poll(2), select(2) or epoll_wait(2), always with no timeout, on a thread
 * of its own (the waiter), while another thread (the main one) connects and
 * writes the request.  For tests/80-timeouts-runtimes.t.  Header-only: each
 * to_*.c defines wait_fd() and includes it.
 *
 *   to_WAIT connect|request|keepalive PORT N [CTL]
 *
 *   connect    N calls: a non-blocking connect to 127.0.0.1:PORT (a
 *              blackhole); the waiter waits for the socket to be writable,
 *              then reads getsockopt(SO_ERROR)
 *   request    N calls: connect (as above), then the waiter waits for the
 *              socket to be readable while the main thread writes
 *              "GET / HTTP/1.1"; the waiter then read()s the answer
 *   keepalive  call 0 as in request, answered, on a connection that is
 *              kept; "hang" is written to the faultserver control file CTL;
 *              then N calls, the first on call 0's connection (a failed
 *              call's connection is closed, the next call makes a new one)
 * For request and keepalive the fd is made blocking again after the
 * connect when BLOCKING_READ is 1 (poll and select: "wait, then a blocking
 * read", as wget and hiredis do) and stays non-blocking otherwise (epoll:
 * an event loop; an EAGAIN after a wake-up is waited again).
 *
 * Prints one line per call, "I MS OUTCOME": sNNN (an answer), EOF, the
 * errno's name (ETIMEDOUT, ECONNREFUSED, ...), or WAIT_<errno> when the
 * wait itself failed.  Exit 0; 2 on bad arguments. */
#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any include (strerrorname_np)"
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Wait, with no timeout, until FD is writable (FOR_WRITE) or readable;
 * 0, or -1 with errno. */
static int wait_fd(int fd, int for_write);

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

struct job {
	int fd;
	int for_write;
	int waiting;		/* set by the waiter just before it waits */
	char out[64];
};

static void *waiter(void *arg)
{
	struct job *j = arg;
	for (;;) {
		__atomic_store_n(&j->waiting, 1, __ATOMIC_RELEASE);
		if (wait_fd(j->fd, j->for_write) != 0) {
			snprintf(j->out, sizeof j->out, "WAIT_%s", ename(errno));
			return NULL;
		}
		if (j->for_write) {
			int err = 0;
			socklen_t len = sizeof err;
			if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
			snprintf(j->out, sizeof j->out, "%s", err ? ename(err) : "connected");
			return NULL;
		}
		char buf[4096];
		ssize_t n = read(j->fd, buf, sizeof buf - 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;	/* a spurious wake-up: wait again */
		if (n < 0)
			snprintf(j->out, sizeof j->out, "%s", ename(errno));
		else if (n == 0)
			snprintf(j->out, sizeof j->out, "EOF");
		else if (n >= 12 && strncmp(buf, "HTTP/1.", 7) == 0)
			snprintf(j->out, sizeof j->out, "s%.3s", buf + 9);
		else
			snprintf(j->out, sizeof j->out, "bad");
		return NULL;
	}
}

/* Run the waiter on its own thread for FD; when WRITE_REQ, the calling
 * thread writes the request once the waiter is (about to be) waiting. */
static void run_waiter(struct job *j, int write_req)
{
	pthread_t th;
	j->waiting = 0;
	j->out[0] = 0;
	if (pthread_create(&th, NULL, waiter, j) != 0) {
		snprintf(j->out, sizeof j->out, "THREAD");
		return;
	}
	if (write_req) {
		while (!__atomic_load_n(&j->waiting, __ATOMIC_ACQUIRE))
			usleep(1000);
		usleep(20000);	/* let it enter the wait */
		const char *req = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
		ssize_t n = write(j->fd, req, strlen(req));
		if (n != (ssize_t)strlen(req))
			fprintf(stderr, "write: %s\n", n < 0 ? ename(errno) : "short");
	}
	pthread_join(th, NULL);
}

/* A non-blocking connect to 127.0.0.1:PORT, completed by the waiter.
 * Returns the fd, or -1 with OUT set to what happened. */
static int do_connect(int port, char *out, size_t outsz)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(out, outsz, "socket_%s", ename(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		snprintf(out, outsz, "%s", ename(errno));
		close(fd);
		return -1;
	}
	struct job j = { .fd = fd, .for_write = 1 };
	run_waiter(&j, 0);
	if (strcmp(j.out, "connected") != 0) {
		snprintf(out, outsz, "%s", j.out);
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *mode = argv[1];
	int port = atoi(argv[2]), n = atoi(argv[3]);
	int conn_only = strcmp(mode, "connect") == 0;
	int keep = strcmp(mode, "keepalive") == 0;
	if (!conn_only && !keep && strcmp(mode, "request") != 0)
		return 2;
	if (keep && argc < 5)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = -1;
	for (int i = keep ? 0 : 1; i <= n; i++) {
		if (keep && i == 1) {
			char tmp[4096];
			snprintf(tmp, sizeof tmp, "%s.tmp", argv[4]);
			FILE *f = fopen(tmp, "w");
			if (!f || fputs("hang\n", f) < 0 || fclose(f) != 0 || rename(tmp, argv[4]) != 0) {
				perror("control file");
				return 1;
			}
			usleep(250000);
		}
		double t0 = now_ms();
		char out[64] = "";
		if (fd < 0)
			fd = do_connect(port, out, sizeof out);
		if (fd >= 0 && conn_only)
			snprintf(out, sizeof out, "connected");
		if (fd >= 0 && !conn_only) {
			if (BLOCKING_READ)
				fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			struct job j = { .fd = fd, .for_write = 0 };
			run_waiter(&j, 1);
			snprintf(out, sizeof out, "%s", j.out);
		}
		if (fd >= 0 && (!keep || out[0] != 's')) {
			close(fd);
			fd = -1;
		}
		printf("%d %.0f %s\n", i, now_ms() - t0, out);
	}
	return 0;
}
