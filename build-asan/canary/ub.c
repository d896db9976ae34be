#include <limits.h>
int main(int argc, char **argv) { int x = INT_MAX - 1 + argc; return x + argc > 0; }
