/* ice.c: POST /api/sessions/ice: a participant's ICE servers, TURN credentials included, afresh. */
#include "http.h"
#include "ice_servers.h"

static int ice_handle(struct http_req *r, json_object *o)
{
	struct db_session s;
	enum db_role role;
	json_object *servers;
	int64_t until_ms;
	int rc;

	if ((rc = http_open_link(r, &s, &role)) < 0 ||
	    (rc = ice_servers(r, &s, role, &servers, &until_ms)) < 0)
		return rc;
	json_object_object_add(o, "iceServers", servers);
	wire_add_time(o, "expiresAt", until_ms / 1000 * 1000);
	wire_add_time(o, "serverTime", r->now_ms);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"ice", "POST", ice_handle};

	return http_main(argc, argv, &ep);
}
