/* conf.c: the configuration file and its environment overrides, with every key's default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"

#define CONF_DEFAULT_PATH "/etc/sessions/sessions.conf"
#define CONF_LINE_MAX 4096

static struct setting {
	const char *key;
	const char *env;
	const char *def;
	char *file; /* is malloc'd: the file's value, or NULL */
} settings[] = {
	{"database", "SESSIONS_DB", NULL, NULL},
	{"public_url", "SESSIONS_PUBLIC_URL", "http://127.0.0.1:8080", NULL},
	{"commission_bps", "SESSIONS_COMMISSION_BPS", "2000", NULL},
	{"grace_seconds", "SESSIONS_GRACE_SECONDS", "120", NULL},
	{"opens_before_minutes", "SESSIONS_OPENS_BEFORE_MINUTES", "15", NULL},
	{"valid_after_minutes", "SESSIONS_VALID_AFTER_MINUTES", "30", NULL},
	{"return_url", "SESSIONS_RETURN_URL", "", NULL},
	{"ice_servers", "SESSIONS_ICE_SERVERS", "[]", NULL},
	{"turn_urls", "SESSIONS_TURN_URLS", "", NULL},
	{"turn_secret", "SESSIONS_TURN_SECRET", "", NULL},
	{"minute_ms", "SESSIONS_MINUTE_MS", "60000", NULL}, /* tests only */
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

static struct setting *find(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
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

static int loaded, load_rc;
static char load_err[512];

static int parse(FILE *f, const char *path)
{
	char line[CONF_LINE_MAX];
	int n = 0;

	while (fgets(line, sizeof line, f)) {
		char *key, *value, *eq;
		struct setting *s;

		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(load_err, sizeof load_err, "%s:%d: line too long", path, n);
			return -1;
		}
		key = trim(line);
		if (*key == '#' || *key == 0)
			continue;
		if (!(eq = strchr(key, '='))) {
			snprintf(load_err, sizeof load_err, "%s:%d: expected key = value", path, n);
			return -1;
		}
		*eq = 0;
		key = trim(key);
		value = trim(eq + 1);
		if (!(s = find(key))) {
			snprintf(load_err, sizeof load_err, "%s:%d: unknown setting '%s'", path, n, key);
			return -1;
		}
		free(s->file);
		if (!(s->file = strdup(value))) {
			snprintf(load_err, sizeof load_err, "out of memory");
			return -1;
		}
	}
	return ferror(f) ? -1 : 0;
}

int conf_load(char *err, size_t errlen)
{
	const char *path = getenv("SESSIONS_CONF");
	FILE *f;

	if (!loaded) {
		loaded = 1;
		if (!path || !*path)
			path = CONF_DEFAULT_PATH;
		if ((f = fopen(path, "r"))) {
			load_rc = parse(f, path) == 0 ? DB_OK : DB_ERR_INVALID;
			fclose(f);
		} else if (errno != ENOENT || getenv("SESSIONS_CONF")) {
			/* a file named explicitly must exist */
			snprintf(load_err, sizeof load_err, "%s: %s", path, strerror(errno));
			load_rc = DB_ERR_INVALID;
		}
	}
	if (load_rc && err)
		snprintf(err, errlen, "%s", load_err);
	return load_rc;
}

static const char *value_of(const struct setting *s, const char **source)
{
	const char *v = getenv(s->env);

	if (v && *v) {
		*source = "environment";
		return v;
	}
	if (s->file) {
		*source = "file";
		return s->file;
	}
	*source = "default";
	return s->def;
}

const char *conf_get(const char *key)
{
	const struct setting *s = find(key);
	const char *source;

	return s ? value_of(s, &source) : NULL;
}

void conf_each(conf_cb *cb, void *arg)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *source, *v = value_of(&settings[i], &source);

		cb(arg, settings[i].key, settings[i].env, v, source);
	}
}
