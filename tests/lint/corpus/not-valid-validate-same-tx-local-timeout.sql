-- verdict: dangerous
-- rule: lock-held-during-scan
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: scan
-- reason: A lock_timeout bounds the wait, not the scan under the held ACCESS EXCLUSIVE.
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind <> '') NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_kind_check;
COMMIT;
