-- 0006.sql: version 5 to 6: chat moves to its own file. The library has copied these rows into the chat file, and committed them there, before this runs.
DROP TABLE chat_totals;
DROP TABLE chat_messages;
