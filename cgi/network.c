/* network.c: POST /api/sessions/network: a voice or video page reports what it found about its network path. */
#include "http.h"

static int network_handle(struct http_req *r, json_object *o)
{
	static const char *const fields[] = {"phase", "reach", "local", "remote", "protocol",
	                                     "relayProtocol"};
	const char *v[sizeof fields / sizeof fields[0]];
	struct db_network_report rep;
	struct db_session s;
	enum db_role role;
	int rc;

	if ((rc = http_open_link(r, &s, &role)) < 0)
		return rc;
	if (s.type == DB_TYPE_CHAT)
		return WIRE_MEDIA_NOT_ALLOWED;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if ((rc = http_json_string(r->body, fields[i], 16, &v[i])) < 0)
			return rc;
	rep = (struct db_network_report){v[0], v[1], v[2], v[3], v[4], v[5]};
	if ((rc = db_network_report(r->db, &s, role, &rep, r->now_ms)) != DB_OK) {
		if (rc == DB_ERR_INVALID)
			r->detail = "Send phase \"preflight\" with reach (direct, relay, none), or phase "
			            "\"call\" with local and remote (host, srflx, prflx, relay), protocol "
			            "(udp, tcp) and, from a local relay, relayProtocol (udp, tcp, tls).";
		return wire_from_db(rc);
	}
	json_object_object_add(o, "recorded", json_object_new_boolean(1));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"network", "POST", network_handle};

	return http_main(argc, argv, &ep);
}
