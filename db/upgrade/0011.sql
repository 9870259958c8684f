-- 0011.sql: recording with consent: the consent kinds of session_events, and the recordings' metadata.
-- SQLite cannot change a CHECK, so session_events is rebuilt: its rows are
-- copied aside, the table is made again under its own name (so the
-- triggers that write into it, which name it, keep working unchanged),
-- and the rows come back with their ids.
CREATE TEMP TABLE session_events_kept AS SELECT * FROM session_events;
DROP TABLE session_events;
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
INSERT INTO session_events(id, session_id, kind, participant, detail, at_ms)
    SELECT id, session_id, kind, participant, detail, at_ms FROM session_events_kept ORDER BY id;
DROP TABLE session_events_kept;
CREATE INDEX session_events_session ON session_events(session_id, id);

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
