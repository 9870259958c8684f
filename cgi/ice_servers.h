/* ice_servers.h: the ICE servers a participant gets, with coturn credentials for its session. */
#ifndef SESSIONS_ICE_SERVERS_H
#define SESSIONS_ICE_SERVERS_H

#include "http.h"

/*
 * The configured servers (ice_servers), then the TURN server (turn_urls)
 * with credentials for this participant that last as long as the rules
 * let the session last (*until_ms). A chat session gets none.
 */
int ice_servers(struct http_req *r, const struct db_session *s, enum db_role role,
                json_object **out, int64_t *until_ms);

#endif
