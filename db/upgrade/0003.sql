-- 0003.sql: version 2 to 3: the cron sweep reads open sessions (no end time yet) and lets the rules decide.
DROP INDEX webrtc_sessions_sweep;
CREATE INDEX webrtc_sessions_open ON webrtc_sessions(id) WHERE ended_ms IS NULL;
