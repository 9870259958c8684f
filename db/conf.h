/* conf.h: the one configuration every program reads: a file, overridden by the environment. */
#ifndef SESSIONS_CONF_H
#define SESSIONS_CONF_H

#include <stddef.h>

/*
 * Reads the configuration file once: $SESSIONS_CONF, or
 * /etc/sessions/sessions.conf when it exists. Lines are "key = value";
 * '#' starts a comment. An unknown key or a malformed line is an error,
 * so a typo never silently falls back to a default. Later calls return
 * the first result.
 */
int conf_load(char *err, size_t errlen);

/*
 * A setting: the environment variable named in conf.c's table, else the
 * file, else the documented default (NULL when there is none). Call
 * conf_load first; db_open does.
 */
const char *conf_get(const char *key);

/* Prints every setting with its source, for sessionctl config. */
typedef void conf_cb(void *arg, const char *key, const char *env, const char *value,
                     const char *source);
void conf_each(conf_cb *cb, void *arg);

#endif
