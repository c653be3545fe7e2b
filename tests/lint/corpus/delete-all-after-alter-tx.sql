-- verdict: dangerous
-- rule: lock-held-during-scan
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: DELETE of every row while holding the ALTER's ACCESS EXCLUSIVE.
BEGIN;
ALTER TABLE events ALTER COLUMN payload SET STATISTICS 200;
ALTER TABLE events DROP COLUMN payload;
DELETE FROM events;
COMMIT;
