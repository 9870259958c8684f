/* validate.c: POST /api/sessions/validate: what a join link opens, as the session page needs it. */
#include "http.h"
#include "ice_servers.h"

#include "conf.h"

#include <stdio.h>

static int validate_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	enum db_role role;
	json_object *joined, *ice;
	int64_t ice_until;
	char id[24];
	int rc;

	if ((rc = http_open_link(r, &s, &role)) < 0 ||
	    (rc = ice_servers(r, &s, role, &ice, &ice_until)) < 0)
		return rc;
	if (!(joined = json_object_new_object())) {
		json_object_put(ice);
		return WIRE_INTERNAL;
	}
	snprintf(id, sizeof id, "%lld",
		 (long long)(role == DB_ROLE_USER ? s.user_id : s.astrologer_id));
	json_object_object_add(o, "valid", json_object_new_boolean(1));
	json_object_object_add(o, "sessionId", json_object_new_string(s.id));
	json_object_object_add(o, "roomId", json_object_new_string(s.room_id));
	json_object_object_add(o, "sessionType", json_object_new_string(db_type_name(s.type)));
	json_object_object_add(o, "participantType", json_object_new_string(db_role_name(role)));
	json_object_object_add(o, "participantId", json_object_new_string(id));
	json_object_object_add(o, "participantName", json_object_new_string(
		role == DB_ROLE_USER ? s.user_name : s.astrologer_name));
	json_object_object_add(o, "otherParticipantName", json_object_new_string(
		role == DB_ROLE_USER ? s.astrologer_name : s.user_name));
	json_object_object_add(o, "paidDurationMinutes", json_object_new_int64(s.paid_minutes));
	json_object_object_add(o, "status", json_object_new_string(db_status_name(s.status)));
	wire_add_time(o, "scheduledStartTime", s.scheduled_start_ms);
	wire_add_time(o, "serverTime", r->now_ms);
	wire_add_time(o, "linkOpensAt", s.link_opens_ms);
	wire_add_time(o, "linkValidUntil", s.link_valid_until_ms);
	wire_add_time(o, "startedAt", s.started_ms);
	wire_add_time(o, "deadline", s.deadline_ms);
	wire_add_time(o, "endedAt", s.ended_ms);
	wire_add_time(o, "noShowAt", db_session_no_show_ms(db_config(r->db), &s));
	json_object_object_add(joined, "user", json_object_new_boolean(s.user_joined_ms != 0));
	json_object_object_add(joined, "astrologer",
			       json_object_new_boolean(s.astrologer_joined_ms != 0));
	json_object_object_add(o, "joined", joined);
	wire_add_money(o, "price", s.price);
	json_object_object_add(o, "iceServers", ice);
	wire_add_time(o, "iceExpiresAt", ice_until / 1000 * 1000);
	json_object_object_add(o, "wsPath", json_object_new_string("/ws"));
	json_object_object_add(o, "returnUrl", *conf_str(CONF_RETURN_URL) ?
			       json_object_new_string(conf_str(CONF_RETURN_URL)) : NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"validate", "POST", validate_handle};

	return http_main(argc, argv, &ep);
}
