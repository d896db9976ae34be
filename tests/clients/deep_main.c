/* deep_main.c - dlopen LIB with FLAGS (deepbind|plain), print which
 * whoami() the library's own calls reach ("bound=lib": its own, as
 * RTLD_DEEPBIND does; "bound=main": the program's, built -rdynamic), then
 * N calls of its deep_connect(PORT); one line per call, "I ERRNO-NAME".
 *
 *   deep_main LIB deepbind|plain PORT N */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *whoami(void);
const char *whoami(void)
{
	return "main";
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: deep_main LIB deepbind|plain PORT N\n");
		return 2;
	}
	int flags = RTLD_NOW | RTLD_LOCAL | (strcmp(argv[2], "deepbind") == 0 ? RTLD_DEEPBIND : 0);
	void *h = dlopen(argv[1], flags);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	int (*fn)(int) = (int (*)(int))dlsym(h, "deep_connect");
	const char *(*who)(void) = (const char *(*)(void))dlsym(h, "deep_whoami");
	if (!fn || !who)
		return 1;
	printf("bound=%s\n", who());
	for (int i = 0; i < atoi(argv[4]); i++) {
		int e = fn(atoi(argv[3]));
		printf("%d %s\n", i, e ? strerrorname_np(e) : "0");
	}
	return 0;
}
