-- 0004.sql: version 3 to 4: presence (the bill is the time both were connected), who ended a session, billed seconds.
ALTER TABLE webrtc_sessions ADD COLUMN ended_by TEXT
    CHECK (ended_by IN ('user', 'astrologer', 'system'));
ALTER TABLE settlements ADD COLUMN billed_seconds INTEGER CHECK (billed_seconds >= 0);
CREATE TABLE presence (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    participant TEXT    NOT NULL CHECK (participant IN ('user', 'astrologer')),
    joined_ms   INTEGER NOT NULL,
    seen_ms     INTEGER NOT NULL,
    left_ms     INTEGER,
    CHECK (seen_ms >= joined_ms),
    CHECK (left_ms IS NULL OR left_ms >= joined_ms)
) STRICT;
CREATE INDEX presence_session ON presence(session_id, participant, joined_ms);
CREATE INDEX presence_open ON presence(session_id) WHERE left_ms IS NULL;
