-- 0002.sql: version 1 to 2: sessionctl list reads bookings newest first without sorting them all.
CREATE INDEX bookings_created ON bookings(created_ms, id);
