/* webhooks.c: /api/v1/webhooks: the shop's endpoints, their secrets, and the deliveries made to them. */
#include "v1.h"

#include <sodium.h>
#include <string.h>

const struct v1_field v1_webhook_fields[] = {
	{"url", V1_TEXT, 1, 0, DB_WEBHOOK_URL_MAX, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

const struct v1_field v1_delivery_query[] = {
	{"status", V1_ENUM, 0, 0, 0, db_delivery_parse},
	{"limit", V1_COUNT, 0, 1, WEBHOOKS_PAGE_MAX, NULL},
	{NULL, V1_TEXT, 0, 0, 0, NULL},
};

/* An id in the path: digits only, else it names nothing of ours. */
static int webhooks_id(struct http_req *r, const char *param, int64_t *id)
{
	int64_t v = 0;

	if (!*param || strlen(param) > 18 || strspn(param, "0123456789") != strlen(param))
		goto bad;
	for (const char *p = param; *p; p++)
		v = v * 10 + (*p - '0');
	if (!v)
		goto bad;
	*id = v;
	return 0;
bad:
	r->detail = "There is no webhook endpoint or delivery with that id.";
	return WIRE_NOT_FOUND;
}

/* The library's reason for a refusal, where the wire code alone would not say it. */
static int webhooks_refused(struct http_req *r, int rc)
{
	if (rc == DB_ERR_INVALID || rc == DB_ERR_LIMIT || rc == DB_ERR_NOT_FOUND)
		r->detail = db_errmsg(r->db);
	return wire_from_db(rc);
}

/* Answers with a secret made just now; the caller's copy is wiped either way. */
static int webhooks_secret(struct http_req *r, json_object *o, int64_t id, const char *url,
			   char secret[DB_WEBHOOK_SECRET_LEN + 1], int64_t previous_until_ms)
{
	json_object *j = wire_webhook_secret_json(id, url, secret, previous_until_ms);

	sodium_memzero(secret, DB_WEBHOOK_SECRET_LEN + 1);
	if (!j)
		return WIRE_INTERNAL;
	v1_merge(o, j);
	r->status = 201;
	return 0;
}

int v1_webhooks_create(struct http_req *r, const struct v1_args *a, json_object *o)
{
	char secret[DB_WEBHOOK_SECRET_LEN + 1];
	int64_t id;
	int rc;

	if ((rc = db_webhook_add(r->db, a->text[0], r->now_ms, &id, secret)) != DB_OK)
		return webhooks_refused(r, rc);
	return webhooks_secret(r, o, id, a->text[0], secret, 0);
}

static void webhooks_one(void *arg, const struct db_webhook *w)
{
	json_object *j = wire_webhook_json(w);

	if (j)
		json_object_array_add(arg, j);
}

int v1_webhooks_list(struct http_req *r, const struct v1_args *a, json_object *o)
{
	json_object *list = json_object_new_array();
	int rc;

	(void)a;
	if (!list)
		return WIRE_INTERNAL;
	json_object_object_add(o, "webhooks", list);
	if ((rc = db_webhook_list(r->db, webhooks_one, list)) != DB_OK)
		return wire_from_db(rc);
	return 0;
}

int v1_webhooks_rotate(struct http_req *r, const struct v1_args *a, json_object *o)
{
	char secret[DB_WEBHOOK_SECRET_LEN + 1];
	int64_t id;
	int rc;

	if ((rc = webhooks_id(r, a->param[0], &id)) < 0)
		return rc;
	if ((rc = db_webhook_rotate(r->db, id, r->now_ms, secret)) != DB_OK)
		return webhooks_refused(r, rc);
	return webhooks_secret(r, o, id, NULL, secret, r->now_ms + DB_WEBHOOK_OVERLAP_MS);
}

int v1_webhooks_remove(struct http_req *r, const struct v1_args *a, json_object *o)
{
	int64_t id;
	int rc;

	if ((rc = webhooks_id(r, a->param[0], &id)) < 0)
		return rc;
	if ((rc = db_webhook_remove(r->db, id)) != DB_OK)
		return webhooks_refused(r, rc);
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "removed", json_object_new_boolean(1));
	return 0;
}

static void deliveries_one(void *arg, const struct db_delivery *d)
{
	json_object *j = wire_delivery_json(d);

	if (j)
		json_object_array_add(arg, j);
}

int v1_deliveries_list(struct http_req *r, const struct v1_args *a, json_object *o)
{
	json_object *list = json_object_new_array();
	int rc;

	if (!list)
		return WIRE_INTERNAL;
	json_object_object_add(o, "deliveries", list);
	if ((rc = db_webhook_deliveries(r->db, a->has[0] ? (int)a->num[0] : -1,
					a->has[1] ? (int)a->num[1] : WEBHOOKS_PAGE, deliveries_one,
					list)) != DB_OK)
		return wire_from_db(rc);
	return 0;
}

int v1_deliveries_retry(struct http_req *r, const struct v1_args *a, json_object *o)
{
	int64_t id;
	int rc;

	if ((rc = webhooks_id(r, a->param[0], &id)) < 0)
		return rc;
	if ((rc = db_webhook_retry(r->db, id, r->now_ms)) != DB_OK)
		return webhooks_refused(r, rc);
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "status", json_object_new_string(db_delivery_name(DB_DELIVERY_PENDING)));
	return 0;
}
