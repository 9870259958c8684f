-- chat/0002.sql: emoji reactions on chat messages, one of each emoji per person per message.
-- Emoji reactions on chat messages. The key is the rule "one of each
-- emoji per person per message"; taking a reaction back deletes its row.
-- A reaction names its message by the room's seq, so it can only point
-- at a message of its own session. The emoji are the library's fixed set
-- (db_reactions).
CREATE TABLE chat_reactions (
    session_id  TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    emoji       TEXT    NOT NULL CHECK (length(emoji) BETWEEN 1 AND 8),
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq, sender, emoji),
    FOREIGN KEY (session_id, seq) REFERENCES chat_messages(session_id, seq)
) STRICT, WITHOUT ROWID;
