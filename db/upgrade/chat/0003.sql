-- Files shared in chat: their metadata (the bytes are on disk), and the message that announces each.
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
ALTER TABLE chat_messages ADD COLUMN file_id INTEGER REFERENCES chat_files(id);
CREATE UNIQUE INDEX chat_messages_file ON chat_messages(file_id) WHERE file_id IS NOT NULL;
