-- 0005.sql: version 4 to 5: a chat message's client id is unique per sender, not per session.
CREATE TABLE chat_messages_5 (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    body        TEXT    NOT NULL
                CHECK (length(body) BETWEEN 1 AND 4000),
    client_id   TEXT    CHECK (length(client_id) BETWEEN 1 AND 64),
    created_ms  INTEGER NOT NULL,
    UNIQUE (session_id, seq),
    UNIQUE (session_id, sender, client_id)
) STRICT;
INSERT INTO chat_messages_5 SELECT id, session_id, seq, sender, body, client_id, created_ms
    FROM chat_messages;
DROP TABLE chat_messages;
ALTER TABLE chat_messages_5 RENAME TO chat_messages;
