-- verdict: dangerous
-- rule: concurrently-in-transaction
-- pg-version: 15
-- lock: none
-- effect: fails
-- reason: CREATE INDEX CONCURRENTLY cannot be executed inside a transaction block: the migration fails.
BEGIN;
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);
COMMIT;
