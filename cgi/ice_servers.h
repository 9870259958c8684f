/* ice_servers.h: the ICE servers a participant gets, with coturn credentials for its session. */
#ifndef SESSIONS_ICE_SERVERS_H
#define SESSIONS_ICE_SERVERS_H

#include "http.h"

/*
 * Reads and checks ice_servers, turn_urls and turn_secret once at start,
 * so a bad setting stops the program rather than a request. Returns 0,
 * or -1 after saying on stderr (as prog) what is wrong.
 */
int ice_configure(const char *prog);
void ice_release(void);

/*
 * The configured servers, then the TURN server with credentials for this
 * participant that last as long as the session can (*until_ms).
 */
int ice_servers(struct http_req *r, const struct db_session *s, enum db_role role,
                json_object **out, int64_t *until_ms);

#endif
