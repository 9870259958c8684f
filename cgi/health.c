/* health.c: GET /api/health: 200 while the database answers, 503 when it does not. */
#include "http.h"

static int health_handle(struct http_req *r, json_object *o)
{
	if (db_ping(r->db) != DB_OK)
		return WIRE_UNAVAILABLE;
	json_object_object_add(o, "status", json_object_new_string("ok"));
	wire_add_time(o, "serverTime", r->now_ms);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"health", "GET", health_handle};

	return http_main(argc, argv, &ep);
}
