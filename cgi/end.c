/* end.c: POST /api/sessions/end: a participant who joined ends the session; it is settled once. */
#include "http.h"

static int end_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	struct db_settlement st;
	enum db_role role;
	const char *reason;
	int rc, link_rc, joined, given = -1;

	if ((rc = http_authorize(r, &s, &role, &link_rc)) < 0)
		return rc;
	/* A participant's own reason is kept when it is one they may give;
	 * anything else (time_up, no_show, ...) is the rules' to say. */
	if ((rc = http_json_string(r->body, "reason", 32, &reason)) < 0)
		return rc;
	if (reason && (given = db_reason_parse(reason)) < 0) {
		r->detail = "reason is not a known end reason.";
		return WIRE_BAD_FIELD;
	}
	joined = db_session_has_joined(&s, role);
	/* An ended session answers a participant with its one settlement again. */
	if (link_rc != DB_OK && !(link_rc == DB_ERR_ENDED && joined))
		return http_link_error(r, &s, link_rc);
	if (!joined)
		return WIRE_NOT_JOINED;
	rc = db_end_session(r->db, s.id,
			    given >= 0 && db_reason_given_ok(role, (enum db_reason)given) ?
				    (enum db_reason)given :
			    role == DB_ROLE_USER ? DB_REASON_USER_ENDED : DB_REASON_ASTROLOGER_ENDED,
			    db_actor_of(role), r->now_ms, &st);
	if (rc != DB_OK)
		return wire_from_db(rc);

	json_object_object_add(o, "success", json_object_new_boolean(1));
	json_object_object_add(o, "durationSeconds", json_object_new_int64(st.duration_seconds));
	wire_add_money(o, "amountReleased", st.released);
	json_object_object_add(o, "message", json_object_new_string(
		st.already_ended ? "Session had already ended" : "Session ended"));
	wire_add_money(o, "amountCharged", st.charged);
	wire_add_money(o, "amountRefunded", st.refunded);
	json_object_object_add(o, "billedSeconds", json_object_new_int64(st.billed_seconds));
	json_object_object_add(o, "billedMinutes", json_object_new_int64(st.billed_minutes));
	json_object_object_add(o, "status", json_object_new_string(db_status_name(st.status)));
	json_object_object_add(o, "reason", json_object_new_string(db_reason_name(st.reason)));
	json_object_object_add(o, "endedBy", json_object_new_string(db_actor_name(st.ended_by)));
	json_object_object_add(o, "alreadyEnded", json_object_new_boolean(st.already_ended));
	wire_add_time(o, "endedAt", st.ended_ms);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"end", "POST", end_handle};

	return http_main(argc, argv, &ep);
}
