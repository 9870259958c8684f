/* ice.c: POST /api/sessions/ice: the ICE servers of one participant, with TURN credentials that end with the session. */
#include "http.h"
#include "conf.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define ICE_LIST_MAX 4096  /* bytes of the ice_servers setting */
#define ICE_COUNT_MAX 8    /* servers in it, and URLs in turn_urls */
#define ICE_URL_MAX 512    /* bytes of one TURN URL */
#define ICE_SECRET_MAX 256 /* bytes of turn_secret, as api-validate allows */

static json_object *ice_list;  /* is owned for the program's life: the checked ice_servers */
static json_object *ice_turn;  /* is owned for the program's life: turn_urls as an array, or NULL */
static const char *ice_secret; /* points into the configuration: turn_secret */

/* ice_servers: a JSON array of at most ICE_COUNT_MAX objects, each with "urls". */
static int ice_load_list(const char *text)
{
	json_object *list = NULL, *urls;
	size_t len = strlen(text);

	if (len > ICE_LIST_MAX || http_json_parse(text, len, 6, &list) < 0 ||
	    !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > ICE_COUNT_MAX)
		goto fail;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *o = json_object_array_get_idx(list, i);
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "urls", &urls))
			goto fail;
	}
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
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (n > ICE_URL_MAX || json_object_array_length(urls) == ICE_COUNT_MAX ||
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

static int ice_configure(void)
{
	const char *turn;
	char err[512];

	if (conf_load(err, sizeof err) != 0) {
		fprintf(stderr, "api-ice: %s\n", err);
		return -1;
	}
	if (ice_load_list(conf_get("ice_servers")) < 0) {
		fprintf(stderr, "api-ice: ice_servers must be a JSON array of at most %d objects "
			"with \"urls\", in %d bytes\n", ICE_COUNT_MAX, ICE_LIST_MAX);
		return -1;
	}
	turn = conf_get("turn_urls");
	ice_secret = conf_get("turn_secret");
	if (!*turn && !*ice_secret)
		return 0; /* no TURN server: STUN only */
	if (!*turn || !*ice_secret || strlen(ice_secret) > ICE_SECRET_MAX) {
		fprintf(stderr, "api-ice: turn_urls and turn_secret (at most %d bytes) go together\n",
			ICE_SECRET_MAX);
		return -1;
	}
	if (ice_load_turn(turn) < 0) {
		fprintf(stderr, "api-ice: turn_urls is 1 to %d turn: or turns: URLs of at most %d "
			"bytes, separated by commas\n", ICE_COUNT_MAX, ICE_URL_MAX);
		return -1;
	}
	return 0;
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
 * coturn's REST credentials: the username carries its own expiry (Unix
 * seconds) before the colon, the password is base64(HMAC-SHA1(secret,
 * username)); coturn refuses the pair once the expiry has passed.
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

static int ice_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	enum db_role role;
	json_object *servers, *turn;
	int64_t until_ms;
	int rc;

	if ((rc = http_open_link(r, &s, &role)) < 0)
		return rc;
	if (!(servers = json_object_new_array()))
		return HTTP_E_INTERNAL;
	json_object_object_add(o, "iceServers", servers);
	for (size_t i = 0; i < json_object_array_length(ice_list); i++)
		json_object_array_add(servers, json_object_get(json_object_array_get_idx(ice_list, i)));
	until_ms = ice_session_end_ms(r->db, &s);
	if (ice_turn) {
		if (!(turn = ice_turn_server(&s, role, until_ms)))
			return HTTP_E_INTERNAL;
		json_object_array_add(servers, turn);
	}
	http_add_time(o, "expiresAt", until_ms / 1000 * 1000);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"ice", "POST", ice_handle};
	int status = 2;

	if (ice_configure() == 0)
		status = http_main(argc, argv, &ep);
	json_object_put(ice_list);
	json_object_put(ice_turn);
	return status;
}
