-- verdict: safe
-- pg-version: 15
-- lock: SHARE UPDATE EXCLUSIVE
-- effect: catalog
-- reason: COMMENT ON TABLE takes SHARE UPDATE EXCLUSIVE: reads and writes go on.
COMMENT ON TABLE orders IS 'one row per order';
