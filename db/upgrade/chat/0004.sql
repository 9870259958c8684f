-- chat/0004.sql: messages and reactions name their room by a short id; each room keeps its participants' totals.
CREATE TABLE chat_rooms (
    id                  INTEGER PRIMARY KEY,
    session_id          TEXT    NOT NULL UNIQUE,
    user_messages       INTEGER NOT NULL DEFAULT 0 CHECK (user_messages >= 0),
    user_bytes          INTEGER NOT NULL DEFAULT 0 CHECK (user_bytes >= 0),
    astrologer_messages INTEGER NOT NULL DEFAULT 0 CHECK (astrologer_messages >= 0),
    astrologer_bytes    INTEGER NOT NULL DEFAULT 0 CHECK (astrologer_bytes >= 0)
) STRICT;
-- Every session with a message has totals: the old trigger wrote them with each insert.
INSERT INTO chat_rooms(session_id, user_messages, user_bytes, astrologer_messages, astrologer_bytes)
SELECT session_id,
       coalesce(sum(messages) FILTER (WHERE sender = 'user'), 0),
       coalesce(sum(bytes) FILTER (WHERE sender = 'user'), 0),
       coalesce(sum(messages) FILTER (WHERE sender = 'astrologer'), 0),
       coalesce(sum(bytes) FILTER (WHERE sender = 'astrologer'), 0)
  FROM chat_totals GROUP BY session_id ORDER BY session_id;

CREATE TABLE chat_messages_by_room (
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
INSERT INTO chat_messages_by_room(id, room, seq, sender, body, client_id, created_ms, file_id)
SELECT m.id, r.id, m.seq, m.sender, m.body, m.client_id, m.created_ms, m.file_id
  FROM chat_messages m JOIN chat_rooms r ON r.session_id = m.session_id ORDER BY m.id;

CREATE TABLE chat_reactions_by_room (
    room        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    sender      TEXT    NOT NULL CHECK (sender IN ('user', 'astrologer')),
    emoji       TEXT    NOT NULL CHECK (length(emoji) BETWEEN 1 AND 8),
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (room, seq, sender, emoji),
    FOREIGN KEY (room, seq) REFERENCES chat_messages_by_room(room, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO chat_reactions_by_room(room, seq, sender, emoji, created_ms)
SELECT r.id, x.seq, x.sender, x.emoji, x.created_ms
  FROM chat_reactions x JOIN chat_rooms r ON r.session_id = x.session_id;

-- The old tables go (their trigger and indexes with them); the new take their names.
DROP TABLE chat_reactions;
DROP TABLE chat_messages;
DROP TABLE chat_totals;
ALTER TABLE chat_messages_by_room RENAME TO chat_messages;
ALTER TABLE chat_reactions_by_room RENAME TO chat_reactions;
CREATE UNIQUE INDEX chat_messages_file ON chat_messages(file_id) WHERE file_id IS NOT NULL;
