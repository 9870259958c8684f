/* rules.test.c: each session rule of db/rules.c a millisecond either side of its boundary. */
#include <string.h>

#include "db.h"
#include "tap.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MIN 60000LL

static const struct db_config config = {
	.commission_bps = 2000,
	.grace_ms = 2 * MIN,
	.turn_credential_ms = 10 * MIN,
	.opens_before_ms = 15 * MIN,
	.valid_after_ms = 30 * MIN,
	.minute_ms = MIN,
	.empty_timeout_ms = 3 * MIN,
	.no_show_ms = 10 * MIN,
	.chat_max_messages = 1000,
	.chat_max_bytes = 1 << 20,
	.chat_before_start_messages = 20,
	.recording_retention_ms = 30 * 24 * 60 * MIN,
};

/* A 30-minute booking starting at T0, as the library would have stored it. */
static struct db_session booked(void)
{
	struct db_session s;

	memset(&s, 0, sizeof s);
	s.status = DB_STATUS_SCHEDULED;
	s.paid_minutes = 30;
	s.scheduled_start_ms = T0;
	db_link_window(&config, T0, 30, &s.link_opens_ms, &s.link_valid_until_ms);
	return s;
}

static void test_link_window(void)
{
	struct db_session s = booked();

	CHECK(s.link_opens_ms == T0 - 15 * MIN && s.link_valid_until_ms == T0 + 60 * MIN,
	      "a link opens 15 minutes before the start and lasts 30 after the paid time");
	CHECK(db_session_link_verdict(&config, &s, T0 - 15 * MIN - 1) == DB_ERR_NOT_OPEN,
	      "a millisecond before it opens, the link is not open");
	CHECK(db_session_link_verdict(&config, &s, T0 - 15 * MIN) == DB_OK,
	      "at the moment it opens, it works");
	CHECK(db_session_link_verdict(&config, &s, T0 + 60 * MIN - 1) == DB_OK,
	      "in its last millisecond it works");
	CHECK(db_session_link_verdict(&config, &s, T0 + 60 * MIN) == DB_ERR_EXPIRED,
	      "at link_valid_until it has expired");
}

static void test_joined(void)
{
	struct db_session s = booked();

	CHECK(!db_session_has_joined(&s, DB_ROLE_USER) && !db_session_has_joined(&s, DB_ROLE_ASTROLOGER),
	      "nobody has joined a fresh booking");
	s.astrologer_joined_ms = T0;
	CHECK(!db_session_has_joined(&s, DB_ROLE_USER) && db_session_has_joined(&s, DB_ROLE_ASTROLOGER),
	      "a join counts for its own role only");
}

static void test_deadline(void)
{
	struct db_session s = booked();
	enum db_reason why;

	CHECK(db_session_deadline_ms(&config, &s) == 0, "a session not started has no deadline");
	CHECK(db_session_due_ms(&config, &s, T0, &why) == T0 + 60 * MIN && why == DB_REASON_NO_SHOW,
	      "a booking nobody started ends as a no-show when its link runs out");
	CHECK(db_session_due(&config, &s, T0 + 60 * MIN - 1) == DB_REASON_NONE &&
	      db_session_due(&config, &s, T0 + 60 * MIN) == DB_REASON_NO_SHOW,
	      "... not a millisecond before");

	s.status = DB_STATUS_ACTIVE;
	s.user_joined_ms = s.astrologer_joined_ms = s.started_ms = T0 + 5 * MIN;
	/* Both in the room, the relay beating. */
	s.open_seen_ms[DB_ROLE_USER] = s.open_seen_ms[DB_ROLE_ASTROLOGER] = T0 + 35 * MIN - 1;
	CHECK(db_session_deadline_ms(&config, &s) == T0 + 35 * MIN,
	      "the paid time ends 30 paid minutes after both joined");
	CHECK(db_session_due(&config, &s, T0 + 35 * MIN - 1) == DB_REASON_NONE &&
	      db_session_link_verdict(&config, &s, T0 + 35 * MIN - 1) == DB_OK,
	      "a millisecond before the deadline the session runs");
	CHECK(db_session_due(&config, &s, T0 + 35 * MIN) == DB_REASON_TIME_UP &&
	      db_session_link_verdict(&config, &s, T0 + 35 * MIN) == DB_ERR_ENDED,
	      "at the deadline its time is up and its links say it has ended");
	CHECK(db_session_link_verdict(&config, &s, T0 + 90 * MIN) == DB_ERR_ENDED,
	      "an active session past its deadline is over even after its link window");

	s.status = DB_STATUS_COMPLETED;
	s.end_reason = DB_REASON_USER_ENDED;
	s.ended_ms = T0 + 10 * MIN;
	CHECK(db_session_is_over(&s) && db_session_due_ms(&config, &s, T0, &why) == 0 &&
	      why == DB_REASON_NONE, "a session that is over is due for nothing");
	s.status = DB_STATUS_EXPIRED;
	CHECK(db_session_link_verdict(&config, &s, T0) == DB_ERR_EXPIRED,
	      "an expired session's links say expired");
	s.status = DB_STATUS_CANCELLED;
	CHECK(db_session_link_verdict(&config, &s, T0) == DB_ERR_ENDED,
	      "a cancelled session's links say ended");
}

static void test_presence(void)
{
	struct db_session s = booked();
	const struct db_interval user[] = {{T0, T0 + 10 * MIN}, {T0 + 20 * MIN, T0 + 30 * MIN}};
	const struct db_interval astro[] = {{T0 + 5 * MIN, T0 + 25 * MIN}};
	enum db_reason why;

	CHECK(db_presence_end_ms(T0 + 7, T0, T0 + MIN) == T0 + 7, "a connection that left ends when it left");
	CHECK(db_presence_end_ms(0, T0, T0 + DB_PRESENCE_STALE_MS) == T0 + DB_PRESENCE_STALE_MS,
	      "an open one the relay still beats for lasts until now");
	CHECK(db_presence_end_ms(0, T0, T0 + DB_PRESENCE_STALE_MS + 1) == T0,
	      "one not beaten for longer was left by a dead relay: it ends at its last heartbeat");
	CHECK(db_overlap_ms(user, 2, astro, 1, T0, T0 + 60 * MIN) == 10 * MIN,
	      "the bill counts only the time both were there (5..10 and 20..25: 10 minutes)");
	CHECK(db_overlap_ms(user, 2, astro, 1, T0 + 7 * MIN, T0 + 22 * MIN) == 5 * MIN,
	      "... within the paid window only");
	CHECK(db_overlap_ms(user, 2, astro, 0, T0, T0 + 60 * MIN) == 0, "one alone is never billed");

	s.status = DB_STATUS_ACTIVE;
	s.user_joined_ms = s.astrologer_joined_ms = s.started_ms = T0;
	CHECK(db_session_apart_since_ms(&s, T0 + MIN) == T0 &&
	      db_session_due_ms(&config, &s, T0 + MIN, &why) == T0 + 3 * MIN &&
	      why == DB_REASON_DISCONNECTED,
	      "started but nobody ever in the room: disconnected the empty timeout after the start");
	s.open_seen_ms[DB_ROLE_USER] = s.open_seen_ms[DB_ROLE_ASTROLOGER] = T0 + 10 * MIN;
	CHECK(db_session_apart_since_ms(&s, T0 + 10 * MIN) == 0 &&
	      db_session_due_ms(&config, &s, T0 + 10 * MIN, &why) == T0 + 30 * MIN &&
	      why == DB_REASON_TIME_UP, "both in the room: only the deadline ends it");
	s.open_seen_ms[DB_ROLE_USER] = 0;
	s.last_left_ms = T0 + 10 * MIN; /* the customer closed the tab; the astrologer stays */
	CHECK(db_session_apart_since_ms(&s, T0 + 10 * MIN) == T0 + 10 * MIN &&
	      db_session_due_ms(&config, &s, T0 + 11 * MIN, &why) == T0 + 13 * MIN &&
	      why == DB_REASON_DISCONNECTED,
	      "one left and did not come back: disconnected the empty timeout after they went");
	CHECK(db_session_due(&config, &s, T0 + 13 * MIN - 1) == DB_REASON_NONE &&
	      db_session_due(&config, &s, T0 + 13 * MIN) == DB_REASON_DISCONNECTED,
	      "... not a millisecond before");
	s.open_seen_ms[DB_ROLE_USER] = T0 + 13 * MIN - DB_PRESENCE_BEAT_MS;
	s.open_seen_ms[DB_ROLE_ASTROLOGER] = T0 + 13 * MIN - DB_PRESENCE_BEAT_MS;
	CHECK(db_session_present(&s, DB_ROLE_USER, T0 + 13 * MIN) &&
	      db_session_due(&config, &s, T0 + 13 * MIN) == DB_REASON_NONE,
	      "back in the room in time: it runs on until the deadline");
	s.open_seen_ms[DB_ROLE_ASTROLOGER] = T0 + 12 * MIN;
	CHECK(db_session_apart_since_ms(&s, T0 + 12 * MIN + DB_PRESENCE_STALE_MS + 1) == T0 + 12 * MIN,
	      "a connection a dead relay left open counts as gone from its last heartbeat");
	s.open_seen_ms[DB_ROLE_USER] = s.open_seen_ms[DB_ROLE_ASTROLOGER] = 0;
	s.last_left_ms = T0 + 29 * MIN;
	CHECK(db_session_due_ms(&config, &s, T0 + 29 * MIN, &why) == T0 + 30 * MIN &&
	      why == DB_REASON_TIME_UP, "an empty timeout past the deadline leaves the deadline in charge");
}

static void test_no_show(void)
{
	struct db_session s = booked();
	enum db_reason why;

	CHECK(db_session_no_show_ms(&config, &s) == 0, "nobody came: no no-show countdown, the link's end decides");
	s.user_joined_ms = T0 - 5 * MIN;
	CHECK(db_session_no_show_ms(&config, &s) == T0 + 10 * MIN,
	      "the customer came early: the astrologer has 10 minutes from the start");
	s.user_joined_ms = T0 + 7 * MIN;
	CHECK(db_session_no_show_ms(&config, &s) == T0 + 17 * MIN &&
	      db_session_due_ms(&config, &s, T0 + 8 * MIN, &why) == T0 + 17 * MIN && why == DB_REASON_NO_SHOW,
	      "the customer came late: 10 minutes from that join");
	CHECK(db_session_due(&config, &s, T0 + 17 * MIN - 1) == DB_REASON_NONE &&
	      db_session_due(&config, &s, T0 + 17 * MIN) == DB_REASON_NO_SHOW,
	      "... not a millisecond before");
	s.user_joined_ms = 0;
	s.astrologer_joined_ms = T0 + 55 * MIN;
	CHECK(db_session_no_show_ms(&config, &s) == T0 + 60 * MIN,
	      "never after the link runs out");
	s.user_joined_ms = T0 + 56 * MIN;
	CHECK(db_session_no_show_ms(&config, &s) == 0, "both came: no no-show");
}

static void test_chat_caps(void)
{
	CHECK(db_chat_allowed(&config, DB_STATUS_SCHEDULED, 19, 0, 10) == DB_OK &&
	      db_chat_allowed(&config, DB_STATUS_SCHEDULED, 20, 0, 10) == DB_ERR_LIMIT,
	      "before both have joined: 20 messages, not 21");
	CHECK(db_chat_allowed(&config, DB_STATUS_ACTIVE, 999, 0, 10) == DB_OK &&
	      db_chat_allowed(&config, DB_STATUS_ACTIVE, 1000, 0, 10) == DB_ERR_LIMIT,
	      "in the session: 1000 messages, not 1001");
	CHECK(db_chat_allowed(&config, DB_STATUS_ACTIVE, 5, (1 << 20) - 10, 10) == DB_OK &&
	      db_chat_allowed(&config, DB_STATUS_ACTIVE, 5, (1 << 20) - 10, 11) == DB_ERR_LIMIT,
	      "and 1 MiB of text, to the byte");
}

static void test_notes(void)
{
	struct db_session s = booked();
	enum db_role a = DB_ROLE_ASTROLOGER;

	CHECK(db_notes_readable(a) == DB_OK && db_notes_readable(DB_ROLE_USER) == DB_ERR_ROLE,
	      "only the astrologer reads the notes");
	CHECK(db_notes_writable(&config, &s, DB_ROLE_USER, T0) == DB_ERR_ROLE,
	      "the customer never writes them, not even while the link is good");
	CHECK(db_notes_writable(&config, &s, a, T0 - 15 * MIN - 1) == DB_ERR_NOT_OPEN &&
	      db_notes_writable(&config, &s, a, T0 - 15 * MIN) == DB_OK,
	      "written from the moment the link opens");
	s.status = DB_STATUS_COMPLETED;
	s.ended_ms = T0 + 10 * MIN;
	CHECK(db_notes_writable(&config, &s, a, T0 + 60 * MIN - 1) == DB_OK &&
	      db_notes_writable(&config, &s, a, T0 + 60 * MIN) == DB_ERR_EXPIRED,
	      "after an early end, until the link runs out");
	s.ended_ms = T0 + 70 * MIN;
	CHECK(db_notes_writable(&config, &s, a, T0 + 100 * MIN - 1) == DB_OK &&
	      db_notes_writable(&config, &s, a, T0 + 100 * MIN) == DB_ERR_EXPIRED,
	      "after an end past the link's window, valid_after from the end");
}

static void test_recording(void)
{
	struct db_session s = booked();
	enum db_rec_state next;
	const enum db_role u = DB_ROLE_USER, a = DB_ROLE_ASTROLOGER;

	s.type = DB_TYPE_VOICE;
	CHECK(db_recording_allowed(&s) == DB_ERR_STATE, "not before both have joined");
	s.status = DB_STATUS_ACTIVE;
	CHECK(db_recording_allowed(&s) == DB_OK, "a voice call both have joined");
	s.type = DB_TYPE_CHAT;
	CHECK(db_recording_allowed(&s) == DB_ERR_STATE, "never a chat session");
	s.type = DB_TYPE_VIDEO;
	s.status = DB_STATUS_COMPLETED;
	s.ended_ms = T0;
	s.end_reason = DB_REASON_COMPLETED;
	CHECK(db_recording_allowed(&s) == DB_ERR_ENDED, "not once it is over");

	CHECK(db_recording_next(DB_REC_IDLE, u, u, DB_REC_ASK, &next) == DB_OK && next == DB_REC_ASKED,
	      "an ask is pending");
	CHECK(db_recording_next(DB_REC_ASKED, u, u, DB_REC_ASK, &next) == DB_ERR_STATE &&
	      db_recording_next(DB_REC_ASKED, u, a, DB_REC_ASK, &next) == DB_ERR_STATE &&
	      db_recording_next(DB_REC_RUNNING, u, a, DB_REC_ASK, &next) == DB_ERR_STATE,
	      "a second ask, by either side, while one is pending or running is refused");
	CHECK(db_recording_next(DB_REC_ASKED, u, u, DB_REC_ACCEPT, &next) == DB_ERR_STATE &&
	      db_recording_next(DB_REC_ASKED, u, u, DB_REC_DECLINE, &next) == DB_ERR_STATE,
	      "the asker does not answer their own ask: one consent never starts it");
	CHECK(db_recording_next(DB_REC_ASKED, u, a, DB_REC_ACCEPT, &next) == DB_OK && next == DB_REC_RUNNING,
	      "the other side's accept starts it");
	CHECK(db_recording_next(DB_REC_ASKED, a, u, DB_REC_DECLINE, &next) == DB_OK && next == DB_REC_IDLE,
	      "the other side's decline ends the ask");
	CHECK(db_recording_next(DB_REC_IDLE, u, a, DB_REC_ACCEPT, &next) == DB_ERR_STATE &&
	      db_recording_next(DB_REC_RUNNING, u, a, DB_REC_ACCEPT, &next) == DB_ERR_STATE,
	      "nothing to accept without a pending ask");
	CHECK(db_recording_next(DB_REC_RUNNING, a, u, DB_REC_STOP, &next) == DB_OK &&
	      db_recording_next(DB_REC_RUNNING, a, a, DB_REC_STOP, &next) == DB_OK &&
	      db_recording_next(DB_REC_ASKED, u, u, DB_REC_STOP, &next) == DB_OK &&
	      db_recording_next(DB_REC_IDLE, u, u, DB_REC_STOP, &next) == DB_ERR_STATE,
	      "either side stops it, or withdraws an ask; nothing to stop when idle");

	CHECK(db_recording_appendable(0, 0, T0) && db_recording_appendable(T0, 0, T0 + DB_RECORDING_TAIL_MS) &&
	      !db_recording_appendable(T0, 0, T0 + DB_RECORDING_TAIL_MS + 1),
	      "chunks while it runs and for the tail after the stop");
	CHECK(db_recording_appendable(0, T0, T0 + DB_RECORDING_TAIL_MS) &&
	      !db_recording_appendable(0, T0, T0 + DB_RECORDING_TAIL_MS + 1) &&
	      !db_recording_appendable(T0 + MIN, T0, T0 + DB_RECORDING_TAIL_MS + 1),
	      "a session's end stops it too, whichever came first");
	CHECK(db_recording_kept(&config, T0, T0 + config.recording_retention_ms - 1) &&
	      !db_recording_kept(&config, T0, T0 + config.recording_retention_ms),
	      "kept until recording_retention_days after its start");
}

static void test_reasons(void)
{
	CHECK(db_reason_given_ok(DB_ROLE_USER, DB_REASON_COMPLETED) &&
	      db_reason_given_ok(DB_ROLE_USER, DB_REASON_USER_ENDED) &&
	      db_reason_given_ok(DB_ROLE_ASTROLOGER, DB_REASON_ASTROLOGER_ENDED),
	      "a participant may say the session completed, or that they ended it");
	CHECK(!db_reason_given_ok(DB_ROLE_USER, DB_REASON_ASTROLOGER_ENDED) &&
	      !db_reason_given_ok(DB_ROLE_USER, DB_REASON_TIME_UP) &&
	      !db_reason_given_ok(DB_ROLE_ASTROLOGER, DB_REASON_NO_SHOW) &&
	      !db_reason_given_ok(DB_ROLE_ASTROLOGER, DB_REASON_DISCONNECTED),
	      "but not the other's end, nor what only the rules decide");
}

static void test_credentials(void)
{
	struct db_session s = booked();

	CHECK(db_session_credentials_until_ms(&config, &s, T0 + 85 * MIN) == T0 + 60 * MIN + 30 * MIN + 2 * MIN,
	      "credentials for a session not started last until it could end if joined at the last moment, plus the grace");
	CHECK(db_session_credentials_until_ms(&config, &s, T0 - 15 * MIN) == T0 - 5 * MIN,
	      "... and never longer than turn_credential_seconds from when they are handed out");
	s.status = DB_STATUS_ACTIVE;
	s.started_ms = T0;
	CHECK(db_session_credentials_until_ms(&config, &s, T0 + 25 * MIN) == T0 + 30 * MIN + 2 * MIN,
	      "credentials for a started session last until its deadline plus the grace");
	CHECK(db_session_credentials_until_ms(&config, &s, T0 + MIN) == T0 + 11 * MIN,
	      "... and early in the call, turn_credential_seconds");
}

static void test_webhook_retries(void)
{
	static const int64_t wait_s[] = {5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600};
	int64_t total = 0;
	int ok = 1, jitter_ok = 1;

	for (int a = 1; a < DB_WEBHOOK_ATTEMPTS; a++) {
		ok &= db_webhook_retry_ms(a, 1, 0, 0) == wait_s[a - 1] * 1000;
		jitter_ok &= db_webhook_retry_ms(a, 1, 1, 0) == wait_s[a - 1] * 1200;
		total += wait_s[a - 1];
	}
	CHECK(ok, "after tries 1..7 a delivery waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h");
	CHECK(total > 27 * 3600 && jitter_ok, "about 27.5 h of waits in all; jitter adds at most 20 %%");
	CHECK(db_webhook_retry_ms(DB_WEBHOOK_ATTEMPTS, 1, 0, 0) == -1 && db_webhook_retry_ms(0, 1, 0, 0) == -1,
	      "after the 8th try there is none left: the delivery fails");
	CHECK(db_webhook_retry_ms(2, 100, 0, 0) == 3000, "webhook_retry_divisor 100 makes 5 min 3 s");
	CHECK(db_webhook_retry_ms(1, 1, 0, 60000) == 60000 && db_webhook_retry_ms(3, 1, 0, 60000) == 1800000,
	      "Retry-After lengthens a shorter wait, never shortens a longer one");
	CHECK(db_webhook_retry_ms(1, 1, 0, 100LL * 3600 * 1000) == 10 * 3600 * 1000,
	      "a Retry-After beyond the longest wait (10 h) is capped there");
}

static void test_files(void)
{
	static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0}, png[] = "\x89PNG\r\n\x1a\n",
		webp[] = "RIFF\x10\0\0\0WEBP", pdf[] = "%PDF-1.7", html[] = "<!doctype html>",
		riff_wav[] = "RIFF\x10\0\0\0WAVE", short_png[] = "\x89PNG\r\n\x1a";
	struct db_config c = {.file_max_bytes = 4096, .session_files_max_bytes = 10000,
	                      .file_retention_ms = 2 * 86400000LL};

	CHECK(db_file_type_of(jpeg, sizeof jpeg) == DB_FILE_JPEG && db_file_type_of(png, 8) == DB_FILE_PNG &&
	      db_file_type_of(webp, 12) == DB_FILE_WEBP && db_file_type_of(pdf, 8) == DB_FILE_PDF,
	      "JPEG, PNG, WebP (RIFF....WEBP) and PDF are told by their first bytes");
	CHECK(db_file_type_of(html, 12) == DB_ERR_FILE_TYPE && db_file_type_of(riff_wav, 12) == DB_ERR_FILE_TYPE &&
	      db_file_type_of(short_png, 7) == DB_ERR_FILE_TYPE && db_file_type_of(png, 0) == DB_ERR_FILE_TYPE,
	      "HTML, another RIFF, a cut-off signature and nothing are refused");
	CHECK(db_file_fits(&c, 0, 4096) == DB_OK && db_file_fits(&c, 0, 4097) == DB_ERR_TOO_LARGE,
	      "file_max_bytes: exactly at it fits, a byte more does not");
	CHECK(db_file_fits(&c, 5904, 4096) == DB_OK && db_file_fits(&c, 5905, 4096) == DB_ERR_FILES_FULL,
	      "session_files_max_bytes: up to exactly the cap fits, a byte more does not");
	CHECK(!db_file_expired(&c, T0, 1, T0 + 2 * 86400000LL - 1) && db_file_expired(&c, T0, 1, T0 + 2 * 86400000LL),
	      "an announced file is kept a millisecond short of file_retention, deleted at it");
	CHECK(!db_file_expired(&c, T0, 0, T0 + 86400000LL - 1) && db_file_expired(&c, T0, 0, T0 + 86400000LL),
	      "an upload never announced goes after a day");
	CHECK(!db_stray_due(T0, T0 + 3600000LL - 1) && db_stray_due(T0, T0 + 3600000LL),
	      "a stored file no row names stays a millisecond short of an hour unchanged, goes at it");
}

int main(void)
{
	test_link_window();
	test_joined();
	test_deadline();
	test_presence();
	test_no_show();
	test_reasons();
	test_chat_caps();
	test_notes();
	test_recording();
	test_credentials();
	test_webhook_retries();
	test_files();
	TAP_EXIT();
}
