-- schema.sql: the only description of the session rooms' data.
--
-- Conventions: times are INTEGER milliseconds since the Unix epoch (UTC);
-- money is INTEGER minor units (cents/paise); every table is STRICT.
-- The data lives in two SQLite files, both described here. Everything
-- above the line "-- @chat-file" is the database (money, sessions,
-- presence); everything below it is the chat file beside it
-- (sessions.db -> sessions-chat.db, with its own WAL), so chat's writes
-- never hold the database's write lock and a full or locked chat file
-- leaves booking, joins and settlement alone. make compiles each part in
-- separately. The library applies a part to an empty file inside one
-- transaction and sets PRAGMA user_version to the latest version. An
-- existing database is brought up to date by db/upgrade/NNNN.sql, each
-- taking version NNNN-1 to NNNN in a transaction of its own; a change to
-- the data edits this file and adds the upgrade that does the same to a
-- database in use; the chat file's upgrades are db/upgrade/chat/NNNN.sql.

-- Customers. Their money lives in two accounts: 'wallet' (what they can
-- still spend) and 'frozen' (held for booked sessions).
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE
                CHECK (length(name) BETWEEN 1 AND 100),
    created_ms  INTEGER NOT NULL
) STRICT;

-- Consultants. Their money lives in one 'earnings' account.
CREATE TABLE astrologers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE
                CHECK (length(name) BETWEEN 1 AND 100),
    created_ms  INTEGER NOT NULL
) STRICT;

-- Double-entry accounts. 'funding' is where topped-up money comes from
-- (it goes negative); 'platform' collects the commission. The sum of all
-- balances is always zero. balance is a cache of the account's entries,
-- kept by the trigger below; sessionctl ledger check verifies it.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('wallet', 'frozen', 'earnings',
                                  'platform', 'funding')),
    user_id       INTEGER REFERENCES users(id),
    astrologer_id INTEGER REFERENCES astrologers(id),
    balance       INTEGER NOT NULL DEFAULT 0
                  CHECK (kind = 'funding' OR balance >= 0),
    CHECK ((kind IN ('wallet', 'frozen')
                AND user_id IS NOT NULL AND astrologer_id IS NULL)
        OR (kind = 'earnings'
                AND astrologer_id IS NOT NULL AND user_id IS NULL)
        OR (kind IN ('platform', 'funding')
                AND user_id IS NULL AND astrologer_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX accounts_user ON accounts(user_id, kind)
    WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_astrologer ON accounts(astrologer_id)
    WHERE astrologer_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_system ON accounts(kind)
    WHERE kind IN ('platform', 'funding');
INSERT INTO accounts(kind) VALUES ('platform'), ('funding');

CREATE TRIGGER users_accounts AFTER INSERT ON users BEGIN
    INSERT INTO accounts(kind, user_id) VALUES ('wallet', NEW.id),
                                               ('frozen', NEW.id);
END;
CREATE TRIGGER astrologers_account AFTER INSERT ON astrologers BEGIN
    INSERT INTO accounts(kind, astrologer_id) VALUES ('earnings', NEW.id);
END;

-- One ledger transaction per money movement; its entries sum to zero.
CREATE TABLE ledger_transactions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL
                CHECK (kind IN ('topup', 'freeze', 'settle')),
    session_id  TEXT    REFERENCES webrtc_sessions(id),
    created_ms  INTEGER NOT NULL,
    -- the shop's own name for a top-up (its payment's id), when it gave one
    reference   TEXT    CHECK (reference IS NULL OR (kind = 'topup'
                               AND length(reference) BETWEEN 1 AND 100)),
    CHECK ((kind = 'topup') = (session_id IS NULL))
) STRICT;
CREATE INDEX ledger_transactions_session ON ledger_transactions(session_id);

CREATE TABLE ledger_entries (
    id          INTEGER PRIMARY KEY,
    txn_id      INTEGER NOT NULL REFERENCES ledger_transactions(id),
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    amount      INTEGER NOT NULL
                CHECK (amount <> 0
                   AND amount BETWEEN -100000000000 AND 100000000000)
) STRICT;
CREATE INDEX ledger_entries_txn ON ledger_entries(txn_id);
CREATE INDEX ledger_entries_account ON ledger_entries(account_id);

-- Entries are append-only: the balance cache follows each insert, and
-- nothing may rewrite history.
CREATE TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries BEGIN
    UPDATE accounts SET balance = balance + NEW.amount
     WHERE id = NEW.account_id;
END;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

-- A booking: who, with whom, what kind, how long, for how much. The
-- commission in force when it was booked is the one it settles with.
CREATE TABLE bookings (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users(id),
    astrologer_id       INTEGER NOT NULL REFERENCES astrologers(id),
    session_type        TEXT    NOT NULL
                        CHECK (session_type IN ('chat', 'voice', 'video')),
    paid_minutes        INTEGER NOT NULL CHECK (paid_minutes BETWEEN 1 AND 480),
    price               INTEGER NOT NULL
                        CHECK (price BETWEEN 0 AND 100000000),
    commission_bps      INTEGER NOT NULL
                        CHECK (commission_bps BETWEEN 0 AND 10000),
    scheduled_start_ms  INTEGER NOT NULL,
    link_opens_ms       INTEGER NOT NULL,
    link_valid_until_ms INTEGER NOT NULL,
    created_ms          INTEGER NOT NULL,
    CHECK (link_opens_ms <= scheduled_start_ms
       AND scheduled_start_ms < link_valid_until_ms)
) STRICT;
CREATE INDEX bookings_user ON bookings(user_id);
CREATE INDEX bookings_created ON bookings(created_ms, id); -- sessionctl list
CREATE INDEX bookings_astrologer ON bookings(astrologer_id);

-- The room of a booking. Tokens are never stored: only their keyed
-- BLAKE2b digests (the key lives in a file beside the database), so a
-- copy of this file alone opens no room. A NULL digest matches nothing.
CREATE TABLE webrtc_sessions (
    id                      TEXT    PRIMARY KEY,
    booking_id              INTEGER NOT NULL UNIQUE REFERENCES bookings(id),
    room_id                 TEXT    NOT NULL UNIQUE,
    session_type            TEXT    NOT NULL
                            CHECK (session_type IN ('chat', 'voice', 'video')),
    paid_minutes            INTEGER NOT NULL CHECK (paid_minutes >= 1),
    price                   INTEGER NOT NULL CHECK (price >= 0),
    status                  TEXT    NOT NULL DEFAULT 'scheduled'
                            CHECK (status IN ('scheduled', 'active',
                                   'completed', 'expired', 'cancelled')),
    scheduled_start_ms      INTEGER NOT NULL,
    link_opens_ms           INTEGER NOT NULL,
    link_valid_until_ms     INTEGER NOT NULL,
    user_token_digest       BLOB    UNIQUE
                            CHECK (length(user_token_digest) = 32),
    astrologer_token_digest BLOB    UNIQUE
                            CHECK (length(astrologer_token_digest) = 32),
    user_joined_ms          INTEGER,
    astrologer_joined_ms    INTEGER,
    started_ms              INTEGER,
    ended_ms                INTEGER,
    end_reason              TEXT
                            CHECK (end_reason IN ('completed', 'user_ended',
                                   'astrologer_ended', 'time_up', 'no_show',
                                   'cancelled', 'disconnected')),
    duration_seconds        INTEGER CHECK (duration_seconds >= 0),
    ended_by                TEXT    CHECK (ended_by IN ('user', 'astrologer', 'system')),
    CHECK ((status IN ('active', 'completed')) = (started_ms IS NOT NULL)),
    CHECK ((status IN ('completed', 'expired', 'cancelled'))
           = (ended_ms IS NOT NULL AND end_reason IS NOT NULL
              AND duration_seconds IS NOT NULL))
) STRICT;
-- The cron sweep reads the open sessions (no end time yet); the rules in C decide which are due.
CREATE INDEX webrtc_sessions_open ON webrtc_sessions(id) WHERE ended_ms IS NULL;

-- As in the original system, a booking creates its room.
CREATE TRIGGER bookings_session AFTER INSERT ON bookings BEGIN
    INSERT INTO webrtc_sessions(id, booking_id, room_id, session_type,
            paid_minutes, price, scheduled_start_ms, link_opens_ms,
            link_valid_until_ms)
    VALUES (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2)))
                || '-4' || substr(lower(hex(randomblob(2))), 2)
                || '-' || substr('89ab', 1 + (abs(random()) % 4), 1)
                || substr(lower(hex(randomblob(2))), 2)
                || '-' || lower(hex(randomblob(6))),
            NEW.id, 'room_' || lower(hex(randomblob(12))), NEW.session_type,
            NEW.paid_minutes, NEW.price, NEW.scheduled_start_ms,
            NEW.link_opens_ms, NEW.link_valid_until_ms);
END;

-- What happened to a session, in order. Written by the triggers below,
-- so no state change can forget its row. participant names who joined;
-- on the end of a no-show, the one who did not come. The recording_*
-- kinds are the consent record (db/recording.c): each participant's
-- consent with its time, the start once both have consented, a refusal,
-- and the stop with who stopped it (detail 'left' when a side's
-- connection went).
CREATE TABLE session_events (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    kind        TEXT    NOT NULL
                CHECK (kind IN ('created', 'joined', 'started', 'completed',
                                'expired', 'cancelled', 'link_reissued',
                                'recording_consent', 'recording_declined',
                                'recording_started', 'recording_stopped')),
    participant TEXT    CHECK (participant IN ('user', 'astrologer')),
    detail      TEXT,
    at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX session_events_session ON session_events(session_id, id);

CREATE TRIGGER webrtc_sessions_created AFTER INSERT ON webrtc_sessions BEGIN
    INSERT INTO session_events(session_id, kind, at_ms)
    SELECT NEW.id, 'created', created_ms FROM bookings
     WHERE id = NEW.booking_id;
END;
CREATE TRIGGER webrtc_sessions_user_joined
AFTER UPDATE OF user_joined_ms ON webrtc_sessions
WHEN OLD.user_joined_ms IS NULL AND NEW.user_joined_ms IS NOT NULL BEGIN
    INSERT INTO session_events(session_id, kind, participant, at_ms)
    VALUES (NEW.id, 'joined', 'user', NEW.user_joined_ms);
END;
CREATE TRIGGER webrtc_sessions_astrologer_joined
AFTER UPDATE OF astrologer_joined_ms ON webrtc_sessions
WHEN OLD.astrologer_joined_ms IS NULL
 AND NEW.astrologer_joined_ms IS NOT NULL BEGIN
    INSERT INTO session_events(session_id, kind, participant, at_ms)
    VALUES (NEW.id, 'joined', 'astrologer', NEW.astrologer_joined_ms);
END;
CREATE TRIGGER webrtc_sessions_status
AFTER UPDATE OF status ON webrtc_sessions
WHEN OLD.status <> NEW.status BEGIN
    INSERT INTO session_events(session_id, kind, detail, at_ms)
    VALUES (NEW.id,
            CASE NEW.status WHEN 'active' THEN 'started' ELSE NEW.status END,
            NEW.end_reason, coalesce(NEW.ended_ms, NEW.started_ms));
END;
CREATE TRIGGER webrtc_sessions_final
BEFORE UPDATE OF status ON webrtc_sessions
WHEN OLD.status IN ('completed', 'expired', 'cancelled') BEGIN
    SELECT RAISE(ABORT, 'an ended session cannot change state');
END;

-- The money outcome of an ended session. The UNIQUE key is the
-- database's own refusal of a second settlement.
CREATE TABLE settlements (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL UNIQUE REFERENCES webrtc_sessions(id),
    txn_id      INTEGER NOT NULL UNIQUE REFERENCES ledger_transactions(id),
    billed_minutes INTEGER NOT NULL CHECK (billed_minutes >= 0),
    charged     INTEGER NOT NULL CHECK (charged >= 0),
    refunded    INTEGER NOT NULL CHECK (refunded >= 0),
    commission  INTEGER NOT NULL CHECK (commission >= 0),
    released    INTEGER NOT NULL CHECK (released >= 0),
    created_ms  INTEGER NOT NULL,
    billed_seconds INTEGER CHECK (billed_seconds >= 0), -- both present; NULL before version 4
    CHECK (commission + released = charged)
) STRICT;

-- Each live connection of a participant to the relay, as it happened: the
-- bill is the time both had one. The relay refreshes seen_ms while it is
-- open, so an interval a dead relay never closed ends at its last sign.
CREATE TABLE presence (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    participant TEXT    NOT NULL CHECK (participant IN ('user', 'astrologer')),
    joined_ms   INTEGER NOT NULL,
    seen_ms     INTEGER NOT NULL,
    left_ms     INTEGER, -- NULL while connected
    CHECK (seen_ms >= joined_ms),
    CHECK (left_ms IS NULL OR left_ms >= joined_ms)
) STRICT;
CREATE INDEX presence_session ON presence(session_id, participant, joined_ms);
CREATE INDEX presence_open ON presence(session_id) WHERE left_ms IS NULL;

-- What a participant's page found about the network path, for "why did my
-- call fail": the pre-flight before joining (the server reached directly,
-- only through the TURN relay, or not at all) and the candidate pair each
-- call settled on (each side's candidate type and the transport).
CREATE TABLE network_reports (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    participant TEXT    NOT NULL CHECK (participant IN ('user', 'astrologer')),
    phase       TEXT    NOT NULL CHECK (phase IN ('preflight', 'call')),
    reach       TEXT    CHECK (reach IN ('direct', 'relay', 'none')),
    local_type  TEXT    CHECK (local_type IN ('host', 'srflx', 'prflx', 'relay')),
    remote_type TEXT    CHECK (remote_type IN ('host', 'srflx', 'prflx', 'relay')),
    protocol    TEXT    CHECK (protocol IN ('udp', 'tcp')),
    relay_protocol TEXT CHECK (relay_protocol IN ('udp', 'tcp', 'tls')),
    at_ms       INTEGER NOT NULL,
    CHECK ((phase = 'preflight') = (reach IS NOT NULL)),
    CHECK ((phase = 'call') = (local_type IS NOT NULL AND remote_type IS NOT NULL
                               AND protocol IS NOT NULL)),
    CHECK (relay_protocol IS NULL OR local_type = 'relay')
) STRICT;
CREATE INDEX network_reports_session ON network_reports(session_id, participant, id);

-- An astrologer's private notes on a session: every save is a version,
-- the newest is the note. The customer never reads them.
CREATE TABLE note_versions (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    body        TEXT    NOT NULL,
    at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX note_versions_session ON note_versions(session_id, id);

-- What the astrologer published for the customer to read after the
-- session: one a session, a new one replaces it.
CREATE TABLE session_summaries (
    session_id  TEXT    PRIMARY KEY REFERENCES webrtc_sessions(id),
    body        TEXT    NOT NULL CHECK (length(body) > 0),
    at_ms       INTEGER NOT NULL
) STRICT;

-- A recording of a voice or video session, made once both participants
-- consented (session_events). Metadata only: the bytes are a file in the
-- recordings directory beside the database (X.db -> X-recordings/) named
-- by file, which the server chooses. next_seq is the sequence number the
-- next chunk must carry; bytes what the file holds.
CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    media       TEXT    NOT NULL CHECK (media IN ('audio', 'video')),
    file        TEXT    NOT NULL UNIQUE CHECK (length(file) = 37),
    bytes       INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    next_seq    INTEGER NOT NULL DEFAULT 0 CHECK (next_seq >= 0),
    started_ms  INTEGER NOT NULL,
    stopped_ms  INTEGER
) STRICT;
CREATE INDEX recordings_session ON recordings(session_id, id);
CREATE INDEX recordings_started ON recordings(started_ms);

-- The booking API's keys. A key is shown once when it is made; only its
-- keyed digest is kept (the key file beside the database, as for links),
-- so this table alone lets no one in. A revoked key stays for the audit.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE
                CHECK (length(name) BETWEEN 1 AND 100),
    digest      BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER
) STRICT;

-- Every call that came with a key: which key (NULL: one we do not know),
-- what it asked and what it got. Never the key, a body or a link.
CREATE TABLE api_audit (
    id          INTEGER PRIMARY KEY,
    key_name    TEXT,
    method      TEXT    NOT NULL CHECK (length(method) BETWEEN 1 AND 16),
    path        TEXT    NOT NULL CHECK (length(path) BETWEEN 1 AND 512),
    status      INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX api_audit_at ON api_audit(at_ms);

-- Idempotency-Key records, per API key. A request claims its key (claim
-- is a random nonce, claimed_ms its lease) in one transaction; its effect
-- and the answer (status, sealed body: it may hold join tokens) are
-- written together in the next, so a retry either replays the answer or
-- finds nothing done. request is the digest of what it does and its input.
CREATE TABLE api_idempotency (
    key_id      INTEGER NOT NULL REFERENCES api_keys(id),
    idem_key    TEXT    NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
    request     BLOB    NOT NULL CHECK (length(request) = 32),
    claim       BLOB    NOT NULL CHECK (length(claim) = 16),
    claimed_ms  INTEGER NOT NULL,
    status      INTEGER CHECK (status BETWEEN 100 AND 599), -- NULL while running
    response    BLOB,
    created_ms  INTEGER NOT NULL,
    CHECK ((status IS NULL) = (response IS NULL)),
    PRIMARY KEY (key_id, idem_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX api_idempotency_created ON api_idempotency(created_ms);

-- The booking API lists sessions by their start, page by page.
CREATE INDEX webrtc_sessions_start ON webrtc_sessions(scheduled_start_ms, id);

-- Webhooks: the shop's own site hears of what happens here. An endpoint's
-- signing secret must be usable, so it is stored sealed (XSalsa20-Poly1305)
-- under a key derived from the token key beside the database: a copy of
-- this file alone signs nothing. During a rotation the previous secret
-- signs too, until previous_until_ms.
CREATE TABLE webhook_endpoints (
    id                INTEGER PRIMARY KEY AUTOINCREMENT, -- a removed endpoint's id is never reused
    url               TEXT    NOT NULL CHECK (length(url) BETWEEN 8 AND 512),
    secret_sealed     BLOB    NOT NULL CHECK (length(secret_sealed) = 72),
    previous_sealed   BLOB    CHECK (length(previous_sealed) = 72),
    previous_until_ms INTEGER,
    created_ms        INTEGER NOT NULL,
    disabled_ms       INTEGER, -- the receiver answered 410 Gone
    disabled_reason   TEXT,
    CHECK ((previous_sealed IS NULL) = (previous_until_ms IS NULL))
) STRICT;

-- The outbox: each event is written in the transaction of the change it
-- reports. subject is the session id, or 'user:<id>' for a wallet's events;
-- sequence counts a subject's events from 1. payload is the whole envelope
-- as it is posted. Events are recorded while at least one endpoint exists.
CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL
                CHECK (type IN ('booking.created', 'booking.cancelled',
                       'participant.joined', 'participant.left',
                       'session.started', 'session.ended', 'session.expired',
                       'wallet.topped_up')),
    subject     TEXT    NOT NULL,
    sequence    INTEGER NOT NULL CHECK (sequence >= 1),
    payload     TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    UNIQUE (subject, sequence)
) STRICT;

-- One event to one endpoint. Only 'pending' rows are ever sent; a later
-- event of a subject waits while an earlier one to the same endpoint is pending.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES webhook_events(id),
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms INTEGER NOT NULL,
    last_attempt_ms INTEGER,
    last_status     INTEGER, -- the receiver's HTTP status; NULL: no answer
    last_error      TEXT,
    done_ms         INTEGER,
    created_ms      INTEGER NOT NULL,
    UNIQUE (event_id, endpoint_id),
    CHECK ((status = 'pending') = (done_ms IS NULL))
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_ms)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, status);

-- Every attempt, as it went.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
    at_ms       INTEGER NOT NULL,
    http_status INTEGER, -- NULL: no answer (refused, timed out, address not allowed)
    error       TEXT,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0)
) STRICT;
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);

-- An event goes to every endpoint enabled when it happens.
CREATE TRIGGER webhook_events_fanout AFTER INSERT ON webhook_events BEGIN
    INSERT INTO webhook_deliveries(event_id, endpoint_id, next_attempt_ms, created_ms)
    SELECT NEW.id, id, NEW.created_ms, NEW.created_ms FROM webhook_endpoints
     WHERE disabled_ms IS NULL;
END;

-- @chat-file
-- The chat file. A key cannot point into another file: session_id names
-- a webrtc_sessions row of the database, and the library checks that
-- session's state (open, not ended) in the same transaction as each
-- insert, reading the database attached read-only.

-- Files shared in a room's chat: the bytes are on disk in the files
-- directory beside the database (sessions.db -> sessions-files/) under
-- storage, a random name the client never chooses; never in SQLite. type
-- is what the bytes are (their magic numbers), not what the name says.
-- Purged files keep their row, so the message that announced one still
-- shows its name: purged_ms set, the bytes gone.
CREATE TABLE chat_files (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL,
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    name        TEXT    NOT NULL CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 120),
    bytes       INTEGER NOT NULL CHECK (bytes >= 1),
    type        TEXT    NOT NULL CHECK (type IN ('image/jpeg', 'image/png',
                                                 'image/webp', 'application/pdf')),
    storage     TEXT    NOT NULL UNIQUE CHECK (length(storage) = 32),
    created_ms  INTEGER NOT NULL,
    purged_ms   INTEGER
) STRICT;
CREATE INDEX chat_files_session ON chat_files(session_id);
CREATE INDEX chat_files_kept ON chat_files(created_ms) WHERE purged_ms IS NULL;

-- A room's chat: one row per session that has said something. Messages
-- and reactions carry its short id rather than the session's 36-byte
-- one, which in every index entry would double the pages each message
-- writes. The totals are how much each participant has said, for the
-- chat caps; the library writes them in the same transaction as the
-- messages they count, once per room per transaction.
CREATE TABLE chat_rooms (
    id                  INTEGER PRIMARY KEY,
    session_id          TEXT    NOT NULL UNIQUE,
    user_messages       INTEGER NOT NULL DEFAULT 0 CHECK (user_messages >= 0),
    user_bytes          INTEGER NOT NULL DEFAULT 0 CHECK (user_bytes >= 0),
    astrologer_messages INTEGER NOT NULL DEFAULT 0 CHECK (astrologer_messages >= 0),
    astrologer_bytes    INTEGER NOT NULL DEFAULT 0 CHECK (astrologer_bytes >= 0)
) STRICT;

-- Room chat. seq numbers a room's messages from 1; client_id makes a
-- resend after a reconnect land once, per sender: one side's ids never
-- swallow the other's messages.
CREATE TABLE chat_messages (
    id          INTEGER PRIMARY KEY,
    room        INTEGER NOT NULL REFERENCES chat_rooms(id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    body        TEXT    NOT NULL
                CHECK (length(body) BETWEEN 1 AND 4000),
    client_id   TEXT    CHECK (length(client_id) BETWEEN 1 AND 64),
    created_ms  INTEGER NOT NULL,
    file_id     INTEGER REFERENCES chat_files(id), -- a message of kind file; body is its name
    UNIQUE (room, seq),
    UNIQUE (room, sender, client_id)
) STRICT;
-- A file is announced by one message at most.
CREATE UNIQUE INDEX chat_messages_file ON chat_messages(file_id) WHERE file_id IS NOT NULL;

-- Emoji reactions on chat messages. The key is the rule "one of each
-- emoji per person per message"; taking a reaction back deletes its row.
-- A reaction names its message by the room's seq, so it can only point
-- at a message of its own session. The emoji are the library's fixed set
-- (db_reactions).
CREATE TABLE chat_reactions (
    room        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    emoji       TEXT    NOT NULL CHECK (length(emoji) BETWEEN 1 AND 8),
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (room, seq, sender, emoji),
    FOREIGN KEY (room, seq) REFERENCES chat_messages(room, seq)
) STRICT, WITHOUT ROWID;
