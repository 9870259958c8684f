/* bookings.c: /api/v1/bookings: book, list, read, cancel, and issue new links. */
#include "v1.h"

#include <string.h>

const struct v1_field v1_booking_fields[] = {
	{"user", V1_TEXT, 1, 0, DB_NAME_MAX, NULL},
	{"astrologer", V1_TEXT, 1, 0, DB_NAME_MAX, NULL},
	{"type", V1_ENUM, 1, 0, 0, db_type_parse},
	{"minutes", V1_COUNT, 1, 1, DB_MINUTES_MAX, NULL},
	{"price", V1_MONEY, 1, 0, 0, NULL},
	{"startsAt", V1_TIME, 0, 0, 0, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

const struct v1_field v1_booking_query[] = {
	{"status", V1_ENUM, 0, 0, 0, db_status_parse},
	{"from", V1_TIME, 0, 0, 0, NULL},
	{"to", V1_TIME, 0, 0, 0, NULL},
	{"limit", V1_COUNT, 0, 1, DB_PAGE_MAX, NULL},
	{"cursor", V1_TEXT, 0, 0, DB_CURSOR_MAX - 1, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

const struct v1_field v1_link_fields[] = {
	{"role", V1_ENUM, 1, 0, 0, db_role_parse},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

#define BOOKINGS_PAGE 20 /* a page when the caller names no limit */

int v1_bookings_create(struct http_req *r, const struct v1_args *a, json_object *o)
{
	struct db_booking_req req = {
		.user = a->text[0],
		.astrologer = a->text[1],
		.type = (enum db_type)a->num[2],
		.minutes = a->num[3],
		.price = a->num[4],
		.starts_ms = a->has[5] ? a->num[5] : r->now_ms,
	};
	struct db_booking b;
	json_object *j;
	int rc;

	if ((rc = db_book(r->db, &req, r->now_ms, &b)) != DB_OK)
		return wire_from_db(rc);
	j = wire_booking_json(&b);
	memset(&b, 0, sizeof b);
	if (!j)
		return WIRE_INTERNAL;
	v1_merge(o, j);
	r->status = 201;
	return 0;
}

/* Who is connected now, by role: what the console shows as live. */
static void bookings_presence(json_object *o, const struct db_session *s, int64_t now_ms)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "user", json_object_new_boolean(
		db_session_present(s, DB_ROLE_USER, now_ms)));
	json_object_object_add(p, "astrologer", json_object_new_boolean(
		db_session_present(s, DB_ROLE_ASTROLOGER, now_ms)));
	json_object_object_add(o, "present", p);
}

struct bookings_page {
	json_object *list;
	int64_t now_ms;
};

static void bookings_one(void *arg, const struct db_session *s)
{
	struct bookings_page *pg = arg;
	json_object *j = wire_session_json(s);

	if (!j)
		return;
	bookings_presence(j, s, pg->now_ms);
	json_object_array_add(pg->list, j);
}

int v1_bookings_list(struct http_req *r, const struct v1_args *a, json_object *o)
{
	struct db_session_query q = {
		.status = a->has[0] ? (int)a->num[0] : -1,
		.from_ms = a->has[1] ? a->num[1] : 0,
		.to_ms = a->has[2] ? a->num[2] : 0,
		.limit = a->has[3] ? (int)a->num[3] : BOOKINGS_PAGE,
		.cursor = a->text[4],
	};
	struct bookings_page pg = {json_object_new_array(), r->now_ms};
	char next[DB_CURSOR_MAX];
	int rc;

	if (!pg.list)
		return WIRE_INTERNAL;
	json_object_object_add(o, "bookings", pg.list);
	if ((rc = db_session_page(r->db, &q, bookings_one, &pg, next)) != DB_OK) {
		r->detail = rc == DB_ERR_INVALID ? "cursor is not one this API gave." : NULL;
		return wire_from_db(rc);
	}
	json_object_object_add(o, "nextCursor", *next ? json_object_new_string(next) : NULL);
	return 0;
}

static void presence_one(void *arg, enum db_role role, int64_t joined_ms, int64_t seen_ms,
                         int64_t left_ms)
{
	json_object *p = json_object_new_object();

	(void)seen_ms;
	json_object_object_add(p, "participant", json_object_new_string(db_role_name(role)));
	wire_add_time(p, "joinedAt", joined_ms);
	wire_add_time(p, "leftAt", left_ms);
	json_object_array_add(arg, p);
}

/* A session id is a UUID: anything longer is no id of ours and is not looked up. */
static int bookings_get(struct http_req *r, const char *id, struct db_session *s)
{
	int rc;

	if (strlen(id) != DB_ID_LEN)
		return WIRE_NOT_FOUND;
	if ((rc = db_session_get(r->db, id, s)) != DB_OK)
		return wire_from_db(rc);
	return 0;
}

int v1_bookings_show(struct http_req *r, const struct v1_args *a, json_object *o)
{
	struct db_settlement st;
	struct db_session s;
	json_object *j, *intervals;
	int rc;

	if ((rc = bookings_get(r, a->param[0], &s)) < 0)
		return rc;
	if ((rc = db_session_bill(r->db, &s, r->now_ms, &st)) != DB_OK)
		return wire_from_db(rc);
	if (!(j = wire_session_json(&s)) || !(intervals = json_object_new_array())) {
		json_object_put(j);
		return WIRE_INTERNAL;
	}
	v1_merge(o, j);
	bookings_presence(o, &s, r->now_ms);
	/* The bill so far while it runs; the settlement once it is over. */
	wire_add_bill(o, &s, &st);
	json_object_object_add(o, "presence", intervals);
	if ((rc = db_presence_list(r->db, s.id, presence_one, intervals)) != DB_OK)
		return wire_from_db(rc);
	json_object_object_add(o, "settlement",
			       db_session_is_over(&s) ? wire_settlement_json(&st) : NULL);
	return 0;
}

int v1_bookings_cancel(struct http_req *r, const struct v1_args *a, json_object *o)
{
	struct db_settlement st;
	struct db_session s;
	json_object *j;
	int rc;

	if ((rc = bookings_get(r, a->param[0], &s)) < 0)
		return rc;
	if ((rc = db_booking_cancel(r->db, s.id, r->now_ms, &st)) != DB_OK) {
		if (rc == DB_ERR_STATE)
			r->detail = "Both have joined: the session is running and can no longer be cancelled.";
		return wire_from_db(rc);
	}
	if (!(j = wire_settlement_json(&st)))
		return WIRE_INTERNAL;
	json_object_object_add(o, "sessionId", json_object_new_string(s.id));
	v1_merge(o, j);
	return 0;
}

int v1_bookings_link(struct http_req *r, const struct v1_args *a, json_object *o)
{
	char token[DB_TOKEN_LEN + 1];
	struct db_session s;
	enum db_role role = (enum db_role)a->num[0];
	int rc;

	if ((rc = bookings_get(r, a->param[0], &s)) < 0)
		return rc;
	if ((rc = db_link_reissue(r->db, s.id, role, r->now_ms, token)) != DB_OK)
		return wire_from_db(rc);
	json_object_object_add(o, "sessionId", json_object_new_string(s.id));
	json_object_object_add(o, "participantType", json_object_new_string(db_role_name(role)));
	json_object_object_add(o, "token", json_object_new_string(token));
	wire_add_link(o, "url", token);
	memset(token, 0, sizeof token);
	r->status = 201;
	return 0;
}
