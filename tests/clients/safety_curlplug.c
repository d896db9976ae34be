/* safety_curlplug.c - a plugin with libcurl's entry points built in (as
 * vendors ship libraries with libcurl linked statically and its symbols
 * exported), for tests/35-host-safety.t (safety_curlhost.c loads it).
 *
 *   cc -shared -fPIC -o libsafety_curlplug.so safety_curlplug.c
 *
 * Its curl_easy_init returns a marker, the address plugin_marker() gives;
 * plugin_make() calls curl_easy_init from inside the plugin (through the
 * PLT, so a preloaded library defining curl_easy_init takes that call). */
typedef void CURL;

static int handle;

CURL *curl_easy_init(void)
{
	return &handle;
}

int curl_easy_perform(CURL *h)
{
	(void)h;
	return 0;
}

int curl_easy_setopt(CURL *h, int opt, ...)
{
	(void)h;
	(void)opt;
	return 0;
}

void curl_easy_cleanup(CURL *h)
{
	(void)h;
}

void *plugin_marker(void)
{
	return &handle;
}

CURL *plugin_make(void)
{
	return curl_easy_init();
}
