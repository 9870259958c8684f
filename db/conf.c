/* conf.c: the configuration: one table of keys with their types, ranges and defaults, checked once at load. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define CONF_DEFAULT_PATH "/etc/sessions/sessions.conf"
#define CONF_LINE_MAX 4094 /* bytes of a line, its newline not counted */

enum conf_type {
	CONF_T_INT,     /* a whole number from min to max */
	CONF_T_PATH,    /* a file name, or none */
	CONF_T_URL,     /* an http(s) URL without a trailing slash */
	CONF_T_URL_OPT, /* the same, or none */
	CONF_T_ICE,     /* a JSON array of RTCIceServer */
	CONF_T_TURN,    /* turn: or turns: URLs separated by commas or blanks, or none */
	CONF_T_SECRET,  /* printable text never shown, or none */
};

static struct setting {
	const char *key;
	const char *env;
	enum conf_type type;
	int64_t min, max; /* CONF_T_INT only */
	const char *def;
	char *file;       /* is malloc'd: the file's value, or NULL */
	const char *value;/* the value in force: the environment, file or def */
	const char *source;
	int64_t number;   /* CONF_T_INT: the value */
	json_object *json;/* is owned: CONF_T_ICE and CONF_T_TURN, parsed */
} settings[CONF_NKEYS] = {
	[CONF_DATABASE] = {"database", "SESSIONS_DB", CONF_T_PATH, 0, 0, ""},
	[CONF_PUBLIC_URL] = {"public_url", "SESSIONS_PUBLIC_URL", CONF_T_URL, 0, 0, "http://127.0.0.1:8080"},
	[CONF_COMMISSION_BPS] = {"commission_bps", "SESSIONS_COMMISSION_BPS", CONF_T_INT, 0, 10000, "2000"},
	[CONF_GRACE_SECONDS] = {"grace_seconds", "SESSIONS_GRACE_SECONDS", CONF_T_INT, 0, 3600, "120"},
	[CONF_OPENS_BEFORE_MINUTES] = {"opens_before_minutes", "SESSIONS_OPENS_BEFORE_MINUTES",
	                               CONF_T_INT, 0, 1440, "15"},
	[CONF_VALID_AFTER_MINUTES] = {"valid_after_minutes", "SESSIONS_VALID_AFTER_MINUTES",
	                              CONF_T_INT, 0, 1440, "30"},
	[CONF_RETURN_URL] = {"return_url", "SESSIONS_RETURN_URL", CONF_T_URL_OPT, 0, 0, ""},
	[CONF_ICE_SERVERS] = {"ice_servers", "SESSIONS_ICE_SERVERS", CONF_T_ICE, 0, 0, "[]"},
	[CONF_TURN_URLS] = {"turn_urls", "SESSIONS_TURN_URLS", CONF_T_TURN, 0, 0, ""},
	[CONF_TURN_SECRET] = {"turn_secret", "SESSIONS_TURN_SECRET", CONF_T_SECRET, 0, 0, ""},
	[CONF_TURN_CREDENTIAL_SECONDS] = {"turn_credential_seconds", "SESSIONS_TURN_CREDENTIAL_SECONDS",
	                                  CONF_T_INT, 10, 86400, "600"},
	[CONF_EMPTY_TIMEOUT_SECONDS] = {"empty_timeout_seconds", "SESSIONS_EMPTY_TIMEOUT_SECONDS",
	                                CONF_T_INT, 1, 86400, "180"},
	[CONF_NO_SHOW_MINUTES] = {"no_show_minutes", "SESSIONS_NO_SHOW_MINUTES", CONF_T_INT, 1, 1440, "10"},
	[CONF_CHAT_MAX_MESSAGES] = {"chat_max_messages", "SESSIONS_CHAT_MAX_MESSAGES", CONF_T_INT, 1, 100000, "1000"},
	[CONF_CHAT_MAX_BYTES] = {"chat_max_bytes", "SESSIONS_CHAT_MAX_BYTES", CONF_T_INT, 4096, 67108864, "1048576"},
	[CONF_CHAT_BEFORE_START_MESSAGES] = {"chat_before_start_messages", "SESSIONS_CHAT_BEFORE_START_MESSAGES",
	                                     CONF_T_INT, 0, 1000, "20"},
	/* A version travels in one request body of 16 KiB, with room for JSON escapes. */
	[CONF_NOTES_MAX_BYTES] = {"notes_max_bytes", "SESSIONS_NOTES_MAX_BYTES", CONF_T_INT, 100, 12000, "10000"},
	[CONF_NOTES_MAX_VERSIONS] = {"notes_max_versions", "SESSIONS_NOTES_MAX_VERSIONS", CONF_T_INT, 1, 10000, "200"},
	/* nginx's client_max_body_size on the upload location sits just above the top of this range. */
	[CONF_FILE_MAX_BYTES] = {"file_max_bytes", "SESSIONS_FILE_MAX_BYTES", CONF_T_INT, 1024, 10485760, "10485760"},
	[CONF_SESSION_FILES_MAX_BYTES] = {"session_files_max_bytes", "SESSIONS_SESSION_FILES_MAX_BYTES",
	                                  CONF_T_INT, 1024, 1073741824, "52428800"},
	[CONF_FILE_RETENTION_DAYS] = {"file_retention_days", "SESSIONS_FILE_RETENTION_DAYS", CONF_T_INT, 1, 3650, "90"},
	/* One session's recordings, all sessions' recordings, and the disk space they always leave free. */
	[CONF_RECORDING_MAX_BYTES] = {"recording_max_bytes", "SESSIONS_RECORDING_MAX_BYTES", CONF_T_INT,
	                              65536, 17179869184, "524288000"},
	[CONF_RECORDINGS_MAX_BYTES] = {"recordings_max_bytes", "SESSIONS_RECORDINGS_MAX_BYTES", CONF_T_INT,
	                               65536, 1099511627776, "21474836480"},
	[CONF_RECORDINGS_MIN_FREE_MB] = {"recordings_min_free_mb", "SESSIONS_RECORDINGS_MIN_FREE_MB",
	                                 CONF_T_INT, 0, 1048576, "1024"},
	[CONF_RECORDING_RETENTION_DAYS] = {"recording_retention_days", "SESSIONS_RECORDING_RETENTION_DAYS",
	                                   CONF_T_INT, 1, 3650, "30"},
	[CONF_WEBHOOK_ALLOW_PRIVATE] = {"webhook_allow_private", "SESSIONS_WEBHOOK_ALLOW_PRIVATE",
	                                CONF_T_INT, 0, 1, "0"},
	[CONF_WEBHOOK_TIMEOUT_SECONDS] = {"webhook_timeout_seconds", "SESSIONS_WEBHOOK_TIMEOUT_SECONDS",
	                                  CONF_T_INT, 1, 15, "15"},
	[CONF_WEBHOOK_RETRY_DIVISOR] = {"webhook_retry_divisor", "SESSIONS_WEBHOOK_RETRY_DIVISOR",
	                                CONF_T_INT, 1, 10000, "1"},
	[CONF_AUDIT_RETENTION_DAYS] = {"audit_retention_days", "SESSIONS_AUDIT_RETENTION_DAYS",
	                              CONF_T_INT, 1, 3650, "90"},
	[CONF_WEBHOOK_RETENTION_DAYS] = {"webhook_retention_days", "SESSIONS_WEBHOOK_RETENTION_DAYS",
	                                CONF_T_INT, 1, 3650, "30"},
	[CONF_MINUTE_MS] = {"minute_ms", "SESSIONS_MINUTE_MS", CONF_T_INT, 100, 60000, "60000"},
};

static int loaded, load_rc;
static char load_err[768];
static char file_path[CONF_PATH_MAX + 32]; /* the file read, "" for none */

static int conf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int conf_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(load_err, sizeof load_err, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
	                   end[-1] == '\r'))
		*--end = 0;
	return s;
}

static struct setting *conf_find(const char *key)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

static int conf_parse(FILE *f, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int n = 0, rc = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		char *key, *value, *eq;
		struct setting *s;

		n++;
		if ((size_t)len - (line[len - 1] == '\n') > CONF_LINE_MAX) {
			rc = conf_fail("%s:%d: line too long (at most %d bytes)", path, n, CONF_LINE_MAX);
			goto done;
		}
		/* A NUL would cut the line short, silently dropping what follows it. */
		if (strlen(line) != (size_t)len) {
			rc = conf_fail("%s:%d: a NUL byte in the line", path, n);
			goto done;
		}
		key = trim(line);
		if (*key == '#' || *key == 0)
			continue;
		if (!(eq = strchr(key, '='))) {
			rc = conf_fail("%s:%d: expected key = value", path, n);
			goto done;
		}
		*eq = 0;
		key = trim(key);
		value = trim(eq + 1);
		if (!(s = conf_find(key))) {
			rc = conf_fail("%s:%d: unknown setting '%s'", path, n, key);
			goto done;
		}
		free(s->file);
		if (!(s->file = strdup(value))) {
			rc = conf_fail("out of memory");
			goto done;
		}
	}
	if (ferror(f))
		rc = conf_fail("%s: %s", path, strerror(errno));
done:
	free(line);
	return rc;
}

/* Printable ASCII or UTF-8, no controls: a value that prints and logs as it is. */
static int conf_printable(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 0;
	return 1;
}

static int conf_url_ok(const char *v)
{
	size_t n = strlen(v);

	return n <= CONF_URL_MAX && conf_printable(v) && !strpbrk(v, " \"<>\\") &&
	       ((strncmp(v, "https://", 8) == 0 && n > 8) || (strncmp(v, "http://", 7) == 0 && n > 7)) &&
	       v[n - 1] != '/';
}

static int conf_ice_string_ok(json_object *v, int is_url)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	if (json_object_get_string_len(v) > CONF_ICE_FIELD ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return 0;
	return !is_url || strncmp(s, "stun:", 5) == 0 || strncmp(s, "stuns:", 6) == 0 ||
	       strncmp(s, "turn:", 5) == 0 || strncmp(s, "turns:", 6) == 0;
}

/* One RTCIceServer: {urls: string or [string], username?, credential?}, nothing else. */
static int conf_ice_server_ok(json_object *o)
{
	json_object *urls;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "urls", &urls))
		return 0;
	if (json_object_is_type(urls, json_type_array)) {
		size_t n = json_object_array_length(urls);

		if (n == 0 || n > CONF_ICE_COUNT)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!conf_ice_string_ok(json_object_array_get_idx(urls, i), 1))
				return 0;
	} else if (!conf_ice_string_ok(urls, 1)) {
		return 0;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "urls") == 0)
			continue;
		if ((strcmp(key, "username") != 0 && strcmp(key, "credential") != 0) ||
		    !conf_ice_string_ok(val, 0))
			return 0;
	}
	return 1;
}

static json_object *conf_ice_parse(const char *text)
{
	size_t len = strlen(text);
	json_tokener *tok;
	json_object *list = NULL;

	if (len > CONF_ICE_MAX || !(tok = json_tokener_new_ex(6)))
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	list = json_tokener_parse_ex(tok, text, (int)len);
	if (!list || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > CONF_ICE_COUNT)
		goto fail;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (!conf_ice_server_ok(json_object_array_get_idx(list, i)))
			goto fail;
	json_tokener_free(tok);
	return list;
fail:
	json_object_put(list);
	json_tokener_free(tok);
	return NULL;
}

static json_object *conf_turn_parse(const char *text)
{
	json_object *urls = json_object_new_array();
	const char *p = text;

	if (!urls)
		return NULL;
	while (*p) {
		size_t n;

		p += strspn(p, ", \t");
		if ((n = strcspn(p, ", \t")) == 0)
			break;
		if (n > CONF_ICE_FIELD || json_object_array_length(urls) == CONF_ICE_COUNT ||
		    (strncmp(p, "turn:", 5) != 0 && strncmp(p, "turns:", 6) != 0))
			goto fail;
		json_object_array_add(urls, json_object_new_string_len(p, (int)n));
		p += n;
	}
	return urls;
fail:
	json_object_put(urls);
	return NULL;
}

/* What a value of each type must be, for the message that refuses one. */
static void conf_expect(const struct setting *s, char *buf, size_t len)
{
	switch (s->type) {
	case CONF_T_INT:
		snprintf(buf, len, "a whole number from %lld to %lld", (long long)s->min,
		         (long long)s->max);
		break;
	case CONF_T_PATH:
		snprintf(buf, len, "a file name of at most %d bytes", CONF_PATH_MAX);
		break;
	case CONF_T_URL:
	case CONF_T_URL_OPT:
		snprintf(buf, len, "an http:// or https:// URL of at most %d bytes, without a "
		         "trailing slash%s", CONF_URL_MAX, s->type == CONF_T_URL_OPT ? ", or empty" : "");
		break;
	case CONF_T_ICE:
		snprintf(buf, len, "a JSON array of at most %d {urls, username?, credential?} objects "
		         "with stun:/turn: urls, in %d bytes", CONF_ICE_COUNT, CONF_ICE_MAX);
		break;
	case CONF_T_TURN:
		snprintf(buf, len, "1 to %d turn:/turns: URLs of at most %d bytes, separated by "
		         "commas or blanks, or empty", CONF_ICE_COUNT, CONF_ICE_FIELD);
		break;
	case CONF_T_SECRET:
		snprintf(buf, len, "printable text of at most %d bytes, or empty", CONF_SECRET_MAX);
		break;
	}
}

static int conf_check(struct setting *s)
{
	const char *v = s->value;
	char *end, expect[256];
	int ok = 0;

	switch (s->type) {
	case CONF_T_INT:
		errno = 0;
		s->number = strtoll(v, &end, 10);
		ok = !errno && end != v && !*end && s->number >= s->min && s->number <= s->max;
		break;
	case CONF_T_PATH:
		ok = strlen(v) <= CONF_PATH_MAX && conf_printable(v);
		break;
	case CONF_T_URL_OPT:
		ok = !*v || conf_url_ok(v);
		break;
	case CONF_T_URL:
		ok = conf_url_ok(v);
		break;
	case CONF_T_ICE:
		ok = (s->json = conf_ice_parse(v)) != NULL;
		break;
	case CONF_T_TURN:
		ok = (s->json = conf_turn_parse(v)) != NULL;
		break;
	case CONF_T_SECRET:
		ok = strlen(v) <= CONF_SECRET_MAX && conf_printable(v);
		break;
	}
	if (ok)
		return 0;
	conf_expect(s, expect, sizeof expect);
	if (s->type == CONF_T_SECRET)
		return conf_fail("setting %s (%s, from the %s) must be %s", s->key, s->env,
		                 s->source, expect);
	return conf_fail("setting %s (%s, from the %s) = '%.64s%s' must be %s", s->key, s->env,
	                 s->source, v, strlen(v) > 64 ? "..." : "", expect);
}

/* The file to read: $SESSIONS_CONF, the database's folder, or the system's. */
static const char *conf_pick(const char *db_path, int *must_exist)
{
	const char *named = getenv("SESSIONS_CONF"), *slash;

	*must_exist = 0;
	if (named && *named) {
		*must_exist = 1;
		return named;
	}
	if (!db_path || !*db_path)
		db_path = getenv("SESSIONS_DB");
	if (db_path && *db_path && strlen(db_path) <= CONF_PATH_MAX) {
		slash = strrchr(db_path, '/');
		if (slash)
			snprintf(file_path, sizeof file_path, "%.*s/sessions.conf",
			         (int)(slash - db_path), db_path);
		else
			snprintf(file_path, sizeof file_path, "sessions.conf");
		if (access(file_path, F_OK) == 0)
			return file_path;
	}
	return CONF_DEFAULT_PATH;
}

static int conf_read(const char *db_path)
{
	int must_exist;
	const char *path = conf_pick(db_path, &must_exist);
	FILE *f;
	int rc;

	if (!(f = fopen(path, "r"))) {
		file_path[0] = 0;
		if (errno == ENOENT && !must_exist)
			return 0;
		return conf_fail("%s: %s", path, strerror(errno));
	}
	if (path != file_path)
		snprintf(file_path, sizeof file_path, "%s", path);
	rc = conf_parse(f, path);
	fclose(f);
	return rc;
}

/* Puts the file's, the environment's or the default value of every key in force, and checks each. */
static int conf_apply(void)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < CONF_NKEYS; i++) {
		struct setting *s = &settings[i];
		const char *env = getenv(s->env);

		if (env && *env) {
			s->value = env;
			s->source = "environment";
		} else if (s->file) {
			s->value = s->file;
			s->source = "file";
		} else {
			s->value = s->def;
			s->source = "default";
		}
		rc = conf_check(s);
	}
	/* coturn's credentials need both halves, or neither is used. */
	if (rc == 0 && !*settings[CONF_TURN_URLS].value != !*settings[CONF_TURN_SECRET].value)
		rc = conf_fail("settings turn_urls (SESSIONS_TURN_URLS) and turn_secret "
		               "(SESSIONS_TURN_SECRET) are set together or not at all");
	return rc;
}

static int conf_result(char *err, size_t errlen)
{
	if (load_rc && err)
		snprintf(err, errlen, "%s", load_err);
	return load_rc;
}

int conf_load(const char *db_path, char *err, size_t errlen)
{
	if (!loaded) {
		loaded = 1;
		load_rc = conf_read(db_path);
		if (load_rc == 0)
			load_rc = conf_apply();
	}
	return conf_result(err, errlen);
}

int conf_load_stream(FILE *f, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		struct setting *s = &settings[i];

		free(s->file);
		json_object_put(s->json);
		s->file = NULL;
		s->json = NULL;
		s->value = s->source = NULL;
		s->number = 0;
	}
	snprintf(file_path, sizeof file_path, "%s", name);
	loaded = 1;
	load_rc = conf_parse(f, name);
	if (load_rc == 0)
		load_rc = conf_apply();
	return conf_result(err, errlen);
}

const char *conf_str(enum conf_key key)
{
	return settings[key].value ? settings[key].value : settings[key].def;
}

int64_t conf_int(enum conf_key key)
{
	return settings[key].number;
}

json_object *conf_json(enum conf_key key)
{
	return settings[key].json;
}

const char *conf_name(enum conf_key key)
{
	return settings[key].key;
}

const char *conf_file(void)
{
	return file_path[0] ? file_path : NULL;
}

const char *conf_warning(void)
{
	/* turn_urls and turn_secret come both or neither: conf_load refuses one alone. */
	if (*conf_str(CONF_TURN_SECRET))
		return NULL;
	return "no TURN server is configured (turn_urls, turn_secret): a call between two networks "
	       "that let no direct connection through (phone networks, strict routers) will not connect";
}

void conf_each(conf_cb *cb, void *arg)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		cb(arg, (enum conf_key)i, settings[i].env, conf_str((enum conf_key)i),
		   settings[i].source ? settings[i].source : "default");
}
