/* request.h: what an API request says, read from its headers and body apart from FastCGI. */
#ifndef SESSIONS_REQUEST_H
#define SESSIONS_REQUEST_H

#include <json-c/json.h>
#include <stddef.h>

#define HTTP_BODY_MAX 16384 /* bytes of a request body; nginx enforces the same */
#define HTTP_TOKEN_MAX 128  /* longer is no token of ours: refused unread */

/*
 * Checks a POST's Content-Type and Content-Length before its body is read:
 * 0 with *len the bytes to read (1..HTTP_BODY_MAX), or a negative enum
 * wire_err with *detail set when a sentence says more than its default.
 */
int http_body_length(const char *content_type, const char *content_length, long *len,
                     const char **detail);

/* The body read: one JSON object. 0 with *out owned by the caller, or a negative enum wire_err. */
int http_body_parse(const char *text, size_t len, json_object **out);

/*
 * Parses len bytes as one strict JSON value in valid UTF-8 with at most
 * depth levels of nesting and nothing after it. 0 with *out owned by the
 * caller, or WIRE_BAD_JSON.
 */
int http_json_parse(const char *text, size_t len, int depth, json_object **out);

/*
 * Reads an optional string field of body (which may be NULL): 0 with *out
 * NULL when absent, WIRE_BAD_FIELD when it is not a string, holds a NUL or
 * is over max bytes.
 */
int http_json_string(json_object *body, const char *key, size_t max, const char **out);

/* Who a request says it is: strings point into the body or the header. */
struct http_claims {
	const char *token;      /* from Authorization: Bearer, else the body's "token" */
	const char *session_id; /* the body's "sessionId", or NULL */
	int role;               /* the body's "participantType" as an enum db_role, or -1 */
};

/*
 * Reads the claims of body (NULL for none) and the Authorization header
 * (NULL when absent): 0 with *c filled and a token of 1..HTTP_TOKEN_MAX
 * bytes, or a negative enum wire_err with *detail set when a sentence says
 * more than its default.
 */
int http_claims_read(json_object *body, const char *authorization, struct http_claims *c,
                     const char **detail);

#endif
