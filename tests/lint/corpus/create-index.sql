-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: SHARE
-- effect: index-build
-- reason: CREATE INDEX holds SHARE on orders for the whole build: INSERT, UPDATE and DELETE wait (CREATE INDEX docs, Building Indexes Concurrently).
CREATE INDEX orders_placed_at_idx ON orders (placed_at);
