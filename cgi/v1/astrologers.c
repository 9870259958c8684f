/* astrologers.c: /api/v1/astrologers: who gives sessions, and what they have earned. */
#include "v1.h"

const struct v1_field v1_astrologer_fields[] = {
	{"name", V1_TEXT, 1, 0, DB_NAME_MAX, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

int v1_astrologers_create(struct http_req *r, const struct v1_args *a, json_object *o)
{
	int rc;

	if ((rc = db_astrologer_add(r->db, a->text[0], r->now_ms)) != DB_OK)
		return wire_from_db(rc);
	r->status = 201;
	json_object_object_add(o, "astrologer", json_object_new_string(a->text[0]));
	wire_add_money(o, "earnings", 0);
	return 0;
}

static void astrologers_one(void *arg, const char *name, int64_t earnings)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "astrologer", json_object_new_string(name));
	wire_add_money(e, "earnings", earnings);
	json_object_array_add(arg, e);
}

int v1_astrologers_list(struct http_req *r, const struct v1_args *a, json_object *o)
{
	json_object *list = json_object_new_array();
	int rc;

	(void)a;
	if (!list)
		return WIRE_INTERNAL;
	json_object_object_add(o, "astrologers", list);
	if ((rc = db_astrologer_list(r->db, astrologers_one, list)) != DB_OK)
		return wire_from_db(rc);
	return 0;
}
