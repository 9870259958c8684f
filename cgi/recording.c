/* recording.c: /api/sessions/recording: the astrologer's page uploads chunks (POST); both sides list (GET) and fetch one (GET /ID). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define RECORDING_PATH "/api/sessions/recording"

/* A header holding a whole number from 0: 0 with *out, or WIRE_BAD_FIELD naming it. */
static int recording_number(struct http_req *r, const char *param, const char *detail,
                            int64_t *out)
{
	const char *v = FCGX_GetParam(param, r->fcgi.envp);
	char *end;
	long long n;

	errno = 0;
	n = v && *v >= '0' && *v <= '9' ? strtoll(v, &end, 10) : -1;
	if (n < 0 || errno || *end) {
		r->detail = detail;
		return WIRE_BAD_FIELD;
	}
	*out = n;
	return 0;
}

/* "audio/webm" or "video/webm", alone or with parameters (codecs=...). */
static int recording_type_ok(const char *type)
{
	size_t n = sizeof "audio/webm" - 1;

	return type && (!strncasecmp(type, "audio/webm", n) || !strncasecmp(type, "video/webm", n)) &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static const char *recording_type(const struct db_recording *rec)
{
	return rec->video ? "video/webm" : "audio/webm";
}

static int recording_upload(struct http_req *r, const struct db_session *s, enum db_role role,
                            json_object *o)
{
	struct db_recording rec;
	int64_t id, seq;
	char *chunk = NULL;
	size_t len;
	int rc, dup;

	/* The request layer reads JSON only: a chunk reaches here unread, as a media type it refused. */
	if (r->read_rc != WIRE_MEDIA_TYPE ||
	    !recording_type_ok(FCGX_GetParam("CONTENT_TYPE", r->fcgi.envp))) {
		r->detail = "Send a chunk as audio/webm or video/webm.";
		return WIRE_MEDIA_TYPE;
	}
	if ((rc = recording_number(r, "HTTP_X_RECORDING_ID", "X-Recording-Id is the recording's id.",
	                           &id)) < 0 ||
	    (rc = recording_number(r, "HTTP_X_RECORDING_SEQ",
	                           "X-Recording-Seq is the chunk's number from 0.", &seq)) < 0 ||
	    (rc = http_body_raw(r, DB_RECORDING_CHUNK_MAX, &chunk, &len)) < 0)
		return rc;
	rc = db_recording_append(r->db, s, role, id, seq, chunk, len, r->now_ms, &rec, &dup);
	free(chunk);
	switch (rc) {
	case DB_OK:
		break;
	case DB_ERR_LIMIT: return WIRE_RECORDING_LIMIT;
	case DB_ERR_FULL: return WIRE_RECORDING_FULL;
	case DB_ERR_STATE: return WIRE_RECORDING_NOT_RUNNING;
	case DB_ERR_INVALID:
		if ((r->error_extra = json_object_new_object()))
			json_object_object_add(r->error_extra, "nextSeq", json_object_new_int64(rec.next_seq));
		r->detail = "Chunks come in order: send nextSeq first.";
		return WIRE_BAD_FIELD;
	default: return wire_from_db(rc);
	}
	json_object_object_add(o, "recordingId", json_object_new_int64(rec.id));
	json_object_object_add(o, "stored", json_object_new_boolean(!dup));
	json_object_object_add(o, "nextSeq", json_object_new_int64(rec.next_seq));
	json_object_object_add(o, "bytes", json_object_new_int64(rec.bytes));
	return 0;
}

struct recording_list {
	json_object *list;
	int64_t retention_ms;
};

static void recording_item(void *arg, const struct db_recording *rec)
{
	struct recording_list *l = arg;
	json_object *v = json_object_new_object();

	if (!v)
		return;
	json_object_object_add(v, "id", json_object_new_int64(rec->id));
	json_object_object_add(v, "type", json_object_new_string(recording_type(rec)));
	json_object_object_add(v, "bytes", json_object_new_int64(rec->bytes));
	wire_add_time(v, "startedAt", rec->started_ms);
	wire_add_time(v, "stoppedAt", rec->stopped_ms);
	wire_add_time(v, "keptUntil", rec->started_ms + l->retention_ms);
	json_object_array_add(l->list, v);
}

/* GET: the list; GET /ID: that recording's bytes, through nginx. */
static int recording_get(struct http_req *r, const struct db_session *s, const char *rest,
                         json_object *o)
{
	struct recording_list l = {json_object_new_array(), db_config(r->db)->recording_retention_ms};
	struct db_recording rec;
	char uri[96], name[64], *end;
	long long id;
	int rc;

	if (!l.list)
		return WIRE_INTERNAL;
	json_object_object_add(o, "recordings", l.list);
	if (!*rest)
		return (rc = db_recording_list(r->db, s, r->now_ms, recording_item, &l)) == DB_OK
		               ? 0 : wire_from_db(rc);
	errno = 0;
	id = strtoll(rest + 1, &end, 10);
	if (errno || *end || id < 1)
		return WIRE_NOT_FOUND;
	if ((rc = db_recording_get(r->db, s, id, r->now_ms, &rec)) != DB_OK)
		return wire_from_db(rc);
	snprintf(uri, sizeof uri, "/_recordings/%s", rec.file);
	snprintf(name, sizeof name, "recording-%lld.webm", id);
	http_send_stored(r, uri, recording_type(&rec), name);
	return 0;
}

static int recording_handle(struct http_req *r, json_object *o)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", r->fcgi.envp);
	struct db_session s;
	enum db_role role;
	int rc, link_rc;

	r->allow = "GET, HEAD, POST";
	if (!uri || strncmp(uri, RECORDING_PATH, sizeof RECORDING_PATH - 1) != 0)
		return WIRE_NOT_FOUND;
	uri += sizeof RECORDING_PATH - 1;
	if (*uri && *uri != '/')
		return WIRE_NOT_FOUND;
	/* Kept recordings are played from the link whatever its state, as the ended page is. */
	if ((rc = http_authorize(r, &s, &role, &link_rc)) < 0)
		return rc;
	if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"))
		return recording_get(r, &s, uri, o);
	if (strcmp(r->method, "POST") != 0 || *uri) {
		r->allow = *uri ? "GET, HEAD" : r->allow;
		return WIRE_METHOD;
	}
	return recording_upload(r, &s, role, o);
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"recording", NULL, recording_handle};

	return http_main(argc, argv, &ep);
}
