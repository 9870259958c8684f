-- 0007.sql: version 6 to 7: the booking API: keys, their audit, Idempotency-Key records, top-up references, sessions by start.
ALTER TABLE ledger_transactions ADD COLUMN reference TEXT
    CHECK (reference IS NULL OR (kind = 'topup' AND length(reference) BETWEEN 1 AND 100));
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE
                CHECK (length(name) BETWEEN 1 AND 100),
    digest      BLOB    NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER
) STRICT;
CREATE TABLE api_audit (
    id          INTEGER PRIMARY KEY,
    key_name    TEXT,
    method      TEXT    NOT NULL CHECK (length(method) BETWEEN 1 AND 16),
    path        TEXT    NOT NULL CHECK (length(path) BETWEEN 1 AND 512),
    status      INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX api_audit_at ON api_audit(at_ms);
CREATE TABLE api_idempotency (
    key_id      INTEGER NOT NULL REFERENCES api_keys(id),
    idem_key    TEXT    NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
    request     BLOB    NOT NULL CHECK (length(request) = 32),
    claim       BLOB    NOT NULL CHECK (length(claim) = 16),
    claimed_ms  INTEGER NOT NULL,
    status      INTEGER CHECK (status BETWEEN 100 AND 599),
    response    BLOB,
    created_ms  INTEGER NOT NULL,
    CHECK ((status IS NULL) = (response IS NULL)),
    PRIMARY KEY (key_id, idem_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX api_idempotency_created ON api_idempotency(created_ms);
CREATE INDEX webrtc_sessions_start ON webrtc_sessions(scheduled_start_ms, id);
