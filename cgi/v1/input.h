/* input.h: what the booking API reads from a request before a handler runs. */
#ifndef SESSIONS_V1_INPUT_H
#define SESSIONS_V1_INPUT_H

#include "v1.h"

#define INPUT_PREFIX "/api/v1/"
#define INPUT_SEGMENTS_MAX 6
#define INPUT_QUERY_MAX 8

/* The path after /api/v1/, split at "/" and decoded. */
struct input_path {
	char buf[1024];                   /* the segments' storage */
	char *seg[INPUT_SEGMENTS_MAX];    /* point into buf */
	int n;
};

/* The query string's key=value pairs, decoded. */
struct input_query {
	char buf[1024];
	char *key[INPUT_QUERY_MAX], *val[INPUT_QUERY_MAX]; /* point into buf */
	int n;
};

/* -1 for a path that cannot name a route: not under /api/v1/, an empty segment, a bad escape. */
int input_path(struct input_path *ip, const char *uri);
/* -1 for a malformed or overlong query. */
int input_query(struct input_query *q, const char *qs);
/*
 * Checks the body's members (and the query's parameters, for a GET)
 * against a route's field table into *a: an unknown, repeated, missing
 * or ill-typed one is WIRE_BAD_FIELD with a sentence naming it.
 */
int input_fields(struct http_req *r, const struct v1_field *fields, const struct input_query *q,
		 struct v1_args *a);

#endif
