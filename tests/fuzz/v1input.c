/* v1input.c: fuzzes what the booking API reads before a handler runs: the path, the query and the body's fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int kind_parse(const char *s)
{
	return strcmp(s, "chat") == 0 ? 0 : strcmp(s, "voice") == 0 ? 1 : -1;
}

/* One field of every kind, as the route tables declare them. */
static const struct v1_field fields[] = {
	{"name", V1_TEXT, 1, 0, 100, NULL},
	{"amount", V1_MONEY, 0, 0, 0, NULL},
	{"minutes", V1_COUNT, 0, 1, 480, NULL},
	{"startsAt", V1_TIME, 0, 0, 0, NULL},
	{"type", V1_ENUM, 0, 0, 0, kind_parse},
	{NULL, 0, 0, 0, 0, NULL},
};

/* The next line of the input as a C string of its own, or "" at the end. */
static char *line(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = strndup((const char *)*data, n);

	if (!s)
		abort();
	*data += n + (nl ? 1 : 0);
	*size -= n + (nl ? 1 : 0);
	return s;
}

/*
 * The input is "uri\nquery\nbody". Whatever is accepted must be what the
 * table promises: the path's segments non-empty and NUL-free, each value
 * of its kind and in its range, every required field present.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = line(&data, &size), *qs = line(&data, &size);
	struct input_path ip;
	struct input_query q;
	struct http_req r;
	struct v1_args a;

	if (input_path(&ip, uri) == 0)
		for (int i = 0; i < ip.n; i++)
			if (!ip.seg[i][0])
				abort();
	memset(&r, 0, sizeof r);
	memset(&a, 0, sizeof a);
	if (input_query(&q, qs) == 0 && (!size || http_body_parse((const char *)data, size, &r.body) == 0) &&
	    input_fields(&r, fields, &q, &a) == 0) {
		if (!a.has[0] || !a.text[0] || !*a.text[0] || strlen(a.text[0]) > 100)
			abort();
		if (a.has[2] && (a.num[2] < 1 || a.num[2] > 480))
			abort();
		if (a.has[4] && a.num[4] != 0 && a.num[4] != 1)
			abort();
	}
	json_object_put(r.body);
	free(uri);
	free(qs);
	return 0;
}
