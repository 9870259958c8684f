/* sessionctl.c: the shop's command line: people, money, bookings, links, expiry and checks. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <json.h>
#include <sodium.h>

#include "conf.h"
#include "db.h"
#include "errors.h"
#include "render.h"

#define EXIT_USAGE 2

struct cmd {
	const char *group;  /* "wallet" in "wallet topup"; NULL for one-word commands */
	const char *name;
	int (*run)(struct db *db, int argc, char **argv);
	const char *usage;
	int nargs;          /* positional arguments after the command words */
	int no_db;          /* runs without opening the database */
};

static const struct cmd *current; /* the command being run, for its usage line */
static const char *db_path;       /* the database it runs on */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sessionctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: sessionctl %s\n", current->usage);
	return EXIT_USAGE;
}

/* A failed library call: its sentence on stderr, and a non-zero exit. */
static int fail(struct db *db, int err)
{
	fprintf(stderr, "sessionctl: %s (%s)\n", db_errmsg(db), wire_error(wire_from_db(err))->code);
	return 1;
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* --name VALUE options after the positional arguments; unknown ones are errors. */
struct opt {
	const char *name;
	const char *value; /* points into argv */
	int flag;          /* takes no value */
};

static int parse_opts(int argc, char **argv, struct opt *opts, int n)
{
	for (int i = 0; i < argc; i++) {
		int j;

		for (j = 0; j < n && strcmp(argv[i], opts[j].name) != 0; j++)
			;
		if (j == n)
			return usage_error("unknown option '%s'", argv[i]);
		if (opts[j].flag) {
			opts[j].value = "1";
		} else if (i + 1 < argc) {
			opts[j].value = argv[++i];
		} else {
			return usage_error("%s needs a value", argv[i]);
		}
	}
	return 0;
}

static int parse_amount(const char *s, int64_t *out)
{
	if (db_money_parse(s, out) != DB_OK)
		return usage_error("'%s' is not an amount: digits with at most two decimals, "
		                   "0 to 1000000.00", s);
	return 0;
}

static int parse_role(const char *s, enum db_role *out)
{
	int r = db_role_parse(s);

	if (r < 0)
		return usage_error("the role is user or astrologer");
	*out = (enum db_role)r;
	return 0;
}

static int cmd_user_add(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--balance", NULL, 0}};
	int64_t balance = 0;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, o, 1)) ||
	    (o[0].value && (err = parse_amount(o[0].value, &balance))))
		return err;
	if ((err = db_user_add(db, argv[0], balance, db_now_ms())) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "user", argv[0]);
	wire_add_money(j, "balance", balance);
	print_json(j);
	return 0;
}

static int cmd_astrologer_add(struct db *db, int argc, char **argv)
{
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	if ((err = db_astrologer_add(db, argv[0], db_now_ms())) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "astrologer", argv[0]);
	print_json(j);
	return 0;
}

static int cmd_astrologer_show(struct db *db, int argc, char **argv)
{
	int64_t earnings;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	if ((err = db_earnings_show(db, argv[0], &earnings)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "astrologer", argv[0]);
	wire_add_money(j, "earnings", earnings);
	print_json(j);
	return 0;
}

static int wallet_print(struct db *db, const char *user)
{
	int64_t balance, frozen;
	int err;

	if ((err = db_wallet_show(db, user, &balance, &frozen)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "user", user);
	wire_add_money(j, "balance", balance);
	wire_add_money(j, "frozen", frozen);
	print_json(j);
	return 0;
}

static int cmd_wallet_topup(struct db *db, int argc, char **argv)
{
	int64_t amount;
	int err;

	if ((err = parse_opts(argc - 2, argv + 2, NULL, 0)) ||
	    (err = parse_amount(argv[1], &amount)))
		return err;
	if (amount == 0)
		return usage_error("a top-up must be more than 0.00");
	if ((err = db_wallet_topup(db, argv[0], amount, NULL, db_now_ms())) != DB_OK)
		return fail(db, err);
	return wallet_print(db, argv[0]);
}

static int cmd_wallet_show(struct db *db, int argc, char **argv)
{
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	return wallet_print(db, argv[0]);
}

static int parse_count(const char *s, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return usage_error("%s is a whole number from %lld to %lld", what,
		                   (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

static int cmd_book(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--user", NULL, 0}, {"--astrologer", NULL, 0},
	                  {"--type", NULL, 0}, {"--minutes", NULL, 0},
	                  {"--price", NULL, 0}, {"--starts", NULL, 0}};
	struct db_booking_req req = {0};
	struct db_booking b;
	int64_t now = db_now_ms();
	int err, type;

	if ((err = parse_opts(argc, argv, o, 6)))
		return err;
	for (int i = 0; i < 5; i++)
		if (!o[i].value)
			return usage_error("%s is required", o[i].name);
	req.user = o[0].value;
	req.astrologer = o[1].value;
	if ((type = db_type_parse(o[2].value)) < 0)
		return usage_error("the type is chat, voice or video");
	req.type = (enum db_type)type;
	if ((err = parse_count(o[3].value, "--minutes", 1, DB_MINUTES_MAX, &req.minutes)) ||
	    (err = parse_amount(o[4].value, &req.price)))
		return err;
	req.starts_ms = now;
	if (o[5].value && db_time_parse(o[5].value, &req.starts_ms) != DB_OK)
		return usage_error("--starts is an ISO 8601 time such as 2026-01-31T18:30:00Z");
	if ((err = db_book(db, &req, now, &b)) != DB_OK)
		return fail(db, err);
	print_json(wire_booking_json(&b));
	return 0;
}

static void list_one(void *arg, const struct db_session *s)
{
	json_object_array_add(arg, wire_session_json(s));
}

static int cmd_list(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--limit", NULL, 0}};
	int64_t limit = 100;
	int err;

	if ((err = parse_opts(argc, argv, o, 1)) ||
	    (o[0].value && (err = parse_count(o[0].value, "--limit", 1, 100000, &limit))))
		return err;
	struct json_object *list = json_object_new_array();
	if ((err = db_session_list(db, (int)limit, list_one, list)) != DB_OK) {
		json_object_put(list);
		return fail(db, err);
	}
	print_json(list);
	return 0;
}

static void event_one(void *arg, const char *kind, const char *participant,
                      const char *detail, int64_t at_ms)
{
	struct json_object *e = json_object_new_object();

	add_str(e, "kind", kind);
	if (participant)
		add_str(e, "participant", participant);
	if (detail)
		add_str(e, "detail", detail);
	wire_add_time(e, "at", at_ms);
	json_object_array_add(arg, e);
}

static void network_one(void *arg, const char *participant, const struct db_network_report *r,
                        int64_t at_ms)
{
	struct json_object *e = json_object_new_object();
	const char *const pairs[][2] = {{"phase", r->phase}, {"reach", r->reach}, {"local", r->local},
	                                {"remote", r->remote}, {"protocol", r->protocol},
	                                {"relayProtocol", r->relay_protocol}};

	add_str(e, "participant", participant);
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (pairs[i][1])
			add_str(e, pairs[i][0], pairs[i][1]);
	wire_add_time(e, "at", at_ms);
	json_object_array_add(arg, e);
}

static void presence_one(void *arg, enum db_role role, int64_t joined_ms, int64_t seen_ms,
                         int64_t left_ms)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "participant", db_role_name(role));
	wire_add_time(o, "joinedAt", joined_ms);
	wire_add_time(o, "lastSeenAt", seen_ms);
	wire_add_time(o, "leftAt", left_ms);
	json_object_array_add(arg, o);
}

static int cmd_show(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--presence", NULL, 1}};
	struct db_settlement st;
	struct db_session s;
	int64_t now = db_now_ms();
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, o, 1)))
		return err;
	if ((err = db_session_get(db, argv[0], &s)) != DB_OK ||
	    (err = db_session_bill(db, &s, now, &st)) != DB_OK)
		return fail(db, err);
	struct json_object *j = wire_session_json(&s);
	/* The bill so far for an open session, the settlement once it is over. */
	wire_add_bill(j, &s, &st);
	struct json_object *events = json_object_new_array();
	json_object_object_add(j, "events", events);
	if ((err = db_session_events(db, argv[0], event_one, events)) != DB_OK) {
		json_object_put(j);
		return fail(db, err);
	}
	/* What the pages found about the network: the pre-flight and the path each call took. */
	struct json_object *network = json_object_new_array();
	json_object_object_add(j, "network", network);
	if ((err = db_session_network(db, argv[0], network_one, network)) != DB_OK) {
		json_object_put(j);
		return fail(db, err);
	}
	if (o[0].value) {
		struct json_object *presence = json_object_new_array();

		json_object_object_add(j, "presence", presence);
		if ((err = db_presence_list(db, argv[0], presence_one, presence)) != DB_OK) {
			json_object_put(j);
			return fail(db, err);
		}
	}
	json_object_object_add(j, "settlement", db_session_is_over(&s) ? wire_settlement_json(&st) : NULL);
	print_json(j);
	return 0;
}

static int cmd_link(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--role", NULL, 0}, {"--rotate", NULL, 1}};
	char token[DB_TOKEN_LEN + 1];
	enum db_role role = DB_ROLE_USER;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, o, 2)))
		return err;
	if (!o[0].value)
		return usage_error("--role is required");
	if ((err = parse_role(o[0].value, &role)))
		return err;
	if (!o[1].value)
		return usage_error("links are stored only as digests, so a link can only be "
		                   "reissued: add --rotate (the old link stops working)");
	if ((err = db_link_reissue(db, argv[0], role, db_now_ms(), token)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "sessionId", argv[0]);
	add_str(j, "participantType", db_role_name(role));
	add_str(j, "token", token);
	wire_add_link(j, "url", token);
	print_json(j);
	return 0;
}

static int cmd_join(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--role", NULL, 0}};
	struct db_join jn;
	enum db_role role = DB_ROLE_USER;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, o, 1)))
		return err;
	if (!o[0].value)
		return usage_error("--role is required");
	if ((err = parse_role(o[0].value, &role)))
		return err;
	if ((err = db_start_session(db, argv[0], role, db_now_ms(), &jn)) != DB_OK)
		return fail(db, err);
	struct json_object *j = wire_session_json(&jn.session);
	json_object_object_add(j, "alreadyJoined", json_object_new_boolean(jn.already_joined));
	json_object_object_add(j, "bothJoined", json_object_new_boolean(jn.both_joined));
	print_json(j);
	return 0;
}

static int cmd_end(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--reason", NULL, 0}};
	enum db_reason reason = DB_REASON_CANCELLED;
	struct db_settlement st;
	int err, r;

	if ((err = parse_opts(argc - 1, argv + 1, o, 1)))
		return err;
	if (o[0].value) {
		if ((r = db_reason_parse(o[0].value)) < 0)
			return usage_error("unknown reason '%s'", o[0].value);
		reason = (enum db_reason)r;
	}
	if ((err = db_end_session(db, argv[0], reason, DB_ACTOR_SYSTEM, db_now_ms(), &st)) != DB_OK)
		return fail(db, err);
	struct json_object *j = wire_settlement_json(&st);
	add_str(j, "sessionId", argv[0]);
	print_json(j);
	return 0;
}

static void expired_one(void *arg, const struct db_session *s, const struct db_settlement *st)
{
	struct json_object *o = wire_settlement_json(st);

	add_str(o, "sessionId", s->id);
	json_object_array_add(arg, o);
}

static int cmd_expire(struct db *db, int argc, char **argv)
{
	int expired, timed_out, err;

	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	struct json_object *ended = json_object_new_array();
	err = db_expire(db, db_now_ms(), expired_one, ended, &expired, &timed_out);
	struct json_object *j = json_object_new_object();
	add_int(j, "expired", expired);
	add_int(j, "timedOut", timed_out);
	json_object_object_add(j, "sessions", ended);
	print_json(j); /* what was done is done, even when a later session failed */
	return err == DB_OK ? 0 : fail(db, err);
}

static int cmd_purge(struct db *db, int argc, char **argv)
{
	struct db_purged n;
	int err;

	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	if ((err = db_purge(db, db_now_ms(), &n)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_int(j, "audit", n.audit);
	add_int(j, "deliveries", n.deliveries);
	add_int(j, "attempts", n.attempts);
	add_int(j, "events", n.events);
	print_json(j);
	return 0;
}

/* What a purge found no row naming: "stray" files and "strayBytes" in its answer. */
static void add_stray(struct json_object *j, const struct db_swept *stray)
{
	add_int(j, "stray", stray->files);
	add_int(j, "strayBytes", stray->bytes);
}

/*
 * Files shared in chat past file_retention_days (and uploads never
 * announced after a day) go; their messages stay. So do files no row
 * names, once db_stray_due allows.
 */
static int cmd_files_purge(struct db *db, int argc, char **argv)
{
	struct db_swept stray;
	struct db *chat;
	int64_t count;
	char msg[256];
	int err;

	(void)db; /* files are recorded in the chat file */
	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	if (db_chat_open(db_path, &chat, msg, sizeof msg) != DB_OK) {
		fprintf(stderr, "sessionctl: %s\n", msg);
		return 1;
	}
	if ((err = db_files_purge(chat, db_path, db_now_ms(), &count, &stray)) != DB_OK) {
		err = fail(chat, err);
		db_close(chat);
		return err;
	}
	db_close(chat);
	struct json_object *j = json_object_new_object();
	add_int(j, "files", count);
	add_stray(j, &stray);
	print_json(j);
	return 0;
}

/* Recordings past recording_retention_days: their files and rows go; the consent events stay. */
static int cmd_recordings_purge(struct db *db, int argc, char **argv)
{
	struct db_swept stray;
	int64_t count, bytes;
	int err;

	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	if ((err = db_recording_purge(db, db_now_ms(), &count, &bytes, &stray)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_int(j, "recordings", count);
	add_int(j, "bytes", bytes);
	add_stray(j, &stray);
	print_json(j);
	return 0;
}

static void problem_one(void *arg, const char *problem)
{
	json_object_array_add(arg, json_object_new_string(problem));
	fprintf(stderr, "sessionctl: ledger: %s\n", problem);
}

static int cmd_ledger_check(struct db *db, int argc, char **argv)
{
	int problems, err;

	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	struct json_object *list = json_object_new_array();
	if ((err = db_ledger_check(db, problem_one, list, &problems)) != DB_OK) {
		json_object_put(list);
		return fail(db, err);
	}
	struct json_object *j = json_object_new_object();
	json_object_object_add(j, "ok", json_object_new_boolean(problems == 0));
	json_object_object_add(j, "problems", list);
	print_json(j);
	return problems ? 1 : 0;
}

static int cmd_backup(struct db *db, int argc, char **argv)
{
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	struct db_backed_up n;
	if ((err = db_backup(db, argv[0], db_now_ms(), &n)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "backup", argv[0]);
	add_int(j, "files", n.files);
	add_int(j, "fileBytes", n.file_bytes);
	add_int(j, "recordings", n.recordings);
	add_int(j, "recordingBytes", n.recording_bytes);
	add_int(j, "linked", n.linked);
	print_json(j);
	return 0;
}

static void setting_one(void *arg, enum conf_key key, const char *env, const char *value,
                        const char *source)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "env", env);
	/* a secret is shown only as whether it is set */
	if (key == CONF_TURN_SECRET)
		add_str(o, "value", *value ? "(set)" : "");
	else
		add_str(o, "value", value);
	add_str(o, "source", source);
	json_object_object_add(arg, conf_name(key), o);
}

/* --quiet: for the scripts that read the settings at every start (sessions-run), whose log would repeat it. */
static int cmd_config(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--quiet", NULL, 1}};
	int err;

	(void)db; /* a no_db command */
	if ((err = parse_opts(argc, argv, o, 1)))
		return err;
	struct json_object *j = json_object_new_object();
	conf_each(setting_one, j);
	print_json(j);
	if (!o[0].value && conf_warning())
		fprintf(stderr, "sessionctl: warning: %s\n", conf_warning());
	return 0;
}

/* The host part of public_url ("https://host:port/..." -> "host"), for the TURN URLs beside the site. */
static int turn_host(char *out, size_t len)
{
	const char *h = strstr(conf_str(CONF_PUBLIC_URL), "://");
	size_t n;

	if (!h)
		return -1;
	h += 3;
	n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, h, n);
	out[n] = 0;
	return 0;
}

/*
 * Puts the secret and realm into coturn's configuration (the recipe's
 * static-auth-secret= and realm= lines), through a new file that takes the
 * old one's owner and mode (coturn's group reads it), renamed over it.
 */
static int turn_write_coturn(const char *path, const char *secret, const char *realm)
{
	char tmp[4096], line[4096];
	FILE *in = NULL, *out = NULL;
	struct stat st;
	int found = 0, rc = -1;

	snprintf(tmp, sizeof tmp, "%s.sessionctl", path);
	if (!(in = fopen(path, "r")) || fstat(fileno(in), &st) != 0 || !(out = fopen(tmp, "w")) ||
	    fchmod(fileno(out), st.st_mode & 07777) != 0 ||
	    fchown(fileno(out), st.st_uid, st.st_gid) != 0) {
		fprintf(stderr, "sessionctl: %s: %s\n", out ? tmp : path, strerror(errno));
		goto fail;
	}
	while (fgets(line, sizeof line, in)) {
		if (!strncmp(line, "static-auth-secret=", 19)) {
			fprintf(out, "static-auth-secret=%s\n", secret);
			found = 1;
		} else if (!strncmp(line, "realm=", 6)) {
			fprintf(out, "realm=%s\n", realm);
		} else {
			fputs(line, out);
		}
	}
	if (!found) {
		fprintf(stderr, "sessionctl: %s has no static-auth-secret= line "
		        "(start from the recipe, turnserver.conf)\n", path);
		goto fail;
	}
	if (ferror(in) || fflush(out) != 0 || fsync(fileno(out)) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "sessionctl: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	if (out && fclose(out) != 0)
		rc = -1;
	if (rc < 0 && out)
		unlink(tmp);
	if (in)
		fclose(in);
	return rc;
}

/*
 * init --turn FILE: coturn beside the site. Settings without TURN get a
 * new shared secret, the TURN URLs of public_url's host (UDP and TCP on
 * 3478, TLS on 5349 for networks that let only TLS out) and, while
 * ice_servers is left at its default, that host as STUN server. coturn's
 * FILE then gets the secret in force, so running init again changes nothing.
 */
static int init_turn(const char *coturn, struct json_object *answer)
{
	const char *settings = conf_file(), *secret = conf_str(CONF_TURN_SECRET);
	unsigned char raw[32];
	char fresh[2 * sizeof raw + 1], host[256];
	struct json_object *t;
	FILE *f;

	if (turn_host(host, sizeof host) < 0)
		return usage_error("public_url has no host to serve TURN from");
	if (!*secret) {
		if (!settings) {
			fprintf(stderr, "sessionctl: no settings file to keep the TURN secret in "
			        "(/etc/sessions/sessions.conf or $SESSIONS_CONF)\n");
			return 1;
		}
		randombytes_buf(raw, sizeof raw);
		sodium_bin2hex(fresh, sizeof fresh, raw, sizeof raw);
		sodium_memzero(raw, sizeof raw);
		secret = fresh;
	}
	if (turn_write_coturn(coturn, secret, host) < 0)
		return 1;
	t = json_object_new_object();
	add_str(t, "coturn", coturn);
	add_str(t, "secret", secret == fresh ? "generated" : "kept");
	json_object_object_add(answer, "turn", t);
	if (secret != fresh)
		return 0;
	if (!(f = fopen(settings, "a"))) {
		fprintf(stderr, "sessionctl: %s: %s\n", settings, strerror(errno));
		return 1;
	}
	fprintf(f, "\n# TURN beside the site (sessionctl init --turn %s): coturn's static-auth-secret\n"
	        "# is the same secret.\n"
	        "turn_urls = turn:%s:3478?transport=udp, turn:%s:3478?transport=tcp, turns:%s:5349?transport=tcp\n"
	        "turn_secret = %s\n", coturn, host, host, host, secret);
	if (!strcmp(conf_str(CONF_ICE_SERVERS), "[]"))
		fprintf(f, "ice_servers = [{\"urls\":\"stun:%s:3478\"}]\n", host);
	sodium_memzero(fresh, sizeof fresh);
	if (fclose(f) != 0) {
		fprintf(stderr, "sessionctl: %s: %s\n", settings, strerror(errno));
		return 1;
	}
	return 0;
}

/* Gives an existing file its mode and, with --owner, its owner; 0 when done or absent. */
static int hand_over(const char *file, mode_t mode, const struct passwd *pw)
{
	if (access(file, F_OK) != 0)
		return 0;
	if (chmod(file, mode) != 0 || (pw && chown(file, pw->pw_uid, pw->pw_gid) != 0)) {
		fprintf(stderr, "sessionctl: %s: cannot set owner and mode\n", file);
		return 1;
	}
	return 0;
}

/* nginx's workers' group: they send the stored files once an API program has checked a token. */
#define CTL_WEB_GROUP "www-data"

/*
 * A directory of stored files beside the database, made when missing,
 * 2750: what the API writes there takes the directory's group. With
 * --owner it is that user's; as root its group is nginx's when that group
 * exists, so nginx reads what it sends and nothing else does.
 */
static int init_store_dir(const char *dir, const struct passwd *pw)
{
	const struct group *web;
	struct stat sb;
	gid_t gid;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		goto fail;
	if (lstat(dir, &sb) != 0 || (!S_ISDIR(sb.st_mode) && (errno = ENOTDIR)))
		goto fail;
	if (pw) {
		gid = geteuid() == 0 && (web = getgrnam(CTL_WEB_GROUP)) ? web->gr_gid : pw->pw_gid;
		if (chown(dir, pw->pw_uid, gid) != 0)
			goto fail;
	}
	if (chmod(dir, 02750) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "sessionctl: %s: cannot make it, hand it over or set its mode: %s\n", dir, strerror(errno));
	return 1;
}

/*
 * Hands the database, the chat file (created here), their WALs, the key
 * and the directories of files and recordings to the service user; the
 * key stays 0600.
 */
static int cmd_init(struct db *db, int argc, char **argv)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	struct opt o[] = {{"--owner", NULL, 0}, {"--turn", NULL, 0}};
	const char *path = db_path;
	struct passwd *pw = NULL;
	struct db *chat;
	char chat_path[4096], key[4096 + 4], file[4096 + 4], msg[256];
	char files_dir[4096], recordings_dir[4096];
	int err;

	if ((err = parse_opts(argc, argv, o, 2)))
		return err;
	if (o[0].value && !(pw = getpwnam(o[0].value)))
		return usage_error("no such user '%s'", o[0].value);
	if ((err = db_ping(db)) != DB_OK)
		return fail(db, err);
	if (db_chat_open(path, &chat, msg, sizeof msg) != DB_OK) {
		fprintf(stderr, "sessionctl: %s\n", msg);
		return 1;
	}
	db_close(chat);
	db_chat_path(path, chat_path, sizeof chat_path);
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(file, sizeof file, "%s%s", path, suffix[i]);
		if (hand_over(file, 0640, pw))
			return 1;
		snprintf(file, sizeof file, "%s%s", chat_path, suffix[i]);
		if (hand_over(file, 0640, pw))
			return 1;
	}
	snprintf(key, sizeof key, "%s.key", path);
	if (hand_over(key, 0600, pw))
		return 1;
	if (db_files_dir(path, files_dir, sizeof files_dir) != DB_OK ||
	    db_recordings_path(path, recordings_dir, sizeof recordings_dir) != DB_OK)
		return usage_error("database path too long");
	if (init_store_dir(files_dir, pw) || init_store_dir(recordings_dir, pw))
		return 1;
	struct json_object *j = json_object_new_object();
	add_str(j, "database", path);
	add_str(j, "chat", chat_path);
	add_str(j, "key", key);
	add_str(j, "files", files_dir);
	add_str(j, "recordings", recordings_dir);
	if (pw)
		add_str(j, "owner", pw->pw_name);
	if (o[1].value && (err = init_turn(o[1].value, j))) {
		json_object_put(j);
		return err;
	}
	print_json(j);
	return 0;
}

/* The key is printed once, here: only its digest is kept. */
static int cmd_apikey_add(struct db *db, int argc, char **argv)
{
	char key[DB_APIKEY_LEN + 1];
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	if ((err = db_apikey_add(db, argv[0], db_now_ms(), key)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "name", argv[0]);
	add_str(j, "key", key);
	print_json(j);
	sodium_memzero(key, sizeof key);
	return 0;
}

static void apikey_one(void *arg, const struct db_apikey *k)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "name", k->name);
	wire_add_time(o, "createdAt", k->created_ms);
	wire_add_time(o, "revokedAt", k->revoked_ms);
	wire_add_time(o, "lastUsedAt", k->last_used_ms);
	json_object_array_add(arg, o);
}

static int cmd_apikey_list(struct db *db, int argc, char **argv)
{
	int err;

	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	struct json_object *list = json_object_new_array();
	if ((err = db_apikey_list(db, apikey_one, list)) != DB_OK) {
		json_object_put(list);
		return fail(db, err);
	}
	print_json(list);
	return 0;
}

static int cmd_apikey_revoke(struct db *db, int argc, char **argv)
{
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	if ((err = db_apikey_revoke(db, argv[0], db_now_ms())) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_str(j, "name", argv[0]);
	json_object_object_add(j, "revoked", json_object_new_boolean(1));
	print_json(j);
	return 0;
}

static int cmd_webhook_add(struct db *db, int argc, char **argv)
{
	char secret[DB_WEBHOOK_SECRET_LEN + 1];
	int64_t id;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)))
		return err;
	if ((err = db_webhook_add(db, argv[0], db_now_ms(), &id, secret)) != DB_OK)
		return fail(db, err);
	/* shown this once: only its sealed form is kept */
	print_json(wire_webhook_secret_json(id, argv[0], secret, 0));
	memset(secret, 0, sizeof secret);
	return 0;
}

static void webhook_one(void *arg, const struct db_webhook *w)
{
	json_object_array_add(arg, wire_webhook_json(w));
}

static int cmd_webhook_list(struct db *db, int argc, char **argv)
{
	int err;

	if ((err = parse_opts(argc, argv, NULL, 0)))
		return err;
	struct json_object *list = json_object_new_array();
	if ((err = db_webhook_list(db, webhook_one, list)) != DB_OK) {
		json_object_put(list);
		return fail(db, err);
	}
	print_json(list);
	return 0;
}

static int cmd_webhook_remove(struct db *db, int argc, char **argv)
{
	int64_t id;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)) ||
	    (err = parse_count(argv[0], "the endpoint id", 1, INT64_MAX, &id)))
		return err;
	if ((err = db_webhook_remove(db, id)) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_int(j, "removed", id);
	print_json(j);
	return 0;
}

static int cmd_webhook_rotate(struct db *db, int argc, char **argv)
{
	char secret[DB_WEBHOOK_SECRET_LEN + 1];
	int64_t id, now = db_now_ms();
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)) ||
	    (err = parse_count(argv[0], "the endpoint id", 1, INT64_MAX, &id)))
		return err;
	if ((err = db_webhook_rotate(db, id, now, secret)) != DB_OK)
		return fail(db, err);
	print_json(wire_webhook_secret_json(id, NULL, secret, now + DB_WEBHOOK_OVERLAP_MS));
	memset(secret, 0, sizeof secret);
	return 0;
}

static void delivery_one(void *arg, const struct db_delivery *d)
{
	json_object_array_add(arg, wire_delivery_json(d));
}

static int cmd_webhook_deliveries(struct db *db, int argc, char **argv)
{
	struct opt o[] = {{"--failed", NULL, 1}, {"--limit", NULL, 0}};
	int64_t limit = 100;
	int err;

	if ((err = parse_opts(argc, argv, o, 2)) ||
	    (o[1].value && (err = parse_count(o[1].value, "--limit", 1, 100000, &limit))))
		return err;
	struct json_object *list = json_object_new_array();
	if ((err = db_webhook_deliveries(db, o[0].value ? DB_DELIVERY_FAILED : -1, (int)limit,
	                                 delivery_one, list)) != DB_OK) {
		json_object_put(list);
		return fail(db, err);
	}
	print_json(list);
	return 0;
}

static int cmd_webhook_retry(struct db *db, int argc, char **argv)
{
	int64_t id;
	int err;

	if ((err = parse_opts(argc - 1, argv + 1, NULL, 0)) ||
	    (err = parse_count(argv[0], "the delivery id", 1, INT64_MAX, &id)))
		return err;
	if ((err = db_webhook_retry(db, id, db_now_ms())) != DB_OK)
		return fail(db, err);
	struct json_object *j = json_object_new_object();
	add_int(j, "retried", id);
	print_json(j);
	return 0;
}

static const struct cmd cmds[] = {
	{NULL, "init", cmd_init, "init [--owner USER] [--turn COTURN_CONF]", .nargs = 0},
	{NULL, "config", cmd_config, "config [--quiet]", 0, .no_db = 1},
	{NULL, "backup", cmd_backup, "backup FILE", .nargs = 1},
	{"user", "add", cmd_user_add, "user add NAME [--balance AMOUNT]", .nargs = 1},
	{"astrologer", "add", cmd_astrologer_add, "astrologer add NAME", .nargs = 1},
	{"astrologer", "show", cmd_astrologer_show, "astrologer show NAME", .nargs = 1},
	{"wallet", "topup", cmd_wallet_topup, "wallet topup NAME AMOUNT", .nargs = 2},
	{"wallet", "show", cmd_wallet_show, "wallet show NAME", .nargs = 1},
	{NULL, "book", cmd_book,
	 "book --user NAME --astrologer NAME --type chat|voice|video --minutes N "
	 "--price AMOUNT [--starts ISO8601]", .nargs = 0},
	{NULL, "list", cmd_list, "list [--limit N]", .nargs = 0},
	{NULL, "show", cmd_show, "show SESSION [--presence]", .nargs = 1},
	{NULL, "link", cmd_link, "link SESSION --role user|astrologer --rotate", .nargs = 1},
	{NULL, "join", cmd_join, "join SESSION --role user|astrologer", .nargs = 1},
	{NULL, "end", cmd_end, "end SESSION [--reason REASON]", .nargs = 1},
	{NULL, "expire", cmd_expire, "expire", .nargs = 0},
	{NULL, "purge", cmd_purge, "purge", .nargs = 0},
	{"files", "purge", cmd_files_purge, "files purge", .nargs = 0},
	{"recordings", "purge", cmd_recordings_purge, "recordings purge", .nargs = 0},
	{"ledger", "check", cmd_ledger_check, "ledger check", .nargs = 0},
	{"apikey", "add", cmd_apikey_add, "apikey add NAME", .nargs = 1},
	{"apikey", "list", cmd_apikey_list, "apikey list", .nargs = 0},
	{"apikey", "revoke", cmd_apikey_revoke, "apikey revoke NAME", .nargs = 1},
	{"webhook", "add", cmd_webhook_add, "webhook add URL", .nargs = 1},
	{"webhook", "list", cmd_webhook_list, "webhook list", .nargs = 0},
	{"webhook", "remove", cmd_webhook_remove, "webhook remove ID", .nargs = 1},
	{"webhook", "rotate", cmd_webhook_rotate, "webhook rotate ID", .nargs = 1},
	{"webhook", "deliveries", cmd_webhook_deliveries,
	 "webhook deliveries [--failed] [--limit N]", .nargs = 0},
	{"webhook", "retry", cmd_webhook_retry, "webhook retry ID", .nargs = 1},
};

#define NCMDS ((int)(sizeof cmds / sizeof cmds[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sessionctl [--db PATH] COMMAND ...\n"
	           "The database is --db PATH or $SESSIONS_DB. Commands:\n");
	for (int i = 0; i < NCMDS; i++)
		fprintf(f, "  %s\n", cmds[i].usage);
	fprintf(f, "AMOUNT is a decimal such as 100.00. Output is JSON; errors go to stderr.\n");
}

static int is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char *args[64];
	char err[256];
	struct db *db;
	int n = 0, rc;

	/* --db may stand anywhere; everything else is the command. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (n < (int)(sizeof args / sizeof args[0]))
			args[n++] = argv[i];
	}
	if (n == 0 || is_help(args[0])) {
		usage(n ? stdout : stderr);
		return n ? 0 : EXIT_USAGE;
	}
	for (int i = 0; i < NCMDS; i++) {
		int words = cmds[i].group ? 2 : 1;

		if (cmds[i].group ? n < 2 || strcmp(args[0], cmds[i].group) ||
		                            strcmp(args[1], cmds[i].name)
		                  : strcmp(args[0], cmds[i].name))
			continue;
		current = &cmds[i];
		for (int k = words; k < n; k++) {
			if (is_help(args[k])) {
				printf("usage: sessionctl %s\n", cmds[i].usage);
				return 0;
			}
		}
		if (n - words < cmds[i].nargs)
			return usage_error("missing argument");
		if (conf_load(path, err, sizeof err) != 0) {
			fprintf(stderr, "sessionctl: %s\n", err);
			return 1;
		}
		if (cmds[i].no_db)
			return cmds[i].run(NULL, n - words, args + words);
		if (!path)
			path = conf_str(CONF_DATABASE);
		if (!path || !*path)
			return usage_error("no database: pass --db PATH, set SESSIONS_DB, or "
			                   "set database in the configuration file");
		db_path = path;
		if (db_open(path, &db, err, sizeof err) != DB_OK) {
			fprintf(stderr, "sessionctl: %s\n", err);
			return 1;
		}
		rc = cmds[i].run(db, n - words, args + words);
		db_close(db);
		return rc;
	}
	fprintf(stderr, "sessionctl: unknown command '%s'\n", args[0]);
	usage(stderr);
	return EXIT_USAGE;
}
