-- 0010.sql: the astrologer's private note versions and the summary published for the customer.
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
