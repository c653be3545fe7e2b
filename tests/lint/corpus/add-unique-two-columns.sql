-- verdict: dangerous
-- rule: unique-without-index
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: index-build
-- reason: A two-column UNIQUE builds its index under ACCESS EXCLUSIVE.
ALTER TABLE bookings ADD CONSTRAINT bookings_room_during_key UNIQUE (room, during);
