/* summary.c: POST /api/sessions/summary: the astrologer publishes ({text}) the summary the customer reads ({}). */
#include <stdlib.h>

#include "http.h"

static int summary_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	enum db_role role;
	const char *text;
	char *stored;
	int64_t at_ms;
	int rc, link_rc;

	if ((rc = http_authorize(r, &s, &role, &link_rc)) < 0 ||
	    (rc = http_json_string(r->body, "text", HTTP_BODY_MAX, &text)) < 0)
		return rc;
	if (text && (rc = db_summary_publish(r->db, &s, role, text, r->now_ms)) != DB_OK)
		return rc == DB_ERR_NOT_OPEN ? http_link_error(r, &s, rc) : wire_from_db(rc);
	if ((rc = db_summary_get(r->db, &s, &stored, &at_ms)) != DB_OK)
		return wire_from_db(rc);
	/* The page learns from this whether to offer the notes, also on a link that has ended. */
	json_object_object_add(o, "participantType", json_object_new_string(db_role_name(role)));
	json_object_object_add(o, "summary", stored ? json_object_new_string(stored) : NULL);
	wire_add_time(o, "publishedAt", at_ms);
	free(stored);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"summary", "POST", summary_handle};

	return http_main(argc, argv, &ep);
}
