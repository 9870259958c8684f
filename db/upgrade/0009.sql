-- 0009.sql: what the pages found about the network path: the pre-flight and each call's candidate pair.
CREATE TABLE network_reports (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL REFERENCES webrtc_sessions(id),
    participant TEXT    NOT NULL CHECK (participant IN ('user', 'astrologer')),
    phase       TEXT    NOT NULL CHECK (phase IN ('preflight', 'call')),
    reach       TEXT    CHECK (reach IN ('direct', 'relay', 'none')),
    local_type  TEXT    CHECK (local_type IN ('host', 'srflx', 'prflx', 'relay')),
    remote_type TEXT    CHECK (remote_type IN ('host', 'srflx', 'prflx', 'relay')),
    protocol    TEXT    CHECK (protocol IN ('udp', 'tcp')),
    relay_protocol TEXT CHECK (relay_protocol IN ('udp', 'tcp', 'tls')),
    at_ms       INTEGER NOT NULL,
    CHECK ((phase = 'preflight') = (reach IS NOT NULL)),
    CHECK ((phase = 'call') = (local_type IS NOT NULL AND remote_type IS NOT NULL
                               AND protocol IS NOT NULL)),
    CHECK (relay_protocol IS NULL OR local_type = 'relay')
) STRICT;
CREATE INDEX network_reports_session ON network_reports(session_id, participant, id);
