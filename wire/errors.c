/* errors.c: the one table of client-visible errors: wire name, HTTP status, message, and the db error it stands for. */
#include "errors.h"

#include "db.h"

static const struct wire_error wire_errors[] = {
	{WIRE_METHOD, 0, 405, "method_not_allowed", "This endpoint does not take that method."},
	{WIRE_MEDIA_TYPE, 0, 415, "unsupported_media_type", "Send the body as application/json."},
	{WIRE_TOO_LARGE, 0, 413, "body_too_large", "The request body is over 16 KiB."},
	{WIRE_BAD_JSON, 0, 400, "invalid_json", "The body is not valid JSON."},
	{WIRE_NOT_OBJECT, 0, 400, "not_an_object", "The body must be a JSON object."},
	{WIRE_BAD_FIELD, DB_ERR_INVALID, 400, "invalid_field", "A field has the wrong type or value."},
	{WIRE_NO_TOKEN, 0, 401, "missing_token",
	 "Send the link's token as Authorization: Bearer or as the token field."},
	{WIRE_FORBIDDEN, DB_ERR_ROLE, 403, "forbidden", "The token does not cover this session or role."},
	{WIRE_UNKNOWN_LINK, DB_ERR_UNKNOWN_LINK, 404, "unknown_link", "This link is not valid."},
	{WIRE_EXPIRED, DB_ERR_EXPIRED, 410, "link_expired", "This link has expired."},
	{WIRE_ENDED, DB_ERR_ENDED, 410, "session_ended", "This session has ended."},
	{WIRE_NOT_OPEN, DB_ERR_NOT_OPEN, 409, "not_open", "This link does not open yet."},
	{WIRE_CONFLICT, DB_ERR_STATE, 409, "conflict", "The session's state does not allow this."},
	{WIRE_NOT_FOUND, DB_ERR_NOT_FOUND, 404, "not_found", "There is no such session, person or link."},
	{WIRE_NAME_TAKEN, DB_ERR_EXISTS, 409, "name_taken", "That name is taken."},
	{WIRE_FUNDS, DB_ERR_FUNDS, 402, "insufficient_funds", "The available balance is short."},
	{WIRE_NOT_JOINED, 0, 409, "not_joined", "Join the session first."},
	{WIRE_ALREADY_JOINED, 0, 409, "already_joined", "This connection has joined already."},
	{WIRE_REPLACED, 0, 409, "replaced", "This link was opened in another window."},
	{WIRE_PEER_ABSENT, 0, 409, "peer_absent", "The other participant is not connected."},
	{WIRE_BAD_FRAME, 0, 400, "bad_frame", "Frames are JSON text."},
	{WIRE_UNKNOWN_TYPE, 0, 400, "unknown_type", "This frame type is not known."},
	{WIRE_BAD_MESSAGE, 0, 400, "bad_message", "A message is 1 to 4000 characters of text."},
	{WIRE_BAD_CLIENT_ID, 0, 400, "bad_client_id", "clientId is 1 to 64 of A-Z a-z 0-9 . _ : -"},
	{WIRE_BAD_SDP, 0, 400, "bad_sdp", "Expected {type, sdp} with the frame's type."},
	{WIRE_BAD_CANDIDATE, 0, 400, "bad_candidate",
	 "Expected candidate: {candidate, sdpMid, sdpMLineIndex}."},
	{WIRE_MEDIA_NOT_ALLOWED, 0, 403, "media_not_allowed",
	 "This is a chat session: no audio or video."},
	{WIRE_VIDEO_NOT_ALLOWED, 0, 403, "video_not_allowed",
	 "This is a voice session: video is refused."},
	{WIRE_RATE_LIMITED, 0, 429, "rate_limited", "Too many requests: this one was dropped."},
	{WIRE_BUSY, DB_ERR_BUSY, 503, "busy", "The server is busy; try again in a moment."},
	{WIRE_UNAVAILABLE, 0, 503, "unavailable", "The database is unavailable."},
	{WIRE_LIMIT, DB_ERR_LIMIT, 429, "limit_reached",
	 "You have used up what you may store in this session; nothing more was stored."},
	{WIRE_STORAGE_FULL, DB_ERR_FULL, 503, "storage_full",
	 "The server has no room to store this right now; nothing was stored. Try again later."},
	{WIRE_QUERY, 0, 400, "query_not_allowed", "Tokens never go in URLs: send no query string."},
	{WIRE_NO_KEY, 0, 401, "missing_api_key", "Send an API key as Authorization: Bearer sk_..."},
	{WIRE_BAD_KEY, 0, 401, "invalid_api_key", "This API key is not valid, or it was revoked."},
	{WIRE_IDEM_REUSED, 0, 422, "idempotency_key_reused",
	 "This Idempotency-Key was used for another request."},
	{WIRE_IDEM_RUNNING, 0, 409, "idempotency_key_in_use",
	 "A request with this Idempotency-Key is still running: retry in a moment."},
	{WIRE_FILE_TYPE, DB_ERR_FILE_TYPE, 415, "file_type_not_allowed",
	 "Only JPEG, PNG and WebP images and PDF documents can be shared."},
	{WIRE_FILE_TOO_LARGE, DB_ERR_TOO_LARGE, 413, "file_too_large", "This file is over the size allowed."},
	{WIRE_FILES_FULL, DB_ERR_FILES_FULL, 413, "session_files_full",
	 "This session's files would go over the total allowed; nothing was stored."},
	{WIRE_FILE_GONE, DB_ERR_GONE, 410, "file_gone", "This file is no longer available."},
	{WIRE_RECORDING_LIMIT, 0, 413, "recording_limit",
	 "This session's recording has reached its size limit; the chunk was not stored."},
	{WIRE_RECORDING_FULL, 0, 507, "recording_storage_full",
	 "The server has no room for more recordings; the chunk was not stored."},
	{WIRE_RECORDING_NOT_RUNNING, 0, 409, "recording_not_running",
	 "No recording is running in this session: both must consent first."},
	{WIRE_INTERNAL, DB_ERR_STORE, 500, "internal", "Something went wrong on the server."},
};
#define WIRE_NERRORS ((int)(sizeof wire_errors / sizeof wire_errors[0]))

const struct wire_error *wire_error(enum wire_err err)
{
	for (int i = 0; i < WIRE_NERRORS; i++)
		if (wire_errors[i].err == err)
			return &wire_errors[i];
	return &wire_errors[WIRE_NERRORS - 1];
}

enum wire_err wire_from_db(int db_err)
{
	for (int i = 0; i < WIRE_NERRORS; i++)
		if (wire_errors[i].db_err != 0 && wire_errors[i].db_err == db_err)
			return wire_errors[i].err;
	return WIRE_INTERNAL;
}

const struct wire_error *wire_error_at(int i)
{
	return i >= 0 && i < WIRE_NERRORS ? &wire_errors[i] : NULL;
}
