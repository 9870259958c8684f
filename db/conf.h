/* conf.h: the one configuration every program reads: a typed table of keys, a file, the environment. */
#ifndef SESSIONS_CONF_H
#define SESSIONS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Every setting; conf.c's table gives each its name, variable, type, range and default. */
enum conf_key {
	CONF_DATABASE,
	CONF_PUBLIC_URL,
	CONF_COMMISSION_BPS,
	CONF_GRACE_SECONDS,
	CONF_OPENS_BEFORE_MINUTES,
	CONF_VALID_AFTER_MINUTES,
	CONF_RETURN_URL,
	CONF_ICE_SERVERS,
	CONF_TURN_URLS,
	CONF_TURN_SECRET,
	CONF_TURN_CREDENTIAL_SECONDS,
	CONF_EMPTY_TIMEOUT_SECONDS,
	CONF_NO_SHOW_MINUTES,
	CONF_CHAT_MAX_MESSAGES,
	CONF_CHAT_MAX_BYTES,
	CONF_CHAT_BEFORE_START_MESSAGES,
	CONF_NOTES_MAX_BYTES,
	CONF_NOTES_MAX_VERSIONS,
	CONF_FILE_MAX_BYTES,
	CONF_SESSION_FILES_MAX_BYTES,
	CONF_FILE_RETENTION_DAYS,
	CONF_RECORDING_MAX_BYTES,
	CONF_RECORDINGS_MAX_BYTES,
	CONF_RECORDINGS_MIN_FREE_MB,
	CONF_RECORDING_RETENTION_DAYS,
	CONF_WEBHOOK_ALLOW_PRIVATE,
	CONF_WEBHOOK_TIMEOUT_SECONDS,
	CONF_WEBHOOK_RETRY_DIVISOR, /* tests only */
	CONF_AUDIT_RETENTION_DAYS,
	CONF_WEBHOOK_RETENTION_DAYS,
	CONF_MINUTE_MS, /* tests only */
	CONF_NKEYS
};

#define CONF_URL_MAX 512     /* bytes of public_url and return_url */
#define CONF_PATH_MAX 1024   /* bytes of database */
#define CONF_ICE_MAX 4096    /* bytes of ice_servers */
#define CONF_ICE_COUNT 8     /* servers in ice_servers, urls in one server, and turn_urls */
#define CONF_ICE_FIELD 512   /* bytes of one ICE url, username or credential */
#define CONF_SECRET_MAX 256  /* bytes of turn_secret */

/*
 * Reads the configuration and checks every value once, so a bad setting
 * stops a program at start, naming the key. The file is $SESSIONS_CONF;
 * else sessions.conf in the folder of the database (db_path, from a
 * program's --db, or $SESSIONS_DB), so a development stack's own settings
 * follow its database; else /etc/sessions/sessions.conf when it exists.
 * Lines are "key = value"; '#' starts a comment; an unknown key is an
 * error. The environment variable of a key overrides the file. Returns 0,
 * or -1 with the reason in err. Later calls return the first result.
 */
int conf_load(const char *db_path, char *err, size_t errlen);

/*
 * Reads the configuration from f (called name in messages) in place of
 * whatever was loaded before, with the same checks and the environment's
 * overrides, so a configuration can be checked from bytes in hand.
 */
int conf_load_stream(FILE *f, const char *name, char *err, size_t errlen);

/* A checked value; call conf_load first (db_open does). "" when unset. */
const char *conf_str(enum conf_key key);
/* A whole-number setting. */
int64_t conf_int(enum conf_key key);
/* ice_servers as an array of RTCIceServer, turn_urls as an array of strings (empty when unset); owned by conf. */
json_object *conf_json(enum conf_key key);
/* The setting's name in the file, e.g. "grace_seconds". */
const char *conf_name(enum conf_key key);
/* The file that was read, or NULL when none was. */
const char *conf_file(void);

/* A sentence on what the settings leave out that a shop most likely wants, or NULL. */
const char *conf_warning(void);

/* Every setting with its source ("default", "file", "environment"), for sessionctl config. */
typedef void conf_cb(void *arg, enum conf_key key, const char *env, const char *value,
                     const char *source);
void conf_each(conf_cb *cb, void *arg);

#endif
