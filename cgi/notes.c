/* notes.c: POST /api/sessions/notes: the astrologer saves ({text}) or reads ({} or {version}) the session's private notes. */
#include <stdlib.h>

#include "http.h"

/* Each version as the list shows it, without its text. */
static void notes_list(void *arg, const struct db_note *n)
{
	json_object *v = json_object_new_object();

	if (!v)
		return;
	json_object_object_add(v, "version", json_object_new_int64(n->version));
	wire_add_time(v, "savedAt", n->at_ms);
	json_object_object_add(v, "bytes", json_object_new_int64(n->bytes));
	json_object_array_add(arg, v);
}

static int notes_version(struct http_req *r, int64_t *version)
{
	json_object *v;

	*version = 0;
	if (!json_object_object_get_ex(r->body, "version", &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || (*version = json_object_get_int64(v)) < 1) {
		r->detail = "version is a whole number from 1.";
		return WIRE_BAD_FIELD;
	}
	return 0;
}

static int notes_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	struct db_note n;
	enum db_role role;
	json_object *list;
	const char *text;
	char *stored = NULL;
	int64_t version;
	int rc, link_rc, unchanged;

	if ((rc = http_authorize(r, &s, &role, &link_rc)) < 0 ||
	    (rc = http_json_string(r->body, "text", HTTP_BODY_MAX, &text)) < 0 ||
	    (rc = notes_version(r, &version)) < 0)
		return rc;
	if (text) {
		if ((rc = db_note_save(r->db, &s, role, text, r->now_ms, &n, &unchanged)) != DB_OK)
			return rc == DB_ERR_NOT_OPEN ? http_link_error(r, &s, rc) : wire_from_db(rc);
		json_object_object_add(o, "stored", json_object_new_boolean(!unchanged));
		json_object_object_add(o, "version", json_object_new_int64(n.version));
		wire_add_time(o, "savedAt", n.at_ms);
		return 0;
	}
	if (!(list = json_object_new_array()))
		return WIRE_INTERNAL;
	json_object_object_add(o, "versions", list);
	if ((rc = db_note_read(r->db, &s, role, version, &stored, &n, notes_list, list)) != DB_OK)
		return wire_from_db(rc);
	json_object_object_add(o, "text", json_object_new_string(stored));
	json_object_object_add(o, "version", json_object_new_int64(n.version));
	wire_add_time(o, "savedAt", n.at_ms);
	free(stored);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"notes", "POST", notes_handle};

	return http_main(argc, argv, &ep);
}
