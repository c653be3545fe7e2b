-- verdict: safe
-- pg-version: 15
-- lock: ACCESS EXCLUSIVE
-- effect: catalog
-- reason: The transaction ends before the concurrent build starts.
BEGIN;
ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';
COMMIT;
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);
