/* session.test.c: the session library's rules, each on both sides of its boundary. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "tap.h"

/* db/upgrade/ in order, as make compiles them in (build/gen/schema.c). */
extern const char *const db_upgrades[];

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MIN 60000LL

static char dir[] = "/tmp/session-unit-XXXXXX";
static char path[256];

static struct db *open_db(void)
{
	struct db *db;
	char err[256];

	if (db_open(path, &db, err, sizeof err) != DB_OK) {
		printf("not ok - open %s: %s\n", path, err);
		exit(1);
	}
	return db;
}

/* Runs SQL on a second connection to file, as an attacker or a corrupting bug would. */
static int64_t sql_int_in(const char *file, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t v = -1;

	sqlite3_open(file, &h);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return v;
}

static int64_t sql_int(const char *sql)
{
	return sql_int_in(path, sql);
}

/* The same on the chat file beside the database. */
static int64_t chat_int(const char *sql)
{
	char file[300];

	db_chat_path(path, file, sizeof file);
	return sql_int_in(file, sql);
}

/* Whether the database file or its WAL holds these bytes anywhere. */
static int file_contains(const char *db, const char *needle)
{
	static const char *const suffix[] = {"", "-wal"};
	int found = 0;

	for (int i = 0; i < 2 && !found; i++) {
		char name[300];
		FILE *f;
		char *buf;
		long len;

		snprintf(name, sizeof name, "%s%s", db, suffix[i]);
		if (!(f = fopen(name, "rb")))
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len)
			found = memmem(buf, (size_t)len, needle, strlen(needle)) != NULL;
		free(buf);
		fclose(f);
	}
	return found;
}

static int64_t wallet(struct db *db, const char *user, int64_t *frozen)
{
	int64_t balance = -1, f;

	db_wallet_show(db, user, &balance, frozen ? frozen : &f);
	return balance;
}

static void book(struct db *db, const char *user, enum db_type type, int64_t minutes,
                 int64_t price, int64_t starts, struct db_booking *b)
{
	struct db_booking_req req = {user, "Vega", type, minutes, price, starts};
	int err = db_book(db, &req, starts, b);

	if (err != DB_OK) {
		printf("not ok - book: %s\n", db_errmsg(db));
		exit(1);
	}
}

static void test_money(void)
{
	static const struct { const char *s; int ok; int64_t v; } cases[] = {
		{"0", 1, 0}, {"0.00", 1, 0}, {"97", 1, 9700}, {"97.5", 1, 9750},
		{"97.05", 1, 9705}, {"1000000.00", 1, DB_AMOUNT_MAX},
		{"1000000.01", 0, 0}, {"1.234", 0, 0}, {"-1.00", 0, 0}, {"+1", 0, 0},
		{"", 0, 0}, {".5", 0, 0}, {"1.", 0, 0}, {"1e3", 0, 0}, {" 1", 0, 0},
		{"1 ", 0, 0}, {"99999999999999999999", 0, 0}, {"1,00", 0, 0},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = -1;
		int err = db_money_parse(cases[i].s, &v);

		CHECK(cases[i].ok ? err == DB_OK && v == cases[i].v : err == DB_ERR_INVALID,
		      "amount '%s' is %s", cases[i].s, cases[i].ok ? "read exactly" : "refused");
	}
	db_money_format(9700, buf);
	CHECK(strcmp(buf, "97.00") == 0, "9700 minor units print as 97.00");
	db_money_format(5, buf);
	CHECK(strcmp(buf, "0.05") == 0, "5 minor units print as 0.05");
}

static void test_time(void)
{
	int64_t ms = 0;
	char buf[32];

	CHECK(db_time_parse("2026-01-01T00:00:00Z", &ms) == DB_OK && ms == T0,
	      "an ISO time with Z is read as UTC");
	CHECK(db_time_parse("2026-01-01T00:00:00", &ms) == DB_OK && ms == T0,
	      "an ISO time without a zone is UTC");
	CHECK(db_time_parse("2026-01-01T05:30:00+05:30", &ms) == DB_OK && ms == T0,
	      "an offset is applied");
	CHECK(db_time_parse("2026-01-01T00:00:00.250Z", &ms) == DB_OK && ms == T0 + 250,
	      "milliseconds are kept");
	CHECK(db_time_parse("2026-02-30T00:00:00Z", &ms) == DB_ERR_INVALID,
	      "30 February is refused");
	CHECK(db_time_parse("2026-01-01", &ms) == DB_ERR_INVALID, "a date alone is refused");
	CHECK(db_time_parse("tomorrow", &ms) == DB_ERR_INVALID, "words are refused");
	db_time_format(T0 + 5, buf);
	CHECK(strcmp(buf, "2026-01-01T00:00:00.005Z") == 0, "times print as ISO UTC with ms");
}

static void test_amounts(void)
{
	struct db_settlement s;

	db_settle_amounts(3000, 30, 0, MIN, 2000, &s);
	CHECK(s.billed_minutes == 0 && s.charged == 0 && s.refunded == 3000,
	      "no active time costs nothing");
	db_settle_amounts(3000, 30, 1, MIN, 2000, &s);
	CHECK(s.billed_minutes == 1 && s.charged == 100, "the first millisecond starts minute 1");
	db_settle_amounts(3000, 30, MIN, MIN, 2000, &s);
	CHECK(s.billed_minutes == 1, "exactly one minute bills one minute");
	db_settle_amounts(3000, 30, MIN + 1, MIN, 2000, &s);
	CHECK(s.billed_minutes == 2, "one minute and a millisecond bills two");
	db_settle_amounts(3000, 30, 30 * MIN, MIN, 2000, &s);
	CHECK(s.billed_minutes == 30 && s.charged == 3000 && s.refunded == 0,
	      "the whole paid time charges the whole price");
	db_settle_amounts(3000, 30, 45 * MIN, MIN, 2000, &s);
	CHECK(s.billed_minutes == 30 && s.charged == 3000 && s.billed_seconds == 1800,
	      "time past the paid minutes is never billed");
	db_settle_amounts(1000, 3, MIN, MIN, 2000, &s);
	CHECK(s.charged == 333 && s.refunded == 667, "a charge rounds down (333 of 1000 for 1 of 3)");
	CHECK(s.commission == 66 && s.released == 267,
	      "commission rounds down (66 of 333 at 20%%), the astrologer gets the rest");
	db_settle_amounts(1000, 3, MIN, MIN, 0, &s);
	CHECK(s.commission == 0 && s.released == 333, "no commission releases the whole charge");
	db_settle_amounts(1000, 3, MIN, MIN, 10000, &s);
	CHECK(s.commission == 333 && s.released == 0, "full commission releases nothing");
}

static void test_people(struct db *db)
{
	int64_t balance, frozen;

	CHECK(db_user_add(db, "Asha", 10000, T0) == DB_OK, "a customer is added with a balance");
	CHECK(db_user_add(db, "Ravi", 0, T0) == DB_OK, "a customer is added without one");
	CHECK(db_astrologer_add(db, "Vega", T0) == DB_OK, "an astrologer is added");
	CHECK(db_user_add(db, "Asha", 0, T0) == DB_ERR_EXISTS, "a taken name is refused");
	CHECK(db_astrologer_add(db, "Vega", T0) == DB_ERR_EXISTS,
	      "a taken astrologer name is refused");
	CHECK(db_user_add(db, "", 0, T0) == DB_ERR_INVALID, "an empty name is refused");
	CHECK(db_user_add(db, "bad\nname", 0, T0) == DB_ERR_INVALID,
	      "a name with a control character is refused");
	CHECK(db_user_add(db, "Neg", -1, T0) == DB_ERR_INVALID, "a negative balance is refused");
	CHECK(db_wallet_topup(db, "Ravi", 0, NULL, T0) == DB_ERR_INVALID, "a zero top-up is refused");
	CHECK(db_wallet_topup(db, "Nobody", 100, NULL, T0) == DB_ERR_NOT_FOUND,
	      "a top-up for an unknown customer is refused");
	CHECK(db_wallet_topup(db, "Ravi", 500, NULL, T0) == DB_OK &&
	      db_wallet_show(db, "Ravi", &balance, &frozen) == DB_OK && balance == 500 &&
	      frozen == 0, "a top-up lands in the wallet");
}

static void test_booking(struct db *db)
{
	struct db_booking_req req = {"Ravi", "Vega", DB_TYPE_CHAT, 10, 501, T0};
	struct db_booking b;
	int64_t frozen, bookings = sql_int("SELECT count(*) FROM bookings");

	CHECK(db_book(db, &req, T0, &b) == DB_ERR_FUNDS && b.user_token[0] == 0,
	      "a booking over the balance fails and yields no link");
	CHECK(wallet(db, "Ravi", &frozen) == 500 && frozen == 0 &&
	      sql_int("SELECT count(*) FROM bookings") == bookings,
	      "a failed booking changes nothing");
	req.price = 500;
	CHECK(db_book(db, &req, T0, &b) == DB_OK && wallet(db, "Ravi", &frozen) == 0 &&
	      frozen == 500, "a booking of exactly the balance freezes all of it");
	CHECK(strlen(b.user_token) == DB_TOKEN_LEN && strlen(b.astrologer_token) == DB_TOKEN_LEN &&
	      strcmp(b.user_token, b.astrologer_token) != 0,
	      "each participant gets a 43-character token of their own");
	CHECK(sql_int("SELECT count(*) FROM webrtc_sessions WHERE booking_id ="
	              " (SELECT max(id) FROM bookings)") == 1,
	      "the booking's trigger made its room");
	req.user = "Nobody";
	CHECK(db_book(db, &req, T0, &b) == DB_ERR_NOT_FOUND, "an unknown customer cannot book");
	req.user = "Asha";
	req.astrologer = "Nobody";
	CHECK(db_book(db, &req, T0, &b) == DB_ERR_NOT_FOUND, "an unknown astrologer is refused");
	req.astrologer = "Vega";
	req.minutes = 0;
	CHECK(db_book(db, &req, T0, &b) == DB_ERR_INVALID, "zero minutes are refused");
	req.minutes = DB_MINUTES_MAX + 1;
	CHECK(db_book(db, &req, T0, &b) == DB_ERR_INVALID, "too many minutes are refused");
	CHECK(sql_int("SELECT count(*) FROM bookings") == bookings + 1,
	      "refused bookings leave no row");
}

static void test_links(struct db *db)
{
	struct db_booking b;
	struct db_session s;
	enum db_role role;
	char fresh[DB_TOKEN_LEN + 1];
	int64_t start = T0 + 60 * MIN;

	book(db, "Asha", DB_TYPE_VOICE, 30, 3000, start, &b);
	CHECK(db_is_session_link_valid(db, b.user_token, start, &s, &role) == DB_OK &&
	      role == DB_ROLE_USER && s.type == DB_TYPE_VOICE && s.paid_minutes == 30 &&
	      strcmp(s.astrologer_name, "Vega") == 0, "the user's token proves the user");
	CHECK(db_is_session_link_valid(db, b.astrologer_token, start, &s, &role) == DB_OK &&
	      role == DB_ROLE_ASTROLOGER, "the astrologer's token proves the astrologer");
	CHECK(db_is_session_link_valid(db, "short", start, &s, &role) == DB_ERR_UNKNOWN_LINK,
	      "a malformed token is unknown");
	CHECK(db_is_session_link_valid(db, NULL, start, &s, &role) == DB_ERR_UNKNOWN_LINK,
	      "no token is unknown");
	strcpy(fresh, b.user_token);
	fresh[0] = fresh[0] == 'A' ? 'B' : 'A';
	CHECK(db_is_session_link_valid(db, fresh, start, &s, &role) == DB_ERR_UNKNOWN_LINK,
	      "a token one character off is unknown");
	CHECK(!file_contains(path, b.user_token) && !file_contains(path, b.astrologer_token),
	      "neither the database nor its WAL holds a token");
	CHECK(db_is_session_link_valid(db, b.user_token, start - 15 * MIN - 1, &s, &role) ==
	      DB_ERR_NOT_OPEN, "a link is closed until 15 minutes before the start");
	CHECK(db_is_session_link_valid(db, b.user_token, start - 15 * MIN, &s, &role) == DB_OK,
	      "and open from then");

	CHECK(db_link_reissue(db, b.session.id, DB_ROLE_USER, start, fresh) == DB_OK &&
	      strcmp(fresh, b.user_token) != 0, "a link can be reissued");
	CHECK(db_is_session_link_valid(db, b.user_token, start, &s, &role) == DB_ERR_UNKNOWN_LINK,
	      "the old link stops working");
	CHECK(db_is_session_link_valid(db, fresh, start, &s, &role) == DB_OK &&
	      role == DB_ROLE_USER, "the new one works");
	/* valid until start + paid 30 min + 30 min */
	CHECK(db_is_session_link_valid(db, fresh, start + 60 * MIN - 1, &s, &role) ==
	      DB_OK, "a link is valid in its last millisecond");
	CHECK(db_is_session_link_valid(db, fresh, start + 60 * MIN, &s, &role) ==
	      DB_ERR_EXPIRED && strcmp(s.id, b.session.id) == 0,
	      "and expired at link_valid_until, still naming its session");
	CHECK(db_session_get(db, b.session.id, &s) == DB_OK && s.status == DB_STATUS_SCHEDULED,
	      "a link check only reads: the sweep is what settles it");
	CHECK(db_link_reissue(db, "no-such-session", DB_ROLE_USER, start, fresh) ==
	      DB_ERR_NOT_FOUND, "reissuing for an unknown session is refused");
}

/* Both connected to the relay from from_ms, the relay beating until to_ms: what the bill counts. */
static void talk(struct db *db, const char *session_id, int64_t from_ms, int64_t to_ms)
{
	db_presence_join(db, session_id, DB_ROLE_USER, from_ms);
	db_presence_join(db, session_id, DB_ROLE_ASTROLOGER, from_ms);
	db_presence_beat(db, to_ms);
}

static void test_join_and_end(struct db *db)
{
	struct db_settlement st, again;
	struct db_booking b;
	struct db_session s;
	struct db_join j;
	enum db_role role;
	int64_t frozen, before = wallet(db, "Asha", NULL), earned0, earned, plat0;

	db_earnings_show(db, "Vega", &earned0);
	plat0 = sql_int("SELECT balance FROM accounts WHERE kind = 'platform'");
	book(db, "Asha", DB_TYPE_VIDEO, 30, 3000, T0, &b);
	CHECK(db_start_session(db, b.session.id, DB_ROLE_USER, T0 + 1000, &j) == DB_OK &&
	      !j.both_joined && j.session.status == DB_STATUS_SCHEDULED && !j.session.started_ms,
	      "one participant joining does not start the paid timer");
	CHECK(db_start_session(db, b.session.id, DB_ROLE_USER, T0 + 2000, &j) == DB_OK &&
	      j.already_joined && j.session.user_joined_ms == T0 + 1000,
	      "joining again is harmless and keeps the first join time");
	CHECK(db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, T0 + 5000, &j) == DB_OK &&
	      j.both_joined && j.started_now && j.session.status == DB_STATUS_ACTIVE &&
	      j.session.started_ms == T0 + 5000 && j.session.deadline_ms == T0 + 5000 + 30 * MIN,
	      "the second participant starts the session and its deadline");
	CHECK(db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, T0 + 6000, &j) == DB_OK &&
	      j.already_joined && !j.started_now && j.session.started_ms == T0 + 5000,
	      "a rejoin does not restart the timer");
	CHECK(sql_int("SELECT count(*) FROM session_events WHERE kind = 'joined' AND session_id ="
	              " (SELECT id FROM webrtc_sessions WHERE booking_id = (SELECT max(id) FROM bookings))")
	      == 2, "each participant's first join leaves one event");

	talk(db, b.session.id, T0 + 5000, T0 + 5000 + 10 * MIN + 1);
	CHECK(db_end_session(db, b.session.id, DB_REASON_USER_ENDED, DB_ACTOR_USER, T0 + 5000 + 10 * MIN + 1, &st)
	      == DB_OK && !st.already_ended && st.status == DB_STATUS_COMPLETED &&
	      st.billed_minutes == 11 && st.charged == 1100 && st.refunded == 1900 &&
	      st.commission == 220 && st.released == 880 && st.duration_seconds == 600 &&
	      st.billed_seconds == 600 && st.ended_by == DB_ACTOR_USER,
	      "ending after 10 minutes and 1 ms both connected bills 11 of 30 minutes, by the user");
	db_earnings_show(db, "Vega", &earned);
	CHECK(wallet(db, "Asha", &frozen) == before - 3000 + 1900 && earned == earned0 + 880 &&
	      sql_int("SELECT balance FROM accounts WHERE kind = 'platform'") == plat0 + 220,
	      "the refund, the earnings and the commission land in their accounts");
	CHECK(db_end_session(db, b.session.id, DB_REASON_ASTROLOGER_ENDED, DB_ACTOR_SYSTEM, T0 + 20 * MIN, &again)
	      == DB_OK && again.already_ended && again.charged == st.charged &&
	      again.reason == DB_REASON_USER_ENDED, "ending twice returns the first settlement");
	db_earnings_show(db, "Vega", &earned);
	CHECK(earned == earned0 + 880 &&
	      sql_int("SELECT count(*) FROM settlements WHERE session_id IN (SELECT id FROM"
	              " webrtc_sessions WHERE booking_id = (SELECT max(id) FROM bookings))") == 1,
	      "and moves no money");
	CHECK(db_is_session_link_valid(db, b.user_token, T0 + 11 * MIN, &s, &role) ==
	      DB_ERR_ENDED, "an ended session's link says so");
	CHECK(db_start_session(db, b.session.id, DB_ROLE_USER, T0 + 11 * MIN, &j) == DB_ERR_ENDED,
	      "an ended session cannot be joined");
	CHECK(db_end_session(db, "nope", DB_REASON_USER_ENDED, DB_ACTOR_SYSTEM, T0, &st) == DB_ERR_NOT_FOUND,
	      "ending an unknown session is refused");
	CHECK(db_end_session(db, b.session.id, DB_REASON_NONE, DB_ACTOR_SYSTEM, T0, &st) == DB_ERR_INVALID,
	      "an end needs a reason");

	/* Never both joined: a full refund. */
	before = wallet(db, "Asha", NULL);
	book(db, "Asha", DB_TYPE_CHAT, 10, 700, T0, &b);
	db_start_session(db, b.session.id, DB_ROLE_USER, T0, &j);
	CHECK(db_end_session(db, b.session.id, DB_REASON_USER_ENDED, DB_ACTOR_SYSTEM, T0 + MIN, &st) == DB_OK &&
	      st.status == DB_STATUS_CANCELLED && st.charged == 0 && st.refunded == 700 &&
	      wallet(db, "Asha", &frozen) == before,
	      "a session that never had both participants is refunded in full");

	/* Ended past its paid time: capped. */
	book(db, "Asha", DB_TYPE_CHAT, 5, 500, T0, &b);
	db_start_session(db, b.session.id, DB_ROLE_USER, T0, &j);
	db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, T0, &j);
	talk(db, b.session.id, T0, T0 + 9 * MIN);
	CHECK(db_end_session(db, b.session.id, DB_REASON_TIME_UP, DB_ACTOR_SYSTEM, T0 + 9 * MIN, &st) == DB_OK &&
	      st.billed_minutes == 5 && st.charged == 500 && st.duration_seconds == 300,
	      "a late end bills no more than the paid minutes");
}

static void test_expire(struct db *db)
{
	struct db_booking noshow, overtime;
	struct db_settlement st;
	struct db_join j;
	int expired, timed_out;
	int64_t start = T0 + 1000 * MIN, valid_until, due;

	/* Earlier tests left bookings behind: a sweep before this start settles them. */
	CHECK(db_expire(db, start - 16 * MIN, NULL, NULL, &expired, &timed_out) == DB_OK &&
	      expired > 0, "the sweep settles earlier bookings that ran out");
	book(db, "Asha", DB_TYPE_CHAT, 10, 100, start, &noshow);
	book(db, "Asha", DB_TYPE_VOICE, 10, 100, start, &overtime);
	db_start_session(db, overtime.session.id, DB_ROLE_USER, start, &j);
	db_start_session(db, overtime.session.id, DB_ROLE_ASTROLOGER, start, &j);
	valid_until = noshow.session.link_valid_until_ms;
	due = j.session.deadline_ms;
	talk(db, overtime.session.id, start, due - 1);

	CHECK(db_expire(db, due - 1, NULL, NULL, &expired, &timed_out) == DB_OK &&
	      expired == 0 && timed_out == 0, "an active session runs until its deadline");
	db_presence_beat(db, due);
	CHECK(db_expire(db, due, NULL, NULL, &expired, &timed_out) == DB_OK &&
	      expired == 0 && timed_out == 1, "and ends at it");
	CHECK(db_settlement_get(db, overtime.session.id, &st) == DB_OK &&
	      st.reason == DB_REASON_TIME_UP && st.billed_minutes == 10 && st.charged == 100,
	      "settled for its paid minutes with reason time_up");
	CHECK(db_expire(db, valid_until - 1, NULL, NULL, &expired, &timed_out) == DB_OK &&
	      expired == 0 && timed_out == 0, "a link does not expire a millisecond early");
	CHECK(db_expire(db, valid_until, NULL, NULL, &expired, &timed_out) == DB_OK &&
	      expired == 1 && timed_out == 0, "a link expires at link_valid_until");
	CHECK(db_settlement_get(db, noshow.session.id, &st) == DB_OK &&
	      st.status == DB_STATUS_EXPIRED && st.reason == DB_REASON_NO_SHOW && st.refunded == 100,
	      "an expired booking is refunded in full as a no-show");
	CHECK(db_expire(db, valid_until + MIN, NULL, NULL, &expired, &timed_out) == DB_OK &&
	      expired == 0 && timed_out == 0, "a second sweep does nothing");
}

/* The relay's timer, a link check and cron all end a due session through db_session_end_due. */
static void test_end_due(struct db *db)
{
	struct db_booking b;
	struct db_settlement st, again;
	struct db_session s;
	struct db_join j;
	int64_t start = T0 + 2000 * MIN;
	int ended;

	book(db, "Asha", DB_TYPE_VIDEO, 10, 1000, start, &b);
	db_start_session(db, b.session.id, DB_ROLE_USER, start, &j);
	db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, start + MIN, &j);
	talk(db, b.session.id, start + MIN, j.session.deadline_ms - 1);
	CHECK(db_session_end_due(db, b.session.id, j.session.deadline_ms - 1, &s, &st, &ended) ==
	      DB_OK && !ended && s.status == DB_STATUS_ACTIVE,
	      "a millisecond before the deadline nothing is due");
	db_presence_beat(db, j.session.deadline_ms);
	CHECK(db_session_end_due(db, b.session.id, j.session.deadline_ms, &s, &st, &ended) ==
	      DB_OK && ended && s.status == DB_STATUS_COMPLETED && s.end_reason == DB_REASON_TIME_UP &&
	      st.billed_minutes == 10 && st.charged == 1000,
	      "at the deadline it ends with time_up, billed its paid minutes");
	CHECK(db_session_end_due(db, b.session.id, j.session.deadline_ms + MIN, &s, &st, &ended) ==
	      DB_OK && !ended && s.status == DB_STATUS_COMPLETED,
	      "asking again ends nothing");
	CHECK(db_end_session(db, b.session.id, DB_REASON_USER_ENDED, DB_ACTOR_SYSTEM, j.session.deadline_ms + MIN,
	                     &again) == DB_OK && again.already_ended &&
	      again.reason == DB_REASON_TIME_UP && again.charged == 1000,
	      "a later End gets the one settlement back");

	book(db, "Asha", DB_TYPE_CHAT, 10, 1000, start, &b);
	db_start_session(db, b.session.id, DB_ROLE_USER, start, &j);
	db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, start, &j);
	talk(db, b.session.id, start, j.session.deadline_ms + 1);
	CHECK(db_end_session(db, b.session.id, DB_REASON_USER_ENDED, DB_ACTOR_USER, j.session.deadline_ms + 1,
	                     &st) == DB_OK && !st.already_ended && st.reason == DB_REASON_TIME_UP &&
	      st.charged == 1000 && st.ended_by == DB_ACTOR_SYSTEM,
	      "End pressed after the deadline, before anyone ended it, settles as time_up, by the system");
}

static int count_msgs(void *arg, const struct db_chat *m)
{
	int64_t *last = arg;

	if (m->seq != *last + 1)
		*last = -1000;
	else
		*last = m->seq;
	return 0;
}

/* The reactions of message 2 as "by emoji;" in order, into arg (a buffer of 128). */
static int reactions_of_2(void *arg, const struct db_chat *m)
{
	char *out = arg;

	for (int i = 0; m->seq == 2 && i < m->nreactions; i++)
		snprintf(out + strlen(out), 128 - strlen(out), "%s %s;", db_role_name(m->reactions[i].by),
		         m->reactions[i].emoji);
	return 0;
}

static void test_chat(struct db *db)
{
	struct db_settlement st;
	struct db_booking b, other;
	struct db_chat m;
	struct db *c;
	char big[DB_CHAT_MAX * 2 + 2], err[256], reacts[128] = "";
	int dup, changed;
	int64_t last = 0;

	book(db, "Asha", DB_TYPE_CHAT, 10, 0, T0, &b);
	CHECK(db_chat_append(db, b.session.id, DB_ROLE_USER, "hello", "c1", T0, &m, &dup) ==
	      DB_ERR_STATE, "the database's own handle stores no chat: chat has a file of its own");
	CHECK(db_chat_open(path, &c, err, sizeof err) == DB_OK, "the chat file opens beside the database");
	if (!c)
		return;
	*db_config(c) = *db_config(db);
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "hello", "c1", T0, &m, &dup) ==
	      DB_OK && m.seq == 1 && !dup, "the first message is seq 1");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_ASTROLOGER, "namaste", "c2", T0, &m, &dup)
	      == DB_OK && m.seq == 2 && m.sender == DB_ROLE_ASTROLOGER, "the reply is seq 2");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "hello", "c1", T0 + 5, &m, &dup) ==
	      DB_OK && dup && m.seq == 1 && m.at_ms == T0, "a resent client id lands once");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_ASTROLOGER, "mine", "c1", T0 + 6, &m, &dup) ==
	      DB_OK && !dup && m.seq == 3 && m.sender == DB_ROLE_ASTROLOGER,
	      "the other side's message with the same client id is its own, not swallowed");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "no id", NULL, T0, &m, &dup) ==
	      DB_OK && m.seq == 4, "a message without a client id is stored");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "", "c4", T0, &m, &dup) ==
	      DB_ERR_INVALID, "an empty message is refused");
	memset(big, 'a', DB_CHAT_MAX);
	big[DB_CHAT_MAX] = 0;
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, big, "c5", T0, &m, &dup) == DB_OK,
	      "a message of exactly 4000 characters is stored");
	big[DB_CHAT_MAX] = 'a';
	big[DB_CHAT_MAX + 1] = 0;
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, big, "c6", T0, &m, &dup) ==
	      DB_ERR_INVALID, "4001 characters are refused");
	for (int i = 0; i < DB_CHAT_MAX; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2); /* é: 2 bytes, 1 character */
	big[2 * DB_CHAT_MAX] = 0;
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, big, "c7", T0, &m, &dup) == DB_OK,
	      "the limit counts characters, not bytes");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "\xff\xfe", "c8", T0, &m, &dup) ==
	      DB_ERR_INVALID, "bytes that are not UTF-8 are refused");
	CHECK(db_chat_history(c, b.session.id, 0, 100, count_msgs, &last) == DB_OK && last == 6,
	      "history replays every message once, in order");
	last = 3;
	CHECK(db_chat_history(c, b.session.id, 3, 100, count_msgs, &last) == DB_OK && last == 6,
	      "history resumes after a given seq");
	CHECK(db_chat_append(c, "nope", DB_ROLE_USER, "x", NULL, T0, &m, &dup) ==
	      DB_ERR_NOT_FOUND, "a message for an unknown session is refused");
	/* Not started: the small allowance (20 a participant) is used up by now for the user. */
	for (int i = 0; i < 20; i++)
		db_chat_append(c, b.session.id, DB_ROLE_USER, "more", NULL, T0, &m, &dup);
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "one too many", "c10", T0, &m, &dup) ==
	      DB_ERR_LIMIT && chat_int("SELECT count(*) FROM chat_messages WHERE client_id = 'c10'") == 0,
	      "before both have joined a participant's allowance is small, and enforced in the write");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "hello", "c1", T0 + 9, &m, &dup) ==
	      DB_OK && dup && m.seq == 1, "a resend still finds its stored message at the cap");
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_ASTROLOGER, "my turn", NULL, T0, &m, &dup) ==
	      DB_OK, "the other side's allowance is its own");
	CHECK(chat_int("SELECT count(*) FROM chat_rooms r WHERE"
	               " user_messages = (SELECT count(*) FROM chat_messages WHERE room = r.id AND sender = 'user') AND"
	               " user_bytes = (SELECT sum(length(CAST(body AS BLOB))) FROM chat_messages"
	               "               WHERE room = r.id AND sender = 'user') AND"
	               " astrologer_messages = (SELECT count(*) FROM chat_messages"
	               "                        WHERE room = r.id AND sender = 'astrologer') AND"
	               " astrologer_bytes = (SELECT sum(length(CAST(body AS BLOB))) FROM chat_messages"
	               "                     WHERE room = r.id AND sender = 'astrologer')")
	      == chat_int("SELECT count(*) FROM chat_rooms") && chat_int("SELECT count(*) FROM chat_rooms") > 0,
	      "the totals the caps read match the messages stored");
	CHECK(db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "👍", 1, T0, &changed) == DB_OK && changed &&
	      db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "👍", 1, T0, &changed) == DB_OK && !changed &&
	      chat_int("SELECT count(*) FROM chat_reactions") == 1,
	      "a reaction is stored once: putting it again changes nothing");
	CHECK(db_chat_react(c, b.session.id, DB_ROLE_ASTROLOGER, 2, "👍", 1, T0 + 1, &changed) == DB_OK &&
	      changed && db_chat_react(c, b.session.id, DB_ROLE_ASTROLOGER, 2, "❤️", 1, T0 + 2, &changed) ==
	      DB_OK && chat_int("SELECT count(*) FROM chat_reactions") == 3,
	      "the other side's same emoji is its own, and so is each other emoji");
	CHECK(db_chat_history(c, b.session.id, 1, 1, reactions_of_2, reacts) == DB_OK &&
	      !strcmp(reacts, "user 👍;astrologer 👍;astrologer ❤️;"),
	      "history gives each message its reactions, oldest first");
	CHECK(db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "👍", 0, T0, &changed) == DB_OK && changed &&
	      db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "👍", 0, T0, &changed) == DB_OK && !changed &&
	      chat_int("SELECT count(*) FROM chat_reactions WHERE sender = 'user'") == 0,
	      "taking one back deletes its row; taking back what is not there changes nothing");
	CHECK(db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "🦄", 1, T0, &changed) == DB_ERR_INVALID &&
	      db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "👍👍", 1, T0, &changed) == DB_ERR_INVALID &&
	      db_chat_react(c, b.session.id, DB_ROLE_USER, 2, NULL, 1, T0, &changed) == DB_ERR_INVALID &&
	      db_chat_react(c, b.session.id, DB_ROLE_USER, 999, "👍", 1, T0, &changed) == DB_ERR_NOT_FOUND &&
	      db_chat_react(c, "nope", DB_ROLE_USER, 2, "👍", 1, T0, &changed) == DB_ERR_NOT_FOUND &&
	      chat_int("SELECT count(*) FROM chat_reactions") == 2,
	      "an emoji outside the set, a missing message or session are refused, and store nothing");
	db_end_session(db, b.session.id, DB_REASON_USER_ENDED, DB_ACTOR_USER, T0 + MIN, &st);
	CHECK(db_chat_append(c, b.session.id, DB_ROLE_USER, "too late", "c9", T0 + MIN, &m, &dup) ==
	      DB_ERR_ENDED && chat_int("SELECT count(*) FROM chat_messages WHERE client_id = 'c9'") == 0,
	      "once the session is over nothing more is stored, checked in the write itself");
	CHECK(db_chat_react(c, b.session.id, DB_ROLE_USER, 2, "😮", 1, T0 + MIN, &changed) == DB_ERR_ENDED &&
	      db_chat_react(c, b.session.id, DB_ROLE_ASTROLOGER, 2, "👍", 0, T0 + MIN, &changed) == DB_ERR_ENDED &&
	      chat_int("SELECT count(*) FROM chat_reactions") == 2,
	      "... nor is a reaction put or taken back");
	{
		struct db_booking batch;
		struct db_join jn;
		struct db_chat first;
		int64_t cap = db_config(c)->chat_max_messages;

		book(db, "Asha", DB_TYPE_CHAT, 10, 0, T0, &batch);
		db_start_session(db, batch.session.id, DB_ROLE_USER, T0, &jn);
		db_start_session(db, batch.session.id, DB_ROLE_ASTROLOGER, T0, &jn);
		db_config(c)->chat_max_messages = 2;
		CHECK(db_tx_begin(c) == DB_OK &&
		      db_chat_append(c, batch.session.id, DB_ROLE_USER, "one", "t1", T0, &first, &dup) == DB_OK &&
		      db_chat_append(c, batch.session.id, DB_ROLE_USER, "one", "t1", T0, &m, &dup) == DB_OK &&
		      dup && m.seq == first.seq &&
		      db_chat_append(c, batch.session.id, DB_ROLE_ASTROLOGER, "two", "t1", T0, &m, &dup) == DB_OK &&
		      !dup && m.seq == first.seq + 1 &&
		      db_chat_append(c, batch.session.id, DB_ROLE_USER, "three", "t3", T0, &m, &dup) == DB_OK &&
		      m.seq == first.seq + 2 &&
		      db_chat_append(c, batch.session.id, DB_ROLE_USER, "four", "t4", T0, &m, &dup) == DB_ERR_LIMIT &&
		      db_tx_commit(c) == DB_OK,
		      "in one transaction of many messages seqs follow on, resends land once and the caps count what it stored");
		CHECK(chat_int("SELECT count(*) FROM chat_messages WHERE client_id IN ('t1', 't3', 't4')") == 3,
		      "... and the file holds each message once");
		db_config(c)->chat_max_messages = cap;
	}
	book(db, "Asha", DB_TYPE_CHAT, 10, 0, T0, &other);
	db_set_busy_timeout(db, 0);
	CHECK(db_tx_begin(c) == DB_OK &&
	      db_chat_append(c, other.session.id, DB_ROLE_USER, "held", "h1", T0, &m, &dup) == DB_OK &&
	      db_end_session(db, other.session.id, DB_REASON_USER_ENDED, DB_ACTOR_USER, T0, &st) == DB_OK,
	      "a chat write's open transaction holds no lock on the database: an end settles meanwhile");
	CHECK(db_tx_commit(c) == DB_OK && chat_int("SELECT count(*) FROM chat_messages WHERE client_id = 'h1'") == 1,
	      "... and the message, checked against the database as its transaction began, is stored");
	CHECK(db_chat_append(c, other.session.id, DB_ROLE_USER, "after", "h2", T0, &m, &dup) == DB_ERR_ENDED,
	      "the next write sees the end");
	db_set_busy_timeout(db, 5000);
	CHECK(sql_int("SELECT count(*) FROM sqlite_master WHERE name LIKE 'chat%'") == 0,
	      "the database holds no chat tables");
	db_close(c);
}

static void test_ledger(struct db *db)
{
	int problems;

	CHECK(db_ledger_check(db, NULL, NULL, &problems) == DB_OK && problems == 0,
	      "the ledger holds after every operation above");
	sql_int("UPDATE accounts SET balance = balance + 1"
	        " WHERE kind = 'platform' RETURNING 1");
	CHECK(db_ledger_check(db, NULL, NULL, &problems) == DB_OK && problems >= 2,
	      "a balance changed behind the ledger's back is caught");
	sql_int("UPDATE accounts SET balance = balance - 1 WHERE kind = 'platform' RETURNING 1");
	CHECK(db_ledger_check(db, NULL, NULL, &problems) == DB_OK && problems == 0,
	      "and the check passes again once it is put right");
	CHECK(sql_int("INSERT INTO settlements(session_id, txn_id, billed_minutes, charged,"
	              " refunded, commission, released, created_ms) SELECT session_id, txn_id + 1000,"
	              " 0, 0, 0, 0, 0, 0 FROM settlements LIMIT 1 RETURNING 1") == -1,
	      "the database itself refuses a second settlement");
	CHECK(sql_int("UPDATE ledger_entries SET amount = 1 RETURNING 1") == -1,
	      "ledger entries cannot be rewritten");
}

static void test_store(void)
{
	char key[300];
	struct stat sb;
	struct db *db;
	char err[256];
	int latest = 1;

	snprintf(key, sizeof key, "%s.key", path);
	CHECK(stat(key, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32,
	      "the token key is 32 bytes with mode 0600");
	while (db_upgrades[latest - 1])
		latest++;
	CHECK(sql_int("PRAGMA user_version") == latest && sql_int("PRAGMA journal_mode = WAL") != -1,
	      "the schema version is recorded (1 and one for each upgrade: %d)", latest);
	chmod(key, 0644);
	CHECK(db_open(path, &db, err, sizeof err) == DB_ERR_STORE && strstr(err, "chmod 600"),
	      "a key others can read is refused");
	chmod(key, 0600);
	sql_int("PRAGMA user_version = 99");
	CHECK(db_open(path, &db, err, sizeof err) == DB_ERR_STORE && strstr(err, "version 99"),
	      "a database newer than the program is refused");
	sql_int("PRAGMA user_version = 5");
}

/* API keys and Idempotency-Key records, on the library's own clock. */
static void test_api(struct db *db)
{
	char key[DB_APIKEY_LEN + 1], other[DB_APIKEY_LEN + 1];
	struct db_apikey k;
	struct db_idem c, d;
	struct db_idem_req q = {0, "order-1", "book", "{\"a\":1}", 7};

	CHECK(db_apikey_add(db, "shop", T0, key) == DB_OK && strncmp(key, "sk_", 3) == 0 &&
	      strlen(key) == DB_APIKEY_LEN, "a key is sk_ and 43 characters");
	CHECK(db_apikey_add(db, "shop", T0, other) == DB_ERR_EXISTS && other[0] == '\0',
	      "a taken key name is refused and no key is shown");
	CHECK(!file_contains(path, key + 3), "the key itself is not stored");
	CHECK(db_apikey_verify(db, key, &k) == DB_OK && strcmp(k.name, "shop") == 0 && !k.revoked_ms,
	      "the key proves its name");
	key[10] ^= 1;
	CHECK(db_apikey_verify(db, key, &k) == DB_ERR_NOT_FOUND, "a changed key is unknown");
	key[10] ^= 1;
	CHECK(db_apikey_verify(db, "sk_short", &k) == DB_ERR_NOT_FOUND, "a malformed key is unknown");
	q.key_id = 1;

	CHECK(db_idem_claim(db, &q, T0, &c) == DB_OK && c.state == DB_IDEM_NEW, "a new key is claimed");
	CHECK(db_idem_claim(db, &q, T0 + DB_IDEM_LEASE_MS - 1, &d) == DB_OK && d.state == DB_IDEM_RUNNING,
	      "within its lease the claim says running");
	CHECK(db_tx_begin(db) == DB_OK && db_idem_finish(db, &q, &c, 201, "{\"ok\":true}") == DB_OK &&
	      db_tx_commit(db) == DB_OK, "the answer is stored with its claim");
	CHECK(db_idem_claim(db, &q, T0 + 1000, &d) == DB_OK && d.state == DB_IDEM_DONE &&
	      d.status == 201 && d.body && strcmp(d.body, "{\"ok\":true}") == 0, "the same request replays it");
	free(d.body);
	CHECK(!file_contains(path, "{\"ok\":true}"), "the stored answer is sealed");
	q.body = "{\"a\":2}";
	CHECK(db_idem_claim(db, &q, T0 + 1000, &d) == DB_OK && d.state == DB_IDEM_MISMATCH,
	      "another body with the key is a mismatch");
	q.body = "{\"a\":1}";
	CHECK(db_idem_claim(db, &q, T0 + DB_IDEM_KEEP_MS, &d) == DB_OK && d.state == DB_IDEM_NEW,
	      "after 24 hours the key is new again");
	CHECK(db_idem_claim(db, &q, T0 + DB_IDEM_KEEP_MS + DB_IDEM_LEASE_MS, &c) == DB_OK &&
	      c.state == DB_IDEM_NEW, "a claim past its lease is taken over");
	CHECK(db_tx_begin(db) == DB_OK && db_idem_finish(db, &q, &d, 200, "{}") == DB_ERR_STATE,
	      "the request that lost its claim cannot store an answer");
	db_tx_rollback(db);
	CHECK(db_idem_release(db, &q, &c) == DB_OK &&
	      db_idem_claim(db, &q, T0 + DB_IDEM_KEEP_MS + DB_IDEM_LEASE_MS, &d) == DB_OK &&
	      d.state == DB_IDEM_NEW, "a released claim frees the key");

	CHECK(db_apikey_revoke(db, "shop", T0) == DB_OK && db_apikey_verify(db, key, &k) == DB_OK &&
	      k.revoked_ms == T0, "a revoked key is known, and marked revoked");
	CHECK(db_apikey_revoke(db, "shop", T0) == DB_ERR_STATE, "revoking twice is refused");
	CHECK(db_apikey_revoke(db, "nobody", T0) == DB_ERR_NOT_FOUND, "revoking an unknown key is refused");
}

/* Entries of the files directory: stored files and temporary ones alike. */
static int files_on_disk(void)
{
	char cmd[300];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A %s/sessions-files | wc -l", dir);
	if ((f = popen(cmd, "r"))) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void test_files(struct db *db)
{
	static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	static const char html[] = "<!doctype html><p>hi";
	unsigned char body[1000];
	struct db_settlement st;
	struct db_booking b;
	struct db_upload *u;
	struct db_file f, got;
	struct db_chat m;
	struct db *c;
	char err[256];
	int64_t purged;
	struct db_swept stray;
	int dup;

	book(db, "Asha", DB_TYPE_CHAT, 10, 0, T0, &b);
	if (db_chat_open(path, &c, err, sizeof err) != DB_OK)
		return;
	*db_config(c) = *db_config(db);
	db_config(c)->file_max_bytes = 2000;
	db_config(c)->session_files_max_bytes = 3000;
	db_config(c)->file_retention_ms = 2 * 86400000LL;
	memset(body, 'x', sizeof body);
	memcpy(body, png, sizeof png);
	CHECK(db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 3) == DB_OK &&
	      db_upload_write(c, u, body + 3, sizeof body - 3) == DB_OK &&
	      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, "../x/chart\x01.png", T0, &f) == DB_OK &&
	      f.type == DB_FILE_PNG && f.bytes == 1000 && strcmp(f.name, "chart_.png") == 0 && files_on_disk() == 1,
	      "an upload written in pieces is stored as one file under its cleaned name");
	CHECK(db_file_get(c, b.session.id, f.id, &got) == DB_OK && strcmp(got.storage, f.storage) == 0 &&
	      db_file_get(c, "other", f.id, &got) == DB_ERR_NOT_FOUND, "it is found in its session only");
	CHECK(db_upload_begin(c, path, &u) == DB_OK &&
	      db_upload_write(c, u, html, sizeof html - 1) == DB_ERR_FILE_TYPE && (db_upload_abort(u), files_on_disk() == 1),
	      "bytes that are not an allowed type are refused as they arrive, and the aborted upload leaves nothing");
	CHECK(db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, sizeof body) == DB_OK &&
	      db_upload_write(c, u, body, sizeof body) == DB_OK && db_upload_write(c, u, body, 1) == DB_ERR_TOO_LARGE &&
	      (db_upload_abort(u), files_on_disk() == 1), "a byte past file_max_bytes is refused");
	CHECK(db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, sizeof body) == DB_OK &&
	      db_upload_write(c, u, body, sizeof body) == DB_OK &&
	      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, "two.png", T0, &got) == DB_OK &&
	      db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 8) == DB_OK &&
	      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, "one more.png", T0, &got) == DB_ERR_FILES_FULL &&
	      files_on_disk() == 2, "the session's cap is checked as the file is recorded; a refused one leaves nothing");
	CHECK(db_chat_append_file(c, b.session.id, DB_ROLE_ASTROLOGER, f.id, "f0", T0, &m, &dup) == DB_ERR_NOT_FOUND &&
	      db_chat_append_file(c, b.session.id, DB_ROLE_USER, f.id, "f1", T0, &m, &dup) == DB_OK &&
	      m.file_id == f.id && m.file_type == DB_FILE_PNG && m.file_bytes == 1000 &&
	      strcmp(m.body, "chart_.png") == 0 &&
	      db_chat_append_file(c, b.session.id, DB_ROLE_USER, f.id, "f1", T0, &m, &dup) == DB_OK && dup &&
	      db_chat_append_file(c, b.session.id, DB_ROLE_USER, f.id, "f2", T0, &m, &dup) == DB_ERR_NOT_FOUND,
	      "only the uploader announces a file, once; a resend answers the first copy");
	CHECK(db_files_purge(c, path, T0 + 86400000LL, &purged, &stray) == DB_OK && purged == 1 && files_on_disk() == 1,
	      "a day on, the upload nobody announced goes and the announced one stays");
	CHECK(db_files_purge(c, path, T0 + 2 * 86400000LL, &purged, &stray) == DB_OK && purged == 1 && files_on_disk() == 0 &&
	      db_file_get(c, b.session.id, f.id, &got) == DB_ERR_GONE &&
	      chat_int("SELECT count(*) FROM chat_messages m JOIN chat_files f ON f.id = m.file_id"
	               " WHERE f.purged_ms IS NOT NULL") == 1,
	      "at file_retention the announced one goes too; its row says gone and its message stays");
	{
		int stored = 0;

		/* More than one pass of the purge's batch (64). */
		for (int i = 0; i < 70; i++)
			stored += db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 8) == DB_OK &&
			          db_upload_finish(c, u, b.session.id, DB_ROLE_ASTROLOGER, "p.png", T0, &got) == DB_OK;
		CHECK(stored == 70 && files_on_disk() == 70 &&
		      db_files_purge(c, path, T0 + 86400000LL, &purged, &stray) == DB_OK && purged == 70 && files_on_disk() == 0,
		      "a purge deletes every file due, however many passes its batches take");
	}
	{
		char name[400] = "";

		for (int i = 0; i < 100; i++)
			strcat(name, "\xc3\xa9"); /* é: 2 bytes */
		CHECK(db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 8) == DB_OK &&
		      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, name, T0, &got) == DB_OK &&
		      strlen(got.name) == DB_FILE_NAME_MAX && strncmp(got.name, name, DB_FILE_NAME_MAX) == 0,
		      "a long name is cut at a character within 120 bytes");
		CHECK(db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 8) == DB_OK &&
		      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, "bad\xff.png", T0, &got) == DB_ERR_INVALID &&
		      db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 8) == DB_OK &&
		      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, "...", T0, &got) == DB_OK &&
		      strcmp(got.name, "file") == 0 && files_on_disk() == 2,
		      "a name that is not UTF-8 is refused; one with nothing left is called file");
		db_files_purge(c, path, T0 + 86400000LL, &purged, &stray);
	}
	db_end_session(db, b.session.id, DB_REASON_USER_ENDED, DB_ACTOR_USER, T0 + MIN, &st);
	CHECK(db_upload_begin(c, path, &u) == DB_OK && db_upload_write(c, u, body, 8) == DB_OK &&
	      db_upload_finish(c, u, b.session.id, DB_ROLE_USER, "late.png", T0 + MIN, &got) == DB_ERR_ENDED &&
	      files_on_disk() == 0, "an ended session takes no upload");
	db_close(c);
}

int main(void)
{
	struct db *db;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/sessions.db", dir);
	test_money();
	test_time();
	test_amounts();
	db = open_db();
	CHECK(db_config(db)->minute_ms == MIN || getenv("SESSIONS_MINUTE_MS"),
	      "a paid minute is 60 seconds by default");
	db_config(db)->minute_ms = MIN;
	db_config(db)->grace_ms = 2 * MIN;
	db_config(db)->opens_before_ms = 15 * MIN;
	db_config(db)->valid_after_ms = 30 * MIN;
	db_config(db)->commission_bps = 2000;
	db_config(db)->empty_timeout_ms = 3 * MIN;
	db_config(db)->no_show_ms = 10 * MIN;
	db_config(db)->chat_max_messages = 1000;
	db_config(db)->chat_max_bytes = 1 << 20;
	db_config(db)->chat_before_start_messages = 20;
	test_people(db);
	test_booking(db);
	test_links(db);
	test_join_and_end(db);
	test_expire(db);
	test_end_due(db);
	test_chat(db);
	test_files(db);
	test_ledger(db);
	test_api(db);
	db_close(db);
	test_store();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	TAP_EXIT();
}
