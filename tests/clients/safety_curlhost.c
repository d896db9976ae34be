/* safety_curlhost.c - a program that dlopen()s a plugin with libcurl built
 * in (safety_curlplug.c) with RTLD_LOCAL and calls the plugin's
 * curl_easy_init, for tests/35-host-safety.t.
 *
 *   safety_curlhost PLUGIN.so
 *
 * Prints "dlsym=ok|BAD plugin_fn=ok|BAD": curl_easy_init looked up with
 * dlsym on the plugin's handle and called, and plugin_make() (which calls
 * curl_easy_init inside the plugin); ok when the result is the plugin's
 * marker (plugin_marker()), BAD(POINTER) otherwise.  Exits 0, or 1 when
 * the plugin cannot be loaded. */
#include <dlfcn.h>
#include <stdio.h>

typedef void *(*fn)(void);

static void show(const char *what, void *got, void *want)
{
	if (got == want)
		printf("%s=ok", what);
	else
		printf("%s=BAD(%p)", what, got);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	fn marker = (fn)dlsym(h, "plugin_marker");
	fn init = (fn)dlsym(h, "curl_easy_init");
	fn make = (fn)dlsym(h, "plugin_make");
	if (!marker || !init || !make) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}
	void *want = marker();
	show("dlsym", init(), want);
	printf(" ");
	show("plugin_fn", make(), want);
	printf("\n");
	return 0;
}
