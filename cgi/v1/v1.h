/* v1.h: the booking API (/api/v1): its route table's types, the checked inputs handlers get, and the handlers. */
#ifndef SESSIONS_V1_H
#define SESSIONS_V1_H

#include "http.h"

/* What a field holds once checked; the field table says which. */
enum v1_kind {
	V1_TEXT,  /* a string of printable characters, up to max bytes */
	V1_MONEY, /* a decimal string: "97.00" -> minor units */
	V1_COUNT, /* a whole number in [lo, hi] (in a query: digits) */
	V1_TIME,  /* ISO 8601 -> ms */
	V1_ENUM,  /* a name parse() knows -> its value */
};

#define V1_FIELDS_MAX 8
#define V1_PARAMS_MAX 2

/* One input of a route: a body field for POST, a query parameter for GET. */
struct v1_field {
	const char *name;
	enum v1_kind kind;
	int required;
	int64_t lo, hi;            /* V1_COUNT's range; V1_TEXT's hi is its byte limit */
	int (*parse)(const char *); /* V1_ENUM: the value, or -1 when unknown */
};

/* A route's inputs after the table's checks, by the field's place in the table. */
struct v1_args {
	int has[V1_FIELDS_MAX];
	const char *text[V1_FIELDS_MAX]; /* point into the body or the query: live for the request */
	int64_t num[V1_FIELDS_MAX];      /* MONEY, COUNT, TIME, ENUM */
	const char *param[V1_PARAMS_MAX]; /* the path's {} segments, decoded */
};

typedef int v1_handler(struct http_req *r, const struct v1_args *a, json_object *answer);

/*
 * One line of the route table: method, path under /api/v1 with "{}" for
 * a segment the handler gets as a parameter, handler, and its inputs,
 * checked before the handler runs. Every POST takes an Idempotency-Key.
 */
struct v1_route {
	const char *method;
	const char *path;
	v1_handler *handle;
	const struct v1_field *fields; /* NULL-named entry ends it; NULL: takes none */
};

/* Copies every member of from into to, then drops from. */
void v1_merge(json_object *to, json_object *from);

/* users.c */
int v1_users_create(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_users_show(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_users_topup(struct http_req *r, const struct v1_args *a, json_object *o);
extern const struct v1_field v1_user_fields[], v1_topup_fields[];

/* astrologers.c */
int v1_astrologers_create(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_astrologers_list(struct http_req *r, const struct v1_args *a, json_object *o);
extern const struct v1_field v1_astrologer_fields[];

/* bookings.c */
int v1_bookings_create(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_bookings_list(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_bookings_show(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_bookings_cancel(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_bookings_link(struct http_req *r, const struct v1_args *a, json_object *o);
extern const struct v1_field v1_booking_fields[], v1_booking_query[], v1_link_fields[];

/* reports.c */
int v1_reports_earnings(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_ledger_check(struct http_req *r, const struct v1_args *a, json_object *o);
extern const struct v1_field v1_range_query[];

/* webhooks.c */
#define WEBHOOKS_PAGE 50      /* deliveries listed when the caller names no limit */
#define WEBHOOKS_PAGE_MAX 200 /* and at most */
int v1_webhooks_create(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_webhooks_list(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_webhooks_rotate(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_webhooks_remove(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_deliveries_list(struct http_req *r, const struct v1_args *a, json_object *o);
int v1_deliveries_retry(struct http_req *r, const struct v1_args *a, json_object *o);
extern const struct v1_field v1_webhook_fields[], v1_delivery_query[];

#endif
