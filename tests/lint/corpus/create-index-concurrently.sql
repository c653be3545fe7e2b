-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: index-build
-- reason: CONCURRENTLY builds under SHARE UPDATE EXCLUSIVE: reads and writes go on.
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);
