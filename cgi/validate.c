/* validate.c: POST /api/sessions/validate: what a join link opens, as the session page needs it. */
#include "http.h"
#include "ice_servers.h"

#include "conf.h"

#include <stdio.h>
#include <string.h>

#define VALIDATE_URL_MAX 512 /* bytes of return_url */

static const char *validate_return; /* return_url (owned by conf), or NULL */

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
		return HTTP_E_INTERNAL;
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
	http_add_time(o, "scheduledStartTime", s.scheduled_start_ms);
	http_add_time(o, "serverTime", r->now_ms);
	http_add_time(o, "linkOpensAt", s.link_opens_ms);
	http_add_time(o, "linkValidUntil", s.link_valid_until_ms);
	http_add_time(o, "startedAt", s.started_ms);
	http_add_time(o, "deadline", s.deadline_ms);
	http_add_time(o, "endedAt", s.ended_ms);
	json_object_object_add(joined, "user", json_object_new_boolean(s.user_joined_ms != 0));
	json_object_object_add(joined, "astrologer",
			       json_object_new_boolean(s.astrologer_joined_ms != 0));
	json_object_object_add(o, "joined", joined);
	http_add_money(o, "price", s.price);
	json_object_object_add(o, "iceServers", ice);
	json_object_object_add(o, "wsPath", json_object_new_string("/ws"));
	json_object_object_add(o, "returnUrl", validate_return ? json_object_new_string(validate_return) : NULL);
	return 0;
}

/* return_url: where the ended page links back to, an http(s) URL, or none. */
static int validate_load_return(void)
{
	validate_return = conf_get("return_url");
	if (!validate_return || !*validate_return) {
		validate_return = NULL;
		return 0;
	}
	if ((strncmp(validate_return, "https://", 8) == 0 ||
	     strncmp(validate_return, "http://", 7) == 0) &&
	    strlen(validate_return) <= VALIDATE_URL_MAX)
		return 0;
	fprintf(stderr, "api-validate: return_url (SESSIONS_RETURN_URL) must be an http(s) URL "
		"of at most %d bytes\n", VALIDATE_URL_MAX);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"validate", "POST", validate_handle};
	char err[512];
	int status = 2;

	if (conf_load(err, sizeof err) != DB_OK)
		fprintf(stderr, "api-validate: %s\n", err);
	else if (ice_configure("api-validate") == 0 && validate_load_return() == 0)
		status = http_main(argc, argv, &ep);
	ice_release();
	return status;
}
