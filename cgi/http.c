/* http.c: the request/response layer of the API programs: FastCGI loop, input checks, JSON in and out, errors. */
#include "http.h"
#include "conf.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The status line's phrase for the statuses wire/errors.c uses. */
static const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Internal Server Error";
	}
}

static volatile sig_atomic_t http_stop;
static const char *http_name = "api"; /* the endpoint, for log lines */

static void http_on_term(int sig)
{
	(void)sig;
	http_stop = 1;
	FCGX_ShutdownPending();
}

const char *http_json_text(json_object *o, size_t *len)
{
	*len = 0;
	return json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static void http_send_text(struct http_req *r, int status, const char *extra_header,
			   const char *text, size_t len)
{
	FCGX_FPrintF(r->fcgi.out, "Status: %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %lu\r\n%s\r\n", status, http_reason(status),
		     (unsigned long)(text ? len + 1 : 0), extra_header ? extra_header : "");
	if (text) {
		FCGX_PutStr(text, (int)len, r->fcgi.out);
		FCGX_PutS("\n", r->fcgi.out);
	}
}

static void http_send(struct http_req *r, int status, const char *extra_header,
		      json_object *body)
{
	size_t len;
	const char *text = http_json_text(body, &len);

	http_send_text(r, status, extra_header, text, len);
}

/*
 * Content-Disposition for a name of UTF-8 without control characters:
 * an ASCII fallback for old clients and the exact name in RFC 8187 form.
 */
static void http_disposition(struct http_req *r, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	FCGX_PutS("Content-Disposition: attachment; filename=\"", r->fcgi.out);
	for (p = (const unsigned char *)name; *p; p++)
		FCGX_PutChar(*p >= 0x80 || *p == '"' || *p == '\\' ? '_' : *p, r->fcgi.out);
	FCGX_PutS("\"; filename*=UTF-8''", r->fcgi.out);
	for (p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$&+-.^_`|~", *p)) {
			FCGX_PutChar(*p, r->fcgi.out);
		} else {
			FCGX_PutChar('%', r->fcgi.out);
			FCGX_PutChar(hex[*p >> 4], r->fcgi.out);
			FCGX_PutChar(hex[*p & 15], r->fcgi.out);
		}
	}
	FCGX_PutS("\r\n", r->fcgi.out);
}

void http_send_stored(struct http_req *r, const char *internal_uri, const char *content_type,
                      const char *attachment_name)
{
	FCGX_FPrintF(r->fcgi.out, "Status: 200 OK\r\nContent-Type: %s\r\nX-Accel-Redirect: %s\r\n",
	             content_type, internal_uri);
	if (attachment_name)
		http_disposition(r, attachment_name);
	else
		FCGX_PutS("Content-Disposition: inline\r\n", r->fcgi.out);
	FCGX_PutS("\r\n", r->fcgi.out);
	r->answered = 1;
}

static void http_send_error(struct http_req *r, const struct http_endpoint *ep, int err)
{
	const struct wire_error *e = wire_error((enum wire_err)err);
	json_object *body = json_object_new_object();
	json_object *o = json_object_new_object();
	char allow[64] = "";

	if (!body || !o) {
		json_object_put(body);
		json_object_put(o);
		FCGX_PutS("Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n"
			  "{\"error\":{\"code\":\"internal\",\"message\":\"Out of memory.\"}}\n", r->fcgi.out);
		return;
	}
	json_object_object_add(o, "code", json_object_new_string(e->code));
	json_object_object_add(o, "message", json_object_new_string(r->detail ? r->detail : e->message));
	if (r->error_extra) {
		json_object_object_foreach(r->error_extra, key, val)
			json_object_object_add(o, key, json_object_get(val));
	}
	json_object_object_add(body, "error", o);
	if (e->http_status == 405)
		snprintf(allow, sizeof allow, "Allow: %s\r\n",
			 !ep->method ? (r->allow ? r->allow : "GET, HEAD, POST") :
			 strcmp(ep->method, "GET") == 0 ? "GET, HEAD" : ep->method);
	if (e->http_status >= 500)
		fprintf(stderr, "api-%s: %d %s: %s\n", http_name, e->http_status, e->code,
			r->db ? db_errmsg(r->db) : "no database");
	http_send(r, e->http_status, allow, body);
	json_object_put(body);
}

/* Checks the method, type and size, then reads and parses the body. */
static int http_read(struct http_req *r, const struct http_endpoint *ep)
{
	static char buf[HTTP_BODY_MAX + 1];
	const char *len_param;
	long len;
	int got = 0, rc;

	if (!ep->method) {
		if (strcmp(r->method, "POST") != 0)
			return 0; /* the router answers other methods */
	} else if (strcmp(r->method, ep->method) != 0 &&
	           !(strcmp(ep->method, "GET") == 0 && strcmp(r->method, "HEAD") == 0)) {
		return WIRE_METHOD;
	} else if (strcmp(ep->method, "GET") == 0) {
		return 0;
	}
	len_param = FCGX_GetParam("CONTENT_LENGTH", r->fcgi.envp);
	/* A router's POST may carry nothing, where nothing needs saying (a cancel). */
	if (!ep->method && (!len_param || !*len_param || strcmp(len_param, "0") == 0))
		return 0;
	if ((rc = http_body_length(FCGX_GetParam("CONTENT_TYPE", r->fcgi.envp), len_param, &len,
				   &r->detail)) < 0)
		return rc;
	while (got < len) {
		int n = FCGX_GetStr(buf + got, (int)len - got, r->fcgi.in);
		if (n <= 0)
			break;
		got += n;
	}
	if (got != len) {
		r->detail = "The body is shorter than its Content-Length.";
		return WIRE_BAD_JSON;
	}
	if ((rc = http_body_parse(buf, (size_t)len, &r->body)) < 0)
		return rc;
	r->raw = buf;
	r->raw_len = (size_t)len;
	return 0;
}

int http_body_raw(struct http_req *r, size_t max, char **out, size_t *len)
{
	const char *param = FCGX_GetParam("CONTENT_LENGTH", r->fcgi.envp);
	char *end, *buf;
	long n;
	int got = 0;

	*out = NULL;
	*len = 0;
	errno = 0;
	n = param ? strtol(param, &end, 10) : 0;
	if (!param || errno || *end || n < 1) {
		r->detail = "The body is empty or its Content-Length is not a number.";
		return WIRE_BAD_FIELD;
	}
	if ((size_t)n > max)
		return WIRE_TOO_LARGE; /* never read: nginx already refuses these */
	if (!(buf = malloc((size_t)n)))
		return WIRE_INTERNAL;
	while (got < n) {
		int k = FCGX_GetStr(buf + got, (int)(n - got), r->fcgi.in);

		if (k <= 0)
			break;
		got += k;
	}
	if (got != n) {
		free(buf);
		r->detail = "The body is shorter than its Content-Length.";
		return WIRE_BAD_FIELD;
	}
	*out = buf;
	*len = (size_t)n;
	return 0;
}

int http_authorize(struct http_req *r, struct db_session *s, enum db_role *role, int *link_rc)
{
	struct http_claims cl;
	int rc;

	if ((rc = http_claims_read(r->body, FCGX_GetParam("HTTP_AUTHORIZATION", r->fcgi.envp), &cl,
				   &r->detail)) < 0)
		return rc;
	r->token = cl.token;
	rc = db_is_session_link_valid(r->db, r->token, r->now_ms, s, role);
	if (rc != DB_OK && rc != DB_ERR_EXPIRED && rc != DB_ERR_ENDED && rc != DB_ERR_NOT_OPEN)
		return wire_from_db(rc);
	if (cl.session_id && strcmp(cl.session_id, s->id) != 0) {
		r->detail = "The sessionId is not the session of this token.";
		return WIRE_FORBIDDEN;
	}
	if (cl.role >= 0 && (enum db_role)cl.role != *role) {
		r->detail = "The participantType is not the role of this token.";
		return WIRE_FORBIDDEN;
	}
	*link_rc = rc;
	return 0;
}

int http_link_error(struct http_req *r, const struct db_session *s, int link_rc)
{
	if (link_rc == DB_ERR_NOT_OPEN && (r->error_extra = json_object_new_object())) {
		wire_add_time(r->error_extra, "linkOpensAt", s->link_opens_ms);
		wire_add_time(r->error_extra, "serverTime", r->now_ms);
	}
	return wire_from_db(link_rc);
}

int http_open_link(struct http_req *r, struct db_session *s, enum db_role *role)
{
	int rc, link_rc;

	if ((rc = http_authorize(r, s, role, &link_rc)) < 0)
		return rc;
	return link_rc == DB_OK ? 0 : http_link_error(r, s, link_rc);
}

static int http_open_db(struct http_req *r, const char *path)
{
	char err[256];

	if (db_open(path, &r->db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "api-%s: cannot open the database: %s\n", http_name, err);
		r->db = NULL;
		return WIRE_UNAVAILABLE;
	}
	db_checkpoint_deferred(r->db);
	return 0;
}

static void http_serve(struct http_req *r, const struct http_endpoint *ep, const char *db_path)
{
	json_object *answer = json_object_new_object();
	int rc;

	r->body = NULL;
	r->token = NULL;
	r->detail = NULL;
	r->error_extra = NULL;
	r->raw = "";
	r->raw_len = 0;
	r->status = 200;
	r->replay = NULL;
	r->allow = NULL;
	r->read_rc = 0;
	r->answered = 0;
	r->db_path = db_path;
	r->now_ms = db_now_ms();
	r->method = FCGX_GetParam("REQUEST_METHOD", r->fcgi.envp);
	if (!r->method)
		r->method = "";

	rc = answer ? http_read(r, ep) : WIRE_INTERNAL;
	if (!ep->method && answer) {
		r->read_rc = rc;
		rc = 0;
	}
	if (rc == 0 && !r->db)
		rc = http_open_db(r, db_path);
	if (rc == 0)
		rc = ep->handle(r, answer);
	if (rc != 0)
		http_send_error(r, ep, rc);
	else if (r->replay)
		http_send_text(r, r->status, NULL, r->replay, strlen(r->replay));
	else if (!r->answered)
		http_send(r, r->status, NULL, answer);
	json_object_put(answer);
	json_object_put(r->body);
	json_object_put(r->error_extra);
	free(r->replay);
	r->body = r->error_extra = NULL;
	r->replay = NULL;
	r->token = NULL;
}

int http_main(int argc, char **argv, const struct http_endpoint *ep)
{
	static struct http_req req; /* one request at a time per worker */
	const char *db_path = NULL;
	char err[512];
	struct sigaction sa;
	sigset_t term;

	http_name = ep->name;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
			db_path = argv[++i];
		} else {
			fprintf(stderr, "usage: api-%s [--db PATH] (or the database setting), under spawn-fcgi\n",
				ep->name);
			return 2;
		}
	}
	/* Every setting is checked here, before the first request: a bad one stops the program. */
	if (conf_load(db_path, err, sizeof err) != 0) {
		fprintf(stderr, "api-%s: %s\n", ep->name, err);
		return 2;
	}
	if (!db_path)
		db_path = conf_str(CONF_DATABASE);
	if (!*db_path) {
		fprintf(stderr, "api-%s: no database: pass --db PATH or set SESSIONS_DB or database\n",
			ep->name);
		return 2;
	}

	/* No SA_RESTART: a signal must break the blocking accept(). */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = http_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "api-%s: FCGX_Init failed\n", ep->name);
		return 1;
	}
	/*
	 * Freed heap stays for the next request: trimmed after each answer, it
	 * came back through brk() and fresh zeroed pages on the next one.
	 */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	http_open_db(&req, db_path); /* a failure is retried per request; health says 503 */
	FCGX_InitRequest(&req.fcgi, 0, 0);

	/* SIGTERM is held while a request is answered, so it lands between requests. */
	for (;;) {
		sigprocmask(SIG_UNBLOCK, &term, NULL);
		if (http_stop || FCGX_Accept_r(&req.fcgi) < 0)
			break;
		sigprocmask(SIG_BLOCK, &term, NULL);
		http_serve(&req, ep, db_path);
		/*
		 * Once nginx's request has been read to its end record nothing
		 * more comes on the connection, so a plain close loses nothing.
		 * libfcgi's close otherwise shuts the socket down and waits until
		 * nginx closes its end, and the worker sat idle for nginx's turn.
		 * A body left unread (an upload refused unread) keeps that wait.
		 */
		if (FCGX_GetChar(req.fcgi.in) == EOF && FCGX_GetError(req.fcgi.in) == 0)
			FCGX_Detach(&req.fcgi);
		FCGX_Finish_r(&req.fcgi);
		/* The answer has gone: a checkpoint now delays no one's request. */
		if (req.db && db_checkpoint_idle(req.db) != DB_OK)
			fprintf(stderr, "api-%s: %s\n", ep->name, db_errmsg(req.db));
	}
	FCGX_Finish_r(&req.fcgi);
	if (req.db)
		db_close(req.db);
	return 0;
}
