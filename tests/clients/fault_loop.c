/* fault_loop.c - a long-running client making one call after another, for
 * tests/3a-engine-faults.t (the state file changing under it, live reloads
 * and its memory).
 *
 *   fault_loop PORT STOPFILE PIDFILE INTERVAL_MS http|connect [MAX_S]
 *
 * Writes its pid to PIDFILE (atomically), then until STOPFILE exists (or
 * MAX_S seconds, default 40, have passed) makes one call every INTERVAL_MS
 * milliseconds (0: none between) to 127.0.0.1:PORT:
 *   http     connect, send "GET / HTTP/1.1", read the answer, close: "ok"
 *            when it starts "HTTP/1.1 200"
 *   connect  connect and close: "ok" when the connect worked
 * and prints one line per call: "ok", or the errno's name (or "bad" for an
 * answer that is not a 200).  At the end it prints "done ok=N fail=M" and
 * exits 0; 1 on a setup failure. */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static const char *one_call(int port, int http)
{
	static char buf[512];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return strerrorname_np(errno);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		const char *e = strerrorname_np(errno);
		close(fd);
		return e;
	}
	const char *res = "ok";
	if (http) {
		const char *req = "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
		ssize_t n = write(fd, req, strlen(req));
		if (n != (ssize_t)strlen(req)) {
			res = n < 0 ? strerrorname_np(errno) : "short";
		} else {
			n = read(fd, buf, sizeof buf - 1);
			if (n < 0)
				res = strerrorname_np(errno);
			else if (n == 0)
				res = "EOF";
			else if (n < 12 || strncmp(buf, "HTTP/1.1 200", 12) != 0)
				res = "bad";
		}
	}
	close(fd);
	return res;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 7)
		return 2;
	int port = atoi(argv[1]);
	const char *stop = argv[2], *pidfile = argv[3];
	long iv = atol(argv[4]);
	int http = strcmp(argv[5], "http") == 0;
	if (!http && strcmp(argv[5], "connect") != 0)
		return 2;
	double max_s = argc == 7 ? atof(argv[6]) : 40;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, pidfile) != 0) {
		perror(pidfile);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	long ok = 0, fail = 0;
	double t0 = now_s();
	while (now_s() - t0 < max_s && access(stop, F_OK) != 0) {
		const char *r = one_call(port, http);
		if (strcmp(r, "ok") == 0)
			ok++;
		else
			fail++;
		printf("%s\n", r);
		if (iv > 0) {
			struct timespec d = { iv / 1000, (iv % 1000) * 1000000L };
			nanosleep(&d, NULL);
		}
	}
	printf("done ok=%ld fail=%ld\n", ok, fail);
	return 0;
}
