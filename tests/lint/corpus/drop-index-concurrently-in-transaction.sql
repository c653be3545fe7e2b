-- verdict: dangerous
-- rule: concurrently-in-transaction
-- pg-version: 15
-- lock: none
-- effect: fails
-- reason: DROP INDEX CONCURRENTLY cannot run inside a transaction block.
BEGIN;
DROP INDEX CONCURRENTLY orders_note_idx;
COMMIT;
