#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) { char *p = malloc(8); memset(p, 1, 8 + (size_t)argc); return p[3]; }
