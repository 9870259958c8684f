/* reports.c: /api/v1/reports and /api/v1/ledger: what the shop earned, and whether the money adds up. */
#include "v1.h"

const struct v1_field v1_range_query[] = {
	{"from", V1_TIME, 0, 0, 0, NULL},
	{"to", V1_TIME, 0, 0, 0, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

static void earnings_one(void *arg, const struct db_earnings_row *row)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "astrologer", json_object_new_string(row->astrologer));
	json_object_object_add(e, "sessions", json_object_new_int64(row->sessions));
	json_object_object_add(e, "billedMinutes", json_object_new_int64(row->billed_minutes));
	wire_add_money(e, "charged", row->charged);
	wire_add_money(e, "commission", row->commission);
	wire_add_money(e, "earnings", row->earnings);
	json_object_array_add(arg, e);
}

int v1_reports_earnings(struct http_req *r, const struct v1_args *a, json_object *o)
{
	json_object *list = json_object_new_array();
	int64_t from = a->has[0] ? a->num[0] : 0, to = a->has[1] ? a->num[1] : 0;
	int rc;

	if (!list)
		return WIRE_INTERNAL;
	if (from && to && to <= from) {
		json_object_put(list);
		r->detail = "to must be after from.";
		return WIRE_BAD_FIELD;
	}
	wire_add_time(o, "from", from);
	wire_add_time(o, "to", to);
	json_object_object_add(o, "astrologers", list);
	if ((rc = db_earnings_report(r->db, from, to, earnings_one, list)) != DB_OK)
		return wire_from_db(rc);
	return 0;
}

static void problem_one(void *arg, const char *problem)
{
	json_object_array_add(arg, json_object_new_string(problem));
}

int v1_ledger_check(struct http_req *r, const struct v1_args *a, json_object *o)
{
	json_object *list = json_object_new_array();
	int problems, rc;

	(void)a;
	if (!list)
		return WIRE_INTERNAL;
	json_object_object_add(o, "problems", list);
	if ((rc = db_ledger_check(r->db, problem_one, list, &problems)) != DB_OK)
		return wire_from_db(rc);
	json_object_object_add(o, "ok", json_object_new_boolean(problems == 0));
	return 0;
}
