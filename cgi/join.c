/* join.c: POST /api/sessions/join: marks the token's participant joined; the second join starts the paid time. */
#include "http.h"

static int join_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	struct db_join j;
	enum db_role role;
	int rc;

	if ((rc = http_open_link(r, &s, &role)) < 0)
		return rc;
	if ((rc = db_start_session(r->db, s.id, role, r->now_ms, &j)) != DB_OK)
		return wire_from_db(rc);

	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "sessionActive",
			       json_object_new_boolean(j.session.status == DB_STATUS_ACTIVE));
	json_object_object_add(o, "bothJoined", json_object_new_boolean(j.both_joined));
	json_object_object_add(o, "message", json_object_new_string(
		j.both_joined ? "Session started" : "Waiting for the other participant"));
	json_object_object_add(o, "alreadyJoined", json_object_new_boolean(j.already_joined));
	wire_add_time(o, "startedAt", j.session.started_ms);
	wire_add_time(o, "deadline", j.session.deadline_ms);
	wire_add_time(o, "serverTime", r->now_ms);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"join", "POST", join_handle};

	return http_main(argc, argv, &ep);
}
