/* ice_servers.c: the ICE servers a participant gets, with coturn credentials for its session. */
#include "ice_servers.h"

#include "conf.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/*
 * coturn's REST credentials (use-auth-secret): the username carries its
 * expiry (Unix seconds) before the colon and says whose it is after it;
 * the password is base64(HMAC-SHA1(secret, username)).
 */
static json_object *ice_turn_server(const struct db_session *s, enum db_role role, int64_t until_ms)
{
	const char *secret = conf_str(CONF_TURN_SECRET);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char user[96], pass[sodium_base64_ENCODED_LEN(EVP_MAX_MD_SIZE, sodium_base64_VARIANT_ORIGINAL)];
	json_object *o;

	snprintf(user, sizeof user, "%lld:%s-%s", (long long)(until_ms / 1000), s->id,
		 db_role_name(role));
	if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)user,
		  strlen(user), mac, &maclen))
		return NULL;
	sodium_bin2base64(pass, sizeof pass, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	if (!(o = json_object_new_object()))
		return NULL;
	json_object_object_add(o, "urls", json_object_get(conf_json(CONF_TURN_URLS)));
	json_object_object_add(o, "username", json_object_new_string(user));
	json_object_object_add(o, "credential", json_object_new_string(pass));
	return o;
}

int ice_servers(struct http_req *r, const struct db_session *s, enum db_role role,
                json_object **out, int64_t *until_ms)
{
	json_object *configured = conf_json(CONF_ICE_SERVERS), *list, *turn;

	*until_ms = db_session_credentials_until_ms(db_config(r->db), s, r->now_ms);
	if (!(list = json_object_new_array()))
		return WIRE_INTERNAL;
	/* A chat carries no media: it gets no servers, and above all no TURN credentials. */
	if (s->type == DB_TYPE_CHAT) {
		*out = list;
		return 0;
	}
	for (size_t i = 0; i < json_object_array_length(configured); i++)
		json_object_array_add(list, json_object_get(json_object_array_get_idx(configured, i)));
	if (*conf_str(CONF_TURN_SECRET)) {
		if (!(turn = ice_turn_server(s, role, *until_ms))) {
			json_object_put(list);
			return WIRE_INTERNAL;
		}
		json_object_array_add(list, turn);
	}
	*out = list;
	return 0;
}
