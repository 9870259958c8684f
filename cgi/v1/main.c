/* main.c: api-v1, the booking API: one route table, API keys, Idempotency-Key, the audit of every keyed call. */
#include "input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Adding an endpoint is one line here. */
static const struct v1_route routes[] = {
	{"POST", "users", v1_users_create, v1_user_fields},
	{"GET", "users/{}", v1_users_show, NULL},
	{"POST", "users/{}/topups", v1_users_topup, v1_topup_fields},
	{"POST", "astrologers", v1_astrologers_create, v1_astrologer_fields},
	{"GET", "astrologers", v1_astrologers_list, NULL},
	{"POST", "bookings", v1_bookings_create, v1_booking_fields},
	{"GET", "bookings", v1_bookings_list, v1_booking_query},
	{"GET", "bookings/{}", v1_bookings_show, NULL},
	{"POST", "bookings/{}/cancel", v1_bookings_cancel, NULL},
	{"POST", "bookings/{}/links", v1_bookings_link, v1_link_fields},
	{"GET", "reports/earnings", v1_reports_earnings, v1_range_query},
	{"GET", "ledger/check", v1_ledger_check, NULL},
	{"POST", "webhooks", v1_webhooks_create, v1_webhook_fields},
	{"GET", "webhooks", v1_webhooks_list, NULL},
	{"POST", "webhooks/{}/rotate", v1_webhooks_rotate, NULL},
	{"POST", "webhooks/{}/remove", v1_webhooks_remove, NULL},
	{"GET", "webhooks/deliveries", v1_deliveries_list, v1_delivery_query},
	{"POST", "webhooks/deliveries/{}/retry", v1_deliveries_retry, NULL},
};
#define NROUTES ((int)(sizeof routes / sizeof routes[0]))

void v1_merge(json_object *to, json_object *from)
{
	json_object_object_foreach(from, key, val)
		json_object_object_add(to, key, json_object_get(val));
	json_object_put(from);
}

/* Whether the path's segments fit a route's pattern; its {} segments go to a->param. */
static int v1_match(const char *pattern, const struct input_path *ip, struct v1_args *a)
{
	const char *p = pattern;
	int i = 0, np = 0;

	for (; i < ip->n && *p; i++) {
		size_t len = strcspn(p, "/");

		if (len == 2 && strncmp(p, "{}", 2) == 0) {
			if (np < V1_PARAMS_MAX)
				a->param[np++] = ip->seg[i];
		} else if (strlen(ip->seg[i]) != len || strncmp(p, ip->seg[i], len) != 0) {
			return 0;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	return i == ip->n && !*p;
}

/* The route for the request, or why none: 404, or 405 with the Allow header it needs. */
static int v1_route(struct http_req *r, const struct input_path *ip, struct v1_args *a,
		    const struct v1_route **out)
{
	static char allow[64];
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	int found = 0;

	allow[0] = '\0';
	for (int i = 0; i < NROUTES; i++) {
		struct v1_args tmp = {0};

		if (!v1_match(routes[i].path, ip, &tmp))
			continue;
		found = 1;
		if (strcmp(routes[i].method, method) == 0) {
			memcpy(a->param, tmp.param, sizeof a->param);
			*out = &routes[i];
			return 0;
		}
		snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
			 *allow ? ", " : "", strcmp(routes[i].method, "GET") == 0 ? "GET, HEAD" :
			 routes[i].method);
	}
	if (!found) {
		r->detail = "There is no such API endpoint.";
		return WIRE_NOT_FOUND;
	}
	r->allow = allow;
	return WIRE_METHOD;
}

/* The audit keeps the path, with any run that may be a secret (a key, a link's token) masked. */
static void v1_audit_path(const char *uri, char *out, size_t size)
{
	size_t len = strcspn(uri, "?"), o = 0, run;

	for (size_t i = 0; i < len && o + 9 < size; i += run ? run : 1) {
		run = strspn(uri + i, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
		if (run > len - i)
			run = len - i;
		if (run >= 40) {
			memcpy(out + o, "[masked]", 8);
			o += 8;
		} else if (run) {
			if (o + run >= size)
				break;
			memcpy(out + o, uri + i, run);
			o += run;
		} else {
			out[o++] = uri[i];
		}
	}
	out[o] = '\0';
}

/*
 * The Idempotency-Key header: a structured-field string ("...") or the
 * same text bare; 1..255 visible ASCII characters. NULL when absent.
 */
static int v1_idem_key(struct http_req *r, char *out, size_t size, const char **key)
{
	const char *h = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", r->fcgi.envp);
	size_t len;

	*key = NULL;
	if (!h)
		return 0;
	len = strlen(h);
	if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
		h++;
		len -= 2;
	}
	if (len == 0 || len > DB_IDEM_KEY_MAX || len >= size)
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (h[i] < 0x21 || h[i] > 0x7e || h[i] == '"' || h[i] == '\\')
			goto bad;
	memcpy(out, h, len);
	out[len] = '\0';
	*key = out;
	return 0;
bad:
	r->detail = "Idempotency-Key is 1 to 255 visible ASCII characters, optionally in quotes.";
	return WIRE_BAD_FIELD;
}

/*
 * Runs a POST under its Idempotency-Key: the key is claimed first; the
 * handler's effect and its answer then commit in one transaction, so a
 * retry after any failure either replays that answer or finds nothing done.
 */
static int v1_idempotent(struct http_req *r, const struct v1_route *rt, const struct v1_args *a,
			 const struct db_apikey *k, const char *idem, const char *path,
			 json_object *o)
{
	struct db_idem_req q = {k->id, idem, NULL, r->raw, r->raw_len};
	struct db_idem claim;
	char action[600];
	const char *text;
	size_t len;
	int rc;

	snprintf(action, sizeof action, "%s %s", r->method, path);
	q.action = action;

	if ((rc = db_idem_claim(r->db, &q, r->now_ms, &claim)) != DB_OK)
		return wire_from_db(rc);
	switch (claim.state) {
	case DB_IDEM_DONE:
		r->status = claim.status;
		r->replay = claim.body;
		return 0;
	case DB_IDEM_RUNNING:
		return WIRE_IDEM_RUNNING;
	case DB_IDEM_MISMATCH:
		return WIRE_IDEM_REUSED;
	case DB_IDEM_NEW:
		break;
	}
	/* From here a failure undoes the effect; the claim is given up unless it may still stand. */
	if ((rc = db_tx_begin(r->db)) != DB_OK) {
		rc = wire_from_db(rc);
		goto release;
	}
	if ((rc = rt->handle(r, a, o)) < 0)
		goto rollback;
	if (!(text = http_json_text(o, &len))) {
		rc = WIRE_INTERNAL;
		goto rollback;
	}
	if ((rc = db_idem_finish(r->db, &q, &claim, r->status, text)) != DB_OK) {
		/* Lost to a retry that took the claim over: that one answers for the key. */
		if (rc == DB_ERR_STATE) {
			db_tx_rollback(r->db);
			return WIRE_IDEM_RUNNING;
		}
		rc = wire_from_db(rc);
		goto rollback;
	}
	/* A failed COMMIT may have committed: the claim stays, and its lease decides the retry. */
	if ((rc = db_tx_commit(r->db)) != DB_OK)
		return wire_from_db(rc);
	return 0;
rollback:
	db_tx_rollback(r->db);
release:
	/* Nothing happened: the key is free for a retry, with this body or a corrected one. */
	db_idem_release(r->db, &q, &claim);
	return rc;
}

static int v1_serve(struct http_req *r, const char *uri, struct db_apikey *k, int *keyed,
		    json_object *o)
{
	const char *auth = FCGX_GetParam("HTTP_AUTHORIZATION", r->fcgi.envp);
	const char *qs = FCGX_GetParam("QUERY_STRING", r->fcgi.envp);
	static struct input_path ip;
	static struct input_query q;
	const struct v1_route *rt;
	struct v1_args a = {0};
	char idem_buf[DB_IDEM_KEY_MAX + 1], path[512];
	const char *idem;
	int rc, is_post;

	*keyed = 0;
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return WIRE_NO_KEY;
	for (auth += 7; *auth == ' '; auth++)
		;
	*keyed = 1;
	if ((rc = db_apikey_verify(r->db, auth, k)) != DB_OK)
		return rc == DB_ERR_NOT_FOUND ? WIRE_BAD_KEY : wire_from_db(rc);
	if (k->revoked_ms) {
		r->detail = "This API key was revoked.";
		return WIRE_BAD_KEY;
	}
	if (r->read_rc < 0)
		return r->read_rc;
	if (input_path(&ip, uri) < 0) {
		r->detail = "There is no such API endpoint.";
		return WIRE_NOT_FOUND;
	}
	if ((rc = v1_route(r, &ip, &a, &rt)) < 0)
		return rc;
	is_post = strcmp(rt->method, "POST") == 0;
	if (is_post && qs && *qs) {
		r->detail = "A POST takes its fields in the JSON body, not the query string.";
		return WIRE_BAD_FIELD;
	}
	if (input_query(&q, is_post ? NULL : qs) < 0) {
		r->detail = "The query string is malformed.";
		return WIRE_BAD_FIELD;
	}
	if ((rc = input_fields(r, rt->fields, &q, &a)) < 0 ||
	    (rc = v1_idem_key(r, idem_buf, sizeof idem_buf, &idem)) < 0)
		return rc;
	if (!is_post || !idem)
		return rt->handle(r, &a, o);
	v1_audit_path(uri, path, sizeof path);
	return v1_idempotent(r, rt, &a, k, idem, path, o);
}

static int v1_handle(struct http_req *r, json_object *o)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", r->fcgi.envp);
	struct db_apikey k;
	char path[512];
	int keyed, rc;

	if (!uri)
		uri = "";
	rc = v1_serve(r, uri, &k, &keyed, o);
	if (keyed) {
		int status = rc < 0 ? wire_error((enum wire_err)rc)->http_status : r->status;

		v1_audit_path(uri, path, sizeof path);
		if (db_audit_add(r->db, *k.name ? k.name : NULL, r->method, *path ? path : "/", status,
				 r->now_ms) != DB_OK)
			fprintf(stderr, "api-v1: the audit row was not written: %s\n", db_errmsg(r->db));
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"v1", NULL, v1_handle};

	return http_main(argc, argv, &ep);
}
