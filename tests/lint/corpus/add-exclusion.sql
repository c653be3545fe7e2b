-- verdict: dangerous
-- rule: add-exclusion-constraint
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: index-build
-- reason: ADD CONSTRAINT EXCLUDE builds its GiST index under ACCESS EXCLUSIVE; no CONCURRENTLY, USING INDEX or NOT VALID form exists.
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&);
