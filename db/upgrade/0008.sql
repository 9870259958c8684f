-- 0008.sql: webhooks: endpoints with sealed secrets, the outbox of events, deliveries and their attempts.
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
