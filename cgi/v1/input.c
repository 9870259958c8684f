/* input.c: the booking API's inputs: the path's segments, the query string, and each route's field table. */
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int input_hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s in place ('+' too, in a query); -1 on a bad escape or a NUL. */
static int input_decode(char *s, int plus)
{
	char *w = s;

	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			int hi = input_hex((unsigned char)p[1]), lo = hi < 0 ? -1 : input_hex((unsigned char)p[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*w++ = plus && *p == '+' ? ' ' : *p;
		}
	}
	*w = '\0';
	return 0;
}

int input_path(struct input_path *ip, const char *uri)
{
	size_t len = strcspn(uri, "?");
	char *p;

	ip->n = 0;
	if (len >= sizeof ip->buf || strncmp(uri, INPUT_PREFIX, sizeof INPUT_PREFIX - 1) != 0)
		return -1;
	memcpy(ip->buf, uri + sizeof INPUT_PREFIX - 1, len - (sizeof INPUT_PREFIX - 1));
	ip->buf[len - (sizeof INPUT_PREFIX - 1)] = '\0';
	/* Split first, then decode: an escaped "/" stays inside its segment. */
	for (p = ip->buf; ; ) {
		char *slash = strchr(p, '/');

		if (ip->n == INPUT_SEGMENTS_MAX)
			return -1;
		ip->seg[ip->n++] = p;
		if (slash)
			*slash = '\0';
		if (!*p || input_decode(p, 0) < 0)
			return -1;
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

int input_query(struct input_query *q, const char *qs)
{
	char *p;

	q->n = 0;
	if (!qs || !*qs)
		return 0;
	if (strlen(qs) >= sizeof q->buf)
		return -1;
	strcpy(q->buf, qs);
	for (p = q->buf; p; ) {
		char *amp = strchr(p, '&'), *eq;

		if (amp)
			*amp = '\0';
		if (q->n == INPUT_QUERY_MAX || !(eq = strchr(p, '=')))
			return -1;
		*eq = '\0';
		if (input_decode(p, 1) < 0 || input_decode(eq + 1, 1) < 0)
			return -1;
		q->key[q->n] = p;
		q->val[q->n++] = eq + 1;
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

/* Printable: no control characters (the library checks names again). */
static int input_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* One value, given as JSON (v) or as query text (text, v NULL). */
static int input_value(struct http_req *r, const struct v1_field *f, json_object *v,
		       const char *text, const char **out_text, int64_t *out_num)
{
	static char why[160];
	long long n;
	char *end;
	int e;

	if (v && f->kind == V1_COUNT) {
		if (!json_object_is_type(v, json_type_int))
			goto bad;
		errno = 0;
		n = json_object_get_int64(v);
		if (errno || n < f->lo || n > f->hi)
			goto bad;
		*out_num = n;
		return 0;
	}
	if (v) {
		if (!json_object_is_type(v, json_type_string))
			goto bad;
		text = json_object_get_string(v);
		if (strlen(text) != (size_t)json_object_get_string_len(v))
			goto bad; /* an embedded NUL */
	}
	switch (f->kind) {
	case V1_TEXT:
		if (!*text || strlen(text) > (size_t)f->hi || !input_printable(text))
			goto bad;
		*out_text = text;
		return 0;
	case V1_MONEY:
		if (db_money_parse(text, out_num) != DB_OK)
			goto bad;
		return 0;
	case V1_TIME:
		if (db_time_parse(text, out_num) != DB_OK)
			goto bad;
		return 0;
	case V1_ENUM:
		if ((e = f->parse(text)) < 0)
			goto bad;
		*out_num = e;
		return 0;
	case V1_COUNT:
		errno = 0;
		n = strtoll(text, &end, 10);
		if (errno || end == text || *end || *text == '+' || *text == '-' || n < f->lo || n > f->hi)
			goto bad;
		*out_num = n;
		return 0;
	}
bad:
	switch (f->kind) {
	case V1_TEXT:
		snprintf(why, sizeof why, "%s is a string of 1 to %lld printable bytes.", f->name,
			 (long long)f->hi);
		break;
	case V1_MONEY:
		snprintf(why, sizeof why, "%s is a decimal string such as \"97.00\": "
			 "at most two decimals, 0 to 1000000.00.", f->name);
		break;
	case V1_TIME:
		snprintf(why, sizeof why, "%s is an ISO 8601 time such as \"2026-01-31T18:30:00Z\".",
			 f->name);
		break;
	case V1_ENUM:
		snprintf(why, sizeof why, "%s is not one of the names it may be.", f->name);
		break;
	case V1_COUNT:
		snprintf(why, sizeof why, "%s is a whole number from %lld to %lld.", f->name,
			 (long long)f->lo, (long long)f->hi);
		break;
	}
	r->detail = why;
	return WIRE_BAD_FIELD;
}

static int input_place(const struct v1_field *fields, const char *name)
{
	for (int i = 0; fields && fields[i].name; i++)
		if (strcmp(fields[i].name, name) == 0)
			return i;
	return -1;
}

static int input_unknown(struct http_req *r, const char *name)
{
	static char why[160];

	snprintf(why, sizeof why, "'%.100s' is not a field of this request.", name);
	r->detail = why;
	return WIRE_BAD_FIELD;
}

int input_fields(struct http_req *r, const struct v1_field *fields, const struct input_query *q,
		 struct v1_args *a)
{
	static char why[160];
	int i, rc;

	if (r->body) {
		json_object_object_foreach(r->body, key, val) {
			if ((i = input_place(fields, key)) < 0)
				return input_unknown(r, key);
			if ((rc = input_value(r, &fields[i], val, NULL, &a->text[i], &a->num[i])) < 0)
				return rc;
			a->has[i] = 1;
		}
	}
	for (int k = 0; q && k < q->n; k++) {
		if ((i = input_place(fields, q->key[k])) < 0)
			return input_unknown(r, q->key[k]);
		if (a->has[i]) {
			snprintf(why, sizeof why, "%s is given twice.", fields[i].name);
			r->detail = why;
			return WIRE_BAD_FIELD;
		}
		if ((rc = input_value(r, &fields[i], NULL, q->val[k], &a->text[i], &a->num[i])) < 0)
			return rc;
		a->has[i] = 1;
	}
	for (i = 0; fields && fields[i].name; i++) {
		if (fields[i].required && !a->has[i]) {
			snprintf(why, sizeof why, "%s is required.", fields[i].name);
			r->detail = why;
			return WIRE_BAD_FIELD;
		}
	}
	return 0;
}
