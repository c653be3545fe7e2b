-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 15
-- lock: SHARE
-- effect: index-build
-- reason: A partial index still scans the whole table under SHARE.
CREATE INDEX orders_unshipped_idx ON orders (placed_at) WHERE shipped_at IS NULL;
