/* deep_lib.c - a library that talks to the network itself, for
 * tests/82-deepbind.t: the program loads it with dlopen(RTLD_DEEPBIND), so
 * its own references (connect, close) would bind to libc before the
 * preloaded shim. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* Who answers whoami(): this library's own definition under
 * RTLD_DEEPBIND, the program's (which defines it too) without. */
const char *whoami(void);
const char *whoami(void)
{
	return "lib";
}

const char *deep_whoami(void);
const char *deep_whoami(void)
{
	return whoami();
}

/* A blocking connect to 127.0.0.1:PORT, closed at once: 0, or errno. */
int deep_connect(int port);
int deep_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return errno;
	int r = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
	close(s);
	return r;
}
