/* validate.c: POST /api/sessions/validate: what a join link opens, as the session page needs it. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATE_ICE_MAX 4096  /* bytes of SESSIONS_ICE_SERVERS */
#define VALIDATE_ICE_COUNT 8   /* servers in it */
#define VALIDATE_ICE_FIELD 512 /* bytes of one url, username or credential */

static json_object *validate_ice; /* is owned for the program's life: the checked SESSIONS_ICE_SERVERS */

static int validate_ice_string(json_object *v, int is_url)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (json_object_get_string_len(v) > VALIDATE_ICE_FIELD ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return -1;
	if (is_url && strncmp(s, "stun:", 5) != 0 && strncmp(s, "stuns:", 6) != 0 &&
	    strncmp(s, "turn:", 5) != 0 && strncmp(s, "turns:", 6) != 0)
		return -1;
	return 0;
}

/* One RTCIceServer: {urls: string or [string], username?, credential?}, nothing else. */
static int validate_ice_server(json_object *o)
{
	json_object *urls;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "urls", &urls))
		return -1;
	if (json_object_is_type(urls, json_type_array)) {
		size_t n = json_object_array_length(urls);
		if (n == 0 || n > VALIDATE_ICE_COUNT)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (validate_ice_string(json_object_array_get_idx(urls, i), 1) < 0)
				return -1;
	} else if (validate_ice_string(urls, 1) < 0) {
		return -1;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "urls") == 0)
			continue;
		if ((strcmp(key, "username") != 0 && strcmp(key, "credential") != 0) ||
		    validate_ice_string(val, 0) < 0)
			return -1;
	}
	return 0;
}

/* Reads SESSIONS_ICE_SERVERS once: a JSON array of RTCIceServer objects, [] when unset. */
static int validate_load_ice(void)
{
	const char *env = getenv("SESSIONS_ICE_SERVERS");
	json_tokener *tok = NULL;
	json_object *list = NULL;
	size_t n;

	if (!env || !*env) {
		validate_ice = json_object_new_array();
		return validate_ice ? 0 : -1;
	}
	if (strlen(env) > VALIDATE_ICE_MAX)
		goto fail;
	tok = json_tokener_new_ex(6);
	if (!tok)
		goto fail;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	list = json_tokener_parse_ex(tok, env, (int)strlen(env));
	if (!list || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != strlen(env) ||
	    !json_object_is_type(list, json_type_array))
		goto fail;
	n = json_object_array_length(list);
	if (n > VALIDATE_ICE_COUNT)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (validate_ice_server(json_object_array_get_idx(list, i)) < 0)
			goto fail;
	json_tokener_free(tok);
	validate_ice = list;
	return 0;
fail:
	json_object_put(list);
	json_tokener_free(tok);
	return -1;
}

static int validate_handle(struct http_req *r, json_object **out)
{
	struct db_session s;
	enum db_role role;
	json_object *o, *joined;
	char id[24];
	int rc, link_rc;

	if ((rc = http_authorize(r, &s, &role, &link_rc)) < 0)
		return rc;
	if (link_rc != DB_OK)
		return http_link_error(r, &s, link_rc);

	o = json_object_new_object();
	joined = json_object_new_object();
	if (!o || !joined) {
		json_object_put(o);
		json_object_put(joined);
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
	json_object_object_add(o, "iceServers", json_object_get(validate_ice));
	json_object_object_add(o, "wsPath", json_object_new_string("/ws"));
	*out = o;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"validate", "POST", validate_handle};
	int status;

	if (validate_load_ice() < 0) {
		fprintf(stderr, "api-validate: SESSIONS_ICE_SERVERS must be a JSON array of at most %d "
			"{urls, username?, credential?} objects with stun:/turn: urls\n",
			VALIDATE_ICE_COUNT);
		return 2;
	}
	status = http_main(argc, argv, &ep);
	json_object_put(validate_ice);
	return status;
}
