/* errors.h: the one vocabulary of errors a client sees: over HTTP, over the WebSocket and from sessionctl. */
#ifndef SESSIONS_WIRE_ERRORS_H
#define SESSIONS_WIRE_ERRORS_H

/*
 * Every error a front end reports. errors.c holds the one table that gives
 * each its wire name, its HTTP status and its default message, and says
 * which library error (db.h) means the same, so a db error reads the same
 * over HTTP, over the WebSocket and on sessionctl's stderr. ERRORS.md
 * describes them for clients.
 */
enum wire_err {
	WIRE_OK = 0,
	WIRE_METHOD = -1,
	WIRE_MEDIA_TYPE = -2,
	WIRE_TOO_LARGE = -3,
	WIRE_BAD_JSON = -4,
	WIRE_NOT_OBJECT = -5,
	WIRE_BAD_FIELD = -6,
	WIRE_NO_TOKEN = -7,
	WIRE_FORBIDDEN = -8,
	WIRE_UNKNOWN_LINK = -9,
	WIRE_EXPIRED = -10,
	WIRE_ENDED = -11,
	WIRE_NOT_OPEN = -12,
	WIRE_CONFLICT = -13,
	WIRE_NOT_FOUND = -14,
	WIRE_NAME_TAKEN = -15,
	WIRE_FUNDS = -16,
	WIRE_NOT_JOINED = -17,
	WIRE_ALREADY_JOINED = -18,
	WIRE_REPLACED = -19,
	WIRE_PEER_ABSENT = -20,
	WIRE_BAD_FRAME = -21,
	WIRE_UNKNOWN_TYPE = -22,
	WIRE_BAD_MESSAGE = -23,
	WIRE_BAD_CLIENT_ID = -24,
	WIRE_BAD_SDP = -25,
	WIRE_BAD_CANDIDATE = -26,
	WIRE_MEDIA_NOT_ALLOWED = -27,
	WIRE_VIDEO_NOT_ALLOWED = -28,
	WIRE_RATE_LIMITED = -29,
	WIRE_BUSY = -30,
	WIRE_UNAVAILABLE = -31,
	WIRE_QUERY = -32,
	WIRE_LIMIT = -33,
	WIRE_INTERNAL = -34,
	WIRE_STORAGE_FULL = -35,
	WIRE_NO_KEY = -36,
	WIRE_BAD_KEY = -37,
	WIRE_IDEM_REUSED = -38,
	WIRE_IDEM_RUNNING = -39,
	WIRE_RECORDING_LIMIT = -40,
	WIRE_RECORDING_FULL = -41,
	WIRE_RECORDING_NOT_RUNNING = -42,
	WIRE_FILE_TYPE = -43,
	WIRE_FILE_TOO_LARGE = -44,
	WIRE_FILES_FULL = -45,
	WIRE_FILE_GONE = -46,
};

struct wire_error {
	enum wire_err err;
	int db_err;          /* the library error that means the same, or 0 */
	int http_status;
	const char *code;    /* the wire name: "session_ended" */
	const char *message; /* a sentence for people, when the caller has none better */
};

/* The row of an error; an unknown value reads as internal. */
const struct wire_error *wire_error(enum wire_err err);
/* The error a library code means (DB_ERR_ENDED -> WIRE_ENDED); internal for an unknown one. */
enum wire_err wire_from_db(int db_err);
/* Every row in turn: for documentation and its test. NULL after the last. */
const struct wire_error *wire_error_at(int i);

#endif
