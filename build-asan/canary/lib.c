#include <limits.h>
#include <stdlib.h>
#include <string.h>
char *volatile sink;
__attribute__((constructor)) static void overflow(void)
{
	if (getenv("CANARY_UB")) {
		volatile int x = INT_MAX;
		x = x + 1;
	}
	sink = malloc(8);
	memset(sink, 1, 9);
}
