/* safety_errno.c - errno across a successful blocking connect(), for
 * tests/35-host-safety.t.
 *
 *   safety_errno PORT
 *
 * Sets errno to 12345, connects a blocking TCP socket to 127.0.0.1:PORT
 * and prints "connect=R errno=N/NAME" (NAME "-" when errno is not a known
 * error number, as 12345 is); exits 0. */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	errno = 12345;
	int r = connect(fd, (struct sockaddr *)&a, sizeof a);
	int err = errno;
	const char *name = strerrorname_np(err);
	printf("connect=%d errno=%d/%s\n", r, err, name ? name : "-");
	close(fd);
	return 0;
}
