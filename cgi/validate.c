/* validate.c: POST /api/sessions/validate: what a join link opens, as the session page needs it. */
#include "http.h"

#include "conf.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATE_ICE_MAX 4096  /* bytes of ice_servers */
#define VALIDATE_ICE_COUNT 8   /* servers in it, urls in one server, turn_urls */
#define VALIDATE_ICE_FIELD 512 /* bytes of one url, username, credential, return_url */
#define VALIDATE_SECRET_MAX 256 /* bytes of turn_secret */

/* Read once at start and checked, so a bad setting stops the program, not a request. */
static json_object *validate_ice;   /* is owned: ice_servers */
static json_object *validate_turn;  /* is owned: turn_urls as a JSON array, or NULL */
static const char *validate_secret; /* turn_secret (owned by conf) */
static const char *validate_return; /* return_url, or NULL */

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

/* ice_servers: a JSON array of RTCIceServer objects ("[]" by default). */
static int validate_load_ice(void)
{
	const char *text = conf_get("ice_servers");
	json_object *list = NULL;
	size_t n;

	if (!text || !*text)
		text = "[]";
	if (strlen(text) > VALIDATE_ICE_MAX || http_json_parse(text, strlen(text), 6, &list) < 0 ||
	    !json_object_is_type(list, json_type_array))
		goto fail;
	n = json_object_array_length(list);
	if (n > VALIDATE_ICE_COUNT)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (validate_ice_server(json_object_array_get_idx(list, i)) < 0)
			goto fail;
	validate_ice = list;
	return 0;
fail:
	json_object_put(list);
	return -1;
}

/*
 * turn_urls (separated by commas or blanks) with turn_secret: both or
 * neither. The secret never leaves the server; each answer carries
 * credentials derived from it.
 */
static int validate_load_turn(void)
{
	const char *urls = conf_get("turn_urls");
	char buf[VALIDATE_ICE_MAX + 1], *save = NULL;

	validate_secret = conf_get("turn_secret");
	if (!urls || !*urls)
		return validate_secret && *validate_secret ? -1 : 0;
	if (!validate_secret || !*validate_secret || strlen(validate_secret) > VALIDATE_SECRET_MAX ||
	    strlen(urls) > VALIDATE_ICE_MAX || !(validate_turn = json_object_new_array()))
		return -1;
	memcpy(buf, urls, strlen(urls) + 1);
	for (char *u = strtok_r(buf, ", \t", &save); u; u = strtok_r(NULL, ", \t", &save)) {
		json_object *v = json_object_new_string(u);
		if (!v || json_object_array_add(validate_turn, v) != 0 ||
		    (strncmp(u, "turn:", 5) != 0 && strncmp(u, "turns:", 6) != 0) ||
		    strlen(u) > VALIDATE_ICE_FIELD ||
		    json_object_array_length(validate_turn) > VALIDATE_ICE_COUNT)
			return -1;
	}
	return json_object_array_length(validate_turn) > 0 ? 0 : -1;
}

/*
 * coturn's REST credentials (use-auth-secret): username "<expiry>:<room>",
 * credential base64(HMAC-SHA1(secret, username)). They last while the
 * session can: until the link runs out, plus the paid time.
 */
static int validate_turn_server(struct http_req *r, const struct db_session *s, json_object **out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char user[32 + DB_ROOM_LEN];
	char cred[sodium_base64_ENCODED_LEN(EVP_MAX_MD_SIZE, sodium_base64_VARIANT_ORIGINAL)];
	int64_t from = s->link_valid_until_ms > r->now_ms ? s->link_valid_until_ms : r->now_ms;
	int64_t expiry = (from + s->paid_minutes * db_config(r->db)->minute_ms) / 1000;
	json_object *o;

	snprintf(user, sizeof user, "%lld:%s", (long long)expiry, s->room_id);
	if (!HMAC(EVP_sha1(), validate_secret, (int)strlen(validate_secret),
		  (const unsigned char *)user, strlen(user), mac, &maclen))
		return HTTP_E_INTERNAL;
	sodium_bin2base64(cred, sizeof cred, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	if (!(o = json_object_new_object()))
		return HTTP_E_INTERNAL;
	json_object_object_add(o, "urls", json_object_get(validate_turn));
	json_object_object_add(o, "username", json_object_new_string(user));
	json_object_object_add(o, "credential", json_object_new_string(cred));
	*out = o;
	return 0;
}

/* The configured servers, then the TURN server with this session's credentials. */
static int validate_ice_servers(struct http_req *r, const struct db_session *s, json_object **out)
{
	json_object *list, *turn;
	int rc;

	if (!validate_turn) {
		*out = json_object_get(validate_ice);
		return 0;
	}
	if (!(list = json_object_new_array()))
		return HTTP_E_INTERNAL;
	for (size_t i = 0; i < json_object_array_length(validate_ice); i++)
		json_object_array_add(list, json_object_get(json_object_array_get_idx(validate_ice, i)));
	if ((rc = validate_turn_server(r, s, &turn)) < 0) {
		json_object_put(list);
		return rc;
	}
	json_object_array_add(list, turn);
	*out = list;
	return 0;
}

static int validate_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	enum db_role role;
	json_object *joined, *ice;
	char id[24];
	int rc;

	if ((rc = http_open_link(r, &s, &role)) < 0 || (rc = validate_ice_servers(r, &s, &ice)) < 0)
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

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"validate", "POST", validate_handle};
	char err[512];
	int status = 2;

	if (conf_load(err, sizeof err) != DB_OK) {
		fprintf(stderr, "api-validate: %s\n", err);
		return 2;
	}
	validate_return = conf_get("return_url");
	if (validate_return && !*validate_return)
		validate_return = NULL;
	if (validate_load_ice() < 0) {
		fprintf(stderr, "api-validate: ice_servers (SESSIONS_ICE_SERVERS) must be a JSON array of "
			"at most %d {urls, username?, credential?} objects with stun:/turn: urls\n",
			VALIDATE_ICE_COUNT);
	} else if (validate_load_turn() < 0) {
		fprintf(stderr, "api-validate: turn_urls (SESSIONS_TURN_URLS) takes 1 to %d turn:/turns: "
			"urls and needs turn_secret (SESSIONS_TURN_SECRET, at most %d bytes), and the "
			"other way round\n", VALIDATE_ICE_COUNT, VALIDATE_SECRET_MAX);
	} else if (validate_return && ((strncmp(validate_return, "https://", 8) != 0 &&
					strncmp(validate_return, "http://", 7) != 0) ||
				       strlen(validate_return) > VALIDATE_ICE_FIELD)) {
		fprintf(stderr, "api-validate: return_url (SESSIONS_RETURN_URL) must be an http(s) URL "
			"of at most %d bytes\n", VALIDATE_ICE_FIELD);
	} else {
		status = http_main(argc, argv, &ep);
	}
	json_object_put(validate_ice);
	json_object_put(validate_turn);
	return status;
}
