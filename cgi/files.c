/* files.c: /api/sessions/files: a participant uploads a file to share in chat (POST, the bytes as the body); either participant downloads one (GET /api/sessions/files/ID). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define FILES_URI "/api/sessions/files"
#define FILES_INTERNAL "/_files/" /* nginx's internal location over the files directory */
#define FILES_CHUNK 65536
#define FILES_NAME_HEADER_MAX 1024 /* bytes of the decoded name header: the library cuts it shorter */

static struct db *files_chat; /* the chat file's handle, where files are recorded; opened on first use */

static int files_chat_open(struct http_req *r)
{
	char err[256];

	if (files_chat)
		return 0;
	if (db_chat_open(r->db_path, &files_chat, err, sizeof err) != DB_OK) {
		fprintf(stderr, "api-files: cannot open the chat file: %s\n", err);
		files_chat = NULL;
		return WIRE_UNAVAILABLE;
	}
	return 0;
}

/* The X-File-Name header, %-encoded UTF-8 (headers carry no other text safely), decoded into out. */
static int files_name(struct http_req *r, char *out, size_t outlen)
{
	const char *in = FCGX_GetParam("HTTP_X_FILE_NAME", r->fcgi.envp);
	size_t o = 0;

	for (; in && *in && o + 1 < outlen; in++) {
		unsigned int c;

		if (*in != '%') {
			out[o++] = *in;
			continue;
		}
		if (sscanf(in + 1, "%2x", &c) != 1 || !in[1] || !in[2] || c == 0 ||
		    !strchr("0123456789abcdefABCDEF", in[1]) || !strchr("0123456789abcdefABCDEF", in[2])) {
			r->detail = "X-File-Name is the file's name in UTF-8, %-encoded.";
			return WIRE_BAD_FIELD;
		}
		out[o++] = (char)c;
		in += 2;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Whatever nginx sent that was not read: a program that answers and hangs
 * up on a body it has not read can make nginx fail the answer.
 */
static void files_drain(struct http_req *r)
{
	static char sink[FILES_CHUNK];

	while (FCGX_GetStr(sink, sizeof sink, r->fcgi.in) > 0)
		;
}

/* Reads the body into the upload, stopping one byte past the cap so a larger file is refused unread. */
static int files_receive(struct http_req *r, struct db_upload *u, long declared)
{
	static char buf[FILES_CHUNK];
	int64_t cap = db_config(files_chat)->file_max_bytes, got = 0;
	int n, rc;

	for (;;) {
		int want = cap + 1 - got < (int64_t)sizeof buf ? (int)(cap + 1 - got) : (int)sizeof buf;

		if ((n = FCGX_GetStr(buf, want, r->fcgi.in)) <= 0)
			break;
		got += n;
		if ((rc = db_upload_write(files_chat, u, buf, (size_t)n)) != DB_OK)
			return wire_from_db(rc);
	}
	if (declared >= 0 && got != declared) {
		r->detail = "The upload was cut short: nothing was stored.";
		return WIRE_BAD_FIELD;
	}
	return 0;
}

static void files_json(json_object *o, const struct db_file *f)
{
	json_object_object_add(o, "id", json_object_new_int64(f->id));
	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "bytes", json_object_new_int64(f->bytes));
	json_object_object_add(o, "type", json_object_new_string(db_file_type_name(f->type)));
	wire_add_time(o, "createdAt", f->created_ms);
}

static int files_upload(struct http_req *r, json_object *o)
{
	static char name[FILES_NAME_HEADER_MAX];
	const char *len_param = FCGX_GetParam("CONTENT_LENGTH", r->fcgi.envp);
	struct db_upload *u = NULL;
	struct db_session s;
	struct db_file f;
	enum db_role role;
	long declared = -1;
	int rc;

	/* A JSON body was read as one (http.h): an upload is the file's own bytes. */
	if (r->read_rc != WIRE_MEDIA_TYPE) {
		r->detail = "Send the file's bytes as the body, as application/octet-stream or its own type.";
		return WIRE_MEDIA_TYPE;
	}
	if ((rc = http_open_link(r, &s, &role)) < 0 || (rc = files_name(r, name, sizeof name)) < 0 ||
	    (rc = files_chat_open(r)) < 0)
		goto fail;
	if (len_param && *len_param) {
		char *end;

		errno = 0;
		declared = strtol(len_param, &end, 10);
		if (errno || *end || declared < 0) {
			r->detail = "The Content-Length is not a number.";
			rc = WIRE_BAD_FIELD;
			goto fail;
		}
		if (declared > db_config(files_chat)->file_max_bytes) {
			rc = WIRE_FILE_TOO_LARGE;
			goto fail;
		}
	}
	if ((rc = db_upload_begin(files_chat, r->db_path, &u)) != DB_OK) {
		rc = wire_from_db(rc);
		goto fail;
	}
	if ((rc = files_receive(r, u, declared)) < 0)
		goto fail;
	rc = db_upload_finish(files_chat, u, s.id, role, name, r->now_ms, &f);
	u = NULL; /* finish frees it, whatever it answers */
	if (rc != DB_OK) {
		rc = wire_from_db(rc);
		goto fail;
	}
	files_json(o, &f);
	r->status = 201;
	return 0;
fail:
	if (rc == WIRE_INTERNAL || rc == WIRE_STORAGE_FULL)
		fprintf(stderr, "api-files: %s\n", files_chat ? db_errmsg(files_chat) : "no chat file");
	db_upload_abort(u);
	files_drain(r);
	return rc;
}

/* The id in /api/sessions/files/ID: 1 and up, digits only. */
static int files_id(const char *uri, int64_t *id)
{
	const char *p = uri + strlen(FILES_URI "/");
	char *end;

	if (strncmp(uri, FILES_URI "/", strlen(FILES_URI "/")) != 0 || *p < '1' || *p > '9')
		return WIRE_NOT_FOUND;
	errno = 0;
	*id = strtoll(p, &end, 10);
	return errno || *end ? WIRE_NOT_FOUND : 0;
}

/*
 * Either token of the session downloads its files for as long as they
 * are kept, also after the session ended and the link ran out; nginx
 * sends the bytes with the type the upload's check found.
 */
static int files_download(struct http_req *r, const char *uri)
{
	char internal[sizeof FILES_INTERNAL + DB_FILE_STORAGE_LEN];
	struct db_session s;
	struct db_file f;
	enum db_role role;
	int64_t id;
	int rc, link_rc;

	if ((rc = files_id(uri, &id)) < 0 || (rc = http_authorize(r, &s, &role, &link_rc)) < 0 ||
	    (rc = files_chat_open(r)) < 0)
		return rc;
	if ((rc = db_file_get(files_chat, s.id, id, &f)) != DB_OK)
		return rc == DB_ERR_GONE ? WIRE_FILE_GONE : wire_from_db(rc);
	snprintf(internal, sizeof internal, FILES_INTERNAL "%s", f.storage);
	http_send_stored(r, internal, db_file_type_name(f.type), f.type == DB_FILE_PDF ? f.name : NULL);
	return 0;
}

static int files_handle(struct http_req *r, json_object *o)
{
	const char *uri = FCGX_GetParam("DOCUMENT_URI", r->fcgi.envp);

	if (!uri)
		uri = "";
	if (strcmp(uri, FILES_URI) == 0) {
		if (strcmp(r->method, "POST") == 0)
			return files_upload(r, o);
		r->allow = "POST";
	} else {
		if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
			return files_download(r, uri);
		r->allow = "GET, HEAD";
	}
	files_drain(r);
	return WIRE_METHOD;
}

int main(int argc, char **argv)
{
	static const struct http_endpoint ep = {"files", NULL, files_handle};

	return http_main(argc, argv, &ep);
}
