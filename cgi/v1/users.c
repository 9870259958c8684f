/* users.c: /api/v1/users: customers and their wallets. */
#include "v1.h"

const struct v1_field v1_user_fields[] = {
	{"name", V1_TEXT, 1, 0, DB_NAME_MAX, NULL},
	{"balance", V1_MONEY, 0, 0, 0, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

const struct v1_field v1_topup_fields[] = {
	{"amount", V1_MONEY, 1, 0, 0, NULL},
	{"reference", V1_TEXT, 1, 0, DB_NAME_MAX, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

static int users_wallet(struct http_req *r, const char *name, json_object *o)
{
	int64_t balance, frozen;
	int rc;

	if ((rc = db_wallet_show(r->db, name, &balance, &frozen)) != DB_OK)
		return wire_from_db(rc);
	json_object_object_add(o, "user", json_object_new_string(name));
	wire_add_money(o, "balance", balance);
	wire_add_money(o, "frozen", frozen);
	return 0;
}

int v1_users_create(struct http_req *r, const struct v1_args *a, json_object *o)
{
	int rc;

	if ((rc = db_user_add(r->db, a->text[0], a->has[1] ? a->num[1] : 0, r->now_ms)) != DB_OK)
		return wire_from_db(rc);
	r->status = 201;
	return users_wallet(r, a->text[0], o);
}

int v1_users_show(struct http_req *r, const struct v1_args *a, json_object *o)
{
	return users_wallet(r, a->param[0], o);
}

int v1_users_topup(struct http_req *r, const struct v1_args *a, json_object *o)
{
	int rc;

	if ((rc = db_wallet_topup(r->db, a->param[0], a->num[0], a->text[1], r->now_ms)) != DB_OK)
		return wire_from_db(rc);
	if ((rc = users_wallet(r, a->param[0], o)) < 0)
		return rc;
	json_object_object_add(o, "reference", json_object_new_string(a->text[1]));
	return 0;
}
