/* conf.c: fuzzes the configuration parser with a file's bytes; every setting it accepts must read back in range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only the file is under test: no variable of the environment may override it. */
static void clear_environment(void)
{
	static const char *const vars[] = {
		"SESSIONS_CONF", "SESSIONS_DB", "SESSIONS_PUBLIC_URL", "SESSIONS_COMMISSION_BPS",
		"SESSIONS_GRACE_SECONDS", "SESSIONS_OPENS_BEFORE_MINUTES", "SESSIONS_VALID_AFTER_MINUTES",
		"SESSIONS_RETURN_URL", "SESSIONS_ICE_SERVERS", "SESSIONS_TURN_URLS", "SESSIONS_TURN_SECRET",
		"SESSIONS_EMPTY_TIMEOUT_SECONDS", "SESSIONS_NO_SHOW_MINUTES", "SESSIONS_CHAT_MAX_MESSAGES",
		"SESSIONS_CHAT_MAX_BYTES", "SESSIONS_CHAT_BEFORE_START_MESSAGES", "SESSIONS_MINUTE_MS",
	};

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

static void read_back(void *arg, enum conf_key key, const char *env, const char *value,
                      const char *source)
{
	(void)arg;
	if (!env || !value || !source || strcmp(source, "environment") == 0 || !conf_name(key))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char err[512] = "";
	FILE *f;
	int rc;

	if (!ready) {
		clear_environment();
		ready = 1;
	}
	/* fmemopen wants a buffer of at least one byte; an empty file reads as "\n". */
	if (!(f = size ? fmemopen((void *)(uintptr_t)data, size, "r") : fmemopen((char[]){"\n"}, 1, "r")))
		abort();
	rc = conf_load_stream(f, "fuzz.conf", err, sizeof err);
	fclose(f);
	if (rc != 0) {
		if (!*err)
			abort();
		return 0;
	}
	conf_each(read_back, NULL);
	if (conf_int(CONF_COMMISSION_BPS) < 0 || conf_int(CONF_COMMISSION_BPS) > 10000 ||
	    conf_int(CONF_MINUTE_MS) < 100 || conf_int(CONF_CHAT_MAX_BYTES) < 4096 ||
	    !json_object_is_type(conf_json(CONF_ICE_SERVERS), json_type_array) ||
	    !json_object_is_type(conf_json(CONF_TURN_URLS), json_type_array))
		abort();
	return 0;
}
