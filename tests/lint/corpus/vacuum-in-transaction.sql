-- verdict: dangerous
-- rule: concurrently-in-transaction
-- pg-version: 15
-- lock: none
-- effect: fails
-- reason: VACUUM cannot run inside a transaction block.
BEGIN;
VACUUM events;
COMMIT;
