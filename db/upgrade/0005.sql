-- 0005.sql: version 4 to 5: a chat message's client id is unique per sender, not per session; chat totals for the caps.
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
CREATE TABLE chat_totals (
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    messages    INTEGER NOT NULL CHECK (messages >= 0),
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (session_id, sender)
) STRICT, WITHOUT ROWID;
INSERT INTO chat_totals(session_id, sender, messages, bytes)
    SELECT session_id, sender, count(*), sum(length(CAST(body AS BLOB)))
    FROM chat_messages GROUP BY session_id, sender;
CREATE TRIGGER chat_messages_totals AFTER INSERT ON chat_messages BEGIN
    INSERT INTO chat_totals(session_id, sender, messages, bytes)
    VALUES (NEW.session_id, NEW.sender, 1, length(CAST(NEW.body AS BLOB)))
    ON CONFLICT (session_id, sender) DO UPDATE
    SET messages = messages + 1, bytes = bytes + excluded.bytes;
END;
