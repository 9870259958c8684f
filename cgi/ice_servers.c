/* ice_servers.c: the ICE servers a participant gets, with coturn credentials for its session. */
#include "ice_servers.h"

#include "conf.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define ICE_LIST_MAX 4096  /* bytes of the ice_servers setting */
#define ICE_COUNT_MAX 8    /* servers in it, urls in one server, and turn_urls */
#define ICE_FIELD_MAX 512  /* bytes of one url, username or credential */
#define ICE_SECRET_MAX 256 /* bytes of turn_secret */

static json_object *ice_list;  /* is owned for the program's life: the checked ice_servers */
static json_object *ice_turn;  /* is owned for the program's life: turn_urls as an array, or NULL */
static const char *ice_secret; /* points into the configuration: turn_secret */

static int ice_string_ok(json_object *v, int is_url)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	if (json_object_get_string_len(v) > ICE_FIELD_MAX ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return 0;
	return !is_url || strncmp(s, "stun:", 5) == 0 || strncmp(s, "stuns:", 6) == 0 ||
	       strncmp(s, "turn:", 5) == 0 || strncmp(s, "turns:", 6) == 0;
}

/* One RTCIceServer: {urls: string or [string], username?, credential?}, nothing else. */
static int ice_server_ok(json_object *o)
{
	json_object *urls;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "urls", &urls))
		return 0;
	if (json_object_is_type(urls, json_type_array)) {
		size_t n = json_object_array_length(urls);

		if (n == 0 || n > ICE_COUNT_MAX)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!ice_string_ok(json_object_array_get_idx(urls, i), 1))
				return 0;
	} else if (!ice_string_ok(urls, 1)) {
		return 0;
	}
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "urls") == 0)
			continue;
		if ((strcmp(key, "username") != 0 && strcmp(key, "credential") != 0) ||
		    !ice_string_ok(val, 0))
			return 0;
	}
	return 1;
}

static int ice_load_list(const char *text)
{
	json_object *list = NULL;
	size_t len = strlen(text);

	if (len > ICE_LIST_MAX || http_json_parse(text, len, 6, &list) < 0 ||
	    !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > ICE_COUNT_MAX)
		goto fail;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (!ice_server_ok(json_object_array_get_idx(list, i)))
			goto fail;
	ice_list = list;
	return 0;
fail:
	json_object_put(list);
	return -1;
}

/* turn_urls: turn: or turns: URLs separated by commas or blanks. */
static int ice_load_turn(const char *text)
{
	json_object *urls = json_object_new_array();
	const char *p = text;

	if (!urls)
		return -1;
	while (*p) {
		size_t n;

		p += strspn(p, ", \t");
		if ((n = strcspn(p, ", \t")) == 0)
			break;
		if (n > ICE_FIELD_MAX || json_object_array_length(urls) == ICE_COUNT_MAX ||
		    (strncmp(p, "turn:", 5) != 0 && strncmp(p, "turns:", 6) != 0))
			goto fail;
		json_object_array_add(urls, json_object_new_string_len(p, (int)n));
		p += n;
	}
	if (json_object_array_length(urls) == 0)
		goto fail;
	ice_turn = urls;
	return 0;
fail:
	json_object_put(urls);
	return -1;
}

int ice_configure(const char *prog)
{
	const char *list = conf_get("ice_servers"), *turn = conf_get("turn_urls");

	ice_secret = conf_get("turn_secret");
	if (ice_load_list(list && *list ? list : "[]") < 0) {
		fprintf(stderr, "%s: ice_servers (SESSIONS_ICE_SERVERS) must be a JSON array of at "
			"most %d {urls, username?, credential?} objects with stun:/turn: urls, in "
			"%d bytes\n", prog, ICE_COUNT_MAX, ICE_LIST_MAX);
		return -1;
	}
	if (!*turn && !*ice_secret)
		return 0; /* no TURN server: the configured servers only */
	if (!*turn || !*ice_secret || strlen(ice_secret) > ICE_SECRET_MAX ||
	    ice_load_turn(turn) < 0) {
		fprintf(stderr, "%s: turn_urls (SESSIONS_TURN_URLS) takes 1 to %d turn:/turns: urls "
			"of at most %d bytes and needs turn_secret (SESSIONS_TURN_SECRET, at most %d "
			"bytes), and the other way round\n", prog, ICE_COUNT_MAX, ICE_FIELD_MAX,
			ICE_SECRET_MAX);
		return -1;
	}
	return 0;
}

void ice_release(void)
{
	json_object_put(ice_list);
	json_object_put(ice_turn);
}

/*
 * When the session can last until at the latest: a started one until its
 * deadline and the grace, one not started yet until it starts as its link
 * runs out and uses all its paid time. A credential that died with the
 * link would cut off the call of a session joined late.
 */
static int64_t ice_session_end_ms(struct db *db, const struct db_session *s)
{
	const struct db_config *c = db_config(db);

	if (s->started_ms)
		return s->deadline_ms + c->grace_ms;
	return s->link_valid_until_ms + s->paid_minutes * c->minute_ms + c->grace_ms;
}

/*
 * coturn's REST credentials (use-auth-secret): the username carries its
 * expiry (Unix seconds) before the colon and says whose it is after it;
 * the password is base64(HMAC-SHA1(secret, username)).
 */
static json_object *ice_turn_server(const struct db_session *s, enum db_role role, int64_t until_ms)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char user[96], pass[sodium_base64_ENCODED_LEN(EVP_MAX_MD_SIZE, sodium_base64_VARIANT_ORIGINAL)];
	json_object *o;

	snprintf(user, sizeof user, "%lld:%s-%s", (long long)(until_ms / 1000), s->id,
		 db_role_name(role));
	if (!HMAC(EVP_sha1(), ice_secret, (int)strlen(ice_secret), (const unsigned char *)user,
		  strlen(user), mac, &maclen))
		return NULL;
	sodium_bin2base64(pass, sizeof pass, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	if (!(o = json_object_new_object()))
		return NULL;
	json_object_object_add(o, "urls", json_object_get(ice_turn));
	json_object_object_add(o, "username", json_object_new_string(user));
	json_object_object_add(o, "credential", json_object_new_string(pass));
	return o;
}

int ice_servers(struct http_req *r, const struct db_session *s, enum db_role role,
                json_object **out, int64_t *until_ms)
{
	json_object *list, *turn;

	*until_ms = ice_session_end_ms(r->db, s);
	if (!(list = json_object_new_array()))
		return HTTP_E_INTERNAL;
	for (size_t i = 0; i < json_object_array_length(ice_list); i++)
		json_object_array_add(list, json_object_get(json_object_array_get_idx(ice_list, i)));
	if (ice_turn) {
		if (!(turn = ice_turn_server(s, role, *until_ms))) {
			json_object_put(list);
			return HTTP_E_INTERNAL;
		}
		json_object_array_add(list, turn);
	}
	*out = list;
	return 0;
}
