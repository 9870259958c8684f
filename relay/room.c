/* room.c: rooms with connections: presence, the paid timer, watching the database, stored chat and reactions. */
#include <stdlib.h>
#include <string.h>

#include "chat_writer.h"
#include "recording.h"
#include "relay.h"
#include "room.h"
#include "waiting.h"

#define RELAY_WATCH_MS 250              /* how often rooms are compared with the database */
#define RELAY_BUCKETS 4096              /* rooms hash table */
#define RELAY_ROOM_CHAT_WAITING 64      /* one room's messages waiting for the writer */
#define RELAY_PRESENCE_UNSAVED_MAX 4096 /* arrivals and departures kept while the database refuses them */
#define OTHER(role) ((role) == DB_ROLE_USER ? DB_ROLE_ASTROLOGER : DB_ROLE_USER)
#define WARN_5 1
#define WARN_1 2

/* A session that has a connection, or an active one both have left (its timer ends it when empty too long). */
struct relay_room {
	struct relay *relay;
	struct relay_room *next;         /* hash chain */
	struct relay_room *all_prev, *all_next; /* the list the watch timer walks */
	char session_id[DB_ID_LEN + 1];
	enum db_type type;
	enum db_status status;
	int64_t ends_ms;                 /* when the rules end the session on its own (db_session_due_ms) */
	int ended;
	int warned;                      /* bit 0: 5 minutes, bit 1: 1 minute sent */
	int chat_waiting;                /* its messages with the writer, not yet answered */
	struct relay_conn *conn[2];      /* by enum db_role; not owned */
	lws_sorted_usec_list_t timer;    /* the next warning or ends_ms; cancel before free */
};

/*
 * An arrival or departure the database refused (a full disk, an I/O
 * error): kept, in order, and stored with its own time once it can be,
 * so the bill counts the time both were there and not the time the disk
 * was full. Kept apart from the rooms, which may go meanwhile.
 */
struct relay_presence_unsaved {
	struct relay_presence_unsaved *next;
	char session_id[DB_ID_LEN + 1];
	enum db_role role;
	int joined;
	int64_t at_ms;
};

/* Every room, and the chat waiting to be stored for them. */
struct relay_rooms {
	struct relay *relay;
	struct relay_room *buckets[RELAY_BUCKETS]; /* is malloc'd: each room, freed when it empties */
	struct relay_room *all;   /* every room, for the watch timer */
	struct relay_room *cursor;/* where the watch timer stopped */
	int watch_passes;         /* passes still owed to the last change seen */
	int nrooms;
	int stopping;             /* shutting down: no more presence frames */
	struct relay_waiting_list chat; /* with the writer, not yet answered */
	lws_sorted_usec_list_t watch_sul; /* compares rooms with the database */
	lws_sorted_usec_list_t beat_sul;  /* presence heartbeat and the running charge */
	int beats;                /* heartbeats so far: every third also bills */
	struct relay_presence_unsaved *unsaved, *unsaved_tail; /* is malloc'd: oldest first */
	int nunsaved;
};

static unsigned room_hash(const char *id)
{
	unsigned h = 2166136261u;

	while (*id)
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return h % RELAY_BUCKETS;
}

static struct relay_room *room_find(struct relay_rooms *rs, const char *id)
{
	struct relay_room *room;

	for (room = rs->buckets[room_hash(id)]; room; room = room->next)
		if (!strcmp(room->session_id, id))
			return room;
	return NULL;
}

const char *relay_room_session_id(const struct relay_room *room)
{
	return room->session_id;
}

enum db_type relay_room_type(const struct relay_room *room)
{
	return room->type;
}

int relay_room_ended(const struct relay_room *room)
{
	return room->ended;
}

struct relay_conn *relay_room_conn(const struct relay_room *room, enum db_role role)
{
	return room->conn[role];
}

int relay_room_count(const struct relay *r)
{
	return r->rooms->nrooms;
}

/* Sends b to one participant (role) or to both (-1). */
static void room_send(struct relay_room *room, int role, struct relay_buf *b)
{
	struct relay_conn *user = room->conn[DB_ROLE_USER];
	struct relay_conn *astro = room->conn[DB_ROLE_ASTROLOGER];

	if (user && (role < 0 || role == DB_ROLE_USER))
		relay_conn_sendbuf(user, b);
	if (astro && (role < 0 || role == DB_ROLE_ASTROLOGER))
		relay_conn_sendbuf(astro, b);
}

static void presence(struct relay_room *room, enum db_role who, const char *type)
{
	struct relay_buf b;

	if (!room->conn[OTHER(who)])
		return;
	relay_buf_init(&b);
	relay_buf_fmt(&b, "{\"type\":\"%s\",\"participantType\":\"%s\",\"timestamp\":",
	              type, db_role_name(who));
	relay_buf_time(&b, db_now_ms());
	relay_buf_str(&b, "}");
	room_send(room, OTHER(who), &b);
	relay_buf_free(&b);
}

static void timer_fire(lws_sorted_usec_list_t *sul);
static void room_end(struct relay_room *room, const struct db_session *s);
static void room_free(struct relay_rooms *rs, struct relay_room *room);
static int presence_flush(struct relay *r);

/* Where the room's timer aims next: the session's end, or a warning before it. */
static void timer_arm(struct relay *r, struct relay_room *room, int first)
{
	int64_t minute = db_config(r->db)->minute_ms;
	int64_t w5 = room->ends_ms - 5 * minute, w1 = room->ends_ms - minute;
	int64_t now = db_now_ms(), next = room->ends_ms;

	/*
	 * Only paid time is counted down. Warnings whose moment had passed
	 * when the timer was first armed (a short session, a relay restart)
	 * are skipped rather than sent late.
	 */
	if (first || room->status != DB_STATUS_ACTIVE) {
		room->warned = 0;
		if (w5 <= now || room->status != DB_STATUS_ACTIVE)
			room->warned |= WARN_5;
		if (w1 <= now || room->status != DB_STATUS_ACTIVE)
			room->warned |= WARN_1;
	}
	if (!(room->warned & WARN_5))
		next = w5;
	else if (!(room->warned & WARN_1))
		next = w1;
	lws_sul_cancel(&room->timer);
	lws_sul_schedule(r->ctx, 0, &room->timer, timer_fire,
	                 (lws_usec_t)(next > now ? next - now : 0) * LWS_US_PER_MS);
}

/* Aims the timer at the session's own end, when the rules give it one. */
static void timer_follow(struct relay *r, struct relay_room *room, const struct db_session *s)
{
	enum db_reason why;

	room->ends_ms = db_session_due_ms(db_config(r->db), s, db_now_ms(), &why);
	if (room->ends_ms)
		timer_arm(r, room, 1);
}

static void warn(struct relay_room *room, int64_t now)
{
	struct relay_buf b;
	int64_t left = room->ends_ms - now;

	relay_buf_init(&b);
	relay_buf_fmt(&b, "{\"type\":\"time-warning\",\"remainingSeconds\":%lld}",
	              (long long)((left + 500) / 1000));
	room_send(room, -1, &b);
	relay_buf_free(&b);
}

/* The paid time ran out, or a link nobody started ran out: the same call cron makes ends it. */
static void timer_fire(lws_sorted_usec_list_t *sul)
{
	struct relay_room *room = lws_container_of(sul, struct relay_room, timer);
	struct relay *r = room->relay;
	int64_t minute = db_config(r->db)->minute_ms, now = db_now_ms();
	struct db_settlement st;
	struct db_session s;
	int ended;

	if (room->ended)
		return;
	if (now >= room->ends_ms) {
		/* The settlement bills from stored presence: what the database refused goes first. */
		presence_flush(r);
		if (db_session_end_due(r->db, room->session_id, now, &s, &st, &ended) != DB_OK) {
			lwsl_warn("relay: ending a session that was due failed: %s\n", db_errmsg(r->db));
			lws_sul_schedule(r->ctx, 0, &room->timer, timer_fire, LWS_US_PER_SEC);
			return;
		}
		if (db_session_is_over(&s)) {
			room_end(room, &s);
			return;
		}
		/* Not due after all (it started meanwhile): follow the session as it is now. */
		timer_follow(r, room, &s);
		relay_room_update(r, room, &s); /* last: the room may go */
		return;
	}
	if (!(room->warned & WARN_5) && now >= room->ends_ms - 5 * minute) {
		room->warned |= WARN_5;
		warn(room, now);
	}
	if (!(room->warned & WARN_1) && now >= room->ends_ms - minute) {
		room->warned |= WARN_1;
		warn(room, now);
	}
	timer_arm(r, room, 0);
}

/* Tells whoever is there that the session is over; a room nobody is in goes at once. */
static void room_end(struct relay_room *room, const struct db_session *s)
{
	struct relay_buf b;
	int i;

	if (room->ended)
		return;
	room->ended = 1;
	room->status = s->status;
	lws_sul_cancel(&room->timer);
	relay_buf_init(&b);
	relay_buf_fmt(&b, "{\"type\":\"session-ended\",\"reason\":\"%s\",\"endedBy\":\"%s\","
	              "\"durationSeconds\":%lld,\"endedAt\":", db_reason_name(s->end_reason),
	              db_actor_name(s->ended_by), (long long)s->duration_seconds);
	relay_buf_time(&b, s->ended_ms);
	relay_buf_str(&b, "}");
	room_send(room, -1, &b);
	relay_buf_free(&b);
	for (i = 0; i < 2; i++)
		if (room->conn[i])
			relay_conn_close(room->conn[i], LWS_CLOSE_STATUS_NORMAL);
	if (!room->conn[DB_ROLE_USER] && !room->conn[DB_ROLE_ASTROLOGER])
		room_free(room->relay->rooms, room);
}

/*
 * The running charge, to each participant their side of it: the customer
 * what is charged so far, the astrologer what is earned. Sent on every
 * presence change and with every third heartbeat.
 */
void relay_room_bill(struct relay *r, struct relay_room *room)
{
	struct db_settlement st;
	struct db_session s;
	struct relay_buf b;
	enum db_reason why;
	char money[32];
	int64_t now = db_now_ms(), ends;
	int paused = !room->conn[DB_ROLE_USER] || !room->conn[DB_ROLE_ASTROLOGER];

	if (room->ended || room->status != DB_STATUS_ACTIVE)
		return;
	if (db_session_get(r->db, room->session_id, &s) != DB_OK ||
	    db_session_bill(r->db, &s, now, &st) != DB_OK) {
		lwsl_warn("relay: the running charge could not be read: %s\n", db_errmsg(r->db));
		return;
	}
	/* While apart, when the session ends unless the other comes back. */
	ends = db_session_due_ms(db_config(r->db), &s, now, &why);
	for (int role = 0; role < 2; role++) {
		if (!room->conn[role])
			continue;
		db_money_format(role == DB_ROLE_USER ? st.charged : st.released, money);
		relay_buf_init(&b);
		relay_buf_fmt(&b, "{\"type\":\"billing\",\"billedSeconds\":%lld,\"billedMinutes\":%lld,"
		              "\"paused\":%s,\"%s\":\"%s\",\"disconnectAt\":", (long long)st.billed_seconds,
		              (long long)st.billed_minutes, paused ? "true" : "false",
		              role == DB_ROLE_USER ? "amountCharged" : "earnings", money);
		relay_buf_time(&b, why == DB_REASON_DISCONNECTED ? ends : 0);
		relay_buf_str(&b, ",\"serverTime\":");
		relay_buf_time(&b, now);
		relay_buf_str(&b, "}");
		relay_conn_sendbuf(room->conn[role], &b);
		relay_buf_free(&b);
	}
}

/*
 * Stores the presence changes the database refused before, oldest first,
 * stopping at the first that fails again; each stored one aims its room's
 * timer again (an empty room ends on its own). DB_OK once none is left.
 */
static int presence_flush(struct relay *r)
{
	struct relay_rooms *rs = r->rooms;
	struct relay_presence_unsaved *p;
	struct relay_room *room;
	struct db_session s;
	int err, joins = 0;

	while ((p = rs->unsaved)) {
		/* A session that ended meanwhile had its presence closed for good: no arrival reopens it. */
		if ((err = db_session_get(r->db, p->session_id, &s)) == DB_OK && !db_session_is_over(&s))
			err = p->joined ? db_presence_join(r->db, p->session_id, p->role, p->at_ms)
			                : db_presence_leave(r->db, p->session_id, p->role, p->at_ms);
		if (err != DB_OK)
			return err;
		joins |= p->joined;
		if (!(rs->unsaved = p->next))
			rs->unsaved_tail = NULL;
		rs->nunsaved--;
		if ((room = room_find(rs, p->session_id)) && !room->ended &&
		    db_session_get(r->db, p->session_id, &s) == DB_OK)
			timer_follow(r, room, &s);
		free(p);
	}
	/* An arrival stored late was seen until now, not only when it came. */
	return joins ? db_presence_beat(r->db, db_now_ms()) : DB_OK;
}

/* Queues a connection's arrival or departure behind any the database refused, and stores them. */
static void room_presence(struct relay *r, struct relay_room *room, enum db_role role, int joined)
{
	struct relay_rooms *rs = r->rooms;
	struct relay_presence_unsaved *p;

	if (room->ended)
		return;
	if (rs->nunsaved >= RELAY_PRESENCE_UNSAVED_MAX || !(p = calloc(1, sizeof *p))) {
		lwsl_err("relay: presence change dropped: %d waiting to be stored\n", rs->nunsaved);
		return;
	}
	memcpy(p->session_id, room->session_id, sizeof p->session_id);
	p->role = role;
	p->joined = joined;
	p->at_ms = db_now_ms();
	if (rs->unsaved_tail)
		rs->unsaved_tail->next = p;
	else
		rs->unsaved = p;
	rs->unsaved_tail = p;
	rs->nunsaved++;
	if (presence_flush(r) != DB_OK)
		lwsl_warn("relay: presence not stored yet (%d waiting): %s\n", rs->nunsaved,
		          db_errmsg(r->db));
}

/*
 * A connection whose link was reissued since it joined has no right to
 * stay: it is told and leaves. Last in an update, since the room may go.
 */
static void room_check_links(struct relay *r, struct relay_room *room, const struct db_session *s)
{
	struct relay_conn *stale[2];
	int n = 0;

	for (int role = 0; role < 2; role++)
		if (room->conn[role] &&
		    memcmp(room->conn[role]->link_fp, s->link_fp[role], DB_LINK_FP_LEN) != 0)
			stale[n++] = room->conn[role];
	for (int i = 0; i < n; i++) {
		relay_conn_error(stale[i], WIRE_UNKNOWN_LINK, "This link was replaced by a new one.",
		                 LWS_CLOSE_STATUS_POLICY_VIOLATION);
		relay_room_leave(r, stale[i], 1);
	}
}

/* Brings the room in line with the session as the database has it now. */
void relay_room_update(struct relay *r, struct relay_room *room, const struct db_session *s)
{
	struct relay_buf b;

	if (room->ended)
		return;
	if (db_session_is_over(s)) {
		room_end(room, s);
		return;
	}
	if (room->status == DB_STATUS_ACTIVE || s->status != DB_STATUS_ACTIVE) {
		room_check_links(r, room, s);
		return;
	}
	room->status = DB_STATUS_ACTIVE;
	relay_buf_init(&b);
	relay_buf_str(&b, "{\"type\":\"session-started\",\"startedAt\":");
	relay_buf_time(&b, s->started_ms);
	relay_buf_str(&b, ",\"deadline\":");
	relay_buf_time(&b, s->deadline_ms);
	relay_buf_str(&b, ",\"serverTime\":");
	relay_buf_time(&b, db_now_ms());
	relay_buf_str(&b, "}");
	room_send(room, -1, &b);
	relay_buf_free(&b);
	timer_follow(r, room, s);
	room_check_links(r, room, s);
}

int relay_room_enter(struct relay *r, struct relay_conn *c, const struct db_session *s,
                     enum db_role role, struct relay_room **out)
{
	struct relay_rooms *rs = r->rooms;
	struct relay_room *room = room_find(rs, s->id);
	struct relay_conn *old;
	unsigned h;

	if (!room) {
		if (!(room = calloc(1, sizeof *room)))
			return -1;
		room->relay = r;
		memcpy(room->session_id, s->id, sizeof room->session_id);
		room->type = s->type;
		room->status = s->status;
		h = room_hash(room->session_id);
		room->next = rs->buckets[h];
		rs->buckets[h] = room;
		room->all_next = rs->all;
		if (rs->all)
			rs->all->all_prev = room;
		rs->all = room;
		rs->nrooms++;
		timer_follow(r, room, s);
	}
	/* A second connection with the same token takes over: a reload, or a second tab. */
	if ((old = room->conn[role])) {
		room->conn[role] = NULL;
		old->room = NULL;
		relay_conn_error(old, WIRE_REPLACED, NULL,
		                 LWS_CLOSE_STATUS_POLICY_VIOLATION);
	}
	room->conn[role] = c;
	c->room = room;
	c->role = role;
	room_presence(r, room, role, 1);
	presence(room, role, "participant-joined");
	if (old)
		relay_recording_gone(r, room, role);
	*out = room;
	return 0;
}

static void room_free(struct relay_rooms *rs, struct relay_room *room)
{
	struct relay_room **pp = &rs->buckets[room_hash(room->session_id)];

	while (*pp != room)
		pp = &(*pp)->next;
	*pp = room->next;
	if (room->all_prev)
		room->all_prev->all_next = room->all_next;
	else
		rs->all = room->all_next;
	if (room->all_next)
		room->all_next->all_prev = room->all_prev;
	if (rs->cursor == room)
		rs->cursor = room->all_next;
	rs->nrooms--;
	lws_sul_cancel(&room->timer);
	free(room);
}

void relay_room_leave(struct relay *r, struct relay_conn *c, int announce)
{
	struct relay_room *room = c->room;

	if (!room)
		return;
	c->room = NULL;
	if (room->conn[c->role] == c) {
		room->conn[c->role] = NULL;
		room_presence(r, room, c->role, 0);
		/* Also when the session ended: its recording stops with it, by whoever was still there. */
		if (!r->rooms->stopping)
			relay_recording_gone(r, room, c->role);
	}
	if (announce && !r->rooms->stopping) {
		presence(room, c->role, "participant-left");
		relay_room_bill(r, room);
	}
	/* An active session both have left keeps its room: its timer ends it if they stay away. */
	if (!room->conn[DB_ROLE_USER] && !room->conn[DB_ROLE_ASTROLOGER] &&
	    (room->ended || room->status != DB_STATUS_ACTIVE || r->rooms->stopping))
		room_free(r->rooms, room);
}

/*
 * The watch timer: sessions ended or started by the API or by cron are
 * noticed here. Nothing is read while no other process has committed;
 * after a commit the rooms are read over the next passes, a third of
 * them per pass when there are many, so every room is read within
 * 750 ms of a change.
 */
static void watch(lws_sorted_usec_list_t *sul)
{
	struct relay_rooms *rs = lws_container_of(sul, struct relay_rooms, watch_sul);
	struct relay *r = rs->relay;
	struct relay_room *room, *next;
	struct db_session s;
	int n = rs->nrooms <= 256 ? rs->nrooms : (rs->nrooms + 2) / 3;
	int changed = 1;

	/* Presence the database refused is tried again on every pass, as soon as there is room. */
	if (rs->unsaved)
		presence_flush(r);
	if (db_changed(r->db, &changed) != DB_OK || changed)
		rs->watch_passes = rs->nrooms <= 256 ? 1 : 3;
	if (rs->watch_passes > 0) {
		rs->watch_passes--;
		for (room = rs->cursor; n > 0; room = next, n--) {
			if (!room && !(room = rs->all))
				break;
			next = room->all_next;
			if (!room->ended && db_session_get(r->db, room->session_id, &s) == DB_OK)
				relay_room_update(r, room, &s);
		}
		rs->cursor = room;
	}
	lws_sul_schedule(r->ctx, 0, &rs->watch_sul, watch, RELAY_WATCH_MS * LWS_US_PER_MS);
}

/* A message written, its commit under way: the other participant has it now (answer() finishes). */
static void early(struct relay *r, struct relay_chat_job *j)
{
	struct relay_room *room = room_find(r->rooms, j->session_id);

	j->early = 1;
	if (room)
		room_send(room, OTHER(j->role), &j->frame);
}

/*
 * Delivers one answer from the writer to from, its sender (NULL when gone):
 * a duplicate to its sender only; a stored message to both, or only to
 * its sender's side when the other had it early. A message the other
 * had early whose commit failed is withdrawn from it.
 */
static void answer(struct relay *r, struct relay_conn *from, struct relay_chat_job *j)
{
	struct relay_room *room;
	struct relay_buf b;

	if ((room = room_find(r->rooms, j->session_id)) && room->chat_waiting > 0)
		room->chat_waiting--;
	if (j->err != DB_OK) {
		if (from)
			relay_conn_refuse(from, wire_from_db(j->err),
			                  j->emoji && j->err == DB_ERR_NOT_FOUND
			                          ? "There is no message with that seq in this session." : NULL,
			                  j->client_id);
		if (j->early && room) {
			relay_buf_init(&b);
			relay_proto_withdrawn(&b, j->seq);
			room_send(room, OTHER(j->role), &b);
			relay_buf_free(&b);
		}
	} else if (j->duplicate) {
		if (from)
			relay_conn_sendbuf(from, &j->frame);
	} else if (room) {
		room_send(room, j->early ? (int)j->role : -1, &j->frame);
	}
}

/* Each answer finds its waiting sender by ticket, whatever order the answers come in. */
static void answers_deliver(struct relay *r, struct relay_chat_job *list)
{
	struct relay_chat_job *j;

	while ((j = list)) {
		list = j->next;
		answer(r, relay_waiting_take(&r->rooms->chat, j->ticket), j);
		relay_chat_writer_job_free(j);
	}
}

/* The loop's side of the writer's wakeup (LWS_CALLBACK_EVENT_WAIT_CANCELLED). */
void relay_room_answers(struct relay *r)
{
	struct relay_chat_job *list, *j;

	list = relay_chat_writer_take(r->writer, &j);
	for (; j; j = j->early_next)
		early(r, j);
	answers_deliver(r, list);
}

/*
 * A job for the writer from c, counted against the relay-wide cap until
 * its answer comes back through relay_room_answers, which bounds the
 * writer's queue whatever the rate limit. NULL after telling c why not
 * (naming client_id, the chat message's, or NULL for a reaction).
 */
static struct relay_chat_job *job_new(struct relay *r, struct relay_conn *c, const char *client_id)
{
	struct relay_rooms *rs = r->rooms;
	struct relay_chat_job *j = NULL;

	if (rs->stopping || !r->writer) {
		relay_conn_refuse(c, WIRE_INTERNAL, "The relay is stopping; nothing was stored.", client_id);
		goto fail;
	}
	/* Each room gets its share of the writer: one room's flood cannot make the others wait. */
	if (relay_waiting_full(&rs->chat) || c->room->chat_waiting >= RELAY_ROOM_CHAT_WAITING) {
		relay_conn_refuse(c, WIRE_BUSY, "Too many messages are waiting to be stored; send it again.",
		                  client_id);
		goto fail;
	}
	if (!(j = calloc(1, sizeof *j)) || relay_waiting_add(&rs->chat, c, &j->ticket) < 0) {
		relay_conn_refuse(c, WIRE_INTERNAL, "Out of memory.", client_id);
		goto fail;
	}
	c->room->chat_waiting++;
	memcpy(j->session_id, c->room->session_id, sizeof j->session_id);
	j->role = c->role;
	j->at_ms = db_now_ms();
	relay_buf_init(&j->frame);
	return j;
fail:
	free(j);
	return NULL;
}

/* Sends a chat message to the writer (takes body; NULL with the file_id of a file's announcement). */
void relay_room_chat(struct relay *r, struct relay_conn *c, char *body, int64_t file_id,
                     const char *client_id)
{
	struct relay_chat_job *j = job_new(r, c, client_id);

	if (!j) {
		free(body);
		return;
	}
	strncpy(j->client_id, client_id, DB_CLIENT_ID_MAX);
	j->body = body;
	j->file_id = file_id;
	relay_chat_writer_put(r->writer, j);
}

/* Sends a reaction on the message seq (emoji one of db_reactions) to the writer. */
void relay_room_react(struct relay *r, struct relay_conn *c, int64_t seq, const char *emoji, int on)
{
	struct relay_chat_job *j = job_new(r, c, NULL);

	if (!j)
		return;
	j->seq = seq;
	j->emoji = emoji;
	j->on = on;
	relay_chat_writer_put(r->writer, j);
}

void relay_room_forget(struct relay *r, struct relay_conn *c)
{
	relay_waiting_forget(&r->rooms->chat, c);
}

/* Before the context exists: lws may call back into the rooms as soon as it does. */
int relay_room_init(struct relay *r, int chat_max)
{
	if (!(r->rooms = calloc(1, sizeof *r->rooms)))
		return -1;
	r->rooms->relay = r;
	r->rooms->chat.max = chat_max;
	return 0;
}

/*
 * The presence heartbeat: while rooms are occupied, their open connections
 * are marked seen, so a relay that dies leaves intervals that end at its
 * last beat. Every third beat also sends the running charge.
 */
static void beat(lws_sorted_usec_list_t *sul)
{
	struct relay_rooms *rs = lws_container_of(sul, struct relay_rooms, beat_sul);
	struct relay *r = rs->relay;
	struct relay_room *room, *next;

	if (rs->nrooms && db_presence_beat(r->db, db_now_ms()) != DB_OK)
		lwsl_warn("relay: presence heartbeat not stored: %s\n", db_errmsg(r->db));
	if (++rs->beats % 3 == 0)
		for (room = rs->all; room; room = next) {
			next = room->all_next;
			relay_room_bill(r, room);
		}
	lws_sul_schedule(r->ctx, 0, &rs->beat_sul, beat, DB_PRESENCE_BEAT_MS * LWS_US_PER_MS);
}

/*
 * Connections a relay that died left open end at its last heartbeat (the
 * bill reads them so anyway; this keeps the stored rows honest), then the
 * timers start.
 */
void relay_room_start(struct relay *r)
{
	if (db_presence_recover(r->db) != DB_OK)
		lwsl_warn("relay: open presence not closed: %s\n", db_errmsg(r->db));
	lws_sul_schedule(r->ctx, 0, &r->rooms->watch_sul, watch, RELAY_WATCH_MS * LWS_US_PER_MS);
	lws_sul_schedule(r->ctx, 0, &r->rooms->beat_sul, beat, DB_PRESENCE_BEAT_MS * LWS_US_PER_MS);
}

/* Before the context goes: stores what is waiting, delivers it, stops the timers, says goodbye. */
void relay_room_shutdown(struct relay *r)
{
	struct relay_rooms *rs = r->rooms;
	struct relay_room *room, *next;
	int i;

	lws_sul_cancel(&rs->watch_sul);
	lws_sul_cancel(&rs->beat_sul);
	relay_room_answers(r);
	answers_deliver(r, relay_chat_writer_stop(&r->writer));
	rs->stopping = 1;
	for (room = rs->all; room; room = next) {
		next = room->all_next;
		lws_sul_cancel(&room->timer);
		if (!room->conn[DB_ROLE_USER] && !room->conn[DB_ROLE_ASTROLOGER]) {
			room_free(rs, room); /* kept only for its timer */
			continue;
		}
		for (i = 0; i < 2; i++)
			if (room->conn[i])
				relay_conn_close(room->conn[i], LWS_CLOSE_STATUS_GOINGAWAY);
	}
}

/*
 * After the context is gone: its connections have closed, so every room
 * has been freed, and the writer answered all chat before it stopped.
 */
void relay_room_free(struct relay *r)
{
	struct relay_presence_unsaved *p;

	/* The next start closes what is left open at its last heartbeat (db_presence_recover). */
	if (r->rooms->unsaved && presence_flush(r) != DB_OK)
		lwsl_warn("relay: %d presence changes not stored: %s\n", r->rooms->nunsaved,
		          db_errmsg(r->db));
	while ((p = r->rooms->unsaved)) {
		r->rooms->unsaved = p->next;
		free(p);
	}
	free(r->rooms);
	r->rooms = NULL;
}
