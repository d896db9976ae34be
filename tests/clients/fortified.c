/* fortified.c - one HTTP request over a blocking socket, the answer read
 * with a fortified libc call, for tests/30-response-timeout.t.  Built by the
 * test with -O2 -D_FORTIFY_SOURCE=2, so that recv/read/recvfrom into a
 * buffer of known size become __recv_chk/__read_chk/__recvfrom_chk.
 *
 *   fortified PORT recv|read|recvfrom
 *
 * Prints "sNNN@MS" (the answer's status) or "ERRNAME@MS" (errno of the
 * first failed read) or "EOF@MS", MS counted from the request. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	volatile size_t want = 64; /* not a constant: the _chk variant is called */
	char buf[64];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		printf("connect:%s\n", strerror(errno));
		return 1;
	}
	static const char req[] = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (write(fd, req, sizeof req - 1) < 0)
		return 1;
	ssize_t n;
	if (strcmp(argv[2], "recv") == 0)
		n = recv(fd, buf, want, 0);
	else if (strcmp(argv[2], "read") == 0)
		n = read(fd, buf, want);
	else {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		n = recvfrom(fd, buf, want, 0, (struct sockaddr *)&from, &fl);
	}
	long ms = ms_since(&t0);
	if (n < 0)
		printf("%s@%ld\n", errno == ETIMEDOUT ? "ETIMEDOUT" : strerror(errno), ms);
	else if (n == 0)
		printf("EOF@%ld\n", ms);
	else if (n >= 12 && memcmp(buf, "HTTP/1.", 7) == 0)
		printf("s%.3s@%ld\n", buf + 9, ms);
	else
		printf("data@%ld\n", ms);
	close(fd);
	return 0;
}
