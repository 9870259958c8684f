/* http.h: the thin request/response layer every API program shares (libfcgi + json-c). */
#ifndef SESSIONS_HTTP_H
#define SESSIONS_HTTP_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "errors.h"
#include "render.h"
#include "request.h"

/* One request while it is being answered. */
struct http_req {
	FCGX_Request fcgi;
	struct db *db;          /* the program's connection; NULL while the database cannot be opened */
	const char *method;
	json_object *body;      /* is owned (json_object_put after the answer); NULL for GET */
	const char *token;      /* points into body or the fcgi params: lives until the answer */
	int64_t now_ms;         /* one clock reading per request */
	const char *detail;     /* a static sentence replacing the error's default message */
	json_object *error_extra; /* is owned: fields merged into the error object, or NULL */
	const char *raw;        /* the body's bytes as sent (a static buffer): raw_len of them */
	size_t raw_len;
	int status;             /* of a successful answer: 200 unless the handler says 201 */
	char *replay;           /* is owned (free): an answer given before, sent as it is instead */
	const char *allow;      /* a router's Allow header for its 405, e.g. "GET, HEAD" */
	int read_rc;            /* a router's: what reading the body said (0 or a wire error) */
	const char *db_path;    /* the database's file, for what lives beside it (chat file, files) */
	int answered;           /* the handler sent its own answer (http_send_stored) */
};

/*
 * An endpoint: its method and its handler. A POST handler gets a parsed
 * JSON object body, a GET handler none; either fills the empty object
 * answer with its 200 answer and returns 0, or returns a negative enum
 * wire_err (and the answer is dropped; wire/errors.c gives the status).
 */
typedef int http_handler(struct http_req *r, json_object *answer);

struct http_endpoint {
	const char *name;   /* for log lines: "validate" */
	/*
	 * "POST" or "GET" (GET also answers HEAD); NULL for a router, whose
	 * handler takes every method and judges it itself: a POST body is
	 * read (empty is allowed) and the outcome left in read_rc, so the
	 * router can first say who is asking. A POST whose body is not
	 * application/json is left unread (read_rc WIRE_MEDIA_TYPE), for a
	 * router that takes other bytes (an upload) to read from r->fcgi.in.
	 */
	const char *method;
	http_handler *handle;
};

/*
 * Runs an endpoint program: reads the configuration (conf.h), takes the
 * database from --db PATH or the "database" setting ($SESSIONS_DB), opens the
 * database (after spawn-fcgi's fork), answers requests on fd 0 until
 * SIGTERM, which lets the request in hand finish first. Returns the exit
 * status.
 */
int http_main(int argc, char **argv, const struct http_endpoint *ep);

/*
 * Proves the request's token (Authorization: Bearer or the body's "token")
 * and checks the body's "sessionId" and "participantType" claims against
 * it. Returns 0 when the token is known, with *s and *role filled and
 * *link_rc holding the library's verdict on the link (DB_OK, or
 * DB_ERR_EXPIRED / DB_ERR_ENDED / DB_ERR_NOT_OPEN for the handler to
 * judge); otherwise a negative enum wire_err.
 */
int http_authorize(struct http_req *r, struct db_session *s, enum db_role *role,
                   int *link_rc);

/* The error for a link the library did not call DB_OK (adds when it opens). */
int http_link_error(struct http_req *r, const struct db_session *s, int link_rc);

/* http_authorize for the endpoints that need a link usable now. */
int http_open_link(struct http_req *r, struct db_session *s, enum db_role *role);

/*
 * For a router's POST that is not JSON (read_rc WIRE_MEDIA_TYPE: the body
 * is left unread), such as a recording's chunk: reads the body of 1..max
 * bytes into *out (malloc'd, the caller frees it). 0, or WIRE_TOO_LARGE
 * over max, or WIRE_BAD_FIELD for a missing, empty or short body.
 */
int http_body_raw(struct http_req *r, size_t max, char **out, size_t *len);

/*
 * Answers with a file nginx sends itself: X-Accel-Redirect to
 * internal_uri (an internal location), with content_type as the file's
 * type, as an attachment saved as attachment_name, or inline when NULL.
 * The handler returns 0 after it; nothing else is sent.
 */
void http_send_stored(struct http_req *r, const char *internal_uri, const char *content_type,
                      const char *attachment_name);

/* The text every answer body is: compact JSON, slashes as they are. */
const char *http_json_text(json_object *o, size_t *len);

#endif
