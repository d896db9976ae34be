/* safety_fdreuse.c - a socket closed where an LD_PRELOAD shim cannot see it
 * (fdopen + fclose: libc closes the fd internally), its number then reused
 * by a file or a pipe, for tests/35-host-safety.t.
 *
 *   safety_fdreuse PORT open|fopen|mkstemp|pipe FILE [CMD]
 *
 * Connects to 127.0.0.1:PORT, sends one HTTP request and reads the answer;
 * fdopen()s the socket and fclose()s it; then gets a new fd that takes the
 * socket's number:
 *   open     open(FILE, O_RDWR|O_CREAT|O_TRUNC)
 *   fopen    fopen(FILE, "w+"), its fileno
 *   mkstemp  mkstemp(FILE "XXXXXX") (libc opens it internally), unlinked
 *   pipe     pipe(), whose write end lands on the number (a placeholder
 *            fd, opened before the socket, is closed first for the read end)
 * runs CMD with system() if given (e.g. force-opening a breaker), then three
 * times: write(fd, "x", 1) and, for a file, read(fd) at end of file.
 * Prints "reused=0|1 w=W,W,W r=R,R,R" (W, R: the return value, or
 * -1/ERRNAME; r=- for a pipe) and exits 0; exits 1 on a setup failure. */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void result(char *out, size_t len, ssize_t r)
{
	size_t n = strlen(out);
	if (r < 0)
		snprintf(out + n, len - n, "%s-1/%s", n ? "," : "", strerrorname_np(errno));
	else
		snprintf(out + n, len - n, "%s%zd", n ? "," : "", r);
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		return 2;
	const char *kind = argv[2], *path = argv[3];
	int placeholder = open("/dev/null", O_RDONLY);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (placeholder < 0 || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("connect");
		return 1;
	}
	const char *req = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
	char buf[512];
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) || read(fd, buf, sizeof buf) <= 0) {
		perror("request");
		return 1;
	}
	FILE *f = fdopen(fd, "r+");
	if (!f || fclose(f) != 0) {
		perror("fdopen/fclose");
		return 1;
	}
	int nfd, is_pipe = 0;
	if (strcmp(kind, "open") == 0) {
		nfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	} else if (strcmp(kind, "fopen") == 0) {
		FILE *g = fopen(path, "w+");
		nfd = g ? fileno(g) : -1;
	} else if (strcmp(kind, "mkstemp") == 0) {
		char tmpl[4096];
		snprintf(tmpl, sizeof tmpl, "%sXXXXXX", path);
		nfd = mkstemp(tmpl);
		if (nfd >= 0)
			unlink(tmpl);
	} else if (strcmp(kind, "pipe") == 0) {
		int p[2];
		close(placeholder);
		nfd = pipe(p) == 0 ? p[1] : -1;
		is_pipe = 1;
	} else {
		return 2;
	}
	if (nfd < 0) {
		perror(kind);
		return 1;
	}
	if (argc == 5 && system(argv[4]) != 0)
		fprintf(stderr, "safety_fdreuse: '%s' failed\n", argv[4]);
	char w[256] = "", r[256] = "";
	for (int i = 0; i < 3; i++) {
		result(w, sizeof w, write(nfd, "x", 1));
		if (!is_pipe)
			result(r, sizeof r, read(nfd, buf, sizeof buf));
	}
	printf("reused=%d w=%s r=%s\n", nfd == fd, w, is_pipe ? "-" : r);
	return 0;
}
