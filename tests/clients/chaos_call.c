/* chaos_call.c - one blocking call to 127.0.0.1:PORT, for the chaos tests
 * (tests/7*-chaos-*.t), small and quick to start so that a test can run it
 * hundreds of times.
 *
 *   chaos_call connect PORT   a blocking connect; prints "ok" or the errno
 *                             name (ECONNREFUSED, ETIMEDOUT, ...)
 *   chaos_call get PORT       connect, send "GET / HTTP/1.1" (Connection:
 *                             close) and recv once: prints "sNNN" (the
 *                             answer's status), "EOF", "noHTTP" or the
 *                             errno name of the step that failed
 *   chaos_call hold PORT      like get, but prints "holding" (and flushes)
 *                             once connected, then blocks in recv: the test
 *                             kills it while its call is in flight
 *
 * Exits 0 whatever the outcome (2 on a usage error). */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *mode = argv[1];
	int get = strcmp(mode, "get") == 0, hold = strcmp(mode, "hold") == 0;
	if (!get && !hold && strcmp(mode, "connect") != 0)
		return 2;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		printf("socket:%s\n", ename(errno));
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		printf("%s\n", ename(errno));
		return 0;
	}
	if (!get && !hold) {
		printf("ok\n");
		close(fd);
		return 0;
	}
	const char *req = "GET / HTTP/1.1\r\nHost: chaos\r\nConnection: close\r\n\r\n";
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		printf("write:%s\n", ename(errno));
		return 0;
	}
	if (hold) {
		printf("holding\n");
		fflush(stdout);
	}
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	if (n < 0)
		printf("%s\n", ename(errno));
	else if (n == 0)
		printf("EOF\n");
	else if (n >= 12 && strncmp(buf, "HTTP/1.", 7) == 0)
		printf("s%.3s\n", buf + 9);
	else
		printf("noHTTP\n");
	close(fd);
	return 0;
}
