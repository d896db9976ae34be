#include <pthread.h>
static int n;
static void *f(void *a) { n++; return a; }
int main(void) { pthread_t t; pthread_create(&t, 0, f, 0); n++; pthread_join(t, 0); return 0; }
