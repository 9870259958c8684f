/* request.c: fuzzes what the API programs read of a request: its type, length, JSON body and token claims. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "errors.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next header line as a C string of its own (NULL when empty), or NULL at the end of the input. */
static char *header(const uint8_t **data, size_t *size, int *more)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = NULL;

	*more = nl != NULL;
	if (n && !(s = strndup((const char *)*data, n)))
		abort();
	*data += n + (nl ? 1 : 0);
	*size -= n + (nl ? 1 : 0);
	return s;
}

/*
 * The input is "Content-Type\nContent-Length\nAuthorization\nbody" (an
 * empty header line is an absent header); the checks run in http.c's order.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *type, *length, *auth = NULL, *body = NULL;
	const char *detail = NULL, *reason;
	json_object *obj = NULL;
	struct http_claims c;
	long len;
	int more = 0;

	type = header(&data, &size, &more);
	length = more ? header(&data, &size, &more) : NULL;
	if (more)
		auth = header(&data, &size, &more);
	if (http_body_length(type, length, &len, &detail) < 0)
		goto done;
	if (len < 1 || len > HTTP_BODY_MAX)
		abort();
	/* FastCGI reads exactly Content-Length bytes; fewer is refused before parsing. */
	if ((size_t)len > size || !(body = malloc((size_t)len)))
		goto done;
	memcpy(body, data, (size_t)len);
	if (http_body_parse(body, (size_t)len, &obj) < 0)
		goto done;
	if (!json_object_is_type(obj, json_type_object))
		abort();
	if (http_claims_read(obj, auth, &c, &detail) == 0) {
		if (!c.token || !*c.token || strlen(c.token) > HTTP_TOKEN_MAX || c.role < -1 || c.role > 1)
			abort();
	}
	/* end's own field: a reason of at most 32 bytes, named or refused. */
	if (http_json_string(obj, "reason", 32, &reason) == 0 && reason)
		(void)db_reason_parse(reason);
done:
	json_object_put(obj);
	free(body);
	free(auth);
	free(length);
	free(type);
	return 0;
}
