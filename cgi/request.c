/* request.c: reads an API request's type, length, JSON body and claims; no I/O, so every program checks input alike. */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "errors.h"

/* "application/json", any case, alone or followed by parameters. */
static int http_is_json(const char *type)
{
	static const char want[] = "application/json";

	if (!type || strncasecmp(type, want, sizeof want - 1) != 0)
		return 0;
	type += sizeof want - 1;
	return *type == '\0' || *type == ';' || *type == ' ' || *type == '\t';
}

int http_body_length(const char *content_type, const char *content_length, long *len,
                     const char **detail)
{
	*len = 0;
	if (!http_is_json(content_type))
		return WIRE_MEDIA_TYPE;
	if (content_length && *content_length) {
		char *end;

		errno = 0;
		*len = strtol(content_length, &end, 10);
		if (errno || *end || *len < 0) {
			*detail = "The Content-Length is not a number.";
			return WIRE_BAD_JSON;
		}
	}
	if (*len > HTTP_BODY_MAX)
		return WIRE_TOO_LARGE; /* never read: nginx already refuses these */
	if (*len == 0) {
		*detail = "The body is empty: send a JSON object.";
		return WIRE_BAD_JSON;
	}
	return 0;
}

int http_body_parse(const char *text, size_t len, json_object **out)
{
	int rc;

	/* A body is a flat object; the depth cap stops nesting bombs early. */
	if ((rc = http_json_parse(text, len, 8, out)) < 0)
		return rc;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return WIRE_NOT_OBJECT;
	}
	return 0;
}

int http_json_parse(const char *text, size_t len, int depth, json_object **out)
{
	json_tokener *tok = json_tokener_new_ex(depth);
	json_object *obj;

	*out = NULL;
	if (!tok)
		return WIRE_INTERNAL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(obj);
		json_tokener_free(tok);
		return WIRE_BAD_JSON;
	}
	json_tokener_free(tok);
	*out = obj;
	return 0;
}

int http_json_string(json_object *body, const char *key, size_t max, const char **out)
{
	json_object *v;
	int len;

	*out = NULL;
	if (!body || !json_object_object_get_ex(body, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		goto bad;
	len = json_object_get_string_len(v);
	*out = json_object_get_string(v);
	/* An embedded NUL would let "valid\u0000junk" pass as "valid". */
	if ((size_t)len > max || strlen(*out) != (size_t)len)
		goto bad;
	return 0;
bad:
	*out = NULL;
	return WIRE_BAD_FIELD;
}

/* The Bearer token of the Authorization header: 0 with *out NULL when absent. */
static int http_bearer(const char *auth, const char **out, const char **detail)
{
	*out = NULL;
	if (!auth)
		return 0;
	if (strncasecmp(auth, "Bearer ", 7) != 0) {
		*detail = "The Authorization header must use the Bearer scheme.";
		return WIRE_NO_TOKEN;
	}
	auth += 7;
	while (*auth == ' ')
		auth++;
	*out = auth;
	return 0;
}

int http_claims_read(json_object *body, const char *authorization, struct http_claims *c,
                     const char **detail)
{
	const char *header, *field, *claim_role;
	int rc;

	c->token = NULL;
	c->role = -1;
	if ((rc = http_json_string(body, "token", HTTP_BODY_MAX, &field)) < 0 ||
	    (rc = http_json_string(body, "sessionId", HTTP_BODY_MAX, &c->session_id)) < 0 ||
	    (rc = http_json_string(body, "participantType", HTTP_BODY_MAX, &claim_role)) < 0)
		return rc;
	if (claim_role && (c->role = db_role_parse(claim_role)) < 0) {
		*detail = "participantType must be \"user\" or \"astrologer\".";
		return WIRE_BAD_FIELD;
	}
	if ((rc = http_bearer(authorization, &header, detail)) < 0)
		return rc;
	if (header && *header && field && strcmp(header, field) != 0) {
		*detail = "The token field and the Authorization header differ.";
		return WIRE_BAD_FIELD;
	}
	c->token = header && *header ? header : field;
	if (!c->token || !*c->token)
		return WIRE_NO_TOKEN;
	if (strlen(c->token) > HTTP_TOKEN_MAX)
		return WIRE_UNKNOWN_LINK;
	return 0;
}
