-- verdict: dangerous
-- rule: require-concurrent-index
-- pg-version: 11
-- lock: SHARE
-- effect: index-build
-- reason: Before PostgreSQL 12 there is no REINDEX CONCURRENTLY: REINDEX blocks writes and reads through the index.
REINDEX INDEX orders_customer_idx;
